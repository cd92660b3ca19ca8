"""The ``profiles`` table: a person's name and privacy choice; deleting one deletes all it owns (cascade)."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from skin_app.errors import InvalidRecordError
from skin_app.limits import PROFILE_NAME_MAX
from skin_app.storage.db import Database, new_id, utc_now
from skin_app.values import text_problem


@dataclass(frozen=True)
class Profile:
    id: int
    name: str
    created_at: str
    store_pictures: bool = True           # keep the small aligned face picture with each scan


def create_profile(db: Database, name: str) -> Profile:
    name = " ".join(name.split())
    if not name:
        raise InvalidRecordError("A profile needs a name.")
    if len(name) > PROFILE_NAME_MAX:
        raise InvalidRecordError(f"A profile name can be at most {PROFILE_NAME_MAX} characters.")
    _check_name(name)
    with db.transaction() as conn:
        row = conn.execute("SELECT id FROM profiles WHERE name = ?", (name,)).fetchone()
        if row is not None:
            raise InvalidRecordError(f"A profile called {name!r} already exists.")
        created = utc_now()
        return Profile(write_profile(conn, name, created), name, created)


def get_or_create_profile(db: Database, name: str) -> Profile:
    """The profile called ``name`` (any case), created if missing: looked up and created inside one
    write transaction, so two first starts at once make one profile, not two or an error."""
    name = " ".join(name.split())
    if not name or len(name) > PROFILE_NAME_MAX:
        raise InvalidRecordError(f"A profile name needs 1 to {PROFILE_NAME_MAX} characters.")
    _check_name(name)
    with db.transaction() as conn:             # BEGIN IMMEDIATE: nobody else writes between look-up and write
        if conn.execute("SELECT 1 FROM profiles WHERE name = ?", (name,)).fetchone() is None:
            write_profile(conn, name, utc_now())
        row = conn.execute("SELECT id, name, created_at, store_pictures FROM profiles WHERE name = ?",
                           (name,)).fetchone()
    return _profile_from_row(row)


def profiles_or_first(db: Database, name: str) -> list[Profile]:
    """Every profile; on a first start (none yet) one called ``name`` is made, once, even when many
    sessions or processes start at the same moment."""
    profiles = list_profiles(db)
    if profiles:
        return profiles
    with db.transaction() as conn:
        if conn.execute("SELECT COUNT(*) FROM profiles").fetchone()[0] == 0:
            write_profile(conn, " ".join(name.split()), utc_now())
    return list_profiles(db)


def _check_name(name: str) -> None:
    """A name is shown on every page and printed by the CLI: no control characters, no lone surrogates."""
    problem = text_problem(name, "The profile name")
    if problem:
        raise InvalidRecordError(f"{problem}; use letters, digits and punctuation.")


def list_profiles(db: Database) -> list[Profile]:
    return [_profile_from_row(r) for r in db.query(
        "SELECT id, name, created_at, store_pictures FROM profiles ORDER BY name")]


def get_profile(db: Database, profile_id: int) -> Profile | None:
    rows = db.query("SELECT id, name, created_at, store_pictures FROM profiles WHERE id = ?", (profile_id,))
    return _profile_from_row(rows[0]) if rows else None


def set_store_pictures(db: Database, profile_id: int, store: bool) -> None:
    """The profile's privacy choice for new scans (existing pictures stay until forgotten)."""
    with db.transaction() as conn:
        conn.execute("UPDATE profiles SET store_pictures = ? WHERE id = ?", (1 if store else 0, profile_id))


def delete_profile(db: Database, profile_id: int) -> None:
    """Deletes the profile and, by cascade, everything that belongs to it."""
    db.delete(lambda conn: conn.execute("DELETE FROM profiles WHERE id = ?", (profile_id,)))


def write_profile(conn: sqlite3.Connection, name: str, created_at: str) -> int:
    """The one INSERT into ``profiles`` (new profile, first start, import); returns the new id."""
    return new_id(conn.execute("INSERT INTO profiles(name, created_at) VALUES (?, ?)", (name, created_at)))


def _profile_from_row(r: sqlite3.Row) -> Profile:
    return Profile(r["id"], r["name"], r["created_at"], bool(r["store_pictures"]))
