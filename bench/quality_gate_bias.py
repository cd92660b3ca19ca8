"""Does the quality gate reject well-lit photos of dark skin more often than of light skin?

    python bench/quality_gate_bias.py --data ../shared/data [--limit 400] [--out bench/results/quality_gate_bias.json]

Runs the gate exactly as ``analyze()`` does (``load_image`` on the file bytes, ``find_faces``,
``align_and_crop`` to ``INPUT_SIZE``, ``assess_quality``) over the real photos of five datasets
(CelebAMask ``celebamask_mini/images``, FASSEG ``fasseg_frontal02/*_RGB``, HELEN
``helen_68lm/*/*.jpg``, ACNE04 ``acne04v2_512/images``, ``gjain_wrinkle_darkcircle/images``) and
groups them by skin tone with the Individual Typology Angle:

    ITA = atan((L* - 50) / b*) in degrees, from the median L* and b* (CIELAB, sRGB D65, skimage)
    of the face-skin pixels: inside the face-mesh outline on the aligned crop, minus the eyes,
    brows and lips (each polygon dilated by 4 px).

Bands (Chardon et al.): very light > 55, light 41-55, intermediate 28-41, tan 10-28, brown -30-10,
dark < -30. A photo the gate rejects for "no face" has no face mesh; its ITA then comes from the
dataset's own labels where it has them (CelebAMask skin+nose mask, FASSEG skin+nose colour map,
HELEN 68-point jaw/brow outline minus eyes and mouth), so detector failures are not silently dropped
from the dark bands. Where neither exists the photo is counted under "unknown". For photos with both,
the agreement of the two ITA estimates is reported.

"Well-lit": these datasets are curated studio, celebrity, web and clinical photos, so every photo
is taken as a well-lit photo of its subject; the exposure measures per band (the gate's own
98th-percentile face luminance, and the luminance of the whites of the eyes, which does not depend
on skin tone) are reported beside the rates so a lighting difference between bands would show.

Blocking rejections are counted per check (a photo can fail several). Rates carry Wilson 95 %
intervals; dark+brown against very light+light is compared with Fisher's exact test. Non-blocking
advice ("a little dark", "slightly soft") is counted too: showing it more often to darker skin is
also a bias, even when it does not block.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage.color import rgb2lab  # noqa: E402

from skin_app.scan import face as F  # noqa: E402
from skin_app.scan import quality as Q  # noqa: E402
from skin_app.scan.imaging import load_image  # noqa: E402
from skin_app.scan.segmentation import INPUT_SIZE  # noqa: E402  (no TensorFlow import at module level)
from skin_app.scan.tone import BAND_NAMES as TONE_BANDS  # noqa: E402
from skin_app.scan.tone import band_of as tone_band_of  # noqa: E402

BAND_NAMES = [*TONE_BANDS, "unknown"]
LIGHT_GROUP, DARK_GROUP = ("very_light", "light"), ("brown", "dark")
TONE_CHECKS = ("no_face", "too_dark", "overexposed", "blurry")   # checks whose measure can depend on skin tone
GREY_CHROMA = 4.0      # median skin chroma (C*ab) below this: a black-and-white photo, ITA undefined
WELL_LIT_EYE = 110.0   # whites of the eyes (90th pct grey level inside the eye outline) at least this: well lit
EYE_WHITE_REF = 170.0  # exposure normalisation target for the whites of the eyes (about the median of well-lit photos)

# mediapipe face-mesh polygons not in skin_app.scan.face
LIPS_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]
RIGHT_BROW = [70, 63, 105, 66, 107, 55, 65, 52, 53, 46]
LEFT_BROW = [300, 293, 334, 296, 336, 285, 295, 282, 283, 276]


def band_of(ita: float | None) -> str:
    return tone_band_of(ita) or "unknown"


def ita_of(rgb_pixels: np.ndarray, gain: float = 1.0) -> tuple[float, float, float, float] | None:
    """(ITA degrees, median L*, median b*, median chroma) of an (N, 3) uint8 sRGB pixel array.
    ``gain`` scales linear RGB first (exposure normalisation)."""
    if rgb_pixels.shape[0] < 50:
        return None
    x = rgb_pixels.reshape(-1, 1, 3).astype(np.float64) / 255.0
    if gain != 1.0:
        lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4) * gain
        lin = np.clip(lin, 0.0, 1.0)
        x = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    lab = rgb2lab(x).reshape(-1, 3)
    L, b = float(np.median(lab[:, 0])), float(np.median(lab[:, 2]))
    chroma = float(np.median(np.hypot(lab[:, 1], lab[:, 2])))
    ita = math.degrees(math.atan((L - 50.0) / b)) if b > 1e-6 else (90.0 if L >= 50 else -90.0)
    return ita, L, b, chroma


def exposure_gain(eye_white: float | None) -> float:
    """Linear-light gain that brings the whites of the eyes to EYE_WHITE_REF (clamped to 0.5-4)."""
    if not eye_white or eye_white <= 1:
        return 1.0
    lin = lambda v: ((v / 255 + 0.055) / 1.055) ** 2.4   # noqa: E731
    return float(np.clip(lin(EYE_WHITE_REF) / lin(eye_white), 0.5, 4.0))


def _fill(shape, pts, hull=False) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    p = np.round(pts).astype(np.int32)
    if hull:
        p = cv2.convexHull(p).reshape(-1, 2)
    cv2.fillPoly(m, [p], 1)
    return m


def mesh_skin_mask(points: np.ndarray, size: int) -> np.ndarray:
    shape = (size, size)
    oval = _fill(shape, points[F.FACE_OVAL])
    holes = np.zeros(shape, np.uint8)
    for poly in (F.RIGHT_EYE, F.LEFT_EYE, LIPS_OUTER):
        holes |= _fill(shape, points[poly])
    for poly in (RIGHT_BROW, LEFT_BROW):
        holes |= _fill(shape, points[poly], hull=True)
    holes = cv2.dilate(holes, np.ones((9, 9), np.uint8))
    return (oval & ~holes).astype(bool)


def eye_white_luminance(crop: np.ndarray, points: np.ndarray) -> float | None:
    """90th percentile luminance inside both eye polygons: the sclera, an exposure reference that skin tone does not move."""
    size = crop.shape[0]
    eyes = (_fill((size, size), points[F.RIGHT_EYE]) | _fill((size, size), points[F.LEFT_EYE])).astype(bool)
    if eyes.sum() < 20:
        return None
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return float(np.percentile(grey[eyes], 90))


def label_regions(dataset: str, path: Path, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(skin pixels, eye pixels) from the dataset's own labels (for photos without a face mesh)."""
    h, w = rgb.shape[:2]
    try:
        if dataset == "celebamask":
            mp = path.parent.parent / "masks" / (path.stem + ".png")
            if not mp.exists():
                return None
            m = np.asarray(Image.open(mp))
            if m.shape != (h, w):
                m = cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST)
            skin, eyes = (m == 1) | (m == 2), (m == 4) | (m == 5)
        elif dataset == "fasseg":
            lp = path.parent.parent / path.parent.name.replace("_RGB", "_Labels") / path.name
            if not lp.exists():
                return None
            lab = np.asarray(Image.open(lp).convert("RGB"))
            if lab.shape[:2] != (h, w):
                lab = cv2.resize(lab, (w, h), interpolation=cv2.INTER_NEAREST)
            lab = lab.astype(np.int32)
            yellow = (lab[..., 0] > 200) & (lab[..., 1] > 200) & (lab[..., 2] < 80)
            cyan = (lab[..., 0] < 80) & (lab[..., 1] > 200) & (lab[..., 2] > 200)
            skin = yellow | cyan
            eyes = (lab[..., 0] < 80) & (lab[..., 1] < 80) & (lab[..., 2] > 200)
        elif dataset == "helen":
            pts_path = path.with_suffix(".pts")
            if not pts_path.exists():
                return None
            pts = np.loadtxt(pts_path, dtype=np.float64).reshape(-1, 2)
            face_w = pts[16, 0] - pts[0, 0]
            brows = pts[17:27].copy()
            brows[:, 1] -= 0.05 * (pts[8, 1] - pts[27, 1])     # lift a little above the brow line
            outline = np.vstack([pts[0:17], brows[::-1]])
            face = _fill((h, w), outline, hull=True)
            eye_m = _fill((h, w), pts[36:42], hull=True) | _fill((h, w), pts[42:48], hull=True)
            holes = eye_m | _fill((h, w), pts[48:60], hull=True)
            for a0, b0 in ((17, 22), (22, 27)):
                band = np.zeros((h, w), np.uint8)
                cv2.polylines(band, [np.round(pts[a0:b0]).astype(np.int32)], False, 1, thickness=max(3, int(0.04 * face_w)))
                holes |= band
            k = max(3, int(0.02 * face_w))
            holes = cv2.dilate(holes, np.ones((k, k), np.uint8))
            skin, eyes = (face & ~holes).astype(bool), eye_m.astype(bool)
        else:
            return None
    except (OSError, ValueError):
        return None
    return rgb[skin], rgb[eyes]


