"""Routine reminders: schedules, next times, due/missed, adherence (the calendar file: ``ics.py``).

No Streamlit here: the routine page only asks these functions questions and draws the answers.

How times are computed
----------------------
A routine happens at a *wall-clock* time (say 21:30) in an IANA time zone (say ``Europe/Berlin``).
Recurrence is expanded with ``dateutil.rrule`` over naive local wall times, so "every day at 21:30"
stays 21:30 on both sides of a daylight-saving change; each wall time is then attached to its zone
with :mod:`zoneinfo`. Wall times that a DST change skips or repeats follow RFC 5545 (3.3.5), which
is also what calendar apps do with the exported .ics file (``ics.py``):

* a time that does not exist (02:30 on the spring-forward day in Berlin) is read with the offset
  from before the gap, i.e. it happens at 03:30 local time;
* a time that happens twice (02:30 on the fall-back day) means the first of the two.

``zoneinfo`` with ``fold=0`` gives exactly these two readings. The first occurrence of a schedule
must be a real, unambiguous time (``validate`` says so otherwise); later ones that fall on a DST
change are listed by :func:`dst_notes` so the page can tell the person in advance.

Done, skipped, missed
---------------------
Each schedule kind happens at most once per local day, so an occurrence is identified by
``(routine id, local date)``; the log stores marks under that key. An occurrence is

* ``upcoming`` before its alert time, ``soon`` from the alert time to the start, ``due`` from the
  start until ``GRACE`` after it (while nobody has marked it),
* ``done`` / ``skipped`` once marked (for the whole routine, or every step marked individually),
* ``partial`` when some steps were marked done and the grace period has passed,
* ``missed`` when nothing was marked by the end of the grace period.

Adherence of a settled occurrence is 1 for done, 0 for skipped or missed, and the share of steps
done for partial. The current streak counts consecutive days (routine-local dates), back from
today, on which every settled occurrence was done; a day with nothing scheduled neither breaks nor
extends it, and today only counts once everything of today is done (until then it is not held
against the streak either). Occurrences before the routine was created are never counted as missed.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil import rrule

from skin_app.errors import UserFacingError
from skin_app.limits import (
    ALERT_CHOICES,
    INTERVAL_DAYS_MAX,
    INTERVAL_DAYS_MIN,
    ROUTINE_NAME_MAX,
    SCHEDULE_KINDS,
    STEP_TEXT_MAX,
    STEPS_MAX,
)

SCHEDULE_LABELS: dict[str, str] = {
    "once": "Once",
    "daily": "Every day",
    "weekdays": "On chosen weekdays",
    "every_n_days": "Every N days",
}
WEEKDAY_NAMES: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                  "Saturday", "Sunday")
_RRULE_DAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)

FIRST_DATE = date(1970, 1, 1)          # dates a routine may use: wide enough for any real routine, and
LAST_DATE = date(2199, 12, 31)         # far from the ends of Python's calendar (year 1, year 9999)
GRACE = timedelta(minutes=60)          # how long after its time a routine still counts as "due"

MARKS: tuple[str, ...] = ("done", "skipped")


class RoutineError(UserFacingError, ValueError):
    """A routine that cannot be saved; ``problems`` lists every reason, in words a person can act on."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(self.problems), code="invalid_routine")


