"""Probabilities + regions -> raw measurements (what the model saw, in physical terms).

Raw measurements are kept apart from the display scores a person reads (``calibration.py`` maps the
one to the other), as Perfect Corp keeps ``raw_score`` apart from ``ui_score``: a better mapping can
be re-applied to old scans because every scan stores these numbers.

What is measured, all inside the *scored area*:

* face skin: the model's face-skin mask kept inside the face-mesh outline, minus eyes (a sanity
  check: skin the model finds outside the face, e.g. a neck, hair or background, does not count);
  with no landmarks (a close-up or an evaluation photo), the model's own face skin;
* eye region (dark circles): both eyes and both under-eye regions from the landmarks.

Marks (``Measurement.masks``) are restricted to the same areas, so an overlay never shows a spot on
hair, background or padding that the numbers do not count.

* ``area_fraction``: thresholded marked pixels / area (the seed project's measure);
* ``soft_fraction``: a soft count of marked pixels / area: each pixel counts by how far its
  probability lies across a ramp of +-``SOFT_RAMP`` around the channel's threshold (0 below, 1 above,
  linear between), so a pixel near the threshold moves the number a little, not all-or-nothing
  (steadier between re-shots), while the faint haze far below the threshold counts nothing;
* ``mean_probability``: the mean probability over the area, no threshold at all. For dark circles,
  whose marks are broad and faint, it moves less between re-shots than the soft share and separates
  faces with and without dark circles better (``bench/noise_band.py``, ``training/calibrate.py``); for
  acne and dark spots it would be steadier too, but it adds the faint haze the model leaves on darker
  skin (issue 9), so those scores keep the soft share;
* ``seed_scores``: the seed project's scores, ``100 - area_fraction x 100``, overall = mean of four,
  kept so results stay comparable with it;
* lesion counts: touching lesions are split at local maxima of the probability map at two scales,
  and blobs larger than the experts' large lesion count as several (``acne_lesion_count``), so a
  cluster of ten papules is not one blob; ``acne_lesions`` holds them by size and by face region;
* ``under_eye_contrast``: how much darker (CIELAB L*) the under-eye skin is than the upper cheek of
  the same side, relative to the person's own skin, so neither skin tone nor exposure moves it much
  (``under_eye_contrast_rel`` divides by the cheek's L*);
* ``skin_ita``: the individual typology angle of the scored face skin (for fairness reports only),
  by the one definition (``tone.skin_ita``); None on a photo with next to no colour;
* ``redness``: from colour, not from the model, over the same scored skin (``redness.py``): the soft
  share of it redder than the person's own skin (``redness.share``) and the red-area mask
  (``masks["redness"]``); None when too little usable skin is left.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from skin_app.concerns import CONCERNS
from skin_app.scan.redness import measure_redness
from skin_app.scan.tone import skin_ita

MIN_LESION_PX = 2          # connected components smaller than this are noise, not lesions
# Lesion sizes from the experts' circles on the ACNE04 training split (19,025 circles; radius 5th /
# 50th / 95th percentile 1.48 / 3.11 / 7.56 px at 512 px, so 1.11 / 2.33 / 5.67 px on the 384 px crop):
# areas pi r^2. ``python -m skin_app.training.grade_model --data DATA_FOLDER --lesion-sizes`` prints them.
LESION_MIN_PX = 4
LESION_TYPICAL_PX = 17
LESION_MAX_PX = 101
LESION_PEAK_SCALES = (1.0, 2.0)   # Gaussian sigmas (px) at which peaks part touching lesions
SKIN_SANITY_SHARE = 0.35   # if the model's skin covers less of the face outline than this, it failed
# Two acne peaks closer than this (pixels on the 384 px crop, ~2 lesion radii) are one lesion.
LESION_PEAK_DISTANCE = 3
SIDES = ("right", "left")
SOFT_RAMP = 0.15
# Bumped whenever a measurement's definition changes (score calibration caches are keyed by it).
# 5: lesions counted at two scales and parted by size (acne_lesions); 6: redness (redness.py);
# 7: skin_ita by tone.skin_ita (float CIELAB, none on a colourless photo), no longer its own copy;
# no score reads it, so the version 6 curves stayed valid (issue 25)
# 8: redness read inside the skin's border, melanin slope 0.5, no shading fit (redness.VERSION 2)
# (skin_ita: none under a blue or green cast, tone.MIN_SKIN_B_STAR, without a bump: no score reads it, and
# every report reads stored angles through tone.band_of, which leaves the earlier ones beyond +-90 deg out)
MEASURE_VERSION = 8
# The under-eye area starts this far below the eye (pixels on the 384 px crop): lashes and the lid
# crease are dark whatever the skin does, and a landmark that moves a pixel would move them in or out.
UNDER_EYE_GAP_PX = 4


@dataclass
class Measurement:
    masks: dict[str, np.ndarray]        # channel -> bool, concern marks restricted to the scored areas
    metrics: dict                       # JSON-serialisable raw measurements (see module docstring)
    skin: np.ndarray                    # the scored face-skin area
    eye_region: np.ndarray | None       # the scored eye region (None without landmarks)


def face_skin_area(skin_mask: np.ndarray, eye_mask: np.ndarray, oval: np.ndarray | None,
                   eyes: np.ndarray | None) -> tuple[np.ndarray, bool]:
    """The face-skin mask used as the denominator, and whether the model's own mask was usable."""
    skin = skin_mask & ~eye_mask
    if oval is None:
        return skin, True
    not_eyes = ~eyes if eyes is not None else np.ones_like(oval)
    skin = skin & oval & not_eyes
    if skin.sum() >= SKIN_SANITY_SHARE * max(oval.sum(), 1):
        return skin, True
    # The model missed the skin (odd light, make-up, a mask): fall back to the outline minus the eyes.
    return oval & not_eyes, False


