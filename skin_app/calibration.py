"""Raw measurements -> the 0-100 display scores and words a person reads (higher is better).

The seed's ``100 - area %`` puts every face between 94 and 100, so a severe acne face read "98". The
display score instead maps each concern's raw measurement through a monotone piecewise-linear curve
whose knots were fitted on graded reference photos of the *training split* only
(``python -m skin_app.training.calibrate``, written to ``models/calibration.json``, which records
which raw value maps to 90, 70 and 50 and why). Every concern shares one meaning of the scale:

* 90: what a typical face without the concern reads (acne, wrinkles: 9 in 10 ordinary faces read 90
  or more; dark spots: half of them);
* 70: where a dermatologist's grade turns from mild to moderate (or the reference's equivalent);
* 50 and below: clearly visible, moderate to severe.

Words follow the shared scale (``WORD_BANDS``): "good" from 70, "fair" from 50, "needs care" below.
A word only changes against the person's previous word when the score leaves the measured noise
band around the edge (``word_for(..., previous=, band=)``), so re-taking a photo does not flip it.

Overall is the plain mean of the four model concerns' display scores: they share a scale, so each
weighs a quarter and none dominates (``bench/noise_band.py`` and ``evaluate`` report Overall's
correlation with each). Redness (``concerns.COLOUR_CONCERNS``) has its own curve and words but stays
out of Overall: scans stored before it existed have no redness, and an Overall that took it in would
move between old and new scans with nothing on the skin changed.
"""
from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skin_app.concerns import COLOUR_CONCERNS, CONCERNS, VIEW_CONCERNS
from skin_app.config import settings
from skin_app.errors import UserFacingError

WORDS: tuple[str, ...] = ("good", "fair", "needs care")
WORD_BANDS: tuple[float, float] = (70.0, 50.0)     # good from 70, fair from 50, needs care below 50
OVERALL = "overall"


def word_for(score: float, previous: str | None = None, band: float = 0.0) -> str:
    """The word for a display score. With the person's ``previous`` word for the same concern, the word
    only changes once the score is more than ``band`` points past the edge it crossed (hysteresis)."""
    good, fair = WORD_BANDS
    score = float(score)
    new = "good" if score >= good else "fair" if score >= fair else "needs care"
    if previous not in WORDS or previous == new or band <= 0:
        return new
    lo, hi = {"good": (good, math.inf), "fair": (fair, good), "needs care": (-math.inf, fair)}[previous]
    return previous if lo - band <= score < hi + band else new


def score_words(score: float, concern: str = OVERALL) -> str:
    """The word for a display score with no history (every concern shares WORD_BANDS)."""
    return word_for(score)


@dataclass(frozen=True)
class ConcernCurve:
    """One concern's mapping: the raw value (``measure``, a key of the raw metrics, dotted for nested;
    or a weighted sum of several, ``terms``) -> transform -> piecewise-linear interpolation through
    ``knots`` (x ascending, score descending)."""
    measure: str
    transform: str                 # "log10" (x = log10(value + offset)) or "linear"
    knots: tuple[tuple[float, float], ...]
    offset: float = 0.0
    terms: tuple[tuple[str, float], ...] = ()     # (measure, weight) pairs summed; empty: ``measure`` alone

    def raw(self, metrics: dict) -> float | None:
        """The curve's raw value from a scan's metrics; None when any part is missing."""
        total = 0.0
        for key, weight in self.terms or ((self.measure, 1.0),):
            v = _lookup(metrics, key)
            if v is None:
                return None
            total += weight * v
        return total

    def x(self, value: float) -> float:
        if self.transform == "log10":
            return math.log10(max(float(value), 0.0) + self.offset)
        return float(value)

    def score(self, value: float) -> float:
        xs = [k[0] for k in self.knots]
        ys = [k[1] for k in self.knots]
        return float(np.clip(np.interp(self.x(value), xs, ys), 0.0, 100.0))

    def value_at(self, score: float) -> float:
        """The raw value that maps to ``score`` (for documentation: which raw value reads 90, 70, 50)."""
        xs = [k[0] for k in self.knots][::-1]
        ys = [k[1] for k in self.knots][::-1]
        x = float(np.interp(score, ys, xs))
        return 10 ** x - self.offset if self.transform == "log10" else x


def _lookup(metrics: dict, dotted: str) -> float | None:
    value: Any = metrics
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


