"""Turns trained weights (``weights_part*.npz`` from ``train.py``) into the one file the app ships.

    python -m skin_app.training.export --run runs/r1 --out models/skin_unet_resnet34.npz \\
        [--check-input check.npz]

The shipped file holds the Keras layer weights of ``segmentation_models.Unet('resnet34', classes=6)``
keyed "<layer>/<index>": convolution kernels in float16 (half the size; measured to change no metric
at two decimals), batch-norm and biases in float32. ``--check-input`` takes an npz with ``x``
(input batch) and ``y`` (the PyTorch twin's sigmoid output on it) and fails if the Keras model
disagrees, so a port error cannot ship silently.
"""
from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--check-input", type=Path)
    a = ap.parse_args(argv)
    arrays = merge_parts(a.run)
    if a.check_input:
        print(f"Keras vs PyTorch max |diff| = {check_against_twin(arrays, a.check_input):.2e}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(a.out, **arrays)
    print(f"wrote {a.out} ({a.out.stat().st_size / 1e6:.1f} MB, {len(arrays)} arrays)")


if __name__ == "__main__":
    main()
