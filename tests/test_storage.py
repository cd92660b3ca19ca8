"""Storage: the schema and its migrations, safe concurrent writes, rollback, profile isolation,
deletion that really deletes, and damaged files that are refused and left alone."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from skin_app.errors import InvalidRecordError
from skin_app.routines.schedule import Routine, Schedule, Step
from skin_app.storage import MIGRATIONS, DatabaseError, Storage
from tests.photos import small_png

ROOT = Path(__file__).resolve().parents[1]
SCORES = {"acne": 91.5, "flek": 88.0, "wrinkle": 95.25, "panda_eye": 80.0, "overall": 88.69}

# The schema exactly as version 1 of the app wrote it (kept literally, so this stays an *old* file
# even if someone edits MIGRATIONS later).
SCHEMA_V1 = """
CREATE TABLE profiles (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, created_at TEXT NOT NULL);
CREATE TABLE scans (
    id INTEGER PRIMARY KEY, profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    taken_at TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', scores_json TEXT NOT NULL,
    metrics_json TEXT NOT NULL, model_version TEXT NOT NULL, crop_png BLOB);
CREATE INDEX scans_by_profile ON scans(profile_id, taken_at);
PRAGMA user_version = 1;
"""


@pytest.fixture()
def db(tmp_path):
    s = Storage(tmp_path / "s.sqlite3")
    yield s
    s.close()


def add(db: Storage, profile_id: int, day: int = 1, **kw) -> int:
    return db.add_scan(profile_id, taken_at=kw.pop("taken_at", datetime(2025, 3, day, 9, tzinfo=timezone.utc)),
                       scores=kw.pop("scores", SCORES), metrics=kw.pop("metrics", {"acne_lesion_count": 3}),
                       model_version=kw.pop("model_version", "test-model"), **kw)


def file_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, as they are on disk."""
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def routine(name: str = "Night") -> Routine:
    return Routine(name, Schedule("daily", time(21, 30), "Europe/Berlin", date(2025, 3, 1)),
                   (Step("Cleanse"), Step("Retinol")), created_at=datetime(2025, 3, 1, tzinfo=timezone.utc))


# -- schema and migrations -------------------------------------------------------------------------
def test_a_new_file_gets_the_latest_schema_in_wal_mode_with_foreign_keys(tmp_path):
    db = Storage(tmp_path / "new.sqlite3")
    assert db.schema_version == len(MIGRATIONS)
    conn = db._connect()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_a_schema_v1_file_is_upgraded_in_place_and_keeps_its_scans(tmp_path):
    path = tmp_path / "old.sqlite3"
    picture = small_png(1)
    old = sqlite3.connect(path)
    old.executescript(SCHEMA_V1)
    old.execute("INSERT INTO profiles VALUES (1, 'Ada', '2024-01-01T00:00:00+00:00')")
    old.execute("INSERT INTO scans(profile_id, taken_at, note, scores_json, metrics_json, model_version, crop_png) "
                "VALUES (1, '2024-02-01T08:00:00+00:00', 'first', ?, '{\"acne_lesion_count\": 4}', 'seed-v1', ?)",
                (json.dumps(SCORES), picture))
    old.commit()
    old.close()

    db = Storage(path)
    assert db.schema_version == len(MIGRATIONS)
    (ada,) = db.list_profiles()
    assert (ada.name, ada.store_pictures) == ("Ada", True)
    (scan,) = db.list_scans(ada.id)
    assert (scan.note, scan.scores, scan.metrics, scan.model_version) == ("first", SCORES, {"acne_lesion_count": 4}, "seed-v1")
    assert scan.crop_png == picture and scan.masks_png is None
    assert (scan.view, scan.visit) == ("front", None)         # scans from before views were front photos
    # the tables later versions added work on the upgraded file
    db.save_shelf_product(ada.id, "Serum", "Aqua, Niacinamide")
    db.create_routine(ada.id, routine())
    assert [p.name for p in db.list_shelf(ada.id)] == ["Serum"]
    assert [r.name for r in db.list_routines(ada.id)] == ["Night"]


