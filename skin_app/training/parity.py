"""Does the fast path agree with the Keras reference? Speed and accuracy of every TFLite kind.

    python -m skin_app.training.parity --data ../shared/data [--kinds dynamic_int8 full_int8 float16 float32]
        [--limit 0] [--calibration 96] [--flip] [--out models/parity.json]

For each kind in ``segmentation.FAST_KINDS`` the shipped weights are converted (``full_int8`` is
calibrated on ``--calibration`` photos drawn evenly from the TRAINING split of every dataset, never
from validation photos), then on the validation photos (``datasets.split_of``), letterboxed to the
model's input exactly as ``evaluate.py`` does:

* the evaluation metrics of the reference and of the candidate side by side (IoU, Dice, lesion F1 ...,
  from ``evaluate.score_sample`` at the shipped thresholds) and their difference;
* per photo and channel the soft area fraction (mean probability) and the thresholded area fraction;
  the 95th percentile and the maximum of |candidate - reference|;
* the app's scores: ``analyze()`` with each engine on the validation photos of the face sets (JPEG
  q95 bytes, as an upload), p95 and max of |score difference| over photos the quality gate passes.

Accepted when IoU and Dice differ by at most ``IOU_TOL``, lesion F1 by at most ``F1_TOL``, area
fractions by at most ``AREA_TOL`` at the 95th percentile and scores by at most ``SCORE_TOL`` points at
the 95th percentile. Also times one 384 px crop through each engine (interleaved, same process).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import time
from pathlib import Path
from typing import cast

import numpy as np

from skin_app.config import setup_tensorflow_env

setup_tensorflow_env()

from skin_app.concerns import CHANNELS  # noqa: E402
from skin_app.scan.segmentation import INPUT_SIZE, SkinSegmenter  # noqa: E402
from skin_app.training.datasets import LOADERS, iter_samples  # noqa: E402
from skin_app.training.evaluate import Accumulator, score_sample  # noqa: E402
from skin_app.training.pack import letterbox_with_transform  # noqa: E402

IOU_TOL, F1_TOL, AREA_TOL, SCORE_TOL = 0.01, 0.02, 0.01, 1.0
FACE_SETS = ("celebamask_mini", "fasseg_frontal02", "helen_68lm", "acne04v2_512", "gjain_wrinkle_darkcircle")
TOLERANCE = {"iou": IOU_TOL, "dice": IOU_TOL, "lesion_f1": F1_TOL}


def calibration_photos(data_root: Path, n: int, side: int) -> list[np.ndarray]:
    """``n`` letterboxed training photos, spread evenly over the datasets present (every 4th photo of each)."""
    present = [d for d in LOADERS if (Path(data_root) / d).is_dir()]
    per_set = max(1, n // max(len(present), 1))
    out = []
    for d in present:
        taken = 0
        for i, s in enumerate(iter_samples(data_root, [d], "train")):
            if i % 4:
                continue
            out.append(letterbox_with_transform(s.image, {}, side)[0])
            taken += 1
            if taken >= per_set:
                break
    return out


def build_engines(kinds: list[str], data_root: Path, calibration: int, threads: int | None):
    """The reference segmenter and {kind: segmenter} for the shipped weights. Conversions are cached
    like the app's (segmentation.cached_fast_model), so a re-run converts nothing."""
    import hashlib

    from skin_app.config import model_path
    from skin_app.scan import segmentation as seg_mod
    ref = seg_mod.load_segmenter(engine="reference")
    digest = hashlib.sha256(model_path().read_bytes()).hexdigest()
    engines = {}
    for kind in kinds:
        t0 = time.perf_counter()

        def rep():
            for p in calibration_photos(data_root, calibration, INPUT_SIZE):
                yield [p[None].astype(np.float32)]
        flat = seg_mod.cached_fast_model(lambda: ref.engine.model, digest, kind, rep if kind == "full_int8" else None)
        engines[kind] = seg_mod.SkinSegmenter(seg_mod.TFLiteEngine(flat, kind, threads), ref.version, ref.thresholds)
        print(f"{kind}: ready in {time.perf_counter() - t0:.0f} s, {len(flat) / 1e6:.1f} MB", flush=True)
    return ref, engines


