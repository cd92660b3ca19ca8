"""The parser and matcher cases from the audit of 47 real labels (issue 11), one test each."""
from __future__ import annotations

from skin_app.ingredients.report import analyse


def names(text: str) -> list[str | None]:
    return [ing.inci for ing in analyse(text).ingredients]


def test_a_drug_facts_active_block_glued_to_the_text_before_it_is_read():
    text = ("Apply liberally 15 minutes before sun exposure.Active Ingredients: Avobenzone 3%, Homosalate 10%, "
            "Octocrylene 7%. Inactive Ingredients: Water, Glycerin, Dimethicone")
    report = analyse(text)
    incis = [ing.inci for ing in report.ingredients]
    assert incis[:3] == ["BUTYL METHOXYDIBENZOYLMETHANE", "HOMOSALATE", "OCTOCRYLENE"]
    assert incis[3:] == ["WATER", "GLYCERIN", "DIMETHICONE"] and not report.is_kit


def test_kit_headings_in_the_middle_of_a_line_are_split():
    report = analyse("First Bar: Sodium Palmate, Sodium Cocoate, Water, Glycerin. Second Bar: Sodium Palmate, "
                     "Aqua, Kaolin, Charcoal Powder")
    assert [p.name for p in report.products] == ["First Bar", "Second Bar"]
    assert [ing.inci for ing in report.products[1].lines][:3] == ["SODIUM PALMATE", "AQUA", "KAOLIN"]


def test_a_bracketed_may_contain_shade_block_stays_in_the_product():
    report = analyse("Talc, Mica, Dimethicone, Zinc Stearate [+/- May Contain: Titanium Dioxide (CI 77891), "
                     "Iron Oxides (CI 77491)]")
    assert not report.is_kit
    lines = report.products[0].lines
    assert [ing.inci for ing in lines if ing.may_contain] == ["TITANIUM DIOXIDE", "CI 77491"]
    assert [ing.inci for ing in lines if not ing.may_contain] == ["TALC", "MICA", "DIMETHICONE", "ZINC STEARATE"]


def test_a_name_broken_by_a_line_break_is_joined():
    assert names("Water, Glycerin, Butylene\nGlycol, Niacinamide") == [
        "WATER", "GLYCERIN", "BUTYLENE GLYCOL", "NIACINAMIDE"]


def test_a_name_split_by_a_stray_comma_is_joined():
    assert names("Water, Sodium, Polyacrylate, Glycerin") == ["WATER", "SODIUM POLYACRYLATE", "GLYCERIN"]


def test_a_synonym_after_a_dash_is_one_ingredient():
    assert names("Aqua - Water, Tocopherol - Vitamin E, Glycerin") == ["AQUA", "TOCOPHEROL", "GLYCERIN"]


def test_a_slash_pair_with_a_misspelt_common_half_is_one_ingredient():
    assert names("Water, Butyrospermum Parkii/Shea Buttter, Glycerin") == [
        "WATER", "BUTYROSPERMUM PARKII BUTTER", "GLYCERIN"]


def test_asterisks_before_a_misspelt_name_keep_the_token():
    line = analyse("Water, Glycerin, ***Frgrance").ingredients[-1]
    assert line.text.endswith("Frgrance")
    assert (line.inci or line.did_you_mean) in ("FRAGRANCE", "PARFUM")     # a one-letter typo is repaired


def test_roman_chamomile_is_not_german_chamomile():
    line = analyse("Water, Anthemis Nobilis (Chamomile)").ingredients[1]
    assert line.inci is None or line.inci.startswith("ANTHEMIS NOBILIS")


def test_the_colour_index_number_decides_the_colourant():
    assert names("Talc, Violet 2 (CI 60730)")[1] == "CI 60730"


def test_slash_pairs_of_one_substance_are_one_ingredient():
    assert names("Cera Alba/Beeswax, Mica/CI 77019, Limnanthes Alba Seed Oil / Meadowfoam Seed Oil") == [
        "CERA ALBA", "MICA", "LIMNANTHES ALBA SEED OIL"]


def test_a_copolymer_name_with_a_slash_is_never_split():
    assert names("Styrene/Acrylates Copolymer, Glyceryl Behenate/Eicosadioate") == [
        "STYRENE/ACRYLATES COPOLYMER", "GLYCERYL BEHENATE/EICOSADIOATE"]


def test_a_name_cut_before_its_last_word_is_joined():
    assert names("Water, Kigelia, Africana Fruit Extract, Glycerin") == [
        "WATER", "KIGELIA AFRICANA FRUIT EXTRACT", "GLYCERIN"]
