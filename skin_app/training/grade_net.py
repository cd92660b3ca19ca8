"""An acne grader trained end to end on the ACNE04 grades, on this machine's CPU (issue 19).

Why: the experts' own lesion counts grade ACNE04 at most 0.58 (train) / 0.68 (validation) with the best
cut points (``bench/acne_grade_head.py --oracle``), and every reading of the frozen network's maps or
features stayed at 0.70-0.77. The published graders (LDL, Wu et al. ICCV 2019) fine-tune a whole ImageNet
encoder on the grades. Here the encoder is the shipped UNet's own ResNet34 (it already knows skin and
acne), fine-tuned with one ordinal (cumulative-link) output on the training split's graded photos.

The training split is cut once more (a salted hash of the photo name, ``TUNE_PERCENT``): the network
learns on the rest and the epoch is chosen on the tune part, so nothing about the choice reads the
validation split. Time-boxed and resumable: a checkpoint (weights, optimiser, epoch, the config) after
every epoch in ``--out``; a rerun with the same ``--out`` continues.

    python -m skin_app.training.grade_net --data ../shared/data --out runs/grade_net --epochs 30
    python -m skin_app.training.grade_net --data ../shared/data --out runs/grade_net --evaluate

``--evaluate`` measures the chosen epoch on the tune part and, once, on the validation split (mirror-averaged),
beside the shipped grade model read from the same input on the app's engine and the two stacked (one ordinal
model over both latents, fitted on the tune part), and writes ``evaluation.json`` beside the checkpoints.
What the runs so far measured (not adopted): ``models/MODEL_CARD.md``, "A grader trained end to end".
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from skin_app.config import setup_tensorflow_env

GRADES = 4
TUNE_PERCENT = 20      # of the training split: where the epoch is chosen
SOURCE_SIZE = 512      # ACNE04 v2 photos are letterboxed 512 px
RESUMABLE = ("data", "out", "epochs", "minutes")   # what a rerun may change in a saved config
CROPS = ("letterbox", "aligned")                   # what the grader reads (load_photos)


@dataclass
class Config:
    data: str
    out: str
    init: str = ""              # weights to start from; empty: the shipped ones
    size: int = 256
    batch: int = 8
    epochs: int = 30
    lr: float = 1e-4
    head_lr_factor: float = 10.0
    l2: float = 1e-5
    dropout: float = 0.3
    zoom: float = 0.15          # random scale 1 -+ zoom
    shift: float = 0.06         # of the side
    rotate: float = 10.0        # degrees
    light: float = 0.15         # exposure x(1 -+ light)
    white_balance: float = 0.06
    class_balance: float = 0.5  # class weight = (1 / frequency) ** class_balance
    seed: int = 0
    minutes: float = 0.0        # time box for this call (0: none); the run resumes where it stopped
    crop: str = "letterbox"     # or "aligned": the app's face crop (load_photos)
    ema: float = 0.0            # > 0: the tune part and --evaluate read a moving average of the weights

    def __post_init__(self) -> None:
        if self.crop not in CROPS:
            raise SystemExit(f"--crop must be one of {', '.join(CROPS)}, not {self.crop!r}")
        if not 0.0 <= self.ema < 1.0:
            raise SystemExit(f"--ema must be at least 0 and below 1, not {self.ema}")


def tune_part(name: str) -> bool:
    """Whether a training photo is in the tune part (stable: a salted hash of its name)."""
    digest = hashlib.sha1(f"grade-net-tune/{name}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < TUNE_PERCENT


def load_photos(data: Path, originals: bool = False, crop: str = "letterbox") -> dict[str, list[tuple]]:
    """{"train": [...], "tune": [...], "val": [...]}: (name, square uint8 input, grade), and the photo as it
    was read when ``originals``. ``crop``: "letterbox" (the whole photo, 512 px, as ``calibrate`` measures a
    photo without a face mesh) or "aligned" (the app's own crop of the face, 384 px, where the face mesh
    finds one; the letterbox elsewhere)."""
    import numpy as np

    from skin_app.training.calibrate import acne_grade
    from skin_app.training.datasets import iter_samples
    from skin_app.training.pack import letterbox_with_transform
    parts: dict[str, list] = {"train": [], "tune": [], "val": []}
    for s in iter_samples(data, ["acne04v2_512"]):
        grade = acne_grade(s.name)
        if grade is None:
            continue
        boxed = app_crop(s.image) if crop == "aligned" else None
        if boxed is None:
            boxed = np.ascontiguousarray(letterbox_with_transform(s.image, {}, SOURCE_SIZE)[0])
        part = "val" if s.split == "val" else ("tune" if tune_part(s.name) else "train")
        parts[part].append((s.name, boxed, grade, s.image) if originals else (s.name, boxed, grade))
    return parts


def app_crop(image):
    """The crop the app's model sees (aligned on the face mesh, ``INPUT_SIZE``), or None without a face."""
    from skin_app.scan import face as face_mod
    from skin_app.scan.segmentation import INPUT_SIZE
    faces = face_mod.find_faces(image)
    return face_mod.align_and_crop(image, faces[0], INPUT_SIZE).crop if faces else None


