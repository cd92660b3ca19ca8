"""EU verdict cases written from the text of Regulation (EC) No 1223/2009 and its amendments (the annex
tables in ``../shared/ingredients/reference/cosing_annexes_on-the-list``, read by hand; never from this
code's output). One case per row: the annex entry, the name as a label prints it, the product type, the
verdict and the limit that applies to that product type. The annex reference leads each test's name.

Verdicts: NP not permitted (an Annex II ban, or no Annex III-VI field covers the product type), R restricted
(a maximum concentration: the lowest of the fields that name the product type), LAB must be named on the label
(fragrance allergen), OK listed but no limit for this type (colourants, specifications).
"""
from __future__ import annotations

import pytest

from skin_app.ingredients.eu import PRODUCT_TYPES, verdict
from skin_app.ingredients.kb import default_kb
from skin_app.ingredients.report import analyse

NP, R, LAB, OK = "not_permitted", "restricted", "labelling", "allowed"
FACE, RINSE, EYE, LIP, HAIR, NAIL = "leave_on_face", "rinse_off", "eye_area", "lip", "hair", "nail"
MAKEUP, EYE_MAKEUP, HAIR_ON, DYE, ORAL, DEO = "face_makeup", "eye_makeup", "leave_on_hair", "hair_dye", "oral", "deodorant"

