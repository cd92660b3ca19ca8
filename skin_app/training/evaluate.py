"""Measures the shipped model on any folder laid out like ``../shared/data`` (absent datasets skipped).

    python -m skin_app.training.evaluate --data ../shared/data --out metrics.json [--split val]

Writes a JSON list of rows ``{"dataset", "target", "metric", "value", "n_images"}``. Each photo is
letterboxed to the model's input size exactly as in training, and labels are brought to that size the
same way (thin positives kept). Metrics, never pixel accuracy:

* pixel targets: IoU and Dice over the dataset's labelled pixels (sum of intersections over sum of
  unions; pixels marked "ignore" are left out), at the shipped per-channel thresholds
  (``models/thresholds.json``, chosen on the training split by ``tune_thresholds.py``);
* lesions (acne, flek): lesion-level precision / recall / F1: a predicted blob (connected component)
  matches a labelled lesion when their centres lie within ``LESION_MATCH_PX`` pixels (one-to-one,
  nearest first). Freckles are only partly marked, so flek precision counts only blobs inside the
  labelled area and is a lower bound;
* box-labelled sets: ``box_hit_rate`` (share of boxes with at least ``BOX_HIT_FRACTION`` of their
  pixels marked), ``pred_in_boxes`` (share of predicted pixels inside some box) and, for boxes that
  mark the absence of a target, ``negative_box_false_rate``.

Display-score rows (``display_score_rows``): ACNE04 grade accuracy, grade Spearman and lesion-count
MAE, and the dark-circle AUC on gjain, from the shipped calibration.

``--split val`` restricts to our validation photos (held out by source photo, see datasets.split_of);
the default evaluates everything in the folder (use it on independent sets only).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from skin_app.concerns import CHANNELS
from skin_app.training.datasets import LOADERS, iter_samples
from skin_app.training.pack import letterbox_with_transform

LESION_MATCH_PX = 6.0          # at 384 px; acne04 lesions have a median radius of ~2.3 px at this size
BOX_HIT_FRACTION = 0.02
LESION_TARGETS = ("acne", "flek")


def blobs(mask: np.ndarray, min_area: int = 1) -> np.ndarray:
    """Centres (N, 2) x, y of the connected components of a boolean mask."""
    n, _, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]
    return centroids[keep].reshape(-1, 2)


def match_points(pred: np.ndarray, truth: np.ndarray, radius: float) -> int:
    """Greedy one-to-one matching, nearest pairs first; returns the number of matches."""
    if len(pred) == 0 or len(truth) == 0:
        return 0
    d = np.linalg.norm(pred[:, None, :] - truth[None, :, :], axis=2)
    pairs = np.argwhere(d <= radius)
    order = np.argsort(d[pairs[:, 0], pairs[:, 1]])
    used_p, used_t, matched = set(), set(), 0
    for k in order:
        i, j = pairs[k]
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            matched += 1
    return matched


class Accumulator:
    def __init__(self) -> None:
        self.sums: dict[tuple[str, str], dict[str, float]] = {}
        self.images: dict[tuple[str, str], set] = {}

    def add(self, dataset: str, target: str, name: str, **values: float) -> None:
        s = self.sums.setdefault((dataset, target), {})
        for k, v in values.items():
            s[k] = s.get(k, 0.0) + float(v)
        self.images.setdefault((dataset, target), set()).add(name)

    def rows(self) -> list[dict]:
        out = []
        for (dataset, target), s in sorted(self.sums.items()):
            n = len(self.images[(dataset, target)])

            def row(metric: str, value: float, dataset: str = dataset, target: str = target, n: int = n) -> None:
                out.append({"dataset": dataset, "target": target, "metric": metric,
                            "value": round(float(value), 4), "n_images": n})
            if "union" in s:
                row("iou", s["inter"] / max(s["union"], 1.0))
                row("dice", 2 * s["inter"] / max(s["pred"] + s["true"], 1.0))
            if "lesions_true" in s:
                p = s["matched"] / max(s["lesions_pred"], 1.0)
                r = s["matched"] / max(s["lesions_true"], 1.0)
                row("lesion_precision", p)
                row("lesion_recall", r)
                row("lesion_f1", 2 * p * r / max(p + r, 1e-9))
            if "boxes" in s and s["boxes"]:
                row("box_hit_rate", s["boxes_hit"] / s["boxes"])
                row("pred_in_boxes", s["pred_in_box_px"] / max(s["pred_px"], 1.0))
            if s.get("neg_boxes"):
                row("negative_box_false_rate", s["neg_boxes_hit"] / s["neg_boxes"])
        return out


def score_sample(acc: Accumulator, s, prob: np.ndarray, codes: dict[str, np.ndarray], transform,
                 thresholds: dict[str, float]) -> None:
    """Adds one photo's measurements for every target it labels."""
    scale, left, top = transform
    for ch, code in codes.items():
        pred = prob[..., CHANNELS.index(ch)] > thresholds[ch]
        lab = (code == 0) | (code == 1)
        truth = code == 1
        if lab.any() and not s.boxes:
            acc.add(s.dataset, ch, s.name, inter=(pred & truth & lab).sum(), union=((pred | truth) & lab).sum(),
                    pred=(pred & lab).sum(), true=truth.sum())
        if ch in LESION_TARGETS and truth.any():
            truth_pts = (s.points * scale + [left, top]) if s.points is not None and len(s.points) else blobs(truth)
            pred_pts = blobs(pred)
            if ch == "flek":   # partial labels: only blobs inside the labelled area are judged
                inside = [lab[min(int(round(y)), lab.shape[0] - 1), min(int(round(x)), lab.shape[1] - 1)]
                          for x, y in pred_pts]
                pred_pts = pred_pts[np.array(inside, bool)] if len(pred_pts) else pred_pts
            acc.add(s.dataset, ch, s.name, lesions_true=len(truth_pts), lesions_pred=len(pred_pts),
                    matched=match_points(pred_pts, truth_pts, LESION_MATCH_PX))
    inbox: dict[str, np.ndarray] = {}
    for ch, cls, box in s.boxes:
        pred = prob[..., CHANNELS.index(ch)] > thresholds[ch]
        x0, y0, x1, y1 = np.round(box * scale + [left, top, left, top]).astype(int)
        x0, y0 = max(x0, 0), max(y0, 0)
        region = pred[y0:y1, x0:x1]
        if region.size == 0:
            continue
        hit = region.mean() >= BOX_HIT_FRACTION
        if ch == "panda_eye" and cls == 3:      # a box that marks the absence of dark circles
            acc.add(s.dataset, ch, s.name, neg_boxes=1, neg_boxes_hit=hit)
        else:
            acc.add(s.dataset, ch, s.name, boxes=1, boxes_hit=hit)
            inbox.setdefault(ch, np.zeros(pred.shape, bool))[y0:y1, x0:x1] = True
    for ch in {b[0] for b in s.boxes}:
        pred = prob[..., CHANNELS.index(ch)] > thresholds[ch]
        in_boxes = inbox.get(ch, np.zeros(pred.shape, bool))
        acc.add(s.dataset, ch, s.name, pred_px=pred.sum(), pred_in_box_px=(pred & in_boxes).sum())


