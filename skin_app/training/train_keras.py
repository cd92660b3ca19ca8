"""Fine-tunes the shipped Keras graph on the CPU, in tf.keras: towards reading every skin tone alike
and holding still between re-shots, without forgetting what it knows.

    python -m skin_app.training.train_keras --pack packs/train_384_hn.npz --out runs/k1 --minutes 120
    python -m skin_app.training.train_keras --out runs/k1 --resume --minutes 60     # 60 more minutes

Why a second trainer: the PyTorch twin (``train.py``) is for a borrowed GPU; on this 2-core CPU the
same graph trains 5-9x faster in tf.keras (0.25-0.36 s per 256 px sample), so a fine-tune of hours
runs here in the background. Same data (a ``pack.py`` pack) and the same supervised loss as
``train.py`` (masked per-channel weighted BCE + Dice, the multiple-instance term inside boxes, dataset
shares from ``recipe.py``, which ``--dataset-share`` may replace for a run), plus what the shipped model lacks. Each step takes B photos, augments
them (geometry, colour), cuts a ``--crop`` window (lesions keep their size), and makes a *variant*:

* a **tone** variant (share ``--tone-share`` of the steps): the face skin (the frozen shipped model's
  face-skin probability, so close-ups and box sets work too) gets more or less melanin in a simple
  reflectance model: linear RGB x exp(-d k), k = (1, ~1.35, ~1.6) per R, G, B with random jitter,
  so lightness, b* and hue move together as they do between real skin tones (not only L*). Labels
  stay. Consistency: the darker of the pair is pulled to the lighter one's output (stop-gradient),
  every channel, so darkness itself stops being evidence of acne, spots or dark circles;
* a **re-shot** variant (the other steps): the same photo moved by a sub-pixel shift of up to
  ``--shift`` px, with exposure, white balance (``recipe.RESHOT_*``), a real JPEG at quality 60-90,
  sometimes a blur and sensor noise. Consistency both ways, after undoing the shift.

Besides the per-pixel consistency, ``--share-weight`` asks the concern *shares* (mean probability of
acne, spots, wrinkles, dark circles over the window, on a log scale as the scores read them) of the
pair to agree: a sparse channel can halve while its pixel BCE hardly moves, and the scores follow
the share (run k1 learned tone fairness but not steadiness without it).

Both the photo and its variant are supervised where the set labels them; where it does not (e.g.
acne on CelebAMask faces), the photo's output is distilled towards the frozen shipped model's output
(``--distill``), so a fine-tune on partial labels does not forget. ``--keep`` channels (e.g. face skin,
eyes, wrinkles, dark circles) are held to that frozen model on every pixel (``--keep-weight``), labelled
or not, so the segmentation the scores stand on stays while acne and dark spots are re-taught, and
``--keep-share`` holds those channels' shares over the crop (what a score reads, on a log scale) to it as well;
``--teacher`` names the frozen model when the run starts from other weights (``--init``); ``--distill-floor``
distils the teacher's faint acne and dark-spot marks (below it) as none. Hard negatives: packs made with
``pack --hard-negatives`` (hair, brows, background are not acne or spots), and freckles of the
freckle close-ups are acne negatives (``freckles_not_acne``): a freckle is not a pimple.

Batch-norm statistics stay fixed (the model runs in inference mode; batches of a few photos give
poor statistics); its scales and shifts still learn. Adam, warm-up then cosine over the run's
minutes. A checkpoint (weights, optimizer, step, time trained, and ``config.json`` beside it) is
written every ``--ckpt-minutes``; ``--resume`` continues from the last one, so a killed run loses at
most that much; ``weights.npz`` beside it is always the latest in the app's format (float16
kernels), ready for ``evaluate``/``calibrate``/``bench`` (``--model``) or to ship.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from skin_app.concerns import CHANNELS
from skin_app.scan import tone
from skin_app.training import recipe
from skin_app.training.datasets import IGNORE
from skin_app.training.pack import load_pack_arrays

SKIN, ACNE, FLEK = CHANNELS.index("face_skin"), CHANNELS.index("acne"), CHANNELS.index("flek")
# Melanin absorbance per R, G, B relative to red, read off the ratio of linear reflectances of light
# and dark skin (light R/G/B about 0.60/0.45/0.38, dark about 0.18/0.09/0.06): ln ratios 1 : 1.34 : 1.53.
MELANIN_K = (1.0, 1.35, 1.6)


@dataclass
class Config:
    """Everything a run depends on; saved beside every checkpoint (``config.json``)."""
    pack: str = "packs/train_384_hn.npz"
    out: str = "runs/keras"
    init: str = "models/skin_unet_resnet34.npz"
    teacher: str = ""                # the frozen model distilled towards; "": the init weights
    minutes: float = 120.0           # the schedule's length (cosine to the end); a stop earlier is fine
    max_steps: int = 0               # 0: time only
    batch: int = 4
    crop: int = 256
    lr: float = 1e-4
    warmup: int = 50
    tone_share: float = 0.6          # share of steps whose variant is a tone change (else a re-shot)
    melanin: tuple[float, float] = (-0.5, 1.6)   # d range; > 0 darker
    shift: float = 8.0               # re-shot sub-pixel shift, px
    tone_weight: float = 2.0
    reshot_weight: float = 2.0
    distill: float = 0.5
    share_weight: float = 1.0        # the concern shares (what the scores read) of photo and variant alike
    keep: str = ""                   # channels held to the teacher on every pixel, e.g. "face_skin,eye,wrinkle,panda_eye:3"
    keep_weight: float = 0.0
    keep_share: float = 0.0          # the kept channels' shares (log mean probability over the crop) held to the teacher's
    distill_floor: float = 0.0       # acne and dark-spot teacher probabilities below it are distilled as 0 (0: off)
    threads: int = 2
    ckpt_minutes: float = 4.0
    seed: int = 0
    freckles_not_acne: bool = True
    dataset_share: str = ""          # batch shares replacing recipe.DATASET_SHARE's, e.g. "acne04v2_512=0.45"


# -- data -------------------------------------------------------------------------------------------
def freckles_not_acne(codes: np.ndarray, datasets: list[str]) -> int:
    """In the freckle close-ups a marked freckle is an acne negative (in place); returns pixels changed."""
    changed = 0
    for i, d in enumerate(datasets):
        if d != "gjain_freckle_acne":
            continue
        m = (codes[i, FLEK] == 1) & (codes[i, ACNE] != 1)
        changed += int(m.sum())
        codes[i, ACNE][m] = 0
    return changed


def floored_teacher(teacher_pa: np.ndarray, floor: float) -> np.ndarray:
    """The frozen model's output as the distillation target, with acne and dark-spot probabilities below
    ``floor`` read as 0. Why: most of acne's re-shot band is faint marks the shipped model leaves on textured
    skin that no set labels (4-17 marks near its decision edge on faces without acne, model card "What does
    not steady the model's answer"); plain distillation teaches them back on every step. Labelled pixels are
    supervised, not distilled, so the floor reaches only skin whose acne and spots no set marks."""
    if floor <= 0:
        return teacher_pa
    out = teacher_pa.copy()
    for c in (ACNE, FLEK):
        channel = out[..., c]
        channel[channel < floor] = 0.0
    return out


def affine(size_in: int, size_out: int, rng: np.random.Generator) -> np.ndarray:
    """A random 2x3 map from the packed photo to a training window: rotation +-18 deg, scale x0.77-1.3,
    flip, and where the window sits (the photo's centre +-8 %, then a random window inside)."""
    angle = math.radians(rng.uniform(-18, 18))
    scale = math.exp(rng.uniform(-1, 1) * math.log(1.3))
    flip = -1.0 if rng.random() < 0.5 else 1.0
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    lin = np.array([[c * flip, -s], [s * flip, c]])
    centre_in = np.array([size_in / 2, size_in / 2]) + rng.uniform(-0.08, 0.08, 2) * size_in
    # the window's centre within the (scaled) photo
    reach = max(0.0, (size_in * scale - size_out) / 2)
    centre_out = np.array([size_out / 2, size_out / 2]) + rng.uniform(-reach, reach, 2) * 0.9
    t = centre_out - lin @ centre_in
    return np.hstack([lin, t[:, None]]).astype(np.float64)


def warp(image: np.ndarray, codes: np.ndarray, m: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    img = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    # codes + 1 so the border (0) reads as IGNORE afterwards
    c = np.stack([cv2.warpAffine(ch.astype(np.uint16) + 1, m, (size, size), flags=cv2.INTER_NEAREST,
                                 borderMode=cv2.BORDER_CONSTANT) for ch in codes]).astype(np.int32) - 1
    c[c < 0] = IGNORE
    return img, c.astype(np.uint8)


def photometric(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """float (S,S,3) 0-255 -> the same with saturation, contrast, brightness, white balance, gamma, blur
    and noise changed (the ranges of ``train.augment``)."""
    x = x / 255.0
    gray = x.mean(2, keepdims=True)
    x = gray + (x - gray) * rng.uniform(0.6, 1.4)
    mean = x.mean()
    x = mean + (x - mean) * rng.uniform(0.7, 1.3)
    x = x * rng.uniform(0.6, 1.4) * rng.uniform(0.9, 1.1, 3)
    x = np.clip(x, 0, 1) ** math.exp(rng.uniform(-0.25, 0.25))
    if rng.random() < 0.15:
        x = cv2.blur(x.astype(np.float32), (3, 3))
    if rng.random() < 0.3:
        x = x + rng.standard_normal(x.shape) * 0.02 * rng.random()
    return (np.clip(x, 0, 1) * 255.0).astype(np.float32)


def melanin_change(x: np.ndarray, skin: np.ndarray, d: float, rng: np.random.Generator | None = None,
                   k: tuple[float, float, float] = MELANIN_K) -> np.ndarray:
    """float (S,S,3) 0-255 with the skin (soft mask 0-1) given ``d`` more melanin (less where d < 0):
    linear reflectance x exp(-d k) per channel, so L*, b* and hue move together. A lesion keeps its
    reflectance ratio to the skin around it."""
    kk = np.array(k, np.float64)
    if rng is not None:
        kk = kk * np.array([1.0, rng.uniform(0.9, 1.1), rng.uniform(0.85, 1.15)])
    lin = tone.srgb_to_linear(x)
    changed = lin * np.exp(-d * kk)
    w = np.clip(skin, 0, 1)[..., None]
    return tone.linear_to_srgb(lin + w * (changed - lin))


def reshot_photometric(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photometric part of a re-shot: exposure, white balance, a real JPEG, sometimes blur/noise."""
    t = rng.uniform(-recipe.RESHOT_WHITE_BALANCE, recipe.RESHOT_WHITE_BALANCE)
    y = x * rng.uniform(1 - recipe.RESHOT_EXPOSURE, 1 + recipe.RESHOT_EXPOSURE) * np.array([1 + t, 1.0, 1 - t])
    y = np.clip(y, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", y[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 91))])
    y = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32)
    if rng.random() < 0.2:
        y = cv2.GaussianBlur(y, (0, 0), rng.uniform(0.3, 0.8))
    if rng.random() < 0.3:
        y = y + rng.standard_normal(y.shape).astype(np.float32) * rng.uniform(0, 3)
    return np.clip(y, 0, 255).astype(np.float32)


# -- losses (TensorFlow) ----------------------------------------------------------------------------
def supervised_loss(tf, logits, codes):
    """``train.masked_loss`` in TensorFlow: logits (B,S,S,6), codes uint8 (B,S,S,6)."""
    codes = tf.cast(codes, tf.int32)
    pos = tf.equal(codes, 1)
    neg = tf.equal(codes, 0)
    weak = tf.equal(codes, 2)
    lab = tf.cast(pos | neg, tf.float32)
    target = tf.cast(pos, tf.float32)
    pw = tf.constant(recipe.POS_WEIGHT, tf.float32)
    bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=logits)
    w = lab * tf.where(pos, pw, tf.ones_like(pw))
    axes = (0, 1, 2)
    per_ch_bce = tf.reduce_sum(w * bce, axes) / tf.maximum(tf.reduce_sum(lab, axes), 1.0)
    p = tf.sigmoid(logits)
    inter = tf.reduce_sum(p * target * lab, axes)
    denom = tf.reduce_sum(p * lab, axes) + tf.reduce_sum(target, axes)
    has_pos = tf.reduce_sum(target, axes) > 0
    dice = tf.where(has_pos, 1 - (2 * inter + 1) / (denom + 1), tf.zeros_like(inter))
    labelled = tf.cast(tf.reduce_sum(lab, axes) > 0, tf.float32)
    loss = tf.reduce_sum((per_ch_bce + dice) * tf.constant(recipe.CHANNEL_WEIGHT, tf.float32) * labelled)
    # Multiple-instance term: the top WEAK_FRACTION of each box region's pixels should be positive.
    b = tf.shape(logits)[0]
    flat_logits = tf.reshape(tf.transpose(logits, (0, 3, 1, 2)), (b, 6, -1))
    flat_weak = tf.reshape(tf.transpose(tf.cast(weak, tf.float32), (0, 3, 1, 2)), (b, 6, -1))
    n = tf.reduce_sum(flat_weak, -1)                                        # (B,6)
    k = tf.maximum(1.0, tf.floor(n * tf.constant(recipe.WEAK_FRACTION, tf.float32)))
    masked = tf.where(flat_weak > 0, flat_logits, tf.fill(tf.shape(flat_logits), -1e9))
    ranked = tf.sort(masked, axis=-1, direction="DESCENDING")
    rank = tf.cast(tf.range(tf.shape(ranked)[-1]), tf.float32)
    take = tf.cast(rank[None, None, :] < k[..., None], tf.float32) * tf.cast(n > 0, tf.float32)[..., None]
    mil_bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(ranked), logits=ranked)
    per_box = tf.reduce_sum(mil_bce * take, -1) / k
    boxes = tf.reduce_sum(tf.cast(n > 0, tf.float32))
    mil = tf.reduce_sum(per_box * tf.cast(n > 0, tf.float32)) / tf.maximum(boxes, 1.0)
    return loss + recipe.MIL_WEIGHT * mil, per_ch_bce, dice, mil


def soft_bce(tf, logits, target_prob, weight):
    """Mean BCE of ``logits`` against soft targets (no gradient into the targets), weighted per pixel."""
    target = tf.stop_gradient(target_prob)
    bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=logits)
    return tf.reduce_sum(bce * weight) / tf.maximum(tf.reduce_sum(weight), 1.0)


def keep_channel_mask(keep: str) -> np.ndarray:
    """(1, 1, 1, C) weights for the channels named in ``keep`` (comma-separated; ``name:w`` gives one its own
    weight within the kept term, e.g. "face_skin,eye,panda_eye:3"), held to the teacher on every pixel whatever the labels say
    (segmentation the fine-tune must not lose while acne and dark spots change); 0 for the others."""
    mask = np.zeros((1, 1, 1, len(CHANNELS)), np.float32)
    for item in (part.strip() for part in keep.split(",")):
        if not item:
            continue
        name, _, weight = item.partition(":")
        name = name.strip()
        if name not in CHANNELS:
            raise ValueError(f"--keep names no channel: {name} (channels: {', '.join(CHANNELS)})")
        try:
            w = float(weight) if weight.strip() else 1.0
        except ValueError:
            raise ValueError(f"--keep: {item!r} has no number after the colon") from None
        if not (w >= 0 and math.isfinite(w)):
            raise ValueError(f"--keep: {item!r} needs a weight of 0 or more")
        mask[..., CHANNELS.index(name)] = w
    return mask


def dataset_shares(text: str, datasets: list[str]) -> dict[str, float]:
    """``--dataset-share`` ("name=share,name=share") as a dict, checked against the pack's datasets: a run
    that means to show one set more often must not silently show it as before because of a typo."""
    out: dict[str, float] = {}
    known = set(datasets)
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if name not in known:
            raise ValueError(f"--dataset-share names no dataset of the pack: {name} "
                             f"(the pack holds: {', '.join(sorted(known))})")
        try:
            share = float(value) if sep else float("nan")
        except ValueError:
            share = float("nan")
        if not (share >= 0 and math.isfinite(share)):
            raise ValueError(f"--dataset-share: {item!r} needs name=share with a share of 0 or more")
        out[name] = share
    return out


# Below this share of the crop a concern counts as absent (about the calibration's 0.002 of the face skin).
SHARE_EPS = 1e-3


def share_gap(tf, pa, pb, pull_b=None):
    """Mean squared gap of ln(SHARE_EPS + share) between photo and variant, per photo and concern channel
    (acne, dark spots, wrinkles, dark circles; share = mean probability over the crop). The scores read
    shares on a log scale, so this is what moves them; a pixel BCE hardly sees a sparse channel halve.
    ``pull_b`` (B,) 1 where only b is pulled (a fixed), 0 where only a is; None: both move."""
    la = tf.math.log(SHARE_EPS + tf.reduce_mean(pa[..., 2:], axis=(1, 2)))     # (B, 4)
    lb = tf.math.log(SHARE_EPS + tf.reduce_mean(pb[..., 2:], axis=(1, 2)))
    if pull_b is not None:
        w = tf.reshape(pull_b, (-1, 1))
        la, lb = w * tf.stop_gradient(la) + (1 - w) * la, w * lb + (1 - w) * tf.stop_gradient(lb)
    return tf.reduce_mean(tf.square(la - lb))


def kept_share_gap(tf, pa, teacher_pa, weights):
    """Weighted mean squared gap of ln(SHARE_EPS + share) between the photo's output and the teacher's, per
    photo and channel (``weights``: (C,), ``keep_channel_mask``). The pixel term holds each pixel, but a
    channel's share over a face (what a score reads) can still drift: k4 and k5 held dark circles pixel by
    pixel and their eye-area mean still varied less from face to face than the shipped model's."""
    ls = tf.math.log(SHARE_EPS + tf.reduce_mean(pa, axis=(1, 2)))             # (B, C)
    lt = tf.math.log(SHARE_EPS + tf.reduce_mean(teacher_pa, axis=(1, 2)))
    w = tf.reshape(weights, (1, -1)) * tf.ones_like(ls)
    return tf.reduce_sum(w * tf.square(ls - lt)) / tf.maximum(tf.reduce_sum(w), 1e-6)


def shift_back(tf, p, iy, ix, fy, fx, margin: int):
    """p (B,S,S,C) of a photo shifted by (iy + fy, ix + fx) px (integer tensors iy, ix; fractions fy, fx
    in [0, 1)) -> sampled at the original's pixels, bilinear, over the inner region that both photos
    cover: (B, S - 2 margin, S - 2 margin, C)."""
    s = p.shape[1]
    size = s - 2 * margin

    def cut(oy, ox):
        return tf.slice(p, tf.stack([0, margin - oy, margin - ox, 0]), [-1, size, size, -1])
    return ((1 - fy) * (1 - fx) * cut(iy, ix) + (1 - fy) * fx * cut(iy, ix + 1)
            + fy * (1 - fx) * cut(iy + 1, ix) + fy * fx * cut(iy + 1, ix + 1))


# -- model files ------------------------------------------------------------------------------------
def load_keras(path: Path):
    from skin_app.scan.segmentation import build_model, set_weights
    model = build_model()
    with np.load(path) as z:
        set_weights(model, {k: z[k] for k in z.files})
    return model


def save_app_weights(model, path: Path, dtypes_from: Path) -> None:
    """The model's weights in the shipped layout ("<layer>/<index>", each array in the dtype the
    shipped file uses: float16 kernels, float32 the rest), written atomically."""
    with np.load(dtypes_from) as z:
        dtypes = {k: z[k].dtype for k in z.files}
    arrays = {}
    for layer in model.layers:
        for j, w in enumerate(layer.get_weights()):
            key = f"{layer.name}/{j}"
            arrays[key] = w.astype(dtypes.get(key, np.float32))
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


# -- the run --------------------------------------------------------------------------------------
class Trainer:
    def __init__(self, cfg: Config, resume: bool) -> None:
        import tensorflow as tf
        self.tf = tf
        try:
            tf.config.threading.set_intra_op_parallelism_threads(cfg.threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:    # TensorFlow already running in this process (tests): its threads stay
            pass
        self.cfg = cfg
        self.out = Path(cfg.out)
        self.out.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        self.images, self.codes, self.datasets, _ = load_pack_arrays(Path(cfg.pack), "train")
        changed = freckles_not_acne(self.codes, self.datasets) if cfg.freckles_not_acne else 0
        self.weights = recipe.sampling_weights(self.datasets, dataset_shares(cfg.dataset_share, self.datasets))
        self.log(f"loaded {len(self.datasets)} training samples in {time.time() - t0:.0f}s "
                 f"({changed} freckle pixels made acne negatives)")
        self.student = load_keras(Path(cfg.init))
        self.teacher = load_keras(Path(cfg.teacher or cfg.init))
        self.teacher.trainable = False
        self.opt = tf.keras.optimizers.Adam(learning_rate=cfg.lr)
        self.step = tf.Variable(0, dtype=tf.int64)
        self.trained_s = tf.Variable(0.0, dtype=tf.float64)
        self.ckpt = tf.train.Checkpoint(model=self.student, opt=self.opt, step=self.step, trained_s=self.trained_s)
        self.manager = tf.train.CheckpointManager(self.ckpt, str(self.out / "ckpt"), max_to_keep=2)
        if resume and self.manager.latest_checkpoint:
            self.ckpt.restore(self.manager.latest_checkpoint).expect_partial()
            self.log(f"resumed {self.manager.latest_checkpoint} at step {int(self.step)}, "
                     f"{float(self.trained_s):.0f}s trained")
        self._teacher_fn = tf.function(lambda x: self.teacher(x, training=False))
        self._steps: dict[bool, Any] = {}

    def log(self, msg: str | dict) -> None:
        line = msg if isinstance(msg, str) else json.dumps(msg)
        print(line, flush=True)
        with open(self.out / "log.jsonl" if isinstance(msg, dict) else self.out / "train.log", "a") as f:
            f.write(line + "\n")

    # one batch of numpy inputs
    def make_batch(self, rng: np.random.Generator):
        cfg = self.cfg
        idx = rng.choice(len(self.datasets), cfg.batch, p=self.weights)
        tone_step = rng.random() < cfg.tone_share
        dy, dx = (0.0, 0.0) if tone_step else (float(rng.uniform(-cfg.shift, cfg.shift)),
                                                float(rng.uniform(-cfg.shift, cfg.shift)))
        size_in = self.images.shape[1]
        xa, xb, ca, cb = [], [], [], []
        for i in idx:
            m = affine(size_in, cfg.crop, rng)
            img_a, code_a = warp(self.images[i], self.codes[i], m, cfg.crop)
            seed = int(rng.integers(1 << 31))
            pa = photometric(img_a.astype(np.float32), np.random.default_rng(seed))
            if tone_step:
                img_b, code_b, pb = img_a, code_a, pa
            else:
                mb = m.copy()
                mb[:, 2] -= (dx, dy)            # xb(u, v) = xa(u + dx, v + dy)
                img_b, code_b = warp(self.images[i], self.codes[i], mb, cfg.crop)
                pb = reshot_photometric(photometric(img_b.astype(np.float32), np.random.default_rng(seed)), rng)
            xa.append(pa)
            xb.append(pb)
            ca.append(code_a.transpose(1, 2, 0))
            cb.append(code_b.transpose(1, 2, 0))
        return np.stack(xa), np.stack(xb), np.stack(ca), np.stack(cb), tone_step, dy, dx

    def train_step_fn(self, tone_step: bool):
        """The compiled step, one per variant kind (the shift is a tensor, so one graph serves all)."""
        if tone_step in self._steps:
            return self._steps[tone_step]
        tf = self.tf
        cfg = self.cfg
        margin = int(math.ceil(cfg.shift)) + 1
        keep_mask = tf.constant(keep_channel_mask(cfg.keep), tf.float32)

        @tf.function
        def step(xa, xb, ca, cb, teacher_pa, lr, darker_b, iy, ix, fy, fx):
            self.opt.learning_rate.assign(lr)
            with tf.GradientTape() as tape:
                # BN in inference mode (fixed statistics); photo and variant in one call
                prob = self.student(tf.concat([xa, xb], 0), training=False)
                prob = tf.clip_by_value(prob, 1e-6, 1 - 1e-6)
                logits = tf.math.log(prob) - tf.math.log(1 - prob)   # the graph ends in a sigmoid
                la, lb = tf.split(logits, 2)
                sup_a, bce_a, dice_a, mil_a = supervised_loss(tf, la, ca)
                sup_b, _, _, _ = supervised_loss(tf, lb, cb)
                unlabelled = tf.cast(tf.equal(tf.cast(ca, tf.int32), IGNORE), tf.float32)
                distill = soft_bce(tf, la, teacher_pa, unlabelled)
                kept = soft_bce(tf, la, teacher_pa, keep_mask * tf.ones_like(la)) if cfg.keep_weight else tf.constant(0.0)
                pa, pb = tf.sigmoid(la), tf.sigmoid(lb)
                kept_share = (kept_share_gap(tf, pa, teacher_pa, tf.reshape(keep_mask, (-1,))) if cfg.keep_share
                              else tf.constant(0.0))
                if tone_step:
                    # the darker of the pair is pulled to the lighter one (darker_b: 1 where xb is darker)
                    wb = tf.reshape(darker_b, (-1, 1, 1, 1)) * tf.ones_like(pa)
                    cons = soft_bce(tf, lb, pa, wb) + soft_bce(tf, la, pb, 1.0 - wb)
                    cons_w = cfg.tone_weight
                    share = share_gap(tf, pa, pb, darker_b)
                else:
                    pb_back = shift_back(tf, pb, iy, ix, fy, fx, margin)
                    lb_back = shift_back(tf, lb, iy, ix, fy, fx, margin)
                    s = la.shape[1]
                    la_in, pa_in = la[:, margin:s - margin, margin:s - margin, :], pa[:, margin:s - margin, margin:s - margin, :]
                    ones = tf.ones_like(pa_in)
                    cons = 0.5 * (soft_bce(tf, la_in, pb_back, ones) + soft_bce(tf, lb_back, pa_in, ones))
                    cons_w = cfg.reshot_weight
                    share = share_gap(tf, pa_in, pb_back)
                loss = (sup_a + sup_b + cfg.distill * distill + cons_w * cons + cfg.share_weight * share
                        + cfg.keep_weight * kept + cfg.keep_share * kept_share)
            variables = self.student.trainable_variables
            grads = tape.gradient(loss, variables)
            grads, norm = tf.clip_by_global_norm(grads, 5.0)
            self.opt.apply_gradients(zip(grads, variables))
            return {"loss": loss, "sup": sup_a, "distill": distill, "kept": kept, "kept_share": kept_share, "cons": cons,
                    "share": share, "mil": mil_a, "gnorm": norm,
                    "bce": bce_a, "dice": dice_a}

        self._steps[tone_step] = step
        return step

    def lr_at(self, step: int, trained_s: float) -> float:
        cfg = self.cfg
        progress = min(1.0, trained_s / max(cfg.minutes * 60, 1.0))
        return cfg.lr * min(1.0, (step + 1) / max(cfg.warmup, 1)) * 0.5 * (1 + math.cos(math.pi * progress))

    def save(self) -> None:
        path = self.manager.save(checkpoint_number=int(self.step))
        (self.out / "config.json").write_text(json.dumps(dataclasses.asdict(self.cfg), indent=1))
        Path(path + ".config.json").write_text(json.dumps(
            {**dataclasses.asdict(self.cfg), "step": int(self.step), "trained_s": round(float(self.trained_s), 1),
             "samples_seen": int(self.step) * self.cfg.batch}, indent=1))
        save_app_weights(self.student, self.out / "weights.npz", Path(self.cfg.init))
        self.log(f"checkpoint {path} at step {int(self.step)}")

    def run(self) -> dict:
        tf = self.tf
        cfg = self.cfg
        stop = {"now": False}

        def on_signal(signum, frame):   # finish the step, save, leave
            stop["now"] = True
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        budget = cfg.minutes * 60
        last_ckpt = time.time()
        rng = np.random.default_rng(cfg.seed + int(self.step))
        started, trained_at_start = time.time(), float(self.trained_s)
        while not stop["now"]:
            trained = trained_at_start + (time.time() - started)
            if trained >= budget or (cfg.max_steps and int(self.step) >= cfg.max_steps):
                break
            xa, xb, ca, cb, tone_step, dy, dx = self.make_batch(rng)
            # the tone variant needs the face skin: the frozen model's probability on the photo
            teacher_pa = self._teacher_fn(tf.constant(xa)).numpy()
            darker_b = np.zeros(cfg.batch, np.float32)
            if tone_step:
                for j in range(cfg.batch):
                    d = float(rng.uniform(*cfg.melanin))
                    skin = cv2.GaussianBlur(teacher_pa[j, ..., SKIN], (0, 0), 1.5)
                    xb[j] = melanin_change(xa[j], skin, d, rng)
                    darker_b[j] = 1.0 if d > 0 else 0.0
            lr = self.lr_at(int(self.step), trained)
            iy, ix = math.floor(dy), math.floor(dx)
            target = floored_teacher(teacher_pa, cfg.distill_floor)
            out = self.train_step_fn(tone_step)(
                tf.constant(xa), tf.constant(xb), tf.constant(ca), tf.constant(cb), tf.constant(target),
                tf.constant(lr, tf.float32), tf.constant(darker_b), tf.constant(iy, tf.int32),
                tf.constant(ix, tf.int32), tf.constant(dy - iy, tf.float32), tf.constant(dx - ix, tf.float32))
            self.step.assign_add(1)
            self.trained_s.assign(trained_at_start + (time.time() - started))
            s = int(self.step)
            if s % 10 == 0 or s == 1:
                rec = {"step": s, "trained_s": round(float(self.trained_s), 1), "lr": lr,
                       "kind": "tone" if tone_step else "reshot",
                       **{k: round(float(v), 5) for k, v in out.items() if k not in ("bce", "dice")},
                       **{f"bce_{CHANNELS[c]}": round(float(out["bce"][c]), 4) for c in range(6)}}
                self.log(rec)
            if time.time() - last_ckpt > cfg.ckpt_minutes * 60:
                self.save()
                last_ckpt = time.time()
        self.save()
        summary = {"steps": int(self.step), "trained_s": round(float(self.trained_s), 1),
                   "samples_seen": int(self.step) * cfg.batch, "stopped_by_signal": stop["now"]}
        (self.out / "summary.json").write_text(json.dumps(summary, indent=1))
        self.log(json.dumps(summary))
        return summary


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--resume", action="store_true", help="continue the run in --out with its saved config")
    for f in dataclasses.fields(Config):
        if f.name == "out":
            continue
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            ap.add_argument(flag, type=lambda v: v.lower() in ("1", "true", "yes"), default=None, metavar="BOOL")
        elif f.name == "melanin":
            ap.add_argument(flag, type=float, nargs=2, default=None)
        else:
            kind = {"int": int, "float": float, "str": str}[str(f.type)]
            ap.add_argument(flag, type=kind, default=None)
    a = ap.parse_args(argv)
    saved = a.out / "config.json"
    base = json.loads(saved.read_text()) if a.resume and saved.exists() else {}
    given = {f.name: getattr(a, f.name) for f in dataclasses.fields(Config)
             if f.name != "out" and getattr(a, f.name) is not None}
    merged = {**base, **given, "out": str(a.out)}
    if "melanin" in merged:
        merged["melanin"] = tuple(merged["melanin"])
    cfg = Config(**merged)
    from skin_app.config import setup_tensorflow_env
    setup_tensorflow_env()
    return Trainer(cfg, a.resume).run()


if __name__ == "__main__":
    main()
