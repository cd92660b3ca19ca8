"""Fits the display-score calibration (``models/calibration.json``) on the TRAINING split.

    python -m skin_app.training.calibrate --data ../shared/data --out models/calibration.json

Step 1 measures every reference photo exactly as the app does (``analysis.measure_aligned`` on the
face-mesh-aligned crop, mirror-averaged) and, for photos without a usable face mesh (close-ups,
letterboxed clinical photos), on the letterboxed photo with the model's own face skin
(``measure_photo``). Measurements are cached per model version under ``runs/calibration/`` so a
re-fit is instant; a new model version measures again.

Step 2 fits one monotone curve per concern (``fit``), each anchored on graded references:

* acne (``acne_grade_latent``): the grade model (``grade_model.py``): an ordinal logistic regression
  from the acne measurements (marked share, mean probability, lesion counts, counts by size; the set
  and its ridge penalty chosen by 5-fold cross-validated grade accuracy on the ACNE04 training photos,
  the previous release's accuracy cut points on the marked share competing too) to ACNE04's
  dermatologist grades. Its latent severity maps to the score through knots at the grade boundaries
  mild|moderate, moderate|severe and severe|very severe (70, 50, 30) and at the 90th percentile of
  ordinary faces (CelebAMask, FASSEG: 90), so a clear face reads 90 or better.
* dark circles (an index: ``under_eye_contrast``, cheek L* - under-eye L*, plus the model's mean
  dark-circle probability over the eye area, weighted by the ratio of their spreads over ordinary
  faces; the mean probability moves less between re-shots than the soft share, 5.7 against 6.6
  points at p95, and separates better, AUC 0.944 against 0.931; bench/measure_candidates.py):
  gjain photos with and without hand-marked dark circles: 90 at the 75th percentile of photos
  without, 70 at the index that best separates the two (Youden), 50 at the median of photos with.
* wrinkles (``soft_fraction.wrinkle``): gjain photos by hand-drawn wrinkle share: 90 at the 90th
  percentile of ordinary faces, 50 at the median of the quarter of gjain photos with the most drawn
  wrinkle pixels, 70 half-way (in log units).
* dark spots (``soft_fraction.flek``): no graded references exist, so the curve is relative to
  ordinary faces: 90 at their median, 70 at their 90th percentile, 50 as far again beyond.
* redness (``redness.share``, from colour, ``skin_app.scan.redness``): 90 at the 90th percentile of
  ordinary faces; 50 at the median of the gjain close-ups with hand-drawn rosacea; 70 half-way (in log
  units), as for wrinkles. (The share that best separates the rosacea close-ups from the other
  close-ups, Youden, fell at or below the ordinary faces' 90th percentile: close-ups read differently
  from whole faces, and a 70 placed there made the curve a cliff where a 1 % share change moved the
  score 20 points.) The curve reads only shares of the definition it was fitted on (``requires``).

Redness alone can be re-fitted into an existing calibration, every other curve left as it is:

    python -m skin_app.training.calibrate --data ../shared/data --only redness

(measures only the photos the redness curve needs: ordinary faces and the gjain close-ups).

Step 3 (``report``) prints what the fitted curves do on the VALIDATION split (grade accuracy,
Spearman, medians per grade, dark-circle AUC, Overall's correlation with each concern).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from skin_app.concerns import ACNE_GRADES, COLOUR_CONCERNS, CONCERNS
from skin_app.scan import redness
from skin_app.training.datasets import POS, iter_samples

CACHE_DIR = Path("runs") / "calibration"
DEFAULT_LIMITS = {"celebamask_mini": 150, "javad71_wrinkle_boxes": 60}
# Clinical close-ups and side views are measured letterboxed (the app's face mesh rarely aligns them);
# the other sets are faces measured as the app does, letterboxed only when no face mesh is found.
LETTERBOXED = ("acne04v2_512", "gjain_freckle_acne", "darkcircle_boxes")
DATASETS = ("acne04v2_512", "gjain_wrinkle_darkcircle", "gjain_freckle_acne", "darkcircle_boxes",
            "celebamask_mini", "fasseg_frontal02", "javad71_wrinkle_boxes")
ORDINARY = ("celebamask_mini", "fasseg_frontal02")      # faces without labelled concerns
GRADE_SCORES = (70.0, 50.0, 30.0)                        # the score at each ACNE04 grade boundary
LOG_OFFSET = 0.002     # log10(share + 0.2 % of the skin): below that, shares are within re-shot noise
DARK_CIRCLE_MARKS = "mean_probability.panda_eye"   # the model's part of the dark-circle index
REDNESS = "redness.share"
ROSACEA_MIN_SHARE = 0.02      # class 4 covering more than this of a gjain close-up: hand-drawn rosacea
# (below it, class 4 is only the resize artefact ringing acne and freckle blobs)
REDNESS_DATASETS = ("gjain_freckle_acne", *ORDINARY)


def acne_grade(name: str) -> int | None:
    """ACNE04 file names start ``levleG_`` with G the severity grade 0-3."""
    if name.startswith("levle") and name[5:6].isdigit():
        return int(name[5])
    return None


def labels_of(sample) -> dict:
    """What each reference photo's labels say, in the terms the fit needs."""
    out: dict = {}
    if sample.dataset == "acne04v2_512":
        out["grade"] = acne_grade(sample.name)
        out["lesions"] = int(len(sample.points)) if sample.points is not None else None
    if sample.dataset == "gjain_wrinkle_darkcircle":
        out["dark_circles"] = bool((sample.codes["panda_eye"] == POS).any())
        known = sample.codes["wrinkle"] != 255
        out["wrinkle_share"] = float((sample.codes["wrinkle"] == POS).sum()) / max(int(known.sum()), 1)
    if sample.dataset == "gjain_freckle_acne" and "flek" in sample.codes:
        out["freckle_px_share"] = float((sample.codes["flek"] == POS).sum()) / sample.codes["flek"].size
    if sample.dataset == "gjain_freckle_acne" and sample.rosacea is not None:
        out["rosacea"] = bool(sample.rosacea.mean() > ROSACEA_MIN_SHARE)
    if sample.dataset in ("javad71_wrinkle_boxes", "darkcircle_boxes"):
        out["box_classes"] = [int(c) for _, c, _ in sample.boxes]
    return out


