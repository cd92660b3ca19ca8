"""SQLite storage: schema, migrations, and the only module in the project that writes SQL.

One database file per installation (path from ``SKINGORITHM_DB``), several profiles inside it.
WAL mode, foreign keys, a busy timeout and one transaction per write let two browser tabs (or two
processes) save at the same time without losing anything. A file that is not a readable SQLite
database raises :class:`DatabaseError` with a message a person can act on; it is never overwritten.
So does every SQLite error while writing (disk full, read-only file, locked, I/O): the transaction is
rolled back, what was stored before stays, and the message says what to do. A row it refuses (a name
too long, a score out of range, a profile gone) raises :class:`errors.InvalidRecordError`; both are
``UserFacingError``s, the one class pages catch.

The database holds face pictures: the file (and SQLite's ``-wal`` and ``-shm`` beside it, which
SQLite creates with the file's own mode) is made 0600, and a folder this module creates 0700.

Migrations are an ordered list of SQL scripts; ``PRAGMA user_version`` records how many have been
applied, so an older file is upgraded in place when it is opened. The CHECKs read their choice lists
from ``limits.py``; changing such a list needs a new migration, since an existing file keeps the CHECK
it was created with.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time as clock
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skin_app.concerns import VIEWS
from skin_app.config import database_path
from skin_app.errors import InvalidRecordError, UserFacingError
from skin_app.limits import (
    ALERT_CHOICES,
    INTERVAL_DAYS_MIN,
    NOTE_MAX,
    PROFILE_NAME_MAX,
    SCHEDULE_KINDS,
    SHELF_NAME_MAX,
    SHELF_TEXT_MAX,
    UNKNOWN_ROWS_MAX,
    UNKNOWN_TEXT_MAX,
    sql_in,
)

if TYPE_CHECKING:  # the reminders core imports nothing from here; storage only converts its values
    from skin_app.reminders import LogEntry, Routine


class DatabaseError(UserFacingError, RuntimeError):
    """The database file cannot be used (missing, damaged, full, read-only, locked); the message says what to
    do. Also a ``RuntimeError``, as it was before the one hierarchy."""

    def __init__(self, message: str, advice: str = "", code: str = "database") -> None:
        super().__init__(message, advice, code)


log = logging.getLogger("skingorithm.storage")
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def write_error(exc: sqlite3.Error, path: Path) -> DatabaseError:
    """A SQLite error during a write, as a :class:`DatabaseError` a person can act on."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    kept = "Nothing was changed; everything saved before is kept."
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        message = f"The disk holding {path} is full, so this was not saved. {kept} Free some space and try again."
    elif name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        message = (f"The database {path} is read-only (file permissions, or a read-only disk), so this was not "
                   f"saved. {kept} Make the file and its folder writable, or set SKINGORITHM_DB to another path.")
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        message = (f"The database is busy: another window or program is writing to it. {kept} "
                   "Try again in a moment.")
    elif name.startswith("SQLITE_IOERR") or "i/o error" in text or name.startswith("SQLITE_CANTOPEN"):
        message = (f"The disk reported an error while saving to {path} (it may be full, removed or failing). "
                   f"{kept} Check the disk and try again.")
    elif isinstance(exc, sqlite3.IntegrityError):
        message = f"The database refused this change ({str(exc)[:120]}). {kept}"
    else:
        message = f"The database {path} could not save this ({str(exc)[:160]}). {kept}"
    return DatabaseError(message)


