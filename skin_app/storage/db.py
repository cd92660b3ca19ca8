"""The connection and transaction layer under every table module; it knows no feature.

One database file per installation (path from ``SKINGORITHM_DB``), several profiles inside it.
WAL mode, foreign keys, a busy timeout and one transaction per write let two browser tabs (or two
processes) save at the same time without losing anything. A file that is not a readable SQLite
database raises :class:`DatabaseError` with a message a person can act on; it is never overwritten.
So does every SQLite error while writing (disk full, read-only file, locked, I/O): the transaction is
rolled back, what was stored before stays, and the message says what to do.

The database holds face pictures: the file (and SQLite's ``-wal`` and ``-shm`` beside it, which
SQLite creates with the file's own mode) is made 0600, and a folder this module creates 0700; deletes
are zeroed (``secure_delete``) and followed by a VACUUM. Deleting is how a person frees space, so it works
on a full disk too: a reserve file (``-reserve``, ``limits.RESERVE_BYTES``) is kept beside the database and
given up when a delete finds the disk full (:meth:`Database.delete`).

The file is never opened with a plain ``open()`` once it exists: closing any descriptor of a file
drops every POSIX lock this process holds on it, SQLite's included, and another process (the CLI
beside the app) would then delete the WAL still in use ("How To Corrupt An SQLite Database File",
2.2). Whether a file is SQLite, and SkinGorithm's, is asked of SQLite itself, read-only.

Migrations are an ordered list of SQL scripts (``schema.MIGRATIONS``, passed in); ``PRAGMA
user_version`` records how many have been applied, so an older file is upgraded in place when opened.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import threading
import time as clock
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from skin_app.config import PRIVATE_FOLDER_MODE, data_dir, database_path, private_folder
from skin_app.errors import UserFacingError
from skin_app.limits import RESERVE_BYTES

T = TypeVar("T")


class DatabaseError(UserFacingError, RuntimeError):
    """The database file cannot be used (missing, damaged, full, read-only, locked); the message says what to
    do. Also a ``RuntimeError``, as it was before the one hierarchy."""

    def __init__(self, message: str, advice: str = "", code: str = "database") -> None:
        super().__init__(message, advice, code)


log = logging.getLogger("skingorithm.storage")
FILE_MODE = 0o600
FOLDER_MODE = PRIVATE_FOLDER_MODE
# Tables every SkinGorithm database has had since migration 1: an SQLite file with tables but not these
# (or with no schema version) is another program's, refused and never migrated.
OUR_TABLES = frozenset({"profiles", "scans"})
_CREATE_TABLE = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", re.IGNORECASE)
# A file holding only our tables but no schema version is another first start's, mid-way: looked at again.
HALF_MADE_LOOKS, HALF_MADE_WAIT_SECONDS = 20, 0.1


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



def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")



def new_id(cur: sqlite3.Cursor) -> int:
    """The id SQLite gave the row an INSERT just wrote."""
    assert cur.lastrowid is not None
    return cur.lastrowid


class Database:
    """A handle on one database file. Safe to share between threads (one connection per thread)."""

    def __init__(self, path: str | os.PathLike | None, migrations: list[str]) -> None:
        self.path = Path(path) if path is not None else database_path()
        self.migrations = migrations
        self._local = threading.local()
        self._prepare_private_file()
        self._check_readable()
        self._migrate()
        self._finish_pending_vacuum()
        self._keep_reserve()

    def _prepare_private_file(self) -> None:
        """Folder 0700 when we create it; the file created 0600 before SQLite opens it (SQLite gives its
        ``-wal`` and ``-shm`` the same mode), and tightened to 0600 if an older version left it 0644."""
        folder = self.path.parent
        try:
            if not folder.exists() or folder.resolve() == data_dir().resolve():
                private_folder(folder)                     # an existing folder of the person's own: left as it is
            try:                   # only a file that does not exist yet: no connection can hold locks on it
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
    def connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            conn = _open_with_retry(self.path)
        except sqlite3.DatabaseError as exc:
            if _not_a_database(exc):
                raise self._not_sqlite() from exc
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
        conn = self.connect()
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

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        try:
            return self.connect().execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"The database {self.path} could not be read: {exc}") from exc

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _not_sqlite(self) -> DatabaseError:
        return DatabaseError(
            f"The file {self.path} is not a SkinGorithm database (it is not SQLite). "
            "It was left untouched. Move or rename it, or set SKINGORITHM_DB to another path.")

    def _damaged(self, why: str) -> DatabaseError:
        return DatabaseError(
            f"The database {self.path} is damaged ({why[:300]}). It was left untouched. "
            "Restore it from a backup, or move it away (or set SKINGORITHM_DB to another path) to start afresh.")

    def _foreign(self) -> DatabaseError:
        return DatabaseError(
            f"The file {self.path} is an SQLite database of another program, not SkinGorithm's. It was left "
            "untouched. Move or rename it, or set SKINGORITHM_DB to another path.")

    def _check_readable(self) -> None:
        """Reads an existing file read-only first: a damaged one is refused before anything writes to it
        (switching to WAL or migrating would otherwise touch its header)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        verdict, version, tables = self._look()
        ours = {m.group(1) for sql in self.migrations for m in _CREATE_TABLE.finditer(sql)}
        for _ in range(HALF_MADE_LOOKS):
            # Only our own tables and no schema version yet: another first start of this file is making it
            # (seen with a hundred at once); look again once its migration has committed, before calling
            # the file another program's.
            if not (tables and version == 0 and tables - {"sqlite_sequence"} <= ours):
                break
            clock.sleep(HALF_MADE_WAIT_SECONDS)
            verdict, version, tables = self._look()
        if verdict != ["ok"] and not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)):
            raise DatabaseError(
                f"The database {self.path} is read-only (file permissions, or a read-only disk), and SkinGorithm "
                "needs to write beside it. Nothing was changed; everything saved before is kept. Make the file "
                "and its folder writable, or set SKINGORITHM_DB to another path.")
        if verdict != ["ok"]:
            raise self._damaged('; '.join(verdict))
        if version > len(self.migrations):
            raise DatabaseError(
                f"The database {self.path} was written by a newer SkinGorithm (schema {version}, this version "
                f"knows {len(self.migrations)}). Update the app; the file was left untouched.")
        if version < 0:
            raise self._damaged(f"its schema version reads {version}")
        if tables and (version == 0 or not OUR_TABLES <= tables):
            raise self._foreign()

    def _look(self) -> tuple[list[str], int, set[str]]:
        """(quick_check verdict, schema version, table names) of the file, read through a read-only
        connection that cannot change it."""
        tables: set[str] = set()
        version = 0
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
            try:
                conn.execute("PRAGMA busy_timeout = 30000")
                verdict = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            if _not_a_database(exc):
                raise self._not_sqlite() from exc
            verdict = [str(exc)]
        return verdict, version, tables

    # -- schema --------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self.query("PRAGMA user_version")[0][0])

    def _migrate(self) -> None:
        try:
            with self.transaction(in_words=False) as conn:
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if version > len(self.migrations):
                    raise DatabaseError(
                        f"The database {self.path} was written by a newer SkinGorithm (schema "
                        f"{version}, this version knows {len(self.migrations)}). Update the app; the file was left untouched."
                    )
                if version < 0:
                    raise sqlite3.DatabaseError(f"its schema version reads {version}")
                for number in range(version, len(self.migrations)):
                    for statement in _split_sql(self.migrations[number]):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number + 1}")
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(
                f"The database {self.path} is damaged ({exc}). It was left untouched. "
                "Restore it from a backup, or set SKINGORITHM_DB to another path."
            ) from exc

    def delete_everything(self) -> None:
        """Removes every row of every table (the schema stays), then rewrites the file so deleted photos are not left in free pages."""
        def work(conn: sqlite3.Connection) -> None:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
            for table in tables:
                conn.execute(f'DELETE FROM "{table}"')
        self.delete(work)

    def delete(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Runs a delete (``work(conn)`` inside one transaction), then VACUUMs. Deleting is how a person
        frees space, so it must work on a full disk: if the disk is full, the reserve file kept beside
        the database (``RESERVE_BYTES``) is given up and the delete tried again without zeroing the
        deleted bytes first (``secure_delete = FAST``: a few pages to write, not every picture page).
        The VACUUM that then removes those bytes from the file runs when there is room: now if it
        fits, else at the next start (``_finish_pending_vacuum``, marked by an empty ``-vacuum`` file)."""
        try:
            with self.transaction() as conn:
                result = work(conn)
        except DatabaseError as exc:
            if not _disk_full(exc.__cause__):
                raise
            self._release_reserve()
            conn = self.connect()
            conn.execute("PRAGMA secure_delete = FAST")
            try:
                with self.transaction() as conn:
                    result = work(conn)
            finally:
                conn.execute("PRAGMA secure_delete = ON")
            with contextlib.suppress(OSError):          # an empty file: no data block needed
                self.vacuum_pending_path.touch(FILE_MODE)
            log.warning("The disk was full: deleted without zeroing first; the VACUUM follows when there is room")
        self.vacuum()
        return result

    def vacuum(self) -> None:
        """Rewrites the file after a delete. The delete itself is already committed (and, with
        secure_delete, its bytes zeroed), so a full disk here is logged, not shown as a failed delete:
        the next start tries again (``_finish_pending_vacuum``)."""
        conn = self.connect()
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            log.warning("VACUUM after a delete failed; the file keeps its free pages", exc_info=True)
            return
        with contextlib.suppress(OSError):
            self.vacuum_pending_path.unlink(missing_ok=True)
        self._keep_reserve()

    @property
    def vacuum_pending_path(self) -> Path:
        return Path(f"{self.path}-vacuum")

    def _finish_pending_vacuum(self) -> None:
        """A delete on a full disk left its bytes in free pages (``-vacuum`` marks it): VACUUM now, if
        there is room, so deleted pictures do not stay in the file."""
        if self.vacuum_pending_path.exists():
            self.vacuum()

    # -- the reserve: room for a delete on a full disk ------------------------------------------------
    @property
    def reserve_path(self) -> Path:
        return Path(f"{self.path}-reserve")

    def _keep_reserve(self) -> None:
        """Keeps ``RESERVE_BYTES`` allocated beside the database (really allocated, not a sparse file), to
        give up when the disk is full and a delete needs room; none if there is no room for it now."""
        path = self.reserve_path
        try:
            if path.exists() and path.stat().st_size >= RESERVE_BYTES:
                return
            disk = os.statvfs(path.parent)
            if disk.f_bavail * disk.f_frsize < 2 * RESERVE_BYTES:
                return                     # a nearly full disk: the room is the person's until it is freed
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
            try:
                os.posix_fallocate(fd, 0, RESERVE_BYTES)
            finally:
                os.close(fd)
        except OSError:                    # no room now (or a read-only place): none, tried again after a VACUUM
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)

    def _release_reserve(self) -> None:
        try:
            self.reserve_path.unlink(missing_ok=True)
        except OSError:
            pass

    # the names tests and older callers use
    _connect = connect
    _query = query
    _vacuum = vacuum


def _disk_full(exc: BaseException | None) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return isinstance(exc, sqlite3.Error) and (name.startswith("SQLITE_FULL") or "disk is full" in str(exc).lower())


def _not_a_database(exc: sqlite3.Error) -> bool:
    """SQLite's own answer to "is this file SQLite?" (SQLITE_NOTADB: the header is not SQLite's)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name == "SQLITE_NOTADB" or "file is not a database" in str(exc).lower()


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA schema_version")          # reads the header: a file that is not SQLite stops here
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")      # deleted photos are zeroed, not left in free pages
        _switch_to_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _open_with_retry(path: Path, tries: int = 5) -> sqlite3.Connection:
    """A new connection in WAL mode. An I/O error while another connection of this process is setting up
    or tearing down the shared-memory file can be momentary (seen once in the browser test, on a loaded
    machine): try a few more times before saying the file cannot be opened."""
    for attempt in range(tries):
        try:
            return _open(path)
        except sqlite3.OperationalError as exc:
            if "disk i/o error" not in str(exc).lower() or attempt == tries - 1:
                raise
            clock.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")


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