def measure_photo(seg, image: np.ndarray, letterboxed_only: bool = False,
                  flip_average: bool = True) -> tuple[dict | None, dict | None]:
    """(metrics on the aligned crop or None when no face mesh is found or asked for, metrics on the
    letterboxed photo with the model's own face skin, or None when the aligned crop was measured).

    Mirror-averaged by default, as the app measures: curves fitted on single-pass measurements
    graded the validation photos differently once the app averaged (ACNE04 grade accuracy 0.750 in
    the fit's report, 0.742 measured as the app), so the fit pays the second pass."""
    from skin_app.scan import face as face_mod
    from skin_app.scan.analysis import measure_aligned, probabilities_of
    from skin_app.scan.measure import measure
    from skin_app.scan.segmentation import INPUT_SIZE
    from skin_app.training.pack import letterbox_with_transform
    aligned_metrics = None
    faces = [] if letterboxed_only else face_mod.find_faces(image)
    if faces:
        aligned = face_mod.align_and_crop(image, faces[0], INPUT_SIZE)
        _, _, m = measure_aligned(seg, aligned, flip_average)
        aligned_metrics = m.metrics
        aligned_metrics["pose"] = [round(v, 1) for v in faces[0].pose()]
        return aligned_metrics, None
    boxed, _, _ = letterbox_with_transform(image, {}, INPUT_SIZE)
    lb = measure(probabilities_of(seg, boxed, flip_average), seg.thresholds, boxed).metrics
    return aligned_metrics, lb


