"""Recognition beyond the inventory's own names: plant names read by their INCI grammar, one-letter typos,
and label text that is no ingredient at all. Label strings written for these tests."""
from __future__ import annotations

import pytest

from skin_app.ingredients.kb import KnowledgeBase, default_kb
from skin_app.ingredients.parse import parse_label
from skin_app.ingredients.report import analyse
from skin_app.ingredients.spelling import SpellingIndex


@pytest.fixture(scope="module")
def kb():
    return default_kb()


def line(name: str, product_type: str | None = None):
    return analyse(f"Aqua, {name}, Glycerin", product_type=product_type).ingredients[1]


# -- plants --------------------------------------------------------------------------------------------------
def test_a_plant_part_missing_from_the_inventory_is_read_as_that_plant_and_part():
    # CosIng 2020 lists the jujuba's seed, leaf and branch extracts, not its fruit extract
    ing = line("Ziziphus Jujuba Fruit Extract")
    assert (ing.inci, ing.method) == ("ZIZIPHUS JUJUBA FRUIT EXTRACT", "botanical")
    assert "Ziziphus jujuba (fruit, extract)" in ing.what and "not in the EU CosIng inventory" in ing.what


def test_a_plant_printed_without_its_part_says_so():
    ing = line("Anthemis Nobilis (Roman Chamomile)")
    assert ing.inci == "ANTHEMIS NOBILIS (PART NOT STATED)"
    assert "part not stated" in ing.what


def test_the_latin_name_may_follow_the_common_name_in_parentheses():
    assert line("Organic Goji Berry Extract (Lycium Barbarum)").inci == "LYCIUM BARBARUM BERRY EXTRACT"


def test_an_essential_oil_read_by_the_grammar_is_the_inventory_name_with_its_allergen_flag():
    ing = line("Cedrus Atlantica Bark (Cedarwood) Essential Oil")
    assert ing.inci == "CEDRUS ATLANTICA BARK OIL" and "allergen" in ing.flags


def test_a_label_saying_essential_oil_flags_an_inferred_plant_oil():
    ing = line("Coleus Barbatus Root Essential Oil")
    assert ing.method == "botanical" and {"essential_oil", "fragrance"} <= set(ing.flags)


def test_an_inferred_plant_gets_no_eu_verdict_and_only_the_functions_its_listed_parts_share(kb):
    ing = line("Lycium Barbarum Berry Extract")
    assert ing.eu_verdict == "" and not [f for f in ing.flags if f.startswith("eu_")]
    listed = [e for e in kb.entries if e.inci.startswith("LYCIUM BARBARUM ") and e.inci.endswith(" EXTRACT")]
    assert all(f in e.functions for e in listed for f in ing.functions)


@pytest.mark.parametrize("name", ["Sodium Hyaluronate Extract", "Sweet Almond Protein Extract",
                                  "Hydrolyzed Collagen Leaf Extract"])
def test_a_chemical_or_common_name_shaped_like_genus_species_is_no_plant(name):
    assert line(name).inci is None


def test_a_plant_whose_oil_is_an_allergen_is_read_without_its_part_only_with_the_uncertain_allergen_flag():
    # Lavender oil is an EU-declarable allergen: a lavender of unknown part is lavender, possibly that oil
    ing = line("Lavandula Angustifolia (Lavender)")
    assert (ing.inci, ing.method) == ("LAVANDULA ANGUSTIFOLIA (PART NOT STATED)", "botanical")
    assert ing.flags == ["allergen_maybe"] and ing.eu_verdict == ""


def test_an_oil_of_a_genus_whose_oils_are_allergens_under_another_latin_name_keeps_the_allergen_flag():
    # The inventory lists bergamot as Citrus Aurantium Bergamia, whose peel oil is a declarable allergen
    ing = line("Citrus Bergamia (Bergamot) Essential Oil")
    assert ing.inci == "CITRUS BERGAMIA OIL (PART NOT STATED)" and {"allergen_maybe", "essential_oil"} <= set(ing.flags)


def test_a_plant_with_an_annex_limit_on_one_of_its_parts_is_still_not_guessed():
    # Lime oils carry the Annex II/358 furocoumarin entry: the part decides, so no reading
    assert line("Citrus Aurantifolia (Lime) Extract").inci is None


