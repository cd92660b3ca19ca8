"""The report: flags, conflicts, kits, fit to a scan, position hints, JSON and the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from skin_app.ingredients.report import analyse, compare
from tests.ingredient_fixtures import label

ROOT = Path(__file__).resolve().parents[1]


def flags_of(text: str) -> dict[str, list[str]]:
    return {f.code: f.ingredients for f in analyse(text).products[0].flags}


def test_every_flag_names_the_ingredients_that_caused_it():
    flags = flags_of("Water, Alcohol Denat., Sodium Lauryl Sulfate, Dimethicone, Methylparaben, "
                     "DMDM Hydantoin, Parfum, Linalool, Lavandula Angustifolia Oil")
    assert flags["drying_alcohol"] == ["Alcohol Denat."]
    assert flags["sulfate"] == ["Sodium Lauryl Sulfate"]
    assert flags["silicone"] == ["Dimethicone"]
    assert flags["paraben"] == ["Methylparaben"]
    assert flags["formaldehyde_releaser"] == ["DMDM Hydantoin"]
    assert "Parfum" in flags["fragrance"]
    assert flags["allergen"] == ["Linalool", "Lavandula Angustifolia Oil"]
    assert flags["essential_oil"] == ["Lavandula Angustifolia Oil"]


def test_comedogenic_rating_with_its_source():
    line = analyse("Water, Isopropyl Myristate").ingredients[1]
    assert line.comedogenic >= 3 and line.rating_source
    assert "comedogenic" in line.flags and "acne" in line.aggravates


def test_fungal_acne_flag_is_a_rule_of_thumb_flag():
    assert "fungal_acne" in analyse("Polysorbate 80").ingredients[0].flags
    assert "fungal_acne" not in analyse("Squalane").ingredients[0].flags


def test_pregnancy_caution_for_retinoids():
    assert "pregnancy" in analyse("Retinol").ingredients[0].flags


def test_key_actives_are_grouped_by_class():
    actives = analyse("Water, Niacinamide, Tranexamic Acid, Retinol, Salicylic Acid").products[0].actives
    assert actives["niacinamide"] == ["Niacinamide"]
    assert actives["tranexamic_acid"] == ["Tranexamic Acid"]
    assert actives["retinoid"] == ["Retinol"] and actives["bha"] == ["Salicylic Acid"]


def test_no_conflict_inside_one_formula():
    # One product holding a retinoid and an acid (or benzoyl peroxide and adapalene) is made to be used as is.
    assert analyse("Water, Retinol, Glycolic Acid").products[0].conflicts == []
    assert analyse("Water, Adapalene, Benzoyl Peroxide").products[0].conflicts == []


def test_adapalene_on_the_shelf_with_benzoyl_peroxide_is_only_the_irritation_caution():
    # Adapalene is stable next to benzoyl peroxide (no "avoid"), but the two products' irritation adds up
    report = analyse("Water, Benzoyl Peroxide", shelf=[("Acne gel", "Aqua, Adapalene, Carbomer")])
    assert [c.severity for c in report.products[0].conflicts] == ["caution"]


def test_tretinoin_on_the_shelf_with_benzoyl_peroxide_is_an_avoid_with_its_source():
    report = analyse("Water, Benzoyl Peroxide", shelf=[("Tretinoin cream", "Aqua, Tretinoin, Glycerin")])
    conflicts = report.products[0].conflicts
    assert [c.severity for c in conflicts] == ["avoid"]
    assert "Br J Dermatol" in conflicts[0].source and conflicts[0].with_product == "Tretinoin cream"


def test_every_conflict_rule_cites_a_source():
    from skin_app.ingredients.report import CONFLICT_RULES
    assert CONFLICT_RULES and all(len(r.source) > 20 for r in CONFLICT_RULES)


def test_benzoyl_peroxide_with_vitamin_c_from_another_product_is_a_caution():
    conflicts = analyse("Benzoyl Peroxide, Water", shelf=[("C serum", "Aqua, Ascorbic Acid")]).products[0].conflicts
    assert [c.severity for c in conflicts] == ["caution"]


def test_conflict_with_a_product_on_the_shelf():
    report = analyse("Water, Salicylic Acid", shelf=[("Night serum", "Aqua, Retinol, Squalane")])
    shelf_conflicts = [c for c in report.products[0].conflicts if c.with_product == "Night serum"]
    assert shelf_conflicts and shelf_conflicts[0].severity == "caution"
    assert shelf_conflicts[0].other == ["Retinol"]


def test_niacinamide_with_vitamin_c_is_not_a_conflict():
    assert analyse("Niacinamide, Ascorbic Acid").products[0].conflicts == []


def test_kit_from_a_list_export_gives_one_report_per_product():
    report = analyse(label("list_literal_kit"))
    assert report.is_kit
    assert [p.name for p in report.products] == ["Soulfood Nourishing Mask", "The Kure Intense Repair Mask",
                                                 "Dream Routine Overnight Hydration Mask"]
    assert all(p.lines[0].inci in ("WATER", "AQUA") for p in report.products)


def test_kit_with_product_name_headings():
    report = analyse(label("product_name_kit"))
    assert report.is_kit and "Spf30 Face Cream" in [p.name for p in report.products]


def test_the_products_of_a_kit_are_checked_against_each_other():
    # The kit's retinol serum and its glycolic-acid product are used in one routine: a caution, named by product
    report = analyse(label("retinol_and_aha_kit"))
    serum = next(p for p in report.products if "Retinol" in (p.name or ""))
    kit = [c for c in serum.conflicts if c.with_product and c.with_product.endswith("(in this kit)")]
    assert report.is_kit and kit and {c.severity for c in kit} == {"caution"}
    assert any("Retinol" in c.here for c in kit)


def test_a_kit_product_is_never_in_conflict_with_itself():
    report = analyse("Night Serum:\nAqua, Retinol, Glycolic Acid\nDay Cream:\nAqua, Glycerin, Squalane")
    assert report.is_kit and all(c.with_product != f"{p.name} (in this kit)"
                                 for p in report.products for c in p.conflicts)
    assert all(p.conflicts == [] for p in report.products)


def test_a_kit_of_benzoyl_peroxide_and_a_retinoid_is_a_caution_with_its_source():
    report = analyse("Acne Wash:\nAqua, Benzoyl Peroxide 5%, Glycerin\nNight Gel:\nAqua, Adapalene, Carbomer")
    conflicts = report.products[0].conflicts
    assert [(c.severity, c.with_product) for c in conflicts] == [("caution", "Night Gel (in this kit)")]
    assert "J Am Acad Dermatol" in conflicts[0].source and conflicts[0].other == ["Adapalene"]


def test_tretinoin_with_benzoyl_peroxide_is_one_avoid_not_also_a_caution():
    report = analyse("Water, Benzoyl Peroxide", shelf=[("Tretinoin cream", "Water, Tretinoin")])
    assert [c.severity for c in report.products[0].conflicts] == ["avoid"]


def test_fit_to_the_latest_scan_names_helping_ingredients():
    scores = {"acne": 90, "flek": 55, "wrinkle": 80, "panda_eye": 85, "overall": 77}
    fit = analyse("Water, Niacinamide, Tranexamic Acid", scores=scores).products[0].fit
    assert fit[0].concern == "flek" and fit[0].yours
    assert fit[0].sentence == "helps your dark spots: Niacinamide, Tranexamic Acid"


def test_fit_flags_what_may_aggravate_acne():
    fit = {f.concern: f for f in analyse("Water, Isopropyl Myristate", scores={"acne": 40}).products[0].fit}
    assert fit["acne"].aggravates == ["Isopropyl Myristate"]


def test_fit_to_a_red_scan_names_soothing_ingredients_and_flags_irritants_for_redness():
    scores = {"acne": 90, "flek": 88, "wrinkle": 85, "panda_eye": 86, "redness": 45, "overall": 87}
    fit = analyse("Water, Alcohol Denat., Niacinamide, Centella Asiatica Extract, Menthol, Parfum",
                  scores=scores).products[0].fit
    assert fit[0].concern == "redness" and fit[0].yours          # the weakest score first
    assert fit[0].helps == ["Niacinamide", "Centella Asiatica Extract"]
    assert fit[0].aggravates == ["Alcohol Denat.", "Menthol", "Parfum"]
    assert fit[0].sentence.startswith("helps your redness: Niacinamide")


def test_a_scan_without_redness_leaves_its_fit_unscored():
    scores = {"acne": 90, "flek": 88, "wrinkle": 85, "panda_eye": 86, "overall": 87}
    fit = {f.concern: f for f in analyse("Water, Allantoin", scores=scores).products[0].fit}
    assert fit["redness"].score is None and not fit["redness"].yours and fit["redness"].helps == ["Allantoin"]


def test_position_hints_first_five_and_one_percent_line():
    text = "Water, Glycerin, Squalane, Cetearyl Alcohol, Niacinamide, Dimethicone, Phenoxyethanol, Tocopherol"
    report = analyse(text)
    lines = report.ingredients
    assert all("first five" in ing.hints[0] for ing in lines[:5])
    assert report.products[0].one_percent_after == 7                 # phenoxyethanol: EU max 1 %
    assert any("1 %" in h for h in lines[7].hints)


def test_compare_two_products():
    a = analyse("Water, Glycerin, Retinol").products[0]
    b = analyse("Water, Glycerin, Glycolic Acid").products[0]
    c = compare(a, b)
    assert c.both == ["WATER", "GLYCERIN"] and c.only_a == ["RETINOL"] and c.only_b == ["GLYCOLIC ACID"]
    assert c.conflicts and c.conflicts[0].severity == "caution"


def test_json_report_lists_text_and_inci():
    d = analyse("Aqua, Niacinamide, Foo Bar Extract").to_dict()
    assert [(i["text"], i["inci"]) for i in d["ingredients"]] == [
        ("Aqua", "AQUA"), ("Niacinamide", "NIACINAMIDE"), ("Foo Bar Extract", None)]
    json.dumps(d)


def test_json_report_of_a_kit_has_products():
    d = analyse(label("list_literal_kit")).to_dict()
    assert d["kit"] and len(d["products"]) == 3 and all(p["ingredients"] for p in d["products"])


def _process(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skin_app", "ingredients", *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, timeout=120)


def test_cli_reads_standard_input_and_prints_json():
    """In a real process: stdout holds the JSON alone (the other CLI tests run in this process)."""
    out = _process("-", "--json", stdin="Water, Glycerin, Retinol")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [i["inci"] for i in data["ingredients"]] == ["WATER", "GLYCERIN", "RETINOL"]


def test_cli_plain_text_report_puts_bans_first(run_cli):
    status, out, _ = run_cli("ingredients", "Water, Benzoyl Peroxide, Retinol")
    assert status == 0
    assert out.index("EU NOT PERMITTED - Benzoyl Peroxide") < out.index("1. Water")


def test_cli_product_type_changes_the_verdict(run_cli):
    leave_on = run_cli("ingredients", "Aqua, Methylisothiazolinone", "--product-type", "leave_on_face")[1]
    rinse_off = run_cli("ingredients", "Aqua, Methylisothiazolinone", "--product-type", "rinse_off")[1]
    assert "EU NOT PERMITTED - Methylisothiazolinone" in leave_on
    assert "EU NOT PERMITTED" not in rinse_off and "0.0015" in rinse_off


def test_cli_refuses_an_unknown_product_type(run_cli):
    assert run_cli("ingredients", "Aqua", "--product-type", "toothpaste")[0] == 2


def test_cli_empty_input_is_an_error_with_a_message(run_cli):
    status, _, err = run_cli("ingredients", "-", stdin="   ")
    assert status == 2 and "empty" in err


def test_a_concern_is_yours_when_its_display_score_is_not_good():
    # Display scores share one scale: acne 62 is "fair" (ACNE04 moderate), dark circles 92 are "good".
    scores = {"acne": 62.0, "flek": 95.0, "wrinkle": 99.0, "panda_eye": 92.0, "overall": 87.0}
    fit = {f.concern: f for f in analyse("Water, Niacinamide, Salicylic Acid", scores=scores).products[0].fit}
    assert fit["acne"].yours
    assert not fit["panda_eye"].yours and not fit["flek"].yours