@dataclass
class Calibration:
    curves: dict[str, ConcernCurve]
    legacy: dict[str, ConcernCurve]          # from what scans of earlier versions stored (area_fraction)
    version: str
    info: dict = field(default_factory=dict)

    def concern_scores(self, metrics: dict, curves: dict[str, ConcernCurve] | None = None) -> dict[str, float]:
        out = {}
        for concern, curve in (curves or self.curves).items():
            value = curve.raw(metrics)
            if value is not None:
                out[concern] = round(curve.score(value), 1)
        return out

    def display_scores(self, metrics: dict) -> dict[str, float]:
        """Concern -> display score for every concern the metrics allow, plus Overall when all four are there."""
        scores = self.concern_scores(metrics)
        return with_overall(scores)

    def rescore_legacy(self, metrics: dict) -> dict[str, float] | None:
        """Display scores for a scan stored by an earlier version, from its stored raw measurements:
        the current measures where it has them, else the legacy curves; only the concerns its view
        scores (``concerns.VIEW_CONCERNS``) and their mean. None if any of those is missing."""
        scores = self.concern_scores(metrics)
        for concern, value in self.concern_scores(metrics, self.legacy).items():
            scores.setdefault(concern, value)
        view = metrics.get("view", "front")
        needed = VIEW_CONCERNS.get(view, CONCERNS) if isinstance(view, str) else CONCERNS
        if any(c not in scores for c in needed):
            return None
        kept = {c: scores[c] for c in needed}
        kept[OVERALL] = round(float(np.mean(list(kept.values()))), 1)
        kept.update({c: scores[c] for c in COLOUR_CONCERNS if c in scores})
        return kept

MEASURE_WORDS: dict[str, str] = {
    "soft_fraction.acne": "share of your face skin marked as acne",
    "soft_fraction.flek": "share of your face skin marked as dark spots",
    "soft_fraction.wrinkle": "share of your face skin marked as wrinkles",
    "under_eye_contrast": "how much darker your under-eye skin is than your cheek (CIELAB lightness L*)",
    "dark_circle_index": ("how much darker your under-eye skin is than your cheek (CIELAB lightness L*) plus how "
                          "strongly, on average over the eye area, the model sees dark circles, weighted alike"),
    "redness.share": ("share of your face skin redder than your own skin's usual colour (an erythema index "
                      "corrected for melanin, from the photo's colour)"),
}
# Measures that are shares of an area (shown in %).
SHARE_MEASURES: tuple[str, ...] = ("soft_fraction.", "redness.share")


def describe(cal: Calibration) -> list[dict]:
    """Per concern: what is measured and which raw value reads 90, 70 and 50 (for pages and the card)."""
    rows = []
    for concern, curve in cal.curves.items():
        percent = curve.measure.startswith(SHARE_MEASURES) and not curve.terms
        at = {str(s): curve.value_at(s) * (100 if percent else 1) for s in (90, 70, 50)}
        rows.append({"concern": concern, "measure": MEASURE_WORDS.get(curve.measure, curve.measure),
                     "unit": "%" if percent else "index" if curve.terms else "L*", "at": at,
                     "why": (cal.info.get("why") or {}).get(concern, {})})
    return rows


def with_overall(scores: dict[str, float]) -> dict[str, float]:
    if all(c in scores for c in CONCERNS):
        scores[OVERALL] = round(float(np.mean([scores[c] for c in CONCERNS])), 1)
    return scores


def calibration_path() -> Path:
    return settings().calibration


def _curves(spec: dict) -> dict[str, ConcernCurve]:
    return {c: ConcernCurve(measure=s["measure"], transform=s["transform"], offset=float(s.get("offset", 0.0)),
                            knots=tuple((float(x), float(y)) for x, y in s["knots"]),
                            terms=tuple((str(k), float(w)) for k, w in (s.get("terms") or {}).items()))
            for c, s in spec.items()}


def parse_calibration(raw: bytes) -> Calibration:
    spec = json.loads(raw)
    return Calibration(curves=_curves(spec["concerns"]), legacy=_curves(spec.get("legacy", {})),
                       version="cal-" + hashlib.sha256(raw).hexdigest()[:8], info=spec)


_cache: dict[str, Calibration] = {}
_lock = threading.Lock()


class CalibrationMissingError(UserFacingError, RuntimeError):
    """The calibration file shipped beside the weights is missing or unreadable."""

    def __init__(self, message: str, advice: str = "", code: str = "calibration_missing") -> None:
        super().__init__(message, advice, code)


def load_calibration(path: str | Path | None = None) -> Calibration:
    """``calibration.json`` beside the weights, read once per process."""
    path = Path(path) if path is not None else calibration_path()
    key = str(path.resolve())
    with _lock:
        if key not in _cache:
            try:
                _cache[key] = parse_calibration(path.read_bytes())
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CalibrationMissingError(
                    f"The score calibration {path} is missing or damaged ({exc}).",
                    "Reinstall SkinGorithm (the model files are incomplete).") from exc
        return _cache[key]
