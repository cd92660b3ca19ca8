"""Routine page: today's routines (due now / missed, refreshed every minute, a toast when one comes
due), marking done or skipped, adherence next to skin scores, editing routines, .ics export.

A thin shell: every rule lives in ``skin_app.routines.schedule``, every query in ``skin_app.storage``,
the chart in ``skin_app.charts``. Runs inside ``st.navigation`` (app.py) and on its own
(``streamlit run app_pages/routine.py``, ``AppTest.from_file``).
"""
from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import cast

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:                     # stand-alone run: make the project importable
    sys.path.insert(0, _ROOT)

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app_pages.common import active_profile, plain, storage, viewer_zone_name  # noqa: E402
from skin_app.charts import adherence_with_scores_figure  # noqa: E402
from skin_app.errors import UserFacingError  # noqa: E402
from skin_app.limits import ALERT_CHOICES, INTERVAL_DAYS_MAX, INTERVAL_DAYS_MIN, SCHEDULE_KINDS  # noqa: E402
from skin_app.routines import ics  # noqa: E402
from skin_app.routines import schedule as rem  # noqa: E402

STATUS_WORDS = {
    "upcoming": "⏳ later today",
    "soon": "🔔 coming up",
    "due": "⏰ due now",
    "done": "✅ done",
    "skipped": "⏭️ skipped",
    "partial": "◐ partly done",
    "missed": "❌ missed",
}
ALERT_WORDS = {0: "At the time", 15: "15 minutes before", 30: "30 minutes before"}
HISTORY_WEEKS = 12
EDIT = "routine_editing"          # session key: None, "new" or a routine id
TOASTED = "routine_toasted"       # session key: occurrence keys already announced
FORM = "rt_form_"                 # prefix of the editor's widget keys


FAILED = object()                 # what _guard returns when the call was refused


def _guard(action, *args, **kwargs):
    """Runs a storage call; a problem a person caused or can fix is shown, never a traceback."""
    try:
        return action(*args, **kwargs)
    except rem.RoutineError as exc:
        # the form's own words: names only by length, zones and kinds from the form's lists
        st.error("This routine can't be saved yet:\n\n" + "\n".join(f"- {p}" for p in exc.problems))
    except UserFacingError as exc:
        st.error(plain(str(exc)))
    return FAILED


def usable_routines(profile_id: int) -> tuple[list[rem.Routine], list[tuple[rem.Routine, list[str]]]]:
    """The profile's routines that follow the form's rules, and those that do not, with why: a file an
    older version imported may hold a routine the form would refuse (no weekdays, year 9999, ...). Those
    are kept out of today's list, the history and the calendar file, and shown only with a delete button."""
    good, broken = [], []
    for r in storage().list_routines(profile_id):
        found = rem.problems(r)
        if found:
            broken.append((r, found))
        else:
            good.append(r)
    return good, broken


# -- today ---------------------------------------------------------------------------------------
@st.fragment(run_every=timedelta(minutes=1))
def today_section(profile_id: int, zone: str) -> None:
    """Re-runs every minute on its own, so "due now" and "missed" change without a page reload."""
    db = storage()
    now = rem.utc_now()
    routines, _ = usable_routines(profile_id)
    local_now = now.astimezone(rem.ZoneInfo(zone))
    log = db.routine_log(profile_id, since=local_now.date() - timedelta(days=2))
    today = rem.agenda(routines, log, now, zone)

    announced: set = st.session_state.setdefault(TOASTED, set())
    for o in rem.newly_alerting(today, announced):
        occ = o.occurrence
        when = "now" if o.status == "due" else f"at {occ.start.astimezone(local_now.tzinfo):%H:%M}"
        st.toast(f"{plain(occ.routine_name)} is due {when}", icon="⏰", duration="long")
        announced.add(occ.key)

    st.subheader(f"Today, {local_now:%A %d %B}")
    st.caption(f"Times in {zone}. Updated {local_now:%H:%M}; this part refreshes every minute.")
    if not today:
        nxt = sorted((occ for r in routines for occ in rem.next_occurrences(r, now, 1)), key=lambda o: o.start)
        st.info("Nothing scheduled today." + (
            f" Next: {plain(nxt[0].routine_name)} on {nxt[0].start.astimezone(local_now.tzinfo):%A %d %B at %H:%M}."
            if nxt else ""))
        return
    by_id = {r.id: r for r in routines}
    for o in today:
        _today_row(by_id[o.occurrence.routine_id], o, local_now)


