"""Photo bytes -> RGB array: formats, EXIF orientation, colour modes, size limits, clear refusals.

Accepts JPEG, PNG, WebP, BMP, TIFF and HEIC/HEIF (phone photos, via pillow-heif). The format is read
from the file's first bytes (never its name) and only that decoder is asked to open it. Before any
pixel is decoded, the header's size and sample layout give the memory the decode needs
(:func:`decode_bytes_needed`); a file over ``MAX_DECODE_BYTES`` is refused unopened, so a 200 KB
float TIFF cannot cost a gigabyte. Work is bounded as well as size: before Pillow opens a file its
structure is counted from the bytes (``photo_headers``): a JPEG of more than ``MAX_JPEG_SCANS`` scans,
and TIFF/EXIF directories Pillow would copy into far more memory than the file holds, are refused; of
the rest of the EXIF only the orientation is read. At most ``DECODES_AT_ONCE`` photos decode at the
same time, a photo waits at most ``SLOT_WAIT_SECONDS`` for a slot, and a decode is stopped past
``DECODE_CPU_SECONDS`` of CPU.

Large photos are decoded at reduced scale where the format allows (JPEG DCT scaling via
``Image.draft``), shrunk in their own mode right after decoding (before any colour conversion
multiplies their size) and then resized to at most ``WORKING_MAX_SIDE``: the face crop the model sees
is 384 px, so more pixels only cost time.
JPEGs use DCT scaling (``Image.draft``: 1/2, 1/4 or 1/8 of the side, the inverse transform and colour
conversion then run on that many pixels only) at the smallest scale that keeps the long side at
least ``JPEG_DECODE_SIDE``; ``min_scale`` asks for more when the face turns out small (analysis.py
decodes again, aimed at the face, when the crop would otherwise enlarge it more than 1.25x).
Measured on a 12 MP JPEG (2 cores, load average ~8): 1/1 131 ms, 1/2 63 ms, 1/4 45 ms, 1/8 32 ms
(entropy decoding of the whole file is the floor).
"""
from __future__ import annotations

import io
import math
import re
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from struct import error as struct_error

import cv2
import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from skin_app.errors import ImageError
from skin_app.scan import photo_headers

MAX_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_DECODE_BYTES = 240_000_000             # a 24 MP phone HEIC needs 196 MB; a 40 MP 8-bit PNG 160 MB
MIN_SIDE = 32                              # px: thinner than this cannot hold a face
MAX_ASPECT = 10                            # longest side / shortest side; a panorama is about 8
WORKING_MAX_SIDE = 1600
DECODES_AT_ONCE = 2
SLOT_WAIT_SECONDS = 5.0     # the longest a photo waits for a decode slot before it is sent back with "busy"
DECODE_CPU_SECONDS = 10.0   # CPU time one decode may take (a 40 MP PNG takes about 1 s); checked as Pillow reads
MAX_JPEG_SCANS = 100        # a camera writes 1 scan, progressive encoders about 10; each scan is a pass over
                            # every block of the picture, so a 452 KB file of 5,000 tiny scans took 40 s
MAX_METADATA_ENTRIES = 1_000        # entries in a TIFF or EXIF directory (a camera writes a few dozen)
MAX_METADATA_BYTES = 16_000_000     # what those entries take once Pillow has read them (each its own copy)
MAX_EXIF_PREFIXES = 2               # "Exif\0\0" written twice happens; Pillow strips each with a copy
PNG_TEXT_MAX_BYTES = 4_000_000      # PNG text Pillow inflates at open (its own default allows 64 MB)
JPEG_DECODE_SIDE = 800      # 12 MP -> 1/4 scale (1000 px); 48 MP -> 1/8
DCT_SCALED_FORMATS = {"JPEG", "MPO"}     # MPO: the multi-picture JPEG some phones write
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "TIFF", "HEIF", "MPO"}
FORMATS_IN_WORDS = "JPEG, PNG, WebP, BMP or HEIC"
# File names taken for photos when a folder is given (batch); the content is what decides (sniff_format).
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".mpo"})

