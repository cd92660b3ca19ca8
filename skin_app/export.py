"""A profile's data as a file, and back: JSON (one document) or CSV (a ZIP of one CSV per table).

Both formats hold everything that belongs to one profile: scans (scores, raw metrics, model version,
note, and the stored face picture and masks unless left out), the ingredient shelf, and routines with
their steps and done/skipped marks. Ids in a file are local to it; they only link rows (a step to its
routine, a mark to its step). Importing never overwrites: it adds to a profile what it does not already
hold, or creates a new profile, in one transaction (all of a file or nothing).

A lone ``scans.csv`` (e.g. edited in a spreadsheet) can be imported too: it adds scans only.
SQL stays in storage.py; this module only converts and validates.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any, Callable

from skin_app.errors import UserFacingError
from skin_app.pictures import looks_like_png
from skin_app.progress import SCORE_KEYS
from skin_app.storage import ImportSummary, Storage, normalise_timestamp

FORMAT = "skingorithm-profile"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 25 * 1024 * 1024          # same as the upload limit
MAX_UNPACKED_BYTES = 200 * 1024 * 1024     # a ZIP may not unpack to more than this (zip bombs)
MAX_ROWS = 100_000                         # per table
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

    @property
    def counts(self) -> dict[str, int]:
        return {t: len(self.tables.get(t, [])) for t in TABLES}


# -- export ----------------------------------------------------------------------------------------
def _load(db: Storage, profile_id: int, include_pictures: bool) -> tuple[Any, dict[str, list[dict]]]:
    profile = db.get_profile(profile_id)
    if profile is None:
        raise ValueError("That profile no longer exists.")
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
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


# Column order of each CSV; JSON-valued fields get a "_json" column, pictures go in files beside.
_CSV_COLUMNS: dict[str, list[str]] = {
    "scans": ["id", "taken_at", *SCORE_KEYS, "acne_lesion_count", "note", "model_version", "picture", "masks",
              "scores_json", "metrics_json", "view", "visit"],
    "shelf_products": ["id", "name", "ingredients_text", "inci_json", "actives_json", "created_at"],
    "routines": ["id", "name", "kind", "time_of_day", "timezone", "start_date", "end_date", "weekdays",
                 "interval_days", "alert_minutes", "created_at", "updated_at"],
    "routine_steps": ["id", "routine_id", "position", "text", "product_name", "product_id"],
    "routine_log": ["routine_id", "occurrence_date", "status", "logged_at"],
    "routine_step_log": ["step_id", "occurrence_date", "status", "logged_at"],
}
_JSON_FIELDS = {"scores", "metrics", "inci", "actives"}

_README = """SkinGorithm profile export ({name}), made {when}.
One CSV per table, UTF-8. scans.csv: one row per scan; scores are 0-100 (higher is better);
scores_json and metrics_json hold every value (raw metrics can be re-scored later). The stored face
pictures and their concern masks (one concern per RGBA channel: acne, dark spots, wrinkles, dark
circles) are PNG files named in the picture and masks columns. Ids link rows between files only.
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
    return buf.getvalue()


