"""Plotly figures. Every figure the app draws is built here, from core values, never in a page.

Each function returns a ``plotly.graph_objects.Figure`` and does no I/O, so a page only calls
``st.plotly_chart(fig)`` and a test can read the traces.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Mapping, Sequence

import plotly.graph_objects as go

from skin_app.results import CONCERN_LABELS

_WEEK_MS = 7 * 24 * 3600 * 1000


# -- routine adherence (reminders feature) ---------------------------------------------------------
def adherence_with_scores_figure(weeks: Sequence[Any], scans: Sequence[tuple[datetime | str, Mapping[str, float]]] = (),
                                 title: str = "Routine adherence and skin scores",
                                 zone: tzinfo | None = None) -> go.Figure:
    """Weekly adherence as bars (0-100 %) with the skin scores of the same weeks as lines (0-100,
    higher is better) on one shared axis, so a person can see whether keeping the routine went with
    better scores.

    ``weeks``: :class:`skin_app.reminders.WeekAdherence` rows (``week_start``, ``rate`` in [0, 1] or
    None, ``done``, ``partial``, ``skipped``, ``missed``, ``scheduled``).
    ``scans``: ``(taken_at, scores)`` pairs; ``scores`` has ``overall`` and the concerns. Only scans
    inside the weeks shown are drawn. The overall score is shown, the concerns are one click away in
    the legend. Scan times are shown on the wall clock of ``zone`` (UTC when None).
    """
    fig = go.Figure()
    if weeks:
        x = [datetime.combine(w.week_start, time(0)) + timedelta(days=3.5) for w in weeks]
        y = [None if w.rate is None else round(w.rate * 100, 1) for w in weeks]
        hover = [
            (f"Week of {w.week_start:%d %b %Y}<br>nothing scheduled" if w.rate is None else
             f"Week of {w.week_start:%d %b %Y}<br>{w.rate:.0%} kept<br>done {w.done}, partly {w.partial}, "
             f"skipped {w.skipped}, missed {w.missed} of {w.scheduled}")
            for w in weeks]
        fig.add_bar(x=x, y=y, width=[_WEEK_MS * 0.8] * len(x), name="Routine kept (%)",
                    marker_color="#7fb3d5", hovertext=hover, hoverinfo="text")
        first = datetime.combine(weeks[0].week_start, time(0))
        last = datetime.combine(weeks[-1].week_start, time(0)) + timedelta(days=7)
        points = sorted((_as_datetime(t, zone), s) for t, s in scans if first <= _as_datetime(t, zone) < last)
        for key in ("overall", *[k for k in CONCERN_LABELS if k != "overall"]):
            xs = [t for t, s in points if key in s]
            if not xs:
                continue
            fig.add_scatter(
                x=xs, y=[round(float(s[key]), 1) for t, s in points if key in s],
                mode="lines+markers", name=f"{CONCERN_LABELS.get(key, key)} score",
                visible=True if key == "overall" else "legendonly",
                line={"width": 3 if key == "overall" else 1.5})
        fig.update_xaxes(range=[first, last])
    fig.update_layout(
        title=title, yaxis={"title": "0-100", "range": [0, 105]}, xaxis={"title": "Week"},
        legend={"orientation": "h", "y": -0.25}, margin={"t": 50, "l": 10, "r": 10, "b": 10},
        hovermode="closest")
    return fig


def _as_datetime(value: datetime | date | str, zone: tzinfo | None) -> datetime:
    """A naive wall-clock datetime in ``zone`` (naive input is taken as already local)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value
        return value.astimezone(zone or timezone.utc).replace(tzinfo=None)
    return datetime.combine(value, time(12))
