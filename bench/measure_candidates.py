"""Which raw measurement should a display score read? Candidates measured, refitted and replayed.

    python bench/measure_candidates.py collect --data ../shared/data     # calibration photos, ~5 min
    python bench/measure_candidates.py noise --data ../shared/data       # noise-bench shots, ~2.5 min
    python bench/measure_candidates.py report                            # refit + replay, seconds

``collect`` and ``noise`` run the app's own measuring path (``calibrate.collect`` on the reference
photos, ``bench/noise_band.py`` on 40 validation faces x 11 shots) with extra candidate measures added
to every measurement under ``metrics["candidates"]``; both write under ``runs/`` (not committed).
``report`` then, for each candidate, puts it in place of the shipped measure, refits the curves on
the TRAINING split with ``calibrate.fit``, and prints what matters for the choice:

* the re-shot noise band (p95 of the display-score change over every pair of shots of a face, as
  ``noise_band.py`` computes it) and the share of shots whose word changes (no hysteresis);
* validation: ACNE04 grade accuracy, dark-circle AUC;
* fairness: per ITA band of ordinary faces, the share whose word is not "good" for that concern.

Candidates, for acne / dark spots / wrinkles over the face skin: the soft share with a ramp of +-0.15
(shipped) or +-0.30 around the threshold, the mean probability, the mean excess over 0.05 / 0.10, the
soft share of a blurred map; for dark circles: the soft share or the mean probability over the eye
region, and the under-eye contrast as L* (shipped), as log linear luminance, or as the mean log ratio
of the linear R, G and B (both invariant to exposure and white balance in theory).
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from skin_app.config import setup_tensorflow_env  # noqa: E402

setup_tensorflow_env()

import cv2  # noqa: E402
import numpy as np  # noqa: E402

RUNS = ROOT / "runs" / "measure_candidates"
RECORDS = RUNS / "calibration.jsonl"
SHOTS = RUNS / "noise_shots.json"
KEYS = ("acne", "flek", "wrinkle", "panda_eye", "overall")
SHARE_CONCERNS = ("acne", "flek", "wrinkle")


# -- the candidates -------------------------------------------------------------------------------
def _linear_rgb(crop: np.ndarray) -> np.ndarray:
    c = crop.astype(np.float32) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _log_ratio(channel: np.ndarray, cheek: np.ndarray, under: np.ndarray) -> float:
    return 100 * float(np.log10(np.median(channel[cheek]) + 1e-4) - np.log10(np.median(channel[under]) + 1e-4))


def contrast_candidates(crop: np.ndarray, skin: np.ndarray, regions: dict) -> dict:
    """Cheek against under-eye (the app's areas, ``scoring.under_eye_and_cheek``), per visible side then
    averaged: L* difference (shipped), 100 x log10 ratio of linear luminance, 100 x mean log10 ratio of
    the linear R, G, B."""
    from skin_app.scan import measure as scoring
    lum = scoring._lab(crop)[..., 0]
    lin = _linear_rgb(crop)
    y = lin @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    out: dict[str, list[float]] = {"contrast_L": [], "contrast_logY": [], "contrast_logRGB": []}
    for _side, under, cheek in scoring.under_eye_and_cheek(skin, regions):
        out["contrast_L"].append(float(np.median(lum[cheek]) - np.median(lum[under])))
        out["contrast_logY"].append(_log_ratio(y, cheek, under))
        out["contrast_logRGB"].append(float(np.mean([_log_ratio(lin[..., i], cheek, under) for i in range(3)])))
    return {k: (float(np.mean(v)) if v else None) for k, v in out.items()}


def confident_and_large(prob: np.ndarray, skin: np.ndarray, t: float, n: int) -> tuple[float, float]:
    """The soft share (ramp +-0.15) counted only in marks (connected pixels above ``t - 0.15``) that reach
    ``t + 0.15`` somewhere ("sure": a confident core), or that cover at least the experts' median lesion
    (``LESION_TYPICAL_PX``, "big"): the faint, small marks near the model's edge, which come and go between
    re-shots on skin without acne, count nothing."""
    from skin_app.scan.measure import LESION_TYPICAL_PX, soft_marks
    soft = soft_marks(prob, t, 0.15) * skin
    count, labels, stats, _ = cv2.connectedComponentsWithStats(((prob > t - 0.15) & skin).astype(np.uint8), connectivity=8)
    if count <= 1:
        return 0.0, 0.0
    peak = np.zeros(count, np.float32)
    np.maximum.at(peak, labels.ravel(), prob.ravel().astype(np.float32))
    sure, big = peak >= t + 0.15, stats[:, cv2.CC_STAT_AREA] >= LESION_TYPICAL_PX
    sure[0] = big[0] = False
    return float(soft[sure[labels]].sum()) / n, float(soft[big[labels]].sum()) / n


def candidates(probabilities: dict, thresholds: dict, crop: np.ndarray, regions: dict | None, m) -> dict:
    from skin_app.scan.measure import soft_marks
    n = max(int(m.skin.sum()), 1)
    out: dict = {}
    for c in SHARE_CONCERNS:
        p, t = probabilities[c][m.skin], thresholds[c]
        out[f"{c}.soft15"] = float(soft_marks(p, t, 0.15).sum()) / n
        out[f"{c}.soft30"] = float(soft_marks(p, t, 0.30).sum()) / n
        out[f"{c}.mean"] = float(p.sum()) / n
        out[f"{c}.excess05"] = float(np.clip(p - 0.05, 0, None).sum()) / n / 0.95
        out[f"{c}.excess10"] = float(np.clip(p - 0.10, 0, None).sum()) / n / 0.90
        out[f"{c}.blur15"] = float(soft_marks(cv2.GaussianBlur(probabilities[c], (0, 0), 1.5)[m.skin], t, 0.15).sum()) / n
        out[f"{c}.sure15"], out[f"{c}.big15"] = confident_and_large(probabilities[c], m.skin, t, n)
    if m.eye_region is not None:
        p = probabilities["panda_eye"][m.eye_region]
        ne = max(int(m.eye_region.sum()), 1)
        out["panda_eye.soft15"] = float(soft_marks(p, thresholds["panda_eye"], 0.15).sum()) / ne
        out["panda_eye.mean"] = float(p.sum()) / ne
    if regions is not None:
        out.update(contrast_candidates(crop, m.skin, regions))
    return {k: (round(v, 7) if isinstance(v, float) else v) for k, v in out.items()}


def install() -> None:
    """Every measurement the app makes from here on also carries ``metrics["candidates"]``."""
    import skin_app.scan.analysis as analysis
    import skin_app.scan.measure as scoring
    plain = scoring.measure

    def measure_with_candidates(probabilities, thresholds, crop, regions=None, oval=None):
        m = plain(probabilities, thresholds, crop, regions, oval)
        m.metrics["candidates"] = candidates(probabilities, thresholds, crop, regions, m)
        return m
    scoring.measure = measure_with_candidates
    analysis.measure = measure_with_candidates


# -- refit and replay -----------------------------------------------------------------------------
# Each choice: which candidate stands in for which measure the curves read.
CHOICES: dict[str, dict[str, str]] = {
    "shipped": {},
    **{f"{c}: {v}": {f"soft_fraction.{c}": f"{c}.{v}"}
       for c in SHARE_CONCERNS for v in ("soft30", "mean", "excess05", "excess10", "blur15", "sure15", "big15")},
    "panda_eye: soft share + L*": {"mean_probability.panda_eye": "panda_eye.soft15"},
    **{f"panda_eye: mean + {k}": {"under_eye_contrast": f"contrast_{k}"} for k in ("logY", "logRGB")},
}


def substitute(metrics: dict | None, subs: dict[str, str]) -> dict | None:
    if not metrics or "candidates" not in metrics:
        return metrics
    m = copy.deepcopy(metrics)
    for target, source in subs.items():
        value = m["candidates"].get(source)
        if "." in target:
            group, key = target.split(".")
            m.setdefault(group, {})[key] = value
        else:
            m[target] = value
    return m


def evaluate(records: list[dict], faces: list[dict], subs: dict[str, str]) -> dict:
    from skin_app.scan.calibration import parse_calibration, word_for
    from skin_app.training import calibrate
    swapped = [{**r, "aligned": substitute(r["aligned"], subs), "letterboxed": substitute(r["letterboxed"], subs)}
               for r in records]
    spec = calibrate.fit(swapped)
    report = calibrate.report(swapped, spec)
    cal = parse_calibration(json.dumps(spec).encode())
    from noise_band import pair_changes
    diffs: dict[str, list[float]] = {k: [] for k in KEYS}
    changed = {k: [0, 0] for k in KEYS}
    for f in faces:
        shots = [f["original_metrics"]] + [v["metrics"] for v in f["variants"] if "metrics" in v]
        scores = [cal.display_scores(substitute(m, subs) or {}) for m in shots]
        for k, d in pair_changes(scores).items():
            diffs.setdefault(k, []).extend(d)      # redness too, which no candidate here changes
        for s in scores[1:]:
            for k in KEYS:
                if k in s and k in scores[0]:
                    changed[k][0] += word_for(s[k]) != word_for(scores[0][k])
                    changed[k][1] += 1
    return {"band_p95": {k: round(float(np.percentile(v, 95)), 2) for k, v in diffs.items() if v},
            "word_changes": {k: round(a / max(b, 1), 3) for k, (a, b) in changed.items()},
            "grade_accuracy": report.get("acne_grade_accuracy"), "panda_eye_auc": report.get("panda_eye_auc"),
            "not_good_by_ita": report.get("not_good_by_ita")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("collect", "noise", "report"))
    ap.add_argument("--data", help="the shared data folder (collect, noise)")
    a = ap.parse_args(argv)
    RUNS.mkdir(parents=True, exist_ok=True)
    if a.mode == "collect":
        install()
        from skin_app.scan.segmentation import load_segmenter
        from skin_app.training import calibrate
        calibrate.CACHE_DIR = RUNS / "cache"
        records = calibrate.collect(Path(a.data), load_segmenter(), log=lambda s: print(s, file=sys.stderr))
        RECORDS.write_text("".join(json.dumps(r) + "\n" for r in records))
        return 0
    if a.mode == "noise":
        install()
        import noise_band
        keep = noise_band.raw_of
        noise_band.raw_of = lambda metrics: {**keep(metrics), "candidates": metrics.get("candidates")}
        return noise_band.main(["--data", a.data, "--out", str(RUNS / "noise_summary.json"), "--detail", str(SHOTS)])
    records = [json.loads(line) for line in RECORDS.read_text().splitlines()]
    faces = json.loads(SHOTS.read_text())["faces"]
    concern_of = lambda name: name.split(":")[0] if ":" in name else None  # noqa: E731
    for name, subs in CHOICES.items():
        r = evaluate(records, faces, subs)
        concerns = [concern_of(name)] if concern_of(name) else list(KEYS[:4])
        for c in concerns:
            fair = " ".join(f"{band[:5]} {v[c]:.2f}" for band, v in (r["not_good_by_ita"] or {}).items())
            print(f"{name:28s} {c:9s} p95 {r['band_p95'].get(c, float('nan')):5.2f}  overall {r['band_p95']['overall']:4.2f}  "
                  f"words {r['word_changes'][c]:.3f}  grade acc {r['grade_accuracy']}  dark-circle AUC "
                  f"{r['panda_eye_auc']}  not good: {fair}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
