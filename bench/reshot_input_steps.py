"""Does an input step before the model steady its answer between re-shots? The noise bench's shots, with the
crop filtered or averaged over photometric copies before the network, scored on the raw measures.

    python bench/reshot_input_steps.py --data ../shared/data --mode gauss:0.8 [--faces 20] [--seed 0]

Modes (each applied to the 384 px crop inside ``SkinSegmenter.predict``, mirror averaging kept):

* ``none``: the app as it is (the baseline, run it in the same session);
* ``gauss:S`` / ``median:K`` / ``bilateral:S``: a Gaussian blur of S px, a K px median, a bilateral filter with
  colour sigma S (JPEG blocks, sensor noise and pores smoothed before the model sees them);
* ``tta-exposure`` / ``tta-wb`` / ``tta-jpeg``: the output averaged over the crop and two copies of it
  (sRGB x0.88 and x1.12; white balance R x(1 -+ 0.08) B x(1 +- 0.08); re-saved as JPEG quality 60 and 80).

The display scores of such a run mean little: the shipped curves were fitted without the step, so a blur
that marks less moves faces onto flatter parts of the curves. What it reports is curve-free: the 95th
percentile, over every pair of shots of a face, of the change in each raw measure the curves read (log10 of
the soft share + 0.002 for acne, dark spots and wrinkles; log10 of the dark-circle mean probability + 0.002;
log10 of the acne lesion count + 1), beside the spread of that measure between faces (its standard
deviation over the originals), which a step must not flatten. Appends one row per mode to ``--out``
(default ``bench/results/reshot_input_steps.json``).
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from skin_app.scan import segmentation  # noqa: E402

RAW = {
    "acne_soft_share": lambda m: math.log10(m["soft_fraction"]["acne"] + 0.002),
    "dark_spot_soft_share": lambda m: math.log10(m["soft_fraction"]["flek"] + 0.002),
    "wrinkle_soft_share": lambda m: math.log10(m["soft_fraction"]["wrinkle"] + 0.002),
    "dark_circle_mean_probability": lambda m: math.log10(m["mean_probability"]["panda_eye"] + 0.002),
    "acne_lesion_count": lambda m: math.log10(m["acne_lesion_count"] + 1),
}


def copies(crop: np.ndarray, mode: str) -> list[np.ndarray]:
    """What goes through the network in place of the crop (outputs averaged)."""
    kind, _, amount = mode.partition(":")
    x = crop.astype(np.float32)
    if kind == "none":
        return [crop]
    if kind == "gauss":
        return [cv2.GaussianBlur(crop, (0, 0), float(amount))]
    if kind == "median":
        return [cv2.medianBlur(crop, int(amount))]
    if kind == "bilateral":
        return [cv2.bilateralFilter(crop, 5, float(amount), 3)]
    if kind == "tta-exposure":
        return [crop] + [np.clip(x * g, 0, 255).astype(np.uint8) for g in (0.88, 1.12)]
    if kind == "tta-wb":
        return [crop] + [np.clip(x * np.array([1 + t, 1, 1 - t], np.float32), 0, 255).astype(np.uint8)
                         for t in (-0.08, 0.08)]
    if kind == "tta-jpeg":
        out = [crop]
        for q in (60, 80):
            _, buf = cv2.imencode(".jpg", np.ascontiguousarray(crop[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, q])
            out.append(np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]))
        return out
    raise SystemExit(f"unknown --mode {mode}")


def with_input_step(mode: str) -> None:
    """Puts the step in front of the network for this process."""
    plain = segmentation.SkinSegmenter.predict

    def predict(self, crop, flip_average=False):
        outs = [plain(self, np.ascontiguousarray(c), flip_average) for c in copies(crop, mode)]
        return sum(outs) / np.float32(len(outs))
    segmentation.SkinSegmenter.predict = predict  # type: ignore[method-assign]


def raw_changes(detail: dict) -> dict:
    """Per raw measure: p95 of |change| over every pair of shots of a face, and the between-face spread."""
    changes: dict[str, list[float]] = {k: [] for k in RAW}
    originals: dict[str, list[float]] = {k: [] for k in RAW}
    for face in detail["faces"]:
        shots = [face["original_metrics"]] + [v["metrics"] for v in face["variants"] if "scores" in v]
        shots = [s for s in shots if s and s.get("soft_fraction")]
        for k, read in RAW.items():
            values = [read(s) for s in shots]
            if values:
                originals[k].append(values[0])
            changes[k] += [abs(a - b) for a, b in itertools.combinations(values, 2)]
    return {k: {"p95_change": round(float(np.percentile(changes[k], 95)), 3),
                "between_faces_sd": round(float(np.std(originals[k])), 3), "pairs": len(changes[k])} for k in RAW}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--mode", default="none")
    ap.add_argument("--faces", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reshot_input_steps.json")
    a = ap.parse_args(argv)
    copies(np.zeros((32, 32, 3), np.uint8), a.mode)          # an unknown mode fails before the long part
    with_input_step(a.mode)
    import noise_band
    with tempfile.TemporaryDirectory() as tmp:
        band, detail = Path(tmp) / "noise_band.json", Path(tmp) / "detail.json"
        noise_band.main(["--data", str(a.data), "--faces", str(a.faces), "--seed", str(a.seed),
                         "--out", str(band), "--detail", str(detail)])
        row = {"mode": a.mode, "faces": a.faces, "seed": a.seed, **raw_changes(json.loads(detail.read_text()))}
    rows = json.loads(a.out.read_text()) if a.out.exists() else []
    rows = [r for r in rows if (r["mode"], r["faces"], r["seed"]) != (a.mode, a.faces, a.seed)] + [row]
    a.out.write_text(json.dumps(rows, indent=1))
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