def list_photos(data: Path, limit: int | None, seed: int) -> list[tuple[str, Path]]:
    groups = {
        "celebamask": sorted((data / "celebamask_mini" / "images").glob("*.jpg")),
        "fasseg": sorted(p for d in sorted(data.glob("fasseg_frontal02/*_RGB")) for p in d.iterdir()
                         if p.suffix.lower() in (".png", ".jpg", ".bmp")),
        "helen": sorted(data.glob("helen_68lm/*/*.jpg")),
        "acne04": sorted(p for p in (data / "acne04v2_512" / "images").iterdir() if p.suffix.lower() in (".jpg", ".png"))
        if (data / "acne04v2_512" / "images").exists() else [],
        "gjain_wrinkle_darkcircle": sorted(p for p in (data / "gjain_wrinkle_darkcircle" / "images").iterdir()
                                           if p.suffix.lower() in (".jpg", ".png"))
        if (data / "gjain_wrinkle_darkcircle" / "images").exists() else [],
    }
    rng = random.Random(seed)
    out: list[tuple[str, Path]] = []
    for name, paths in groups.items():
        if limit and len(paths) > limit:
            paths = sorted(rng.sample(paths, limit))
        out.extend((name, p) for p in paths)
    return out


def gate_one(dataset: str, path: Path, data_root: Path) -> dict:
    data = path.read_bytes()
    loaded = load_image(data)
    faces = F.find_faces(loaded.rgb)
    aligned = F.align_and_crop(loaded.rgb, faces[0], INPUT_SIZE) if faces else None
    quality = Q.assess_quality(faces, loaded.rgb, aligned, loaded.scale)
    rec: dict[str, Any] = {
        "dataset": dataset, "file": str(path.relative_to(data_root)),
        "ok": quality.ok,
        "blocking": sorted({i.code for i in quality.issues if i.blocking}),
        "advice": sorted({i.code for i in quality.issues if not i.blocking}),
        "measurements": dict(quality.measurements),
    }
    mesh_px = eye_white = None
    if aligned is not None:
        mesh_px = aligned.crop[mesh_skin_mask(aligned.points, aligned.crop.shape[0])]
        eye_white = eye_white_luminance(aligned.crop, aligned.points)
    labels = label_regions(dataset, path, loaded.rgb)
    if eye_white is None and labels is not None and labels[1].shape[0] >= 20:
        grey = cv2.cvtColor(labels[1].reshape(-1, 1, 3), cv2.COLOR_RGB2GRAY)
        eye_white = float(np.percentile(grey, 90))
    mesh = ita_of(mesh_px) if mesh_px is not None else None
    label = ita_of(labels[0]) if labels is not None else None
    rec["ita_mesh"] = None if mesh is None else round(mesh[0], 2)
    rec["ita_label"] = None if label is None else round(label[0], 2)
    chosen_px = mesh_px if mesh else (labels[0] if labels is not None and label else None)
    chosen = mesh or label
    rec["ita_source"] = "mesh" if mesh else ("label" if label else None)
    rec["eye_white_p90"] = None if eye_white is None else round(eye_white, 1)
    rec["well_lit"] = eye_white is not None and eye_white >= WELL_LIT_EYE
    rec["greyscale"] = chosen is not None and chosen[3] < GREY_CHROMA
    ok_colour = chosen is not None and not rec["greyscale"]
    rec["ita"] = round(chosen[0], 2) if chosen is not None and ok_colour else None
    rec["L"] = None if chosen is None else round(chosen[1], 2)
    rec["b"] = None if chosen is None else round(chosen[2], 2)
    rec["chroma"] = None if chosen is None else round(chosen[3], 2)
    rec["band"] = band_of(rec["ita"])
    norm = ita_of(chosen_px, exposure_gain(eye_white)) if chosen_px is not None and ok_colour and eye_white is not None \
        else None
    rec["ita_norm"] = None if norm is None else round(norm[0], 2)
    rec["band_norm"] = band_of(rec["ita_norm"])
    return rec


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def summarise(records: list[dict], band_key: str = "band") -> dict:
    by_band: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_band[r[band_key]].append(r)
    table = {}
    for band in BAND_NAMES:
        rs = by_band.get(band, [])
        n = len(rs)
        rej = sum(1 for r in rs if not r["ok"])
        tone_rej = sum(1 for r in rs if set(r["blocking"]) & set(TONE_CHECKS))
        tone_adv = sum(1 for r in rs if set(r["advice"]) & {"too_dark", "overexposed", "blurry"})

        def vals(key, rs=rs):
            return [r["measurements"][key] for r in rs if key in r["measurements"]]

        def q(key, p):
            v = vals(key)
            return None if not v else round(float(np.percentile(v, p)), 2)
        eyes = [r["eye_white_p90"] for r in rs if r.get("eye_white_p90") is not None]
        table[band] = {
            "n": n, "rejected": rej, "rejection_rate": round(rej / n, 4) if n else None,
            "rejection_rate_ci95": [round(x, 4) for x in wilson(rej, n)] if n else None,
            "tone_check_rejected": tone_rej, "tone_check_rejection_rate": round(tone_rej / n, 4) if n else None,
            "tone_check_rejection_rate_ci95": [round(x, 4) for x in wilson(tone_rej, n)] if n else None,
            "tone_advice_shown": tone_adv,
            "rejected_by": dict(sorted(Counter(c for r in rs for c in r["blocking"]).items())),
            "advice_shown": dict(sorted(Counter(c for r in rs for c in r["advice"]).items())),
            "datasets": dict(sorted(Counter(r["dataset"] for r in rs).items())),
            "p98_luminance_median": q("p98_luminance", 50), "p98_luminance_p5": q("p98_luminance", 5),
            "p98_luminance_min": None if not vals("p98_luminance") else min(vals("p98_luminance")),
            "sharpness_median": q("sharpness", 50), "sharpness_p5": q("sharpness", 5),
            "sharpness_min": None if not vals("sharpness") else min(vals("sharpness")),
            "clipped_share_median": q("clipped_share", 50), "clipped_share_p95": q("clipped_share", 95),
            "eye_white_p90_median": None if not eyes else round(float(np.median(eyes)), 1),
        }
    return table


