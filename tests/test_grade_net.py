"""The end-to-end acne grader's trainer (``skin_app/training/grade_net.py``): its tune part never holds a
validation photo, its grade probabilities are a distribution in the grades' order, and a run checkpoints
every epoch, resumes where it stopped and is measured at the epoch the tune part chose."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skin_app.config import model_path
from skin_app.training import grade_net as gn
from tests.photos import astronaut_jpeg


def test_the_tune_part_is_a_stable_fifth_of_the_names():
    names = [f"levle{g}_{i}" for g in range(4) for i in range(500)]
    share = np.mean([gn.tune_part(n) for n in names])
    assert 0.15 < share < 0.25
    assert [gn.tune_part(n) for n in names] == [gn.tune_part(n) for n in names]


def test_grade_probabilities_sum_to_one_and_move_up_the_grades_with_the_latent():
    import tensorflow as tf
    cuts = tf.constant([-1.0, 0.5, 2.0])
    p = gn.grade_probabilities(tf.constant([[-5.0], [0.0], [1.0], [6.0]]), cuts).numpy()
    assert np.allclose(p.sum(1), 1.0, atol=1e-4)
    assert list(p.argmax(1)) == [0, 1, 2, 3]
    # unordered cut points are read in order: the same distribution
    q = gn.grade_probabilities(tf.constant([[0.0]]), tf.constant([2.0, -1.0, 0.5])).numpy()
    assert np.allclose(q[0], p[1], atol=1e-6)


def test_scores_report_accuracy_kappa_and_recall_per_grade():
    s = gn.scores(np.array([-2.0, 0.0, 0.0, 3.0]), np.array([-1.0, 0.5, 2.0]), [0, 1, 2, 3])
    assert s["accuracy"] == 0.75 and s["recall"] == {0: 1.0, 1: 1.0, 2: 0.0, 3: 1.0}
    assert 0.0 < s["kappa"] < 1.0


def test_augment_keeps_the_size_and_stays_within_the_light_bounds():
    rng = np.random.default_rng(0)
    cfg = gn.Config(data="", out="", size=64)
    img = np.full((gn.SOURCE_SIZE, gn.SOURCE_SIZE, 3), 200, np.uint8)
    out = gn.augment(img, rng, cfg)
    assert out.shape == (64, 64, 3) and out.dtype == np.float32
    centre = out[24:40, 24:40]
    assert np.all(centre <= 200 * (1 + cfg.light) * (1 + cfg.white_balance) + 1e-3)
    assert np.all(centre >= 200 * (1 - cfg.light) * (1 - cfg.white_balance) - 1e-3)


@pytest.fixture(scope="module")
def tiny_acne04(tmp_path_factory) -> Path:
    """An ACNE04-shaped folder: six real photos named with their grades, training split and tune part."""
    from skin_app.training.datasets import split_of
    root = tmp_path_factory.mktemp("data")
    folder = root / "acne04v2_512"
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    photo = Image.open(io.BytesIO(astronaut_jpeg())).convert("RGB").resize((128, 128))
    wanted = {"train": 4, "tune": 2}
    i = 0
    while any(wanted.values()):
        name = f"levle{i % 4}_{i}"
        i += 1
        part = "val" if split_of("acne04v2_512", name) == "val" else ("tune" if gn.tune_part(name) else "train")
        if wanted.get(part, 0) == 0:
            continue
        wanted[part] -= 1
        photo.save(folder / "images" / f"{name}.jpg")
        Image.fromarray(np.zeros((128, 128), np.uint8)).save(folder / "masks" / f"{name}.png")
    return root


def args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["--data", str(data), "--out", str(out), "--size", "64", "--batch", "2", "--init", str(model_path()), *extra]


def test_a_run_checkpoints_each_epoch_resumes_and_is_measured_at_the_chosen_epoch(tiny_acne04, tmp_path, capsys):
    out = tmp_path / "run"
    gn.main(args(tiny_acne04, out, "--epochs", "1", "--ema", "0.9"))
    assert (out / "ckpt" / "ckpt-1.index").exists()
    assert json.loads((out / "config.json").read_text())["size"] == 64
    # a second call with more epochs continues from epoch 1 (the saved config keeps the size)
    gn.main(args(tiny_acne04, out, "--epochs", "2"))
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(r["tune"]["n"] == 2 for r in rows)
    capsys.readouterr()
    gn.main(args(tiny_acne04, out, "--evaluate"))
    result = json.loads(capsys.readouterr().out)
    assert result["epoch"] == gn.chosen_epoch(out) and result["epoch"] in (1, 2)
    assert result["tune"]["n"] == 2 and result["val"]["n"] == 0


def test_the_aligned_crop_is_the_apps_model_input_and_absent_without_a_face():
    from skin_app.scan.segmentation import INPUT_SIZE
    face = np.asarray(Image.open(io.BytesIO(astronaut_jpeg())).convert("RGB"))
    crop = gn.app_crop(face)
    assert crop is not None and crop.shape == (INPUT_SIZE, INPUT_SIZE, 3)
    assert gn.app_crop(np.full((300, 300, 3), 128, np.uint8)) is None


def test_the_average_lags_the_weights_and_a_swap_gives_them_back():
    import tensorflow as tf
    v = tf.Variable([0.0, 0.0])
    avg = gn.Averaged([v], decay=0.5)
    v.assign([4.0, 8.0])
    avg.update()
    assert np.allclose(avg.shadows[0].numpy(), [2.0, 4.0])
    with avg.swapped():
        assert np.allclose(v.numpy(), [2.0, 4.0])
    assert np.allclose(v.numpy(), [4.0, 8.0])
    off = gn.Averaged([v], decay=0.0)
    with off.swapped():
        assert np.allclose(v.numpy(), [4.0, 8.0])


def test_a_misspelt_crop_or_an_average_of_one_is_refused_in_words():
    with pytest.raises(SystemExit, match="--crop must be one of letterbox, aligned"):
        gn.Config(data="", out="", crop="face")
    with pytest.raises(SystemExit, match="--ema must be"):
        gn.Config(data="", out="", ema=1.0)
