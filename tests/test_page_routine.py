"""The routine page, driven through Streamlit's AppTest with a temporary database and a pinned clock."""
from __future__ import annotations

import json
import os
from datetime import date, datetime, time, timezone
from pathlib import Path

import icalendar
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from skin_app.routines import ics
from skin_app.routines import schedule as reminders
from skin_app.routines.schedule import Routine, Schedule, Step

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "routine.py")
TODAY = date(2025, 3, 10)                       # a Monday; the page sees UTC (no browser in tests)


@pytest.fixture()
def clock(monkeypatch):
    """Pins the page's clock; set ``clock.now`` to move it."""
    class Clock:
        now = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(reminders, "utc_now", lambda: Clock.now)
    return Clock


@pytest.fixture()
def me(db):
    return db.create_profile("Me")              # the page's active_profile() picks the first profile


@pytest.fixture()
def downloads(monkeypatch):
    """Every file handed to a download button, by media id, as the browser would receive it."""
    files: dict[str, tuple[bytes, str | None, str]] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        files[file_id] = (path_or_data, filename, mimetype)
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return files


def night(created=datetime(2025, 3, 1, tzinfo=timezone.utc), **changes) -> Routine:
    return Routine(changes.pop("name", "Night"),
                   Schedule("daily", time(21, 0), "UTC", date(2025, 3, 1), None, (), 1, 15),
                   (Step("Cleanse"), Step("Retinol", product_name="Retinol 0.2%")), created_at=created, **changes)


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info])


def button(at: AppTest, label: str, n: int = 0):
    found = [b for b in at.button if b.label == label]
    assert len(found) > n, f"no button {label!r} (have {[b.label for b in at.button]})"
    return found[n]


# -- empty page and creating -----------------------------------------------------------------------
def test_first_visit_says_nothing_is_scheduled_and_offers_a_new_routine(db, me, clock):
    at = open_page()
    assert at.title[0].value == "Routine"
    assert "Nothing scheduled today." in texts(at)
    assert [b.label for b in at.button] == ["New routine"]
    assert len(at.download_button) == 0


def test_create_a_routine_with_steps(db, me, clock):
    at = open_page()
    button(at, "New routine").click().run()
    at.text_input(key="rt_form_name").input("Night retinol")
    at.text_area(key="rt_form_steps").input("Cleanse\nRetinol | Retinol 0.2%\n")
    at.time_input(key="rt_form_time").set_value(time(21, 30))
    at.radio(key="rt_form_alert").set_value(30)
    at.button(key="rt_form_save").click().run()
    assert not at.exception
    assert at.success[0].value == "Saved 'Night retinol'."
    (r,) = db.list_routines(me.id)
    assert r.name == "Night retinol"
    assert r.schedule == Schedule("daily", time(21, 30), "UTC", TODAY, None, (), 1, 30)
    assert [(s.text, s.product_name) for s in r.steps] == [("Cleanse", None), ("Retinol", "Retinol 0.2%")]
    assert r.created_at == clock.now
    assert "**21:30**" in texts(at) and "⏳ later today" in texts(at)


def test_create_on_chosen_weekdays_in_another_time_zone(db, me, clock):
    at = open_page()
    button(at, "New routine").click().run()
    at.text_input(key="rt_form_name").input("Mask")
    at.selectbox(key="rt_form_kind").set_value("weekdays").run()
    at.multiselect(key="rt_form_weekdays").set_value([2, 6])
    at.selectbox(key="rt_form_tz").set_value("Europe/Berlin")
    at.checkbox(key="rt_form_has_end").check().run()
    at.date_input(key="rt_form_end").set_value(date(2025, 6, 30))
    at.button(key="rt_form_save").click().run()
    (r,) = db.list_routines(me.id)
    assert (r.schedule.kind, r.schedule.weekdays, r.schedule.timezone, r.schedule.end_date) == \
        ("weekdays", (2, 6), "Europe/Berlin", date(2025, 6, 30))
    assert "Every Wednesday, Sunday at 21:00 (Europe/Berlin)" in texts(at)


def test_an_empty_name_is_refused_with_a_message_and_the_editor_stays_open(db, me, clock):
    at = open_page()
    button(at, "New routine").click().run()
    at.button(key="rt_form_save").click().run()
    assert not at.exception
    assert "Give the routine a name" in at.error[0].value
    assert db.list_routines(me.id) == []
    assert at.text_input(key="rt_form_name") is not None


def test_a_time_that_does_not_exist_is_refused_with_the_dst_explanation(db, me, clock):
    at = open_page()
    button(at, "New routine").click().run()
    at.text_input(key="rt_form_name").input("Early")
    at.selectbox(key="rt_form_kind").set_value("once").run()
    at.selectbox(key="rt_form_tz").set_value("Europe/Berlin")
    at.date_input(key="rt_form_start").set_value(date(2025, 3, 30))
    at.time_input(key="rt_form_time").set_value(time(2, 30))
    at.button(key="rt_form_save").click().run()
    assert "02:30 does not exist" in at.error[0].value
    assert db.list_routines(me.id) == []


