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

Overall (``overall_of``) is the mean of the concern scores a view scores (they share a scale, so each
weighs alike), but never more than ``OVERALL_LEAD`` (15) points above the worst of them: a concern
that needs care (below 50), or is within about a noise band of it (below 55), keeps Overall below 70,
so Overall reads "good" only when every concern is at least "fair". A plain mean hid the one concern
that matters (young faces score 100 on wrinkles and dark circles, so a cheek with acne 49 read
Overall 70). ``bench/honest_scores.py`` counts it on ACNE04 side views and validation faces.
Redness (``concerns.COLOUR_CONCERNS``) has its own curve and words but stays out of Overall: scans
stored before it existed have no redness, and an Overall that took it in would move between old and
new scans with nothing on the skin changed.
"""
from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skin_app.concerns import ACNE_GRADES, COLOUR_CONCERNS, CONCERNS, VIEW_CONCERNS
from skin_app.config import settings
from skin_app.errors import UserFacingError

WORDS: tuple[str, ...] = ("good", "fair", "needs care")
WORD_BANDS: tuple[float, float] = (70.0, 50.0)     # good from 70, fair from 50, needs care below 50
OVERALL = "overall"
# Overall is at most this many points above the worst concern: the width of the "fair" band (20) less
# about one re-shot noise band (the concerns' bands are 2.7-6.7 points), so a concern that needs care,
# or could on a re-shot (below 55), keeps Overall below 70 ("good"). With 20, one of 18 ACNE04 grade 2-3
# validation side views (acne 53, "fair") read Overall "good"; with 15 none does, and 45 of 46 grade 0
# ones still do (bench/README.md, "Honest scores").
OVERALL_LEAD: float = WORD_BANDS[0] - WORD_BANDS[1] - 5.0
# Which Overall rule stored scans were scored by (part of ``Calibration.scored_by``): changing the rule
# re-scores stored scans from their measurements, as a new calibration file does.
OVERALL_RULE = "overall-capped-15"


def overall_of(scores: Mapping[str, float], concerns: Iterable[str]) -> float:
    """Overall from the concern scores: their mean, never more than OVERALL_LEAD above the worst."""
    values = [float(scores[c]) for c in concerns]
    return round(min(float(np.mean(values)), min(values) + OVERALL_LEAD), 1)


def grade_probabilities(latent: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """P(grade = k), k = 0..len(cuts), of an ordinal (proportional-odds) model: P(grade > k) =
    sigmoid(latent - cut_k). The acne grade model is fitted with it (training/grade_model.py)."""
    latent = np.atleast_1d(np.asarray(latent, float))
    above = 0.5 * (1.0 + np.tanh(0.5 * (latent[:, None] - np.asarray(cuts, float)[None, :])))
    cum = np.concatenate([np.ones((len(latent), 1)), above, np.zeros((len(latent), 1))], 1)
    return np.clip(cum[:, :-1] - cum[:, 1:], 0.0, 1.0)


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


@dataclass(frozen=True)
class Word:
    """The word a score reads, and why when it is not simply the band the score falls in."""
    word: str
    why: str = ""          # "" when the word is the score's own band


def _edge(word: str, score: float) -> float:
    """The band edge between ``word``'s band and the band ``score`` falls in."""
    good, fair = WORD_BANDS
    if word == "fair":
        return good if score >= good else fair
    return good if word == "good" else fair


def scan_words(scores: Mapping[str, float], previous: Mapping[str, str] | None = None,
               bands: Mapping[str, float] | None = None) -> dict[str, Word]:
    """The words of one scan's scores, each with why it is not the score's own band: a word kept from
    the person's last scan of this view (``previous``) while the score is within the noise band
    (``bands``) of the edge, and an Overall never "good" while a concern reads "needs care"."""
    previous, bands = previous or {}, bands or {}
    words: dict[str, Word] = {}
    for key in [k for k in scores if k != OVERALL] + ([OVERALL] if OVERALL in scores else []):
        score, before = float(scores[key]), previous.get(key)
        band = float(bands.get(key, 0.0))
        own, word = word_for(score), word_for(score, before, band)
        why = ""
        if word != own:
            why = (f"still {word}: {score:.0f} is within the noise (±{band:.1f}) of the edge at "
                   f"{_edge(word, score):.0f}, and your last scan of this view read {word}")
        if key == OVERALL and word == "good" and any(w.word == "needs care" for w in words.values()):
            word, why = "fair", "not good while a concern needs care"
        words[key] = Word(word, why)
    return words


