"""Profile export as JSON and as a ZIP of CSVs, and importing either back (or a lone scans.csv)."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, time, timezone

import pytest

from skin_app import limits
from skin_app.history import export, progress
from skin_app.history.export import ExportFileError, export_csv_zip, export_json, import_bundle, read_bundle
from skin_app.history.progress import DEFAULT_NOISE_BAND, NoiseBand, compare_scores, load_noise_band
from skin_app.routines.schedule import Routine, Schedule, Step
from skin_app.storage import Storage
from tests.photos import small_png

SCORES = {"acne": 91.5, "flek": 88.0, "wrinkle": 95.25, "panda_eye": 80.0, "overall": 88.69}


@pytest.fixture()
def db(tmp_path):
    s = Storage(tmp_path / "e.sqlite3")
    yield s
    s.close()


@pytest.fixture()
def ada(db):
    """A profile with two scans (one with pictures), a shelf product, and a routine with marks."""
    p = db.create_profile("Ada")
    db.add_scan(p.id, taken_at="2025-03-01T08:00:00+00:00", scores=SCORES, metrics={"acne_lesion_count": 3,
                "per_region": {"forehead": {"acne": 0.01}}}, model_version="m1", note="first, with \"quotes\"",
                crop_png=small_png(1), masks_png=small_png(2))
    db.add_scan(p.id, taken_at="2025-03-08T08:00:00+00:00", scores={**SCORES, "overall": 90.0}, metrics={},
                model_version="m1", note="")
    serum = db.save_shelf_product(p.id, "Serum, 10%", "Aqua, Niacinamide", inci=["AQUA", "NIACINAMIDE"],
                                  actives={"niacinamide": ["Niacinamide"]})
    r = db.create_routine(p.id, Routine(
        "Night", Schedule("weekdays", time(21, 30), "Europe/Berlin", date(2025, 3, 1), weekdays=(0, 2, 4),
                          alert_minutes=15),
        (Step("Cleanse"), Step("Serum", serum.name, serum.id)), created_at=datetime(2025, 3, 1, tzinfo=timezone.utc)))
    db.mark_routine(r.id, date(2025, 3, 3), "done", profile_id=r.profile_id)
    db.mark_routine(r.id, date(2025, 3, 5), "skipped", step_id=r.steps[1].id, profile_id=r.profile_id)
    return p


def comparable(db: Storage, profile_id: int) -> dict:
    """The profile's tables with database ids replaced by positions, so two profiles can be compared."""
    t = db.export_profile_tables(profile_id)
    shelf = {p["id"]: i for i, p in enumerate(t["shelf_products"])}
    routines = {r["id"]: i for i, r in enumerate(t["routines"])}
    steps = {s["id"]: i for i, s in enumerate(t["routine_steps"])}
    strip = lambda rows: [{k: v for k, v in r.items() if k != "id"} for r in rows]  # noqa: E731
    out = {k: strip(v) for k, v in t.items()}
    for s in out["routine_steps"]:
        s["routine_id"] = routines[s["routine_id"]]
        s["product_id"] = shelf.get(s["product_id"])
    for m in out["routine_log"]:
        m["routine_id"] = routines[m["routine_id"]]
    for m in out["routine_step_log"]:
        m["step_id"] = steps[m["step_id"]]
    return out


@pytest.mark.parametrize("fmt", ["json", "zip"])
def test_an_export_imported_as_a_new_profile_holds_exactly_the_same_data(db, ada, fmt):
    data = export_json(db, ada.id) if fmt == "json" else export_csv_zip(db, ada.id)
    summary = import_bundle(db, read_bundle(data, f"ada.{fmt}"))
    assert summary.created_profile and summary.profile_name == "Ada (2)"
    assert (summary.scans_added, summary.shelf_added, summary.routines_added, summary.marks_added) == (2, 1, 1, 2)
    assert comparable(db, summary.profile_id) == comparable(db, ada.id)


