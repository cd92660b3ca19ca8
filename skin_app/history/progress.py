"""Progress over time: the noise band and what counts as a real change between two scans.

Two photos of the same face taken minutes apart do not give identical scores (light, angle, the
model). That spread is the *noise band*: a change smaller than it is not called progress. The band is
measured by the engine work and written to ``models/noise_band.json`` as score points per key
(``{"acne": 1.2, ..., "overall": 0.8}``). Until a measurement exists, ``DEFAULT_NOISE_BAND`` is used
and the page says so.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skin_app.concerns import CONCERN_LABELS, CONCERNS, SCORED, VIEWS
from skin_app.config import settings
from skin_app.scan.segmentation import check_made_for

# Every score a scan may hold, in display order.
SCORE_KEYS: tuple[str, ...] = ("overall", *SCORED)
# The scores every scan has held since the first version (redness came later: older scans and
# exports have none, and show it as not measured).
BASE_SCORE_KEYS: tuple[str, ...] = ("overall", *CONCERNS)
# None: the measurement beside the weights (config.Settings.noise_band); a path here overrides it.
NOISE_BAND_PATH: Path | None = None
# Fallback, in score points, used only when no measurement has been shipped: a deliberately cautious
# guess (a change of 5 points or less is not treated as real) rather than a measured value.
DEFAULT_NOISE_BAND: dict[str, float] = {key: 5.0 for key in SCORE_KEYS}
# A change beyond the band between photos taken in different light, distance or pose (conditions.py).
DIFFERENT_CONDITIONS = "different conditions"


@dataclass(frozen=True)
class NoiseBand:
    points: dict[str, float]        # SCORE_KEYS -> +/- score points of same-face, minutes-apart spread
    measured: bool                  # False: DEFAULT_NOISE_BAND (no measurement shipped)
    source: str                     # where the numbers came from, for the page
    method: str = ""                # how they were measured, as the measurement file says

    def __getitem__(self, key: str) -> float:
        return self.points.get(key, DEFAULT_NOISE_BAND.get(key, 5.0))


def load_noise_band(path: str | Path | None = None, weights: str | Path | None = None) -> NoiseBand:
    """The measured band from ``models/noise_band.json`` if present and valid, else the default.
    Keys the file lacks fall back to the default one by one. The band beside the installed weights
    (``path`` None), or any band given the ``weights`` file it must belong to, is refused
    (``segmentation.ModelBundleError``) when it was measured for other weights."""
    if path is None and NOISE_BAND_PATH is None:
        weights = settings().model
    path = Path(path) if path is not None else NOISE_BAND_PATH or settings().noise_band
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return NoiseBand(dict(DEFAULT_NOISE_BAND), False, "a default estimate (no measurement is installed)")
    if not isinstance(raw, dict):
        return NoiseBand(dict(DEFAULT_NOISE_BAND), False, "a default estimate (the installed measurement is unreadable)")
    if weights is not None and Path(weights).exists():       # without weights nothing is scored anyway
        check_made_for(path, raw, weights)
    points, found = dict(DEFAULT_NOISE_BAND), 0
    for key in SCORE_KEYS:
        value = raw.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 50:
            points[key] = float(value)
            found += 1
    if not found:
        return NoiseBand(points, False, "a default estimate (the installed measurement holds no usable values)")
    method = raw.get("method")
    method = method if isinstance(method, str) else ""
    return NoiseBand(points, True, "measured on simulated re-shots of validation faces (a little zoom, shift, rotation, exposure, white balance, JPEG)", " ".join(method.split())[:2000])


@dataclass(frozen=True)
class Change:
    key: str
    label: str
    before: float
    after: float
    delta: float                    # after - before (positive: better, scores are higher-is-better)
    band: float
    verdict: str                    # "better", "worse", "within noise" or DIFFERENT_CONDITIONS
    conditions: tuple[str, ...] = ()    # how the later scan was taken differently (conditions.differences)

    @property
    def arrow(self) -> str:
        return {"better": "▲", "worse": "▼", DIFFERENT_CONDITIONS: "≠"}.get(self.verdict, "≈")

    @property
    def real(self) -> bool:
        return self.verdict in ("better", "worse")

    def describe(self) -> str:
        if self.verdict == DIFFERENT_CONDITIONS:
            return (f"{self.label}: {self.before:.0f} → {self.after:.0f} ({self.delta:+.1f}), but the photos were "
                    f"taken in different conditions ({', '.join(self.conditions)}), so not counted as a change")
        if not self.real:
            return (f"{self.label}: {self.before:.0f} → {self.after:.0f} ({self.delta:+.1f}), within the "
                    f"±{self.band:.1f} noise band, so not a real change")
        return (f"{self.label}: {self.before:.0f} → {self.after:.0f} ({self.delta:+.1f}) {self.arrow} "
                f"{self.verdict}, beyond the ±{self.band:.1f} noise band")


def verdict_of(delta: float, width: float, conditions: Sequence[str] = ()) -> str:
    """A change larger than the noise band is "better" or "worse", unless the photos were taken in
    different conditions: the band does not cover those, so the change is not counted."""
    if abs(delta) <= width:
        return "within noise"
    if conditions:
        return DIFFERENT_CONDITIONS
    return "better" if delta > 0 else "worse"


def not_measured(before: Mapping[str, float], after: Mapping[str, float],
                 keys: tuple[str, ...] = SCORE_KEYS) -> list[str]:
    """Labels of the scores one of two scans holds and the other does not (e.g. redness on a scan
    stored before it existed): said as "not measured", never compared against a made-up value."""
    return [CONCERN_LABELS.get(k, k) for k in keys if (k in before) != (k in after)]


def compare_scores(before: Mapping[str, float], after: Mapping[str, float], band: NoiseBand,
                   keys: tuple[str, ...] = SCORE_KEYS, conditions: Sequence[str] = ()) -> list[Change]:
    """One :class:`Change` per key both scans have. A change counts only when it is larger than the band
    and the two photos were taken in comparable conditions (``conditions``: how they differed, from
    ``conditions.differences``; empty when comparable)."""
    changes = []
    for key in keys:
        if key not in before or key not in after:
            continue
        b, a = float(before[key]), float(after[key])
        delta, width = a - b, band[key]
        changes.append(Change(key, CONCERN_LABELS.get(key, key), b, a, delta, width,
                              verdict_of(delta, width, conditions), tuple(conditions)))
    return changes


def visits(scans: Sequence[Any]) -> list[list[Any]]:
    """The full checks among ``scans`` (stored scans, any order): the scans of each visit in the order of
    ``concerns.VIEWS``, visits oldest first. Scans outside a visit are left out."""
    groups: dict[str, list[Any]] = {}
    for scan in scans:
        if scan.visit:
            groups.setdefault(scan.visit, []).append(scan)
    order = {v: i for i, v in enumerate(VIEWS)}
    out = [sorted(g, key=lambda s: order.get(s.view, len(order))) for g in groups.values()]
    return sorted(out, key=lambda g: min(s.taken_at for s in g))


def acne_counts(scans: Sequence[Any]) -> list[tuple[Any, int, int, int]]:
    """(taken_at, lesions, low, high) of each scan whose measurements hold a lesion count, the range
    read as today's calibration reads it (``calibration.acne_reading``)."""
    from skin_app.scan.calibration import load_calibration
    cal = load_calibration()
    out = []
    for s in scans:
        reading = cal.acne_reading(s.metrics or {})
        if reading is not None:
            out.append((s.taken_at, reading["lesions"], *reading["range"]))
    return out
