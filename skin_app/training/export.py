"""Turns trained weights (``weights_part*.npz`` from ``train.py``) into the one file the app ships.

    python -m skin_app.training.export --run runs/r1 --out models/skin_unet_resnet34.npz \\
        [--check-input check.npz]
    python -m skin_app.training.export --stamp models/skin_unet_resnet34.npz

The shipped file holds the Keras layer weights of ``segmentation_models.Unet('resnet34', classes=6)``
keyed "<layer>/<index>": convolution kernels in float16 (half the size; measured to change no metric
at two decimals), batch-norm and biases in float32. ``--check-input`` takes an npz with ``x``
(input batch) and ``y`` (the PyTorch twin's sigmoid output on it) and fails if the Keras model
disagrees, so a port error cannot ship silently.

New weights need their own thresholds, calibration and noise band (``candidate.sh`` makes them, each
naming the weights' fingerprint); the app refuses the old ones beside them. ``--stamp`` only adds the
names to files made before the files named each other (it never changes a name a file already has,
and refuses a bundle whose names disagree): the thresholds and noise band get the weights'
fingerprint, the calibration ``scoring.MEASURE_VERSION`` (true only when it was fitted by the current
measurement code, as calibrate.py does).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def merge_parts(run_dir: Path) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    parts = sorted(Path(run_dir).glob("weights_part*.npz"))
    if not parts:
        raise FileNotFoundError(f"No weights_part*.npz in {run_dir}")
    for p in parts:
        with np.load(p) as z:
            arrays.update({k: z[k] for k in z.files})
    return arrays


def check_against_twin(arrays: dict[str, np.ndarray], check: Path, tol: float = 2e-2) -> float:
    from skin_app.scan.segmentation import build_model, set_weights
    model = build_model()
    set_weights(model, arrays)
    with np.load(check) as z:
        x, y = z["x"], z["y"]
    out = model(x, training=False).numpy()
    err = float(np.abs(out - y).max())
    if err > tol:
        raise SystemExit(f"Keras and PyTorch disagree: max |diff| = {err:.4f} > {tol}")
    return err


# Each file beside the weights: (name, what it must name when it lacks it, JSON indent its writer uses).
def _stamps(weights: Path) -> list[tuple[str, dict, int, str]]:
    from skin_app.scan.calibration import MEASURE_VERSION_KEY
    from skin_app.scan.measure import MEASURE_VERSION
    from skin_app.scan.segmentation import MODEL_WEIGHTS, weights_fingerprint
    fingerprint = weights_fingerprint(weights)
    return [("thresholds.json", {MODEL_WEIGHTS: fingerprint}, 1, ""),
            ("calibration.json", {MEASURE_VERSION_KEY: MEASURE_VERSION}, 1, "\n"),
            ("noise_band.json", {MODEL_WEIGHTS: fingerprint}, 2, "\n")]


def stamp(weights: Path) -> list[str]:
    """Adds the names a model file beside ``weights`` lacks (see the module docstring), then checks the
    bundle loads (``analysis.installed_scan_version``). Returns what was added, one line per name."""
    from skin_app.scan.analysis import installed_scan_version
    added = []
    for name, names, indent, end in _stamps(weights):
        path = weights.with_name(name)
        if not path.exists():
            continue
        spec = json.loads(path.read_text())
        missing = {k: v for k, v in names.items() if k not in spec}
        if missing:
            spec.update(missing)
            path.write_text(json.dumps(spec, indent=indent) + end)
            added += [f"{path}: {k} = {v!r}" for k, v in missing.items()]
    installed_scan_version(weights)         # raises ModelBundleError when the names disagree
    return added


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--check-input", type=Path)
    ap.add_argument("--stamp", type=Path, metavar="WEIGHTS", help="add the missing names to the files beside WEIGHTS")
    a = ap.parse_args(argv)
    if a.stamp:
        for line in stamp(a.stamp) or ["nothing to add"]:
            print(line)
        return
    if not (a.run and a.out):
        ap.error("--run and --out are needed (or --stamp)")
    arrays = merge_parts(a.run)
    if a.check_input:
        print(f"Keras vs PyTorch max |diff| = {check_against_twin(arrays, a.check_input):.2e}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(a.out, **arrays)
    from skin_app.scan.segmentation import weights_fingerprint
    print(f"wrote {a.out} ({a.out.stat().st_size / 1e6:.1f} MB, {len(arrays)} arrays), fingerprint "
          f"{weights_fingerprint(a.out)}: make its thresholds, calibration and noise band with candidate.sh")


if __name__ == "__main__":
    main()
