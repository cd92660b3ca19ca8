"""EU verdicts by product type: a table of known verdicts under Regulation (EC) No 1223/2009, and the
pieces that give them (fields of application, product-type guess, nano form, combinations)."""
from __future__ import annotations

import pytest

from skin_app.ingredients.eu import PRODUCT_TYPES, guess_product_type, scope_types, verdict
from skin_app.ingredients.kb import default_kb
from skin_app.ingredients.report import analyse

NP, R, LAB, OK, NONE = "not_permitted", "restricted", "labelling", "allowed", ""

# (printed name, product type, verdict, the highest maximum % for that type or None) - each checked against
# the annex text (entry in the comment).
KNOWN_VERDICTS = [
    # Annex II bans, whatever the product
    ("Butylphenyl Methylpropional", "leave_on_face", NP, None),      # II/1666 (Lilial)
    ("Lilial", "rinse_off", NP, None),                               # II/1666, old trade name
    ("Lyral", "leave_on_face", NP, None),                            # II/1380 (HICC)
    ("Hydroxyisohexyl 3-Cyclohexene Carboxaldehyde", "hair", NP, None),  # II/1380
    ("Isopropylparaben", "leave_on_face", NP, None),                 # II/1374
    ("Isobutylparaben", "rinse_off", NP, None),                      # II/1375
    ("Phenylparaben", "leave_on_face", NP, None),                    # II/1376
    ("Benzylparaben", "leave_on_face", NP, None),                    # II/1377
    ("Pentylparaben", "leave_on_face", NP, None),                    # II/1378
    ("Triphenyl Phosphate", "nail", NP, None),                       # II/1767
    ("Cyclotetrasiloxane", "leave_on_face", NP, None),               # II/1388 (D4)
    ("Calomel", "leave_on_face", NP, None),                          # II/221 mercury compounds
    ("Mercurous Chloride", "leave_on_face", NP, None),               # II/221
    ("Ammoniated Mercury", "leave_on_face", NP, None),               # II/221
    ("Quaternium-15", "leave_on_face", NP, None),                    # II/1385 (cis-CTAC)
    ("Tretinoin", "leave_on_face", NP, None),                        # II/375 retinoic acid
    ("Zinc Pyrithione", "hair", NP, None),                           # II/1670 (since 2022)
    ("Lead Acetate", "hair", NP, None),                              # II/289
    ("Dibutyl Phthalate", "nail", NP, None),                         # II/675
    ("Diethylhexyl Phthalate", "nail", NP, None),                    # II/677
    ("Formaldehyde", "nail", NP, None),                              # II/1577
    ("Phytonadione", "eye_area", NP, None),                          # II/1371 (vitamin K1)
    ("4-Methylbenzylidene Camphor", "leave_on_face", NP, None),      # II/1730
    ("Trimethylbenzoyl Diphenylphosphine Oxide", "nail", NP, None),  # II/1731
    # allowed by Annex III-V only in other kinds of product
    ("Hydroquinone", "leave_on_face", NP, None),                     # II/1339 except III/14: nail systems only
    ("Hydroquinone", "nail", R, 0.02),                               # III/14
    ("Benzoyl Peroxide", "leave_on_face", NP, None),                 # III/94: artificial nail systems only
    ("Benzoyl Peroxide", "nail", R, 0.7),                            # III/94
    ("Methylisothiazolinone", "leave_on_face", NP, None),            # V/57: rinse-off only
    ("Methylisothiazolinone", "rinse_off", R, 0.0015),               # V/57
    ("Methylisothiazolinone", "hair", R, 0.0015),                    # V/57 (shampoo)
    ("Methylchloroisothiazolinone", "leave_on_face", NP, None),      # V/39: the 3:1 mixture, rinse-off only
    ("Methylchloroisothiazolinone", "rinse_off", R, 0.0015),         # V/39
    ("Triclosan", "leave_on_face", NP, None),                        # V/25: listed product types only
    ("Triclosan", "rinse_off", R, 0.3),                              # V/25: hand and body soaps, shower gels
    ("Thimerosal", "eye_area", R, 0.007),                            # V/16: eye products
    ("Thimerosal", "leave_on_face", NP, None),                       # II/221 except V/16
    ("Alpha-Arbutin", "leave_on_face", R, 2.0),                      # III/377 face cream
    ("Alpha-Arbutin", "lip", NP, None),                              # III/377: face cream, body lotion only
    ("Arbutin", "leave_on_face", R, 7.0),                            # III/378 face cream
    ("Kojic Acid", "leave_on_face", R, 1.0),                         # III/375 face and hand products
    ("Hydrogen Peroxide", "leave_on_face", R, 4.0),                  # III/12 (b) skin products
    ("Hydrogen Peroxide", "nail", R, 2.0),                           # III/12 (c) nail hardening
    ("Selenium Sulfide", "leave_on_face", NP, None),                 # III/49 anti-dandruff shampoo only
    ("Selenium Sulfide", "hair", R, 1.0),                            # III/49
    ("Silver Nitrate", "leave_on_face", NP, None),                   # III: eyelash and eyebrow colouring only
    ("Sodium Fluoride", "leave_on_face", NP, None),                  # III: oral products only
    # limits that depend on the product type
    ("Salicylic Acid", "leave_on_face", R, 2.0),                     # III/98 (b)
    ("Salicylic Acid", "eye_makeup", R, 0.5),                        # III/98 (c) eye shadow, mascara
    ("Methyl Salicylate", "face_makeup", R, 0.05),                   # III/324 (b) face makeup
    ("Hydrogen Peroxide", "leave_on_hair", R, 12.0),                 # III/12 (a) hair products
    ("Hydrogen Peroxide", "hair_dye", R, 12.0),
    ("Sodium Fluoride", "oral", R, 0.15),                            # III/31 oral products, as F
    ("Triclosan", "deodorant", R, 0.3),                              # V/25 deodorants (non-spray)
    ("Salicylic Acid", "lip", R, 0.5),                               # III/98 (c) lipstick
    ("Salicylic Acid", "hair", R, 3.0),                              # III/98 (a) rinse-off hair
    ("Sodium Benzoate", "leave_on_face", R, 0.5),                    # V/1 (c) leave-on
    ("Sodium Benzoate", "rinse_off", R, 2.5),                        # V/1 (a) rinse-off
    ("Benzophenone-3", "leave_on_face", R, 6.0),                     # VI/4 (a) face products
    ("Triethanolamine", "leave_on_face", R, 2.5),                    # III/62 (a) leave-on
    ("Triethanolamine", "rinse_off", OK, None),                      # III/62 (b): purity only
    ("Retinol", "leave_on_face", R, 0.3),                            # III/376 (b)
    ("Retinyl Palmitate", "leave_on_face", R, 0.3),                  # III/376 (b)
    ("Homosalate", "leave_on_face", R, 7.34),                        # VI/3 face products
    ("Benzyl Salicylate", "leave_on_face", R, 0.5),                  # III/ (leave-on skin products)
    # the same limit everywhere
    ("Phenoxyethanol", "leave_on_face", R, 1.0),                     # V/29
    ("Phenoxyethanol", "rinse_off", R, 1.0),                         # V/29
    ("Chlorphenesin", "leave_on_face", R, 0.3),                      # V/50
    ("Dehydroacetic Acid", "leave_on_face", R, 0.6),                 # V/13
    ("Sorbic Acid", "rinse_off", R, 0.6),                            # V/4
    ("DMDM Hydantoin", "hair", R, 0.6),                              # V/33
    ("Imidazolidinyl Urea", "leave_on_face", R, 0.6),                # V/27
    ("Benzyl Alcohol", "leave_on_face", R, 1.0),                     # V/34 (+ allergen labelling III)
    ("Titanium Dioxide", "leave_on_face", R, 25.0),                  # VI/27 UV filter (not the powder entry)
    ("Zinc Oxide", "leave_on_face", R, 25.0),                        # VI/30
    ("Butyl Methoxydibenzoylmethane", "leave_on_face", R, 5.0),      # VI/8
    ("Ethylhexyl Methoxycinnamate", "leave_on_face", R, 10.0),       # VI/12
    ("Bis-Ethylhexyloxyphenol Methoxyphenyl Triazine", "leave_on_face", R, 10.0),  # VI/25
    ("Isoeugenol", "leave_on_face", R, 0.02),                        # III/73
    # fragrance allergens: labelling duty only
    ("Limonene", "leave_on_face", LAB, None),                        # III/88
    ("Linalool", "leave_on_face", LAB, None),                        # III/84
    ("Citronellol", "rinse_off", LAB, None),                         # III/86
    ("Geraniol", "leave_on_face", LAB, None),                        # III/78
    ("Coumarin", "leave_on_face", LAB, None),                        # III/77
    ("Hexyl Cinnamal", "leave_on_face", LAB, None),                  # III/79
    ("Eugenol", "lip", LAB, None),                                   # III/71
    ("Cinnamal", "leave_on_face", LAB, None),                        # III/69 (and Annex II purity note)
    ("Alpha-Isomethyl Ionone", "leave_on_face", LAB, None),          # III/91
    ("Evernia Prunastri Extract", "leave_on_face", LAB, None),       # III/92 oakmoss
    # listed only as a colourant, a purity/pH specification or a conditional entry: no warning
    ("CI 19140", "leave_on_face", OK, None),                         # IV/44; the III/189 hair-dye entry does not apply
    ("CI 77491", "leave_on_face", OK, None),                         # IV iron oxide
    ("CI 60730", "lip", NP, None),                                   # IV/90: not on mucous membranes
    ("CI 60730", "leave_on_face", OK, None),                         # IV/90
    ("Sodium Hydroxide", "leave_on_face", OK, None),                 # III/15a (d): pH adjuster, pH up to 11
    ("Sodium Hydroxide", "nail", R, 5.0),                            # III/15a (a) nail cuticle solvent
    ("Potassium Hydroxide", "leave_on_face", OK, None),              # III/15a (d)
    ("Petrolatum", "leave_on_face", OK, None),                       # II/904 bans unrefined grades only
    ("Cyclomethicone", "leave_on_face", OK, None),                   # II/1388 bans its D4 part
    # not in the annexes
    ("Citric Acid", "leave_on_face", NONE, None),                    # V/59 is citric acid + silver citrate
    ("Hydroxyapatite", "leave_on_face", NONE, None),                 # III/372 is the nano form in toothpaste
    ("Glycolic Acid", "leave_on_face", NONE, None),                  # not thioglycolic acid (III/2a)
    ("Niacinamide", "leave_on_face", NONE, None),
]


