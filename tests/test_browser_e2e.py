"""End-to-end tests in a real browser: the app started as ``run.sh`` starts it (``streamlit run
serve.py``) on a free port with a temporary database and phone mode on, Debian's Chromium driven by
Playwright. Screenshots are kept in ``test-artifacts/``.

Phone mode is tested on loopback only: its listener binds 127.0.0.2 while phones are told the made-up
local-network address 192.168.77.10; Chromium maps that name to 127.0.0.2 (``--host-resolver-rules``),
so the browser sends the Host a phone would send and no packet leaves this computer."""
from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.hostile import PROMPTLY_SECONDS
from tests.photos import closeup_jpeg, flushed_face_jpeg, no_face_jpeg, side_view_jpeg, write_astronaut

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
PHONE_ADDRESS, PHONE_BIND = "192.168.77.10", "127.0.0.2"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--host-resolver-rules=MAP {PHONE_ADDRESS} {PHONE_BIND}",
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
PHONE_VIEWPORT = {"width": 390, "height": 844}
PAGES = {"scan": "", "progress": "progress", "ingredients": "ingredients", "routine": "routine",
         "settings": "settings"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium "
                                                     "(apt-get install chromium); browsers cannot be downloaded here"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app as ``bash run.sh --phone`` starts it, on its own database; yields a dict with the
    app's url, the database path, the phone link and the phone port."""
    with running_app(tmp_path_factory.mktemp("e2e")) as info:
        yield info


@contextlib.contextmanager
def running_app(tmp: Path, seed=None, launcher: tuple[str, ...] = ("-m",), env_extra: dict | None = None):
    """Starts the app on a database in ``tmp`` (``seed(db_path)`` first fills it, before the app opens it).
    ``launcher``: what runs ``streamlit`` (tests/outside_guard.py watches what the server reaches)."""
    port, phone_port = free_port(), free_port()
    db = tmp / "e2e.sqlite3"
    if seed is not None:
        seed(db)
    env = {**os.environ, "SKINGORITHM_DB": str(db), "SKINGORITHM_HOME": str(tmp),
           "SM_FRAMEWORK": "tf.keras", "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
           "SKINGORITHM_PHONE": "1", "SKINGORITHM_PHONE_ADDRESS": PHONE_ADDRESS, "SKINGORITHM_PHONE_BIND": PHONE_BIND,
           "SKINGORITHM_PHONE_PORT": str(phone_port), **(env_extra or {})}
    log_path = tmp / "streamlit.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, *launcher, "streamlit", "run", "serve.py", "--server.port", str(port),
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
                pytest.fail("streamlit did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.5)
        link = re.search(r"Link: (\S+)", log_path.read_text())
        assert link, log_path.read_text()[-3000:]
        yield {"url": url, "db": db, "phone_link": link.group(1), "phone_port": phone_port, "port": port,
               "pid": proc.pid}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import expect, sync_playwright
    expect.set_options(timeout=60_000)       # a shared 2-core machine under load draws a result slowly
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def settled(page, timeout: float = 120_000) -> None:
    """Waits until the page's script has finished its run (Streamlit marks its root element)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def open_page(browser, url: str, viewport=None, **context):
    from playwright.sync_api import expect
    ctx = browser.new_context(viewport=viewport or {"width": 1400, "height": 1800}, **context)
    page = ctx.new_page()
    page.goto(url)
    expect(page.get_by_role("heading", name=re.compile("Scan|Progress|Ingredients|Routine|Settings")).first
           ).to_be_visible(timeout=60_000)
    return page


def add_profile(page, name: str) -> None:
    """Adds a profile from the sidebar and waits until it is the active one."""
    from playwright.sync_api import expect
    page.get_by_text("Add a profile").click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("combobox", name="Profile")).to_have_value(name, timeout=30_000)


def upload(page, data: bytes, name: str, tmp_path: Path, view_words: str | None = None) -> None:
    """Hands a photo to the uploader; with ``view_words`` (e.g. "close-up"), to the uploader drawn for that
    view, waiting for it first (picking a view redraws the uploader, and a file given to the old one is lost)."""
    from playwright.sync_api import expect
    path = tmp_path / name
    path.write_bytes(data)
    if view_words is None:
        page.locator('input[type="file"]').first.set_input_files(str(path))
        return
    region = page.get_by_role("region", name=re.compile(r"^Choose a photo \(" + re.escape(view_words) + ";"))
    expect(region).to_be_visible(timeout=60_000)
    region.locator('input[type="file"]').set_input_files(str(path))


def pick(page, label: str) -> None:
    """A choice of a segmented control (Streamlit draws each as a radio button)."""
    page.get_by_role("radio", name=label, exact=True).click()


def save(page) -> None:
    from playwright.sync_api import expect
    page.get_by_role("button", name="Save to history").click()
    # exact: the page caption also says "saved to your history"
    expect(page.get_by_text("Saved to your history.", exact=True)).to_be_visible(timeout=30_000)


def test_scan_a_face_save_it_and_find_it_on_the_progress_page(server, browser, tmp_path):
    from playwright.sync_api import expect
    page = open_page(browser, server["url"])
    page.locator('input[type="file"]').first.set_input_files(str(write_astronaut(tmp_path)))
    expect(page.get_by_text(re.compile(r"^Done in \d"))).to_be_visible(timeout=180_000)
    metrics = page.locator('[data-testid="stMetric"]')
    expect(metrics.filter(has_text="Dark circles")).to_be_visible()
    overall_text = metrics.filter(has_text="Overall").locator('[data-testid="stMetricValue"]').inner_text()
    overall = float(overall_text.split("±")[0])                         # "72 ±2": the score and its noise band
    assert 0 <= overall <= 100 and "±" in overall_text
    for label in ("Acne", "Wrinkles", "Dark circles"):
        expect(metrics.filter(has_text=label).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"^About \d+ acne lesions \(\d+-\d+\)"))).to_be_visible()
    expect(page.get_by_text("Photo check")).to_be_visible()
    # the marked face arrives, decodes, and is drawn large enough to see a single mark
    images = page.locator('[data-testid="stImage"] img')
    expect(images).to_have_count(1, timeout=30_000)
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stImage"] img')]
                                .every(i => i.complete && i.naturalWidth > 0)""", timeout=30_000)
    assert images.first.evaluate("i => i.naturalWidth") >= 256
    assert images.first.bounding_box()["width"] >= 480
    assert_labels_in_full(page)
    page.screenshot(path=str(ARTIFACTS / "e2e_scan_result.png"), full_page=True)

    page.get_by_label("Note (optional)").fill("e2e scan")
    save(page)
    page.get_by_role("link", name="Progress").first.click()
    expect(page).to_have_url(re.compile(r"/progress(\?|$)"), timeout=30_000)   # client-side navigation
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible(timeout=30_000)
    # the saved scan is listed (the table is drawn on a canvas; the delete picker names it as text)
    page.get_by_text("Delete a scan").click()
    picker = page.get_by_role("combobox", name="Scan")
    expect(picker).to_be_visible(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "e2e_progress.png"), full_page=True)

    from skin_app.storage import Storage
    (profile,) = Storage(server["db"]).list_profiles()
    (scan,) = [s for s in Storage(server["db"]).list_scans(profile.id) if s.note == "e2e scan"]
    assert round(scan.scores["overall"]) == overall and scan.crop_png is not None and scan.view == "front"
    assert picker.aria_snapshot().endswith(f"· overall {scan.scores['overall']:.1f}")


