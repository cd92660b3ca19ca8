"""Would other measurements of the acne map, or the map read at a higher resolution, grade ACNE04 photos
better (issue 19)? The grade model's own method (ordinal logistic regression, 5-fold cross-validation on
the training split) over features it does not use yet, with the validation split's accuracy beside each.

    python bench/acne_grade_features.py --data ../shared/data --size 384     # the app's input size
    python bench/acne_grade_features.py --data ../shared/data --size 512     # ACNE04's own resolution

Each ACNE04 photo is letterboxed to ``--size`` as ``calibrate`` measures it and goes through the shipped
model mirror-averaged (sizes other than the fast path's go through the Keras reference); the acne map and
the model's face skin are kept in ``--cache`` (not committed), so a second run only refits. Features, all
log10 as the grade model's: the share of skin above each probability level in ``LEVELS`` (a histogram of
the map, faint lesions included), the number of probability peaks above each level (a count that needs no
threshold), the mean probability, and the skin's size in pixels. The lesion counter of ``measure.py`` runs
on each map too, its sizes scaled by the area ratio, for the count error per grade.

Writes ``bench/results/acne_grade_features_<size>.json``; the choice stays with the training split (the
validation column is reported, never used to choose).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import cv2  # noqa: E402
import numpy as np  # noqa: E402

LEVELS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7)
PENALTIES = (0.01, 1.0, 10.0)


def candidate_sets() -> list[tuple[str, ...]]:
    shares = tuple(f"share{t}" for t in LEVELS)
    peaks = tuple(f"peaks{t}" for t in LEVELS)
    return [("share0.5",), ("share0.3",), ("share0.2",), ("share0.1",), ("mean_probability",),
            ("peaks0.3",), ("peaks0.2",), ("peaks0.1",), ("share0.5", "peaks0.3"), ("share0.3", "peaks0.2"),
            ("share0.2", "peaks0.1"), ("share0.1", "share0.5"), shares, peaks, shares + peaks,
            shares + peaks + ("skin_px",), ("share0.2", "peaks0.2", "skin_px")]


def acne_map(seg, image: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(acne probability, model face skin) of the photo letterboxed to ``size``, mirror-averaged."""
    from skin_app.scan.measure import face_skin_area
    from skin_app.training.pack import letterbox_with_transform
    boxed, _, _ = letterbox_with_transform(image, {}, size)
    p = seg.predict(boxed, flip_average=True)
    th = seg.thresholds
    skin, _ = face_skin_area(p[..., 0] > th["face_skin"], p[..., 1] > th["eye"], None, None)
    return p[..., 2], skin


def features(p: np.ndarray, skin: np.ndarray) -> dict[str, float]:
    from skimage.feature import peak_local_max
    n = max(int(skin.sum()), 1)
    out: dict[str, float] = {"skin_px": float(n), "mean_probability": float(p[skin].sum()) / n}
    for t in LEVELS:
        out[f"share{t}"] = float((p[skin] > t).sum()) / n
    smooth = cv2.GaussianBlur(p.astype(np.float32), (0, 0), 1.0)
    at = peak_local_max(np.where(skin, smooth, 0), min_distance=2, threshold_abs=LEVELS[0], exclude_border=False)
    heights = smooth[at[:, 0], at[:, 1]]
    for t in LEVELS:
        out[f"peaks{t}"] = float((heights > t).sum())
    return out


def lesion_count(p: np.ndarray, skin: np.ndarray, threshold: float, size: int) -> int:
    from skin_app.scan.measure import LESION_MIN_PX, LESION_PEAK_DISTANCE, find_lesions
    from skin_app.scan.segmentation import INPUT_SIZE
    area = (size / INPUT_SIZE) ** 2
    return find_lesions(p, (p > threshold) & skin, min_px=max(1, round(LESION_MIN_PX * area)),
                        min_distance=max(1, round(LESION_PEAK_DISTANCE * math.sqrt(area)))).count


def graded_photos(data: Path):
    """(sample, labels) of every ACNE04 photo with a grade: what both acne-grade benches read."""
    from skin_app.training.calibrate import labels_of
    from skin_app.training.datasets import iter_samples
    for s in iter_samples(data, ["acne04v2_512"]):
        labels = labels_of(s)
        if labels.get("grade") is not None:
            yield s, labels


def matrix(rows: list[dict], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[math.log10(r[n] + (1.0 if n.startswith("peaks") or n == "skin_px" else 0.002))
                      for n in names] for r in rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "acne_grade_features")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    from skin_app.scan.segmentation import load_segmenter
    from skin_app.training.grade_model import cross_validated_accuracy, fit_ordinal, quadratic_weighted_kappa
    seg = load_segmenter()
    cache = a.cache / f"{seg.version}-{a.size}"
    cache.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for s, labels in graded_photos(a.data):
        f = cache / f"{s.name}.npz"
        if not f.exists():
            p, skin = acne_map(seg, s.image, a.size)
            np.savez_compressed(f, acne=np.round(p * 255).astype(np.uint8), skin=skin)
        z = np.load(f)
        p, skin = z["acne"].astype(np.float32) / 255, z["skin"].astype(bool)
        rows.append({"split": s.split, "grade": int(labels["grade"]), "lesions": int(labels["lesions"]),
                     "count": lesion_count(p, skin, seg.thresholds["acne"], a.size), **features(p, skin)})
    train = [r for r in rows if r["split"] == "train"]
    val = [r for r in rows if r["split"] == "val"]
    y_train, y_val = np.array([r["grade"] for r in train]), np.array([r["grade"] for r in val])
    table: list[dict[str, Any]] = []
    for names in candidate_sets():
        for penalty in PENALTIES:
            model = fit_ordinal(matrix(train, names), y_train, names, penalty)
            pred = model.predict(matrix(val, names))
            table.append({"features": list(names), "penalty": penalty,
                          "cv_accuracy": round(cross_validated_accuracy(matrix(train, names), y_train, names, penalty), 4),
                          "val_accuracy": round(float(np.mean(pred == y_val)), 4),
                          "val_kappa": round(quadratic_weighted_kappa(y_val, pred), 4)})
    table.sort(key=lambda r: (-r["cv_accuracy"], len(r["features"])))
    count_error = {str(g): round(float(np.mean([abs(r["count"] - r["lesions"]) for r in val if r["grade"] == g])), 1)
                   for g in sorted(set(y_val.tolist()))}
    result = {"size": a.size, "weights": seg.version, "photos": {"train": len(train), "val": len(val)},
              "chosen_by_cv": table[0], "candidates": table,
              "val_count_mae": round(float(np.mean([abs(r["count"] - r["lesions"]) for r in val])), 1),
              "val_count_mae_by_grade": count_error}
    out = a.out or ROOT / "bench" / "results" / f"acne_grade_features_{a.size}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    for r in table[:8]:
        print(f"cv {r['cv_accuracy']:.3f}  val {r['val_accuracy']:.3f}  kappa {r['val_kappa']:.3f}  "
              f"ridge {r['penalty']:<5g} {', '.join(r['features'])}", file=sys.stderr)
    print(f"count MAE (val) {result['val_count_mae']} by grade {count_error}", file=sys.stderr)


if __name__ == "__main__":
    main()