def overall_note(scores: Mapping[str, float], concerns: Iterable[str], labels: Mapping[str, str]) -> str:
    """Why Overall is below the mean of the concerns ("" when it is the mean)."""
    present = [c for c in concerns if c in scores]
    if OVERALL not in scores or not present:
        return ""
    mean = float(np.mean([float(scores[c]) for c in present]))
    if float(scores[OVERALL]) >= round(mean, 1) - 0.05:
        return ""
    worst = min(present, key=lambda c: float(scores[c]))
    return (f"Overall is {float(scores[OVERALL]):.0f}, not the mean {mean:.0f}: it is never more than "
            f"{OVERALL_LEAD:.0f} points above the weakest concern, here {labels.get(worst, worst)} "
            f"({float(scores[worst]):.0f}).")


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
    # (measure, offset, weight): sum of weight x log10(value + offset), a fitted model's latent value
    features: tuple[tuple[str, float, float], ...] = ()
    cuts: tuple[float, ...] = ()    # grade boundaries on the raw value (the acne grade model)
    # (key, value) pairs a scan's metrics must hold for the curve to read them: the definition of the
    # measure it was fitted on (``redness.version``); a scan measured under another reads as not measured
    requires: tuple[tuple[str, float], ...] = ()

    def raw(self, metrics: dict) -> float | None:
        """The curve's raw value from a scan's metrics; None when any part is missing or the metrics
        come from another definition of the measure (``requires``)."""
        if any(_lookup(metrics, key) != value for key, value in self.requires):
            return None
        total = 0.0
        if self.features:
            for key, offset, weight in self.features:
                v = _lookup(metrics, key)
                if v is None:
                    return None
                total += weight * math.log10(max(v, 0.0) + offset)
            return total
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
    path: Path | None = None                 # the file it was read from (named when it is refused)

    @property
    def scored_by(self) -> str:
        """What a stored scan's scores depend on besides the model: this file and the Overall rule.
        A scan scored under another is re-scored from its measurements (``rescore_scans``); the
        model version (``analysis.scan_version``) keeps only ``version``, so the concern scores of
        older scans stay comparable."""
        return f"{self.version}-{OVERALL_RULE}"

    def concern_scores(self, metrics: dict, curves: dict[str, ConcernCurve] | None = None) -> dict[str, float]:
        out = {}
        for concern, curve in (curves or self.curves).items():
            value = curve.raw(metrics)
            if value is not None:
                out[concern] = round(curve.score(value), 1)
        return out

    def acne_grade(self, metrics: dict) -> dict | None:
        """The acne grade model's reading of a scan: the most likely grade, the expected grade (0 mild ..
        3 very severe) and each grade's probability; None without the model or its measurements."""
        curve = self.curves.get("acne")
        latent = curve.raw(metrics) if curve is not None and curve.cuts else None
        if curve is None or latent is None:
            return None
        probs = grade_probabilities(np.array([latent]), curve.cuts)[0].tolist()
        grade = sum(latent > c for c in curve.cuts)
        return {"grade": ACNE_GRADES[grade], "grade_index": grade,
                "expected_grade": round(sum(k * p for k, p in enumerate(probs)), 3),
                "probabilities": {g: round(p, 3) for g, p in zip(ACNE_GRADES, probs)}}

    def acne_reading(self, metrics: dict) -> dict | None:
        """What a person reads about acne beside the score: about how many lesions (with the range the
        counter's typical error on the training photos gives) and, where the grade model is there, the
        grade in words. None without a lesion count."""
        count = _lookup(metrics, "acne_lesion_count")
        if count is None:
            return None
        n = int(count)
        ratio = float(((self.info.get("concerns") or {}).get("acne") or {}).get("count_error", 0.0))
        reading: dict = {"lesions": n, "range": [max(0, math.floor(n * (1 - ratio))), math.ceil(n * (1 + ratio))]}
        grade = self.acne_grade(metrics)
        if grade is not None:
            reading.update(grade)
        return reading

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
        kept[OVERALL] = overall_of(kept, needed)
        kept.update({c: scores[c] for c in COLOUR_CONCERNS if c in scores})
        return kept