def assert_labels_in_full(page) -> None:
    """Every score box's label is drawn in full ("Dark spots", never "Dark s...")."""
    labels = page.locator('[data-testid="stMetric"] [data-testid="stMetricLabel"]')
    assert labels.count() >= 3
    for i in range(labels.count()):
        label = labels.nth(i)
        cut = label.evaluate("""e => [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1
                                   || getComputedStyle(x).textOverflow === 'ellipsis' && x.scrollWidth > x.clientWidth)""")
        assert not cut, f"the label {label.inner_text()!r} is cut"


def test_the_redness_toggle_draws_and_removes_the_red_areas_on_the_face(server, browser, tmp_path):
    from playwright.sync_api import expect
    page = open_page(browser, server["url"])
    upload(page, flushed_face_jpeg(), "flushed.jpg", tmp_path)
    expect(page.get_by_text(re.compile(r"^Done in \d"))).to_be_visible(timeout=180_000)
    settled(page)                                          # the marked picture is the run's last word
    redness = page.locator('[data-testid="stMetric"]').filter(has_text="Redness")
    expect(redness).to_be_visible()
    assert "±" in redness.locator('[data-testid="stMetricValue"]').inner_text()
    marked = page.locator('[data-testid="stImage"] img').first
    expect(marked).to_be_visible(timeout=30_000)
    with_red = marked.get_attribute("src")
    toggle = page.get_by_role("button", name="● Redness", exact=True)     # the overlay pill, not the help
    toggle.click()                                        # off: the flushed cheek's marks go
    expect(marked).not_to_have_attribute("src", with_red, timeout=60_000)
    settled(page)
    page.screenshot(path=str(ARTIFACTS / "e2e_redness_off.png"), full_page=True)
    toggle.click()                                        # on again: the same marked picture
    expect(marked).to_have_attribute("src", with_red, timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "e2e_redness_on.png"), full_page=True)


