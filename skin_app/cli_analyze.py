"""``python -m skin_app analyze PHOTO... [--json] [--overlay OUT.png]``: batch scans from the shell.

One line of scores per photo (or one JSON object per photo with ``--json``); a photo the quality gate
refuses prints its reason and advice and makes the exit status 1, the other photos still run.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from skin_app.results import VIEWS


def add_parser(sub) -> None:
    p = sub.add_parser("analyze", help="scan face photos and print their scores")
    p.add_argument("photos", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="print one JSON object per photo")
    p.add_argument("--view", choices=VIEWS, default="front",
                   help="what the photos show: front, left or right side (head turned), closeup (a patch of skin)")
    p.add_argument("--overlay", type=Path, help="write the mask overlay PNG here (with several photos: a folder)")
    p.set_defaults(func=run)


def _overlay_path(target: Path, photo: Path, many: bool) -> Path:
    if many:
        target.mkdir(parents=True, exist_ok=True)
        return target / f"{photo.stem}_overlay.png"
    return target


def run(args: argparse.Namespace) -> int:
    from skin_app.config import setup_tensorflow_env
    setup_tensorflow_env()
    from skin_app.analysis import analyze
    from skin_app.errors import UserFacingError
    from skin_app.imaging import encode_png
    from skin_app.overlay import overlay_masks, side_by_side
    from skin_app.results import CONCERN_LABELS, CONCERNS
    from skin_app.scoring import score_words
    from skin_app.segmentation import load_segmenter

    status = 0
    seg = load_segmenter()
    many = len(args.photos) > 1
    for photo in args.photos:
        try:
            result = analyze(photo.read_bytes(), seg, view=args.view)
        except (UserFacingError, OSError) as exc:
            status = 1
            reason = getattr(exc, "message", str(exc))
            advice = getattr(exc, "advice", "")
            if args.json:
                print(json.dumps({"photo": str(photo), "error": reason, "advice": advice,
                                  "code": getattr(exc, "code", "unreadable")}))
            else:
                print(f"{photo}: not analysed: {reason} {advice}".rstrip(), file=sys.stderr)
            continue
        if args.overlay:
            pic = side_by_side(result.crop, overlay_masks(result.crop, result.masks, CONCERNS))
            _overlay_path(args.overlay, photo, many).write_bytes(encode_png(pic))
        if args.json:
            print(json.dumps({
                "photo": str(photo), "scores": result.scores,
                "words": {k: score_words(v, k) for k, v in result.scores.items()},
                "metrics": result.metrics, "model_version": result.model_version,
                "advice": [{"code": i.code, "message": i.message, "advice": i.advice} for i in result.quality.issues],
                "timings_ms": result.timings_ms,
            }, default=_json_default))
        else:
            parts = [f"{CONCERN_LABELS[k]} {v:.1f} ({score_words(v, k)})" for k, v in result.scores.items()]
            print(f"{photo}: " + ", ".join(parts) + f"; acne lesions {result.metrics['acne_lesion_count']}")
            for issue in result.quality.issues:
                print(f"  note: {issue.message} {issue.advice}")
    return status


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    raise TypeError(type(o))
