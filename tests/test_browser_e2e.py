"""One end-to-end test in a real browser: ``streamlit run app.py`` on a free port with a temporary
database, Debian's Chromium driven by Playwright: upload a real face photo, see the scores, save,
and find the scan on the Progress page. Screenshots are kept in ``test-artifacts/``."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.photos import write_astronaut

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium "
                                                     "(apt-get install chromium); browsers cannot be downloaded here"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def server(tmp_path):
    """The app as a person starts it, on its own database; yields (url, database path)."""
    port = free_port()
    db = tmp_path / "e2e.sqlite3"
    env = {**os.environ, "SKINGORITHM_DB": str(db), "SKINGORITHM_HOME": str(tmp_path),
           "SM_FRAMEWORK": "tf.keras", "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    log = open(tmp_path / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("streamlit did not start:\n" + (tmp_path / "streamlit.log").read_text()[-3000:])
            time.sleep(0.5)
        yield url, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_scan_a_face_save_it_and_find_it_on_the_progress_page(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, db_path = server
    photo = write_astronaut(tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(url)
            expect(page.get_by_role("heading", name="Scan")).to_be_visible(timeout=60_000)

            page.locator('input[type="file"]').first.set_input_files(str(photo))
            # first scan: the model loads (about 10 s on 2 cores), then the photo is analysed
            expect(page.get_by_text(re.compile(r"^Done in \d"))).to_be_visible(timeout=180_000)
            metrics = page.locator('[data-testid="stMetric"]')
            expect(metrics.filter(has_text="Dark circles")).to_be_visible()
            overall_text = metrics.filter(has_text="Overall").locator('[data-testid="stMetricValue"]').inner_text()
            overall = float(overall_text.split("/")[0])
            assert 0 <= overall <= 100
            for label in ("Acne", "Wrinkles", "Dark circles", "Acne lesions"):
                expect(metrics.filter(has_text=label).first).to_be_visible()
            # both pictures (the aligned face and the marked one) arrive and decode in the browser
            images = page.locator('[data-testid="stImage"] img')
            expect(images).to_have_count(2, timeout=30_000)
            page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stImage"] img')]
                                        .every(i => i.complete && i.naturalWidth > 0)""", timeout=30_000)
            assert images.first.evaluate("i => i.naturalWidth") >= 256
            page.screenshot(path=str(ARTIFACTS / "e2e_scan_result.png"), full_page=True)

            page.get_by_label("Note (optional)").fill("e2e scan")
            page.get_by_role("button", name="Save to history").click()
            # exact: the page caption also says "saved to your history" (a substring match passed before saving)
            expect(page.get_by_text("Saved to your history.", exact=True)).to_be_visible(timeout=30_000)

            page.get_by_role("link", name="Progress").first.click()
            expect(page).to_have_url(re.compile(r"/progress$"), timeout=30_000)   # client-side navigation
            expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
            expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible(timeout=30_000)
            # the saved scan is listed (the table is drawn on a canvas; the delete picker names it as text)
            page.get_by_text("Delete a scan").click()
            picker = page.get_by_role("combobox", name="Scan")
            expect(picker).to_be_visible(timeout=30_000)
            assert picker.aria_snapshot().endswith(f"· overall {overall:.1f}")
            page.screenshot(path=str(ARTIFACTS / "e2e_progress.png"), full_page=True)
        finally:
            browser.close()

    from skin_app.storage import Storage
    (profile,) = Storage(db_path).list_profiles()
    (scan,) = Storage(db_path).list_scans(profile.id)
    assert scan.note == "e2e scan" and round(scan.scores["overall"], 1) == overall
    assert scan.crop_png is not None


def test_hostile_records_make_no_outside_request_and_the_camera_links_nowhere(server):
    """With Markdown images and links aimed at an outside host in the database, the pages a person opens
    request nothing from anywhere but this computer (any such request is recorded and aborted, never
    sent), and the camera widget's help link to docs.streamlit.io is not shown."""
    from playwright.sync_api import expect, sync_playwright

    from skin_app.storage import Storage
    from tests.hostile import seed_hostile_records

    url, db_path = server
    db = Storage(db_path)
    seed_hostile_records(db)
    db.close()
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.route(re.compile(r"^(?!https?://(localhost|127\.0\.0\.1)[:/])[a-z]+://"),
                       lambda route: (outside.append(route.request.url), route.abort()))
            for path, heading in (("/routine", "Routine"), ("/progress", "Progress"), ("/ingredients", "Ingredient analyzer"),
                                  ("/settings", "Settings & privacy")):
                page.goto(url + path)
                expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=60_000)
                page.wait_for_timeout(1500)
                assert not page.locator('img[src*="evil.example"]').count()
                assert not page.locator('a[href*="evil.example"]').count()
            page.goto(url)
            expect(page.get_by_role("heading", name="Scan")).to_be_visible(timeout=60_000)
            page.get_by_text("Camera", exact=True).click()
            expect(page.get_by_text("This app would like to use your camera.")).to_be_visible(timeout=30_000)
            expect(page.get_by_role("link", name="Learn how to allow access.")).to_be_hidden()
            page.screenshot(path=str(ARTIFACTS / "e2e_camera_denied.png"), full_page=True)
        finally:
            browser.close()
    assert outside == []
