"""Capture conditions: the light, colour cast, distance and head pose a photo was taken in, and when two
scans were taken too differently for their scores to be compared.

The noise band (``progress``) says how far a score moves between re-shots taken in the same
conditions; its re-shots vary exposure by up to 15 % and white balance by up to 10 %
(``training.recipe.RESHOT_EXPOSURE``, ``RESHOT_WHITE_BALANCE``). Two scans further apart than that
are "taken in different conditions": a score change between them may come from the light alone
(``bench/honest_scores.py`` measures how many points each concern moves per 0.1 of brightness), so
Progress does not call it real, and the Scan page warns before such a scan is saved.

A scan's conditions are stored in its measurements (``metrics["conditions"]``), so they travel with
exports and back; scans stored before they existed have the photo check's own measurements
(``metrics["quality"]``: yaw, pitch, face width) and no light.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

# Beyond these, two scans were taken in different conditions (see the module docstring).
EXPOSURE_RATIO = 1.15           # median skin brightness, one scan over the other (the re-shots' 15 %)
CAST_LOG_RATIO = 0.10           # log(R/G) or log(B/G) of the skin, apart by more than ~10 % (the re-shots' 10 %)
FACE_SIZE_RATIO = 1.5           # face width in the photo: a much closer or further camera
POSE_DEGREES = 12.0             # yaw or pitch apart by more than this
KEYS: tuple[str, ...] = ("exposure", "cast_red", "cast_blue", "face_width_px", "yaw", "pitch", "roll")


def measure(crop: np.ndarray, skin: np.ndarray | None, quality: Mapping[str, float]) -> dict[str, float]:
    """The conditions of one photo: ``exposure`` (median grey level 0-255 of the skin pixels), colour
    cast (``cast_red`` = median log(R/G), ``cast_blue`` = median log(B/G) over the skin), and, where the
    photo check measured them, the face width and head pose. ``skin``: the scored outline on ``crop``
    (None: the whole crop, as for a close-up)."""
    pixels = crop.reshape(-1, 3) if skin is None or skin.sum() < 100 else crop[skin]
    rgb = pixels.astype(np.float32) + 1.0
    grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32) - 1.0
    out = {"exposure": round(float(np.median(grey)), 1),
           "cast_red": round(float(np.median(np.log(rgb[:, 0] / rgb[:, 1]))), 3),
           "cast_blue": round(float(np.median(np.log(rgb[:, 2] / rgb[:, 1]))), 3)}
    for key in ("face_width_px", "yaw", "pitch", "roll"):
        if _number(quality.get(key)) is not None:
            out[key] = float(quality[key])
    return out


def of_scan(metrics: Mapping[str, Any]) -> dict[str, float]:
    """A stored scan's conditions: ``metrics["conditions"]``, else what its photo check measured."""
    stored = metrics.get("conditions")
    source = stored if isinstance(stored, Mapping) else metrics.get("quality")
    if not isinstance(source, Mapping):
        return {}
    return {k: float(v) for k in KEYS if (v := _number(source.get(k))) is not None}


def differences(before: Mapping[str, float], after: Mapping[str, float]) -> list[str]:
    """How ``after`` was taken differently from ``before``, in words; empty when comparable (or unknown)."""
    out = []
    a, b = before.get("exposure"), after.get("exposure")
    if a and b and max(a, b) / max(min(a, b), 1e-6) > EXPOSURE_RATIO:
        out.append(f"{'brighter' if b > a else 'darker'} light (skin brightness {a:.0f} → {b:.0f})")
    casts = [abs(after[k] - before[k]) for k in ("cast_red", "cast_blue") if k in before and k in after]
    if casts and max(casts) > CAST_LOG_RATIO:
        out.append("light of another colour")
    a, b = before.get("face_width_px"), after.get("face_width_px")
    if a and b and max(a, b) / max(min(a, b), 1e-6) > FACE_SIZE_RATIO:
        out.append(f"the camera {'closer' if b > a else 'further away'} (face {a:.0f} → {b:.0f} px wide)")
    turned = [k for k in ("yaw", "pitch") if k in before and k in after and abs(after[k] - before[k]) > POSE_DEGREES]
    if turned:
        out.append("the head turned or tilted differently")
    return out


def usual(history: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The person's usual conditions: the median of each measure over their recent scans."""
    out = {}
    for key in KEYS:
        values = [h[key] for h in history if key in h]
        if values:
            out[key] = float(np.median(values))
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
