"""The photo quality gate: whether a photo can be scored, each problem in words with advice.

Faces are found and measured by ``face.py``; this module judges them (and close-ups, which need no face).

Quality gate thresholds (all measured on the aligned face crop, so they do not depend on photo size):

=================  =====================================================================  ==========
check              measure                                                                blocks at
=================  =====================================================================  ==========
several faces      second face area / largest face area                                   >= 0.5
face too small     face width in the original photo                                       < 80 px
cut off            share of face-outline landmarks outside the frame                      > 0.10
turned / tilted    yaw, pitch from the 3-D mesh; roll from the eye line                    30 / 25 / 35 deg
too blurry         Laplacian variance / grey-level variance x 100 inside the face outline,  < 2.5
                   at a face width of 160 px (never upsampled); dimensionless, so neither
                   photo size nor skin tone moves it
too dark           98th percentile of luminance over the face (highlights exist on well-  < 70
                   lit faces of every skin tone; mean brightness would penalise dark skin)
overexposed        share of face pixels clipped white (all channels >= 250)               > 0.20
colour cast        the face's median CIELAB hue angle and chroma (skin of every tone      never; see
                   lies at hue 30-67 deg, 5th-95th percentile of 400 CelebAMask and       below
                   FASSEG faces, chroma 13-38); far outside, redness is not measured
two-colour light   front views: the skin's redness baseline on the left vs the right half   never; above
                   of the face (sun on one side, shade on the other)                       0.3 redness is
                                                                                           not measured
red channel full   share of the face outline whose red or green channel is at the top of  never; above
                   the camera's range (``redness.clipped_share``)                         0.35 redness is
                                                                                           not measured
=================  =====================================================================  ==========
Milder values raise the same issue as non-blocking advice (see ``WARN_*``). Calibration (60 real
photos from CelebAMask, FASSEG and HELEN plus skimage's astronaut): sharpness of the originals
2.8-52 (5th percentile 4.2), of the same photos Gaussian-blurred (sigma 0.3 % of the side)
0.6-4.3 (median 1.7); 98th-percentile luminance of the originals 109-241, darkened to 20 %: 21-48.
``bench/quality_gate_bias.py`` checks the gate does not reject dark skin more often than light.

Close-ups (``assess_closeup``) need no face but must be skin: a whole face inside the frame is sent to
the Front view, a drawing or screenshot (mostly flat fills) and a photo with little skin colour are
refused, and after the model ran, a square where it sees almost no face skin (``not_skin_issue``).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from skin_app.scan.face import (
    FACE_OVAL,
    AlignedFace,
    FaceLandmarks,
    closeup_square,
    face_oval_mask,
    find_faces,
    half_face_mask,
    visible_side,
)
from skin_app.scan.redness import clipped_share, side_gap
from skin_app.scan.results import QualityIssue, QualityReport

BLOCK_FACE_RATIO, BLOCK_MIN_FACE_PX, BLOCK_CUT_OFF = 0.5, 80, 0.10
BLOCK_YAW, BLOCK_PITCH, BLOCK_ROLL = 30.0, 25.0, 35.0
BLOCK_SHARPNESS, BLOCK_DARK_P98, BLOCK_CLIPPED = 2.5, 70.0, 0.20
WARN_MIN_FACE_PX, WARN_YAW, WARN_PITCH = 200, 18.0, 15.0
WARN_SHARPNESS, WARN_DARK_P98, WARN_CLIPPED = 4.0, 100.0, 0.08
# Side views (clinical systems such as VISIA turn the head about 37 degrees): the head must be turned
# at least SIDE_MIN_YAW (else it is a front photo) and at most SIDE_MAX_YAW (beyond, the mesh and the
# cheek are unreliable). ACNE04's clinical side views measure |yaw| 33-62 degrees, pitch up to ~30.
SIDE_MIN_YAW, SIDE_MAX_YAW, SIDE_BLOCK_PITCH = 20.0, 70.0, 35.0
# Close-ups (a patch of skin filling the frame, no face needed): the shorter side of the photo.
CLOSEUP_MIN_SIDE, CLOSEUP_WARN_SIDE = 200, 320
# Close-up sharpness (``_image_sharpness`` at 320 px wide): gjain's 163 close-up web photos measure
# 2.0 at the 1st percentile (median 8.3); the same photos Gaussian-blurred (sigma 0.6 % of the long
# side) 0.78 at the 99th (median 0.24).
CLOSEUP_BLOCK_SHARPNESS = 1.0
# Close-ups must be skin (``closeup_skin_checks``), measured on the centre square the model sees, at
# most 256 px wide (nearest-neighbour, so flat areas stay flat). gjain's 163 close-up web photos:
# skin-coloured share (YCrCb box) 0.20-1.0 (1st percentile 0.31), flat share (pixels whose right and
# lower neighbours are identical) 0.002-0.28; a Pillow drawing of a room: skin-coloured 0.77, flat
# 0.94 (0.97 as PNG); a dark-mode text screenshot: skin-coloured 0.00, flat 0.57-0.79. The model's
# mean face-skin probability over the square (``analysis.analyze``): gjain 0.12-0.74 (1st percentile
# 0.16), the screenshot 0.07.
CLOSEUP_MIN_SKIN_COLOUR, CLOSEUP_MAX_FLAT, CLOSEUP_MIN_SKIN_PROB = 0.20, 0.40, 0.10
SKIN_CR, SKIN_CB, SKIN_MIN_Y = (133, 180), (77, 135), 30
# Colour cast. Redness (``redness.py``) is relative to the person's own skin, so light that tints the
# whole face alike cancels; what it cannot survive is a photo with no colour (black and white, a
# filter) or light so coloured that skin no longer looks like skin. Skin hue (CIELAB, degrees) in
# neutral light: 30-67 at the 5th-95th percentile of 400 CelebAMask/FASSEG faces (1st: 10.8; a
# +-10 % white-balance change moves the median by about 3); chroma 13-38 (1st: 7.8; greyscale
# photos read about 1). Outside the warn range the scan says colour may be off; outside the limit
# range (or below the chroma limit) redness is left unmeasured, the other scores stand.
WARN_SKIN_HUE, LIMIT_SKIN_HUE = (15.0, 85.0), (0.0, 100.0)
WARN_SKIN_CHROMA, LIMIT_SKIN_CHROMA = 8.0, 4.0
# Light of two colours (front views): how far apart the skin's redness baseline reads on the two halves
# of the face (``redness.side_gap``, index units). 820 training-split front faces of CelebAMask, FASSEG
# and HELEN (``bench/redness_light.py``): median 0.014, 99th percentile 0.16; above 0.2 eight faces,
# above 0.3 three, each lit from one side by warm light with the other half in shade. The validation face
# that decided the redness re-shot band (a HELEN child half in sun, half in shade) reads 0.39, and its
# score swung by up to 52 points between re-shots as the sunlit half clipped or not. From WARN the scan
# says colour may be off; from LIMIT redness is not measured, the other scores stand.
WARN_SIDE_GAP, LIMIT_SIDE_GAP = 0.2, 0.3
# Skin whose red channel is full. A red or green channel reaches the camera's top (``redness.CLIPPED_LEVEL``)
# long before a pixel turns white, and redness reads only the rest: where much of the skin is so, that rest is
# what the exposure left, and it changes with every shot (the re-shot bench's brighter shots of pale faces
# moved redness up to 5 points this way). Share of the face outline (``redness.clipped_share``), 820
# training-split front faces (``bench/redness_light.py``): median 0.000, 90th percentile 0.083, 99th 0.357.
# LIMIT is about that 99th percentile (9 faces above it, 29 above WARN); from WARN the scan says colour
# may be off, from LIMIT redness is not measured, the other scores stand. Pale skin fills its red channel
# first, so the lightest bands meet this most often (4 of 92 very light faces above LIMIT, none of 75 dark):
# for them it turns a reading that moves with the exposure into a request for softer light.
WARN_RED_CLIPPED, LIMIT_RED_CLIPPED = 0.2, 0.35

# What each check is called in the pre-check list (the quality issue codes), in the order shown.
CHECK_LABELS: dict[str, str] = {
    "no_face": "Face found",
    "several_faces": "Only you in the photo",
    "cut_off": "Whole face in the frame",
    "turned": "Head position",
    "too_small": "Close enough",
    "too_dark": "Enough light",
    "overexposed": "Not washed out",
    "blurry": "Sharp",
    "whole_face": "A patch of skin, not a whole face",
    "not_skin": "Skin fills the frame",
    "colour_cast": "Natural colour",
}
# Checks a close-up goes through (no face is needed; a whole face is refused).
CLOSEUP_CHECKS: tuple[str, ...] = ("whole_face", "not_skin", "too_small", "too_dark", "overexposed", "blurry",
                                   "colour_cast")
NOT_SKIN_ADVICE = ("Photograph a patch of your own skin (a cheek, the chin, the forehead) so it fills the frame, "
                   "10-15 cm away, in daylight. Drawings, screenshots and photos of objects cannot be scored.")

def face_sharpness(rgb: np.ndarray, face: FaceLandmarks, width: int = 160) -> float:
    """Detail inside the face outline at a fixed face width (never upsampled): Laplacian energy relative
    to the grey-level variance, x100. Dimensionless, so neither photo size nor skin tone moves it."""
    x0, y0, x1, y1 = (int(round(v)) for v in face.bbox)
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    pts = face.points[FACE_OVAL, :2] - [x0, y0]
    f = min(1.0, width / (x1 - x0))
    if f < 1:
        grey = cv2.resize(grey, (max(1, round(grey.shape[1] * f)), max(1, round(grey.shape[0] * f))),
                          interpolation=cv2.INTER_AREA)
        pts = pts * f  # type: ignore[assignment]  # float points; fillPoly below takes them rounded
    mask = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    mask = cv2.erode(mask, np.ones((5, 5), np.uint8)).astype(bool)   # not the face edge itself
    g = grey.astype(np.float32)
    if mask.sum() < 50:
        return 0.0
    lap = cv2.Laplacian(g, cv2.CV_32F)
    return float(lap[mask].var() / (g[mask].var() + 1.0) * 100)


def _side_pose_checks(face: FaceLandmarks, view: str, yaw: float, pitch: float, roll: float, add) -> None:
    if abs(yaw) < SIDE_MIN_YAW:
        add(QualityIssue("turned", "Your head faces the camera; this is not a side view.",
                         f"Turn your head about 40 degrees so your {view} cheek faces the camera, "
                         "or choose Front for a straight-on photo.", True))
        return
    if abs(yaw) > SIDE_MAX_YAW or abs(pitch) > SIDE_BLOCK_PITCH or abs(roll) > BLOCK_ROLL:
        add(QualityIssue("turned", "Your head is turned or tilted too far even for a side view.",
                         "Turn only about 40 degrees (both eyes still visible), chin level.", True))
        return
    shown = visible_side(face.points[:, :2] - face.points[:, :2].min(0), int(np.ceil(face.points[:, :2].ptp(0).max())) + 2)
    if shown != view:
        add(QualityIssue("turned", f"This photo shows your {shown} cheek, not your {view} one.",
                         f"Choose {shown.capitalize()} side, or turn your head the other way so your {view} "
                         "cheek faces the camera.", True))


def _light_checks(p98: float, clipped: float, add, what: str) -> None:
    """Too dark / washed out, for a face (``what`` = "your face") or a close-up ("the skin")."""
    if p98 < BLOCK_DARK_P98:
        add(QualityIssue("too_dark", "The photo is too dark to see your skin.",
                         "Face a window or a lamp (light in front of you, not behind) and try again.", True))
    elif p98 < WARN_DARK_P98:
        add(QualityIssue("too_dark", "The photo is a little dark; results may be less reliable.",
                         f"More even light on {what} gives steadier scores.", False))
    if clipped > BLOCK_CLIPPED:
        add(QualityIssue("overexposed", f"Much of {what} is washed out by light.",
                         "Turn off the flash or step out of direct sunlight.", True))
    elif clipped > WARN_CLIPPED:
        add(QualityIssue("overexposed", f"Parts of {what} are washed out by light.",
                         "Softer, indirect light gives steadier scores.", False))


def skin_colour(rgb: np.ndarray, area: np.ndarray | None = None) -> tuple[float, float]:
    """(median CIELAB hue angle in degrees, median chroma) of ``area`` of an RGB picture (all of it if None)."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    pixels = lab[area] if area is not None else lab.reshape(-1, 3)
    a, b = float(np.median(pixels[:, 1])) - 128.0, float(np.median(pixels[:, 2])) - 128.0
    return math.degrees(math.atan2(b, a)), math.hypot(a, b)