def test_a_refused_photo_shows_its_reason_and_advice_without_a_click(server, browser, tmp_path):
    from playwright.sync_api import expect
    page = open_page(browser, server["url"])
    upload(page, no_face_jpeg(), "cup.jpg", tmp_path)
    reason = page.get_by_text("No face was found in this photo.").first
    expect(reason).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Use a photo that shows your whole face").first).to_be_visible()
    assert not page.locator('[data-testid="stExpander"]').filter(has=reason).count()   # not folded away
    page.screenshot(path=str(ARTIFACTS / "e2e_refused.png"), full_page=True)


def test_a_side_view_and_a_close_up_are_accepted_and_saved_to_their_own_lines(server, browser, tmp_path):
    from playwright.sync_api import expect
    page = open_page(browser, server["url"])
    pick(page, "Right side")
    upload(page, side_view_jpeg("right"), "right.jpg", tmp_path, "right side")
    expect(page.get_by_text(re.compile(r"^Done in \d"))).to_be_visible(timeout=180_000)
    settled(page)
    metrics = page.locator('[data-testid="stMetric"]')
    expect(metrics.filter(has_text="Wrinkles")).to_be_visible()
    assert metrics.filter(has_text="Dark circles").count() == 0        # a side view cannot see both eyes
    page.screenshot(path=str(ARTIFACTS / "e2e_side_view.png"), full_page=True)
    save(page)
    page.goto(server["url"])
    expect(page.get_by_role("heading", name="Scan")).to_be_visible(timeout=60_000)
    pick(page, "Close-up")
    upload(page, closeup_jpeg(), "cheek.jpg", tmp_path, "close-up")
    expect(page.get_by_text(re.compile(r"^Done in \d"))).to_be_visible(timeout=180_000)
    page.screenshot(path=str(ARTIFACTS / "e2e_close_up.png"), full_page=True)
    save(page)
    from skin_app.storage import Storage
    db = Storage(server["db"])
    (profile,) = db.list_profiles()
    assert len(db.list_scans(profile.id, view="right")) == 1 and len(db.list_scans(profile.id, view="closeup")) == 1
    page.get_by_role("link", name="Progress").first.click()
    expect(page.get_by_role("radio", name="Right side (1)", exact=True)).to_be_visible(timeout=30_000)
    pick(page, "Close-up (1)")
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "e2e_progress_close_up.png"), full_page=True)


# How far the page, or Streamlit's own scrolling main area, reaches past the screen's right edge.
SIDEWAYS = """() => Math.max(document.documentElement.scrollWidth - window.innerWidth,
    ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
        .map(e => e.scrollWidth - e.clientWidth))"""


