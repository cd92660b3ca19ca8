"""Face geometry from mediapipe's face mesh: finding faces, their pose, alignment, crop, regions.

The face mesh (478 landmarks with iris refinement) ships inside the mediapipe wheel, so this works
offline. "Left" and "right" in region names are the person's own (``left_cheek`` is on the image's
right in an unmirrored photo). Whether a photo is good enough to score is ``quality.py``'s question.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np

# Face-mesh landmark indices (mediapipe canonical face model).
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]
RIGHT_EYE = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]       # person's right
LEFT_EYE = [362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398]
RIGHT_UNDER_EYE = [33, 7, 163, 144, 145, 153, 154, 155, 133, 243, 112, 26, 22, 23, 24, 110, 25, 130,
                   226, 31, 228, 229, 230, 231, 232, 233]
LEFT_UNDER_EYE = [263, 249, 390, 373, 374, 380, 381, 382, 362, 463, 341, 256, 252, 253, 254, 339, 255, 359,
                  446, 261, 448, 449, 450, 451, 452, 453]
FOREHEAD = [21, 54, 103, 67, 109, 10, 338, 297, 332, 284, 251, 301, 293, 334, 296, 336, 9, 107, 66, 105, 63, 71]
NOSE = [168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 327, 129, 358, 64, 294, 48, 278, 115, 344, 217, 437,
        209, 429, 102, 331, 122, 351, 188, 412]
CHIN = [18, 83, 313, 182, 406, 200, 199, 175, 152, 148, 176, 149, 377, 400, 378, 32, 262, 201, 421]
RIGHT_CHEEK = [116, 117, 118, 119, 120, 100, 142, 203, 206, 216, 207, 213, 192, 147, 123, 137, 227, 34, 143,
               111, 50, 205, 187, 101, 36]
LEFT_CHEEK = [345, 346, 347, 348, 349, 329, 371, 423, 426, 436, 427, 433, 416, 376, 352, 366, 447, 264, 372,
              340, 280, 425, 411, 330, 266]
RIGHT_IRIS, LEFT_IRIS = 468, 473

CROP_MARGIN = 1.6          # crop side = face-outline width x margin (the training photos frame faces alike)


@dataclass
class FaceLandmarks:
    points: np.ndarray        # (478, 3) x, y in pixels of the analysed image, z in the same scale

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        oval = self.points[FACE_OVAL, :2]
        x0, y0 = oval.min(0)
        x1, y1 = oval.max(0)
        return float(x0), float(y0), float(x1), float(y1)

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.bbox
        return (x1 - x0) * (y1 - y0)

    def pose(self) -> tuple[float, float, float]:
        """(yaw, pitch, roll) in degrees from the 3-D mesh; 0, 0, 0 is a level, frontal face."""
        p = self.points
        x_axis = p[454] - p[234]                      # across the face, person's right -> left
        y_axis = p[152] - p[10]                       # forehead -> chin
        normal = np.cross(y_axis, x_axis)             # points from the face towards the camera (-z)
        normal /= np.linalg.norm(normal) + 1e-9
        yaw = math.degrees(math.atan2(normal[0], -normal[2]))
        pitch = math.degrees(math.atan2(normal[1], -normal[2]))
        eye_r, eye_l = p[RIGHT_IRIS, :2], p[LEFT_IRIS, :2]
        roll = math.degrees(math.atan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0]))
        return yaw, pitch, roll


_models: dict[str, object] = {}
_models_lock = threading.Lock()
DETECT_SIDE = 512           # detection runs on a copy at most this wide first (~3x faster than at 1024)
MESH_SIDE = 256             # the mesh runs on a square of this side around each face (it looks at 192 px)
MAX_FACES = 4


def _model(name: str):
    if name not in _models:
        import mediapipe as mp
        if name == "mesh":
            _models[name] = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.5)
        else:   # "full": faces up to ~5 m (small in the frame); "short": close-up selfies
            _models[name] = mp.solutions.face_detection.FaceDetection(
                model_selection=1 if name == "full" else 0, min_detection_confidence=0.5)
    return _models[name]


def warm_up() -> None:
    """Builds mediapipe's detectors and face mesh and runs each once (the first call of a graph is the
    slow one), so the first photo does not pay for it. Called from a background thread at app start."""
    blank = np.zeros((256, 256, 3), np.uint8)
    with _models_lock:
        for name in ("full", "short", "mesh"):
            _model(name).process(blank)


def _detect(small: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Face boxes (x0, y0, x1, y1) relative to the image, from the full-range detector, falling back
    to the short-range one (which is better at faces that fill the frame)."""
    for name in ("full", "short"):
        result = _model(name).process(small)
        boxes = []
        for d in result.detections or []:
            b = d.location_data.relative_bounding_box
            boxes.append((b.xmin, b.ymin, b.xmin + b.width, b.ymin + b.height))
        if boxes:
            return boxes
    return []


