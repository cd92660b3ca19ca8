"""The shelf of saved products and the unknown-ingredient log (storage, migration 2)."""
from __future__ import annotations

import pytest

from skin_app.errors import InvalidRecordError
from skin_app.ingredients.report import analyse
from skin_app.storage import Storage


@pytest.fixture()
def db(tmp_path):
    s = Storage(tmp_path / "shelf.sqlite3")
    yield s
    s.close()


def test_a_saved_product_comes_back_with_its_ingredients(db):
    me = db.create_profile("Me")
    report = analyse("Aqua, Retinol, Squalane").products[0]
    saved = db.save_shelf_product(me.id, "Night serum", "Aqua, Retinol, Squalane",
                                  inci=report.inci_names, actives=report.actives)
    [got] = db.list_shelf(me.id)
    assert got == saved
    assert got.inci == ["AQUA", "RETINOL", "SQUALANE"] and got.actives == {"retinoid": ["Retinol"]}


def test_shelves_are_per_profile(db):
    a, b = db.create_profile("A"), db.create_profile("B")
    db.save_shelf_product(a.id, "Cream", "Water, Glycerin")
    assert db.list_shelf(b.id) == []


def test_one_profile_can_neither_read_nor_remove_another_profiles_product(db):
    a, b = db.create_profile("A"), db.create_profile("B")
    p = db.save_shelf_product(a.id, "Cream", "Water, Glycerin")
    assert db.get_shelf_product(p.id, profile_id=b.id) is None
    assert db.delete_shelf_product(p.id, profile_id=b.id) is False
    assert db.get_shelf_product(p.id, profile_id=a.id) == p


def test_deleting_a_profile_empties_its_shelf(db):
    me = db.create_profile("Me")
    db.save_shelf_product(me.id, "Cream", "Water, Glycerin")
    db.delete_profile(me.id)
    assert db._query("SELECT COUNT(*) FROM shelf_products")[0][0] == 0


def test_a_product_can_be_removed(db):
    me = db.create_profile("Me")
    p = db.save_shelf_product(me.id, "Cream", "Water, Glycerin")
    db.delete_shelf_product(p.id, profile_id=p.profile_id)
    assert db.get_shelf_product(p.id, profile_id=p.profile_id) is None


@pytest.mark.parametrize("name,text,message", [("", "Water", "name"), ("x" * 121, "Water", "120"),
                                               ("Cream", "  ", "no ingredient list")])
def test_invalid_saves_are_refused_with_a_message(db, name, text, message):
    me = db.create_profile("Me")
    with pytest.raises(InvalidRecordError, match=message):
        db.save_shelf_product(me.id, name, text)


def test_unknown_names_are_counted(db):
    db.log_unknown_ingredients(["Vegetable Collagen", "Gellidiella Acerosa Extract"], "Serum")
    db.log_unknown_ingredients(["Vegetable Collagen"])
    rows = {r.text: r for r in db.unknown_ingredients()}
    assert rows["Vegetable Collagen"].count == 2 and rows["Gellidiella Acerosa Extract"].count == 1
    assert rows["Vegetable Collagen"].example_product == "Serum"


def test_the_unknown_log_can_be_cleared(db):
    db.log_unknown_ingredients(["Foo"])
    db.clear_unknown_ingredients()
    assert db.unknown_ingredients() == []


def test_shelf_products_feed_conflict_checks(db):
    me = db.create_profile("Me")
    db.save_shelf_product(me.id, "Vitamin C serum", "Water, Ascorbic Acid, Ferulic Acid")
    shelf = [(s.name, s.ingredients_text) for s in db.list_shelf(me.id)]
    conflicts = analyse("Benzoyl Peroxide, Water", shelf=shelf).products[0].conflicts
    assert any(c.with_product == "Vitamin C serum" and c.severity == "caution" for c in conflicts)
