"""Can a small learned head on the network's decoder features grade ACNE04 photos as the experts do (issue 19)?

Two findings set this bench up. First, the experts' own lesion counts do not give their grades: the best
three cut points on the true count grade 0.578 of the training photos and 0.682 of the validation photos
(``--oracle`` prints it; cut points chosen on the validation photos themselves reach 0.705), below the shipped
grade model's 0.715 / 0.765. So a better counter alone cannot
reach issue 19's 0.82; the grade also reads what the lesions look like. Second, the network's features
pooled over the face and read by a linear model cross-validated at 0.762 but validated at 0.712
(``acne_grade_network_features.py``): pooling first throws away where and how large each lesion is.

So here the pooling comes last. A head of two small convolutions runs over one decoder stage's feature map
(the shipped weights frozen, mirror-averaged as the app measures, letterboxed to 384 px as ``calibrate``
measures ACNE04) with the acne probability beside it; its map is pooled over the face skin (mean and
maximum) and read, beside the shipped grade model's own four measures, by one ordinal (cumulative-link)
latent, so it starts from what is read today. A second output, a lesion *density* whose sum over the
skin is a count, may be supervised by the experts' count (``--count-weights``; LDL, Wu et al. ICCV 2019,
learns grading and counting together). Everything is chosen by 5-fold cross-validation on the training
split, with the shipped grade model's features refitted on the same folds beside it; the validation split
is measured once, at the end, by the choice.

    python bench/acne_grade_head.py --data ../shared/data            # extracts features (cached), then fits
    python bench/acne_grade_head.py --data ../shared/data --oracle   # the true-count ceiling only

Features are cached in ``--cache`` (not committed, about 1 GB). Writes ``bench/results/acne_grade_head.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import cv2  # noqa: E402
import numpy as np  # noqa: E402

SIZE = 384
LAYERS = {"stage2b": "decoder_stage2b_relu", "stage1b": "decoder_stage1b_relu"}   # 1/4 (64 ch), 1/8 (128 ch)
GRADES = 4
HAYASHI = (5.5, 20.5, 50.5)    # Hayashi's lesion counts: 0-5 mild, 6-20 moderate, 21-50 severe, more very severe
FOLDS = 5
MEASURES = ("soft_share", "area_share", "lesions", "blobs")   # the shipped grade model's features


def best_cuts(counts: np.ndarray, grades: np.ndarray) -> tuple[float, tuple[int, int, int]]:
    """(accuracy, cut points): the three count cut points that grade these photos best."""
    values = np.unique(counts)
    best = (-1.0, (0, 0, 0))
    for i, a in enumerate(values):
        for j in range(i + 1, len(values)):
            b = values[j]
            for c in values[j + 1:]:
                acc = float(np.mean(np.digitize(counts, [a + 0.5, b + 0.5, c + 0.5]) == grades))
                if acc > best[0]:
                    best = (acc, (int(a), int(b), int(c)))
    return best


def hayashi_ceiling(n_train: np.ndarray, g_train: np.ndarray, n_val: np.ndarray, g_val: np.ndarray) -> dict:
    """The best three cut points on the experts' own counts (chosen on the training photos): what a perfect
    counter could grade at most, without looking at the lesions."""
    best = best_cuts(n_train, g_train)
    a, b, c = best[1]
    val = float(np.mean(np.digitize(n_val, [a + 0.5, b + 0.5, c + 0.5]) == g_val))
    return {"cuts": best[1], "train_accuracy": round(best[0], 4), "val_accuracy": round(val, 4),
            "val_accuracy_cuts_chosen_on_val": round(best_cuts(n_val, g_val)[0], 4),
            "hayashi_cuts_5_20_50": {"train_accuracy": round(float(np.mean(np.digitize(n_train, HAYASHI) == g_train)), 4),
                                     "val_accuracy": round(float(np.mean(np.digitize(n_val, HAYASHI) == g_val)), 4)}}


def extract(data: Path, cache: Path, seg) -> list[dict]:
    """Per graded photo: the mirror-averaged feature maps, acne probability and face skin at each stage's size."""
    import tensorflow as tf
    from acne_grade_features import graded_photos

    from skin_app.scan.measure import face_skin_area
    from skin_app.training.pack import letterbox_with_transform
    cache = cache / seg.version
    cache.mkdir(parents=True, exist_ok=True)
    fn = None
    rows = []
    for s, labels in graded_photos(data):
        f = cache / f"{s.name}.npz"
        if not f.exists():
            if fn is None:
                model = seg.reference().model
                both = tf.keras.Model(model.input, [model.get_layer(n).output for n in LAYERS.values()] + [model.output])
                fn = tf.function(lambda x, both=both: both(x, training=False))
            boxed, _, _ = letterbox_with_transform(s.image, {}, SIZE)
            outs = [o.numpy() for o in fn(np.stack([boxed, boxed[:, ::-1]]).astype(np.float32))]
            p = (outs[-1][0] + outs[-1][1][:, ::-1]) / 2
            skin, _ = face_skin_area(p[..., 0] > seg.thresholds["face_skin"], p[..., 1] > seg.thresholds["eye"],
                                     None, None)
            arrays = {}
            for key, o in zip(LAYERS, outs[:-1]):
                fmap = (o[0] + o[1][:, ::-1]) / 2
                h, w = fmap.shape[:2]
                acne = cv2.resize(p[..., 2], (w, h), interpolation=cv2.INTER_AREA)
                sk = cv2.resize(skin.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
                arrays[key] = np.concatenate([fmap, acne[..., None], sk[..., None]], -1).astype(np.float16)
            np.savez(f, **arrays)
        rows.append({"name": s.name, "split": s.split, "grade": int(labels["grade"]),
                     "lesions": int(labels["lesions"]), "file": f})
    return rows


def build_head(channels: int, width: int, l2: float, measures: int):
    """Feature map (acne probability and skin as its last two channels) and the grade model's own measures
    -> (ordinal logits, log1p count). A learned map, pooled over the skin two ways (mean, max), beside the
    measures, read by one linear latent with ordered cut points."""
    import tensorflow as tf
    k = tf.keras
    reg = k.regularizers.l2(l2)
    inp = k.Input((None, None, channels))
    meas = k.Input((measures,))
    feats, skin = inp[..., :-1], inp[..., -1:]
    x = k.layers.SpatialDropout2D(0.1)(feats)
    x = k.layers.Conv2D(2 * width, 1, activation="relu", kernel_regularizer=reg)(x)
    x = k.layers.Conv2D(width, 3, padding="same", activation="relu", kernel_regularizer=reg)(x)
    area = tf.reduce_sum(skin, (1, 2)) + 1.0
    pooled = tf.concat([tf.reduce_sum(x * skin, (1, 2)) / area, tf.reduce_max(x * skin, (1, 2))], -1)
    density = tf.nn.softplus(k.layers.Conv2D(1, 1, kernel_regularizer=reg)(x) - 4.0) * skin
    log_count = tf.math.log1p(tf.reduce_sum(density, (1, 2, 3)))
    h = k.layers.Dropout(0.2)(tf.concat([k.layers.BatchNormalization()(pooled), meas, log_count[:, None]], -1))
    z = k.layers.Dense(1, kernel_regularizer=reg)(h)
    cuts = k.layers.Dense(GRADES - 1, kernel_initializer="zeros")(tf.ones_like(z))
    # cumulative link: P(grade > j) = sigmoid(z - theta_j); theta increasing by construction
    theta = tf.cumsum(tf.concat([cuts[:, :1], tf.nn.softplus(cuts[:, 1:])], -1), -1)
    return k.Model([inp, meas], [z - theta, log_count])


def fit_head(x: np.ndarray, meas: np.ndarray, grade: np.ndarray, lesions: np.ndarray, cfg: dict, seed: int):
    import tensorflow as tf
    tf.keras.utils.set_random_seed(seed)
    model = build_head(x.shape[-1], cfg["width"], cfg["l2"], meas.shape[1])
    steps = cfg["epochs"] * int(np.ceil(len(x) / cfg["batch"]))
    opt = tf.keras.optimizers.Adam(tf.keras.optimizers.schedules.CosineDecay(cfg["lr"], steps))
    above = (grade[:, None] > np.arange(GRADES - 1)[None]).astype(np.float32)
    target_count = np.log1p(lesions).astype(np.float32)

    @tf.function
    def step(xb, mb, ab, cb):
        with tf.GradientTape() as tape:
            logits, log_count = model([xb, mb], training=True)
            ordinal = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=ab, logits=logits))
            count = tf.reduce_mean(tf.square(log_count - cb))
            loss = ordinal + cfg["count_weight"] * count + tf.add_n(model.losses)
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    rng = np.random.default_rng(seed)
    n = len(x)
    for _ in range(cfg["epochs"]):
        order = rng.permutation(n)
        for i in range(0, n, cfg["batch"]):
            idx = order[i:i + cfg["batch"]]
            xb = x[idx].astype(np.float32)
            flip = rng.random(len(idx)) < 0.5
            xb[flip] = xb[flip, :, ::-1]
            step(xb, meas[idx].astype(np.float32), above[idx], target_count[idx])
    return model