def phone_screenshot(page, name: str) -> float:
    """The whole page at phone width (Streamlit scrolls inside its main area, so the viewport is made
    as tall as the content for the picture); returns its length in phone screens."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": PHONE_VIEWPORT["width"], "height": min(int(height), 8000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"e2e_phone_{name}.png"))
    page.set_viewport_size(PHONE_VIEWPORT)
    return height / PHONE_VIEWPORT["height"]


def test_every_page_fits_a_phone_screen_without_sideways_scrolling(server, browser, tmp_path):
    from playwright.sync_api import expect
    page = open_page(browser, server["url"], viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    upload(page, write_astronaut(tmp_path).read_bytes(), "face.jpg", tmp_path)
    expect(page.get_by_text(re.compile(r"^Done in \d"))).to_be_visible(timeout=180_000)
    marked = page.locator('[data-testid="stImage"] img').first
    expect(marked).to_be_visible(timeout=30_000)
    assert marked.bounding_box()["width"] >= PHONE_VIEWPORT["width"] - 64       # the full width of a phone
    overall = page.locator('[data-testid="stMetric"]').filter(has_text="Overall").bounding_box()
    acne = page.locator('[data-testid="stMetric"]').filter(has_text="Acne").first.bounding_box()
    assert abs(overall["y"] - acne["y"]) < 5                          # scores side by side, not one per line
    assert_labels_in_full(page)
    for name, path in PAGES.items():
        if name != "scan":
            page.goto(f"{server['url']}/{path}")
            expect(page.get_by_role("heading").first).to_be_visible(timeout=60_000)
            page.wait_for_timeout(1500)
        wide = page.evaluate(SIDEWAYS)
        screens = phone_screenshot(page, name)
        assert wide <= 0, f"{name} scrolls sideways by {wide} px at 390 px wide"
        if name == "scan":
            assert screens < 4.2, f"the scan result is {screens:.1f} phone screens long"      # 4.2 before


def test_the_profile_survives_a_reload(server, browser):
    from playwright.sync_api import expect
    page = open_page(browser, server["url"])
    add_profile(page, "Grandma")
    expect(page).to_have_url(re.compile(r"profile=\d+"), timeout=30_000)
    page.reload()
    expect(page.get_by_role("heading", name="Scan")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("combobox", name="Profile")).to_have_value("Grandma", timeout=30_000)


def phone_request(server, path: str, cookie: str | None = None) -> tuple[int, str]:
    """One HTTPS request to the phone listener on 127.0.0.2 with the Host a phone would send."""
    if server["phone_link"].startswith("https:"):
        conn = http.client.HTTPSConnection(PHONE_BIND, server["phone_port"], timeout=10,
                                           context=ssl._create_unverified_context())
    else:                                   # no openssl on this machine: plain HTTP (README: use Upload)
        conn = http.client.HTTPConnection(PHONE_BIND, server["phone_port"], timeout=10)
    headers = {"Host": f"{PHONE_ADDRESS}:{server['phone_port']}"} | ({"Cookie": cookie} if cookie else {})
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.read().decode(errors="replace")


def test_phone_mode_refuses_a_request_without_the_code_and_serves_one_with_it(server, browser, tmp_path):
    from playwright.sync_api import expect
    link = server["phone_link"]
    https = shutil.which("openssl") is not None                # the certificate is made with openssl
    assert link.startswith(f"{'https' if https else 'http'}://{PHONE_ADDRESS}:{server['phone_port']}/?access=")
    token = link.split("access=")[1]
    status, body = phone_request(server, "/")
    assert status == 403 and "access code" in body
    assert phone_request(server, "/?access=wrong")[0] == 403
    assert phone_request(server, "/_stcore/health")[0] == 403
    assert phone_request(server, "/", cookie=f"skingorithm_access={token}")[0] == 200
    # the app's own listener answers only to this computer's names (DNS rebinding)
    conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=10)
    conn.request("GET", "/", headers={"Host": f"rebind.example:{server['port']}"})
    assert conn.getresponse().status == 403

    phone = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, ignore_https_errors=True)
    page = phone.new_page()
    refused = page.goto(link.split("?")[0])
    assert refused.status == 403
    page.goto(link)                                     # what scanning the QR code opens
    expect(page.get_by_role("heading", name="Scan")).to_be_visible(timeout=60_000)
    assert "access=" not in page.url                    # the code is swapped for a cookie at once
    assert page.evaluate("() => window.isSecureContext && !!navigator.mediaDevices") == https   # camera iff HTTPS
    if not https:
        phone.close()
        return
    pick(page, "Camera")
    shutter = page.get_by_role("button", name="Take Photo")
    expect(shutter).to_be_enabled(timeout=30_000)
    page.locator('[data-testid="stCameraInputWebcamStyledBox"]').screenshot(          # the framing oval
        path=str(ARTIFACTS / "e2e_phone_camera.png"))
    shutter.click()
    # Chromium's fake camera shows a test pattern, not a face: the photo arrives and is refused with advice
    expect(page.get_by_text("No face was found in this photo.").first).to_be_visible(timeout=120_000)
    page.screenshot(path=str(ARTIFACTS / "e2e_phone_camera_refused.png"), full_page=True)
    phone.close()


def test_the_settings_switch_closes_phone_mode_and_reopens_it_with_a_new_code(server, browser):
    from playwright.sync_api import expect
    old_token = server["phone_link"].split("access=")[1]
    page = open_page(browser, f"{server['url']}/settings")
    switch = page.get_by_role("switch", name="Open on my phone")
    expect(switch).to_be_checked()
    expect(page.get_by_text(server["phone_link"])).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "e2e_settings_phone_on.png"), full_page=True)
    switch.click(force=True)
    expect(page.get_by_text("Phone mode is off: phones can no longer open the app.")).to_be_visible()
    with pytest.raises(OSError):                           # the phone listener is closed
        phone_request(server, "/", cookie=f"skingorithm_access={old_token}")
    page.get_by_role("switch", name="Open on my phone").click(force=True)
    code = page.locator('[data-testid="stCode"]').filter(has_text="access=")
    expect(code).to_be_visible()
    new_token = code.inner_text().strip().split("access=")[1]
    assert new_token != old_token
    assert phone_request(server, "/", cookie=f"skingorithm_access={old_token}")[0] == 403
    assert phone_request(server, "/", cookie=f"skingorithm_access={new_token}")[0] == 200


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """The app started on a database that already holds hostile records (an import that slipped
    through an older version)."""
    def seed(db_path):
        from skin_app.storage import Storage
        from tests.hostile import seed_hostile_records
        db = Storage(db_path)
        seed_hostile_records(db)
        db.close()
    with running_app(tmp_path_factory.mktemp("e2e_hostile"), seed) as info:
        yield info


def test_hostile_records_make_no_outside_request_and_the_camera_links_nowhere(hostile_server, browser):
    """With Markdown images and links aimed at an outside host in the database, the pages a person opens
    request nothing from anywhere but this computer (any such request is recorded and aborted, never
    sent), and the camera widget's help link to docs.streamlit.io is not shown."""
    from playwright.sync_api import expect

    server = hostile_server
    outside: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    try:
        page.route(re.compile(r"^(?!https?://(localhost|127\.0\.0\.1)[:/])[a-z]+://"),
                   lambda route: (outside.append(route.request.url), route.abort()))
        for path, heading in (("/routine", "Routine"), ("/progress", "Progress"), ("/ingredients", "Ingredient analyzer"),
                              ("/settings", "Settings & privacy")):
            page.goto(server["url"] + path)
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=60_000)
            page.wait_for_timeout(1500)
            assert not page.locator('img[src*="evil.example"]').count()
            assert not page.locator('a[href*="evil.example"]').count()
        page.goto(server["url"])
        expect(page.get_by_role("heading", name="Scan")).to_be_visible(timeout=60_000)
        page.get_by_text("Camera", exact=True).first.click()
        # the test browser has a fake camera, so the widget shows the camera; its outside help link never shows
        expect(page.get_by_role("button", name="Take Photo")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("link", name="Learn how to allow access.")).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / "e2e_camera_denied.png"), full_page=True)
    finally:
        page.close()
    assert outside == []


