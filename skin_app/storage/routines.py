"""The ``routines``, ``routine_steps``, ``routine_log`` and ``routine_step_log`` tables. Owned by the
reminders feature (skin_app/routines/schedule.py holds the rules; this only stores them).

Ids are AUTOINCREMENT: a deleted routine or step never lends its id (the .ics UID, a mark) to a
new one. A step may name a shelf product by text and id; there is deliberately no foreign key to the
shelf table, so a step stays readable when the product is removed from the shelf.
"""
from __future__ import annotations

import sqlite3
from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING

from skin_app.errors import InvalidRecordError
from skin_app.storage.db import Database, new_id, utc_now

if TYPE_CHECKING:  # the reminders core imports nothing from here; storage only converts its values
    from skin_app.routines.schedule import LogEntry, Routine


def create_routine(db: Database, profile_id: int, routine: Routine) -> Routine:
    """Validates and stores a new routine with its steps; returns it with ids filled in.
    ``routine.created_at`` (aware) is kept when given, so the app's clock decides; else now."""
    from skin_app.routines.schedule import validate
    routine = validate(routine)
    now = utc_now()
    created = now
    if routine.created_at is not None:
        if routine.created_at.utcoffset() is None:
            raise ValueError("created_at must be a time-zone-aware datetime.")
        created = routine.created_at.astimezone(timezone.utc).isoformat(timespec="seconds")
    with db.transaction() as conn:
        routine_id = write_routine(conn, profile_id, _routine_columns(routine), created, now)
        for position, step in enumerate(routine.steps):
            write_step(conn, routine_id, position, step.text, step.product_name, step.product_id)
    stored = get_routine(db, routine_id, profile_id=profile_id)
    assert stored is not None
    return stored


def update_routine(db: Database, routine: Routine, *, profile_id: int) -> Routine:
    """Saves changes to a stored routine of ``profile_id`` (another profile's is "no longer exists").
    Steps keep their ids (and their done/skipped marks) when they are passed back with their ``id``;
    steps without an id are added; missing ones removed."""
    from skin_app.routines.schedule import validate
    if routine.id is None:
        raise InvalidRecordError("This routine has not been saved yet; create it first.")
    routine = validate(routine)
    assert routine.id is not None                  # validate keeps the id
    with db.transaction() as conn:
        cur = conn.execute(
            "UPDATE routines SET name = ?, kind = ?, time_of_day = ?, timezone = ?, start_date = ?, "
            "end_date = ?, weekdays = ?, interval_days = ?, alert_minutes = ?, updated_at = ? "
            "WHERE id = ? AND profile_id = ?",
            (*_routine_columns(routine), utc_now(), routine.id, profile_id),
        )
        if cur.rowcount == 0:
            raise InvalidRecordError(_GONE)
        existing = {r[0] for r in conn.execute(
            "SELECT id FROM routine_steps WHERE routine_id = ?", (routine.id,))}
        kept = {step.id for step in routine.steps if step.id in existing}
        for step_id in existing - kept:
            conn.execute("DELETE FROM routine_steps WHERE id = ?", (step_id,))
        for position, step in enumerate(routine.steps):
            if step.id in kept:
                conn.execute(
                    "UPDATE routine_steps SET position = ?, text = ?, product_name = ?, product_id = ? "
                    "WHERE id = ?", (position, step.text, step.product_name, step.product_id, step.id))
            else:
                write_step(conn, routine.id, position, step.text, step.product_name, step.product_id)
    stored = get_routine(db, routine.id, profile_id=profile_id)
    assert stored is not None
    return stored


def get_routine(db: Database, routine_id: int, *, profile_id: int) -> Routine | None:
    """One routine of ``profile_id``; None when there is none (or it is another profile's)."""
    rows = db.query("SELECT * FROM routines WHERE id = ? AND profile_id = ?", (routine_id, profile_id))
    if not rows:
        return None
    return _routine_from_row(rows[0], db.query(
        "SELECT * FROM routine_steps WHERE routine_id = ? ORDER BY position, id", (routine_id,)))


