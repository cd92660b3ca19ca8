"""Would the network's own features grade ACNE04 photos better than the acne map's measurements (issue 19)?

The grade model reads a few numbers measured on the acne map (shares, counts). This bench asks whether
what the network has inside, pooled over the face, carries more of the grade: the encoder's last stage
(``relu1``, 512 channels at 1/32) and three decoder stages, each pooled four ways (over the whole crop,
over the model's face skin, weighted by the acne probability, and the maximum), reduced by principal
components fitted inside each training fold, then the grade model's own ordinal logistic regression,
with and without the thresholded acne share beside them. The choice is made by 5-fold cross-validation
on the training split; the validation split's accuracy is reported, never used to choose.

    python bench/acne_grade_network_features.py --data ../shared/data

Each photo is letterboxed to 384 px as ``calibrate`` measures it and goes through the shipped weights
(Keras reference, mirror-averaged: the features of the mirror image are pooled flipped back and
averaged). Pooled features are kept in ``--cache`` (not committed), so a second run only refits.
Writes ``bench/results/acne_grade_network_features.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import cv2  # noqa: E402
import numpy as np  # noqa: E402

LAYERS = ("relu1", "decoder_stage1b_relu", "decoder_stage3b_relu", "decoder_stage4b_relu")
POOLS = ("crop_mean", "skin_mean", "acne_weighted", "max")
COMPONENTS = (4, 8, 16, 32)
PENALTIES = (1.0, 10.0)
SIZE = 384


def pooled(outputs: list[np.ndarray], skin: np.ndarray, acne: np.ndarray) -> dict[str, np.ndarray]:
    """Each layer's (2, h, w, c) output, the mirror flipped back, pooled four ways and averaged over the two."""
    found = {}
    for name, o in zip(LAYERS, outputs):
        h, w = o.shape[1:3]
        sk = cv2.resize(skin.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
        ac = cv2.resize((acne * skin).astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
        both = []
        for fmap in (o[0], o[1][:, ::-1]):
            flat = fmap.reshape(-1, fmap.shape[-1])
            both.append(np.concatenate([flat.mean(0), (fmap * sk[..., None]).sum((0, 1)) / max(sk.sum(), 1e-6),
                                        (fmap * ac[..., None]).sum((0, 1)) / max(ac.sum(), 1e-6), flat.max(0)]))
        found[name] = ((both[0] + both[1]) / 2).astype(np.float32)
    return found


def feature_network(model):
    """The network with the pooled layers' outputs beside its probabilities, as a function of a batch."""
    import tensorflow as tf
    both = tf.keras.Model(model.input, [model.get_layer(n).output for n in LAYERS] + [model.output])
    return tf.function(lambda x: both(x, training=False))


class ProjectedOrdinal:
    """Principal components of the standardised features (fitted on the rows it is given), then the
    grade model's ordinal regression on them; with ``extra`` columns passed through unprojected."""

    def __init__(self, x: np.ndarray, y: np.ndarray, components: int, extra: int, penalty: float) -> None:
        from skin_app.training.grade_model import fit_ordinal
        deep = x[:, extra:]
        self.extra, self.mean, self.sd = extra, deep.mean(0), deep.std(0) + 1e-6
        self.basis = np.linalg.svd((deep - self.mean) / self.sd, full_matrices=False)[2][:components].T
        z = self.project(x)
        self.model = fit_ordinal(z, y, tuple(f"f{i}" for i in range(z.shape[1])), penalty)

    def project(self, x: np.ndarray) -> np.ndarray:
        return np.concatenate([x[:, :self.extra], ((x[:, self.extra:] - self.mean) / self.sd) @ self.basis], 1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(self.project(x))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "acne_grade_network_features")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "acne_grade_network_features.json")
    a = ap.parse_args()
    from acne_grade_features import graded_photos

    from skin_app.scan.measure import face_skin_area
    from skin_app.scan.segmentation import load_segmenter
    from skin_app.training.grade_model import cross_validated_accuracy, quadratic_weighted_kappa
    from skin_app.training.pack import letterbox_with_transform
    seg = load_segmenter()
    thresholds = seg.thresholds
    cache = a.cache / seg.version
    cache.mkdir(parents=True, exist_ok=True)
    fn = None
    rows = []
    for s, labels in graded_photos(a.data):
        f = cache / f"{s.name}.npz"
        if not f.exists():
            fn = fn or feature_network(seg.reference().model)
            boxed, _, _ = letterbox_with_transform(s.image, {}, SIZE)
            outputs = [o.numpy() for o in fn(np.stack([boxed, boxed[:, ::-1]]).astype(np.float32))]
            p = (outputs[-1][0] + outputs[-1][1][:, ::-1]) / 2
            skin, _ = face_skin_area(p[..., 0] > thresholds["face_skin"], p[..., 1] > thresholds["eye"], None, None)
            share = float((p[..., 2][skin] > thresholds["acne"]).mean()) if skin.any() else 0.0
            np.savez_compressed(f, acne_share=share, **pooled(outputs[:-1], skin, p[..., 2]))
        z = np.load(f)
        rows.append({"split": s.split, "grade": int(labels["grade"]), "share": float(z["acne_share"]),
                     **{n: z[n] for n in LAYERS}})
    train = np.array([r["split"] == "train" for r in rows])
    y = np.array([r["grade"] for r in rows])
    share = np.log10(np.array([[r["share"]] for r in rows]) + 0.002)
    table: list[dict[str, Any]] = []
    for layer in LAYERS:
        block = np.stack([r[layer] for r in rows])
        width = block.shape[1] // len(POOLS)
        for i, pool in enumerate(POOLS):
            deep = block[:, i * width:(i + 1) * width]
            for k in COMPONENTS:
                for with_share in (False, True):
                    x = np.concatenate([share, deep], 1) if with_share else deep
                    extra = 1 if with_share else 0
                    for penalty in PENALTIES:
                        def fitter(xf, yf, _names, pen, k=k, extra=extra):
                            return ProjectedOrdinal(xf, yf, k, extra, pen)
                        cv = cross_validated_accuracy(x[train], y[train], (), penalty, fitter=fitter)
                        pred = ProjectedOrdinal(x[train], y[train], k, extra, penalty).predict(x[~train])
                        table.append({"layer": layer, "pool": pool, "components": k, "acne_share": with_share,
                                      "penalty": penalty, "cv_accuracy": round(cv, 4),
                                      "val_accuracy": round(float(np.mean(pred == y[~train])), 4),
                                      "val_kappa": round(quadratic_weighted_kappa(y[~train], pred), 4)})
    table.sort(key=lambda r: (-r["cv_accuracy"], r["components"]))
    result = {"weights": seg.version, "photos": {"train": int(train.sum()), "val": int((~train).sum())},
              "chosen_by_cv": table[0], "best_val_of_any": max(r["val_accuracy"] for r in table), "candidates": table}
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    for r in table[:10]:
        print(f"cv {r['cv_accuracy']:.3f}  val {r['val_accuracy']:.3f}  kappa {r['val_kappa']:.3f}  {r['layer']} "
              f"{r['pool']} k={r['components']} share={r['acne_share']} ridge {r['penalty']:g}", file=sys.stderr)


if __name__ == "__main__":
    main()
