"""SQLite storage: schema, migrations, and the only module in the project that writes SQL.

One database file per installation (path from ``SKINGORITHM_DB``), several profiles inside it.
WAL mode, foreign keys, a busy timeout and one transaction per write let two browser tabs (or two
processes) save at the same time without losing anything. A file that is not a readable SQLite
database raises :class:`DatabaseError` with a message a person can act on; it is never overwritten.

Migrations are an ordered list of SQL scripts; ``PRAGMA user_version`` records how many have been
applied, so an older file is upgraded in place when it is opened.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from skin_app.config import database_path


class DatabaseError(RuntimeError):
    """The database file cannot be used; the message says what to do."""


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
    SELECT 1;
    """,
    # 3: routines, schedules and their done/skipped log (owned by the reminders feature)
    """
    SELECT 1;
    """,
]


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Profile:
    id: int
    name: str
    created_at: str


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


class Storage:
    """A handle on one database file. Safe to share between threads (one connection per thread)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else database_path()
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    # -- connection and transactions ---------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as fh:
                if fh.read(16) != b"SQLite format 3\x00":
                    raise DatabaseError(
                        f"The file {self.path} is not a SkinGorithm database (it is not SQLite). "
                        "It was left untouched. Move or rename it, or set SKINGORITHM_DB to another path."
                    )
        try:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(
                f"The database {self.path} could not be opened ({exc}). It was left untouched. "
                "Restore it from a backup, or set SKINGORITHM_DB to another path."
            ) from exc
        self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock up front (no upgrade deadlock)."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"The database {self.path} is damaged or locked: {exc}") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

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

    # -- schema --------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self._query("PRAGMA user_version")[0][0])

    def _migrate(self) -> None:
        try:
            with self.transaction() as conn:
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
            raise ValueError("A profile needs a name.")
        if len(name) > 60:
            raise ValueError("A profile name can be at most 60 characters.")
        with self.transaction() as conn:
            row = conn.execute("SELECT id FROM profiles WHERE name = ?", (name,)).fetchone()
            if row is not None:
                raise ValueError(f"A profile called {name!r} already exists.")
            created = _utc_now()
            cur = conn.execute("INSERT INTO profiles(name, created_at) VALUES (?, ?)", (name, created))
            return Profile(int(cur.lastrowid), name, created)

    def get_or_create_profile(self, name: str) -> Profile:
        for profile in self.list_profiles():
            if profile.name.lower() == " ".join(name.split()).lower():
                return profile
        return self.create_profile(name)

    def list_profiles(self) -> list[Profile]:
        return [Profile(r["id"], r["name"], r["created_at"])
                for r in self._query("SELECT id, name, created_at FROM profiles ORDER BY name")]

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
        conn = self._connect()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- scans ---------------------------------------------------------------------------------
    def add_scan(self, profile_id: int, *, taken_at: str, scores: dict[str, float], metrics: dict[str, Any],
                 model_version: str, note: str = "", crop_png: bytes | None = None) -> int:
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO scans(profile_id, taken_at, note, scores_json, metrics_json, model_version, crop_png) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (profile_id, taken_at, note, json.dumps(scores), json.dumps(metrics), model_version, crop_png),
            )
            return int(cur.lastrowid)

    def list_scans(self, profile_id: int) -> list[StoredScan]:
        rows = self._query("SELECT * FROM scans WHERE profile_id = ? ORDER BY taken_at, id", (profile_id,))
        return [_scan_from_row(r) for r in rows]

    def get_scan(self, scan_id: int) -> StoredScan | None:
        rows = self._query("SELECT * FROM scans WHERE id = ?", (scan_id,))
        return _scan_from_row(rows[0]) if rows else None

    def latest_scan(self, profile_id: int) -> StoredScan | None:
        rows = self._query(
            "SELECT * FROM scans WHERE profile_id = ? ORDER BY taken_at DESC, id DESC LIMIT 1", (profile_id,))
        return _scan_from_row(rows[0]) if rows else None

    def delete_scan(self, scan_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM scans WHERE id = ?", (scan_id,))
        self._vacuum()


def _scan_from_row(r: sqlite3.Row) -> StoredScan:
    return StoredScan(r["id"], r["profile_id"], r["taken_at"], r["note"], json.loads(r["scores_json"]),
                      json.loads(r["metrics_json"]), r["model_version"], r["crop_png"])


def _split_sql(script: str) -> list[str]:
    """Splits a migration script into statements (our scripts contain no semicolons inside strings)."""
    return [s.strip() for s in script.split(";") if s.strip()]
