"""The acne grade model (training/grade_model.py): an ordinal logistic regression chosen by
cross-validation on the training photos, and how the app reads a grade from a scan's measurements."""
from __future__ import annotations

import json

import numpy as np
import pytest

from skin_app.scan.calibration import grade_probabilities, parse_calibration
from skin_app.training import grade_model as gm


def graded_photos(n_per_grade: int = 60, seed: int = 0):
    """Synthetic measurements where the lesion count carries the grade and the marked share is noise
    around it: a model that uses both must beat one that uses the share alone."""
    rng = np.random.default_rng(seed)
    grades = np.repeat([0, 1, 2, 3], n_per_grade)
    lesions = np.round(10 ** (0.6 + 0.45 * grades + rng.normal(0, 0.12, grades.size)))
    share = 10 ** (-2.4 + 0.3 * grades + rng.normal(0, 0.35, grades.size))
    metrics = [{"soft_fraction": {"acne": float(s)}, "area_fraction": {"acne": float(s)},
                "mean_probability": {"acne": float(s) / 2}, "acne_lesion_count": int(c), "acne_blob_count": int(c),
                "acne_lesions": {"by_size": {"small": int(c), "medium": 0, "large": 0}}}
               for s, c in zip(share, lesions)]
    return metrics, grades


def test_the_ordinal_model_orders_its_cuts_and_grades_separable_photos_well():
    metrics, grades = graded_photos()
    x = gm.feature_matrix(metrics, ("lesions",))
    model = gm.fit_ordinal(x, grades, ("lesions",), 0.01)
    assert model.cuts[0] < model.cuts[1] < model.cuts[2]
    assert model.weights[0] > 0                                   # more lesions, worse grade
    assert np.mean(model.predict(x) == grades) > 0.8


def test_grade_probabilities_sum_to_one_and_move_with_the_latent_value():
    p = grade_probabilities(np.array([-5.0, 0.5, 5.0]), [0.0, 1.0, 2.0])
    assert np.allclose(p.sum(1), 1.0)
    assert p[0].argmax() == 0 and p[2].argmax() == 3


FEW_SETS = (("soft_share",), ("soft_share", "lesions"))


def test_cross_validation_prefers_the_measurement_that_carries_the_grade():
    metrics, grades = graded_photos()
    model, table = gm.choose(metrics, grades, FEW_SETS, (0.1,))
    assert model.names == ("soft_share", "lesions")
    share_only = max(r["cv_accuracy"] for r in table if r["features"] == ["soft_share"])
    assert max(r["cv_accuracy"] for r in table) > share_only + 0.1
    assert any(r["method"].startswith("accuracy cut points") for r in table)    # the previous method competed


def test_quadratic_weighted_kappa_is_one_when_perfect_and_punishes_far_misses_more():
    truth = np.array([0, 1, 2, 3, 0, 1])
    assert gm.quadratic_weighted_kappa(truth, truth) == pytest.approx(1.0)
    near = gm.quadratic_weighted_kappa(truth, np.array([1, 1, 2, 3, 0, 1]))
    far = gm.quadratic_weighted_kappa(truth, np.array([3, 1, 2, 3, 0, 1]))
    assert 0 < far < near < 1


def test_a_scan_reads_its_acne_grade_through_the_shipped_format():
    metrics, grades = graded_photos()
    model, _ = gm.choose(metrics, grades, FEW_SETS, (0.1,))
    cuts = list(model.cuts)
    spec = {"concerns": {"acne": {"measure": "acne_grade_latent", "transform": "linear", **model.spec(),
                                  "knots": [[cuts[0] - 2, 100.0], [cuts[0] - 1, 90.0], [cuts[0], 70.0], [cuts[1], 50.0],
                                            [cuts[2], 30.0], [cuts[2] + 2, 0.0]]}}}
    cal = parse_calibration(json.dumps(spec).encode())
    severe = next(m for m, g in zip(metrics, grades) if g == 3 and model.predict(gm.feature_matrix([m], model.names))[0] == 3)
    reading = cal.acne_grade(severe)
    assert reading["grade"] == "very severe" and reading["grade_index"] == 3
    assert sum(reading["probabilities"].values()) == pytest.approx(1.0, abs=0.01)
    assert cal.concern_scores(severe)["acne"] < 30                      # very severe reads below 30
    assert cal.acne_grade({"soft_fraction": {"acne": 0.01}}) is None   # measurements missing: no grade