@pytest.mark.parametrize("fmt", ["json", "zip"])
def test_importing_into_the_same_profile_again_adds_nothing(db, ada, fmt):
    data = export_json(db, ada.id) if fmt == "json" else export_csv_zip(db, ada.id)
    before = comparable(db, ada.id)
    summary = import_bundle(db, read_bundle(data, f"ada.{fmt}"), into_profile_id=ada.id)
    assert (summary.scans_added, summary.scans_skipped, summary.shelf_skipped, summary.routines_skipped) == (0, 2, 1, 1)
    assert comparable(db, ada.id) == before


def test_the_csv_zip_is_readable_in_a_spreadsheet(db, ada):
    zf = zipfile.ZipFile(io.BytesIO(export_csv_zip(db, ada.id)))
    names = set(zf.namelist())
    assert {"README.txt", "profile.csv", "scans.csv", "shelf_products.csv", "routines.csv", "routine_steps.csv",
            "routine_log.csv", "routine_step_log.csv"} <= names
    lines = zf.read("scans.csv").decode().splitlines()
    assert lines[0].startswith("id,taken_at,overall,acne,flek,wrinkle,panda_eye,redness,acne_lesion_count,note")
    assert "2025-03-01T08:00:00+00:00,88.69,91.5,88.0,95.25,80.0,,3," in lines[1]     # blank redness: not measured
    assert zf.read("pictures/scan-1.png") == small_png(1)


def test_pictures_can_be_left_out_of_an_export(db, ada):
    doc = json.loads(export_json(db, ada.id, include_pictures=False))
    assert [s["crop_png"] for s in doc["scans"]] == [None, None]
    zf = zipfile.ZipFile(io.BytesIO(export_csv_zip(db, ada.id, include_pictures=False)))
    assert not [n for n in zf.namelist() if n.endswith(".png")]


def test_a_lone_scans_csv_from_a_spreadsheet_adds_scans(db, ada):
    csv_text = "taken_at,overall,acne,flek,wrinkle,panda_eye,note\n2025-04-01T08:00:00Z,70,71,72,73,74,from excel\n"
    summary = import_bundle(db, read_bundle(csv_text.encode(), "scans.csv"), into_profile_id=ada.id)
    assert summary.scans_added == 1
    last = db.latest_scan(ada.id)
    assert (last.taken_at, last.note, last.scores["overall"], last.scores["panda_eye"]) == \
        ("2025-04-01T08:00:00+00:00", "from excel", 70.0, 74.0)


@pytest.mark.parametrize("data,name,words", [
    (b"", "x.json", "empty"),
    (b"\x00\x01binary junk", "x.bin", "not a SkinGorithm export"),
    (b'{"format": "something-else"}', "x.json", "not a SkinGorithm profile export"),
    (b'{"format": "skingorithm-profile", "format_version": 99}', "x.json", "newer SkinGorithm"),
    (b"{not json", "x.json", "cannot be read"),
    (b"PK\x03\x04 broken zip", "x.zip", "damaged"),
    (b"taken_at,overall\nyesterday,70\n", "scans.csv", "Record 1 of scans is damaged"),
    (b"taken_at,overall\n2025-01-01,170\n", "scans.csv", "outside 0-100"),
])
def test_a_file_that_is_not_a_good_export_is_refused_with_a_clear_message(data, name, words):
    with pytest.raises(ExportFileError) as err:
        read_bundle(data, name)
    assert words in err.value.message
    assert err.value.advice


def test_a_zip_that_would_unpack_to_a_huge_size_is_refused(monkeypatch):
    monkeypatch.setattr(export, "MAX_UNPACKED_BYTES", 1000)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("scans.csv", "a" * 5000)
    with pytest.raises(ExportFileError, match="unpacks"):
        read_bundle(buf.getvalue(), "bomb.zip")


