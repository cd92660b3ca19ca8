"""Loading the skin model in the background, so the first scan after start does not wait for it.

The server starts the process's ``shared()`` loader as soon as it starts (serve.py, and app.py on
its first run when started some other way); by the time a person has picked a photo
the model is usually built, loaded and traced, and mediapipe's face finder is set up. ``get()`` waits
for whatever is left and says how long it waited, so the page can time what the person waited for.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from skin_app.parse_lock import take_turns
from skin_app.scan.segmentation import SkinSegmenter, load_segmenter


class Preloader:
    """One background load of the segmenter (and a warm-up of the face finder)."""

    def __init__(self, model_path: str | None = None) -> None:
        self._path = model_path
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._segmenter: SkinSegmenter | None = None
        self._error: BaseException | None = None
        self.load_seconds: float | None = None

    def start(self) -> Preloader:
        take_turns()                      # the load parses (numpy's array headers) while pages compile
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._load, name="skingorithm-model-load", daemon=True)
                self._thread.start()
        return self

    def _load(self) -> None:
        t = time.perf_counter()
        try:
            from skin_app.config import setup_tensorflow_env
            setup_tensorflow_env()                             # before TensorFlow's first import
            from skin_app.scan.face import warm_up
            warm_up()                                          # mediapipe's detectors and face mesh
            from skin_app.scan.analysis import installed_scan_version
            installed_scan_version(self._path)                  # the model's files belong together
            self._segmenter = load_segmenter(self._path)      # builds, loads and traces once
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the model
            self._error = exc
        finally:
            self.load_seconds = time.perf_counter() - t
            self._done.set()

    @property
    def ready(self) -> bool:
        return self._done.is_set()

    def get(self) -> tuple[SkinSegmenter, float]:
        """(the segmenter, seconds this call waited for it); raises what the load raised."""
        self.start()
        t = time.perf_counter()
        self._done.wait()
        waited = time.perf_counter() - t
        if self._error is not None:
            raise self._error
        assert self._segmenter is not None           # done without an error: loaded
        return self._segmenter, waited


_shared: dict[str | None, Preloader] = {}
_shared_lock = threading.Lock()


def shared(model_path: str | None = None) -> Preloader:
    """The process's one loader for ``model_path`` (started), shared by the server and every page."""
    from skin_app.config import settings
    key = str(Path(model_path or settings().model).resolve())      # None and the default path: one loader
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Preloader(key).start()
        return _shared[key]