def normalised_for_model(image: np.ndarray, reference: float) -> np.ndarray:
    """The letterboxed photo after the candidate tone normalisation (``tone.prepare_crop``), using
    the face mesh found on it; unchanged where no face is found (close-ups, boxes of eyes)."""
    from skin_app.scan import face as face_mod
    from skin_app.scan.tone import prepare_crop
    faces = face_mod.find_faces(image)
    if not faces:
        return image
    pts, size = faces[0].points[:, :2], image.shape[0]
    return prepare_crop(image, face_mod.face_regions(pts, size), face_mod.face_oval_mask(pts, size), reference)[0]


def predictions(data_root: Path, split: str | None, model_file: Path | None, datasets: list[str] | None,
                limit: int, tone_reference: float | None = None, thresholds_file: bool = True):
    """Yields (sample, probabilities, letterboxed codes, transform) for every photo evaluated; with
    ``tone_reference`` the model sees each photo after the candidate tone normalisation.
    ``thresholds_file=False``: the weights need no thresholds file yet (tune_thresholds chooses it)."""
    from skin_app.scan.segmentation import INPUT_SIZE, load_segmenter
    seg = load_segmenter(model_file, thresholds=thresholds_file)
    counts: dict[str, int] = {}
    for s in iter_samples(data_root, datasets, split):
        if limit and counts.get(s.dataset, 0) >= limit:
            continue
        counts[s.dataset] = counts.get(s.dataset, 0) + 1
        image, codes, transform = letterbox_with_transform(s.image, s.codes, INPUT_SIZE)
        if tone_reference is not None:
            image = normalised_for_model(image, tone_reference)
        yield s, seg.predict(image), codes, transform