def test_a_mark_pointing_to_a_routine_not_in_the_file_is_refused(db, ada):
    doc = json.loads(export_json(db, ada.id))
    doc["routine_log"][0]["routine_id"] = 999
    with pytest.raises(ExportFileError, match="not in the file"):
        read_bundle(json.dumps(doc).encode(), "x.json")


def test_a_picture_that_is_not_a_png_is_refused(db, ada):
    doc = json.loads(export_json(db, ada.id))
    doc["scans"][0]["crop_png"] = "PHNjcmlwdD4="                # "<script>" in base64
    with pytest.raises(ExportFileError, match="not a PNG"):
        read_bundle(json.dumps(doc).encode(), "x.json")


# -- noise band and changes (skin_app/history/progress.py) -----------------------------------------------------
def test_the_noise_band_is_read_from_the_measurement_file(tmp_path):
    path = tmp_path / "noise_band.json"
    path.write_text(json.dumps({"acne": 1.5, "flek": 2, "wrinkle": 0.5, "panda_eye": 3.25, "overall": 1.0,
                                "method": "pairs of re-shots"}))
    band = load_noise_band(path)
    assert band.measured and band["panda_eye"] == 3.25 and band["overall"] == 1.0
    assert band.method == "pairs of re-shots"


def test_the_shipped_noise_band_measurement_is_usable():
    band = load_noise_band()
    assert band.measured, band.source
    assert all(0 < band[k] < 20 for k in progress.SCORE_KEYS)


@pytest.mark.parametrize("content", [None, "not json", "[1, 2]", '{"acne": "wide"}', '{"acne": -1}'])
def test_without_a_usable_measurement_the_documented_default_is_used(tmp_path, content):
    path = tmp_path / "noise_band.json"
    if content is not None:
        path.write_text(content)
    band = load_noise_band(path)
    assert not band.measured and band.points == DEFAULT_NOISE_BAND and "default" in band.source


def test_a_change_inside_the_noise_band_is_not_called_progress():
    band = NoiseBand({"overall": 2.0, "acne": 2.0, "flek": 2.0, "wrinkle": 2.0, "panda_eye": 2.0}, True, "test")
    changes = {c.key: c for c in compare_scores(
        {"overall": 80, "acne": 70, "flek": 90, "wrinkle": 85},
        {"overall": 81.9, "acne": 75, "flek": 86, "wrinkle": 87}, band)}
    assert (changes["overall"].verdict, changes["overall"].arrow) == ("within noise", "≈")
    assert (changes["acne"].verdict, changes["acne"].arrow, changes["acne"].delta) == ("better", "▲", 5)
    assert (changes["flek"].verdict, changes["flek"].arrow) == ("worse", "▼")
    assert changes["wrinkle"].verdict == "within noise"                  # exactly the band: not beyond it
    assert "panda_eye" not in changes                                    # missing in both: not compared
    assert "not a real change" in changes["overall"].describe()


# -- hostile files: every one refused with a clear message, nothing half-imported ----------------------
from tests.hostile import deep_json, peak_rss_mb, zip_with_lying_header  # noqa: E402


