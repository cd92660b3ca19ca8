"""The PyTorch trainer's pieces that a CPU fine-tune relies on (skipped where PyTorch is not installed:
it is a training-only requirement, requirements-train.txt)."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skin_app.config import model_path  # noqa: E402
from skin_app.training import train  # noqa: E402
from skin_app.training.torch_unet import UnetResNet34, keras_weight_arrays, load_keras_weight_arrays  # noqa: E402


def test_shipped_weights_load_into_the_twin_and_export_back_unchanged():
    with np.load(model_path()) as z:
        shipped = {k: z[k] for k in z.files}
    model = UnetResNet34()
    load_keras_weight_arrays(model, shipped)
    back = keras_weight_arrays(model)
    assert back.keys() == shipped.keys()
    assert all(np.array_equal(back[k].astype(np.float32), shipped[k].astype(np.float32)) for k in shipped)


def test_loading_refuses_weights_of_another_shape():
    arrays = keras_weight_arrays(UnetResNet34())
    arrays["final_conv/0"] = np.zeros((3, 3, 16, 5), np.float16)
    with pytest.raises(ValueError, match="final_conv/0"):
        load_keras_weight_arrays(UnetResNet34(), arrays)


def test_tone_augmentation_changes_only_chosen_photos_and_never_labels():
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(60, 200, (3, 3, 64, 64), dtype=np.uint8))
    codes = torch.full((3, 6, 64, 64), 255, dtype=torch.uint8)
    codes[:, 0, 16:48, 16:48] = 1                                     # face skin
    out = train.tone_augment(images, codes, 1.0, np.random.default_rng(1))
    assert out.shape == images.shape and out.dtype == torch.uint8
    assert not torch.equal(out, images)
    assert torch.equal(train.tone_augment(images, codes, 0.0, np.random.default_rng(1)), images)


def test_frozen_batch_norm_keeps_its_statistics_while_training():
    model = UnetResNet34()
    train.set_train_mode(model, freeze_bn=True)
    before = model.bn0.running_mean.clone()
    model(torch.rand(1, 3, 64, 64) * 255)
    assert torch.equal(model.bn0.running_mean, before) and model.conv0.training
