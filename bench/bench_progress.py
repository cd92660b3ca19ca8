"""How long the Progress page takes to answer a click with a year of daily scans.

    python bench/bench_progress.py [--scans 365] [--clicks 8] [--baseline-rev 5249e9b]

Seeds a temporary database (``SKINGORITHM_DB``) with ``--scans`` daily front scans, each with its
face picture and masks: one real analysis of the test photo (``tests/photos.astronaut_jpeg``) saved
through ``skin_app.history.save.save_scans``, its scores moved a few points per day. Then drives the page
with Streamlit's AppTest: one cold run, then ``--clicks`` changes of the chart's "Score" choice, each
timed from the click to the end of the rerun. The page as it is now and the page at
``--baseline-rev`` (``git show REV:app_pages/progress.py``, which built both exports on every run)
are timed alternately in the same process on the same database. Prints JSON and writes
``bench/results/progress.json``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def seed(db_path: Path, scans: int) -> dict:
    import contextlib

    import numpy as np

    from skin_app.config import setup_tensorflow_env
    setup_tensorflow_env()
    with contextlib.redirect_stdout(sys.stderr):
        from skin_app.scan.analysis import analyze
    from skin_app.history.save import save_scans
    from skin_app.storage import Storage
    from tests.photos import astronaut_jpeg

    result = analyze(astronaut_jpeg())
    db = Storage(db_path)
    profile = db.get_or_create_profile("Year")
    rng = np.random.default_rng(0)
    start = datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)
    for day in range(scans):
        scores = {k: float(np.clip(v + rng.normal(0, 3), 0, 100)) for k, v in result.scores.items()}
        save_scans(db, profile.id, [dataclasses.replace(result, scores=scores)], start + timedelta(days=day),
                   note=f"day {day + 1}")
    from skin_app.history.export import export_csv_zip, export_json
    size = db_path.stat().st_size + (Path(f"{db_path}-wal").stat().st_size if Path(f"{db_path}-wal").exists() else 0)
    started = time.perf_counter()
    sizes: dict[str, float] = {"json_bytes": len(export_json(db, profile.id)), "csv_zip_bytes": len(export_csv_zip(db, profile.id))}
    sizes["both_exports_ms"] = round((time.perf_counter() - started) * 1000, 1)
    db.close()
    return {"scans": scans, "database_bytes": size, "exports": sizes}


def clicks(at, n: int) -> list[float]:
    """``n`` changes of the chart's score choice; ms from each click to the end of its rerun."""
    from skin_app.history.progress import SCORE_KEYS
    out = []
    for _ in range(n):
        box = at.selectbox(key="progress_key")
        started = time.perf_counter()
        box.set_value(SCORE_KEYS[(SCORE_KEYS.index(box.value) + 1) % len(SCORE_KEYS)]).run()
        out.append((time.perf_counter() - started) * 1000)
        assert not at.exception, at.exception
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scans", type=int, default=365)
    ap.add_argument("--clicks", type=int, default=8)
    ap.add_argument("--baseline-rev", default="5249e9b", help="the commit whose Progress page is the baseline")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "progress.json")
    args = ap.parse_args()

    from streamlit.testing.v1 import AppTest

    folder = Path(tempfile.mkdtemp(prefix="bench-progress-"))
    db_path = folder / "bench.sqlite3"
    os.environ["SKINGORITHM_DB"] = str(db_path)
    seeded = seed(db_path, args.scans)
    baseline_source = subprocess.run(["git", "show", f"{args.baseline_rev}:app_pages/progress.py"], cwd=ROOT,
                                     check=True, capture_output=True, text=True).stdout
    # The vocabulary moved from results.py to concerns.py after that commit: point the old page at it.
    baseline_source = baseline_source.replace("from skin_app.scan.results import", "from skin_app.concerns import")
    pages = {"baseline": lambda: AppTest.from_string(baseline_source, default_timeout=300),
             "ours": lambda: AppTest.from_file(str(ROOT / "app_pages" / "progress.py"), default_timeout=300)}
    runs: dict[str, dict] = {}
    tests = {}
    for name, make in pages.items():
        at = make()
        started = time.perf_counter()
        at.run()
        assert not at.exception, at.exception
        runs[name] = {"cold_ms": round((time.perf_counter() - started) * 1000, 1), "click_ms": []}
        tests[name] = at
    for _ in range(args.clicks):                      # alternate, so load on the machine hits both alike
        for name, at in tests.items():
            runs[name]["click_ms"] += clicks(at, 1)
    for r in runs.values():
        ms = sorted(r["click_ms"])
        r["p50_ms"] = round(statistics.median(ms), 1)
        r["max_ms"] = round(ms[-1], 1)
        r["click_ms"] = [round(x, 1) for x in r["click_ms"]]
    report = {
        "when": datetime.now().isoformat(timespec="minutes"), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(), "python": platform.python_version(), **seeded,
        "baseline_rev": args.baseline_rev, "runs": runs,
        "ratio_p50": round(runs["baseline"]["p50_ms"] / runs["ours"]["p50_ms"], 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
