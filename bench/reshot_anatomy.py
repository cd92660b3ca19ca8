"""What moves between re-shots: the noise band taken apart into geometry and model output.

    python bench/reshot_anatomy.py --data ../shared/data [--faces 20] [--variants 3] [--seed 0]

The same validation faces and simulated re-shots as ``noise_band.py`` (its ``reshoot``, plus the same
pixels as a HEIC). Each shot is analysed through the app's front path (``check_photo``, then the
model on the aligned crop, ``front_geometry``, ``measure``, the calibration's display scores). Because
the re-shot's transform is known, every shot's crop can be mapped onto the original's crop
(crop_shot -> file pixels of the shot -> file pixels of the original -> crop_orig), which parts the
change of each score into:

three steps that add up to the total, each measured on one crop's own pixels (no probability map is
resampled; only region masks are carried, nearest pixel):

* **placement**: the original photo cut where the shot's crop fell (from the shot's landmarks) and put
  through the model, measured with the original's regions carried onto that crop: what moving the
  crop alone does to the model's output;
* **regions**: the same output measured with the shot's own regions and outline instead (what the
  landmark-built masks alone move);
* **photo**: the shot itself against that (the light, white balance, JPEG, resampling: the model's
  response to the pixels).

``--factors`` replaces whole re-shots by shots that change one thing each (framing alone, exposure
alone, white balance alone, JPEG quality 70 alone), so the photo part can be parted too.

It also reports, per shot, the landmark jitter (mesh points of the shot mapped into the original's
crop; mean offset and the residual after it), the crop's scale and shift against the original's, the
IoU of each region and of the scored skin (mapped into the original's crop), and for acne each term
of the grade model's latent (soft share, thresholded share, lesion count, blob count) times its
weight, since the display score is a line through that latent.

Writes ``bench/results/reshot_anatomy.json`` (summary and per-shot detail) and prints the summary.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from noise_band import MAX_TRIES, reshoot, seeded_queues  # noqa: E402
from PIL import Image  # noqa: E402

from skin_app.concerns import REGIONS  # noqa: E402
from skin_app.errors import FaceError, ImageError  # noqa: E402

SCORES = ("acne", "flek", "wrinkle", "panda_eye", "overall")
PARTS = ("total", "placement", "regions", "photo")
LOG_OFFSET = 0.002


def _h(m: np.ndarray) -> np.ndarray:
    """A 2x3 affine as 3x3."""
    return np.vstack([np.asarray(m, np.float64), [0.0, 0.0, 1.0]])


def one_factor_shots(rgb: np.ndarray, rng: random.Random) -> list[tuple[bytes, dict]]:
    """Shots that each change ONE thing of a re-shot (``--factors``): framing alone (zoom, shift,
    rotation; saved lossless), exposure alone, white balance alone, JPEG quality 70 alone (lossless
    PNG otherwise), each drawn from ``noise_band.reshoot``'s ranges."""
    from skin_app.training.recipe import RESHOT_EXPOSURE, RESHOT_WHITE_BALANCE
    h, w = rgb.shape[:2]

    def png(a: np.ndarray) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, format="PNG")
        return buf.getvalue()
    out = []
    p = {"scale": rng.uniform(1.0, 1.08), "angle": rng.uniform(-5, 5),
         "dx": rng.uniform(-0.04, 0.04), "dy": rng.uniform(-0.04, 0.04), "factor": "framing"}
    m = reshot_matrix(p, w, h)
    out.append((png(cv2.warpAffine(rgb, m[:2], (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)), p))
    b = rng.choice([-1, 1]) * rng.uniform(0.5, 1.0) * RESHOT_EXPOSURE
    out.append((png(np.clip(rgb.astype(np.float32) * (1 + b), 0, 255).astype(np.uint8)),
                {"factor": "exposure", "brightness": round(1 + b, 3)}))
    t = rng.choice([-1, 1]) * rng.uniform(0.5, 1.0) * RESHOT_WHITE_BALANCE
    x = rgb.astype(np.float32)
    x[..., 0] *= 1 + t
    x[..., 2] *= 1 - t
    out.append((png(np.clip(x, 0, 255).astype(np.uint8)), {"factor": "white_balance", "temperature": round(t, 3)}))
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=70)
    out.append((buf.getvalue(), {"factor": "jpeg70"}))
    return out


