"""The re-shot noise band: how far each display score moves between photos of the same face.

    python bench/noise_band.py --data ../shared/data [--faces 40] [--variants 6] [--seed 0]

We have no repeated photos of the same face, so re-shots are simulated from real VALIDATION photos
(never used to fit the model or the score calibration). For each face photo (drawn, seeded, round
robin from CelebAMask, FASSEG, HELEN, ACNE04 and gjain_wrinkle_darkcircle; a photo the quality gate
refuses is replaced by the next one of the same dataset and counted), these shots are analysed with
``analyze()`` exactly as the app does (bytes in):

* the original photo;
* the same picture as a different file: a 512 px JPEG, a 12 MP JPEG (upscaled, as a phone would
  deliver), a HEIC, and an EXIF-rotated JPEG (pixels turned, orientation tag turning them back);
* ``--variants`` realistic re-shots, each with all of these drawn at random: zoom 1.00-1.08, shift
  +-4 % of the width/height, rotation +-5 deg (edges reflected), exposure x0.85-1.15, white balance
  red x(1 + t) blue x(1 - t) with |t| <= 0.10, JPEG quality 70.

Noise band of a score = the 95th percentile, over all faces, of |score(shot i) - score(shot j)| for
every pair of shots of the same face. Word changes: the share of shots whose word differs from the
original's, without and with the hysteresis the app applies (``calibration.word_for`` with the band).

Writes ``noise_band.json`` beside the weights (the numbers the Progress and Scan pages read, plus the
method) and the detail to ``bench/results/noise_band.json``. ``--only redness`` measures the same way
but writes only redness's band and word changes into the existing file (and the detail to
``bench/results/noise_band_redness.json``), every other figure left as it was.
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
from skin_app.training.recipe import RESHOT_EXPOSURE, RESHOT_WHITE_BALANCE  # noqa: E402

setup_tensorflow_env()

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from skin_app.errors import FaceError, ImageError  # noqa: E402

KEYS = ("acne", "flek", "wrinkle", "panda_eye", "redness", "overall")


# Photos tried per face slot before its dataset's turn passes: ACNE04 is mostly side views, so most of its
# photos are refused as turned.
MAX_TRIES = 150


def seeded_queues(data: Path, seed: int) -> dict[str, list[Path]]:
    """Each dataset's validation photos in a seeded order (the faces' draw, shared with reshot_anatomy.py)."""
    groups = list_photos(data)
    rng = random.Random(seed)
    for paths in groups.values():
        rng.shuffle(paths)
    return {name: list(ps) for name, ps in groups.items() if ps}


def list_photos(data: Path) -> dict[str, list[Path]]:
    """Validation photos only (the split of skin_app.training.datasets; FASSEG's own Test folder)."""
    from skin_app.training.datasets import split_of

    def files(folder: Path, dataset: str) -> list[Path]:
        if not folder.exists():
            return []
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png")
                      and split_of(dataset, p.stem) == "val")
    return {
        "celebamask": files(data / "celebamask_mini" / "images", "celebamask_mini"),
        "fasseg": sorted(p for p in (data / "fasseg_frontal02" / "Test_RGB").glob("*") if p.suffix.lower() in (".jpg", ".png")),
        "helen": sorted(p for p in data.glob("helen_68lm/*/*.jpg") if split_of("helen_68lm", p.stem) == "val"),
        "acne04": files(data / "acne04v2_512" / "images", "acne04v2_512"),
        "gjain_wrinkle_darkcircle": files(data / "gjain_wrinkle_darkcircle" / "images", "gjain_wrinkle_darkcircle"),
    }


def same_picture_as_other_files(rgb: np.ndarray) -> list[tuple[bytes, dict]]:
    """The same pixels delivered as other files: 512 px JPEG, 12 MP JPEG, HEIC, EXIF-rotated JPEG."""
    out = []
    h, w = rgb.shape[:2]

    def jpeg(a: np.ndarray, quality: int = 90, exif=None) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, format="JPEG", quality=quality, **({"exif": exif} if exif else {}))
        return buf.getvalue()
    f = 512 / max(h, w)
    out.append((jpeg(cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)), {"file": "jpeg_512"}))
    f = (12e6 / (h * w)) ** 0.5
    out.append((jpeg(cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_CUBIC)), {"file": "jpeg_12mp"}))
    try:
        import pillow_heif
        pillow_heif.register_heif_opener()
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="HEIF", quality=90)
        out.append((buf.getvalue(), {"file": "heic"}))
    except Exception as exc:  # noqa: BLE001 - a HEIF encoder may be missing; say so in the detail
        print(f"  (no HEIC variant: {exc})", file=sys.stderr)
    exif = Image.Exif()
    exif[0x0112] = 6          # orientation 6: the viewer turns the stored pixels 90 deg clockwise
    out.append((jpeg(np.ascontiguousarray(np.rot90(rgb, 1)), exif=exif), {"file": "jpeg_exif_rotated"}))
    return out


