"""Scan engine benchmark: warm ``analyze()`` on a 12 MP phone-style JPEG against the seed-style baseline.

    python bench/bench_analyze.py [--photo FACE.jpg] [--n 20] [--n-baseline 5] [--out bench/results/analyze.json]

In one process, in this order (so the memory peak of ours is read before the baseline exists):

1. ``import tensorflow`` (timed), then ``load_segmenter()`` in a fresh state (timed: read
   ``models/skin_unet_resnet34.npz``, then the fast TensorFlow Lite model from its cache under the
   app's home folder, or, on a first start or after new weights, build the Keras model and convert
   it; ``--fresh-cache`` points the cache at an empty folder to time that first start).
2. ``analyze(jpeg)``: one cold call (first mediapipe graph run included), ``--warmup`` unrecorded
   calls. Peak RSS (``ru_maxrss``) is read here: the whole process with ours loaded and run.
3. The seed-style baseline on the same bytes, as issue 14 defines it: ``cv2.imdecode`` of the full
   12 MP JPEG, an OpenCV Haar cascade (``haarcascade_frontalface_default.xml``,
   ``detectMultiScale(gray, 1.3, 5)``) on the full-size grey image, crop of the largest box resized to
   256 px, then six separate one-channel ``segmentation_models.Unet('resnet34', classes=1,
   encoder_weights=None)`` models each called with ``model.predict``. The six models have RANDOM
   weights: only their time is measured (a forward pass costs the same whatever the weights).
   Thresholding and scoring are left out of the baseline, which favours it slightly. One cold
   baseline call first.
4. Timed, interleaved so all see the same load from other users of the shared machine:
   ``--n-baseline`` rounds of one baseline call followed by ``--n / --n-baseline`` calls of ours and
   as many of ours with flip averaging (the crop and its mirror in one batch of two, see
   ``SkinSegmenter.predict``), alternating; p50 / p95 of the wall time and the median of each stage.

The test photo, made at run time: ``--photo`` (a real face photo; recommended) or by default
``skimage.data.astronaut()`` (public domain), cropped around the face to 3:4, upscaled to 3000x4000
with bicubic interpolation, given mild sensor-like noise (sigma 3 grey levels) so the JPEG has a
realistic size (a noiseless upscale compresses to a fraction of a real phone photo and would decode
unrealistically fast), then stored as 4000x3000 landscape pixels with EXIF Orientation = 6, as a
phone held upright writes it, and encoded as JPEG q92.

The machine is shared: the load average at start and end is recorded beside the figures.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()   # SM_FRAMEWORK=tf.keras, TF_USE_LEGACY_KERAS=1 before any TensorFlow import

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from skin_app.scan.segmentation import SkinSegmenter  # noqa: E402

TARGET_W, TARGET_H = 3000, 4000      # portrait as displayed; stored 4000x3000 with EXIF orientation 6
BASELINE_SIZE = 256
GOAL_P50_MS, GOAL_RATIO = 100.0, 8.0
HAAR_SCALE_FACTOR, HAAR_MIN_NEIGHBORS = 1.3, 5      # issue 14: detectMultiScale(gray, 1.3, 5)


def rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def make_photo(photo: str | None, quality: int = 92, seed: int = 0) -> tuple[bytes, dict]:
    """A 12 MP portrait JPEG (stored landscape + EXIF orientation 6) with the face large in the frame."""
    import cv2
    if photo:
        src = np.asarray(Image.open(photo).convert("RGB"))
        source = str(photo)
        # Use the whole photo, cropped to 3:4 around its centre.
        h, w = src.shape[:2]
        if w / h > 3 / 4:
            cw = int(h * 3 / 4)
            src = src[:, (w - cw) // 2:(w - cw) // 2 + cw]
        else:
            ch = int(w * 4 / 3)
            src = src[(h - ch) // 2:(h - ch) // 2 + ch]
    else:
        from skimage import data
        src = data.astronaut()[0:400, 100:400]     # 300x400 (3:4) around the face, which is ~150 px wide
        source = "skimage.data.astronaut() crop [0:400, 100:400]"
    big = cv2.resize(src, (TARGET_W, TARGET_H), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(seed)
    big = np.clip(big.astype(np.float32) + rng.normal(0, 3.0, big.shape).astype(np.float32), 0, 255).astype(np.uint8)
    stored = np.ascontiguousarray(np.rot90(big, k=1))          # 4000 wide x 3000 high; orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(stored).save(buf, format="JPEG", quality=quality, exif=exif.tobytes())
    data_bytes = buf.getvalue()
    info = {"source": source, "stored_size": [stored.shape[1], stored.shape[0]], "displayed_size": [TARGET_W, TARGET_H],
            "exif_orientation": 6, "jpeg_quality": quality, "bytes": len(data_bytes),
            "megapixels": round(TARGET_W * TARGET_H / 1e6, 1)}
    return data_bytes, info


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": round(pct(values, 50), 1), "p95_ms": round(pct(values, 95), 1),
            "min_ms": round(min(values), 1), "max_ms": round(max(values), 1), "mean_ms": round(statistics.fmean(values), 1)}


class Flipped:
    """The loaded segmenter as analyze() sees it, with flip averaging on (same engine, same weights)."""

    def __init__(self, seg) -> None:
        self.seg, self.thresholds, self.version = seg, seg.thresholds, seg.version

    def predict(self, crop, flip_average: bool = False):
        return self.seg.predict(crop, flip_average=True)


def flipped_segmenter(seg) -> SkinSegmenter:
    """``Flipped`` where analyze() takes a segmenter (it reads only what ``Flipped`` has)."""
    return cast(SkinSegmenter, Flipped(seg))


def thread_variant(seg, threads: int):
    """The same fast model in an interpreter with another thread count (for the --threads comparison)."""
    from skin_app.scan import segmentation
    engine = segmentation.TFLiteEngine(seg.engine.flatbuffer, seg.engine.kind, threads)
    variant = segmentation.SkinSegmenter(engine, seg.version, seg.thresholds)
    variant.predict(np.zeros((segmentation.INPUT_SIZE, segmentation.INPUT_SIZE, 3), np.uint8))
    return variant


def prepare_ours(jpeg: bytes, warmup: int) -> tuple[dict, object, object]:
    t0 = time.perf_counter()
    import tensorflow as tf
    tf_import_s = time.perf_counter() - t0
    from skin_app.scan import segmentation
    from skin_app.scan.analysis import analyze

    rss_before_load = current_rss_mb()
    t0 = time.perf_counter()
    seg = segmentation.load_segmenter()
    load_s = time.perf_counter() - t0
    rss_after_load = current_rss_mb()

    t0 = time.perf_counter()
    first = analyze(jpeg, seg)
    cold_ms = (time.perf_counter() - t0) * 1000
    for _ in range(warmup):
        analyze(jpeg, seg)
        analyze(jpeg, flipped_segmenter(seg))
    info = {
        "cold_first_call_ms": round(cold_ms, 1),
        "tf_import_s": round(tf_import_s, 2),
        "load_segmenter_s": round(load_s, 2),
        "rss_before_load_mb": round(rss_before_load, 1),
        "rss_after_load_mb": round(rss_after_load, 1),
        "peak_rss_mb": round(rss_mb(), 1),
        "model_version": seg.version,
        "engine": seg.engine.name,
        "interpreter_threads": getattr(seg.engine, "threads", None),
        "faces_found": first.faces_found,
        "scores": first.scores,
        "quality_issues": [i.code for i in first.quality.issues],
        "tf_version": tf.__version__,
    }
    return info, analyze, seg


def time_ours(analyze, seg, jpeg: bytes, walls: list, stages: dict) -> None:
    t0 = time.perf_counter()
    res = analyze(jpeg, seg)
    walls.append((time.perf_counter() - t0) * 1000)
    for k, v in res.timings_ms.items():
        stages.setdefault(k, []).append(v)


class SeedBaseline:
    """The seed's shape of pipeline: Haar face crop on the full-size image + six 1-channel UNets via predict."""

    def __init__(self, scale_factor: float = HAAR_SCALE_FACTOR, min_neighbors: int = HAAR_MIN_NEIGHBORS):
        import cv2
        import segmentation_models as sm
        from cv2 import data as cv2_data
        path = cv2_data.haarcascades + "haarcascade_frontalface_default.xml"
        if not os.path.exists(path):
            raise SystemExit(f"Haar cascade not found at {path}: the installed OpenCV wheel does not ship it.")
        self.cascade_path = path
        self.cascade = cv2.CascadeClassifier(path)
        self.scale_factor, self.min_neighbors = scale_factor, min_neighbors
        t0 = time.perf_counter()
        self.models = [sm.Unet("resnet34", classes=1, activation="sigmoid", encoder_weights=None,
                               input_shape=(BASELINE_SIZE, BASELINE_SIZE, 3)) for _ in range(6)]
        self.build_s = time.perf_counter() - t0

    def __call__(self, jpeg: bytes) -> dict:
        import cv2
        t = time.perf_counter()
        laps: dict[str, Any] = {}

        def lap(name):
            nonlocal t
            now = time.perf_counter()
            laps[name] = (now - t) * 1000
            t = now

        bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        lap("decode_ms")
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        boxes = self.cascade.detectMultiScale(grey, self.scale_factor, self.min_neighbors)
        if len(boxes):
            x, y, w, h = max(boxes, key=lambda b: b[2] * b[3])
            crop = bgr[y:y + h, x:x + w]
        else:
            crop = bgr
        crop = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB), (BASELINE_SIZE, BASELINE_SIZE))
        lap("haar_face_ms")
        x = crop[None].astype(np.float32)
        for m in self.models:
            m.predict(x, verbose=0)
        lap("six_unets_predict_ms")
        laps["faces"] = len(boxes)
        laps["decoded_shape"] = list(bgr.shape)
        return laps