def _zip(members: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def test_a_zip_member_that_understates_its_size_is_refused_without_inflating_it():
    bomb = zip_with_lying_header("scans.csv", payload_size=400 * 1024 * 1024, claimed_size=100)
    assert len(bomb) < 1_000_000
    run = peak_rss_mb(f"""from skin_app.history.export import read_bundle, ExportFileError
from tests.hostile import zip_with_lying_header
data = zip_with_lying_header("scans.csv", {400 * 1024 * 1024}, 100)
---
try:
    read_bundle(data, "bomb.zip")
except ExportFileError as exc:
    result = exc.message""")
    assert "unpacks to far more" in run["result"] or "damaged" in run["result"]
    assert run["delta_mb"] < 100, run


def test_one_picture_named_by_many_scans_is_refused(db):
    rows = "".join(f"2025-01-{d:02d}T08:00:00Z,90,90,90,90,90,pictures/a.png\n" for d in range(1, 29))
    data = _zip({"scans.csv": "taken_at,overall,acne,flek,wrinkle,panda_eye,picture\n" + rows,
                 "pictures/a.png": small_png(1)})
    with pytest.raises(ExportFileError, match="named by two scans"):
        read_bundle(data, "x.zip")


def test_a_picture_far_larger_than_a_stored_one_is_refused():
    from tests.hostile import png_of_zeros
    data = _zip({"scans.csv": "taken_at,overall,acne,flek,wrinkle,panda_eye,picture\n"
                              "2025-01-01T08:00:00Z,90,90,90,90,90,pictures/a.png\n",
                 "pictures/a.png": png_of_zeros(4000, 4000)})
    with pytest.raises(ExportFileError, match="not a PNG of a size this app stores"):
        read_bundle(data, "x.zip")


def test_deeply_nested_json_is_refused_clearly():
    with pytest.raises(ExportFileError, match="nested far deeper|damaged"):
        read_bundle(deep_json(100_000), "x.json")


def test_nesting_inside_metrics_is_bounded(db, ada):
    doc = json.loads(export_json(db, ada.id))
    deep: dict = {}
    for _ in range(200):
        deep = {"x": deep}
    doc["scans"][0]["metrics"] = deep
    with pytest.raises(ExportFileError, match="nested deeper"):
        read_bundle(json.dumps(doc).encode(), "x.json")


@pytest.mark.parametrize("field,value,words", [
    ("id", 10**30, "far too large"),
    ("id", "9" * 5000, "far too large"),
    ("taken_at", "0001-01-01T00:00:00+05:00", "outside the range"),
    ("taken_at", "9999-12-31T23:59:59-05:00", "outside the range"),
])
def test_huge_numbers_and_dates_at_the_ends_of_the_calendar_are_refused(db, ada, field, value, words):
    doc = json.loads(export_json(db, ada.id))
    doc["scans"][0][field] = value
    with pytest.raises(ExportFileError, match=words):
        read_bundle(json.dumps(doc).encode(), "x.json")


def test_a_number_with_thousands_of_digits_is_refused_clearly():
    data = b'{"format": "skingorithm-profile", "format_version": 1, "scans": [{"id": ' + b"9" * 10_000 + b"}]}"
    with pytest.raises(ExportFileError, match="cannot be read"):
        read_bundle(data, "x.json")


def test_an_export_with_a_cell_over_the_csv_default_field_size_can_be_restored(db):
    import csv
    csv.field_size_limit(131_072)                                          # Python's default
    p = db.create_profile("Long")
    names = [f"Extract Number {i} Of A Very Long Botanical Name" for i in range(1900)]
    text = ", ".join(names)
    assert len(text) < limits.SHELF_TEXT_MAX
    db.save_shelf_product(p.id, "Everything", text, inci=[n.upper() + " (AND) LEAF EXTRACT" * 2 for n in names])
    data = export_csv_zip(db, p.id)
    table = zipfile.ZipFile(io.BytesIO(data)).read("shelf_products.csv").decode()
    with pytest.raises(csv.Error, match="field larger than field limit"):   # what the landed reader hit
        list(csv.reader(io.StringIO(table)))
    summary = import_bundle(db, read_bundle(data, "x.zip"))
    assert summary.shelf_added == 1


def test_two_routines_with_the_same_id_are_refused(db, ada):
    doc = json.loads(export_json(db, ada.id))
    doc["routines"].append({**doc["routines"][0], "name": "Other"})
    with pytest.raises(ExportFileError, match="share the id"):
        read_bundle(json.dumps(doc).encode(), "x.json")


@pytest.mark.parametrize("change,words", [
    ({"name": "N" * 81}, "keep it to 80"),
    ({"kind": "weekdays", "weekdays": ""}, "at least one weekday"),
    ({"end_date": "2025-01-01"}, "before the start date"),
    ({"kind": "every_n_days", "interval_days": 10**6}, "N between 1 and"),
    ({"start_date": "0001-01-01"}, "between 1970 and 2199"),
    ({"start_date": "9999-12-31"}, "between 1970 and 2199"),
])
def test_routines_the_form_would_refuse_are_refused_on_import(db, ada, change, words):
    doc = json.loads(export_json(db, ada.id))
    doc["routines"][0].update(change)
    with pytest.raises(ExportFileError, match=words):
        read_bundle(json.dumps(doc).encode(), "x.json")


def test_a_routine_with_forty_steps_is_refused_on_import(db, ada):
    doc = json.loads(export_json(db, ada.id))
    rid = doc["routines"][0]["id"]
    doc["routine_steps"] += [{"id": 1000 + i, "routine_id": rid, "position": 10 + i, "text": f"s{i}"} for i in range(40)]
    with pytest.raises(ExportFileError, match="at most 30 steps"):
        read_bundle(json.dumps(doc).encode(), "x.json")


def test_a_scan_without_an_overall_score_is_refused(db, ada):
    doc = json.loads(export_json(db, ada.id))
    del doc["scans"][0]["scores"]["overall"]
    with pytest.raises(ExportFileError, match="missing: overall"):
        read_bundle(json.dumps(doc).encode(), "x.json")


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx",
                                  "'=already quoted", "''", "'plain", "plain"])