def raw_of(metrics: dict) -> dict:
    """The raw measurements the display curves read, kept per shot so other curves can be tried offline."""
    keys = ("soft_fraction", "area_fraction", "mean_probability", "under_eye_contrast", "acne_lesion_count",
            "acne_blob_count", "acne_lesions", "skin_ita", "redness")      # blobs and sizes: the acne grade model's
    return {k: metrics.get(k) for k in keys}


def pair_changes(shots: list[dict]) -> dict[str, list[float]]:
    """Score -> |difference| for every pair of shots of one face (each shot's display scores); a score
    only some shots have is compared where both have it."""
    out: dict[str, list[float]] = {k: [] for k in KEYS}
    for a, b in itertools.combinations(shots, 2):
        for k in KEYS:
            if k in a and k in b:
                out[k].append(abs(a[k] - b[k]))
    return out


def only_one(existing: dict, measured: dict, key: str, method: str) -> dict:
    """``existing`` (the shipped noise band) with ``key``'s band and word changes from ``measured``
    added, and a note of how it was measured; every other figure unchanged."""
    out = dict(existing)
    out[key] = measured[key]
    for kind in ("plain", "hysteresis"):
        out.setdefault("word_changes", {}).setdefault(kind, {})[key] = measured["word_changes"][kind][key]
    out[f"{key}_method"] = (f"{key} measured separately (bench/noise_band.py --only {key}) under "
                            f"{measured['scored_by']}: {method}")
    return out


