"""The ``scans`` table: stored scores, measurements and pictures, and re-scoring under a new calibration."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from skin_app.concerns import VIEWS
from skin_app.errors import InvalidRecordError
from skin_app.limits import MODEL_VERSION_MAX, NOTE_MAX
from skin_app.storage.db import Database, new_id
from skin_app.values import check_json_value, check_text, text_problem, time_problem

# ``scored_by`` of a scan that could not be re-scored under a calibration (measurements missing).
UNSCORABLE_PREFIX = "unscorable:"


@dataclass(frozen=True)
class StoredScan:
    id: int
    profile_id: int
    taken_at: str
    note: str
    scores: dict[str, float]
    metrics: dict[str, Any]
    model_version: str
    crop_png: bytes | None
    masks_png: bytes | None = None        # RGBA PNG, one concern mask per channel (pictures.py)
    scored_by: str = "seed"               # the score calibration of ``scores`` (migration 5; '' = not recorded)
    view: str = "front"                   # concerns.VIEWS: each view is its own history line
    visit: str | None = None              # shared by the scans of one "full check"

    @property
    def rescore_failed(self) -> bool:
        return self.scored_by.startswith(UNSCORABLE_PREFIX)

    @property
    def has_picture(self) -> bool:
        return self.crop_png is not None


def add_scan(db: Database, profile_id: int, *, taken_at: str | datetime, scores: dict[str, float],
             metrics: dict[str, Any], model_version: str, note: str = "", crop_png: bytes | None = None,
             masks_png: bytes | None = None, view: str = "front", visit: str | None = None) -> int:
    """Stores one scan. ``taken_at`` is kept as UTC ISO text (naive values are taken as UTC) so
    scans sort by time; pictures are stored only when given (the page honours the profile's choice).
    ``view``: which view the photo was (concerns.VIEWS); ``visit``: the full check it belongs to."""
    row = (profile_id, *_scan_columns(taken_at, note, scores, metrics, model_version, crop_png, masks_png,
                                      view, visit, _scored_by(metrics, "")))
    with db.transaction() as conn:
        return write_scan(conn, row)


def add_scans(db: Database, profile_id: int, scans: list[dict[str, Any]]) -> list[int]:
    """Stores several scans (e.g. a full check's three views) in one transaction: all or none.
    Each dict holds ``add_scan``'s keyword arguments."""
    rows = [(profile_id, *_scan_columns(s["taken_at"], s.get("note"), s["scores"], s["metrics"],
                                        s["model_version"], s.get("crop_png"), s.get("masks_png"),
                                        s.get("view", "front"), s.get("visit"), _scored_by(s["metrics"], "")))
            for s in scans]
    with db.transaction() as conn:
        return [write_scan(conn, row) for row in rows]


def rescore_scans(db: Database, calibration_version: str,
                  rescore: Callable[[dict[str, Any]], dict[str, float] | None]) -> tuple[int, int]:
    """Re-scores every scan whose scores came from another calibration, from its stored raw
    measurements (``rescore(metrics) -> scores``, None when they do not allow it). Scans stored
    with the seed's scores keep them as ``metrics["seed_scores"]``; a scan that cannot be re-scored
    keeps its scores and is marked ``unscorable:<version>`` so pages show it apart. Returns
    (re-scored, could not). One transaction: a failure leaves every scan as it was."""
    done = failed = 0
    mark = UNSCORABLE_PREFIX + calibration_version
    with db.transaction() as conn:
        rows = conn.execute("SELECT id, scores_json, metrics_json, scored_by FROM scans WHERE scored_by "
                            "NOT IN ('', ?, ?)", (calibration_version, mark)).fetchall()
        for r in rows:
            try:     # a stored scan is untrusted (an older version imported files unchecked): check it first
                metrics = check_json_value(json.loads(r["metrics_json"]), "measurements")
                old_scores = json.loads(r["scores_json"])
                new_scores = rescore(metrics) if isinstance(metrics, dict) else None
                new_scores = _check_scores(new_scores) if new_scores else None
            except (ValueError, TypeError, ArithmeticError, KeyError, IndexError, AttributeError, RecursionError):
                new_scores = None                     # one bad scan is marked; the others are re-scored
            if new_scores is None:
                conn.execute("UPDATE scans SET scored_by = ? WHERE id = ?", (mark, r["id"]))
                failed += 1
                continue
            if r["scored_by"] == "seed" and isinstance(old_scores, dict):
                metrics.setdefault("seed_scores", old_scores)
            metrics["rescored_from"] = r["scored_by"]
            metrics["scored_by"] = calibration_version
            conn.execute("UPDATE scans SET scores_json = ?, metrics_json = ?, scored_by = ? WHERE id = ?",
                         (json.dumps(new_scores), json.dumps(metrics), calibration_version, r["id"]))
            done += 1
    return done, failed


def list_scans(db: Database, profile_id: int, view: str | None = None) -> list[StoredScan]:
    """The profile's scans in time order; with ``view``, only that view's (one history line)."""
    if view is None:
        rows = db.query("SELECT * FROM scans WHERE profile_id = ? ORDER BY taken_at, id", (profile_id,))
    else:
        rows = db.query("SELECT * FROM scans WHERE profile_id = ? AND view = ? ORDER BY taken_at, id",
                           (profile_id, view))
    return [_scan_from_row(r) for r in rows]


def scan_views(db: Database, profile_id: int) -> dict[str, int]:
    """How many scans the profile has of each view."""
    return {r[0]: int(r[1]) for r in db.query(
        "SELECT view, COUNT(*) FROM scans WHERE profile_id = ? GROUP BY view", (profile_id,))}


def get_scan(db: Database, scan_id: int, profile_id: int | None = None) -> StoredScan | None:
    """One scan; with ``profile_id``, only if it belongs to that profile."""
    rows = db.query("SELECT * FROM scans WHERE id = ?", (scan_id,))
    if not rows or (profile_id is not None and rows[0]["profile_id"] != profile_id):
        return None
    return _scan_from_row(rows[0])


def latest_scan(db: Database, profile_id: int, view: str = "front") -> StoredScan | None:
    """The profile's latest scan of ``view``: front by default, the one view that scores every concern."""
    found = latest_scans(db, profile_id, view, 1)
    return found[0] if found else None


def latest_scans(db: Database, profile_id: int, view: str, n: int, scorable_only: bool = False) -> list[StoredScan]:
    """The profile's ``n`` latest scans of ``view``, oldest first (``scorable_only``: leaving out scans
    that could not be re-scored), read without the rest of the history and its pictures."""
    rows = db.query("SELECT * FROM scans WHERE profile_id = ? AND view = ? "
                    "AND (? = 0 OR substr(scored_by, 1, length(?)) != ?) ORDER BY taken_at DESC, id DESC LIMIT ?",
                    (profile_id, view, int(scorable_only), UNSCORABLE_PREFIX, UNSCORABLE_PREFIX, n))
    return [_scan_from_row(r) for r in reversed(rows)]


def delete_scan(db: Database, scan_id: int, profile_id: int | None = None) -> bool:
    """Deletes one scan (with ``profile_id``: only if it is that profile's); True if one was deleted.
    The file is rewritten so the deleted picture is not left behind in free pages."""
    def work(conn: sqlite3.Connection) -> bool:
        if profile_id is None:
            return conn.execute("DELETE FROM scans WHERE id = ?", (scan_id,)).rowcount > 0
        return conn.execute("DELETE FROM scans WHERE id = ? AND profile_id = ?", (scan_id, profile_id)).rowcount > 0
    return db.delete(work)


def delete_scans(db: Database, scan_ids: Iterable[int], *, profile_id: int) -> int:
    """Deletes several scans of ``profile_id`` in one transaction: all of them, or, when one is not that
    profile's (or anything fails), none (``InvalidRecordError`` names the missing ids). Returns how many."""
    wanted = list(dict.fromkeys(int(i) for i in scan_ids))

    def work(conn: sqlite3.Connection) -> int:
        have = {r[0] for r in conn.execute(
            f"SELECT id FROM scans WHERE profile_id = ? AND id IN ({','.join('?' * len(wanted))})",
            (profile_id, *wanted))}
        missing = [i for i in wanted if i not in have]
        if missing:
            raise InvalidRecordError(f"There is no scan with id {', '.join(map(str, missing))} in this profile; "
                                     "nothing was deleted.")
        for scan_id in wanted:
            conn.execute("DELETE FROM scans WHERE id = ? AND profile_id = ?", (scan_id, profile_id))
        return len(wanted)
    return db.delete(work) if wanted else 0


def update_scan_measurements(db: Database, scan_id: int, profile_id: int, *, scores: dict[str, Any],
                             metrics: dict[str, Any], masks_png: bytes | None) -> None:
    """Replaces a stored scan's scores, measurements and masks (a measure read later from its kept picture,
    ``history/remeasure.py``), checked as a new scan's are; the rest of the row stays. Raises
    ``InvalidRecordError`` when the scan is not the profile's (deleted meanwhile, in another tab)."""
    try:
        check_json_value(metrics, "The measurements")
    except ValueError as exc:
        raise InvalidRecordError(f"{exc}.") from None
    checked = json.dumps(_check_scores(scores))
    with db.transaction() as conn:
        changed = conn.execute("UPDATE scans SET scores_json = ?, metrics_json = ?, masks_png = ? "
                               "WHERE id = ? AND profile_id = ?",
                               (checked, json.dumps(metrics), masks_png, scan_id, profile_id)).rowcount
    if not changed:
        raise InvalidRecordError(f"There is no scan with id {scan_id} in this profile; nothing was changed.")


def forget_pictures(db: Database, profile_id: int) -> int:
    """Removes every stored face picture (and mask) of the profile, keeping the scores; returns how many."""
    return db.delete(lambda conn: conn.execute(
        "UPDATE scans SET crop_png = NULL, masks_png = NULL "
        "WHERE profile_id = ? AND (crop_png IS NOT NULL OR masks_png IS NOT NULL)", (profile_id,)).rowcount)


def _scan_from_row(r: sqlite3.Row) -> StoredScan:
    """A stored row as a scan. A row whose scores or measurements are not what storage writes (a damaged
    file, an import an older version let through) is shown as a scan that could not be scored, so one
    bad row never takes a page down."""
    scores, metrics, scored_by = _stored_json(r["scores_json"]), _stored_json(r["metrics_json"]), r["scored_by"]
    try:
        scores = _check_scores(scores)
    except InvalidRecordError:
        scores = None
    if scores is None or not isinstance(metrics, dict):
        scores, metrics, scored_by = {}, metrics if isinstance(metrics, dict) else {}, UNSCORABLE_PREFIX + "damaged"
    return StoredScan(r["id"], r["profile_id"], str(r["taken_at"]), str(r["note"]), scores, metrics,
                      str(r["model_version"]), r["crop_png"], r["masks_png"], str(scored_by), r["view"], r["visit"])


def _stored_json(text: Any) -> Any:
    """A stored JSON column, or None when it is not JSON storage would have written."""
    try:
        return check_json_value(json.loads(text), "stored value")
    except (ValueError, TypeError, RecursionError):
        return None


def write_scan(conn: sqlite3.Connection, row: tuple) -> int:
    """The one INSERT into ``scans`` (new scan, full check, import): ``row`` is the profile id followed by
    :func:`_scan_columns`' checked values. Returns the new id."""
    return new_id(conn.execute(
        "INSERT INTO scans(profile_id, taken_at, note, scores_json, metrics_json, model_version, crop_png, "
        "masks_png, view, visit, scored_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row))


def _scan_columns(taken_at: str | datetime, note: str | None, scores: dict[str, Any], metrics: dict[str, Any],
                  model_version: str, crop_png: bytes | None, masks_png: bytes | None, view: str,
                  visit: str | None, scored_by: str = "") -> tuple:
    """One scan's column values after the profile id, checked (the same for a new scan and an import)."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise InvalidRecordError(f"A note can be at most {NOTE_MAX:,} characters.")
    if view not in VIEWS:
        raise InvalidRecordError(f"{str(view)[:20]!r} is not a view (one of {', '.join(VIEWS)}).")
    if visit is not None and (not isinstance(visit, str) or not 0 < len(visit) <= 64):
        raise InvalidRecordError("A visit id must be short text.")
    for text, limit, what in ((model_version, MODEL_VERSION_MAX, "The model version"),
                              (scored_by, MODEL_VERSION_MAX, "The calibration version")):
        if not isinstance(text, str) or len(text) > limit:
            raise InvalidRecordError(f"{what} must be text of at most {limit} characters.")
    try:
        check_text(note, "The note", multiline=True)
        for text, what in ((model_version, "The model version"), (scored_by, "The calibration version"),
                           (visit or "", "The visit id")):
            check_text(text, what)
        if not isinstance(metrics, dict):
            raise ValueError("The measurements must be an object")
        check_json_value(metrics, "The measurements")
    except ValueError as exc:
        raise InvalidRecordError(f"{exc}.") from None
    return (normalise_timestamp(taken_at), note, json.dumps(_check_scores(scores)), json.dumps(metrics),
            model_version, crop_png, masks_png, view, visit, scored_by)


def _scored_by(metrics: Any, default: str) -> str:
    """The calibration a scan's scores came from, as its metrics say; ``default`` when they do not
    ('' for a new scan: left as stored; 'seed' for an import: exports before migration 5 held seed scores)."""
    value = metrics.get("scored_by") if isinstance(metrics, dict) else None
    return value if isinstance(value, str) and value else default


def normalise_timestamp(value: str | datetime) -> str:
    """UTC ISO text to the second ("2025-03-01T08:00:00+00:00"); naive values are taken as UTC.
    One format for every stored time, so text order is time order."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip()[:64].replace("Z", "+00:00"))
        except ValueError:
            raise InvalidRecordError(f"{value[:40]!r} is not a date and time (expected e.g. 2025-03-01T08:00:00+00:00).") from None
        value = parsed
    if not isinstance(value, datetime):
        raise InvalidRecordError("A scan needs a date and time.")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        value = value.astimezone(timezone.utc)
    except OverflowError:                 # year 1 east of UTC, year 9999 west of it
        raise InvalidRecordError(f"{value.isoformat()[:40]} is outside the range of dates this app stores.") from None
    problem = time_problem(value)
    if problem:
        raise InvalidRecordError(f"{problem}.")
    return value.isoformat(timespec="seconds")


def _check_scores(scores: dict[str, Any]) -> dict[str, float]:
    if not isinstance(scores, dict) or not scores:
        raise InvalidRecordError("A scan needs its scores.")
    out = {}
    for key, value in scores.items():
        if not isinstance(key, str) or text_problem(key, "a score's name") or len(key) > 40:
            raise InvalidRecordError(f"{str(key)[:40]!r} is not the name of a score.")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidRecordError(f"The score {key!r} is not a number ({value!r}).") from None
        if not 0.0 <= number <= 100.0:          # also refuses NaN
            raise InvalidRecordError(f"The score {key!r} must be between 0 and 100, not {value!r}.")
        out[str(key)] = number
    return out


def _scan_key(taken_at: str, view: str, model_version: str, scores: dict[str, Any]) -> tuple:
    """What makes an imported scan "already there": the views of one full check share their time (and
    may share their scores), so the view is part of it."""
    return (taken_at, view, model_version, tuple(sorted((k, round(float(v), 4)) for k, v in scores.items())))
