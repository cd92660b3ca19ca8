"""Recurrence: when each kind of schedule happens, across DST changes, time zones and year ends."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from skin_app.routines.schedule import (
    Routine,
    Schedule,
    describe_schedule,
    dst_notes,
    iter_occurrences,
    next_occurrences,
    occurrences_between,
    occurrences_on_dates,
)

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def routine(kind="daily", at=time(21, 30), tz="Europe/Berlin", start=date(2025, 1, 6), end=None,
            weekdays=(), every=1, alert=0, name="Night") -> Routine:
    return Routine(name, Schedule(kind, at, tz, start, end, tuple(weekdays), every, alert), id=1, profile_id=1)


def local_starts(r: Routine, n: int | None = None) -> list[datetime]:
    out = []
    for occ in iter_occurrences(r):
        if n is not None and len(out) >= n:
            break
        out.append(occ.start.replace(tzinfo=None))
    return out


# -- each kind ---------------------------------------------------------------------------------
def test_once_happens_exactly_once_at_its_date_and_time():
    r = routine("once", at=time(7, 45), start=date(2025, 5, 17))
    assert local_starts(r) == [datetime(2025, 5, 17, 7, 45)]


def test_daily_happens_every_day_at_the_same_wall_time():
    r = routine("daily", start=date(2025, 1, 6))
    assert local_starts(r, 4) == [datetime(2025, 1, d, 21, 30) for d in (6, 7, 8, 9)]


def test_chosen_weekdays_happen_only_on_those_days_starting_with_the_first_match():
    # 2025-01-07 is a Tuesday; Monday and Friday are chosen
    r = routine("weekdays", start=date(2025, 1, 7), weekdays=(0, 4))
    starts = local_starts(r, 5)
    assert [d.date() for d in starts] == [date(2025, 1, 10), date(2025, 1, 13), date(2025, 1, 17),
                                          date(2025, 1, 20), date(2025, 1, 24)]
    assert {d.weekday() for d in starts} == {0, 4}


def test_every_n_days_counts_from_the_start_date():
    r = routine("every_n_days", start=date(2025, 2, 1), every=3)
    assert [d.date() for d in local_starts(r, 4)] == [date(2025, 2, 1), date(2025, 2, 4),
                                                      date(2025, 2, 7), date(2025, 2, 10)]


@pytest.mark.parametrize("kind,extra", [("daily", {}), ("weekdays", {"weekdays": (2,)}),
                                        ("every_n_days", {"every": 2})])
def test_end_date_is_inclusive_and_ends_the_series(kind, extra):
    r = routine(kind, start=date(2025, 3, 3), end=date(2025, 3, 19), **extra)
    starts = local_starts(r)           # finite: the iterator must stop by itself
    assert starts, "the schedule should happen at least once"
    # 19 March 2025 is a Wednesday and 16 days after the start: every kind here happens on it
    assert starts[-1] == datetime(2025, 3, 19, 21, 30)


def test_end_date_on_a_day_without_occurrence_stops_before_it():
    r = routine("every_n_days", start=date(2025, 3, 1), end=date(2025, 3, 6), every=4)
    assert [d.date() for d in local_starts(r)] == [date(2025, 3, 1), date(2025, 3, 5)]


def test_start_equal_to_end_gives_one_occurrence():
    r = routine("daily", start=date(2025, 3, 1), end=date(2025, 3, 1))
    assert local_starts(r) == [datetime(2025, 3, 1, 21, 30)]


# -- daylight saving ---------------------------------------------------------------------------
def test_daily_keeps_wall_time_across_spring_forward_and_the_utc_gap_is_23_hours():
    r = routine("daily", start=date(2025, 3, 29), end=date(2025, 3, 31))
    occ = list(iter_occurrences(r))
    assert [o.start.strftime("%H:%M %Z") for o in occ] == ["21:30 CET", "21:30 CEST", "21:30 CEST"]
    utc = [o.start.astimezone(UTC) for o in occ]
    assert utc[1] - utc[0] == timedelta(hours=23)          # the night of the 02:00 -> 03:00 change
    assert utc[2] - utc[1] == timedelta(hours=24)


def test_daily_keeps_wall_time_across_fall_back_in_new_york_and_the_utc_gap_is_25_hours():
    r = routine("daily", at=time(8, 0), tz="America/New_York", start=date(2025, 11, 1), end=date(2025, 11, 3))
    utc = [o.start.astimezone(UTC) for o in iter_occurrences(r)]
    assert utc == [datetime(2025, 11, 1, 12, tzinfo=UTC), datetime(2025, 11, 2, 13, tzinfo=UTC),
                   datetime(2025, 11, 3, 13, tzinfo=UTC)]


def test_a_wall_time_skipped_by_spring_forward_happens_an_hour_later_as_rfc5545_says():
    r = routine("daily", at=time(2, 30), start=date(2025, 3, 29), end=date(2025, 3, 31))
    occ = {o.local_date: o.start for o in iter_occurrences(r)}
    assert occ[date(2025, 3, 30)].strftime("%H:%M %Z") == "03:30 CEST"
    assert occ[date(2025, 3, 30)].astimezone(UTC) == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert occ[date(2025, 3, 31)].strftime("%H:%M %Z") == "02:30 CEST"


def test_a_wall_time_repeated_by_fall_back_means_the_first_of_the_two():
    r = routine("daily", at=time(2, 30), start=date(2025, 10, 25), end=date(2025, 10, 26))
    occ = {o.local_date: o.start for o in iter_occurrences(r)}
    assert occ[date(2025, 10, 26)].astimezone(UTC) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    assert occ[date(2025, 10, 26)].strftime("%Z") == "CEST"


def test_alert_is_counted_in_real_minutes_even_across_the_spring_forward_jump():
    # 03:10 CEST on the change day, 30 minutes before is 02:40 CEST = 01:40 CET on the wall clock
    r = routine("once", at=time(3, 10), start=date(2025, 3, 30), alert=30)
    (occ,) = list(iter_occurrences(r))
    assert occ.start.astimezone(UTC) - occ.alert_at.astimezone(UTC) == timedelta(minutes=30)
    assert occ.alert_at.strftime("%H:%M %Z") == "01:40 CET"


@pytest.mark.parametrize("alert", [0, 15, 30])
def test_alert_is_that_many_minutes_before(alert):
    r = routine("daily", at=time(7, 0), alert=alert)
    occ = next(iter_occurrences(r))
    assert occ.start - occ.alert_at == timedelta(minutes=alert)


def test_dst_notes_name_the_days_whose_wall_time_is_skipped_or_repeated():
    r = routine("daily", at=time(2, 30), start=date(2025, 1, 1))
    notes = dst_notes(r, date(2025, 1, 1), days=365)
    assert len(notes) == 2
    assert "30 March 2025" in notes[0] and "03:30" in notes[0]
    assert "26 October 2025" in notes[1] and "first" in notes[1]


def test_dst_notes_are_empty_for_a_time_no_change_touches():
    assert dst_notes(routine("daily", at=time(21, 30)), date(2025, 1, 1), days=365) == []


# -- time zones --------------------------------------------------------------------------------
@pytest.mark.parametrize("tz,expected_utc", [
    ("Asia/Kolkata", datetime(2025, 6, 1, 2, 0, tzinfo=UTC)),          # +05:30
    ("America/Los_Angeles", datetime(2025, 6, 1, 14, 30, tzinfo=UTC)),  # -07:00 in summer
    ("Australia/Sydney", datetime(2025, 5, 31, 21, 30, tzinfo=UTC)),    # +10:00 in its winter
])
def test_the_same_wall_time_is_a_different_instant_in_each_zone(tz, expected_utc):
    at = time(7, 30)
    r = routine("once", at=at, tz=tz, start=date(2025, 6, 1))
    (occ,) = list(iter_occurrences(r))
    assert occ.start.astimezone(UTC) == expected_utc
    assert occ.start.time() == at


def test_next_occurrences_after_an_instant_given_in_another_zone():
    r = routine("daily", at=time(7, 0), tz="Asia/Tokyo", start=date(2025, 1, 1))
    # 2025-03-01 22:30 UTC is 07:30 on 2 March in Tokyo: that morning's 07:00 is already past
    nxt = next_occurrences(r, datetime(2025, 3, 1, 22, 30, tzinfo=UTC), count=2)
    assert [o.local_date for o in nxt] == [date(2025, 3, 3), date(2025, 3, 4)]


def test_next_occurrences_includes_one_exactly_at_the_instant():
    r = routine("daily", at=time(7, 0), tz="UTC", start=date(2025, 1, 1))
    nxt = next_occurrences(r, datetime(2025, 3, 2, 7, 0, tzinfo=UTC), count=1)
    assert nxt[0].start == datetime(2025, 3, 2, 7, 0, tzinfo=ZoneInfo("UTC"))


def test_next_occurrences_of_a_finished_schedule_is_empty():
    r = routine("daily", start=date(2025, 1, 1), end=date(2025, 1, 5))
    assert next_occurrences(r, datetime(2025, 2, 1, tzinfo=UTC)) == []


def test_next_occurrences_refuses_a_naive_instant():
    with pytest.raises(ValueError, match="time-zone-aware"):
        next_occurrences(routine(), datetime(2025, 1, 1))


def test_occurrences_between_is_half_open():
    r = routine("daily", at=time(9, 0), tz="UTC", start=date(2025, 1, 1))
    got = occurrences_between(r, datetime(2025, 1, 2, 9, tzinfo=UTC), datetime(2025, 1, 4, 9, tzinfo=UTC))
    assert [o.local_date for o in got] == [date(2025, 1, 2), date(2025, 1, 3)]


# -- year boundary -----------------------------------------------------------------------------
def test_daily_crosses_the_year_boundary():
    r = routine("daily", start=date(2025, 12, 30))
    assert [d.date() for d in local_starts(r, 4)] == [date(2025, 12, 30), date(2025, 12, 31),
                                                      date(2026, 1, 1), date(2026, 1, 2)]


def test_every_n_days_keeps_its_rhythm_across_the_year_boundary():
    r = routine("every_n_days", start=date(2025, 12, 27), every=3)
    assert [d.date() for d in local_starts(r, 4)] == [date(2025, 12, 27), date(2025, 12, 30),
                                                      date(2026, 1, 2), date(2026, 1, 5)]


def test_weekly_on_wednesday_crosses_into_a_new_iso_year():
    # 2025-12-29 (Monday) already belongs to ISO week 1 of 2026
    r = routine("weekdays", start=date(2025, 12, 20), weekdays=(2,))
    assert [d.date() for d in local_starts(r, 3)] == [date(2025, 12, 24), date(2025, 12, 31), date(2026, 1, 7)]


def test_leap_day_every_n_days():
    r = routine("every_n_days", start=date(2028, 2, 27), every=2)
    assert [d.date() for d in local_starts(r, 3)] == [date(2028, 2, 27), date(2028, 2, 29), date(2028, 3, 2)]


def test_occurrences_on_dates_uses_routine_local_dates():
    # 23:30 in Los Angeles is already the next day in UTC; the key stays the local date
    r = routine("daily", at=time(23, 30), tz="America/Los_Angeles", start=date(2025, 1, 1))
    got = occurrences_on_dates(r, date(2025, 1, 10), date(2025, 1, 11))
    assert [o.local_date for o in got] == [date(2025, 1, 10), date(2025, 1, 11)]
    assert got[0].start.astimezone(UTC).date() == date(2025, 1, 11)


def test_describe_schedule_in_words():
    r = routine("weekdays", weekdays=(4, 0), at=time(21, 30), start=date(2025, 1, 6), end=date(2025, 2, 1), alert=15)
    text = describe_schedule(r.schedule)
    assert text.startswith("Every Monday, Friday at 21:30 (Europe/Berlin)")
    assert "until 01 Feb 2025" in text and "alert 15 min before" in text
