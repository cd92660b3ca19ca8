"""Redness from colour (not from the segmentation model): a melanin-corrected erythema index per
pixel, relative to the person's own skin, and the map of red areas drawn on the overlay.

Skin reflectance in each camera channel is roughly ``shading x melanin x haemoglobin``, so in
absorbance units (``A = -log10(linear RGB)``) the three add up. Haemoglobin absorbs green strongly,
blue moderately and red hardly at all; melanin absorbs more the shorter the wavelength (blue > green >
red). The classic erythema index (Diffey, Dawson) is ``A_green - A_red``: shading cancels in it (it
multiplies every channel alike) but melanin still raises it, so a freckle or a tan reads as red.
Subtracting ``MELANIN_K x (A_blue - A_green)``, the melanin-dominated blue-green difference, cancels
melanin to first order (``K`` from melanin's spectral slope and the training split;
``bench/redness.py --grid`` shows the figures with and without it), leaving mostly haemoglobin: redness.

Two things make the index move on ordinary skin with nothing red there, and more on darker skin and
in side light (measured on CelebAMask/FASSEG faces by ITA band): deep shadows, where little light is
left and what is left is often coloured by the surroundings, and shading under a camera's tone curve,
which is not the pure power law sRGB assumes, so a darker-lit part of the face changes the index.
Shadows (smoothed luminance below ``SHADOW_FRACTION`` of the face's median) are not read; the shading
part is removed per face by a least-squares fit of the index against the red absorbance ``A_red``
(which follows shading and melanin but hardly haemoglobin), so blotches stay and lighting goes.

The index is then taken relative to the person's own skin: minus its value at the ``BASELINE_PCT``
percentile of the scored face skin. A darker or lighter face, a photo a little over- or underexposed,
or a light a little warmer or cooler multiplies every pixel alike, which shifts the index of every
pixel by the same amount and so cancels (the re-shot bench, ``bench/noise_band.py``, measures what is
left). What cannot cancel is light whose colour differs across the face, or a cast so strong that a
channel runs out of range: the photo check (``quality.py``) measures the skin's hue and the scan leaves
redness unmeasured when it lies far outside the range skin of every tone has in neutral light.

Measured per face (raw, mapped to the display score by ``calibration.py`` like every concern):

* ``redness.share``: the soft share of the scored face skin whose relative index lies above
  ``RED_EDGE`` (a ramp of +-``RED_RAMP`` around it, so a pixel near the edge moves the number a little);
* ``redness.excess``: the mean of the relative index above ``RED_EDGE`` over the face skin (how much
  redder, and over how much skin);
* per face region, the share (``per_region[name]["redness"]``);
* the red-area map (``RednessMap.mask``) for the overlay.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from skin_app.scan import tone

# Melanin correction: index = (A_g - A_r) - MELANIN_K * (A_b - A_g). Melanin's absorption falls
# roughly as wavelength^-3.3; for camera bands near 470, 550 and 610 nm that gives a green-red
# difference about half its blue-green difference.
# Theory gives about 0.5 for narrow bands; camera bands overlap, and on the training split of the
# rosacea close-ups 1.0 separated best (``bench/redness.py --grid``).
MELANIN_K = 1.0
SMOOTH_SIGMA_PX = 4.0      # on the 384 px crop: JPEG's chroma noise and pores averaged away, blotches kept
BASELINE_PCT = 25.0        # the person's own skin: the index's 25th percentile over the scored skin
# A pixel is red from this far above the baseline (absorbance units, log10). Photo AUC on the training
# split hardly moves with it (0.91 at 0.04, 0.90 at 0.16); higher leaves ordinary skin unmarked (other
# close-ups: median share 48 % at 0.04, 7 % at 0.16), so the share has room to grow and the map shows
# the blotches, not half the face.
RED_EDGE = 0.15
RED_RAMP = 0.03            # soft edge: 0 at RED_EDGE - RED_RAMP, 1 at RED_EDGE + RED_RAMP
MIN_SKIN_PX = 200          # too little skin to know its own baseline: redness is not measured
# Skin darker than this share of the face's median (smoothed linear) luminance is a shadow, not read.
SHADOW_FRACTION = 0.6
MAX_SHADING_SLOPE = 2.0    # bound on the per-face shading fit (index units per A_red unit)
# A pixel whose red or green channel is clipped has no colour information left.
CLIPPED_LEVEL = 250


@dataclass
class RednessMap:
    index: np.ndarray           # float32 (H, W): melanin-corrected erythema index relative to the baseline
    soft: np.ndarray            # float32 (H, W) in [0, 1]: each skin pixel's soft red mark (0 off the skin)
    mask: np.ndarray            # bool (H, W): red areas (the overlay), inside the scored skin
    baseline: float             # the person's own skin's index (absolute, for reports only)
    area: np.ndarray            # bool (H, W): the skin it was read on (scored skin, no clipping, no shadow)


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB -> linear reflectance-like values in (0, 1] (never 0: the index takes logarithms)."""
    return np.maximum(tone.srgb_to_linear(rgb), 1.0 / 4096.0)


