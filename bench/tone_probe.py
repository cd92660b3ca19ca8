"""Controlled skin-tone test: the same faces, only the skin's lightness lowered.

    python bench/tone_probe.py --data ../shared/data [--limit 0] [--model FILE] [--out bench/results/tone_probe.json]

Faces: the validation photos of CelebAMask and FASSEG (labelled face skin) whose skin is light or very
light (ITA > 41 deg). For each face the labelled skin (skin + nose; eyes, brows, lips, hair and
background excluded) is darkened in CIELAB by lowering L* until the skin's median ITA is about 7 deg
(brown, as in the issue) and about -27 deg (brown bordering dark); a*, b* and the L* differences
inside the skin (texture, lesions) are unchanged (``tone_aug.recolour_skin``, mode "shift"). The face
mesh found on the unchanged photo is used for every variant, so only the pixels differ; each variant
is aligned and scored exactly as the app does (``tone_eval.scan_view``), once as the model sees it raw
and once after the app's lightness normalisation (``skin_app.scan.tone``).

Reported per target ITA and per concern: the marked-area ratio (mean area darkened / mean area of the
unchanged control), the share of faces whose word for the concern gets worse (good > fair > needs
care), and lesion/spot counts. Goal (issue 9): acne and dark-spot ratios <= 1.2 at ITA 7, at most
10 % of faces with a worse dark-spot word. Redness (read from colour, issue 20) is reported as the
change of its display score, |darkened - control| at the median and 95th percentile (goal: <= 3
points at p95), and the ratio of its red-skin share. The normaliser undoes a uniform L* shift almost exactly by
construction, so the "normalised" column is NOT evidence on its own: the ITA-band table on real
photos (``python -m skin_app.training.evaluate --tone``) is the honest check.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SM_FRAMEWORK", "tf.keras")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402

from skin_app.concerns import CONCERNS  # noqa: E402
from skin_app.scan import face as face_mod  # noqa: E402
from skin_app.scan import tone  # noqa: E402
from skin_app.training.datasets import iter_samples  # noqa: E402
from skin_app.training.tone_aug import recolour_skin  # noqa: E402
from skin_app.training.tone_eval import ViewScan, scan_view, view_scan  # noqa: E402

PROBE_SETS = ["celebamask_mini", "fasseg_frontal02"]
TARGET_ITAS = (7.0, -27.0)
# Melanin absorbance per unit, red / green / blue (log10 units in linear light): melanin absorbs more the
# shorter the wavelength (about wavelength^-3.3), so darker skin in light as it falls is these factors.
MELANIN_SLOPE = (1.0, 1.63, 2.9)


def melanin_darken(image: np.ndarray, skin: np.ndarray, target_ita: float) -> np.ndarray:
    """The labelled skin darkened as more melanin darkens it (absorbance added per channel in linear
    light, ``MELANIN_SLOPE``; texture and redness kept as absorbances add), to about ``target_ita``:
    the physical counterpart of ``recolour_skin``'s CIELAB L* shift."""
    from skin_app.scan.redness import srgb_to_linear
    lin = srgb_to_linear(image)

    def dark(m: float) -> np.ndarray:
        out = lin.copy()
        out[skin] *= 10.0 ** (-m * np.array(MELANIN_SLOPE, np.float32))
        srgb = np.where(out <= 0.0031308, out * 12.92, 1.055 * out ** (1 / 2.4) - 0.055)
        return np.clip(np.round(srgb * 255), 0, 255).astype(np.uint8)
    lo, hi = 0.0, 1.5
    for _ in range(20):                      # ITA falls as melanin rises: bisect on the amount
        mid = (lo + hi) / 2
        t = tone.skin_tone(dark(mid), skin)
        lo, hi = (mid, hi) if t is not None and t.ita > target_ita else (lo, mid)
    return dark((lo + hi) / 2)
WORD_RANK = {"good": 0, "fair": 1, "needs care": 2}
LIGHT_BANDS = ("very_light", "light")


def aligned_view(image: np.ndarray, landmarks: face_mod.FaceLandmarks, size: int) -> ViewScan:
    a = face_mod.align_and_crop(image, landmarks, size)
    return view_scan(a.crop, a.points, size)


def probe_faces(data_root: Path, limit: int):
    """(sample, landmarks, tone) of light validation faces with a face found, in file order."""
    n = 0
    for s in iter_samples(data_root, PROBE_SETS, "val"):
        skin = s.codes["face_skin"] == 1
        t = tone.skin_tone(s.image, skin)
        if t is None or t.band not in LIGHT_BANDS:
            continue
        faces = face_mod.find_faces(s.image)
        if not faces:
            continue
        yield s, faces[0], t
        n += 1
        if limit and n >= limit:
            return