# Each entry upgrades the schema by one version. Never edit an applied entry; append a new one.
MIGRATIONS: list[str] = [
    # 1: profiles and scans
    """
    CREATE TABLE profiles (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE scans (
        id            INTEGER PRIMARY KEY,
        profile_id    INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        taken_at      TEXT NOT NULL,
        note          TEXT NOT NULL DEFAULT '',
        scores_json   TEXT NOT NULL,
        metrics_json  TEXT NOT NULL,
        model_version TEXT NOT NULL,
        crop_png      BLOB
    );
    CREATE INDEX scans_by_profile ON scans(profile_id, taken_at);
    """,
    # 2: ingredient shelf and unknown-ingredient log (owned by the ingredients feature)
    """
    CREATE TABLE shelf_products (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        profile_id       INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        name             TEXT NOT NULL,
        ingredients_text TEXT NOT NULL,
        inci_json        TEXT NOT NULL DEFAULT '[]',
        actives_json     TEXT NOT NULL DEFAULT '{}',
        created_at       TEXT NOT NULL
    );
    CREATE INDEX shelf_by_profile ON shelf_products(profile_id, name);
    CREATE TABLE unknown_ingredients (
        text            TEXT PRIMARY KEY,
        count           INTEGER NOT NULL DEFAULT 1,
        first_seen      TEXT NOT NULL,
        last_seen       TEXT NOT NULL,
        example_product TEXT NOT NULL DEFAULT ''
    );
    """,
    # 3: routines, schedules and their done/skipped log (owned by the reminders feature)
    f"""
    CREATE TABLE routines (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        profile_id    INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        kind          TEXT NOT NULL CHECK (kind IN ({sql_in(SCHEDULE_KINDS)})),
        time_of_day   TEXT NOT NULL,
        timezone      TEXT NOT NULL,
        start_date    TEXT NOT NULL,
        end_date      TEXT,
        weekdays      TEXT NOT NULL DEFAULT '',
        interval_days INTEGER NOT NULL DEFAULT 1 CHECK (interval_days >= {INTERVAL_DAYS_MIN}),
        alert_minutes INTEGER NOT NULL DEFAULT 0 CHECK (alert_minutes IN ({sql_in(ALERT_CHOICES)})),
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX routines_by_profile ON routines(profile_id);
    CREATE TABLE routine_steps (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        routine_id    INTEGER NOT NULL REFERENCES routines(id) ON DELETE CASCADE,
        position      INTEGER NOT NULL,
        text          TEXT NOT NULL,
        product_name  TEXT,
        product_id    INTEGER
    );
    CREATE INDEX routine_steps_by_routine ON routine_steps(routine_id, position);
    CREATE TABLE routine_log (
        routine_id      INTEGER NOT NULL REFERENCES routines(id) ON DELETE CASCADE,
        occurrence_date TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('done', 'skipped')),
        logged_at       TEXT NOT NULL,
        PRIMARY KEY (routine_id, occurrence_date)
    );
    CREATE TABLE routine_step_log (
        step_id         INTEGER NOT NULL REFERENCES routine_steps(id) ON DELETE CASCADE,
        occurrence_date TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('done', 'skipped')),
        logged_at       TEXT NOT NULL,
        PRIMARY KEY (step_id, occurrence_date)
    );
    """,
    # 4: the scan's concern masks beside its crop (for overlays in Progress > Compare), and each
    # profile's privacy choice: store the small aligned face picture with a scan (1) or nothing (0)
    """
    ALTER TABLE scans ADD COLUMN masks_png BLOB;
    ALTER TABLE profiles ADD COLUMN store_pictures INTEGER NOT NULL DEFAULT 1;
    """,
    # 5: which score calibration produced each scan's scores. Scans stored before calibrated display
    # scores existed hold the seed project's raw scores ('seed'); ``rescore_scans`` maps them onto the
    # current calibration from their stored raw measurements (and keeps the seed scores in metrics).
    """
    ALTER TABLE scans ADD COLUMN scored_by TEXT NOT NULL DEFAULT 'seed';
    """,
    # 6: each scan's view (front, left, right, closeup; concerns.VIEWS) so every view keeps its own
    # history line, and the visit that a "full check" (front + left + right saved together) groups
    """
    ALTER TABLE scans ADD COLUMN view TEXT NOT NULL DEFAULT 'front';
    ALTER TABLE scans ADD COLUMN visit TEXT;
    CREATE INDEX scans_by_view ON scans(profile_id, view, taken_at);
    """,
]
# ``scored_by`` of a scan that could not be re-scored under a calibration (measurements missing).
UNSCORABLE_PREFIX = "unscorable:"


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Profile:
    id: int
    name: str
    created_at: str
    store_pictures: bool = True           # keep the small aligned face picture with each scan


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


@dataclass(frozen=True)
class StorageSummary:
    """What the database holds, for the settings page."""
    path: Path
    file_bytes: int                       # database file plus its write-ahead log
    profiles: int
    scans: int
    pictures: int
    shelf_products: int
    routines: int


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


@dataclass(frozen=True)
class ShelfProduct:
    """A product a person saved from the ingredient analyzer."""
    id: int
    profile_id: int
    name: str
    ingredients_text: str
    inci: list[str]                       # matched INCI names, label order
    actives: dict[str, list[str]]         # active class -> names as printed
    created_at: str


@dataclass(frozen=True)
class UnknownIngredient:
    """A name the analyzer did not recognise, kept so the person can report it."""
    text: str
    count: int
    first_seen: str
    last_seen: str
    example_product: str


