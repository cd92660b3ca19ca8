"""Are the scores honest? Overall against the concerns it summarises, and each score's sensitivity to exposure.

    python bench/honest_scores.py --data ../shared/data [--faces 40] [--out bench/results/honest_scores.json]

Validation photos only (``training.datasets.split_of``; the model never trained on them):

* **Overall** (``calibration.overall_of``): ACNE04 clinical side views, scored on the side path of
  the cheek the face mesh says is shown (as the Scan page scores them), and ordinary front faces
  (CelebAMask, FASSEG, HELEN). For each, Overall's word under the plain mean (the rule before) and
  under the capped mean (now): how many read Overall "good" while a concern reads "needs care", and
  how many ACNE04 photos of grade 2-3 read Overall "good".
* **Exposure**: each front face re-analysed with its pixels scaled by 0.9, 0.8 and 0.7 (sRGB values,
  as a dimmer room or a darker exposure gives); per concern the least-squares slope of score against
  the factor, reported as score points per 0.1 of brightness (median of |slope| over faces and the
  95th percentile), and the share of faces whose score at 0.7 moved by more than the concern's noise
  band (``models/noise_band.json``).
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from skin_app.concerns import CONCERNS, VIEW_CONCERNS  # noqa: E402
from skin_app.errors import FaceError, ImageError  # noqa: E402
from skin_app.history.progress import load_noise_band  # noqa: E402
from skin_app.scan import face as F  # noqa: E402
from skin_app.scan.analysis import analyze, check_photo  # noqa: E402
from skin_app.scan.calibration import word_for  # noqa: E402
from skin_app.training.datasets import split_of  # noqa: E402

FACTORS = (1.0, 0.9, 0.8, 0.7)


def val_files(folder: Path, dataset: str) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png") and split_of(dataset, p.stem) == "val")


def ordinary_faces(data: Path) -> list[Path]:
    return (val_files(data / "celebamask_mini" / "images", "celebamask_mini")
            + sorted(p for p in (data / "fasseg_frontal02" / "Test_RGB").glob("*") if p.suffix.lower() in (".jpg", ".png"))
            + sorted(p for p in data.glob("helen_68lm/*/*.jpg") if split_of("helen_68lm", p.stem) == "val"))


def overall_words(scores: dict, concerns) -> dict:
    """Overall's word now (the engine's capped mean) and under the plain mean it replaced."""
    mean = float(np.mean([scores[c] for c in concerns]))
    needs_care = any(word_for(scores[c]) == "needs care" for c in concerns)
    return {"needs_care": needs_care, "now": word_for(scores["overall"]), "plain_mean": word_for(mean)}


def tally(rows: list[dict]) -> dict:
    return {"n": len(rows),
            "overall_good": {k: sum(r[k] == "good" for r in rows) for k in ("plain_mean", "now")},
            "overall_good_while_a_concern_needs_care": {
                k: sum(r[k] == "good" and r["needs_care"] for r in rows) for k in ("plain_mean", "now")}}


def jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--faces", type=int, default=40, help="ordinary front faces for the exposure part")
    ap.add_argument("--front", type=int, default=0, help="at most this many ordinary front faces for Overall (0: all)")
    ap.add_argument("--skip-side", action="store_true", help="leave out the ACNE04 side views")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "honest_scores.json")
    args = ap.parse_args()
    from skin_app.scan.segmentation import load_segmenter
    seg = load_segmenter()
    band = load_noise_band()
    t0 = time.perf_counter()

    side_rows = []
    for path in [] if args.skip_side else val_files(args.data / "acne04v2_512" / "images", "acne04v2_512"):
        data = path.read_bytes()
        front = check_photo(data, "front")
        if front.aligned is None:
            continue
        side = F.visible_side(front.aligned.points, front.aligned.crop.shape[0])
        checked = check_photo(data, side)
        if not checked.quality.ok:
            continue
        r = analyze(data, seg, checked=checked)
        grade = int(path.stem.split("_")[0].replace("levle", ""))
        side_rows.append({"photo": path.name, "grade": grade, "scores": r.scores,
                          **overall_words(r.scores, VIEW_CONCERNS[side])})

    front_rows: list[dict] = []
    exposure: dict[str, list] = {k: [] for k in (*CONCERNS, "overall")}
    moved = {k: 0 for k in exposure}
    exposure_ratio = []                # conditions.measure's exposure at 0.7 over the original's
    faces = ordinary_faces(args.data)
    if args.front:                    # an even spread over the three datasets
        faces = faces[::max(1, len(faces) // args.front)][:args.front]
    for path in faces:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        try:
            base = analyze(jpeg(rgb), seg)
        except (FaceError, ImageError):
            continue
        front_rows.append({"photo": path.name, "scores": base.scores, **overall_words(base.scores, CONCERNS)})
        if len(front_rows) > args.faces or not np.isfinite(base.metrics["conditions"]["exposure"]):
            continue
        runs = [base.scores]
        for f in FACTORS[1:]:
            try:
                dim = analyze(jpeg((rgb * f).round().astype(np.uint8)), seg)
            except FaceError:
                runs.append({})
                continue
            runs.append(dim.scores)
            if f == FACTORS[-1]:
                exposure_ratio.append(dim.metrics["conditions"]["exposure"] / base.metrics["conditions"]["exposure"])
        for k in exposure:
            pts = [(f, s[k]) for f, s in zip(FACTORS, runs) if k in s]
            if len(pts) >= 3:
                slope = np.polyfit([p[0] for p in pts], [p[1] for p in pts], 1)[0]
                exposure[k].append(abs(float(slope)) * 0.1)
            if k in runs[-1]:
                moved[k] += abs(runs[-1][k] - base.scores[k]) > band[k]
    n_exp = max(len(v) for v in exposure.values())
    report = {
        "seconds": round(time.perf_counter() - t0, 1),
        "acne04_side_views_val": {**tally(side_rows),
                                  "grade_2_3": tally([r for r in side_rows if r["grade"] >= 2])},
        "ordinary_front_faces_val": tally(front_rows),
        "exposure_points_per_0.1_brightness": {
            k: {"faces": len(v), "median": round(float(np.median(v)), 2), "p95": round(float(np.percentile(v, 95)), 2),
                "share_beyond_noise_band_at_0.7": round(moved[k] / max(n_exp, 1), 3), "noise_band": band[k]}
            for k, v in exposure.items() if v},
        "measured_exposure_ratio_at_0.7": {"median": round(float(np.median(exposure_ratio)), 3) if exposure_ratio else None,
                                           "max": round(float(np.max(exposure_ratio)), 3) if exposure_ratio else None},
        "rows": {"side": side_rows, "front": front_rows},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
