"""Skin tone: the Individual Typology Angle (ITA) of a face, its band, and a candidate lightness
normalisation of a face crop for the segmentation model (measured; the scan does not use it).

ITA (Chardon et al. 1991) = atan((L* - 50) / b*) in degrees, from the median CIELAB L* and b* of the
face skin. Bands as used in dermatology: very light > 55, light 41-55, intermediate 28-41, tan 10-28,
brown -30-10, dark < -30.

The lightness normalisation (``prepare_crop``) is a measured candidate, not part of the scan: the
model was trained on mostly light faces and marks more acne and dark spots when only the skin's L*
is lowered. ``prepare_crop`` lifts the skin of a crop darker than a reference L* back to it by adding
to L* inside the face outline (each lesion keeps its L* difference to the skin around it). Measured
(``models/MODEL_CARD.md``): it narrows the gap on real photos but leaves tan and dark acne above
1.5x the very-light band, raises dark circles and wrinkles in some bands and lowers FASSEG eye and
skin IoU, so it does not ship. Multiplying L* instead (an exposure change) made the dark band worse.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# (name, lower bound in degrees), lightest first; the last band has no lower bound.
ITA_BANDS: tuple[tuple[str, float], ...] = (
    ("very_light", 55.0), ("light", 41.0), ("intermediate", 28.0), ("tan", 10.0), ("brown", -30.0),
    ("dark", -math.inf),
)
BAND_NAMES: tuple[str, ...] = tuple(name for name, _ in ITA_BANDS)
# Median face-skin L* of the training faces (CelebAMask-HQ training split, labelled skin, n=706;
# 10th-90th percentile 48.4-75.3),
# measured by ``python -m skin_app.training.evaluate --reference-lightness`` (see the model card).
REFERENCE_SKIN_L = 63.75
MAX_SHIFT = 30.0
FEATHER_PX = 3.0
SKIN_REGIONS = ("forehead", "left_cheek", "right_cheek", "nose", "chin")
MIN_SKIN_PX = 200
# ITA divides by b*: on a black-and-white photo (median skin chroma C*ab below this, as in
# bench/quality_gate_bias.py) it swings to +-90 deg whatever the skin, so such skin gets no ITA.
GREY_CHROMA = 4.0
# No skin has a median b* at or below 0 in neutral light (yellow-blue: skin is yellowish at every tone),
# so such a photo has a blue or green cast; the angle, beyond +-90 deg there, would name a band the skin
# is not in (a light face under a green cast read ITA -173, "dark"). Such skin gets no ITA either.
MIN_SKIN_B_STAR = 0.0


@dataclass(frozen=True)
class SkinTone:
    lightness: float        # median L* of the face skin, 0-100
    b_star: float           # median b*
    ita: float              # degrees
    band: str               # one of BAND_NAMES


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB -> float32 CIELAB (L* 0-100, a*, b* in their usual units, D65)."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def from_lab(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB values 0-255 (uint8 or float) -> linear light 0-1, float32 (IEC 61966-2-1)."""
    x = np.clip(np.asarray(rgb, np.float32) / 255.0, 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(lin: np.ndarray) -> np.ndarray:
    """Linear light 0-1 -> sRGB values 0-255, float32 (not rounded)."""
    y = np.clip(np.asarray(lin, np.float32), 0.0, 1.0)
    return (np.where(y <= 0.0031308, y * 12.92, 1.055 * y ** (1 / 2.4) - 0.055) * 255.0).astype(np.float32)


def ita_degrees(lightness: float, b_star: float) -> float:
    return float(math.degrees(math.atan2(lightness - 50.0, b_star)))


def ita_band(ita: float) -> str:
    return next(name for name, low in ITA_BANDS if ita > low)


def band_of(ita: float | None) -> str | None:
    """The band of a stored ITA, or None where there is none to read: no ITA, not a number, or an angle
    beyond +-90 deg (b* at or below ``MIN_SKIN_B_STAR``), which scans measured before that rule may hold."""
    if ita is None or ita != ita or not -90.0 < ita < 90.0:
        return None
    return ita_band(ita)


def skin_tone(rgb: np.ndarray, skin: np.ndarray, lab: np.ndarray | None = None) -> SkinTone | None:
    """The tone of the skin pixels ``skin`` (bool mask) of ``rgb``; None when too few pixels are given,
    the photo has next to no colour (``GREY_CHROMA``) or a blue or green cast (``MIN_SKIN_B_STAR``)."""
    if int(skin.sum()) < MIN_SKIN_PX:
        return None
    lab = to_lab(rgb) if lab is None else lab
    lightness = float(np.median(lab[..., 0][skin]))
    b_star = float(np.median(lab[..., 2][skin]))
    if float(np.median(np.hypot(lab[..., 1][skin], lab[..., 2][skin]))) < GREY_CHROMA or b_star <= MIN_SKIN_B_STAR:
        return None
    ita = ita_degrees(lightness, b_star)
    return SkinTone(round(lightness, 2), round(b_star, 2), round(ita, 2), ita_band(ita))


def skin_ita(rgb: np.ndarray, skin: np.ndarray) -> float | None:
    """The one ITA of a photo's skin (degrees), what a scan stores (``metrics["skin_ita"]``) and every
    fairness table groups by; None where ``skin_tone`` finds no tone (too little skin, no colour, a cast)."""
    tone = skin_tone(rgb, skin)
    return tone.ita if tone is not None else None


def landmark_skin(regions: dict[str, np.ndarray]) -> np.ndarray:
    """Face skin from the face mesh alone (forehead, cheeks, nose, chin; eyes excluded), so the tone
    can be measured before the model has run."""
    skin = np.zeros_like(regions["eyes"], bool)
    for name in SKIN_REGIONS:
        skin |= regions[name]
    return skin & ~regions["eyes"]


def lightness_shift(tone: SkinTone | None, reference: float = REFERENCE_SKIN_L, max_shift: float = MAX_SHIFT) -> float:
    """How many L* units darker-than-reference skin is lifted (0.0: leave the crop alone)."""
    if tone is None or tone.lightness >= reference:
        return 0.0
    return float(min(max_shift, reference - tone.lightness))


def soft_mask(mask: np.ndarray, feather_px: float = 1.5) -> np.ndarray:
    """float32 0-1 weights: the mask eroded by a pixel and blurred, so edges blend without a seam."""
    m = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
    return cv2.GaussianBlur(m, (0, 0), feather_px) if feather_px > 0 else m


def prepare_crop(crop: np.ndarray, regions: dict[str, np.ndarray], oval: np.ndarray,
                 reference: float = REFERENCE_SKIN_L) -> tuple[np.ndarray, SkinTone | None, float]:
    """What the model sees for an aligned face crop: (crop, measured tone, L* shift applied). The shift
    is added inside the face outline (eyes left alone, edge feathered), so lesions keep their L*
    difference to the skin around them; a* and b* are unchanged."""
    lab = to_lab(crop)
    tone = skin_tone(crop, landmark_skin(regions), lab)
    shift = lightness_shift(tone, reference)
    if shift == 0.0:
        return crop, tone, 0.0
    eyes = cv2.dilate(regions["eyes"].astype(np.uint8), np.ones((7, 7), np.uint8)) > 0   # room for the feather
    weight = soft_mask(oval & ~eyes, FEATHER_PX)
    lab[..., 0] = np.minimum(lab[..., 0] + shift * weight, 100.0)
    return from_lab(lab), tone, shift
