"""``python -m skin_app analyze PHOTO... [--json] [--view VIEW] [--overlay OUT.png] [--save --profile NAME
[--note TEXT] [--no-picture]]``: batch scans from the shell.

One line of scores per photo (or one JSON object per photo with ``--json``); a photo that cannot be
analysed (unreadable, refused by the quality gate, or anything else going wrong with it) prints its
reason and makes the exit status 1, and the other photos still run. With ``--json`` stdout holds only
JSON lines (library banners go to stderr), so the output can be piped to ``jq``.

``--save`` keeps each analysed photo as a scan of the profile (made if missing), as the Scan page's
save form does (``skin_app.history.save``): now, with the note, and the small face picture unless
``--no-picture`` or the profile chose to keep none. ``--json`` then adds its ``scan_id``.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path

from skin_app.concerns import VIEWS


def add_parser(sub) -> None:
    p = sub.add_parser("analyze", help="scan face photos and print their scores")
    p.add_argument("photos", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="print one JSON object per photo")
    p.add_argument("--view", choices=VIEWS, default="front",
                   help="what the photos show: front, left or right side (head turned), closeup (a patch of skin)")
    p.add_argument("--overlay", type=Path, help="write the mask overlay PNG here (with several photos: a folder)")
    add_save_arguments(p)
    p.set_defaults(func=run)


def add_save_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--save", action="store_true", help="save each analysed photo to --profile's history")
    p.add_argument("--profile", help="with --save: the profile (made if missing)")
    p.add_argument("--note", default="", help="with --save: a note kept with each scan")
    p.add_argument("--no-picture", action="store_true", help="with --save: keep only the scores, no face picture")


def _save_target(args: argparse.Namespace):
    """(storage, profile) for --save, or None; refuses a missing or invalid profile before any analysis."""
    from skin_app.cli.history import CommandError, refusals
    from skin_app.storage import Storage
    if not args.save:
        if args.profile or args.note or args.no_picture:
            raise CommandError("--profile, --note and --no-picture only go with --save.")
        return None
    if not args.profile:
        raise CommandError("--save needs --profile NAME.")
    with refusals():
        db = Storage()
        return db, db.get_or_create_profile(args.profile)


def _overlay_path(target: Path, photo: Path, many: bool, taken: set[Path]) -> Path:
    """Where a photo's overlay goes: ``target`` itself for one photo (inside it, when it is a folder);
    for several, ``target/<name>_overlay.png``, numbered when two photos share a name."""
    if not many and not target.is_dir():
        return target
    target.mkdir(parents=True, exist_ok=True)
    path, n = target / f"{photo.stem}_overlay.png", 2
    while path in taken:
        path, n = target / f"{photo.stem}_{n}_overlay.png", n + 1
    taken.add(path)
    return path


def run(args: argparse.Namespace) -> int:
    from skin_app.cli.history import CommandError
    try:
        target = _save_target(args)
    except CommandError as exc:
        print(f"skin_app analyze: {exc}", file=sys.stderr)
        return 1
    from skin_app.config import quiet_native_stderr, setup_tensorflow_env
    setup_tensorflow_env()
    quiet_native_stderr()                                # as quiet as run.sh
    with contextlib.redirect_stdout(sys.stderr):         # segmentation-models prints a banner on import
        from skin_app.scan.analysis import analyze
        from skin_app.scan.segmentation import load_segmenter
        seg = load_segmenter()
    from skin_app.cli.history import shown
    from skin_app.concerns import CONCERN_LABELS, SCORED, VIEW_CONCERNS, VIEW_SCORED
    from skin_app.errors import UserFacingError
    from skin_app.history.save import save_scans
    from skin_app.scan.calibration import acne_words, overall_note, scan_words
    from skin_app.scan.imaging import encode_png, read_photo_file
    from skin_app.scan.overlay import overlay_masks, side_by_side
    from skin_app.scan.record import dumps, expected, refusal, refusal_record, result_record

    status = 0
    many = len(args.photos) > 1
    taken: set[Path] = set()
    for photo in args.photos:
        try:
            result = analyze(read_photo_file(photo), seg, view=args.view)
            if args.overlay:
                pic = side_by_side(result.crop, overlay_masks(result.crop, result.masks, SCORED))
                _overlay_path(args.overlay, photo, many, taken).write_bytes(encode_png(pic))
            scan_id = None
            if target is not None:
                db, profile = target
                try:
                    (scan_id,) = save_scans(db, profile.id, [result], datetime.now(timezone.utc), args.note,
                                            keep_picture=profile.store_pictures and not args.no_picture)
                except UserFacingError as exc:      # the Scan page's save refusals
                    raise UserFacingError(f"Not saved: {exc}", code="not_saved") from exc
        except Exception as exc:  # one photo's failure never stops the batch
            status = 1
            if not expected(exc):
                logging.getLogger("skingorithm.cli").debug("analysis failed", exc_info=True)
            if args.json:
                print(dumps(refusal_record(str(photo), exc)))
            else:
                reason, advice, _code = refusal(exc)
                print(f"{photo}: not analysed: {reason} {advice}".rstrip(), file=sys.stderr)
            continue
        words = {k: w.word for k, w in scan_words(result.scores).items()}     # the Scan page's words and Overall rule
        note = overall_note(result.scores, VIEW_CONCERNS[result.view], CONCERN_LABELS)
        unmeasured = [k for k in VIEW_SCORED[result.view] if k not in result.scores]
        if args.json:
            print(dumps(result_record(str(photo), result, scan_id)))
        else:
            parts = [f"{CONCERN_LABELS[k]} {v:.1f} ({words[k]})" for k, v in result.scores.items()]
            parts += [f"{CONCERN_LABELS[k]} not measured" for k in unmeasured]
            print(f"{photo}: " + ", ".join(parts) + f"; {acne_words(result.acne)}")
            if note:
                print(f"  {note}")
            for issue in result.quality.issues:
                print(f"  note: {issue.message} {issue.advice}")
            if scan_id is not None:
                print(f"  saved to {shown(target[1].name)}'s history as scan #{scan_id}")
    return status