def _csv_text(columns: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- import ----------------------------------------------------------------------------------------
def read_bundle(data: bytes, filename: str = "") -> Bundle:
    """Reads a JSON export, a CSV ZIP export, or a lone scans.csv; raises :class:`ExportFileError`."""
    if not data:
        raise ExportFileError("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise ExportFileError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    name = filename.lower()
    if data[:4] == b"PK\x03\x04" or name.endswith(".zip"):
        return _read_zip(data)
    if name.endswith(".csv"):
        return _bundle("Imported", None, True, {"scans": _read_csv(_text(data, filename), "scans")}, from_csv=True)
    if name.endswith(".json") or data.lstrip()[:1] == b"{":
        return _read_json(data)
    raise ExportFileError("This is not a SkinGorithm export (expected a .json, .zip or scans .csv file).")


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
    try:
        doc = json.loads(_text(data, "The JSON file"))
    except ValueError as exc:
        raise ExportFileError(f"The JSON file cannot be read ({exc}).") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ExportFileError("This JSON file is not a SkinGorithm profile export.")
    if not isinstance(doc.get("format_version"), int) or doc["format_version"] > FORMAT_VERSION:
        raise ExportFileError("This export was made by a newer SkinGorithm.", "Update the app, then import it again.")
    profile = doc.get("profile") if isinstance(doc.get("profile"), dict) else {}
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
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES or len(infos) > 3 * MAX_ROWS:
        raise ExportFileError("The ZIP file unpacks to far more than any SkinGorithm export.")
    members = {i.filename: i for i in infos}
    if "scans.csv" not in members:
        raise ExportFileError("This ZIP file is not a SkinGorithm export (it has no scans.csv).")

    def read(name: str) -> bytes:
        try:
            return zf.read(members[name])
        except (zipfile.BadZipFile, KeyError, OSError, EOFError):
            raise ExportFileError(f"{name} inside the ZIP file is damaged or missing.") from None

    tables = {t: (_read_csv(_text(read(f"{t}.csv"), f"{t}.csv"), t) if f"{t}.csv" in members else [])
              for t in TABLES}
    for row in tables["scans"]:
        for column, key in (("picture", "crop_png"), ("masks", "masks_png")):
            ref = row.pop(column, None)
            row[key] = read(ref) if ref else None
    name, created, store = "Imported", None, True
    if "profile.csv" in members:
        rows = _read_csv(_text(read("profile.csv"), "profile.csv"), "profile")
        if rows:
            name, created = rows[0].get("name") or name, rows[0].get("created_at") or None
            store = str(rows[0].get("store_pictures", "1")).strip() not in ("0", "false", "False")
    return _bundle(name, created, store, tables, from_csv=True)


def _read_csv(text: str, table: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for n, row in enumerate(reader, start=2):
        if n > MAX_ROWS + 1:
            raise ExportFileError(f"{table}.csv has more than {MAX_ROWS:,} rows.")
        clean = {k.strip(): (v if v != "" else None) for k, v in row.items() if k is not None}
        for key in list(clean):
            if key.endswith("_json") and key[:-5] in _JSON_FIELDS:
                raw = clean.pop(key)
                try:
                    clean[key[:-5]] = json.loads(raw) if raw is not None else None
                except ValueError:
                    raise ExportFileError(f"{table}.csv line {n}: the {key} column is not valid JSON.") from None
        if table == "scans" and clean.get("scores") is None:       # a spreadsheet with score columns only
            clean["scores"] = {k: clean[k] for k in SCORE_KEYS if clean.get(k) is not None}
        rows.append(clean)
    return rows


# -- validation: every row typed and checked before anything is written ------------------------------
def _bundle(name: Any, created: Any, store: Any, tables: dict[str, list[dict]], from_csv: bool = False) -> Bundle:
    name = " ".join(str(name or "Imported").split())[:50] or "Imported"
    typed = {t: [] for t in TABLES}
    for table in TABLES:
        rows = tables.get(table, [])
        if len(rows) > MAX_ROWS:
            raise ExportFileError(f"The file has more than {MAX_ROWS:,} {table.replace('_', ' ')}.")
        for n, row in enumerate(rows, start=1):
            try:
                typed[table].append(_ROW_CHECKS[table](row, n))
            except (KeyError, TypeError, ValueError) as exc:
                what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
                raise ExportFileError(f"Record {n} of {table.replace('_', ' ')} is damaged: {what}.") from None
    routine_ids = {r["id"] for r in typed["routines"]}
    step_ids = {s["id"] for s in typed["routine_steps"]}
    for table, key, known in (("routine_steps", "routine_id", routine_ids), ("routine_log", "routine_id", routine_ids),
                              ("routine_step_log", "step_id", step_ids)):
        for row in typed[table]:
            if row[key] not in known:
                raise ExportFileError(f"A record of {table.replace('_', ' ')} points to {key} {row[key]}, "
                                      "which is not in the file.")
    created_at = None
    if created:
        try:
            created_at = normalise_timestamp(str(created))
        except ValueError:
            created_at = None
    return Bundle(name, created_at, bool(store), typed)


def _int(v: Any, name: str) -> int:
    if isinstance(v, bool) or v is None:
        raise ValueError(f"{name} must be a whole number")
    if isinstance(v, float) and not v.is_integer():
        raise ValueError(f"{name} must be a whole number")
    return int(str(v).strip()) if isinstance(v, str) else int(v)


def _str(v: Any, name: str, limit: int, required: bool = True) -> str | None:
    if v is None or (isinstance(v, str) and not v.strip() and required):
        if required:
            raise ValueError(f"{name} is empty")
        return None
    if not isinstance(v, (str, int, float)):
        raise ValueError(f"{name} must be text")
    v = str(v)
    if len(v) > limit:
        raise ValueError(f"{name} is longer than {limit:,} characters")
    return v


def _day(v: Any, name: str, required: bool = True) -> str | None:
    if v is None and not required:
        return None
    return date.fromisoformat(str(v).strip()).isoformat()


def _check_scan(r: dict, n: int) -> dict:
    scores = r["scores"]
    if not isinstance(scores, dict) or not scores:
        raise ValueError("scores are missing")
    for key, value in scores.items():
        f = float(value)
        if not 0 <= f <= 100:
            raise ValueError(f"score {key} is {value}, outside 0-100")
    metrics = r.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise ValueError("metrics must be an object")
    pictures = {}
    for key in ("crop_png", "masks_png"):
        value = r.get(key)
        if value is not None and not looks_like_png(value):
            raise ValueError(f"{key.replace('_png', '')} picture is not a PNG")
        pictures[key] = bytes(value) if value is not None else None
    return {"id": _int(r.get("id", n), "id"), "taken_at": normalise_timestamp(str(r["taken_at"])),
            "note": _str(r.get("note"), "note", Storage.NOTE_MAX, required=False) or "",
            "scores": {str(k): float(v) for k, v in scores.items()}, "metrics": metrics,
            "model_version": _str(r.get("model_version") or "unknown", "model_version", 200),
            "view": _str(r.get("view") or "front", "view", 20), "visit": _str(r.get("visit"), "visit", 64, required=False) or None,
            **pictures}


def _check_shelf(r: dict, n: int) -> dict:
    inci, actives = r.get("inci") or [], r.get("actives") or {}
    if not isinstance(inci, list) or not isinstance(actives, dict):
        raise ValueError("inci must be a list and actives an object")
    return {"id": _int(r["id"], "id"), "name": _str(r["name"], "name", Storage.SHELF_NAME_MAX),
            "ingredients_text": _str(r["ingredients_text"], "ingredients_text", Storage.SHELF_TEXT_MAX),
            "inci": [str(i) for i in inci], "actives": actives,
            "created_at": normalise_timestamp(str(r.get("created_at") or datetime.now(timezone.utc).isoformat()))}


def _check_routine(r: dict, n: int) -> dict:
    from skin_app.reminders import is_known_timezone
    kind = str(r["kind"])
    if kind not in ("once", "daily", "weekdays", "every_n_days"):
        raise ValueError(f"unknown schedule kind {kind[:20]!r}")
    tz = str(r["timezone"])
    if not is_known_timezone(tz):
        raise ValueError(f"unknown time zone {tz[:40]!r}")
    weekdays = str(r.get("weekdays") or "")
    if any(d not in "0123456" for d in weekdays.split(",") if d):
        raise ValueError("weekdays must be numbers 0-6")
    alert = _int(r.get("alert_minutes") or 0, "alert_minutes")
    if alert not in (0, 15, 30):
        raise ValueError("alert_minutes must be 0, 15 or 30")
    interval = _int(r.get("interval_days") or 1, "interval_days")
    if interval < 1:
        raise ValueError("interval_days must be at least 1")
    created = normalise_timestamp(str(r["created_at"]))
    return {"id": _int(r["id"], "id"), "name": _str(r["name"], "name", 200), "kind": kind,
            "time_of_day": time.fromisoformat(str(r["time_of_day"]).strip()).strftime("%H:%M"), "timezone": tz,
            "start_date": _day(r["start_date"], "start_date"), "end_date": _day(r.get("end_date"), "end_date", False),
            "weekdays": weekdays, "interval_days": interval, "alert_minutes": alert, "created_at": created,
            "updated_at": normalise_timestamp(str(r.get("updated_at") or created))}


def _check_step(r: dict, n: int) -> dict:
    product = r.get("product_id")
    return {"id": _int(r["id"], "id"), "routine_id": _int(r["routine_id"], "routine_id"),
            "position": _int(r.get("position", n), "position"), "text": _str(r["text"], "text", 500),
            "product_name": _str(r.get("product_name"), "product_name", Storage.SHELF_NAME_MAX, required=False),
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
