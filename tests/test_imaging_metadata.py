"""Photo metadata and content-based format checks (issue 26): metadata costs no more memory than the
picture's own decode budget, however it is built; WebP's estimate is what it really takes; an AVIF is
refused by its content whatever brand it starts with."""
from __future__ import annotations

import io
import time

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from skin_app.errors import ImageError
from skin_app.scan.imaging import MAX_METADATA_ENTRIES, decode_bytes_needed, load_image
from tests.hostile import (
    directory_bomb,
    encoded,
    jpeg_with_exif,
    peak_rss_mb,
    png_with_exif,
    png_with_text,
    tiff_with_tags,
    webp_with_exif,
)
from tests.photos import astronaut_jpeg

# 550 entries aimed at one 1.45 MB block: a 1.5 MB file that Pillow read into 800 MB (more entries cost more).
ENTRIES, BLOCK = 550, 1_450_000
BOMBS = {"png": lambda: png_with_exif(directory_bomb(ENTRIES, BLOCK), size=256),
         "webp": lambda: webp_with_exif(directory_bomb(ENTRIES, BLOCK), size=256),
         "jpeg": lambda: jpeg_with_exif(directory_bomb(ENTRIES, BLOCK), size=256),
         "tiff": lambda: tiff_with_tags(ENTRIES, BLOCK, size=256),
         # 60 zTXt chunks of 1 MB of text each, 60 KB on disk: Pillow's own cap on PNG text is 64 MB
         "png_text": lambda: png_with_text(60, size=256)}


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_metadata_heavy_photo_costs_no_more_memory_than_its_pixels_budget(kind):
    measured = peak_rss_mb(f"""
from skin_app.errors import ImageError
from skin_app.scan.imaging import load_image
from tests.hostile import encoded, _noise
from tests.test_imaging_metadata import BOMBS
data = BOMBS[{kind!r}]()
load_image(encoded(_noise(256), {kind.split("_")[0].upper()!r}))   # the decoder's own start-up is not the file's
---
try:
    load_image(data)
    result = ["decoded", len(data)]
except ImageError as exc:
    result = [exc.code, len(data)]
""", exact=True)
    outcome, size = measured["result"]
    assert size > (50_000 if kind == "png_text" else 1_400_000)
    assert outcome in ("decoded", "too_much_metadata")
    assert measured["delta_mb"] < 25, measured     # a 256 x 256 picture's budget is under 1 MB; 800 MB before


def test_a_tiff_of_twenty_thousand_tags_is_refused_before_pillow_reads_them():
    data = tiff_with_tags(20_000, 128_000)                     # 2.5 GB once read, as in issue 26
    started = time.perf_counter()
    with pytest.raises(ImageError) as info:
        load_image(data)
    assert time.perf_counter() - started < 1.0
    assert info.value.code == "too_much_metadata"
    assert 20_000 > MAX_METADATA_ENTRIES


@pytest.mark.parametrize("kind", ["png", "webp", "jpeg"])
def test_two_megabytes_of_repeated_exif_prefixes_cost_no_time(kind):
    prefixes = b"Exif\0\0" * 350_000                            # Pillow stripped them one copy at a time: 78 s
    exif = prefixes + directory_bomb(1, 8)
    make = {"png": png_with_exif, "webp": webp_with_exif, "jpeg": jpeg_with_exif}[kind]
    data = make(exif)
    started = time.process_time()
    try:
        assert load_image(data).rgb.shape == (64, 64, 3)
    except ImageError as exc:
        assert exc.code == "too_much_metadata"
    assert time.process_time() - started < 2.0


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG", "TIFF"])
def test_exif_orientation_is_still_read_from_every_format(fmt):
    src = Image.open(io.BytesIO(astronaut_jpeg())).convert("RGB").crop((0, 0, 400, 512))
    exif = Image.Exif()
    exif[0x0112] = 6
    loaded = load_image(encoded(np.asarray(src), fmt, exif=exif.tobytes()))
    assert loaded.rgb.shape[:2] == (400, 512) and loaded.original_size == (512, 400)


def test_a_webp_costs_what_its_estimate_says(tmp_path):
    detail = np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    data = encoded(np.asarray(Image.fromarray(detail).resize((3000, 2000))), "WEBP", quality=80)
    (tmp_path / "photo.webp").write_bytes(data)
    estimate_mb = decode_bytes_needed(Image.open(io.BytesIO(data)), data) / 2**20
    measured = peak_rss_mb(f"""
from PIL import Image
---
Image.open({str(tmp_path / "photo.webp")!r}).load()
""", exact=True)
    assert measured["delta_mb"] <= estimate_mb * 1.1, (measured, estimate_mb)   # it was twice the estimate


def test_an_avif_is_refused_by_its_content_whatever_brand_it_starts_with():
    heif = pillow_heif.from_pillow(Image.new("RGB", (64, 64), (200, 100, 50)))
    buf = io.BytesIO()
    heif.save(buf, format="AVIF", quality=80)
    avif = buf.getvalue()
    assert avif[8:12] == b"avif"
    for data in (avif, avif[:8] + b"mif1" + avif[12:]):       # "mif1": any image in a HEIF box
        with pytest.raises(ImageError) as info:
            load_image(data)
        assert info.value.code == "unsupported_format" and "AVIF" in info.value.message
    buf = io.BytesIO()
    heif.save(buf, format="HEIF", quality=80)
    assert load_image(buf.getvalue()).format == "HEIF"


def test_exif_written_with_its_prefix_twice_is_counted_where_pillow_reads_it():
    exif = b"Exif\0\0" + directory_bomb(550, 1_450_000)       # jpeg_with_exif adds the first prefix
    with pytest.raises(ImageError) as info:
        load_image(jpeg_with_exif(exif, size=256))
    assert info.value.code == "too_much_metadata"