# --------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One step of a routine, e.g. "Cleanse". ``product_*`` optionally name a product of the shelf
    (kept as plain text and id, so a step stays readable even when the product is gone)."""
    text: str
    product_name: str | None = None
    product_id: int | None = None
    id: int | None = None            # set by storage


@dataclass(frozen=True)
class Schedule:
    kind: str                              # one of SCHEDULE_KINDS
    time_of_day: time                      # local wall-clock time, minutes precision
    timezone: str                          # IANA name, e.g. "Europe/Berlin"
    start_date: date                       # first day (for "once": the day)
    end_date: date | None = None           # last day, inclusive; None = no end; must be None for "once"
    weekdays: tuple[int, ...] = ()         # 0 = Monday ... 6 = Sunday; only for "weekdays"
    interval_days: int = 1                 # only for "every_n_days"
    alert_minutes: int = 0                 # one of ALERT_CHOICES

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Routine:
    name: str
    schedule: Schedule
    steps: tuple[Step, ...] = ()
    id: int | None = None                  # set by storage
    profile_id: int | None = None
    created_at: datetime | None = None     # aware; occurrences before it are never "missed"


@dataclass(frozen=True)
class Occurrence:
    routine_id: int | None
    routine_name: str
    local_date: date          # date in the routine's zone: the key of the done/skipped log
    start: datetime           # aware, in the routine's zone
    alert_at: datetime        # aware, in the routine's zone

    @property
    def key(self) -> tuple[int | None, date]:
        return (self.routine_id, self.local_date)


@dataclass(frozen=True)
class LogEntry:
    """A done/skipped mark for one occurrence: of the whole routine (``step_id`` None) or one step."""
    routine_id: int
    occurrence_date: date
    status: str                       # "done" or "skipped"
    step_id: int | None = None
    logged_at: str = ""


@dataclass(frozen=True)
class Outcome:
    occurrence: Occurrence
    status: str                       # see the module docstring
    steps_done: int = 0
    steps_total: int = 0
    step_marks: dict[int, str] = field(default_factory=dict)   # step id -> "done"/"skipped"

    @property
    def settled(self) -> bool:
        return self.status in ("done", "skipped", "partial", "missed")

    @property
    def score(self) -> float | None:
        """Adherence of this occurrence in [0, 1], None while it is not settled."""
        if self.status == "done":
            return 1.0
        if self.status in ("skipped", "missed"):
            return 0.0
        if self.status == "partial":
            return self.steps_done / self.steps_total if self.steps_total else 0.0
        return None


@dataclass(frozen=True)
class WeekAdherence:
    week_start: date                  # Monday
    scheduled: int                    # settled occurrences in the week
    done: int
    partial: int
    skipped: int
    missed: int
    rate: float | None                # mean score in [0, 1]; None when nothing was scheduled


@dataclass(frozen=True)
class AdherenceSummary:
    scheduled: int
    done: int
    partial: int
    skipped: int
    missed: int
    rate: float | None


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_name(name: str) -> str:
    """Collapses runs of whitespace, drops control characters (NUL, BEL, ESC ... have no place in a
    name or in a calendar file) and trims: what a routine name or step is stored as."""
    return " ".join(_CONTROL.sub(" ", name or "").split())


def is_known_timezone(name: str) -> bool:
    if not name or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def timezone_names() -> list[str]:
    """The IANA zones this machine knows, sorted (for a picker)."""
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


def problems(routine: Routine) -> list[str]:
    """Everything wrong with a routine, each as one sentence; empty when it can be saved."""
    out: list[str] = []
    name = clean_name(routine.name)
    if not name:
        out.append("Give the routine a name, for example \"Morning\" or \"Night retinol\".")
    elif len(name) > ROUTINE_NAME_MAX:
        out.append(f"The name is {len(name):,} characters long; keep it to {ROUTINE_NAME_MAX} or fewer.")

    if len(routine.steps) > STEPS_MAX:
        out.append(f"A routine can have at most {STEPS_MAX} steps (this one has {len(routine.steps)}).")
    for number, step in enumerate(routine.steps, start=1):
        if not clean_name(step.text):
            out.append(f"Step {number} is empty: describe it or remove it.")
        elif len(clean_name(step.text)) > STEP_TEXT_MAX:
            out.append(f"Step {number} is longer than {STEP_TEXT_MAX} characters; shorten it.")
        if step.product_name is not None and len(step.product_name) > STEP_TEXT_MAX:
            out.append(f"The product of step {number} is longer than {STEP_TEXT_MAX} characters.")

    s = routine.schedule
    zone_ok = is_known_timezone(s.timezone)
    if not zone_ok:
        out.append(f"Unknown time zone {s.timezone!r}: pick one from the list, e.g. \"Europe/Berlin\".")
    if s.kind not in SCHEDULE_KINDS:
        out.append(f"Unknown schedule {s.kind!r}: choose once, daily, chosen weekdays or every N days.")
    if s.alert_minutes not in ALERT_CHOICES:
        out.append(f"The alert can be 0, 15 or 30 minutes before, not {s.alert_minutes}.")
    if not isinstance(s.time_of_day, time) or s.time_of_day.tzinfo is not None:
        out.append("The time of day must be a plain clock time such as 07:30.")
    for what, day in (("start", s.start_date), ("end", s.end_date)):
        if day is not None and not (isinstance(day, date) and FIRST_DATE <= day <= LAST_DATE):
            out.append(f"The {what} date must fall between {FIRST_DATE.year} and {LAST_DATE.year}.")
    if s.kind == "once" and s.end_date is not None:
        out.append("A one-off routine has no end date; leave it empty.")
    if s.end_date is not None and s.end_date < s.start_date:
        out.append(f"The end date ({_day_words(s.end_date)}) is before the start date "
                   f"({_day_words(s.start_date)}); move the end date later.")
    if s.kind == "weekdays":
        if not s.weekdays:
            out.append("Choose at least one weekday.")
        elif any(not isinstance(d, int) or not 0 <= d <= 6 for d in s.weekdays):
            out.append("Weekdays are numbered 0 (Monday) to 6 (Sunday).")
    if s.kind == "every_n_days" and not (isinstance(s.interval_days, int)
                                         and INTERVAL_DAYS_MIN <= s.interval_days <= INTERVAL_DAYS_MAX):
        out.append(f"\"Every N days\" needs N between {INTERVAL_DAYS_MIN} and {INTERVAL_DAYS_MAX}.")
    if out or not zone_ok:
        return out

    first = first_local(routine)
    if first is None:
        out.append("This schedule never happens between its start and end dates "
                   "(none of the chosen weekdays falls in that range); widen the dates or pick other days.")
        return out
    trouble = wall_time_problem(first, s.zone)
    if trouble:
        out.append(trouble)
    return out


def validate(routine: Routine) -> Routine:
    """The routine with its name and steps tidied; raises :class:`RoutineError` if it cannot be saved."""
    found = problems(routine)
    if found:
        raise RoutineError(found)
    s = routine.schedule
    schedule = replace(
        s,
        time_of_day=s.time_of_day.replace(second=0, microsecond=0),
        weekdays=tuple(sorted(set(s.weekdays))) if s.kind == "weekdays" else (),
        interval_days=s.interval_days if s.kind == "every_n_days" else 1,
    )
    steps = tuple(replace(st, text=clean_name(st.text),
                          product_name=clean_name(st.product_name) or None if st.product_name else None)
                  for st in routine.steps)
    return replace(routine, name=clean_name(routine.name), schedule=schedule, steps=steps)


def wall_time_problem(wall: datetime, zone: ZoneInfo) -> str | None:
    """A sentence when the naive local ``wall`` time does not exist or happens twice in ``zone``."""
    kind = _wall_kind(wall, zone)
    if kind == "ok":
        return None
    before, after = _transition_walls(wall, zone)
    hhmm = wall.strftime("%H:%M")
    if kind == "gap":
        return (f"{hhmm} does not exist on {_day_words(wall.date())} in {zone.key}: the clocks jump "
                f"from {before:%H:%M} to {after:%H:%M} that night. Pick a time before {before:%H:%M} "
                f"or from {after:%H:%M}, or start on another day.")
    return (f"{hhmm} happens twice on {_day_words(wall.date())} in {zone.key}: the clocks go back "
            f"from {before:%H:%M} to {after:%H:%M} that night. Pick a time before {after:%H:%M} "
            f"or from {before:%H:%M}, or start on another day.")


def _wall_kind(wall: datetime, zone: ZoneInfo) -> str:
    """"gap" (does not exist), "fold" (happens twice) or "ok" for a naive local wall time."""
    a = wall.replace(tzinfo=zone, fold=0)
    b = wall.replace(tzinfo=zone, fold=1)
    if a.utcoffset() == b.utcoffset():
        return "ok"
    back = a.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    return "gap" if back != wall.replace(tzinfo=None) else "fold"


def _transition_walls(wall: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local wall clock just before and just after the offset change near ``wall``."""
    u0 = wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
    u1 = wall.replace(tzinfo=zone, fold=1).astimezone(timezone.utc)
    lo, hi = min(u0, u1) - timedelta(hours=3), max(u0, u1) + timedelta(hours=3)
    off_lo = lo.astimezone(zone).utcoffset()
    # binary search for the first instant (to the second) with the new offset
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == off_lo:
            lo = mid
        else:
            hi = mid
    transition = hi.replace(microsecond=0)
    if transition.astimezone(zone).utcoffset() == off_lo:
        transition += timedelta(seconds=1)
    before = (transition - timedelta(seconds=1)).astimezone(zone) + timedelta(seconds=1)
    after = transition.astimezone(zone)
    return before.replace(tzinfo=None), after.replace(tzinfo=None)