def _today_row(routine: rem.Routine, o: rem.Outcome, local_now: datetime) -> None:
    occ = o.occurrence
    routine_id = routine.id
    if routine_id is None:                   # only stored routines are listed; nothing to mark otherwise
        return
    key = f"{occ.routine_id}-{occ.local_date.isoformat()}"
    cols = st.columns([1.1, 3, 2, 1, 1])
    cols[0].markdown(f"**{occ.start.astimezone(local_now.tzinfo):%H:%M}**")
    cols[1].markdown(plain(occ.routine_name))
    steps_note = f" ({o.steps_done}/{o.steps_total} steps)" if o.steps_total and o.status not in ("done", "skipped") \
        and o.step_marks else ""
    cols[2].markdown(STATUS_WORDS[o.status] + steps_note)
    settled_by_marks = o.status in ("done", "skipped") or (o.status == "partial" and len(o.step_marks) == o.steps_total)
    if settled_by_marks:                   # a missed or half-done time can still be marked late
        if cols[3].button("Undo", key=f"undo-{key}", help="Clear the marks of this time"):
            _clear_marks(routine, occ.local_date)
    else:
        if cols[3].button("Done", key=f"done-{key}", type="primary"):
            _mark(routine_id, occ.local_date, "done")
        if cols[4].button("Skip", key=f"skip-{key}"):
            _mark(routine_id, occ.local_date, "skipped")
    if routine.steps:
        with st.expander(f"Steps of {plain(occ.routine_name)}", expanded=False):
            for number, step in enumerate(routine.steps, start=1):
                c = st.columns([4, 1, 1])
                mark = o.step_marks.get(step.id) if step.id is not None else None
                c[0].markdown(f"{number}\\. {step_words(step)}" + (f"  *({mark})*" if mark else ""))
                skey = f"{key}-{step.id}"
                if c[1].button("Done", key=f"sdone-{skey}", disabled=mark == "done"):
                    _mark(routine_id, occ.local_date, "done", step.id)
                if c[2].button("Skip", key=f"sskip-{skey}", disabled=mark == "skipped"):
                    _mark(routine_id, occ.local_date, "skipped", step.id)


def step_words(step: rem.Step) -> str:
    """A step and its product as Markdown, the person's words escaped."""
    return plain(step.text) + (f" — {plain(step.product_name)}" if step.product_name else "")


def _mark(routine_id: int, day: date, status: str, step_id: int | None = None) -> None:
    if _guard(storage().mark_routine, routine_id, day, status, step_id, profile_id=active_profile().id) is not FAILED:
        st.rerun()                 # the whole page: history and streak change too


def _clear_marks(routine: rem.Routine, day: date) -> None:
    if _guard(storage().clear_marks, routine.id, day, profile_id=active_profile().id) is not FAILED:
        st.rerun()


# -- adherence -------------------------------------------------------------------------------------
def adherence_section(profile_id: int, zone: str) -> None:
    db = storage()
    routines, _ = usable_routines(profile_id)
    st.subheader("How it's going")
    if not routines:
        st.caption("Add a routine below; its history will show here.")
        return
    now = rem.utc_now()
    today = now.astimezone(rem.ZoneInfo(zone)).date()
    since = today - timedelta(days=today.weekday()) - timedelta(weeks=HISTORY_WEEKS - 1)
    history = rem.outcomes(routines, db.routine_log(profile_id, since=since - timedelta(days=1)), now, since=since)
    last30 = rem.summarize(o for o in history if o.occurrence.local_date > today - timedelta(days=30))
    weeks = rem.weekly_adherence(history, today, weeks=HISTORY_WEEKS)
    c = st.columns(3)
    streak = rem.current_streak(history, today)
    unbroken = streak == 0 and last30.rate == 1.0          # all done so far, but no whole day finished yet
    c[0].metric("Current streak", "starts today" if unbroken else f"{streak} day" if streak == 1 else f"{streak} days",
                help="Whole days in a row on which every routine was done; days without one don't break it. "
                     "Today counts once all of today's routines are done.")
    c[1].metric("Kept, last 30 days", "—" if last30.rate is None else f"{last30.rate:.0%}",
                help=f"{last30.done} done, {last30.partial} partly, {last30.skipped} skipped, "
                     f"{last30.missed} missed")
    c[2].metric("Kept, this week", "—" if weeks[-1].rate is None else f"{weeks[-1].rate:.0%}")
    scans = [(s.taken_at, s.scores) for s in db.list_scans(profile_id, view="front")]   # one view, never mixed
    st.plotly_chart(adherence_with_scores_figure(weeks, scans, zone=rem.ZoneInfo(zone)))
    if not scans:
        st.caption("No skin scans yet: scan your face on the Scan page to see your scores beside your routine.")
    settled = [o for o in reversed(history) if o.settled][:30]
    if settled:
        with st.expander("History (last 30 times)"):
            st.dataframe(pd.DataFrame({
                "Date": [o.occurrence.local_date.isoformat() for o in settled],
                "Time": [f"{o.occurrence.start:%H:%M}" for o in settled],
                "Routine": [o.occurrence.routine_name for o in settled],
                "Result": [STATUS_WORDS[o.status] for o in settled],
            }), hide_index=True)


