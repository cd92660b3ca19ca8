"""The ingredient page through Streamlit's AppTest, with a temporary database."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from skin_app.storage import Storage
from tests.ingredient_fixtures import label

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "ingredients.py")


@pytest.fixture()
def db(tmp_path, monkeypatch):
    """The page's database (through SKINGORITHM_DB), with the profile the page will pick as ``db.me``."""
    monkeypatch.setenv("SKINGORITHM_DB", str(tmp_path / "ingredients_page.sqlite3"))
    storage = Storage()
    storage.me = storage.create_profile("Me")
    yield storage
    storage.close()


@pytest.fixture()
def me(db):
    return db.me


def run_with(text: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.text_area(key="ing_text").input(text)
    at.button(key="analyse").click().run()
    assert not at.exception
    return at


def test_page_opens_without_errors(db):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception and at.title[0].value == "Ingredient analyzer"


def test_a_label_gives_a_table_in_label_order(me):
    at = run_with("Aqua (Water), Glycerin, Niacinamide, Phenoxyethanol")
    table = at.dataframe[0].value
    assert list(table["As printed"]) == ["Aqua (Water)", "Glycerin", "Niacinamide", "Phenoxyethanol"]
    assert list(table["Matched (INCI)"]) == ["AQUA", "GLYCERIN", "NIACINAMIDE", "PHENOXYETHANOL"]


def test_empty_input_shows_an_error_not_a_traceback(me):
    at = run_with("   ")
    assert at.error and "empty" in at.error[0].value


def test_pasted_html_is_shown_as_text_never_rendered(me):
    at = run_with("Water, [click](http://example.com), **bold**, <img src=x onerror=alert(1)>Glycerin")
    markdown = " ".join(m.value for m in at.markdown)
    assert "](http" not in markdown and "<img" not in markdown
    shown = " ".join(t.value for t in at.text)
    assert "[click](http://example.com)" in shown           # the unknown list, as plain text


def test_conflicts_are_shown(me):
    at = run_with("Water, Retinol, Benzoyl Peroxide")
    assert any("Benzoyl peroxide" in e.value for e in at.error)


def test_fit_uses_the_latest_scan(db, me):
    db.add_scan(me.id, taken_at="2025-01-01T10:00:00+00:00", model_version="t",
                scores={"acne": 90, "flek": 50, "wrinkle": 85, "panda_eye": 80, "overall": 76}, metrics={})
    at = run_with("Water, Tranexamic Acid")
    assert any("Dark spots (your score 50/100)" in m.value and "Tranexamic Acid" in m.value for m in at.markdown)


def test_a_kit_gets_one_tab_per_product(me):
    at = run_with(label("list_literal_kit"))
    assert len(at.tabs) == 3


def test_saving_to_the_shelf_and_comparing(db, me):
    at = run_with("Water, Glycerin, Retinol")
    at.text_input(key="save_name_p0").input("Night cream")
    at.button[1].click().run()                               # the form's "Save to shelf"
    assert not at.exception and at.success
    at.text_area(key="ing_text").input("Water, Glycolic Acid")
    at.button(key="analyse").click().run()
    at.text_input(key="save_name_p0").input("Toner")
    at.button[1].click().run()
    assert [s.name for s in db.list_shelf(me.id)] == ["Night cream", "Toner"]
    night, toner = (s.id for s in db.list_shelf(me.id))
    at.selectbox(key="cmp_a").set_value(night)
    at.selectbox(key="cmp_b").set_value(toner).run()
    assert any("Using both" in w.value for w in at.warning)


def test_unknown_names_are_logged_and_exportable(db, me):
    at = run_with("Water, Vegetable Collagen")
    assert [r.text for r in db.unknown_ingredients()] == ["Vegetable Collagen"]
    assert any(b.label == "Export the list (CSV)" for b in at.get("download_button"))