def test_two_downloads_in_a_row_both_arrive(server, browser, tmp_path):
    """Downloads are built when clicked and the click does not rerun the page, so the file the browser is
    fetching is never dropped ("Deferred file ... not found")."""
    page = open_page(browser, f"{server['url']}/progress", accept_downloads=True)
    button = page.get_by_role("button", name="Download as JSON")
    button.scroll_into_view_if_needed()
    sizes = []
    for _ in range(2):
        with page.expect_download(timeout=60_000) as got:
            button.click()
        path = got.value.path()
        assert got.value.failure() is None
        sizes.append(Path(path).stat().st_size)
    assert sizes[0] > 100 and sizes[0] == sizes[1]
    with page.expect_download(timeout=60_000) as got:
        page.get_by_role("button", name="Download as CSV (ZIP)").click()
    assert got.value.failure() is None and Path(got.value.path()).read_bytes()[:2] == b"PK"


def test_a_new_tab_opens_the_profile_used_last(server, browser):
    from playwright.sync_api import expect
    page = open_page(browser, server["url"])
    add_profile(page, "Tabby")
    other = open_page(browser, f"{server['url']}/progress")          # a new tab, no profile in its address
    expect(other.get_by_role("combobox", name="Profile")).to_have_value("Tabby", timeout=30_000)


