"""The day-to-day noise band: how far each score moves between two photos of the same face minutes apart.

    python bench/noise_band.py --data ../shared/data [--faces 30] [--variants 6] [--seed 0]

We have no repeated photos of the same face, so re-shots are simulated from real photos. For each
face photo (drawn, seeded, from CelebAMask, FASSEG, HELEN, ACNE04 and gjain_wrinkle_darkcircle; a photo the
quality gate refuses is replaced by the next one of the same dataset and counted),
``--variants`` re-shots are made, each with all of these drawn at random:

* framing: shift up to +-5 % of the width/height, scale 0.95-1.05, rotation +-4 deg (edges reflected)
* exposure: brightness x 0.88-1.12
* white balance: colour-temperature shift, red x (1 + t) and blue x (1 - t), t in +-0.06
* optics: Gaussian blur sigma 0-0.6 px
* camera encoding: JPEG re-encode at quality 80-95

and ``analyze()`` runs on each (exactly as the app does, bytes in). The original photo itself is not
one of the re-shots (it is the clean source they are made from).

Faces are drawn round-robin, one dataset at a time, trying that dataset's photos until one passes
the gate, so every dataset (ACNE04's few frontal photos included) contributes equally.
Re-shots the gate refuses (a photo near a threshold) are counted and left out of the pairs.

Noise band of a score = the 95th percentile, over all faces, of |score(variant i) - score(variant j)|
for every pair i < j of re-shots of the same face (15 pairs per face at 6 variants). A change between
two real scans smaller than this is within what re-taking the photo alone produces 95 % of the time.
This is a floor for real life: true re-shots also change expression, make-up, distance and lamp,
and the source photos here are small (at most ~500-2000 px), so the band is likely an underestimate.

Writes ``models/noise_band.json`` (the five numbers the Progress page reads, plus method and counts)
and the detail (per face, per dataset, other percentiles) to ``bench/results/noise_band.json``.
"""
from __future__ import annotations

import argparse
import io
import itertools
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from skin_app.errors import FaceError, ImageError  # noqa: E402

KEYS = ("acne", "flek", "wrinkle", "panda_eye", "overall")


def list_photos(data: Path) -> dict[str, list[Path]]:
    def files(folder: Path) -> list[Path]:
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png")) if folder.exists() else []
    return {
        "celebamask": files(data / "celebamask_mini" / "images"),
        "fasseg": sorted(p for d in sorted(data.glob("fasseg_frontal02/*_RGB")) for p in files(d)),
        "helen": sorted(data.glob("helen_68lm/*/*.jpg")),
        "acne04": files(data / "acne04v2_512" / "images"),
        "gjain_wrinkle_darkcircle": files(data / "gjain_wrinkle_darkcircle" / "images"),
    }