def evaluate(data_root: Path, split: str | None = None, model_file: Path | None = None,
             datasets: list[str] | None = None, thresholds: dict[str, float] | None = None,
             limit: int = 0, tone_reference: float | None = None) -> list[dict]:
    """Rows of metrics; ``thresholds`` per channel default to the file beside the weights evaluated."""
    from skin_app.scan.segmentation import load_thresholds
    thr = thresholds or load_thresholds(model_file)
    acc = Accumulator()
    for s, prob, codes, transform in predictions(data_root, split, model_file, datasets, limit, tone_reference):
        score_sample(acc, s, prob, codes, transform, thr)
    return acc.rows()


DISPLAY_SETS = ("acne04v2_512", "gjain_wrinkle_darkcircle")


def display_score_rows(data_root: Path, split: str | None = None, model_file: Path | None = None,
                       limit: int = 0) -> list[dict]:
    """Rows for the shipped display scores (``models/calibration.json``), measured as the app measures
    (mirror-averaged, the app's engine), on the paths calibration uses:

    * ``acne04v2_512`` acne: ``grade_accuracy`` (display score -> grade by the 70/50/30 boundaries,
      against the file's grade, four classes), ``grade_spearman`` (display score against grade, sign
      turned so higher is better), ``count_mae`` (split lesion count against the expert's count);
    * ``gjain_wrinkle_darkcircle`` panda_eye: ``auc`` (display score separating photos with and
      without hand-marked dark circles)."""
    from skin_app.scan.calibration import load_calibration
    from skin_app.scan.segmentation import load_segmenter
    from skin_app.training.calibrate import LETTERBOXED, labels_of, measure_photo, report
    seg = load_segmenter(model_file)
    cal = load_calibration(model_file.with_name("calibration.json") if model_file else None)
    records: list[dict] = []
    counts: dict[str, int] = {}
    for s in iter_samples(data_root, list(DISPLAY_SETS), split):
        if limit and counts.get(s.dataset, 0) >= limit:
            continue
        counts[s.dataset] = counts.get(s.dataset, 0) + 1
        aligned, letterboxed = measure_photo(seg, s.image, s.dataset in LETTERBOXED, flip_average=True)   # as the app
        records.append({"dataset": s.dataset, "name": s.name, "split": "eval", "labels": labels_of(s),
                        "aligned": aligned, "letterboxed": letterboxed})
    r = report(records, cal.info, split="eval")
    rows = []

    def row(dataset: str, target: str, metric: str, value: float, n: int) -> None:
        rows.append({"dataset": dataset, "target": target, "metric": metric, "value": round(float(value), 4),
                     "n_images": n})
    if "acne_grade_accuracy" in r:
        n = r["n_acne04"]
        row("acne04v2_512", "acne", "grade_accuracy", r["acne_grade_accuracy"], n)
        row("acne04v2_512", "acne", "grade_spearman", r["acne_grade_spearman"], n)
        row("acne04v2_512", "acne", "count_mae", r["acne_count_mae"], n)
    if "panda_eye_auc" in r:
        row("gjain_wrinkle_darkcircle", "panda_eye", "auc", r["panda_eye_auc"], sum(r["n_gjain_dc"]))
    return rows


