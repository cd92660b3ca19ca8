"""The one model: built offline, loaded once, refuses weights that do not fit, fast call path."""
from __future__ import annotations

import numpy as np
import pytest

from skin_app.concerns import CHANNELS
from skin_app.scan.segmentation import INPUT_SIZE, ModelMissingError, build_model, load_segmenter, set_weights


def test_predict_gives_six_probability_maps(segmenter):
    out = segmenter.predict(np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8))
    assert out.shape == (INPUT_SIZE, INPUT_SIZE, len(CHANNELS))
    assert out.dtype == np.float32 and 0.0 <= out.min() and out.max() <= 1.0


def test_loading_twice_reuses_the_same_model(segmenter):
    assert load_segmenter() is segmenter


def test_crop_sizes_must_be_multiples_of_32(segmenter):
    with pytest.raises(ValueError):
        segmenter.predict(np.zeros((100, 100, 3), np.uint8))


def test_a_missing_weights_file_gives_a_clear_error(tmp_path):
    with pytest.raises(ModelMissingError, match="not found"):
        load_segmenter(tmp_path / "nothing.npz")


@pytest.mark.parametrize("damage", ["truncated", "not_a_zip"])
def test_a_damaged_weights_file_gives_a_clear_error_not_a_traceback(tmp_path, damage):
    from skin_app.config import model_path
    bad = tmp_path / "skin_unet_resnet34.npz"
    shipped = model_path().read_bytes()
    bad.write_bytes(shipped[: len(shipped) // 3] if damage == "truncated" else b"not weights at all" * 100)
    with pytest.raises(ModelMissingError, match="damaged") as exc:
        load_segmenter(bad)
    assert exc.value.code == "model_damaged" and "SKINGORITHM_MODEL" in str(exc.value)


def test_weights_for_another_model_are_refused():
    model = build_model()
    arrays = {f"{layer.name}/{j}": w for layer in model.layers for j, w in enumerate(layer.get_weights())}
    arrays["final_conv/0"] = np.zeros((3, 3, 16, 2), np.float32)      # a two-class head
    with pytest.raises(ModelMissingError, match="shape"):
        set_weights(model, arrays)
    del arrays["final_conv/0"]
    with pytest.raises(ModelMissingError, match="lacks"):
        set_weights(model, arrays)


def test_shipped_weights_are_compact_float16_kernels():
    from skin_app.config import model_path
    with np.load(model_path()) as z:
        assert z["conv0/0"].dtype == np.float16
        assert z["final_conv/0"].shape == (3, 3, 16, len(CHANNELS))
    assert model_path().stat().st_size < 60 * 1024 * 1024


def test_shipped_thresholds_are_used(segmenter):
    from skin_app.scan.segmentation import load_thresholds
    assert segmenter.thresholds == load_thresholds()
    assert set(segmenter.thresholds) == set(CHANNELS)
    assert all(0.3 <= t <= 0.8 for t in segmenter.thresholds.values())


def test_a_higher_threshold_marks_fewer_pixels(segmenter):
    from skin_app.scan.analysis import analyze
    from tests.photos import astronaut_jpeg
    base = analyze(astronaut_jpeg(), segmenter)
    import dataclasses

    from skin_app.scan.calibration import load_calibration
    strict = type(segmenter)(segmenter.model, segmenter.version, {ch: 0.95 for ch in CHANNELS})
    cal = load_calibration()        # a calibration fitted with these thresholds, as the bundle check wants
    cal = dataclasses.replace(cal, info={**cal.info, "thresholds": strict.thresholds})
    high = analyze(astronaut_jpeg(), strict, calibration=cal)
    assert high.masks["flek"].sum() <= base.masks["flek"].sum()
    assert high.metrics["thresholds"]["flek"] == 0.95