def compare(records: list[dict], key: str, band_key: str = "band") -> dict:
    from scipy.stats import fisher_exact

    def count(group, pred):
        rs = [r for r in records if r[band_key] in group]
        return sum(1 for r in rs if pred(r)), len(rs)

    pred = (lambda r: not r["ok"]) if key == "any" else (lambda r: bool(set(r["blocking"]) & set(TONE_CHECKS)))
    kd, nd = count(DARK_GROUP, pred)
    kl, nl = count(LIGHT_GROUP, pred)
    out = {"dark_brown": [kd, nd], "very_light_light": [kl, nl],
           "rate_dark_brown": round(kd / nd, 4) if nd else None, "rate_very_light_light": round(kl / nl, 4) if nl else None}
    if nd and nl:
        _, p = fisher_exact([[kd, nd - kd], [kl, nl - kl]], alternative="greater")
        out["fisher_p_dark_more_often"] = round(float(p), 4)
    return out


RANGES = {"very_light": "> 55", "light": "41-55", "intermediate": "28-41", "tan": "10-28", "brown": "-30-10",
          "dark": "< -30", "unknown": "n/a"}


def md_table(summary: dict) -> list[str]:
    lines = ["| band (ITA) | n | rejected (any) | rate (95 % CI) | by tone checks | tone rate (95 % CI) | rejected by | "
             "tone advice shown | face p98 lum. median / p5 / min | sharpness median / p5 / min | eye-white p90 median |",
             "|---|---:|---:|---|---:|---|---|---|---|---|---:|"]
    for band in BAND_NAMES:
        s = summary[band]
        if not s["n"]:
            lines.append(f"| {band} ({RANGES[band]}) | 0 | | | | | | | | | |")
            continue
        ci, tci = s["rejection_rate_ci95"], s["tone_check_rejection_rate_ci95"]
        adv = {k: v for k, v in s["advice_shown"].items() if k in ("too_dark", "overexposed", "blurry")}
        lines.append(
            f"| {band} ({RANGES[band]}) | {s['n']} | {s['rejected']} | {100 * s['rejection_rate']:.1f} % "
            f"({100 * ci[0]:.1f}-{100 * ci[1]:.1f}) | {s['tone_check_rejected']} | {100 * s['tone_check_rejection_rate']:.1f} % "
            f"({100 * tci[0]:.1f}-{100 * tci[1]:.1f}) | "
            f"{', '.join(f'{k} {v}' for k, v in s['rejected_by'].items()) or '-'} | "
            f"{', '.join(f'{k} {v}' for k, v in adv.items()) or '-'} | "
            f"{s['p98_luminance_median']} / {s['p98_luminance_p5']} / {s['p98_luminance_min']} | "
            f"{s['sharpness_median']} / {s['sharpness_p5']} / {s['sharpness_min']} | {s['eye_white_p90_median']} |")
    return lines