def reshoot(rgb: np.ndarray, rng: random.Random) -> tuple[bytes, dict]:
    """One simulated re-shot of the same face: framing, exposure, white balance, blur, JPEG."""
    h, w = rgb.shape[:2]
    p = {"scale": rng.uniform(0.95, 1.05), "angle": rng.uniform(-4, 4),
         "dx": rng.uniform(-0.05, 0.05), "dy": rng.uniform(-0.05, 0.05),
         "brightness": rng.uniform(0.88, 1.12), "temperature": rng.uniform(-0.06, 0.06),
         "blur_sigma": rng.uniform(0.0, 0.6), "jpeg_quality": rng.randint(80, 95)}
    m = cv2.getRotationMatrix2D((w / 2, h / 2), p["angle"], p["scale"])
    m[0, 2] += p["dx"] * w
    m[1, 2] += p["dy"] * h
    out = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    x = out.astype(np.float32) * p["brightness"]
    x[..., 0] *= 1 + p["temperature"]
    x[..., 2] *= 1 - p["temperature"]
    x = np.clip(x, 0, 255).astype(np.uint8)
    if p["blur_sigma"] > 0.05:
        x = cv2.GaussianBlur(x, (0, 0), p["blur_sigma"])
    buf = io.BytesIO()
    Image.fromarray(x).save(buf, format="JPEG", quality=p["jpeg_quality"])
    return buf.getvalue(), {k: round(v, 3) if isinstance(v, float) else v for k, v in p.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the shared data folder (e.g. ../shared/data)")
    ap.add_argument("--faces", type=int, default=30)
    ap.add_argument("--variants", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--percentile", type=float, default=95.0)
    ap.add_argument("--out", default=str(ROOT / "models" / "noise_band.json"))
    ap.add_argument("--detail", default=str(ROOT / "bench" / "results" / "noise_band.json"))
    args = ap.parse_args(argv)

    from skin_app.analysis import analyze
    from skin_app.segmentation import load_segmenter

    data = Path(args.data).expanduser().resolve()
    groups = list_photos(data)
    rng = random.Random(args.seed)
    for paths in groups.values():
        rng.shuffle(paths)
    queues = {name: list(ps) for name, ps in groups.items() if ps}
    max_tries = 150   # per face slot: ACNE04 is mostly side views, so most of its photos are refused as turned

    def candidates():
        """Round-robin over datasets; each turn yields photos of one dataset until one passes the gate."""
        while queues:
            for name in list(queues):
                yield name, queues[name]
    seg = load_segmenter()
    t0 = time.perf_counter()
    faces, skipped_photos, skipped_variants = [], [], 0
    for name, queue in candidates():
        if len(faces) >= args.faces:
            break
        base = None
        for _ in range(max_tries):
            if not queue:
                break
            path = queue.pop(0)
            raw = path.read_bytes()
            try:
                base = analyze(raw, seg)
                break
            except (FaceError, ImageError) as exc:
                skipped_photos.append({"dataset": name, "file": str(path.relative_to(data)),
                                       "reason": getattr(exc, "code", type(exc).__name__)})
        if not queue:
            queues.pop(name, None)
        if base is None:
            continue
        rgb = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))
        frng = random.Random(f"{args.seed}:{path.name}")
        variants = []
        for _ in range(args.variants):
            jpeg, params = reshoot(rgb, frng)
            try:
                res = analyze(jpeg, seg)
            except (FaceError, ImageError) as exc:
                skipped_variants += 1
                variants.append({"params": params, "error": getattr(exc, "code", type(exc).__name__)})
                continue
            variants.append({"params": params, "scores": res.scores})
        ok = [v["scores"] for v in variants if "scores" in v]
        faces.append({"dataset": name, "file": str(path.relative_to(data)), "original_scores": base.scores,
                      "variants": variants, "n_ok": len(ok)})
        print(f"  face {len(faces)}/{args.faces} {name}: {len(ok)} re-shots analysed, "
              f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)

    diffs: dict[str, list[float]] = {k: [] for k in KEYS}
    by_dataset: dict[str, dict[str, list[float]]] = {}
    for f in faces:
        ok = [v["scores"] for v in f["variants"] if "scores" in v]
        for a, b in itertools.combinations(ok, 2):
            for k in KEYS:
                d = abs(a[k] - b[k])
                diffs[k].append(d)
                by_dataset.setdefault(f["dataset"], {kk: [] for kk in KEYS})[k].append(d)
        f["spread_max_minus_min"] = {k: round(max(s[k] for s in ok) - min(s[k] for s in ok), 3) for k in KEYS} if ok else None

    n_pairs = len(diffs["overall"])
    if not n_pairs:
        raise SystemExit("No pairs of analysed re-shots: nothing to measure.")
    q = args.percentile
    band = {k: round(float(np.percentile(diffs[k], q)), 2) for k in KEYS}
    n_variants = sum(f["n_ok"] for f in faces)
    method = (f"Simulated re-shots: {args.variants} per real face photo (shift +-5 %, scale 0.95-1.05, rotation +-4 deg, "
              f"brightness x0.88-1.12, colour temperature R x(1+t) B x(1-t) |t|<=0.06, Gaussian blur sigma 0-0.6 px, "
              f"JPEG q80-95), each through analyze(); band = {q:g}th percentile over faces of |score difference| "
              f"for every pair of re-shots of the same face ({n_pairs} pairs). bench/noise_band.py --seed {args.seed}; "
              f"likely an underestimate of real re-shots (no expression, make-up, distance or lamp changes).")
    out = {**band, "method": method, "n_faces": len(faces), "n_variants": n_variants}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")

    detail = {
        "when": time.strftime("%Y-%m-%d %H:%M"), "model_version": seg.version, "band": band, "percentile": q,
        "n_faces": len(faces), "n_variants_analysed": n_variants, "n_pairs": n_pairs,
        "skipped_photos": len(skipped_photos), "skipped_photo_reasons": dict(
            sorted({r: sum(1 for s in skipped_photos if s["reason"] == r) for r in {s["reason"] for s in skipped_photos}}.items())),
        "skipped_variants": skipped_variants,
        "skipped_variant_reasons": dict(sorted(__import__("collections").Counter(
            v["error"] for f in faces for v in f["variants"] if "error" in v).items())),
        "other_percentiles": {k: {f"p{p}": round(float(np.percentile(diffs[k], p)), 3) for p in (50, 75, 90, 95, 99)}
                              | {"max": round(max(diffs[k]), 3)} for k in KEYS},
        "by_dataset_p95": {ds: {k: round(float(np.percentile(v[k], q)), 2) for k in KEYS} | {"pairs": len(v["overall"])}
                           for ds, v in by_dataset.items()},
        "score_ranges_over_originals": {k: [min(f["original_scores"][k] for f in faces), max(f["original_scores"][k] for f in faces)]
                                        for k in KEYS},
        "method": method, "faces": faces, "skipped": skipped_photos,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    Path(args.detail).parent.mkdir(parents=True, exist_ok=True)
    Path(args.detail).write_text(json.dumps(detail, indent=1) + "\n")

    print(f"{'score':<10}{'band (p' + format(q, 'g') + ')':>12}{'p50':>8}{'p90':>8}{'max':>8}")
    for k in KEYS:
        o = detail["other_percentiles"][k]
        print(f"{k:<10}{band[k]:>12.2f}{o['p50']:>8.2f}{o['p90']:>8.2f}{o['max']:>8.2f}")
    print(f"{len(faces)} faces, {n_variants} re-shots analysed, {n_pairs} pairs; skipped photos {len(skipped_photos)} "
          f"{detail['skipped_photo_reasons']}, skipped re-shots {skipped_variants}")
    print(f"by dataset (p{q:g}): {json.dumps(detail['by_dataset_p95'])}")
    print(f"wrote {args.out} and {args.detail} ({detail['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
