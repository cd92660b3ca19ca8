"""The acne grade model: a proportional-odds (ordinal logistic) regression from the pipeline's own
measurements to the ACNE04 grades (mild, moderate, severe, very severe), chosen and fitted on the
training split only, inside ``calibrate``, so a retrained segmentation model refits it with the same
command.

Why this model: it is small and explainable (one weight per measurement, three cut points), it
respects the grades' order, and its latent severity ``eta = sum(weight x feature)`` has the grade
boundaries at the cut points, so the acne display score maps ``eta`` through knots at the cuts (70,
50, 30 stay the mild|moderate, moderate|severe, severe|very severe boundaries) and at the ordinary
faces' 90th percentile (90), as every other concern does.

Which measurements: candidate sets of the acne measurements (soft and thresholded marked share, mean
probability, lesion and blob counts, counts by lesion size) are compared by 5-fold cross-validated
grade accuracy on the training photos, with a few ridge penalties; the best set (ties: the smaller)
wins. ``python -m skin_app.training.grade_model --data ../shared/data --lesion-sizes`` prints the
expert circle sizes the lesion counter uses (``scoring.LESION_*``).
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# name -> (dotted measure in a scan's metrics, transform, offset): every feature is log10(value + offset)
FEATURES: dict[str, tuple[str, float]] = {
    "soft_share": ("soft_fraction.acne", 0.002),
    "area_share": ("area_fraction.acne", 0.002),
    "mean_probability": ("mean_probability.acne", 0.002),
    "lesions": ("acne_lesion_count", 1.0),
    "blobs": ("acne_blob_count", 1.0),
    "small": ("acne_lesions.by_size.small", 1.0),
    "medium": ("acne_lesions.by_size.medium", 1.0),
    "large": ("acne_lesions.by_size.large", 1.0),
}
CANDIDATE_SETS: tuple[tuple[str, ...], ...] = (
    ("soft_share",),
    ("soft_share", "lesions"),
    ("soft_share", "mean_probability"),
    ("soft_share", "lesions", "mean_probability"),
    ("soft_share", "area_share", "lesions", "blobs"),
    ("soft_share", "small", "medium", "large"),
    ("soft_share", "mean_probability", "small", "medium", "large"),
    tuple(FEATURES),
)
PENALTIES = (0.01, 0.1, 1.0)
FOLDS = 5


def feature_value(metrics: dict, name: str) -> float | None:
    from skin_app.scan.calibration import _lookup
    measure, offset = FEATURES[name]
    v = _lookup(metrics, measure)
    return None if v is None else math.log10(max(v, 0.0) + offset)


def feature_matrix(metrics: Sequence[dict], names: Sequence[str]) -> np.ndarray:
    rows = [[feature_value(m, n) for n in names] for m in metrics]
    if any(v is None for row in rows for v in row):
        raise KeyError(f"a record lacks one of {names}")
    return np.array(rows, float)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


@dataclass(frozen=True)
class OrdinalModel:
    names: tuple[str, ...]
    weights: tuple[float, ...]      # on the raw features (log10 values), so eta needs no standardising
    cuts: tuple[float, ...]
    penalty: float

    def eta(self, x: np.ndarray) -> np.ndarray:
        return x @ np.asarray(self.weights)

    def eta_of_nothing(self) -> float:
        """The latent value of a face with nothing marked and no lesion (every feature at log10(offset))."""
        return float(sum(w * math.log10(FEATURES[n][1]) for n, w in zip(self.names, self.weights)))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.cuts), self.eta(x), side="right")

    def spec(self) -> dict:
        """The acne curve's part of calibration.json (the knots are added by calibrate)."""
        return {"features": [{"measure": FEATURES[n][0], "transform": "log10", "offset": FEATURES[n][1],
                              "weight": round(w, 6)} for n, w in zip(self.names, self.weights)],
                "cuts": [round(c, 6) for c in self.cuts]}


