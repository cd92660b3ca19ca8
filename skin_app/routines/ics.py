"""A routine as a calendar file: RFC 5545 (iCalendar) events a phone's calendar imports.

One VEVENT per routine, with the routine's own recurrence (RRULE) and zone (DTSTART with TZID and a
VTIMEZONE), so the calendar app expands it exactly as ``schedule.py`` does (see its notes on
daylight-saving changes), and a display alarm at the routine's alert time.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone

from skin_app.routines.schedule import Routine, first_local, occurrence_at, validate

_ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
EVENT_DURATION = timedelta(minutes=10)  # length of the calendar event in the .ics export

PRODID = "-//SkinGorithm//Routine reminders//EN"


def routine_uid(routine: Routine) -> str:
    """Stable across exports, so importing a newer file updates the event instead of duplicating it."""
    if routine.id is not None:
        return f"routine-{routine.profile_id or 0}-{routine.id}@skingorithm.local"
    seed = f"{routine.name}|{routine.schedule}"
    return f"routine-{uuid.uuid5(uuid.NAMESPACE_URL, seed)}@skingorithm.local"


def rrule_for(routine: Routine) -> dict | None:
    """The RRULE value (as icalendar's vRecur mapping) or None for a one-off routine."""
    s = routine.schedule
    if s.kind == "once":
        return None
    rule: dict = {"FREQ": "DAILY"}
    if s.kind == "every_n_days" and s.interval_days > 1:
        rule["INTERVAL"] = s.interval_days
    if s.kind == "weekdays":
        rule = {"FREQ": "WEEKLY", "BYDAY": [_ICAL_DAYS[d] for d in sorted(set(s.weekdays))], "WKST": "MO"}
    if s.end_date is not None:
        # UNTIL must be UTC when DTSTART has a TZID (RFC 5545 3.3.10); the instant of the last
        # possible occurrence on the end date makes it inclusive of that day only.
        last_wall = datetime.combine(s.end_date, s.time_of_day.replace(second=0, microsecond=0))
        rule["UNTIL"] = occurrence_at(routine, last_wall).start.astimezone(timezone.utc)
    return rule


def to_ics(routines: Sequence[Routine], now: datetime | None = None,
           calendar_name: str = "SkinGorithm routines") -> bytes:
    """An RFC 5545 calendar with one VEVENT per routine (RRULE, DTSTART with TZID, VTIMEZONE,
    and a display VALARM at the routine's alert time)."""
    import icalendar

    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calendar_name)
    first_day = date.max
    last_day = date.min
    for routine in routines:
        routine = validate(routine)
        s = routine.schedule
        first = first_local(routine)
        if first is None:          # validate() refuses such a routine; kept for safety
            continue
        start = occurrence_at(routine, first).start
        ev = icalendar.Event()
        ev.add("uid", routine_uid(routine))
        ev.add("dtstamp", stamp)
        ev.add("summary", routine.name)
        ev.add("dtstart", start)   # datetime with ZoneInfo -> DTSTART;TZID=...
        ev.add("duration", EVENT_DURATION)
        rule = rrule_for(routine)
        if rule is not None:
            ev.add("rrule", rule)
        description = steps_text(routine)
        if description:
            ev.add("description", description)
        ev.add("categories", ["Skincare"])
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{routine.name}" + (f" in {s.alert_minutes} minutes" if s.alert_minutes else " now"))
        alarm.add("trigger", -timedelta(minutes=s.alert_minutes))
        ev.add_component(alarm)
        cal.add_component(ev)
        first_day = min(first_day, first.date())
        last_day = max(last_day, s.end_date or first.date() + timedelta(days=366 * 5))
    if routines:
        cal.add_missing_timezones(first_date=first_day - timedelta(days=366),
                                  last_date=last_day + timedelta(days=366))
    return cal.to_ical()


def steps_text(routine: Routine) -> str:
    lines = []
    for number, st in enumerate(routine.steps, start=1):
        lines.append(f"{number}. {st.text}" + (f" ({st.product_name})" if st.product_name else ""))
    return "\n".join(lines)


def ics_filename(routines: Sequence[Routine]) -> str:
    if len(routines) == 1:
        slug = re.sub(r"[^a-z0-9]+", "-", routines[0].name.lower()).strip("-")[:40] or "routine"
        return f"skingorithm-{slug}.ics"
    return "skingorithm-routines.ics"
