"""Flags that mean something: comedogenic ratings only on oily raw materials in leave-on products, irritancy
where it is known, essential oils and fragrance by what the plant oil is, allergens under any close name."""
from __future__ import annotations

import pytest

from skin_app.ingredients.report import analyse


def line(text: str, product_type: str = "leave_on_face"):
    return analyse(f"Water, {text}", product_type=product_type).ingredients[1]


@pytest.mark.parametrize("name", ["Sodium Chloride", "Algin", "Carrageenan"])
def test_salts_and_gums_carry_no_comedogenic_or_irritancy_flag(name):
    ing = line(name)
    assert "comedogenic" not in ing.flags and "irritant" not in ing.flags and "acne" not in ing.aggravates


def test_sodium_lauryl_sulfate_is_an_irritant_not_a_comedogen():
    ing = line("Sodium Lauryl Sulfate", "rinse_off")
    assert "irritant" in ing.flags and "comedogenic" not in ing.flags


def test_comedogenic_rating_counts_only_in_leave_on_products():
    assert "comedogenic" in line("Isopropyl Myristate", "leave_on_face").flags
    rinse = line("Isopropyl Myristate", "rinse_off")
    assert "comedogenic" not in rinse.flags and "acne" not in rinse.aggravates


def test_the_comedogenic_flag_states_its_source_and_limits():
    report = analyse("Water, Isopropyl Myristate", product_type="leave_on_face")
    note = next(f.note for f in report.products[0].flags if f.code == "comedogenic")
    assert "rabbit-ear" in note and "concentration" in note
    assert "raw material" in report.ingredients[1].rating_source


@pytest.mark.parametrize("name", ["Glycine Soja (Soybean) Oil", "Cocos Nucifera (Coconut) Oil", "Zea Mays (Corn) Oil",
                                  "Hippophae Rhamnoides Fruit Oil"])
def test_fixed_plant_oils_are_not_essential_oils_or_fragrance(name):
    ing = line(name)
    assert ing.inci is not None and "essential_oil" not in ing.flags and "fragrance" not in ing.flags


@pytest.mark.parametrize("name", ["Illicium Verum (Anise) Fruit Oil", "Myristica Fragrans (Nutmeg) Kernel Oil",
                                  "Litsea Cubeba Fruit Oil", "Lavandula Angustifolia (Lavender) Oil"])
def test_aromatic_oils_are_essential_oils(name):
    ing = line(name)
    assert ing.inci is not None and {"essential_oil", "fragrance"} <= set(ing.flags)


def test_turmeric_root_extract_is_an_active_not_a_fragrance():
    ing = line("Curcuma Longa (Turmeric) Root Extract")
    assert ing.inci == "CURCUMA LONGA ROOT EXTRACT" and "fragrance" not in ing.flags
