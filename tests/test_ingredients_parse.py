"""Parsing real labels: every pitfall listed in the issue, one behaviour per test."""
from __future__ import annotations

from skin_app.ingredients.parse import clean_text, parse_label
from skin_app.ingredients.report import analyse
from tests.ingredient_fixtures import label


def texts(text: str) -> list[str]:
    return [ing.text for ing in analyse(text).ingredients]


def incis(text: str) -> list[str | None]:
    return [ing.inci for ing in analyse(text).ingredients]


def test_marketing_bullets_before_the_list_are_not_ingredients():
    report = analyse(label("marketing_bullets"))
    assert report.ingredients[0].text == "Water"
    assert not any("brighten" in ing.text.lower() for ing in report.ingredients)


def test_ingredients_header_in_two_languages_starts_the_list():
    report = analyse(label("ingredients_header_fr"))
    assert report.ingredients[0].inci == "WATER"          # "Ingredients/Ingrédients: Water/Aqua/Eau, ..."
    assert not any("Triple Lipid" in ing.text for ing in report.ingredients)


def test_german_header_and_german_names():
    got = incis("Inhaltsstoffe: Wasser, Glyzerin, Sheabutter, Duftstoffe")
    assert got == ["AQUA", "GLYCERIN", "BUTYROSPERMUM PARKII BUTTER", "PARFUM"]


def test_french_and_spanish_names():
    assert incis("Ingrédients : Eau, Beurre de Karité, Parfum") == ["AQUA", "BUTYROSPERMUM PARKII BUTTER", "PARFUM"]
    assert incis("Ingredientes: Agua, Aceite de Jojoba") == ["AQUA", "SIMMONDSIA CHINENSIS SEED OIL"]


def test_may_contain_shade_block_is_kept_and_marked():
    report = analyse(label("may_contain"))
    marked = [ing for ing in report.ingredients if ing.may_contain]
    assert marked and all(ing.inci for ing in marked)
    got = {ing.inci for ing in marked}
    assert "MICA" in got and got & {"CI 77491", "CI 77492", "CI 77499"}
    assert not report.ingredients[0].may_contain


def test_commas_inside_parentheses_do_not_split():
    got = analyse("Aqua (Water, Eau), Iron Oxides (CI 77491, CI 77492), Glycerin").ingredients
    assert [ing.text for ing in got] == ["Aqua (Water, Eau)", "Iron Oxides (CI 77491, CI 77492)", "Glycerin"]


def test_commas_inside_chemical_names_do_not_split():
    assert "1,2-HEXANEDIOL" in incis(label("hexanediol"))
    assert incis("Water, 1, 2-Hexanediol, Glycerin") == ["WATER", "1,2-HEXANEDIOL", "GLYCERIN"]


def test_slash_inside_a_name_is_part_of_the_name():
    assert incis("Caprylic/Capric Triglyceride") == ["CAPRYLIC/CAPRIC TRIGLYCERIDE"]


def test_slashes_between_synonyms_give_one_ingredient():
    got = incis("Water/Aqua/Eau, Beeswax/Cera Alba/Cire d'Abeille")
    assert len(got) == 2 and got[0] == "WATER" and got[1] in {"BEESWAX", "CERA ALBA"}


def test_backslash_synonyms():
    assert incis("Water\\Aqua\\Eau, Glycerin") == ["WATER", "GLYCERIN"]


def test_ci_numbers_in_every_spelling():
    for spelling in ("CI 77891", "C.I. 77891", "Ci77891", "CI-77891", "C I 77891", "ci 77891"):
        assert incis(f"Mica, {spelling}") == ["MICA", "CI 77891"], spelling


def test_us_colour_names_map_to_ci_numbers():
    assert incis("Red 40 Lake, Yellow 5 (CI 19140), Iron Oxides") == ["CI 16035", "CI 19140", "CI 77491"]


def test_percentages_are_kept():
    lines = analyse("Niacinamide 10%, Zinc PCA 1 %, Water").ingredients
    assert [(ing.inci, ing.percent) for ing in lines] == [("NIACINAMIDE", "10%"), ("ZINC PCA", "1%"), ("WATER", None)]


def test_percentage_glued_to_the_next_name():
    report = analyse(label("glued_percent"))
    first = [(ing.inci, ing.percent) for ing in report.ingredients[:6]]
    assert first[4] == ("OCTOCRYLENE", "5.0%")
    assert first[5] == ("WATER", None)