def erythema_index(rgb: np.ndarray, melanin_k: float = MELANIN_K, sigma: float = SMOOTH_SIGMA_PX) -> np.ndarray:
    """Per-pixel melanin-corrected erythema index (absolute), smoothed over ``sigma`` pixels."""
    a = -np.log10(srgb_to_linear(rgb))
    index = (a[..., 1] - a[..., 0]) - melanin_k * (a[..., 2] - a[..., 1])
    if sigma > 0:
        index = cv2.GaussianBlur(index.astype(np.float32), (0, 0), sigma)
    return index.astype(np.float32)


_LUMINANCE = np.array([0.2126, 0.7152, 0.0722], np.float32)


def usable_skin(rgb: np.ndarray, skin: np.ndarray, sigma: float = SMOOTH_SIGMA_PX) -> np.ndarray:
    """The scored skin minus pixels with a clipped red or green channel (no colour left to read) and
    minus deep shadows (darker than ``SHADOW_FRACTION`` of the skin's median luminance)."""
    area = skin & (rgb[..., 0] < CLIPPED_LEVEL) & (rgb[..., 1] < CLIPPED_LEVEL)
    if not area.any():
        return area
    lum = cv2.GaussianBlur(srgb_to_linear(rgb) @ _LUMINANCE, (0, 0), sigma)
    return area & (lum > SHADOW_FRACTION * float(np.median(lum[area])))


def without_shading(index: np.ndarray, rgb: np.ndarray, area: np.ndarray, sigma: float = SMOOTH_SIGMA_PX) -> np.ndarray:
    """``index`` minus its least-squares dependence on the red absorbance over ``area`` (shading and the
    camera's tone curve move both; haemoglobin hardly moves the red absorbance)."""
    a_red = cv2.GaussianBlur(-np.log10(srgb_to_linear(rgb)[..., 0]), (0, 0), sigma)
    x = a_red[area] - float(np.median(a_red[area]))
    y = index[area] - float(np.mean(index[area]))
    slope = float(np.clip(np.sum(x * y) / max(float(np.sum(x * x)), 1e-9), -MAX_SHADING_SLOPE, MAX_SHADING_SLOPE))
    return (index - slope * (a_red - float(np.median(a_red[area])))).astype(np.float32)


def redness_map(rgb: np.ndarray, skin: np.ndarray, melanin_k: float = MELANIN_K,
                baseline_pct: float = BASELINE_PCT, edge: float = RED_EDGE,
                sigma: float = SMOOTH_SIGMA_PX) -> RednessMap | None:
    """The red-area map of a crop over its scored skin; None when too little usable skin is left.
    (The keyword settings are the module's constants; ``bench/redness.py --grid`` tries others.)"""
    area = usable_skin(rgb, skin, sigma)
    if int(area.sum()) < MIN_SKIN_PX:
        return None
    absolute = without_shading(erythema_index(rgb, melanin_k, sigma), rgb, area, sigma)
    base = float(np.percentile(absolute[area], baseline_pct))
    rel = absolute - base
    soft = np.clip((rel - (edge - RED_RAMP)) / (2 * RED_RAMP), 0.0, 1.0).astype(np.float32)
    soft[~area] = 0.0
    return RednessMap(index=rel, soft=soft, mask=area & (rel > edge), baseline=round(base, 4), area=area)


def measure_redness(rgb: np.ndarray, skin: np.ndarray, regions: dict[str, np.ndarray] | None = None,
                    edge: float = RED_EDGE) -> tuple[dict | None, RednessMap | None]:
    """(raw redness measurements, the map) of a crop; (None, None) when it cannot be measured."""
    red = redness_map(rgb, skin, edge=edge)
    if red is None:
        return None, None
    area = red.area
    n = int(area.sum())
    excess = np.maximum(red.index[area] - edge, 0.0)
    metrics: dict = {"share": round(float(red.soft[area].sum()) / n, 6),
               "excess": round(float(excess.mean()), 6),
               "baseline": red.baseline, "pixels": n}
    if regions is not None:
        per = {}
        for name, region in regions.items():
            inside = region & area
            if name != "eyes" and int(inside.sum()) > 0:
                per[name] = round(float(red.soft[inside].sum()) / int(inside.sum()), 5)
        metrics["per_region"] = per
    return metrics, red