def test_cancel_closes_the_editor_without_saving(db, me, clock):
    at = open_page()
    button(at, "New routine").click().run()
    at.text_input(key="rt_form_name").input("Never mind")
    at.button(key="rt_form_cancel").click().run()
    assert db.list_routines(me.id) == []
    assert "rt_form_save" not in [b.key for b in at.button]


# -- editing and deleting --------------------------------------------------------------------------
def test_edit_changes_name_and_time_and_keeps_the_steps(db, me, clock):
    r = db.create_routine(me.id, night())
    at = open_page()
    button(at, "Edit").click().run()
    assert at.text_input(key="rt_form_name").value == "Night"
    assert at.text_area(key="rt_form_steps").value == "Cleanse\nRetinol | Retinol 0.2%"
    at.text_input(key="rt_form_name").input("Late night")
    at.time_input(key="rt_form_time").set_value(time(22, 15))
    at.button(key="rt_form_save").click().run()
    saved = db.get_routine(r.id, profile_id=r.profile_id)
    assert saved.name == "Late night" and saved.schedule.time_of_day == time(22, 15)
    assert [s.id for s in saved.steps] == [s.id for s in r.steps]
    assert saved.created_at == r.created_at
    assert "**22:15**" in texts(at)


def test_delete_asks_first_and_keep_it_keeps_it(db, me, clock):
    r = db.create_routine(me.id, night())
    at = open_page()
    button(at, "Delete").click().run()
    assert "Delete 'Night' and its history?" in at.warning[0].value
    button(at, "Keep it").click().run()
    assert db.get_routine(r.id, profile_id=r.profile_id) is not None
    button(at, "Delete").click().run()
    button(at, "Yes, delete").click().run()
    assert db.get_routine(r.id, profile_id=r.profile_id) is None
    assert "Nothing scheduled today." in texts(at)


# -- today: due, missed, done, skipped, toast ------------------------------------------------------
def test_status_follows_the_clock(db, me, clock):
    db.create_routine(me.id, night())
    clock.now = datetime(2025, 3, 10, 20, 0, tzinfo=timezone.utc)
    at = open_page()
    assert "⏳ later today" in texts(at)
    clock.now = datetime(2025, 3, 10, 21, 5, tzinfo=timezone.utc)
    assert "⏰ due now" in texts(at.run())
    clock.now = datetime(2025, 3, 10, 22, 30, tzinfo=timezone.utc)
    assert "❌ missed" in texts(at.run())


def test_a_toast_announces_the_routine_at_its_alert_time_once(db, me, clock):
    db.create_routine(me.id, night())                    # 21:00, alert 15 minutes before
    clock.now = datetime(2025, 3, 10, 20, 40, tzinfo=timezone.utc)
    at = open_page()
    assert len(at.toast) == 0
    clock.now = datetime(2025, 3, 10, 20, 46, tzinfo=timezone.utc)
    at.run()
    assert [t.value for t in at.toast] == ["Night is due at 21:00"]
    at.run()
    assert len(at.toast) == 0                            # not again for the same time


def test_mark_done_records_today_and_starts_a_streak(db, me, clock):
    r = db.create_routine(me.id, night())
    clock.now = datetime(2025, 3, 10, 21, 5, tzinfo=timezone.utc)
    at = open_page()
    button(at, "Done").click().run()
    assert not at.exception
    (entry,) = db.routine_log(me.id)
    assert (entry.routine_id, entry.occurrence_date, entry.status, entry.step_id) == (r.id, TODAY, "done", None)
    assert "✅ done" in texts(at)
    streak = next(m for m in at.metric if m.label == "Current streak")
    assert streak.value == "1 day"


def test_a_missed_routine_can_still_be_marked_done_late(db, me, clock):
    db.create_routine(me.id, night())
    clock.now = datetime(2025, 3, 10, 23, 30, tzinfo=timezone.utc)
    at = open_page()
    assert "❌ missed" in texts(at)
    button(at, "Done").click().run()
    assert [(e.occurrence_date, e.status) for e in db.routine_log(me.id)] == [(TODAY, "done")]
    assert "✅ done" in texts(at)


def test_mark_skipped_then_undo(db, me, clock):
    db.create_routine(me.id, night())
    clock.now = datetime(2025, 3, 10, 21, 5, tzinfo=timezone.utc)
    at = open_page()
    button(at, "Skip").click().run()
    assert [e.status for e in db.routine_log(me.id)] == ["skipped"]
    assert "⏭️ skipped" in texts(at)
    button(at, "Undo").click().run()
    assert db.routine_log(me.id) == []
    assert "⏰ due now" in texts(at)


