"""How often is a file chosen right after a click lost by the uploader? A real browser against the real server.

    python bench/upload_race.py --tries 40 --busy 3 [--out bench/results/upload_race.json]

Starts the app as the browser tests do (``tests/test_browser_e2e.running_app``: ``streamlit run serve.py`` on a
fresh folder), opens Progress in Debian's Chromium, and ``--tries`` times: reloads the page, waits for its run to
end, clicks one of the "Import into" choices (a page run) and at once hands the import uploader a small file. A
file the uploader has not listed within ``--wait`` seconds counts as lost. ``--busy N`` keeps N busy-loop
processes running meanwhile (a loaded machine, as on CI).

Why: Streamlit 1.60 emptied a session's outgoing queue when a page run started, and an answer to the browser's
request for upload addresses still in it was dropped; the uploader then listed nothing, for good (the CI failure
of the hostile-import browser test). ``serve.py`` keeps those answers (``keep_upload_address_answers``). Measured
2026-12-07 on this 2-core machine with a trainer beside it and three busy loops: before the fix 1 of 20 and 1 of
40 files were lost, after it 0 of 40 (``tests/test_serve.py`` checks the fix itself without a browser).
"""
from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tries", type=int, default=40)
    ap.add_argument("--busy", type=int, default=0, help="busy-loop processes to run meanwhile")
    ap.add_argument("--wait", type=float, default=15.0, help="seconds a file may take to be listed")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    from playwright.sync_api import expect, sync_playwright

    e2e = importlib.import_module("tests.test_browser_e2e")     # the browser tests' helpers (not type-checked)
    CHROMIUM, CHROMIUM_ARGS, import_uploader, running_app, settled = (
        e2e.CHROMIUM, e2e.CHROMIUM_ARGS, e2e.import_uploader, e2e.running_app, e2e.settled)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(a.busy)]
    lost = 0
    try:
        with tempfile.TemporaryDirectory() as folder, running_app(Path(folder)) as server, sync_playwright() as pw:
            small = Path(folder) / "small.json"
            small.write_text('{"format": "not an export"}')
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
            for i in range(a.tries):
                page.goto(f"{server['url']}/progress")
                expect(page.get_by_role("heading", name="Progress", exact=True)).to_be_visible(timeout=60_000)
                settled(page)
                page.get_by_text("a new profile" if i % 2 == 0 else "this profile", exact=True).click()
                uploader = import_uploader(page)
                uploader.locator('input[type="file"]').set_input_files(str(small))
                try:
                    expect(uploader.get_by_role("button", name=f"Remove {small.name}")).to_be_visible(
                        timeout=a.wait * 1000)
                except AssertionError:
                    lost += 1
                print(f"try {i + 1}: {lost} lost so far", file=sys.stderr, flush=True)
            browser.close()
    finally:
        for p in busy:
            p.kill()
    result = {"tries": a.tries, "lost": lost, "busy": a.busy, "wait_s": a.wait}
    print(json.dumps(result))
    if a.out:
        a.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
