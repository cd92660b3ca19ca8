"""Every stored value typed and bounded, whoever writes it (issue 26): an import is a parser of untrusted
data. Numbers in measurements are finite and bounded, text is Unicode without lone surrogates or control
characters, times lie where every time zone can show them; the same rules hold for a new scan, an import
(page and CLI) and re-scoring. A bad row that an older version let in marks that scan and never stops a
page, the CLI or the next start."""
from __future__ import annotations

import io
import json
import os
import sqlite3
import zipfile

import pytest

from skin_app.errors import InvalidRecordError
from skin_app.history.export import ExportFileError, export_csv_zip, export_json, import_bundle, read_bundle
from skin_app.scan.calibration import load_calibration
from skin_app.storage import Storage
from tests.app_helpers import SCORES, page, texts

HUGE = 10**400                      # the 703-byte file: a 400-digit integer in the measurements


@pytest.fixture()
def ada(db):
    p = db.create_profile("Ada")
    db.add_scan(p.id, taken_at="2025-03-01T08:00:00Z", scores=SCORES, model_version="m1", note="first",
                metrics={"view": "front", "soft_fraction": {"acne": 0.01}, "area_fraction": {"flek": 0.02},
                         "under_eye_contrast": 4.0})
    return p


def tampered_json(db, profile_id, change) -> bytes:
    doc = json.loads(export_json(db, profile_id))
    change(doc)
    return json.dumps(doc).encode()