def test_marking_one_step_records_only_that_step(db, me, clock):
    r = db.create_routine(me.id, night())
    clock.now = datetime(2025, 3, 10, 21, 5, tzinfo=timezone.utc)
    at = open_page()
    button(at, "Done", 1).click().run()               # the first step's Done (after the routine's own)
    (entry,) = db.routine_log(me.id)
    assert (entry.step_id, entry.status) == (r.steps[0].id, "done")
    assert "⏰ due now (1/2 steps)" in texts(at)


def test_adherence_metrics_count_the_history(db, me, clock):
    r = db.create_routine(me.id, night())
    for day in (1, 2, 3, 4, 5, 7, 8, 9):                 # 6 March missed
        db.mark_routine(r.id, date(2025, 3, day), "done", profile_id=r.profile_id)
    clock.now = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)
    at = open_page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Current streak"] == "3 days"
    assert metrics["Kept, last 30 days"] == "89%"         # 8 of the 9 settled days
    assert metrics["Kept, this week"] == "—"              # Monday, tonight still to come


def test_the_chart_shows_adherence_with_the_skin_scores(db, me, clock):
    r = db.create_routine(me.id, night())
    db.mark_routine(r.id, date(2025, 3, 3), "done", profile_id=r.profile_id)
    db.add_scan(me.id, taken_at="2025-03-04T08:00:00+00:00", model_version="test",
                scores={"acne": 80, "flek": 70, "wrinkle": 90, "panda_eye": 60, "overall": 75}, metrics={})
    db.add_scan(me.id, taken_at="2025-03-05T08:00:00+00:00", model_version="test", view="closeup",
                scores={"acne": 99, "flek": 99, "overall": 99}, metrics={})     # another view: not on this line
    at = open_page()
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    names = [t.get("name") for t in spec["data"]]
    assert "Routine kept (%)" in names and "Overall score" in names
    overall = next(t for t in spec["data"] if t.get("name") == "Overall score")
    assert overall["y"] == [75.0]


# -- export ----------------------------------------------------------------------------------------
def test_download_one_routine_and_all_as_ics(db, me, clock, downloads):
    a = db.create_routine(me.id, night())
    db.create_routine(me.id, night(name="Morning"))
    at = open_page()
    by_label = {}
    for d in at.download_button:
        file_id = os.path.splitext(os.path.basename(d.proto.url))[0]
        by_label.setdefault(d.label, []).append(downloads[file_id])
    (all_data, all_name, mime), = by_label["Download all routines for your phone's calendar (.ics)"]
    assert all_name == "skingorithm-routines.ics" and mime == "text/calendar"
    cal = icalendar.Calendar.from_ical(all_data)
    assert sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT")) == ["Morning", "Night"]
    singles = by_label["Calendar file (.ics)"]
    assert sorted(name for _, name, _ in singles) == ["skingorithm-morning.ics", "skingorithm-night.ics"]
    night_file = next(data for data, name, _ in singles if name == "skingorithm-night.ics")
    (event,) = icalendar.Calendar.from_ical(night_file).walk("VEVENT")
    assert str(event["UID"]) == ics.routine_uid(a)
    assert event["RRULE"]["FREQ"] == ["DAILY"]
    (alarm,) = event.walk("VALARM")
    assert alarm["TRIGGER"].to_ical() == b"-PT15M"


def test_a_streak_not_yet_finished_today_does_not_read_zero_beside_everything_kept(db, me, clock):
    morning = db.create_routine(me.id, Routine("Morning", Schedule("daily", time(7, 30), "UTC", date(2025, 3, 10)),
                                               created_at=datetime(2025, 3, 10, tzinfo=timezone.utc)))
    db.create_routine(me.id, Routine("Night", Schedule("daily", time(21, 0), "UTC", date(2025, 3, 10)),
                                     created_at=datetime(2025, 3, 10, tzinfo=timezone.utc)))
    db.mark_routine(morning.id, TODAY, "done", profile_id=morning.profile_id)
    clock.now = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)
    metrics = {m.label: m.value for m in open_page().metric}
    assert metrics["Kept, last 30 days"] == "100%" and metrics["Current streak"] == "starts today"


def test_next_times_leave_out_one_already_done_today(db, me, clock):
    r = db.create_routine(me.id, night())
    clock.now = datetime(2025, 3, 10, 20, 0, tzinfo=timezone.utc)        # before 21:00, marked done early
    db.mark_routine(r.id, TODAY, "done", profile_id=r.profile_id)
    captions = [c.value for c in open_page().caption if c.value.startswith("Next: ")]
    assert captions == ["Next: Tue 11 Mar 21:00, Wed 12 Mar 21:00, Thu 13 Mar 21:00"]