def collect(data: Path, seg, datasets=DATASETS, limits: dict | None = None, log=print) -> list[dict]:
    """Measures every reference photo (both splits), appending to a per-model-version cache."""
    limits = DEFAULT_LIMITS if limits is None else limits
    from skin_app.scan.measure import MEASURE_VERSION
    cache = CACHE_DIR / f"{seg.version}-m{MEASURE_VERSION}-mirror.jsonl"
    cache.parent.mkdir(parents=True, exist_ok=True)
    records = {}
    if cache.exists():
        for line in cache.read_text().splitlines():
            r = json.loads(line)
            if r.get("thresholds", seg.thresholds) != seg.thresholds:
                # The cache is named by the weights, and the thresholds shape every share it holds.
                raise SystemExit(f"{cache} was measured with other thresholds ({r['thresholds']}, now "
                                 f"{seg.thresholds}); move it aside and run again")
            records[(r["dataset"], r["name"])] = r
    counts: dict[tuple[str, str], int] = {}
    with cache.open("a") as out:
        for s in iter_samples(data, list(datasets)):
            key = (s.dataset, s.split)
            if limits.get(s.dataset) and counts.get(key, 0) >= limits[s.dataset] * (0.4 if s.split == "val" else 1):
                continue
            counts[key] = counts.get(key, 0) + 1
            if (s.dataset, s.name) in records:
                continue
            aligned, letterboxed = measure_photo(seg, s.image, s.dataset in LETTERBOXED)
            r = {"dataset": s.dataset, "name": s.name, "split": s.split, "labels": labels_of(s),
                 "aligned": aligned, "letterboxed": letterboxed, "thresholds": dict(seg.thresholds)}
            records[(s.dataset, s.name)] = r
            out.write(json.dumps(r) + "\n")
            out.flush()
            if len(records) % 50 == 0:
                log(f"measured {len(records)} photos")
    return list(records.values())


# -- fitting ----------------------------------------------------------------------------------------
def metrics_of(r: dict) -> dict:
    """The app's measurements where a face mesh was found, else the letterboxed photo's."""
    return r["aligned"] or r["letterboxed"]


def value(r: dict, dotted: str, prefer: str = "auto") -> float | None:
    from skin_app.scan.calibration import _lookup
    m = r["letterboxed"] if prefer == "letterboxed" else metrics_of(r)
    return _lookup(m, dotted) if m else None


def measured(r: dict, dotted: str, prefer: str = "auto") -> float:
    """``value`` of a measure every record of its kind holds; a record without it is a bug upstream."""
    v = value(r, dotted, prefer)
    if v is None:
        raise KeyError(f"{r.get('dataset')} record has no {dotted} ({prefer})")
    return v


def log_x(v: float) -> float:
    return math.log10(max(v, 0.0) + LOG_OFFSET)


def dark_circle_index_of_labelled(train: list[dict], terms: dict) -> tuple[np.ndarray, np.ndarray]:
    """The dark-circle index (``terms``) of the gjain training photos with and without hand-marked dark
    circles: what the scale's 70 and 50 are placed on."""
    from skin_app.scan.calibration import ConcernCurve
    index = ConcernCurve("dark_circle_index", "linear", ((0.0, 100.0), (1.0, 0.0)), terms=tuple(terms.items()))
    dc = [r for r in train if r["dataset"] == "gjain_wrinkle_darkcircle" and r["aligned"]
          and index.raw(r["aligned"]) is not None]
    pos = np.array([index.raw(r["aligned"]) for r in dc if r["labels"]["dark_circles"]])
    neg = np.array([index.raw(r["aligned"]) for r in dc if not r["labels"]["dark_circles"]])
    return pos, neg


