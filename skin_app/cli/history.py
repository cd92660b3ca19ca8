"""``python -m skin_app history list|export|import|delete --profile NAME``: the Progress page's jobs.

    python -m skin_app history list --profile Me [--view front] [--json]
    python -m skin_app history export --profile Me --format zip --out me.zip [--no-pictures]
    python -m skin_app history import me.zip --profile Other
    python -m skin_app history delete --profile Me --scan 12
    python -m skin_app history delete --profile Me --whole-profile --yes

The database is the app's (``SKINGORITHM_DB``). Files and rows pass the same checks as in the app
(``skin_app.history.export``, ``Storage``), and a refusal prints the app's message on stderr with exit
status 1; nothing is changed then. ``--json`` prints one JSON document on stdout and nothing else.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from skin_app.concerns import VIEWS
from skin_app.storage import Profile, Storage, StoredScan
from skin_app.values import local_time

FORMATS = ("json", "zip")


class CommandError(Exception):
    """A refusal for the person at the shell: printed as it is, exit status 1."""


@contextlib.contextmanager
def refusals() -> Iterator[None]:
    """The errors the app shows a person (every ``UserFacingError``: storage's refusals and
    DatabaseError, an export file's ExportFileError, ...; a file that cannot be read or written),
    turned into a CommandError."""
    from skin_app.errors import UserFacingError
    try:
        yield
    except UserFacingError as exc:
        raise CommandError(f"{exc.message} {exc.advice}".strip()) from exc
    except OSError as exc:
        raise CommandError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from exc


def shown(text: str) -> str:
    """Stored text (a note, a name: possibly from an imported file) made safe for a terminal: control
    characters, which could move the cursor or recolour the screen, print as U+FFFD."""
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)


def find_profile(db: Storage, name: str) -> Profile | None:
    """The profile called ``name`` (any case, spaces as the app keeps them), or None."""
    wanted = " ".join(name.split()).casefold()
    return next((p for p in db.list_profiles() if p.name.casefold() == wanted), None)


def existing_profile(db: Storage, name: str) -> Profile:
    profile = find_profile(db, name)
    if profile is None:
        names = ", ".join(shown(p.name) for p in db.list_profiles()) or "none yet"
        raise CommandError(f"There is no profile called {name!r} (profiles: {names}).")
    return profile


def run_guarded(command, args: argparse.Namespace) -> int:
    """Runs ``command(args)``; a refusal is printed on stderr and gives exit status 1."""
    try:
        with refusals():
            return int(command(args))
    except CommandError as exc:
        print(f"skin_app {args.command}: {exc}", file=sys.stderr)
        return 1


def write_file(path: Path, data: bytes, force: bool) -> None:
    """Writes ``data`` to ``path`` whole or not at all (a temporary file renamed over it); an existing
    file is kept unless ``force``."""
    if path.exists() and not force:
        raise CommandError(f"{path} already exists; choose another name or add --force to replace it.")
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="list, export, import or delete a profile's scans",
                       description="A profile's scan history, as on the Progress page.")
    actions = p.add_subparsers(dest="action", required=True)

    ls = actions.add_parser("list", help="the profile's scans, oldest first")
    ls.add_argument("--profile", required=True)
    ls.add_argument("--view", choices=VIEWS, help="only this view's scans")
    ls.add_argument("--json", action="store_true", help="print the scans as one JSON list")
    ls.set_defaults(func=lambda a: run_guarded(list_scans, a))

    ex = actions.add_parser("export", help="everything of the profile as a file (scans, shelf, routines)")
    ex.add_argument("--profile", required=True)
    ex.add_argument("--format", choices=FORMATS, required=True, help="json: one document; zip: one CSV per table")
    ex.add_argument("--out", type=Path, required=True, help="the file to write")
    ex.add_argument("--no-pictures", action="store_true", help="leave the face pictures out")
    ex.add_argument("--force", action="store_true", help="replace --out if it exists")
    ex.set_defaults(func=lambda a: run_guarded(export_profile, a))

    im = actions.add_parser("import", help="add an export file to a profile (created if missing)")
    im.add_argument("file", type=Path, help="a .json or .zip export, or a scans .csv")
    im.add_argument("--profile", required=True, help="into this profile; what it already holds is skipped")
    im.set_defaults(func=lambda a: run_guarded(import_file, a))

    rd = actions.add_parser("redness", help="measure redness from the kept pictures of scans saved before it",
                            description="Scans saved before redness was measured, whose face picture was kept, get "
                                        "their redness read from that picture; the other scores stay as saved.")
    rd.add_argument("--profile", required=True)
    rd.set_defaults(func=lambda a: run_guarded(remeasure, a))

    rm = actions.add_parser("delete", help="delete scans, or the whole profile")
    rm.add_argument("--profile", required=True)
    what = rm.add_mutually_exclusive_group(required=True)
    what.add_argument("--scan", type=int, nargs="+", metavar="ID", help="the scans' ids (see history list)")
    what.add_argument("--whole-profile", action="store_true",
                      help="the profile with all its scans, pictures, shelf and routines")
    rm.add_argument("--yes", action="store_true", help="needed with --whole-profile: yes, delete it for good")
    rm.set_defaults(func=lambda a: run_guarded(delete, a))


def scan_summary(scan: StoredScan) -> dict:
    """One stored scan as plain data: what the Progress page's history table shows."""
    return {"id": scan.id, "taken_at": scan.taken_at, "view": scan.view, "scores": scan.scores,
            "acne_lesion_count": scan.metrics.get("acne_lesion_count"), "note": scan.note,
            "picture": scan.has_picture, "model_version": scan.model_version, "visit": scan.visit}


def list_scans(args: argparse.Namespace) -> int:
    from skin_app.concerns import CONCERN_LABELS
    db = Storage()
    scans = db.list_scans(existing_profile(db, args.profile).id, view=args.view)

    def line(s: StoredScan) -> str:
        moment = local_time(s.taken_at)                # this computer's zone; UTC where it cannot show it
        when = f"{moment.year:04d}-{moment:%m-%d %H:%M}" if moment else shown(s.taken_at[:40])
        scores = ", ".join(f"{CONCERN_LABELS.get(k, k)} {v:.1f}" for k, v in s.scores.items())
        return f"#{s.id} {when} {s.view}: {scores}" + (f"; note: {shown(s.note)}" if s.note else "")
    return print_rows(scans, args.json, scan_summary, line, "No saved scans.")


def print_rows(rows: list, as_json: bool, as_data, as_text, none: str) -> int:
    """Rows as one JSON list on stdout, or as text lines (``none`` on stderr when there are none)."""
    if as_json:
        print(json.dumps([as_data(r) for r in rows]))
        return 0
    for r in rows:
        print(as_text(r))
    if not rows:
        print(none, file=sys.stderr)
    return 0


def export_profile(args: argparse.Namespace) -> int:
    from skin_app.history.export import export_csv_zip, export_json
    db = Storage()
    profile = existing_profile(db, args.profile)
    build = export_json if args.format == "json" else export_csv_zip
    write_file(args.out, build(db, profile.id, not args.no_pictures), args.force)
    print(f"Exported {shown(profile.name)} to {args.out}.", file=sys.stderr)
    return 0


def import_file(args: argparse.Namespace) -> int:
    """Into the named profile when it exists (skipping what it already holds), else into a new
    profile of that name, in one transaction."""
    from skin_app.history.export import check_head, import_bundle, read_bundle
    from skin_app.limits import MAX_IMPORT_BYTES
    with args.file.open("rb") as f:                     # never more than the limit into memory
        head = f.read(64 * 1024)
        check_head(head, args.file.name)                # an endless or foreign file is refused unread
        bundle = read_bundle(head + f.read(MAX_IMPORT_BYTES + 1 - len(head)), args.file.name)
    db = Storage()
    target = find_profile(db, args.profile)
    if target is None:
        bundle = dataclasses.replace(bundle, profile_name=" ".join(args.profile.split()))
    s = import_bundle(db, bundle, into_profile_id=target.id if target else None)
    skipped = s.scans_skipped + s.shelf_skipped + s.routines_skipped
    where = ("the new profile " if s.created_profile else "") + shown(s.profile_name)
    print(f"Imported into {where}: {s.scans_added} scan(s), "
          f"{s.shelf_added} product(s), {s.routines_added} routine(s) with {s.marks_added} mark(s)"
          + (f"; {skipped} already there and skipped." if skipped else "."))
    return 0


def remeasure(args: argparse.Namespace) -> int:
    from skin_app.history.remeasure import remeasure_redness, waiting
    db = Storage()
    profile = existing_profile(db, args.profile)
    todo = waiting(db, profile.id)
    if not todo:
        print("No scan is waiting for redness (every scan has it, kept no picture, or was tried).", file=sys.stderr)
        return 0
    print(remeasure_redness(db, profile.id, todo).describe())
    return 0


def delete(args: argparse.Namespace) -> int:
    db = Storage()
    profile = existing_profile(db, args.profile)
    if args.whole_profile:
        if not args.yes:
            raise CommandError(f"This deletes {shown(profile.name)} with all its scans, pictures, shelf and routines "
                               "for good; add --yes to confirm.")
        db.delete_profile(profile.id)
        print(f"Deleted the profile {shown(profile.name)}.")
        return 0
    missing = [i for i in args.scan if db.get_scan(i, profile_id=profile.id) is None]
    if missing:
        raise CommandError(f"{shown(profile.name)} has no scan with id {', '.join(map(str, missing))}; nothing was deleted "
                           "(see: history list).")
    db.delete_scans(args.scan, profile_id=profile.id)      # one transaction: all or none
    print(f"Deleted {len(args.scan)} scan(s) of {shown(profile.name)}.")
    return 0