def speed(ref, engines: dict, crop: np.ndarray, rounds: int = 10) -> dict:
    runners = {"keras-reference": ref, **engines}
    times: dict[str, dict[str, list[float]]] = {k: {"plain": [], "flip": []} for k in runners}
    for s in runners.values():       # warm-up: first calls allocate and pack weights
        s.predict(crop), s.predict(crop, flip_average=True)
    for _ in range(rounds):
        for name, s in runners.items():
            for mode in ("plain", "flip"):
                t0 = time.perf_counter()
                s.predict(crop, flip_average=mode == "flip")
                times[name][mode].append((time.perf_counter() - t0) * 1000)
    return {name: {mode: {"p50_ms": round(float(np.median(v)), 1), "min_ms": round(float(np.min(v)), 1)}
                   for mode, v in modes.items()} for name, modes in times.items()}


def parity(data_root: Path, ref, engines: dict, limit: int, flip: bool, datasets: list[str] | None = None) -> dict:
    accs = {"reference": Accumulator(), **{k: Accumulator() for k in engines}}
    soft: dict[str, list[np.ndarray]] = {k: [] for k in engines}
    hard: dict[str, list[np.ndarray]] = {k: [] for k in engines}
    counts: dict[str, int] = {}
    for s in iter_samples(data_root, datasets, "val"):
        if limit and counts.get(s.dataset, 0) >= limit:
            continue
        counts[s.dataset] = counts.get(s.dataset, 0) + 1
        image, codes, transform = letterbox_with_transform(s.image, s.codes, INPUT_SIZE)
        p_ref = ref.predict(image, flip_average=flip)
        score_sample(accs["reference"], s, p_ref, codes, transform, ref.thresholds)
        thr = np.array([ref.thresholds[ch] for ch in CHANNELS], np.float32)
        for k, e in engines.items():
            p = e.predict(image, flip_average=flip)
            score_sample(accs[k], s, p, codes, transform, ref.thresholds)
            soft[k].append(np.abs(p.mean((0, 1)) - p_ref.mean((0, 1))))
            hard[k].append(np.abs((p > thr).mean((0, 1)) - (p_ref > thr).mean((0, 1))))
    ref_rows = {(r["dataset"], r["target"], r["metric"]): r for r in accs["reference"].rows()}
    kinds: dict[str, dict] = {}
    for k in engines:
        rows = []
        for r in accs[k].rows():
            key = (r["dataset"], r["target"], r["metric"])
            base = ref_rows[key]["value"]
            rows.append({**r, "reference": base, "diff": round(r["value"] - base, 4)})
        sa, ha = np.array(soft[k]), np.array(hard[k])
        areas = {ch: {"soft_p95": round(float(np.percentile(sa[:, i], 95)), 5), "soft_max": round(float(sa[:, i].max()), 5),
                      "thresholded_p95": round(float(np.percentile(ha[:, i], 95)), 5),
                      "thresholded_max": round(float(ha[:, i].max()), 5)} for i, ch in enumerate(CHANNELS)}
        kinds[k] = {"metrics": rows, "areas": areas}
    return {"photos": counts, "kinds": kinds}


def score_parity(data_root: Path, ref, engines: dict, limit: int, flip: bool, datasets: list[str] | None = None) -> dict:
    """|score difference| of ``analyze()`` with each engine vs the reference, over gate-passing photos."""
    from PIL import Image

    from skin_app.errors import FaceError
    from skin_app.scan.analysis import analyze
    diffs: dict[str, list[list[float]]] = {k: [] for k in engines}
    counts: dict[str, int] = {}
    refused = 0
    names: list[str] = []
    for s in iter_samples(data_root, [d for d in FACE_SETS if not datasets or d in datasets], "val"):
        if limit and counts.get(s.dataset, 0) >= limit:
            continue
        counts[s.dataset] = counts.get(s.dataset, 0) + 1
        buf = io.BytesIO()
        Image.fromarray(s.image).save(buf, format="JPEG", quality=95)
        try:
            base = analyze(buf.getvalue(), _Flip.around(ref, flip))
        except FaceError:
            refused += 1
            continue
        names = sorted(base.scores)
        for k, e in engines.items():
            r = analyze(buf.getvalue(), _Flip.around(e, flip))
            diffs[k].append([abs(r.scores[c] - base.scores[c]) for c in sorted(base.scores)])
    kinds: dict[str, dict] = {}
    for k, d in diffs.items():
        a = np.array(d) if d else np.zeros((0, len(names)))
        kinds[k] = {c: {"p95": round(float(np.percentile(a[:, i], 95)), 3) if len(a) else None,
                               "max": round(float(a[:, i].max()), 3) if len(a) else None}
                           for i, c in enumerate(names)}
        kinds[k]["n"] = len(a)
    return {"photos": counts, "refused_by_gate": refused, "kinds": kinds}