class Storage:
    """A handle on one database file. Safe to share between threads (one connection per thread)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else database_path()
        self._local = threading.local()
        self._prepare_private_file()
        self._check_readable()
        self._migrate()

    def _prepare_private_file(self) -> None:
        """Folder 0700 when we create it; the file created 0600 before SQLite opens it (SQLite gives its
        ``-wal`` and ``-shm`` the same mode), and tightened to 0600 if an older version left it 0644."""
        folder = self.path.parent
        try:
            if not folder.exists():
                folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
                os.chmod(folder, FOLDER_MODE)              # mkdir's mode is filtered by the umask
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
            except FileExistsError:
                pass
            for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                if p.exists() and p.stat().st_mode & 0o077 and p.stat().st_uid == os.getuid():
                    os.chmod(p, FILE_MODE)
        except PermissionError:
            pass              # a read-only place: opening it below says so in words
        except OSError as exc:
            raise DatabaseError(f"The database {self.path} cannot be created there ({exc.strerror}). "
                                "Set SKINGORITHM_DB to a file in a folder you can write to.") from exc

    # -- connection and transactions ---------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        self._refuse_if_not_sqlite()
        try:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA secure_delete = ON")      # deleted photos are zeroed, not left in free pages
            _switch_to_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(
                f"The database {self.path} could not be opened ({exc}). It was left untouched. "
                "Restore it from a backup, or set SKINGORITHM_DB to another path."
            ) from exc
        self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def transaction(self, in_words: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock up front (no upgrade deadlock).
        A SQLite error inside rolls back and becomes a :class:`DatabaseError` in words (``in_words``;
        the schema migration keeps the raw error, which it reports as a damaged file)."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise write_error(exc, self.path) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback(conn)
            if not in_words:
                raise
            raise write_error(exc, self.path) from exc
        except BaseException:
            self._rollback(conn)
            raise

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        """ROLLBACK only while a transaction is open (SQLite ends it itself after some errors, e.g. a
        full disk); a failing ROLLBACK must not hide the error that caused it."""
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.warning("ROLLBACK failed", exc_info=True)

    def _query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        try:
            return self._connect().execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"The database {self.path} could not be read: {exc}") from exc

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _refuse_if_not_sqlite(self) -> None:
        """A non-empty file without the SQLite header is someone else's: refuse it, never overwrite it."""
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as fh:
                if fh.read(16) != b"SQLite format 3\x00":
                    raise DatabaseError(
                        f"The file {self.path} is not a SkinGorithm database (it is not SQLite). "
                        "It was left untouched. Move or rename it, or set SKINGORITHM_DB to another path.")

    def _check_readable(self) -> None:
        """Reads an existing file read-only first: a damaged one is refused before anything writes to it
        (switching to WAL or migrating would otherwise touch its header)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        self._refuse_if_not_sqlite()
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
            try:
                conn.execute("PRAGMA busy_timeout = 30000")
                verdict = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            verdict = [str(exc)]
        if verdict != ["ok"] and not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)):
            raise DatabaseError(
                f"The database {self.path} is read-only (file permissions, or a read-only disk), and SkinGorithm "
                "needs to write beside it. Nothing was changed; everything saved before is kept. Make the file "
                "and its folder writable, or set SKINGORITHM_DB to another path.")
        if verdict != ["ok"]:
            raise DatabaseError(
                f"The database {self.path} is damaged ({'; '.join(verdict)[:300]}). It was left untouched. "
                "Restore it from a backup, or move it away (or set SKINGORITHM_DB to another path) to start afresh.")
        if version > len(MIGRATIONS):
            raise DatabaseError(
                f"The database {self.path} was written by a newer SkinGorithm (schema {version}, this version "
                f"knows {len(MIGRATIONS)}). Update the app; the file was left untouched.")

    # -- schema --------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self._query("PRAGMA user_version")[0][0])

    def _migrate(self) -> None:
        try:
            with self.transaction(in_words=False) as conn:
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if version > len(MIGRATIONS):
                    raise DatabaseError(
                        f"The database {self.path} was written by a newer SkinGorithm (schema "
                        f"{version}, this version knows {len(MIGRATIONS)}). Update the app; the file was left untouched."
                    )
                for number in range(version, len(MIGRATIONS)):
                    for statement in _split_sql(MIGRATIONS[number]):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number + 1}")
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(
                f"The database {self.path} is damaged ({exc}). It was left untouched. "
                "Restore it from a backup, or set SKINGORITHM_DB to another path."
            ) from exc

    # -- profiles ------------------------------------------------------------------------------
    def create_profile(self, name: str) -> Profile:
        name = " ".join(name.split())
        if not name:
            raise InvalidRecordError("A profile needs a name.")
        if len(name) > PROFILE_NAME_MAX:
            raise InvalidRecordError(f"A profile name can be at most {PROFILE_NAME_MAX} characters.")
        with self.transaction() as conn:
            row = conn.execute("SELECT id FROM profiles WHERE name = ?", (name,)).fetchone()
            if row is not None:
                raise InvalidRecordError(f"A profile called {name!r} already exists.")
            created = _utc_now()
            cur = conn.execute("INSERT INTO profiles(name, created_at) VALUES (?, ?)", (name, created))
            return Profile(_new_id(cur), name, created)

    def get_or_create_profile(self, name: str) -> Profile:
        """The profile called ``name`` (any case), created if missing: looked up and created inside one
        write transaction, so two first starts at once make one profile, not two or an error."""
        name = " ".join(name.split())
        if not name or len(name) > PROFILE_NAME_MAX:
            raise InvalidRecordError(f"A profile name needs 1 to {PROFILE_NAME_MAX} characters.")
        with self.transaction() as conn:
            conn.execute("INSERT INTO profiles(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
                         (name, _utc_now()))
            row = conn.execute("SELECT id, name, created_at, store_pictures FROM profiles WHERE name = ?",
                               (name,)).fetchone()
        return _profile_from_row(row)

    def profiles_or_first(self, name: str) -> list[Profile]:
        """Every profile; on a first start (none yet) one called ``name`` is made, once, even when many
        sessions or processes start at the same moment."""
        profiles = self.list_profiles()
        if profiles:
            return profiles
        with self.transaction() as conn:
            if conn.execute("SELECT COUNT(*) FROM profiles").fetchone()[0] == 0:
                conn.execute("INSERT INTO profiles(name, created_at) VALUES (?, ?)", (" ".join(name.split()), _utc_now()))
        return self.list_profiles()

    def list_profiles(self) -> list[Profile]:
        return [_profile_from_row(r) for r in self._query(
            "SELECT id, name, created_at, store_pictures FROM profiles ORDER BY name")]

    def get_profile(self, profile_id: int) -> Profile | None:
        rows = self._query("SELECT id, name, created_at, store_pictures FROM profiles WHERE id = ?", (profile_id,))
        return _profile_from_row(rows[0]) if rows else None

    def set_store_pictures(self, profile_id: int, store: bool) -> None:
        """The profile's privacy choice for new scans (existing pictures stay until forgotten)."""
        with self.transaction() as conn:
            conn.execute("UPDATE profiles SET store_pictures = ? WHERE id = ?", (1 if store else 0, profile_id))

    def forget_pictures(self, profile_id: int) -> int:
        """Removes every stored face picture (and mask) of the profile, keeping the scores; returns how many."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE scans SET crop_png = NULL, masks_png = NULL "
                "WHERE profile_id = ? AND (crop_png IS NOT NULL OR masks_png IS NOT NULL)", (profile_id,))
            count = cur.rowcount
        self._vacuum()
        return count

    def summary(self) -> StorageSummary:
        counts = self._query(
            "SELECT (SELECT COUNT(*) FROM profiles), (SELECT COUNT(*) FROM scans), "
            "(SELECT COUNT(*) FROM scans WHERE crop_png IS NOT NULL), (SELECT COUNT(*) FROM shelf_products), "
            "(SELECT COUNT(*) FROM routines)")[0]
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return StorageSummary(self.path, size, *[int(c) for c in counts])

    def delete_profile(self, profile_id: int) -> None:
        """Deletes the profile and, by cascade, everything that belongs to it."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM profiles WHERE id = ?", (profile_id,))
        self._vacuum()

    def delete_everything(self) -> None:
        """Removes every row of every table, then rewrites the file so deleted photos are not left in free pages."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM profiles")
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
            for table in tables:
                conn.execute(f'DELETE FROM "{table}"')
        self._vacuum()

    def _vacuum(self) -> None:
        """Rewrites the file after a delete. The delete itself is already committed (and, with
        secure_delete, its bytes zeroed), so a full disk here is logged, not shown as a failed delete."""
        conn = self._connect()
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            log.warning("VACUUM after a delete failed; the file keeps its free pages", exc_info=True)

    # -- scans ---------------------------------------------------------------------------------
    def add_scan(self, profile_id: int, *, taken_at: str | datetime, scores: dict[str, float],
                 metrics: dict[str, Any], model_version: str, note: str = "", crop_png: bytes | None = None,
                 masks_png: bytes | None = None, view: str = "front", visit: str | None = None) -> int:
        """Stores one scan. ``taken_at`` is kept as UTC ISO text (naive values are taken as UTC) so
        scans sort by time; pictures are stored only when given (the page honours the profile's choice).
        ``view``: which view the photo was (concerns.VIEWS); ``visit``: the full check it belongs to."""
        row = (profile_id, *_scan_columns(taken_at, note, scores, metrics, model_version, crop_png, masks_png,
                                          view, visit, _scored_by(metrics, "")))
        with self.transaction() as conn:
            cur = conn.execute(_INSERT_SCAN, row)
            return _new_id(cur)

    def add_scans(self, profile_id: int, scans: list[dict[str, Any]]) -> list[int]:
        """Stores several scans (e.g. a full check's three views) in one transaction: all or none.
        Each dict holds ``add_scan``'s keyword arguments."""
        rows = [(profile_id, *_scan_columns(s["taken_at"], s.get("note"), s["scores"], s["metrics"],
                                            s["model_version"], s.get("crop_png"), s.get("masks_png"),
                                            s.get("view", "front"), s.get("visit"), _scored_by(s["metrics"], "")))
                for s in scans]
        with self.transaction() as conn:
            return [_new_id(conn.execute(_INSERT_SCAN, row)) for row in rows]

    def rescore_scans(self, calibration_version: str,
                      rescore: Callable[[dict[str, Any]], dict[str, float] | None]) -> tuple[int, int]:
        """Re-scores every scan whose scores came from another calibration, from its stored raw
        measurements (``rescore(metrics) -> scores``, None when they do not allow it). Scans stored
        with the seed's scores keep them as ``metrics["seed_scores"]``; a scan that cannot be re-scored
        keeps its scores and is marked ``unscorable:<version>`` so pages show it apart. Returns
        (re-scored, could not). One transaction: a failure leaves every scan as it was."""
        done = failed = 0
        mark = UNSCORABLE_PREFIX + calibration_version
        with self.transaction() as conn:
            rows = conn.execute("SELECT id, scores_json, metrics_json, scored_by FROM scans WHERE scored_by "
                                "NOT IN ('', ?, ?)", (calibration_version, mark)).fetchall()
            for r in rows:
                try:
                    metrics = json.loads(r["metrics_json"])
                    old_scores = json.loads(r["scores_json"])
                    new_scores = rescore(metrics) if isinstance(metrics, dict) else None
                    new_scores = _check_scores(new_scores) if new_scores else None
                except (ValueError, TypeError):
                    new_scores = None
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

    def list_scans(self, profile_id: int, view: str | None = None) -> list[StoredScan]:
        """The profile's scans in time order; with ``view``, only that view's (one history line)."""
        if view is None:
            rows = self._query("SELECT * FROM scans WHERE profile_id = ? ORDER BY taken_at, id", (profile_id,))
        else:
            rows = self._query("SELECT * FROM scans WHERE profile_id = ? AND view = ? ORDER BY taken_at, id",
                               (profile_id, view))
        return [_scan_from_row(r) for r in rows]

    def scan_views(self, profile_id: int) -> dict[str, int]:
        """How many scans the profile has of each view."""
        return {r[0]: int(r[1]) for r in self._query(
            "SELECT view, COUNT(*) FROM scans WHERE profile_id = ? GROUP BY view", (profile_id,))}

    def get_scan(self, scan_id: int, profile_id: int | None = None) -> StoredScan | None:
        """One scan; with ``profile_id``, only if it belongs to that profile."""
        rows = self._query("SELECT * FROM scans WHERE id = ?", (scan_id,))
        if not rows or (profile_id is not None and rows[0]["profile_id"] != profile_id):
            return None
        return _scan_from_row(rows[0])

    def latest_scan(self, profile_id: int, view: str = "front") -> StoredScan | None:
        """The profile's latest scan of ``view``: front by default, the one view that scores every concern."""
        rows = self._query("SELECT * FROM scans WHERE profile_id = ? AND view = ? ORDER BY taken_at DESC, id DESC "
                           "LIMIT 1", (profile_id, view))
        return _scan_from_row(rows[0]) if rows else None

    def delete_scan(self, scan_id: int, profile_id: int | None = None) -> bool:
        """Deletes one scan (with ``profile_id``: only if it is that profile's); True if one was deleted.
        The file is rewritten so the deleted picture is not left behind in free pages."""
        with self.transaction() as conn:
            if profile_id is None:
                cur = conn.execute("DELETE FROM scans WHERE id = ?", (scan_id,))
            else:
                cur = conn.execute("DELETE FROM scans WHERE id = ? AND profile_id = ?", (scan_id, profile_id))
            deleted = cur.rowcount > 0
        if deleted:
            self._vacuum()
        return deleted

    # -- profile export and import (formats live in skin_app/export.py) ------------------------
    def export_profile_tables(self, profile_id: int, include_pictures: bool = True) -> dict[str, list[dict]]:
        """Every row that belongs to the profile, table by table, with the file-local ids that link them."""
        tables: dict[str, list[dict]] = {}
        tables["scans"] = [
            {"id": s.id, "taken_at": s.taken_at, "note": s.note, "scores": s.scores, "metrics": s.metrics,
             "model_version": s.model_version, "crop_png": s.crop_png if include_pictures else None,
             "masks_png": s.masks_png if include_pictures else None, "view": s.view, "visit": s.visit}
            for s in self.list_scans(profile_id)]
        tables["shelf_products"] = [
            {"id": p.id, "name": p.name, "ingredients_text": p.ingredients_text, "inci": p.inci,
             "actives": p.actives, "created_at": p.created_at}
            for p in self._shelf_rows(profile_id)]
        tables["routines"] = [dict(r) for r in self._query(
            "SELECT id, name, kind, time_of_day, timezone, start_date, end_date, weekdays, interval_days, "
            "alert_minutes, created_at, updated_at FROM routines WHERE profile_id = ? ORDER BY id", (profile_id,))]
        tables["routine_steps"] = [dict(r) for r in self._query(
            "SELECT s.id, s.routine_id, s.position, s.text, s.product_name, s.product_id FROM routine_steps s "
            "JOIN routines r ON r.id = s.routine_id WHERE r.profile_id = ? ORDER BY s.routine_id, s.position, s.id",
            (profile_id,))]
        tables["routine_log"] = [dict(r) for r in self._query(
            "SELECT l.routine_id, l.occurrence_date, l.status, l.logged_at FROM routine_log l "
            "JOIN routines r ON r.id = l.routine_id WHERE r.profile_id = ? ORDER BY 1, 2", (profile_id,))]
        tables["routine_step_log"] = [dict(r) for r in self._query(
            "SELECT l.step_id, l.occurrence_date, l.status, l.logged_at FROM routine_step_log l "
            "JOIN routine_steps s ON s.id = l.step_id JOIN routines r ON r.id = s.routine_id "
            "WHERE r.profile_id = ? ORDER BY 1, 2", (profile_id,))]
        return tables

    def _shelf_rows(self, profile_id: int) -> list[ShelfProduct]:
        return [_shelf_from_row(r) for r in self._query(
            "SELECT * FROM shelf_products WHERE profile_id = ? ORDER BY id", (profile_id,))]

    def import_profile_tables(self, tables: dict[str, list[dict]], *, profile_name: str,
                              into_profile_id: int | None = None,
                              profile_created_at: str | None = None) -> ImportSummary:
        """Adds exported rows in one transaction: all of it or, on any problem, nothing.

        Into ``into_profile_id`` when given (rows already there are skipped: a scan with the same time,
        model and scores; a shelf product with the same name and list; a routine with the same name and
        creation time), else into a new profile called ``profile_name`` (made unique). Ids in the rows
        are local to the file and only link rows to each other; new ids are assigned."""
        with self.transaction() as conn:
            try:
                return self._import_rows(conn, tables, profile_name, into_profile_id, profile_created_at)
            except (sqlite3.IntegrityError, OverflowError) as exc:
                raise InvalidRecordError(f"The file holds a record the database refuses ({str(exc)[:120]}); "
                                 "nothing was imported.") from exc

    def _import_rows(self, conn: sqlite3.Connection, tables: dict[str, list[dict]], profile_name: str,
                     into_profile_id: int | None, profile_created_at: str | None) -> ImportSummary:
        created = into_profile_id is None
        if created:
            base = " ".join((profile_name or "Imported").split())[:50] or "Imported"
            taken = {r[0].lower() for r in conn.execute("SELECT name FROM profiles")}
            name, n = base, 2
            while name.lower() in taken:
                name, n = f"{base} ({n})", n + 1
            cur = conn.execute("INSERT INTO profiles(name, created_at) VALUES (?, ?)",
                               (name, profile_created_at or _utc_now()))
            pid = _new_id(cur)
        else:
            row = conn.execute("SELECT id, name FROM profiles WHERE id = ?", (into_profile_id,)).fetchone()
            if row is None:
                raise InvalidRecordError("That profile no longer exists (it was deleted, perhaps in another tab).")
            pid, name = int(row[0]), row[1]
        counts = dict.fromkeys(("scans_added", "scans_skipped", "shelf_added", "shelf_skipped",
                                "routines_added", "routines_skipped", "marks_added"), 0)

        have_scans = {_scan_key(r["taken_at"], r["model_version"], json.loads(r["scores_json"]))
                      for r in conn.execute("SELECT taken_at, model_version, scores_json FROM scans "
                                            "WHERE profile_id = ?", (pid,))}
        for s in tables.get("scans", []):
            taken_at = normalise_timestamp(s["taken_at"])
            key = _scan_key(taken_at, s["model_version"], s["scores"])
            if key in have_scans:
                counts["scans_skipped"] += 1
                continue
            have_scans.add(key)
            conn.execute(_INSERT_SCAN, (pid, *_scan_columns(
                taken_at, s.get("note"), s["scores"], s.get("metrics") or {}, s["model_version"], s.get("crop_png"),
                s.get("masks_png"), s.get("view") or "front", s.get("visit"), _scored_by(s.get("metrics"), "seed"))))
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
            cur = conn.execute(
                "INSERT INTO shelf_products(profile_id, name, ingredients_text, inci_json, actives_json, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (pid, p["name"], p["ingredients_text"], json.dumps(p.get("inci") or []),
                                              json.dumps(p.get("actives") or {}), p.get("created_at") or _utc_now()))
            shelf_ids[p["id"]] = have_shelf[key] = _new_id(cur)
            counts["shelf_added"] += 1

        routine_ids: dict[int, int] = {}
        have_routines = {(r[0], r[1]) for r in conn.execute(
            "SELECT name, created_at FROM routines WHERE profile_id = ?", (pid,))}
        for r in tables.get("routines", []):
            if (r["name"], r["created_at"]) in have_routines:
                counts["routines_skipped"] += 1
                continue
            cur = conn.execute(
                "INSERT INTO routines(profile_id, name, kind, time_of_day, timezone, start_date, end_date, weekdays, "
                "interval_days, alert_minutes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (pid, r["name"], r["kind"], r["time_of_day"], r["timezone"], r["start_date"], r.get("end_date"),
                 r.get("weekdays") or "", int(r.get("interval_days") or 1), int(r.get("alert_minutes") or 0),
                 r["created_at"], r.get("updated_at") or r["created_at"]))
            routine_ids[r["id"]] = _new_id(cur)
            have_routines.add((r["name"], r["created_at"]))
            counts["routines_added"] += 1
        step_ids: dict[int, int] = {}
        for st_ in tables.get("routine_steps", []):
            if st_["routine_id"] not in routine_ids:
                continue                                   # its routine was already there
            product_id = st_.get("product_id")
            cur = conn.execute(
                "INSERT INTO routine_steps(routine_id, position, text, product_name, product_id) VALUES (?, ?, ?, ?, ?)",
                (routine_ids[st_["routine_id"]], int(st_["position"]), st_["text"], st_.get("product_name"),
                 shelf_ids.get(product_id) if product_id is not None else None))
            step_ids[st_["id"]] = _new_id(cur)
        for m in tables.get("routine_log", []):
            if m["routine_id"] in routine_ids:
                conn.execute("INSERT INTO routine_log(routine_id, occurrence_date, status, logged_at) VALUES (?, ?, ?, ?)",
                             (routine_ids[m["routine_id"]], m["occurrence_date"], m["status"], m["logged_at"]))
                counts["marks_added"] += 1
        for m in tables.get("routine_step_log", []):
            if m["step_id"] in step_ids:
                conn.execute(
                    "INSERT INTO routine_step_log(step_id, occurrence_date, status, logged_at) VALUES (?, ?, ?, ?)",
                    (step_ids[m["step_id"]], m["occurrence_date"], m["status"], m["logged_at"]))
                counts["marks_added"] += 1
        return ImportSummary(pid, name, created, **counts)

    # -- ingredient shelf ---------------------------------------------------------------------
    # Owned by the ingredients feature (skin_app/ingredients.py analyses; this only stores).

    def save_shelf_product(self, profile_id: int, name: str, ingredients_text: str, *,
                           inci: list[str] | None = None, actives: dict[str, list[str]] | None = None
                           ) -> ShelfProduct:
        name = " ".join((name or "").split())
        if not name:
            raise InvalidRecordError("Give the product a name before saving it to your shelf.")
        if len(name) > SHELF_NAME_MAX:
            raise InvalidRecordError(f"A product name can be at most {SHELF_NAME_MAX} characters.")
        if not (ingredients_text or "").strip():
            raise InvalidRecordError("There is no ingredient list to save.")
        if len(ingredients_text) > SHELF_TEXT_MAX:
            raise InvalidRecordError(f"An ingredient list can be at most {SHELF_TEXT_MAX:,} characters.")
        created = _utc_now()
        inci_json, actives_json = json.dumps(list(inci or [])), json.dumps(dict(actives or {}))
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO shelf_products(profile_id, name, ingredients_text, inci_json, actives_json, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (profile_id, name, ingredients_text, inci_json, actives_json, created))
            return ShelfProduct(_new_id(cur), profile_id, name, ingredients_text, list(inci or []),
                                dict(actives or {}), created)

    def list_shelf(self, profile_id: int) -> list[ShelfProduct]:
        rows = self._query("SELECT * FROM shelf_products WHERE profile_id = ? ORDER BY name COLLATE NOCASE, id",
                           (profile_id,))
        return [_shelf_from_row(r) for r in rows]

    def get_shelf_product(self, product_id: int) -> ShelfProduct | None:
        rows = self._query("SELECT * FROM shelf_products WHERE id = ?", (product_id,))
        return _shelf_from_row(rows[0]) if rows else None

    def delete_shelf_product(self, product_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM shelf_products WHERE id = ?", (product_id,))

    def log_unknown_ingredients(self, names: list[str], example_product: str = "") -> None:
        """Counts names the analyzer did not recognise (local only; the person decides to export them)."""
        cleaned = list(dict.fromkeys(" ".join(n.split())[:UNKNOWN_TEXT_MAX] for n in names if n and n.strip()))
        if not cleaned:
            return
        now = _utc_now()
        example = " ".join((example_product or "").split())[:SHELF_NAME_MAX]
        with self.transaction() as conn:
            for text in cleaned:
                conn.execute(
                    "INSERT INTO unknown_ingredients(text, count, first_seen, last_seen, example_product) "
                    "VALUES (?, 1, ?, ?, ?) ON CONFLICT(text) DO UPDATE SET count = count + 1, "
                    "last_seen = excluded.last_seen", (text, now, now, example))
            # Keep the log bounded: drop the least useful (rarest, oldest) rows beyond the cap.
            conn.execute(
                "DELETE FROM unknown_ingredients WHERE text IN (SELECT text FROM unknown_ingredients "
                "ORDER BY count DESC, last_seen DESC LIMIT -1 OFFSET ?)", (UNKNOWN_ROWS_MAX,))

    def unknown_ingredients(self) -> list[UnknownIngredient]:
        rows = self._query("SELECT * FROM unknown_ingredients ORDER BY count DESC, last_seen DESC, text")
        return [UnknownIngredient(r["text"], r["count"], r["first_seen"], r["last_seen"], r["example_product"])
                for r in rows]

    def clear_unknown_ingredients(self) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM unknown_ingredients")

    # -- routines ---------------------------------------------------------------------------------
    # Owned by the reminders feature (skin_app/reminders.py holds the rules; this only stores them).
    # Ids are AUTOINCREMENT: a deleted routine or step never lends its id (the .ics UID, a mark) to a
    # new one. A step may name a shelf product by text and id; there is deliberately no foreign key to the
    # shelf table, so a step stays readable when the product is removed from the shelf.
    def create_routine(self, profile_id: int, routine: Routine) -> Routine:
        """Validates and stores a new routine with its steps; returns it with ids filled in.
        ``routine.created_at`` (aware) is kept when given, so the app's clock decides; else now."""
        from skin_app.reminders import validate
        routine = validate(routine)
        now = _utc_now()
        created = now
        if routine.created_at is not None:
            if routine.created_at.utcoffset() is None:
                raise ValueError("created_at must be a time-zone-aware datetime.")
            created = routine.created_at.astimezone(timezone.utc).isoformat(timespec="seconds")
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO routines(profile_id, name, kind, time_of_day, timezone, start_date, end_date, "
                "weekdays, interval_days, alert_minutes, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (profile_id, *_routine_columns(routine), created, now),
            )
            routine_id = _new_id(cur)
            for position, step in enumerate(routine.steps):
                conn.execute(
                    "INSERT INTO routine_steps(routine_id, position, text, product_name, product_id) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (routine_id, position, step.text, step.product_name, step.product_id),
                )
        stored = self.get_routine(routine_id)
        assert stored is not None
        return stored

    def update_routine(self, routine: Routine) -> Routine:
        """Saves changes to a stored routine. Steps keep their ids (and their done/skipped marks) when
        they are passed back with their ``id``; steps without an id are added; missing ones removed."""
        from skin_app.reminders import validate
        if routine.id is None:
            raise InvalidRecordError("This routine has not been saved yet; create it first.")
        routine = validate(routine)
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE routines SET name = ?, kind = ?, time_of_day = ?, timezone = ?, start_date = ?, "
                "end_date = ?, weekdays = ?, interval_days = ?, alert_minutes = ?, updated_at = ? WHERE id = ?",
                (*_routine_columns(routine), _utc_now(), routine.id),
            )
            if cur.rowcount == 0:
                raise InvalidRecordError("This routine no longer exists (it was deleted, perhaps in another tab).")
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
                    conn.execute(
                        "INSERT INTO routine_steps(routine_id, position, text, product_name, product_id) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (routine.id, position, step.text, step.product_name, step.product_id))
        assert routine.id is not None
        stored = self.get_routine(routine.id)
        assert stored is not None
        return stored

    def get_routine(self, routine_id: int) -> Routine | None:
        rows = self._query("SELECT * FROM routines WHERE id = ?", (routine_id,))
        if not rows:
            return None
        return _routine_from_row(rows[0], self._query(
            "SELECT * FROM routine_steps WHERE routine_id = ? ORDER BY position, id", (routine_id,)))

    def list_routines(self, profile_id: int) -> list[Routine]:
        """The profile's routines, ordered by time of day, then name."""
        rows = self._query(
            "SELECT * FROM routines WHERE profile_id = ? ORDER BY time_of_day, name COLLATE NOCASE, id",
            (profile_id,))
        steps: dict[int, list[sqlite3.Row]] = {}
        for s in self._query(
                "SELECT s.* FROM routine_steps s JOIN routines r ON r.id = s.routine_id "
                "WHERE r.profile_id = ? ORDER BY s.routine_id, s.position, s.id", (profile_id,)):
            steps.setdefault(s["routine_id"], []).append(s)
        return [_routine_from_row(r, steps.get(r["id"], [])) for r in rows]

    def delete_routine(self, routine_id: int) -> None:
        """Deletes the routine, its steps and its done/skipped log."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM routines WHERE id = ?", (routine_id,))

    def mark_routine(self, routine_id: int, occurrence_date: date, status: str | None,
                     step_id: int | None = None) -> None:
        """Records "done" or "skipped" for one occurrence (of the whole routine, or of one step);
        ``None`` clears the mark. Marking again replaces the earlier mark."""
        if status not in ("done", "skipped", None):
            raise InvalidRecordError(f"Unknown mark {status!r}: a routine is marked done or skipped.")
        day = occurrence_date.isoformat()
        # the two log tables have the same shape; the table and key names below are constants
        table, key_column, key = ("routine_log", "routine_id", routine_id) if step_id is None else \
            ("routine_step_log", "step_id", step_id)
        with self.transaction() as conn:
            if step_id is not None:
                row = conn.execute("SELECT routine_id FROM routine_steps WHERE id = ?", (step_id,)).fetchone()
                if row is None or int(row[0]) != routine_id:
                    raise InvalidRecordError("That step does not belong to this routine (it may have been removed).")
            if status is None:
                conn.execute(f"DELETE FROM {table} WHERE {key_column} = ? AND occurrence_date = ?", (key, day))
            else:
                conn.execute(
                    f"INSERT INTO {table}({key_column}, occurrence_date, status, logged_at) VALUES (?, ?, ?, ?) "
                    f"ON CONFLICT({key_column}, occurrence_date) DO UPDATE SET status = excluded.status, "
                    "logged_at = excluded.logged_at", (key, day, status, _utc_now()))

    def routine_log(self, profile_id: int, since: date | None = None) -> list[LogEntry]:
        """Every done/skipped mark of the profile's routines (whole-routine and per-step), oldest first."""
        from skin_app.reminders import LogEntry
        since_iso = since.isoformat() if since else ""
        rows = self._query(
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


def _shelf_from_row(r: sqlite3.Row) -> ShelfProduct:
    return ShelfProduct(r["id"], r["profile_id"], r["name"], r["ingredients_text"], json.loads(r["inci_json"]),
                        json.loads(r["actives_json"]), r["created_at"])


def _scan_from_row(r: sqlite3.Row) -> StoredScan:
    return StoredScan(r["id"], r["profile_id"], r["taken_at"], r["note"], json.loads(r["scores_json"]),
                      json.loads(r["metrics_json"]), r["model_version"], r["crop_png"], r["masks_png"],
                      r["scored_by"], r["view"], r["visit"])


_INSERT_SCAN = ("INSERT INTO scans(profile_id, taken_at, note, scores_json, metrics_json, model_version, crop_png, "
                "masks_png, view, visit, scored_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


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
    return (normalise_timestamp(taken_at), note, json.dumps(_check_scores(scores)), json.dumps(metrics),
            model_version, crop_png, masks_png, view, visit, scored_by)


def _scored_by(metrics: Any, default: str) -> str:
    """The calibration a scan's scores came from, as its metrics say; ``default`` when they do not
    ('' for a new scan: left as stored; 'seed' for an import: exports before migration 5 held seed scores)."""
    value = metrics.get("scored_by") if isinstance(metrics, dict) else None
    return value if isinstance(value, str) and value else default


def _profile_from_row(r: sqlite3.Row) -> Profile:
    return Profile(r["id"], r["name"], r["created_at"], bool(r["store_pictures"]))


def _new_id(cur: sqlite3.Cursor) -> int:
    """The id SQLite gave the row an INSERT just wrote."""
    assert cur.lastrowid is not None
    return cur.lastrowid

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
        return value.astimezone(timezone.utc).isoformat(timespec="seconds")
    except OverflowError:                 # year 1 east of UTC, year 9999 west of it
        raise InvalidRecordError(f"{value.isoformat()[:40]} is outside the range of dates this app stores.") from None


def _check_scores(scores: dict[str, Any]) -> dict[str, float]:
    if not isinstance(scores, dict) or not scores:
        raise InvalidRecordError("A scan needs its scores.")
    out = {}
    for key, value in scores.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidRecordError(f"The score {key!r} is not a number ({value!r}).") from None
        if not 0.0 <= number <= 100.0:          # also refuses NaN
            raise InvalidRecordError(f"The score {key!r} must be between 0 and 100, not {value!r}.")
        out[str(key)] = number
    return out


def _scan_key(taken_at: str, model_version: str, scores: dict[str, Any]) -> tuple:
    return (taken_at, model_version, tuple(sorted((k, round(float(v), 4)) for k, v in scores.items())))


def _routine_columns(routine: Routine) -> tuple:
    s = routine.schedule
    return (routine.name, s.kind, s.time_of_day.strftime("%H:%M"), s.timezone, s.start_date.isoformat(),
            s.end_date.isoformat() if s.end_date else None, ",".join(str(d) for d in s.weekdays),
            s.interval_days, s.alert_minutes)


def _routine_from_row(r: sqlite3.Row, step_rows: list[sqlite3.Row]) -> Routine:
    from skin_app.reminders import Routine, Schedule, Step
    schedule = Schedule(
        kind=r["kind"], time_of_day=time.fromisoformat(r["time_of_day"]), timezone=r["timezone"],
        start_date=date.fromisoformat(r["start_date"]),
        end_date=date.fromisoformat(r["end_date"]) if r["end_date"] else None,
        weekdays=tuple(int(d) for d in r["weekdays"].split(",") if d != ""),
        interval_days=int(r["interval_days"]), alert_minutes=int(r["alert_minutes"]))
    steps = tuple(Step(s["text"], s["product_name"], s["product_id"], int(s["id"])) for s in step_rows)
    return Routine(r["name"], schedule, steps, int(r["id"]), int(r["profile_id"]),
                   datetime.fromisoformat(r["created_at"]))


def _switch_to_wal(conn: sqlite3.Connection, tries: int = 50) -> None:
    """WAL mode (it persists in the file). Switching needs a moment alone with the file; when many
    processes start at once SQLite may answer "locked" without waiting, so try again briefly."""
    for attempt in range(tries):
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() and "busy" not in str(exc).lower() or attempt == tries - 1:
                raise
            clock.sleep(0.02 * (1 + attempt % 5))


def _split_sql(script: str) -> list[str]:
    """Splits a migration script into statements (our scripts contain no semicolons inside strings)."""
    return [s.strip() for s in script.split(";") if s.strip()]
