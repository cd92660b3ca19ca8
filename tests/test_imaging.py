"""Photo intake: every format a person may upload decodes upright to RGB; everything else is refused clearly."""
from __future__ import annotations

import io
import struct
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from skin_app.errors import ImageError
from skin_app.scan import imaging
from skin_app.scan.imaging import JPEG_DECODE_SIDE, MAX_BYTES, WORKING_MAX_SIDE, load_image
from tests.hostile import PROMPTLY_SECONDS, jpeg_scan_bomb
from tests.photos import astronaut_jpeg


def astronaut() -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(astronaut_jpeg())).convert("RGB"))


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF", "HEIF"])
def test_each_supported_format_decodes_to_the_same_picture(fmt):
    src = Image.fromarray(astronaut())
    kw = {"quality": 95} if fmt in ("JPEG", "WEBP", "HEIF") else {}
    loaded = load_image(encode(src, fmt, **kw))
    assert loaded.rgb.shape == (512, 512, 3) and loaded.rgb.dtype == np.uint8
    # Lossy formats differ a little; the picture must be the same one.
    assert np.abs(loaded.rgb.astype(int) - astronaut().astype(int)).mean() < 6


def test_exif_orientation_is_applied():
    src = Image.fromarray(astronaut()[:, :400])           # 400 wide, 512 high
    exif = Image.Exif()
    exif[0x0112] = 6                                        # "rotate 90 CW to display"
    loaded = load_image(encode(src, "JPEG", exif=exif.tobytes(), quality=95))
    assert loaded.rgb.shape[:2] == (400, 512)
    assert loaded.original_size == (512, 400)
    expected = np.asarray(src.transpose(Image.Transpose.ROTATE_270))
    assert np.abs(loaded.rgb.astype(int) - expected.astype(int)).mean() < 6


def test_transparent_png_becomes_white_where_transparent():
    rgba = np.dstack([astronaut(), np.full((512, 512), 255, np.uint8)])
    rgba[:100, :, 3] = 0
    rgb = load_image(encode(Image.fromarray(rgba, "RGBA"), "PNG")).rgb
    assert (rgb[:100] == 255).all()
    assert np.array_equal(rgb[200:], astronaut()[200:])


def test_grayscale_and_cmyk_become_rgb():
    grey = load_image(encode(Image.fromarray(astronaut()).convert("L"), "PNG")).rgb
    assert grey.shape == (512, 512, 3) and (grey[..., 0] == grey[..., 2]).all()
    cmyk = load_image(encode(Image.fromarray(astronaut()).convert("CMYK"), "JPEG", quality=95)).rgb
    assert cmyk.shape == (512, 512, 3)
    assert np.abs(cmyk.astype(int) - astronaut().astype(int)).mean() < 12


def test_sixteen_bit_png_is_scaled_not_clipped():
    grey8 = np.asarray(Image.fromarray(astronaut()).convert("L")).astype(np.uint16)
    img16 = Image.fromarray(grey8 * 257, mode="I;16")
    rgb = load_image(encode(img16, "PNG")).rgb
    assert np.abs(rgb[..., 0].astype(int) - grey8.astype(int)).max() <= 1


def test_a_twelve_megapixel_phone_photo_is_decoded_at_reduced_dct_scale():
    big = Image.fromarray(astronaut()).resize((4000, 3000))
    loaded = load_image(encode(big, "JPEG", quality=90))
    assert loaded.rgb.shape[:2] == (750, 1000)          # 1/4: the smallest scale keeping JPEG_DECODE_SIDE
    assert max(loaded.rgb.shape[:2]) >= JPEG_DECODE_SIDE
    assert loaded.original_size == (4000, 3000)
    assert loaded.scale == pytest.approx(0.25)


def test_a_jpeg_is_decoded_finer_when_asked_and_never_above_working_size():
    big = encode(Image.fromarray(astronaut()).resize((4000, 3000)), "JPEG", quality=90)
    assert load_image(big, min_scale=0.3).rgb.shape[:2] == (1200, 1600)   # 1/2 decode, then down to the cap
    assert max(load_image(big, min_scale=1.0).rgb.shape[:2]) == WORKING_MAX_SIDE


