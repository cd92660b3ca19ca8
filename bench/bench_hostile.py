"""Hostile inputs: how many of each class were tried, accepted, refused (by reason), and the peak memory
one process needed for them, plus the issue-10 reproducers one by one.

    python bench/bench_hostile.py --n 200 --seeds 1 2 3

Every class runs in a fresh process per seed (tests/fuzz_corpus.py, the same corpora and runner as
tests/test_fuzz_*.py, larger). Peak memory is Linux ``ru_maxrss`` over the baseline taken after the
imports and the corpus are in memory (the photo reproducers: the peak reset after the imports,
``peak_rss_mb(exact=True)``, with the CPU time of the one decode). Writes ``bench/results/hostile.json`` and prints a Markdown table
for bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz_corpus import CLASSES, run_class  # noqa: E402
from tests.hostile import peak_rss_mb  # noqa: E402

REPRODUCERS = {
    "float TIFF 39.5 MP, one strip (227 KB)": "tiff_of_zeros(7000, 5650)",
    "16-bit RGBA PNG 39.5 MP": "png_of_zeros(7000, 5650, 16, 6)",
    "16-bit RGB PNG 39.5 MP (allowed)": "png_of_zeros(7000, 5650, 16, 2)",
    "8-bit RGBA PNG 39.5 MP (allowed)": "png_of_zeros(7000, 5650, 8, 6)",
    "float TIFF 39.5 MP in 16-row strips (allowed)": "tiff_of_zeros(7000, 5650, rows_per_strip=16)",
    "PNG 1 x 50,000": "png_of_zeros(50_000, 1)",
    "progressive JPEG of 5,300 scans (452 KB; issue 23)": "jpeg_scan_bomb()",
    "PNG with 1.45 MB EXIF, 550 entries on one block (issue 26)": "png_with_exif(directory_bomb(550, 1_450_000), 256)",
    "WebP with the same EXIF (issue 26)": "webp_with_exif(directory_bomb(550, 1_450_000), 256)",
    "JPEG with the same EXIF in APP1 segments": "jpeg_with_exif(directory_bomb(550, 1_450_000), 256)",
    "TIFF with 20,000 tags on one 128 KB block (issue 26)": "tiff_with_tags(20_000, 128_000)",
    "PNG with 2 MB of repeated Exif prefixes (issue 26)": "png_with_exif(b'Exif\\0\\0' * 350_000 + directory_bomb(1, 8))",
}
FOUR_AT_ONCE = """from tests.hostile import png_of_zeros
from concurrent.futures import ThreadPoolExecutor
from skin_app.scan.imaging import load_image
data = png_of_zeros(7000, 5650, 8, 6)
---
with ThreadPoolExecutor(4) as pool:
    result = [list(r.rgb.shape) for r in pool.map(load_image, [data] * 4)]"""


def reproducers() -> list[dict]:
    rows = []
    for label, expr in REPRODUCERS.items():
        run = peak_rss_mb(f"""import time
from tests.hostile import (directory_bomb, jpeg_scan_bomb, jpeg_with_exif, png_of_zeros, png_with_exif,
                           tiff_of_zeros, tiff_with_tags, webp_with_exif)
from skin_app.scan.imaging import load_image
data = {expr}
---
started = time.process_time()
try:
    result = "decoded " + "x".join(map(str, load_image(data).rgb.shape))
except Exception as exc:
    result = "refused: " + getattr(exc, "code", type(exc).__name__)
result = [result, time.process_time() - started]""", exact=True)
        rows.append({"input": label, "outcome": run["result"][0], "cpu_s": round(run["result"][1], 2),
                     "peak_over_baseline_mb": round(run["delta_mb"], 1)})
    run = peak_rss_mb(FOUR_AT_ONCE)
    rows.append({"input": "four 8-bit RGBA PNGs of 39.5 MP at once (threads)", "outcome": f"decoded {len(run['result'])}",
                 "peak_over_baseline_mb": round(run["delta_mb"], 1)})
    zip_run = peak_rss_mb("""from tests.hostile import zip_with_lying_header
from skin_app.history.export import read_bundle
data = zip_with_lying_header("scans.csv", 1024 * 1024 * 1024, 100)
---
try:
    read_bundle(data, "bomb.zip"); result = "imported"
except Exception as exc:
    result = "refused: " + str(exc)[:60]""")
    rows.append({"input": "ZIP member of 1 GiB whose header claims 100 bytes", "outcome": zip_run["result"],
                 "peak_over_baseline_mb": round(zip_run["delta_mb"], 1)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="inputs per mutation class and seed")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "hostile.json")
    args = ap.parse_args()
    started = time.time()
    classes: list[dict[str, Any]] = []
    for cls in CLASSES:
        total: dict[str, Any] = {"class": cls, "tried": 0, "accepted": 0, "refused": {}, "crashes": [], "peak_over_baseline_mb": 0.0,
                 "slowest_s": 0.0}
        for seed in args.seeds:
            s = run_class(cls, seed=seed, n=args.n, timeout=900)
            total["tried"] += s["tried"]
            total["accepted"] += s["accepted"]
            for code, k in s["refused"].items():
                total["refused"][code] = total["refused"].get(code, 0) + k
            total["crashes"] += s["crashes"]
            total["peak_over_baseline_mb"] = max(total["peak_over_baseline_mb"], s["peak_over_baseline_mb"])
            total["slowest_s"] = max(total["slowest_s"], s["slowest_s"])
            if cls in ("crafted_headers", "big_but_allowed"):
                break                                   # fixed inputs: one run is all of them
        classes.append(total)
        print(json.dumps(total), flush=True)
    repro = reproducers()
    result = {"when": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "n": args.n, "seeds": args.seeds,
              "seconds": round(time.time() - started), "classes": classes, "reproducers": repro}
    args.out.write_text(json.dumps(result, indent=1))
    print("\n| class | tried | accepted | refused (by reason) | crashes | peak over baseline MB | slowest s |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for c in classes:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(c["refused"].items(), key=lambda kv: -kv[1]))
        print(f"| {c['class']} | {c['tried']} | {c['accepted']} | {sum(c['refused'].values())} ({reasons}) | "
              f"{len(c['crashes'])} | {c['peak_over_baseline_mb']:.0f} | {c['slowest_s']:.2f} |")
    print("\n| reproducer | outcome | CPU s | peak over baseline MB |\n|---|---|---:|---:|")
    for r in repro:
        print(f"| {r['input']} | {r['outcome']} | {r.get('cpu_s', '')} | {r['peak_over_baseline_mb']:.0f} |")


if __name__ == "__main__":
    main()