def list_routines(db: Database, profile_id: int) -> list[Routine]:
    """The profile's routines, ordered by time of day, then name."""
    rows = db.query(
        "SELECT * FROM routines WHERE profile_id = ? ORDER BY time_of_day, name COLLATE NOCASE, id",
        (profile_id,))
    steps: dict[int, list[sqlite3.Row]] = {}
    for s in db.query(
            "SELECT s.* FROM routine_steps s JOIN routines r ON r.id = s.routine_id "
            "WHERE r.profile_id = ? ORDER BY s.routine_id, s.position, s.id", (profile_id,)):
        steps.setdefault(s["routine_id"], []).append(s)
    return [_routine_from_row(r, steps.get(r["id"], [])) for r in rows]


def delete_routine(db: Database, routine_id: int, *, profile_id: int) -> bool:
    """Deletes the routine of ``profile_id``, its steps and its done/skipped log; True if there was one."""
    with db.transaction() as conn:
        return conn.execute("DELETE FROM routines WHERE id = ? AND profile_id = ?",
                            (routine_id, profile_id)).rowcount > 0


_GONE = "This routine no longer exists (it was deleted, perhaps in another tab)."


def _own_routine(conn: sqlite3.Connection, routine_id: int, profile_id: int) -> None:
    if conn.execute("SELECT 1 FROM routines WHERE id = ? AND profile_id = ?", (routine_id, profile_id)).fetchone() is None:
        raise InvalidRecordError(_GONE)


def mark_routine(db: Database, routine_id: int, occurrence_date: date, status: str | None,
                 step_id: int | None = None, *, profile_id: int) -> None:
    """Records "done" or "skipped" for one occurrence (of the whole routine, or of one step) of a
    routine of ``profile_id``; ``None`` clears the mark. Marking again replaces the earlier mark."""
    if status not in ("done", "skipped", None):
        raise InvalidRecordError(f"Unknown mark {status!r}: a routine is marked done or skipped.")
    day = occurrence_date.isoformat()
    table, key_column = _MARK_TABLES[step_id is not None]
    key = routine_id if step_id is None else step_id
    with db.transaction() as conn:
        _own_routine(conn, routine_id, profile_id)
        if step_id is not None:
            row = conn.execute("SELECT routine_id FROM routine_steps WHERE id = ?", (step_id,)).fetchone()
            if row is None or int(row[0]) != routine_id:
                raise InvalidRecordError("That step does not belong to this routine (it may have been removed).")
        if status is None:
            conn.execute(f"DELETE FROM {table} WHERE {key_column} = ? AND occurrence_date = ?", (key, day))
        else:
            write_mark(conn, key, day, status, utc_now(), of_step=step_id is not None, replace=True)


def clear_marks(db: Database, routine_id: int, occurrence_date: date, *, profile_id: int) -> None:
    """Clears every mark of one occurrence of a routine of ``profile_id`` (the whole routine's and each
    step's) in one transaction: all cleared or, on a failure, none."""
    day = occurrence_date.isoformat()
    with db.transaction() as conn:
        _own_routine(conn, routine_id, profile_id)
        conn.execute("DELETE FROM routine_log WHERE routine_id = ? AND occurrence_date = ?", (routine_id, day))
        conn.execute("DELETE FROM routine_step_log WHERE occurrence_date = ? AND step_id IN "
                     "(SELECT id FROM routine_steps WHERE routine_id = ?)", (day, routine_id))


