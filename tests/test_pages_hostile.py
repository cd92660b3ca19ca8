"""Every page with hostile records already in the database (what an older version's import let through):
each page renders without an exception, no user text reaches Markdown or HTML unescaped, and the bad
records can be deleted from the page that shows them."""
from __future__ import annotations

import re

import pytest
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from tests.app_helpers import app, page
from tests.hostile import EVIL, seed_hostile_records

# Elements whose text is shown literally (never parsed as Markdown or HTML), and widget fields that are
# plain text (selectbox / multiselect options, typed values).
LITERAL_ELEMENTS = {"text", "code", "arrow_data_frame", "plotly_chart", "json", "imgs", "image", "exception"}
LITERAL_FIELDS = {"value", "default", "rawValue", "placeholder", "data", "spec", "id", "formId", "url"}
PLAIN_OPTION_ELEMENTS = {"selectbox", "multiselect"}
# Hostile fragments as they look when they would take effect: a special character without the
# backslash that makes Markdown show it literally, or an address GitHub-flavoured Markdown would turn
# into a link even when escaped (no zero-width space before its "//").
UNESCAPED = re.compile(r"(?<!\\)\]\(|(?<!\\)<(img|script|a )|http://evil|(?<!\\):red(?<!\\)\[x|(?<!\\)\$x(?<!\\)\$"
                       r"|(?<!\u200b)//evil")


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def _strings(value, field=""):
    if isinstance(value, str):
        yield field, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, field)


def markdown_strings(at: AppTest) -> list[tuple[str, str]]:
    """Every string of the page that Streamlit renders as Markdown: bodies, labels, help, captions,
    expander and tab labels, alerts, toasts, metric labels."""
    out = []
    for node in _nodes(at._tree):
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if proto is None or kind in LITERAL_ELEMENTS:
            continue
        for field, text in _strings(MessageToDict(proto)):
            if field in LITERAL_FIELDS or (field == "options" and kind in PLAIN_OPTION_ELEMENTS):
                continue
            out.append((f"{kind}.{field}", text))
    return out