def test_opening_an_upgraded_file_again_changes_nothing(tmp_path):
    path = tmp_path / "s.sqlite3"
    first = Storage(path)
    p = first.create_profile("Ada")
    add(first, p.id)
    first.close()
    again = Storage(path)
    assert again.schema_version == len(MIGRATIONS)
    assert len(again.list_scans(p.id)) == 1


def test_a_file_from_a_newer_app_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE x (a)")
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.commit()
    conn.close()
    before = sha(path)
    with pytest.raises(DatabaseError, match="newer SkinGorithm"):
        Storage(path)
    assert sha(path) == before


# -- damaged files ---------------------------------------------------------------------------------
def test_a_file_that_is_not_sqlite_gets_a_clear_message_and_is_not_overwritten(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"my shopping list: sunscreen, moisturiser\n" * 100)
    before = sha(path)
    with pytest.raises(DatabaseError) as err:
        Storage(path)
    assert "not a SkinGorithm database" in str(err.value) and "left untouched" in str(err.value)
    assert str(path) in str(err.value)
    assert sha(path) == before


def test_a_damaged_sqlite_file_is_refused_before_anything_writes_to_it(tmp_path):
    path = tmp_path / "damaged.sqlite3"
    good = Storage(path)
    p = good.create_profile("Ada")
    for day in range(1, 20):
        add(good, p.id, day, crop_png=small_png(day))
    good._vacuum()
    good.close()
    raw = bytearray(path.read_bytes())
    page = 4096
    raw[2 * page:4 * page] = b"\xff" * (2 * page)          # overwrite two b-tree pages with garbage
    path.write_bytes(bytes(raw))
    before = sha(path)
    with pytest.raises(DatabaseError) as err:
        Storage(path)
    assert "damaged" in str(err.value) and "left untouched" in str(err.value)
    assert sha(path) == before


# -- writes: concurrency and rollback --------------------------------------------------------------
def test_threads_sharing_one_handle_save_at_once_and_lose_nothing(db):
    p = db.create_profile("Ada")
    errors: list[BaseException] = []

    def save_many(worker: int) -> None:
        try:
            for i in range(25):
                add(db, p.id, note=f"w{worker}-{i}")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=save_many, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    notes = [s.note for s in db.list_scans(p.id)]
    assert sorted(notes) == sorted(f"w{w}-{i}" for w in range(8) for i in range(25))


def test_two_handles_in_threads_like_two_browser_tabs_lose_nothing(tmp_path):
    path = tmp_path / "tabs.sqlite3"
    a, b = Storage(path), Storage(path)
    p = a.create_profile("Ada")
    ts = [threading.Thread(target=lambda s=s, tag=tag: [add(s, p.id, note=f"{tag}{i}") for i in range(40)])
          for s, tag in ((a, "a"), (b, "b"))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(Storage(path).list_scans(p.id)) == 80


WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[4])
    from skin_app.storage import Storage
    db = Storage(sys.argv[1])
    go = Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.005)
    for i in range(60):
        db.add_scan(1, taken_at="2025-03-01T09:00:00+00:00", scores={"overall": 50.0}, metrics={},
                    model_version="m", note=f"{sys.argv[2]}-{i}")
