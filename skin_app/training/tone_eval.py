"""Marked area by skin tone on faces without lesion labels (CelebAMask, HELEN, FASSEG).

These photos show ordinary faces, so a model that treats every skin tone alike should mark about the
same acne, dark-spot, wrinkle and dark-circle area in every ITA band. Each photo is scored exactly
as the app measures it (``scoring.measure``: area inside the model's face skin, kept inside the
face-mesh outline; dark circles over the landmark eye region) in two views:

* ``letterbox``: the whole photo letterboxed to the model's size, as the segmentation metrics are;
* ``aligned``: the crop the app makes (``face.align_and_crop``).

and each view with and without the inference-time lightness normalisation (``skin_app.scan.tone``).
ITA comes from the labelled face skin where the set has it (CelebAMask, FASSEG) and from the
face-mesh skin regions otherwise (HELEN). Photos where no face is found, and black-and-white photos
(no ITA), are counted and left out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skin_app.concerns import CONCERNS, SCORED
from skin_app.scan import face as face_mod
from skin_app.scan import tone
from skin_app.scan.measure import count_blobs, measure
from skin_app.training.datasets import iter_samples
from skin_app.training.pack import letterbox_with_transform

FACE_SETS = ("celebamask_mini", "helen_68lm", "fasseg_frontal02")
REFERENCE_BAND = "very_light"


@dataclass
class ViewScan:
    """One view of one photo as the model sees it: the crop, its landmarks' regions and outline."""
    crop: np.ndarray
    regions: dict[str, np.ndarray]
    oval: np.ndarray
    nose_tip_y: float


NOSE_TIP = 1          # face-mesh landmark


def view_scan(crop: np.ndarray, points: np.ndarray, size: int) -> ViewScan:
    return ViewScan(crop, face_mod.face_regions(points, size), face_mod.face_oval_mask(points, size),
                    float(points[NOSE_TIP, 1]))


def views_of(image: np.ndarray, landmarks: face_mod.FaceLandmarks, size: int) -> dict[str, ViewScan]:
    """The letterboxed whole photo and the app's aligned crop, each with landmark regions in its frame."""
    boxed, _, (scale, left, top) = letterbox_with_transform(image, {}, size)
    pts = landmarks.points[:, :2] * scale + [left, top]
    aligned = face_mod.align_and_crop(image, landmarks, size)
    out = {}
    for name, crop, p in (("letterbox", boxed, pts), ("aligned", aligned.crop, aligned.points)):
        out[name] = view_scan(crop, p, size)
    return out


def scan_view(seg, view: ViewScan, reference: float = tone.REFERENCE_SKIN_L) -> tuple[dict, dict]:
    """(raw, normalised) area fractions (per cent of face skin / eye region), words and counts for one
    view; the model runs twice only when the normalisation (to skin L* ``reference``) changes the crop."""
    crop, t, shift = tone.prepare_crop(view.crop, view.regions, view.oval, reference)
    raw = _scan(seg, view, view.crop, 0.0, t)
    return raw, (raw if shift == 0.0 else _scan(seg, view, crop, shift, t))


def _scan(seg, view: ViewScan, crop: np.ndarray, shift: float, t: tone.SkinTone | None) -> dict:
    from skin_app.scan.analysis import probabilities_of
    from skin_app.scan.calibration import load_calibration, word_for
    measured = measure(probabilities_of(seg, crop), seg.thresholds, crop, view.regions, view.oval)
    metrics = measured.metrics
    scores = load_calibration().display_scores(metrics)
    area = metrics["area_fraction"]
    return {"area_pct": {c: None if area[c] is None else round(100 * area[c], 4) for c in CONCERNS},
            "words": {c: word_for(scores[c]) for c in SCORED if c in scores},
            "scores": {c: scores[c] for c in SCORED if c in scores},
            "redness_share": (metrics.get("redness") or {}).get("share"),
            "acne_count": metrics["acne_lesion_count"], "flek_count": metrics["flek_spot_count"],
            "lower_face_acne_count": count_blobs(measured.masks["acne"] & lower_face(view)),
            "shift": round(shift, 2), "crop_lightness": t.lightness if t else None}


def lower_face(view: ViewScan) -> np.ndarray:
    """The beard and stubble zone: the face outline below the nose tip (upper lip, chin, jaw)."""
    tip_row = int(round(view.nose_tip_y))
    zone = view.oval.copy()
    zone[:max(tip_row, 0)] = False
    return zone


@dataclass
class ToneSurvey:
    records: list[dict] = field(default_factory=list)
    no_face: dict[str, int] = field(default_factory=dict)
    no_ita: dict[str, int] = field(default_factory=dict)


def photo_tone(s, image: np.ndarray, view: ViewScan) -> tone.SkinTone | None:
    """ITA from the labelled face skin when the set has one, else from the face-mesh skin regions."""
    code = s.codes.get("face_skin")
    if code is not None and (code == 1).sum() >= tone.MIN_SKIN_PX:
        return tone.skin_tone(image, code == 1)
    return tone.skin_tone(view.crop, tone.landmark_skin(view.regions))


