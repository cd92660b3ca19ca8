"""The tf.keras CPU trainer (``skin_app/training/train_keras.py``): its augmentations keep labels, its
losses see only what a set labels, and a run checkpoints, stops and resumes where it left off."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skin_app.concerns import CHANNELS
from skin_app.config import model_path
from skin_app.scan import tone
from skin_app.training import recipe
from skin_app.training import train_keras as tk
from skin_app.training.datasets import IGNORE, Sample
from skin_app.training.pack import encode_sample, write_pack
from tests.photos import astronaut_jpeg

ROOT = Path(__file__).resolve().parent.parent


def astronaut() -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(astronaut_jpeg())).convert("RGB"))


def skin_box(shape) -> np.ndarray:
    m = np.zeros(shape[:2], bool)
    m[100:220, 180:300] = True          # the astronaut's face
    return m


def test_more_melanin_darkens_only_the_skin_and_moves_yellowness_with_lightness():
    rgb = astronaut().astype(np.float32)
    skin = skin_box(rgb.shape)
    darker = tk.melanin_change(rgb, skin.astype(np.float32), 1.0)
    before = tone.to_lab(rgb.astype(np.uint8))
    after = tone.to_lab(np.clip(np.round(darker), 0, 255).astype(np.uint8))
    assert np.median(after[..., 0][skin]) < np.median(before[..., 0][skin]) - 15       # L* falls
    ita_before = tone.ita_degrees(np.median(before[..., 0][skin]), np.median(before[..., 2][skin]))
    ita_after = tone.ita_degrees(np.median(after[..., 0][skin]), np.median(after[..., 2][skin]))
    assert ita_after < ita_before - 20
    # b* (yellowness) changes with it: not a lightness-only change
    assert abs(np.median(after[..., 2][skin]) - np.median(before[..., 2][skin])) > 2
    assert np.abs(darker[~skin] - rgb[~skin]).max() < 0.6                              # the rest untouched


def test_no_melanin_change_is_the_identity_and_less_melanin_lightens():
    rgb = astronaut().astype(np.float32)
    skin = skin_box(rgb.shape).astype(np.float32)
    assert np.abs(tk.melanin_change(rgb, skin, 0.0) - rgb).max() < 0.6
    assert tk.melanin_change(rgb, skin, -0.5)[skin > 0].mean() > rgb[skin > 0].mean() + 5


def test_freckles_become_acne_negatives_only_in_the_freckle_closeups():
    codes = np.full((2, 6, 8, 8), IGNORE, np.uint8)
    flek, acne = CHANNELS.index("flek"), CHANNELS.index("acne")
    codes[:, flek, 2:4, 2:4] = 1
    codes[:, acne, 2, 2] = 1                      # a marked pimple on a marked freckle stays a pimple
    changed = tk.freckles_not_acne(codes, ["gjain_freckle_acne", "celebamask_mini"])
    assert changed == 3
    assert codes[0, acne, 2, 2] == 1 and (codes[0, acne, 2:4, 3] == 0).all() and codes[0, acne, 3, 2] == 0
    assert (codes[1, acne] != 0).all()            # another set: untouched


def test_a_window_and_its_labels_move_together():
    rng = np.random.default_rng(3)
    image = np.zeros((96, 96, 3), np.uint8)
    image[40:56, 40:56] = 255
    codes = np.full((6, 96, 96), IGNORE, np.uint8)
    codes[0] = 0
    codes[0, 40:56, 40:56] = 1
    for _ in range(5):
        img, c = tk.warp(image, codes, tk.affine(96, 64, rng), 64)
        bright = img[..., 0] > 200
        assert (c[0][bright] == 1).mean() > 0.9            # bright pixels are labelled skin
        assert (c[1] == IGNORE).all()                      # an unlabelled channel stays unlabelled
        outside = img.sum(-1) == 0
        assert ((c[0][outside] == 0) | (c[0][outside] == IGNORE)).all()


def test_shift_back_undoes_a_subpixel_shift():
    import tensorflow as tf
    yy, xx = np.mgrid[0:48, 0:48].astype(np.float32)
    base = lambda y, x: np.sin(y / 5.0) + np.cos(x / 7.0)  # noqa: E731  smooth, so bilinear is exact enough
    dy, dx = 2.25, -3.5                                  # xb(u) = xa(u + d)
    a = base(yy, xx)[None, ..., None]
    b = base(yy + dy, xx + dx)[None, ..., None]
    iy, ix = int(np.floor(dy)), int(np.floor(dx))
    back = tk.shift_back(tf, tf.constant(b), tf.constant(iy), tf.constant(ix), dy - iy, dx - ix, 5).numpy()
    assert np.abs(back - a[:, 5:-5, 5:-5]).max() < 0.02


def test_share_gap_sees_a_sparse_channel_halve_and_pulls_only_the_darker_photo():
    import tensorflow as tf
    pa = np.zeros((2, 16, 16, 6), np.float32)
    pa[:, :4, :4, 3] = 0.9                         # a dark-spot share of 6 %
    pb = pa.copy()
    pb[:, :4, :2, 3] = 0.0                         # halved in the variant
    same = float(tk.share_gap(tf, tf.constant(pa), tf.constant(pa)))
    halved = float(tk.share_gap(tf, tf.constant(pa), tf.constant(pb)))
    assert same == 0.0
    assert halved > 0.1 * np.log(2) ** 2           # one of four channels off by about ln 2
    a, b = tf.Variable(pa), tf.Variable(pb)
    with tf.GradientTape() as tape:
        gap = tk.share_gap(tf, a, b, tf.constant([1.0, 0.0]))
    ga, gb = tape.gradient(gap, [a, b])
    assert np.abs(ga.numpy()[0]).sum() == 0 and np.abs(gb.numpy()[0]).sum() > 0      # b pulled, a fixed
    assert np.abs(ga.numpy()[1]).sum() > 0 and np.abs(gb.numpy()[1]).sum() == 0      # and the other way


def test_the_kept_share_term_sees_a_kept_channels_share_drift_and_no_other_channel():
    import tensorflow as tf
    teacher = np.zeros((2, 16, 16, 6), np.float32)
    teacher[:, 6:10, 2:14, CHANNELS.index("panda_eye")] = 0.8       # under-eye marks: a share of 15 %
    teacher[:, :4, :4, CHANNELS.index("acne")] = 0.9
    weights = tf.constant(tk.keep_channel_mask("panda_eye").ravel())
    fainter = teacher.copy()
    fainter[..., CHANNELS.index("panda_eye")] *= 0.5                  # the same marks, half as sure
    less_acne = teacher.copy()
    less_acne[..., CHANNELS.index("acne")] = 0.0                      # acne is not kept: free to change
    gap = lambda student: float(tk.kept_share_gap(tf, tf.constant(student), tf.constant(teacher), weights))  # noqa: E731
    assert gap(teacher) == 0.0
    assert gap(less_acne) == 0.0
    assert abs(gap(fainter) - np.log((1e-3 + 0.075) / (1e-3 + 0.15)) ** 2) < 1e-4


def test_the_supervised_loss_ignores_unlabelled_pixels_and_rewards_right_answers():
    import tensorflow as tf
    codes = np.full((1, 16, 16, 6), IGNORE, np.uint8)
    codes[0, :, :, 2] = 0
    codes[0, 4:8, 4:8, 2] = 1                            # acne labelled; everything else unknown
    good = np.full((1, 16, 16, 6), -4.0, np.float32)
    good[0, 4:8, 4:8, 2] = 4.0
    loss_good = float(tk.supervised_loss(tf, tf.constant(good), tf.constant(codes))[0])
    changed_elsewhere = good.copy()
    changed_elsewhere[..., [0, 1, 3, 4, 5]] = 7.0        # wild answers where nothing is labelled
    assert float(tk.supervised_loss(tf, tf.constant(changed_elsewhere), tf.constant(codes))[0]) == pytest.approx(loss_good)
    bad = -good
    assert float(tk.supervised_loss(tf, tf.constant(bad), tf.constant(codes))[0]) > loss_good + 1


def test_inside_a_box_only_the_strongest_share_has_to_be_positive():
    import tensorflow as tf
    wr = CHANNELS.index("wrinkle")
    codes = np.full((1, 20, 20, 6), IGNORE, np.uint8)
    codes[0, 0:10, 0:10, wr] = 2                         # a box of 100 px: top 12 must be positive
    logits = np.full((1, 20, 20, 6), -5.0, np.float32)
    few = logits.copy()
    few[0, 0:2, 0:6, wr] = 5.0                            # exactly the top share (12 px), the rest negative
    none = float(tk.supervised_loss(tf, tf.constant(logits), tf.constant(codes))[3])
    enough = float(tk.supervised_loss(tf, tf.constant(few), tf.constant(codes))[3])
    assert none > 4 and enough < 0.01


def test_reshot_photometrics_stay_within_the_bench_bounds():
    rng = np.random.default_rng(0)
    flat = np.full((32, 32, 3), 120.0, np.float32)
    ratios = np.array([tk.reshot_photometric(flat, rng).mean((0, 1)) / 120.0 for _ in range(40)])
    lo = (1 - recipe.RESHOT_EXPOSURE) * (1 - recipe.RESHOT_WHITE_BALANCE) - 0.03
    hi = (1 + recipe.RESHOT_EXPOSURE) * (1 + recipe.RESHOT_WHITE_BALANCE) + 0.03
    assert ratios.min() >= lo and ratios.max() <= hi
    assert np.ptp(ratios[:, 0] - ratios[:, 2]) > 0.1 and ratios[:, 1].std() > 0.03


@pytest.fixture(scope="module")
def tiny_pack(tmp_path_factory) -> Path:
    """Four real-photo samples at 96 px: face skin and eye labels, acne disks, freckles, a wrinkle box."""
    out = tmp_path_factory.mktemp("pack") / "tiny.npz"
    img = np.asarray(Image.fromarray(astronaut()).resize((96, 96)))
    skin = np.zeros((96, 96), np.uint8)
    skin[25:60, 40:75] = 1
    acne = np.zeros((96, 96), np.uint8)
    acne[40:43, 50:53] = 1
    box = np.full((96, 96), 0, np.uint8)
    box[30:36, 45:70] = 2
    samples = [
        Sample("celebamask_mini", "a", "a", "train", img, {"face_skin": skin, "eye": np.zeros_like(skin)}),
        Sample("acne04v2_512", "b", "b", "train", img, {"acne": acne}),
        Sample("gjain_freckle_acne", "c", "c", "train", img, {"flek": acne, "acne": np.zeros_like(acne)}),
        Sample("javad71_wrinkle_boxes", "d", "d", "train", img, {"wrinkle": box}),
    ]
    write_pack([(s.dataset, s.name, s.split, encode_sample(s, 96, 90)) for s in samples], out, 96)
    return out


def trainer_args(pack: Path, out: Path, *extra: str, init: Path | None = None) -> list[str]:
    return ["--pack", str(pack), "--out", str(out), "--crop", "64", "--batch", "2", "--threads", "1",
            "--shift", "3", "--init", str(init or model_path()), *extra]


def test_a_few_steps_write_a_checkpoint_its_config_and_app_weights(tiny_pack, tmp_path):
    out = tmp_path / "run"
    first = tk.main(trainer_args(tiny_pack, out, "--max-steps", "2", "--tone-share", "0.5"))
    assert first["steps"] == 2 and first["samples_seen"] == 4
    config = json.loads((out / "config.json").read_text())
    assert config["crop"] == 64 and config["max_steps"] == 2
    saved = sorted((out / "ckpt").glob("ckpt-2*.config.json"))
    assert saved and json.loads(saved[0].read_text())["step"] == 2
    # the weights beside the checkpoint load into the app's model, in the shipped layout and dtypes
    from skin_app.scan.segmentation import load_segmenter
    seg = load_segmenter(out / "weights.npz", engine="reference", thresholds=False)   # none chosen yet
    with np.load(out / "weights.npz") as new, np.load(model_path()) as shipped:
        assert set(new.files) == set(shipped.files)
        assert all(new[k].dtype == shipped[k].dtype for k in shipped.files)
        changed = [k for k in shipped.files if not np.array_equal(new[k], shipped[k])]
    assert changed, "two training steps changed no weight"
    assert seg.predict(np.full((64, 64, 3), 128, np.uint8)).shape == (64, 64, 6)
    # (a resume with the saved config: the next test, after a kill)


def start_trainer(pack: Path, out: Path, *extra: str) -> subprocess.Popen:
    """The trainer in a process of its own (so a test can kill it as a person or the machine would)."""
    env = {**os.environ, "SM_FRAMEWORK": "tf.keras", "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
           "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.Popen([sys.executable, "-m", "skin_app.training.train_keras", *trainer_args(pack, out, *extra)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_run_killed_mid_way_resumes_from_its_last_checkpoint(tiny_pack, tmp_path):
    out = tmp_path / "run"
    proc = start_trainer(tiny_pack, out, "--ckpt-minutes", "0", "--max-steps", "1000", "--tone-share", "0")
    try:
        deadline = time.time() + 240
        while time.time() < deadline and not list((out / "ckpt").glob("ckpt-*.index")):
            assert proc.poll() is None, "the trainer ended before its first checkpoint"
            time.sleep(0.5)
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)                  # no chance to save on the way out
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    import tensorflow as tf
    last = tf.train.latest_checkpoint(str(out / "ckpt"))
    assert last is not None
    at_kill = int(last.rsplit("-", 1)[1])
    assert at_kill >= 1
    summary = tk.main(["--out", str(out), "--resume", "--max-steps", str(at_kill + 1)])
    assert summary["steps"] == at_kill + 1
    assert f"at step {at_kill}," in (out / "train.log").read_text()


def test_sigterm_saves_before_leaving(tiny_pack, tmp_path):
    out = tmp_path / "run"
    proc = start_trainer(tiny_pack, out, "--max-steps", "100000", "--ckpt-minutes", "60", "--tone-share", "1")
    try:
        deadline = time.time() + 240
        while time.time() < deadline and '"step": 1,' not in _read(out / "log.jsonl"):
            assert proc.poll() is None
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_by_signal"] is True and summary["steps"] >= 1
    assert (out / "weights.npz").exists()


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def test_keep_names_the_channels_held_to_the_teacher_and_refuses_a_misspelt_one():
    mask = tk.keep_channel_mask("face_skin, panda_eye")
    assert mask.shape == (1, 1, 1, len(CHANNELS))
    assert [CHANNELS[c] for c in np.flatnonzero(mask.ravel())] == ["face_skin", "panda_eye"]
    assert not tk.keep_channel_mask("").any()
    with pytest.raises(ValueError, match="panda_eyes"):
        tk.keep_channel_mask("face_skin,panda_eyes")


def test_a_kept_channel_may_carry_its_own_weight():
    mask = tk.keep_channel_mask("face_skin, panda_eye:3").ravel()
    assert mask[CHANNELS.index("face_skin")] == 1 and mask[CHANNELS.index("panda_eye")] == 3
    assert mask[CHANNELS.index("acne")] == 0
    for bad in ("panda_eye:lots", "panda_eye:-1", "panda_eye:nan"):
        with pytest.raises(ValueError, match="panda_eye"):
            tk.keep_channel_mask(bad)


def test_a_dataset_share_changes_how_often_that_set_is_drawn_and_the_rest_keep_their_ratio():
    datasets = ["acne04v2_512"] * 30 + ["celebamask_mini"] * 10 + ["helen_68lm"] * 60
    before = recipe.sampling_weights(datasets)
    after = recipe.sampling_weights(datasets, tk.dataset_shares("acne04v2_512=0.9", datasets))
    acne = np.array([d == "acne04v2_512" for d in datasets])
    share = recipe.DATASET_SHARE
    assert after[acne].sum() == pytest.approx(0.9 / (0.9 + share["celebamask_mini"] + share["helen_68lm"]))
    assert after[acne].sum() > before[acne].sum() + 0.25
    celeb, helen = np.array([d == "celebamask_mini" for d in datasets]), np.array([d == "helen_68lm" for d in datasets])
    assert after[celeb].sum() / after[helen].sum() == pytest.approx(before[celeb].sum() / before[helen].sum())
    assert np.allclose(recipe.sampling_weights(datasets, tk.dataset_shares("", datasets)), before)


def test_a_dataset_share_refuses_a_set_the_pack_lacks_or_a_share_that_is_no_number():
    datasets = ["acne04v2_512", "celebamask_mini"]
    assert tk.dataset_shares(" acne04v2_512=0.5, celebamask_mini = 0.1 ", datasets) == {
        "acne04v2_512": 0.5, "celebamask_mini": 0.1}
    with pytest.raises(ValueError, match="acne04_512"):
        tk.dataset_shares("acne04_512=0.5", datasets)
    for bad in ("acne04v2_512", "acne04v2_512=lots", "acne04v2_512=-1", "acne04v2_512=inf"):
        with pytest.raises(ValueError, match="acne04v2_512"):
            tk.dataset_shares(bad, datasets)


def test_the_distill_floor_reads_only_faint_acne_and_spot_marks_as_none():
    rng = np.random.default_rng(0)
    teacher = rng.uniform(0, 1, (2, 8, 8, len(CHANNELS))).astype(np.float32)
    target = tk.floored_teacher(teacher, 0.4)
    acne, flek = CHANNELS.index("acne"), CHANNELS.index("flek")
    for c in range(len(CHANNELS)):
        if c in (acne, flek):
            assert np.all(target[..., c][teacher[..., c] < 0.4] == 0)          # faint marks: none
            assert np.array_equal(target[..., c][teacher[..., c] >= 0.4], teacher[..., c][teacher[..., c] >= 0.4])
        else:
            assert np.array_equal(target[..., c], teacher[..., c])            # face skin, eyes, wrinkles, circles
    assert tk.floored_teacher(teacher, 0.0) is teacher and teacher.min() < 0.4  # off by default; input untouched


def test_a_kept_channel_is_pulled_to_the_teacher_not_to_the_start(tiny_pack, tmp_path):
    """--teacher names the frozen model when the run starts elsewhere (--init); without it the start is the
    teacher. The kept term is a cross-entropy against the teacher, so on the same batch it is larger by the
    gap (a KL divergence) when the start differs from the teacher than when they are one model."""
    moved = tmp_path / "moved.npz"                  # the shipped weights with the output layer nudged
    with np.load(model_path()) as shipped:
        weights = {k: shipped[k] for k in shipped.files}
    rng = np.random.default_rng(0)
    for k in ("final_conv/0", "final_conv/1"):
        weights[k] = (weights[k] + rng.normal(0, 0.2, weights[k].shape)).astype(weights[k].dtype)
    np.savez(moved, **weights)
    keep = ("--max-steps", "1", "--keep", "face_skin,eye", "--keep-weight", "5", "--keep-share", "1", "--lr", "1e-9")
    apart, same = tmp_path / "apart", tmp_path / "same"
    tk.main(trainer_args(tiny_pack, apart, *keep, "--teacher", str(moved)))
    tk.main(trainer_args(tiny_pack, same, *keep, init=moved))
    assert json.loads((apart / "config.json").read_text())["teacher"] == str(moved)
    assert json.loads((same / "config.json").read_text())["teacher"] == ""

    def kept(run: Path, term: str = "kept") -> float:
        (first,) = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
        return first[term]
    assert kept(apart) > kept(same) + 1e-3, (kept(apart), kept(same))
    # the kept channels' shares too: off the teacher's when the start differs, on them when they are one model
    assert kept(apart, "kept_share") > 1e-4 and kept(same, "kept_share") < 1e-6, (kept(apart, "kept_share"),
                                                                                  kept(same, "kept_share"))