def cast_trusted(measurements: dict) -> bool:
    """Whether the skin's overall colour can be read (``skin_hue``/``skin_chroma`` from the gate; a report
    without them, e.g. from an older version, is trusted)."""
    hue, chroma = measurements.get("skin_hue"), measurements.get("skin_chroma")
    if hue is None or chroma is None:
        return True
    return chroma >= LIMIT_SKIN_CHROMA and LIMIT_SKIN_HUE[0] <= hue <= LIMIT_SKIN_HUE[1]


def colour_trusted(measurements: dict) -> bool:
    """Whether the photo's colour can be read for redness: no strong cast (``cast_trusted``), on a front
    view light of one colour on both halves of the face (``skin_side_gap`` up to ``LIMIT_SIDE_GAP``), and
    most of the skin's red channel within the camera's range (``skin_red_clipped`` up to
    ``LIMIT_RED_CLIPPED``). Figures a report lacks (older versions) are trusted."""
    gap = measurements.get("skin_side_gap")
    full = measurements.get("skin_red_clipped")
    return (cast_trusted(measurements) and (gap is None or gap <= LIMIT_SIDE_GAP)
            and (full is None or full <= LIMIT_RED_CLIPPED))


def _colour_checks(rgb: np.ndarray, area: np.ndarray | None, m: dict, add, what: str,
                   halves: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Colour cast, and on a front view (``halves``: the face's left and right half) light of two colours:
    measured, and said in words; redness is skipped where ``colour_trusted`` says no."""
    hue, chroma = skin_colour(rgb, area)
    m.update(skin_hue=round(hue, 1), skin_chroma=round(chroma, 1))
    full = clipped_share(rgb, area)
    if full is not None:
        m["skin_red_clipped"] = round(full, 4)
    if halves is not None and area is not None:
        gap = side_gap(rgb, area, *halves)
        if gap is not None:
            m["skin_side_gap"] = round(gap, 3)
    if not cast_trusted(m):
        add(QualityIssue("colour_cast", f"The colour of {what} cannot be read (black and white, a filter or "
                         "strongly coloured light), so redness is not measured.",
                         "Take the photo in daylight or under white light, without a filter.", False))
    elif m.get("skin_side_gap", 0.0) > LIMIT_SIDE_GAP:
        add(QualityIssue("colour_cast", "The two sides of your face are lit in different colours (sun on one "
                         "side and shade on the other, or two lamps), so redness is not measured.",
                         "Face one window or one white light, so both cheeks get the same light.", False))
    elif m.get("skin_red_clipped", 0.0) > LIMIT_RED_CLIPPED:
        add(QualityIssue("colour_cast", f"Much of {what} is lit so brightly that its red is beyond what the "
                         "camera can record, so redness is not measured.",
                         "Move out of direct light, or tap your face on the screen and lower the brightness.",
                         False))
    elif chroma < WARN_SKIN_CHROMA or not WARN_SKIN_HUE[0] <= hue <= WARN_SKIN_HUE[1]:
        add(QualityIssue("colour_cast", "The light looks tinted; redness may read less reliably.",
                         "Daylight from a window or a white lamp gives the truest colour.", False))
    elif m.get("skin_side_gap", 0.0) > WARN_SIDE_GAP:
        add(QualityIssue("colour_cast", "The two sides of your face are lit a little differently; redness may "
                         "read less reliably.", "Face one window or one white light, so both cheeks get the "
                         "same light.", False))
    elif m.get("skin_red_clipped", 0.0) > WARN_RED_CLIPPED:
        add(QualityIssue("colour_cast", f"Parts of {what} are lit so brightly that their red is beyond what the "
                         "camera can record; redness may read less reliably.",
                         "Softer or less direct light gives the truest colour.", False))


def _image_sharpness(grey: np.ndarray, width: int = 320) -> float:
    """Detail of a whole close-up at a fixed width (never upsampled), as ``face_sharpness`` measures it."""
    f = min(1.0, width / grey.shape[1])
    if f < 1:
        grey = cv2.resize(grey, (max(1, round(grey.shape[1] * f)), max(1, round(grey.shape[0] * f))),
                          interpolation=cv2.INTER_AREA)
    g = grey.astype(np.float32)
    lap = cv2.Laplacian(g, cv2.CV_32F)[2:-2, 2:-2]
    return float(lap.var() / (g[2:-2, 2:-2].var() + 1.0) * 100)


def skin_texture(rgb: np.ndarray) -> tuple[float, float]:
    """(share of skin-coloured pixels, share of flat pixels) of a close-up's centre square at most 256 px
    wide (nearest-neighbour). Skin of every tone falls in a fixed Cr/Cb box; a photo of skin has sensor
    noise and pores, so almost no pixel equals both its neighbours, while drawings and screenshots are
    mostly flat fills."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    square = np.ascontiguousarray(rgb[y0:y0 + side, x0:x0 + side])
    if side > 256:
        square = cv2.resize(square, (256, 256), interpolation=cv2.INTER_NEAREST)
    ycc = cv2.cvtColor(square, cv2.COLOR_RGB2YCrCb).astype(np.int16)
    y, cr, cb = ycc[..., 0], ycc[..., 1], ycc[..., 2]
    skin = ((cr >= SKIN_CR[0]) & (cr <= SKIN_CR[1]) & (cb >= SKIN_CB[0]) & (cb <= SKIN_CB[1]) & (y >= SKIN_MIN_Y))
    grey = cv2.cvtColor(square, cv2.COLOR_RGB2GRAY).astype(np.int16)
    flat = (np.diff(grey, axis=1)[:-1, :] == 0) & (np.diff(grey, axis=0)[:, :-1] == 0)
    return float(skin.mean()), float(flat.mean())


def _closeup_skin_checks(rgb: np.ndarray, add, m: dict) -> None:
    """A close-up must be skin, and not a whole face: a face whose outline is inside the frame (as the
    front view's gate wants it) belongs on the Front view, where its regions are scored."""
    h, w = rgb.shape[:2]
    for found in find_faces(rgb):
        oval = found.points[FACE_OVAL, :2]
        outside = float(np.mean((oval[:, 0] < 0) | (oval[:, 0] >= w) | (oval[:, 1] < 0) | (oval[:, 1] >= h)))
        if outside <= BLOCK_CUT_OFF:
            m["whole_face"] = 1.0
            add(QualityIssue("whole_face", "This photo shows a whole face, not a close-up of skin.",
                             "Choose Front for a photo of your whole face, or come closer so one patch of skin "
                             "(a cheek, the chin, the forehead) fills the frame.", True))
            return
    m["whole_face"] = 0.0
    colour, flat = skin_texture(rgb)
    m.update(skin_colour_share=round(colour, 3), flat_share=round(flat, 3))
    if flat > CLOSEUP_MAX_FLAT:
        add(QualityIssue("not_skin", "This looks like a drawing or a screenshot, not a photo of skin.", NOT_SKIN_ADVICE,
                         True))
    elif colour < CLOSEUP_MIN_SKIN_COLOUR:
        add(QualityIssue("not_skin", "Little of this photo has the colour of skin.", NOT_SKIN_ADVICE, True))


def not_skin_issue(skin_probability: float) -> QualityIssue | None:
    """After the model ran on a close-up: the refusal when it sees too little face skin in it."""
    if skin_probability >= CLOSEUP_MIN_SKIN_PROB:
        return None
    return QualityIssue("not_skin", "The skin model finds almost no skin in this photo.", NOT_SKIN_ADVICE, True)


def assess_closeup(rgb: np.ndarray, pixels_per_original: float) -> QualityReport:
    """The gate for a close-up of skin: skin (not a whole face, a drawing or a screenshot), big enough,
    lit, not washed out, sharp. No face is needed."""
    report = QualityReport()
    add, m = report.issues.append, report.measurements
    _closeup_skin_checks(rgb, add, m)
    if not report.ok:
        return report
    side = min(rgb.shape[:2]) / max(pixels_per_original, 1e-6)
    m["short_side_px"] = round(side, 1)
    if side < CLOSEUP_MIN_SIDE:
        add(QualityIssue("too_small", "This photo is too small to see skin detail.",
                         f"Use a photo at least {CLOSEUP_MIN_SIDE} pixels on its shorter side.", True))
        return report
    if side < CLOSEUP_WARN_SIDE:
        add(QualityIssue("too_small", "This photo is quite small; fine detail may be missed.",
                         "Use the camera's full resolution for close-ups.", False))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    p98 = float(np.percentile(grey, 98))
    clipped = float(np.mean(np.all(rgb >= 250, axis=2)))
    sharpness = _image_sharpness(grey)
    m.update(p98_luminance=round(p98, 1), clipped_share=round(clipped, 4), sharpness=round(sharpness, 2))
    _light_checks(p98, clipped, add, "the skin")
    _colour_checks(closeup_square(rgb, 128), None, m, add, "the skin")
    if sharpness < CLOSEUP_BLOCK_SHARPNESS:
        add(QualityIssue("blurry", "The photo is too blurry to see skin detail.",
                         "Hold the phone a little further away (phones cannot focus very close), tap the skin "
                         "to focus, and hold still.", True))
    return report


def assess_quality(faces: list[FaceLandmarks], rgb: np.ndarray, aligned: AlignedFace | None,
                   pixels_per_original: float, view: str = "front") -> QualityReport:
    """The quality gate: every problem as an issue with advice; blocking ones stop the analysis.
    ``view`` "front" wants a face looking at the camera; "left"/"right" want the head turned on
    purpose so that cheek faces the camera (see ``SIDE_*``). Close-ups use ``assess_closeup``."""
    report = QualityReport()
    add = report.issues.append
    if not faces:
        add(QualityIssue("no_face", "No face was found in this photo.",
                         "Use a photo that shows your whole face, looking at the camera, in good light.", True))
        return report
    m = report.measurements
    m["faces"] = float(len(faces))
    if len(faces) > 1:
        ratio = faces[1].area / faces[0].area
        m["second_face_ratio"] = round(ratio, 3)
        if ratio >= BLOCK_FACE_RATIO:
            add(QualityIssue("several_faces", f"{len(faces)} faces of similar size are in this photo.",
                             "Take a photo with only you in it (or crop the others out).", True))
        else:
            add(QualityIssue("several_faces", f"{len(faces)} faces were found; the largest one was analysed.",
                             "If that is not you, crop the photo to your face.", False))
    face = faces[0]
    h, w = rgb.shape[:2]
    oval = face.points[FACE_OVAL, :2]
    outside = float(np.mean((oval[:, 0] < 0) | (oval[:, 0] >= w) | (oval[:, 1] < 0) | (oval[:, 1] >= h)))
    m["cut_off_share"] = round(outside, 3)
    if outside > BLOCK_CUT_OFF:
        add(QualityIssue("cut_off", "Part of your face is outside the photo.",
                         "Step back or centre your face so all of it, forehead to chin, is in the frame.", True))
    yaw, pitch, roll = face.pose()
    m.update(yaw=round(yaw, 1), pitch=round(pitch, 1), roll=round(roll, 1))
    if view in ("left", "right"):
        _side_pose_checks(face, view, yaw, pitch, roll, add)
    elif abs(yaw) > BLOCK_YAW or abs(pitch) > BLOCK_PITCH or abs(roll) > BLOCK_ROLL:
        add(QualityIssue("turned", "Your head is turned or tilted too far for a front view.",
                         "Face the camera straight on, chin level, and keep the phone at eye height. "
                         "For a photo from the side, choose Left side or Right side.", True))
    elif abs(yaw) > WARN_YAW or abs(pitch) > WARN_PITCH:
        add(QualityIssue("turned", "Your head is slightly turned; one side of the face counts less.",
                         "For the most comparable scans, face the camera straight on.", False))
    if aligned is None:
        return report
    face_px = aligned.face_width_px / max(pixels_per_original, 1e-6)
    m["face_width_px"] = round(face_px, 1)
    if face_px < BLOCK_MIN_FACE_PX:
        add(QualityIssue("too_small", "Your face is too small in this photo to see skin detail.",
                         "Move closer so your face fills most of the frame.", True))
    elif face_px < WARN_MIN_FACE_PX:
        add(QualityIssue("too_small", "Your face is quite small in this photo; fine detail may be missed.",
                         "Move closer for a more detailed reading.", False))
    oval_mask = face_oval_mask(aligned.points, aligned.crop.shape[0])
    grey = cv2.cvtColor(aligned.crop, cv2.COLOR_RGB2GRAY)
    lum = grey[oval_mask]
    if lum.size < 100:
        return report
    p98 = float(np.percentile(lum, 98))
    clipped = float(np.mean(np.all(aligned.crop[oval_mask] >= 250, axis=1)))
    sharpness = face_sharpness(rgb, face)
    m.update(p98_luminance=round(p98, 1), clipped_share=round(clipped, 4), sharpness=round(sharpness, 2))
    _light_checks(p98, clipped, add, "your face")
    size = aligned.crop.shape[0]
    halves = None if view in ("left", "right") else (half_face_mask(aligned.points, size, "left"),
                                                     half_face_mask(aligned.points, size, "right"))
    _colour_checks(aligned.crop, oval_mask, m, add, "your skin", halves)
    if sharpness < BLOCK_SHARPNESS:
        add(QualityIssue("blurry", "The photo is too blurry to see skin detail.",
                         "Hold the phone still, tap to focus on your face, and wipe the lens.", True))
    elif sharpness < WARN_SHARPNESS:
        add(QualityIssue("blurry", "The photo is slightly soft; small spots may be missed.",
                         "Hold still and let the camera focus on your face.", False))
    return report