def augment(image, rng, cfg: Config):
    """A random re-framing and re-lighting of one letterboxed photo, at the network's size."""
    import cv2
    import numpy as np
    side = image.shape[0]
    s = cfg.size / side * (1 + rng.uniform(-cfg.zoom, cfg.zoom))
    angle = rng.uniform(-cfg.rotate, cfg.rotate)
    m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, s)
    m[:, 2] += cfg.size / 2 - side / 2 + rng.uniform(-cfg.shift, cfg.shift, 2) * cfg.size
    out = cv2.warpAffine(image, m, (cfg.size, cfg.size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    t = rng.uniform(-cfg.white_balance, cfg.white_balance)
    gain = (1 + rng.uniform(-cfg.light, cfg.light)) * np.array([1 + t, 1.0, 1 - t], np.float32)
    return np.clip(out.astype(np.float32) * gain, 0, 255)


def plain(image, size: int):
    """The photo as the grader sees it at test time: the letterbox resized to the network's size."""
    import cv2
    import numpy as np
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)


def build(cfg: Config):
    """(grader, encoder variables, head variables): the UNet's ResNet34 encoder (initialised from
    ``cfg.init``), mean and max pooled, then one latent with three ordered cut points."""
    import numpy as np
    import tensorflow as tf

    from skin_app.config import model_path
    from skin_app.scan.segmentation import build_model, set_weights
    unet = build_model()
    with np.load(cfg.init or model_path(), allow_pickle=False) as z:
        set_weights(unet, {k: z[k] for k in z.files})
    encoder = tf.keras.Model(unet.input, unet.get_layer("relu1").output, name="encoder")
    k = tf.keras
    inp = k.Input((cfg.size, cfg.size, 3))
    fmap = encoder(inp, training=False)       # batch norm keeps its statistics: batches of 8 are too small
    pooled = k.layers.Concatenate()([k.layers.GlobalAveragePooling2D()(fmap), k.layers.GlobalMaxPooling2D()(fmap)])
    pooled = k.layers.Dropout(cfg.dropout)(pooled)
    latent = k.layers.Dense(1, kernel_regularizer=k.regularizers.l2(cfg.l2), name="latent")(pooled)
    grader = k.Model(inp, latent, name="grade_net")
    head = grader.get_layer("latent").trainable_variables
    cuts = tf.Variable(np.array([-1.0, 0.5, 2.0], np.float32), name="cuts")
    return grader, encoder.trainable_variables, list(head) + [cuts], cuts


def grade_probabilities(latent, cuts):
    """P(grade = k) of a cumulative-link model: P(grade > j) = sigmoid(latent - cut_j)."""
    import tensorflow as tf
    above = tf.sigmoid(latent - tf.sort(cuts)[None, :])                     # (N, 3)
    ones, zeros = tf.ones_like(above[:, :1]), tf.zeros_like(above[:, :1])
    cum = tf.concat([ones, above, zeros], 1)
    return tf.clip_by_value(cum[:, :-1] - cum[:, 1:], 1e-6, 1.0)


def mirrored_latents(grader, images, size: int, batch: int = 16):
    """The latent of each photo, averaged with its mirror's (as the app measures)."""
    import numpy as np
    out = [np.zeros(0, np.float32)]
    for i in range(0, len(images), batch):
        x = np.stack([plain(im, size) for im in images[i:i + batch]])
        both = grader(np.concatenate([x, x[:, :, ::-1]]), training=False).numpy()[:, 0]
        n = len(x)
        out.append((both[:n] + both[n:]) / 2)
    return np.concatenate(out)


def scores(latents, cuts, grades) -> dict:
    import numpy as np

    from skin_app.training.grade_model import quadratic_weighted_kappa
    grades = np.asarray(grades, int)
    if len(grades) == 0:
        return {"n": 0}
    pred = np.digitize(latents, np.sort(cuts))
    recall = {int(g): round(float(np.mean(pred[grades == g] == g)), 3) for g in range(GRADES) if (grades == g).any()}
    return {"n": int(len(grades)), "accuracy": round(float(np.mean(pred == grades)), 4),
            "kappa": round(quadratic_weighted_kappa(grades, pred), 4), "recall": recall}


def train(cfg: Config) -> None:
    import numpy as np
    import tensorflow as tf
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1))
    parts = load_photos(Path(cfg.data), crop=cfg.crop)
    images = [im for _, im, _ in parts["train"]]
    grades = np.array([g for _, _, g in parts["train"]])
    print(f"photos: train {len(images)}, tune {len(parts['tune'])}, val {len(parts['val'])} "
          f"(val not read); grades {np.bincount(grades, minlength=GRADES).tolist()}", file=sys.stderr)
    weights = (1.0 / np.maximum(np.bincount(grades, minlength=GRADES), 1)) ** cfg.class_balance
    weights = (weights / np.sum(weights[grades]) * len(grades)).astype(np.float32)

    grader, enc_vars, head_vars, cuts = build(cfg)
    steps_per_epoch = math.ceil(len(images) / cfg.batch)
    total = steps_per_epoch * cfg.epochs
    schedule = tf.keras.optimizers.schedules.CosineDecay(cfg.lr, total, warmup_target=None)
    opt_enc = tf.keras.optimizers.Adam(schedule)
    opt_head = tf.keras.optimizers.Adam(lambda: schedule(opt_enc.iterations) * cfg.head_lr_factor)
    epoch = tf.Variable(0, dtype=tf.int64)
    averaged = Averaged(enc_vars + head_vars, cfg.ema)
    ckpt = tf.train.Checkpoint(grader=grader, cuts=cuts, opt_enc=opt_enc, opt_head=opt_head, epoch=epoch,
                               averages=averaged.shadows)
    manager = tf.train.CheckpointManager(ckpt, out / "ckpt", max_to_keep=None)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint)
        print(f"resumed at epoch {int(epoch.numpy())}", file=sys.stderr)

    @tf.function(reduce_retracing=True)
    def step(x, y, w):
        with tf.GradientTape() as tape:
            latent = grader(x, training=True)
            p = grade_probabilities(latent, cuts)
            nll = -tf.math.log(tf.gather(p, y, batch_dims=1))
            loss = tf.reduce_mean(w * nll) + tf.add_n(grader.losses)
        g = tape.gradient(loss, enc_vars + head_vars)
        opt_enc.apply_gradients(zip(g[:len(enc_vars)], enc_vars))
        opt_head.apply_gradients(zip(g[len(enc_vars):], head_vars))
        averaged.update()
        return loss

    started = time.time()
    log = out / "log.jsonl"
    while int(epoch.numpy()) < cfg.epochs:
        e = int(epoch.numpy())
        rng = np.random.default_rng(cfg.seed * 1000 + e)
        order = rng.permutation(len(images))
        t0, losses = time.time(), []
        for i in range(0, len(order), cfg.batch):
            idx = order[i:i + cfg.batch]
            x = np.stack([augment(images[j], rng, cfg) for j in idx])
            losses.append(float(step(x, grades[idx], weights[grades[idx]])))
        with averaged.swapped():
            read_cuts = np.sort(cuts.numpy())
            tune = scores(mirrored_latents(grader, [im for _, im, _ in parts["tune"]], cfg.size), read_cuts,
                          [g for _, _, g in parts["tune"]])
        epoch.assign(e + 1)
        manager.save(checkpoint_number=e + 1)
        row = {"epoch": e + 1, "loss": round(float(np.mean(losses)), 4), "tune": tune,
               "cuts": [round(float(c), 3) for c in read_cuts], "seconds": round(time.time() - t0, 1)}
        with log.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), file=sys.stderr, flush=True)
        if cfg.minutes and time.time() - started > cfg.minutes * 60:
            print("time box reached; rerun to continue", file=sys.stderr)
            return


