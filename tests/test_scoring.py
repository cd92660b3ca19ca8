"""Scores on hand-made masks with known answers (the seed's definitions)."""
from __future__ import annotations

import numpy as np
import pytest

from skin_app.results import CHANNELS
from skin_app.scoring import compute_scores, count_blobs, score_words

S = 100


def empty():
    return np.zeros((S, S), bool)


def setup_face():
    oval = empty()
    oval[10:90, 10:90] = True                  # 6400 px face outline
    regions = {name: empty() for name in ("forehead", "left_cheek", "right_cheek", "nose", "chin",
                                          "left_under_eye", "right_under_eye", "eyes")}
    regions["eyes"][30:35, 20:40] = True        # 100 px
    regions["right_under_eye"][35:40, 20:40] = True   # 100 px
    regions["left_under_eye"][35:40, 60:80] = True    # 100 px
    regions["forehead"][10:25, 10:90] = True
    masks = {ch: empty() for ch in CHANNELS}
    masks["face_skin"] = oval.copy()
    return masks, regions, oval


def test_clear_skin_scores_100_everywhere():
    masks, regions, oval = setup_face()
    scores, metrics = compute_scores(masks, regions, oval)
    assert scores == {"acne": 100.0, "flek": 100.0, "wrinkle": 100.0, "panda_eye": 100.0, "overall": 100.0}
    assert metrics["acne_lesion_count"] == 0


def test_acne_score_is_100_minus_percent_of_face_skin():
    masks, regions, oval = setup_face()
    skin_px = (oval & ~regions["eyes"]).sum()          # 6300
    masks["acne"][50:53, 50:53] = True                  # 9 px lesion
    masks["acne"][60:63, 20:26] = True                  # 18 px lesion
    scores, metrics = compute_scores(masks, regions, oval)
    assert scores["acne"] == pytest.approx(100 - 27 / skin_px * 100, abs=0.01)
    assert metrics["acne_lesion_count"] == 2
    assert metrics["area_fraction"]["acne"] == pytest.approx(27 / skin_px, abs=1e-6)


def test_concern_pixels_outside_face_skin_do_not_count():
    masks, regions, oval = setup_face()
    masks["wrinkle"][0:5, :] = True                     # above the face outline
    masks["flek"][95:100, :] = True
    scores, _ = compute_scores(masks, regions, oval)
    assert scores["wrinkle"] == 100.0 and scores["flek"] == 100.0


def test_dark_circle_score_uses_the_eye_region_as_denominator():
    masks, regions, oval = setup_face()
    masks["panda_eye"][35:40, 20:40] = True              # the whole right under-eye: 100 of 300 px
    scores, _ = compute_scores(masks, regions, oval)
    assert scores["panda_eye"] == pytest.approx(100 - 100 / 300 * 100, abs=0.01)


def test_overall_is_the_mean_of_the_four():
    masks, regions, oval = setup_face()
    masks["acne"][50:60, 50:60] = True
    masks["panda_eye"][35:40, 60:80] = True
    scores, _ = compute_scores(masks, regions, oval)
    assert scores["overall"] == pytest.approx(np.mean([scores[c] for c in ("acne", "flek", "wrinkle", "panda_eye")]), abs=0.01)


def test_per_region_breakdown_locates_the_concern():
    masks, regions, oval = setup_face()
    masks["wrinkle"][15:18, 20:80] = True               # forehead lines
    _, metrics = compute_scores(masks, regions, oval)
    assert metrics["per_region"]["forehead"]["wrinkle"] > 0.1
    assert metrics["per_region"]["chin"]["wrinkle"] == 0


def test_a_failed_skin_mask_falls_back_to_the_face_outline():
    masks, regions, oval = setup_face()
    masks["face_skin"][:] = False                       # model found no skin
    masks["acne"][50:60, 50:60] = True
    scores, metrics = compute_scores(masks, regions, oval)
    assert metrics["face_skin_from_model"] is False
    assert scores["acne"] < 100


def test_blob_counting_ignores_single_pixel_noise():
    m = empty()
    m[5, 5] = True
    m[20:23, 20:23] = True
    assert count_blobs(m) == 1


@pytest.mark.parametrize("concern,score,word", [
    ("acne", 99.0, "good"), ("acne", 97.0, "fair"), ("acne", 95.0, "needs care"),
    ("wrinkle", 98.0, "good"), ("wrinkle", 94.9, "needs care"),
    ("panda_eye", 80.0, "fair"), ("panda_eye", 52.8, "needs care"),
    ("overall", 95.0, "good"), ("overall", 90.0, "fair"), ("overall", 87.9, "needs care"),
])
def test_score_words_follow_the_bands_of_each_concern(concern, score, word):
    assert score_words(score, concern) == word


def test_words_follow_the_shown_one_decimal_value():
    assert score_words(98.47, "acne") == "good"        # shown as 98.5
    assert score_words(98.44, "acne") == "fair"        # shown as 98.4
