"""The weekly adherence chart shows adherence and skin scores of the same weeks on one 0-100 axis."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from skin_app.charts import adherence_with_scores_figure
from skin_app.routines.schedule import WeekAdherence


def week(monday: date, rate, done=0, scheduled=0) -> WeekAdherence:
    return WeekAdherence(monday, scheduled, done, 0, 0, scheduled - done, rate)


WEEKS = [week(date(2025, 3, 3), None), week(date(2025, 3, 10), 3 / 7, 3, 7), week(date(2025, 3, 17), 1.0, 7, 7)]


def test_bars_are_the_weekly_adherence_in_percent_centred_on_each_week():
    fig = adherence_with_scores_figure(WEEKS)
    (bars,) = [t for t in fig.data if t.type == "bar"]
    assert list(bars.y) == [None, 42.9, 100.0]
    assert list(bars.x) == [datetime(2025, 3, 6, 12), datetime(2025, 3, 13, 12), datetime(2025, 3, 20, 12)]
    assert "43% kept" in bars.hovertext[1] and "missed 4 of 7" in bars.hovertext[1] and "nothing scheduled" in bars.hovertext[0]


def test_scores_inside_the_weeks_are_lines_and_outside_ones_are_left_out():
    scans = [("2025-03-12T08:00:00+00:00", {"overall": 61.0, "acne": 70.0}),
             ("2025-03-19T08:00:00+00:00", {"overall": 66.5, "acne": 75.0}),
             ("2025-02-01T08:00:00+00:00", {"overall": 10.0, "acne": 10.0}),     # before the first week
             ("2025-03-24T00:30:00+00:00", {"overall": 99.0, "acne": 99.0})]     # after the last week
    fig = adherence_with_scores_figure(WEEKS, scans)
    lines = {t.name: t for t in fig.data if t.type == "scatter"}
    assert list(lines["Overall score"].y) == [61.0, 66.5]
    assert lines["Overall score"].visible is True
    assert list(lines["Acne score"].y) == [70.0, 75.0] and lines["Acne score"].visible == "legendonly"
    assert "Wrinkles score" not in lines                                  # no such score in the scans


def test_scan_times_are_read_on_the_viewers_wall_clock():
    # 23:30 UTC on Sunday 23 March is already Monday 24 March in Berlin: outside the last week
    scans = [(datetime(2025, 3, 23, 23, 30, tzinfo=timezone.utc), {"overall": 50.0})]
    assert any(t.type == "scatter" for t in adherence_with_scores_figure(WEEKS, scans).data)
    berlin = adherence_with_scores_figure(WEEKS, scans, zone=ZoneInfo("Europe/Berlin"))
    assert not any(t.type == "scatter" for t in berlin.data)


def test_axis_is_shared_0_to_100_and_spans_exactly_the_weeks():
    fig = adherence_with_scores_figure(WEEKS)
    assert tuple(fig.layout.yaxis.range) == (0, 105)
    lo, hi = fig.layout.xaxis.range
    assert (lo, hi) == (datetime(2025, 3, 3), datetime(2025, 3, 17) + timedelta(days=7))


def test_no_weeks_gives_an_empty_figure_not_an_error():
    assert len(adherence_with_scores_figure([]).data) == 0