class Averaged:
    """An exponential moving average of variables (Polyak averaging): with a few hundred photos each step
    moves the latent against its cut points, and the average reads steadier than the last step."""

    def __init__(self, variables: list, decay: float) -> None:
        import tensorflow as tf
        self.variables, self.decay = variables, decay
        self.shadows = [tf.Variable(v, trainable=False) for v in variables] if decay > 0 else []

    def update(self) -> None:
        for shadow, v in zip(self.shadows, self.variables):
            shadow.assign(self.decay * shadow + (1.0 - self.decay) * v)

    def adopt(self) -> None:
        """The variables take their averages (no-op without averaging)."""
        for shadow, v in zip(self.shadows, self.variables):
            v.assign(shadow)

    def swapped(self):
        """A context in which the variables hold their averages (and get their own values back after)."""
        import contextlib

        @contextlib.contextmanager
        def swap():
            kept = [v.numpy() for v in self.variables] if self.shadows else []
            self.adopt()
            try:
                yield
            finally:
                for value, v in zip(kept, self.variables):
                    v.assign(value)
        return swap()


def chosen_epoch(out: Path) -> int:
    """The epoch with the best tune accuracy (ties: kappa, then the earlier)."""
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines() if line.strip()]
    best = max(rows, key=lambda r: (r["tune"]["accuracy"], r["tune"]["kappa"], -r["epoch"]))
    return int(best["epoch"])