# -- routines: list, edit, delete, export ----------------------------------------------------------
def routines_section(profile_id: int, zone: str) -> None:
    db = storage()
    routines, broken = usable_routines(profile_id)
    st.subheader("Your routines")
    editing = st.session_state.get(EDIT)
    if editing == "new":
        editor(profile_id, None, zone)
    elif st.button("New routine", icon="➕"):
        _open_editor(None, zone)
        st.rerun()

    now = rem.utc_now()
    marked = {(e.routine_id, e.occurrence_date) for e in db.routine_log(profile_id, since=now.date() - timedelta(days=1))
              if e.step_id is None}              # done or skipped already: not "next"
    for r in routines:
        if editing == r.id:
            editor(profile_id, r, zone)
            continue
        with st.expander(f"{plain(r.name)} — {r.schedule.time_of_day:%H:%M}", expanded=False):
            st.markdown(rem.describe_schedule(r.schedule))     # our words; the zone is from the known list
            if r.steps:
                st.markdown("\n".join(f"{i}. {step_words(s)}" for i, s in enumerate(r.steps, start=1)))
            upcoming = [o for o in rem.next_occurrences(r, now, 5) if o.key not in marked][:3]
            st.caption("Next: " + (", ".join(f"{o.start:%a %d %b %H:%M}" for o in upcoming) or "no more times"))
            for note in rem.dst_notes(r, now.astimezone(r.schedule.zone).date(), days=366):
                st.caption("🕑 " + note)
            c = st.columns(3)
            if c[0].button("Edit", key=f"edit-{r.id}"):
                _open_editor(r, zone)
                st.rerun()
            delete_control(r, c[1])
            c[2].download_button("Calendar file (.ics)", data=ics.to_ics([r], now=now),
                                 file_name=ics.ics_filename([r]), mime="text/calendar", key=f"ics-{r.id}",
                                 on_click="ignore")

    for r, found in broken:
        with st.expander(f"⚠️ {plain(r.name[:80])} — cannot be shown", expanded=True):
            st.warning("This routine came from an imported file and breaks the rules a routine must follow, "
                       "so it is left out of today's list, the history and the calendar file: "
                       + " ".join(plain(p) for p in found))
            delete_control(r, st.container())

    if routines:
        st.download_button("Download all routines for your phone's calendar (.ics)", data=ics.to_ics(routines, now=now),
                           file_name=ics.ics_filename(routines), mime="text/calendar", key="ics-all",
                           on_click="ignore", icon="📅")
        st.caption("Open the file on your phone, or import it in Google Calendar (Settings → Import), Apple "
                   "Calendar (File → Import) or Outlook: each routine becomes a repeating event with its alarm.")


def delete_control(r: rem.Routine, where) -> None:
    """Delete, after a confirmation, for a routine and its history."""
    if st.session_state.get("routine_confirm_delete") == r.id:
        st.warning(f"Delete '{plain(r.name[:80])}' and its history?")
        y, n = st.columns(2)
        if y.button("Yes, delete", key=f"really-delete-{r.id}", type="primary"):
            if _guard(storage().delete_routine, r.id, profile_id=active_profile().id) is not FAILED:
                st.session_state.pop("routine_confirm_delete", None)
                st.rerun()
        if n.button("Keep it", key=f"keep-{r.id}"):
            st.session_state.pop("routine_confirm_delete", None)
            st.rerun()
    elif where.button("Delete", key=f"delete-{r.id}"):
        st.session_state["routine_confirm_delete"] = r.id
        st.rerun()


def _open_editor(r: rem.Routine | None, zone: str) -> None:
    """Fills the editor's widgets from a routine (or sensible defaults for a new one)."""
    st.session_state[EDIT] = "new" if r is None else r.id
    today = rem.utc_now().astimezone(rem.ZoneInfo(zone)).date()
    s = r.schedule if r else rem.Schedule("daily", time(21, 0), zone, today)
    st.session_state.update({
        FORM + "name": r.name if r else "",
        FORM + "steps": rem.format_steps(r.steps) if r else "",
        FORM + "kind": s.kind,
        FORM + "time": s.time_of_day,
        FORM + "tz": s.timezone,
        FORM + "start": s.start_date,
        FORM + "has_end": s.end_date is not None,
        FORM + "end": s.end_date or s.start_date + timedelta(days=30),
        FORM + "weekdays": list(s.weekdays),
        FORM + "every": s.interval_days if s.kind == "every_n_days" else 2,
        FORM + "alert": s.alert_minutes,
    })