def _day_words(d: date) -> str:
    return f"{WEEKDAY_NAMES[d.weekday()]} {d.day} {d:%B %Y}"


# --------------------------------------------------------------------------------------------
# recurrence
# --------------------------------------------------------------------------------------------
def _rule(s: Schedule) -> rrule.rrule:
    """The schedule as a dateutil rule over naive local wall times."""
    start = datetime.combine(s.start_date, s.time_of_day.replace(second=0, microsecond=0))
    until = datetime.combine(s.end_date, start.time()) if s.end_date else None
    if s.kind == "once":
        return rrule.rrule(rrule.DAILY, dtstart=start, count=1)
    if s.kind == "daily":
        return rrule.rrule(rrule.DAILY, dtstart=start, until=until)
    if s.kind == "every_n_days":
        return rrule.rrule(rrule.DAILY, dtstart=start, interval=s.interval_days, until=until)
    if s.kind == "weekdays":
        return rrule.rrule(rrule.WEEKLY, dtstart=start, until=until, wkst=rrule.MO,
                           byweekday=[_RRULE_DAYS[d] for d in sorted(set(s.weekdays))])
    raise RoutineError([f"Unknown schedule {s.kind!r}."])


def first_local(routine: Routine) -> datetime | None:
    """The naive local wall time of the first occurrence; None when the schedule never happens."""
    s = routine.schedule
    return _rule(s).after(datetime.combine(s.start_date, time(0)), inc=True)


