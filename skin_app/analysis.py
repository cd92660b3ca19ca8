"""The scan pipeline as one call: ``analyze(image_bytes) -> ScanResult``.

photo bytes -> imaging (decode, EXIF, limits) -> face (find, quality gate, align, crop, regions)
-> segmentation (one UNet-ResNet34, six channels) -> scoring -> ScanResult.
Raises ``ImageError`` for unusable files and ``FaceError`` (carrying the quality report) when the
quality gate blocks; non-blocking advice travels in ``result.quality``.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from skin_app import face as face_mod
from skin_app.errors import FaceError
from skin_app.imaging import DCT_SCALED_FORMATS, LoadedImage, load_image
from skin_app.results import CHANNELS, ScanResult
from skin_app.scoring import compute_scores
from skin_app.segmentation import INPUT_SIZE, SkinSegmenter, load_segmenter


def analyze(image_bytes: bytes, segmenter: SkinSegmenter | None = None,
            progress: Callable[[str], None] | None = None) -> ScanResult:
    """``progress`` (optional) is told each step in plain words as it starts, for a live status line."""
    say = progress or (lambda _step: None)
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = round((now - t) * 1000, 1)
        t = now

    say("Reading the photo…")
    loaded = load_image(image_bytes)
    lap("decode_ms")
    say("Finding your face…")
    faces = face_mod.find_faces(loaded.rgb)
    if faces:
        loaded, faces = _aim_at_face(image_bytes, loaded, faces)
    aligned = face_mod.align_and_crop(loaded.rgb, faces[0], INPUT_SIZE) if faces else None
    quality = face_mod.assess_quality(faces, loaded.rgb, aligned, loaded.scale)
    lap("face_ms")
    if not quality.ok:
        first = next(i for i in quality.issues if i.blocking)
        raise FaceError(first.message, first.advice, first.code, quality)
    say("Analysing your skin…")
    seg = segmenter or load_segmenter()
    prob = seg.predict(aligned.crop)
    lap("segment_ms")
    say("Scoring…")
    probabilities = {ch: prob[..., i] for i, ch in enumerate(CHANNELS)}
    masks = {ch: p > seg.thresholds[ch] for ch, p in probabilities.items()}
    regions = face_mod.face_regions(aligned.points, INPUT_SIZE)
    oval = face_mod.face_oval_mask(aligned.points, INPUT_SIZE)
    scores, metrics = compute_scores(masks, regions, oval)
    metrics["thresholds"] = dict(seg.thresholds)
    metrics["quality"] = quality.measurements
    lap("score_ms")
    timings["total_ms"] = round(sum(timings.values()), 1)
    return ScanResult(scores=scores, metrics=metrics, masks=masks, probabilities=probabilities,
                      crop=aligned.crop, regions=regions, quality=quality, faces_found=len(faces),
                      model_version=seg.version, timings_ms=timings)


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