def test_the_access_code_page_is_readable_on_a_phone(server, browser):
    phone = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, ignore_https_errors=True)
    page = phone.new_page()
    try:
        assert page.goto(server["phone_link"].split("?")[0]).status == 403
        text = page.get_by_text("needs its access code")
        assert float(text.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 16
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
        page.screenshot(path=str(ARTIFACTS / "e2e_phone_access_code.png"))
    finally:
        phone.close()


def test_progress_table_and_chart_fit_a_phone_and_the_toolbar_leaves_the_title_clear(server, browser, tmp_path):
    from playwright.sync_api import expect
    page = open_page(browser, server["url"], viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    from tests.photos import astronaut_jpeg
    for quality in (92, 85):                                             # two scans: the comparison's boxes show
        upload(page, astronaut_jpeg(quality), f"face{quality}.jpg", tmp_path)
        expect(page.get_by_text(re.compile(r"^Done in \d"))).to_be_visible(timeout=180_000)
        save(page)
    page.goto(f"{server['url']}/progress")
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    expect(chart).to_be_visible(timeout=60_000)
    chart.hover()                                                        # the toolbar shows on hover
    page.wait_for_timeout(500)
    title = chart.locator(".gtitle").first.bounding_box()
    bar = chart.locator(".modebar").first.bounding_box()
    assert title and bar
    apart = (bar["x"] >= title["x"] + title["width"] or bar["y"] >= title["y"] + title["height"]
             or bar["y"] + bar["height"] <= title["y"])
    assert apart, f"the toolbar {bar} covers the title {title}"
    for element in (chart, page.locator('[data-testid="stDataFrame"]').first):
        box = element.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_VIEWPORT["width"] + 1
    assert page.evaluate(SIDEWAYS) <= 0
    page.locator('[data-testid="stMetric"]').first.scroll_into_view_if_needed()
    assert_labels_in_full(page)                                          # the comparison's score boxes
    phone_screenshot(page, "progress_table_chart")


def test_a_drawing_is_refused_as_a_close_up(server, browser, tmp_path):
    from playwright.sync_api import expect

    from tests.photos import room_drawing_png
    page = open_page(browser, server["url"])
    pick(page, "Close-up")
    upload(page, room_drawing_png(), "room.png", tmp_path, "close-up")
    expect(page.get_by_text("This looks like a drawing or a screenshot, not a photo of skin.").first
           ).to_be_visible(timeout=120_000)
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.get_by_role("button", name="Save to history").count() == 0


def test_a_full_check_shows_three_marked_faces_with_words(server, browser, tmp_path):
    from playwright.sync_api import expect
    page = open_page(browser, server["url"])
    pick(page, "Full check")
    for view, data, words in (("front", write_astronaut(tmp_path).read_bytes(), "front"),
                              ("left", side_view_jpeg("left"), "left side"),
                              ("right", side_view_jpeg("right"), "right side")):
        upload(page, data, f"{view}.jpg", tmp_path, words)
        expect(page.locator('[data-testid="stImage"] img')).to_have_count(["front", "left", "right"].index(view) + 1,
                                                                         timeout=180_000)
    # While a rerun is under way, Streamlit keeps the last run's elements on screen beside the new ones (CI once
    # counted 20 score boxes mid-run), so the boxes are counted once the script has finished.
    settled(page)
    # Overall, the view's model concerns and redness: front 6, each side 5, each with its re-shot band
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(6 + 5 + 5)
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="±")).to_have_count(16)
    page.screenshot(path=str(ARTIFACTS / "e2e_full_check.png"), full_page=True)
    save(page)
    page.get_by_role("link", name="Progress").first.click()
    expect(page.get_by_role("heading", name="Full checks")).to_be_visible(timeout=60_000)


# -- issue 26: a hostile import and a restart, a backup larger than a photo, a page on another site ----------
HEADINGS = {"": "Scan", "progress": "Progress", "ingredients": "Ingredient analyzer", "routine": "Routine",
            "settings": "Settings & privacy"}
ERROR_BOX = '[data-testid="stException"]'


def import_uploader(page):
    return page.locator('[data-testid="stFileUploader"]').filter(has_text="Import a SkinGorithm export")