def tone_band_rows(data_root: Path, split: str | None, model_file: Path | None, limit: int,
                   records_out: Path | None, beard_list: Path | None = None, reference: float | None = None) -> list[dict]:
    """The ITA-band table rows (see tone_eval.py), acne marks on the lower face of the listed bearded
    faces, and how many photos had no face found or no ITA."""
    from skin_app.scan.segmentation import load_segmenter
    from skin_app.scan.tone import REFERENCE_SKIN_L
    from skin_app.training.tone_eval import band_rows, beard_rows, survey
    result = survey(data_root, split, load_segmenter(model_file), limit, records_out, reference or REFERENCE_SKIN_L)
    rows = band_rows(result.records)
    if beard_list:
        rows += beard_rows(result.records, json.loads(Path(beard_list).read_text())["faces"])
    for metric, counts in (("no_face_found", result.no_face), ("no_ita_black_and_white", result.no_ita)):
        for dataset, n in sorted(counts.items()):
            rows.append({"dataset": dataset, "target": "face", "metric": metric, "value": n, "n_images": n})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--split", choices=["train", "val"], help="default: every photo in the folder")
    ap.add_argument("--model", type=Path, help="weights file (default: the shipped model)")
    ap.add_argument("--datasets", nargs="*", choices=list(LOADERS))
    ap.add_argument("--threshold", type=float, help="one threshold for every channel (default: the shipped ones)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many photos per dataset (0: all)")
    ap.add_argument("--tone", action="store_true",
                    help="also the marked area by ITA band on the face sets without lesion labels (tone_eval.py)")
    ap.add_argument("--tone-records", type=Path, help="with --tone: write each face's measurements here (JSON lines)")
    ap.add_argument("--tone-only", action="store_true", help="only the ITA-band table")
    ap.add_argument("--tone-reference", type=float, help="with --tone: skin L* the normalisation lifts darker skin to "
                    "(default: tone.REFERENCE_SKIN_L)")
    ap.add_argument("--beard-list", type=Path, help="with --tone: faces with a beard or stubble (bench/beard_stubble_val.json)")
    ap.add_argument("--tone-normalise", type=float, metavar="REFERENCE_L",
                    help="segmentation metrics with the candidate tone normalisation to this skin L* (tone.py)")
    ap.add_argument("--reference-lightness", action="store_true",
                    help="print the training faces' skin L* percentiles (the tone normalisation's reference) and stop")
    a = ap.parse_args(argv)
    t0 = time.time()
    if a.reference_lightness:
        from skin_app.training.tone_eval import reference_lightness
        print(json.dumps(reference_lightness(a.data)))
        return
    thresholds = {ch: a.threshold for ch in CHANNELS} if a.threshold is not None else None
    rows = [] if a.tone_only else evaluate(a.data, a.split, a.model, a.datasets, thresholds, a.limit, a.tone_normalise)
    if not a.tone_only and (not a.datasets or set(a.datasets) & set(DISPLAY_SETS)):
        rows += display_score_rows(a.data, a.split, a.model, a.limit)
    if a.tone or a.tone_only:
        rows += tone_band_rows(a.data, a.split, a.model, a.limit, a.tone_records, a.beard_list, a.tone_reference)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(rows, indent=1))
    for r in rows:
        print(f"{r['dataset']:26s} {r['target']:10s} {r['metric']:24s} {r['value']:.3f}  (n={r['n_images']})")
    print(f"{len(rows)} rows in {time.time() - t0:.0f}s -> {a.out}")


if __name__ == "__main__":
    main()