def test_refuses_a_file_that_is_not_an_image():
    with pytest.raises(ImageError) as e:
        load_image(b"%PDF-1.4 this is a document, not a photo" * 10)
    assert e.value.code == "not_an_image"


def test_refuses_an_empty_file():
    with pytest.raises(ImageError) as e:
        load_image(b"")
    assert e.value.code == "empty"


def test_refuses_a_truncated_photo():
    data = astronaut_jpeg()
    with pytest.raises(ImageError) as e:
        load_image(data[: len(data) // 2])
    assert e.value.code == "corrupt"
    assert "damaged or incomplete" in e.value.message


def test_refuses_more_than_25_megabytes():
    with pytest.raises(ImageError) as e:
        load_image(astronaut_jpeg() + b"\0" * MAX_BYTES)
    assert e.value.code == "too_large"


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size but holds almost no data: a decompression bomb in miniature."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_refuses_more_than_40_megapixels_before_decoding():
    with pytest.raises(ImageError) as e:
        load_image(_png_header_only(8000, 6000))       # 48 MP claimed in a ~100-byte file
    assert e.value.code == "too_many_pixels"
    assert "40" in e.value.message


def test_refuses_a_gigantic_claimed_size_without_allocating_it():
    with pytest.raises(ImageError) as e:
        load_image(_png_header_only(30000, 30000))     # 900 MP claimed
    assert e.value.code == "too_many_pixels"


# -- hostile files: memory is bounded before decoding, odd shapes and names are refused clearly -------
from tests.hostile import peak_rss_mb, png_of_zeros, tiff_of_zeros  # noqa: E402


def _load_in_fresh_process(expr: str) -> dict:
    return peak_rss_mb(f"""from tests.hostile import png_of_zeros, tiff_of_zeros
from skin_app.scan.imaging import load_image
data = {expr}
---
try:
    loaded = load_image(data)
    result = {{"shape": list(loaded.rgb.shape)}}
except Exception as exc:
    result = {{"error": type(exc).__name__, "code": getattr(exc, "code", None), "message": str(exc)}}""")


def test_a_small_float_tiff_claiming_forty_megapixels_is_refused_before_decoding():
    data = tiff_of_zeros(7000, 5650)                       # 39.5 MP of 32-bit floats in one strip
    assert len(data) < 400_000
    run = _load_in_fresh_process("tiff_of_zeros(7000, 5650)")
    assert run["result"]["code"] == "too_much_memory"
    assert "MB of memory" in run["result"]["message"] and "8-bit JPEG or PNG" in run["result"]["message"]
    assert run["delta_mb"] < 50


def test_a_sixteen_bit_rgba_forty_megapixel_png_is_refused_by_its_bytes_per_pixel():
    with pytest.raises(ImageError) as e:
        load_image(png_of_zeros(7000, 5650, 16, 6))       # 8 bytes a pixel: 316 MB
    assert e.value.code == "too_much_memory"
    assert "8 bytes per pixel" in e.value.message and "the limit is 240 MB" in e.value.message


@pytest.mark.parametrize("bit_depth,colour_type", [(8, 6), (16, 2)])
def test_forty_megapixel_pngs_under_the_decode_limit_decode_within_a_memory_budget(bit_depth, colour_type):
    run = _load_in_fresh_process(f"png_of_zeros(7000, 5650, {bit_depth}, {colour_type})")
    assert run["result"]["shape"][2] == 3 and max(run["result"]["shape"][:2]) == WORKING_MAX_SIDE
    assert run["delta_mb"] < 300, run


def test_a_float_tiff_in_ordinary_strips_decodes_within_a_memory_budget():
    run = _load_in_fresh_process("tiff_of_zeros(7000, 5650, rows_per_strip=16)")
    assert "shape" in run["result"], run
    assert run["delta_mb"] < 300, run


@pytest.mark.parametrize("size", [(50_000, 1), (1, 50_000), (12, 12), (4000, 200)])
def test_slivers_and_specks_are_refused_as_too_narrow_or_small(size):
    with pytest.raises(ImageError) as e:
        load_image(png_of_zeros(*size))
    assert e.value.code == "bad_shape"
    assert f"{size[0]} x {size[1]} pixels" in e.value.message


def test_the_format_is_read_from_the_bytes_not_the_name(tmp_path):
    from skin_app.scan.imaging import read_photo_file, sniff_format
    path = tmp_path / "holiday.png"                        # a TIFF in disguise
    path.write_bytes(tiff_of_zeros(7000, 5650))
    data = read_photo_file(path)
    assert sniff_format(data) == "TIFF"
    with pytest.raises(ImageError) as e:
        load_image(data)
    assert e.value.code == "too_much_memory"


def test_a_gif_is_named_and_refused():
    with pytest.raises(ImageError) as e:
        load_image(encode(Image.fromarray(astronaut()), "GIF"))
    assert e.value.code == "unsupported_format" and "GIF" in e.value.message


def test_an_endless_file_is_read_only_up_to_the_limit():
    from skin_app.scan.imaging import read_photo_file
    with pytest.raises(ImageError) as e:
        read_photo_file("/dev/zero")
    assert e.value.code == "too_large"


# -- work, not only size: scan bombs, slow decodes, waiting for a slot (issue 23) ---------------------
def test_a_progressive_jpeg_of_thousands_of_scans_is_refused_before_it_is_decoded():
    bomb = jpeg_scan_bomb()                      # 452 KB, 5,300 scans; decoding it took 40 s
    assert len(bomb) < 460_000
    started = time.perf_counter()
    with pytest.raises(ImageError) as info:
        load_image(bomb)
    assert time.perf_counter() - started < PROMPTLY_SECONDS
    assert info.value.code == "too_many_scans" and "5,300" in info.value.message


def test_a_progressive_jpeg_as_photo_programs_write_it_still_decodes():
    data = encode(Image.fromarray(astronaut()), "JPEG", quality=90, progressive=True)
    assert data.count(b"\xff\xda") > 1
    assert load_image(data).rgb.shape == (512, 512, 3)


def test_an_ordinary_photo_is_not_held_up_by_two_scan_bombs_arriving_with_it():
    photo = encode(Image.fromarray(astronaut()).resize((4000, 3000)), "JPEG", quality=90)
    load_image(photo)                                          # warm
    alone = min(_timed(load_image, photo) for _ in range(2))
    bomb = jpeg_scan_bomb()
    with ThreadPoolExecutor(3) as pool:
        bombs = [pool.submit(_timed, _refused, bomb) for _ in range(2)]
        beside = pool.submit(_timed, load_image, photo).result()
        assert all(b.result() < PROMPTLY_SECONDS for b in bombs)
    assert beside < alone + PROMPTLY_SECONDS          # not the 40 s of a decoded bomb


def test_a_photo_that_finds_every_decode_slot_taken_is_sent_back_in_words(monkeypatch):
    monkeypatch.setattr(imaging, "SLOT_WAIT_SECONDS", 0.3)
    photo = encode(Image.fromarray(astronaut()), "JPEG", quality=90)
    held = [imaging._decode_slots.acquire(timeout=5) for _ in range(imaging.DECODES_AT_ONCE)]
    try:
        assert all(held)
        started = time.perf_counter()
        with pytest.raises(ImageError) as info:
            load_image(photo)
        assert time.perf_counter() - started < PROMPTLY_SECONDS
        assert info.value.code == "busy" and "try again" in str(info.value).lower()
    finally:
        for _ in held:
            imaging._decode_slots.release()
    assert load_image(photo).rgb.shape == (512, 512, 3)      # the slots are free again afterwards


def test_a_decode_that_runs_past_its_cpu_budget_is_stopped(monkeypatch):
    # Scans allowed here, so only the time budget can stop the 10-second decode.
    monkeypatch.setattr(imaging, "MAX_JPEG_SCANS", 10**6)
    monkeypatch.setattr(imaging, "DECODE_CPU_SECONDS", 0.5)
    with pytest.raises(ImageError) as info:
        load_image(jpeg_scan_bomb())
    assert info.value.code == "too_slow"                     # only the CPU budget says this


def _timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def _refused(data: bytes) -> None:
    with pytest.raises(ImageError):
        load_image(data)
