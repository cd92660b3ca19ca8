"""Values that cross module boundaries in the scan pipeline (what ``analyze()`` returns)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Output channels of the one segmentation model, in order.
CHANNELS: tuple[str, ...] = ("face_skin", "eye", "acne", "flek", "wrinkle", "panda_eye")
# The four scored concerns, in display order, and their plain names.
CONCERNS: tuple[str, ...] = ("acne", "flek", "wrinkle", "panda_eye")
CONCERN_LABELS: dict[str, str] = {
    "acne": "Acne",
    "flek": "Dark spots",
    "wrinkle": "Wrinkles",
    "panda_eye": "Dark circles",
    "overall": "Overall",
}
# Views a scan can be taken from. Each view keeps its own history line (never mixed in one chart):
# a side view scores only the cheek that faces the camera, a close-up only what a patch of skin shows.
VIEWS: tuple[str, ...] = ("front", "left", "right", "closeup")
VIEW_LABELS: dict[str, str] = {
    "front": "Front",
    "left": "Left side",
    "right": "Right side",
    "closeup": "Close-up",
}
VIEW_HELP: dict[str, str] = {
    "front": "Your whole face, looking straight at the camera.",
    "left": "Head turned about 40 degrees to your right, so your left cheek faces the camera.",
    "right": "Head turned about 40 degrees to your left, so your right cheek faces the camera.",
    "closeup": "A patch of skin filling the frame (a cheek, the chin, the forehead); no whole face needed.",
}
# The concerns each view can score (a side view cannot see both eyes; a close-up has no face regions).
VIEW_CONCERNS: dict[str, tuple[str, ...]] = {
    "front": CONCERNS,
    "left": ("acne", "flek", "wrinkle"),
    "right": ("acne", "flek", "wrinkle"),
    "closeup": ("acne", "flek"),
}
# A "full check" is one visit made of these views, as clinical systems photograph a face.
FULL_CHECK: tuple[str, ...] = ("front", "left", "right")
# Named landmark regions of the face crop.
REGIONS: tuple[str, ...] = ("forehead", "left_cheek", "right_cheek", "nose", "chin",
                            "left_under_eye", "right_under_eye", "eyes")


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
    metrics: dict[str, Any]                  # raw, JSON-serialisable measurements (see scoring.py)
    masks: dict[str, np.ndarray]             # CHANNELS -> bool (H, W) on the aligned crop
    probabilities: dict[str, np.ndarray]     # CHANNELS -> float32 (H, W) in [0, 1]
    crop: np.ndarray                         # aligned face crop, uint8 (H, W, 3) RGB
    regions: dict[str, np.ndarray]           # REGIONS -> bool (H, W) on the aligned crop
    quality: QualityReport
    faces_found: int
    model_version: str
    timings_ms: dict[str, float]
    view: str = "front"                      # one of VIEWS
