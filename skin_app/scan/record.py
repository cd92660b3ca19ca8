"""A scan as the JSON object ``analyze --json`` prints, and a refused photo as its refusal object.

One place for that shape, so ``analyze --json`` and ``batch`` (which promises the same result for each
photo) cannot drift apart: ``result_record`` for an analysed photo, ``refusal_record`` for one that
could not be analysed, ``analyze_file`` for the whole step (read, analyse, either record).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from skin_app.concerns import CONCERN_LABELS, VIEW_CONCERNS, VIEW_SCORED
from skin_app.errors import UserFacingError
from skin_app.scan.calibration import overall_note, scan_words
from skin_app.scan.results import ScanResult

log = logging.getLogger("skingorithm.cli")


def result_record(photo: str, result: ScanResult, scan_id: int | None = None) -> dict[str, Any]:
    """An analysed photo: scores, their words, the raw metrics, the model version, non-blocking advice."""
    words = {k: w.word for k, w in scan_words(result.scores).items()}     # the Scan page's words and Overall rule
    note = overall_note(result.scores, VIEW_CONCERNS[result.view], CONCERN_LABELS)
    return {
        "photo": photo, "scores": result.scores,
        "not_measured": [k for k in VIEW_SCORED[result.view] if k not in result.scores],
        "words": words, **({"overall_note": note} if note else {}),
        "metrics": result.metrics, "acne": result.acne, "model_version": result.model_version,
        "advice": [{"code": i.code, "message": i.message, "advice": i.advice} for i in result.quality.issues],
        "timings_ms": result.timings_ms, **({"scan_id": scan_id} if scan_id is not None else {}),
    }


def refusal(exc: BaseException) -> tuple[str, str, str]:
    """(reason, advice, code) of a photo that could not be analysed: a person's error in its own words,
    an OS error by its description, anything else as "could not be analysed" (callers log its traceback
    at debug level when ``expected(exc)`` is false)."""
    reason = getattr(exc, "message", None) or (f"{exc.strerror}" if isinstance(exc, OSError) and exc.strerror
                                               else f"could not be analysed ({type(exc).__name__})")
    code = getattr(exc, "code", "unreadable" if isinstance(exc, OSError) else "failed")
    return reason, getattr(exc, "advice", ""), code


def expected(exc: BaseException) -> bool:
    """A refusal a person can act on (a bad photo, an unreadable file), not a programming error."""
    return isinstance(exc, (UserFacingError, OSError))


def refusal_record(photo: str, exc: BaseException) -> dict[str, Any]:
    reason, advice, code = refusal(exc)
    return {"photo": photo, "error": reason, "advice": advice, "code": code}


def analyze_file(photo: str, seg, view: str, path: str | Path | None = None) -> dict[str, Any]:
    """The record of one photo file: ``result_record`` or, when it cannot be analysed, ``refusal_record``
    (never raises for a bad photo). ``path``: where to read it when ``photo`` (the name the record
    carries) is relative to another folder."""
    from skin_app.scan.analysis import analyze
    from skin_app.scan.imaging import read_photo_file
    try:
        result = analyze(read_photo_file(path if path is not None else photo), seg, view=view)
    except Exception as exc:  # one photo's failure never stops a batch
        if not expected(exc):
            log.debug("analysis failed", exc_info=True)
        return refusal_record(photo, exc)
    return result_record(photo, result)


def json_default(o):
    """numpy scalars in a record as plain JSON numbers and booleans."""
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    raise TypeError(type(o))


def dumps(record: dict[str, Any]) -> str:
    """One record as the one line ``analyze --json`` prints."""
    return json.dumps(record, default=json_default)
