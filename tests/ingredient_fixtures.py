"""Real labels (small excerpts of the retailer lists used to build the analyzer), for the ingredient tests."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingredient_labels.json"


@lru_cache(maxsize=1)
def labels() -> dict[str, dict]:
    return json.loads(FIXTURES.read_text(encoding="utf-8"))


def label(key: str) -> str:
    return labels()[key]["ingredients"]
