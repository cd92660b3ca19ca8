"""How much do the dark-circle words per skin tone depend on where the scale's 70 sits? A sweep.

    python bench/dark_circle_anchor.py --records runs/calibration/<weights>-m8-mirror.jsonl \
        --out bench/results/dark_circle_anchor_<run>.json

The records are what ``calibrate.collect`` caches for a model (``candidate.sh`` and ``calibrate`` write
them under ``runs/calibration/``, named by the weights' version). The curves are refitted on the TRAINING
split exactly as ``calibrate.fit`` does. Then the dark-circle curve's 70 (the Youden cut between the gjain
training photos with and without hand-marked dark circles) is moved across the span between its 90 and
its 50, and for each position the share of ordinary faces per ITA band whose dark-circle word is not
"good" is computed (``calibrate.words_by_ita``, as the gate reads it). The reference shares are those in the
shipped calibration's own report (``models/calibration.json``: ``validation.not_good_by_ita``).

Also printed: Youden's J at every candidate cut within 0.05 of the best, to show how flat the top is (which
photos decide the cut), and how far the cut moves over bootstrap draws of the photos, for Youden's rule as
fitted and for the same J between kernel-smoothed distributions. Nothing here changes a shipped file; the sweep is for reading, never for choosing
a cut by what the validation shares say.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skin_app.scan.calibration import parse_calibration  # noqa: E402
from skin_app.training import calibrate as C  # noqa: E402


def labelled_index(records: list[dict], spec: dict) -> tuple[np.ndarray, np.ndarray]:
    """The dark-circle index of the gjain training photos with and without marked dark circles."""
    train = [r for r in records if r["split"] == "train"]
    return C.dark_circle_index_of_labelled(train, spec["concerns"]["panda_eye"]["terms"])


def cut_spread(pos: np.ndarray, neg: np.ndarray, rule, draws: int = 300, seed: int = 0) -> dict:
    """The cut on the photos as they are, and its 5th-95th percentile over bootstrap resamples of them."""
    rng = np.random.default_rng(seed)
    cuts = [rule(rng.choice(pos, len(pos)), rng.choice(neg, len(neg))) for _ in range(draws)]
    return {"cut": round(rule(pos, neg), 2), "p5": round(float(np.percentile(cuts, 5)), 2),
            "p95": round(float(np.percentile(cuts, 95)), 2)}


def youden_top(records: list[dict], spec: dict, within: float = 0.05) -> list[list[float]]:
    """[cut, J] for every gjain training photo's index value whose J is within ``within`` of the best."""
    cuts, j = C.youden_curve(*labelled_index(records, spec))
    return [[round(float(t), 2), round(float(v), 3)] for t, v in zip(cuts, j) if v >= j.max() - within]


def not_good_at(records: list[dict], spec: dict, x70: float) -> dict[str, float]:
    """The dark-circle not-good share per ITA band of ordinary faces with the scale's 70 at ``x70``."""
    moved = copy.deepcopy(spec)
    moved["concerns"]["panda_eye"]["knots"][2][0] = float(x70)
    faces = [r for r in records if r["dataset"] in C.ORDINARY and r["aligned"]]
    words = C.words_by_ita(faces, parse_calibration(json.dumps(moved).encode()))
    return {band: w["panda_eye"] for band, w in words.items() if "panda_eye" in w}


def sweep(records: list[dict], spec: dict, steps: int) -> list[dict]:
    """Per 70-position between the scale's 90 and 50: the not-good shares (``not_good_at``)."""
    knots = spec["concerns"]["panda_eye"]["knots"]
    x90, x50 = knots[1][0], knots[3][0]
    return [{"x70": round(float(x70), 2), "not_good": not_good_at(records, spec, x70)}
            for x70 in np.linspace(x90 + 0.5, x50 - 0.5, steps)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=Path, required=True, help="a calibrate cache (.jsonl) of one model")
    ap.add_argument("--reference", type=Path, default=ROOT / "models" / "calibration.json")
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    records = [json.loads(line) for line in a.records.read_text().splitlines() if line.strip()]
    spec = C.fit(records)
    reference = json.loads(a.reference.read_text())
    ref_shares = {band: w["panda_eye"] for band, w in reference["validation"]["not_good_by_ita"].items()}
    rows = sweep(records, spec, a.steps)
    for row in rows:
        row["bands_above_reference"] = [b for b, v in row["not_good"].items() if v > ref_shares.get(b, 1.0)]
    fitted = spec["concerns"]["panda_eye"]["knots"]
    out = {"records": a.records.name, "fitted_knots": fitted, "reference": str(a.reference.relative_to(ROOT))
           if a.reference.is_relative_to(ROOT) else str(a.reference),
           "reference_70": reference["concerns"]["panda_eye"]["knots"][2][0], "reference_not_good": ref_shares,
           "youden_top": youden_top(records, spec), "sweep": rows}
    pos, neg = labelled_index(records, spec)
    out["cut_spread"] = {"youden": cut_spread(pos, neg, C.youden_cut),
                         "smoothed": cut_spread(pos, neg, C.smoothed_youden_cut)}
    out["not_good_at_smoothed_cut"] = not_good_at(records, spec, C.smoothed_youden_cut(pos, neg))
    print(f"fitted 70 at {fitted[2][0]:.2f} (reference {out['reference_70']:.2f}); reference shares {ref_shares}")
    print("Youden J within 0.05 of the best:", out["youden_top"])
    print("the cut and its 5th-95th percentile over 300 bootstrap draws of the photos:", out["cut_spread"])
    print("not good at the smoothed cut:", out["not_good_at_smoothed_cut"])
    for row in rows:
        print(f"70 at {row['x70']:6.2f}: {row['not_good']}  above the reference in {row['bands_above_reference']}")
    if a.out:
        a.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
