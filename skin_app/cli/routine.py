"""``python -m skin_app routine list|ics --profile NAME``: the Routine page's list and calendar file.

    python -m skin_app routine list --profile Me [--json]
    python -m skin_app routine ics --profile Me --out routines.ics     # or --out - for stdout

Routines are checked by ``routines.ics.to_ics`` exactly as on the page; a refusal prints the app's
message on stderr with exit status 1.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skin_app.cli.history import existing_profile, print_rows, run_guarded, shown, write_file
from skin_app.routines import schedule as rem
from skin_app.routines.ics import to_ics
from skin_app.storage import Storage


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("routine", help="list a profile's routines or write them as a calendar file",
                       description="A profile's routines, as on the Routine page.")
    actions = p.add_subparsers(dest="action", required=True)
    ls = actions.add_parser("list", help="each routine, its schedule in words and its next times")
    ls.add_argument("--profile", required=True)
    ls.add_argument("--json", action="store_true", help="print the routines as one JSON list")
    ls.set_defaults(func=lambda a: run_guarded(list_routines, a))
    ics = actions.add_parser("ics", help="every routine as an iCalendar (.ics) file for a phone's calendar")
    ics.add_argument("--profile", required=True)
    ics.add_argument("--out", type=Path, required=True, help="the .ics file to write, or - for standard output")
    ics.add_argument("--force", action="store_true", help="replace --out if it exists")
    ics.set_defaults(func=lambda a: run_guarded(write_ics, a))


def list_routines(args: argparse.Namespace) -> int:
    db = Storage()
    routines = db.list_routines(existing_profile(db, args.profile).id)
    now = rem.utc_now()

    def data(r: rem.Routine) -> dict:
        return {"id": r.id, "name": r.name, "schedule": rem.describe_schedule(r.schedule),
                "steps": [s.text for s in r.steps],
                "next": [o.start.isoformat() for o in rem.next_occurrences(r, now, 3)]}

    def text(r: rem.Routine) -> str:
        row = data(r)
        lines = [f"#{r.id} {shown(r.name)}: {row['schedule']}",
                 *(f"  {n}. {shown(t)}" for n, t in enumerate(row["steps"], 1))]
        return "\n".join(lines + (["  next: " + ", ".join(row["next"])] if row["next"] else []))
    return print_rows(routines, args.json, data, text, "No routines.")


def write_ics(args: argparse.Namespace) -> int:
    db = Storage()
    profile = existing_profile(db, args.profile)
    routines = db.list_routines(profile.id)
    data = to_ics(routines, now=rem.utc_now())
    if str(args.out) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_file(args.out, data, args.force)
        print(f"Wrote {len(routines)} routine(s) of {shown(profile.name)} to {args.out}.", file=sys.stderr)
    return 0
