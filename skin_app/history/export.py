"""A profile's data as a file, and back: JSON (one document) or CSV (a ZIP of one CSV per table).

Both formats hold everything that belongs to one profile: scans (scores, raw metrics, model version,
note, and the stored face picture and masks unless left out), the ingredient shelf, and routines with
their steps and done/skipped marks. Ids in a file are local to it; they only link rows (a step to its
routine, a mark to its step). Importing never overwrites: it adds to a profile what it does not already
hold, or creates a new profile, in one transaction (all of a file or nothing).

A lone ``scans.csv`` (e.g. edited in a spreadsheet) can be imported too: it adds scans only.
SQL stays in the storage package; this module only converts and validates.

A file to import is hostile until checked: ZIP members are read in small pieces and counted by the
bytes they really inflate to (a header can lie), a picture file serves one scan, JSON is refused when
it holds more containers or deeper nesting than any export, every value follows the rules of every
stored value (``values.py``: finite bounded numbers, text without surrogates or control characters,
times every zone can show), and routines pass the same rules as the Routine form
(``reminders.problems``). Each export is a backup that restores: every record the app stores (any view,
full-check visits, each scan's scoring state) comes back from both formats, and an export larger than an
import reads (``MAX_IMPORT_BYTES``) is refused with advice rather than written. Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@``, tab, carriage return) are written with a leading apostrophe and read back without it.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from skin_app.concerns import VIEW_CONCERNS, VIEWS
from skin_app.errors import InvalidRecordError, UserFacingError
from skin_app.history.progress import SCORE_KEYS
from skin_app.limits import (
    ALERT_CHOICES,
    INTERVAL_DAYS_MIN,
    MAX_CSV_FIELD,
    MAX_FILE_BYTES,
    MAX_IMPORT_BYTES,
    MAX_JSON_CONTAINERS,
    MAX_PNG_BYTES,
    MAX_ROWS,
    MAX_TOTAL_ROWS,
    MAX_UNPACKED_BYTES,
    MODEL_VERSION_MAX,
    NOTE_MAX,
    PROFILE_NAME_MAX,
    SCHEDULE_KINDS,
    SHELF_NAME_MAX,
    SHELF_TEXT_MAX,
)
from skin_app.scan.pictures import looks_like_png
from skin_app.storage import ImportSummary, Storage, normalise_timestamp
from skin_app.storage.shelf import clean_product_name, shelf_product_problem
from skin_app.values import check_json_value, check_text, text_problem

FORMAT = "skingorithm-profile"
FORMAT_VERSION = 1
_READ_CHUNK = 64 * 1024
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TABLES = ("scans", "shelf_products", "routines", "routine_steps", "routine_log", "routine_step_log")


class ExportFileError(UserFacingError):
    """The file to import is not a SkinGorithm export, or it is damaged."""

    def __init__(self, message: str, advice: str = "Choose a file exported from SkinGorithm (Progress > Export).") -> None:
        super().__init__(message, advice, code="bad_import")


@dataclass
class Bundle:
    """One profile's exported data, validated and typed (blobs as bytes, JSON fields as objects)."""
    profile_name: str
    profile_created_at: str | None
    store_pictures: bool
    tables: dict[str, list[dict]]


# -- export ----------------------------------------------------------------------------------------
def _load(db: Storage, profile_id: int, include_pictures: bool) -> tuple[Any, dict[str, list[dict]]]:
    profile = db.get_profile(profile_id)
    if profile is None:
        raise InvalidRecordError("That profile no longer exists.")
    return profile, db.export_profile_tables(profile_id, include_pictures=include_pictures)


def export_json(db: Storage, profile_id: int, include_pictures: bool = True) -> bytes:
    profile, tables = _load(db, profile_id, include_pictures)
    doc: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "profile": {"name": profile.name, "created_at": profile.created_at, "store_pictures": profile.store_pictures},
    }
    for table in TABLES:
        doc[table] = [{k: _b64(v) if isinstance(v, bytes) else v for k, v in row.items()} for row in tables[table]]
    return _restorable(json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))