""")


def test_two_processes_writing_at_the_same_time_lose_nothing(tmp_path):
    path = tmp_path / "procs.sqlite3"
    db = Storage(path)
    assert db.create_profile("Ada").id == 1
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), tag, str(go), str(ROOT)],
                              stderr=subprocess.PIPE, text=True) for tag in ("p1", "p2")]
    go.touch()                                               # both start writing at once
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    notes = sorted(s.note for s in db.list_scans(1))
    assert notes == sorted(f"{tag}-{i}" for tag in ("p1", "p2") for i in range(60))


def test_a_failure_inside_a_transaction_rolls_everything_back(db):
    p = db.create_profile("Ada")
    with pytest.raises(RuntimeError):
        with db.transaction() as conn:
            conn.execute("INSERT INTO scans(profile_id, taken_at, scores_json, metrics_json, model_version) "
                         "VALUES (?, '2025-01-01T00:00:00+00:00', '{}', '{}', 'm')", (p.id,))
            raise RuntimeError("power cut")
    assert db.list_scans(p.id) == []
    add(db, p.id)                                            # and the handle still works afterwards
    assert len(db.list_scans(p.id)) == 1


def test_an_import_with_one_bad_record_adds_nothing_at_all(db):
    tables = {
        "scans": [{"id": 1, "taken_at": "2025-01-01T08:00:00+00:00", "scores": SCORES, "metrics": {},
                   "model_version": "m"}],
        "routines": [{"id": 1, "name": "Bad", "kind": "hourly", "time_of_day": "08:00", "timezone": "UTC",
                      "start_date": "2025-01-01", "created_at": "2025-01-01T00:00:00+00:00"}],
    }
    with pytest.raises(InvalidRecordError, match="nothing was imported"):
        db.import_profile_tables(tables, profile_name="Imported")
    assert db.list_profiles() == []
    assert db.summary().scans == 0


# -- scans ------------------------------------------------------------------------------------------
def test_scan_times_are_stored_in_utc_so_history_sorts_by_time(db):
    p = db.create_profile("Ada")
    add(db, p.id, taken_at=datetime(2025, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=5))), note="tashkent 9:00")
    add(db, p.id, taken_at="2025-03-02T05:00:00+00:00", note="utc 5:00")
    add(db, p.id, taken_at="2025-03-01T23:30:00", note="naive = utc")
    assert [(s.note, s.taken_at) for s in db.list_scans(p.id)] == [
        ("naive = utc", "2025-03-01T23:30:00+00:00"),
        ("tashkent 9:00", "2025-03-02T04:00:00+00:00"),
        ("utc 5:00", "2025-03-02T05:00:00+00:00"),
    ]


@pytest.mark.parametrize("scores", [{}, {"overall": 101}, {"overall": float("nan")}, {"acne": "high"}])
def test_a_scan_with_impossible_scores_is_refused(db, scores):
    p = db.create_profile("Ada")
    with pytest.raises(InvalidRecordError):
        add(db, p.id, scores=scores)
    assert db.list_scans(p.id) == []


def test_a_scan_keeps_its_picture_masks_metrics_and_note(db):
    p = db.create_profile("Ada")
    crop, masks = small_png(1), small_png(2)
    metrics = {"acne_lesion_count": 7, "per_region": {"forehead": {"acne": 0.01}}}
    sid = add(db, p.id, crop_png=crop, masks_png=masks, metrics=metrics, note="after holiday")
    scan = db.get_scan(sid)
    assert (scan.crop_png, scan.masks_png, scan.metrics, scan.note) == (crop, masks, metrics, "after holiday")
    assert scan.has_picture


# -- profiles ----------------------------------------------------------------------------------------
def test_profiles_see_only_their_own_scans(db):
    ada, bob = db.create_profile("Ada"), db.create_profile("Bob")
    a1 = add(db, ada.id, note="ada")
    b1 = add(db, bob.id, note="bob")
    assert [s.note for s in db.list_scans(ada.id)] == ["ada"]
    assert [s.note for s in db.list_scans(bob.id)] == ["bob"]
    assert db.latest_scan(bob.id).id == b1
    assert db.get_scan(a1, profile_id=bob.id) is None
    assert db.delete_scan(a1, profile_id=bob.id) is False     # Bob cannot delete Ada's scan
    assert db.get_scan(a1) is not None
    assert [s["note"] for s in db.export_profile_tables(bob.id)["scans"]] == ["bob"]


def test_deleting_a_profile_removes_everything_it_owned_and_nothing_else(db):
    ada, bob = db.create_profile("Ada"), db.create_profile("Bob")
    for who in (ada, bob):
        add(db, who.id, crop_png=small_png(who.id))
        db.save_shelf_product(who.id, "Serum", "Aqua, Niacinamide")
        r = db.create_routine(who.id, routine())
        db.mark_routine(r.id, date(2025, 3, 2), "done", profile_id=r.profile_id)
        db.mark_routine(r.id, date(2025, 3, 2), "done", step_id=r.steps[0].id, profile_id=r.profile_id)
    db.delete_profile(ada.id)
    assert [p.name for p in db.list_profiles()] == ["Bob"]
    conn = db._connect()
    for table in ("scans", "shelf_products", "routines"):
        assert conn.execute(f"SELECT COUNT(*) FROM {table} WHERE profile_id = ?", (ada.id,)).fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM routine_steps").fetchone()[0] == 2     # Bob's two steps
    assert conn.execute("SELECT COUNT(*) FROM routine_log").fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM routine_step_log").fetchone()[0] == 1
    assert small_png(ada.id)[200:264] not in file_bytes(db.path)
    assert len(db.list_scans(bob.id)) == 1


def test_the_picture_choice_is_kept_per_profile(db):
    ada, bob = db.create_profile("Ada"), db.create_profile("Bob")
    db.set_store_pictures(bob.id, False)
    assert db.get_profile(ada.id).store_pictures is True
    assert db.get_profile(bob.id).store_pictures is False


# -- deletion really deletes ---------------------------------------------------------------------------
def test_delete_everything_empties_every_table_and_leaves_no_picture_bytes_in_the_file(db):
    pictures = [small_png(seed) for seed in range(5)]
    p = db.create_profile("Ada")
    for day, pic in enumerate(pictures, start=1):
        add(db, p.id, day, crop_png=pic, masks_png=small_png(100 + day), note=f"secret note {day}")
    db.save_shelf_product(p.id, "Serum", "Aqua, Niacinamide")
    db.create_routine(p.id, routine())
    db.log_unknown_ingredients(p.id, ["Mystery Extract"])
    db._connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert pictures[0][200:264] in file_bytes(db.path)        # the probe does see stored pictures

    db.delete_everything()

    conn = db._connect()
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                         "AND name NOT LIKE 'sqlite_%'")]
    assert {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables} == dict.fromkeys(tables, 0)
    raw = file_bytes(db.path)
    for pic in pictures:
        assert pic[200:264] not in raw and pic[-200:-136] not in raw
    assert b"secret note" not in raw and b"Mystery Extract" not in raw
    assert db.schema_version == len(MIGRATIONS)                # still a working database
    add(db, db.create_profile("Fresh").id)


def test_deleting_one_scan_removes_its_picture_from_the_file(db):
    p = db.create_profile("Ada")
    keep, gone = small_png(1), small_png(2)
    add(db, p.id, 1, crop_png=keep)
    sid = add(db, p.id, 2, crop_png=gone)
    assert db.delete_scan(sid, profile_id=p.id)
    raw = file_bytes(db.path)
    assert gone[200:264] not in raw
    assert keep[200:264] in raw


def test_forgetting_pictures_keeps_the_scores(db):
    p = db.create_profile("Ada")
    pic = small_png(3)
    add(db, p.id, crop_png=pic, masks_png=small_png(4))
    assert db.forget_pictures(p.id) == 1
    (scan,) = db.list_scans(p.id)
    assert scan.crop_png is None and scan.masks_png is None and scan.scores == SCORES
    assert pic[200:264] not in file_bytes(db.path)


def test_summary_counts_what_the_file_holds(db):
    p = db.create_profile("Ada")
    add(db, p.id, 1, crop_png=small_png(1))
    add(db, p.id, 2)
    s = db.summary()
    assert (s.profiles, s.scans, s.pictures, s.shelf_products, s.routines) == (1, 2, 1, 0, 0)
    assert s.file_bytes > 0 and s.path == db.path


# -- views -------------------------------------------------------------------------------------------
def test_each_view_is_its_own_history_line(db):
    p = db.create_profile("Ada")
    front = add(db, p.id)
    side = db.add_scan(p.id, taken_at="2025-03-02T08:00:00+00:00", scores={"acne": 97.0, "overall": 97.0},
                       metrics={}, model_version="m", view="left")
    assert [s.id for s in db.list_scans(p.id, view="front")] == [front]
    assert [s.id for s in db.list_scans(p.id, view="left")] == [side]
    assert db.scan_views(p.id) == {"front": 1, "left": 1}
    assert db.latest_scan(p.id).id == front and db.latest_scan(p.id, view="left").id == side   # front: every concern


def test_a_scan_of_an_unknown_view_is_refused(db):
    p = db.create_profile("Ada")
    with pytest.raises(InvalidRecordError, match="is not a view"):
        db.add_scan(p.id, taken_at="2025-03-02T08:00:00+00:00", scores=SCORES, metrics={}, model_version="m",
                    view="profile'); DROP TABLE scans;--")


def test_a_full_check_is_saved_all_or_nothing(db):
    p = db.create_profile("Ada")
    good = dict(taken_at="2025-03-02T08:00:00+00:00", scores=SCORES, metrics={}, model_version="m", visit="v1")
    with pytest.raises(InvalidRecordError):
        db.add_scans(p.id, [{**good, "view": "front"}, {**good, "view": "left", "scores": {"acne": 140.0}}])
    assert db.list_scans(p.id) == []
    ids = db.add_scans(p.id, [{**good, "view": v} for v in ("front", "left", "right")])
    assert len(ids) == 3 and {s.visit for s in db.list_scans(p.id)} == {"v1"}


def test_an_applied_migration_does_not_follow_todays_choice_lists(monkeypatch):
    """Migration 3 is the SQL that was applied, not an f-string over limits.py: a changed choice list
    must come as a new migration, or old and new database files would disagree."""
    import importlib

    from skin_app import limits
    from skin_app.storage import schema
    before = list(schema.MIGRATIONS)
    monkeypatch.setattr(limits, "SCHEDULE_KINDS", ("hourly",))
    monkeypatch.setattr(limits, "ALERT_CHOICES", (7,))
    try:
        assert importlib.reload(schema).MIGRATIONS == before
    finally:
        monkeypatch.undo()
        importlib.reload(schema)


def test_the_routine_choices_the_form_offers_are_the_ones_the_database_allows():
    """Today's choice lists still agree with the applied migration (a change needs a new migration)."""
    from skin_app.limits import ALERT_CHOICES, INTERVAL_DAYS_MIN, SCHEDULE_KINDS, sql_in
    from skin_app.storage.schema import MIGRATIONS
    applied = " ".join("".join(m) if isinstance(m, tuple) else m for m in MIGRATIONS if isinstance(m, str | tuple))
    assert f"kind IN ({sql_in(SCHEDULE_KINDS)})" in applied
    assert f"alert_minutes IN ({sql_in(ALERT_CHOICES)})" in applied
    assert f"interval_days >= {INTERVAL_DAYS_MIN}" in applied


