"""Real face photos for tests, as the bytes a browser would upload."""
from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np
from PIL import Image

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@functools.cache
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


@functools.cache
def side_view_jpeg(side: str = "right", degrees: float = 40.0) -> bytes:
    """A side view for tests: the astronaut's head (cropped, 2x) turned ``degrees`` about the vertical
    axis by a piecewise-affine warp of her own 3-D face mesh, so her ``side`` cheek faces the camera.

    No public-domain side-view portrait ships with the installed packages, so this re-renders a real
    face; the far eye shows warp seams, which the face mesh does not mind (it measures |yaw| ~28)."""
    import math

    import cv2
    from skimage import data
    from skimage.transform import PiecewiseAffineTransform, warp

    from skin_app.scan.face import find_faces
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


@functools.cache
def closeup_jpeg() -> bytes:
    """A close-up for tests: Grace Hopper's cheeks, nose and mouth (matplotlib's public-domain sample
    portrait) below the eyes, 1.6x: skin filling the frame, no whole face in it."""
    import cv2
    import matplotlib.cbook
    with open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), "rb") as f:
        rgb = np.asarray(Image.open(f).convert("RGB"))
    out = cv2.resize(rgb[235:370, 165:375], None, fx=1.6, fy=1.6, interpolation=cv2.INTER_CUBIC)
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def write_photo_set(folder: Path, n: int, kinds: list[tuple[str, bytes]]) -> list[Path]:
    """``n`` photo files in ``folder`` (made if missing), cycling through ``kinds`` ((name, bytes)) under
    numbered names (``007_name.jpg``; ``.png`` for PNG bytes): many photos from a few, for batch runs."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        name, data = kinds[i % len(kinds)]
        suffix = "png" if data.startswith(b"\x89PNG") else "jpg"
        path = folder / f"{i:05d}_{name}.{suffix}"
        path.write_bytes(data)
        paths.append(path)
    return paths


@functools.cache
def acne_face_jpeg() -> bytes:
    """The astronaut with 36 inflamed papules painted on her cheeks (red discs with a redder core, 2-3.5 px,
    softened): a real face whose acne the model scores "needs care" while her other concerns stay clear,
    the case a plain mean over concerns hid (the shipped model: acne ~29, wrinkles and dark circles 100)."""
    import cv2
    from skimage import data

    from skin_app.scan import face
    rgb = data.astronaut().copy()
    points = face.find_faces(rgb)[0].points[:, :2]
    rng = np.random.default_rng(0)
    for region in (face.LEFT_CHEEK, face.RIGHT_CHEEK):
        (x0, y0), (x1, y1) = points[region].min(0), points[region].max(0)
        for _ in range(18):
            x, y, r = rng.uniform(x0, x1), rng.uniform(y0, y1), rng.uniform(2.0, 3.5)
            cv2.circle(rgb, (int(x), int(y)), int(r + 2), (200, 90, 90), -1, lineType=cv2.LINE_AA)
            cv2.circle(rgb, (int(x), int(y)), int(r), (170, 40, 50), -1, lineType=cv2.LINE_AA)
    rgb = cv2.GaussianBlur(rgb, (3, 3), 0.8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def _encode(rgb: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buf.getvalue()


@functools.cache
def cheek_closeup_jpeg() -> bytes:
    """A real skin close-up: Grace Hopper's own right cheek (a square inside its landmarks, from
    matplotlib's public-domain sample portrait), at 224 px."""
    import cv2
    import matplotlib.cbook

    from skin_app.scan import face
    with open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), "rb") as f:
        rgb = np.asarray(Image.open(f).convert("RGB"))
    points = face.find_faces(rgb)[0].points[:, :2]
    cx, cy = points[face.RIGHT_CHEEK].mean(0)
    half = 0.5 * float(np.ptp(points[face.RIGHT_CHEEK][:, 0]))
    square = rgb[int(cy - half):int(cy + half), int(cx - half):int(cx + half)]
    return _encode(cv2.resize(square, (224, 224), interpolation=cv2.INTER_LANCZOS4), "JPEG")


