"""Saving a scan: what of a ``ScanResult`` is kept, in one place for the Scan page and the CLI.

A stored scan keeps the scores, the raw measurements (``metrics``, which carry ``view`` and
``scored_by``, so old scans can be re-scored), the model version, the person's note and, when they
chose to keep it, the small aligned face picture with the concern masks. Never the original photo,
the probabilities or the timings. Storage checks every value (note length, view, scores) and raises
``ValueError`` or ``DatabaseError`` with a message for the person.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from skin_app.concerns import SCORED
from skin_app.scan.pictures import crop_to_png, masks_to_png
from skin_app.scan.results import ScanResult
from skin_app.storage import Storage


def scan_row(result: ScanResult, taken_at: str | datetime, note: str = "", keep_picture: bool = True,
             visit: str | None = None) -> dict[str, Any]:
    """The stored form of ``result``: ``Storage.add_scan``'s keyword arguments."""
    return dict(taken_at=taken_at, scores=result.scores, metrics=result.metrics, model_version=result.model_version,
                note=note, view=result.view, visit=visit,
                crop_png=crop_to_png(result.crop) if keep_picture else None,
                masks_png=masks_to_png({c: result.masks[c] for c in SCORED if c in result.masks}) if keep_picture else None)


def save_scans(db: Storage, profile_id: int, results: list[ScanResult], taken_at: str | datetime, note: str = "",
               keep_picture: bool = True) -> list[int]:
    """Stores the results in one transaction (all or none) and returns their ids. Several results are
    one visit (a full check: front, left and right together) and share a visit id."""
    visit = uuid.uuid4().hex if len(results) > 1 else None
    return db.add_scans(profile_id, [scan_row(r, taken_at, note, keep_picture, visit) for r in results])