def occurrence_at(routine: Routine, wall: datetime) -> Occurrence:
    """The occurrence at the naive local ``wall`` time, read as RFC 5545 reads it (see the module notes)."""
    zone = routine.schedule.zone
    start = wall.replace(tzinfo=zone, fold=0)
    # a wall time in a DST gap: show it as the real local time it maps to (RFC 5545: 02:30 -> 03:30)
    start = start.astimezone(timezone.utc).astimezone(zone)
    alert = (start.astimezone(timezone.utc)
             - timedelta(minutes=routine.schedule.alert_minutes)).astimezone(zone)
    return Occurrence(routine.id, routine.name, wall.date(), start, alert)


def iter_occurrences(routine: Routine, after: datetime | None = None) -> Iterator[Occurrence]:
    """Occurrences in time order, starting with the first one at or after the aware instant ``after``
    (from the very first when None). Infinite for schedules without an end date."""
    s = routine.schedule
    rule = _rule(s)
    if after is None:
        walls: Iterable[datetime] = iter(rule)
    else:
        _require_aware(after, "after")
        # one local day of margin covers any UTC offset difference, then filter on the instant
        lo = after.astimezone(s.zone).replace(tzinfo=None) - timedelta(days=1)
        walls = rule.xafter(lo, inc=True)
    for wall in walls:
        occ = occurrence_at(routine, wall)
        if after is None or occ.start >= after:
            yield occ


def next_occurrences(routine: Routine, after: datetime, count: int = 5) -> list[Occurrence]:
    """The next ``count`` occurrences starting at or after the aware instant ``after``."""
    out: list[Occurrence] = []
    for occ in iter_occurrences(routine, after):
        if len(out) >= count:
            break
        out.append(occ)
    return out


def occurrences_between(routine: Routine, start: datetime, end: datetime) -> list[Occurrence]:
    """Occurrences whose time is in the aware half-open interval ``[start, end)``."""
    _require_aware(end, "end")
    out: list[Occurrence] = []
    for occ in iter_occurrences(routine, start):
        if occ.start >= end:
            break
        out.append(occ)
    return out


def occurrences_on_dates(routine: Routine, first: date, last: date) -> list[Occurrence]:
    """Occurrences whose routine-local date lies in ``[first, last]`` (inclusive)."""
    rule = _rule(routine.schedule)
    lo = datetime.combine(first, time(0))
    hi = datetime.combine(last, time(23, 59, 59))
    return [occurrence_at(routine, wall) for wall in rule.between(lo, hi, inc=True)]


def dst_notes(routine: Routine, start: date, days: int = 366) -> list[str]:
    """Sentences about occurrences in the next ``days`` days whose wall time a DST change skips or
    repeats, saying when the reminder will actually come."""
    notes: list[str] = []
    zone = routine.schedule.zone
    for occ in occurrences_on_dates(routine, start, start + timedelta(days=days)):
        wall = datetime.combine(occ.local_date, routine.schedule.time_of_day)
        kind = _wall_kind(wall, zone)
        if kind == "gap":
            notes.append(f"{wall:%H:%M} does not exist on {_day_words(occ.local_date)} in {zone.key} "
                         f"(clocks go forward); that day the reminder comes at {occ.start:%H:%M}.")
        elif kind == "fold":
            notes.append(f"{wall:%H:%M} happens twice on {_day_words(occ.local_date)} in {zone.key} "
                         f"(clocks go back); the reminder comes at the first of the two "
                         f"({occ.start:%H:%M %Z}).")
    return notes