@pytest.fixture(scope="module")
def kb():
    return default_kb()


def test_the_table_is_big_enough():
    assert len(KNOWN_VERDICTS) >= 60
    assert {t for _, t, _, _ in KNOWN_VERDICTS} == set(PRODUCT_TYPES)


@pytest.mark.parametrize("name,product_type,level,limit", KNOWN_VERDICTS,
                         ids=[f"{n}-{t}" for n, t, _, _ in KNOWN_VERDICTS])
def test_known_eu_verdict(kb, name, product_type, level, limit):
    hit = kb.lookup(name)
    assert hit is not None, name
    v = verdict(hit[0].eu_rules, product_type)
    assert v.level == level, (name, product_type, v)
    assert v.limit_percent == pytest.approx(limit) if limit is not None else v.level != R or v.limit_percent is None


def test_the_nano_form_gets_its_own_entry():
    line = analyse("Water, Hydroxyapatite (nano)").ingredients[1]
    assert line.eu_verdict == NP and "III/372" in line.eu_ref          # toothpaste and mouthwash only
    assert analyse("Water, Hydroxyapatite").ingredients[1].eu_verdict == NONE


def test_purity_and_ph_entries_are_details_never_warnings_on_a_face_cream():
    report = analyse("Aqua, Triethanolamine, Sodium Hydroxide, Potassium Hydroxide, Titanium Dioxide, Citric Acid, "
                     "CI 19140, Tromethamine, Aminomethyl Propanol", product_type="leave_on_face")
    by_text = {ing.text: ing for ing in report.ingredients}
    for name in ("Sodium Hydroxide", "Potassium Hydroxide", "Citric Acid", "CI 19140"):
        assert by_text[name].flags == [] or "eu_" not in " ".join(by_text[name].flags), name
    assert any("pH" in d for d in by_text["Sodium Hydroxide"].eu_details)
    assert "powder" not in by_text["Titanium Dioxide"].eu_text and "VI/27" in by_text["Titanium Dioxide"].eu_text


