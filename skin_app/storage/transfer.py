"""A profile's rows, table by table, out of the database and back in (the file formats live in
skin_app/history/export.py). An import adds everything in one transaction, or nothing.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from skin_app.errors import InvalidRecordError
from skin_app.limits import PROFILE_NAME_MAX
from skin_app.storage.db import Database, utc_now
from skin_app.storage.profiles import write_profile
from skin_app.storage.routines import write_mark, write_routine, write_step
from skin_app.storage.scans import _scan_columns, _scan_key, _scored_by, list_scans, normalise_timestamp, write_scan
from skin_app.storage.shelf import shelf_rows, write_shelf_product


@dataclass(frozen=True)
class ImportSummary:
    """What an import added to which profile, and what it skipped as already there."""
    profile_id: int
    profile_name: str
    created_profile: bool
    scans_added: int = 0
    scans_skipped: int = 0
    shelf_added: int = 0
    shelf_skipped: int = 0
    routines_added: int = 0
    routines_skipped: int = 0
    marks_added: int = 0


def export_profile_tables(db: Database, profile_id: int, include_pictures: bool = True) -> dict[str, list[dict]]:
    """Every row that belongs to the profile, table by table, with the file-local ids that link them."""
    tables: dict[str, list[dict]] = {}
    tables["scans"] = [
        {"id": s.id, "taken_at": s.taken_at, "note": s.note, "scores": s.scores, "metrics": s.metrics,
         "model_version": s.model_version, "crop_png": s.crop_png if include_pictures else None,
         "masks_png": s.masks_png if include_pictures else None, "view": s.view, "visit": s.visit,
         "scored_by": s.scored_by}
        for s in list_scans(db, profile_id)]
    tables["shelf_products"] = [
        {"id": p.id, "name": p.name, "ingredients_text": p.ingredients_text, "inci": p.inci,
         "actives": p.actives, "created_at": p.created_at}
        for p in shelf_rows(db, profile_id)]
    tables["routines"] = [dict(r) for r in db.query(
        "SELECT id, name, kind, time_of_day, timezone, start_date, end_date, weekdays, interval_days, "
        "alert_minutes, created_at, updated_at FROM routines WHERE profile_id = ? ORDER BY id", (profile_id,))]
    tables["routine_steps"] = [dict(r) for r in db.query(
        "SELECT s.id, s.routine_id, s.position, s.text, s.product_name, s.product_id FROM routine_steps s "
        "JOIN routines r ON r.id = s.routine_id WHERE r.profile_id = ? ORDER BY s.routine_id, s.position, s.id",
        (profile_id,))]
    tables["routine_log"] = [dict(r) for r in db.query(
        "SELECT l.routine_id, l.occurrence_date, l.status, l.logged_at FROM routine_log l "
        "JOIN routines r ON r.id = l.routine_id WHERE r.profile_id = ? ORDER BY 1, 2", (profile_id,))]
    tables["routine_step_log"] = [dict(r) for r in db.query(
        "SELECT l.step_id, l.occurrence_date, l.status, l.logged_at FROM routine_step_log l "
        "JOIN routine_steps s ON s.id = l.step_id JOIN routines r ON r.id = s.routine_id "
        "WHERE r.profile_id = ? ORDER BY 1, 2", (profile_id,))]
    return tables


def import_profile_tables(db: Database, tables: dict[str, list[dict]], *, profile_name: str,
                          into_profile_id: int | None = None,
                          profile_created_at: str | None = None) -> ImportSummary:
    """Adds exported rows in one transaction: all of it or, on any problem, nothing.

    Into ``into_profile_id`` when given (rows already there are skipped: a scan with the same time,
    model and scores; a shelf product with the same name and list; a routine with the same name and
    creation time), else into a new profile called ``profile_name`` (made unique). Ids in the rows
    are local to the file and only link rows to each other; new ids are assigned."""
    with db.transaction() as conn:
        try:
            return _import_rows(conn, tables, profile_name, into_profile_id, profile_created_at)
        except (sqlite3.IntegrityError, OverflowError) as exc:
            raise InvalidRecordError(f"The file holds a record the database refuses ({str(exc)[:120]}); "
                             "nothing was imported.") from exc


def _import_rows(conn: sqlite3.Connection, tables: dict[str, list[dict]], profile_name: str,
                 into_profile_id: int | None, profile_created_at: str | None) -> ImportSummary:
    created = into_profile_id is None
    if created:
        base = " ".join((profile_name or "Imported").split())[:PROFILE_NAME_MAX].rstrip() or "Imported"
        taken = {r[0].lower() for r in conn.execute("SELECT name FROM profiles")}
        name, n = base, 2
        while name.lower() in taken:      # "Name (2)": the base shortened so the whole stays within the limit
            suffix = f" ({n})"
            name, n = base[:PROFILE_NAME_MAX - len(suffix)].rstrip() + suffix, n + 1
        pid = write_profile(conn, name, profile_created_at or utc_now())
    else:
        row = conn.execute("SELECT id, name FROM profiles WHERE id = ?", (into_profile_id,)).fetchone()
        if row is None:
            raise InvalidRecordError("That profile no longer exists (it was deleted, perhaps in another tab).")
        pid, name = int(row[0]), row[1]
    counts = dict.fromkeys(("scans_added", "scans_skipped", "shelf_added", "shelf_skipped",
                            "routines_added", "routines_skipped", "marks_added"), 0)

    have_scans = {_scan_key(r["taken_at"], r["view"], r["model_version"], json.loads(r["scores_json"]))
                  for r in conn.execute("SELECT taken_at, view, model_version, scores_json FROM scans "
                                        "WHERE profile_id = ?", (pid,))}
    for s in tables.get("scans", []):
        taken_at = normalise_timestamp(s["taken_at"])
        key = _scan_key(taken_at, s.get("view") or "front", s["model_version"], s["scores"])
        if key in have_scans:
            counts["scans_skipped"] += 1
            continue
        have_scans.add(key)
        write_scan(conn, (pid, *_scan_columns(
            taken_at, s.get("note"), s["scores"], s.get("metrics") or {}, s["model_version"], s.get("crop_png"),
            s.get("masks_png"), s.get("view") or "front", s.get("visit"),
            s["scored_by"] if s.get("scored_by") is not None else _scored_by(s.get("metrics"), "seed"))))
        counts["scans_added"] += 1

    shelf_ids: dict[int, int] = {}
    have_shelf = {(r[1], r[2]): int(r[0]) for r in conn.execute(
        "SELECT id, name, ingredients_text FROM shelf_products WHERE profile_id = ?", (pid,))}
    for p in tables.get("shelf_products", []):
        key = (p["name"], p["ingredients_text"])
        if key in have_shelf:
            shelf_ids[p["id"]] = have_shelf[key]
            counts["shelf_skipped"] += 1
            continue
        shelf_ids[p["id"]] = have_shelf[key] = write_shelf_product(
            conn, pid, p["name"], p["ingredients_text"], p.get("inci") or [], p.get("actives") or {},
            p.get("created_at") or utc_now())
        counts["shelf_added"] += 1

    routine_ids: dict[int, int] = {}
    have_routines = {(r[0], r[1]) for r in conn.execute(
        "SELECT name, created_at FROM routines WHERE profile_id = ?", (pid,))}
    for r in tables.get("routines", []):
        if (r["name"], r["created_at"]) in have_routines:
            counts["routines_skipped"] += 1
            continue
        columns = (r["name"], r["kind"], r["time_of_day"], r["timezone"], r["start_date"], r.get("end_date"),
                   r.get("weekdays") or "", int(r.get("interval_days") or 1), int(r.get("alert_minutes") or 0))
        routine_ids[r["id"]] = write_routine(conn, pid, columns, r["created_at"], r.get("updated_at") or r["created_at"])
        have_routines.add((r["name"], r["created_at"]))
        counts["routines_added"] += 1
    step_ids: dict[int, int] = {}
    for st_ in tables.get("routine_steps", []):
        if st_["routine_id"] not in routine_ids:
            continue                                   # its routine was already there
        product_id = st_.get("product_id")
        step_ids[st_["id"]] = write_step(conn, routine_ids[st_["routine_id"]], int(st_["position"]), st_["text"],
                                         st_.get("product_name"),
                                         shelf_ids.get(product_id) if product_id is not None else None)
    for m in tables.get("routine_log", []):
        if m["routine_id"] in routine_ids:
            write_mark(conn, routine_ids[m["routine_id"]], m["occurrence_date"], m["status"], m["logged_at"],
                       of_step=False)
            counts["marks_added"] += 1
    for m in tables.get("routine_step_log", []):
        if m["step_id"] in step_ids:
            write_mark(conn, step_ids[m["step_id"]], m["occurrence_date"], m["status"], m["logged_at"], of_step=True)
            counts["marks_added"] += 1
    return ImportSummary(pid, name, created, **counts)
