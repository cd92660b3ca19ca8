"""The small pictures a scan may keep: the aligned face crop and its four concern masks, as PNG bytes.

Privacy by default: only the aligned, downsized crop (``STORED_SIZE`` px) is ever stored, never the
original upload. The masks are packed into one RGBA PNG, one concern per channel (``CONCERNS`` order),
so an overlay can be drawn again later (Progress > Compare) without re-running the model.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from skin_app.results import CONCERNS

STORED_SIZE = 256                 # px, the side of a stored crop
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 5_000_000         # a stored picture is ~100 KB; anything far larger is not ours


def crop_to_png(crop: np.ndarray, size: int = STORED_SIZE) -> bytes:
    """uint8 (H, W, 3) RGB -> PNG bytes of a ``size`` x ``size`` picture."""
    image = Image.fromarray(np.ascontiguousarray(crop[..., :3]).astype(np.uint8), "RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def masks_to_png(masks: dict[str, np.ndarray], size: int = STORED_SIZE) -> bytes:
    """Concern masks (bool (H, W), any square size) -> one RGBA PNG, channel i = ``CONCERNS[i]``."""
    shape = next(iter(masks.values())).shape if masks else (size, size)
    planes = []
    for concern in CONCERNS:
        m = masks.get(concern)
        plane = np.zeros(shape, np.uint8) if m is None else (np.asarray(m) > 0).astype(np.uint8) * 255
        planes.append(plane)
    image = Image.fromarray(np.stack(planes, axis=-1), "RGBA")
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def png_to_rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def png_to_masks(data: bytes) -> dict[str, np.ndarray]:
    with Image.open(io.BytesIO(data)) as image:
        planes = np.asarray(image.convert("RGBA"))
    return {concern: planes[..., i] > 127 for i, concern in enumerate(CONCERNS)}


def looks_like_png(data: bytes | None) -> bool:
    return isinstance(data, (bytes, bytearray)) and data[:8] == PNG_SIGNATURE and len(data) <= MAX_PNG_BYTES