def test_the_latest_scans_of_a_view_come_oldest_first_and_can_leave_out_unscorable_ones(db, tmp_path):
    p = db.create_profile("Ada")
    ids = [add(db, p.id, day) for day in (1, 2, 3, 4)]
    add(db, p.id, 5, view="left")                                        # another view's line
    assert [s.id for s in db.latest_scans(p.id, "front", 2)] == ids[2:]
    conn = sqlite3.connect(tmp_path / "s.sqlite3")
    with conn:
        conn.execute("UPDATE scans SET scored_by = 'unscorable:x' WHERE id = ?", (ids[3],))
    conn.close()
    assert [s.id for s in db.latest_scans(p.id, "front", 1, scorable_only=True)] == [ids[2]]
    assert [s.id for s in db.latest_scans(p.id, "front", 1)] == [ids[3]]
    assert db.latest_scan(p.id).id == ids[3]


def test_deleting_several_scans_is_one_transaction_a_failure_midway_deletes_none(db):
    me = db.create_profile("Me")
    ids = [add(db, me.id, day) for day in (1, 2, 3)]
    with db.transaction() as conn:         # the third delete fails after the first two ran
        conn.execute(f"CREATE TRIGGER fail_third BEFORE DELETE ON scans WHEN OLD.id = {ids[2]} "
                     "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
    with pytest.raises(DatabaseError):
        db.delete_scans(ids, profile_id=me.id)
    assert [s.id for s in db.list_scans(me.id)] == ids


def test_deleting_several_scans_with_one_of_another_profile_deletes_none(db):
    me, other = db.create_profile("Me"), db.create_profile("Other")
    mine, theirs = add(db, me.id, 1), add(db, other.id, 2)
    with pytest.raises(InvalidRecordError, match=str(theirs)):
        db.delete_scans([mine, theirs], profile_id=me.id)
    assert [s.id for s in db.list_scans(me.id)] == [mine] and len(db.list_scans(other.id)) == 1
    assert db.delete_scans([mine], profile_id=me.id) == 1 and db.list_scans(me.id) == []