class _Flip:
    """A segmenter seen by analyze() with flip averaging switched on or off."""

    def __init__(self, seg, flip: bool) -> None:
        self.seg, self.flip = seg, flip
        self.thresholds, self.version = seg.thresholds, seg.version

    def predict(self, crop: np.ndarray, flip_average: bool = False) -> np.ndarray:
        return self.seg.predict(crop, flip_average=self.flip)

    @classmethod
    def around(cls, seg, flip: bool) -> SkinSegmenter:
        """Wrapped, and typed as what analyze() takes (it only calls predict, thresholds and version)."""
        return cast("SkinSegmenter", cls(seg, flip))


def verdict(kind_parity: dict, kind_scores: dict | None) -> list[str]:
    """Every tolerance the candidate misses (empty: accepted)."""
    misses = []
    for r in kind_parity["metrics"]:
        tol = TOLERANCE.get(r["metric"])
        if tol is not None and abs(r["diff"]) > tol:
            misses.append(f"{r['dataset']} {r['target']} {r['metric']} {r['value']:.3f} vs {r['reference']:.3f}")
    for ch, a in kind_parity["areas"].items():
        if a["soft_p95"] > AREA_TOL or a["thresholded_p95"] > AREA_TOL:
            misses.append(f"{ch} area fraction p95 diff soft {a['soft_p95']:.4f} thresholded {a['thresholded_p95']:.4f}")
    for c, v in (kind_scores or {}).items():
        if c != "n" and v["p95"] is not None and v["p95"] > SCORE_TOL:
            misses.append(f"score {c} p95 diff {v['p95']:.2f}")
    return misses


def main(argv: list[str] | None = None) -> None:
    from skin_app.scan.segmentation import FAST_KINDS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--kinds", nargs="+", choices=FAST_KINDS, default=["dynamic_int8"])
    ap.add_argument("--limit", type=int, default=0, help="at most this many validation photos per dataset (0: all)")
    ap.add_argument("--score-limit", type=int, default=40, help="photos per face set for the score check (0: all)")
    ap.add_argument("--calibration", type=int, default=96, help="training photos for full_int8 calibration")
    ap.add_argument("--flip", action="store_true", help="compare with flip averaging on both sides")
    ap.add_argument("--threads", type=int, help="interpreter threads (default: the app's)")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--datasets", nargs="*", choices=list(LOADERS), help="only these validation sets (default: all)")
    ap.add_argument("--speed-only", action="store_true", help="time the engines, skip the validation photos")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    t0 = time.time()
    load = os.getloadavg()
    ref, engines = build_engines(a.kinds, a.data, a.calibration, a.threads)
    crop = letterbox_with_transform(next(iter_samples(a.data, ["celebamask_mini"], "val")).image, {}, INPUT_SIZE)[0]
    timing = {} if a.skip_speed else speed(ref, engines, crop)
    print(json.dumps(timing), flush=True)
    if a.speed_only:
        if a.out:
            a.out.parent.mkdir(parents=True, exist_ok=True)
            a.out.write_text(json.dumps({"when": time.strftime("%Y-%m-%d %H:%M:%S"), "loadavg_start": load,
                                         "loadavg_end": os.getloadavg(), "threads": a.threads, "speed_384": timing},
                                        indent=1) + "\n")
        return
    par = parity(a.data, ref, engines, a.limit, a.flip, a.datasets)
    scores = score_parity(a.data, ref, engines, a.score_limit, a.flip, a.datasets)
    result = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "flip_average": a.flip, "loadavg_start": load,
              "loadavg_end": os.getloadavg(), "threads": next(iter(engines.values())).engine.threads if engines else None,
              "speed_384": timing, "parity": par, "scores": scores, "verdict": {}}
    for k in engines:
        misses = verdict(par["kinds"][k], scores["kinds"].get(k))
        result["verdict"][k] = {"accepted": not misses, "misses": misses}
        print(f"\n== {k}: {'ACCEPTED' if not misses else 'REJECTED'}  speed {timing.get(k)}")
        for r in par["kinds"][k]["metrics"]:
            if r["metric"] in TOLERANCE:
                print(f"  {r['dataset']:26s} {r['target']:10s} {r['metric']:10s} ref {r['reference']:.4f} "
                      f"fast {r['value']:.4f} diff {r['diff']:+.4f}")
        print("  areas:", json.dumps(par["kinds"][k]["areas"]))
        print("  scores:", json.dumps(scores["kinds"].get(k)))
        for m in misses:
            print("  MISS", m)
    print(f"\nreference speed {timing.get('keras-reference')}; {time.time() - t0:.0f} s; load {load} -> {os.getloadavg()}")
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