def editor(profile_id: int, r: rem.Routine | None, zone: str) -> None:
    with st.container(border=True):
        st.markdown("**New routine**" if r is None else f"**Edit {plain(r.name)}**")
        st.text_input("Name", key=FORM + "name", placeholder="Morning, Night retinol, ...", max_chars=None)
        st.text_area("Steps, one per line (optional: a product after a bar, e.g. \"Serum | Niacinamide 10%\")",
                     key=FORM + "steps", height=120)
        c = st.columns(2)
        kind = c[0].selectbox("Repeats", SCHEDULE_KINDS, key=FORM + "kind",
                              format_func=lambda k: rem.SCHEDULE_LABELS.get(k, k))
        c[1].time_input("Time", key=FORM + "time", step=300)
        zones = rem.timezone_names()
        if st.session_state.get(FORM + "tz") not in zones:
            st.session_state[FORM + "tz"] = "UTC"
        st.selectbox("Time zone", zones, key=FORM + "tz")
        if kind == "weekdays":
            st.multiselect("On", list(range(7)), key=FORM + "weekdays", format_func=lambda d: rem.WEEKDAY_NAMES[d])
        if kind == "every_n_days":
            st.number_input("Every how many days", min_value=INTERVAL_DAYS_MIN, max_value=INTERVAL_DAYS_MAX, step=1,
                            key=FORM + "every")
        c = st.columns(2)
        c[0].date_input("Date" if kind == "once" else "Starts", key=FORM + "start")
        if kind != "once":
            if c[1].checkbox("Ends on a date", key=FORM + "has_end"):
                c[1].date_input("Ends", key=FORM + "end")
        st.radio("Alert", ALERT_CHOICES, key=FORM + "alert", format_func=ALERT_WORDS.get, horizontal=True)
        save, cancel = st.columns(2)
        if save.button("Save routine", type="primary", key=FORM + "save"):
            candidate = _routine_from_form(r)
            db = storage()
            saved = _guard(db.create_routine, profile_id, candidate) if r is None else _guard(db.update_routine, candidate, profile_id=profile_id)
            if saved is not FAILED:
                st.session_state[EDIT] = None
                st.session_state["routine_saved"] = saved.name
                st.rerun()
        if cancel.button("Cancel", key=FORM + "cancel"):
            st.session_state[EDIT] = None
            st.rerun()


def _routine_from_form(old: rem.Routine | None) -> rem.Routine:
    g = st.session_state.get
    kind = g(FORM + "kind")
    steps = rem.parse_steps(g(FORM + "steps") or "")
    if old is not None:
        steps = list(rem.carry_step_ids(old.steps, steps))
        steps = [replace(st_, product_id=_old_product_id(old, st_)) for st_ in steps]
    schedule = rem.Schedule(
        kind=cast(str, kind), time_of_day=g(FORM + "time") or time(0), timezone=g(FORM + "tz") or "UTC",
        start_date=cast(date, g(FORM + "start")),          # the form always holds one (validate checks it)
        end_date=g(FORM + "end") if kind != "once" and g(FORM + "has_end") else None,
        weekdays=tuple(g(FORM + "weekdays") or ()), interval_days=int(g(FORM + "every") or 1),
        alert_minutes=int(g(FORM + "alert") or 0))
    return rem.Routine(g(FORM + "name") or "", schedule, tuple(steps),
                       id=None if old is None else old.id, profile_id=None if old is None else old.profile_id,
                       created_at=rem.utc_now() if old is None else old.created_at)


def _old_product_id(old: rem.Routine, step: rem.Step) -> int | None:
    """A kept step keeps its shelf product id while its product name is unchanged."""
    for s in old.steps:
        if s.id is not None and s.id == step.id and s.product_name == step.product_name:
            return s.product_id
    return None


# -- page ------------------------------------------------------------------------------------------
def main() -> None:
    st.title("Routine")
    profile = active_profile()
    zone = viewer_zone_name()
    saved = st.session_state.pop("routine_saved", None)
    if saved:
        st.success(f"Saved '{plain(saved)}'.")
    today_section(profile.id, zone)
    st.divider()
    adherence_section(profile.id, zone)
    st.divider()
    routines_section(profile.id, zone)


main()