def import_file(page, url: str, path: Path, into_new_profile: bool = True) -> None:
    """Opens the Progress page afresh (an empty uploader, Import disabled), picks where to import first (that
    click reruns the page; a rerun while the file is still on its way once left Import disabled for good on
    a loaded machine), then hands it ``path`` and, once the browser has sent it and the page has seen it
    (the file listed, Import enabled), clicks Import."""
    from playwright.sync_api import expect
    page.goto(f"{url}/progress")
    expect(page.get_by_role("heading", name="Progress", exact=True)).to_be_visible(timeout=60_000)
    settled(page)
    if into_new_profile:
        choice = page.get_by_role("radio", name="a new profile")
        page.get_by_text("a new profile", exact=True).click()
        expect(choice).to_be_checked(timeout=60_000)
        settled(page)
    uploader = import_uploader(page)
    # The uploader lists the file (its name shortened on screen; its remove button says it in full) once the
    # server has answered the browser's request for upload addresses. Streamlit 1.60's browser side drops that
    # request when it is made while its connection is re-established (a server busy loading the model on a
    # loaded machine; streamlit/streamlit#16950), and the uploader then waits for good: as a person would, the
    # file is chosen again. (The server's side of the same loss is fixed in serve.py and tested in test_serve.)
    listed = uploader.get_by_role("button", name=f"Remove {path.name}")
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    for attempt in range(1, 4):
        uploader.locator('input[type="file"]').set_input_files(str(path))
        try:
            expect(listed).to_be_visible(timeout=90_000)
            break
        except AssertionError as exc:
            if attempt == 3:
                raise AssertionError(f"{path.name} was never listed; the browser's console: {console[-20:]!r}") from exc
            settled(page)
    go = page.get_by_role("button", name="Import", exact=True)
    try:
        expect(go).to_be_enabled(timeout=120_000)
    except AssertionError as exc:                 # say what the uploader showed, not only "disabled"
        raise AssertionError(f"Import stayed disabled; the uploader shows: {uploader.inner_text()!r}") from exc
    go.click()


def test_after_a_hostile_import_and_a_restart_every_page_opens_in_any_time_zone(browser, tmp_path_factory, tmp_path):
    """Issue 26: one imported file (a 400-digit measurement) made every page show only "This app has
    encountered an error" from the next start on; a scan dated year 1 or 9999 did so for browsers in some
    time zones. The worst file the rules let in imports through the page, and after a restart (which
    re-scores it) every page opens, east and west of UTC. (The file that once slipped through is refused in
    words: tests/test_page_progress.py, without a browser.)"""
    from playwright.sync_api import expect

    from skin_app.storage import Storage
    from tests.hostile import hostile_export
    home = tmp_path_factory.mktemp("e2e_hostile_import")
    hostile = tmp_path / "hostile.json"
    hostile.write_bytes(hostile_export())
    with running_app(home) as server:
        page = open_page(browser, f"{server['url']}/progress")
        import_file(page, server["url"], hostile)
        expect(page.get_by_text(re.compile(r"Imported into the new profile .*: 4 scan\(s\), 1 product\(s\), "
                                           r"1 routine\(s\)"))).to_be_visible(timeout=120_000)
        page.context.close()
    (imported,) = [p for p in Storage(home / "e2e.sqlite3").list_profiles() if "evil" in p.name]
    with running_app(home) as server:                       # the next start re-scores what was imported
        for zone in ("America/New_York", "Pacific/Kiritimati"):
            context = browser.new_context(timezone_id=zone, viewport={"width": 1400, "height": 1800})
            page = context.new_page()
            try:
                for path, heading in HEADINGS.items():
                    page.goto(f"{server['url']}/{path}?profile={imported.id}")
                    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=60_000)
                    settled(page)
                    assert page.locator(ERROR_BOX).count() == 0, (zone, path, page.locator(ERROR_BOX).first.inner_text())
                    assert "encountered an error" not in page.inner_text("body"), (zone, path)
                    expect(page.get_by_role("combobox", name="Profile")).to_have_value(imported.name)
                page.goto(f"{server['url']}/progress?profile={imported.id}")     # its scans are listed
                settled(page)
                expect(page.get_by_role("heading", name="History")).to_be_visible()
                page.screenshot(path=str(ARTIFACTS / f"e2e_hostile_import_{zone.replace('/', '_')}.png"),
                                full_page=True)
            finally:
                context.close()


