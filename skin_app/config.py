"""Where things live. A few environment variables with safe per-user defaults, nothing else."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Per-user folder for the database and logs (``SKINGORITHM_HOME`` overrides)."""
    env = os.environ.get("SKINGORITHM_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or (Path.home() / ".local" / "share")
    return Path(base) / "skingorithm"


def database_path() -> Path:
    env = os.environ.get("SKINGORITHM_DB")
    return Path(env).expanduser() if env else data_dir() / "skingorithm.sqlite3"


def model_path() -> Path:
    env = os.environ.get("SKINGORITHM_MODEL")
    return Path(env).expanduser() if env else PROJECT_ROOT / "models" / "skin_unet_resnet34.npz"


def model_card_path() -> Path:
    """The model card that describes the weights: ``MODEL_CARD.md`` beside the weights file."""
    return model_path().with_name("MODEL_CARD.md")


def ingredients_csv_path() -> Path:
    return PROJECT_ROOT / "data" / "ingredients.csv"


def setup_tensorflow_env() -> None:
    """segmentation_models must see tf.keras (legacy Keras 2); set before the first TensorFlow import."""
    os.environ.setdefault("SM_FRAMEWORK", "tf.keras")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