def test_a_plant_of_a_genus_banned_as_a_whole_is_never_given_a_quiet_reading():
    # Annex II bans "Phytolacca spp. and their preparations"
    ing = line("Phytolacca Americana Root Extract")
    assert ing.inci is None and ing.method in ("fuzzy", "unknown")


def test_latin_and_common_names_of_one_plant_in_a_slash_pair_are_one_ingredient():
    ings = analyse("Water, Thymus Vulgaris Extract/Thyme Extract, Glycerin").ingredients
    assert [i.inci for i in ings] == ["WATER", "THYMUS VULGARIS EXTRACT", "GLYCERIN"]


def test_the_named_part_wins_over_the_plant_printed_without_one():
    ing = line("Beta Vulgaris/Beet Root Extract/Extrait de Racine de Betterave")
    assert ing.inci == "BETA VULGARIS ROOT EXTRACT"


def test_the_form_printed_after_the_common_name_is_kept():
    # "Shea Butter" in the parentheses must not turn an extract into the butter itself
    assert line("Butyrospermum Parkii (Shea Butter) Extract").inci != "BUTYROSPERMUM PARKII BUTTER"


def test_an_older_spelling_of_a_latin_name_reads_as_the_inventory_plant():
    assert line("Zizyphus Jujuba Seed Extract").inci == "ZIZIPHUS JUJUBA SEED EXTRACT"


@pytest.mark.parametrize("name,inci", [
    ("Rice Bran Oil", "ORYZA SATIVA BRAN OIL"), ("Red Clover Extract", "TRIFOLIUM PRATENSE EXTRACT"),
    ("Oat Kernel Flour", "AVENA SATIVA KERNEL FLOUR"), ("Ashwagandha", "WITHANIA SOMNIFERA (PART NOT STATED)"),
])
def test_an_english_plant_name_with_its_part_and_form_reads_as_the_latin_name(name, inci):
    assert line(name).inci == inci


def test_an_english_plant_name_never_hides_an_inventory_name_or_a_chemical():
    assert line("Coconut Alkanes").inci == "COCONUT ALKANES"          # an inventory name as printed
    assert line("Sweet Almond Protein").inci is None                   # "Protein" is no plant part or form


def test_every_english_plant_name_we_ship_names_a_plant_of_the_inventory(kb):
    assert kb.common_names and all(latin in kb.botanical.by_taxon for latin in kb.common_names.values())


def test_a_sentence_naming_a_few_plants_is_not_read_as_a_list():
    text = ("Radiance Complex: Delivers nutrients through turmeric, olive leaf, green tea, and cress sprouts to "
            "create a fresher look.\nIngredients: Aqua, Glycerin, Curcuma Longa Root Extract")
    assert [i.inci for i in analyse(text).ingredients] == ["AQUA", "GLYCERIN", "CURCUMA LONGA ROOT EXTRACT"]


# -- ferments and slash-printed pairs ---------------------------------------------------------------------------
def test_a_ferment_with_its_substrates_in_another_order_is_the_inventory_ferment():
    ing = line("Bacillus/Soybean/Folic Acid Ferment Extract")
    assert (ing.inci, ing.method) == ("BACILLUS/FOLIC ACID/SOYBEAN FERMENT EXTRACT", "normalised")


def test_a_ferment_the_inventory_lacks_is_read_by_the_ferment_grammar():
    ing = line("Lactobacillus/Vaccinium Macrocarpon Fruit Ferment Filtrate*")
    assert (ing.inci, ing.method) == ("LACTOBACILLUS/VACCINIUM MACROCARPON FRUIT FERMENT FILTRATE", "botanical")
    assert "not in the EU CosIng inventory" in ing.what and ing.eu_verdict == ""


def test_a_ferment_of_no_known_microorganism_or_substrate_is_not_guessed():
    assert line("Zorblax/Vaccinium Macrocarpon Fruit Ferment Filtrate").inci is None
    assert line("Lactobacillus/Quuxberry Ferment Filtrate").inci is None


def test_two_known_names_printed_with_a_slash_are_both_shown():
    ings = analyse("Aqua, Pentylene Glycol / Ethylhexylglycerin, Glycerin").ingredients
    assert [i.inci for i in ings] == ["AQUA", "PENTYLENE GLYCOL", "ETHYLHEXYLGLYCERIN", "GLYCERIN"]


def test_a_slash_printed_copolymer_is_never_split_into_its_monomers():
    assert [i.inci for i in analyse("Aqua, Styrene/Acrylates Copolymer").ingredients][1] == "STYRENE/ACRYLATES COPOLYMER"