# (annex entry, printed name, product type, verdict, limit in % for that type or None)
CASES = [
    # -- Annex II: prohibited whatever the product ------------------------------------------------------
    ("II/1666", "Butylphenyl Methylpropional", FACE, NP, None),
    ("II/1666", "Butylphenyl Methylpropional", RINSE, NP, None),
    ("II/1666", "Lilial", HAIR, NP, None),
    ("II/1380", "Hydroxyisohexyl 3-Cyclohexene Carboxaldehyde", FACE, NP, None),
    ("II/1380", "Lyral", RINSE, NP, None),
    ("II/1374", "Isopropylparaben", FACE, NP, None),
    ("II/1375", "Isobutylparaben", RINSE, NP, None),
    ("II/1376", "Phenylparaben", LIP, NP, None),
    ("II/1377", "Benzylparaben", EYE, NP, None),
    ("II/1378", "Pentylparaben", FACE, NP, None),
    ("II/1388", "Cyclotetrasiloxane", HAIR, NP, None),
    ("II/375", "Tretinoin", FACE, NP, None),
    ("II/375", "Retinoic Acid", FACE, NP, None),
    ("II/1670", "Zinc Pyrithione", HAIR, NP, None),
    ("II/1670", "Pyrithione Zinc", HAIR, NP, None),
    ("II/1670", "Pyrithione Zinc", RINSE, NP, None),
    ("II/369", "Sodium Pyrithione", HAIR, NP, None),
    ("II/289", "Lead Acetate", HAIR, NP, None),
    ("II/675", "Dibutyl Phthalate", NAIL, NP, None),
    ("II/1577", "Formaldehyde", NAIL, NP, None),
    ("II/1371", "Phytonadione", EYE, NP, None),
    ("II/1730", "4-Methylbenzylidene Camphor", FACE, NP, None),
    ("II/1731", "Trimethylbenzoyl Diphenylphosphine Oxide", NAIL, NP, None),
    ("II/1767", "Triphenyl Phosphate", NAIL, NP, None),
    ("II/1528", "Ketoconazole", HAIR, NP, None),
    ("II/1528", "Ketoconazole", FACE, NP, None),
    ("II/398", "Rhodamine B", LIP, NP, None),
    ("II/398", "CI 45170", LIP, NP, None),
    ("II/398", "Basic Violet 10", FACE, NP, None),
    ("II/167", "Benzocaine", FACE, NP, None),
    ("II/167", "PABA", FACE, NP, None),
    ("II/167", "Ethyl PABA", LIP, NP, None),
    ("II/1647", "Methylmercuric Chloride", FACE, NP, None),
    # -- Annex II group entries: "X and its compounds", a class of drugs ---------------------------------
    ("II/221", "Mercury", FACE, NP, None),
    ("II/221", "Hydrargyrum", FACE, NP, None),
    ("II/221", "Mercuric Chloride", FACE, NP, None),
    ("II/221", "Mercury(II) Chloride", FACE, NP, None),
    ("II/221", "Mercurous Chloride", FACE, NP, None),
    ("II/221", "Calomel", FACE, NP, None),
    ("II/221", "Ammoniated Mercury", FACE, NP, None),
    ("II/221", "Mercuric Oxide", RINSE, NP, None),
    ("II/221", "Mercuric Iodide", FACE, NP, None),
    ("II/221", "Thimerosal", FACE, NP, None),               # except V/16, which covers eye products only
    ("II/300", "Clobetasol Propionate", FACE, NP, None),
    ("II/300", "Clobetasol Propionate", RINSE, NP, None),
    ("II/300", "Betamethasone Valerate", FACE, NP, None),
    ("II/300", "Betamethasone Dipropionate", FACE, NP, None),
    ("II/300", "Dexamethasone", FACE, NP, None),
    ("II/300", "Hydrocortisone", FACE, NP, None),
    ("II/300", "Hydrocortisone Acetate", FACE, NP, None),
    ("II/300", "Mometasone Furoate", FACE, NP, None),
    ("II/300", "Fluocinolone Acetonide", FACE, NP, None),
    ("II/300", "Triamcinolone Acetonide", FACE, NP, None),
    # -- Annex II "except where another annex allows it" + Annex III field ---------------------------------
    ("II/1339 III/14", "Hydroquinone", FACE, NP, None),
    ("II/1339 III/14", "Hydroquinone", LIP, NP, None),
    ("III/14", "Hydroquinone", NAIL, R, 0.02),            # artificial nail systems, 0,02 % after mixing
    # -- Annex III: allowed only in some products, with a maximum ----------------------------------------
    ("III/94", "Benzoyl Peroxide", FACE, NP, None),          # artificial nail systems only
    ("III/94", "Benzoyl Peroxide", NAIL, R, 0.7),
    ("III/49", "Selenium Sulfide", FACE, NP, None),          # anti-dandruff shampoos only
    ("III/49", "Selenium Sulfide", HAIR, R, 1.0),
    ("III/31", "Sodium Fluoride", FACE, NP, None),           # oral products only
    ("III/48", "Silver Nitrate", FACE, NP, None),            # eyelash and eyebrow colouring only
    ("III/377", "Alpha-Arbutin", FACE, R, 2.0),              # (a) face cream 2 %
    ("III/377", "Alpha-Arbutin", LIP, NP, None),             # face cream and body lotion only
    ("III/378", "Arbutin", FACE, R, 7.0),                    # face cream 7 %
    ("III/375", "Kojic Acid", FACE, R, 1.0),                 # face and hand products 1 %
    ("III/12", "Hydrogen Peroxide", FACE, R, 4.0),           # (b) skin products 4 %
    ("III/12", "Hydrogen Peroxide", NAIL, R, 2.0),           # (c) nail hardening products 2 %
    ("III/62", "Triethanolamine", FACE, R, 2.5),             # (a) non-rinse-off products 2,5 %
    ("III/15a", "Sodium Hydroxide", NAIL, R, 5.0),           # (a) nail cuticle solvent 5 %
    ("III/15a", "Potassium Hydroxide", NAIL, R, 5.0),
    ("III/376", "Retinol", FACE, R, 0.3),                    # (b) other leave-on and rinse-off: 0,3 % RE
    ("III/376", "Retinyl Palmitate", FACE, R, 0.3),
    ("III/98", "Salicylic Acid", FACE, R, 2.0),              # (b) other products 2 %
    ("III/98", "Salicylic Acid", HAIR, R, 3.0),              # (a) rinse-off hair products 3 %
    ("III/98", "Salicylic Acid", EYE_MAKEUP, R, 0.5),        # (c) eye shadow, mascara, eyeliner 0,5 %
    ("III/98", "Salicylic Acid", EYE, R, 2.0),               # an eye cream is none of (c): (b) other products 2 %
    ("III/98", "Salicylic Acid", LIP, R, 0.5),               # (c) lipstick 0,5 %
    # lettered fields read one by one: III/324 (a)-(n)
    ("III/324(j)", "Methyl Salicylate", LIP, R, 0.03),       # (j) lip products 0,03 %
    ("III/324(g)", "Methyl Salicylate", HAIR, R, 0.06),      # (a) leave-on hair / (g) rinse-off hair 0,06 %
    ("III/324(g)", "Methyl Salicylate", RINSE, R, 0.06),     # (g) rinse-off skin (except hand wash) 0,06 %
    ("III/324(a)", "Methyl Salicylate", FACE, R, 0.06),      # (a) leave-on skin 0,06 %
    ("III/324(c)", "Methyl Salicylate", EYE_MAKEUP, R, 0.002),  # (c) eye makeup and makeup remover 0,002 %
    ("III/324(a)", "Methyl Salicylate", EYE, R, 0.06),       # an eye cream is a leave-on skin product: (a) 0,06 %
    # III/70 citral (a)-(i)
    ("III/70(e)", "Citral", FACE, R, 0.15),                  # (e) leave-on skin products 0,15 %
    ("III/70(a)", "Citral", LIP, R, 0.11),                   # (a) lip make-up, lipstick, lip salves 0,11 %
    ("III/70(c)", "Citral", EYE, R, 0.65),                   # (c) eye products 0,65 %
    ("III/70(h)", "Citral", RINSE, R, 1.2),                  # (h) skin and hair rinse-off 1,2 %
    ("III/70(g)", "Citral", HAIR, R, 1.2),                   # (g) hair leave-on / (h) rinse-off 1,2 %
    ("III/73", "Isoeugenol", FACE, R, 0.02),                 # 0,02 %
    ("III/75", "Benzyl Salicylate", FACE, R, 0.5),           # leave-on skin products
    # -- Annex V: preservatives ----------------------------------------------------------------------------
    ("V/29", "Phenoxyethanol", FACE, R, 1.0),
    ("V/29", "Phenoxyethanol", RINSE, R, 1.0),
    ("V/29", "Phenoxyethanol", EYE, R, 1.0),
    ("V/29", "Phenoxyethanol", HAIR, R, 1.0),
    ("V/50", "Chlorphenesin", FACE, R, 0.3),
    ("V/13", "Dehydroacetic Acid", FACE, R, 0.6),
    ("V/13", "Sodium Dehydroacetate", RINSE, R, 0.6),
    ("V/4", "Sorbic Acid", RINSE, R, 0.6),
    ("V/4", "Potassium Sorbate", FACE, R, 0.6),
    ("V/33", "DMDM Hydantoin", HAIR, R, 0.6),
    ("V/27", "Imidazolidinyl Urea", FACE, R, 0.6),
    ("V/46", "Diazolidinyl Urea", FACE, R, 0.5),
    ("V/34", "Benzyl Alcohol", FACE, R, 1.0),
    ("V/12", "Methylparaben", FACE, R, 0.4),                 # 0,4 % for a single ester
    ("V/12", "Ethylparaben", RINSE, R, 0.4),
    ("V/12a", "Propylparaben", FACE, R, 0.14),               # 0,14 % for the sum; 0,8 % only in mixtures
    ("V/12a", "Butylparaben", RINSE, R, 0.14),
    ("V/1(c)", "Sodium Benzoate", FACE, R, 0.5),             # (c) leave-on 0,5 %
    ("V/1(a)", "Sodium Benzoate", RINSE, R, 2.5),            # (a) rinse-off 2,5 %
    ("V/1(a)", "Benzoic Acid", HAIR, R, 2.5),
    ("V/57", "Methylisothiazolinone", FACE, NP, None),       # rinse-off products only
    ("V/57", "Methylisothiazolinone", RINSE, R, 0.0015),
    ("V/57", "Methylisothiazolinone", HAIR, R, 0.0015),
    ("V/39", "Methylchloroisothiazolinone", FACE, NP, None),  # the 3:1 mixture, rinse-off only
    ("V/39", "Methylchloroisothiazolinone", RINSE, R, 0.0015),
    ("V/39", "Methylchloroisothiazolinone/Methylisothiazolinone", FACE, NP, None),
    ("V/39", "Methylchloroisothiazolinone/Methylisothiazolinone", HAIR, R, 0.0015),
    ("V/25", "Triclosan", FACE, NP, None),                   # listed products only (soaps, shower gels, ...)
    ("V/25", "Triclosan", RINSE, R, 0.3),
    ("V/16", "Thimerosal", EYE, R, 0.007),                   # eye products, 0,007 % of Hg
    ("V/26", "Chloroxylenol", FACE, R, 0.5),
    ("V/56", "Iodopropynyl Butylcarbamate", RINSE, R, 0.02),  # (a) rinse-off 0,02 %
    ("V/56", "Iodopropynyl Butylcarbamate", FACE, R, 0.01),   # (b) leave-on 0,01 %
    ("V/38", "o-Cymen-5-ol", FACE, R, 0.1),
    ("V/42", "Chlorhexidine Digluconate", FACE, R, 0.3),
    ("V/28", "Polyaminopropyl Biguanide", FACE, R, 0.1),
    ("V/47", "Hexamidine Diisethionate", FACE, R, 0.1),
    ("V/21", "2-Bromo-2-Nitropropane-1,3-Diol", RINSE, R, 0.1),
    ("V/35", "Piroctone Olamine", HAIR, R, 1.0),             # (a) rinse-off 1 %
    # -- Annex VI: UV filters ------------------------------------------------------------------------------
    ("VI/8", "Butyl Methoxydibenzoylmethane", FACE, R, 5.0),
    ("VI/8", "Avobenzone", FACE, R, 5.0),
    ("VI/12", "Ethylhexyl Methoxycinnamate", FACE, R, 10.0),
    ("VI/12", "Octinoxate", FACE, R, 10.0),
    ("VI/10", "Octocrylene", FACE, R, 10.0),                 # (b) other products 10 %
    ("VI/3", "Homosalate", FACE, R, 7.34),                   # face products 7,34 %
    ("VI/20", "Ethylhexyl Salicylate", FACE, R, 5.0),
    ("VI/20", "Octisalate", FACE, R, 5.0),
    ("VI/6", "Phenylbenzimidazole Sulfonic Acid", FACE, R, 8.0),
    ("VI/27", "Titanium Dioxide", FACE, R, 25.0),
    ("VI/30", "Zinc Oxide", FACE, R, 25.0),
    ("VI/25", "Bis-Ethylhexyloxyphenol Methoxyphenyl Triazine", FACE, R, 10.0),
    ("VI/16", "Drometrizole Trisiloxane", FACE, R, 15.0),
    ("VI/15", "Ethylhexyl Triazone", FACE, R, 5.0),
    ("VI/17", "Diethylhexyl Butamido Triazone", FACE, R, 10.0),
    ("VI/28", "Diethylamino Hydroxybenzoyl Hexyl Benzoate", FACE, R, 10.0),
    ("VI/23", "Methylene Bis-Benzotriazolyl Tetramethylbutylphenol", FACE, R, 10.0),
    ("VI/22", "Benzophenone-4", FACE, R, 5.0),
    ("VI/26", "Polysilicone-15", FACE, R, 10.0),
    ("VI/29", "Tris-Biphenyl Triazine", FACE, R, 10.0),
    ("VI/7", "Terephthalylidene Dicamphor Sulfonic Acid", FACE, R, 10.0),
    ("VI/14", "Isoamyl p-Methoxycinnamate", FACE, R, 10.0),
    ("VI/13", "PEG-25 PABA", FACE, R, 10.0),
    ("VI/21", "Ethylhexyl Dimethyl PABA", FACE, R, 8.0),
    ("VI/24", "Disodium Phenyl Dibenzimidazole Tetrasulfonate", FACE, R, 10.0),
    ("VI/4(a)", "Benzophenone-3", FACE, R, 6.0),             # (a) face, hand and lip products 6 %
    ("VI/4(a)", "Benzophenone-3", LIP, R, 6.0),
    ("VI/4(c)", "Benzophenone-3", HAIR, R, 0.5),             # (c) other products 0,5 %
    # -- Annex IV: colourants (no limit in these fields; some not on mucous membranes) --------------------
    ("IV/137", "CI 77499", FACE, OK, None),
    ("IV/120", "CI 77007", EYE, OK, None),
    ("IV/126", "CI 77266", LIP, OK, None),
    ("IV/115", "CI 75470", LIP, OK, None),
    ("IV/31", "CI 15985", LIP, OK, None),
    ("IV/90", "CI 60730", LIP, NP, None),                    # not in products applied on mucous membranes
    ("IV/90", "CI 60730", FACE, OK, None),
    ("IV/44", "CI 19140", FACE, OK, None),                   # the III/189 hair-dye field does not apply
    # -- labelling duties: fragrance allergens (Annex III, amended by Reg. (EU) 2023/1545) ----------------
    ("III/88", "Limonene", FACE, LAB, None),
    ("III/84", "Linalool", FACE, LAB, None),
    ("III/86", "Citronellol", RINSE, LAB, None),
    ("III/78", "Geraniol", FACE, LAB, None),
    ("III/77", "Coumarin", FACE, LAB, None),
    ("III/87", "Hexyl Cinnamal", HAIR, LAB, None),
    ("III/71", "Eugenol", LIP, LAB, None),
    ("III/90", "Alpha-Isomethyl Ionone", FACE, LAB, None),
    ("III/91", "Evernia Prunastri Extract", FACE, LAB, None),
    ("III/92", "Evernia Furfuracea Extract", FACE, LAB, None),
    ("III/85", "Benzyl Benzoate", FACE, LAB, None),
    ("III/82", "Farnesol", FACE, LAB, None),
    ("III/81", "Benzyl Cinnamate", FACE, LAB, None),
    ("III/80", "Anise Alcohol", FACE, LAB, None),
    ("III/67", "Amyl Cinnamal", FACE, LAB, None),
    ("III/72", "Hydroxycitronellal", FACE, R, 1.0),           # (b) other products 1,0 % (and a label duty)
    ("III/337", "Linalyl Acetate", FACE, LAB, None),       # added by Reg. (EU) 2023/1545
    # -- finer product types: face and eye make-up, leave-on hair, hair dye, oral care, deodorant ----------------
    ("III/324(b)", "Methyl Salicylate", MAKEUP, R, 0.05),    # (b) face makeup (except lip, eye makeup) 0,05 %
    ("III/98", "Salicylic Acid", MAKEUP, R, 2.0),            # a foundation is none of (c): (b) other products 2 %
    ("II/398", "Rhodamine B", MAKEUP, NP, None),
    ("V/25", "Triclosan", MAKEUP, R, 0.3),                   # face powders and blemish concealers 0,3 %
    ("V/25", "Triclosan", FACE, NP, None),                   # a face cream is none of the products listed
    ("V/25", "Triclosan", DEO, R, 0.3),                      # deodorants (non-spray) 0,3 %
    ("V/25", "Triclosan", ORAL, R, 0.3),                     # toothpastes 0,3 %
    ("III/324(a)", "Methyl Salicylate", HAIR_ON, R, 0.06),   # (a) ... and leave on hair products (non-spray) 0,06 %
    ("V/57", "Methylisothiazolinone", HAIR_ON, NP, None),    # rinse-off products only: a leave-in is not one
    ("III/12(a)", "Hydrogen Peroxide", HAIR_ON, R, 12.0),    # (a) hair products 12 % H2O2
    ("III/12(a)", "Hydrogen Peroxide", DYE, R, 12.0),        # (a) hair products: a hair dye is one
    ("III/12(b)", "Hydrogen Peroxide", FACE, R, 4.0),        # (b) skin products 4 %
    ("III/12(c)", "Hydrogen Peroxide", NAIL, R, 2.0),        # (c) nail hardening products 2 %
    ("III/12(d)", "Hydrogen Peroxide", ORAL, R, 0.1),        # (d) oral products <= 0,1 % ((e) > 0,1 % only by dentists)
    ("III/247", "HC Blue No. 2", DYE, R, 2.8),               # non-oxidative hair dye products 2,8 %
    ("III/247", "HC Blue No. 2", FACE, OK, None),            # a hair-dye entry is no verdict on a face cream
    ("III/31", "Sodium Fluoride", ORAL, R, 0.15),            # oral products 0,15 % as F
    ("III/31", "Sodium Fluoride", FACE, NP, None),           # oral products only
    ("III/98", "Salicylic Acid", ORAL, NP, None),            # Other column: "Not to be used in oral products"
    ("V/57", "Methylisothiazolinone", ORAL, R, 0.0015),      # rinse-off products; oral care is one of them
    ("III/50", "Aluminum Zirconium Tetrachlorohydrex GLY", DEO, R, 5.4),   # anti-perspirants: 20 % as the anhydrous
    #                                                         complex and 5,4 % as zirconium (the lower figure)
    ("III/50", "Aluminum Zirconium Tetrachlorohydrex GLY", FACE, NP, None),  # anti-perspirants only
    ("III/98", "Salicylic Acid", DEO, R, 0.5),               # (c) roll-on deodorant 0,5 %
    ("II/1666", "Butylphenyl Methylpropional", DEO, NP, None),
    ("II/1670", "Zinc Pyrithione", HAIR_ON, NP, None),
    ("V/29", "Phenoxyethanol", EYE_MAKEUP, R, 1.0),
    ("III/297", "Ethoxydiglycol", EYE, NP, None),            # Other column: "Not to be used in eye products"
    ("III/297", "Ethoxydiglycol", ORAL, NP, None),           # ... "and oral products"
    ("III/297(d)", "Ethoxydiglycol", FACE, R, 2.6),          # (d) other non-spray cosmetic products 2,6 %
    ("III/297(b)", "Ethoxydiglycol", DYE, R, 5.0),           # (a) oxidative ("hair day") 7 %, (b) non-oxidative 5 %
    ("IV/142", "Colloidal Silver", EYE, NP, None),           # IV/142 lip products and eye shadow; III/379 oral
    ("IV/142", "Colloidal Silver", EYE_MAKEUP, OK, None),    # eye shadow: a colourant, no maximum of its own
    ("III/377", "Alpha-Arbutin", MAKEUP, NP, None),          # (a) face cream, (b) body lotion only
    ("III/378", "Arbutin", MAKEUP, NP, None),                # face cream only
    ("V/29", "Phenoxyethanol", ORAL, R, 1.0),
]

