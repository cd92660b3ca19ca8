"""Where things live: one ``Settings`` read from a few environment variables with safe per-user
defaults (``settings()``), and nothing else. Every file that belongs to the model (thresholds, score
calibration, noise band, model card) lies beside the weights, so ``SKINGORITHM_MODEL`` moves them all."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    home: Path          # per-user folder for the database, logs and caches (SKINGORITHM_HOME)
    database: Path      # the SQLite file (SKINGORITHM_DB)
    model: Path         # the weights (SKINGORITHM_MODEL); the model's other files lie beside them

    @property
    def thresholds(self) -> Path:
        return self.model.with_name("thresholds.json")

    @property
    def calibration(self) -> Path:
        return self.model.with_name("calibration.json")

    @property
    def noise_band(self) -> Path:
        return self.model.with_name("noise_band.json")

    @property
    def model_card(self) -> Path:
        return self.model.with_name("MODEL_CARD.md")

    @property
    def ingredients_csv(self) -> Path:
        return PROJECT_ROOT / "data" / "ingredients.csv"


def settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings as the environment gives them now (cheap; read on each call, so a test or a page
    that changes the environment sees the change)."""
    env = os.environ if environ is None else environ
    if env.get("SKINGORITHM_HOME"):
        home = Path(env["SKINGORITHM_HOME"]).expanduser()
    else:
        home = Path(env.get("XDG_DATA_HOME") or (Path.home() / ".local" / "share")) / "skingorithm"
    database = Path(env["SKINGORITHM_DB"]).expanduser() if env.get("SKINGORITHM_DB") else home / "skingorithm.sqlite3"
    model = (Path(env["SKINGORITHM_MODEL"]).expanduser() if env.get("SKINGORITHM_MODEL")
             else PROJECT_ROOT / "models" / "skin_unet_resnet34.npz")
    return Settings(home=home, database=database, model=model)


def data_dir() -> Path:
    return settings().home


PRIVATE_FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """``path`` as a folder only its owner can open (the app's home holds face pictures): every level
    this call creates is made 0700 (``mkdir``'s mode is filtered by the umask, so it is set again), and
    ``path`` itself is tightened to 0700 if an older version left it open. Whoever comes first, the
    database, the model cache or the phone certificate, makes the same private folder."""
    missing = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER_MODE)
        except FileExistsError:            # another process made it at the same moment
            pass
        os.chmod(folder, PRIVATE_FOLDER_MODE)
    info = path.stat()
    if info.st_mode & 0o077 and info.st_uid == os.getuid():
        os.chmod(path, PRIVATE_FOLDER_MODE)
    return path


def database_path() -> Path:
    return settings().database


def model_path() -> Path:
    return settings().model


def model_card_path() -> Path:
    return settings().model_card


def ingredients_csv_path() -> Path:
    return settings().ingredients_csv


# Lines TensorFlow and mediapipe print at import and start-up on a computer without an NVIDIA GPU
# ("Unable to register cuDNN factory", ...) that no setting silences and that mean nothing there:
# ``run.sh`` and the command line (``quiet_native_stderr``) drop them; real errors still show.
NATIVE_NOISE = (r"cuda_dnn\.cc|cuda_blas\.cc|cuda_fft\.cc|cudart_stub\.cc|cuda_executor|cuInit|computation_placer\.cc"
                r"|absl::InitializeLog|oneDNN custom operations|cpu_feature_guard|rebuild TensorFlow with the appropriate"
                r"|inference_feedback_manager|landmark_projection_calculator|XNNPACK delegate")


_quiet: list[bool] = []          # set once the filter is in place (a process calls it once or many times)


def quiet_native_stderr() -> None:
    """Without an NVIDIA GPU (as ``run.sh`` decides: no ``nvidia-smi``), routes this process's stderr
    (file descriptor 2, which the C++ libraries write to directly) through a thread that drops
    NATIVE_NOISE lines; everything else reaches the terminal, also what is written just before exit.
    Once per process: a second call (the command line run in-process again, as tests do) adds no filter."""
    import atexit
    import re
    import shutil
    import sys
    import threading
    if _quiet or shutil.which("nvidia-smi"):
        return
    _quiet.append(True)
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    noise = re.compile(NATIVE_NOISE.encode())
    sys.stderr.flush()
    terminal, restore = os.dup(2), os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)

    def pump() -> None:
        with os.fdopen(read, "rb") as lines, os.fdopen(terminal, "wb", buffering=0) as out:
            for line in lines:
                if not noise.search(line):
                    out.write(line)
    thread = threading.Thread(target=pump, name="stderr-filter", daemon=True)
    thread.start()

    def finish() -> None:
        sys.stderr.flush()
        os.dup2(restore, 2)              # the pipe's last writer closes: the thread reads to the end
        thread.join(timeout=5)
    atexit.register(finish)


def setup_tensorflow_env() -> None:
    """segmentation_models must see tf.keras (legacy Keras 2); set before the first TensorFlow import."""
    os.environ.setdefault("SM_FRAMEWORK", "tf.keras")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