def shipped_latents(parts: dict, letterboxed: bool) -> tuple[dict[str, list[float | None]], tuple[float, ...]]:
    """The shipped grade model's latent for each photo of the tune and validation parts, read from the same
    input the grader read: the letterboxed photo (as ``calibrate`` and ``evaluate`` measure ACNE04) or the
    app's aligned face crop; mirror-averaged, on the app's engine. None where it cannot read one. It was
    fitted on the whole training split, so on the tune part it is read in-sample."""
    from skin_app.scan.calibration import load_calibration
    from skin_app.scan.segmentation import load_segmenter
    from skin_app.training.calibrate import measure_photo
    seg, curve = load_segmenter(), load_calibration().curves["acne"]
    out: dict[str, list[float | None]] = {}
    for part in ("tune", "val"):
        out[part] = []
        for _, _, _, image in parts[part]:
            aligned, boxed = measure_photo(seg, image, letterboxed_only=letterboxed)
            out[part].append(curve.raw(aligned or boxed or {}))
    return out, tuple(curve.cuts)


def stacked(net: dict, shipped: dict, grades: dict) -> dict:
    """The grade net's latent beside the shipped grade model's, one ordinal model fitted on the tune part
    (where the net's latent is out of sample) and read on the validation split."""
    import numpy as np

    from skin_app.training.grade_model import fit_ordinal
    def rows(part):
        keep = [i for i, v in enumerate(shipped[part]) if v is not None]
        return (np.array([[net[part][i], shipped[part][i]] for i in keep]), np.array([grades[part][i] for i in keep]))
    x, y = rows("tune")
    model = fit_ordinal(x, y, ("grade_net", "shipped"), penalty=1.0)
    xv, yv = rows("val")
    return {"weights": [round(w, 3) for w in model.weights],
            "val": scores(model.eta(xv), np.array(model.cuts), yv)}


def evaluate(cfg: Config) -> dict:
    import numpy as np
    import tensorflow as tf
    out = Path(cfg.out)
    e = chosen_epoch(out)
    grader, enc_vars, head_vars, cuts = build(cfg)
    averaged = Averaged(enc_vars + head_vars, cfg.ema)
    tf.train.Checkpoint(grader=grader, cuts=cuts, averages=averaged.shadows).restore(
        str(out / "ckpt" / f"ckpt-{e}")).expect_partial()
    averaged.adopt()                                     # read as the tune part chose it
    parts = load_photos(Path(cfg.data), originals=True, crop=cfg.crop)
    result: dict = {"epoch": e}
    net, grades = {}, {}
    for part in ("tune", "val"):
        net[part] = mirrored_latents(grader, [p[1] for p in parts[part]], cfg.size)
        grades[part] = [p[2] for p in parts[part]]
        result[part] = scores(net[part], cuts.numpy(), grades[part])
    shipped, shipped_cuts = shipped_latents(parts, letterboxed=cfg.crop == "letterbox")
    result["shipped_grade_model"] = {"input": cfg.crop, **{
        part: scores(np.array([v for v in shipped[part] if v is not None]), np.array(shipped_cuts),
                     [g for g, v in zip(grades[part], shipped[part]) if v is not None]) for part in ("tune", "val")}}
    if len(grades["tune"]) >= 20 and len(grades["val"]):
        result["stacked"] = stacked(net, shipped, grades)
    (out / "evaluation.json").write_text(json.dumps(result, indent=1))
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--evaluate", action="store_true")
    for f in dataclasses.fields(Config):
        if f.name not in ("data", "out"):
            ap.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=None,
                            help=f"default {f.default}")
    args = vars(ap.parse_args(argv))
    do_eval = args.pop("evaluate")
    given = {k: v for k, v in args.items() if v is not None}
    saved = Path(args["out"]) / "config.json"
    if saved.exists():
        # a resumed run keeps the config it started with; only where the data lie, the time box and the
        # number of epochs (a longer run: its learning-rate schedule stretches) may change
        kept = json.loads(saved.read_text())
        ignored = sorted(k for k in given if k not in RESUMABLE and given[k] != kept.get(k))
        if ignored:
            print(f"resuming with the saved config; ignored: {', '.join(ignored)}", file=sys.stderr)
        cfg = Config(**{**kept, **{k: v for k, v in given.items() if k in RESUMABLE}})
    else:
        cfg = Config(**given)
    setup_tensorflow_env()
    if do_eval:
        print(json.dumps(evaluate(cfg), indent=1))
    else:
        train(cfg)


if __name__ == "__main__":
    main()
