"""Display scores: the shipped calibration's curves, words with hysteresis, Overall, legacy re-scoring."""
from __future__ import annotations

import json

import numpy as np
import pytest

from skin_app.concerns import CONCERN_LABELS, CONCERNS, SCORED
from skin_app.scan import redness
from skin_app.scan.calibration import (
    OVERALL_LEAD,
    ConcernCurve,
    describe,
    load_calibration,
    overall_note,
    overall_of,
    parse_calibration,
    scan_words,
    word_for,
)


@pytest.fixture(scope="module")
def cal():
    return load_calibration()


SKIN_PX_PER_LESION = 50_000 / 17      # a face's skin pixels over a typical lesion's (scoring.LESION_TYPICAL_PX)


def metrics_with(**soft) -> dict:
    """Raw measurements of a face: the soft shares given, the acne lesions the acne share implies."""
    base = {"soft_fraction": {"acne": 0.0, "flek": 0.0, "wrinkle": 0.0, "panda_eye": 0.1},
            "area_fraction": {"acne": 0.0, "flek": 0.0, "wrinkle": 0.0, "panda_eye": 0.1},
            "mean_probability": {"acne": 0.01, "flek": 0.05, "wrinkle": 0.02, "panda_eye": 0.05},
            "under_eye_contrast": 0.0}
    for k, v in soft.items():
        if k == "under_eye_contrast":
            base[k] = v
        else:
            base["soft_fraction"][k] = base["area_fraction"][k] = v
    lesions = round(base["soft_fraction"]["acne"] * SKIN_PX_PER_LESION)
    base.update(acne_lesion_count=lesions, acne_blob_count=lesions,
                acne_lesions={"by_size": {"small": 0, "medium": lesions, "large": 0}})
    return base


@pytest.mark.parametrize("concern", SCORED)
def test_every_curve_is_monotone_decreasing_and_spans_0_to_100(cal, concern):
    curve = cal.curves[concern]
    xs = np.linspace(curve.knots[0][0] - 1, curve.knots[-1][0] + 1, 400)
    raw = np.maximum(10 ** xs - curve.offset, 0.0) if curve.transform == "log10" else xs
    scores = [curve.score(v) for v in raw]
    assert all(a >= b for a, b in zip(scores, scores[1:]))
    assert max(scores) == 100.0 and min(scores) == 0.0


@pytest.mark.parametrize("concern", SCORED)
def test_the_documented_anchor_values_map_back_to_90_70_50(cal, concern):
    curve = cal.curves[concern]
    for s in (90, 70, 50):
        assert curve.score(curve.value_at(s)) == pytest.approx(s, abs=0.01)


def test_a_clear_face_reads_good_and_heavy_acne_reads_needs_care(cal):
    clear = cal.display_scores(metrics_with())
    assert clear["acne"] >= 90 and word_for(clear["acne"]) == "good"
    severe = cal.display_scores(metrics_with(acne=0.10))      # a tenth of the face skin marked
    assert severe["acne"] < 50 and word_for(severe["acne"]) == "needs care"


def test_a_darker_under_eye_lowers_the_dark_circle_score(cal):
    light = cal.display_scores(metrics_with(under_eye_contrast=1.0))["panda_eye"]
    dark = cal.display_scores(metrics_with(under_eye_contrast=25.0))["panda_eye"]
    assert light > dark and dark < 70


def test_a_stronger_dark_circle_probability_lowers_the_dark_circle_score(cal):
    faint = metrics_with(under_eye_contrast=8.0)
    strong = metrics_with(under_eye_contrast=8.0)
    strong["mean_probability"]["panda_eye"] = 0.4
    assert cal.display_scores(strong)["panda_eye"] < cal.display_scores(faint)["panda_eye"]


def test_a_scan_stored_before_the_mean_probability_existed_is_rescored_from_its_areas(cal):
    """Measurement version 3 stored soft and thresholded shares but no mean probability."""
    old = metrics_with(under_eye_contrast=8.0)
    del old["mean_probability"]
    old["area_fraction"] = {"acne": 0.001, "flek": 0.01, "wrinkle": 0.01, "panda_eye": 0.05}
    assert "panda_eye" not in cal.display_scores(old)
    assert set(cal.rescore_legacy(old)) == {*CONCERNS, "overall"}


def test_overall_is_the_mean_of_the_display_scores_when_none_lags_far_behind(cal):
    s = cal.display_scores(metrics_with(acne=0.002, wrinkle=0.001, under_eye_contrast=2.0))
    assert max(s[c] for c in CONCERNS) - min(s[c] for c in CONCERNS) < OVERALL_LEAD
    assert s["overall"] == pytest.approx(np.mean([s[c] for c in CONCERNS]), abs=0.06)