def describe_schedule(s: Schedule) -> str:
    """One line in words, e.g. "Every Monday, Wednesday at 21:30 (Europe/Berlin), from 2 Jan 2025"."""
    at = f"at {s.time_of_day:%H:%M} ({s.timezone})"
    if s.kind == "once":
        return f"Once, on {_day_words(s.start_date)} {at}"
    if s.kind == "daily":
        head = f"Every day {at}"
    elif s.kind == "weekdays":
        head = "Every " + ", ".join(WEEKDAY_NAMES[d] for d in sorted(set(s.weekdays))) + f" {at}"
    else:
        head = ("Every day" if s.interval_days == 1 else f"Every {s.interval_days} days") + f" {at}"
    span = f", from {s.start_date:%d %b %Y}"
    if s.end_date:
        span += f" until {s.end_date:%d %b %Y}"
    alert = f"; alert {s.alert_minutes} min before" if s.alert_minutes else ""
    return head + span + alert


# --------------------------------------------------------------------------------------------
# due now, missed, done/skipped
# --------------------------------------------------------------------------------------------
def _index(log: Iterable[LogEntry]) -> tuple[dict[tuple[int, date], str], dict[tuple[int, date], dict[int, str]]]:
    whole: dict[tuple[int, date], str] = {}
    steps: dict[tuple[int, date], dict[int, str]] = {}
    for e in log:
        if e.status not in MARKS:
            raise ValueError(f"Unknown mark {e.status!r}: a routine is marked done or skipped.")
        if e.step_id is None:
            whole[(e.routine_id, e.occurrence_date)] = e.status
        else:
            steps.setdefault((e.routine_id, e.occurrence_date), {})[e.step_id] = e.status
    return whole, steps


def outcome(routine: Routine, occ: Occurrence, log: Iterable[LogEntry], now: datetime,
            grace: timedelta = GRACE) -> Outcome:
    """What became of one occurrence at the aware instant ``now``."""
    whole, steps = _index(log)
    return _outcome(routine, occ, whole, steps, now, grace)


def _outcome(routine: Routine, occ: Occurrence, whole: dict, steps: dict, now: datetime,
             grace: timedelta) -> Outcome:
    _require_aware(now, "now")
    step_ids = [st.id for st in routine.steps if st.id is not None]
    marks = {sid: m for sid, m in steps.get(occ.key, {}).items() if sid in step_ids}
    done_steps = sum(1 for m in marks.values() if m == "done")
    total = len(step_ids)
    mark = whole.get(occ.key)
    if mark is None and total and len(marks) == total:     # every step marked: settled
        mark = "done" if done_steps == total else "skipped" if done_steps == 0 else None
        if mark is None:
            return Outcome(occ, "partial", done_steps, total, marks)
    if mark is not None:
        return Outcome(occ, mark, done_steps, total, marks)
    if now < occ.alert_at:
        status = "upcoming"
    elif now < occ.start:
        status = "soon"
    elif now < occ.start + grace:
        status = "due"
    else:
        status = "partial" if done_steps else "missed"
    return Outcome(occ, status, done_steps, total, marks)


def agenda(routines: Sequence[Routine], log: Iterable[LogEntry], now: datetime,
           viewer_zone: str | ZoneInfo, grace: timedelta = GRACE) -> list[Outcome]:
    """Today's occurrences of every routine (today as seen in ``viewer_zone``), in time order."""
    zone = ZoneInfo(viewer_zone) if isinstance(viewer_zone, str) else viewer_zone
    _require_aware(now, "now")
    local_now = now.astimezone(zone)
    day_start = datetime.combine(local_now.date(), time(0), tzinfo=zone)
    day_end = datetime.combine(local_now.date() + timedelta(days=1), time(0), tzinfo=zone)
    whole, steps = _index(log)
    out = []
    for r in routines:
        for occ in occurrences_between(r, day_start.astimezone(timezone.utc), day_end.astimezone(timezone.utc)):
            result = _outcome(r, occ, whole, steps, now, grace)
            if result.status == "missed" and _before_creation(r, occ):
                continue                  # it was already over when the routine was made
            out.append(result)
    return sorted(out, key=lambda o: (o.occurrence.start, o.occurrence.routine_name))


def newly_alerting(today: Sequence[Outcome], already: set) -> list[Outcome]:
    """Occurrences that are now "soon" or "due" and whose key is not in ``already`` (toasted)."""
    return [o for o in today if o.status in ("soon", "due") and o.occurrence.key not in already]


