"""iCalendar export: RFC 5545 structure, and the file expands to the occurrences the app shows,
checked with ``icalendar`` and with an independent expander, ``recurring-ical-events``."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import icalendar
import pytest
import recurring_ical_events

from skin_app.routines.ics import ics_filename, routine_uid, to_ics
from skin_app.routines.schedule import Routine, Schedule, Step, occurrences_between

UTC = timezone.utc
STAMP = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def routine(kind="daily", at=time(21, 30), tz="Europe/Berlin", start=date(2025, 1, 6), end=None,
            weekdays=(), every=1, alert=0, name="Night", rid=1, steps=()) -> Routine:
    return Routine(name, Schedule(kind, at, tz, start, end, tuple(weekdays), every, alert), tuple(steps),
                   id=rid, profile_id=1)


def parse(data: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(data)


def events(cal: icalendar.Calendar) -> list[icalendar.Event]:
    return [c for c in cal.walk("VEVENT")]


def independent_starts(data: bytes, lo: datetime, hi: datetime) -> list[datetime]:
    """Event starts in [lo, hi) as UTC instants, expanded by recurring-ical-events."""
    found = recurring_ical_events.of(parse(data)).between(lo - timedelta(days=1), hi + timedelta(days=1))
    starts = [e["DTSTART"].dt.astimezone(UTC) for e in found]
    return sorted(s for s in starts if lo <= s < hi)


def independent_alarms(data: bytes, lo: datetime, hi: datetime) -> list[datetime]:
    found = recurring_ical_events.of(parse(data), components=["VALARM"]).between(
        lo - timedelta(days=1), hi + timedelta(days=1))
    times = [a["TRIGGER"].dt.astimezone(UTC) for e in found for a in e.walk("VALARM")]
    return sorted(t for t in times if lo <= t < hi)


def app_starts(routines, lo, hi) -> list[datetime]:
    return sorted(o.start.astimezone(UTC) for r in routines for o in occurrences_between(r, lo, hi))


def app_alarms(routines, lo, hi) -> list[datetime]:
    return sorted(o.alert_at.astimezone(UTC) for r in routines for o in occurrences_between(r, lo - timedelta(hours=1), hi)
                  if lo <= o.alert_at.astimezone(UTC) < hi)


CASES = {
    "once": routine("once", at=time(8, 15), start=date(2025, 6, 3)),
    "daily_with_end": routine("daily", start=date(2025, 3, 20), end=date(2025, 4, 10)),
    "daily_in_the_dst_gap_later": routine("daily", at=time(2, 30), start=date(2025, 3, 25), end=date(2025, 4, 2)),
    "daily_in_the_dst_fold_later": routine("daily", at=time(2, 30), start=date(2025, 10, 20), end=date(2025, 11, 1)),
    "weekdays_starting_on_an_unchosen_day": routine("weekdays", start=date(2025, 1, 7), weekdays=(0, 2, 4)),
    "every_3_days_over_new_year": routine("every_n_days", start=date(2025, 12, 20), every=3, end=date(2026, 1, 20)),
    "weekly_over_new_year_in_new_york": routine("weekdays", tz="America/New_York", at=time(6, 45),
                                                start=date(2025, 12, 1), weekdays=(6,), alert=30),
    "every_2_days_in_utc": routine("every_n_days", tz="UTC", at=time(6, 0), start=date(2025, 2, 27),
                                   every=2, end=date(2025, 3, 9), alert=30),
    "weekdays_in_kolkata_late_evening": routine("weekdays", tz="Asia/Kolkata", at=time(23, 45),
                                                start=date(2025, 1, 1), weekdays=(1, 3, 5), end=date(2025, 2, 1)),
    "daily_in_sydney_over_its_april_change": routine("daily", tz="Australia/Sydney", at=time(22, 0),
                                                     start=date(2025, 3, 30), end=date(2025, 4, 12), alert=15),
}
WINDOW = (datetime(2024, 12, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))


@pytest.mark.parametrize("name", sorted(CASES))
def test_independent_expander_gives_the_same_occurrences_as_the_app(name):
    r = CASES[name]
    data = to_ics([r], now=STAMP)
    expected = app_starts([r], *WINDOW)
    assert expected, "the case should happen inside the window"
    assert independent_starts(data, *WINDOW) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_independent_expander_gives_the_same_alarm_times_as_the_app(name):
    r = CASES[name]
    data = to_ics([r], now=STAMP)
    assert independent_alarms(data, *WINDOW) == app_alarms([r], *WINDOW)


def test_all_routines_in_one_file_expand_to_the_union_of_their_occurrences():
    routines = [CASES[k] if i == 0 else Routine(CASES[k].name, CASES[k].schedule, id=i + 1, profile_id=1)
                for i, k in enumerate(sorted(CASES))]
    data = to_ics(routines, now=STAMP)
    assert len(events(parse(data))) == len(routines)
    assert independent_starts(data, *WINDOW) == app_starts(routines, *WINDOW)


def test_calendar_has_the_required_rfc5545_properties():
    cal = parse(to_ics([CASES["daily_with_end"]], now=STAMP))
    assert str(cal["VERSION"]) == "2.0"
    assert "SkinGorithm" in str(cal["PRODID"])
    (ev,) = events(cal)
    for prop in ("UID", "DTSTAMP", "DTSTART", "DURATION", "SUMMARY", "RRULE"):
        assert prop in ev, prop
    assert ev["DTSTAMP"].dt == STAMP


def test_dtstart_carries_the_tzid_and_a_matching_vtimezone_is_included():
    data = to_ics([CASES["daily_with_end"], CASES["weekly_over_new_year_in_new_york"]], now=STAMP)
    text = data.decode()
    assert "DTSTART;TZID=Europe/Berlin:20250320T213000" in text
    assert "DTSTART;TZID=America/New_York:20251207T064500" in text
    cal = parse(data)
    assert sorted(str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")) == ["America/New_York", "Europe/Berlin"]


def test_rrule_for_each_kind():
    def rule(r):
        (ev,) = events(parse(to_ics([r], now=STAMP)))
        return ev.get("RRULE")

    assert rule(CASES["once"]) is None
    assert rule(routine("daily"))["FREQ"] == ["DAILY"]
    every = rule(routine("every_n_days", every=4))
    assert every["FREQ"] == ["DAILY"] and every["INTERVAL"] == [4]
    weekly = rule(routine("weekdays", weekdays=(4, 0)))
    assert weekly["FREQ"] == ["WEEKLY"] and weekly["BYDAY"] == ["MO", "FR"]


def test_until_is_in_utc_and_is_the_last_occurrence():
    (ev,) = events(parse(to_ics([CASES["daily_with_end"]], now=STAMP)))
    (until,) = ev["RRULE"]["UNTIL"]
    assert until == datetime(2025, 4, 10, 19, 30, tzinfo=UTC)     # 21:30 CEST
    assert "UNTIL=20250410T193000Z" in to_ics([CASES["daily_with_end"]], now=STAMP).decode()


def test_weekday_schedule_starts_on_the_first_real_occurrence():
    # dateutil and RFC 5545 disagree about a DTSTART that does not match the rule: never write one
    (ev,) = events(parse(to_ics([CASES["weekdays_starting_on_an_unchosen_day"]], now=STAMP)))
    assert ev["DTSTART"].dt.date() == date(2025, 1, 8)


@pytest.mark.parametrize("alert,trigger", [(0, timedelta(0)), (15, timedelta(minutes=-15)),
                                           (30, timedelta(minutes=-30))])
def test_valarm_triggers_before_the_start(alert, trigger):
    (ev,) = events(parse(to_ics([routine(alert=alert)], now=STAMP)))
    (alarm,) = ev.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["DESCRIPTION"]
    assert alarm["TRIGGER"].dt == trigger


def test_steps_become_the_description():
    r = routine(steps=(Step("Cleanse"), Step("Retinol", product_name="Retinol 0.2%")))
    (ev,) = events(parse(to_ics([r], now=STAMP)))
    assert str(ev["DESCRIPTION"]) == "1. Cleanse\n2. Retinol (Retinol 0.2%)"


def test_uid_is_stable_and_distinct_per_routine():
    a, b = routine(rid=1), routine(rid=2)
    assert routine_uid(a) == routine_uid(routine(rid=1, name="Renamed"))
    assert routine_uid(a) != routine_uid(b)
    first = [str(e["UID"]) for e in events(parse(to_ics([a, b], now=STAMP)))]
    again = [str(e["UID"]) for e in events(parse(to_ics([a, b], now=STAMP + timedelta(days=3))))]
    assert first == again and len(set(first)) == 2


def test_lines_are_crlf_terminated_and_folded_to_75_octets():
    long_name = "Evening routine with a very long description " * 2
    data = to_ics([routine(name=long_name[:80], steps=tuple(Step("step " * 30) for _ in range(3)))], now=STAMP)
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_non_ascii_names_survive_the_round_trip():
    (ev,) = events(parse(to_ics([routine(name="Soirée – rétinol 🌙")], now=STAMP)))
    assert str(ev["SUMMARY"]) == "Soirée – rétinol 🌙"


def test_an_invalid_routine_is_not_exported():
    with pytest.raises(ValueError):
        to_ics([routine(name="")], now=STAMP)


def test_filenames():
    assert ics_filename([routine(name="Night retinol!")]) == "skingorithm-night-retinol.ics"
    assert ics_filename([routine(name="🌙")]) == "skingorithm-routine.ics"
    assert ics_filename([routine(), routine(rid=2)]) == "skingorithm-routines.ics"


def test_control_characters_never_reach_the_calendar_file():
    r = Routine("Night\x00\x07\x1b[31m", Schedule("daily", time(21, 30), "Europe/Berlin", date(2025, 1, 6)),
                (Step("Cleanse\x1b[2J", "Serum\x00"),), id=1, profile_id=1)
    data = to_ics([r], now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert not any(b in data for b in (b"\x00", b"\x07", b"\x1b"))
    (event,) = events(parse(data))
    assert str(event["summary"]) == "Night [31m"
    assert str(event["description"]) == "1. Cleanse [2J (Serum)"
