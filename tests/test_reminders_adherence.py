"""Due now, missed, done/skipped (whole routine or per step), adherence, streak, weekly adherence."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from skin_app.routines.schedule import (
    GRACE,
    LogEntry,
    Routine,
    Schedule,
    Step,
    agenda,
    current_streak,
    newly_alerting,
    next_occurrences,
    outcome,
    outcomes,
    summarize,
    weekly_adherence,
)

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def routine(rid=1, kind="daily", at=time(21, 0), start=date(2025, 3, 3), weekdays=(), alert=15,
            steps=(), created=None, name=None, tz="Europe/Berlin") -> Routine:
    return Routine(name or f"R{rid}", Schedule(kind, at, tz, start, None, tuple(weekdays), 1, alert),
                   tuple(steps), id=rid, profile_id=1, created_at=created)


def at(d: date, hh: int, mm: int = 0, zone=BERLIN) -> datetime:
    return datetime.combine(d, time(hh, mm), tzinfo=zone)


def done(rid, d, step=None):
    return LogEntry(rid, d, "done", step)


def skipped(rid, d, step=None):
    return LogEntry(rid, d, "skipped", step)


D = date(2025, 3, 10)            # a Monday


def status_at(r, now, log=()):
    occ = next_occurrences(r, at(D, 0))[0]
    assert occ.local_date == D
    return outcome(r, occ, log, now).status


# -- due now / missed --------------------------------------------------------------------------
def test_before_the_alert_it_is_upcoming():
    assert status_at(routine(alert=15), at(D, 20, 44)) == "upcoming"


def test_from_the_alert_to_the_start_it_is_soon():
    assert status_at(routine(alert=15), at(D, 20, 45)) == "soon"
    assert status_at(routine(alert=15), at(D, 20, 59)) == "soon"


def test_with_no_alert_it_goes_straight_from_upcoming_to_due():
    assert status_at(routine(alert=0), at(D, 20, 59)) == "upcoming"
    assert status_at(routine(alert=0), at(D, 21, 0)) == "due"


def test_it_is_due_from_the_start_until_the_grace_period_ends():
    r = routine()
    assert status_at(r, at(D, 21, 0)) == "due"
    assert status_at(r, at(D, 21, 0) + GRACE - timedelta(seconds=1)) == "due"


def test_unmarked_after_the_grace_period_it_is_missed():
    assert status_at(routine(), at(D, 21, 0) + GRACE) == "missed"


def test_a_mark_wins_over_the_clock():
    r = routine()
    assert status_at(r, at(D, 23, 0), [done(1, D)]) == "done"
    assert status_at(r, at(D, 12, 0), [skipped(1, D)]) == "skipped"


def test_the_last_mark_for_an_occurrence_is_the_one_that_counts():
    assert status_at(routine(), at(D, 23), [done(1, D), skipped(1, D)]) == "skipped"


def test_a_mark_for_another_day_or_routine_does_not_count():
    assert status_at(routine(), at(D, 23), [done(1, D - timedelta(days=1)), done(2, D)]) == "missed"


def test_an_unknown_mark_is_refused():
    with pytest.raises(ValueError, match="done or skipped"):
        status_at(routine(), at(D, 23), [LogEntry(1, D, "maybe")])


def test_now_must_be_aware():
    occ = next_occurrences(routine(), at(D, 0))[0]
    with pytest.raises(ValueError, match="aware"):
        outcome(routine(), occ, [], datetime(2025, 3, 10, 22))


# -- per step ----------------------------------------------------------------------------------
STEPS = (Step("Cleanse", id=11), Step("Serum", id=12), Step("Moisturise", id=13))


def test_every_step_done_means_the_routine_is_done():
    r = routine(steps=STEPS)
    assert status_at(r, at(D, 21, 5), [done(1, D, 11), done(1, D, 12), done(1, D, 13)]) == "done"


def test_every_step_skipped_means_the_routine_is_skipped():
    r = routine(steps=STEPS)
    assert status_at(r, at(D, 21, 5), [skipped(1, D, s.id) for s in STEPS]) == "skipped"


def test_some_steps_done_and_the_rest_skipped_is_partial_with_the_share_done():
    r = routine(steps=STEPS)
    occ = next_occurrences(r, at(D, 0))[0]
    o = outcome(r, occ, [done(1, D, 11), done(1, D, 12), skipped(1, D, 13)], at(D, 21, 5))
    assert o.status == "partial"
    assert (o.steps_done, o.steps_total) == (2, 3)
    assert o.score == pytest.approx(2 / 3)


def test_some_steps_done_is_still_due_during_the_grace_period_then_partial():
    r = routine(steps=STEPS)
    assert status_at(r, at(D, 21, 10), [done(1, D, 11)]) == "due"
    assert status_at(r, at(D, 21, 0) + GRACE, [done(1, D, 11)]) == "partial"


def test_marks_of_steps_that_were_removed_are_ignored():
    r = routine(steps=STEPS[:1])
    assert status_at(r, at(D, 23), [done(1, D, 12), done(1, D, 13)]) == "missed"


def test_a_whole_routine_mark_overrides_step_marks():
    r = routine(steps=STEPS)
    assert status_at(r, at(D, 23), [done(1, D, 11), skipped(1, D)]) == "skipped"


# -- adherence ---------------------------------------------------------------------------------
def test_outcomes_cover_every_day_from_the_start_to_today():
    r = routine(start=date(2025, 3, 1))
    got = outcomes([r], [done(1, date(2025, 3, 1))], at(date(2025, 3, 4), 12))
    assert [(o.occurrence.local_date.day, o.status) for o in got] == [
        (1, "done"), (2, "missed"), (3, "missed"), (4, "upcoming")]


def test_occurrences_before_the_routine_was_created_are_not_missed():
    created = at(date(2025, 3, 3), 22, 30)        # after that day's 21:00
    r = routine(start=date(2025, 3, 1), created=created)
    got = outcomes([r], [], at(date(2025, 3, 4), 23, 30))
    assert [o.occurrence.local_date.day for o in got] == [4]


def test_a_mark_before_creation_still_counts():
    r = routine(start=date(2025, 3, 1), created=at(date(2025, 3, 3), 22, 30))
    got = outcomes([r], [done(1, date(2025, 3, 2))], at(date(2025, 3, 3), 23))
    assert [(o.occurrence.local_date.day, o.status) for o in got] == [(2, "done")]


def test_summary_counts_only_settled_occurrences_and_averages_their_scores():
    r = routine(start=date(2025, 3, 1), steps=STEPS[:2])
    log = [done(1, date(2025, 3, 1)), skipped(1, date(2025, 3, 2)),
           done(1, date(2025, 3, 3), 11), skipped(1, date(2025, 3, 3), 12)]
    s = summarize(outcomes([r], log, at(date(2025, 3, 5), 12)))   # 4th missed, 5th still to come
    assert (s.scheduled, s.done, s.skipped, s.partial, s.missed) == (4, 1, 1, 1, 1)
    assert s.rate == pytest.approx((1 + 0 + 0.5 + 0) / 4)


def test_summary_of_nothing_has_no_rate():
    assert summarize([]).rate is None


def test_outcomes_since_limits_the_history():
    r = routine(start=date(2025, 3, 1))
    got = outcomes([r], [], at(date(2025, 3, 5), 12), since=date(2025, 3, 4))
    assert [o.occurrence.local_date.day for o in got] == [4, 5]


# -- streak ------------------------------------------------------------------------------------
def streak(routines, log, now):
    return current_streak(outcomes(routines, log, now), now.astimezone(BERLIN).date())


def test_streak_counts_consecutive_done_days_back_from_today():
    r = routine(start=date(2025, 3, 1))
    log = [done(1, date(2025, 3, d)) for d in (1, 3, 4, 5)]
    assert streak([r], log, at(date(2025, 3, 5), 23)) == 3


def test_unfinished_today_neither_counts_nor_breaks_the_streak():
    r = routine(start=date(2025, 3, 1))
    log = [done(1, date(2025, 3, d)) for d in (1, 2, 3, 4)]
    assert streak([r], log, at(date(2025, 3, 5), 12)) == 4          # today's 21:00 still to come
    assert streak([r], log + [done(1, date(2025, 3, 5))], at(date(2025, 3, 5), 21, 30)) == 5


def test_a_skipped_day_breaks_the_streak():
    r = routine(start=date(2025, 3, 1))
    log = [done(1, date(2025, 3, 1)), done(1, date(2025, 3, 2)), skipped(1, date(2025, 3, 3)),
           done(1, date(2025, 3, 4))]
    assert streak([r], log, at(date(2025, 3, 4), 23)) == 1


def test_missing_today_after_the_grace_period_breaks_the_streak():
    r = routine(start=date(2025, 3, 1))
    log = [done(1, date(2025, 3, d)) for d in (1, 2, 3)]
    assert streak([r], log, at(date(2025, 3, 4), 22, 30)) == 0


def test_days_without_a_scheduled_routine_do_not_break_the_streak():
    # Monday and Thursday only: done on Mon 3, Thu 6, Mon 10
    r = routine(kind="weekdays", weekdays=(0, 3), start=date(2025, 3, 3))
    log = [done(1, date(2025, 3, d)) for d in (3, 6, 10)]
    assert streak([r], log, at(date(2025, 3, 12), 12)) == 3


def test_a_day_counts_only_if_every_routine_of_that_day_was_done():
    morning = routine(rid=1, at=time(7, 0), start=date(2025, 3, 1))
    night = routine(rid=2, at=time(21, 0), start=date(2025, 3, 1))
    log = [done(1, date(2025, 3, d)) for d in (1, 2, 3)] + [done(2, date(2025, 3, d)) for d in (1, 3)]
    assert streak([morning, night], log, at(date(2025, 3, 3), 23)) == 1


def test_no_history_means_no_streak():
    assert current_streak([], date(2025, 3, 3)) == 0


# -- weekly ------------------------------------------------------------------------------------
def test_weekly_adherence_groups_monday_to_sunday_and_ends_with_this_week():
    r = routine(start=date(2025, 3, 3))                               # Monday
    log = [done(1, date(2025, 3, 3) + timedelta(days=k)) for k in range(7)]       # week 1: all done
    log += [done(1, date(2025, 3, 10) + timedelta(days=k)) for k in range(3)]     # week 2: 3 of 7
    now = at(date(2025, 3, 18), 12)                                   # Tuesday of week 3
    weeks = weekly_adherence(outcomes([r], log, now), now.date(), weeks=4)
    assert [w.week_start for w in weeks] == [date(2025, 2, 24), date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17)]
    assert weeks[0].rate is None and weeks[0].scheduled == 0
    assert (weeks[1].scheduled, weeks[1].done, weeks[1].rate) == (7, 7, 1.0)
    assert (weeks[2].scheduled, weeks[2].done, weeks[2].missed) == (7, 3, 4)
    assert weeks[2].rate == pytest.approx(3 / 7)
    assert (weeks[3].scheduled, weeks[3].missed) == (1, 1)          # Monday missed, Tuesday to come


def test_weekly_adherence_needs_at_least_one_week():
    with pytest.raises(ValueError):
        weekly_adherence([], date(2025, 3, 3), weeks=0)


# -- today -------------------------------------------------------------------------------------
def test_agenda_lists_today_in_time_order_with_statuses():
    morning = routine(rid=1, at=time(7, 0), name="Morning", alert=0)
    night = routine(rid=2, at=time(21, 0), name="Night", alert=30)
    today = agenda([night, morning], [done(1, D)], at(D, 20, 40), "Europe/Berlin")
    assert [(o.occurrence.routine_name, o.status) for o in today] == [("Morning", "done"), ("Night", "soon")]


def test_agenda_uses_the_viewers_day_not_the_routines():
    # a 23:30 Los Angeles routine happens on the next morning in Berlin
    la = routine(at=time(23, 30), tz="America/Los_Angeles", start=date(2025, 3, 1), alert=0)
    today = agenda([la], [], at(D, 9, 0), "Europe/Berlin")
    (o,) = today
    assert o.occurrence.start.astimezone(BERLIN).date() == D
    assert o.occurrence.local_date == D - timedelta(days=1)     # logged under the routine's own date
    assert o.status == "missed"


def test_agenda_hides_a_slot_that_was_over_before_the_routine_existed():
    r = routine(at=time(7, 0), created=at(D, 10, 0))
    assert agenda([r], [], at(D, 10, 5), "Europe/Berlin") == []


def test_agenda_is_empty_on_a_day_without_routines():
    r = routine(kind="weekdays", weekdays=(2,))
    assert agenda([r], [], at(D, 12), "Europe/Berlin") == []


def test_newly_alerting_returns_only_soon_or_due_not_yet_announced():
    a = routine(rid=1, at=time(20, 50), alert=0)
    b = routine(rid=2, at=time(21, 0), alert=15)
    c = routine(rid=3, at=time(22, 0), alert=0)
    today = agenda([a, b, c], [], at(D, 20, 55), "Europe/Berlin")
    fresh = newly_alerting(today, already=set())
    assert [o.occurrence.routine_id for o in fresh] == [1, 2]
    assert [o.occurrence.routine_id for o in newly_alerting(today, {(1, D)})] == [2]