# Column order of each CSV; JSON-valued fields get a "_json" column, pictures go in files beside.
_CSV_COLUMNS: dict[str, list[str]] = {
    "scans": ["id", "taken_at", *SCORE_KEYS, "acne_lesion_count", "note", "model_version", "picture", "masks",
              "scores_json", "metrics_json", "view", "visit", "scored_by"],
    "shelf_products": ["id", "name", "ingredients_text", "inci_json", "actives_json", "created_at"],
    "routines": ["id", "name", "kind", "time_of_day", "timezone", "start_date", "end_date", "weekdays",
                 "interval_days", "alert_minutes", "created_at", "updated_at"],
    "routine_steps": ["id", "routine_id", "position", "text", "product_name", "product_id"],
    "routine_log": ["routine_id", "occurrence_date", "status", "logged_at"],
    "routine_step_log": ["step_id", "occurrence_date", "status", "logged_at"],
}
_JSON_FIELDS = {"scores", "metrics", "inci", "actives"}

_README = """SkinGorithm profile export ({name}), made {when}.
One CSV per table, UTF-8. scans.csv: one row per scan; scores are 0-100 (higher is better); a blank
redness means it was not measured (scans from before it existed or measured with its first definition,
or a photo whose colour could not be read); scores_json and metrics_json hold every value (raw metrics
can be re-scored later). The stored
face pictures and their concern masks (a greyscale PNG, one bit per concern: 1 acne, 2 dark spots,
4 wrinkles, 8 dark circles, 16 redness; older scans: one concern per RGBA channel, acne, dark spots,
wrinkles, dark circles) are PNG files named in the picture and masks columns. Ids link rows between files only.
Import this ZIP (or a scans.csv alone) back on the Progress page.
"""


def export_csv_zip(db: Storage, profile_id: int, include_pictures: bool = True) -> bytes:
    profile, tables = _load(db, profile_id, include_pictures)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.txt", _README.format(name=profile.name, when=datetime.now(timezone.utc).date()))
        zf.writestr("profile.csv", _csv_text(["name", "created_at", "store_pictures"],
                                             [{"name": profile.name, "created_at": profile.created_at,
                                               "store_pictures": int(profile.store_pictures)}]))
        for table in TABLES:
            rows = []
            for row in tables[table]:
                out = {}
                for key, value in row.items():
                    if key in _JSON_FIELDS:
                        out[f"{key}_json"] = json.dumps(value, ensure_ascii=False, sort_keys=True)
                    elif key in ("crop_png", "masks_png"):
                        if value is not None:
                            name = f"{'pictures' if key == 'crop_png' else 'masks'}/scan-{row['id']}.png"
                            zf.writestr(name, value)
                            out["picture" if key == "crop_png" else "masks"] = name
                    else:
                        out[key] = value
                if table == "scans":
                    out.update({k: round(float(v), 2) for k, v in row["scores"].items() if k in SCORE_KEYS})
                    out["acne_lesion_count"] = row["metrics"].get("acne_lesion_count", "")
                rows.append(out)
            zf.writestr(f"{table}.csv", _csv_text(_CSV_COLUMNS[table], rows))
    return _restorable(buf.getvalue())


def _csv_text(columns: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    # RFC 4180 line ends: with "\n" alone, a cell holding a bare "\r" would be written unquoted and
    # could not be read back.
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else spreadsheet_safe(v)) for k, v in row.items()})
    return out.getvalue()


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP's advice for
    CSV injection); so does text that already starts with an apostrophe before such a character, so
    :func:`from_spreadsheet` restores every value exactly. Numbers stay numbers."""
    if not isinstance(value, str):
        return value
    if value[:1] in _FORMULA_START or (value[:1] == "'" and value[1:2] in (*_FORMULA_START, "'")):
        return "'" + value
    return value


def from_spreadsheet(value: str | None) -> str | None:
    if value is not None and value[:1] == "'" and value[1:2] in (*_FORMULA_START, "'"):
        return value[1:]
    return value


def unknown_ingredients_csv(rows) -> bytes:
    """The unrecognised-ingredient log as CSV for a person to send on (pasted shop text is escaped)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name_as_printed", "times_seen", "first_seen", "last_seen", "example_product"])
    for r in rows:
        writer.writerow([spreadsheet_safe(v) for v in (r.text, r.count, r.first_seen, r.last_seen, r.example_product)])
    return out.getvalue().encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- import ----------------------------------------------------------------------------------------
