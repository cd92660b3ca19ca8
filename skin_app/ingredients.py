"""Ingredient analyzer: a pasted label -> what each ingredient does, its flags, conflicts, and fit to a scan.

    report = analyse(text)                           # IngredientReport (one ProductReport per product)
    report = analyse(text, scores=latest.scores,     # + fit to the person's latest scan
                     shelf=[("Night cream", other_text)])   # + conflicts with saved products
    report.to_dict()                                  # JSON-ready (the CLI's --json)

Parsing lives in ``ingredients_parse``, the knowledge and name matching in ``ingredients_kb``; this module
turns matches into a report. It never imports streamlit. Concentrations are never known (labels do not
give them, except the rare stated percentage), so position remarks are hints, and flags say what an
ingredient *is*, not how much harm it does.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Iterable, Mapping, Sequence

from skin_app.ingredients_kb import Entry, KnowledgeBase, Match, default_kb, split_synonyms
from skin_app.ingredients_parse import Token, parse_label, segment_words, split_blend
from skin_app.calibration import score_words

CONCERN_LABELS = {"acne": "acne", "flek": "dark spots", "wrinkle": "wrinkles", "panda_eye": "dark circles"}
# A concern is one of "yours" when the latest scan's score for it is not "good" in that concern's
# calibrated display score (skin_app.calibration.WORD_BANDS: "good" from 70).


class IngredientInputError(ValueError):
    """The text cannot be analysed; the message says what to do."""


# ---------------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------------
FLAG_LABELS: dict[str, str] = {
    "eu_prohibited": "EU: prohibited in cosmetics (Annex II)",
    "eu_restricted": "EU: restricted (Annex III), limit applies",
    "formaldehyde_releaser": "Formaldehyde releaser",
    "allergen": "EU-declarable fragrance allergen",
    "fragrance": "Fragrance",
    "essential_oil": "Essential oil",
    "drying_alcohol": "Drying alcohol",
    "sulfate": "Sulfate surfactant",
    "paraben": "Paraben",
    "silicone": "Silicone",
    "comedogenic": "Comedogenic rating 3 or more",
    "irritant": "Irritancy rating 3 or more",
    "fungal_acne": "May feed Malassezia (fungal acne, rule of thumb)",
    "pregnancy": "Pregnancy: ask your doctor",
}
FLAG_NOTES: dict[str, str] = {
    "eu_prohibited": "Listed in Annex II of Regulation (EC) 1223/2009 by its exact INCI name. Products sold outside "
                     "the EU may still use it; check the product's origin.",
    "eu_restricted": "Allowed in the EU only within the limits of Annex III (shown per ingredient).",
    "formaldehyde_releaser": "A preservative that slowly releases small amounts of formaldehyde; a known cause of "
                             "contact allergy for people already sensitised.",
    "allergen": "Must be named on EU labels above 0.001 % (leave-on) or 0.01 % (rinse-off); relevant if you "
                "know you react to it.",
    "fragrance": "Adds scent; the most common cause of cosmetic contact allergy. Often fine on robust skin.",
    "essential_oil": "Plant-derived scent; contains fragrance allergens and can irritate sensitive skin.",
    "drying_alcohol": "Volatile alcohol; high in the list it can dry or irritate, low in the list it is usually "
                      "a solvent in small amounts.",
    "sulfate": "Strong cleansing surfactant; can strip oils from dry or sensitive skin.",
    "paraben": "Preservative family; well studied and allowed within EU limits. Listed for those who avoid it.",
    "silicone": "Smooth, non-greasy film former; not harmful, listed for those who prefer to avoid it.",
    "comedogenic": "Rated 3-5 on a comedogenicity scale (rabbit-ear and human tests of the pure substance; "
                   "the finished product may behave differently).",
    "irritant": "Rated 3-5 on an irritancy scale for the pure substance.",
    "fungal_acne": "Fatty acids, their esters, most plant oils and ferments can feed Malassezia yeast. "
                   "Only relevant if you have fungal acne; a rule of thumb, not a test result.",
    "pregnancy": "Commonly avoided during pregnancy or breastfeeding; ask your doctor or pharmacist.",
}
FLAG_ORDER = list(FLAG_LABELS)


def entry_flags(entry: Entry) -> list[str]:
    """The flags an ingredient raises by itself (never called for fuzzy suggestions)."""
    out: list[str] = []
    if entry.eu_status == "prohibited":
        out.append("eu_prohibited")
    elif entry.eu_status == "restricted":
        out.append("eu_restricted")
    for f in ("formaldehyde_releaser", "allergen", "fragrance", "essential_oil", "drying_alcohol", "sulfate",
              "paraben", "silicone"):
        if f in entry.flags:
            out.append(f)
    if entry.comedogenic is not None and entry.comedogenic >= 3:
        out.append("comedogenic")
    if entry.irritancy is not None and entry.irritancy >= 3:
        out.append("irritant")
    if "fungal_acne" in entry.flags:
        out.append("fungal_acne")
    if "pregnancy" in entry.flags:
        out.append("pregnancy")
    return out


# ---------------------------------------------------------------------------------------------
# Actives and conflicts
# ---------------------------------------------------------------------------------------------
ACTIVE_LABELS: dict[str, str] = {
    "retinoid": "Retinoid", "aha": "AHA (alpha hydroxy acid)", "bha": "BHA (salicylic acid)",
    "pha": "PHA (polyhydroxy acid)", "vitamin_c": "Vitamin C (ascorbic acid)",
    "vitamin_c_derivative": "Vitamin C derivative", "benzoyl_peroxide": "Benzoyl peroxide",
    "azelaic_acid": "Azelaic acid", "niacinamide": "Niacinamide", "tranexamic_acid": "Tranexamic acid",
    "arbutin": "Arbutin", "kojic_acid": "Kojic acid", "hydroquinone": "Hydroquinone", "peptide": "Peptide",
    "copper_peptide": "Copper peptide", "caffeine": "Caffeine", "vitamin_k": "Vitamin K",
    "ceramide": "Ceramide", "uv_filter": "Sunscreen filter", "antioxidant": "Antioxidant",
    "humectant": "Humectant (hydrating)", "exfoliant_enzyme": "Enzyme exfoliant", "sulfur": "Sulfur",
    "brightening": "Brightening botanical", "soothing": "Soothing", "bakuchiol": "Bakuchiol",
    "vitamin_e": "Vitamin E", "panthenol": "Panthenol (provitamin B5)", "zinc": "Zinc salt",
    "urea": "Urea", "barrier_lipid": "Barrier lipid", "growth_factor": "Growth factor",
}
# Pairs that are hard on skin or cancel each other. (class_a, class_b, severity, advice)
CONFLICT_RULES: list[tuple[str, str, str, str]] = [
    ("retinoid", "aha", "caution",
     "A retinoid and an AHA together raise the chance of irritation and peeling; many people use them on "
     "alternate evenings."),
    ("retinoid", "bha", "caution",
     "A retinoid and salicylic acid together raise the chance of dryness and irritation; consider alternate "
     "evenings."),
    ("retinoid", "benzoyl_peroxide", "avoid",
     "Benzoyl peroxide can break down some retinoids (notably tretinoin) and both irritate; use them at "
     "different times of day unless a doctor prescribed the combination."),
    ("benzoyl_peroxide", "vitamin_c", "avoid",
     "Benzoyl peroxide oxidises ascorbic acid, so the vitamin C loses its effect; use them at different times."),
    ("benzoyl_peroxide", "hydroquinone", "avoid",
     "Benzoyl peroxide with hydroquinone can leave temporary dark stains on the skin."),
    ("copper_peptide", "vitamin_c", "caution",
     "Copper can oxidise ascorbic acid; applying them at different times keeps both effective."),
    ("copper_peptide", "aha", "caution",
     "A low pH from strong acids may break down copper peptides; apply them at different times."),
    ("vitamin_c", "aha", "caution",
     "Two acidic actives in one routine can sting or irritate sensitive skin."),
    ("vitamin_c", "bha", "caution",
     "Two acidic actives in one routine can sting or irritate sensitive skin."),
    ("retinoid", "retinoid", "caution",
     "Several retinoid products in one routine add up; more is not better and irritation is likely."),
    ("aha", "bha", "caution",
     "Layering separate AHA and BHA products can over-exfoliate; watch for redness and tightness."),
    ("benzoyl_peroxide", "aha", "caution",
     "Benzoyl peroxide with exfoliating acids is drying; use one in the morning and one at night."),
]


@dataclass
class IngredientLine:
    position: int                      # 1-based, label order within the product
    text: str                          # as printed
    inci: str | None                   # matched INCI name; None when unrecognised
    method: str                        # exact, alias, normalised, fuzzy, unknown
    did_you_mean: str | None = None    # a fuzzy suggestion (never used for flags)
    percent: str | None = None
    may_contain: bool = False
    functions: list[str] = field(default_factory=list)
    what: str = ""
    pros: str = ""
    cons: str = ""
    active: str | None = None
    helps: list[str] = field(default_factory=list)
    aggravates: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    comedogenic: int | None = None
    irritancy: int | None = None
    rating_source: str = ""
    eu_status: str = ""
    eu_ref: str = ""
    eu_limit: str = ""
    evidence: str = ""
    hints: list[str] = field(default_factory=list)

    @property
    def recognised(self) -> bool:
        return self.inci is not None


@dataclass
class FlagHit:
    code: str
    label: str
    note: str
    ingredients: list[str]             # names as printed


@dataclass
class Conflict:
    severity: str                      # "avoid" or "caution"
    message: str
    here: list[str]                    # ingredients of this product
    other: list[str]                   # ingredients of the other product (or of this product)
    with_product: str | None           # None: inside this product; else the shelf product's name


@dataclass
class ConcernFit:
    concern: str                       # acne, flek, wrinkle, panda_eye
    label: str
    score: float | None                # the person's latest score, higher is better
    yours: bool                        # not "good" on the latest scan (calibration.score_words)
    helps: list[str]
    aggravates: list[str]

    @property
    def sentence(self) -> str:
        parts = []
        if self.helps:
            parts.append(f"helps your {self.label}: {', '.join(self.helps)}")
        if self.aggravates:
            parts.append(f"may aggravate your {self.label}: {', '.join(self.aggravates)}")
        return "; ".join(parts)


@dataclass
class ProductReport:
    name: str | None
    lines: list[IngredientLine]
    actives: dict[str, list[str]]      # active class -> printed names
    flags: list[FlagHit]
    conflicts: list[Conflict]
    fit: list[ConcernFit]
    unknown: list[str]
    skipped_text: list[str]
    one_percent_after: int | None      # position after which everything is at most 1 % (a hint)

    @property
    def recognised_count(self) -> int:
        return sum(1 for l in self.lines if l.recognised)

    @property
    def inci_names(self) -> list[str]:
        return [l.inci for l in self.lines if l.inci]


@dataclass
class IngredientReport:
    products: list[ProductReport]
    truncated: bool = False
    has_scan: bool = False

    @property
    def is_kit(self) -> bool:
        return len(self.products) > 1

    @property
    def ingredients(self) -> list[IngredientLine]:
        return [l for p in self.products for l in p.lines]

    def to_dict(self) -> dict:
        def product_dict(p: ProductReport) -> dict:
            return {
                "name": p.name,
                "ingredients": [asdict(l) for l in p.lines],
                "actives": p.actives,
                "flags": [asdict(f) for f in p.flags],
                "conflicts": [asdict(c) for c in p.conflicts],
                "fit": [dict(asdict(f), sentence=f.sentence) for f in p.fit],
                "unknown": p.unknown,
                "skipped_text": p.skipped_text,
                "one_percent_after": p.one_percent_after,
                "recognised": p.recognised_count,
                "total": len(p.lines),
            }
        products = [product_dict(p) for p in self.products]
        out: dict = {"kit": self.is_kit, "truncated": self.truncated, "products": products}
        # Single products also expose their fields at the top level (what most callers want).
        first = products[0] if products else product_dict(ProductReport(None, [], {}, [], [], [], [], [], None))
        if not self.is_kit:
            out.update({k: v for k, v in first.items() if k != "name"})
            out["name"] = first["name"]
        else:
            out["ingredients"] = [i for p in products for i in p["ingredients"]]
            out["flags"] = _merge_flag_dicts(products)
        return out


def _merge_flag_dicts(products: list[dict]) -> list[dict]:
    merged: dict[str, dict] = {}
    for p in products:
        for f in p["flags"]:
            m = merged.setdefault(f["code"], dict(f, ingredients=[]))
            for name in f["ingredients"]:
                if name not in m["ingredients"]:
                    m["ingredients"].append(name)
    return list(merged.values())


# ---------------------------------------------------------------------------------------------
# Resolving tokens into ingredients
# ---------------------------------------------------------------------------------------------
def resolve(token_name: str, kb: KnowledgeBase) -> list[Match]:
    """One printed token -> one or more matches ("(and)" blends give several)."""
    out: list[Match] = []
    for part in split_blend(token_name):
        m = kb.match(part, fuzzy=False)
        if m.recognised:
            out.append(m)
            continue
        synonyms = split_synonyms(part)
        if len(synonyms) > 1:
            hits = [kb.lookup(s) for s in synonyms]
            found = [h[0] for h in hits if h is not None]
            distinct = list({_same_substance(e): e for e in reversed(found)}.values())[::-1]
            translated = any(_TRANSLATION.search(s) for s in synonyms)
            if distinct and ((len(distinct) == 1 and len(found) == len(synonyms)) or
                             (translated and len(found) * 2 >= len(synonyms))):
                # "Water/Aqua/Eau", "Molasses Extract/Saccharum Officinarum/Extrait De Melasse": one
                # ingredient printed under several names; the first recognised name stands for it.
                # Several different names without a translation ("Styrene/Acrylate Copolymer",
                # "Adipic Acid/Diethylene Glycol/Glycerin") are usually one copolymer: never split.
                out.append(Match(part, distinct[0], "normalised", score=100.0))
                continue
        pieces = re.split(r"\s+(?:and|&|\+)\s+", part, flags=re.I)
        if len(pieces) > 1:
            hits = [kb.lookup(p) for p in pieces]
            if all(h is not None for h in hits):
                out.extend(Match(p, h[0], "normalised", score=100.0) for p, h in zip(pieces, hits))
                continue
        glued = _split_glued(part, kb)
        if glued:
            out.extend(glued)
            continue
        out.append(kb.match(part, fuzzy=True))
    return out


def _same_substance(entry: Entry) -> str:
    """Names for one substance share a CAS number (AQUA / WATER, CI 77891 / TITANIUM DIOXIDE);
    the three iron oxide colour index numbers are printed interchangeably."""
    if entry.inci in ("CI 77491", "CI 77492", "CI 77499"):
        return "iron oxides"
    return entry.cas.split("/")[0].strip() or entry.inci


# Words that mark a French, Spanish or German translation inside a slash-separated name.
_TRANSLATION = re.compile(r"\b(?:extrait|huile|cire|beurre|eau|sel|aceite|agua|manteca|cera de|extracto|"
                          r"öl|wasser|wachs|d'|de|du|des|la|le)\b", re.I)
_CAMEL_GLUE = re.compile(r"([a-z]{2})([A-Z][a-z])")


def _split_glued(part: str, kb: KnowledgeBase) -> list[Match]:
    """Two names run together by a missing comma ("Water Glycerin", "GlycolipidsCocos Nucifera Oil"):
    split only when every piece is a known name."""
    words = _CAMEL_GLUE.sub(r"\1 \2", part).split()
    if len(words) < 2 or len(words) > 16:
        return []
    pieces = segment_words(words, kb.is_known)
    if len(pieces) < 2 or not all(kb.lookup(p) for p in pieces):
        return []
    return [Match(p, kb.lookup(p)[0], "normalised", score=100.0) for p in pieces]


def _line(position: int, token: Token, m: Match) -> IngredientLine:
    e = m.entry
    line = IngredientLine(position=position, text=token.text, inci=e.inci if e else None, method=m.method,
                          did_you_mean=m.suggestion.inci if m.suggestion is not None else None,
                          percent=token.percent, may_contain=token.may_contain)
    if e is None:
        return line
    line.functions = list(e.functions)
    line.what, line.pros, line.cons = e.what, e.pros, e.cons
    line.active = e.active or None
    line.helps, line.aggravates = list(e.helps), list(e.aggravates)
    if e.comedogenic is not None and e.comedogenic >= 3 and "acne" not in line.aggravates:
        line.aggravates.append("acne")
    line.flags = entry_flags(e)
    line.comedogenic, line.irritancy, line.rating_source = e.comedogenic, e.irritancy, e.rating_source
    line.eu_status, line.eu_ref, line.eu_limit = e.eu_status, e.eu_ref, e.eu_limit
    line.evidence = f"{e.evidence} ({e.evidence_source})" if e.evidence else ""
    return line


_PERCENT_NUM = re.compile(r"(\d+(?:[.,]\d+)?)\s*%")


def max_legal_percent(entry: Entry) -> float | None:
    """The highest maximum concentration an EU annex (III, V or VI) allows for the ingredient, if any."""
    if entry.eu_status not in ("restricted", "preservative", "uv_filter") or not entry.eu_limit:
        return None
    values = [float(v.replace(",", ".")) for v in _PERCENT_NUM.findall(entry.eu_limit)]
    return max(values) if values else None


def _position_hints(lines: list[IngredientLine], kb: KnowledgeBase) -> int | None:
    listed = [l for l in lines if not l.may_contain]
    for l in listed[:5]:
        l.hints.append("among the first five: likely a main part of the formula")
    one_percent_after = None
    for l in listed:
        if l.inci is None:
            continue
        limit = max_legal_percent(kb.by_inci[l.inci])
        if limit is not None and limit <= 1.0 and l.position > 5:
            one_percent_after = l.position
            break
    if one_percent_after is not None:
        for l in listed:
            if l.position > one_percent_after:
                l.hints.append("after the 1 % line: probably at most 1 % (inferred from an ingredient capped at "
                               "1 % or less by EU law)")
            elif l.position == one_percent_after:
                l.hints.append("the 1 % line: EU law caps this ingredient at 1 % or less, so what follows is "
                               "probably at most 1 %")
    return one_percent_after


def _flag_hits(lines: list[IngredientLine]) -> list[FlagHit]:
    hits: dict[str, list[str]] = {}
    for l in lines:
        for f in l.flags:
            names = hits.setdefault(f, [])
            if l.text not in names:
                names.append(l.text)
    return [FlagHit(code, FLAG_LABELS[code], FLAG_NOTES[code], hits[code]) for code in FLAG_ORDER if code in hits]


# Classes that describe a supporting role, not an active worth listing as "key" (glycerin is everywhere).
SUPPORTING_CLASSES = {"humectant"}


def _actives(lines: list[IngredientLine]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for l in lines:
        if l.active:
            for cls in l.active.split(";"):
                if cls.strip() in SUPPORTING_CLASSES:
                    continue
                names = out.setdefault(cls.strip(), [])
                if l.text not in names:
                    names.append(l.text)
    return out


def find_conflicts(actives: Mapping[str, list[str]], other: Mapping[str, list[str]] | None = None,
                   other_name: str | None = None) -> list[Conflict]:
    """Conflicts inside one product (other=None) or between a product and another one."""
    out: list[Conflict] = []
    seen: set[tuple[str, str]] = set()
    for a, b, severity, message in CONFLICT_RULES:
        pairs = [(a, b), (b, a)] if a != b else [(a, a)]
        for x, y in pairs:
            if other is None:
                if x == y or x not in actives or y not in actives:
                    continue
                key = tuple(sorted((x, y)))
                here, there = actives[x], actives[y]
            else:
                if x not in actives or y not in other:
                    continue
                key = (x, y)
                here, there = actives[x], other[y]
            if key in seen:
                continue
            seen.add(key)
            if other is None and a in ("aha",) and b == "bha":
                continue        # one product with both acids is formulated for it
            out.append(Conflict(severity, message, list(here), list(there), other_name))
    return out


def concern_fit(lines: list[IngredientLine], scores: Mapping[str, float] | None) -> list[ConcernFit]:
    fits = []
    for concern, label in CONCERN_LABELS.items():
        score = None if scores is None else scores.get(concern)
        helps = list(dict.fromkeys(l.text for l in lines if concern in l.helps))
        aggravates = list(dict.fromkeys(l.text for l in lines if concern in l.aggravates))
        yours = score is not None and score_words(float(score), concern) != "good"
        fits.append(ConcernFit(concern, label, None if score is None else float(score), yours, helps, aggravates))
    # The person's weakest concerns first; without a scan keep the fixed order.
    if scores:
        fits.sort(key=lambda f: (f.score is None, f.score if f.score is not None else 0.0))
    return fits


# ---------------------------------------------------------------------------------------------
# The one call
# ---------------------------------------------------------------------------------------------
ShelfItem = tuple[str, str]            # (product name, ingredient text)


def analyse(text: str, *, scores: Mapping[str, float] | None = None,
            shelf: Sequence[ShelfItem] | Iterable["ProductReport"] = (), kb: KnowledgeBase | None = None
            ) -> IngredientReport:
    """Analyses a pasted label. Raises IngredientInputError when there is nothing to analyse."""
    if text is None or not isinstance(text, str):
        raise IngredientInputError("Paste the ingredient list as text.")
    if not text.strip():
        raise IngredientInputError("The ingredient list is empty. Paste the list from the box or the shop's page.")
    kb = kb or default_kb()
    parsed = parse_label(text, kb.is_known)
    shelf_reports = _shelf_reports(shelf, kb)
    products = [_product_report(p.name, p.tokens, p.skipped, kb, scores, shelf_reports) for p in parsed.products]
    if not any(p.lines for p in products):
        raise IngredientInputError(
            "No ingredient list was found in that text. Paste the list itself (names separated by commas), "
            "for example: Water, Glycerin, Niacinamide.")
    return IngredientReport(products=[p for p in products if p.lines] or products, truncated=parsed.truncated,
                            has_scan=scores is not None)


def _shelf_reports(shelf, kb: KnowledgeBase) -> list[ProductReport]:
    out = []
    for item in shelf:
        if isinstance(item, ProductReport):
            out.append(item)
            continue
        name, text = item
        try:
            parsed = parse_label(text, kb.is_known)
        except Exception:       # a damaged shelf entry must not break the analysis of a new product
            continue
        for p in parsed.products:
            rep = _product_report(p.name or name, p.tokens, p.skipped, kb, None, [])
            rep.name = name if len(parsed.products) == 1 else f"{name}: {p.name or ''}".strip(": ")
            out.append(rep)
    return out


def _product_report(name: str | None, tokens: list[Token], skipped: list[str], kb: KnowledgeBase,
                    scores: Mapping[str, float] | None, shelf: list[ProductReport]) -> ProductReport:
    lines: list[IngredientLine] = []
    for token in tokens:
        matches = resolve(token.name, kb)
        for m in matches:
            line = _line(len(lines) + 1, token, m)
            if len(matches) > 1 and m.query != token.name:
                line.text = m.query          # one part of an "(and)" blend or a run-together pair
            lines.append(line)
    one_pct = _position_hints(lines, kb)
    actives = _actives(lines)
    conflicts = find_conflicts(actives)
    for other in shelf:
        conflicts.extend(find_conflicts(actives, other.actives, other.name or "a saved product"))
    unknown = list(dict.fromkeys(l.text for l in lines if not l.recognised))
    return ProductReport(name=name, lines=lines, actives=actives, flags=_flag_hits(lines), conflicts=conflicts,
                         fit=concern_fit(lines, scores), unknown=unknown, skipped_text=skipped,
                         one_percent_after=one_pct)


@dataclass
class Comparison:
    a: str
    b: str
    both: list[str]
    only_a: list[str]
    only_b: list[str]
    flags_a: list[str]
    flags_b: list[str]
    actives_a: list[str]
    actives_b: list[str]
    conflicts: list[Conflict]


def compare(a: ProductReport, b: ProductReport) -> Comparison:
    """Side by side: shared and different ingredients, flags, actives, and conflicts between the two."""
    ia, ib = a.inci_names, b.inci_names
    sa, sb = set(ia), set(ib)
    return Comparison(
        a=a.name or "Product A", b=b.name or "Product B",
        both=[x for x in dict.fromkeys(ia) if x in sb],
        only_a=[x for x in dict.fromkeys(ia) if x not in sb],
        only_b=[x for x in dict.fromkeys(ib) if x not in sa],
        flags_a=[f.label for f in a.flags], flags_b=[f.label for f in b.flags],
        actives_a=[ACTIVE_LABELS.get(k, k) for k in a.actives], actives_b=[ACTIVE_LABELS.get(k, k) for k in b.actives],
        conflicts=find_conflicts(a.actives, b.actives, b.name or "Product B"),
    )
