"""Changing the tone of the skin in a photo, inside a face-skin mask only.

Used by ``bench/tone_probe.py`` (the controlled test: the same faces, only the skin's lightness
lowered) and by the trainer's tone augmentation. Work is done in CIELAB. Two ways to reach a target
ITA (b* kept, so the target L* = 50 + b* tan(ITA)):

* ``shift``: L* + d everywhere in the skin. Local differences in L* (texture, a lesion's edge) stay
  exactly as they were;
* ``scale``: L* x g: what lower skin reflectance does to a photo (L* ~ Y^(1/3)), each lesion keeping
  its contrast *relative* to the skin around it.

Hair, eyes, brows, lips and background are outside the mask and untouched; the mask edge is feathered
over a couple of pixels so no seam appears.
"""
from __future__ import annotations

import math

import numpy as np

from skin_app.scan import tone

MODES = ("shift", "scale")


def target_lightness(b_star: float, ita: float) -> float:
    return 50.0 + b_star * math.tan(math.radians(ita))


def recolour_skin(rgb: np.ndarray, skin: np.ndarray, ita: float, mode: str = "shift",
                  feather_px: float = 1.5) -> np.ndarray:
    """``rgb`` with the skin (bool mask) moved to median ITA ``ita``; a* and b* unchanged."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    lab = tone.to_lab(rgb)
    t = tone.skin_tone(rgb, skin, lab)
    if t is None:
        return rgb
    goal = float(np.clip(target_lightness(t.b_star, ita), 3.0, 97.0))
    w = tone.soft_mask(skin, feather_px)
    lightness = lab[..., 0]
    if mode == "shift":
        new = lightness + (goal - t.lightness)
    else:
        new = lightness * (goal / max(t.lightness, 1.0))
    lab[..., 0] = np.clip(lightness + w * (new - lightness), 0.0, 100.0)
    return tone.from_lab(lab)


def random_tone(rgb: np.ndarray, skin: np.ndarray | None, rng: np.random.Generator,
                ita_range: tuple[float, float] = (-45.0, 60.0)) -> np.ndarray:
    """Training augmentation: the skin moved to a random ITA (shift or scale, at random). Without a
    skin mask (sets that label no skin: close-ups, box sets) the whole photo's L* is scaled by a random
    gain instead, which keeps every lesion's contrast relative to its surroundings."""
    mode = MODES[int(rng.integers(len(MODES)))]
    if skin is not None and int(skin.sum()) >= tone.MIN_SKIN_PX:
        return recolour_skin(rgb, skin, float(rng.uniform(*ita_range)), mode)
    lab = tone.to_lab(rgb)
    lab[..., 0] = np.clip(lab[..., 0] * float(rng.uniform(0.45, 1.1)), 0.0, 100.0)
    return tone.from_lab(lab)