# The formaldehyde-releaser statement of Reg. (EU) 2022/1181 (Annex V, "Other" column): these must carry the
# flag whatever their verdict.
FORMALDEHYDE_RELEASERS = [
    ("V/33", "DMDM Hydantoin"), ("V/27", "Imidazolidinyl Urea"), ("V/46", "Diazolidinyl Urea"),
    ("V/21", "2-Bromo-2-Nitropropane-1,3-Diol"), ("V/51", "Sodium Hydroxymethylglycinate"),
    ("II/1385", "Quaternium-15"),
]


@pytest.fixture(scope="module")
def kb():
    return default_kb()


def test_the_table_covers_every_kind_of_entry_and_every_product_type():
    assert len(CASES) + len(FORMALDEHYDE_RELEASERS) >= 150
    assert {t for _, _, t, _, _ in CASES} == set(PRODUCT_TYPES)
    assert {v for _, _, _, v, _ in CASES} == {NP, R, LAB, OK}
    assert {ref.split("/")[0] for ref, *_ in CASES} == {"II", "III", "IV", "V", "VI"}


def _ids(rows):
    return [f"{ref} {name} in {kind}" for ref, name, kind, *_ in rows]


@pytest.mark.parametrize(("ref", "name", "product_type", "level", "limit"), CASES, ids=_ids(CASES))
def test_eu_verdict(kb, ref, name, product_type, level, limit):
    hit = kb.lookup(name)
    assert hit is not None, f"{name} is not recognised"
    v = verdict(hit[0].eu_rules, product_type)
    assert v.level == level, v
    for entry in ref.split():
        assert entry.split("(")[0].replace("V/12a", "V/12 a") in v.refs, v.refs
    if limit is None:
        assert level != R or v.limit_percent is None
    else:
        assert v.limit_percent == pytest.approx(limit), v


