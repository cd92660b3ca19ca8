"""Redness from colour (not from the segmentation model): a melanin-corrected erythema index per
pixel, relative to the person's own skin, and the map of red areas drawn on the overlay.

Skin reflectance in each camera channel is roughly ``shading x melanin x haemoglobin``, so in
absorbance units (``A = -log10(linear RGB)``) the three add up. Haemoglobin absorbs green strongly,
blue moderately and red hardly at all; melanin absorbs more the shorter the wavelength (blue > green >
red). The classic erythema index (Diffey, Dawson) is ``A_green - A_red``: shading cancels in it (it
multiplies every channel alike) but melanin still raises it, so a freckle or a tan reads as red.
Subtracting ``MELANIN_K x (A_blue - A_green)``, the melanin-dominated blue-green difference, cancels
melanin to first order (``K`` from melanin's spectral slope; ``bench/redness.py --grid`` shows the
figures with other values), leaving mostly haemoglobin: redness.

The index is then taken relative to the person's own skin: minus its value at the ``BASELINE_PCT``
percentile of the read skin. More or less melanin over the whole face, a photo a little over- or
underexposed, or a light a little warmer or cooler multiplies every pixel's linear RGB alike, which
adds the same constant to every pixel's index and so cancels against the baseline exactly (the tone
probe, ``bench/tone_probe.py``, and the re-shot bench, ``bench/noise_band.py``, measure what is left).
What cannot cancel is light whose colour differs across the face, or a cast so strong that a channel
runs out of range: the photo check (``quality.py``) measures the skin's hue and the scan leaves redness
unmeasured when it lies far outside the range skin of every tone has in neutral light.

Which pixels are read (``usable_skin``), and why:

* the scored skin at least ``EDGE_PX`` inside its border: where skin meets lips, brows, nostrils or
  hair a pixel mixes both, and the skin mask moves a pixel or two between photos; read there, lips
  made a red rim whose size followed the mask, not the skin;
* no pixel with a clipped red or green channel (no colour left), no deep shadow (smoothed luminance
  below ``SHADOW_FRACTION`` of the skin's median: little light, often coloured by the surroundings);
* the smoothing (``SMOOTH_SIGMA_PX``) averages only read pixels (``smooth_within``), so what lies next
  to the skin never bleeds into it.

An earlier version also removed, per face, a least-squares dependence of the index on the red
absorbance (for shading under a camera's tone curve). It tipped with whichever pixels were read (a
clipped highlight gone, a lighter brow or hair strand in the mask) and so moved the score when only the
skin's tone changed (tone probe to ITA -27, with the share's first, narrow ramp: p95 8.0 points
against 3.3 without it), at no gain in the ITA-band table.

Measured per face (raw, mapped to the display score by ``calibration.py`` like every concern):

* ``redness.share``: the graded share of the read face skin redder than the baseline: each pixel
  counts 0 up to ``RED_EDGE - RED_RAMP`` above it, rising to 1 at ``RED_EDGE + RED_RAMP``, so no single
  edge decides it and a pixel near any edge moves the number only a little;
* ``redness.excess``: the mean of the relative index above ``RED_EDGE`` over the face skin (how much
  redder, and over how much skin);
* ``redness.version``: ``VERSION`` (the score curve reads only shares of its own definition, so a scan
  stored with an older one shows redness as not measured rather than scored on another scale);
* per face region, the share (``per_region[name]["redness"]``);
* the red-area map (``RednessMap.mask``: relative index above ``RED_EDGE``) for the overlay.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from skin_app.scan import tone

# Which definition of the measurements this module writes (``redness.version``): 2 reads only pixels
# inside the skin's border, smooths within them, uses the theoretical melanin slope and no shading fit.
VERSION = 2
# Melanin correction: index = (A_g - A_r) - MELANIN_K * (A_b - A_g). Melanin's absorption falls
# roughly as wavelength^-3.3; for camera bands near 470, 550 and 610 nm (absorbance ratios about
# 1 : 1.63 : 2.9) that gives a green-red difference about half its blue-green difference, so with
# K = 0.5 a brown spot, a tan or a lighter brow hair neither adds to nor takes from the index.
# (1.0 separated the rosacea close-ups of the training split a little better, photo AUC 0.91 against
# 0.89, but reads anything with less melanin than the skin around it as red; measured with the share's
# ramp at +-0.15, re-shots moved its score 11.2 points at p95 against 3.0, and 2 of 10 dark-band
# ordinary faces read "not good" against 1.)
MELANIN_K = 0.5
SMOOTH_SIGMA_PX = 4.0      # on the 384 px crop: JPEG's chroma noise and pores averaged away, blotches kept
BASELINE_PCT = 25.0        # the person's own skin: the index's 25th percentile over the read skin
# A pixel is red from this far above the baseline (absorbance units, log10). Higher leaves ordinary
# skin unmarked, so the share has room to grow and the map shows the blotches, not half the face.
RED_EDGE = 0.15
# The share counts each pixel by how much redder it is than the baseline, rising over a wide ramp:
# 0 at RED_EDGE - RED_RAMP, 1 from RED_EDGE + RED_RAMP. The ramp trades steadiness for sensitivity
# (dev harness over the benches' photos; re-shot p95 / tone probe to ITA -27 (CIELAB) p95 / how far a
# fully flushed cheek, tests/photos.flushed_face_jpeg, lowers the astronaut's score):
# +-0.03: 5.9 / 8.3 / 12.5; +-0.06: 4.0 / 6.1 / 9.3; +-0.08: 3.4 / 4.9 / 7.1; +-0.10: 3.5 / 4.0 / 5.1;
# +-0.15 (from the baseline itself): 3.0 / 1.6 / 1.6 - steady because the flushed cheek hardly counts.
# +-0.08 keeps the flush well outside the re-shot noise (about 2x, as +-0.03 to +-0.06 do) at the least
# noise among those, at the same photo AUC on the training split (0.89).
RED_RAMP = 0.08
MIN_SKIN_PX = 200          # too little skin to know its own baseline: redness is not measured
# Skin darker than this share of the face's median (smoothed linear) luminance is a shadow, not read.
SHADOW_FRACTION = 0.6
# A pixel whose red or green channel is clipped has no colour information left.
CLIPPED_LEVEL = 250
EDGE_PX = 5                # pixels (384 px crop) of the scored skin's border left unread


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


def erythema_index(rgb: np.ndarray, melanin_k: float = MELANIN_K, sigma: float = SMOOTH_SIGMA_PX,
                   area: np.ndarray | None = None) -> np.ndarray:
    """Per-pixel melanin-corrected erythema index (absolute), smoothed over ``sigma`` pixels (only over
    ``area`` when given: ``smooth_within``)."""
    a = -np.log10(srgb_to_linear(rgb))
    index = (a[..., 1] - a[..., 0]) - melanin_k * (a[..., 2] - a[..., 1])
    return smooth_within(index, area, sigma)


def smooth_within(values: np.ndarray, area: np.ndarray | None, sigma: float) -> np.ndarray:
    """``values`` smoothed over ``sigma`` pixels, averaging only pixels inside ``area`` (a normalised
    convolution): lips, brows, hair or a shadow next to the skin never bleed into it."""
    values = values.astype(np.float32)
    if sigma <= 0:
        return values
    if area is None:
        return cv2.GaussianBlur(values, (0, 0), sigma)
    w = area.astype(np.float32)
    num = cv2.GaussianBlur(values * w, (0, 0), sigma)
    den = cv2.GaussianBlur(w, (0, 0), sigma)
    return np.where(den > 1e-3, num / np.maximum(den, 1e-3), values).astype(np.float32)


_LUMINANCE = np.array([0.2126, 0.7152, 0.0722], np.float32)


def clipped(rgb: np.ndarray) -> np.ndarray:
    """Pixels whose red or green channel is at the top of the camera's range: their colour is gone (a red
    channel fills up long before a pixel turns white), so the index cannot be read there."""
    return (rgb[..., 0] >= CLIPPED_LEVEL) | (rgb[..., 1] >= CLIPPED_LEVEL)


def clipped_share(rgb: np.ndarray, area: np.ndarray | None) -> float | None:
    """Share of ``area``'s pixels (the whole image when None, as for a close-up) that are ``clipped``; None
    for an empty area. Where much of the skin is, the skin left to read is a shadowed remainder whose make-up
    follows the exposure (``quality.py`` leaves redness unmeasured above ``LIMIT_RED_CLIPPED``)."""
    full = clipped(rgb) if area is None else clipped(rgb)[area]
    return float(full.mean()) if full.size else None


def usable_skin(rgb: np.ndarray, skin: np.ndarray, sigma: float = SMOOTH_SIGMA_PX) -> np.ndarray:
    """The scored skin at least ``EDGE_PX`` inside its border (where skin meets lips, brows, nostrils or
    hair, a pixel mixes both and the skin mask wobbles a pixel or two between photos), minus pixels
    with a clipped red or green channel (no colour left to read) and minus deep shadows (darker than
    ``SHADOW_FRACTION`` of the skin's median luminance)."""
    inner = skin
    if EDGE_PX > 0:
        inner = cv2.erode(skin.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * EDGE_PX + 1,) * 2),
                          borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    area = inner & ~clipped(rgb)
    if not area.any():
        return area
    lum = smooth_within(srgb_to_linear(rgb) @ _LUMINANCE, skin, sigma)
    return area & (lum > SHADOW_FRACTION * float(np.median(lum[area])))


