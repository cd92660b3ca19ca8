"""Raw measurements on hand-made probability maps with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from skin_app.concerns import CHANNELS
from skin_app.scan.measure import count_blobs, count_lesions, measure

S = 100
THRESHOLDS = {ch: 0.5 for ch in CHANNELS}


def empty():
    return np.zeros((S, S), np.float32)


def setup_face():
    oval = np.zeros((S, S), bool)
    oval[10:90, 10:90] = True                  # 6400 px face outline
    regions = {name: np.zeros((S, S), bool) for name in ("forehead", "left_cheek", "right_cheek", "nose", "chin",
                                                         "left_under_eye", "right_under_eye", "eyes")}
    regions["eyes"][30:35, 20:40] = True        # 100 px
    regions["right_under_eye"][35:40, 20:40] = True   # 100 px
    regions["left_under_eye"][35:40, 60:80] = True    # 100 px
    regions["right_cheek"][45:60, 20:40] = True
    regions["left_cheek"][45:60, 60:80] = True
    regions["forehead"][10:25, 10:90] = True
    prob = {ch: empty() for ch in CHANNELS}
    prob["face_skin"][oval] = 0.95
    crop = np.full((S, S, 3), 180, np.uint8)
    return prob, regions, oval, crop


def run(prob, regions, oval, crop):
    return measure(prob, THRESHOLDS, crop, regions, oval)


def test_clear_skin_measures_nothing_and_keeps_the_seed_score_of_100():
    m = run(*setup_face()).metrics
    assert m["seed_scores"] == {"acne": 100.0, "flek": 100.0, "wrinkle": 100.0, "panda_eye": 100.0, "overall": 100.0}
    assert m["acne_lesion_count"] == 0 and m["soft_fraction"]["acne"] == 0


def test_seed_score_is_100_minus_percent_of_face_skin():
    prob, regions, oval, crop = setup_face()
    skin_px = (oval & ~regions["eyes"]).sum()          # 6300
    prob["acne"][50:53, 50:53] = 0.9                    # 9 px lesion
    prob["acne"][60:63, 20:26] = 0.9                    # 18 px lesion
    m = run(prob, regions, oval, crop).metrics
    assert m["seed_scores"]["acne"] == pytest.approx(100 - 27 / skin_px * 100, abs=0.01)
    assert m["area_fraction"]["acne"] == pytest.approx(27 / skin_px, abs=1e-6)
    assert m["acne_lesion_count"] == 2


def test_soft_fraction_counts_a_mark_just_below_the_threshold_a_little():
    prob, regions, oval, crop = setup_face()
    skin_px = (oval & ~regions["eyes"]).sum()
    prob["acne"][50:60, 50:60] = 0.45                   # just below the 0.5 threshold: no marked pixel
    m = run(prob, regions, oval, crop).metrics
    assert m["area_fraction"]["acne"] == 0
    assert m["soft_fraction"]["acne"] == pytest.approx(100 * (0.45 - 0.35) / 0.3 / skin_px, rel=1e-3)


def test_soft_fraction_ignores_the_faint_haze_far_below_the_threshold():
    prob, regions, oval, crop = setup_face()
    prob["flek"][oval] = 0.2                            # a faint haze over the whole face
    prob["flek"][50:53, 50:53] = 0.95                   # one clear spot
    m = run(prob, regions, oval, crop).metrics
    assert m["soft_fraction"]["flek"] == pytest.approx(m["area_fraction"]["flek"], rel=1e-3)


def test_marks_off_the_face_skin_are_neither_counted_nor_drawn():
    prob, regions, oval, crop = setup_face()
    prob["flek"][0:5, :] = 0.9                          # above the face outline (hair)
    prob["acne"][95:100, :] = 0.9                       # below it (background)
    result = run(prob, regions, oval, crop)
    assert result.metrics["seed_scores"]["flek"] == 100.0 and result.metrics["flek_spot_count"] == 0
    assert not result.masks["flek"].any() and not result.masks["acne"].any()


def test_dark_circle_marks_are_kept_only_in_the_eye_region():
    prob, regions, oval, crop = setup_face()
    prob["panda_eye"][35:40, 20:40] = 0.9               # the whole right under-eye: 100 of 300 px
    prob["panda_eye"][70:80, 40:60] = 0.9               # on the chin: not a dark circle
    result = run(prob, regions, oval, crop)
    assert result.metrics["seed_scores"]["panda_eye"] == pytest.approx(100 - 100 / 300 * 100, abs=0.01)
    assert result.masks["panda_eye"].sum() == 100


def test_mean_probability_averages_the_dark_circle_channel_over_the_eye_region_haze_included():
    prob, regions, oval, crop = setup_face()
    eye_region = regions["eyes"] | regions["left_under_eye"] | regions["right_under_eye"]
    prob["panda_eye"][eye_region] = 0.2                 # faint everywhere: below any threshold
    prob["panda_eye"][70:80, 40:60] = 0.9               # on the chin: outside the eye region
    m = run(prob, regions, oval, crop).metrics
    assert m["mean_probability"]["panda_eye"] == pytest.approx(0.2, abs=1e-4)
    assert m["soft_fraction"]["panda_eye"] == 0


def test_under_eye_contrast_is_cheek_lightness_minus_under_eye_lightness():
    prob, regions, oval, crop = setup_face()
    crop[35:40, 20:40] = 120                            # a darker right under-eye
    crop[35:40, 60:80] = 120                            # and left
    m = run(prob, regions, oval, crop).metrics
    import cv2
    lightness = lambda v: cv2.cvtColor(np.full((1, 1, 3), v, np.uint8), cv2.COLOR_RGB2LAB)[0, 0, 0] * 100 / 255  # noqa: E731
    assert m["under_eye_contrast"] == pytest.approx(lightness(180) - lightness(120), abs=0.5)
    assert m["under_eye_contrast_rel"] > 0


def test_contrast_is_relative_to_the_persons_own_skin():
    """Darker skin with the same under-eye-to-cheek ratio gives a similar relative contrast."""
    prob, regions, oval, crop = setup_face()
    light = crop.copy()
    light[35:40, 20:40] = light[35:40, 60:80] = 150
    dark = (light.astype(np.float32) * 0.5).astype(np.uint8)
    m_light = run(prob, regions, oval, light).metrics
    m_dark = run(prob, regions, oval, dark).metrics
    assert m_light["under_eye_contrast_rel"] == pytest.approx(m_dark["under_eye_contrast_rel"], abs=0.05)


def test_without_landmarks_the_model_skin_is_the_area_and_dark_circles_are_not_measured():
    prob, regions, oval, crop = setup_face()
    prob["acne"][50:53, 50:53] = 0.9
    m = measure(prob, THRESHOLDS, crop).metrics
    assert m["area_fraction"]["acne"] == pytest.approx(9 / 6400, abs=1e-6)
    assert m["under_eye_contrast"] is None and m["soft_fraction"]["panda_eye"] is None
    assert m["mean_probability"]["panda_eye"] is None
    assert "overall" not in m["seed_scores"]


def test_a_failed_skin_mask_falls_back_to_the_face_outline():
    prob, regions, oval, crop = setup_face()
    prob["face_skin"][:] = 0                            # model found no skin
    prob["acne"][50:60, 50:60] = 0.9
    m = run(prob, regions, oval, crop).metrics
    assert m["face_skin_from_model"] is False
    assert m["seed_scores"]["acne"] < 100


def test_per_region_breakdown_locates_the_concern():
    prob, regions, oval, crop = setup_face()
    prob["wrinkle"][15:18, 20:80] = 0.9                 # forehead lines
    m = run(prob, regions, oval, crop).metrics
    assert m["per_region"]["forehead"]["wrinkle"] > 0.1
    assert m["per_region"]["chin"]["wrinkle"] == 0


def test_blob_counting_ignores_single_pixel_noise():
    m = np.zeros((S, S), bool)
    m[5, 5] = True
    m[20:23, 20:23] = True
    assert count_blobs(m) == 1


def bump(prob, cy, cx, r=2.0, peak=0.95):
    yy, xx = np.mgrid[:S, :S]
    prob[:] = np.maximum(prob, peak * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r)))


def test_touching_lesions_are_split_at_their_peaks():
    prob = empty()
    for cx in (30, 38, 46, 54):                         # four papules in a row, merged by the threshold
        bump(prob, 50, cx, r=3.0)
    mask = prob > 0.3
    assert count_blobs(mask) == 1
    assert count_lesions(prob, mask) == 4


def test_one_lesion_is_counted_once():
    prob = empty()
    bump(prob, 50, 50, r=2.5)
    assert count_lesions(prob, prob > 0.5) == 1