def room_drawing_png() -> bytes:
    """A drawing of a room (Pillow): beige wall, wooden floor, a window, a red sofa, a lamp."""
    from PIL import ImageDraw
    im = Image.new("RGB", (800, 600), (240, 226, 200))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 420, 800, 600], fill=(150, 100, 60))
    d.rectangle([100, 150, 300, 350], fill=(170, 210, 240), outline=(60, 40, 20), width=6)
    d.rectangle([450, 250, 700, 430], fill=(200, 80, 70), outline=(60, 40, 20), width=5)
    d.ellipse([520, 120, 620, 220], fill=(250, 230, 120))
    d.line([0, 420, 800, 420], fill=(60, 40, 20), width=4)
    return _encode(np.asarray(im))


def dark_screenshot_png() -> bytes:
    """A dark-mode screenshot of code (Pillow's own font on a near-black editor background)."""
    from PIL import ImageDraw, ImageFont
    im = Image.new("RGB", (900, 700), (30, 30, 34))
    d = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=22)
    for i in range(20):
        d.text((30, 20 + i * 33), f"def line_{i}(x): return x * {i} + 42  # a comment", font=font,
               fill=(220, 220, 210) if i % 3 else (120, 200, 140))
    return _encode(np.asarray(im))


@functools.cache
def flushed_face_jpeg(cheek: str = "left_cheek") -> bytes:
    """The astronaut with one cheek flushed: haemoglobin-like absorbance (green most, blue less, red
    hardly; log10 units in linear light) added over that cheek's face-mesh region, edges feathered."""
    import cv2
    from skimage import data

    from skin_app.scan import face as face_mod
    from skin_app.scan.redness import srgb_to_linear
    rgb = data.astronaut()
    (found,) = face_mod.find_faces(rgb)[:1]
    ids = {"left_cheek": face_mod.LEFT_CHEEK, "right_cheek": face_mod.RIGHT_CHEEK}[cheek]
    hull = cv2.convexHull(found.points[ids, :2].astype(np.int32))
    weight = np.zeros(rgb.shape[:2], np.float32)
    cv2.fillConvexPoly(weight, hull, 1.0)
    weight = cv2.GaussianBlur(weight, (0, 0), 3)[..., None]
    lin = srgb_to_linear(rgb) * 10.0 ** -(weight * np.array([0.02, 0.30, 0.18], np.float32))
    from skin_app.scan.tone import linear_to_srgb
    buf = io.BytesIO()
    Image.fromarray(np.round(linear_to_srgb(lin)).astype(np.uint8)).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


@functools.cache
def two_light_face_jpeg(warm: float = 0.5) -> bytes:
    """The astronaut lit in two colours: the person's right half of the face (left in the photo) under warm
    light, the other half under cool light (linear red x(1 + warm) and x(1 - warm), blue the reverse at a
    quarter of it, blended over a few pixels at the face's midline), as in sun on one side and bluish shade
    on the other: the red-green balance differs most (a HELEN photo in sun and shade differs by 0.34 in
    green-minus-red absorbance between its halves and by 0.01 in blue-minus-green)."""
    import cv2
    from skimage import data

    from skin_app.scan import face as face_mod
    from skin_app.scan.redness import srgb_to_linear
    from skin_app.scan.tone import linear_to_srgb
    rgb = data.astronaut()
    (found,) = face_mod.find_faces(rgb)[:1]
    mid = float(np.mean(found.points[face_mod.MIDLINE, 0]))
    side = np.clip((np.arange(rgb.shape[1], dtype=np.float32) - mid) / 6.0, -1, 1)[None, :, None]  # -1 .. 1
    gains = np.array([warm, 0.0, -warm / 4], np.float32)
    lin = srgb_to_linear(rgb) * (1.0 - side * gains)
    out = np.clip(np.round(linear_to_srgb(np.clip(lin, 0, 1))), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(cv2.GaussianBlur(out, (0, 0), 0.5)).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


@functools.cache
def bright_face_jpeg(gain: float = 1.25) -> bytes:
    """The astronaut lit brighter (sRGB values x``gain``, clipped at 255, as a brighter re-shot is): at 1.25 the
    red channel is full over about two fifths of the face, while few pixels turn white (not yet "washed out")."""
    rgb = np.asarray(Image.open(io.BytesIO(astronaut_jpeg())).convert("RGB"), np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb * gain, 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def greyscale_jpeg() -> bytes:
    """The astronaut in black and white: a face whose colour cannot be read."""
    buf = io.BytesIO()
    Image.open(io.BytesIO(astronaut_jpeg())).convert("L").convert("RGB").save(buf, format="JPEG", quality=92)
    return buf.getvalue()
