"""One ingredient of the knowledge (a row of data/ingredients.csv). One job: the record every ingredient module shares."""
from __future__ import annotations

from dataclasses import dataclass

from skin_app.ingredients.eu import EuRule

BOOL_FLAGS = ("fragrance", "allergen", "essential_oil", "drying_alcohol", "silicone", "sulfate", "paraben",
              "formaldehyde_releaser", "fungal_acne", "pregnancy")


@dataclass(frozen=True)
class Entry:
    """One row of data/ingredients.csv."""
    inci: str
    cas: str
    functions: tuple[str, ...]
    aliases: tuple[str, ...]
    what: str
    pros: str
    cons: str
    helps: tuple[str, ...]
    aggravates: tuple[str, ...]
    active: str
    flags: frozenset[str]                 # names from BOOL_FLAGS that are set
    comedogenic: int | None
    irritancy: int | None
    rating_source: str
    eu_status: str                        # "", prohibited, restricted, preservative, uv_filter, colourant
    eu_ref: str
    eu_limit: str
    evidence: str
    evidence_source: str
    curated: bool
    eu_rules: tuple[EuRule, ...] = ()     # every annex entry attached to the name (data/ingredients_eu.csv)