def test_an_ocr_hci_is_a_hydrochloride():
    assert line("Pyridoxine HCI").inci == "PYRIDOXINE HCL"


# -- typos ---------------------------------------------------------------------------------------------------
def test_a_one_letter_typo_is_repaired_and_keeps_the_ingredients_eu_limit():
    ing = line("Phenoxethanol")
    assert (ing.inci, ing.method, ing.eu_verdict) == ("PHENOXYETHANOL", "spelling", "restricted")


def test_a_typo_of_a_banned_substance_stays_a_suggestion_without_a_ban():
    ing = line("Isobutylparben")
    assert ing.inci is None and ing.did_you_mean == "ISOBUTYLPARABEN" and "eu_prohibited" not in ing.flags


def test_a_typo_of_an_allergen_raises_only_the_uncertain_allergen_flag():
    ing = line("Geranoil")
    assert ing.inci is None and ing.did_you_mean == "GERANIOL" and ing.flags == ["allergen_maybe"]


@pytest.mark.parametrize("name,inci", [
    ("Sodum Benzoate", "SODIUM BENZOATE"),          # SEDUM or SODIUM: only one makes an inventory name
    ("Glycine Sojo (Soybean) Oil", "GLYCINE SOJA OIL"),   # a four-letter word, pinned down by the others
])
def test_a_typo_with_several_candidate_words_is_repaired_when_only_one_makes_a_name(name, inci):
    assert (line(name).inci, line(name).method) == (inci, "spelling")


def test_a_single_short_word_is_not_repaired_into_another_ingredient():
    assert line("Maca").inci is None                  # a plant, not MICA


def test_a_word_with_two_candidates_one_letter_away_is_not_repaired():
    index = SpellingIndex(["CETYL ALCOHOL", "CETYL ACETATE", "ALCOHOL DENAT"])
    assert index.repair("Cetyl Alcohol") is None            # nothing to repair
    assert index.repair("Cetyl Alcohal") == "CETYL ALCOHOL"
    index = SpellingIndex(["SORBATE", "SORBITE"])
    assert index.repair("Sorbdte") is None                   # sorbate or sorbite: not ours to choose


def test_the_new_readings_can_be_switched_off_to_measure_them(kb):
    plain = KnowledgeBase(kb.entries, infer=False)
    assert plain.lookup("Ziziphus Jujuba Fruit Extract") is None and plain.lookup("Phenoxethanol") is None


def test_a_banned_substance_keeps_its_verdict_beside_inferred_plants():
    ings = analyse("Aqua, Ziziphus Jujuba Fruit Extract, Hydroquinone, Phenoxethanol").ingredients
    assert ings[2].eu_verdict == "not_permitted" and "eu_prohibited" in ings[2].flags


# -- text that is no ingredient ------------------------------------------------------------------------------
def test_a_spreadsheet_error_value_and_a_shade_code_are_not_tokens():
    tokens = parse_label("Water, #NAME?, Glycerin [V2801A], [V2933B], Mica").products[0].tokens
    assert [t.name for t in tokens] == ["Water", "Glycerin", "Mica"]


def test_a_drug_facts_purpose_is_no_part_of_the_name():
    ing = analyse("Active Ingredients: Zinc Oxide 9.0% Sunscreen, Octisalate 5% Sunscreen").ingredients
    assert [(i.inci, i.percent) for i in ing] == [("ZINC OXIDE", "9.0%"), ("ETHYLHEXYL SALICYLATE", "5%")]


def test_letters_lost_with_a_pdf_ligature_are_put_back():
    ings = analyse("Water, Salvia O_cinalis (Sage) Leaf Extract, Sodium Metabisul te").ingredients
    assert [i.inci for i in ings] == ["WATER", "SALVIA OFFICINALIS LEAF EXTRACT", "SODIUM METABISULFITE"]


def test_a_list_literal_broken_by_a_curly_apostrophe_is_still_read_item_by_item():
    text = "['Night Balm:', 'Aqua, Hordeum Vulgare Extract/Extrait D’orge, Shea Butter, Tocopherol']"
    report = analyse(text)
    assert report.products[0].name == "Night Balm"
    assert [i.inci for i in report.ingredients] == ["AQUA", "HORDEUM VULGARE EXTRACT",
                                                    "BUTYROSPERMUM PARKII BUTTER", "TOCOPHEROL"]
