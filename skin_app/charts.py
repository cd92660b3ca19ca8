"""Plotly figures. Every figure the app draws is built here, from core values, never in a page.

Each function returns a ``plotly.graph_objects.Figure`` and does no I/O, so a page only calls
``st.plotly_chart(fig)`` and a test can read the traces.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

import plotly.graph_objects as go

from skin_app.concerns import CONCERN_LABELS, CONCERNS, VIEW_LABELS, VIEWS
from skin_app.history.progress import DIFFERENT_CONDITIONS, verdict_of
from skin_app.scan.conditions import differences
from skin_app.values import local_time

_WEEK_MS = 7 * 24 * 3600 * 1000
# Plotly's toolbar stands upright at the right edge, so on a phone it never covers the title.
MODEBAR = {"orientation": "v"}


# -- routine adherence (reminders feature) ---------------------------------------------------------
def adherence_with_scores_figure(weeks: Sequence[Any], scans: Sequence[tuple[datetime | str, Mapping[str, float]]] = (),
                                 title: str = "Routine adherence and skin scores",
                                 zone: tzinfo | None = None) -> go.Figure:
    """Weekly adherence as bars (0-100 %) with the skin scores of the same weeks as lines (0-100,
    higher is better) on one shared axis, so a person can see whether keeping the routine went with
    better scores.

    ``weeks``: :class:`skin_app.routines.schedule.WeekAdherence` rows (``week_start``, ``rate`` in [0, 1] or
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
        legend={"orientation": "h", "y": -0.25}, margin={"t": 50, "l": 10, "r": 10, "b": 10}, modebar=MODEBAR,
        hovermode="closest")
    return fig