def predict(model, x: np.ndarray, meas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    grades, counts = [], []
    for i in range(0, len(x), 32):
        logits, log_count = model([x[i:i + 32].astype(np.float32), meas[i:i + 32].astype(np.float32)],
                                  training=False)
        grades.append((logits.numpy() > 0).sum(-1))
        counts.append(np.expm1(log_count.numpy()))
    return np.concatenate(grades), np.concatenate(counts)


def measures_of(rows: list[dict], data: Path, seg) -> np.ndarray:
    """The shipped grade model's own inputs for each photo (log10 of the letterboxed scan's acne measures),
    from ``calibrate``'s measurements of the same weights and thresholds (its cache; measured where missing),
    so the head starts from what is read today."""
    from skin_app.training.calibrate import collect, metrics_of
    from skin_app.training.grade_model import feature_matrix
    found = {r["name"]: metrics_of(r) for r in collect(data, seg, datasets=("acne04v2_512",), log=lambda m: None)
             if r["dataset"] == "acne04v2_512"}
    return feature_matrix([found[r["name"]] for r in rows], MEASURES)


def figures(grade: np.ndarray, lesions: np.ndarray, pred: np.ndarray, count: np.ndarray) -> dict:
    from skin_app.training.grade_model import quadratic_weighted_kappa
    out: dict[str, Any] = {"accuracy": round(float(np.mean(pred == grade)), 4),
                           "kappa": round(quadratic_weighted_kappa(grade, pred), 4),
                           "count_mae": round(float(np.mean(np.abs(count - lesions))), 2)}
    for g in range(GRADES):
        sel = grade == g
        if sel.any():
            out[f"grade{g}"] = {"n": int(sel.sum()), "recall": round(float(np.mean(pred[sel] == g)), 3),
                                "count_mae": round(float(np.mean(np.abs(count[sel] - lesions[sel]))), 1)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "acne_grade_head")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "acne_grade_head.json")
    ap.add_argument("--oracle", action="store_true", help="only the true-count ceiling")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--layers", nargs="+", default=["stage1b"], choices=list(LAYERS))
    ap.add_argument("--count-weights", nargs="+", type=float, default=[0.0, 1.0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--folds", type=int, default=FOLDS, help="fewer than 5: a quick look, nothing written")
    a = ap.parse_args()
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    if a.oracle:
        from acne_grade_features import graded_photos
        rows = [{"split": s.split, "grade": int(lab["grade"]), "lesions": int(lab["lesions"])}
                for s, lab in graded_photos(a.data)]
    else:
        from skin_app.scan.segmentation import load_segmenter
        seg = load_segmenter()
        rows = extract(a.data, a.cache, seg)
    train = np.array([r["split"] == "train" for r in rows])
    grade = np.array([r["grade"] for r in rows])
    lesions = np.array([r["lesions"] for r in rows])
    ceiling = hayashi_ceiling(lesions[train], grade[train], lesions[~train], grade[~train])
    print(f"true-count ceiling: {ceiling}", file=sys.stderr)
    result: dict[str, Any] = {"true_count_ceiling": ceiling}
    if a.oracle:
        print(json.dumps(result, indent=1))
        return
    meas = measures_of(rows, a.data, seg)
    folds = np.random.default_rng(0).permutation(int(train.sum())) % FOLDS
    gt, nt, mt = grade[train], lesions[train], meas[train]
    from skin_app.training.grade_model import fit_ordinal
    base = np.zeros(len(gt), int)
    for k in range(FOLDS):
        base[folds == k] = fit_ordinal(mt[folds != k], gt[folds != k], MEASURES, 1.0).predict(mt[folds == k])
    print(f"shipped grade model's features, same folds: CV {np.mean(base == gt):.3f}", file=sys.stderr)
    result["shipped_features_cv_accuracy"] = round(float(np.mean(base == gt)), 4)
    configs = [{"layer": layer, "width": 16, "count_weight": cw, "l2": 1e-3, "lr": 2e-3, "epochs": a.epochs,
                "batch": 16} for layer in a.layers for cw in a.count_weights]
    table = []
    for cfg in configs:
        x = np.stack([np.load(r["file"])[cfg["layer"]] for r in rows])
        xt = x[train]
        t0 = time.time()
        pred = np.full(len(xt), -1)
        count = np.zeros(len(xt))
        for k in range(a.folds):
            m = fit_head(xt[folds != k], mt[folds != k], gt[folds != k], nt[folds != k], cfg, seed=k)
            pred[folds == k], count[folds == k] = predict(m, xt[folds == k], mt[folds == k])
            fit_pred, _ = predict(m, xt[folds != k], mt[folds != k])
            print(f"  fold {k}: held out {np.mean(pred[folds == k] == gt[folds == k]):.3f}, "
                  f"fitted {np.mean(fit_pred == gt[folds != k]):.3f}; shipped features held out "
                  f"{np.mean(base[folds == k] == gt[folds == k]):.3f}", file=sys.stderr)
        done = pred >= 0
        cv = figures(gt[done], nt[done], pred[done], count[done])
        table.append({"config": cfg, "cv": cv, "folds": a.folds, "seconds": round(time.time() - t0)})
        print(f"{cfg['layer']} count_weight {cfg['count_weight']}: CV {cv['accuracy']:.3f} kappa {cv['kappa']:.3f} "
              f"count MAE {cv['count_mae']:.1f} ({time.time() - t0:.0f}s)", file=sys.stderr)
    if a.folds < FOLDS:
        return
    table.sort(key=lambda r: -r["cv"]["accuracy"])
    chosen = table[0]["config"]
    x = np.stack([np.load(r["file"])[chosen["layer"]] for r in rows])
    m = fit_head(x[train], mt, gt, nt, chosen, seed=0)
    pv, cv_ = predict(m, x[~train], meas[~train])
    result.update({"photos": {"train": int(train.sum()), "val": int((~train).sum())}, "chosen_by_cv": chosen,
                   "validation": figures(grade[~train], lesions[~train], pv, cv_), "candidates": table})
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["validation"]), file=sys.stderr)

if __name__ == "__main__":
    main()