def test_a_ban_is_never_hidden_by_another_entry():
    # Hydroquinone has an Annex III entry; in a face cream the Annex II ban still reads "not permitted".
    line = analyse("Water, Hydroquinone", product_type="leave_on_face").ingredients[1]
    assert "eu_prohibited" in line.flags and "fit" not in line.eu_text
    assert line.helps == []                                         # never "helps your dark spots"


def test_plain_citric_acid_does_not_anchor_the_one_percent_line():
    report = analyse("Aqua, Glycerin, Squalane, Cetearyl Alcohol, Niacinamide, Citric Acid, Xanthan Gum")
    assert report.products[0].one_percent_after is None


@pytest.mark.parametrize("name,expected", [
    ("Gentle Foaming Cleanser", "rinse_off"), ("Hydrating Shampoo", "hair"), ("Revitalift Eye Cream", "eye_area"),
    ("Lip Sleeping Mask", "lip"), ("Nail Strengthener", "nail"), ("Daily Moisturizer SPF 30", "leave_on_face"),
    ("Feuchtigkeitscreme Tagescreme", "leave_on_face"), ("Gel nettoyant visage", "rinse_off"),
    ("Volumizing Mascara", "eye_makeup"), ("Eye Makeup Remover", "eye_makeup"), ("Whitening Toothpaste", "oral"),
    ("48H Deodorant Stick", "deodorant"), ("Leave-In Conditioner", "leave_on_hair"),
    ("Permanent Hair Colour 5.0", "hair_dye"), ("Liquid Foundation SPF 15", "face_makeup"),
    ("Radiant Concealer", "face_makeup"),
])
def test_product_type_is_guessed_from_name_words(name, expected):
    assert guess_product_type(name) == (expected, True)