def test_a_concern_that_needs_care_keeps_overall_below_good_however_clear_the_rest(cal):
    """The plain mean read a cheek with acne 49 and three clear concerns as Overall 87, "good"."""
    s = cal.display_scores(metrics_with(acne=0.10))             # heavy acne, nothing else
    assert s["acne"] < 50 and min(s[c] for c in CONCERNS if c != "acne") >= 90
    assert np.mean([s[c] for c in CONCERNS]) >= 70              # what the old rule would have said
    assert s["overall"] == pytest.approx(s["acne"] + OVERALL_LEAD, abs=0.06)
    assert word_for(s["overall"]) != "good"


@pytest.mark.parametrize("scores,overall_word", [
    ({"acne": 49.9, "flek": 100, "wrinkle": 100}, "fair"),           # a side view, one concern just below fair
    ({"acne": 0, "flek": 100}, "needs care"),                         # a close-up
    ({"acne": 100, "flek": 100, "wrinkle": 100, "panda_eye": 30}, "needs care"),
    ({"acne": 53, "flek": 100, "wrinkle": 100}, "fair"),              # fair, but within a noise band of needs care
    ({"acne": 56, "flek": 100, "wrinkle": 100, "panda_eye": 100}, "good"),
])
def test_overall_reads_good_only_when_every_concern_is_at_least_fair(scores, overall_word):
    overall = overall_of(scores, list(scores))
    assert word_for(overall) == overall_word
    if all(word_for(v) != "needs care" for v in scores.values()):
        assert overall >= 50                                         # all fair or better: never "needs care"


def test_the_rule_holds_over_a_grid_of_scores():
    grid = np.linspace(0, 100, 21)
    for a in grid:
        for b in grid:
            for c in (0.0, 49.9, 50.0, 100.0):
                scores = {"acne": a, "flek": b, "wrinkle": c}
                overall = overall_of(scores, scores)
                assert min(scores.values()) <= overall <= max(scores.values()) + 1e-9
                assert word_for(overall) != "good" or min(scores.values()) >= 50


def test_a_held_word_says_why_and_overall_is_not_held_good_while_a_concern_needs_care():
    bands = {"acne": 3.0, "flek": 3.0, "wrinkle": 3.0, "overall": 3.0}
    words = scan_words({"acne": 68.0, "flek": 90.0, "wrinkle": 90.0, "overall": 82.7},
                       previous={"acne": "good"}, bands=bands)
    assert words["acne"].word == "good" and words["acne"].why.startswith("still good: 68 is within the noise")
    assert words["flek"].why == ""
    held = scan_words({"acne": 48.0, "flek": 90.0, "wrinkle": 90.0, "overall": 68.0},
                      previous={"overall": "good"}, bands=bands)
    assert held["acne"].word == "needs care"
    assert held["overall"].word == "fair" and "needs care" in held["overall"].why
    assert scan_words({"acne": 68.0}, previous={}, bands=bands)["acne"] == scan_words({"acne": 68.0})["acne"]


def test_the_overall_note_names_the_concern_that_holds_it_down():
    scores = {"acne": 40.0, "flek": 100.0, "wrinkle": 100.0}
    scores["overall"] = overall_of(scores, ("acne", "flek", "wrinkle"))
    note = overall_note(scores, ("acne", "flek", "wrinkle"), CONCERN_LABELS)
    assert "Acne (40)" in note and "not the mean 80" in note and "never more than 15 points" in note
    even = {"acne": 90.0, "flek": 95.0, "overall": 92.5}
    assert overall_note(even, ("acne", "flek"), CONCERN_LABELS) == ""


def test_no_overall_without_all_four_concerns(cal):
    m = metrics_with(acne=0.01)
    m["under_eye_contrast"] = None
    s = cal.display_scores(m)
    assert "panda_eye" not in s and "overall" not in s and "acne" in s


@pytest.mark.parametrize("score,word", [(95, "good"), (70, "good"), (69.9, "fair"), (50, "fair"), (49.9, "needs care")])
def test_words_follow_the_shared_bands(score, word):
    assert word_for(score) == word