try:  # HEIC/HEIF from phones
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pinned in requirements
    pillow_heif = None

# Our own limits are checked from the header before decoding (with a message naming the limit);
# Pillow's bomb guard stays as a second line, above them.
Image.MAX_IMAGE_PIXELS = 2 * MAX_PIXELS
PngImagePlugin.MAX_TEXT_MEMORY = PNG_TEXT_MAX_BYTES
_decode_slots = threading.BoundedSemaphore(DECODES_AT_ONCE)

# Bytes a pixel takes in Pillow's memory, per mode (RGB is stored as 32-bit pixels).
_PILLOW_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_HEIF_BRANDS = {b"mif1", b"msf1"}          # "some image (sequence) in a HEIF box", coding unsaid
# Formats named so a person hears what they chose, though we do not read them.
_OTHER_SIGNATURES = ((b"GIF8", "GIF"), (b"8BPS", "Photoshop"), (b"\0\0\1\0", "ICO"),
                     (b"II\x2a\x00\x10\x00\x00\x00CR", "Canon RAW"))


@dataclass(frozen=True)
class LoadedImage:
    rgb: np.ndarray            # uint8 (H, W, 3), EXIF orientation applied, at most WORKING_MAX_SIDE
                               # (JPEGs: at reduced DCT scale, see JPEG_DECODE_SIDE)
    original_size: tuple[int, int]   # (width, height) as stored in the file, after orientation
    format: str
    scale: float               # rgb pixels per original pixel


def sniff_format(data: bytes) -> str | None:
    """The image format the bytes begin with (Pillow's name for it), whatever the file is called."""
    head = data[:32]
    if head[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] == b"BM":
        return "BMP"
    for signature, name in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return name
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        # By the brands the file lists, not the first one: an AVIF may start "mif1" (any HEIF image) and
        # name "avif" later; only HEVC-coded HEIF (what phones write) is read.
        coding = photo_headers.heif_coding(data)
        if coding is None and photo_headers.heif_brands(data) & _HEIF_BRANDS:
            return "AVIF or other HEIF"
        return coding
    return None


