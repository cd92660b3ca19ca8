"""One Settings from the environment: defaults, overrides, and the model's files following the weights."""
from __future__ import annotations

import json
from pathlib import Path

from skin_app.config import PROJECT_ROOT, settings


def test_defaults_live_in_the_per_user_folder_and_the_shipped_models(tmp_path):
    s = settings({"XDG_DATA_HOME": str(tmp_path)})
    assert s.home == tmp_path / "skingorithm"
    assert s.database == tmp_path / "skingorithm" / "skingorithm.sqlite3"
    assert s.model == PROJECT_ROOT / "models" / "skin_unet_resnet34.npz"
    assert s.calibration == PROJECT_ROOT / "models" / "calibration.json"


def test_each_variable_overrides_its_setting(tmp_path):
    s = settings({"SKINGORITHM_HOME": str(tmp_path / "h"), "SKINGORITHM_DB": str(tmp_path / "d.sqlite3"),
                  "SKINGORITHM_MODEL": str(tmp_path / "m" / "w.npz")})
    assert (s.home, s.database, s.model) == (tmp_path / "h", tmp_path / "d.sqlite3", tmp_path / "m" / "w.npz")


def test_the_models_files_follow_the_weights(tmp_path):
    s = settings({"SKINGORITHM_MODEL": str(tmp_path / "w.npz")})
    assert {s.thresholds, s.calibration, s.noise_band, s.model_card} == {
        tmp_path / "thresholds.json", tmp_path / "calibration.json", tmp_path / "noise_band.json",
        tmp_path / "MODEL_CARD.md"}


def test_the_noise_band_is_read_beside_the_weights_the_environment_names(tmp_path, monkeypatch):
    from skin_app.history import progress
    (tmp_path / "noise_band.json").write_text(json.dumps({"acne": 1.5, "method": "test"}))
    monkeypatch.setenv("SKINGORITHM_MODEL", str(tmp_path / "w.npz"))
    band = progress.load_noise_band()
    assert band.measured and band["acne"] == 1.5
    assert Path(tmp_path / "noise_band.json").exists()
