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
    me = db.create_profile("Me")
    db.log_unknown_ingredients(me.id, ["Vegetable Collagen", "Gellidiella Acerosa Extract"], "Serum")
    db.log_unknown_ingredients(me.id, ["Vegetable Collagen"])
    rows = {r.text: r for r in db.unknown_ingredients(me.id)}
    assert rows["Vegetable Collagen"].count == 2 and rows["Gellidiella Acerosa Extract"].count == 1
    assert rows["Vegetable Collagen"].example_product == "Serum"


def test_the_unknown_log_can_be_cleared(db):
    me = db.create_profile("Me")
    db.log_unknown_ingredients(me.id, ["Foo"])
    db.clear_unknown_ingredients(me.id)
    assert db.unknown_ingredients(me.id) == []


def test_each_profile_keeps_its_own_unknown_log_and_takes_it_when_deleted(db):
    me, you = db.create_profile("Me"), db.create_profile("You")
    db.log_unknown_ingredients(me.id, ["Mystery Extract"], "My secret serum")
    db.log_unknown_ingredients(you.id, ["Other Extract"])
    assert [r.text for r in db.unknown_ingredients(me.id)] == ["Mystery Extract"]
    assert [r.text for r in db.unknown_ingredients(you.id)] == ["Other Extract"]
    db.clear_unknown_ingredients(you.id)                              # clears only that profile's
    assert [r.text for r in db.unknown_ingredients(me.id)] == ["Mystery Extract"]
    db.delete_profile(me.id)
    assert db.query("SELECT COUNT(*) FROM unknown_ingredients")[0][0] == 0


def test_a_log_from_before_profiles_owned_it_stays_with_every_existing_profile(tmp_path, monkeypatch):
    from skin_app import storage as storage_module
    from skin_app.storage import Storage
    path = tmp_path / "v6.sqlite3"
    monkeypatch.setattr(storage_module, "MIGRATIONS", storage_module.MIGRATIONS[:6])
    old = Storage(path)
    a, b = old.create_profile("A"), old.create_profile("B")
    with old.transaction() as conn:
        conn.execute("INSERT INTO unknown_ingredients(text, count, first_seen, last_seen, example_product) "
                     "VALUES ('Vegetable Collagen', 3, '2026-01-01', '2026-02-01', 'Serum')")
    old.close()
    monkeypatch.undo()
    new = Storage(path)
    assert new.schema_version == len(storage_module.MIGRATIONS)
    for profile in (a, b):
        (row,) = new.unknown_ingredients(profile.id)
        assert (row.text, row.count, row.example_product) == ("Vegetable Collagen", 3, "Serum")
    new.close()


def test_shelf_products_feed_conflict_checks(db):
    me = db.create_profile("Me")
    db.save_shelf_product(me.id, "Vitamin C serum", "Water, Ascorbic Acid, Ferulic Acid")
    shelf = [(s.name, s.ingredients_text) for s in db.list_shelf(me.id)]
    conflicts = analyse("Benzoyl Peroxide, Water", shelf=shelf).products[0].conflicts
    assert any(c.with_product == "Vitamin C serum" and c.severity == "caution" for c in conflicts)
