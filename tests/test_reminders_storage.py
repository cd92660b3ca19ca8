"""Routines, their steps and the done/skipped log in SQLite (migration 3)."""
from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date, datetime, time, timezone

import pytest

from skin_app import storage as storage_module
from skin_app.errors import InvalidRecordError
from skin_app.routines.schedule import LogEntry, Routine, RoutineError, Schedule, Step
from skin_app.storage import DatabaseError, Storage


@pytest.fixture()
def profile(db):
    return db.create_profile("Ada")


def night(**changes) -> Routine:
    r = Routine("Night retinol",
                Schedule("weekdays", time(21, 30), "Europe/Berlin", date(2025, 1, 6), date(2025, 12, 31),
                         (0, 3), 1, 15),
                (Step("Cleanse"), Step("Retinol", product_name="Retinol 0.2%", product_id=7), Step("Moisturise")))
    return replace(r, **changes)


def test_the_database_is_at_schema_3_or_later_with_the_routine_tables(db):
    assert db.schema_version >= 3
    tables = {r[0] for r in db._query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"routines", "routine_steps", "routine_log", "routine_step_log"} <= tables


def test_an_older_database_is_upgraded_in_place_keeping_its_profiles(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite3"
    monkeypatch.setattr(storage_module, "MIGRATIONS", storage_module.MIGRATIONS[:2])
    old = Storage(path)
    old.create_profile("Ada")
    assert old.schema_version == 2
    old.close()
    monkeypatch.undo()
    new = Storage(path)
    assert new.schema_version == len(storage_module.MIGRATIONS)
    (ada,) = new.list_profiles()
    assert new.create_routine(ada.id, night()).id is not None
    new.close()


def test_a_created_routine_reads_back_identically_with_ids(db, profile):
    stored = db.create_routine(profile.id, night())
    assert stored.id is not None and stored.profile_id == profile.id
    assert stored.created_at is not None and stored.created_at.tzinfo is not None
    assert stored.name == "Night retinol"
    assert stored.schedule == night().schedule
    assert [(s.text, s.product_name, s.product_id) for s in stored.steps] == [
        ("Cleanse", None, None), ("Retinol", "Retinol 0.2%", 7), ("Moisturise", None, None)]
    assert all(s.id is not None for s in stored.steps)
    assert db.get_routine(stored.id, profile_id=stored.profile_id) == stored
    assert db.list_routines(profile.id) == [stored]


def test_every_schedule_kind_round_trips(db, profile):
    schedules = [
        Schedule("once", time(8, 5), "Asia/Kolkata", date(2025, 6, 1), None, (), 1, 0),
        Schedule("daily", time(7, 0), "UTC", date(2025, 1, 1), None, (), 1, 30),
        Schedule("every_n_days", time(22, 45), "America/New_York", date(2025, 1, 1), date(2026, 1, 1), (), 3, 15),
        Schedule("weekdays", time(6, 0), "Australia/Sydney", date(2025, 1, 1), None, (1, 5, 6), 1, 0),
    ]
    for i, s in enumerate(schedules):
        assert db.create_routine(profile.id, Routine(f"R{i}", s)).schedule == s


def test_an_invalid_routine_is_refused_and_nothing_is_stored(db, profile):
    with pytest.raises(RoutineError, match="name"):
        db.create_routine(profile.id, night(name="   "))
    with pytest.raises(RoutineError, match="does not exist"):
        db.create_routine(profile.id, night(schedule=Schedule("once", time(2, 30), "Europe/Berlin",
                                                              date(2025, 3, 30))))
    assert db.list_routines(profile.id) == []


def test_routines_are_listed_by_time_of_day_then_name_and_per_profile(db, profile):
    other = db.create_profile("Bo")
    late = db.create_routine(profile.id, night(name="b late"))
    early = db.create_routine(profile.id, night(name="z early", schedule=replace(night().schedule, time_of_day=time(7))))
    same_time = db.create_routine(profile.id, night(name="A late"))
    db.create_routine(other.id, night(name="Bo's"))
    assert [r.id for r in db.list_routines(profile.id)] == [early.id, same_time.id, late.id]
    assert [r.name for r in db.list_routines(other.id)] == ["Bo's"]


def test_update_changes_the_schedule_and_keeps_step_ids_and_their_marks(db, profile):
    r = db.create_routine(profile.id, night())
    cleanse, retinol, moisturise = r.steps
    db.mark_routine(r.id, date(2025, 1, 6), "done", step_id=cleanse.id, profile_id=r.profile_id)
    db.mark_routine(r.id, date(2025, 1, 6), "done", step_id=retinol.id, profile_id=r.profile_id)
    changed = replace(r, name="Night", schedule=replace(r.schedule, time_of_day=time(22, 0)),
                      steps=(replace(retinol, text="Retinol (pea-sized)"), cleanse, Step("SPF? no: sleep")))
    saved = db.update_routine(changed, profile_id=changed.profile_id)
    assert saved.name == "Night" and saved.schedule.time_of_day == time(22, 0)
    assert [s.text for s in saved.steps] == ["Retinol (pea-sized)", "Cleanse", "SPF? no: sleep"]
    assert [s.id for s in saved.steps[:2]] == [retinol.id, cleanse.id]
    assert moisturise.id not in {s.id for s in saved.steps}
    assert {e.step_id for e in db.routine_log(profile.id)} == {cleanse.id, retinol.id}


def test_removing_a_step_removes_its_marks(db, profile):
    r = db.create_routine(profile.id, night())
    db.mark_routine(r.id, date(2025, 1, 6), "done", step_id=r.steps[2].id, profile_id=r.profile_id)
    db.update_routine(replace(r, steps=r.steps[:2]), profile_id=r.profile_id)
    assert db.routine_log(profile.id) == []


def test_updating_a_deleted_routine_says_so(db, profile):
    r = db.create_routine(profile.id, night())
    db.delete_routine(r.id, profile_id=r.profile_id)
    with pytest.raises(InvalidRecordError, match="no longer exists"):
        db.update_routine(r, profile_id=r.profile_id)


def test_updating_an_unsaved_routine_is_refused(db):
    with pytest.raises(InvalidRecordError, match="not been saved"):
        db.update_routine(night(), profile_id=1)


def test_update_validates(db, profile):
    r = db.create_routine(profile.id, night())
    with pytest.raises(RoutineError, match="before the start date"):
        db.update_routine(replace(r, schedule=replace(r.schedule, end_date=date(2024, 1, 1))), profile_id=r.profile_id)
    assert db.get_routine(r.id, profile_id=r.profile_id) == r


def test_marking_again_replaces_the_mark_and_none_clears_it(db, profile):
    r = db.create_routine(profile.id, night())
    db.mark_routine(r.id, date(2025, 1, 6), "done", profile_id=r.profile_id)
    db.mark_routine(r.id, date(2025, 1, 6), "skipped", profile_id=r.profile_id)
    (entry,) = db.routine_log(profile.id)
    assert (entry.routine_id, entry.occurrence_date, entry.status, entry.step_id) == (r.id, date(2025, 1, 6), "skipped", None)
    assert datetime.fromisoformat(entry.logged_at).tzinfo == timezone.utc
    db.mark_routine(r.id, date(2025, 1, 6), None, profile_id=r.profile_id)
    assert db.routine_log(profile.id) == []


def test_whole_routine_and_step_marks_are_kept_apart(db, profile):
    r = db.create_routine(profile.id, night())
    db.mark_routine(r.id, date(2025, 1, 9), "done", step_id=r.steps[0].id, profile_id=r.profile_id)
    db.mark_routine(r.id, date(2025, 1, 9), "skipped", step_id=r.steps[1].id, profile_id=r.profile_id)
    db.mark_routine(r.id, date(2025, 1, 6), "done", profile_id=r.profile_id)
    log = db.routine_log(profile.id)
    assert [(e.occurrence_date.day, e.step_id, e.status) for e in log] == [
        (6, None, "done"), (9, r.steps[0].id, "done"), (9, r.steps[1].id, "skipped")]
    assert all(isinstance(e, LogEntry) and e.routine_id == r.id for e in log)


def test_an_unknown_mark_is_refused(db, profile):
    r = db.create_routine(profile.id, night())
    with pytest.raises(InvalidRecordError, match="done or skipped"):
        db.mark_routine(r.id, date(2025, 1, 6), "later", profile_id=r.profile_id)


def test_a_step_of_another_routine_cannot_be_marked(db, profile):
    a = db.create_routine(profile.id, night())
    b = db.create_routine(profile.id, night(name="Other"))
    with pytest.raises(InvalidRecordError, match="does not belong"):
        db.mark_routine(a.id, date(2025, 1, 6), "done", step_id=b.steps[0].id, profile_id=a.profile_id)
    assert db.routine_log(profile.id) == []


def test_the_log_can_start_from_a_date_and_is_per_profile(db, profile):
    other = db.create_profile("Bo")
    r = db.create_routine(profile.id, night())
    o = db.create_routine(other.id, night())
    for d in (1, 5, 9):
        db.mark_routine(r.id, date(2025, 1, d), "done", profile_id=r.profile_id)
    db.mark_routine(o.id, date(2025, 1, 5), "done", profile_id=o.profile_id)
    assert [e.occurrence_date.day for e in db.routine_log(profile.id, since=date(2025, 1, 5))] == [5, 9]
    assert [e.routine_id for e in db.routine_log(other.id)] == [o.id]


def test_deleting_a_routine_deletes_its_steps_and_log(db, profile):
    r = db.create_routine(profile.id, night())
    db.mark_routine(r.id, date(2025, 1, 6), "done", profile_id=r.profile_id)
    db.mark_routine(r.id, date(2025, 1, 9), "done", step_id=r.steps[0].id, profile_id=r.profile_id)
    db.delete_routine(r.id, profile_id=r.profile_id)
    assert db.get_routine(r.id, profile_id=r.profile_id) is None
    for table in ("routine_steps", "routine_log", "routine_step_log"):
        assert db._query(f"SELECT COUNT(*) FROM {table}")[0][0] == 0, table


def test_deleting_the_profile_deletes_its_routines(db, profile):
    r = db.create_routine(profile.id, night())
    db.mark_routine(r.id, date(2025, 1, 6), "done", profile_id=r.profile_id)
    db.delete_profile(profile.id)
    for table in ("routines", "routine_steps", "routine_log"):
        assert db._query(f"SELECT COUNT(*) FROM {table}")[0][0] == 0, table


def test_the_schema_refuses_rows_the_api_would_never_write(db, profile):
    r = db.create_routine(profile.id, night())
    for sql in (f"INSERT INTO routine_log VALUES ({r.id}, '2025-01-06', 'maybe', 'x')",
                f"UPDATE routines SET alert_minutes = 10 WHERE id = {r.id}",
                "INSERT INTO routine_log VALUES (999, '2025-01-06', 'done', 'x')"):
        with pytest.raises(DatabaseError) as refused:          # in words for the page, the cause kept
            with db.transaction() as conn:
                conn.execute(sql)
        assert isinstance(refused.value.__cause__, sqlite3.IntegrityError)


def test_two_handles_on_one_file_see_each_others_marks(db, profile):
    r = db.create_routine(profile.id, night())
    second = Storage(db.path)
    second.mark_routine(r.id, date(2025, 1, 6), "done", profile_id=r.profile_id)
    assert [e.status for e in db.routine_log(profile.id)] == ["done"]
    second.close()


def test_a_given_creation_time_is_kept_and_a_naive_one_refused(db, profile):
    when = datetime(2025, 3, 1, 21, 15, tzinfo=timezone.utc)
    assert db.create_routine(profile.id, night(created_at=when)).created_at == when
    with pytest.raises(ValueError, match="aware"):
        db.create_routine(profile.id, night(created_at=datetime(2025, 3, 1)))


def test_one_profile_can_neither_read_change_mark_nor_delete_another_profiles_routine(db, profile):
    other = db.create_profile("Bo")
    r = db.create_routine(profile.id, night())
    assert db.get_routine(r.id, profile_id=other.id) is None
    with pytest.raises(InvalidRecordError, match="no longer exists"):
        db.update_routine(replace(r, name="Taken over"), profile_id=other.id)
    with pytest.raises(InvalidRecordError, match="no longer exists"):
        db.mark_routine(r.id, date(2025, 1, 6), "done", profile_id=other.id)
    with pytest.raises(InvalidRecordError, match="no longer exists"):
        db.clear_marks(r.id, date(2025, 1, 6), profile_id=other.id)
    assert db.delete_routine(r.id, profile_id=other.id) is False
    assert db.get_routine(r.id, profile_id=profile.id) == r
    assert db.routine_log(profile.id) == []


def test_clearing_an_occurrence_removes_the_routine_and_step_marks_of_that_day_only(db, profile):
    r = db.create_routine(profile.id, night())
    db.mark_routine(r.id, date(2025, 1, 6), "done", profile_id=profile.id)
    for step in r.steps:
        db.mark_routine(r.id, date(2025, 1, 6), "done", step.id, profile_id=profile.id)
    db.mark_routine(r.id, date(2025, 1, 9), "skipped", profile_id=profile.id)
    db.clear_marks(r.id, date(2025, 1, 6), profile_id=profile.id)
    assert [(e.occurrence_date, e.status, e.step_id) for e in db.routine_log(profile.id)] == [
        (date(2025, 1, 9), "skipped", None)]


def test_clearing_marks_that_fails_midway_clears_none(db, profile):
    r = db.create_routine(profile.id, night())
    db.mark_routine(r.id, date(2025, 1, 6), "done", profile_id=profile.id)
    for step in r.steps:
        db.mark_routine(r.id, date(2025, 1, 6), "done", step.id, profile_id=profile.id)
    before = db.routine_log(profile.id)
    with db.transaction() as conn:         # the step marks go after the routine's: fail there
        conn.execute("CREATE TRIGGER fail_step BEFORE DELETE ON routine_step_log "
                     "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
    with pytest.raises(DatabaseError):
        db.clear_marks(r.id, date(2025, 1, 6), profile_id=profile.id)
    assert db.routine_log(profile.id) == before