def find_faces(rgb: np.ndarray) -> list[FaceLandmarks]:
    """All faces found (at most MAX_FACES), largest first, each with its 478-point mesh.

    The face mesh alone only finds faces that fill much of the frame, so faces are first detected
    with mediapipe's full-range detector on a small copy (DETECT_SIDE; the whole image only when the
    copy shows no face), then the mesh runs on a MESH_SIDE square cut around each face from the
    full working image."""
    h, w = rgb.shape[:2]
    f = min(1.0, DETECT_SIDE / max(h, w))
    small = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA) if f < 1 else rgb
    faces = []
    with _models_lock:   # mediapipe graphs are not re-entrant
        boxes = _detect(np.ascontiguousarray(small))
        if not boxes and f < 1:      # a face too small for the copy (~25 px there): the whole image
            boxes = _detect(np.ascontiguousarray(rgb))
        boxes = sorted(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)[:MAX_FACES]
        for x0, y0, x1, y1 in boxes:
            cut = _square_cut(rgb, (x0 + x1) / 2 * w, (y0 + y1) / 2 * h, max((x1 - x0) * w, (y1 - y0) * h) * 1.1)
            if cut is None:
                continue
            crop, ox, oy, k = cut
            result = _model("mesh").process(crop)
            if not result.multi_face_landmarks:
                continue
            lm = result.multi_face_landmarks[0].landmark
            raw = np.array([(p.x, p.y, p.z) for p in lm], np.float32) * (MESH_SIDE / k)
            raw[:, 0] += ox
            raw[:, 1] += oy
            faces.append(FaceLandmarks(raw))
    faces.sort(key=lambda fl: fl.area, reverse=True)
    return faces


