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


def test_bans_come_first_as_errors(me):
    at = run_with("Water, Glycerin, Hydroquinone")
    assert at.error and "Not permitted in the EU: Hydroquinone" in at.error[0].value


def test_changing_the_product_type_changes_the_verdicts(me):
    at = run_with("Aqua, Glycerin, Methylisothiazolinone")
    assert any("Methylisothiazolinone" in e.value for e in at.error)          # the default: leave-on face
    at.selectbox(key="ing_type").set_value("rinse_off").run()
    assert not at.exception and not any("Methylisothiazolinone" in e.value for e in at.error)


def test_shelf_conflicts_are_shown_with_their_source(db, me):
    db.save_shelf_product(me.id, "Tretinoin cream", "Aqua, Tretinoin, Glycerin")
    at = run_with("Water, Benzoyl Peroxide")
    assert any("Tretinoin cream" in e.value for e in at.error)
    assert any("Source:" in c.value for c in at.caption)


def save_box(at: AppTest):
    return next(t for t in at.text_input if t.label == "Save to my shelf as")


def test_the_save_box_offers_each_new_products_own_name(me):
    at = run_with(label("list_literal_kit"))
    assert save_box(at).value == "Soulfood Nourishing Mask"
    save_box(at).input("My mask")
    at.text_area(key="ing_text").input("Water, Glycerin")
    at.button(key="analyse").click().run()
    assert save_box(at).value == ""                         # not "My mask" from the product before


def test_comparing_a_product_with_itself_says_so(db, me):
    db.save_shelf_product(me.id, "Night cream", "Water, Retinol")
    db.save_shelf_product(me.id, "Toner", "Water, Glycolic Acid")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    night = db.list_shelf(me.id)[0].id
    at.selectbox(key="cmp_a").set_value(night)
    at.selectbox(key="cmp_b").set_value(night).run()
    assert any("same product" in i.value for i in at.info)


def test_kit_tab_labels_end_at_a_word(me):
    at = run_with("Hydrating Cleansing Gel For Sensitive Combination Skin:\nAqua, Glycerin, Coco-Glucoside\n"
                  "Overnight Repair Cream With Ceramides:\nAqua, Squalane, Ceramide NP, Cetearyl Alcohol")
    assert [t.label for t in at.tabs] == ["Hydrating Cleansing Gel For Sensitive…",
                                          "Overnight Repair Cream With Ceramides"]


def test_fit_uses_the_latest_scan(db, me):
    db.add_scan(me.id, taken_at="2025-01-01T10:00:00+00:00", model_version="t",
                scores={"acne": 90, "flek": 50, "wrinkle": 85, "panda_eye": 80, "overall": 76}, metrics={})
    at = run_with("Water, Tranexamic Acid")
    assert any("Dark spots (your score 50/100)" in m.value and "Tranexamic Acid" in m.value for m in at.markdown)


def test_fit_names_soothing_ingredients_and_irritants_for_a_red_scan(db, me):
    db.add_scan(me.id, taken_at="2025-01-01T10:00:00+00:00", model_version="t",
                scores={"acne": 90, "flek": 88, "wrinkle": 85, "panda_eye": 80, "redness": 45, "overall": 86}, metrics={})
    at = run_with("Water, Alcohol Denat., Allantoin, Menthol")
    (line,) = [m.value for m in at.markdown if "Redness (your score 45/100)" in m.value]
    assert "helps: Allantoin" in line and "may aggravate: Alcohol Denat\\., Menthol" in line   # Markdown-escaped


def test_a_kit_gets_one_tab_per_product(me):
    at = run_with(label("list_literal_kit"))
    assert len(at.tabs) == 3


def test_saving_to_the_shelf_and_comparing(db, me):
    at = run_with("Water, Glycerin, Retinol")
    save_box(at).input("Night cream")
    at.button[1].click().run()                               # the form's "Save to shelf"
    assert not at.exception and at.success
    at.text_area(key="ing_text").input("Water, Glycolic Acid")
    at.button(key="analyse").click().run()
    save_box(at).input("Toner")
    at.button[1].click().run()
    assert [s.name for s in db.list_shelf(me.id)] == ["Night cream", "Toner"]
    night, toner = (s.id for s in db.list_shelf(me.id))
    at.selectbox(key="cmp_a").set_value(night)
    at.selectbox(key="cmp_b").set_value(toner).run()
    assert any("Using both" in w.value for w in at.warning)


def test_unknown_names_are_logged_and_exportable(db, me):
    at = run_with("Water, Vegetable Collagen")
    assert [r.text for r in db.unknown_ingredients(me.id)] == ["Vegetable Collagen"]
    assert any(b.label == "Export the list (CSV)" for b in at.get("download_button"))


def test_the_page_says_how_the_product_type_was_set(me):
    at = run_with("Aqua, Glycerin")
    assert any("the default" in c.value for c in at.caption)
    at.selectbox(key="ing_type").set_value("lip").run()
    assert any("lip" in c.value and "as chosen above" in c.value for c in at.caption)


def test_a_hostile_shelf_product_is_analysed_once_not_on_every_render(db, me, monkeypatch):
    """Issue 26: an imported shelf product of 100,000 characters of "(may contain" made every render of the
    page slow. The shelf's analyses are remembered per saved text."""
    import skin_app.ingredients.report as ingredients
    hostile = "(may contain" * 8_000 + " shelf-cache-test"
    db.save_shelf_product(me.id, "Hostile", hostile)
    db.save_shelf_product(me.id, "Night cream", "Aqua, Retinol, Squalane, shelf-cache-test")
    parsed: list[str] = []
    real = ingredients.parse_label
    monkeypatch.setattr(ingredients, "parse_label", lambda text, *a, **k: parsed.append(text) or real(text, *a, **k))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.run()
    at.text_area(key="ing_text").input("Water, Benzoyl Peroxide").run()
    assert not at.exception and at.subheader[0].value == "Compare two products"
    assert parsed.count(hostile) <= 1
