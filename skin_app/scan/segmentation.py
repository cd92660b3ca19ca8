"""The one segmentation model: ``segmentation_models.Unet('resnet34', classes=6, activation='sigmoid')``.

Channels (``concerns.CHANNELS``): face_skin, eye, acne, flek, wrinkle, panda_eye. Input: an aligned
square face crop, RGB 0-255 (the network's first layer, ``bn_data``, normalises). Weights ship as one
``.npz`` (see training/export.py).

Two engines run the same weights:

* the **reference**: the Keras model called through a ``tf.function`` (what training exports to and
  what every accuracy figure in the model card was first measured with);
* the **fast path** the app uses: the same graph converted to TensorFlow Lite (the interpreter inside
  the pinned TensorFlow, XNNPACK kernels) with dynamic-range int8 weights. It is built from the
  reference on first start (15 s quiet, 80 s busy) and cached under the app's home folder, keyed by
  the SHA-256 of the weights file and the TensorFlow version, so retrained weights rebuild it and
  nothing ships or downloads. Why this kind (measured on validation photos and the 2-core machine; tables in
  ``models/MODEL_CARD.md`` "Fast path parity" and ``bench/README.md``): float32 and float16 TFLite
  were slower than the ``tf.function``; full-integer int8 needs a calibration set from the training
  photos (so it could not be rebuilt on a user's machine after retraining) and moved several metrics
  past the tolerances; dynamic-range int8 was 2.5x faster than the reference (p50, 1 thread, busy
  machine) and on the validation photos stays within IoU/Dice 0.01, area 0.01 and score 1 point,
  lesion F1 within 0.02 except acne on the 23 gjain photos (-0.021; ACNE04 -0.002).
  ``python -m skin_app.training.parity --data DATA_FOLDER`` re-measures it.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import warnings
import zipfile
from pathlib import Path

import numpy as np

from skin_app.concerns import CHANNELS
from skin_app.config import data_dir, model_path, private_folder, setup_tensorflow_env
from skin_app.errors import UserFacingError

log = logging.getLogger(__name__)

# Measured on the 2-core machine, one tf.function call: 256 px 84 ms, 320 px 117 ms, 384 px 155 ms.
# At 384 px an ACNE04 lesion (median radius 3 px at 512) keeps a radius of ~2.3 px; at 256 px it
# shrinks to 1-2 px.
INPUT_SIZE = 384

DEFAULT_THRESHOLD = 0.5

FAST_KINDS = ("float32", "float16", "dynamic_int8", "full_int8")
FAST_KIND = "dynamic_int8"      # chosen by measurement (see the module docstring)
# Interpreter threads, measured on the shared 2-core machine (bench/README.md, "Threads"): with other
# processes busy, XNNPACK's thread pool with 2 threads waits on a descheduled worker and the model
# call takes ~5x longer than with 1 thread (3359 vs 623 ms at load average 15); 1 thread never
# collapses. SKINGORITHM_THREADS=2 may pay on a machine that runs nothing else.
DEFAULT_THREADS = 1


def interpreter_threads() -> int:
    env = os.environ.get("SKINGORITHM_THREADS", "")
    return max(1, int(env)) if env.isdigit() else min(DEFAULT_THREADS, os.cpu_count() or 1)


def load_thresholds(weights: str | Path | None = None) -> dict[str, float]:
    """The per-channel probability thresholds shipped beside the weights file ``weights`` (default: the
    installed one): ``thresholds.json``, chosen on the training split by ``training/tune_thresholds.py``
    for exactly these weights. A missing file, a channel it does not name, or a file chosen for other
    weights is refused (a silent 0.5 would score every scan on a scale nobody measured)."""
    import json
    weights = Path(weights) if weights is not None else model_path()
    path = weights.with_name("thresholds.json")
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        chosen = {ch: float(spec["thresholds"][ch]) for ch in CHANNELS}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelMissingError(f"The thresholds file {path} is missing or incomplete ({type(exc).__name__}: {exc}).",
                                BUNDLE_ADVICE, code="thresholds_missing") from exc
    if not all(0.0 < t < 1.0 for t in chosen.values()):
        raise ModelMissingError(f"The thresholds file {path} holds a threshold outside 0-1.", BUNDLE_ADVICE,
                                code="thresholds_missing")
    require_same(path, MODEL_WEIGHTS, spec.get(MODEL_WEIGHTS), weights_fingerprint(weights))
    return chosen


class ModelMissingError(UserFacingError, RuntimeError):
    """The weights file is missing or does not fit the model (a person can reinstall or point
    ``SKINGORITHM_MODEL`` at the right file)."""

    def __init__(self, message: str, advice: str = "", code: str = "model_missing") -> None:
        super().__init__(message, advice, code)


# The model bundle: the weights, and beside them thresholds.json, calibration.json and noise_band.json,
# each naming what it was made for (``MODEL_WEIGHTS``: the weights' fingerprint; the calibration also the
# thresholds and ``scoring.MEASURE_VERSION``). The writers (training/tune_thresholds.py, calibrate.py,
# bench/noise_band.py) stamp them; the loaders refuse files that were not made together.
MODEL_WEIGHTS = "model_weights"
BUNDLE_ADVICE = ("Reinstall SkinGorithm, or copy a retrained model's files (the weights, thresholds.json, "
                 "calibration.json and noise_band.json) together from the one folder they were made in.")


class ModelBundleError(ModelMissingError):
    """The model's files were not made together (e.g. new weights beside the old thresholds): every score
    would silently mean something else, so nothing is scored."""

    def __init__(self, message: str, advice: str = BUNDLE_ADVICE, code: str = "model_bundle") -> None:
        super().__init__(message, advice, code)


def require_same(path: Path, key: str, found: object, expected: object) -> None:
    """Raises ModelBundleError unless the model file ``path`` names ``expected`` under ``key``."""
    if found != expected:
        named = "does not say" if found is None else f"names {found!r}"
        raise ModelBundleError(f"The model files in {path.parent} do not belong together: {path.name} {named} for "
                               f"{key}, but the installed model's is {expected!r}.")


_fingerprints: dict[tuple[str, int, int], str] = {}


def check_made_for(path: Path, raw: object, weights: str | Path) -> None:
    """Raises ModelBundleError unless the model file ``path`` (its parsed JSON ``raw``) names the weights
    file ``weights`` it lies beside: thresholds and the noise band say which weights they were made for."""
    require_same(path, MODEL_WEIGHTS, raw.get(MODEL_WEIGHTS) if isinstance(raw, dict) else None,
                 weights_fingerprint(weights))


def weights_fingerprint(path: str | Path | None = None) -> str:
    """The weights file's name and version (``weights_version`` of its SHA-256), what every other model
    file names; hashed once per file state (49 MB: about 0.1 s)."""
    path = Path(path) if path is not None else model_path()
    try:
        info = path.stat()
    except OSError:
        raise _weights_missing(path) from None
    key = (str(path.resolve()), info.st_size, info.st_mtime_ns)
    if key not in _fingerprints:
        _fingerprints[key] = weights_version(hashlib.sha256(path.read_bytes()).hexdigest())
    return _fingerprints[key]


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


# -- engines: (N, S, S, 3) float32 0-255 -> (N, S, S, 6) float32 probabilities ---------------------
class KerasEngine:
    """The reference: the Keras model through a ``tf.function`` (``model.predict`` adds 100-350 ms of
    per-call overhead on this kind of machine). Any crop side that is a multiple of 32."""
    name = "keras-reference"

    def __init__(self, model) -> None:
        import tensorflow as tf
        self.model = model
        self._fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def sizes(self) -> None:
        return None                     # any multiple of 32

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self._fn(batch).numpy()


class TFLiteEngine:
    """A converted model in TensorFlow Lite's interpreter (XNNPACK). The graph has a fixed input side
    (INPUT_SIZE); one interpreter per batch size (1: plain, 2: with the mirror), made on first use."""

    def __init__(self, flatbuffer: bytes, kind: str, threads: int | None = None) -> None:
        self.flatbuffer, self.kind = flatbuffer, kind
        self.threads = threads or interpreter_threads()
        self.name = f"tflite-{kind}"
        self._interpreters: dict[int, object] = {}
        first = self._interpreter(1)
        self.side = int(first.get_input_details()[0]["shape"][1])

    def sizes(self) -> tuple[int]:
        return (self.side,)

    def _interpreter(self, n: int):
        it = self._interpreters.get(n)
        if it is None:
            import tensorflow as tf
            with warnings.catch_warnings():   # "tf.lite.Interpreter is deprecated ... in TF 2.20": pinned 2.19
                warnings.simplefilter("ignore", UserWarning)
                it = tf.lite.Interpreter(model_content=self.flatbuffer, num_threads=self.threads)
            if n != 1:
                it.resize_tensor_input(it.get_input_details()[0]["index"], [n, *it.get_input_details()[0]["shape"][1:]])
            it.allocate_tensors()
            self._interpreters[n] = it
        return it

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        it = self._interpreter(batch.shape[0])
        it.set_tensor(it.get_input_details()[0]["index"], batch)
        it.invoke()
        return it.get_tensor(it.get_output_details()[0]["index"])


def convert_to_tflite(model, kind: str, representative=None, side: int = INPUT_SIZE) -> bytes:
    """The Keras model as a TensorFlow Lite flatbuffer of one of FAST_KINDS, input (1, side, side, 3)
    float32. ``full_int8`` needs ``representative``: a callable yielding ``[x]`` batches of training
    photos for the activation ranges (see training/parity.py)."""
    import tensorflow as tf
    if kind not in FAST_KINDS:
        raise ValueError(f"kind must be one of {FAST_KINDS}, got {kind!r}")
    fn = tf.function(lambda x: model(x, training=False),
                     input_signature=[tf.TensorSpec([1, side, side, 3], tf.float32)])
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], model)
    if kind != "float32":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if kind == "float16":
        conv.target_spec.supported_types = [tf.float16]
    if kind == "full_int8":
        if representative is None:
            raise ValueError("full_int8 needs a representative data set (training photos)")
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return conv.convert()


def fast_cache_path(weights_sha256: str, kind: str = FAST_KIND) -> Path:
    """Where the converted model is cached: keyed by the weights' hash, the kind and TensorFlow's version."""
    import tensorflow as tf
    return data_dir() / "model_cache" / f"skin-{weights_sha256[:16]}-{kind}-tf{tf.__version__}.tflite"


def cached_fast_model(model_factory, weights_sha256: str, kind: str = FAST_KIND, representative=None) -> bytes:
    """The fast flatbuffer from the cache, or converted now from ``model_factory()`` and cached
    (written atomically; a read-only home folder only costs the conversion on every start)."""
    path = fast_cache_path(weights_sha256, kind)
    try:
        data = path.read_bytes()
        if data[4:8] == b"TFL3":              # the flatbuffer identifier; anything else is rebuilt
            try:
                os.utime(path)                # "last used", for prune_fast_cache
            except OSError:
                pass
            return data
    except OSError:
        pass
    data = convert_to_tflite(model_factory(), kind, representative)
    try:
        private_folder(data_dir())                 # the app's home, 0700 even when the cache comes first
        private_folder(path.parent)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        prune_fast_cache(path.parent)
    except OSError as exc:
        log.warning("Could not cache the fast model at %s (%s); it will be rebuilt next start.", path, exc)
    return data


FAST_CACHE_KEEP = 2                # converted models kept: the one in use and the one before (25 MB each)
STALE_TMP_SECONDS = 3600           # a half-written conversion older than this was left by a crash


def prune_fast_cache(folder: Path, keep: int = FAST_CACHE_KEEP) -> list[Path]:
    """Deletes all but the ``keep`` most recently used converted models in ``folder`` (each new set of
    weights adds one; without this a retrained model would leave its predecessors behind forever)
    and any half-written file a crashed conversion left. Returns what was deleted."""
    import time
    models = sorted(folder.glob("skin-*.tflite"), key=lambda p: p.stat().st_mtime, reverse=True)
    stale = [p for p in folder.glob("skin-*.tmp*") if time.time() - p.stat().st_mtime > STALE_TMP_SECONDS]
    removed = []
    for p in models[keep:] + stale:
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


class SkinSegmenter:
    """A loaded model behind one engine. Thread-safe for concurrent ``predict`` calls.

    ``engine`` is a :class:`KerasEngine` / :class:`TFLiteEngine`, or a Keras model (wrapped as the
    reference). ``reference`` (optional): a function returning the Keras model, for crop sides the
    fast engine's fixed graph does not take."""

    def __init__(self, engine, version: str, thresholds: dict | None = None, reference=None) -> None:
        if not isinstance(engine, (KerasEngine, TFLiteEngine)):
            engine = KerasEngine(engine)
        self.engine, self.version = engine, version
        self.thresholds = dict(thresholds) if thresholds is not None else {ch: DEFAULT_THRESHOLD for ch in CHANNELS}
        self._reference = reference
        self._lock = threading.Lock()

    @property
    def model(self):
        """What this segmenter runs: pass it to ``SkinSegmenter(...)`` to get the same engine again."""
        return self.engine

    def reference(self) -> KerasEngine:
        """The Keras reference engine for these weights (built on first call when not given)."""
        if isinstance(self.engine, KerasEngine):
            return self.engine
        if self._reference is None:
            raise RuntimeError("This segmenter was made without its reference model.")
        if not isinstance(self._reference, KerasEngine):
            self._reference = KerasEngine(self._reference())
        return self._reference

    def predict(self, crop: np.ndarray, flip_average: bool = False) -> np.ndarray:
        """crop: uint8 (S, S, 3) RGB, S a multiple of 32 -> float32 (S, S, 6) probabilities.

        ``flip_average``: the crop and its horizontal mirror go through the network in ONE batch of
        two and the mirrored probabilities, flipped back, are averaged with the plain ones. No channel
        swap is needed: none of the six channels is specific to the left or right side."""
        if crop.ndim != 3 or crop.shape[2] != 3 or crop.shape[0] % 32 or crop.shape[1] % 32:
            raise ValueError(f"Crop must be (H, W, 3) with H and W multiples of 32, got {crop.shape}")
        if flip_average:
            batch = np.empty((2, *crop.shape), np.float32)
            batch[0] = crop
            batch[1] = crop[:, ::-1]
        else:
            batch = crop[None].astype(np.float32)
        sizes = self.engine.sizes()
        engine = self.engine if sizes is None or (crop.shape[0] in sizes and crop.shape[1] in sizes) \
            else self.reference()
        with self._lock:
            out = engine(batch)
        if flip_average:
            return (out[0] + out[1][:, ::-1]) * np.float32(0.5)
        return out[0]


