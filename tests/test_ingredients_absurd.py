"""Empty and absurd input: clear errors, no crash, nothing rendered."""
from __future__ import annotations

import os
import time

import pytest

from skin_app.ingredients.report import IngredientInputError, analyse
from skin_app.limits import INGREDIENT_INPUT_MAX


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_empty_text_says_what_to_do(text):
    with pytest.raises(IngredientInputError, match="empty"):
        analyse(text)


def test_text_without_a_list_says_so():
    with pytest.raises(IngredientInputError, match="No ingredient list"):
        analyse("Visit the Shiseido boutique")


def test_not_a_string_is_refused():
    with pytest.raises(IngredientInputError):
        analyse(b"Water, Glycerin")          # type: ignore[arg-type]


def test_one_megabyte_paste_is_cut_and_fast():
    text = ("Water, Glycerin, Niacinamide, " * 40_000)[:1_000_000]
    t0 = time.perf_counter()
    report = analyse(text)
    assert report.truncated
    assert time.perf_counter() - t0 < 30
    assert sum(len(p.lines) for p in report.products) <= INGREDIENT_INPUT_MAX // 5


def test_binary_junk_does_not_crash():
    junk = os.urandom(50_000).decode("latin-1")
    try:
        report = analyse(junk)
    except IngredientInputError:
        return
    for line in report.ingredients:
        assert "\x00" not in line.text


def test_html_and_script_are_never_passed_through_as_markup():
    report = analyse("<b>Water</b>, <script>alert('x')</script>Glycerin, <img src=x onerror=alert(1)>Niacinamide")
    assert [ing.inci for ing in report.ingredients] == ["WATER", "GLYCERIN", "NIACINAMIDE"]
    assert not any("<" in ing.text or "script" in ing.text for ing in report.ingredients)


def test_html_entities_are_decoded():
    assert [ing.inci for ing in analyse("Water &amp; more, Glycerin").ingredients][-1] == "GLYCERIN"


def test_a_single_enormous_token_is_cut():
    report = analyse("Water, " + "x" * 5_000)
    assert all(len(ing.text) <= 300 for ing in report.ingredients)