def reshot_matrix(params: dict, w: int, h: int) -> np.ndarray:
    """The 3x3 map from the original file's pixels to the re-shot's (``noise_band.reshoot``'s warp)."""
    if "scale" not in params:
        return np.eye(3)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), params["angle"], params["scale"])
    m[0, 2] += params["dx"] * w
    m[1, 2] += params["dy"] * h
    return _h(m)


def file_to_crop(checked) -> np.ndarray:
    """3x3 map from the file's pixels to the aligned crop (decode scale, then the alignment)."""
    s = checked.loaded.scale
    return _h(checked.aligned.matrix) @ np.diag([s, s, 1.0])


def warp(a: np.ndarray, m: np.ndarray, size: int, nearest: bool = False) -> np.ndarray:
    """``a`` (on one crop) resampled onto another crop, ``m`` mapping the first crop to the second."""
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    src = a.astype(np.uint8) if a.dtype == bool else a
    out = cv2.warpAffine(src, m[:2], (size, size), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out.astype(bool) if a.dtype == bool else out


class Shot:
    """One analysed shot: crop, landmarks, probabilities, regions, outline, metrics, scores."""

    def __init__(self, raw: bytes, seg, cal):
        from skin_app.scan.analysis import check_photo, front_geometry, probabilities_of
        from skin_app.scan.measure import measure
        self.checked = check_photo(raw, "front")
        if not self.checked.quality.ok:
            first = next(i for i in self.checked.quality.issues if i.blocking)
            raise FaceError(first.message, first.advice, first.code, self.checked.quality)
        assert self.checked.aligned is not None        # a front view is always aligned on landmarks
        self.aligned = self.checked.aligned
        self.crop = self.aligned.crop
        self.prob = probabilities_of(seg, self.crop)
        self.regions, self.oval = front_geometry(self.aligned)
        self.m = measure(self.prob, seg.thresholds, self.crop, self.regions, self.oval)
        self.scores = cal.display_scores(self.m.metrics)
        self.to_crop = file_to_crop(self.checked)


def measured_as(seg, cal, prob: dict, crop: np.ndarray, regions: dict, oval: np.ndarray) -> tuple[dict, dict]:
    from skin_app.scan.measure import measure
    m = measure(prob, seg.thresholds, crop, regions, oval)
    return m.metrics, cal.display_scores(m.metrics)


def acne_terms(cal, metrics: dict) -> dict[str, float]:
    """Each feature of the acne grade latent times its weight (the latent is their sum)."""
    from skin_app.scan.calibration import _lookup
    curve = cal.curves["acne"]
    out = {}
    for key, offset, weight in curve.features:
        v = _lookup(metrics, key)
        out[key] = float("nan") if v is None else weight * float(np.log10(max(v, 0.0) + offset))
    return out


def raw_features(metrics: dict) -> dict[str, float | None]:
    """The raw measures the scores read, log10 where the curves take logs."""
    def lg(v, off=LOG_OFFSET):
        return None if v is None else float(np.log10(max(v, 0.0) + off))
    return {"acne_soft": lg(metrics["soft_fraction"]["acne"]), "acne_area": lg(metrics["area_fraction"]["acne"]),
            "acne_lesions": lg(metrics["acne_lesion_count"], 1.0), "acne_blobs": lg(metrics["acne_blob_count"], 1.0),
            "flek_soft": lg(metrics["soft_fraction"]["flek"]), "wrinkle_soft": lg(metrics["soft_fraction"]["wrinkle"]),
            "panda_mean_p": lg(metrics["mean_probability"]["panda_eye"]),
            "under_eye_contrast": metrics["under_eye_contrast"], "skin_px": metrics["face_skin_pixels"]}


def anatomy(orig: Shot, shot: Shot, params: dict, rgb: np.ndarray, seg, cal) -> dict:
    """How ``shot`` differs from ``orig``: geometry, regions, and the score change parted."""
    size = orig.crop.shape[0]
    # crop_shot -> crop_orig: crop_shot -> shot file -> original file -> crop_orig
    m_file = reshot_matrix(params, rgb.shape[1], rgb.shape[0])
    t = orig.to_crop @ np.linalg.inv(m_file) @ np.linalg.inv(shot.to_crop)
    t_inv = np.linalg.inv(t)
    pts = shot.aligned.points @ t[:2, :2].T + t[:2, 2]
    d = pts - orig.aligned.points
    offset = d.mean(0)
    resid = np.linalg.norm(d - offset, axis=1)
    scale = float(np.sqrt(abs(np.linalg.det(t[:2, :2]))))
    angle = float(np.degrees(np.arctan2(t[1, 0], t[0, 0])))
    # regions of the shot mapped onto the original's crop
    ious = {}
    for name in REGIONS:
        a, b = orig.regions[name], warp(shot.regions[name], t, size, nearest=True)
        ious[name] = float((a & b).sum() / max((a | b).sum(), 1))
    a, b = orig.m.skin, warp(shot.m.skin, t, size, nearest=True)
    ious["scored_skin"] = float((a & b).sum() / max((a | b).sum(), 1))
    a, b = orig.oval, warp(shot.oval, t, size, nearest=True)
    ious["outline"] = float((a & b).sum() / max((a | b).sum(), 1))
    # Three steps from the original to the shot, each measured on one crop's own pixels (no probability
    # map is resampled): placement = the original photo cut where the shot's crop fell, through the model,
    # with the original's regions carried there; regions = the same output with the shot's own regions;
    # photo = the shot itself (light, file, resampling) against that.
    from skin_app.scan.analysis import probabilities_of
    placed = cv2.warpAffine(rgb, (shot.to_crop @ m_file)[:2], (size, size), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    prob_p = probabilities_of(seg, placed)
    carried = {k: warp(v, t_inv, size, nearest=True) for k, v in orig.regions.items()}
    met_p, sc_p = measured_as(seg, cal, prob_p, placed, carried, warp(orig.oval, t_inv, size, nearest=True))
    met_r, sc_r = measured_as(seg, cal, prob_p, placed, shot.regions, shot.oval)

    def change(sa: dict, sb: dict) -> dict:
        return {k: round(abs(sa[k] - sb[k]), 3) for k in SCORES if k in sa and k in sb}

    def raw_change(ma: dict, mb: dict) -> dict:
        fa, fb = raw_features(ma), raw_features(mb)
        out: dict[str, float | None] = {}
        for k, a in fa.items():
            b = fb[k]
            out[k] = round(abs(a - b), 4) if a is not None and b is not None else None
        return out

    def term_change(ma: dict, mb: dict) -> dict:
        ta, tb = acne_terms(cal, ma), acne_terms(cal, mb)
        return {k: round(abs(ta[k] - tb[k]), 4) for k in ta}
    return {
        "params": params,
        "landmarks": {"offset_px": [round(float(x), 2) for x in offset], "offset_norm_px": round(float(np.linalg.norm(offset)), 3),
                      "residual_mean_px": round(float(resid.mean()), 3), "residual_p95_px": round(float(np.percentile(resid, 95)), 3),
                      "oval_residual_mean_px": round(float(resid[_oval_idx()].mean()), 3)},
        "crop": {"scale_ratio": round(scale, 4), "angle_deg": round(angle, 3),
                 "centre_shift_px": round(float(np.linalg.norm(t[:2, :2] @ [size / 2, size / 2] + t[:2, 2] - size / 2)), 3)},
        "iou": {k: round(v, 4) for k, v in ious.items()},
        "score_change": {"total": change(orig.scores, shot.scores), "placement": change(orig.scores, sc_p),
                         "regions": change(sc_p, sc_r), "photo": change(sc_r, shot.scores)},
        "raw_change": {"total": raw_change(orig.m.metrics, shot.m.metrics), "placement": raw_change(orig.m.metrics, met_p),
                       "regions": raw_change(met_p, met_r), "photo": raw_change(met_r, shot.m.metrics)},
        "acne_term_change": {"total": term_change(orig.m.metrics, shot.m.metrics),
                             "placement": term_change(orig.m.metrics, met_p), "regions": term_change(met_p, met_r),
                             "photo": term_change(met_r, shot.m.metrics)},
    }


def _oval_idx() -> list[int]:
    from skin_app.scan.face import FACE_OVAL
    return FACE_OVAL


def p95(values: list[float]) -> float | None:
    v = [x for x in values if x is not None and np.isfinite(x)]
    return round(float(np.percentile(v, 95)), 3) if v else None


def summarise(rows: list[dict]) -> dict:
    out: dict = {"n_shots": len(rows)}
    out["score_change_p95"] = {part: {k: p95([r["score_change"][part].get(k) for r in rows]) for k in SCORES}
                               for part in PARTS}
    keys = rows[0]["raw_change"]["total"].keys()
    out["raw_change_p95"] = {part: {k: p95([r["raw_change"][part][k] for r in rows]) for k in keys}
                             for part in PARTS}
    tkeys = rows[0]["acne_term_change"]["total"].keys()
    out["acne_latent_term_change_p95"] = {part: {k: p95([r["acne_term_change"][part][k] for r in rows]) for k in tkeys}
                                          for part in PARTS}
    out["landmarks_p95"] = {k: p95([r["landmarks"][k] for r in rows])
                            for k in ("offset_norm_px", "residual_mean_px", "residual_p95_px", "oval_residual_mean_px")}
    out["crop_p95"] = {"scale_ratio_minus_1": p95([abs(r["crop"]["scale_ratio"] - 1) for r in rows]),
                       "angle_deg": p95([abs(r["crop"]["angle_deg"]) for r in rows]),
                       "centre_shift_px": p95([r["crop"]["centre_shift_px"] for r in rows])}
    out["iou_p5"] = {k: round(float(np.percentile([r["iou"][k] for r in rows], 5)), 4) for k in rows[0]["iou"]}
    out["iou_median"] = {k: round(float(np.median([r["iou"][k] for r in rows])), 4) for k in rows[0]["iou"]}
    for factor in sorted({r["params"]["factor"] for r in rows if "factor" in r["params"]}):
        sub = [r for r in rows if r["params"].get("factor") == factor]
        out[f"score_change_p95_{factor}"] = {part: {k: p95([r["score_change"][part].get(k) for r in sub]) for k in SCORES}
                                             for part in PARTS}
    for kind in ("heic", "reshot"):
        sub = [r for r in rows if (r["params"].get("file") == "heic") == (kind == "heic")]
        if sub:
            out[f"score_change_p95_{kind}"] = {part: {k: p95([r["score_change"][part].get(k) for r in sub]) for k in SCORES}
                                               for part in PARTS}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--faces", type=int, default=20)
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--factors", action="store_true", help="shots that change one thing each (framing, exposure, "
                                                               "white balance, JPEG 70) instead of whole re-shots")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "reshot_anatomy.json"))
    args = ap.parse_args(argv)
    from skin_app.scan.analysis import scan_version
    from skin_app.scan.calibration import load_calibration
    from skin_app.scan.segmentation import load_segmenter
    seg, cal = load_segmenter(), load_calibration()
    data = Path(args.data).expanduser().resolve()
    queues = seeded_queues(data, args.seed)
    t0 = time.perf_counter()
    rows: list[dict] = []
    n_faces = 0
    while queues and n_faces < args.faces:
        for name in list(queues):
            if n_faces >= args.faces:
                break
            orig = None
            for _ in range(MAX_TRIES):
                if not queues[name]:
                    break
                path = queues[name].pop(0)
                raw = path.read_bytes()
                try:
                    orig = Shot(raw, seg, cal)
                    break
                except (FaceError, ImageError):
                    continue
            if not queues[name]:
                queues.pop(name)
            if orig is None:
                continue
            n_faces += 1
            rgb = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))
            frng = random.Random(f"{args.seed}:{path.name}")
            buf = io.BytesIO()
            shots = []
            try:
                import pillow_heif
                pillow_heif.register_heif_opener()
                Image.fromarray(rgb).save(buf, format="HEIF", quality=90)
                shots.append((buf.getvalue(), {"file": "heic"}))
            except Exception as exc:  # noqa: BLE001 - no HEIF encoder: re-shots only
                print(f"  (no HEIC: {exc})", file=sys.stderr)
            if args.factors:
                shots = [s for _ in range(args.variants) for s in one_factor_shots(rgb, frng)]
            else:
                shots += [reshoot(rgb, frng) for _ in range(args.variants)]
            for jpeg, params in shots:
                try:
                    shot = Shot(jpeg, seg, cal)
                except (FaceError, ImageError):
                    continue
                row = anatomy(orig, shot, params, rgb, seg, cal)
                row["dataset"], row["file"] = name, str(path.relative_to(data))
                rows.append(row)
            print(f"  face {n_faces}/{args.faces} {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    summary = summarise(rows)
    summary["scored_by"] = scan_version(seg, cal)
    summary["n_faces"] = n_faces
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    summary["command"] = (f"bench/reshot_anatomy.py --faces {args.faces} --variants {args.variants} --seed {args.seed}"
                          + (" --factors" if args.factors else ""))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"summary": summary, "shots": rows}, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