_cache: dict[tuple[str, str, bool], SkinSegmenter] = {}
_cache_lock = threading.Lock()


def weights_version(digest: str) -> str:
    """The model's name and version from the SHA-256 of its weights file."""
    return f"unet-resnet34-6ch-{digest[:10]}"


def installed_weights(path: str | Path | None = None) -> tuple[str, dict[str, float]]:
    """(version, thresholds) of the weights at ``path`` (default: the shipped ones) without building the
    model: what a segmenter loaded from them will say (``batch`` reads it to skip photos already done)."""
    return weights_fingerprint(path), load_thresholds(path)


def _weights_missing(path: Path) -> ModelMissingError:
    return ModelMissingError(
        f"Model weights not found at {path}. Reinstall SkinGorithm or set SKINGORITHM_MODEL to the weights file.")


def _read_weights(path: Path) -> tuple[dict[str, np.ndarray], str]:
    if not path.exists():
        raise _weights_missing(path)
    raw = path.read_bytes()
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:    # the bytes already read for the version hash
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelMissingError(f"The weights file {path} is damaged ({type(exc).__name__}).",
                                "Reinstall SkinGorithm, or point SKINGORITHM_MODEL at a complete weights file.",
                                code="model_damaged") from exc
    return arrays, hashlib.sha256(raw).hexdigest()


