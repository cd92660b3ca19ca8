"""Masks + regions -> raw measurements -> 0-100 scores (higher is better).

The score definitions are the seed project's, kept so results stay comparable with it:

* acne, flek (dark spots), wrinkle: ``100 - concern pixels inside face skin / face-skin pixels x 100``
* panda_eye (dark circles): ``100 - dark-circle pixels / eye-region pixels x 100``, where the eye
  region is the landmark periorbital area (both eyes and both under-eye regions)
* overall: the mean of the four.

Face skin is the model's face-skin mask kept inside the face-mesh outline (a sanity check: skin the
model finds outside the face, e.g. on a neck or a hand, does not count). The raw measurements (area
shares, lesion and spot counts, per-region shares) are stored beside the scores so a later, better
mapping can be re-applied to old scans.

Words for a score (``score_words``): the seed's definition puts most faces in the high 90s, because
even visible acne covers only a few percent of the face, so the bands are set per concern from
labelled photos (``SCORE_BANDS``: score >= first number "good", >= second "fair", else "needs care"):

* acne: ACNE04 validation photos by the dermatologists' severity grade, median acne score (10th-90th
  percentile): grade 0 mild 99.3 (98.3-99.6), grade 1 moderate 98.1 (96.4-99.0), grade 2 severe 95.0
  (92.4-97.2), grade 3 very severe 91.1 -> good >= 98.5, fair >= 96;
* wrinkle: gjain photos with many drawn wrinkle pixels 94.3 (90.3-97.0) vs few 99.6 (95.6-100)
  -> good >= 98, fair >= 95;
* panda_eye: gjain photos with labelled dark circles 52.8 (47.5-66.1) vs none 100 -> good >= 90,
  fair >= 75;
* flek: no graded photos exist; it shares acne's area scale and bands;
* overall (mean of the four): good >= 95, fair >= 88.
(The gjain figures include training photos, so they are optimistic; they set bands, not accuracy.)
"""
from __future__ import annotations

import cv2
import numpy as np

from skin_app.results import CONCERNS

SCORE_BANDS: dict[str, tuple[float, float]] = {
    "acne": (98.5, 96.0),
    "flek": (98.5, 96.0),
    "wrinkle": (98.0, 95.0),
    "panda_eye": (90.0, 75.0),
    "overall": (95.0, 88.0),
}
MIN_LESION_PX = 2          # connected components smaller than this are noise, not lesions
SKIN_SANITY_SHARE = 0.35   # if the model's skin covers less of the face outline than this, it failed


def score_words(score: float, concern: str = "overall") -> str:
    """Judged at the one decimal the app shows, so a score shown as 98.5 never reads below 98.5's band."""
    good, fair = SCORE_BANDS[concern]
    score = round(float(score), 1)
    return "good" if score >= good else "fair" if score >= fair else "needs care"


def count_blobs(mask: np.ndarray, min_px: int = MIN_LESION_PX) -> int:
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return int(sum(1 for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_px))


def face_skin_area(masks: dict[str, np.ndarray], oval: np.ndarray, regions: dict[str, np.ndarray]) -> tuple[np.ndarray, bool]:
    """The face-skin mask used as the denominator, and whether the model's own mask was usable."""
    skin = masks["face_skin"] & oval & ~masks["eye"] & ~regions["eyes"]
    if skin.sum() >= SKIN_SANITY_SHARE * max(oval.sum(), 1):
        return skin, True
    # The model missed the skin (odd light, make-up, a mask): fall back to the outline minus the eyes.
    return oval & ~regions["eyes"], False


def compute_scores(masks: dict[str, np.ndarray], regions: dict[str, np.ndarray],
                   oval: np.ndarray) -> tuple[dict[str, float], dict]:
    """Returns (scores, metrics). ``masks``: bool arrays per channel; ``regions``: bool arrays per region."""
    skin, model_skin_ok = face_skin_area(masks, oval, regions)
    skin_px = int(skin.sum())
    eye_region = regions["eyes"] | regions["left_under_eye"] | regions["right_under_eye"]
    eye_px = int(eye_region.sum())
    fractions = {}
    for concern in ("acne", "flek", "wrinkle"):
        fractions[concern] = float((masks[concern] & skin).sum()) / max(skin_px, 1)
    fractions["panda_eye"] = float((masks["panda_eye"] & eye_region).sum()) / max(eye_px, 1)
    scores = {c: round(100.0 - 100.0 * fractions[c], 2) for c in CONCERNS}
    scores["overall"] = round(float(np.mean([scores[c] for c in CONCERNS])), 2)
    per_region = {}
    for name, region in regions.items():
        area = region & skin if name != "eyes" else region
        n = int(area.sum())
        per_region[name] = {"pixels": n}
        for concern in CONCERNS:
            mask = masks[concern] & (area if concern != "panda_eye" else region)
            per_region[name][concern] = round(float(mask.sum()) / max(int(region.sum()) if concern == "panda_eye" else n, 1), 5)
    metrics = {
        "area_fraction": {c: round(v, 6) for c, v in fractions.items()},
        "acne_lesion_count": count_blobs(masks["acne"] & skin),
        "flek_spot_count": count_blobs(masks["flek"] & skin),
        "wrinkle_segment_count": count_blobs(masks["wrinkle"] & skin, 4),
        "face_skin_pixels": skin_px,
        "eye_region_pixels": eye_px,
        "face_skin_from_model": model_skin_ok,
        "per_region": per_region,
    }
    return scores, metrics
