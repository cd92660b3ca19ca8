"""Chooses each channel's probability threshold on the *training* split (never on validation photos).

    python -m skin_app.training.tune_thresholds --data ../shared/data --out models/thresholds.json \
        [--model WEIGHTS.npz]

For every channel the threshold that maximises its main metric on training photos: lesion F1 for
acne (ACNE04) and dark spots (gjain freckles; partial labels, so F1 inside the labelled area), IoU for
face skin and eyes (CelebAMask), wrinkles and dark circles (gjain masks). Each photo is predicted once;
all candidate thresholds are scored from the same probabilities. The file names the weights it was
chosen for (``model_weights``); the app refuses it beside any other weights.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from skin_app.concerns import CHANNELS
from skin_app.training.evaluate import Accumulator, predictions, score_sample

CANDIDATES = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)
OBJECTIVE = {   # channel -> (dataset, metric)
    "face_skin": ("celebamask_mini", "iou"),
    "eye": ("celebamask_mini", "iou"),
    "acne": ("acne04v2_512", "lesion_f1"),
    "flek": ("gjain_freckle_acne", "lesion_f1"),
    "wrinkle": ("gjain_wrinkle_darkcircle", "iou"),
    "panda_eye": ("gjain_wrinkle_darkcircle", "iou"),
}


def tune(data_root: Path, limit: int = 0, model_file: Path | None = None) -> dict:
    accs = {t: Accumulator() for t in CANDIDATES}
    datasets = sorted({d for d, _ in OBJECTIVE.values()})
    for s, prob, codes, transform in predictions(data_root, "train", model_file, datasets, limit, thresholds_file=False):
        for t, acc in accs.items():
            score_sample(acc, s, prob, codes, transform, {ch: t for ch in CHANNELS})
    table = {t: {(r["dataset"], r["target"], r["metric"]): r["value"] for r in acc.rows()} for t, acc in accs.items()}
    chosen, evidence = {}, {}
    for ch, (dataset, metric) in OBJECTIVE.items():
        values = {t: table[t].get((dataset, ch, metric), 0.0) for t in CANDIDATES}
        best = max(values, key=lambda t: (values[t], -abs(t - 0.5)))
        chosen[ch] = best
        evidence[ch] = {"dataset": dataset, "metric": metric, "by_threshold": values}
    return record(chosen, evidence, model_file)


def record(chosen: dict[str, float], evidence: dict, model_file: Path | None = None) -> dict:
    """What ``thresholds.json`` holds: the thresholds, how they were chosen, and the weights they were
    chosen for (``model_file``, default the installed ones), which the app checks on loading."""
    from skin_app.scan.segmentation import MODEL_WEIGHTS, weights_fingerprint
    return {"thresholds": chosen, "chosen_on": "train split", MODEL_WEIGHTS: weights_fingerprint(model_file),
            "evidence": evidence}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=0, help="at most this many training photos per dataset")
    ap.add_argument("--model", type=Path, help="weights file (default: the installed model)")
    a = ap.parse_args(argv)
    result = tune(a.data, a.limit, a.model)
    a.out.write_text(json.dumps(result, indent=1))
    for ch, t in result["thresholds"].items():
        ev = result["evidence"][ch]
        print(f"{ch:10s} threshold {t:.2f}  {ev['metric']} on {ev['dataset']} (train): {ev['by_threshold'][t]:.3f}"
              f"  (at 0.5: {ev['by_threshold'][0.5]:.3f})")


if __name__ == "__main__":
    main()
