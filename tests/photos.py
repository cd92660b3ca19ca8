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


@functools.lru_cache(maxsize=None)
def side_view_jpeg(side: str = "right", degrees: float = 40.0) -> bytes:
    """A side view for tests: the astronaut's head (cropped, 2x) turned ``degrees`` about the vertical
    axis by a piecewise-affine warp of her own 3-D face mesh, so her ``side`` cheek faces the camera.

    No public-domain side-view portrait ships with the installed packages, so this re-renders a real
    face; the far eye shows warp seams, which the face mesh does not mind (it measures |yaw| ~28)."""
    import math

    import cv2
    from skimage import data
    from skimage.transform import PiecewiseAffineTransform, warp

    from skin_app.face import find_faces
    rgb = cv2.resize(data.astronaut()[10:270, 80:340], None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    pts = find_faces(rgb)[0].points.astype(np.float64)
    c = pts.mean(0)
    th = math.radians(-degrees)                 # this sign shows the person's right cheek
    d = pts - c
    src = pts[:, :2]
    dst = np.stack([c[0] + d[:, 0] * math.cos(th) + d[:, 2] * math.sin(th), pts[:, 1]], 1)
    r = np.ptp(src, 0).max() * 0.9
    ang = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    ring = np.stack([c[0] + r * np.cos(ang), c[1] + 1.2 * r * np.sin(ang)], 1)
    h, w = rgb.shape[:2]
    frame = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1], [w / 2, 0], [w / 2, h - 1], [0, h / 2],
                      [w - 1, h / 2]])
    tform = PiecewiseAffineTransform()
    tform.estimate(np.vstack([dst, ring, frame]), np.vstack([src, ring, frame]))
    out = (warp(rgb, tform, output_shape=(h, w), order=1, mode="edge") * 255).round().astype(np.uint8)
    if side == "left":
        out = np.ascontiguousarray(out[:, ::-1])
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


@functools.lru_cache(maxsize=None)
def closeup_jpeg() -> bytes:
    """A close-up for tests: Grace Hopper's cheeks, nose and mouth (matplotlib's public-domain sample
    portrait) below the eyes, 1.6x: skin filling the frame, no whole face in it."""
    import cv2
    import matplotlib.cbook
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        rgb = np.asarray(Image.open(f).convert("RGB"))
    out = cv2.resize(rgb[235:370, 165:375], None, fx=1.6, fy=1.6, interpolation=cv2.INTER_CUBIC)
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


@functools.lru_cache(maxsize=None)
def flushed_face_jpeg(cheek: str = "left_cheek") -> bytes:
    """The astronaut with one cheek flushed: haemoglobin-like absorbance (green most, blue less, red
    hardly; log10 units in linear light) added over that cheek's face-mesh region, edges feathered."""
    import cv2

    from skin_app import face as face_mod
    from skin_app.redness import srgb_to_linear
    from skimage import data
    rgb = data.astronaut()
    (found,) = face_mod.find_faces(rgb)[:1]
    ids = {"left_cheek": face_mod.LEFT_CHEEK, "right_cheek": face_mod.RIGHT_CHEEK}[cheek]
    hull = cv2.convexHull(found.points[ids, :2].astype(np.int32))
    weight = np.zeros(rgb.shape[:2], np.float32)
    cv2.fillConvexPoly(weight, hull, 1.0)
    weight = cv2.GaussianBlur(weight, (0, 0), 3)[..., None]
    lin = srgb_to_linear(rgb) * 10.0 ** -(weight * np.array([0.02, 0.30, 0.18], np.float32))
    srgb = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.round(srgb * 255), 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def greyscale_jpeg() -> bytes:
    """The astronaut in black and white: a face whose colour cannot be read."""
    buf = io.BytesIO()
    Image.open(io.BytesIO(astronaut_jpeg())).convert("L").convert("RGB").save(buf, format="JPEG", quality=92)
    return buf.getvalue()