def read_photo_file(path: str | Path) -> bytes:
    """A photo file's bytes, reading at most ``MAX_BYTES`` + 1: an endless source (``/dev/zero``, a pipe)
    or a huge file is refused without being read in full."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _too_large()
    return data


def _too_large() -> ImageError:
    return ImageError(f"The file is larger than the {MAX_BYTES // (1024 * 1024)} MB limit.",
                      "Export the photo at a smaller size or lower quality and try again.", "too_large")


def jpeg_draft_size(w: int, h: int, min_scale: float = 0.0) -> tuple[int, int] | None:
    """The size to ask ``Image.draft`` for (it picks the largest DCT reduction that still gives at least
    this), or None to decode at full size: the long side stays >= JPEG_DECODE_SIDE, the scale >= min_scale."""
    s = max(JPEG_DECODE_SIDE / max(w, h), min_scale)
    if s >= 1.0:
        return None
    return max(1, math.ceil(w * s)), max(1, math.ceil(h * s))


def load_image(data: bytes, min_scale: float = 0.0) -> LoadedImage:
    """Decodes an uploaded photo or raises ImageError with a message a person can act on.

    ``min_scale``: decode a JPEG at no less than this many pixels per original pixel (see the module
    docstring); other formats and the ``WORKING_MAX_SIDE`` cap are unaffected."""
    if not data:
        raise ImageError("The file is empty.", f"Choose a photo file ({FORMATS_IN_WORDS}).", "empty")
    if len(data) > MAX_BYTES:
        raise _too_large()
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageError("This file is not an image we can read.", f"Choose a photo file ({FORMATS_IN_WORDS}).",
                         "not_an_image")
    if fmt not in ALLOWED_FORMATS:
        raise ImageError(f"{fmt} files are not supported.", f"Use a {FORMATS_IN_WORDS} photo.", "unsupported_format")
    metadata = _check_structure(data, fmt)
    # One upload never holds another person's photo for long: a photo that finds both slots taken for
    # SLOT_WAIT_SECONDS is sent back in words, and a decode that runs past DECODE_CPU_SECONDS is stopped.
    if not _decode_slots.acquire(timeout=SLOT_WAIT_SECONDS):
        raise ImageError("The app is busy opening other photos right now.", "Try again in a moment.", "busy")
    try:
        return _decode(data, fmt, min_scale, metadata)
    finally:
        _decode_slots.release()


def _check_structure(data: bytes, fmt: str) -> int:
    """Refuses, from the bytes alone and before a decode slot is taken, a JPEG of more scans than any
    encoder writes and metadata Pillow would read into far more memory than the file holds; returns the
    memory the metadata Pillow reads at open will take (counted in the decode budget)."""
    directories = []
    if fmt == "JPEG":
        jpeg = photo_headers.jpeg_structure(data)
        if jpeg.scans > MAX_JPEG_SCANS:
            raise ImageError(f"This JPEG is stored as {jpeg.scans:,} separate passes (scans); cameras write 1 and "
                             f"photo programs about 10, so opening it would take far too long.",
                             "Save it again as an ordinary JPEG (any photo app's Export or Save As) and try again.",
                             "too_many_scans")
        if jpeg.exif is not None:
            prefixes = photo_headers.exif_prefixes(jpeg.exif)
            if prefixes > MAX_EXIF_PREFIXES:
                raise _too_much_metadata()
            directories.append(photo_headers.first_directory(jpeg.exif, 6 * prefixes, MAX_METADATA_ENTRIES))
        if jpeg.mpf is not None:
            directories.append(photo_headers.first_directory(jpeg.mpf, 0, MAX_METADATA_ENTRIES))
    elif fmt == "TIFF":
        directories.append(photo_headers.first_directory(data, 0, MAX_METADATA_ENTRIES))
    # PNG, WebP and HEIF keep their EXIF as one bytes object: only its orientation is read (_orientation).
    if any(d.entries > MAX_METADATA_ENTRIES for d in directories) or \
            sum(d.cost for d in directories) > MAX_METADATA_BYTES:
        raise _too_much_metadata()
    return sum(d.cost for d in directories)


def _damaged() -> ImageError:
    return ImageError("The image file is damaged or incomplete (it may have been cut off while copying).",
                      "Export or copy the photo again and retry.", "corrupt")


# Pillow's own refusals of PNG text past PNG_TEXT_MAX_BYTES in all, or past 1 MB in one chunk.
_PNG_TEXT_REFUSALS = re.compile(r"^(Too much memory used in text chunks|Decompressed data too large)")


def _too_much_metadata() -> ImageError:
    return ImageError("This photo carries far more hidden information (metadata) than a camera writes, and "
                      "reading it would take more memory than the picture itself.",
                      "Export or save the photo again (most apps can leave the metadata out) and try again.",
                      "too_much_metadata")


_DECODE_BLOCK = 16 * 1024   # bytes Pillow hands its decoder at a time (its default 64 KB of scan bomb is 2 s)


class _TooSlow(Exception):
    """A decode ran past DECODE_CPU_SECONDS."""


class _Deadline(io.BytesIO):
    """The photo's bytes as Pillow reads them while it decodes (JPEG, PNG, BMP and TIFF strips are fed to
    the decoder ``_DECODE_BLOCK`` at a time): each read checks the CPU time this thread has spent since the start."""

    def __init__(self, data: bytes, seconds: float) -> None:
        super().__init__(data)
        self.until = time.thread_time() + seconds

    def read(self, size: int | None = -1, /) -> bytes:
        if time.thread_time() > self.until:
            raise _TooSlow
        return super().read(size)


def _decode(data: bytes, fmt: str, min_scale: float = 0.0, metadata: int = 0) -> LoadedImage:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(_Deadline(data, DECODE_CPU_SECONDS), formats=[fmt])
            im.decodermaxblock = _DECODE_BLOCK
            fmt = im.format or fmt
            w, h = im.size
            _check_geometry(w, h)
            need = decode_bytes_needed(im, data) + metadata
            if need > MAX_DECODE_BYTES:
                raise ImageError(
                    f"Opening this photo would take {need / 1e6:,.0f} MB of memory ({w} x {h} pixels, "
                    f"{_depth_words(im, data)}); the limit is {MAX_DECODE_BYTES / 1e6:.0f} MB.",
                    "Save it as an ordinary 8-bit JPEG or PNG (a 12 MP phone photo is plenty) and try again.",
                    "too_much_memory")
            draft = jpeg_draft_size(w, h, min_scale) if fmt in DCT_SCALED_FORMATS else None
            if draft:
                im.draft("RGB", draft)
            im.load()
            orientation = _orientation(im)
            decoded_w = im.size[0]
            small = _shrink(im)
            shrunk = small.size[0] / decoded_w
            rgb = _to_rgb(_orient(small, orientation))
    except ImageError:
        raise
    except _TooSlow:
        raise ImageError(f"Opening this photo took more than {DECODE_CPU_SECONDS:.0f} seconds of computing, far "
                         "longer than a photo takes, so it was stopped.",
                         "Save it again as an ordinary JPEG or PNG and try again.", "too_slow") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise ImageError("This file is not an image we can read (its content does not match its kind).",
                             f"Choose a photo file ({FORMATS_IN_WORDS}).", "not_an_image") from exc
        raise ImageError(f"The image is far larger than the {MAX_PIXELS // 1_000_000} megapixel limit.",
                         "Resize it (a 12 MP phone photo is plenty) and try again.", "too_many_pixels") from exc
    except ValueError as exc:
        if _PNG_TEXT_REFUSALS.search(str(exc)):
            raise _too_much_metadata() from exc
        raise _damaged() from exc
    except (OSError, SyntaxError, EOFError, TypeError, KeyError, IndexError, ZeroDivisionError,
            OverflowError, MemoryError, struct_error, RuntimeError) as exc:
        # Pillow's decoders report damage with any of these (struct.error for cut-off EXIF, KeyError for
        # odd TIFF tags, RuntimeError from pillow-heif); all mean the same to the person.
        raise _damaged() from exc

    scale = decoded_w / float(w) * shrunk
    ow, oh = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
    longest = max(rgb.shape[:2])
    if longest > WORKING_MAX_SIDE:
        f = WORKING_MAX_SIDE / longest
        # Area averaging: alias-free for shrinking and ~2x faster than Lanczos here (measured 57 -> ~25 ms).
        rgb = cv2.resize(rgb, (max(1, round(rgb.shape[1] * f)), max(1, round(rgb.shape[0] * f))),
                         interpolation=cv2.INTER_AREA)
        scale *= f
    return LoadedImage(np.ascontiguousarray(rgb), (ow, oh), fmt, scale)


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation, read as ``Image.getexif`` would find it but without parsing the rest of the
    EXIF (Pillow copies every entry's data, so a 1.4 MB PNG's EXIF cost 1.5 GB): a TIFF's own first
    directory (already read at open and checked), else the EXIF block, else a PNG's XMP."""
    if im.format == "TIFF":
        value = getattr(im, "tag_v2", {}).get(0x0112, 1)
        return value if isinstance(value, int) else 1
    exif = im.info.get("exif")
    if exif is None and isinstance(im.info.get("Raw profile type exif"), str):
        exif = bytes.fromhex("".join(im.info["Raw profile type exif"].split("\n")[3:]))
    found = photo_headers.orientation(exif if isinstance(exif, bytes) else None)
    if found is None:
        found = photo_headers.xmp_orientation(im.info.get("XML:com.adobe.xmp"))
    return found or 1


