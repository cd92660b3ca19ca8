"""How many ACNE04 photos each view's path accepts, and how well its acne score follows the grade.

    python bench/views_acne04.py --data ../shared/data [--out bench/results/views_acne04.json]
    python bench/views_acne04.py --data ../shared/data --closeups    # gjain close-ups through both gates

ACNE04 (``acne04v2_512``) holds clinical photos taken as VISIA does: mostly side views, the head
turned 33-62 degrees. For every photo the quality gate runs as ``check_photo`` runs it, once as a
front photo and once as a side view of the cheek the face mesh says is shown (a person picks that
side on the Scan page). Share accepted, and the blocking reasons, are counted over all photos here.

Grade agreement, on the validation split only (``split_of``, the photos the model never trained on):
the side path's acne score (visible half of the face) against the front path's acne score on the
same photo (the whole face outline, the front path's scoring run with its head-turn gate lifted, so
the two geometries are compared on the same photos). Reported per path, no fitting: Spearman's rho
of acne score vs the dermatologists' grade (0-3; higher grade should mean lower score), and the
share whose word (``calibration.score_words``: good / fair / needs care) matches the grade (0 -> good,
1 -> fair, 2-3 -> needs care), and the four-class grade accuracy (display score boundaries 70 / 50 /
30, as ``evaluate``'s ``grade_accuracy``), its quadratic-weighted kappa and recall per grade, and the
lesion count's mean absolute error against the experts' circles, overall and per grade. The scores
are the calibrated display scores.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from skin_app.concerns import ACNE_GRADES  # noqa: E402
from skin_app.errors import FaceError, ImageError  # noqa: E402
from skin_app.scan import face as F  # noqa: E402
from skin_app.scan.analysis import analyze, check_photo  # noqa: E402
from skin_app.scan.calibration import score_words  # noqa: E402
from skin_app.scan.results import QualityReport  # noqa: E402
from skin_app.training.calibrate import grade_from_score  # noqa: E402
from skin_app.training.datasets import split_of  # noqa: E402
from skin_app.training.grade_model import quadratic_weighted_kappa  # noqa: E402

GRADE_WORD = {0: "good", 1: "fair", 2: "needs care", 3: "needs care"}


def grade_of(stem: str) -> int:
    return int(stem.split("_")[0].replace("levle", ""))


def summarise(rows: list[dict], key: str) -> dict:
    got = [(r["grade"], r[key]) for r in rows if r.get(key) is not None]
    if len(got) < 3:
        return {"n": len(got)}
    grades, scores = np.array([g for g, _ in got]), np.array([s for _, s in got])
    rho = spearmanr(grades, scores).statistic
    agree = np.mean([score_words(s, "acne") == GRADE_WORD[g] for g, s in got])
    pred = np.array([grade_from_score(s) for _, s in got])               # 4 classes, boundaries 70/50/30
    accuracy = np.mean(pred == grades)
    medians = {int(g): round(float(np.median(scores[grades == g])), 2) for g in sorted(set(grades.tolist()))}
    out = {"n": len(got), "spearman_rho": round(float(rho), 3), "band_agreement": round(float(agree), 3),
           "grade_accuracy": round(float(accuracy), 3),
           "quadratic_weighted_kappa": round(quadratic_weighted_kappa(grades, pred), 3),
           "recall_by_grade": {ACNE_GRADES[g]: round(float(np.mean(pred[grades == g] == g)), 3)
                               for g in sorted(set(grades.tolist()))},
           "median_acne_score_by_grade": medians}
    counted = [(r["grade"], r[key.replace("_acne", "_lesions")], r["lesions"]) for r in rows
               if r.get(key) is not None and r.get(key.replace("_acne", "_lesions")) is not None]
    if counted:
        g = np.array([c[0] for c in counted])
        err = np.abs(np.array([c[1] for c in counted]) - np.array([c[2] for c in counted]))
        out["count_mae"] = round(float(err.mean()), 2)
        out["count_mae_by_grade"] = {ACNE_GRADES[k]: round(float(err[g == k].mean()), 2) for k in sorted(set(g.tolist()))}
    return out


def closeups(data: Path) -> None:
    """The close-up path's gate on gjain's 163 close-up web photos (acne, freckles; 294 x 222 px)."""
    photos = sorted((data / "gjain_freckle_acne" / "images").glob("*"))
    counts: dict[str, Counter] = {"front": Counter(), "closeup": Counter()}
    for path in photos:
        for view in counts:
            quality = check_photo(path.read_bytes(), view).quality
            blocking = [i.code for i in quality.issues if i.blocking]
            counts[view]["accepted" if not blocking else blocking[0]] += 1
    # Does the close-up's acne measure follow the labelled acne? Validation photos only: the model's
    # acne share of the skin against the labelled acne share of the same centre square (Spearman).
    import cv2

    from skin_app.scan.segmentation import INPUT_SIZE, load_segmenter
    from skin_app.training.datasets import load_gjain_freckle_acne
    seg = load_segmenter()
    pairs = []
    for sample in load_gjain_freckle_acne(data / "gjain_freckle_acne"):
        if sample.split != "val" or "acne" not in sample.codes:
            continue
        png = cv2.imencode(".png", cv2.cvtColor(sample.image, cv2.COLOR_RGB2BGR))[1].tobytes()
        label = F.closeup_square(((sample.codes["acne"] == 1) * 255).astype(np.uint8)[..., None].repeat(3, 2),
                                 INPUT_SIZE)[..., 0] > 127
        try:
            r = analyze(png, seg, view="closeup")
        except FaceError:                 # a whole face, or no skin: refused as a close-up
            continue
        pairs.append((float(label.mean()), r.metrics["area_fraction"]["acne"]))
    rho = spearmanr([a for a, _ in pairs], [b for _, b in pairs]).statistic if len(pairs) > 2 else float("nan")
    print(json.dumps({"photos": len(photos), **{k: dict(v) for k, v in counts.items()},
                      "val_acne_share_spearman": {"n": len(pairs), "rho": round(float(rho), 3)}}, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, type=Path, help="the shared data folder (holds acne04v2_512/)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "views_acne04.json")
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos (quick look)")
    ap.add_argument("--closeups", action="store_true",
                    help="instead: how many gjain_freckle_acne close-ups the front and close-up gates accept")
    args = ap.parse_args()
    if args.closeups:
        closeups(args.data)
        return
    photos = sorted((args.data / "acne04v2_512" / "images").glob("*.jpg"))
    if args.limit:
        photos = photos[:args.limit]
    from skin_app.scan.segmentation import load_segmenter
    seg = load_segmenter()
    ann = json.loads((args.data / "acne04v2_512" / "annotations_512.json").read_text())
    names = {im["id"]: im["file_name"] for im in ann["images"]}
    lesions = Counter(names[a["image_id"]] for a in ann["annotations"])     # the experts' circles per photo
    t0 = time.perf_counter()
    accepted: Counter = Counter()
    reasons: dict[str, Counter] = {"front": Counter(), "side": Counter()}
    rows = []
    for path in photos:
        data = path.read_bytes()
        try:
            front = check_photo(data, "front")
        except ImageError:
            accepted["unreadable"] += 1
            continue
        side_view = F.visible_side(front.aligned.points, front.aligned.crop.shape[0]) if front.aligned else "left"
        side = check_photo(data, side_view)
        for name, checked in (("front", front), ("side", side)):
            if checked.quality.ok:
                accepted[name] += 1
            for issue in checked.quality.issues:
                if issue.blocking:
                    reasons[name][issue.code] += 1
        if split_of("acne04v2_512", path.stem) != "val" or front.aligned is None:
            continue
        row = {"photo": path.name, "grade": grade_of(path.stem), "side": side_view,
               "yaw": front.quality.measurements.get("yaw"), "front_ok": front.quality.ok, "side_ok": side.quality.ok}
        lifted = check_photo(data, "front")
        lifted.quality = QualityReport(measurements=lifted.quality.measurements)     # head-turn gate lifted
        front_result = analyze(data, seg, checked=lifted)
        row["front_acne"] = front_result.scores["acne"]
        row["front_lesions"] = front_result.metrics["acne_lesion_count"]
        side_result = analyze(data, seg, checked=side) if side.quality.ok else None
        row["side_acne"] = side_result.scores["acne"] if side_result else None
        row["side_lesions"] = side_result.metrics["acne_lesion_count"] if side_result else None
        row["lesions"] = lesions.get(path.name, 0)
        rows.append(row)
    n = len(photos)
    report = {
        "photos": n, "seconds": round(time.perf_counter() - t0, 1),
        "accepted": {"front": accepted["front"], "side": accepted["side"],
                     "front_share": round(accepted["front"] / n, 3), "side_share": round(accepted["side"] / n, 3)},
        "blocking_reasons": {k: dict(v.most_common()) for k, v in reasons.items()},
        "val_photos": len(rows),
        "grade_agreement_val": {
            "side_path_on_photos_it_accepts": summarise(rows, "side_acne"),
            "front_path_gate_lifted_same_photos": summarise([r for r in rows if r["side_acne"] is not None], "front_acne"),
            "front_path_gate_lifted_all_val": summarise(rows, "front_acne"),
            "front_path_as_gated": summarise([r for r in rows if r["front_ok"]], "front_acne"),
        },
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
