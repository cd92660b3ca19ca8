"""Profile export as JSON and as a ZIP of CSVs, and importing either back (or a lone scans.csv)."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, time, timezone

import pytest

from skin_app import export
from skin_app.export import ExportFileError, export_csv_zip, export_json, import_bundle, read_bundle
from skin_app import progress
from skin_app.progress import DEFAULT_NOISE_BAND, NoiseBand, compare_scores, load_noise_band
from skin_app.reminders import Routine, Schedule, Step
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
    db.mark_routine(r.id, date(2025, 3, 3), "done")
    db.mark_routine(r.id, date(2025, 3, 5), "skipped", step_id=r.steps[1].id)
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
    assert lines[0].startswith("id,taken_at,overall,acne,flek,wrinkle,panda_eye,acne_lesion_count,note")
    assert "2025-03-01T08:00:00+00:00,88.69,91.5,88.0,95.25,80.0,3," in lines[1]
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


# -- noise band and changes (skin_app/progress.py) -----------------------------------------------------
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