def test_formula_cells_are_escaped_in_the_csv_and_restored_on_import(db, text):
    p = db.create_profile("Formulas")
    db.add_scan(p.id, taken_at="2025-03-01T08:00:00+00:00", scores=SCORES, metrics={}, model_version="m1", note=text)
    data = export_csv_zip(db, p.id)
    cells = list(__import__("csv").reader(io.StringIO(zipfile.ZipFile(io.BytesIO(data)).read("scans.csv").decode())))
    note = cells[1][cells[0].index("note")]
    assert note[:1] not in ("=", "+", "-", "@", "\t", "\r")
    summary = import_bundle(db, read_bundle(data, "x.zip"))
    assert db.latest_scan(summary.profile_id).note == text.strip()


def test_the_unknown_ingredient_log_escapes_formulas():
    from skin_app.history.export import unknown_ingredients_csv
    from skin_app.storage import UnknownIngredient
    rows = [UnknownIngredient("=HYPERLINK(\"http://evil.example\")", 2, "2025-01-01", "2025-01-02", "@shop")]
    lines = unknown_ingredients_csv(rows).decode().splitlines()
    assert lines[1].startswith("\"'=HYPERLINK(") and lines[1].endswith(",'@shop")


def test_a_note_with_a_bare_carriage_return_survives_the_csv_round_trip(db):
    p = db.create_profile("CR")
    db.add_scan(p.id, taken_at="2025-03-01T08:00:00+00:00", scores=SCORES, metrics={}, model_version="m1",
                note="before\rafter")
    summary = import_bundle(db, read_bundle(export_csv_zip(db, p.id), "x.zip"))
    assert db.latest_scan(summary.profile_id).note == "before\rafter"


def test_two_marks_for_the_same_routine_and_day_are_refused_in_words(db, ada):
    doc = json.loads(export_json(db, ada.id))
    doc["routine_log"].append(dict(doc["routine_log"][0]))
    with pytest.raises(ExportFileError, match="share the routine id and occurrence date"):
        read_bundle(json.dumps(doc).encode(), "x.json")


def test_an_imported_product_name_is_cleaned_as_the_analyzer_cleans_it(db, ada):
    doc = json.loads(export_json(db, ada.id))
    doc["shelf_products"][0]["name"] = "Night\n\tserum   10%"
    other = Storage(db.path.with_name("other.sqlite3"))
    try:
        summary = import_bundle(other, read_bundle(json.dumps(doc).encode(), "x.json"))
        assert [p.name for p in other.list_shelf(summary.profile_id)] == ["Night serum 10%"]
    finally:
        other.close()