def _shifted(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, or ``moment`` at the ends of the calendar (a scan an older version stored in year 1)."""
    try:
        return moment + delta
    except OverflowError:
        return moment


def _as_datetime(value: datetime | date | str, zone: tzinfo | None) -> datetime:
    """A naive wall-clock datetime in ``zone`` (naive input is taken as already local)."""
    if isinstance(value, str) or (isinstance(value, datetime) and value.tzinfo is not None):
        moment = local_time(value, zone or timezone.utc)      # in UTC where the zone cannot show it
        if moment is None:
            raise ValueError(f"{str(value)[:40]!r} is not a date and time")
        return moment.replace(tzinfo=None)
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(12))


# -- progress and comparison (scan history) ------------------------------------------------------------
_VERDICT_COLOURS = {"better": "#2a9d8f", "worse": "#d1495b", "within noise": "#9aa5ab",
                    DIFFERENT_CONDITIONS: "#e9a03b"}


def progress_figure(scans: Sequence[tuple[datetime | str, Mapping[str, float]]], key: str,
                    band: float, zone: tzinfo | None = None, others: Sequence[str] = (),
                    versions: Sequence[str] | None = None,
                    conditions: Sequence[Mapping[str, float]] | None = None) -> go.Figure:
    """One score over time, with the noise band drawn around the first scan's value: a point inside
    the shaded band has not really moved from where the person started.

    ``scans``: ``(taken_at, scores)`` pairs, any order; scans without ``key`` are left out.
    ``band``: +/- score points of same-face, minutes-apart spread (skin_app.history.progress).
    ``others``: further score keys drawn as thin lines, hidden until picked in the legend.
    ``versions``: the model version of each scan (same order as ``scans``); scans of versions other
    than the newest scan's are drawn as separate open grey circles, never joined to its line.
    ``conditions``: each scan's capture conditions (``conditions.of_scan``, same order); a scan taken in
    conditions unlike the first scan's is drawn as an open circle and its change is not called real.
    """
    conds = list(conditions) if conditions is not None else [{} for _ in scans]
    if versions is not None:
        current = max(zip(scans, versions), key=lambda sv: _as_datetime(sv[0][0], zone))[1] if scans else None
        earlier = [sv[0] for sv in zip(scans, versions) if sv[1] != current]
        kept = [i for i, v in enumerate(versions) if v == current]
        fig = progress_figure([scans[i] for i in kept], key, band, zone, others,
                              conditions=[conds[i] for i in kept])
        pts = sorted((_as_datetime(t, zone), float(s[key])) for t, s in earlier if key in s)
        if pts:
            fig.add_scatter(x=[t for t, _ in pts], y=[round(v, 2) for _, v in pts], mode="markers",
                            name="Earlier model version (not comparable)",
                            marker={"size": 9, "symbol": "circle-open", "color": "#888"},
                            hovertext=[f"{t:%d %b %Y %H:%M}<br>{v:.1f} (earlier model version)" for t, v in pts],
                            hoverinfo="text")
            y0 = fig.layout.yaxis.range[0] if fig.layout.yaxis.range else 100.0
            fig.update_yaxes(range=[max(0.0, min(y0, min(v for _, v in pts) - 2)), 100.5])
            fig.update_xaxes(autorange=True, range=None)
        return fig
    ordered = sorted(((_as_datetime(t, zone), s, c) for (t, s), c in zip(scans, conds) if key in s),
                     key=lambda p: p[0])
    points = [(t, s) for t, s, _ in ordered]
    label = CONCERN_LABELS.get(key, key)
    fig = go.Figure()
    if points:
        xs = [t for t, _ in points]
        ys = [round(float(s[key]), 2) for _, s in points]
        base = ys[0]
        unlike = [differences(ordered[0][2], c) for _, _, c in ordered]
        pad = timedelta(days=1) if xs[0] == xs[-1] else (xs[-1] - xs[0]) * 0.03
        x0, x1 = _shifted(xs[0], -pad), _shifted(xs[-1], pad)
        fig.add_scatter(x=[x0, x1, x1, x0], y=[base - band, base - band, base + band, base + band],
                        fill="toself", fillcolor="rgba(154,165,171,0.25)", line={"width": 0}, mode="lines",
                        name=f"Noise band (±{band:.1f})", hoverinfo="skip")
        verdicts = [verdict_of(y - base, band, u) for y, u in zip(ys, unlike)]
        hover = [f"{t:%d %b %Y %H:%M}<br>{label}: {y:.1f}<br>{y - base:+.1f} since first scan ({v})"
                 + (f"<br>taken in {', '.join(u)}" if u else "")
                 for t, y, v, u in zip(xs, ys, verdicts, unlike)]
        fig.add_scatter(x=xs, y=ys, mode="lines+markers", name=f"{label} score", line={"width": 3, "color": "#3a8f85"},
                        marker={"size": 10, "color": [_VERDICT_COLOURS[v] for v in verdicts],
                                "symbol": ["circle-open" if u else "circle" for u in unlike],
                                "line": {"width": 2, "color": [_VERDICT_COLOURS[v] if u else "white"
                                                               for v, u in zip(verdicts, unlike)]}},
                        hovertext=hover, hoverinfo="text")
        for other in others:
            pts = [(t, float(s[other])) for t, s in points if other in s]
            if other != key and pts:
                fig.add_scatter(x=[t for t, _ in pts], y=[round(v, 2) for _, v in pts], mode="lines+markers",
                                name=f"{CONCERN_LABELS.get(other, other)} score", visible="legendonly",
                                line={"width": 1.5})
        low = min([*ys, base - band])
        fig.update_yaxes(range=[max(0.0, low - max(2.0, band)), 100.5])
        fig.update_xaxes(range=[x0, x1])
    fig.update_layout(
        title=f"{label} score over time", yaxis={"title": "Score (0-100, higher is better)"},
        xaxis={"title": "Date"}, legend={"orientation": "h", "y": -0.25},
        margin={"t": 50, "l": 10, "r": 10, "b": 10}, modebar=MODEBAR, hovermode="closest")
    return fig


def acne_count_figure(points: Sequence[tuple[datetime | str, int, int, int]], zone: tzinfo | None = None) -> go.Figure:
    """Acne lesions counted in each scan over time, with the range the counter's typical error gives
    (``calibration.acne_reading``): ``points`` are ``(taken_at, lesions, low, high)``."""
    rows = sorted((_as_datetime(t, zone), n, lo, hi) for t, n, lo, hi in points)
    fig = go.Figure(go.Scatter(
        x=[r[0] for r in rows], y=[r[1] for r in rows], mode="lines+markers", name="Acne lesions",
        error_y={"type": "data", "symmetric": False, "array": [r[3] - r[1] for r in rows],
                 "arrayminus": [r[1] - r[2] for r in rows]},
        hovertemplate="%{x|%d %b %Y}: about %{y} lesions<extra></extra>"))
    fig.update_layout(title="Acne lesions counted", yaxis={"title": "lesions", "rangemode": "tozero"},
                      margin={"l": 40, "r": 10, "t": 50, "b": 30}, height=280, showlegend=False)
    return fig


def compare_figure(changes: Sequence[Any], title: str = "Change between the two scans") -> go.Figure:
    """Horizontal bars of each score's change (after - before) over a grey bar for its noise band.

    ``changes``: :class:`skin_app.history.progress.Change` values (``label``, ``delta``, ``band``, ``verdict``).
    """
    labels = [c.label for c in changes]
    fig = go.Figure()
    fig.add_bar(y=labels, x=[2 * c.band for c in changes], base=[-c.band for c in changes], orientation="h",
                marker_color="rgba(154,165,171,0.35)", name="Noise band", hoverinfo="skip")
    fig.add_bar(y=labels, x=[round(c.delta, 2) for c in changes], orientation="h", width=0.45,
                marker_color=[_VERDICT_COLOURS[c.verdict] for c in changes], name="Change",
                text=[f"{c.arrow} {c.delta:+.1f}" for c in changes], textposition="outside",
                hovertext=[f"{c.label}: {c.before:.1f} → {c.after:.1f} ({c.verdict})" for c in changes],
                hoverinfo="text")
    reach = max([abs(c.delta) for c in changes] + [c.band for c in changes] + [1.0]) * 1.3
    fig.update_layout(title=title, barmode="overlay", xaxis={"title": "Score points (+ is better)",
                      "range": [-reach, reach], "zeroline": True}, yaxis={"autorange": "reversed"},
                      showlegend=False, margin={"t": 50, "l": 10, "r": 10, "b": 10}, modebar=MODEBAR, height=300)
    return fig


# -- batch results (python -m skin_app batch --report) ----------------------------------------------
_SCORE_KEYS = (*CONCERNS, "overall")


def _score_label(key: str) -> str:
    return CONCERN_LABELS.get(key, key.replace("_", " ").capitalize())


def batch_counts_figure(rows: Any) -> go.Figure:
    """Photos analysed and refused, one bar each, split by view. ``rows``: the batch table as a pandas
    DataFrame (columns ``ok``, ``view``)."""
    fig = go.Figure()
    for view in [v for v in VIEWS if v in set(rows["view"])]:
        part = rows[rows["view"] == view]
        fig.add_bar(x=["analysed", "refused"], y=[int(part["ok"].sum()), int((~part["ok"]).sum())],
                    name=VIEW_LABELS[view])
    fig.update_layout(title="Photos", barmode="stack", yaxis={"title": "photos"}, legend_title_text="View")
    return fig


def batch_refusals_figure(rows: Any) -> go.Figure:
    """Why photos were refused: a bar per refusal code, longest first, the message on hover."""
    refused = rows[~rows["ok"]]
    counts = refused.groupby("code").agg(n=("photo", "size"), message=("error", "first")).sort_values("n")
    fig = go.Figure()
    fig.add_bar(y=list(counts.index), x=list(counts["n"]), orientation="h",
                hovertext=[f"{code}: {m}" for code, m in zip(counts.index, counts["message"])], hoverinfo="text+x")
    fig.update_layout(title="Refusal reasons" + ("" if len(refused) else " (none)"), xaxis={"title": "photos"},
                      height=max(250, 40 * len(counts) + 120))
    return fig


def batch_distributions_figure(rows: Any) -> go.Figure:
    """Each concern's score (and the overall) over the analysed photos, as one histogram each (0-100,
    higher is better)."""
    from plotly.subplots import make_subplots
    keys = [k for k in _SCORE_KEYS if f"scores.{k}" in rows and rows[f"scores.{k}"].notna().any()]
    fig = make_subplots(rows=max(1, len(keys)), cols=1, subplot_titles=[_score_label(k) for k in keys],
                        shared_xaxes=True)
    for i, key in enumerate(keys, start=1):
        fig.add_histogram(x=rows[f"scores.{key}"].dropna(), xbins={"start": 0, "end": 100, "size": 2.5},
                          name=_score_label(key), row=i, col=1)
    fig.update_xaxes(range=[0, 100])
    fig.update_xaxes(title_text="score (higher is better)", row=max(1, len(keys)), col=1)
    fig.update_layout(title="Scores", showlegend=False, height=180 * max(1, len(keys)) + 100)
    return fig


def batch_scores_by_figure(rows: Any, column: str, order: Sequence[str], labels: Mapping[str, str],
                           title: str) -> go.Figure:
    """Box plots of each score grouped by ``column`` (a skin-tone band, a view), groups in ``order``;
    a group's size is in its label."""
    present = [g for g in order if (rows[column] == g).any()]
    sizes = {g: int((rows[column] == g).sum()) for g in present}
    names = {g: f"{labels.get(g, g)} (n={sizes[g]})" for g in present}
    fig = go.Figure()
    for key in [k for k in _SCORE_KEYS if f"scores.{k}" in rows]:
        part = rows[rows[column].isin(present) & rows[f"scores.{key}"].notna()]
        if len(part):
            fig.add_box(x=[names[g] for g in part[column]], y=part[f"scores.{key}"], name=_score_label(key))
    fig.update_layout(title=title, boxmode="group", yaxis={"title": "score (higher is better)", "range": [0, 100]},
                      xaxis={"categoryorder": "array", "categoryarray": [names[g] for g in present]})
    return fig