def test_without_name_words_the_type_is_leave_on_face_and_not_a_guess():
    assert guess_product_type(None, "Limited Edition No. 5") == ("leave_on_face", False)


def test_a_kit_heading_sets_each_products_type():
    report = analyse("Foaming Face Wash:\nAqua, Sodium Laureth Sulfate, Methylisothiazolinone\n"
                     "Night Cream:\nAqua, Glycerin, Methylisothiazolinone")
    wash, cream = report.products
    assert (wash.product_type, cream.product_type) == ("rinse_off", "leave_on_face")
    assert wash.bans == [] and [ing.text for ing in cream.bans] == ["Methylisothiazolinone"]


@pytest.mark.parametrize("wording,types", [
    ("", set(PRODUCT_TYPES)),
    ("Rinse-off products", {"rinse_off", "hair", "hair_dye", "oral"}),
    ("Rinse-off products, except oral care products", {"rinse_off", "hair", "hair_dye"}),
    ("Leave-on products", {"leave_on_face", "face_makeup", "eye_area", "eye_makeup", "lip", "nail", "leave_on_hair",
                           "deodorant"}),
    ("Hair dye substance in oxidative hair dye products", {"hair_dye"}),
    ("Hair products", {"hair", "leave_on_hair", "hair_dye"}),
    ("Leave-on hair products", {"leave_on_hair"}),
    ("Artificial nail systems", {"nail"}),
    ("Oral products", {"oral"}),
    ("Deodorants, not in form of spray", {"deodorant"}),
    ("Deodorant spray/aerosol", set()),
    ("Eye makeup and makeup remover", {"eye_makeup"}),
    ("face  products in  loose powder form", {"face_makeup"}),
    ("Other products except body lotion, eye shadow, mascara, eyeliner, lipstick, roll-on deodorant",
     {"leave_on_face", "face_makeup", "eye_area", "rinse_off", "hair", "leave_on_hair", "hair_dye", "nail", "oral"}),
    ("Not to be used in products applied on mucous membranes", set(PRODUCT_TYPES) - {"lip", "oral"}),
    ("Not to be used in products applied in the vicinity of the eyes", set(PRODUCT_TYPES) - {"eye_area",
                                                                                           "eye_makeup"}),
    ("Body lotion", set()),
])
def test_fields_of_application_become_product_types(wording, types):
    assert scope_types(wording) == frozenset(types)


def test_no_specification_is_a_warning_on_the_real_labels_as_face_products():
    # Every EU flag on a leave-on face product names a ban or a maximum concentration, never only a purity,
    # pH, powder or hair-dye entry (those stay under details).
    from tests.ingredient_fixtures import label, labels
    for key in labels():
        try:
            report = analyse(label(key), product_type="leave_on_face")
        except ValueError:
            continue
        for ing in report.ingredients:
            if "eu_restricted" in ing.flags:
                assert ing.eu_max_percent is not None or "mg/kg" in ing.eu_text, (key, ing.text, ing.eu_text)
                assert "powder" not in ing.eu_text and "pH" not in ing.eu_text, (key, ing.text, ing.eu_text)


def test_directions_before_the_list_do_not_decide_the_product_type():
    text = ("After cleansing, apply a thin layer morning and evening and wash your hands.\n"
            "Ingredients: Aqua, Glycerin, Methylisothiazolinone")
    report = analyse(text)
    assert report.products[0].product_type == "leave_on_face"
    assert [ing.text for ing in report.products[0].bans] == ["Methylisothiazolinone"]


def test_a_title_line_before_the_list_guesses_the_type():
    report = analyse("Gentle Foaming Cleanser\nIngredients: Aqua, Sodium Laureth Sulfate, Methylisothiazolinone")
    assert (report.products[0].product_type, report.products[0].product_type_guessed) == ("rinse_off", True)
