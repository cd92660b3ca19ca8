"""Command line: ``python -m skin_app <command> ...``.

Each feature registers its own subcommand here with ``add_parser(subparsers)``; the subcommand's
``run(args)`` returns the exit status.
- ``ingredients``: analyse an ingredient label (skin_app/cli/ingredients.py).
- ``analyze``: scan face photos, optionally saving them to a profile (skin_app/cli/analyze.py).
- ``batch``: many photos into a resumable Parquet table, on Ray or ``--local`` (skin_app/cli/batch.py).
- ``history``: list, export, import or delete a profile's scans (skin_app/cli/history.py).
- ``routine``: list a profile's routines or write their calendar file (skin_app/cli/routine.py).
"""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m skin_app", description="SkinGorithm command line")
    sub = parser.add_subparsers(dest="command", required=True)
    from skin_app.cli import analyze, batch, history, ingredients, routine
    for command in (analyze, batch, ingredients, history, routine):
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