def summarise(records: list[dict], variant: str, mode: str) -> dict:
    """Ratios and worse-word shares of ``variant`` ("ita_7" ...) against the control, for one mode."""
    ctrl = [r["control"][mode] for r in records]
    dark = [r[variant][mode] for r in records]
    out: dict[str, Any] = {"n": len(records),
           "achieved_ita_median": round(float(np.median([r[variant]["ita"] for r in records])), 1)}
    for c in CONCERNS:
        mc = float(np.mean([v["area_pct"][c] for v in ctrl]))
        md = float(np.mean([v["area_pct"][c] for v in dark]))
        worse = sum(WORD_RANK[d["words"][c]] > WORD_RANK[k["words"][c]] for k, d in zip(ctrl, dark))
        out[c] = {"control_area_pct": round(mc, 4), "darkened_area_pct": round(md, 4),
                  "ratio": round(md / max(mc, 1e-9), 3), "worse_word_share": round(worse / max(len(records), 1), 3)}
    for key in ("acne_count", "flek_count"):
        out[key] = {"control": int(sum(v[key] for v in ctrl)), "darkened": int(sum(v[key] for v in dark))}
    # Redness scored here from the stored raw share with today's curve, so a curve fitted after the
    # faces were scanned can be checked again (``--records``) without scanning them again.
    from skin_app.scan.calibration import load_calibration, word_for
    curve = load_calibration().curves.get("redness")
    pairs = [(curve.score(k["redness_share"]), curve.score(d["redness_share"])) for k, d in zip(ctrl, dark)
             if curve is not None and k.get("redness_share") is not None and d.get("redness_share") is not None]
    if pairs:
        moved = np.abs([d - k for k, d in pairs])
        worse = sum(WORD_RANK[word_for(d)] > WORD_RANK[word_for(k)] for k, d in pairs)
        out["redness"] = {"n": len(pairs), "score_change_p50": round(float(np.percentile(moved, 50)), 2),
                          "score_change_p95": round(float(np.percentile(moved, 95)), 2),
                          "score_change_max": round(float(moved.max()), 2),
                          "control_score_mean": round(float(np.mean([k for k, _ in pairs])), 2),
                          "darkened_score_mean": round(float(np.mean([d for _, d in pairs])), 2),
                          "worse_word_share": round(worse / len(pairs), 3)}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", type=Path, help="weights file (default: the shipped model)")
    ap.add_argument("--limit", type=int, default=30, help="at most this many faces, in file order (0: every light validation face)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tone_probe.json")
    ap.add_argument("--reference", type=float, default=tone.REFERENCE_SKIN_L,
                    help="skin L* the normalisation lifts darker skin to (default: tone.REFERENCE_SKIN_L)")
    ap.add_argument("--records", type=Path, help="summarise the faces of an earlier run's --out file again "
                                                 "(with today's calibration) instead of scanning")
    a = ap.parse_args(argv)
    t0 = time.time()
    if a.records:
        old = json.loads(a.records.read_text())
        write_summary(a, old["faces"], old["summary"]["model"], t0)
        return
    from skin_app.scan.segmentation import INPUT_SIZE, load_segmenter
    seg = load_segmenter(a.model)
    records = []
    for s, landmarks, t in probe_faces(a.data, a.limit):
        skin = s.codes["face_skin"] == 1
        rec = {"dataset": s.dataset, "name": s.name, "control_ita": t.ita}
        variants = {"control": s.image, **{f"ita_{int(v)}": recolour_skin(s.image, skin, v) for v in TARGET_ITAS},
                    **{f"melanin_{int(v)}": melanin_darken(s.image, skin, v) for v in TARGET_ITAS}}
        for name, image in variants.items():
            view = aligned_view(image, landmarks, INPUT_SIZE)
            achieved = tone.skin_tone(image, skin)
            raw, normalised = scan_view(seg, view, a.reference)
            rec[name] = {"ita": achieved.ita if achieved is not None else None, "raw": raw, "normalised": normalised}
        records.append(rec)
        print(f"{len(records):3d} {s.dataset}/{s.name} ITA {t.ita:.0f}: flek % " +
              " ".join(f"{k} {rec[k]['raw']['area_pct']['flek']:.3f}" for k in variants), flush=True)
    write_summary(a, records, seg.version, t0)


def write_summary(a: argparse.Namespace, records: list[dict], model: str, t0: float) -> None:
    summary = {"faces": len(records), "model": model, "reference_skin_l": a.reference, "seconds": round(time.time() - t0, 1),
               "load_average": os.getloadavg()}
    for key in (f"{kind}_{int(v)}" for kind in ("ita", "melanin") for v in TARGET_ITAS):
        if all(key in r for r in records):
            summary[key] = {mode: summarise(records, key, mode) for mode in ("raw", "normalised")}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"summary": summary, "faces": records}, indent=1))
    for key in (k for k in summary if k.startswith(("ita_", "melanin_"))):
        for mode in ("raw", "normalised"):
            s = summary[key][mode]
            cells = "  ".join(f"{c} x{s[c]['ratio']:.2f} (worse {100 * s[c]['worse_word_share']:.0f}%)" for c in CONCERNS)
            if "redness" in s:
                r = s["redness"]
                cells += (f"  redness score moved p50 {r['score_change_p50']:.1f} p95 {r['score_change_p95']:.1f} "
                          f"(worse {100 * r['worse_word_share']:.0f}%)")
            print(f"{key} (achieved ITA {s['achieved_ita_median']}) {mode:10s} n={s['n']}: {cells}")
    print(f"-> {a.out} in {summary['seconds']:.0f}s")


if __name__ == "__main__":
    main()