def _check_geometry(w: int, h: int) -> None:
    if w * h > MAX_PIXELS:
        raise ImageError(f"The photo has {w * h / 1e6:.0f} megapixels; the limit is {MAX_PIXELS // 1_000_000}.",
                         "Resize it (a 12 MP phone photo is plenty) and try again.", "too_many_pixels")
    if min(w, h) < MIN_SIDE or max(w, h) > MAX_ASPECT * min(w, h):
        raise ImageError(f"The picture is {w} x {h} pixels: too {'small' if max(w, h) < MIN_SIDE * MAX_ASPECT else 'narrow'} "
                         "to hold a face.", "Use an ordinary photo of your face, at least a few hundred pixels "
                         "on each side.", "bad_shape")


def _source_bytes_per_pixel(im: Image.Image, data: bytes) -> float:
    """Bytes a pixel takes as the file stores it (samples x bits), from the header."""
    if im.format == "PNG" and data[12:16] == b"IHDR":
        depth, colour = data[24], data[25]
        return {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 4) * depth / 8
    if im.format == "TIFF":
        tags = getattr(im, "tag_v2", {})
        bits = tags.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        samples = int(tags.get(277, len(bits)) or 1)
        return max(1, samples) * max(int(b) for b in bits) / 8
    return len(im.getbands()) * {"I": 4, "F": 4}.get(im.mode, 2 if im.mode.startswith("I;16") else 1)


