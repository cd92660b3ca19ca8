"""The model bundle checks itself: the weights, thresholds.json, calibration.json and noise_band.json
name each other (and the measurement version), the loaders refuse files that were not made together,
and the scan version covers all that changes a score. Nothing here builds the network: the checks run
on the files before any model is loaded."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from skin_app.config import model_path
from skin_app.history.progress import load_noise_band
from skin_app.scan.analysis import installed_scan_version
from skin_app.scan.calibration import MEASURE_VERSION_KEY, load_calibration
from skin_app.scan.measure import MEASURE_VERSION
from skin_app.scan.segmentation import (
    MODEL_WEIGHTS,
    ModelBundleError,
    ModelMissingError,
    load_thresholds,
    weights_fingerprint,
)
from skin_app.training.calibrate import bundle_names
from skin_app.training.tune_thresholds import record

SIBLINGS = ("thresholds.json", "calibration.json", "noise_band.json")


def shipped_copy(folder: Path, weights: bytes | None = None) -> Path:
    """The shipped bundle copied into ``folder`` (the weights linked, or ``weights`` written instead)."""
    folder.mkdir(exist_ok=True)
    w = folder / "skin_unet_resnet34.npz"
    if weights is None:
        w.symlink_to(model_path())
    else:
        w.write_bytes(weights)
    for name in SIBLINGS:
        shutil.copy(model_path().with_name(name), folder / name)
    return w


def edit(path: Path, **changes) -> None:
    spec = json.loads(path.read_text())
    spec.update(changes)
    path.write_text(json.dumps(spec))


def other_weights() -> bytes:
    import io
    buf = io.BytesIO()
    np.savez(buf, w=np.arange(3.0))
    return buf.getvalue()


def test_the_shipped_files_belong_together():
    version = installed_scan_version()
    weights = weights_fingerprint()
    assert version.startswith(weights + "-t")
    assert f"-m{MEASURE_VERSION}-" in version and version.endswith(load_calibration().version)
    for name in ("thresholds.json", "noise_band.json"):
        assert json.loads(model_path().with_name(name).read_text())[MODEL_WEIGHTS] == weights
    cal = json.loads(model_path().with_name("calibration.json").read_text())
    assert cal[MODEL_WEIGHTS] == weights and cal[MEASURE_VERSION_KEY] == MEASURE_VERSION
    assert cal["thresholds"] == load_thresholds()
    assert load_noise_band().measured


def test_a_copied_bundle_loads_from_its_own_folder(tmp_path):
    w = shipped_copy(tmp_path / "cand")
    assert installed_scan_version(w) == installed_scan_version()


def test_new_weights_beside_the_old_files_are_refused(tmp_path):
    w = shipped_copy(tmp_path, other_weights())
    with pytest.raises(ModelBundleError, match="thresholds.json") as exc:
        installed_scan_version(w)
    assert exc.value.code == "model_bundle" and "belong together" in str(exc.value)


def test_changed_thresholds_are_refused_by_the_calibration(tmp_path):
    w = shipped_copy(tmp_path)
    spec = json.loads((tmp_path / "thresholds.json").read_text())
    edit(tmp_path / "thresholds.json", thresholds={**spec["thresholds"], "acne": 0.5})
    with pytest.raises(ModelBundleError, match=r"calibration\.json .*thresholds"):
        installed_scan_version(w)


def test_a_calibration_of_another_measurement_version_is_refused(tmp_path):
    w = shipped_copy(tmp_path)
    edit(tmp_path / "calibration.json", **{MEASURE_VERSION_KEY: MEASURE_VERSION - 1})
    with pytest.raises(ModelBundleError, match=MEASURE_VERSION_KEY):
        installed_scan_version(w)


def test_a_calibration_that_does_not_name_its_measurement_version_is_refused(tmp_path):
    w = shipped_copy(tmp_path)
    spec = json.loads((tmp_path / "calibration.json").read_text())
    del spec[MEASURE_VERSION_KEY]
    (tmp_path / "calibration.json").write_text(json.dumps(spec))
    with pytest.raises(ModelBundleError, match="does not say"):
        installed_scan_version(w)


def test_a_noise_band_measured_for_other_weights_is_refused(tmp_path, monkeypatch):
    w = shipped_copy(tmp_path)
    edit(tmp_path / "noise_band.json", **{MODEL_WEIGHTS: "unet-resnet34-6ch-0000000000"})
    with pytest.raises(ModelBundleError, match="noise_band.json"):
        installed_scan_version(w)
    monkeypatch.setenv("SKINGORITHM_MODEL", str(w))
    with pytest.raises(ModelBundleError):
        load_noise_band()                 # the pages' loader too


def test_a_missing_thresholds_file_is_an_error_not_one_half(tmp_path):
    w = shipped_copy(tmp_path)
    (tmp_path / "thresholds.json").unlink()
    with pytest.raises(ModelMissingError) as exc:
        load_thresholds(w)
    assert exc.value.code == "thresholds_missing"


def test_a_thresholds_file_lacking_a_channel_is_an_error(tmp_path):
    w = shipped_copy(tmp_path)
    spec = json.loads((tmp_path / "thresholds.json").read_text())
    del spec["thresholds"]["eye"]
    (tmp_path / "thresholds.json").write_text(json.dumps(spec))
    with pytest.raises(ModelMissingError, match="eye"):
        load_thresholds(w)


def test_the_writers_make_a_bundle_that_loads(tmp_path, monkeypatch):
    """A retrained model's chain (candidate.sh: thresholds -> calibrate -> noise band), each step
    writing through the function the real tool writes with, gives files the app accepts."""
    from types import SimpleNamespace
    w = tmp_path / "skin_unet_resnet34.npz"
    w.write_bytes(other_weights())
    chosen = {**load_thresholds(), "acne": 0.6}
    (tmp_path / "thresholds.json").write_text(json.dumps(record(chosen, {}, w)))
    cal = json.loads(model_path().with_name("calibration.json").read_text())
    cal.update(bundle_names(SimpleNamespace(version=weights_fingerprint(w), thresholds=load_thresholds(w))))
    (tmp_path / "calibration.json").write_text(json.dumps(cal))
    band = json.loads(model_path().with_name("noise_band.json").read_text())
    (tmp_path / "noise_band.json").write_text(json.dumps({**band, MODEL_WEIGHTS: weights_fingerprint(w)}))
    version = installed_scan_version(w)
    assert version.startswith(weights_fingerprint(w)) and version != installed_scan_version()
    monkeypatch.setenv("SKINGORITHM_MODEL", str(w))
    assert installed_scan_version() == version and load_noise_band().measured


def test_the_stamp_only_adds_missing_names(tmp_path):
    from skin_app.training.export import stamp
    w = shipped_copy(tmp_path)
    for name in ("thresholds.json", "noise_band.json"):
        spec = json.loads((tmp_path / name).read_text())
        del spec[MODEL_WEIGHTS]
        (tmp_path / name).write_text(json.dumps(spec))
    assert len(stamp(w)) == 2
    assert installed_scan_version(w) == installed_scan_version()
    assert stamp(w) == []
    edit(tmp_path / "noise_band.json", **{MODEL_WEIGHTS: "unet-resnet34-6ch-0000000000"})
    with pytest.raises(ModelBundleError):
        stamp(w)                          # a name a file has is never overwritten


def test_the_app_model_loader_refuses_a_mixed_bundle_before_loading(tmp_path):
    from skin_app.scan.preload import Preloader
    w = shipped_copy(tmp_path, other_weights())
    with pytest.raises(ModelBundleError):
        Preloader(str(w)).get()