def load_segmenter(path: str | Path | None = None, engine: str = "fast", thresholds: bool = True) -> SkinSegmenter:
    """The model for the weights at ``path`` (default: the shipped ones), once per process.

    ``thresholds=False``: without the thresholds file (every channel at 0.5), for the one tool that
    chooses them (training/tune_thresholds.py); everything else scores with the file beside the weights.

    ``engine="fast"`` (the app): the cached TensorFlow Lite model (converted on first start, see the
    module docstring), with the Keras reference built only if a crop of another size comes;
    ``engine="reference"``: the Keras model itself (parity checks, training tools)."""
    if engine not in ("fast", "reference"):
        raise ValueError(f"engine must be 'fast' or 'reference', got {engine!r}")
    path = Path(path) if path is not None else model_path()
    key = (str(path.resolve()), engine, thresholds)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        arrays, digest = _read_weights(path)
        version = weights_version(digest)
        chosen = load_thresholds(path) if thresholds else None
        built = {}

        def keras_model():
            if "model" not in built:
                model = build_model()
                set_weights(model, arrays)
                built["model"] = model
            return built["model"]

        if engine == "reference":
            seg = SkinSegmenter(KerasEngine(keras_model()), version, chosen)
        else:
            # A cache hit means these exact bytes were converted (so fitted the model) before; on a
            # miss, building the Keras model checks the weights (ModelMissingError) before converting.
            flat = cached_fast_model(keras_model, digest)
            seg = SkinSegmenter(TFLiteEngine(flat, FAST_KIND), version, chosen, reference=keras_model)
        seg.predict(np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8))   # first call warms up, so the first scan is fast
        _cache[key] = seg
        return seg
