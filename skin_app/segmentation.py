"""The one segmentation model: ``segmentation_models.Unet('resnet34', classes=6, activation='sigmoid')``.

Channels (``results.CHANNELS``): face_skin, eye, acne, flek, wrinkle, panda_eye. Input: an aligned
square face crop, RGB 0-255 floats (the network's first layer, ``bn_data``, normalises). The model
is built once per process and called through a ``tf.function`` (``model.predict`` adds 100-350 ms
of per-call overhead on this kind of machine). Weights ship as one ``.npz`` (see training/export.py).
"""
from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skin_app.config import model_path, setup_tensorflow_env
from skin_app.results import CHANNELS

# Measured on the 2-core machine, one tf.function call: 256 px 84 ms, 320 px 117 ms, 384 px 155 ms.
# At 384 px an ACNE04 lesion (median radius 3 px at 512) keeps a radius of ~2.3 px; at 256 px it
# shrinks to 1-2 px. 384 leaves analyze() well inside its 400 ms budget.
INPUT_SIZE = 384


DEFAULT_THRESHOLD = 0.5


def load_thresholds(path: str | Path | None = None) -> dict[str, float]:
    """Per-channel probability thresholds shipped beside the weights (``thresholds.json``, chosen on
    the training split by ``training/tune_thresholds.py``); 0.5 for any channel it does not name."""
    import json
    path = Path(path) if path is not None else model_path().with_name("thresholds.json")
    chosen = json.loads(path.read_text())["thresholds"] if path.exists() else {}
    return {ch: float(chosen.get(ch, DEFAULT_THRESHOLD)) for ch in CHANNELS}


class ModelMissingError(RuntimeError):
    """The weights file is missing or does not fit the model."""


def build_model():
    """The Keras model with random weights (no download: encoder_weights=None)."""
    setup_tensorflow_env()
    import segmentation_models as sm
    return sm.Unet("resnet34", classes=len(CHANNELS), activation="sigmoid", encoder_weights=None,
                   input_shape=(None, None, 3))


def set_weights(model, arrays: dict[str, np.ndarray]) -> None:
    """Loads arrays keyed "<layer>/<index>" into the layers of the same name; every weight must be there."""
    used = set()
    for layer in model.layers:
        current = layer.get_weights()
        if not current:
            continue
        new = []
        for j, w in enumerate(current):
            key = f"{layer.name}/{j}"
            if key not in arrays:
                raise ModelMissingError(f"The weights file lacks {key}; it was made for another model.")
            a = np.asarray(arrays[key], dtype=np.float32)
            if a.shape != w.shape:
                raise ModelMissingError(f"{key} has shape {a.shape}, the model expects {w.shape}.")
            new.append(a)
            used.add(key)
        layer.set_weights(new)
    extra = set(arrays) - used
    if extra:
        raise ModelMissingError(f"The weights file has {len(extra)} arrays the model does not use, e.g. {sorted(extra)[:3]}.")


@dataclass
class SkinSegmenter:
    """A loaded model plus its compiled call. Thread-safe for concurrent ``predict`` calls."""
    model: object
    version: str
    thresholds: dict = None       # channel -> probability threshold (thresholds.json beside the weights)
    _fn: object = None
    _lock: threading.Lock = threading.Lock()

    def __post_init__(self) -> None:
        import tensorflow as tf
        if self.thresholds is None:
            self.thresholds = {ch: DEFAULT_THRESHOLD for ch in CHANNELS}
        self._fn = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)

    def predict(self, crop: np.ndarray) -> np.ndarray:
        """crop: uint8 (S, S, 3) RGB, S a multiple of 32 -> float32 (S, S, 6) probabilities."""
        if crop.ndim != 3 or crop.shape[0] % 32 or crop.shape[1] % 32:
            raise ValueError(f"Crop must be (H, W, 3) with H and W multiples of 32, got {crop.shape}")
        import tensorflow as tf
        x = tf.convert_to_tensor(crop[None].astype(np.float32))
        with self._lock:
            return self._fn(x)[0].numpy()


_cache: dict[str, SkinSegmenter] = {}
_cache_lock = threading.Lock()


def load_segmenter(path: str | Path | None = None) -> SkinSegmenter:
    """Builds the model and loads the shipped weights once per process (later calls reuse it)."""
    path = Path(path) if path is not None else model_path()
    key = str(path.resolve())
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        if not path.exists():
            raise ModelMissingError(
                f"Model weights not found at {path}. Reinstall SkinGorithm or set SKINGORITHM_MODEL to the weights file.")
        raw = path.read_bytes()
        version = f"unet-resnet34-6ch-{hashlib.sha256(raw).hexdigest()[:10]}"
        with np.load(io.BytesIO(raw)) as z:    # the bytes already read for the version hash
            arrays = {k: z[k] for k in z.files}
        model = build_model()
        set_weights(model, arrays)
        seg = SkinSegmenter(model, version, load_thresholds(path.with_name("thresholds.json")))
        seg.predict(np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8))   # trace once, so the first scan is fast
        _cache[key] = seg
        return seg