def reshoot(rgb: np.ndarray, rng: random.Random) -> tuple[bytes, dict]:
    """One simulated re-shot of the same face: framing, exposure, white balance, JPEG quality 70."""
    h, w = rgb.shape[:2]
    p = {"scale": rng.uniform(1.0, 1.08), "angle": rng.uniform(-5, 5),
         "dx": rng.uniform(-0.04, 0.04), "dy": rng.uniform(-0.04, 0.04),
         "brightness": rng.uniform(1 - RESHOT_EXPOSURE, 1 + RESHOT_EXPOSURE),
         "temperature": rng.uniform(-RESHOT_WHITE_BALANCE, RESHOT_WHITE_BALANCE),
         "jpeg_quality": 70}
    m = cv2.getRotationMatrix2D((w / 2, h / 2), p["angle"], p["scale"])
    m[0, 2] += p["dx"] * w
    m[1, 2] += p["dy"] * h
    out = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    x = out.astype(np.float32) * p["brightness"]
    x[..., 0] *= 1 + p["temperature"]
    x[..., 2] *= 1 - p["temperature"]
    x = np.clip(x, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(x).save(buf, format="JPEG", quality=p["jpeg_quality"])
    return buf.getvalue(), {k: round(v, 3) if isinstance(v, float) else v for k, v in p.items()}


def collect(args, data: Path, queues: dict, candidates, max_tries: int):
    """Analyses each face photo and its re-shots as the app does; (faces, skipped photos, skipped re-shots,
    scan version, start time)."""
    from skin_app.scan.analysis import analyze, scan_version
    from skin_app.scan.calibration import load_calibration
    from skin_app.scan.segmentation import load_segmenter
    seg = load_segmenter()
    seg_version = scan_version(seg, load_calibration())
    t0 = time.perf_counter()
    faces: list[dict] = []
    skipped_photos: list[dict] = []
    skipped_variants = 0
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
        shots = same_picture_as_other_files(rgb) + [reshoot(rgb, frng) for _ in range(args.variants)]
        for jpeg, params in shots:
            try:
                res = analyze(jpeg, seg)
            except (FaceError, ImageError) as exc:
                skipped_variants += 1
                variants.append({"params": params, "error": getattr(exc, "code", type(exc).__name__)})
                continue
            variants.append({"params": params, "scores": res.scores, "metrics": raw_of(res.metrics)})
        ok = [v["scores"] for v in variants if "scores" in v]
        faces.append({"dataset": name, "file": str(path.relative_to(data)), "original_scores": base.scores,
                      "original_metrics": raw_of(base.metrics),
                      "variants": variants, "n_ok": len(ok)})
        print(f"  face {len(faces)}/{args.faces} {name}: {len(ok)} re-shots analysed, "
              f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)

    return faces, skipped_photos, skipped_variants, seg_version, t0


def rescored(detail: Path) -> tuple[list[dict], list, int, str]:
    """The faces of an earlier run's detail file, every shot re-scored from its stored raw measurements
    with today's calibration (a curve fitted after the shots were analysed, e.g. redness's)."""
    from skin_app.scan.calibration import load_calibration
    cal = load_calibration()
    old = json.loads(detail.read_text())
    score = cal.display_scores             # every shot is a front view, scored as the app scores one
    for f in old["faces"]:
        f["original_scores"] = score(f["original_metrics"])
        for v in f["variants"]:
            if "metrics" in v:
                v["scores"] = score(v["metrics"])
    version = f"{old['model_version'].rsplit('-cal-', 1)[0]}-{cal.version}"
    return old["faces"], old.get("skipped", []), int(old.get("skipped_variants", 0)), version


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the shared data folder (e.g. ../shared/data)")
    ap.add_argument("--faces", type=int, default=40)
    ap.add_argument("--variants", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--percentile", type=float, default=95.0)
    ap.add_argument("--no-flip", action="store_true", help="measure without mirror averaging (what it buys)")
    ap.add_argument("--out", help="default: noise_band.json beside the weights")
    ap.add_argument("--only", choices=("redness",), help="write only this score's band into the existing file")
    ap.add_argument("--rescore", help="an earlier run's detail file: re-score its shots with today's calibration "
                                      "instead of analysing photos again")
    ap.add_argument("--detail", default=str(ROOT / "bench" / "results" / "noise_band.json"))
    args = ap.parse_args(argv)

    from skin_app.config import model_path
    from skin_app.scan.segmentation import MODEL_WEIGHTS, weights_fingerprint

    data = Path(args.data).expanduser().resolve()
    queues = seeded_queues(data, args.seed)

    def candidates():
        """Round-robin over datasets; each turn yields photos of one dataset until one passes the gate."""
        while queues:
            for name in list(queues):
                yield name, queues[name]
    if args.no_flip:
        import skin_app.scan.analysis
        skin_app.scan.analysis.FLIP_AVERAGE = False
    if args.rescore:
        faces, skipped_photos, skipped_variants, seg_version = rescored(Path(args.rescore))
        t0 = time.perf_counter()
    else:
        faces, skipped_photos, skipped_variants, seg_version, t0 = collect(args, data, queues, candidates, MAX_TRIES)
    diffs: dict[str, list[float]] = {k: [] for k in KEYS}
    by_dataset: dict[str, dict[str, list[float]]] = {}
    for f in faces:
        ok = [f["original_scores"]] + [v["scores"] for v in f["variants"] if "scores" in v]
        for k, d in pair_changes(ok).items():
            diffs[k] += d
            by_dataset.setdefault(f["dataset"], {kk: [] for kk in KEYS})[k] += d
        f["spread_max_minus_min"] = {k: round(max(s[k] for s in ok if k in s) - min(s[k] for s in ok if k in s), 3)
                                     for k in KEYS if any(k in s for s in ok)} if ok else None

    n_pairs = len(diffs["overall"])
    if not n_pairs:
        raise SystemExit("No pairs of analysed re-shots: nothing to measure.")
    q = args.percentile
    band = {k: round(float(np.percentile(diffs[k], q)), 2) for k in KEYS if diffs[k]}
    n_variants = sum(f["n_ok"] for f in faces)
    from skin_app.scan.calibration import word_for
    word_changes: dict[str, dict[str, float]] = {"plain": {}, "hysteresis": {}}
    for k in band:
        plain = steady = total = 0
        for f in faces:
            if k not in f["original_scores"]:
                continue
            first = word_for(f["original_scores"][k])
            for v in f["variants"]:
                if "scores" in v and k in v["scores"]:
                    total += 1
                    plain += word_for(v["scores"][k]) != first
                    steady += word_for(v["scores"][k], first, band[k]) != first
        word_changes["plain"][k] = round(plain / max(total, 1), 4)
        word_changes["hysteresis"][k] = round(steady / max(total, 1), 4)
    from scipy.stats import spearmanr
    originals = [f["original_scores"] for f in faces]
    overall_spearman = {k: round(float(spearmanr([o["overall"] for o in originals if k in o],
                                                 [o[k] for o in originals if k in o]).correlation), 3)
                        for k in band if k != "overall"}
    method = (f"{len(faces)} validation face photos, each analysed as the original, as a 512 px JPEG, a 12 MP JPEG, a "
              f"HEIC and an EXIF-rotated JPEG, and as {args.variants} simulated re-shots (zoom 1.00-1.08, shift +-4 %, "
              f"rotation +-5 deg, exposure x0.85-1.15, white balance R x(1+t) B x(1-t) |t|<=0.10, JPEG quality 70); "
              f"band = {q:g}th percentile of |display score difference| over every pair of shots of the same face "
              f"({n_pairs} pairs). bench/noise_band.py --seed {args.seed}. Real re-shots also change expression, "
              f"make-up and lamp, so treat it as a floor.")
    out = {**band, "method": method, "n_faces": len(faces), "n_variants": n_variants, "scored_by": seg_version,
           "word_changes": word_changes}
    default = ROOT / "bench" / "results" / "noise_band_noflip_summary.json" if args.no_flip else model_path().with_name("noise_band.json")
    out_path = Path(args.out) if args.out else default
    weights = weights_fingerprint()          # the app refuses a band measured for other weights
    if args.only:
        existing = json.loads(out_path.read_text())
        if existing.get(MODEL_WEIGHTS, weights) != weights:
            raise SystemExit(f"{out_path} was measured for {existing[MODEL_WEIGHTS]}, the installed weights are "
                             f"{weights}: measure every band instead of --only.")
        out = only_one(existing, out, args.only, method)
    out[MODEL_WEIGHTS] = weights
    out_path.write_text(json.dumps(out, indent=2) + "\n")

    detail = {
        "when": time.strftime("%Y-%m-%d %H:%M"), "model_version": seg_version, "band": band, "percentile": q,
        "word_changes": word_changes, "overall_spearman_over_originals": overall_spearman,
        "n_faces": len(faces), "n_variants_analysed": n_variants, "n_pairs": n_pairs,
        "skipped_photos": len(skipped_photos), "skipped_photo_reasons": dict(
            sorted({r: sum(1 for s in skipped_photos if s["reason"] == r) for r in {s["reason"] for s in skipped_photos}}.items())),
        "skipped_variants": skipped_variants,
        "skipped_variant_reasons": dict(sorted(__import__("collections").Counter(
            v["error"] for f in faces for v in f["variants"] if "error" in v).items())),
        "other_percentiles": {k: {f"p{p}": round(float(np.percentile(diffs[k], p)), 3) for p in (50, 75, 90, 95, 99)}
                              | {"max": round(max(diffs[k]), 3)} for k in band},
        "by_dataset_p95": {ds: {k: round(float(np.percentile(v[k], q)), 2) for k in band if v[k]} | {"pairs": len(v["overall"])}
                           for ds, v in by_dataset.items()},
        "score_ranges_over_originals": {k: [min(f["original_scores"][k] for f in faces if k in f["original_scores"]),
                                            max(f["original_scores"][k] for f in faces if k in f["original_scores"])]
                                        for k in band},
        "method": method, "faces": faces, "skipped": skipped_photos,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    detail_path = Path(args.detail)
    if args.only and args.detail == ap.get_default("detail"):
        detail_path = detail_path.with_name(f"noise_band_{args.only}.json")
    if args.no_flip and args.detail == ap.get_default("detail"):
        detail_path = detail_path.with_name("noise_band_noflip.json")
    detail_path.parent.mkdir(parents=True, exist_ok=True)
    detail_path.write_text(json.dumps(detail, indent=1) + "\n")

    print(f"{'score':<10}{'band (p' + format(q, 'g') + ')':>12}{'p50':>8}{'p90':>8}{'max':>8}")
    for k in band:
        o = detail["other_percentiles"][k]
        print(f"{k:<10}{band[k]:>12.2f}{o['p50']:>8.2f}{o['p90']:>8.2f}{o['max']:>8.2f}")
    print(f"{len(faces)} faces, {n_variants} re-shots analysed, {n_pairs} pairs; skipped photos {len(skipped_photos)} "
          f"{detail['skipped_photo_reasons']}, skipped re-shots {skipped_variants}")
    print(f"by dataset (p{q:g}): {json.dumps(detail['by_dataset_p95'])}")
    print(f"word changes vs the original: {json.dumps(word_changes)}")
    print(f"Overall's Spearman with each concern over the originals: {json.dumps(overall_spearman)}")
    print(f"wrote {out_path} and {detail_path} ({detail['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