def tampered_zip(db, profile_id, change) -> bytes:
    """The profile's CSV ZIP with ``change(row)`` applied to the first scans.csv row (as text)."""
    src = zipfile.ZipFile(io.BytesIO(export_csv_zip(db, profile_id)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "scans.csv":
                header, row, *rest = data.decode().split("\r\n")
                data = "\r\n".join([header, change(row), *rest]).encode()
            dst.writestr(info.filename, data)
    return out.getvalue()


# -- numbers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [("soft_fraction", "acne"), ("area_fraction", "flek"), ("under_eye_contrast",)])
@pytest.mark.parametrize("value", [HUGE, -HUGE, 1e300, float("nan"), float("inf")],
                         ids=["400 digits", "minus 400 digits", "1e300", "nan", "inf"])
def test_a_measurement_that_is_not_a_bounded_finite_number_is_refused_on_import(db, ada, path, value):
    def change(doc):
        target = doc["scans"][0]["metrics"]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    with pytest.raises(ExportFileError, match="number"):
        read_bundle(tampered_json(db, ada.id, change), "x.json")


def test_a_huge_number_in_the_csv_measurements_column_is_refused(db, ada):
    data = tampered_zip(db, ada.id, lambda row: row.replace('""acne"": 0.01', f'""acne"": {HUGE}'))
    assert str(HUGE)[:50] in zipfile.ZipFile(io.BytesIO(data)).read("scans.csv").decode()
    with pytest.raises(ExportFileError, match="number far too large"):
        read_bundle(data, "x.zip")


def test_storage_refuses_such_measurements_from_any_caller(db, ada):
    for metrics in ({"soft_fraction": {"acne": HUGE}}, {"x": float("nan")}, {"\ud800": 1}):
        with pytest.raises(InvalidRecordError):
            db.add_scan(ada.id, taken_at="2025-03-02T08:00:00Z", scores=SCORES, metrics=metrics, model_version="m")
    assert len(db.list_scans(ada.id)) == 1


def _store_unchecked(db: Storage, profile_id: int, taken_at: str, metrics_json: str, scores_json: str | None = None,
                     scored_by: str = "seed") -> None:
    """A row as an older version's unchecked import left it, written past every check."""
    conn = sqlite3.connect(db.path)
    conn.execute("INSERT INTO scans(profile_id, taken_at, note, scores_json, metrics_json, model_version, scored_by) "
                 "VALUES (?, ?, 'old import', ?, ?, 'm0', ?)",
                 (profile_id, taken_at, scores_json or json.dumps(SCORES), metrics_json, scored_by))
    conn.commit()
    conn.close()


def test_rescoring_a_stored_scan_with_a_huge_number_marks_that_scan_and_rescores_the_others(db, ada):
    _store_unchecked(db, ada.id, "2025-03-05T08:00:00+00:00", json.dumps({"soft_fraction": {"acne": HUGE}}))
    _store_unchecked(db, ada.id, "2025-03-06T08:00:00+00:00", json.dumps(
        {"area_fraction": {"acne": 0.01, "flek": 0.01, "wrinkle": 0.01, "panda_eye": 0.1}}))
    cal = load_calibration()
    assert db.rescore_scans(cal.version, cal.rescore_legacy) == (1, 1)        # ada's own scan needs none
    bad, good = db.list_scans(ada.id)[1:]
    assert bad.rescore_failed and not good.rescore_failed and good.scored_by == cal.version


@pytest.mark.parametrize("name", ["progress", "settings", "scan", "routine", "ingredients"])
def test_every_page_opens_after_such_a_scan_was_stored(db, ada, name):
    _store_unchecked(db, ada.id, "2025-03-05T08:00:00+00:00", json.dumps({"soft_fraction": {"acne": HUGE}}))
    _store_unchecked(db, ada.id, "2025-03-07T08:00:00+00:00", "{not json", scores_json='{"overall": "x"}')
    at = page(name)
    at.session_state["profile_id"] = ada.id
    at.run()
    assert not at.exception, at.exception


# -- text ---------------------------------------------------------------------------------------------
SURROGATE = "bad \ud800 text"


@pytest.mark.parametrize("table, field", [("scans", "note"), ("scans", "model_version"), ("profile", "name"),
                                          ("shelf_products", "name"), ("shelf_products", "ingredients_text"),
                                          ("routines", "name"), ("routine_steps", "text")])
def test_a_lone_surrogate_anywhere_in_an_imported_file_is_refused_in_words(db, ada, table, field):
    db.save_shelf_product(ada.id, "Serum", "Aqua, Glycerin")
    from datetime import date, time

    from skin_app.routines.schedule import Routine, Schedule, Step
    db.create_routine(ada.id, Routine("Night", Schedule("daily", time(21), "UTC", date(2025, 3, 1)), (Step("Cleanse"),)))

    def change(doc):
        (doc[table] if table == "profile" else doc[table][0])[field] = SURROGATE
    with pytest.raises(ExportFileError, match="surrogate"):
        read_bundle(tampered_json(db, ada.id, change), "x.json")


def test_a_lone_surrogate_in_a_measurement_key_is_refused_so_every_later_export_still_works(db, ada):
    data = tampered_json(db, ada.id, lambda doc: doc["scans"][0]["metrics"].update({"\udcff": 1}))
    with pytest.raises(ExportFileError, match="surrogate"):
        read_bundle(data, "x.json")
    export_json(db, ada.id).decode("utf-8")


@pytest.mark.parametrize("field, text", [("model_version", "m\x1b[31m"), ("visit", "v\x00"), ("view", "front\x07")])
def test_control_characters_in_one_line_text_are_refused(db, ada, field, text):
    data = tampered_json(db, ada.id, lambda doc: doc["scans"][0].update({field: text}))
    with pytest.raises(ExportFileError, match="control character|not a view"):
        read_bundle(data, "x.json")


def test_a_note_keeps_its_line_breaks_and_tabs(db, ada):
    data = tampered_json(db, ada.id, lambda doc: doc["scans"][0].update({"note": "a\tb\r\nc"}))
    summary = import_bundle(db, read_bundle(data, "x.json"))
    assert db.list_scans(summary.profile_id)[0].note == "a\tb\r\nc"


# -- times at the ends of the calendar --------------------------------------------------------------------
@pytest.mark.parametrize("taken_at", ["0001-01-01T00:00:00+00:00", "9999-12-31T00:00:00+00:00",
                                      "0001-06-01T00:00:00Z"])
def test_a_time_some_time_zone_cannot_show_is_refused_on_import(db, ada, taken_at):
    data = tampered_json(db, ada.id, lambda doc: doc["scans"][0].update({"taken_at": taken_at}))
    with pytest.raises(ExportFileError, match="outside the range"):
        read_bundle(data, "x.json")


@pytest.fixture()
def calendar_ends(db, ada):
    """Two scans an older version stored at the ends of the calendar."""
    _store_unchecked(db, ada.id, "0001-01-01T00:00:00+00:00", "{}", scored_by="")
    _store_unchecked(db, ada.id, "9999-12-31T23:59:59+00:00", "{}", scored_by="")
    return ada


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Kiritimati"])
def test_history_list_shows_scans_at_the_ends_of_the_calendar_in_any_time_zone(db, calendar_ends, zone, run_cli):
    import time
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone                 # this computer's zone, as the command reads it
    time.tzset()
    try:
        status, out, err = run_cli("history", "list", "--profile", "Ada")
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
    assert status == 0, err[-2000:]
    assert "0001-01-01 00:00" in out and "9999-12-31 " in out     # in UTC where the zone cannot
    assert len(out.strip().splitlines()) == 3


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Kiritimati"])
def test_progress_opens_with_scans_at_the_ends_of_the_calendar_in_any_time_zone(db, calendar_ends, zone,
                                                                                  monkeypatch):
    from zoneinfo import ZoneInfo

    import app_pages.common
    monkeypatch.setattr(app_pages.common, "viewer_zone", lambda: ZoneInfo(zone))
    at = page("progress")
    at.session_state["profile_id"] = calendar_ends.id
    at.run()
    assert not at.exception, at.exception
    assert any("Import" == b.label for b in at.button)               # the import controls are reached
    assert not [t for t in texts(at.error)]


@pytest.mark.parametrize("name", ["Ada\x1b[31m", "Ada \ud800", "Ada\x07"])
def test_a_profile_name_with_control_characters_or_surrogates_is_refused_from_any_caller(db, name):
    for make in (db.create_profile, db.get_or_create_profile):
        with pytest.raises(InvalidRecordError, match="control character|surrogate"):
            make(name)
    assert db.list_profiles() == []