def read_bundle(data: bytes, filename: str = "") -> Bundle:
    """Reads a JSON export, a CSV ZIP export, or a lone scans.csv; raises :class:`ExportFileError`."""
    check_head(data[:_READ_CHUNK], filename)
    if len(data) > MAX_IMPORT_BYTES:
        raise ExportFileError(f"The file is larger than {_mb(MAX_IMPORT_BYTES)}, more than any export this app writes.")
    name = filename.lower()
    if data[:4] == b"PK\x03\x04" or name.endswith(".zip"):
        return _read_zip(data)
    if name.endswith(".csv"):
        if len(data) > MAX_FILE_BYTES:
            raise ExportFileError(f"A lone scans .csv can be at most {_mb(MAX_FILE_BYTES)}.")
        return _bundle("Imported", None, True, {"scans": _read_csv(_text(data, filename), "scans")}, from_csv=True)
    if name.endswith(".json") or data.lstrip()[:1] == b"{":
        return _read_json(data)
    raise ExportFileError("This is not a SkinGorithm export (expected a .json, .zip or scans .csv file).")


def check_head(head: bytes, filename: str = "") -> None:
    """Refuses, from its first bytes, a file that cannot be an export (so the CLI need not read an
    endless or huge file to find out): empty, or neither a ZIP, a JSON object, nor text for a .csv."""
    if not head:
        raise ExportFileError("The file is empty.")
    if in_own_format(head):
        return
    if filename.lower().endswith((".csv", ".zip", ".json")) and b"\0" not in head:
        return                                              # read further: its own checks say what is wrong
    raise ExportFileError("This is not a SkinGorithm export (expected a .json, .zip or scans .csv file).")


def in_own_format(head: bytes) -> bool:
    """Whether a file's first bytes are those of a JSON document or a ZIP: the two formats an export of any
    size comes in, up to ``MAX_IMPORT_BYTES`` (a lone scans .csv stays under ``MAX_FILE_BYTES``). The
    server reads this from an upload's first bytes to choose the upload's size limit (serve.py)."""
    return head[:4] == b"PK\x03\x04" or head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"{"


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB"


