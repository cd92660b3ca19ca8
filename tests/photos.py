"""Real face photos for tests, as the bytes a browser would upload."""
from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np
from PIL import Image

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@functools.lru_cache(maxsize=None)
def astronaut_jpeg(quality: int = 92) -> bytes:
    """``skimage.data.astronaut()`` (a public-domain NASA portrait, 512x512, one frontal face) as JPEG."""
    from skimage import data
    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def write_astronaut(folder: Path, name: str = "astronaut.jpg") -> Path:
    path = Path(folder) / name
    path.write_bytes(astronaut_jpeg())
    return path


def no_face_jpeg() -> bytes:
    """A real photo without a face (scikit-image's coffee cup)."""
    from skimage import data
    buf = io.BytesIO()
    Image.fromarray(data.coffee()).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def small_png(seed: int = 0, size: int = 64) -> bytes:
    """A stand-in for a stored face picture: a real PNG with recognisable random pixels."""
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()