def test_an_imported_product_whose_name_is_only_whitespace_is_refused_as_the_analyzer_refuses_it(db, ada):
    doc = json.loads(export_json(db, ada.id))
    doc["shelf_products"][0]["name"] = " \n\t "
    with pytest.raises(ExportFileError, match="name"):
        read_bundle(json.dumps(doc).encode(), "x.json")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_redness_travels_through_an_export_and_back(db, ada, fmt):
    db.add_scan(ada.id, taken_at="2025-03-15T08:00:00+00:00", scores={**SCORES, "redness": 72.5},
                metrics={"redness": {"share": 0.04}}, model_version="m2", note="")
    data = export_json(db, ada.id) if fmt == "json" else export_csv_zip(db, ada.id)
    summary = import_bundle(db, read_bundle(data, f"x.{'json' if fmt == 'json' else 'zip'}"), into_profile_id=None)
    scans = db.list_scans(summary.profile_id)
    assert [s.scores.get("redness") for s in scans] == [None, None, 72.5]


def test_an_export_from_before_redness_still_imports_and_its_scans_show_redness_as_not_measured(db, ada):
    old = json.loads(export_json(db, ada.id))
    assert all("redness" not in s["scores"] for s in old["scans"])
    summary = import_bundle(db, read_bundle(json.dumps(old).encode(), "old.json"), into_profile_id=None)
    first, second = db.list_scans(summary.profile_id)[:2]
    assert progress.not_measured(first.scores, {**second.scores, "redness": 70.0}) == ["Redness"]
    assert [c.key for c in compare_scores(first.scores, {**second.scores, "redness": 70.0},
                                          load_noise_band())] == list(progress.BASE_SCORE_KEYS)


def test_a_scan_without_one_of_the_four_model_scores_is_still_refused_on_import(db, ada):
    old = json.loads(export_json(db, ada.id))
    del old["scans"][0]["scores"]["acne"]
    with pytest.raises(ExportFileError, match="acne"):
        read_bundle(json.dumps(old).encode(), "old.json")


# -- issue 25's fixes: the picture choice read as written, names kept to the limit ------------------------
@pytest.mark.parametrize("written, kept", [("false", False), ("False", False), ("no", False), (0, False),
                                           ("true", True), (True, True), (1, True)])
def test_a_json_export_edited_by_hand_keeps_its_picture_choice(db, ada, written, kept):
    doc = json.loads(export_json(db, ada.id))
    doc["profile"]["store_pictures"] = written
    summary = import_bundle(db, read_bundle(json.dumps(doc).encode(), "ada.json"))
    assert db.get_profile(summary.profile_id).store_pictures is kept


def test_a_picture_choice_that_is_neither_yes_nor_no_is_refused(db, ada):
    doc = json.loads(export_json(db, ada.id))
    doc["profile"]["store_pictures"] = "maybe"
    with pytest.raises(ExportFileError, match="neither yes nor no"):
        read_bundle(json.dumps(doc).encode(), "ada.json")


def test_an_imported_profile_keeps_a_name_as_long_as_the_limit_allows(db, ada):
    long = "Ada Lovelace, Countess of Lovelace, née Byron, analyst"          # 54 characters: 51-60 were cut to 50
    assert 50 < len(long) <= limits.PROFILE_NAME_MAX
    doc = json.loads(export_json(db, ada.id))
    doc["profile"]["name"] = long
    first = import_bundle(db, read_bundle(json.dumps(doc).encode(), "a.json"))
    again = import_bundle(db, read_bundle(json.dumps(doc).encode(), "a.json"))
    assert first.profile_name == long                                       # found again by the name given
    assert again.profile_name.endswith(" (2)") and len(again.profile_name) <= limits.PROFILE_NAME_MAX
    assert not again.profile_name[:-4].endswith(" ")