def survey(data_root: Path, split: str | None, seg, limit: int = 0, records_out: Path | None = None,
           reference: float = tone.REFERENCE_SKIN_L) -> ToneSurvey:
    """Scans every face photo of ``FACE_SETS`` in both views, raw and normalised."""
    from skin_app.scan.segmentation import INPUT_SIZE
    result = ToneSurvey()
    counts: dict[str, int] = {}
    sink = open(records_out, "w") if records_out else None
    for s in iter_samples(data_root, list(FACE_SETS), split):
        if limit and counts.get(s.dataset, 0) >= limit:
            continue
        counts[s.dataset] = counts.get(s.dataset, 0) + 1
        faces = face_mod.find_faces(s.image)
        if not faces:
            result.no_face[s.dataset] = result.no_face.get(s.dataset, 0) + 1
            continue
        views = views_of(s.image, faces[0], INPUT_SIZE)
        t = photo_tone(s, s.image, views["aligned"])
        if t is None:       # black-and-white photo: no ITA
            result.no_ita[s.dataset] = result.no_ita.get(s.dataset, 0) + 1
            continue
        rec = {"dataset": s.dataset, "name": s.name, "ita": t.ita, "band": t.band, "lightness": t.lightness}
        for vname, view in views.items():
            rec[vname], rec[vname + "+norm"] = scan_view(seg, view, reference)
        result.records.append(rec)
        if sink:
            sink.write(json.dumps(rec) + "\n")
            sink.flush()
    if sink:
        sink.close()
    return result


def band_rows(records: list[dict], views: tuple[str, ...] = ("letterbox", "aligned", "letterbox+norm", "aligned+norm"),
              dataset: str = "face_sets_by_ita") -> list[dict]:
    """Mean marked area (% of face skin; dark circles % of eye region) per view, band and concern,
    and its ratio to the very-light band's."""
    rows = []
    for view in views:
        means: dict[str, dict[str, float]] = {}
        for band in tone.BAND_NAMES:
            inband = [r[view] for r in records if r["band"] == band and view in r]
            if not inband:
                continue
            means[band] = {c: float(np.mean([v["area_pct"][c] for v in inband])) for c in CONCERNS}
            for c in CONCERNS:
                rows.append({"dataset": dataset, "target": c, "metric": f"{view}/{band}/mean_area_pct",
                             "value": round(means[band][c], 4), "n_images": len(inband)})
        ref = means.get(REFERENCE_BAND)
        if ref:
            for band, m in means.items():
                n = sum(1 for r in records if r["band"] == band and view in r)
                for c in CONCERNS:
                    rows.append({"dataset": dataset, "target": c, "metric": f"{view}/{band}/ratio_to_{REFERENCE_BAND}",
                                 "value": round(m[c] / max(ref[c], 1e-9), 3), "n_images": n})
    return rows


def band_table_markdown(records: list[dict], view: str) -> str:
    """The model card's table for one view: n and mean area per concern per band, ratio to very light."""
    lines = ["| ITA band | n | acne % | dark spots % | wrinkles % | dark circles % |", "|---|---|---|---|---|---|"]
    ref = None
    for band in tone.BAND_NAMES:
        inband = [r[view] for r in records if r["band"] == band]
        if not inband:
            continue
        m = {c: float(np.mean([v["area_pct"][c] for v in inband])) for c in CONCERNS}
        ref = ref or (m if band == REFERENCE_BAND else None)
        cells = [f"{m[c]:.3f}" + (f" ({m[c] / max(ref[c], 1e-9):.2f}x)" if ref else "") for c in CONCERNS]
        lines.append(f"| {band.replace('_', ' ')} | {len(inband)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def reference_lightness(data_root: Path) -> dict:
    """Median face-skin L* of the CelebAMask training faces (labelled skin): the normalisation's target."""
    values = []
    for s in iter_samples(data_root, ["celebamask_mini"], "train"):
        t = tone.skin_tone(s.image, s.codes["face_skin"] == 1)
        if t is not None:
            values.append(t.lightness)
    q = np.percentile(values, [10, 25, 50, 75, 90])
    return {"n": len(values), "percentiles_10_25_50_75_90": [round(float(v), 2) for v in q]}


def beard_rows(records: list[dict], faces: list[dict], views: tuple[str, ...] = ("letterbox", "aligned", "aligned+norm")) -> list[dict]:
    """Acne marks (connected blobs inside the model's face skin) below the nose tip, per face, on the
    listed faces with a beard or stubble (``bench/beard_stubble_val.json``): a clear face has ~0 there."""
    wanted = {(f["dataset"], f["name"]) for f in faces}
    chosen = [r for r in records if (r["dataset"], r["name"]) in wanted]
    rows = []
    for view in views:
        counts = [r[view]["lower_face_acne_count"] for r in chosen if view in r]
        if counts:
            rows.append({"dataset": "beard_stubble_val", "target": "acne", "metric": f"{view}/lower_face_acne_marks_total",
                         "value": int(sum(counts)), "n_images": len(counts)})
            rows.append({"dataset": "beard_stubble_val", "target": "acne", "metric": f"{view}/faces_with_lower_face_acne",
                         "value": int(sum(c > 0 for c in counts)), "n_images": len(counts)})
    return rows
