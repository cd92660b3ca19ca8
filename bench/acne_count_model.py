"""Would a count fitted to the experts' counts be closer than the lesion counter's own (issue 19)?

The counter finds lesions on the acne map; it under-counts dense faces (touching lesions merge, faint ones
are not marked). A fitted count could correct that bias: log(1 + the experts' count) by least squares on
log10 of the measurements a scan already has (soft and thresholded acne share, lesion and blob counts,
lesions by size), chosen by 5-fold cross-validated MAE on the ACNE04 training split, then the validation
split's MAE beside the counter's, overall and per grade.

    python bench/acne_count_model.py --data ../shared/data

Photos are measured letterboxed by ``calibrate``'s own code and cache (``runs/calibration/``), so after a
``calibrate`` run this only refits. Writes ``bench/results/acne_count_model.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import numpy as np  # noqa: E402

# Names of the grade model's features (``grade_model.FEATURES``: the measure and its log10 offset).
MEASURES = ("soft_share", "area_share", "lesions", "blobs", "small", "medium", "large")
CANDIDATES = (("soft_share",), ("lesions",), ("soft_share", "lesions"), ("soft_share", "area_share", "lesions", "blobs"),
              MEASURES)
RIDGE = 1e-3
FOLDS = 5


def fit(x: np.ndarray, lesions: np.ndarray) -> np.ndarray:
    a = np.c_[np.ones(len(x)), x]
    return np.linalg.solve(a.T @ a + RIDGE * np.eye(a.shape[1]), a.T @ np.log1p(lesions))


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.maximum(np.round(np.expm1(np.c_[np.ones(len(x)), x] @ w)), 0)


def cv_mae(x: np.ndarray, lesions: np.ndarray) -> float:
    order = np.random.default_rng(0).permutation(len(x))
    errors = []
    for k in range(FOLDS):
        test = order[k::FOLDS]
        rest = np.setdiff1d(order, test)
        errors += list(np.abs(predict(fit(x[rest], lesions[rest]), x[test]) - lesions[test]))
    return float(np.mean(errors))


def by_grade(pred: np.ndarray, truth: np.ndarray, grades: np.ndarray) -> dict[str, float]:
    from skin_app.concerns import ACNE_GRADES
    return {ACNE_GRADES[k]: round(float(np.mean(np.abs(pred[grades == k] - truth[grades == k]))), 1)
            for k in range(4) if (grades == k).any()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "acne_count_model.json")
    a = ap.parse_args()
    from skin_app.scan.segmentation import load_segmenter
    from skin_app.training.calibrate import collect
    from skin_app.training.grade_model import feature_matrix
    seg = load_segmenter()
    rows = [r for r in collect(a.data, seg, datasets=("acne04v2_512",), log=lambda m: print(m, file=sys.stderr))
            if r["letterboxed"] and r["labels"].get("lesions") is not None]
    x_all = dict(zip(MEASURES, feature_matrix([r["letterboxed"] for r in rows], MEASURES).T))
    truth = np.array([r["labels"]["lesions"] for r in rows], float)
    grades = np.array([r["labels"]["grade"] for r in rows])
    counter = np.array([r["letterboxed"]["acne_lesion_count"] for r in rows], float)
    train = np.array([r["split"] == "train" for r in rows])
    val = ~train
    table: list[dict[str, Any]] = []
    for names in CANDIDATES:
        x = np.stack([x_all[n] for n in names], 1)
        pred = predict(fit(x[train], truth[train]), x[val])
        table.append({"measures": list(names), "cv_mae": round(cv_mae(x[train], truth[train]), 2),
                      "val_mae": round(float(np.mean(np.abs(pred - truth[val]))), 2),
                      "val_mae_by_grade": by_grade(pred, truth[val], grades[val])})
    table.sort(key=lambda r: r["cv_mae"])
    result: dict[str, Any] = {"weights": seg.version, "photos": {"train": int(train.sum()), "val": int(val.sum())},
              "counter": {"train_mae": round(float(np.mean(np.abs(counter[train] - truth[train]))), 2),
                          "val_mae": round(float(np.mean(np.abs(counter[val] - truth[val]))), 2),
                          "val_mae_by_grade": by_grade(counter[val], truth[val], grades[val])},
              "chosen_by_cv": table[0], "candidates": table}
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"counter: val MAE {result['counter']['val_mae']} {result['counter']['val_mae_by_grade']}", file=sys.stderr)
    for r in table:
        print(f"cv {r['cv_mae']:.2f}  val {r['val_mae']:.2f} {r['val_mae_by_grade']}  {', '.join(r['measures'])}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