MEASURE_WORDS: dict[str, str] = {
    "soft_fraction.acne": "share of your face skin marked as acne",
    "soft_fraction.flek": "share of your face skin marked as dark spots",
    "soft_fraction.wrinkle": "share of your face skin marked as wrinkles",
    "under_eye_contrast": "how much darker your under-eye skin is than your cheek (CIELAB lightness L*)",
    "acne_grade_latent": ("acne severity read by the grade model from the share of skin marked and the lesions "
                          "counted (its grade boundaries read 70, 50 and 30)"),
    "dark_circle_index": ("how much darker your under-eye skin is than your cheek (CIELAB lightness L*) plus how "
                          "strongly, on average over the eye area, the model sees dark circles, weighted alike"),
    "redness.share": ("share of your face skin redder than your own skin's usual colour, each part counted by how "
                      "much redder (an erythema index "
                      "corrected for melanin, from the photo's colour)"),
}
# What the calibration file names besides the weights and thresholds it was fitted with
# (``segmentation.MODEL_WEIGHTS``, ``"thresholds"``): the ``scoring.MEASURE_VERSION`` of the
# measurements it was fitted on, since a changed measurement moves every curve's input.
MEASURE_VERSION_KEY = "measure_version"
# Measures that are shares of an area (shown in %).
SHARE_MEASURES: tuple[str, ...] = ("soft_fraction.", "redness.share")


def acne_words(acne: dict | None) -> str:
    """ "about 14 acne lesions (10-18), moderate acne" (the grade only where the grade model is there)."""
    if not acne:
        return "acne lesions not counted"
    lo, hi = acne["range"]
    text = f"about {acne['lesions']} acne lesions ({lo}-{hi})"
    return text + (f", {acne['grade']} acne" if "grade" in acne else "")


def describe(cal: Calibration) -> list[dict]:
    """Per concern: what is measured and which raw value reads 90, 70 and 50 (for pages and the card)."""
    rows = []
    for concern, curve in cal.curves.items():
        percent = curve.measure.startswith(SHARE_MEASURES) and not curve.terms
        at = {str(s): curve.value_at(s) * (100 if percent else 1) for s in (90, 70, 50)}
        rows.append({"concern": concern, "measure": MEASURE_WORDS.get(curve.measure, curve.measure),
                     "unit": "%" if percent else "index" if curve.terms or curve.features else "L*", "at": at,
                     "why": (cal.info.get("why") or {}).get(concern, {})})
    return rows


def with_overall(scores: dict[str, float]) -> dict[str, float]:
    if all(c in scores for c in CONCERNS):
        scores[OVERALL] = overall_of(scores, CONCERNS)
    return scores


def calibration_path() -> Path:
    return settings().calibration


def _curves(spec: dict) -> dict[str, ConcernCurve]:
    return {c: ConcernCurve(measure=s["measure"], transform=s["transform"], offset=float(s.get("offset", 0.0)),
                            knots=tuple((float(x), float(y)) for x, y in s["knots"]),
                            terms=tuple((str(k), float(w)) for k, w in (s.get("terms") or {}).items()),
                            features=tuple((str(f["measure"]), float(f["offset"]), float(f["weight"]))
                                           for f in s.get("features") or ()),
                            cuts=tuple(float(c) for c in s.get("cuts") or ()),
                            requires=tuple((str(k), float(v)) for k, v in (s.get("requires") or {}).items()))
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
                cal = parse_calibration(path.read_bytes())
                cal.path = path
                _cache[key] = cal
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CalibrationMissingError(
                    f"The score calibration {path} is missing or damaged ({exc}).",
                    "Reinstall SkinGorithm (the model files are incomplete).") from exc
        return _cache[key]
