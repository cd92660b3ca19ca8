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


def test_a_simulated_reshoot_changes_only_exposure_and_white_balance_within_the_bench_bounds():
    gen = torch.Generator().manual_seed(0)
    flat = torch.full((64, 3, 32, 32), 120.0)                        # flat grey: blur and noise average out
    out = train.reshoot_jitter(flat, gen)
    assert out.shape == flat.shape
    ratio = out.mean((2, 3)) / 120.0                                  # per photo and channel
    assert ratio.min() >= 0.85 * 0.9 - 0.02 and ratio.max() <= 1.15 * 1.1 + 0.02
    assert (ratio[:, 0] - ratio[:, 2]).abs().max() > 0.05             # the white balance really varies
    assert ratio.std() > 0.02                                         # and so does the exposure


def test_consistency_counts_only_the_concern_channels():
    a = torch.zeros(2, 6, 8, 8)
    assert float(train.consistency_loss(a, a)) == 0.0
    b = a.clone()
    b[:, 0:2] = 5.0                                                   # face skin and eye differ: not counted
    assert float(train.consistency_loss(a, b)) == 0.0
    b[:, 2] = 5.0                                                     # acne differs everywhere
    assert float(train.consistency_loss(a, b)) > 0.1


def test_a_consistency_run_trains_and_logs_the_term(tmp_path, monkeypatch):
    """Two CPU steps on four random photos (as a pack would give them) with the consistency term on."""
    import json
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 255, (4, 3, 64, 64), dtype=np.uint8))
    codes = torch.full((4, 6, 64, 64), 255, dtype=torch.uint8)
    codes[:, 0] = 0
    codes[:, 0, 16:48, 16:48] = 1
    codes[:, 2, 16:48, 16:48] = 0
    monkeypatch.setattr(train, "load_pack_tensors",
                        lambda path, split: (images, codes, ["celebamask_mini"] * 4, ["a", "b", "c", "d"]))
    train.main(["--pack", "unused.npz", "--out", str(tmp_path / "run"), "--max-steps", "2",
                "--batch", "2", "--minutes", "5", "--consistency", "1.0", "--freeze-bn", "--threads", "1"])
    first = json.loads((tmp_path / "run" / "log.jsonl").read_text().splitlines()[0])
    assert first["step"] == 1 and first["consistency"] >= 0
    assert list((tmp_path / "run").glob("weights_part*.npz"))
