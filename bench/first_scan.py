"""First scan after start vs a warm scan: does the person wait for the model on their first photo?

    python bench/first_scan.py [--delays 0 3 5 8] [--warm 5] [--out bench/results/first_scan.json]

Each measurement runs in a fresh Python process, as the app does after ``bash run.sh``: at t = 0 (the
test photo already made) the app starts loading the model in the background (``skin_app.scan.preload.Preloader``, what app.py starts);
``delay`` seconds later the person hands over a photo (the time to open the page and pick a file).
Measured: upload -> scores, i.e. waiting for the model if it is not ready yet, then ``check_photo``
and ``analyze`` (what the Scan page runs), on the same photo as ``bench_analyze.py`` (the astronaut,
12 MP JPEG). Then ``--warm`` further scans of the same photo in the same process give the warm
figure (median). The old behaviour (model loaded on the first scan, no background start) runs as
``--mode on-demand``: the loader starts only when the photo arrives.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_process(delay: float, warm: int, mode: str) -> dict:
    """Runs inside the fresh process."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_analyze import make_photo  # the test photo first: making it is not part of the app start
    photo, _ = make_photo(None)
    t0 = time.perf_counter()                  # the app starts: app.py starts the background load
    from skin_app.config import setup_tensorflow_env
    setup_tensorflow_env()
    from skin_app.scan.preload import Preloader
    loader = Preloader()
    if mode == "background":
        loader.start()
    from skin_app.scan.analysis import analyze, check_photo  # the page's own imports
    import_s = time.perf_counter() - t0
    time.sleep(max(0.0, delay - (time.perf_counter() - t0)))

    def scan() -> float:
        t = time.perf_counter()
        seg, _ = loader.get()
        checked = check_photo(photo, "front")
        analyze(photo, seg, checked=checked)
        return time.perf_counter() - t
    first = scan()
    warms = [scan() for _ in range(warm)]
    return {"delay_s": delay, "mode": mode, "first_s": round(first, 3), "warm_median_s": round(statistics.median(warms), 3),
            "warm_s": [round(w, 3) for w in warms], "ratio": round(first / statistics.median(warms), 2),
            "model_load_s": round(loader.load_seconds or 0, 2), "setup_s": round(import_s, 2),
            "load_average": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--delays", type=float, nargs="+", default=[0, 3, 5, 8])
    ap.add_argument("--warm", type=int, default=5)
    ap.add_argument("--mode", choices=["background", "on-demand", "both"], default="both")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "first_scan.json")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print("RESULT " + json.dumps(one_process(float(args.child[0]), int(args.child[1]), args.child[2])))
        return
    modes = ["background", "on-demand"] if args.mode == "both" else [args.mode]
    rows = []
    for mode in modes:
        for delay in (args.delays if mode == "background" else [max(args.delays)]):
            out = subprocess.run([sys.executable, __file__, "--child", str(delay), str(args.warm), mode],
                                 capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
            line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
            if not line:
                sys.exit(out.stderr[-3000:])
            rows.append(json.loads(line[0][7:]))
            print(json.dumps(rows[-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"when": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