def fit_ordinal(x: np.ndarray, y: np.ndarray, names: Sequence[str], penalty: float, n_grades: int = 4) -> OrdinalModel:
    """Maximum likelihood with a ridge penalty on the standardised weights (cuts unpenalised)."""
    from scipy.optimize import minimize
    mean, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mean) / sd
    d = z.shape[1]
    counts = np.bincount(y, minlength=n_grades)
    start_cuts = np.log(np.maximum(np.cumsum(counts)[:-1], 1) / np.maximum(len(y) - np.cumsum(counts)[:-1], 1))

    def unpack(theta):
        w = theta[:d]
        cuts = np.cumsum(np.concatenate([[theta[d]], np.exp(theta[d + 1:])]))
        return w, cuts

    n = len(y)
    rows = np.arange(n)

    def loss_and_grad(theta):
        """Negative mean log-likelihood + ridge, and its exact gradient (P(grade > k) = sigmoid(eta - cut_k))."""
        w, cuts = unpack(theta)
        eta = z @ w
        ext = np.concatenate([[-np.inf], cuts, [np.inf]])
        a = _sigmoid(eta - ext[y])            # P(grade > y - 1)
        b = _sigmoid(eta - ext[y + 1])        # P(grade > y)
        p = np.maximum(a - b, 1e-12)
        da, db = a * (1 - a), b * (1 - b)
        d_eta = (da - db) / p
        d_cut = np.zeros((n, len(cuts)))
        lower, upper = y - 1, y               # the cut below and above each photo's grade
        has_lower, has_upper = lower >= 0, upper < len(cuts)
        d_cut[rows[has_lower], lower[has_lower]] = -da[has_lower] / p[has_lower]
        d_cut[rows[has_upper], upper[has_upper]] = db[has_upper] / p[has_upper]
        g_w = -(z.T @ d_eta) / n + 2 * penalty * w / n
        g_c = -d_cut.sum(0) / n
        # cuts = cumsum(t0, exp(t1), exp(t2)): each raw parameter moves every cut from its own on
        g_t = np.array([g_c.sum()] + [g_c[i:].sum() * np.exp(theta[d + i]) for i in range(1, len(cuts))])
        value = -np.sum(np.log(p)) / n + penalty * float(w @ w) / n
        return value, np.concatenate([g_w, g_t])

    theta0 = np.concatenate([np.zeros(d), [start_cuts[0]], np.log(np.maximum(np.diff(start_cuts), 0.1))])
    res = minimize(loss_and_grad, theta0, jac=True, method="L-BFGS-B")
    w, cuts = unpack(res.x)
    raw_w = w / sd
    return OrdinalModel(tuple(names), tuple(float(v) for v in raw_w), tuple(float(c + raw_w @ mean) for c in cuts), penalty)


def ordinal_cuts(x: np.ndarray, grades: np.ndarray, n_grades: int = 4) -> list[float]:
    """Cut points c1 < c2 < c3 on x (higher x = worse) that classify the most photos correctly."""
    candidates = np.unique(np.quantile(x, np.linspace(0.01, 0.99, 99)))
    best: tuple[float, list[float]] = (-1.0, [])

    def acc(cuts):
        pred = np.searchsorted(np.array(cuts), x, side="right")
        return float(np.mean(pred == grades))
    # Coordinate ascent from quantile starting points (an exhaustive 3-cut search is 10^6 evaluations).
    shares = np.cumsum(np.bincount(grades, minlength=n_grades))[:-1] / len(grades)
    cuts = [float(np.quantile(x, s)) for s in shares]
    for _ in range(6):
        for i in range(len(cuts)):
            lo = cuts[i - 1] if i else -np.inf
            hi = cuts[i + 1] if i + 1 < len(cuts) else np.inf
            for c in candidates[(candidates > lo) & (candidates < hi)]:
                trial = cuts.copy()
                trial[i] = float(c)
                a = acc(trial)
                if a > best[0]:
                    best = (a, trial)
            cuts = best[1] or cuts
    return best[1]


def widen_first_cut(x: np.ndarray, grades: np.ndarray, cuts: list[float]) -> list[float]:
    """``cuts`` with the first (mild|moderate) moved as far up as the one-standard-error rule allows:
    any boundary whose training accuracy is within one standard error of the best is as good on
    this sample (CART's 1-SE rule), and the clear-face anchor sits below it, so the highest such one
    gives the flattest curve where most faces are and a re-shot moves their score least."""
    def acc(c: list[float]) -> float:
        return float(np.mean(np.searchsorted(np.array(c), x, side="right") == grades))
    best = acc(cuts)
    floor = best - math.sqrt(best * (1 - best) / max(len(x), 1))
    upper = cuts[1] if len(cuts) > 1 else np.inf
    candidates = np.unique(np.quantile(x, np.linspace(0.01, 0.99, 199)))
    ok = [float(c) for c in candidates if cuts[0] <= c < upper and acc([float(c), *cuts[1:]]) >= floor]
    return [max(ok, default=cuts[0]), *cuts[1:]]