def decode_bytes_needed(im: Image.Image, data: bytes) -> int:
    """Memory one decode of the opened (not yet loaded) image takes, from its header alone: its pixels as
    Pillow holds them, or as the file stores them when that is more, plus the decoder's own buffer (a
    TIFF strip or tile; for HEIF the whole picture again, which it decodes into a buffer first; for WebP
    three times more, measured: the decoder's canvas, its copy of the previous frame, and the frame
    handed to Pillow as bytes, 16 bytes a pixel in all)."""
    w, h = im.size
    per_pixel = max(_PILLOW_BYTES.get(im.mode, 4), _source_bytes_per_pixel(im, data))
    need = w * h * per_pixel
    if im.format == "TIFF":
        tags = getattr(im, "tag_v2", {})
        if 322 in tags and 323 in tags:                       # tiled
            block = int(tags[322]) * int(tags[323])
        else:
            block = w * min(h, int(tags.get(278, h) or h))
        need += block * _source_bytes_per_pixel(im, data)
    elif im.format == "WEBP":
        need += w * h * 12
    elif im.format == "HEIF":
        need += w * h * 4
    return int(need)


def _depth_words(im: Image.Image, data: bytes) -> str:
    if im.mode == "F":
        return "stored as 32-bit floating point"
    return f"{_source_bytes_per_pixel(im, data):g} bytes per pixel as stored"


def _shrink(im: Image.Image) -> Image.Image:
    """Integer downscale in the image's own mode, so later conversions (to float, RGBA over white)
    work on a working-size picture instead of the full one."""
    factor = max(im.size) // WORKING_MAX_SIDE
    if factor < 2:
        return im
    if im.mode in ("1", "P", "PA") or im.mode.startswith("I;16"):
        w, h = im.size
        return im.resize((max(1, w // factor), max(1, h // factor)), Image.Resampling.NEAREST)
    if im.mode in ("RGBA", "LA"):
        # Image.reduce would first copy the whole picture to premultiplied alpha; averaging straight
        # alpha costs nothing extra (transparent pixels only tint their edge before the white backdrop).
        return im._new(im.im.reduce((factor, factor), (0, 0) + im.size))
    return im.reduce(factor)


_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


def _orient(im: Image.Image, orientation) -> Image.Image:
    """EXIF orientation applied (as ``ImageOps.exif_transpose`` does; the shrunk copy has lost its EXIF)."""
    method = _TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    return im.transpose(method) if method is not None else im


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Any Pillow mode -> uint8 RGB. Transparent pixels become white; 16-bit images are scaled, not clipped."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        hi = 65535.0 if im.mode.startswith("I;16") else max(float(a.max()), 1.0)
        if im.mode == "I" and a.max() <= 255:
            hi = 255.0
        a = np.clip(a / hi * 255.0, 0, 255).astype(np.uint8)
        return np.stack([a] * 3, axis=-1)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    if im.mode == "RGB":
        return np.asarray(im)
    return np.asarray(im.convert("RGB"))   # L, P, CMYK, YCbCr, 1 ...


def encode_png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", optimize=True)
    return buf.getvalue()
