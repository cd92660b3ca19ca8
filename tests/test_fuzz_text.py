"""Seeded fuzz of the person's own text: routine names and steps (saved, then exported as .ics without a
control character) and ingredient lists (analysed, and their unknown names exported as CSV with no cell
a spreadsheet would run as a formula). Markdown, HTML, formulas, NUL/BEL/ESC, bidi marks, 50,000
characters. Inputs and runner: tests/fuzz_corpus.py."""
from __future__ import annotations

import time

import pytest

from tests.fuzz_corpus import assert_handled, long_pastes, run_class

# Issue 23's pastes took minutes when the parser was quadratic. What a test can hold on any machine is how
# the cost grows, measured in the same process: SCALE times the text may cost at most GROWTH_LIMIT times the
# CPU (linear is 8x, quadratic 64x; up to 19x measured on these pastes on a loaded machine, where the garbage
# collector and other processes weigh more on the longer run). An absolute figure depends on the machine (the
# 200,000-character paste of unknown names took 1.5 s of CPU on one session's machine and 3.3 s on the next,
# quiet), so issue 23's 2 s goal is measured by bench/bench_ingredients.py, not here; the ceiling below still
# stops the regressions that issue fixed (40,000 spaces took 122 s). The short run is timed three times, the
# long one twice, the quickest of each kept. Below FLOOR_S of CPU a ratio is noise.
SCALE = 8
GROWTH_LIMIT = 32.0
FLOOR_S = 0.25
PASTE_CPU_CEILING_S = 15.0     # catastrophes only: seconds of CPU no machine this runs on should need


@pytest.mark.parametrize("cls", ["routine_text", "ingredient_text"])
def test_hostile_text_is_stored_and_exported_safely_or_refused(cls):
    assert_handled(run_class(cls, seed=10, n=40), budget_mb=200, tried=40, min_accepted=5)


@pytest.fixture(scope="module")
def warm_kb():
    """The knowledge base loaded and its spelling index built: the budget is for the paste, not the start."""
    from skin_app.ingredients.kb import default_kb
    from skin_app.ingredients.report import analyse
    analyse("Water, Glycerin, Glycerinn, Qwertyuiop")
    return default_kb()


@pytest.mark.parametrize(("label", "text"), long_pastes(seed=10), ids=[label for label, _ in long_pastes(seed=10)])
def test_a_200000_character_paste_costs_cpu_in_proportion_to_its_length(warm_kb, label, text):
    part = min(_analysis_cpu(text[: len(text) // SCALE], warm_kb) for _ in range(3))
    whole = min(_analysis_cpu(text, warm_kb) for _ in range(2))
    assert whole < PASTE_CPU_CEILING_S, f"{label}: {whole:.2f} s of CPU"
    assert whole < FLOOR_S or whole < GROWTH_LIMIT * part, \
        f"{label}: {part:.2f} s of CPU for 1/{SCALE} of it, {whole:.2f} s for the whole"


def _analysis_cpu(text: str, kb) -> float:
    """CPU seconds of one analysis, cold: a second run of the same names would be answered from the knowledge
    base's memory of them."""
    from skin_app.ingredients.report import IngredientInputError, analyse
    kb.forget_matches()
    start = time.process_time()
    try:
        analyse(text, kb=kb)
    except IngredientInputError:
        pass                                  # refused in words is an answer too
    return time.process_time() - start


TEXT_MODULES = ("skin_app.ingredients.report", "skin_app.ingredients.parse", "skin_app.ingredients.kb",
                "skin_app.ingredients.eu", "skin_app.ingredients.botanical", "skin_app.ingredients.spelling",
                "skin_app.routines.schedule")
RUN_UNITS = (" ", "\u00a0", "\t", "\n", " .", " -", ".", ",", "1", "a", "A ", "(", "[", " *", "(may contain",
             "may contain ", "ingredients / ", "C I ", "1, ", "Water ", "<a ", "+/- ", "(and) ", "free of ", "e.g. ")


def _module_patterns():
    import importlib
    import re
    for name in TEXT_MODULES:
        for attr, value in vars(importlib.import_module(name)).items():
            values = value if isinstance(value, list) else [value]
            for v in values:
                pattern = v[0] if isinstance(v, tuple) and v else v
                if isinstance(pattern, re.Pattern):
                    yield f"{name}.{attr}", pattern


@pytest.mark.parametrize(("where", "pattern"), list(_module_patterns()), ids=[w for w, _ in _module_patterns()])
def test_every_text_pattern_reads_a_long_run_in_linear_time(where, pattern):
    """Runs of one repeated unit, alone and between two words, of 2,500 and 20,000 characters: a pattern that
    backtracks over the run (quadratic or worse) costs 64x or more for the longer one, a linear one 8x."""
    short = min(_pattern_cpu(pattern, 20_000 // SCALE) for _ in range(3))
    long = min(_pattern_cpu(pattern, 20_000) for _ in range(2))
    assert long < FLOOR_S or long < GROWTH_LIMIT * short, f"{where}: {short:.3f} s, then {long:.3f} s"


def _pattern_cpu(pattern, chars: int) -> float:
    start = time.process_time()
    for unit in RUN_UNITS:
        run = unit * (chars // len(unit))
        for text in (run, "Water" + run + "!"):
            pattern.findall(text)
            pattern.match(text)
    return time.process_time() - start
