"""Batch throughput: photos per second for 1,000 photos, Ray with 2 workers against the one-process CLI.

    python bench/bench_batch.py [--photos 1000] [--workers 2] [--with-local] [--out bench/results/batch.json]

The photos are repeats of the test photos (tests/photos.py) under different names, all faces so every
one is analysed (refusals cost less): the astronaut frontal (JPEG quality 92 and 80) and her head
turned right and left, cycled. They are 512 px, so decoding is cheaper than for a 12 MP phone photo
(bench_analyze.py measures that case).

Three runs, one after the other, each a fresh process as a user would start it (model loading and, for
Ray, start-up included in the wall time):

1. ``analyze PHOTO... --json`` (the one-process CLI that existed before ``batch``);
2. with ``--with-local``: ``batch FOLDER --out X --local`` (the same one process, writing Parquet parts);
3. ``batch FOLDER --out Y --workers 2`` (Ray Data, a private local Ray, 2 actors of 1 thread).

For each: wall seconds, photos per second, and the overhead per photo, i.e. the wall time each worker
spent per photo beyond the analysis itself (``wall * workers / photos - mean(timings_ms.total_ms)``;
start-up and model loading included, so it shrinks with longer runs). For the batch runs also the
steady rate the progress line reports at the end (photos per second from the first results on, i.e.
without start-up and model loading). Checks that every Ray row equals the ``analyze --json`` line of the same photo (apart
from timings). Records the load average before and after each run: the machine is shared.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_photos(folder: Path, n: int) -> list[Path]:
    from tests.photos import astronaut_jpeg, side_view_jpeg, write_photo_set
    return write_photo_set(folder, n, [("front", astronaut_jpeg()), ("front80", astronaut_jpeg(80)),
                                       ("right", side_view_jpeg("right")), ("left", side_view_jpeg("left"))])


def timed(cmd: list[str], stdout=subprocess.PIPE) -> tuple[float, subprocess.CompletedProcess, tuple, tuple]:
    env = {**os.environ, "SM_FRAMEWORK": "tf.keras", "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    load_before = os.getloadavg()
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        sys.exit(f"{cmd[3]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, proc, load_before, os.getloadavg()


def summary(name: str, wall: float, n: int, workers: int, analysis_ms: float, load: tuple, load_after: tuple) -> dict:
    per_photo_ms = wall * 1000 / n
    return {"run": name, "photos": n, "workers": workers, "wall_s": round(wall, 1),
            "photos_per_s": round(n / wall, 2), "wall_ms_per_photo": round(per_photo_ms, 1),
            "worker_ms_per_photo": round(per_photo_ms * workers, 1), "analysis_ms_per_photo": round(analysis_ms, 1),
            "overhead_ms_per_photo": round(per_photo_ms * workers - analysis_ms, 1),
            "load_before": [round(x, 2) for x in load], "load_after": [round(x, 2) for x in load_after]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--with-local", action="store_true", help="also time batch --local")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "batch.json")
    args = ap.parse_args()
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        photos = make_photos(folder, args.photos)
        py = [sys.executable, "-m", "skin_app"]
        results = []

        wall, proc, l0, l1 = timed([*py, "analyze", *map(str, photos), "--json"])
        expected = {r["photo"]: r for r in map(json.loads, proc.stdout.splitlines())}
        ms = sum(r["timings_ms"]["total_ms"] for r in expected.values()) / len(expected)
        results.append(summary("analyze --json (one process)", wall, args.photos, 1, ms, l0, l1))
        print(results[-1], flush=True)

        runs = [("batch --local (one process)", ["--local"], 1)] if args.with_local else []
        runs.append((f"batch on Ray ({args.workers} workers)", ["--workers", str(args.workers)], args.workers))
        for name, extra, workers in runs:
            out = Path(tmp) / f"{workers}-{extra[0]}.parquet"
            wall, proc, l0, l1 = timed([*py, "batch", str(folder), "--out", str(out), *extra])
            table = pq.read_table(out).to_pylist()
            assert len(table) == args.photos and proc.returncode == 0, proc.stderr[-2000:]
            records = [json.loads(row["json"]) for row in table]
            ms = sum(r["timings_ms"]["total_ms"] for r in records) / len(records)
            same = sum({k: v for k, v in r.items() if k != "timings_ms"} ==
                       {k: v for k, v in expected[r["photo"]].items() if k != "timings_ms"} for r in records)
            steady = re.findall(r"([0-9.]+) photos/s", proc.stderr)
            results.append({**summary(name, wall, args.photos, workers, ms, l0, l1), "rows_equal_to_analyze": same,
                            "steady_photos_per_s": float(steady[-1]) if steady else None})
            print(results[-1], flush=True)

    base = results[0]["photos_per_s"]
    for r in results:
        r["speed_vs_analyze"] = round(r["photos_per_s"] / base, 2)
    report = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
              "command": "python bench/bench_batch.py " + " ".join(sys.argv[1:]), "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
