"""Seeded fuzz of the person's own text: routine names and steps (saved, then exported as .ics without a
control character) and ingredient lists (analysed, and their unknown names exported as CSV with no cell
a spreadsheet would run as a formula). Markdown, HTML, formulas, NUL/BEL/ESC, bidi marks, 50,000
characters. Inputs and runner: tests/fuzz_corpus.py."""
from __future__ import annotations

import pytest

from tests.fuzz_corpus import assert_handled, run_class


@pytest.mark.parametrize("cls", ["routine_text", "ingredient_text"])
def test_hostile_text_is_stored_and_exported_safely_or_refused(cls):
    assert_handled(run_class(cls, seed=10, n=40), budget_mb=200, tried=40, min_accepted=5)
