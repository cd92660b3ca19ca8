"""Skin tone: the Individual Typology Angle (ITA) of a face, its band, and the lightness normalisation
applied to a face crop before the segmentation model.

ITA (Chardon et al. 1991) = atan((L* - 50) / b*) in degrees, from the median CIELAB L* and b* of the
face skin. Bands as used in dermatology: very light > 55, light 41-55, intermediate 28-41, tan 10-28,
brown -30-10, dark < -30.

Why normalise: the model was trained on mostly light faces and marks more acne and dark spots the
darker the skin (measured in ``models/MODEL_CARD.md``). Before the model sees a crop whose skin is
darker than ``REFERENCE_SKIN_L``, the crop's L* is multiplied so the skin's median L* reaches the
reference. A gain on L* is an exposure change (L* ~ Y^(1/3)), so every lesion keeps its contrast
*relative* to the skin around it; a*, b* and hue are left alone. Faces at or above the reference are
not touched. The gain is capped (``MAX_GAIN``) so sensor noise on very dark or badly lit photos is
not blown up.
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
MAX_GAIN = 1.8
SKIN_REGIONS = ("forehead", "left_cheek", "right_cheek", "nose", "chin")
MIN_SKIN_PX = 200


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


def ita_degrees(lightness: float, b_star: float) -> float:
    return float(math.degrees(math.atan2(lightness - 50.0, b_star)))


def ita_band(ita: float) -> str:
    return next(name for name, low in ITA_BANDS if ita > low)


def skin_tone(rgb: np.ndarray, skin: np.ndarray, lab: np.ndarray | None = None) -> SkinTone | None:
    """The tone of the skin pixels ``skin`` (bool mask) of ``rgb``; None when too few pixels are given."""
    if int(skin.sum()) < MIN_SKIN_PX:
        return None
    lab = to_lab(rgb) if lab is None else lab
    lightness = float(np.median(lab[..., 0][skin]))
    b_star = float(np.median(lab[..., 2][skin]))
    ita = ita_degrees(lightness, b_star)
    return SkinTone(round(lightness, 2), round(b_star, 2), round(ita, 2), ita_band(ita))


def landmark_skin(regions: dict[str, np.ndarray]) -> np.ndarray:
    """Face skin from the face mesh alone (forehead, cheeks, nose, chin; eyes excluded), so the tone
    can be measured before the model has run."""
    skin = np.zeros_like(regions["eyes"], bool)
    for name in SKIN_REGIONS:
        skin |= regions[name]
    return skin & ~regions["eyes"]


def lightness_gain(tone: SkinTone | None, reference: float = REFERENCE_SKIN_L, max_gain: float = MAX_GAIN) -> float:
    """The L* gain that brings darker-than-reference skin to the reference (1.0: leave the crop alone)."""
    if tone is None or tone.lightness >= reference:
        return 1.0
    return float(min(max_gain, reference / max(tone.lightness, 1.0)))


def normalise_lightness(rgb: np.ndarray, gain: float, lab: np.ndarray | None = None) -> np.ndarray:
    """Multiplies L* of the whole crop by ``gain`` (clipped at 100); a* and b* unchanged."""
    if gain == 1.0:
        return rgb
    lab = to_lab(rgb) if lab is None else lab.copy()
    lab[..., 0] = np.minimum(lab[..., 0] * gain, 100.0)
    return from_lab(lab)


def prepare_crop(crop: np.ndarray, regions: dict[str, np.ndarray]) -> tuple[np.ndarray, SkinTone | None, float]:
    """What the model sees for an aligned face crop: (normalised crop, measured tone, gain applied)."""
    lab = to_lab(crop)
    tone = skin_tone(crop, landmark_skin(regions), lab)
    gain = lightness_gain(tone)
    return normalise_lightness(crop, gain, lab), tone, gain
