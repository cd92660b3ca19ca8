"""The scan pipeline as one call: ``analyze(image_bytes, view="front") -> ScanResult``.

photo bytes -> imaging (decode, EXIF, limits) -> face (find, align, crop, regions) and quality (the gate
for the view) -> segmentation (one UNet-ResNet34, six channels, mirror-averaged) -> scoring (raw
measurements) -> calibration (display scores) -> ScanResult.

``check_photo`` is the first half alone (no model, a fraction of a second): the page shows its
checks as a pre-check, and hands it to ``analyze`` so nothing is done twice. Raises ``ImageError`` for
unusable files; ``analyze`` raises ``FaceError`` (carrying the quality report) when the gate blocks;
non-blocking advice travels in ``result.quality``.

Views (``concerns.VIEWS``): "front" scores the whole face; "left"/"right" want the head turned on
purpose and score the visible half of the face (that cheek, from the midline out); "closeup" needs
no face: the centre square of the photo is the model's input, scored for acne and dark spots over
the skin the model finds.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skin_app.concerns import CHANNELS, COLOUR_CONCERNS, VIEW_CONCERNS, VIEWS
from skin_app.config import settings
from skin_app.errors import FaceError
from skin_app.scan import conditions
from skin_app.scan import face as face_mod
from skin_app.scan import quality as quality_mod
from skin_app.scan.calibration import MEASURE_VERSION_KEY, Calibration, load_calibration, overall_of
from skin_app.scan.imaging import DCT_SCALED_FORMATS, LoadedImage, load_image
from skin_app.scan.measure import MEASURE_VERSION, Measurement, measure
from skin_app.scan.results import QualityReport, ScanResult
from skin_app.scan.segmentation import (
    INPUT_SIZE,
    MODEL_WEIGHTS,
    SkinSegmenter,
    check_made_for,
    installed_weights,
    load_segmenter,
    require_same,
)

# Averaging the model's output over the crop and its mirror image (one batch of two) steadies the
# area measurements between re-shots (bench/noise_band.py and bench/bench_analyze.py measure it).
FLIP_AVERAGE = True


def probabilities_of(seg: SkinSegmenter, crop: np.ndarray, flip_average: bool | None = None) -> dict[str, np.ndarray]:
    """Channel -> float32 probability map of an aligned square crop (``flip_average`` None: FLIP_AVERAGE)."""
    prob = seg.predict(crop, flip_average=FLIP_AVERAGE if flip_average is None else flip_average)
    return {ch: prob[..., i] for i, ch in enumerate(CHANNELS)}


def measure_aligned(seg: SkinSegmenter, aligned: face_mod.AlignedFace,
                    flip_average: bool | None = None) -> tuple[dict[str, np.ndarray], dict, Measurement]:
    """(probabilities, regions, raw measurement) of an aligned frontal face: the app's front path, also
    used to calibrate scores and measure the noise band, so all three see the same numbers."""
    probabilities = probabilities_of(seg, aligned.crop, flip_average)
    regions, oval = front_geometry(aligned)
    return probabilities, regions, measure(probabilities, seg.thresholds, aligned.crop, regions, oval)


def front_geometry(aligned: face_mod.AlignedFace) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(named regions, face outline) of a frontal face on its aligned crop: what a front scan scores."""
    size = aligned.crop.shape[0]
    return face_mod.face_regions(aligned.points, size), face_mod.face_oval_mask(aligned.points, size)


def scan_version(seg: SkinSegmenter, cal: Calibration) -> str:
    """What a score depends on: the weights, the per-channel thresholds, the measurement code
    (``scoring.MEASURE_VERSION``) and the score calibration, checked to belong together
    (``check_bundle``). Two scans with different versions are not directly comparable (Progress says so).
    The noise band is not in it: it changes no score."""
    return _version(seg.version, seg.thresholds, cal)


