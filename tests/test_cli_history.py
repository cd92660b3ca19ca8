"""The history and routine CLI: every Progress and Routine job from the shell, with the app's checks.
Run in-process through ``skin_app.__main__.main(argv)`` (one model load for the file); one
subprocess checks that ``--json`` leaves stdout to JSON alone."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import date, time
from pathlib import Path

import pytest

from skin_app.__main__ import main
from skin_app.routines.schedule import Routine, Schedule, Step
from skin_app.storage import Storage
from tests.photos import astronaut_jpeg

ROOT = Path(__file__).resolve().parent.parent
SCORES = {"acne": 80.0, "flek": 70.0, "wrinkle": 90.0, "panda_eye": 60.0, "overall": 75.0}


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture()
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(astronaut_jpeg())
    return path


def test_a_scan_saved_by_analyze_travels_through_a_zip_export_into_another_profile(db, capsys, tmp_path, photo):
    status, out, _ = cli(capsys, "analyze", str(photo), "--save", "--profile", "A", "--note", "from the shell")
    assert status == 0 and "saved to A's history as scan #" in out
    status, _, _ = cli(capsys, "history", "export", "--profile", "A", "--format", "zip", "--out", str(tmp_path / "a.zip"))
    assert status == 0 and "scans.csv" in zipfile.ZipFile(tmp_path / "a.zip").namelist()
    status, out, _ = cli(capsys, "history", "import", str(tmp_path / "a.zip"), "--profile", "B")
    assert status == 0 and "new profile B: 1 scan(s)" in out
    status, out, _ = cli(capsys, "history", "list", "--profile", "B", "--json")
    (scan,) = json.loads(out)
    (original,) = db.list_scans(db.get_or_create_profile("A").id)
    assert scan["scores"] == pytest.approx(original.scores) and scan["note"] == "from the shell"
    assert scan["view"] == "front" and scan["picture"] is True
    assert scan["model_version"] == original.model_version
    assert original.metrics["scored_by"] and original.metrics["view"] == "front"


def test_saved_scans_keep_what_the_scan_page_keeps_and_the_view_asked_for(db, capsys, photo):
    status, out, _ = cli(capsys, "analyze", str(photo), "--json", "--save", "--profile", "Me", "--no-picture")
    row = json.loads(out)
    (scan,) = db.list_scans(db.get_or_create_profile("Me").id)
    assert status == 0 and row["scan_id"] == scan.id
    assert scan.crop_png is None and scan.masks_png is None
    assert scan.scores == pytest.approx(row["scores"]) and "acne_lesion_count" in scan.metrics


def test_a_note_longer_than_the_app_allows_is_refused_and_nothing_is_saved(db, capsys, photo):
    status, out, err = cli(capsys, "analyze", str(photo), "--save", "--profile", "Me", "--note", "x" * 5000)
    assert status == 1 and "Not saved: A note can be at most" in err
    assert db.list_scans(db.get_or_create_profile("Me").id) == []


def test_save_needs_a_profile_and_a_profile_needs_save(db, capsys, photo):
    assert cli(capsys, "analyze", str(photo), "--save")[::2] == (1, "skin_app analyze: --save needs --profile NAME.\n")
    assert cli(capsys, "analyze", str(photo), "--profile", "Me")[0] == 1
    assert db.list_profiles() == []


def test_list_and_export_of_a_profile_that_does_not_exist_name_the_ones_that_do(db, capsys, tmp_path):
    db.create_profile("Me")
    status, out, err = cli(capsys, "history", "list", "--profile", "Nobody")
    assert status == 1 and out == "" and "no profile called 'Nobody' (profiles: Me)" in err
    status, _, err = cli(capsys, "history", "export", "--profile", "Nobody", "--format", "json",
                         "--out", str(tmp_path / "x.json"))
    assert status == 1 and not (tmp_path / "x.json").exists()


def test_export_never_overwrites_a_file_unless_forced(db, capsys, tmp_path):
    db.create_profile("Me")
    target = tmp_path / "me.json"
    target.write_text("keep me")
    status, _, err = cli(capsys, "history", "export", "--profile", "me", "--format", "json", "--out", str(target))
    assert status == 1 and "already exists" in err and target.read_text() == "keep me"
    assert cli(capsys, "history", "export", "--profile", "me", "--format", "json", "--out", str(target), "--force")[0] == 0
    assert json.loads(target.read_text())["format"] == "skingorithm-profile"


def test_importing_a_damaged_file_gives_the_apps_message_and_changes_nothing(db, capsys, tmp_path):
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    status, out, err = cli(capsys, "history", "import", str(bad), "--profile", "B")
    assert status == 1 and out == "" and "SkinGorithm" in err
    assert db.list_profiles() == []


def test_importing_twice_into_the_same_profile_skips_what_it_holds(db, capsys, tmp_path):
    me = db.create_profile("Me")
    db.add_scan(me.id, taken_at="2025-03-01T08:00:00+00:00", scores=SCORES, metrics={}, model_version="v1")
    cli(capsys, "history", "export", "--profile", "Me", "--format", "json", "--out", str(tmp_path / "me.json"))
    status, out, _ = cli(capsys, "history", "import", str(tmp_path / "me.json"), "--profile", "Me")
    assert status == 0 and "0 scan(s)" in out and "1 already there and skipped" in out
    assert len(db.list_scans(me.id)) == 1


def test_delete_removes_only_the_profiles_own_scan_and_a_profile_only_with_yes(db, capsys):
    me, other = db.create_profile("Me"), db.create_profile("Other")
    kw = dict(taken_at="2025-03-01T08:00:00+00:00", scores=SCORES, metrics={}, model_version="v1")
    mine, theirs = db.add_scan(me.id, **kw), db.add_scan(other.id, **kw)
    status, _, err = cli(capsys, "history", "delete", "--profile", "Me", "--scan", str(mine), str(theirs))
    assert status == 1 and f"no scan with id {theirs}" in err and len(db.list_scans(me.id)) == 1
    assert cli(capsys, "history", "delete", "--profile", "Me", "--scan", str(mine))[0] == 0
    assert db.list_scans(me.id) == [] and len(db.list_scans(other.id)) == 1
    status, _, err = cli(capsys, "history", "delete", "--profile", "Other", "--whole-profile")
    assert status == 1 and "--yes" in err and len(db.list_profiles()) == 2
    assert cli(capsys, "history", "delete", "--profile", "Other", "--whole-profile", "--yes")[0] == 0
    assert [p.name for p in db.list_profiles()] == ["Me"]


def test_text_from_an_imported_file_cannot_drive_the_terminal(db, capsys):
    """Storage refuses such text now; a row an older version imported may still hold it."""
    me = db.create_profile("Me")
    db.add_scan(me.id, taken_at="2025-03-01T08:00:00+00:00", scores=SCORES, metrics={}, model_version="v1")
    with db.transaction() as conn:
        conn.execute("UPDATE scans SET note = ?", ("fine\x1b[2J\x1b]0;owned\x07",))
    status, out, _ = cli(capsys, "history", "list", "--profile", "Me")
    assert status == 0 and "\x1b" not in out and "\x07" not in out and "fine\ufffd[2J" in out


def test_an_endless_file_is_refused_without_reading_it_all(db, capsys):
    status, out, err = cli(capsys, "history", "import", "/dev/zero", "--profile", "B")
    assert status == 1 and "not a SkinGorithm export" in err and db.list_profiles() == []


def test_a_file_over_the_import_limit_is_refused_after_reading_only_the_limit(db, capsys, tmp_path, monkeypatch):
    from skin_app import limits
    from skin_app.history import export
    monkeypatch.setattr(limits, "MAX_IMPORT_BYTES", 100_000)
    monkeypatch.setattr(export, "MAX_IMPORT_BYTES", 100_000)
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * 1_000_000 + b"}")
    status, out, err = cli(capsys, "history", "import", str(big), "--profile", "B")
    assert status == 1 and "larger than" in err and db.list_profiles() == []


def _routine(name: str = "Evening") -> Routine:
    return Routine(name, Schedule("daily", time(21, 30), "Europe/Berlin", date(2025, 1, 2)),
                   steps=(Step("Cleanse"), Step("Moisturise")))


def test_routine_list_and_ics_show_the_profiles_routines(db, capsys, tmp_path):
    me = db.create_profile("Me")
    db.create_routine(me.id, _routine())
    status, out, _ = cli(capsys, "routine", "list", "--profile", "Me", "--json")
    (row,) = json.loads(out)
    assert status == 0 and row["name"] == "Evening" and row["steps"] == ["Cleanse", "Moisturise"]
    assert row["schedule"].startswith("Every day at 21:30 (Europe/Berlin)") and len(row["next"]) == 3
    status, _, _ = cli(capsys, "routine", "ics", "--profile", "Me", "--out", str(tmp_path / "r.ics"))
    text = (tmp_path / "r.ics").read_text()
    assert status == 0 and "SUMMARY:Evening" in text and "RRULE:FREQ=DAILY" in text


def test_json_stdout_holds_only_json_in_a_real_process(tmp_path):
    """The import-time banner of segmentation-models must not reach stdout (it is piped to jq)."""
    env_db = tmp_path / "cli.sqlite3"
    photo = tmp_path / "me.jpg"
    photo.write_bytes(astronaut_jpeg())
    env = {**__import__("os").environ, "SKINGORITHM_DB": str(env_db)}
    proc = subprocess.run([sys.executable, "-m", "skin_app", "analyze", str(photo), "--json", "--save",
                           "--profile", "A"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["scan_id"] == 1
    proc = subprocess.run([sys.executable, "-m", "skin_app", "history", "list", "--profile", "A", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0 and len(json.loads(proc.stdout)) == 1
    assert len(Storage(env_db).list_profiles()) == 1


def test_history_redness_measures_scans_saved_before_it_from_their_kept_pictures(db, capsys):
    from tests.test_remeasure import _astronaut, old_scan
    profile = db.create_profile("A")
    scan_id = db.add_scan(profile.id, **old_scan(_astronaut()))
    status, out, _ = cli(capsys, "history", "redness", "--profile", "A")
    assert status == 0 and out.strip() == "Redness measured on 1 scan(s) from their kept pictures."
    assert "redness" in db.get_scan(scan_id).scores
    status, out, err = cli(capsys, "history", "redness", "--profile", "A")
    assert status == 0 and out == "" and "No scan is waiting for redness" in err