@pytest.mark.parametrize(("ref", "name"), FORMALDEHYDE_RELEASERS, ids=[f"{r} {n}" for r, n in FORMALDEHYDE_RELEASERS])
def test_formaldehyde_releaser_statement(kb, ref, name):
    line = analyse(f"Aqua, Glycerin, {name}", product_type="rinse_off", kb=kb).products[0].lines[2]
    assert "formaldehyde_releaser" in line.flags and ref in line.eu_ref


@pytest.mark.parametrize(("name", "product_type"), [("Hydroquinone", FACE), ("Phenoxyethanol", FACE),
                                                    ("Limonene", RINSE), ("Niacinamide", FACE)])
def test_a_lines_eu_status_says_what_its_eu_verdict_says(kb, name, product_type):
    line = analyse(f"Aqua, {name}", product_type=product_type, kb=kb).products[0].lines[1]
    assert line.eu_status == line.eu_verdict


def test_a_list_led_by_a_washing_surfactant_is_judged_as_rinse_off_when_nothing_names_its_type(kb):
    """V/57: methylisothiazolinone is allowed in rinse-off products only; a shampoo pasted without its name
    must not be judged as a face cream."""
    product = analyse("Aqua, Sodium Laureth Sulfate, Cocamidopropyl Betaine, Glycerin, Methylisothiazolinone",
                      kb=kb).products[0]
    assert (product.product_type, product.product_type_guessed) == ("rinse_off", True)
    assert product.lines[-1].eu_verdict == R and product.lines[-1].eu_limit_percent == pytest.approx(0.0015)