def routine_log(db: Database, profile_id: int, since: date | None = None) -> list[LogEntry]:
    """Every done/skipped mark of the profile's routines (whole-routine and per-step), oldest first."""
    from skin_app.routines.schedule import LogEntry
    since_iso = since.isoformat() if since else ""
    rows = db.query(
        "SELECT l.routine_id, l.occurrence_date, l.status, NULL AS step_id, l.logged_at "
        "FROM routine_log l JOIN routines r ON r.id = l.routine_id "
        "WHERE r.profile_id = ? AND l.occurrence_date >= ? "
        "UNION ALL "
        "SELECT s.routine_id, sl.occurrence_date, sl.status, sl.step_id, sl.logged_at "
        "FROM routine_step_log sl JOIN routine_steps s ON s.id = sl.step_id "
        "JOIN routines r ON r.id = s.routine_id "
        "WHERE r.profile_id = ? AND sl.occurrence_date >= ? "
        "ORDER BY 2, 1, 4", (profile_id, since_iso, profile_id, since_iso))
    return [LogEntry(int(r[0]), date.fromisoformat(r[1]), r[2], None if r[3] is None else int(r[3]), r[4])
            for r in rows]


def write_routine(conn: sqlite3.Connection, profile_id: int, columns: tuple, created_at: str, updated_at: str) -> int:
    """The one INSERT into ``routines`` (new routine, import): ``columns`` as :func:`_routine_columns` gives
    them (name, kind, time of day, time zone, start, end, weekdays, interval, alert). Returns the new id."""
    return new_id(conn.execute(
        "INSERT INTO routines(profile_id, name, kind, time_of_day, timezone, start_date, end_date, "
        "weekdays, interval_days, alert_minutes, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (profile_id, *columns, created_at, updated_at)))


def write_step(conn: sqlite3.Connection, routine_id: int, position: int, text: str, product_name: str | None,
               product_id: int | None) -> int:
    """The one INSERT into ``routine_steps`` (new routine, a step added in an edit, import); returns the new id."""
    return new_id(conn.execute(
        "INSERT INTO routine_steps(routine_id, position, text, product_name, product_id) VALUES (?, ?, ?, ?, ?)",
        (routine_id, position, text, product_name, product_id)))


# The two done/skipped logs have the same shape: (table, key column) for a whole routine and for a step.
# The names are constants, never user text.
_MARK_TABLES = {False: ("routine_log", "routine_id"), True: ("routine_step_log", "step_id")}


def write_mark(conn: sqlite3.Connection, key: int, day: str, status: str, logged_at: str, *, of_step: bool,
               replace: bool = False) -> None:
    """The one INSERT into ``routine_log`` (``key`` a routine id) or ``routine_step_log`` (``of_step``: a
    step id). ``replace``: a later mark of the same occurrence replaces the earlier one (marking in the app);
    without it a second mark is refused by the primary key (an import's file holding one twice)."""
    table, key_column = _MARK_TABLES[of_step]
    upsert = (f" ON CONFLICT({key_column}, occurrence_date) DO UPDATE SET status = excluded.status, "
              "logged_at = excluded.logged_at") if replace else ""
    conn.execute(f"INSERT INTO {table}({key_column}, occurrence_date, status, logged_at) VALUES (?, ?, ?, ?)"
                 + upsert, (key, day, status, logged_at))


def _routine_columns(routine: Routine) -> tuple:
    s = routine.schedule
    return (routine.name, s.kind, s.time_of_day.strftime("%H:%M"), s.timezone, s.start_date.isoformat(),
            s.end_date.isoformat() if s.end_date else None, ",".join(str(d) for d in s.weekdays),
            s.interval_days, s.alert_minutes)


def _routine_from_row(r: sqlite3.Row, step_rows: list[sqlite3.Row]) -> Routine:
    from skin_app.routines.schedule import Routine, Schedule, Step
    schedule = Schedule(
        kind=r["kind"], time_of_day=time.fromisoformat(r["time_of_day"]), timezone=r["timezone"],
        start_date=date.fromisoformat(r["start_date"]),
        end_date=date.fromisoformat(r["end_date"]) if r["end_date"] else None,
        weekdays=tuple(int(d) for d in r["weekdays"].split(",") if d != ""),
        interval_days=int(r["interval_days"]), alert_minutes=int(r["alert_minutes"]))
    steps = tuple(Step(s["text"], s["product_name"], s["product_id"], int(s["id"])) for s in step_rows)
    return Routine(r["name"], schedule, steps, int(r["id"]), int(r["profile_id"]),
                   datetime.fromisoformat(r["created_at"]))
