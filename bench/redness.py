"""Validation of the redness measure against the hand-drawn rosacea masks of gjain_freckle_acne.

    python bench/redness.py --data ../shared/data [--grid] [--out bench/results/redness.json]

The 163 close-ups of ``gjain_freckle_acne`` (19 of them with rosacea masks: class 4 in
``masks_classes/`` covering more than 2 % of the photo; the other photos carry class 4 only as the
resize artefact ringing acne and freckle blobs) are measured as calibration measures them
(``training.calibrate.measure_photo``: letterboxed to 384 px, the model's face skin as the scored area,
redness from colour, ``skin_app.scan.redness``). Split: the project's stable hash split
(``training.datasets.split_of``), so the 14 + 126 training photos are the ones the parameters and the
score curve were chosen on, and the 5 + 18 validation photos are held out.

Reported per split:

* pixel AUC of the red-area map (the relative index) against the rosacea masks over the scored skin
  of the rosacea photos: per photo (each photo's own AUC, then their mean: the map is relative to the
  person's own skin, so this is the question it answers) and pooled (every pixel of every rosacea
  photo in one ranking);
* photo AUC of ``redness.share`` (the measure the score reads): rosacea photos against the others.

``--grid`` also prints every combination of melanin correction, smoothing and baseline percentile tried
on the training split, then the red edge. ``redness.MELANIN_K`` is melanin's spectral slope (0.5), not
the grid's best (1.0 ranks the training close-ups a little better but reads skin with less melanin than
the skin around it as red: ``bench/tone_probe.py``); ``SMOOTH_SIGMA_PX``, ``BASELINE_PCT`` and
``RED_EDGE`` were chosen on it (the edge for room above ordinary skin at no loss of AUC).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SM_FRAMEWORK", "tf.keras")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from skin_app.scan import redness as red_mod  # noqa: E402
from skin_app.training.calibrate import auc  # noqa: E402

ROSACEA_CLASS = 4
ROSACEA_MIN_SHARE = 0.02     # below this, class 4 is only the resize artefact around other blobs


def load(data: Path) -> list[dict]:
    """Each close-up letterboxed as calibration measures it, with the model's scored skin and the classes."""
    from PIL import Image

    from skin_app.scan.analysis import probabilities_of
    from skin_app.scan.segmentation import INPUT_SIZE, load_segmenter
    from skin_app.training.datasets import _digest_groups, read_rgb, split_of
    from skin_app.training.pack import letterbox_with_transform
    root = data / "gjain_freckle_acne"
    paths = sorted((root / "images").glob("*"))
    groups = _digest_groups(paths)
    seg = load_segmenter()
    out = []
    for p in paths:
        cls_path = root / "masks_classes" / (p.stem + ".png")
        if not cls_path.exists():
            continue
        image = read_rgb(p)
        with Image.open(cls_path) as im:
            cls = np.asarray(im)
        cls = cls.max(axis=2) if cls.ndim == 3 else cls
        boxed, _, (scale, left, top) = letterbox_with_transform(image, {}, INPUT_SIZE)
        h, w = image.shape[:2]
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        classes = np.full((INPUT_SIZE, INPUT_SIZE), 255, np.uint8)
        classes[top:top + nh, left:left + nw] = cv2.resize(cls, (nw, nh), interpolation=cv2.INTER_NEAREST)
        prob = probabilities_of(seg, boxed)
        skin = (prob["face_skin"] > seg.thresholds["face_skin"]) & ~(prob["eye"] > seg.thresholds["eye"])
        rosacea = classes == ROSACEA_CLASS
        out.append({"name": p.stem, "split": split_of("gjain_freckle_acne", groups[p]), "crop": boxed,
                    "skin": skin & (classes != 255), "rosacea": rosacea,
                    "is_rosacea": bool(rosacea.mean() > ROSACEA_MIN_SHARE)})
    return out


def evaluate(photos: list[dict], melanin_k: float = red_mod.MELANIN_K, sigma: float = red_mod.SMOOTH_SIGMA_PX,
             baseline_pct: float = red_mod.BASELINE_PCT, edge: float = red_mod.RED_EDGE) -> dict:
    """Pixel AUCs (per photo and pooled) and the photo AUC of the share, for one setting."""
    per_photo, ys, scores, labels, shares = [], [], [], [], []
    for ph in photos:
        red = red_mod.redness_map(ph["crop"], ph["skin"], melanin_k, baseline_pct, edge, sigma)
        if red is None:
            continue
        area, rel = red.area, red.index
        labels.append(ph["is_rosacea"])
        shares.append(float(red.soft[area].mean()))
        if ph["is_rosacea"]:
            y = ph["rosacea"][area]
            ys.append(y)
            scores.append(rel[area])
            if y.any() and (~y).any():
                per_photo.append(auc(rel[area][y], rel[area][~y]))
    lab = np.array(labels)
    sh = np.array(shares)
    pooled_y = np.concatenate(ys) if ys else np.zeros(0, bool)
    pooled_s = np.concatenate(scores) if scores else np.zeros(0)
    return {"pixel_auc_per_photo_mean": round(float(np.mean(per_photo)), 4) if per_photo else None,
            "pixel_auc_pooled": round(_auc_ranked(pooled_s, pooled_y), 4) if ys else None,
            "photo_auc_share": round(auc(sh[lab], sh[~lab]), 4),
            "n_rosacea": int(lab.sum()), "n_other": int((~lab).sum())}


def _auc_ranked(scores: np.ndarray, y: np.ndarray) -> float:
    """AUC of many pixels by ranks (``calibrate.auc`` builds the full pair matrix)."""
    from scipy.stats import rankdata
    r = rankdata(scores)
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / max(n1 * n0, 1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--grid", action="store_true", help="also print the settings tried on the training split")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "redness.json")
    a = ap.parse_args(argv)
    photos = load(a.data.expanduser().resolve())
    out: dict = {"setting": {"melanin_k": red_mod.MELANIN_K, "smooth_sigma_px": red_mod.SMOOTH_SIGMA_PX,
                             "baseline_pct": red_mod.BASELINE_PCT, "red_edge": red_mod.RED_EDGE}}
    for split in ("train", "val"):
        out[split] = evaluate([p for p in photos if p["split"] == split])
        print(f"{split}: {json.dumps(out[split])}")
    if a.grid:
        train = [p for p in photos if p["split"] == "train"]
        out["grid_train"] = []
        for k, sigma, pct in itertools.product((0.0, 0.5, 0.75, 1.0, 1.25), (2.0, 4.0, 8.0), (10.0, 25.0, 50.0)):
            row = {"melanin_k": k, "sigma": sigma, "baseline_pct": pct, **evaluate(train, k, sigma, pct)}
            out["grid_train"].append(row)
            print(json.dumps(row))
        for edge in (0.04, 0.08, 0.12, 0.15, 0.2):
            row = {"red_edge": edge, **evaluate(train, edge=edge)}
            out["grid_train"].append(row)
            print(json.dumps(row))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"-> {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
