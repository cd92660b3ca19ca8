"""Matching: exact, alias, normalised, fuzzy; and no false bans."""
from __future__ import annotations

import pytest

from skin_app.ingredients.kb import default_kb
from skin_app.ingredients.report import analyse
from tests.ingredient_fixtures import label, labels


@pytest.fixture(scope="module")
def kb():
    return default_kb()


def test_exact_inci_name(kb):
    assert kb.match("Niacinamide").method == "exact"
    assert kb.match("Niacinamide").entry.inci == "NIACINAMIDE"


def test_alias_common_name(kb):
    m = kb.match("Shea Butter")
    assert (m.entry.inci, m.method) == ("BUTYROSPERMUM PARKII BUTTER", "alias")


def test_alias_us_drug_name_of_a_uv_filter(kb):
    assert kb.match("Avobenzone").entry.inci == "BUTYL METHOXYDIBENZOYLMETHANE"


def test_old_botanical_name(kb):
    assert kb.match("Citrus Medica Limonum Peel Oil").entry.inci == "CITRUS LIMON PEEL OIL"


def test_normalised_common_name_in_parentheses(kb):
    m = kb.match("Butyrospermum Parkii (Shea) Butter")
    assert (m.entry.inci, m.method) == ("BUTYROSPERMUM PARKII BUTTER", "normalised")


def test_normalised_british_spelling_and_spacing(kb):
    assert kb.match("Sodium Laureth Sulphate").entry.inci == "SODIUM LAURETH SULFATE"
    assert kb.match("PEG 100 Stearate").entry.inci == "PEG-100 STEARATE"


def test_fuzzy_is_only_a_suggestion(kb):
    # Two letters missing from one word: beyond a one-letter typo, so only "did you mean"
    m = kb.match("Mthl Trimethicone")
    assert m.entry is None and m.method == "fuzzy"
    assert m.suggestion.inci == "METHYL TRIMETHICONE"


def test_fuzzy_never_raises_a_ban_but_a_close_allergen_is_flagged_as_uncertain():
    # "Butylphenyl Methylpropionol" is one letter from the banned Lilial, "Linallool" from linalool: never
    # "prohibited" on a guess, but the allergen flag says "did you mean".
    lines = analyse("Water, Butylphenyl Methylpropionol, Linallool").ingredients
    assert lines[1].inci is None and lines[1].did_you_mean == "BUTYLPHENYL METHYLPROPIONAL"
    assert "eu_prohibited" not in lines[1].flags
    assert lines[2].did_you_mean == "LINALOOL" and lines[2].flags == ["allergen_maybe"]


def test_glycolic_acid_is_not_thioglycolic_acid(kb):
    glycolic = kb.match("Glycolic Acid").entry
    assert glycolic.inci == "GLYCOLIC ACID" and glycolic.eu_status == ""
    assert kb.match("Thioglycolic Acid").entry.eu_status == "restricted"


def test_annex_ii_bans_only_exact_names():
    line = analyse("Water, Butylphenyl Methylpropional").ingredients[1]
    assert "eu_prohibited" in line.flags and line.eu_ref.startswith("II/")


@pytest.mark.parametrize("name", ["Petrolatum", "Citrus Limon (Lemon) Peel Oil", "Cyclomethicone",
                                  "Citrus Limon (Lemon) Fruit Extract", "Citrus Grandis (Grapefruit) Peel Oil"])
def test_annex_ii_entries_with_exceptions_are_not_bans(name):
    # Annex II bans unrefined petrolatum, the furocoumarins of citrus oils and the D4 part of
    # cyclomethicone, not the ingredients named on labels (checked by hand).
    line = analyse(f"Water, {name}").ingredients[1]
    assert line.inci is not None
    assert "eu_prohibited" not in line.flags


def test_no_false_prohibited_flags_on_real_labels():
    """Every "not permitted" on the real labels must be a substance the EU really bans (hand-checked)."""
    truly_banned = {"BUTYLPHENYL METHYLPROPIONAL"}
    for key in labels():
        try:
            report = analyse(label(key), name=labels()[key].get("product"))
        except ValueError:
            continue
        for ing in report.ingredients:
            if "eu_prohibited" in ing.flags:
                assert ing.inci in truly_banned, (key, ing.text, ing.inci)
            if "eu_restricted" in ing.flags:
                assert ing.method != "fuzzy" and ing.eu_ref and ing.eu_limit, (key, ing.text)


def test_restricted_flag_carries_its_limit():
    line = analyse("Water, Salicylic Acid").ingredients[1]
    assert "eu_restricted" in line.flags
    assert "III/98" in line.eu_ref and "2.0%" in line.eu_text


def test_the_length_grouped_fuzzy_index_answers_as_a_scan_of_the_whole_list():
    """Only names of a length that can reach the cut-off are scored; the answer must not change for that:
    the best score, and on a tie the name listed first."""
    import random

    from rapidfuzz import fuzz, process

    from skin_app.ingredients.kb import ByLength
    keys = ["glycerin", "glycerine", "glycerol", "niacinamide", "niacinamid", "sodium hyaluronate", "water", "aqua"]
    entries = [f"entry {i}" for i in range(len(keys))]
    index = ByLength(keys, entries)   # type: ignore[arg-type]
    rng = random.Random(3)
    queries = ["glycerln", "glycerinee", "niacinamde", "sodium hyaluronat", "watre", "zzzzzzzz", "glycerin"]
    queries += ["".join(rng.choice("aceglinry") for _ in range(rng.randint(5, 12))) for _ in range(200)]
    for q in queries:
        for cutoff in (87.0, 90.0):
            whole = process.extractOne(q, keys, scorer=fuzz.ratio, score_cutoff=cutoff)
            got = index.best(q, cutoff)
            assert (got is None) == (whole is None), q
            if whole is not None:
                assert got == (entries[whole[2]], whole[1]), q


def test_the_better_score_wins_over_list_order_and_a_tie_goes_to_the_name_listed_first():
    from skin_app.ingredients.kb import ByLength
    index = ByLength(["abcdefghiy", "abcdefghi"], ["listed first", "closer"])   # type: ignore[list-item]
    # "abcdefghix" is one substitution from the first (ratio 90) and one insertion from the second (ratio ~94.7)
    assert index.best("abcdefghix", 87.0)[0] == "closer"
    tie = ByLength(["abcdefghiq", "abcdefghir"], ["first", "second"])    # type: ignore[list-item]
    assert tie.best("abcdefghis", 87.0)[0] == "first"