def outcomes(routines: Sequence[Routine], log: Iterable[LogEntry], now: datetime,
             since: date | None = None, grace: timedelta = GRACE) -> list[Outcome]:
    """Every occurrence up to ``now`` (routine-local dates from ``since``, or each routine's start),
    plus today's later ones, with what became of them. Occurrences before a routine's
    ``created_at`` are left out unless they were marked."""
    _require_aware(now, "now")
    whole, steps = _index(log)
    out: list[Outcome] = []
    for r in routines:
        zone = r.schedule.zone
        today = now.astimezone(zone).date()
        first = max(since or r.schedule.start_date, r.schedule.start_date)
        if first > today:
            continue
        for occ in occurrences_on_dates(r, first, today):
            if _before_creation(r, occ) and occ.key not in whole and occ.key not in steps:
                continue
            out.append(_outcome(r, occ, whole, steps, now, grace))
    return sorted(out, key=lambda o: (o.occurrence.start, o.occurrence.routine_name))


def _before_creation(r: Routine, occ: Occurrence) -> bool:
    return r.created_at is not None and occ.start < r.created_at


def summarize(items: Iterable[Outcome]) -> AdherenceSummary:
    settled = [o for o in items if o.settled]
    counts = {k: sum(1 for o in settled if o.status == k) for k in ("done", "partial", "skipped", "missed")}
    scores = [o.score for o in settled if o.score is not None]          # every settled outcome has one
    rate = sum(scores) / len(scores) if scores else None
    return AdherenceSummary(len(settled), counts["done"], counts["partial"], counts["skipped"],
                            counts["missed"], rate)


def current_streak(items: Iterable[Outcome], today: date) -> int:
    """Consecutive days, counting back from ``today``, on which every settled occurrence was done.
    Days with nothing scheduled are neutral, and so is a day with an occurrence still open (today,
    typically) as long as nothing of it was skipped or missed."""
    by_day: dict[date, list[Outcome]] = {}
    for o in items:
        if o.occurrence.local_date <= today:
            by_day.setdefault(o.occurrence.local_date, []).append(o)
    streak = 0
    for day in sorted(by_day, reverse=True):
        settled = [o for o in by_day[day] if o.settled]
        if any(o.status != "done" for o in settled):
            break
        if len(settled) < len(by_day[day]):
            continue                                  # something of that day is still open: neutral
        streak += 1
    return streak


def weekly_adherence(items: Iterable[Outcome], today: date, weeks: int = 12) -> list[WeekAdherence]:
    """One row per week (Monday to Sunday) for the ``weeks`` weeks ending with the week of ``today``."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]
    grouped: dict[date, list[Outcome]] = {m: [] for m in mondays}
    for o in items:
        d = o.occurrence.local_date
        monday = d - timedelta(days=d.weekday())
        if monday in grouped:
            grouped[monday].append(o)
    rows = []
    for monday in mondays:
        s = summarize(grouped[monday])
        rows.append(WeekAdherence(monday, s.scheduled, s.done, s.partial, s.skipped, s.missed, s.rate))
    return rows


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def utc_now() -> datetime:
    """The current instant; the page calls this (tests replace it to pin the clock)."""
    return datetime.now(timezone.utc)


def _require_aware(dt: datetime, what: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be a time-zone-aware datetime")


def parse_steps(text: str) -> list[Step]:
    """Steps from text, one per line; "Serum | The Ordinary Niacinamide" names a product after a bar.
    Blank lines are dropped."""
    steps = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        head, bar, product = line.partition("|")
        steps.append(Step(text=clean_name(head), product_name=clean_name(product) or None if bar else None))
    return steps


def carry_step_ids(old: Sequence[Step], new: Sequence[Step]) -> tuple[Step, ...]:
    """``new`` steps with the ids of ``old`` steps of the same text (first unused match), so editing
    the list as text keeps the done/skipped marks of the steps that stayed."""
    free: dict[str, list[int]] = {}
    for st in old:
        if st.id is not None:
            free.setdefault(st.text.casefold(), []).append(st.id)
    out = []
    for st in new:
        ids = free.get(clean_name(st.text).casefold())
        out.append(replace(st, id=ids.pop(0) if ids else None))
    return tuple(out)


def format_steps(steps: Sequence[Step]) -> str:
    """The inverse of :func:`parse_steps`."""
    return "\n".join(st.text + (f" | {st.product_name}" if st.product_name else "") for st in steps)