def youden_curve(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(every photo value as a candidate cut, ascending; Youden's J at each: share of ``pos`` at or above
    it minus share of ``neg`` at or above it)."""
    cuts = np.sort(np.concatenate([pos, neg]))
    return cuts, np.array([np.mean(pos >= t) - np.mean(neg >= t) for t in cuts])


def youden_cut(pos: np.ndarray, neg: np.ndarray) -> float:
    """The photo value that best separates two groups (Youden's J, the first of equal bests): the cut the
    curves use. With about 100 photos its top is flat, so one or two photos place it
    (bench/dark_circle_anchor.py measures how far it moves)."""
    cuts, j = youden_curve(pos, neg)
    return float(cuts[int(np.argmax(j))])


def smoothed_youden_cut(pos: np.ndarray, neg: np.ndarray, points: int = 2001) -> float:
    """Youden's J between the two groups' kernel-smoothed distributions (Gaussian kernels, Silverman's
    bandwidth each). On the dark-circle photos its cut moved about half as far as ``youden_cut``'s over
    bootstrap draws (bench/dark_circle_anchor.py); not on every pair of groups (two synthetic normal groups
    of the same sizes gave either), so it is measured beside the curves' cut, not used by them."""
    from scipy.special import erfc

    def survival(x: np.ndarray, t: np.ndarray) -> np.ndarray:
        h = 1.06 * np.std(x) * len(x) ** -0.2
        return 0.5 * erfc((t[:, None] - x[None, :]) / (h * np.sqrt(2))).mean(axis=1)
    grid = np.linspace(min(pos.min(), neg.min()), max(pos.max(), neg.max()), points)
    return float(grid[np.argmax(survival(pos, grid) - survival(neg, grid))])


def _knots(points: list[tuple[float, float]], x100: float | None = None) -> list[list[float]]:
    """Monotone knots (x ascending, score descending) through the anchor points, extended linearly at
    both ends to 100 and 0 with the neighbouring segment's slope; ``x100``: where 100 is instead (for
    shares: nothing marked at all, so the clear faces between there and the 90 anchor, whose tiny
    marks come and go between re-shots, spread over a gentle slope)."""
    pts = sorted(points)
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    for i in range(1, len(xs)):            # enforce strict monotonicity
        if xs[i] <= xs[i - 1]:
            xs[i] = xs[i - 1] + 1e-3
        if ys[i] >= ys[i - 1]:
            raise ValueError(f"anchors are not monotone: {pts}")
    first = (ys[1] - ys[0]) / (xs[1] - xs[0])
    last = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    if x100 is None or x100 >= xs[0]:
        x100 = xs[0] + (100 - ys[0]) / first
    x0 = xs[-1] + (0 - ys[-1]) / last
    return [[round(x100, 5), 100.0]] + [[round(x, 5), y] for x, y in zip(xs, ys)] + [[round(x0, 5), 0.0]]


def fit(records: list[dict]) -> dict:
    train = [r for r in records if r["split"] == "train"]
    ordinary = [r for r in train if r["dataset"] in ORDINARY and r["aligned"]]
    why: dict[str, dict] = {}
    concerns: dict[str, dict] = {}

    def ordinary_p90(measure: str) -> float:
        return float(np.quantile([log_x(measured(r, measure)) for r in ordinary], 0.9))

    # Acne: the grade model (training/grade_model.py) over the ACNE04 training photos' measurements
    # (letterboxed: most are clinical side views the mesh does not align), chosen by cross-validation.
    from skin_app.training.grade_model import choose, feature_matrix
    acne = [r for r in train if r["dataset"] == "acne04v2_512" and r["labels"].get("grade") is not None]
    grades = np.array([r["labels"]["grade"] for r in acne])
    model, candidates = choose([r["letterboxed"] for r in acne], grades)
    def latent(m: dict) -> float:
        return float(model.eta(feature_matrix([m], model.names))[0])
    cuts = list(model.cuts)
    x90 = float(np.quantile([latent(r["aligned"]) for r in ordinary], 0.9))
    if x90 >= cuts[0]:
        x90 = cuts[0] - 0.1
    concerns["acne"] = {"measure": "acne_grade_latent", "transform": "linear", **model.spec(),
                        "knots": _knots([(x90, 90.0)] + list(zip(cuts, GRADE_SCORES)), model.eta_of_nothing())}
    counts = np.array([measured(r, "acne_lesion_count", "letterboxed") for r in acne])
    truth = np.array([r["labels"]["lesions"] for r in acne])
    concerns["acne"]["count_error"] = round(float(np.median(np.abs(counts - truth) / np.maximum(truth, 1))), 3)
    cv = max(r["cv_accuracy"] for r in candidates)
    why["acne"] = {"model": f"ordinal logistic regression on {', '.join(model.names)} (log10), ridge {model.penalty:g}, "
                            f"chosen among {len(candidates)} candidates by 5-fold cross-validated grade accuracy "
                            f"({cv:.3f}) on {len(acne)} ACNE04 training photos",
                   "90": f"90th percentile of {len(ordinary)} ordinary training faces",
                   "70/50/30": "the model's grade boundaries mild|moderate|severe|very severe",
                   "count_error": "median relative error of the lesion count against the experts' circles on the same "
                                  "training photos (the range shown beside a count)",
                   "candidates": candidates}

    # Dark circles: the under-eye-to-cheek contrast plus the model's mean dark-circle probability over the eye
    # area, each weighted by its spread over ordinary faces (so neither dominates; no labels used),
    # anchored on gjain photos with / without hand-marked dark circles.
    contrast = np.array([value(r, "under_eye_contrast") for r in ordinary if value(r, "under_eye_contrast") is not None])
    share = np.array([value(r, DARK_CIRCLE_MARKS) for r in ordinary if value(r, DARK_CIRCLE_MARKS) is not None])
    iqr = lambda v: float(np.subtract(*np.percentile(v, [75, 25])))  # noqa: E731
    terms = {"under_eye_contrast": 1.0, DARK_CIRCLE_MARKS: round(iqr(contrast) / iqr(share), 4)}
    pos, neg = dark_circle_index_of_labelled(train, terms)
    youden = youden_cut(pos, neg)
    x90, x50 = float(np.quantile(neg, 0.75)), float(np.median(pos))
    x70 = float(np.clip(youden, x90 + 0.01, x50 - 0.01))
    concerns["panda_eye"] = {"measure": "dark_circle_index", "terms": terms, "transform": "linear",
                             "knots": _knots([(x90, 90.0), (x70, 70.0), (x50, 50.0)])}
    why["panda_eye"] = {"index": f"contrast + {terms[DARK_CIRCLE_MARKS]:g} x mean dark-circle probability (the ratio of "
                                 f"their interquartile ranges over {len(ordinary)} ordinary training faces)",
                        "90": f"75th percentile of {len(neg)} gjain training photos without marked dark circles",
                        "70": "the index value that best separates photos with and without (Youden)",
                        "50": f"median of {len(pos)} gjain training photos with marked dark circles"}

    # Wrinkles: gjain photos by drawn wrinkle share.
    wr = [r for r in train if r["dataset"] == "gjain_wrinkle_darkcircle"]
    shares = np.array([r["labels"]["wrinkle_share"] for r in wr])
    top = [r for r, s in zip(wr, shares) if s >= np.quantile(shares, 0.75)]
    x90 = ordinary_p90("soft_fraction.wrinkle")
    x50 = float(np.median([log_x(measured(r, "soft_fraction.wrinkle")) for r in top]))
    concerns["wrinkle"] = {"measure": "soft_fraction.wrinkle", "transform": "log10", "offset": LOG_OFFSET,
                           "knots": _knots([(x90, 90.0), ((x90 + x50) / 2, 70.0), (x50, 50.0)], log_x(0.0))}
    why["wrinkle"] = {"90": f"90th percentile of {len(ordinary)} ordinary training faces",
                      "50": f"median of the {len(top)} gjain training photos with the most drawn wrinkles",
                      "70": "half-way (log units)"}

    # Dark spots: no graded references exist, and the freckle close-ups (partly labelled) are not marked
    # more than ordinary faces, so the curve is relative to ordinary faces: 90 at their median, 70 at
    # their 90th percentile, 50 as far again beyond (the same slope).
    flek = np.array([log_x(measured(r, "soft_fraction.flek")) for r in ordinary])
    x90, x70 = float(np.median(flek)), float(np.quantile(flek, 0.9))
    concerns["flek"] = {"measure": "soft_fraction.flek", "transform": "log10", "offset": LOG_OFFSET,
                        "knots": _knots([(x90, 90.0), (x70, 70.0), (2 * x70 - x90, 50.0)], log_x(0.0))}
    why["flek"] = {"90": f"median of {len(ordinary)} ordinary training faces",
                   "70": "their 90th percentile (more marked dark spots than 9 in 10 ordinary faces)",
                   "50": "as far again beyond (no graded dark-spot references exist; the partly labelled "
                         "freckle close-ups are not marked more than ordinary faces, so no anchor comes from them)"}

    concerns["redness"], why["redness"] = fit_redness(train)
    legacy = fit_legacy(train, concerns)
    return {"fitted_on": "training split", "concerns": concerns, "legacy": legacy, "why": why,
            "n_train_photos": len(train)}


def fit_redness(train: list[dict]) -> tuple[dict, dict]:
    """The redness curve (spec, why) from training records: ordinary faces for 90, gjain close-ups with
    and without hand-drawn rosacea for 70 (Youden) and 50 (median of those with)."""
    ordinary = [r for r in train if r["dataset"] in ORDINARY and r["aligned"] and value(r, REDNESS) is not None]
    closeups = [r for r in train if r["dataset"] == "gjain_freckle_acne" and "rosacea" in r["labels"]
                and value(r, REDNESS) is not None]
    pos = np.array([log_x(measured(r, REDNESS)) for r in closeups if r["labels"]["rosacea"]])
    neg = np.array([log_x(measured(r, REDNESS)) for r in closeups if not r["labels"]["rosacea"]])
    if len(ordinary) < 10 or len(pos) < 3 or len(neg) < 3:
        raise ValueError(f"too few training photos measured for redness ({len(ordinary)} ordinary faces, "
                         f"{len(pos)} rosacea and {len(neg)} other close-ups)")
    x90 = float(np.quantile([log_x(measured(r, REDNESS)) for r in ordinary], 0.9))
    x50 = float(np.median(pos))
    youden = youden_cut(pos, neg)
    x70 = (x90 + x50) / 2
    spec = {"measure": REDNESS, "transform": "log10", "offset": LOG_OFFSET,
            "knots": _knots([(x90, 90.0), (x70, 70.0), (x50, 50.0)], log_x(0.0)),
            "requires": {"redness.version": redness.VERSION}}
    why = {"90": f"90th percentile of {len(ordinary)} ordinary training faces",
           "70": f"half-way (in log units) between the 90 and the 50; the share that best separates {len(pos)} gjain training "
                 f"close-ups with hand-drawn rosacea from {len(neg)} without (Youden) lies at "
                 f"{10 ** youden - LOG_OFFSET:.3f}, close-ups read differently from whole faces",
           "50": f"median of the {len(pos)} rosacea training close-ups"}
    return spec, why


def fit_legacy(train: list[dict], concerns: dict) -> dict:
    """Curves on the thresholded ``area_fraction`` that earlier versions stored, by quantile matching:
    each knot moves to the area fraction at the same quantile of the training photos as the knot's
    measure. Used only to re-score scans stored before the calibration existed."""
    from skin_app.scan.calibration import _curves
    curves = _curves({c: spec for c, spec in concerns.items() if c not in COLOUR_CONCERNS})
    out = {}
    for concern, curve in curves.items():       # earlier versions stored no colour measures
        pairs: list[tuple[float, float]] = []
        for r in train:
            a = curve.raw(r["aligned"]) if r["aligned"] else None
            b = value(r, f"area_fraction.{concern}") if r["aligned"] else None
            if a is not None and b is not None:
                pairs.append((a, b))
        new = np.sort([curve.x(a) for a, _ in pairs])
        old = np.sort([log_x(b) for _, b in pairs])
        knots = []
        for x, y in curve.knots:
            q = float(np.searchsorted(new, x) / len(new))
            knots.append([float(np.quantile(old, min(max(q, 0.0), 1.0))), y])
        for i in range(1, len(knots)):
            knots[i][0] = max(knots[i][0], knots[i - 1][0] + 1e-3)
        out[concern] = {"measure": f"area_fraction.{concern}", "transform": "log10", "offset": LOG_OFFSET,
                        "knots": [[round(x, 5), y] for x, y in knots]}
    return out


# -- validation report ------------------------------------------------------------------------------
def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(a positive scores worse than a negative), ties half (Mann-Whitney)."""
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    d = pos[:, None] - neg[None, :]
    return float(np.mean(d > 0) + 0.5 * np.mean(d == 0))


def spearman(a, b) -> float:
    from scipy.stats import spearmanr
    return float(spearmanr(a, b).correlation)


def grade_from_score(score: float) -> int:
    """Display score -> ACNE04 grade: the grade boundaries sit at 70, 50 and 30."""
    return int(sum(score < g for g in GRADE_SCORES))


def report(records: list[dict], spec: dict, split: str = "val") -> dict:
    from skin_app.scan.calibration import parse_calibration
    cal = parse_calibration(json.dumps(spec).encode())
    rows = [r for r in records if r["split"] == split]
    out: dict = {}
    acne = [r for r in rows if r["dataset"] == "acne04v2_512" and cal.curves["acne"].raw(r["letterboxed"]) is not None]
    if acne:
        out.update(acne_report(acne, cal))
    curve = cal.curves["panda_eye"]
    raw = {id(r): curve.raw(r["aligned"]) for r in rows if r["dataset"] == "gjain_wrinkle_darkcircle" and r["aligned"]}
    dc = [r for r in rows if raw.get(id(r)) is not None]
    if dc:
        s = np.array([curve.score(x) for x in (raw[id(r)] for r in dc) if x is not None])
        lab = np.array([r["labels"]["dark_circles"] for r in dc])
        out["panda_eye_auc"] = round(auc(-s[lab], -s[~lab]), 4)
        out["n_gjain_dc"] = [int(lab.sum()), int((~lab).sum())]
    javad = [r for r in rows if r["dataset"] == "javad71_wrinkle_boxes" and r["aligned"]]
    if len(javad) > 5:
        boxes = [len(r["labels"].get("box_classes", [])) for r in javad]
        wr = [cal.curves["wrinkle"].score(measured(r, "soft_fraction.wrinkle")) for r in javad]
        out["wrinkle_spearman_with_javad_box_count"] = round(spearman(wr, [-b for b in boxes]), 4)
        out["n_javad"] = len(javad)
    out.update(report_redness(rows, cal))
    out["not_good_by_ita"] = words_by_ita([r for r in records if r["dataset"] in ORDINARY and r["aligned"]], cal)
    faces = [cal.display_scores(r["aligned"]) for r in rows if r["aligned"]]
    faces = [f for f in faces if "overall" in f]
    if len(faces) > 5:
        overall = [f["overall"] for f in faces]
        out["overall_spearman"] = {c: round(spearman(overall, [f[c] for f in faces]), 3) for c in CONCERNS}
        out["sd"] = {c: round(float(np.std([f[c] for f in faces])), 2) for c in (*CONCERNS, "overall")}
        out["n_faces"] = len(faces)
    return out


def acne_report(acne: list[dict], cal) -> dict:
    """Grade accuracy, quadratic-weighted kappa, recall per grade, lesion-count error per grade, and
    the same split by skin tone, for ACNE04 photos measured letterboxed."""
    from skin_app.scan.tone import band_of
    from skin_app.training.grade_model import quadratic_weighted_kappa
    s = np.array([cal.curves["acne"].score(cal.curves["acne"].raw(r["letterboxed"])) for r in acne])
    g = np.array([r["labels"]["grade"] for r in acne])
    pred = np.array([grade_from_score(v) for v in s])
    counts = np.array([value(r, "acne_lesion_count", "letterboxed") for r in acne])
    truth = np.array([r["labels"]["lesions"] for r in acne])
    err = np.abs(counts - truth)
    out: dict = {
        "acne_grade_accuracy": round(float(np.mean(pred == g)), 4),
        "acne_grade_qwk": round(quadratic_weighted_kappa(g, pred), 4),
        "acne_grade_recall": {ACNE_GRADES[k]: round(float(np.mean(pred[g == k] == k)), 3)
                              for k in range(4) if (g == k).any()},
        "acne_grade_n": {ACNE_GRADES[k]: int((g == k).sum()) for k in range(4)},
        "acne_grade_spearman": round(spearman(-s, g), 4),
        "acne_median_by_grade": {ACNE_GRADES[k]: round(float(np.median(s[g == k])), 1) for k in range(4) if (g == k).any()},
        "acne_count_mae": round(float(np.mean(err)), 2),
        "acne_count_mae_by_grade": {ACNE_GRADES[k]: round(float(np.mean(err[g == k])), 2) for k in range(4) if (g == k).any()},
        "n_acne04": len(acne),
    }
    bands: dict[str, list[int]] = {}
    for i, r in enumerate(acne):
        band = band_of((r["letterboxed"] or {}).get("skin_ita"))
        if band is not None:
            bands.setdefault(band, []).append(i)
    out["acne_by_ita"] = {b: {"n": len(ix), "grade_accuracy": round(float(np.mean(pred[ix] == g[ix])), 3),
                              "count_mae": round(float(np.mean(err[ix])), 2)} for b, ix in bands.items()}
    return out


def report_redness(rows: list[dict], cal) -> dict:
    """Photo AUC of the redness score, gjain close-ups with hand-drawn rosacea against the others."""
    curve = cal.curves.get("redness")
    closeups = [r for r in rows if r["dataset"] == "gjain_freckle_acne" and "rosacea" in r["labels"]
                and value(r, REDNESS) is not None]
    if curve is None or not closeups:
        return {}
    s = np.array([curve.score(measured(r, REDNESS)) for r in closeups])
    lab = np.array([r["labels"]["rosacea"] for r in closeups])
    return {"redness_rosacea_auc": round(auc(-s[lab], -s[~lab]), 4), "n_gjain_rosacea": [int(lab.sum()), int((~lab).sum())]}


def words_by_ita(faces: list[dict], cal) -> dict:
    """Per ITA band of ordinary faces (both splits: no labels are involved): how many, and the share
    whose word is not "good" per concern - a display scale must not flag one skin tone more."""
    from skin_app.scan.calibration import word_for
    from skin_app.scan.tone import BAND_NAMES, band_of
    by_band: dict[str, list[dict]] = {}
    for r in faces:
        name = band_of(r["aligned"].get("skin_ita"))
        if name is not None:
            by_band.setdefault(name, []).append(cal.display_scores(r["aligned"]))
    out = {}
    for name in BAND_NAMES:
        band = [b for b in by_band.get(name, []) if "overall" in b]
        if band:
            out[name.replace("_", " ")] = {"n": len(band), **{c: round(float(np.mean([word_for(b[c]) != "good" for b in band
                                                                                  if c in b])), 2)
                                                              for c in (*CONCERNS, *COLOUR_CONCERNS, "overall")
                                                              if any(c in b for b in band)}}
    return out


def bundle_names(seg) -> dict:
    """What the calibration names so the app can tell it belongs to the model beside it: the weights and
    thresholds it was fitted with and the measurement version of the measurements (``analysis.check_bundle``)."""
    from skin_app.scan.calibration import MEASURE_VERSION_KEY
    from skin_app.scan.measure import MEASURE_VERSION
    from skin_app.scan.segmentation import MODEL_WEIGHTS
    return {MODEL_WEIGHTS: seg.version, "thresholds": seg.thresholds, MEASURE_VERSION_KEY: MEASURE_VERSION}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("models/calibration.json"))
    ap.add_argument("--model", type=Path, help="weights file (default: the shipped model)")
    ap.add_argument("--report", type=Path, help="also write the validation report (JSON) here")
    ap.add_argument("--only", choices=("redness",), help="re-fit only this curve into the existing --out file, "
                    "every other curve, the legacy curves and the validation figures of the others unchanged")
    a = ap.parse_args(argv)
    from skin_app.scan.segmentation import load_segmenter
    seg = load_segmenter(a.model)
    if a.only:
        return refit_redness(a, seg)
    records = collect(a.data, seg, log=lambda m: print(m, file=sys.stderr))
    spec = fit(records)
    spec.update(bundle_names(seg))
    spec["validation"] = report(records, spec)
    a.out.write_text(json.dumps(spec, indent=1) + "\n")
    print(json.dumps(spec["validation"], indent=1))
    if a.report:
        a.report.write_text(json.dumps(spec["validation"], indent=1))
    return 0


def refit_redness(a: argparse.Namespace, seg) -> int:
    """``--only redness``: measures the photos the redness curve needs and writes its curve, reasons and
    validation figures into the existing calibration; everything else in the file is kept as it is."""
    spec = json.loads(a.out.read_text())
    names = bundle_names(seg)
    for key, value in names.items():        # one curve re-fitted: the others must be this model's
        if spec.get(key) != value:
            raise SystemExit(f"{a.out} was fitted with {key} {spec.get(key)!r}, this model's is {value!r}: "
                             "fit the whole calibration instead of --only.")
    records = collect(a.data, seg, datasets=REDNESS_DATASETS, log=lambda m: print(m, file=sys.stderr))
    curve, why = fit_redness([r for r in records if r["split"] == "train"])
    spec["concerns"]["redness"] = curve
    spec["why"]["redness"] = why
    from skin_app.scan.calibration import parse_calibration
    cal = parse_calibration(json.dumps(spec).encode())
    validation = report_redness([r for r in records if r["split"] == "val"], cal)
    by_ita = words_by_ita([r for r in records if r["dataset"] in ORDINARY and r["aligned"]], cal)
    validation["redness_not_good_by_ita"] = {band: {"n": v["n"], "redness": v["redness"]}
                                             for band, v in by_ita.items() if "redness" in v}
    spec.setdefault("validation", {}).update(validation)
    a.out.write_text(json.dumps(spec, indent=1) + "\n")
    print(json.dumps(validation, indent=1))
    if a.report:
        a.report.write_text(json.dumps(validation, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
