"""Fitting the acne curve's grade boundaries (training/calibrate.py): the ordinal cut points and the
one-standard-error widening of the mild|moderate boundary; and the measurements the fit reads from its cache."""
from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from skin_app.training import calibrate
from skin_app.training.grade_model import ordinal_cuts, widen_first_cut


def accuracy(cuts, x, grades) -> float:
    return float(np.mean(np.searchsorted(np.array(cuts), x, side="right") == grades))


def overlapping_grades(seed: int = 0):
    rng = np.random.default_rng(seed)
    grades = np.repeat([0, 1, 2, 3], 100)
    return grades + rng.normal(0, 0.4, grades.size), grades


def test_ordinal_cuts_separate_four_grades_in_order():
    x, grades = overlapping_grades()
    cuts = ordinal_cuts(x, grades)
    assert len(cuts) == 3 and cuts[0] < cuts[1] < cuts[2]
    assert accuracy(cuts, x, grades) > 0.75


def test_the_mild_moderate_boundary_moves_up_within_one_standard_error_of_the_best_accuracy():
    x, grades = overlapping_grades()
    cuts = ordinal_cuts(x, grades)
    wider = widen_first_cut(x, grades, cuts)
    best = accuracy(cuts, x, grades)
    assert wider[0] > cuts[0] and wider[1:] == cuts[1:]
    assert accuracy(wider, x, grades) >= best - math.sqrt(best * (1 - best) / x.size)


def test_with_perfectly_separated_grades_the_widened_boundary_still_grades_every_photo_right():
    grades = np.repeat([0, 1, 2, 3], 50)
    x = grades + np.tile(np.linspace(0.0, 0.5, 50), 4)
    cuts = ordinal_cuts(x, grades)
    assert accuracy(widen_first_cut(x, grades, cuts), x, grades) == 1.0


def test_both_cuts_fall_between_two_groups_that_do_not_overlap():
    from skin_app.training.calibrate import smoothed_youden_cut, youden_cut
    pos, neg = np.array([30.0, 32.0, 35.0, 40.0]), np.array([10.0, 12.0, 15.0, 18.0])
    assert youden_cut(pos, neg) == 30.0                    # the first value with every photo on its side
    assert 18.0 < smoothed_youden_cut(pos, neg) < 30.0



def _cache_with(tmp_path, thresholds):
    from skin_app.scan.measure import MEASURE_VERSION
    record = {"dataset": "celebamask_mini", "name": "a", "split": "train", "labels": {}, "aligned": None,
              "letterboxed": None, "thresholds": thresholds}
    (tmp_path / f"w-m{MEASURE_VERSION}-mirror.jsonl").write_text(json.dumps(record) + "\n")


def test_measurements_cached_with_other_thresholds_are_refused_not_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(calibrate, "CACHE_DIR", tmp_path)
    seg = SimpleNamespace(version="w", thresholds={"acne": 0.65, "flek": 0.75})
    _cache_with(tmp_path, {"acne": 0.65, "flek": 0.7})           # the same weights, re-tuned thresholds
    with pytest.raises(SystemExit, match="other thresholds"):
        calibrate.collect(tmp_path / "no-data", seg)
    _cache_with(tmp_path, {"acne": 0.65, "flek": 0.75})
    assert [r["name"] for r in calibrate.collect(tmp_path / "no-data", seg)] == ["a"]
