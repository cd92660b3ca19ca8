"""The small pictures a scan may keep: the aligned face crop and its concern masks, as PNG bytes.

Privacy by default: only the aligned, downsized crop (``STORED_SIZE`` px) is ever stored, never the
original upload. The masks are packed into one greyscale PNG, one bit per concern (bit i =
``SCORED[i]``: the model's four, then redness), so an overlay can be drawn again later
(Progress > Compare) without re-running the model. Scans stored before redness existed hold an RGBA
PNG, one of the four model concerns per channel (``CONCERNS`` order); both are read.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from skin_app.concerns import CONCERNS, SCORED
from skin_app.errors import InvalidRecordError
from skin_app.limits import MAX_PNG_BYTES, MAX_PNG_SIDE

STORED_SIZE = 256                 # px, the side of a stored crop
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def crop_to_png(crop: np.ndarray, size: int = STORED_SIZE) -> bytes:
    """uint8 (H, W, 3) RGB -> PNG bytes of a ``size`` x ``size`` picture."""
    image = Image.fromarray(np.ascontiguousarray(crop[..., :3]).astype(np.uint8), "RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def masks_to_png(masks: dict[str, np.ndarray], size: int = STORED_SIZE) -> bytes:
    """Concern masks (bool (H, W), any square size) -> one greyscale PNG, bit i = ``SCORED[i]``."""
    shape = next(iter(masks.values())).shape if masks else (size, size)
    bits = np.zeros(shape, np.uint8)
    for i, concern in enumerate(SCORED):
        m = masks.get(concern)
        if m is not None:
            bits |= ((np.asarray(m) > 0).astype(np.uint8) << np.uint8(i)).astype(np.uint8)
    image = Image.fromarray(bits, "L")
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _open_stored(data: bytes) -> Image.Image:
    """A stored picture, opened only if its header says it is a PNG of at most ``MAX_PNG_SIDE`` px
    (a record from an older version or an import may hold anything); ValueError otherwise."""
    if not looks_like_png(data):
        raise InvalidRecordError("The stored picture is not a picture this app made.")
    return Image.open(io.BytesIO(data), formats=["PNG"])


def png_to_rgb(data: bytes) -> np.ndarray:
    """Stored crop -> RGB array; ValueError or OSError for a damaged one."""
    with _open_stored(data) as image:
        return np.asarray(image.convert("RGB"))


def png_to_masks(data: bytes, size: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """Stored masks -> bool mask per concern, resized to ``size`` (h, w) when given (a crop and its masks
    from an import need not agree); ValueError or OSError for a damaged picture."""
    with _open_stored(data) as image:
        packed = image.mode == "L"              # bits; anything else is the older RGBA form
        image = image if packed else image.convert("RGBA")
        if size is not None and image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.Resampling.NEAREST)
        planes = np.asarray(image)
    if packed:
        return {concern: (planes >> i) & 1 == 1 for i, concern in enumerate(SCORED)}
    return {concern: planes[..., i] > 127 for i, concern in enumerate(CONCERNS)}


def png_size(data: bytes | None) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, without decoding; None when it is no PNG."""
    if not isinstance(data, (bytes, bytearray)) or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def looks_like_png(data: bytes | None) -> bool:
    """A PNG of a size a stored picture can have: at most ``MAX_PNG_BYTES`` and ``MAX_PNG_SIDE`` px a side."""
    size = png_size(data)
    return size is not None and data is not None and len(data) <= MAX_PNG_BYTES and 0 < min(size) and max(size) <= MAX_PNG_SIDE
