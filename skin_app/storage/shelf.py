"""The ``shelf_products`` table (products a person saved from the ingredient analyzer) and the
``unknown_ingredients`` log (names the analyzer did not recognise). Owned by the ingredients feature
(skin_app/ingredients/report.py analyses; this only stores).
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from skin_app.errors import InvalidRecordError
from skin_app.limits import SHELF_NAME_MAX, SHELF_TEXT_MAX, UNKNOWN_ROWS_MAX, UNKNOWN_TEXT_MAX
from skin_app.storage.db import Database, new_id, utc_now
from skin_app.values import text_problem


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


def clean_product_name(name: str | None) -> str:
    """A shelf product's name as stored: runs of whitespace (line breaks, tabs) become one space."""
    return " ".join((name or "").split())


def shelf_product_problem(name: str, ingredients_text: str | None) -> str | None:
    """What stops a product (its cleaned name) from going on the shelf, in words; None when it may.
    The one rule for saving from the analyzer and for importing a file."""
    if not name:
        return "Give the product a name before saving it to your shelf."
    if len(name) > SHELF_NAME_MAX:
        return f"A product name can be at most {SHELF_NAME_MAX} characters."
    if not (ingredients_text or "").strip():
        return "There is no ingredient list to save."
    if len(ingredients_text or "") > SHELF_TEXT_MAX:
        return f"An ingredient list can be at most {SHELF_TEXT_MAX:,} characters."
    problem = text_problem(name, "The product name") or text_problem(ingredients_text or "", "The ingredient list",
                                                                      multiline=True)
    return f"{problem}; remove it and try again." if problem else None


def save_shelf_product(db: Database, profile_id: int, name: str, ingredients_text: str, *,
                       inci: list[str] | None = None, actives: dict[str, list[str]] | None = None
                       ) -> ShelfProduct:
    name = clean_product_name(name)
    problem = shelf_product_problem(name, ingredients_text)
    if problem:
        raise InvalidRecordError(problem)
    created = utc_now()
    inci, actives = list(inci or []), dict(actives or {})
    with db.transaction() as conn:
        product_id = write_shelf_product(conn, profile_id, name, ingredients_text, inci, actives, created)
    return ShelfProduct(product_id, profile_id, name, ingredients_text, inci, actives, created)


def write_shelf_product(conn: sqlite3.Connection, profile_id: int, name: str, ingredients_text: str, inci: Any,
                        actives: Any, created_at: str) -> int:
    """The one INSERT into ``shelf_products`` (saving from the analyzer, import); returns the new id."""
    return new_id(conn.execute(
        "INSERT INTO shelf_products(profile_id, name, ingredients_text, inci_json, actives_json, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (profile_id, name, ingredients_text, json.dumps(inci), json.dumps(actives), created_at)))


def list_shelf(db: Database, profile_id: int) -> list[ShelfProduct]:
    rows = db.query("SELECT * FROM shelf_products WHERE profile_id = ? ORDER BY name COLLATE NOCASE, id",
                       (profile_id,))
    return [_shelf_from_row(r) for r in rows]


def get_shelf_product(db: Database, product_id: int, *, profile_id: int) -> ShelfProduct | None:
    """One product on the shelf of ``profile_id``; None when there is none (or it is on another's)."""
    rows = db.query("SELECT * FROM shelf_products WHERE id = ? AND profile_id = ?", (product_id, profile_id))
    return _shelf_from_row(rows[0]) if rows else None


def delete_shelf_product(db: Database, product_id: int, *, profile_id: int) -> bool:
    """Removes a product from the shelf of ``profile_id``; True if there was one."""
    with db.transaction() as conn:
        return conn.execute("DELETE FROM shelf_products WHERE id = ? AND profile_id = ?",
                            (product_id, profile_id)).rowcount > 0


def shelf_rows(db: Database, profile_id: int) -> list[ShelfProduct]:
    return [_shelf_from_row(r) for r in db.query(
        "SELECT * FROM shelf_products WHERE profile_id = ? ORDER BY id", (profile_id,))]


def log_unknown_ingredients(db: Database, profile_id: int, names: list[str], example_product: str = "") -> None:
    """Counts names the analyzer did not recognise, in the profile's own log (local only; the person decides
    to export them)."""
    cleaned = list(dict.fromkeys(" ".join(n.split())[:UNKNOWN_TEXT_MAX] for n in names if n and n.strip()))
    if not cleaned:
        return
    now = utc_now()
    example = " ".join((example_product or "").split())[:SHELF_NAME_MAX]
    with db.transaction() as conn:
        for text in cleaned:
            conn.execute(
                "INSERT INTO unknown_ingredients(profile_id, text, count, first_seen, last_seen, example_product) "
                "VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT(profile_id, text) DO UPDATE SET count = count + 1, "
                "last_seen = excluded.last_seen", (profile_id, text, now, now, example))
        # Keep the log bounded: drop the least useful (rarest, oldest) rows beyond the cap.
        conn.execute(
            "DELETE FROM unknown_ingredients WHERE profile_id = ? AND text IN (SELECT text FROM unknown_ingredients "
            "WHERE profile_id = ? ORDER BY count DESC, last_seen DESC LIMIT -1 OFFSET ?)",
            (profile_id, profile_id, UNKNOWN_ROWS_MAX))


def unknown_ingredients(db: Database, profile_id: int) -> list[UnknownIngredient]:
    rows = db.query("SELECT * FROM unknown_ingredients WHERE profile_id = ? ORDER BY count DESC, last_seen DESC, text",
                    (profile_id,))
    return [UnknownIngredient(r["text"], r["count"], r["first_seen"], r["last_seen"], r["example_product"])
            for r in rows]


def clear_unknown_ingredients(db: Database, profile_id: int) -> None:
    with db.transaction() as conn:
        conn.execute("DELETE FROM unknown_ingredients WHERE profile_id = ?", (profile_id,))


def _shelf_from_row(r: sqlite3.Row) -> ShelfProduct:
    return ShelfProduct(r["id"], r["profile_id"], r["name"], r["ingredients_text"], json.loads(r["inci_json"]),
                        json.loads(r["actives_json"]), r["created_at"])