def fit_cuts(x: np.ndarray, y: np.ndarray, names: Sequence[str], penalty: float = 0.0) -> OrdinalModel:
    """The previous release's acne model as a candidate: one feature (weight 1), cut points that grade
    the most training photos right, the mild|moderate one widened by the one-standard-error rule."""
    v = x[:, 0]
    return OrdinalModel(tuple(names[:1]), (1.0,), tuple(widen_first_cut(v, y, ordinal_cuts(v, y))), 0.0)


def cross_validated_accuracy(x: np.ndarray, y: np.ndarray, names: Sequence[str], penalty: float,
                             folds: int = FOLDS, seed: int = 0, fitter=fit_ordinal) -> float:
    """Stratified k-fold grade accuracy (each photo predicted by a model that never saw it)."""
    rng = np.random.default_rng(seed)
    fold_of = np.zeros(len(y), int)
    for g in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == g))
        fold_of[idx] = np.arange(len(idx)) % folds
    right = 0
    for f in range(folds):
        test = fold_of == f
        model = fitter(x[~test], y[~test], names, penalty)
        right += int((model.predict(x[test]) == y[test]).sum())
    return right / len(y)


def choose(metrics: Sequence[dict], grades: np.ndarray, candidate_sets: Sequence[Sequence[str]] = CANDIDATE_SETS,
           penalties: Sequence[float] = PENALTIES) -> tuple[OrdinalModel, list[dict]]:
    """The candidate set and penalty with the best cross-validated accuracy (ties: fewer features,
    then the stronger penalty), refitted on every training photo; with the table of all candidates."""
    x_soft = feature_matrix(metrics, ("soft_share",))
    table: list[dict[str, Any]] = [{"features": ["soft_share"], "penalty": None, "method": "accuracy cut points (previous release)",
              "cv_accuracy": round(cross_validated_accuracy(x_soft, grades, ("soft_share",), 0.0, fitter=fit_cuts), 4)}]
    for names, penalty in itertools.product(candidate_sets, penalties):
        x = feature_matrix(metrics, names)
        table.append({"features": list(names), "penalty": penalty, "method": "ordinal logistic regression",
                      "cv_accuracy": round(cross_validated_accuracy(x, grades, names, penalty), 4)})
    best = max(table, key=lambda r: (r["cv_accuracy"], -len(r["features"]), r["penalty"] or 0.0))
    x = feature_matrix(metrics, best["features"])
    model = (fit_cuts(x, grades, best["features"]) if best["penalty"] is None
             else fit_ordinal(x, grades, best["features"], best["penalty"]))
    return model, table


def quadratic_weighted_kappa(truth: np.ndarray, pred: np.ndarray, n: int = 4) -> float:
    observed = np.zeros((n, n))
    for t, p in zip(truth, pred):
        observed[t, p] += 1
    expected = np.outer(observed.sum(1), observed.sum(0)) / max(observed.sum(), 1)
    w = np.array([[(i - j) ** 2 for j in range(n)] for i in range(n)]) / (n - 1) ** 2
    denom = float((w * expected).sum())
    return 1.0 - float((w * observed).sum()) / denom if denom else 0.0


def lesion_sizes(data_root: Path) -> dict:
    """Expert circle sizes on the ACNE04 training split, as areas on the 384 px crop (512 -> 384)."""
    from skin_app.training.datasets import split_of
    ann = json.loads((data_root / "acne04v2_512" / "annotations_512.json").read_text())
    by_id = {im["id"]: im for im in ann["images"]}
    radii = np.array([a["radius"] for a in ann["annotations"]
                      if split_of("acne04v2_512", Path(by_id[a["image_id"]]["file_name"]).stem) == "train"])
    out: dict[str, Any] = {"circles": len(radii)}
    for p in (5, 50, 95):
        r = float(np.percentile(radii, p)) * 384 / 512
        out[f"p{p}"] = {"radius_px_384": round(r, 2), "area_px_384": round(math.pi * r * r, 1)}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--lesion-sizes", action="store_true", help="print the expert circle sizes")
    a = ap.parse_args(argv)
    if a.lesion_sizes:
        print(json.dumps(lesion_sizes(a.data), indent=1))


if __name__ == "__main__":
    main()