def test_a_backup_past_the_old_limit_imports_back_through_the_page_and_a_larger_file_is_refused_in_words(
        browser, tmp_path_factory, tmp_path):
    """Issue 26: the page took 25 MB, so a backup of about 135 scans with pictures or more could not be
    restored from it. A 170-scan JSON export (about 29 MB, past the old limit) is sent and imported; a file
    larger than any export the app writes is refused by the uploader in words, before anything is sent.
    (A 500-scan, 85 MB backup is restored by tests/test_export_roundtrip.py and let through by the server
    in tests/test_serve.py; through the browser it cost a minute of every test run.)"""
    from playwright.sync_api import expect

    from skin_app.history.export import export_json
    from skin_app.limits import MAX_IMPORT_BYTES
    from skin_app.storage import Storage
    from tests.test_export_roundtrip import year_of_scans
    scratch = Storage(tmp_path / "scratch.sqlite3")
    backup = tmp_path / "skingorithm-year.json"
    backup.write_bytes(export_json(scratch, year_of_scans(scratch, n=170)))
    scratch.close()
    assert backup.stat().st_size > 25 * 2**20
    too_large = tmp_path / "too-large.json"
    with open(too_large, "wb") as out:
        out.truncate(MAX_IMPORT_BYTES + 2**20)             # sparse: its size without the disk space
    with running_app(tmp_path_factory.mktemp("e2e_backup")) as server:
        page = open_page(browser, f"{server['url']}/progress")
        uploader = import_uploader(page)
        uploader.locator('input[type="file"]').set_input_files(str(too_large))
        expect(uploader.get_by_text(re.compile(r"File must be 256(\.0)? ?MB or smaller"))).to_be_visible(timeout=30_000)
        import_file(page, server["url"], backup)
        expect(page.get_by_text(re.compile(r"Imported into the new profile Year: 170 scan\(s\)"))
               ).to_be_visible(timeout=300_000)
        assert page.locator(ERROR_BOX).count() == 0
        page.screenshot(path=str(ARTIFACTS / "e2e_backup_imported.png"))
        db = Storage(server["db"])
        (year,) = [p for p in db.list_profiles() if p.name == "Year"]
        assert len(db.list_scans(year.id)) == 170


# A page on another site, served by the test itself (no name is looked up, nothing leaves this computer).
FOREIGN_PAGE = "<!doctype html><title>Another site</title><p>Another site"
OPEN_STREAM = """port => new Promise(resolve => {
    const started = performance.now();
    const ws = new WebSocket(`ws://localhost:${port}/_stcore/stream`, ["streamlit"]);
    ws.onopen = () => { resolve({opened: true, ms: performance.now() - started}); ws.close(); };
    ws.onclose = e => resolve({opened: false, code: e.code, ms: performance.now() - started});
})"""


def test_a_page_on_another_site_cannot_open_the_apps_stream_and_the_app_keeps_answering(server, browser):
    """Issue 26: a WebSocket handshake from a foreign page passed the Host check and reached Streamlit's
    origin check, which looked this computer's address up on the internet on the event loop (each
    handshake stalled every request for about 20 s). From http://evil.example, five at once are refused
    by the server within a second, and the app's own page, opened after them, works at once."""
    from playwright.sync_api import expect
    # Chromium's own Local Network Access check stops a public page's request to localhost inside the
    # browser; off in this browser, so the handshake reaches the server and the server's refusal is tested.
    other = browser.browser_type.launch(executable_path=str(CHROMIUM), headless=True,
                                        args=[*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"])
    try:
        foreign = other.new_page()
        said: list[str] = []
        foreign.on("console", lambda message: said.append(message.text))
        foreign.route("http://evil.example/**", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                            body=FOREIGN_PAGE))
        foreign.goto("http://evil.example/")
        tries = foreign.evaluate(f"port => Promise.all([1, 2, 3, 4, 5].map(() => ({OPEN_STREAM})(port)))",
                                 server["port"])
        assert [t["opened"] for t in tries] == [False] * 5
        assert max(t["ms"] for t in tries) < PROMPTLY_SECONDS * 1000, tries
        deadline = time.monotonic() + 10
        while sum("Unexpected response code: 403" in s for s in said) < 5 and time.monotonic() < deadline:
            foreign.wait_for_timeout(100)                  # the console reports each refusal as it comes
        assert sum("Unexpected response code: 403" in s for s in said) == 5, said     # the server said no
        started = time.perf_counter()
        assert urllib.request.urlopen(f"{server['url']}/_stcore/health", timeout=30).read() == b"ok"
        assert time.perf_counter() - started < PROMPTLY_SECONDS
        own = open_page(browser, f"{server['url']}/settings")
        expect(own.get_by_role("heading", name="Settings & privacy", exact=True)).to_be_visible()
        mine = own.evaluate(OPEN_STREAM, server["port"])
        # the app's own page opens its stream (well under the 20 s a stalled event loop took per foreign
        # handshake; not held to 1 s: the server is loading the model in the background on a loaded machine)
        assert mine["opened"] and mine["ms"] < 10_000, mine
    finally:
        other.close()