def _restorable(data: bytes) -> bytes:
    """An export is a backup: one too large to import back is refused, with what to do, not written."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ExportFileError(
            f"This profile's export would be {_mb(len(data))}, more than the {_mb(MAX_IMPORT_BYTES)} an import "
            "reads back, so it would not restore.", "Export it without the face pictures, or delete old scans first.")
    return data


def import_bundle(db: Storage, bundle: Bundle, into_profile_id: int | None = None) -> ImportSummary:
    """Adds the bundle to ``into_profile_id`` (skipping what is already there) or to a new profile."""
    summary = db.import_profile_tables(bundle.tables, profile_name=bundle.profile_name,
                                       into_profile_id=into_profile_id,
                                       profile_created_at=bundle.profile_created_at)
    if summary.created_profile and not bundle.store_pictures:
        db.set_store_pictures(summary.profile_id, False)
    return summary


def _text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExportFileError(f"{what or 'The file'} is not UTF-8 text.") from None


def _read_json(data: bytes) -> Bundle:
    if data.count(b"{") + data.count(b"[") > MAX_JSON_CONTAINERS:
        raise ExportFileError("The JSON file holds far more records than any SkinGorithm export.")
    try:
        doc = json.loads(_text(data, "The JSON file"))
    except RecursionError:
        raise ExportFileError("The JSON file is nested far deeper than any SkinGorithm export.") from None
    except ValueError as exc:                  # also numbers with thousands of digits
        raise ExportFileError(f"The JSON file cannot be read ({str(exc)[:200]}).") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ExportFileError("This JSON file is not a SkinGorithm profile export.")
    if not isinstance(doc.get("format_version"), int) or doc["format_version"] > FORMAT_VERSION:
        raise ExportFileError("This export was made by a newer SkinGorithm.", "Update the app, then import it again.")
    found = doc.get("profile")
    profile: dict = found if isinstance(found, dict) else {}
    tables = {}
    for table in TABLES:
        rows = doc.get(table, [])
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ExportFileError(f"The {table} part of the file is damaged (not a list of records).")
        tables[table] = [dict(r) for r in rows]
    for row in tables["scans"]:
        for key in ("crop_png", "masks_png"):
            if isinstance(row.get(key), str):
                try:
                    row[key] = base64.b64decode(row[key], validate=True)
                except ValueError:
                    raise ExportFileError(f"A stored picture of scan {row.get('id')} is damaged.") from None
    return _bundle(profile.get("name"), profile.get("created_at"), profile.get("store_pictures", True), tables)


def _read_zip(data: bytes) -> Bundle:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except zipfile.BadZipFile:
        raise ExportFileError("The ZIP file is damaged.") from None
    too_big = ExportFileError("The ZIP file unpacks to far more than any SkinGorithm export.")
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES or len(infos) > 3 * MAX_ROWS:
        raise too_big
    members = {i.filename: i for i in infos}
    if "scans.csv" not in members:
        raise ExportFileError("This ZIP file is not a SkinGorithm export (it has no scans.csv).")
    budget = [MAX_UNPACKED_BYTES]

    def read(name: str, limit: int = MAX_UNPACKED_BYTES) -> bytes:
        """The member's real content, inflated piece by piece: a header that under-states the size
        cannot make us inflate more than ``limit`` (or what is left of the whole file's budget)."""
        if name not in members:
            raise ExportFileError(f"{name[:80]} is named in the file but missing from the ZIP.")
        cap = min(limit, budget[0])
        parts, got = [], 0
        try:
            with zf.open(members[name]) as fh:
                while True:
                    piece = fh.read(_READ_CHUNK)
                    if not piece:
                        break
                    got += len(piece)
                    if got > cap:
                        raise too_big if cap == budget[0] else ExportFileError(
                            f"{name[:80]} inside the ZIP file is far larger than anything SkinGorithm stores.")
                    parts.append(piece)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError, ValueError):
            raise ExportFileError(f"{name[:80]} inside the ZIP file is damaged.") from None
        budget[0] -= got
        return b"".join(parts)

    tables = {t: (_read_csv(_text(read(f"{t}.csv"), f"{t}.csv"), t) if f"{t}.csv" in members else [])
              for t in TABLES}
    used: set[str] = set()
    for row in tables["scans"]:
        for column, key in (("picture", "crop_png"), ("masks", "masks_png")):
            ref = row.pop(column, None)
            if ref in used:
                raise ExportFileError(f"{ref[:80]} is named by two scans; each picture in an export belongs "
                                      "to one scan.")
            if ref:
                used.add(ref)
            row[key] = read(ref, MAX_PNG_BYTES) if ref else None
    name, created, store = "Imported", None, True
    if "profile.csv" in members:
        rows = _read_csv(_text(read("profile.csv"), "profile.csv"), "profile")
        if rows:
            name, created = rows[0].get("name") or name, rows[0].get("created_at") or None
            store = _flag(rows[0].get("store_pictures", "1"), "store_pictures")
    return _bundle(name, created, store, tables, from_csv=True)


def _read_csv(text: str, table: str) -> list[dict]:
    if csv.field_size_limit() < MAX_CSV_FIELD:       # the default (131,072) is below what an export may hold
        csv.field_size_limit(MAX_CSV_FIELD)
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    try:
        for n, row in enumerate(reader, start=2):
            if n > MAX_ROWS + 1:
                raise ExportFileError(f"{table}.csv has more than {MAX_ROWS:,} rows.")
            rows.append(_csv_row(row, table, n))
    except csv.Error as exc:
        raise ExportFileError(f"{table}.csv line {reader.line_num} cannot be read ({str(exc)[:120]}).") from None
    return rows


def _csv_row(row: dict, table: str, n: int) -> dict:
    clean: dict[str, Any] = {str(k).strip(): (from_spreadsheet(v) if v != "" or k == "scored_by" else None)
                             for k, v in row.items() if k is not None and isinstance(v, str)}
    for key in list(clean):
        if key.endswith("_json") and key[:-5] in _JSON_FIELDS:
            raw = clean.pop(key)
            if raw is not None and raw.count("{") + raw.count("[") > MAX_JSON_CONTAINERS // 40:
                raise ExportFileError(f"{table}.csv line {n}: the {key} column holds far more than any export.")
            try:
                clean[key[:-5]] = json.loads(raw) if raw is not None else None
            except (ValueError, RecursionError):
                raise ExportFileError(f"{table}.csv line {n}: the {key} column is not valid JSON.") from None
    if table == "scans" and clean.get("scores") is None:       # a spreadsheet with score columns only
        clean["scores"] = {k: clean[k] for k in SCORE_KEYS if clean.get(k) is not None}
    return clean