def assert_escaped(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    found = [(where, text[:160]) for where, text in markdown_strings(at) if UNESCAPED.search(text)]
    assert not found, found


@pytest.fixture()
def hostile(db):
    return seed_hostile_records(db)


def test_the_walker_sees_unescaped_text_when_there_is_some(db):
    """The check itself: a page that put the hostile text into Markdown would be caught."""
    at = AppTest.from_string(f"import streamlit as st\nst.expander({EVIL!r})\nst.markdown({EVIL!r})").run()
    assert {where for where, text in markdown_strings(at) if EVIL in text} == {"expander.label", "markdown.body"}


@pytest.mark.parametrize("name", ["scan", "progress", "ingredients", "routine", "settings"])
def test_every_page_renders_hostile_records_escaped(hostile, name):
    at = page(name).run()
    assert_escaped(at)


@pytest.fixture()
def imported_hostile(db):
    """The worst export the import rules still let in, imported and then re-scored as the next start does."""
    from skin_app.history.export import import_bundle, read_bundle
    from skin_app.scan.calibration import load_calibration
    from tests.hostile import hostile_export
    summary = import_bundle(db, read_bundle(hostile_export(), "hostile.json"))
    calibration = load_calibration()
    db.rescore_scans(calibration.version, calibration.rescore_legacy)
    return summary.profile_id


@pytest.mark.parametrize("name", ["scan", "progress", "ingredients", "routine", "settings"])
def test_every_page_renders_an_imported_export_at_the_edges_of_every_rule(imported_hostile, name):
    at = page(name)
    at.session_state["profile_id"] = imported_hostile
    assert_escaped(at.run())


def test_the_whole_app_with_its_sidebar_renders_hostile_records_escaped(hostile):
    at = app().run()
    assert_escaped(at)


def test_ingredients_analysed_from_hostile_text_are_escaped(hostile):
    at = page("ingredients").run()
    at.text_area(key="ing_text").set_value(f"Aqua, {EVIL}, Niacinamide; Kit B: Glycerin, {EVIL}")
    at.button(key="analyse").click().run()
    assert_escaped(at)


def test_progress_shows_a_damaged_picture_as_a_note_and_can_delete_that_scan(db, hostile):
    at = page("progress").run()
    assert_escaped(at)
    assert any("picture stored with this scan is damaged" in w.value for w in at.warning)
    fake_png_scan = hostile["scans"][0]
    at.selectbox(key="delete_pick").set_value(fake_png_scan)
    at.checkbox(key="delete_sure").check().run()
    at.button(key="delete_scan").click().run()
    assert_escaped(at)
    assert fake_png_scan not in [s.id for s in db.list_scans(hostile["profile"])]


def test_progress_compares_a_scan_without_an_overall_score(db, hostile):
    at = page("progress").run()
    no_overall = hostile["scans"][1]
    at.selectbox(key="cmp_a").set_value(no_overall).run()
    assert_escaped(at)


def test_routines_the_form_would_refuse_are_shown_with_a_delete_button_and_kept_out_of_the_calendar(
        db, hostile, downloads):
    at = page("routine").run()
    assert_escaped(at)
    labels = [e.label for e in at.expander]
    assert sum("cannot be shown" in label for label in labels) == len(hostile["broken_routines"])
    calendars = [data for name, data in downloads.items() if name.endswith(".ics")]
    assert calendars and all(c.count(b"BEGIN:VEVENT") == 1 for c in calendars)   # only the usable routine
    assert all(b"evil.example" in c for c in calendars)          # its name kept, as text, in the file
    victim = hostile["broken_routines"][2]                     # year 9999
    at.button(key=f"delete-{victim}").click().run()
    at.button(key=f"really-delete-{victim}").click().run()
    assert_escaped(at)
    assert victim not in [r.id for r in db.list_routines(hostile["profile"])]


def test_the_camera_widget_sends_no_one_to_an_outside_site(db):
    at = page("scan").run()
    at.segmented_control(key="scan_source").set_value("Camera").run()
    assert not at.exception
    styles = [e.proto.body for e in at.get("html")]
    assert any("stCameraInput" in s and "a[href^='http']" in s and "display: none" in s for s in styles)
    (camera,) = at.get("camera_input")
    assert "allow this page to use the camera" in camera.proto.help


def test_streamlits_camera_help_link_is_an_absolute_outside_address_that_the_rule_hides():
    """Guards a Streamlit upgrade: the hidden link must still be an ``http`` link inside the camera widget."""
    from pathlib import Path

    import streamlit
    js = Path(streamlit.__file__).parent / "static" / "static" / "js"
    (camera_js,) = [p for p in js.glob("CameraInput.*.js")]
    assert "Learn how to allow access." in camera_js.read_text(encoding="utf-8")
    urls = " ".join(p.read_text(encoding="utf-8") for p in js.glob("urls.*.js"))
    assert "https://docs.streamlit.io/knowledge-base/using-streamlit/enable-camera" in urls


def _disk_full(*args, **kwargs):
    import sqlite3

    from skin_app.storage import write_error
    raise write_error(sqlite3.OperationalError("database or disk is full"), __import__("pathlib").Path("db"))


def test_a_full_disk_while_marking_a_routine_reads_as_advice(db, hostile, monkeypatch):
    from skin_app.storage import Storage
    monkeypatch.setattr(Storage, "mark_routine", _disk_full)
    at = page("routine").run()
    at.button(key=next(b.key for b in at.button if b.key and b.key.startswith("done-"))).click().run()
    assert not at.exception
    assert any("is full" in e.value and "saved before is kept" in e.value for e in at.error)


def test_a_full_disk_while_removing_a_shelf_product_reads_as_advice(db, hostile, monkeypatch):
    from skin_app.storage import Storage
    monkeypatch.setattr(Storage, "delete_shelf_product", _disk_full)
    at = page("ingredients").run()
    at.button(key="shelf_remove_btn").click().run()
    assert not at.exception
    assert any("is full" in e.value for e in at.error)
