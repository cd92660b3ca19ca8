"""``python -m skin_app batch PHOTOS... | --from-list FILE --out RESULTS.parquet [--view VIEW] [--workers N]
[--threads N] [--address ray://HOST:PORT | auto] [--jsonl FILE|-] [--report report.html] [--local]``.

Thousands of photos into one Parquet table (``skin_app.batch.run``: one row per photo, each the photo's
``analyze --json`` object; resumable: run the same command again after a crash or Ctrl+C and only the
photos not yet done run). On Ray Data by default (``skin_app.batch.on_ray``: a private local Ray, or a
cluster with ``--address``); ``--local`` runs in this one process and needs no Ray.

stdout stays clean for machine output: only ``--jsonl -`` writes there. The progress line, Ray's
messages and the closing summary go to stderr. Exit status: 0 when every photo has its row (refused
photos are rows too), 1 when the batch could not run or stopped, 130 when stopped by Ctrl+C/SIGTERM.
"""
from __future__ import annotations

import argparse
import functools
import logging
import signal
import sys
from pathlib import Path

from skin_app.concerns import VIEWS

PROG = "skin_app batch"


def add_parser(sub) -> None:
    p = sub.add_parser("batch", help="analyse many photos into a Parquet table (resumable; on Ray)")
    p.add_argument("photos", nargs="*", help="photo files, or folders of them")
    p.add_argument("--from-list", type=Path, metavar="FILE", help="a text file with one photo path a line")
    p.add_argument("--out", type=Path, required=True, metavar="RESULTS.parquet",
                   help="the results table; photos already in it (same model version) are skipped")
    p.add_argument("--view", choices=VIEWS, default="front", help="what the photos show (as for analyze)")
    p.add_argument("--workers", type=_positive, help="Ray actors, one loaded model each "
                   "(default: the CPUs Ray has / --threads)")
    p.add_argument("--threads", type=_positive, default=1, help="threads per worker's model (default 1)")
    p.add_argument("--address", metavar="ray://HOST:PORT | auto",
                   help="run on an existing Ray cluster (default: a private local Ray started here)")
    p.add_argument("--jsonl", metavar="FILE", help="also write the analyze --json lines here (- for stdout)")
    p.add_argument("--report", type=Path, metavar="report.html", help="write a summary report (one HTML file)")
    p.add_argument("--local", action="store_true", help="run in this one process, without Ray")
    p.add_argument("--part-photos", type=_positive, default=None, help=argparse.SUPPRESS)   # tests: small parts
    p.set_defaults(func=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _say(text: str) -> None:
    print(f"{PROG}: {text}", file=sys.stderr)


class StopRequest:
    """Ctrl+C or SIGTERM: remembered, then raised as KeyboardInterrupt. The batch loop also asks
    ``requested`` after each batch, so a stop that Ray deferred or swallowed in its own threads still
    ends the run (exit 130) instead of being lost."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, _signum, _frame) -> None:
        self.requested = True
        raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from skin_app.batch import on_ray as batch_ray
    from skin_app.batch import run as batch
    from skin_app.errors import UserFacingError
    if args.local and (args.address or args.workers):
        _say("--local runs in this one process; it takes no --address or --workers.")
        return 1
    if not args.local and not batch_ray.available():
        _say("batch runs on Ray, which is not installed here.")
        print(f"  Install it with: {batch_ray.INSTALL_HINT}\n"
              "  or add --local to analyse the photos in this one process (fine for a few hundred).", file=sys.stderr)
        return 1
    try:
        photos = batch.photo_list(args.photos, args.from_list)
        from skin_app.scan.analysis import installed_scan_version
        version = installed_scan_version()
    except UserFacingError as exc:
        _say(str(exc))
        return 1
    if args.local:
        engine = functools.partial(batch.local_records, view=args.view, threads=args.threads)
    else:
        engine = functools.partial(batch_ray.ray_records, view=args.view, workers=args.workers,
                                   threads=args.threads, address=args.address)
    stop = StopRequest()
    previous = {sig: signal.signal(sig, stop) for sig in batch.STOP_SIGNALS}
    parts = {"part_photos": args.part_photos} if args.part_photos else {}
    try:
        summary = batch.run_batch(photos, args.out, args.view, engine, version, stop_requested=lambda: stop.requested,
                                  **parts)
    except batch.Interrupted as stop:
        s = stop.summary
        _say(f"stopped. {s.analysed + s.refused} photos done in this run are kept in {args.out} "
             f"(with {s.skipped} done before); run the same command again to do the other "
             f"{s.photos - s.skipped - s.analysed - s.refused}.")
        return 130
    except UserFacingError as exc:
        _say(str(exc))
        return 1
    except Exception as exc:  # Ray's failures (a worker lost, a cluster gone) end the run in words
        logging.getLogger("skingorithm.cli").debug("batch failed", exc_info=True)
        _say(f"the batch stopped: {type(exc).__name__}: {exc}")
        print(f"  The photos finished so far are kept in {args.out}; run the same command again to go on.",
              file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _say(f"{summary.photos} photos: {summary.analysed} analysed and {summary.refused} refused now, "
         f"{summary.skipped} done before. Results: {args.out}")
    if summary.other_versions:
        _say(f"warning: {len(summary.other_versions)} other model version(s) answered "
             f"({', '.join(sorted(summary.other_versions))}; expected {version}): the workers' model files "
             "differ from this machine's, and those photos will run again next time.")
    if summary.table is None:
        return 0
    try:
        if args.jsonl:
            batch.write_jsonl(summary.table, args.jsonl)
        if args.report:
            batch.write_report(summary.table, args.report)
            _say(f"report: {args.report}")
    except OSError as exc:
        _say(f"could not write {exc.filename}: {exc.strerror or exc}. The results are in {args.out}.")
        return 1
    return 0