def test_asterisks_and_footnotes():
    report = analyse(label("footnotes"))
    assert report.ingredients[0].text == "Rosa Canina Fruit Oil*"
    assert report.ingredients[0].inci == "ROSA CANINA FRUIT OIL"
    assert not any("Organic Farming" in ing.text for ing in report.ingredients)
    assert any("Organic Farming" in t for t in report.products[0].skipped_text)


def test_and_blends_become_separate_ingredients():
    lines = analyse("Water, Sodium Acrylates Copolymer (and) Lecithin, Glycerin").ingredients
    assert [ing.inci for ing in lines] == ["WATER", "SODIUM ACRYLATES COPOLYMER", "LECITHIN", "GLYCERIN"]
    assert [ing.position for ing in lines] == [1, 2, 3, 4]


def test_line_breaks_and_semicolons_separate():
    assert incis("Water\nGlycerin; Squalane\r\nNiacinamide") == ["WATER", "GLYCERIN", "SQUALANE", "NIACINAMIDE"]


def test_ligatures_are_unfolded():
    report = analyse(label("ligature"))
    assert "HELIANTHUS ANNUUS SEED OIL" in [ing.inci for ing in report.ingredients]


def test_mojibake_is_repaired():
    broken = "Water, Beurre de KaritÃ©, ParfÃ¼m".encode().decode("utf-8")
    assert clean_text(broken)[0] == "Water, Beurre de Karité, Parfüm"
    assert incis(broken) == ["WATER", "BUTYROSPERMUM PARKII BUTTER", "PARFUM"]


def test_all_caps_label():
    report = analyse(label("all_caps"))
    assert report.ingredients[1].inci == "BUTYLENE GLYCOL"
    assert report.products[0].recognised_count == len(report.ingredients)


def test_alcohol_denat_keeps_its_period():
    lines = analyse("Water, Alcohol Denat., Glycerin").ingredients
    assert [ing.inci for ing in lines] == ["WATER", "ALCOHOL DENAT.", "GLYCERIN"]


def test_free_from_claims_are_not_read_as_ingredients():
    text = "Free from: parabens, sulfates, silicones.\nIngredients: Water, Glycerin"
    assert incis(text) == ["WATER", "GLYCERIN"]


def test_a_list_printed_without_commas_is_segmented():
    report = analyse(label("space_separated"))
    assert report.ingredients[0].inci == "CAPRYLIC/CAPRIC TRIGLYCERIDE"
    assert report.products[0].recognised_count >= 18


def test_list_literal_exports_are_unwrapped():
    parsed = parse_label("['Water, Glycerin, Squalane']")
    assert [t.name for t in parsed.products[0].tokens] == ["Water", "Glycerin", "Squalane"]


def test_a_drug_facts_block_on_one_line_keeps_each_active_with_its_percentage():
    text = ("Active ingredients Purpose Avobenzone 3% Sunscreen Homosalate 10% Sunscreen Octocrylene 7% Sunscreen "
            "Inactive ingredients Water, Glycerin")
    lines = analyse(text).ingredients
    assert [(ing.inci, ing.percent) for ing in lines[:3]] == [("BUTYL METHOXYDIBENZOYLMETHANE", "3%"), ("HOMOSALATE", "10%"),
                                                       ("OCTOCRYLENE", "7%")]
    assert [ing.inci for ing in lines[3:]] == ["WATER", "GLYCERIN"]


def test_kit_headings_inside_one_line_split_the_kit():
    report = analyse("Cleanser: Aqua, Coco-Glucoside, Glycerin Moisturizer: Aqua, Squalane, Niacinamide")
    assert [(p.name, p.inci_names) for p in report.products] == [
        ("Cleanser", ["AQUA", "COCO-GLUCOSIDE", "GLYCERIN"]), ("Moisturizer", ["AQUA", "SQUALANE", "NIACINAMIDE"])]


def test_a_footnote_glued_to_a_slash_printed_fragrance_keeps_the_fragrance_flag():
    line = analyse("Water, Glycerin, Fragrance/Parfum*, Phenoxyethanol. *Natural origin").ingredients[2]
    assert line.inci == "PARFUM" and "fragrance" in line.flags


def test_a_shade_block_keeps_its_iron_oxides():
    text = "Talc, Mica, Dimethicone [+/- May Contain: CI 77891, CI 77491, CI 77492, CI 77499]"
    lines = analyse(text).ingredients
    assert [ing.inci for ing in lines if ing.may_contain] == ["CI 77891", "CI 77491", "CI 77492", "CI 77499"]
