"""The scan pipeline as one call: ``analyze(image_bytes) -> ScanResult``.

photo bytes -> imaging (decode, EXIF, limits) -> face (find, quality gate, align, crop, regions)
-> segmentation (one UNet-ResNet34, six channels) -> scoring -> ScanResult.
Raises ``ImageError`` for unusable files and ``FaceError`` (carrying the quality report) when the
quality gate blocks; non-blocking advice travels in ``result.quality``.
"""
from __future__ import annotations

import time
from typing import Callable

from skin_app import face as face_mod
from skin_app.errors import FaceError
from skin_app.imaging import load_image
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
