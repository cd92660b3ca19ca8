"""The shipped knowledge (data/ingredients.csv): complete, consistent, and its own source files agree."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from skin_app.ingredients.kb import default_kb

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kb():
    return default_kb()


def test_every_cosing_name_is_there(kb):
    assert len(kb) >= 28_700                    # 28,712 CosIng rows, 28,703 distinct names, + curated
    assert {"AQUA", "GLYCERIN", "NIACINAMIDE", "CI 77891"} <= set(kb.by_inci)


def test_at_least_500_curated_rows_in_our_words(kb):
    curated = [e for e in kb.entries if e.curated]
    assert len(curated) >= 500
    assert all(e.what and e.pros and e.cons for e in curated)


@pytest.mark.parametrize("inci,active", [
    ("RETINOL", "retinoid"), ("RETINAL", "retinoid"), ("GLYCOLIC ACID", "aha"), ("LACTIC ACID", "aha"),
    ("SALICYLIC ACID", "bha"), ("GLUCONOLACTONE", "pha"), ("ASCORBIC ACID", "vitamin_c"),
    ("BENZOYL PEROXIDE", "benzoyl_peroxide"), ("AZELAIC ACID", "azelaic_acid"), ("NIACINAMIDE", "niacinamide"),
    ("TRANEXAMIC ACID", "tranexamic_acid"), ("ALPHA-ARBUTIN", "arbutin"), ("KOJIC ACID", "kojic_acid"),
    ("HYDROQUINONE", "hydroquinone"), ("PALMITOYL PENTAPEPTIDE-4", "peptide"), ("CAFFEINE", "caffeine"),
    ("PHYTONADIONE", "vitamin_k"), ("CERAMIDE NP", "ceramide"), ("ZINC OXIDE", "uv_filter"),
])
def test_every_skincare_active_class_is_curated(kb, inci, active):
    assert active in kb.by_inci[inci].active.split(";")


def test_concerns_use_the_scan_names(kb):
    allowed = {"acne", "flek", "wrinkle", "panda_eye", "redness"}
    for e in kb.entries:
        assert set(e.helps) <= allowed and set(e.aggravates) <= allowed, e.inci


def test_soothing_ingredients_help_redness_and_irritants_are_flagged_for_it(kb):
    by_name = {e.inci: e for e in kb.entries}
    for inci in ("NIACINAMIDE", "AZELAIC ACID", "ALLANTOIN", "CENTELLA ASIATICA EXTRACT", "BISABOLOL"):
        assert "redness" in by_name[inci].helps, inci
    for inci in ("ALCOHOL DENAT.", "PARFUM", "MENTHOL", "MENTHA PIPERITA OIL", "HAMAMELIS VIRGINIANA WATER"):
        assert "redness" in by_name[inci].aggravates, inci


def test_annex_statuses_are_known_values_with_a_reference(kb):
    for e in kb.entries:
        assert e.eu_status in ("", "prohibited", "restricted", "preservative", "uv_filter", "colourant",
                               "conditional"), e.inci
        if e.eu_status:
            assert e.eu_ref and e.eu_limit, e.inci


def test_aliases_point_to_real_rows(kb):
    with open(ROOT / "data" / "ingredients_aliases.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["alias"].startswith("#"):
                continue
            assert r["inci"].upper() in kb.by_inci, r


def test_the_csv_stays_small():
    assert (ROOT / "data" / "ingredients.csv").stat().st_size < 5_000_000


def test_our_plain_language_texts_reach_the_app(kb):
    with open(ROOT / "data" / "ingredients_texts.csv", encoding="utf-8", newline="") as fh:
        texts = {r["inci"]: r["about"] for r in csv.DictReader(fh) if not r["inci"].startswith("#")}
    assert len(texts) >= 250
    for inci, about in texts.items():
        assert kb.by_inci[inci].what == " ".join(about.split()), inci
        assert 7 <= len(about.split()) <= 60 and about.count(". ") <= 2, inci


def test_every_ingredient_with_cosing_functions_gets_a_sentence():
    from skin_app.ingredients.report import analyse
    line = analyse("Water, Sodium Cocoyl Apple Amino Acids").ingredients[1]
    assert line.inci and "CosIng functions" in line.what