def redness_map(rgb: np.ndarray, skin: np.ndarray, melanin_k: float = MELANIN_K,
                baseline_pct: float = BASELINE_PCT, edge: float = RED_EDGE,
                sigma: float = SMOOTH_SIGMA_PX) -> RednessMap | None:
    """The red-area map of a crop over its scored skin; None when too little usable skin is left.
    (The keyword settings are the module's constants; ``bench/redness.py --grid`` tries others.)"""
    area = usable_skin(rgb, skin, sigma)
    if int(area.sum()) < MIN_SKIN_PX:
        return None
    absolute = erythema_index(rgb, melanin_k, sigma, area)
    base = float(np.percentile(absolute[area], baseline_pct))
    rel = absolute - base
    soft = np.clip((rel - (edge - RED_RAMP)) / (2 * RED_RAMP), 0.0, 1.0).astype(np.float32)
    soft[~area] = 0.0
    return RednessMap(index=rel, soft=soft, mask=area & (rel > edge), baseline=round(base, 4), area=area)


def side_gap(rgb: np.ndarray, skin: np.ndarray, left: np.ndarray, right: np.ndarray) -> float | None:
    """How far apart the person's own skin baseline (``BASELINE_PCT`` of the index over the read skin, as
    ``redness_map`` takes it) reads on the two halves of a front face, in index units; None when a half
    has too little read skin. Light of one colour cancels against the baseline, light of two does not:
    a face half in warm sun and half in bluish shade reads one half as red all over, and which half
    reads so follows the exposure. Real redness (a flush, rosacea) rarely lifts a whole half's 25th
    percentile; ``quality.LIMIT_SIDE_GAP`` says where the measure is no longer trusted."""
    area = usable_skin(rgb, skin)
    index = erythema_index(rgb, area=area)
    baselines = []
    for half in (left, right):
        read = area & half
        if int(read.sum()) < MIN_SKIN_PX:
            return None
        baselines.append(float(np.percentile(index[read], BASELINE_PCT)))
    return abs(baselines[0] - baselines[1])


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
                     "baseline": red.baseline, "pixels": n, "version": VERSION}
    if regions is not None:
        per = {}
        for name, region in regions.items():
            inside = region & area
            if name != "eyes" and int(inside.sum()) > 0:
                per[name] = round(float(red.soft[inside].sum()) / int(inside.sum()), 5)
        metrics["per_region"] = per
    return metrics, red