def count_blobs(mask: np.ndarray, min_px: int = MIN_LESION_PX) -> int:
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return int(sum(1 for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_px))


@dataclass(frozen=True)
class Lesions:
    """Lesions found in a thresholded mask: each one's centre (row, col) and area in pixels."""
    centres: tuple[tuple[float, float], ...]
    areas: tuple[float, ...]

    @property
    def count(self) -> int:
        return len(self.areas)

    def by_size(self) -> dict[str, int]:
        """How many are small (below the experts' median circle), medium, or large (above their 95th
        percentile: a nodule, or several lesions the model could not part)."""
        a = np.asarray(self.areas)
        return {"small": int((a < LESION_TYPICAL_PX).sum()),
                "medium": int(((a >= LESION_TYPICAL_PX) & (a <= LESION_MAX_PX)).sum()),
                "large": int((a > LESION_MAX_PX).sum())}

    def in_regions(self, regions: dict[str, np.ndarray]) -> dict[str, int]:
        out = {}
        for name, region in regions.items():
            h, w = region.shape
            out[name] = sum(1 for y, x in self.centres
                            if 0 <= int(y) < h and 0 <= int(x) < w and region[int(y), int(x)])
        return out


def find_lesions(prob: np.ndarray, mask: np.ndarray, min_px: int = LESION_MIN_PX,
                 min_distance: int = LESION_PEAK_DISTANCE) -> Lesions:
    """Lesions in a thresholded mask. Touching lesions are parted where the probability map has
    separate peaks, looked for at two scales (a fine one for papules in a row, a coarser one for
    lesions whose own texture makes spurious peaks), taking the scale that finds more; a blob larger
    than the experts' large lesion (``LESION_MAX_PX``) counts at least as many lesions as it holds of
    that size; a blob smaller than their small one (``LESION_MIN_PX``) is noise."""
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return Lesions((), ())
    from skimage.feature import peak_local_max
    peaks_at = []
    for sigma in LESION_PEAK_SCALES:
        smooth = cv2.GaussianBlur(prob.astype(np.float32), (0, 0), sigma)
        # Peaks at least ``min_distance`` apart (ties on a plateau count once), searched inside each blob.
        peaks_at.append(peak_local_max(smooth, min_distance=min_distance, labels=labels, exclude_border=False))
    centres: list[tuple[float, float]] = []
    areas: list[float] = []
    for i in range(1, n):
        area = float(stats[i, cv2.CC_STAT_AREA])
        if area < min_px:
            continue
        best = max((p[labels[p[:, 0], p[:, 1]] == i] for p in peaks_at), key=len)
        k = max(1, len(best), math.ceil(area / LESION_MAX_PX))
        if len(best) == k:
            centres.extend((float(y), float(x)) for y, x in best)
        else:   # no peak for each part: the blob's centre stands for all of them
            centres.extend([(float(centroids[i][1]), float(centroids[i][0]))] * k)
        areas.extend([area / k] * k)
    return Lesions(tuple(centres), tuple(areas))


