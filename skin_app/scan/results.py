"""Values that cross module boundaries in the scan pipeline (what ``analyze()`` returns).

The names they are keyed by (channels, concerns, views, regions) live in ``concerns.py``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class QualityIssue:
    """One reason a photo is not good enough, with advice a person can follow."""
    code: str          # e.g. "no_face", "too_dark", "blurry", "turned", "too_small", "several_faces"
    message: str       # what is wrong, in plain words
    advice: str        # what to do about it
    blocking: bool     # True: no analysis was possible / trustworthy


@dataclass
class QualityReport:
    issues: list[QualityIssue] = field(default_factory=list)
    measurements: dict[str, float] = field(default_factory=dict)   # brightness, sharpness, yaw, ...

    @property
    def ok(self) -> bool:
        return not any(i.blocking for i in self.issues)


@dataclass
class ScanResult:
    scores: dict[str, float]                 # CONCERNS + "overall": calibrated display scores 0-100, higher is better
    metrics: dict[str, Any]                  # raw, JSON-serialisable measurements (see measure.py)
    masks: dict[str, np.ndarray]             # CHANNELS -> bool (H, W) on the aligned crop
    probabilities: dict[str, np.ndarray]     # CHANNELS -> float32 (H, W) in [0, 1]
    crop: np.ndarray                         # aligned face crop, uint8 (H, W, 3) RGB
    regions: dict[str, np.ndarray]           # REGIONS -> bool (H, W) on the aligned crop
    quality: QualityReport
    faces_found: int
    model_version: str
    timings_ms: dict[str, float]
    view: str = "front"                      # one of VIEWS
    acne: dict | None = None                 # calibration.acne_reading: lesions (about, range), grade in words