# -- validation: every row typed and checked before anything is written ------------------------------
def _flag(value: Any, what: str) -> bool:
    """A yes/no field as an export writes it (JSON true/false, CSV 1/0) or as a person might edit it
    ("true"/"false", "yes"/"no"); anything else is damage, never guessed (``bool("false")`` is True)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
    if isinstance(value, str) and value.strip().lower() in words:
        return words[value.strip().lower()]
    raise ExportFileError(f"The profile's {what} is neither yes nor no ({str(value)[:40]!r}).")


def _bundle(name: Any, created: Any, store: Any, tables: dict[str, list[dict]], from_csv: bool = False) -> Bundle:
    name = " ".join(str(name or "Imported").split())[:PROFILE_NAME_MAX] or "Imported"
    problem = text_problem(name, "The profile name")
    if problem:
        raise ExportFileError(f"{problem}.")
    typed: dict[str, list[dict]] = {t: [] for t in TABLES}
    if sum(len(tables.get(t, [])) for t in TABLES) > MAX_TOTAL_ROWS:
        raise ExportFileError(f"The file has more than {MAX_TOTAL_ROWS:,} records, more than any export.")
    for table in TABLES:
        rows = tables.get(table, [])
        if len(rows) > MAX_ROWS:
            raise ExportFileError(f"The file has more than {MAX_ROWS:,} {table.replace('_', ' ')}.")
        for n, row in enumerate(rows, start=1):
            try:
                typed[table].append(_ROW_CHECKS[table](row, n))
            except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as exc:
                what = f"missing {str(exc)[:40]}" if isinstance(exc, KeyError) else str(exc)[:200]
                raise ExportFileError(f"Record {n} of {table.replace('_', ' ')} is damaged: {what}.") from None
        key = ("id",) if "id" in _CSV_COLUMNS[table] else (_CSV_COLUMNS[table][0], "occurrence_date")
        if table != "scans":
            seen: set[tuple] = set()
            for row in typed[table]:
                k = tuple(row[c] for c in key)
                if k in seen:
                    raise ExportFileError(f"Two records of {table.replace('_', ' ')} share the "
                                          f"{' and '.join(key).replace('_', ' ')} {', '.join(map(str, k))}; "
                                          "an export holds each only once.")
                seen.add(k)
    _check_routines_as_the_form_does(typed)
    routine_ids = {r["id"] for r in typed["routines"]}
    step_ids = {s["id"] for s in typed["routine_steps"]}
    for table, ref, known in (("routine_steps", "routine_id", routine_ids), ("routine_log", "routine_id", routine_ids),
                              ("routine_step_log", "step_id", step_ids)):
        for row in typed[table]:
            if row[ref] not in known:
                raise ExportFileError(f"A record of {table.replace('_', ' ')} points to {ref} {row[ref]}, "
                                      "which is not in the file.")
    created_at = None
    if created:
        try:
            created_at = normalise_timestamp(str(created))
        except (ValueError, OverflowError):
            created_at = None
    return Bundle(name, created_at, _flag(store, "store_pictures"), typed)


def _check_routines_as_the_form_does(typed: dict[str, list[dict]]) -> None:
    """Every routine, with its steps, must pass the rules the Routine form applies (name length, weekdays,
    dates in order and in range, interval, number of steps): a routine the form would refuse could not
    be shown, edited or exported as a calendar file later."""
    from skin_app.routines.schedule import Routine, Schedule, Step, problems
    steps: dict[int, list[dict]] = {}
    for st in sorted(typed["routine_steps"], key=lambda s: (s["routine_id"], s["position"], s["id"])):
        steps.setdefault(st["routine_id"], []).append(st)
    for r in typed["routines"]:
        routine = Routine(r["name"], Schedule(
            r["kind"], time.fromisoformat(r["time_of_day"]), r["timezone"], date.fromisoformat(r["start_date"]),
            date.fromisoformat(r["end_date"]) if r["end_date"] else None,
            tuple(int(d) for d in r["weekdays"].split(",") if d), r["interval_days"], r["alert_minutes"]),
            tuple(Step(st["text"], st["product_name"]) for st in steps.get(r["id"], [])))
        found = problems(routine)
        if found:
            raise ExportFileError(f"The routine {r['name'][:60]!r} in the file cannot be used: {found[0]}",
                                  "Fix it in the file, or remove it, and import again.")


def _int(v: Any, name: str) -> int:
    if isinstance(v, bool) or v is None:
        raise ValueError(f"{name} must be a whole number")
    if isinstance(v, float) and not v.is_integer():
        raise ValueError(f"{name} must be a whole number")
    if isinstance(v, str) and len(v.strip()) > 20:
        raise ValueError(f"{name} is far too large")
    number = int(str(v).strip()) if isinstance(v, str) else int(v)
    if not -2**63 <= number < 2**63:                  # what SQLite stores
        raise ValueError(f"{name} is far too large")
    return number


def _str(v: Any, name: str, limit: int | None, required: bool = True, multiline: bool = False) -> str | None:
    """``v`` as text of at most ``limit`` characters (``None``: the domain validator checks the length
    afterwards, in the words the form uses), valid Unicode without control characters (tabs and line
    breaks allowed in ``multiline`` text): :func:`values.check_text`."""
    if v is None or (isinstance(v, str) and not v.strip() and required):
        if required:
            raise ValueError(f"{name} is empty")
        return None
    if not isinstance(v, (str, int, float)) or isinstance(v, bool):
        raise ValueError(f"{name} must be text")
    v = str(v)
    if limit is not None and len(v) > limit:
        raise ValueError(f"{name} is longer than {limit:,} characters")
    return check_text(v, name, multiline)


def _day(v: Any, name: str, required: bool = True) -> str | None:
    if v is None and not required:
        return None
    return date.fromisoformat(str(v).strip()[:40]).isoformat()


def _check_scan(r: dict, n: int) -> dict:
    scores = r["scores"]
    if not isinstance(scores, dict) or not scores:
        raise ValueError("scores are missing")
    if len(scores) > 4 * len(SCORE_KEYS):
        raise ValueError("it has far more scores than a scan")
    for key, value in scores.items():
        if not isinstance(value, (int, float, str)) or isinstance(value, bool):
            raise ValueError(f"score {str(key)[:40]} is not a number")
        f = float(value)
        if not 0 <= f <= 100:
            raise ValueError(f"score {str(key)[:40]} is {str(value)[:20]}, outside 0-100")
    view = _str(r.get("view") or "front", "view", 20)
    if view not in VIEWS:
        raise ValueError(f"{view!r} is not a view (one of {', '.join(VIEWS)})")
    missing = [k for k in ("overall", *VIEW_CONCERNS[view]) if k not in scores]     # what a scan of its view holds
    if missing:
        raise ValueError(f"scores are missing: {', '.join(missing)}")
    metrics = check_json_value(r.get("metrics") or {}, "metrics")
    if not isinstance(metrics, dict):
        raise ValueError("metrics must be an object")
    lesions = metrics.get("acne_lesion_count")
    if lesions is not None and (isinstance(lesions, bool) or not isinstance(lesions, int) or not 0 <= lesions < 10**6):
        raise ValueError("acne_lesion_count must be a whole number from 0")
    pictures = {}
    for key in ("crop_png", "masks_png"):
        value = r.get(key)
        if value is not None and not looks_like_png(value):
            raise ValueError(f"{key.replace('_png', '')} picture is not a PNG of a size this app stores")
        pictures[key] = bytes(value) if value is not None else None
    return {"id": _int(r.get("id", n), "id"), "taken_at": normalise_timestamp(str(r["taken_at"])),
            "note": _str(r.get("note"), "note", NOTE_MAX, required=False, multiline=True) or "",
            "scores": {str(k): float(v) for k, v in scores.items()}, "metrics": metrics,
            "model_version": _str(r.get("model_version") or "unknown", "model_version", MODEL_VERSION_MAX),
            "view": view, "visit": _str(r.get("visit"), "visit", 64, required=False) or None,
            "scored_by": _scored_by_in_file(r), **pictures}


def _scored_by_in_file(r: dict) -> str | None:
    """The calibration the file says scored the scan ('' = not recorded); None in exports made before it
    was written, where storage reads it from the metrics as before."""
    value = r.get("scored_by")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MODEL_VERSION_MAX:
        raise ValueError("scored_by must be short text")
    return value


def _check_shelf(r: dict, n: int) -> dict:
    inci, actives = check_json_value(r.get("inci") or [], "inci"), check_json_value(r.get("actives") or {}, "actives")
    if not isinstance(inci, list) or not isinstance(actives, dict):
        raise ValueError("inci must be a list and actives an object")
    name = clean_product_name(_str(r["name"], "name", SHELF_NAME_MAX, multiline=True))   # line breaks: cleaned
    text = _str(r["ingredients_text"], "ingredients_text", SHELF_TEXT_MAX, multiline=True)
    problem = shelf_product_problem(name, text)
    if problem:
        raise ValueError(problem)
    return {"id": _int(r["id"], "id"), "name": name, "ingredients_text": text,
            "inci": [str(i) for i in inci], "actives": actives,
            "created_at": normalise_timestamp(str(r.get("created_at") or datetime.now(timezone.utc).isoformat()))}


def _check_routine(r: dict, n: int) -> dict:
    from skin_app.routines.schedule import is_known_timezone
    kind = str(r["kind"])
    if kind not in SCHEDULE_KINDS:
        raise ValueError(f"unknown schedule kind {kind[:20]!r}")
    tz = str(r["timezone"])
    if not is_known_timezone(tz):
        raise ValueError(f"unknown time zone {tz[:40]!r}")
    weekdays = str(r.get("weekdays") or "")
    if any(d not in "0123456" for d in weekdays.split(",") if d):
        raise ValueError("weekdays must be numbers 0-6")
    alert = _int(r.get("alert_minutes") or 0, "alert_minutes")
    if alert not in ALERT_CHOICES:
        raise ValueError(f"alert_minutes must be one of {', '.join(map(str, ALERT_CHOICES))}")
    interval = _int(r.get("interval_days") or 1, "interval_days")
    if interval < INTERVAL_DAYS_MIN:             # the upper bound: reminders.problems, in the form's words
        raise ValueError(f"interval_days must be at least {INTERVAL_DAYS_MIN}")
    created = normalise_timestamp(str(r["created_at"]))
    return {"id": _int(r["id"], "id"), "name": _str(r["name"], "name", None), "kind": kind,
            "time_of_day": time.fromisoformat(str(r["time_of_day"]).strip()).strftime("%H:%M"), "timezone": tz,
            "start_date": _day(r["start_date"], "start_date"), "end_date": _day(r.get("end_date"), "end_date", False),
            "weekdays": weekdays, "interval_days": interval, "alert_minutes": alert, "created_at": created,
            "updated_at": normalise_timestamp(str(r.get("updated_at") or created))}


def _check_step(r: dict, n: int) -> dict:
    product = r.get("product_id")
    return {"id": _int(r["id"], "id"), "routine_id": _int(r["routine_id"], "routine_id"),
            "position": _int(r.get("position", n), "position"), "text": _str(r["text"], "text", None),
            "product_name": _str(r.get("product_name"), "product_name", None, required=False),
            "product_id": None if product is None else _int(product, "product_id")}


def _check_mark(key: str) -> Callable[[dict, int], dict]:
    def check(r: dict, n: int) -> dict:
        status = str(r["status"])
        if status not in ("done", "skipped"):
            raise ValueError(f"status must be done or skipped, not {status[:20]!r}")
        return {key: _int(r[key], key), "occurrence_date": _day(r["occurrence_date"], "occurrence_date"),
                "status": status, "logged_at": normalise_timestamp(str(r.get("logged_at") or r["occurrence_date"]))}
    return check


_ROW_CHECKS: dict[str, Callable[[dict, int], dict]] = {
    "scans": _check_scan, "shelf_products": _check_shelf, "routines": _check_routine,
    "routine_steps": _check_step, "routine_log": _check_mark("routine_id"), "routine_step_log": _check_mark("step_id"),
}
