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

# MESH_MIRROR[i]: the landmark that point i becomes in the mirror image (the person's left and right
# swapped; the 28 midline points map to themselves). The pairs of mediapipe's symmetric canonical face
# model, found by matching the mesh of 42 frontal training faces with the mesh of their mirror images
# (a one-to-one assignment; it is its own inverse and agrees with the canonical model's mirrored vertices).
MESH_MIRROR: tuple[int, ...] = (
    0, 1, 2, 248, 4, 5, 6, 249, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 250, 251, 252, 253, 254, 255, 256, 257,
    258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 270, 271, 272, 273, 274, 275, 276, 277, 278, 279,
    280, 281, 282, 283, 284, 285, 286, 287, 288, 289, 290, 291, 292, 293, 294, 295, 296, 297, 298, 299, 300, 301,
    302, 303, 304, 305, 306, 307, 308, 309, 310, 311, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 322, 323, 94,
    324, 325, 326, 327, 328, 329, 330, 331, 332, 333, 334, 335, 336, 337, 338, 339, 340, 341, 342, 343, 344, 345,
    346, 347, 348, 349, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 360, 361, 362, 363, 364, 365, 366, 367,
    368, 369, 370, 371, 372, 373, 374, 375, 376, 377, 378, 379, 151, 152, 380, 381, 382, 383, 384, 385, 386, 387,
    388, 389, 390, 164, 391, 392, 393, 168, 394, 395, 396, 397, 398, 399, 175, 400, 401, 402, 403, 404, 405, 406,
    407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 195, 419, 197, 420, 199, 200, 421, 422, 423, 424,
    425, 426, 427, 428, 429, 430, 431, 432, 433, 434, 435, 436, 437, 438, 439, 440, 441, 442, 443, 444, 445, 446,
    447, 448, 449, 450, 451, 452, 453, 454, 455, 456, 457, 458, 459, 460, 461, 462, 463, 464, 465, 466, 467, 3, 7,
    20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
    48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75,
    76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 95, 96, 97, 98, 99, 100, 101, 102, 103,
    104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125,
    126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147,
    148, 149, 150, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 165, 166, 167, 169, 170, 171, 172, 173,
    174, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 196, 198,
    201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222,
    223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244,
    245, 246, 247, 473, 476, 475, 474, 477, 468, 471, 470, 469, 472,
)

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
            norm = np.array([(p.x, p.y, p.z) for p in lm], np.float32)
            if MIRROR_LANDMARKS:
                norm = _mirror_averaged(norm, _model("mesh").process(np.ascontiguousarray(crop[:, ::-1])))
            raw = norm * (MESH_SIDE / k)
            raw[:, 0] += ox
            raw[:, 1] += oy
            faces.append(FaceLandmarks(raw))
    faces.sort(key=lambda fl: fl.area, reverse=True)
    return faces


# The mesh is run on the face and on its mirror image and the two sets of points averaged (each point
# with its mirrored twin, MESH_MIRROR): the mesh is not mirror-symmetric, so the two runs err partly
# independently and their mean moves less between re-shots (bench/reshot_anatomy.py).
MIRROR_LANDMARKS = True


def _mirror_averaged(points: np.ndarray, mirrored_result) -> np.ndarray:
    """``points`` (normalised x, y, z of the mesh on a square) averaged with the mesh found on the
    mirrored square, flipped back and re-indexed; ``points`` alone when the mirror run found no face."""
    if not mirrored_result.multi_face_landmarks:
        return points
    lm = mirrored_result.multi_face_landmarks[0].landmark
    other = np.array([(p.x, p.y, p.z) for p in lm], np.float32)[list(MESH_MIRROR)]
    other[:, 0] = 1.0 - other[:, 0]
    return (points + other) * np.float32(0.5)


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


# The crop's frame is taken from statistics of many landmarks, not from two irises and the outline's
# four extreme points, so a landmark that moves a pixel between re-shots moves the crop much less
# (bench/reshot_anatomy.py): the eye line runs through the centres of the two eye contours (16 points
# and the iris each), the centre is the mean of the face-outline points, and the face width is the
# root-mean-square spread of the outline along and across the eye line, times these factors: the
# medians of (outline extent / RMS spread) over 120 training faces (CelebAMask, FASSEG; 5th-95th
# percentile 2.68-2.87 and 2.74-2.80), so the crop frames faces as the extremes did on average.
WIDTH_PER_RMS = 2.73
HEIGHT_PER_RMS = 2.77


def crop_frame(points: np.ndarray) -> tuple[float, np.ndarray, float]:
    """(eye-line angle in degrees, centre (x, y), face width) of a face's landmarks (pixels), the frame
    ``align_and_crop`` cuts: the width along the eye line, or 0.85 x the height when that is larger (a
    tilted or narrow face is not cropped tighter)."""
    p = points[:, :2]
    eye_r = p[RIGHT_EYE + [RIGHT_IRIS]].mean(0)
    eye_l = p[LEFT_EYE + [LEFT_IRIS]].mean(0)
    angle = math.degrees(math.atan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0]))
    oval = p[FACE_OVAL]
    centre = oval.mean(0)
    rad = math.radians(angle)
    along = np.array([math.cos(rad), math.sin(rad)])
    across = np.array([-math.sin(rad), math.cos(rad)])
    d = oval - centre
    rms_x = float(np.sqrt(np.mean((d @ along) ** 2)))
    rms_y = float(np.sqrt(np.mean((d @ across) ** 2)))
    return angle, centre, max(WIDTH_PER_RMS * rms_x, HEIGHT_PER_RMS * rms_y * 0.85)


def align_and_crop(rgb: np.ndarray, face: FaceLandmarks, size: int) -> AlignedFace:
    """Rotates so the eyes are level, crops a square of CROP_MARGIN x face width around the face's
    centre (``crop_frame``), resizes to ``size``."""
    p = face.points[:, :2]
    angle, centre, width = crop_frame(face.points)
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