def installed_scan_version(weights_path: str | Path | None = None) -> str:
    """The ``scan_version`` the model files at ``weights_path`` (default: the installed ones) give,
    without loading the model (a batch reads it before starting, to skip the photos already scored by
    this version) and the app's model loader before its first scan. Raises ``ModelBundleError`` when
    the files (the noise band too) do not belong together."""
    weights_file = Path(weights_path) if weights_path else settings().model
    weights, thresholds = installed_weights(weights_file)
    version = _version(weights, thresholds, load_calibration(weights_file.with_name("calibration.json")))
    band = weights_file.with_name("noise_band.json")
    try:
        raw = json.loads(band.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = None          # no band (or an unreadable one): the pages show a default estimate, no score changes
    if isinstance(raw, dict):
        check_made_for(band, raw, weights_file)
    return version


def check_bundle(weights: str, thresholds: Mapping[str, float], cal: Calibration) -> None:
    """Refuses (``segmentation.ModelBundleError``) a calibration fitted for other weights, other
    thresholds or another measurement version: its curves would read the measurements wrongly."""
    path = cal.path or Path("calibration.json")
    require_same(path, MODEL_WEIGHTS, cal.info.get(MODEL_WEIGHTS), weights)
    named = cal.info.get("thresholds")
    require_same(path, "thresholds", named if not isinstance(named, dict) else
                 {k: float(v) for k, v in named.items()}, {k: float(v) for k, v in thresholds.items()})
    require_same(path, MEASURE_VERSION_KEY, cal.info.get(MEASURE_VERSION_KEY), MEASURE_VERSION)


def _version(weights: str, thresholds: Mapping[str, float], cal: Calibration) -> str:
    check_bundle(weights, thresholds, cal)
    thr = hashlib.sha256(json.dumps(dict(thresholds), sort_keys=True).encode()).hexdigest()[:6]
    return f"{weights}-t{thr}-m{MEASURE_VERSION}-{cal.version}"


@dataclass
class CheckedPhoto:
    """A decoded photo that went through the quality gate for its view (the model has not run yet)."""
    view: str
    loaded: LoadedImage
    faces: list
    aligned: face_mod.AlignedFace | None       # None for close-ups
    quality: QualityReport
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def crop(self) -> np.ndarray:
        """What the model sees: the aligned face crop, or the close-up's centre square."""
        if self.aligned is not None:
            return self.aligned.crop
        return face_mod.closeup_square(self.loaded.rgb, INPUT_SIZE)


def _clock(timings: dict[str, float]) -> Callable[[str], None]:
    t = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        timings[name] = round((now - t[0]) * 1000, 1)
        t[0] = now
    return lap


def check_photo(image_bytes: bytes, view: str = "front",
                progress: Callable[[str], None] | None = None) -> CheckedPhoto:
    """Decode and check a photo for ``view``; the quality report says what (if anything) to fix."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; one of {VIEWS}")
    say = progress or (lambda _step: None)
    timings: dict[str, float] = {}
    lap = _clock(timings)
    say("Reading the photo…")
    loaded = load_image(image_bytes)
    lap("decode_ms")
    if view == "closeup":
        say("Checking the close-up…")
        quality = quality_mod.assess_closeup(loaded.rgb, loaded.scale)
        lap("face_ms")
        return CheckedPhoto(view, loaded, [], None, quality, timings)
    say("Finding your face…")
    faces = face_mod.find_faces(loaded.rgb)
    if faces:
        loaded, faces = _aim_at_face(image_bytes, loaded, faces)
    aligned = face_mod.align_and_crop(loaded.rgb, faces[0], INPUT_SIZE) if faces else None
    quality = quality_mod.assess_quality(faces, loaded.rgb, aligned, loaded.scale, view=view)
    lap("face_ms")
    return CheckedPhoto(view, loaded, faces, aligned, quality, timings)


def _view_geometry(checked: CheckedPhoto) -> tuple[dict[str, np.ndarray] | None, np.ndarray | None]:
    """(regions, scored outline) for the view: the whole face, its visible half, or (a close-up, no
    landmarks) None: the skin the model finds."""
    if checked.view == "closeup":
        return None, None
    assert checked.aligned is not None            # every view but a close-up is aligned on landmarks
    if checked.view == "front":
        return front_geometry(checked.aligned)
    size = checked.aligned.crop.shape[0]
    points = checked.aligned.points
    regions = face_mod.side_regions(points, size, checked.view)
    return regions, face_mod.face_oval_mask(points, size) & regions[f"{checked.view}_half"]


def view_scores(scores: dict[str, float], view: str) -> dict[str, float]:
    """Only the model's concerns the view can see, the view's Overall over them (``calibration.overall_of``),
    plus the colour concerns it has (they stay out of Overall: ``concerns.COLOUR_CONCERNS``)."""
    kept = {c: scores[c] for c in VIEW_CONCERNS[view]}
    kept["overall"] = overall_of(kept, VIEW_CONCERNS[view])
    kept.update({c: scores[c] for c in COLOUR_CONCERNS if c in scores})
    return kept


def drop_untrusted_colour(metrics: dict, masks: dict[str, np.ndarray], quality: QualityReport) -> None:
    """Redness is read from colour: where the photo check says colour cannot be trusted (a strong cast,
    no colour at all), it is not measured rather than measured wrong."""
    if quality_mod.colour_trusted(quality.measurements):
        return
    metrics["redness"] = None
    metrics["redness_skipped"] = "colour_cast"
    for region in metrics.get("per_region", {}).values():
        region.pop("redness", None)
    if "redness" in masks:
        masks["redness"] = np.zeros_like(masks["redness"])


def analyze(image_bytes: bytes, segmenter: SkinSegmenter | None = None,
            progress: Callable[[str], None] | None = None, view: str = "front",
            checked: CheckedPhoto | None = None, calibration: Calibration | None = None) -> ScanResult:
    """``progress`` (optional) is told each step in plain words as it starts, for a live status line.
    ``checked``: the result of ``check_photo`` for these bytes, when the caller already has it."""
    say = progress or (lambda _step: None)
    checked = checked or check_photo(image_bytes, view, progress)
    view = checked.view
    quality = checked.quality
    if not quality.ok:
        first = next(i for i in quality.issues if i.blocking)
        raise FaceError(first.message, first.advice, first.code, quality)
    timings = dict(checked.timings_ms)
    lap = _clock(timings)
    say("Analysing your skin…")
    seg = segmenter or load_segmenter()
    cal = calibration or load_calibration()
    crop = checked.crop
    probabilities = probabilities_of(seg, crop)
    lap("segment_ms")
    if view == "closeup":
        skin = float(probabilities["face_skin"].mean())
        quality.measurements["skin_probability"] = round(skin, 3)
        issue = quality_mod.not_skin_issue(skin)
        if issue is not None:
            quality.issues.append(issue)
            raise FaceError(issue.message, issue.advice, issue.code, quality)
    say("Scoring…")
    regions, outline = _view_geometry(checked)
    measured = measure(probabilities, seg.thresholds, crop, regions, outline)
    metrics = measured.metrics
    drop_untrusted_colour(metrics, measured.masks, quality)
    scores = cal.display_scores(metrics)
    if view != "front":
        scores = view_scores(scores, view)
        metrics["per_region"] = {k: v for k, v in metrics.get("per_region", {}).items() if k.startswith(view)}
    metrics["view"] = view
    metrics["scored_by"] = cal.scored_by
    metrics["thresholds"] = dict(seg.thresholds)
    metrics["quality"] = quality.measurements
    metrics["conditions"] = conditions.measure(crop, outline, quality.measurements)
    lap("score_ms")
    timings["total_ms"] = round(sum(timings.values()), 1)
    return ScanResult(scores=scores, metrics=metrics, masks=measured.masks, probabilities=probabilities,
                      crop=crop, regions=regions or {}, quality=quality, faces_found=len(checked.faces),
                      model_version=scan_version(seg, cal), timings_ms=timings, view=view,
                      acne=cal.acne_reading(metrics) if "acne" in scores else None)


# The crop shows the face INPUT_SIZE / CROP_MARGIN px wide. A face up to this factor narrower in the
# decoded photo is upsampled into the crop (the training photos, 400-512 px letterboxed to 384, were
# softer than that); a narrower one is decoded again at the scale that gives it full width.
MAX_FACE_UPSAMPLE = 1.25


def _aim_at_face(image_bytes: bytes, loaded: LoadedImage, faces: list) -> tuple[LoadedImage, list]:
    """JPEGs are decoded at reduced scale (imaging.JPEG_DECODE_SIDE); when the largest face came out
    too small for the crop and the file holds more detail, decode again at the scale aimed at it and
    carry the landmarks over (they scale with the image)."""
    wanted = INPUT_SIZE / face_mod.CROP_MARGIN / MAX_FACE_UPSAMPLE
    x0, y0, x1, y1 = faces[0].bbox
    width = max(x1 - x0, (y1 - y0) * 0.85)
    if width >= wanted or loaded.scale >= 1.0 or loaded.format not in DCT_SCALED_FORMATS:
        return loaded, faces
    finer = load_image(image_bytes, min_scale=loaded.scale * wanted * MAX_FACE_UPSAMPLE / max(width, 1.0))
    k = finer.scale / loaded.scale
    if k <= 1.0:
        return loaded, faces
    return finer, [face_mod.FaceLandmarks(f.points * np.float32(k)) for f in faces]