def count_lesions(prob: np.ndarray, mask: np.ndarray, min_px: int = LESION_MIN_PX,
                  min_distance: int = LESION_PEAK_DISTANCE) -> int:
    """How many lesions ``find_lesions`` finds."""
    return find_lesions(prob, mask, min_px, min_distance).count


def soft_marks(prob: np.ndarray, threshold: float, ramp: float = SOFT_RAMP) -> np.ndarray:
    """Each pixel's soft mark in [0, 1]: 0 below ``threshold - ramp``, 1 above ``threshold + ramp``."""
    return np.clip((prob - (threshold - ramp)) / (2 * ramp), 0.0, 1.0)


def _lab(crop: np.ndarray) -> np.ndarray:
    """CIELAB with L* in 0-100 and a*, b* centred on 0 (OpenCV's 8-bit encoding undone)."""
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    lab[..., 1:] -= 128.0
    return lab


def under_eye_and_cheek(skin: np.ndarray, regions: dict[str, np.ndarray],
                        min_px: int = 30) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(side, under-eye skin, cheek skin) for each visible side with enough of both; the under-eye kept
    ``UNDER_EYE_GAP_PX`` clear of the eye (lashes and lid crease are dark whatever the skin does)."""
    gap = 2 * UNDER_EYE_GAP_PX + 1
    near_eye = cv2.dilate(regions["eyes"].astype(np.uint8), np.ones((gap, gap), np.uint8)).astype(bool)
    out = []
    for side in SIDES:
        if f"{side}_cheek" not in regions:          # a side view shows one cheek only
            continue
        under = regions[f"{side}_under_eye"] & skin & ~near_eye
        cheek = regions[f"{side}_cheek"] & skin
        if under.sum() >= min_px and cheek.sum() >= min_px:
            out.append((side, under, cheek))
    return out


def under_eye_contrast(lab: np.ndarray, skin: np.ndarray, regions: dict[str, np.ndarray],
                       min_px: int = 30) -> tuple[float | None, float | None, dict]:
    """(mean over visible sides of cheek L* - under-eye L*, the same relative to cheek L*, per side)."""
    lum = lab[..., 0]
    per_side: dict[str, float] = {}
    rel: list[float] = []
    for side, under, cheek in under_eye_and_cheek(skin, regions, min_px):
        cheek_l = float(np.median(lum[cheek]))
        delta = cheek_l - float(np.median(lum[under]))
        per_side[side] = round(delta, 3)
        rel.append(delta / max(cheek_l, 1.0))
    if not per_side:
        return None, None, per_side
    return (round(float(np.mean(list(per_side.values()))), 3), round(float(np.mean(rel)), 5), per_side)


def measure(probabilities: dict[str, np.ndarray], thresholds: dict[str, float], crop: np.ndarray,
            regions: dict[str, np.ndarray] | None = None, oval: np.ndarray | None = None) -> Measurement:
    """Raw measurements of one face. ``regions``/``oval`` come from the face mesh on the aligned crop;
    without them (a close-up, an evaluation photo) face skin is the model's own and dark circles are
    not measured."""
    raw = {ch: p > thresholds[ch] for ch, p in probabilities.items()}
    eyes = regions["eyes"] if regions is not None else None
    skin, model_skin_ok = face_skin_area(raw["face_skin"], raw["eye"], oval, eyes)
    skin_px = int(skin.sum())
    eye_region = (regions["eyes"] | regions["left_under_eye"] | regions["right_under_eye"]) if regions else None
    eye_px = int(eye_region.sum()) if eye_region is not None else 0
    masks = dict(raw)
    for concern in ("acne", "flek", "wrinkle"):
        masks[concern] = raw[concern] & skin
    masks["panda_eye"] = raw["panda_eye"] & eye_region if eye_region is not None else np.zeros_like(skin)

    area: dict[str, float | None] = {}
    soft: dict[str, float | None] = {}
    mean_p: dict[str, float | None] = {}
    for concern in ("acne", "flek", "wrinkle"):
        p = probabilities[concern][skin]
        area[concern] = float(masks[concern].sum()) / max(skin_px, 1)
        soft[concern] = float(soft_marks(p, thresholds[concern]).sum()) / max(skin_px, 1)
        mean_p[concern] = float(p.sum()) / max(skin_px, 1)
    if eye_region is not None:
        p = probabilities["panda_eye"][eye_region]
        area["panda_eye"] = float(masks["panda_eye"].sum()) / max(eye_px, 1)
        soft["panda_eye"] = float(soft_marks(p, thresholds["panda_eye"]).sum()) / max(eye_px, 1)
        mean_p["panda_eye"] = float(p.sum()) / max(eye_px, 1)
    else:
        area["panda_eye"] = soft["panda_eye"] = mean_p["panda_eye"] = None
    seed = {c: round(100.0 - 100.0 * v, 2) for c, v in area.items() if v is not None}
    if len(seed) == len(CONCERNS):
        seed["overall"] = round(float(np.mean([seed[c] for c in CONCERNS])), 2)

    acne = find_lesions(probabilities["acne"], masks["acne"])
    lab = _lab(crop)
    redness, red_map = measure_redness(crop, skin, regions)
    masks["redness"] = red_map.mask if red_map is not None else np.zeros_like(skin)
    contrast = contrast_rel = None
    sides: dict[str, float] = {}
    if regions is not None:
        contrast, contrast_rel, sides = under_eye_contrast(lab, skin, regions)
    per_region = per_region_shares(masks, regions, skin) if regions is not None else {}
    for name, share in (redness or {}).get("per_region", {}).items():
        per_region.setdefault(name, {})["redness"] = share
    metrics = {
        "area_fraction": {c: (round(v, 6) if v is not None else None) for c, v in area.items()},
        "soft_fraction": {c: (round(v, 6) if v is not None else None) for c, v in soft.items()},
        "mean_probability": {c: (round(v, 6) if v is not None else None) for c, v in mean_p.items()},
        "seed_scores": seed,
        "acne_lesion_count": acne.count,
        "acne_lesions": {"by_size": acne.by_size(),
                         "per_region": acne.in_regions(regions) if regions is not None else {}},
        "acne_blob_count": count_blobs(masks["acne"]),
        "flek_spot_count": count_lesions(probabilities["flek"], masks["flek"], MIN_LESION_PX),
        "wrinkle_segment_count": count_blobs(masks["wrinkle"], 4),
        "under_eye_contrast": contrast,
        "under_eye_contrast_rel": contrast_rel,
        "under_eye_contrast_sides": sides,
        "skin_ita": skin_ita(crop, skin),
        "face_skin_pixels": skin_px,
        "eye_region_pixels": eye_px,
        "face_skin_from_model": model_skin_ok,
        "per_region": per_region,
        "redness": {k: v for k, v in redness.items() if k != "per_region"} if redness else None,
    }
    return Measurement(masks=masks, metrics=metrics, skin=skin, eye_region=eye_region)


def per_region_shares(masks: dict[str, np.ndarray], regions: dict[str, np.ndarray],
                      skin: np.ndarray) -> dict[str, dict]:
    """Share of each named region's skin marked per concern (dark circles: of the whole region)."""
    out = {}
    for name, region in regions.items():
        area = region & skin if name != "eyes" else region
        n = int(area.sum())
        row: dict[str, float | int] = {"pixels": n}
        for concern in CONCERNS:
            if concern == "panda_eye":
                row[concern] = round(float((masks[concern] & region).sum()) / max(int(region.sum()), 1), 5)
            else:
                row[concern] = round(float((masks[concern] & area).sum()) / max(n, 1), 5)
        out[name] = row
    return out