def test_a_word_holds_until_the_score_leaves_the_noise_band_around_the_edge():
    assert word_for(68.0, previous="good", band=3.0) == "good"       # 2 below the edge: noise
    assert word_for(66.5, previous="good", band=3.0) == "fair"       # 3.5 below: a real change
    assert word_for(71.0, previous="fair", band=3.0) == "fair"
    assert word_for(74.0, previous="fair", band=3.0) == "good"
    assert word_for(40.0, previous="good", band=3.0) == "needs care"  # far past both edges


def test_legacy_scans_are_rescored_from_their_area_fractions(cal):
    legacy = {"area_fraction": {"acne": 0.001, "flek": 0.002, "wrinkle": 0.001, "panda_eye": 0.05},
              "acne_lesion_count": 3}
    s = cal.rescore_legacy(legacy)
    assert set(s) == {*CONCERNS, "overall"}
    worse = cal.rescore_legacy({**legacy, "area_fraction": {**legacy["area_fraction"], "acne": 0.08}})
    assert worse["acne"] < s["acne"]


def test_a_scan_without_measurements_cannot_be_rescored(cal):
    assert cal.rescore_legacy({"acne_lesion_count": 3}) is None


def test_the_version_changes_with_the_calibration_content():
    spec = {"concerns": {"acne": {"measure": "soft_fraction.acne", "transform": "linear",
                                  "knots": [[0, 100], [1, 0]]}}}
    a = parse_calibration(json.dumps(spec).encode())
    spec["concerns"]["acne"]["knots"] = [[0, 100], [2, 0]]
    b = parse_calibration(json.dumps(spec).encode())
    assert a.version != b.version


def test_non_numbers_in_metrics_are_ignored_not_scored():
    curve = ConcernCurve("soft_fraction.acne", "linear", ((0.0, 100.0), (1.0, 0.0)))
    cal = parse_calibration(json.dumps({"concerns": {"acne": {"measure": curve.measure, "transform": "linear",
                                                              "knots": [[0, 100], [1, 0]]}}}).encode())
    assert cal.display_scores({"soft_fraction": {"acne": "x"}}) == {}
    assert cal.display_scores({"soft_fraction": {"acne": float("nan")}}) == {}
    assert cal.display_scores({"soft_fraction": {"acne": True}}) == {}


def test_describe_names_the_raw_value_at_each_anchor(cal):
    rows = {r["concern"]: r for r in describe(cal)}
    assert set(rows) == set(SCORED)
    assert rows["acne"]["at"]["90"] < rows["acne"]["at"]["70"] < rows["acne"]["at"]["50"]
    assert rows["redness"]["unit"] == "%" and rows["redness"]["at"]["90"] < rows["redness"]["at"]["50"]


def test_more_red_skin_lowers_the_redness_score_and_leaves_overall_alone(cal):
    calm = cal.display_scores({**metrics_with(), "redness": {"share": 0.005, "version": redness.VERSION}})
    red = cal.display_scores({**metrics_with(), "redness": {"share": 0.30, "version": redness.VERSION}})
    assert calm["redness"] >= 90 and word_for(red["redness"]) != "good"
    assert red["overall"] == calm["overall"] == cal.display_scores(metrics_with())["overall"]


def test_a_stored_scan_with_redness_is_rescored_with_it_and_one_without_shows_none(cal):
    old = metrics_with(under_eye_contrast=8.0)
    assert "redness" not in cal.rescore_legacy(old)                       # not measured, never made up
    newer = cal.rescore_legacy({**old, "redness": {"share": 0.02, "version": redness.VERSION}})
    assert "redness" in newer and newer["overall"] == cal.rescore_legacy(old)["overall"]
    first_definition = cal.rescore_legacy({**old, "redness": {"share": 0.02}})      # redness version 1
    assert "redness" not in first_definition and first_definition["overall"] == newer["overall"]


def test_the_noise_bench_keeps_every_measurement_the_shipped_curves_read():
    """``bench/noise_band.py`` keeps each shot's raw measurements so curves can be refitted and shots
    re-scored offline (``--rescore``, ``bench/measure_candidates.py``): what it keeps must score a scan as
    the app scored it (the acne grade model reads blob counts, which it once left out)."""
    import importlib.util
    from pathlib import Path

    from skin_app.scan.analysis import analyze
    from skin_app.scan.calibration import load_calibration
    from tests.photos import astronaut_jpeg
    path = Path(__file__).resolve().parents[1] / "bench" / "noise_band.py"
    spec = importlib.util.spec_from_file_location("noise_band_bench", path)
    noise_band = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noise_band)
    result = analyze(astronaut_jpeg())
    assert load_calibration().display_scores(noise_band.raw_of(result.metrics)) == result.scores
