"""Bad routines are refused with a message a person can act on; good ones are tidied."""
from __future__ import annotations

from datetime import date, time

import pytest

from skin_app.routines.schedule import (
    Routine,
    RoutineError,
    Schedule,
    Step,
    carry_step_ids,
    format_steps,
    parse_steps,
    problems,
    validate,
)


def routine(name="Morning", kind="daily", at=time(7, 30), tz="Europe/Berlin", start=date(2025, 1, 6),
            end=None, weekdays=(), every=1, alert=0, steps=()) -> Routine:
    return Routine(name, Schedule(kind, at, tz, start, end, tuple(weekdays), every, alert), tuple(steps))


def test_a_good_routine_has_no_problems():
    assert problems(routine()) == []


@pytest.mark.parametrize("name", ["", "   ", "\n\t"])
def test_empty_name_is_refused(name):
    (message,) = problems(routine(name=name))
    assert "name" in message.lower()


def test_a_10000_character_name_is_refused_with_the_limit():
    (message,) = problems(routine(name="x" * 10_000))
    assert "10,000 characters" in message and "80" in message


def test_an_80_character_name_is_accepted():
    assert problems(routine(name="x" * 80)) == []


def test_end_before_start_is_refused_naming_both_dates():
    (message,) = problems(routine(start=date(2025, 5, 10), end=date(2025, 5, 9)))
    assert "before the start date" in message
    assert "9 May 2025" in message and "10 May 2025" in message


def test_a_time_that_does_not_exist_on_the_spring_forward_day_is_refused():
    (message,) = problems(routine(kind="once", at=time(2, 30), start=date(2025, 3, 30)))
    assert "02:30 does not exist" in message
    assert "30 March 2025" in message and "Europe/Berlin" in message
    assert "from 02:00 to 03:00" in message


def test_a_recurring_schedule_starting_in_the_gap_is_refused():
    (message,) = problems(routine(kind="daily", at=time(2, 15), start=date(2025, 3, 30)))
    assert "does not exist" in message


def test_a_time_that_happens_twice_on_the_fall_back_day_is_refused():
    (message,) = problems(routine(kind="once", at=time(2, 30), start=date(2025, 10, 26)))
    assert "happens twice" in message and "from 03:00 to 02:00" in message


def test_a_half_hour_dst_gap_is_described_exactly():
    # Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 02:30 on 5 October 2025
    (message,) = problems(routine(kind="once", at=time(2, 10), tz="Australia/Lord_Howe", start=date(2025, 10, 5)))
    assert "from 02:00 to 02:30" in message


def test_a_recurring_time_that_only_later_falls_in_a_gap_is_allowed():
    # 02:30 every day from January: 30 March is handled by the RFC 5545 rule, not refused
    assert problems(routine(kind="daily", at=time(2, 30), start=date(2025, 1, 1))) == []


def test_times_next_to_the_gap_are_fine():
    assert problems(routine(kind="once", at=time(1, 59), start=date(2025, 3, 30))) == []
    assert problems(routine(kind="once", at=time(3, 0), start=date(2025, 3, 30))) == []


def test_unknown_time_zone_is_refused():
    (message,) = problems(routine(tz="Mars/Olympus_Mons"))
    assert "Unknown time zone" in message


@pytest.mark.parametrize("alert", [-15, 5, 10, 60])
def test_alerts_other_than_0_15_30_are_refused(alert):
    (message,) = problems(routine(alert=alert))
    assert "0, 15 or 30" in message


def test_chosen_weekdays_need_at_least_one_day():
    (message,) = problems(routine(kind="weekdays", weekdays=()))
    assert "at least one weekday" in message


def test_weekdays_out_of_range_are_refused():
    assert problems(routine(kind="weekdays", weekdays=(7,)))


@pytest.mark.parametrize("every", [0, -1, 366])
def test_every_n_days_needs_a_sensible_n(every):
    (message,) = problems(routine(kind="every_n_days", every=every))
    assert "between 1 and 365" in message


def test_a_schedule_that_never_happens_is_refused():
    # Saturdays only, but from Monday to Wednesday
    (message,) = problems(routine(kind="weekdays", weekdays=(5,), start=date(2025, 1, 6), end=date(2025, 1, 8)))
    assert "never happens" in message


def test_a_one_off_with_an_end_date_is_refused():
    (message,) = problems(routine(kind="once", end=date(2025, 2, 1)))
    assert "no end date" in message


def test_unknown_schedule_kind_is_refused():
    assert "Unknown schedule" in problems(routine(kind="hourly"))[0]


def test_empty_and_overlong_steps_are_refused_by_number():
    found = problems(routine(steps=[Step("Cleanse"), Step("  "), Step("y" * 201)]))
    assert any("Step 2 is empty" in m for m in found)
    assert any("Step 3 is longer" in m for m in found)


def test_too_many_steps_are_refused():
    assert "at most 30 steps" in problems(routine(steps=[Step(f"s{i}") for i in range(31)]))[0]


def test_validate_raises_with_every_problem_listed():
    with pytest.raises(RoutineError) as info:
        validate(routine(name="", start=date(2025, 5, 10), end=date(2025, 5, 1)))
    assert len(info.value.problems) == 2
    assert "name" in str(info.value) and "before the start date" in str(info.value)


def test_validate_tidies_name_steps_seconds_and_weekdays():
    r = validate(routine(name="  Night \n retinol ", kind="weekdays", weekdays=(4, 0, 4), at=time(21, 30, 59),
                         steps=[Step("  Apply   retinol ", product_name="  Retinol 0.2% ")]))
    assert r.name == "Night retinol"
    assert r.schedule.weekdays == (0, 4)
    assert r.schedule.time_of_day == time(21, 30)
    assert r.steps == (Step("Apply retinol", product_name="Retinol 0.2%"),)


def test_validate_drops_settings_that_do_not_belong_to_the_kind():
    r = validate(routine(kind="daily", weekdays=(1,), every=4))
    assert r.schedule.weekdays == () and r.schedule.interval_days == 1


def test_steps_text_round_trip_with_products_after_a_bar():
    steps = parse_steps("Cleanse\n\n  Serum | Niacinamide 10% \nMoisturise |  \n")
    assert steps == [Step("Cleanse"), Step("Serum", "Niacinamide 10%"), Step("Moisturise")]
    assert parse_steps(format_steps(steps)) == steps


def test_editing_steps_as_text_keeps_the_ids_of_steps_that_stayed():
    old = (Step("Cleanse", id=1), Step("Serum", id=2), Step("Serum", id=3), Step("Moisturise", id=4))
    new = parse_steps("serum | new bottle\nCleanse\nSPF\nSerum\nSerum")
    assert [s.id for s in carry_step_ids(old, new)] == [2, 1, None, 3, None]
    assert carry_step_ids(old, new)[0].product_name == "new bottle"