def _square_cut(rgb: np.ndarray, cx: float, cy: float, half: float):
    """The square of side 2 x half around (cx, cy), black outside the image, resized to MESH_SIDE
    (area averaging when shrinking). Returns (crop, left, top, crop pixels per image pixel), or None
    when the square misses the image."""
    h, w = rgb.shape[:2]
    size = max(int(round(2 * half)), 1)
    ox, oy = int(round(cx - half)), int(round(cy - half))
    sx0, sy0, sx1, sy1 = max(ox, 0), max(oy, 0), min(ox + size, w), min(oy + size, h)
    if sx1 <= sx0 or sy1 <= sy0:
        return None
    k = MESH_SIDE / size
    square = rgb[sy0:sy1, sx0:sx1]
    if (sx0, sy0, sx1, sy1) != (ox, oy, ox + size, oy + size):     # part of the square is outside the photo
        square = cv2.copyMakeBorder(square, sy0 - oy, oy + size - sy1, sx0 - ox, ox + size - sx1,
                                    cv2.BORDER_CONSTANT, value=0)
    crop = cv2.resize(square, (MESH_SIDE, MESH_SIDE), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    return crop, ox, oy, k


@dataclass
class AlignedFace:
    crop: np.ndarray               # uint8 (S, S, 3)
    points: np.ndarray             # landmarks in crop pixels (478, 2)
    matrix: np.ndarray             # 2x3 affine, image -> crop
    face_width_px: float           # face-outline width in the analysed image


def align_and_crop(rgb: np.ndarray, face: FaceLandmarks, size: int) -> AlignedFace:
    """Rotates so the eyes are level, crops a square of CROP_MARGIN x face width, resizes to ``size``."""
    p = face.points[:, :2]
    eye_r, eye_l = p[RIGHT_IRIS], p[LEFT_IRIS]
    angle = math.degrees(math.atan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0]))
    oval = p[FACE_OVAL]
    centre = (oval.min(0) + oval.max(0)) / 2
    # Face width measured along the eye line, so a tilted head is not cropped larger.
    rot = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, 1.0)
    rotated = (oval @ rot[:, :2].T) + rot[:, 2]
    width = float(max(np.ptp(rotated[:, 0]), np.ptp(rotated[:, 1]) * 0.85))
    side = width * CROP_MARGIN
    scale = size / side
    # Pre-shrink big photos with area averaging so the warp does not alias.
    src, pre = rgb, 1.0
    if scale < 0.5:
        pre = min(1.0, 2 * scale)
        src = cv2.resize(rgb, (round(rgb.shape[1] * pre), round(rgb.shape[0] * pre)), interpolation=cv2.INTER_AREA)
    m = cv2.getRotationMatrix2D((float(centre[0] * pre), float(centre[1] * pre)), angle, scale / pre)
    m[0, 2] += size / 2 - centre[0] * pre
    m[1, 2] += size / 2 - centre[1] * pre
    crop = cv2.warpAffine(src, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    full = m.copy()
    full[:, :2] *= pre       # image -> crop, for the unshrunk image coordinates
    pts = (p @ full[:, :2].T) + full[:, 2]
    return AlignedFace(crop, pts.astype(np.float32), full, width)


def _poly_mask(shape: tuple[int, int], pts: np.ndarray, hull: bool) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    poly = cv2.convexHull(np.round(pts).astype(np.int32)) if hull else np.round(pts).astype(np.int32)
    cv2.fillPoly(m, [poly.reshape(-1, 2)], 1)
    return m.astype(bool)


def face_regions(points: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Named region masks on the crop from landmarks (crop pixel coordinates)."""
    shape = (size, size)
    eyes = _poly_mask(shape, points[RIGHT_EYE], False) | _poly_mask(shape, points[LEFT_EYE], False)
    regions = {
        "forehead": _poly_mask(shape, points[FOREHEAD], False),
        "right_cheek": _poly_mask(shape, points[RIGHT_CHEEK], True),
        "left_cheek": _poly_mask(shape, points[LEFT_CHEEK], True),
        "nose": _poly_mask(shape, points[NOSE], True),
        "chin": _poly_mask(shape, points[CHIN], True),
        "right_under_eye": _poly_mask(shape, points[RIGHT_UNDER_EYE], True) & ~eyes,
        "left_under_eye": _poly_mask(shape, points[LEFT_UNDER_EYE], True) & ~eyes,
        "eyes": eyes,
    }
    return regions


# The vertical midline of the face, chin to forehead top (mesh indices), for the visible half of a side view.
MIDLINE = [152, 175, 199, 200, 18, 17, 16, 15, 14, 13, 12, 11, 0, 164, 2, 94, 19, 1, 4, 5, 195, 197, 6, 168, 8, 9,
           151, 10]
_CHIN_AT = FACE_OVAL.index(152)      # FACE_OVAL runs forehead -> person's left -> chin -> person's right


def half_face_mask(points: np.ndarray, size: int, side: str) -> np.ndarray:
    """The person's ``side`` ("left" or "right") half of the face outline, split at the midline."""
    rim = FACE_OVAL[:_CHIN_AT + 1] if side == "left" else FACE_OVAL[_CHIN_AT:] + [FACE_OVAL[0]]
    mid = MIDLINE if side == "left" else MIDLINE[::-1]
    return _poly_mask((size, size), points[rim + mid, :2], False)


def visible_side(points: np.ndarray, size: int) -> str:
    """Which cheek a turned head shows the camera: the half of the face that covers more of the photo."""
    left = half_face_mask(points, size, "left").sum()
    right = half_face_mask(points, size, "right").sum()
    return "left" if left >= right else "right"


def side_regions(points: np.ndarray, size: int, side: str) -> dict[str, np.ndarray]:
    """Regions of a side view: the visible half of the face (what is scored) and its cheek; the eye
    masks stay so scoring can keep eyes out of the skin."""
    full = face_regions(points, size)
    return {f"{side}_half": half_face_mask(points, size, side), f"{side}_cheek": full[f"{side}_cheek"],
            "eyes": full["eyes"], "left_under_eye": full["left_under_eye"], "right_under_eye": full["right_under_eye"]}


def closeup_square(rgb: np.ndarray, size: int) -> np.ndarray:
    """The centre square of a close-up, resized to the model's input (area averaging when shrinking)."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    square = np.ascontiguousarray(rgb[y0:y0 + side, x0:x0 + side])
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(square, (size, size), interpolation=interp)


def face_oval_mask(points: np.ndarray, size: int) -> np.ndarray:
    return _poly_mask((size, size), points[FACE_OVAL], False)
