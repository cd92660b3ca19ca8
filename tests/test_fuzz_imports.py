"""Seeded fuzz of profile import: real JSON and CSV-ZIP exports mutated record by record and byte by byte,
plus crafted bombs (a ZIP member that lies about its size, one picture named by 200 scans, a 48 MP
picture, a 300,000-character cell, 100,000-deep JSON, a 50,000-digit number, two million objects).
Every file is imported or refused with a message, never a traceback; memory stays under 200 MB over
the process's baseline. Inputs and runner: tests/fuzz_corpus.py."""
from __future__ import annotations

import pytest

from tests.fuzz_corpus import assert_handled, run_class

IMPORT_BUDGET_MB = 200


@pytest.mark.parametrize("cls", ["json_bundles", "zip_bundles"])
def test_hostile_bundles_are_imported_or_refused_clearly(cls):
    assert_handled(run_class(cls, seed=10, n=40), IMPORT_BUDGET_MB, tried=40, min_refused=10)