def time_baseline(base: SeedBaseline, jpeg: bytes, walls: list, stages: dict) -> None:
    t0 = time.perf_counter()
    laps = base(jpeg)
    walls.append((time.perf_counter() - t0) * 1000)
    for k in ("decode_ms", "haar_face_ms", "six_unets_predict_ms"):
        stages.setdefault(k, []).append(laps[k])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", help="a real face photo to blow up to 12 MP (default: skimage astronaut)")
    ap.add_argument("--n", type=int, default=20, help="timed analyze() runs")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--n-baseline", type=int, default=5, help="timed baseline runs")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--threads", type=int, nargs="*", default=[],
                    help="also time analyze() with the fast model in an interpreter with this many threads "
                         "(interleaved with the rest; the app's default is segmentation.DEFAULT_THREADS)")
    ap.add_argument("--fresh-cache", action="store_true",
                    help="time a first start: the fast model is converted into an empty temporary cache folder")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "analyze.json"))
    args = ap.parse_args(argv)

    if args.fresh_cache:
        import tempfile
        os.environ["SKINGORITHM_HOME"] = tempfile.mkdtemp(prefix="skingorithm-bench-")
    load_start = os.getloadavg()
    jpeg, photo = make_photo(args.photo)
    info, analyze, seg = prepare_ours(jpeg, args.warmup)     # peak RSS of ours is read before the baseline exists
    base = None
    if not args.skip_baseline:
        base = SeedBaseline()
        t0 = time.perf_counter()
        first = base(jpeg)        # the first predict per model builds its predict function
        base_cold_ms = (time.perf_counter() - t0) * 1000
    # Interleaved timing, so both pipelines see the same load from other users of this shared machine:
    # each round is one baseline call followed by n / n_baseline calls of ours.
    o_walls: list[float] = []
    b_walls: list[float] = []
    f_walls: list[float] = []
    o_stages: dict[str, list[float]] = {}
    b_stages: dict[str, list[float]] = {}
    f_stages: dict[str, list[float]] = {}
    flipped = Flipped(seg)
    by_threads: dict[int, tuple[Any, list[float], dict[str, list[float]]]] = {
        t: (thread_variant(seg, t), [], {}) for t in args.threads}
    rounds = max(1, args.n_baseline) if base else 1
    per_round = [args.n // rounds + (1 if i < args.n % rounds else 0) for i in range(rounds)]
    for r in range(rounds):
        if base:
            time_baseline(base, jpeg, b_walls, b_stages)
        for _ in range(per_round[r]):
            time_ours(analyze, seg, jpeg, o_walls, o_stages)
            time_ours(analyze, flipped, jpeg, f_walls, f_stages)
            for variant, walls, stages in by_threads.values():
                time_ours(analyze, variant, jpeg, walls, stages)
    load_end = os.getloadavg()
    ours = {"wall": summary(o_walls), "stages_p50_ms": {k: round(pct(v, 50), 1) for k, v in o_stages.items()}, **info}
    ours_flip = {"wall": summary(f_walls), "stages_p50_ms": {k: round(pct(v, 50), 1) for k, v in f_stages.items()}}
    threads: dict[int, dict[str, Any]] = {t: {"wall": summary(w), "segment_p50_ms": round(pct(st["segment_ms"], 50), 1)}
               for t, (_, w, st) in by_threads.items()}
    baseline = None
    if base:
        baseline = {
            "wall": summary(b_walls),
            "stages_p50_ms": {k: round(pct(v, 50), 1) for k, v in b_stages.items()},
            "cold_first_call_ms": round(base_cold_ms, 1),
            "build_six_models_s": round(base.build_s, 2),
            "haar_faces_found": first["faces"],
            "decoded_shape": first["decoded_shape"],
            "cascade": os.path.basename(base.cascade_path),
            "haar_params": {"scaleFactor": base.scale_factor, "minNeighbors": base.min_neighbors},
            "weights": "random (encoder_weights=None, untrained): timing only",
            "peak_rss_mb_process_after_baseline": round(rss_mb(), 1),
        }

    result: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "loadavg_start": [round(v, 2) for v in load_start], "loadavg_end": [round(v, 2) for v in load_end]},
        "photo": photo,
        "ours": ours,
        "ours_flip_average": ours_flip,
        "ours_by_interpreter_threads": threads,
        "baseline": baseline,
    }
    if baseline:
        result["ratio_baseline_over_ours_p50"] = round(baseline["wall"]["p50_ms"] / ours["wall"]["p50_ms"], 2)
        result["ratio_baseline_over_ours_p95"] = round(baseline["wall"]["p95_ms"] / ours["wall"]["p95_ms"], 2)
        result["ratio_baseline_over_ours_flip_p50"] = round(baseline["wall"]["p50_ms"] / ours_flip["wall"]["p50_ms"], 2)
    result["goals"] = {"ours_p50_le_100ms": ours["wall"]["p50_ms"] <= GOAL_P50_MS,
                       "ratio_ge_8x": (result.get("ratio_baseline_over_ours_p50", 0) >= GOAL_RATIO) if baseline else None,
                       "flip_p50_le_100ms": ours_flip["wall"]["p50_ms"] <= GOAL_P50_MS}

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")

    print(f"photo: {photo['source']} -> {photo['displayed_size'][0]}x{photo['displayed_size'][1]} "
          f"({photo['megapixels']} MP, EXIF orientation 6), JPEG q{photo['jpeg_quality']}, {photo['bytes'] / 1e6:.2f} MB")
    print(f"load average start {load_start[0]:.2f}, end {load_end[0]:.2f} on {os.cpu_count()} CPUs")
    print()
    print(f"{'pipeline':<34}{'n':>4}{'p50 ms':>10}{'p95 ms':>10}{'cold ms':>10}")
    print(f"{'ours: analyze()':<34}{ours['wall']['n']:>4}{ours['wall']['p50_ms']:>10.1f}{ours['wall']['p95_ms']:>10.1f}"
          f"{ours['cold_first_call_ms']:>10.1f}")
    print(f"{'ours: analyze(), flip averaging':<34}{ours_flip['wall']['n']:>4}{ours_flip['wall']['p50_ms']:>10.1f}"
          f"{ours_flip['wall']['p95_ms']:>10.1f}")
    if baseline:
        print(f"{'baseline: Haar + 6x Unet.predict':<34}{baseline['wall']['n']:>4}{baseline['wall']['p50_ms']:>10.1f}"
              f"{baseline['wall']['p95_ms']:>10.1f}{baseline['cold_first_call_ms']:>10.1f}")
        print(f"ratio baseline/ours: p50 {result['ratio_baseline_over_ours_p50']}x, p95 {result['ratio_baseline_over_ours_p95']}x"
              f"  (goal >= {GOAL_RATIO}x)")
    print(f"ours stages p50: {ours['stages_p50_ms']}; with flip averaging: {ours_flip['stages_p50_ms']}")
    print(f"engine {ours['engine']}, {ours['interpreter_threads']} interpreter threads")
    for t, v in threads.items():
        print(f"  with {t} interpreter thread(s): analyze() p50 {v['wall']['p50_ms']} ms, p95 {v['wall']['p95_ms']} ms, "
              f"segment p50 {v['segment_p50_ms']} ms")
    if baseline:
        print(f"baseline stages p50: {baseline['stages_p50_ms']} (Haar faces found: {baseline['haar_faces_found']})")
    print(f"TensorFlow import {ours['tf_import_s']} s; load_segmenter (fresh) {ours['load_segmenter_s']} s")
    print(f"peak RSS with ours loaded and run: {ours['peak_rss_mb']:.0f} MB"
          + (f"; whole process after the baseline: {baseline['peak_rss_mb_process_after_baseline']:.0f} MB" if baseline else ""))
    print(f"goal p50 <= {GOAL_P50_MS:.0f} ms: {'met' if result['goals']['ours_p50_le_100ms'] else 'NOT met'}"
          + ("" if not baseline else f"; goal >= {GOAL_RATIO:.0f}x: {'met' if result['goals']['ratio_ge_8x'] else 'NOT met'}")
          + f"; with flip averaging p50 <= {GOAL_P50_MS:.0f} ms: {'met' if result['goals']['flip_p50_le_100ms'] else 'NOT met'}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