def cmp_line(label: str, c: dict) -> str:
    return (f"- {label}: dark+brown {c['dark_brown'][0]}/{c['dark_brown'][1]} "
            f"({100 * (c['rate_dark_brown'] or 0):.1f} %) vs very light+light {c['very_light_light'][0]}/{c['very_light_light'][1]} "
            f"({100 * (c['rate_very_light_light'] or 0):.1f} %), one-sided Fisher p = {c.get('fisher_p_dark_more_often')}")


def markdown(result: dict) -> str:
    meta, tabs = result["meta"], result["tables"]
    lim = f" --limit {meta['limit']}" if meta["limit"] else ""
    lines = ["# Quality gate by skin tone (ITA bands)", "",
             f"{meta['n_photos']} photos from {', '.join(meta['datasets'])}; run {meta['when']} "
             f"(`python bench/quality_gate_bias.py --data ../shared/data{lim}`). Gate thresholds as in skin_app/scan/quality.py.",
             "",
             "Rejected = any blocking issue. Tone checks = no_face, too_dark, overexposed, blurry (measures that could "
             "depend on skin tone); turned, cut_off, too_small, several_faces are geometry (ACNE04 is mostly 3/4 and profile "
             "clinical views, so its photos are mostly rejected as turned, in whatever band they fall).",
             f"Well-lit = whites of the eyes (90th percentile grey level inside the eye outline) >= {WELL_LIT_EYE:.0f}. "
             f"Black-and-white photos (median skin chroma < {GREY_CHROMA:.0f}) have no ITA and count as unknown.",
             "",
             f"## Well-lit colour photos, ITA as defined (n = {result['subsets']['well_lit']})", ""]
    lines += md_table(tabs["well_lit_by_ita"])
    lines += ["", cmp_line("any blocking rejection", result["comparisons"]["well_lit_by_ita"]["any"]),
              cmp_line("tone checks only", result["comparisons"]["well_lit_by_ita"]["tone"]),
              cmp_line("tone checks, without ACNE04", result["comparisons"]["well_lit_by_ita_no_acne04"]["tone"]),
              cmp_line("any blocking, without ACNE04", result["comparisons"]["well_lit_by_ita_no_acne04"]["any"]),
              "", f"## Same photos, ITA after exposure normalisation (eye whites brought to {EYE_WHITE_REF:.0f})", "",
              "ITA from uncalibrated photos mixes skin tone with exposure and white balance (light skin in dim or warm light "
              "lands in 'brown'); scaling linear RGB so the whites of the eyes match removes most of the exposure part.", ""]
    lines += md_table(tabs["well_lit_by_ita_norm"])
    lines += ["", cmp_line("tone checks only", result["comparisons"]["well_lit_by_ita_norm"]["tone"]),
              cmp_line("any blocking rejection", result["comparisons"]["well_lit_by_ita_norm"]["any"]),
              "", f"## All photos (any lighting), ITA as defined (n = {meta['n_photos']})", ""]
    lines += md_table(tabs["all_by_ita"])
    lines += ["", cmp_line("tone checks only", result["comparisons"]["all_by_ita"]["tone"]),
              cmp_line("any blocking rejection", result["comparisons"]["all_by_ita"]["any"]), ""]
    ag = result["ita_agreement_mesh_vs_labels"]
    lines += [f"ITA agreement, face mesh vs dataset labels (n = {ag['n']}): median |difference| {ag['median_abs_diff']} deg, "
              f"same band {ag['same_band_share']}. Greyscale photos: {result['subsets']['greyscale']}; "
              f"not well-lit or no eye reference: {result['subsets']['not_well_lit']}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the shared data folder (e.g. ../shared/data)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many photos per dataset (random, seeded); 0 = all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "quality_gate_bias.json"))
    args = ap.parse_args(argv)

    data = Path(args.data).expanduser().resolve()
    photos = list_photos(data, args.limit or None, args.seed)
    if not photos:
        raise SystemExit(f"No photos found under {data}")
    records, failures = [], []
    t0 = time.perf_counter()
    for i, (ds, p) in enumerate(photos):
        try:
            records.append(gate_one(ds, p, data))
        except Exception as exc:  # noqa: BLE001 - an unreadable file is reported, not fatal
            failures.append({"dataset": ds, "file": p.name, "error": f"{type(exc).__name__}: {exc}"})
        if (i + 1) % 500 == 0:
            print(f"  {i + 1}/{len(photos)} photos, {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    lit = [r for r in records if r["well_lit"] and not r["greyscale"]]
    lit_no_acne = [r for r in lit if r["dataset"] != "acne04"]
    tables = {"well_lit_by_ita": summarise(lit), "well_lit_by_ita_norm": summarise(lit, "band_norm"),
              "all_by_ita": summarise(records)}
    comparisons = {
        "well_lit_by_ita": {"any": compare(lit, "any"), "tone": compare(lit, "tone")},
        "well_lit_by_ita_no_acne04": {"any": compare(lit_no_acne, "any"), "tone": compare(lit_no_acne, "tone")},
        "well_lit_by_ita_norm": {"any": compare(lit, "any", "band_norm"), "tone": compare(lit, "tone", "band_norm")},
        "all_by_ita": {"any": compare(records, "any"), "tone": compare(records, "tone")},
    }
    both = [r for r in records if r["ita_mesh"] is not None and r["ita_label"] is not None and not r["greyscale"]]
    agreement = {"n": len(both),
                 "median_abs_diff": round(float(np.median([abs(r["ita_mesh"] - r["ita_label"]) for r in both])), 2) if both else None,
                 "same_band_share": round(sum(band_of(r["ita_mesh"]) == band_of(r["ita_label"]) for r in both) / len(both), 3) if both else None}
    by_dataset = {}
    for ds in sorted({r["dataset"] for r in records}):
        rs = [r for r in records if r["dataset"] == ds]
        by_dataset[ds] = {"n": len(rs), "rejected": sum(not r["ok"] for r in rs),
                          "rejected_by": dict(Counter(c for r in rs for c in r["blocking"])),
                          "bands_well_lit": dict(Counter(r["band"] for r in rs if r in lit))}
    meta = {"when": time.strftime("%Y-%m-%d %H:%M"), "n_photos": len(records), "limit": args.limit,
            "datasets": sorted({r["dataset"] for r in records}), "seconds": round(time.perf_counter() - t0, 1),
            "thresholds": {k: getattr(F, k) for k in dir(F) if k.startswith(("BLOCK_", "WARN_"))},
            "well_lit_eye_white_min": WELL_LIT_EYE, "greyscale_chroma_max": GREY_CHROMA, "eye_white_ref": EYE_WHITE_REF}
    result = {"meta": meta,
              "ita_definition": "atan((median L* - 50) / median b*) deg over face-mesh skin minus eyes, brows, lips (dilated)",
              "subsets": {"well_lit": len(lit), "greyscale": sum(r["greyscale"] for r in records),
                          "not_well_lit": sum(not r["well_lit"] for r in records)},
              "tables": tables, "comparisons": comparisons, "ita_agreement_mesh_vs_labels": agreement,
              "by_dataset": by_dataset, "read_failures": failures, "photos": records}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    md = markdown(result)
    out.with_suffix(".md").write_text(md)
    print(md)
    print(f"by dataset: {json.dumps(by_dataset)}")
    if failures:
        print(f"{len(failures)} files could not be read: {failures[:3]}")
    print(f"wrote {out} and {out.with_suffix('.md')} ({meta['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