def test_a_cream_and_a_chosen_type_are_not_guessed_from_the_ingredients(kb):
    cream = analyse("Aqua, Glycerin, Cetearyl Alcohol, Polysorbate 20, Methylisothiazolinone", kb=kb).products[0]
    assert (cream.product_type, cream.product_type_guessed) == ("leave_on_face", False)
    chosen = analyse("Aqua, Sodium Laureth Sulfate, Methylisothiazolinone", product_type=FACE, kb=kb).products[0]
    assert chosen.product_type == FACE and chosen.lines[-1].eu_verdict == NP


@pytest.mark.parametrize(("ref", "name", "product_type", "condition"), [
    ("III/14", "Hydroquinone", NAIL, "for professional use only"),
    ("III/94", "Benzoyl Peroxide", NAIL, "for professional use only"),
    ("V/12a", "Propylparaben", FACE, "nappy area of children under three years"),
    ("III/324", "Methyl Salicylate", FACE, "children under 6 years"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_the_other_columns_conditions_are_part_of_the_verdict(kb, ref, name, product_type, condition):
    v = verdict(kb.lookup(name)[0].eu_rules, product_type)
    assert v.level == R and condition in v.text, v.text


def test_a_stated_percentage_is_compared_with_the_limit(kb):
    """VI/3 homosalate: 7,34 % in face products; VI/8 avobenzone: 5 %. A US Drug Facts label states both."""
    lines = analyse("Active Ingredients: Homosalate 10%, Avobenzone 3%\nInactive Ingredients: Water, Glycerin",
                    product_type=FACE, kb=kb).ingredients
    assert "above the EU maximum of 7.34 %" in " ".join(lines[0].hints)
    assert "within the EU maximum of 5 %" in " ".join(lines[1].hints)
