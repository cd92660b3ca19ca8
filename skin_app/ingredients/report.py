"""Ingredient analyzer: a pasted label -> what each ingredient does, its flags, conflicts, and fit to a scan.

    report = analyse(text)                           # IngredientReport (one ProductReport per product)
    report = analyse(text, scores=latest.scores,     # + fit to the person's latest scan
                     shelf=[("Night cream", other_text)])   # + conflicts with saved products
    report = analyse(text, product_type="rinse_off") # EU verdicts for that kind of product
    report.to_dict()                                  # JSON-ready (the CLI's --json)

Parsing lives in ``parse``, the knowledge and name matching in ``kb``, EU verdicts
by product type in ``eu``; this module turns matches into a report. It never imports streamlit. Concentrations are never known (labels do not
give them, except the rare stated percentage), so position remarks are hints, and flags say what an
ingredient *is*, not how much harm it does.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from skin_app.concerns import CONCERN_LABELS, SCORED
from skin_app.errors import UserFacingError
from skin_app.ingredients.botanical import states_part_of
from skin_app.ingredients.eu import PRODUCT_TYPES, EuVerdict, guess_product_type, verdict
from skin_app.ingredients.kb import Entry, FuzzyBudget, KnowledgeBase, Match, default_kb, split_synonyms
from skin_app.ingredients.parse import Token, parse_label, segment_words, split_blend
from skin_app.limits import KIT_PRODUCTS_COMPARED
from skin_app.scan.calibration import score_words

# A concern is one of "yours" when the latest scan's score for it is not "good" in that concern's
# calibrated display score (skin_app.scan.calibration.WORD_BANDS: "good" from 70).


class IngredientInputError(UserFacingError, ValueError):
    """The text cannot be analysed; the message says what to do."""

    def __init__(self, message: str, advice: str = "", code: str = "ingredient_input") -> None:
        super().__init__(message, advice, code)


# ---------------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------------
FLAG_LABELS: dict[str, str] = {
    "eu_prohibited": "EU: not permitted in this kind of product",
    "eu_restricted": "EU: maximum concentration for this kind of product",
    "formaldehyde_releaser": "Formaldehyde releaser",
    "allergen": "EU-declarable fragrance allergen",
    "allergen_maybe": "Possibly an EU-declarable fragrance allergen (name or part not certain)",
    "fragrance": "Fragrance",
    "essential_oil": "Essential oil",
    "drying_alcohol": "Drying alcohol",
    "sulfate": "Sulfate surfactant",
    "paraben": "Paraben",
    "silicone": "Silicone",
    "comedogenic": "Comedogenic rating 3 or more (raw material, leave-on product)",
    "irritant": "Irritancy rating 3 or more (raw material)",
    "fungal_acne": "May feed Malassezia (fungal acne, rule of thumb)",
    "pregnancy": "Pregnancy: ask your doctor",
}
FLAG_NOTES: dict[str, str] = {
    "eu_prohibited": "Banned by Annex II of Regulation (EC) 1223/2009, or allowed by Annexes III-VI only in other "
                     "kinds of product (e.g. artificial nail systems, rinse-off products). Products sold outside "
                     "the EU may still use it; check the product's origin.",
    "eu_restricted": "Allowed in the EU up to the maximum concentration an annex sets for this kind of product "
                     "(shown per ingredient). Labels give no concentrations, so this is information, not a warning.",
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
    "comedogenic": "Rated 3-5 on a 0-5 comedogenicity scale in rabbit-ear and human back tests of the pure raw "
                   "material (Fulton-style tables; source per ingredient). The test used undiluted material, the "
                   "label gives no concentration, and finished products often test non-comedogenic: a reason to "
                   "watch, not a verdict. Shown only for leave-on products (a rinse-off product is washed away).",
    "irritant": "Rated 3-5 on a 0-5 irritancy scale for the pure raw material (source per ingredient); the "
                "amount in a product is usually far lower.",
    "allergen_maybe": "The printed name is close to, but not exactly, the name of a fragrance allergen the EU "
                      "requires on labels (see 'did you mean' in the table), or it names a plant without saying "
                      "which part, and some of that plant's oils are such allergens. Relevant if you know you "
                      "react to it.",
    "fungal_acne": "Fatty acids, their esters, most plant oils and ferments can feed Malassezia yeast. "
                   "Only relevant if you have fungal acne; a rule of thumb, not a test result.",
    "pregnancy": "Commonly avoided during pregnancy or breastfeeding; ask your doctor or pharmacist.",
}
FLAG_ORDER = list(FLAG_LABELS)


# Product types where comedogenic ratings mean something: the product stays on the face.
COMEDOGENIC_TYPES = frozenset({"leave_on_face", "face_makeup", "eye_area", "eye_makeup", "lip"})


def entry_flags(entry: Entry, eu: EuVerdict | None = None, product_type: str = "leave_on_face") -> list[str]:
    """The flags an ingredient raises by itself in a product of one type (never called for fuzzy
    suggestions). ``eu``: its EU verdict for that type."""
    out: list[str] = []
    eu = eu if eu is not None else verdict(entry.eu_rules, product_type)
    if eu.level == "not_permitted":
        out.append("eu_prohibited")
    elif eu.level == "restricted":
        out.append("eu_restricted")
    for f in ("formaldehyde_releaser", "allergen", "allergen_maybe", "fragrance", "essential_oil", "drying_alcohol", "sulfate",
              "paraben", "silicone"):
        if f in entry.flags:
            out.append(f)
    if entry.comedogenic is not None and entry.comedogenic >= 3 and product_type in COMEDOGENIC_TYPES:
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
# Pairs of products that are hard on skin together or where one undoes the other, each with its source.
# Only between products: a single formula holding both (e.g. the fixed adapalene + benzoyl peroxide gel,
# an approved acne medicine) was made and tested to be used as it is. Classes are ACTIVE_LABELS keys, plus
# "tretinoin" (conventional retinoic acid, unstable next to benzoyl peroxide; adapalene is not).
@dataclass(frozen=True)
class ConflictRule:
    a: str
    b: str
    severity: str              # "avoid" or "caution"
    advice: str
    source: str


CONFLICT_RULES: list[ConflictRule] = [
    ConflictRule("tretinoin", "benzoyl_peroxide", "avoid",
                 "Benzoyl peroxide breaks down conventional tretinoin when both are on the skin at once; apply "
                 "them at different times of day (adapalene, a newer retinoid, is stable with it).",
                 "Martin B et al., Chemical stability of adapalene and tretinoin when combined with benzoyl "
                 "peroxide, Br J Dermatol 1998;139 Suppl 52:8-11"),
    ConflictRule("retinoid", "aha", "caution",
                 "A retinoid and an exfoliating acid from two products add up to more dryness and peeling; "
                 "many people use them on alternate evenings.",
                 "Zaenglein AL et al., Guidelines of care for the management of acne vulgaris, J Am Acad "
                 "Dermatol 2016;74:945-973 (irritation is the main side effect of topical retinoids)"),
    ConflictRule("retinoid", "bha", "caution",
                 "A retinoid and salicylic acid from two products add up to more dryness and irritation; "
                 "consider alternate evenings.",
                 "Zaenglein AL et al., Guidelines of care for the management of acne vulgaris, J Am Acad "
                 "Dermatol 2016;74:945-973"),
    ConflictRule("retinoid", "retinoid", "caution",
                 "Two vitamin A products add up: irritation is more likely, and the EU caps the whole face "
                 "product at 0.3 % retinol equivalent with exposure from all sources in mind.",
                 "SCCS opinion on vitamin A (SCCS/1639/21); Regulation (EC) 1223/2009 Annex III/376"),
    ConflictRule("retinoid", "benzoyl_peroxide", "caution",
                 "A retinoid and benzoyl peroxide from two products are a standard acne pairing, but their dryness, "
                 "peeling and irritation add up; start one at a time, and many people use one in the morning and "
                 "the other at night.",
                 "Zaenglein AL et al., Guidelines of care for the management of acne vulgaris, J Am Acad "
                 "Dermatol 2016;74:945-973 (retinoid with benzoyl peroxide recommended; irritation is the main "
                 "adverse effect of both)"),
    ConflictRule("benzoyl_peroxide", "vitamin_c", "caution",
                 "Benzoyl peroxide is an oxidising agent and ascorbic acid is readily oxidised, so applied "
                 "together the vitamin C loses its effect; use them at different times of day.",
                 "PubChem: benzoyl peroxide (CID 7187, strong oxidiser) and ascorbic acid (CID 54670067, "
                 "reducing agent)"),
    ConflictRule("benzoyl_peroxide", "hydroquinone", "avoid",
                 "Hydroquinone with a peroxide can leave temporary dark stains on the skin.",
                 "US prescribing information for hydroquinone 4 % cream (DailyMed), Precautions"),
    ConflictRule("copper_peptide", "vitamin_c", "caution",
                 "Copper speeds the oxidation of ascorbic acid; applying them at different times keeps both "
                 "effective.",
                 "Buettner GR, Jurkiewicz BA, Catalytic metals, ascorbate and free radicals, Radiat Res "
                 "1996;145:532-541"),
]
_TRETINOIN = {"RETINOIC ACID", "TRETINOIN"}
# A pair whose "avoid" rule already fired needs no milder caution about the same two products.
_COVERED_BY = {frozenset(("retinoid", "benzoyl_peroxide")): frozenset(("tretinoin", "benzoyl_peroxide"))}


@dataclass
class IngredientLine:
    position: int                      # 1-based, label order within the product
    text: str                          # as printed
    inci: str | None                   # matched INCI name; None when unrecognised
    method: str                        # exact, alias, normalised, botanical, spelling, fuzzy, unknown
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
    eu_verdict: str = ""               # for this product type: not_permitted, restricted, labelling, allowed, ""
    eu_text: str = ""                  # the verdict in words, with the limit and the annex entry
    eu_details: list[str] = field(default_factory=list)   # specifications, pH, other product types
    eu_max_percent: float | None = None                     # the highest EU maximum for this product type
    eu_limit_percent: float | None = None                   # the EU limit that applies to this product type (the
    #                                                         lowest of its own fields; narrower products' apart)
    evidence: str = ""
    hints: list[str] = field(default_factory=list)

    @property
    def recognised(self) -> bool:
        return self.inci is not None

    @property
    def matched(self) -> str | None:
        """The INCI name as shown: a name read through a one-letter typo says so."""
        if self.inci is not None and self.method == "spelling":
            return f"{self.inci} (typo repaired)"
        return self.inci


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
    other: list[str]                   # ingredients of the other product
    with_product: str | None           # the other product's name
    source: str = ""                   # where the rule comes from


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
    product_type: str = "leave_on_face"   # a key of PRODUCT_TYPES: what the EU verdicts are for
    product_type_guessed: bool = False    # True: guessed from the product's words; False: chosen or default

    @property
    def bans(self) -> list[IngredientLine]:
        """Ingredients the EU does not permit in this kind of product: shown first."""
        return [ing for ing in self.lines if ing.eu_verdict == "not_permitted"]

    @property
    def recognised_count(self) -> int:
        return sum(1 for ing in self.lines if ing.recognised)

    @property
    def inci_names(self) -> list[str]:
        return [ing.inci for ing in self.lines if ing.inci]


@dataclass
class IngredientReport:
    products: list[ProductReport]
    truncated: bool = False
    has_scan: bool = False
    product_type_chosen: bool = False      # the caller named the product type (not guessed, not default)

    @property
    def is_kit(self) -> bool:
        return len(self.products) > 1

    @property
    def ingredients(self) -> list[IngredientLine]:
        return [ing for p in self.products for ing in p.lines]

    def to_dict(self) -> dict:
        def product_dict(p: ProductReport) -> dict:
            return {
                "name": p.name,
                "ingredients": [_line_dict(ing) for ing in p.lines],
                "actives": p.actives,
                "flags": [asdict(f) for f in p.flags],
                "conflicts": [asdict(c) for c in p.conflicts],
                "fit": [dict(asdict(f), sentence=f.sentence) for f in p.fit],
                "unknown": p.unknown,
                "skipped_text": p.skipped_text,
                "one_percent_after": p.one_percent_after,
                "recognised": p.recognised_count,
                "total": len(p.lines),
                "product_type": p.product_type,
                "product_type_guessed": p.product_type_guessed,
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


def _line_dict(line: IngredientLine) -> dict:
    """``asdict`` for one line, a field at a time: the same keys and values, without asdict's deep copy (it
    took most of the CLI's time for a 10,000-name paste). Lists are copied; their items are strings."""
    return {k: list(v) if isinstance(v, list) else v for k, v in vars(line).items()}


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
# Seconds one analysis may spend on fuzzy suggestions (about 1.3 ms a name: some 400 names, far more than a real
# label leaves unknown), so any paste is answered within 2 s of CPU and the CLI, start-up included, within 3 s.
FUZZY_BUDGET_S = 0.5


def resolve(token_name: str, kb: KnowledgeBase, budget: FuzzyBudget | None = None) -> list[Match]:
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
            first_per_substance: dict[str, Entry] = {}
            for e in found:                     # the first printed name of each substance stands for it,
                if not any(states_part_of(o, e) for o in found):    # a plant's named part for the plant
                    first_per_substance.setdefault(_same_substance(e), e)
            distinct = list(first_per_substance.values())
            translated = any(_TRANSLATION.search(s) for s in synonyms)
            if distinct and ((len(distinct) == 1 and len(found) == len(synonyms)) or
                             (translated and len(found) * 2 >= len(synonyms))):
                # "Water/Aqua/Eau", "Molasses Extract/Saccharum Officinarum/Extrait De Melasse": one
                # ingredient printed under several names; the first recognised name stands for it.
                # Several different names without a translation ("Styrene/Acrylate Copolymer",
                # "Adipic Acid/Diethylene Glycol/Glycerin") are usually one copolymer: never split.
                out.append(Match(part, distinct[0], "normalised", score=100.0))
                continue
        # "Aqua - Water", "Tocopherol - Vitamin E", "Aqua/Watter", "Butyrospermum Parkii/Shea Buttter": one
        # ingredient under two names, one of them misspelt or cut short.
        pair = re.split(r"(?<!\s)\s+[-–]\s+", part) if len(synonyms) == 1 else synonyms
        if len(pair) == 2:
            entry = kb.synonym_pair(pair[0], pair[1])
            if entry is not None:
                out.append(Match(part, entry, "normalised", score=100.0))
                continue
        if len(synonyms) == 2 and not _POLYMER.search(part) and all(kb.lookup(s) is not None for s in synonyms):
            # "Pentylene Glycol / Ethylhexylglycerin", "Solum Diatomeae/Diatomaceous Earth": two known names that
            # are no name together and no copolymer: two ingredients, or one under its EU and its US name; each
            # is shown rather than neither.
            out.extend(kb.match(s, fuzzy=False) for s in synonyms)
            continue
        pieces = _CONJUNCTION.split(part)
        if len(pieces) > 1:
            hits = [kb.lookup(p) for p in pieces]
            resolved = [h for h in hits if h is not None]
            if len(resolved) == len(hits):
                out.extend(Match(p, h[0], "normalised", score=100.0) for p, h in zip(pieces, resolved))
                continue
        glued = _split_glued(part, kb) if budget is None or not budget.spent() else []
        if glued:
            out.extend(glued)
            continue
        out.append(kb.match(part, fuzzy=True, budget=budget))
    return out


# "and" between the last two names, as English, German, Dutch, Polish, Spanish, French and Italian labels print it
# (split only when every piece is a known name: "Vitamin E" keeps its "E").
_CONJUNCTION = re.compile(r"(?<!\s)\s+(?:and|&|\+|und|en|oraz|i|y|et|e)\s+", re.I)
_POLYMER = re.compile(r"polymer|\bpolyol|copolyol", re.I)


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
    hits = [kb.lookup(p) for p in pieces]
    found = [h for h in hits if h is not None]
    if len(pieces) < 2 or len(found) < len(pieces):
        return []
    return [Match(p, h[0], "normalised", score=100.0) for p, h in zip(pieces, found)]


# What a CosIng function means, in our words (for ingredients without a hand-written text).
FUNCTION_WORDS: dict[str, str] = {
    "skin conditioning": "keeps skin in good condition", "skin conditioning - emollient": "softens and smooths skin",
    "skin conditioning - humectant": "holds water in the skin", "skin conditioning - occlusive": "seals moisture in",
    "humectant": "draws water into the skin", "moisturising": "hydrates", "skin protecting": "protects the skin's surface",
    "surfactant - cleansing": "helps water wash away oil and dirt", "cleansing": "cleans",
    "surfactant - emulsifying": "keeps oil and water mixed", "emulsion stabilising": "keeps the cream from separating",
    "surfactant - foam boosting": "boosts foam", "foaming": "makes foam", "viscosity controlling": "adjusts thickness",
    "film forming": "leaves a thin film", "hair conditioning": "makes hair easier to comb", "antistatic": "reduces static",
    "antioxidant": "slows oxidation of the product", "antimicrobial": "limits microbes", "preservative": "keeps microbes out",
    "solvent": "dissolves other ingredients", "astringent": "gives a tightening feel", "binding": "holds powders together",
    "abrasive": "scrubs", "buffering": "holds the pH steady", "chelating": "binds metal traces",
    "opacifying": "makes the product opaque", "bulking": "adds bulk", "absorbent": "absorbs oil or water",
    "anticaking": "keeps powders loose", "colorant": "gives colour", "uv absorber": "absorbs UV light",
    "uv filter": "filters UV light", "light stabilizer": "protects the product from light", "soothing": "calms the skin",
    "tonic": "gives a fresh feel", "deodorant": "reduces odour", "plasticiser": "keeps films flexible",
    "perfuming": "adds scent", "masking": "covers other smells", "exfoliating": "loosens dead surface cells",
    "keratolytic": "softens thick skin", "bleaching": "lightens", "refatting": "replaces lost lipids",
    "smoothing": "smooths the surface", "gel forming": "forms a gel", "anti-sebum": "reduces oiliness",
    "hair fixing": "holds hair in place", "nail conditioning": "conditions nails",
}
_KIND_BY_NAME = [
    (re.compile(r"\bEXTRACT$|\bJUICE$|\bFLOWER$|\bLEAF$|\bPOWDER$"), "A plant or natural extract"),
    (re.compile(r"\bOIL$"), "An oil"), (re.compile(r"FERMENT|LYSATE|FILTRATE"), "A ferment"),
    (re.compile(r"ICONE|SILOXANE|SILSESQUIOXANE"), "A silicone"), (re.compile(r"PEPTIDE"), "A peptide"),
    (re.compile(r"POLYMER|^POLY"), "A polymer"), (re.compile(r"^CI \d{5}$"), "A colourant"),
    (re.compile(r"\bWATER$"), "A plant water"), (re.compile(r"ATE$"), "An ester or salt"),
]


def describe(entry: Entry) -> str:
    """A plain sentence from the CosIng functions for ingredients we have written nothing about."""
    words = [FUNCTION_WORDS[f.lower()] for f in entry.functions if f.lower() in FUNCTION_WORDS]
    words = list(dict.fromkeys(words))[:3]
    if not words:
        return ""
    kind = next((k for p, k in _KIND_BY_NAME if p.search(entry.inci)), "An ingredient")
    said = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"{kind} that {said} (from its CosIng functions)."


def _line(position: int, token: Token, m: Match, product_type: str) -> IngredientLine:
    e = m.entry
    line = IngredientLine(position=position, text=token.text, inci=e.inci if e else None, method=m.method,
                          did_you_mean=m.suggestion.inci if m.suggestion is not None else None,
                          percent=token.percent, may_contain=token.may_contain)
    if e is None:
        if m.suggestion is not None and "allergen" in m.suggestion.flags:
            line.flags = ["allergen_maybe"]        # never a ban: only the allergen flag, marked uncertain
        return line
    line.functions = list(e.functions)
    line.what, line.pros, line.cons = e.what or describe(e), e.pros, e.cons
    line.active = e.active or None
    line.helps, line.aggravates = list(e.helps), list(e.aggravates)
    if product_type not in COMEDOGENIC_TYPES:
        line.aggravates = [c for c in line.aggravates if c != "acne"]     # washed off: pores are not at stake
    elif e.comedogenic is not None and e.comedogenic >= 3 and "acne" not in line.aggravates:
        line.aggravates.append("acne")
    eu = verdict(e.eu_rules, product_type, nano="nano" in token.text.lower())
    line.eu_verdict, line.eu_text, line.eu_details = eu.level, eu.text, list(eu.details)
    line.eu_max_percent, line.eu_limit_percent = eu.cap_percent, eu.limit_percent
    line.flags = entry_flags(e, eu, product_type)
    line.comedogenic, line.irritancy, line.rating_source = e.comedogenic, e.irritancy, e.rating_source
    line.eu_status, line.eu_limit = eu.level, e.eu_limit    # eu_status: the same verdict as eu_verdict
    line.eu_ref = " | ".join(eu.refs) if eu.refs else e.eu_ref
    if eu.level == "not_permitted":
        line.helps = []                    # a banned ingredient is no help, whatever it does
    line.evidence = f"{e.evidence} ({e.evidence_source})" if e.evidence else ""
    stated = _stated_percent(token.percent)
    if stated is not None and eu.limit_percent is not None:
        # A Drug Facts label states the amount: the one place where the limit can be checked, not only shown.
        word = "above" if stated > eu.limit_percent + 1e-9 else "within"
        line.hints.append(f"the label states {token.percent}: {word} the EU maximum of {eu.limit_percent:g} % for "
                          f"this kind of product")
    return line


def _stated_percent(percent: str | None) -> float | None:
    try:
        return float(percent.rstrip("%").replace(",", ".")) if percent else None
    except ValueError:
        return None


def _position_hints(lines: list[IngredientLine]) -> int | None:
    """Position remarks; the "1 % line" comes from an EU maximum concentration for this product type."""
    listed = [ing for ing in lines if not ing.may_contain]
    for ing in listed[:5]:
        ing.hints.append("among the first five: likely a main part of the formula")
    one_percent_after = None
    for ing in listed:
        if ing.inci is None:
            continue
        limit = ing.eu_max_percent
        if limit is not None and limit <= 1.0 and ing.position > 5:
            one_percent_after = ing.position
            break
    if one_percent_after is not None:
        for ing in listed:
            if ing.position > one_percent_after:
                ing.hints.append("after the 1 % line: probably at most 1 % (inferred from an ingredient capped at "
                               "1 % or less by EU law)")
            elif ing.position == one_percent_after:
                ing.hints.append("the 1 % line: EU law caps this ingredient at 1 % or less, so what follows is "
                               "probably at most 1 %")
    return one_percent_after


def _flag_hits(lines: list[IngredientLine]) -> list[FlagHit]:
    hits: dict[str, list[str]] = {}
    for ing in lines:
        for f in ing.flags:
            names = hits.setdefault(f, [])
            if ing.text not in names:
                names.append(ing.text)
    return [FlagHit(code, FLAG_LABELS[code], FLAG_NOTES[code], hits[code]) for code in FLAG_ORDER if code in hits]


# Classes that describe a supporting role, not an active worth listing as "key" (glycerin is everywhere).
SUPPORTING_CLASSES = {"humectant"}


def _actives(lines: list[IngredientLine]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ing in lines:
        if ing.active:
            for cls in ing.active.split(";"):
                if cls.strip() in SUPPORTING_CLASSES:
                    continue
                names = out.setdefault(cls.strip(), [])
                if ing.text not in names:
                    names.append(ing.text)
    return out


def conflict_classes(product: ProductReport) -> dict[str, list[str]]:
    """A product's active classes (printed names per class), with conventional tretinoin apart."""
    classes = {k: list(v) for k, v in product.actives.items()}
    tretinoin = [ing.text for ing in product.lines if ing.inci in _TRETINOIN and not ing.may_contain]
    if tretinoin:
        classes["tretinoin"] = tretinoin
    return classes


def find_conflicts(product: ProductReport, other: ProductReport, other_name: str | None = None
                   ) -> list[Conflict]:
    """Conflicts between two products used in one routine (never inside one formula)."""
    here_classes, there_classes = conflict_classes(product), conflict_classes(other)
    out: list[Conflict] = []
    seen: set[frozenset[str]] = set()
    for rule in CONFLICT_RULES:
        for x, y in ((rule.a, rule.b), (rule.b, rule.a)):
            if x not in here_classes or y not in there_classes:
                continue
            key = frozenset((rule.a, rule.b))
            if key in seen or _COVERED_BY.get(key) in seen:
                continue
            seen.add(key)
            out.append(Conflict(rule.severity, rule.advice, list(here_classes[x]), list(there_classes[y]),
                                other_name or other.name or "another product", rule.source))
    return out


def concern_fit(lines: list[IngredientLine], scores: Mapping[str, float] | None) -> list[ConcernFit]:
    # One pass over the lines (printed names in order, once each), not two per concern: a 200,000-character
    # paste can hold 16,000 one-line products.
    helps: dict[str, dict[str, None]] = {concern: {} for concern in SCORED}
    aggravates: dict[str, dict[str, None]] = {concern: {} for concern in SCORED}
    for ing in lines:
        for concern in ing.helps:
            if concern in helps:
                helps[concern][ing.text] = None
        for concern in ing.aggravates:
            if concern in aggravates:
                aggravates[concern][ing.text] = None
    fits = []
    for concern in SCORED:              # redness too: soothing ingredients help it, irritants flag it
        label = CONCERN_LABELS[concern].lower()
        score = None if scores is None else scores.get(concern)
        yours = score is not None and score_words(float(score), concern) != "good"
        fits.append(ConcernFit(concern, label, None if score is None else float(score), yours,
                               list(helps[concern]), list(aggravates[concern])))
    # The person's weakest concerns first; without a scan keep the fixed order.
    if scores:
        fits.sort(key=lambda f: (f.score is None, f.score if f.score is not None else 0.0))
    return fits


# ---------------------------------------------------------------------------------------------
# The one call
# ---------------------------------------------------------------------------------------------
ShelfItem = tuple[str, str]            # (product name, ingredient text)


def analyse(text: str, *, scores: Mapping[str, float] | None = None,
            shelf: Sequence[ShelfItem] | Iterable[ProductReport] = (), kb: KnowledgeBase | None = None,
            product_type: str | None = None, name: str | None = None) -> IngredientReport:
    """Analyses a pasted label. Raises IngredientInputError when there is nothing to analyse.

    ``product_type`` (a key of PRODUCT_TYPES) sets the EU verdicts; without it the type is guessed per
    product from ``name``, the kit heading and the text before the list, else a leave-on face product."""
    if product_type is not None and product_type not in PRODUCT_TYPES:
        raise IngredientInputError(f"Unknown product type {product_type!r}; choose one of: "
                                   + ", ".join(PRODUCT_TYPES))
    if text is None or not isinstance(text, str):
        raise IngredientInputError("Paste the ingredient list as text.")
    if not text.strip():
        raise IngredientInputError("The ingredient list is empty. Paste the list from the box or the shop's page.")
    kb = kb or default_kb()
    budget = FuzzyBudget(FUZZY_BUDGET_S)
    parsed = parse_label(text, kb.is_known)
    shelf_reports = _shelf_reports(shelf, kb)
    products = [_product_report(p.name, p.tokens, p.skipped, kb, scores, shelf_reports,
                                _product_type(product_type, p.name, name, p.skipped), budget,
                                may_guess=product_type is None)
                for p in parsed.products]
    kit_conflicts(products)
    if not any(p.lines for p in products):
        raise IngredientInputError(
            "No ingredient list was found in that text. Paste the list itself (names separated by commas), "
            "for example: Water, Glycerin, Niacinamide.")
    return IngredientReport(products=[p for p in products if p.lines] or products, truncated=parsed.truncated,
                            has_scan=scores is not None, product_type_chosen=product_type is not None)


_CONFLICT_CLASSES = frozenset(c for rule in CONFLICT_RULES for c in (rule.a, rule.b))


def kit_conflicts(products: Sequence[ProductReport]) -> None:
    """The products of one paste (a kit, a routine) are used together: each is checked against the others as
    against the shelf; a conflict names the other product of the kit. Only products holding an active some rule
    names take part, the first ``KIT_PRODUCTS_COMPARED`` of them (a paste of thousands of headings stays linear)."""
    taking_part = [(j, p) for j, p in enumerate(products) if _CONFLICT_CLASSES & conflict_classes(p).keys()]
    taking_part = taking_part[:KIT_PRODUCTS_COMPARED]
    for i, product in taking_part:
        for j, other in taking_part:
            if i != j:
                product.conflicts.extend(find_conflicts(product, other, f"{other.name or f'product {j + 1}'} "
                                                                      "(in this kit)"))


def _shelf_reports(shelf, kb: KnowledgeBase) -> list[ProductReport]:
    out: list[ProductReport] = []
    for item in shelf:
        if isinstance(item, ProductReport):
            out.append(item)
        else:
            out.extend(shelf_products(item[0], item[1], kb))
    return out


def shelf_products(name: str, text: str, kb: KnowledgeBase | None = None) -> tuple[ProductReport, ...]:
    """The reports of one saved product (a kit gives several, named "Kit: Serum"), without fuzzy guesses
    (only recognised names take part in conflicts). Remembered for the last 128 saved texts, so a page that
    shows the shelf on every render analyses each saved product once; treat the reports as read-only."""
    return _shelf_products(name, text, kb or default_kb())


@lru_cache(maxsize=128)
def _shelf_products(name: str, text: str, kb: KnowledgeBase) -> tuple[ProductReport, ...]:
    try:
        parsed = parse_label(text, kb.is_known)
    except Exception:  # noqa: BLE001 - a damaged shelf entry must not break the analysis of a new product
        return ()
    out = []
    for p in parsed.products:
        rep = _product_report(p.name or name, p.tokens, p.skipped, kb, None, [],
                              _product_type(None, p.name, name, p.skipped), FuzzyBudget(0.0), may_guess=True)
        rep.name = name if len(parsed.products) == 1 else f"{name}: {p.name or ''}".strip(": ")
        out.append(rep)
    return tuple(out)


# Washing surfactants by name (CosIng's functions also call emulsifiers and fatty alcohols "cleansing").
_WASHING = re.compile(r"BETAINE$|ISETHIONATE$|SARCOSINATE$|SULFOSUCCINATE$|TAURATE$|AMPHOACETATE$|GLUTAMATE$|"
                      r"GLUCOSIDE$|SULFONATE$")
_NOT_FORMULA = {"AQUA", "WATER", "ALOE BARBADENSIS LEAF JUICE"}


def washes_off(entries: Sequence[Entry]) -> bool:
    """A list led by a washing surfactant (one of the first two ingredients after water) is a rinse-off
    product: a shampoo or a cleanser is then not judged as a face cream when nothing else names its type."""
    firsts = [e for e in entries if e.inci not in _NOT_FORMULA][:2]
    return any("sulfate" in e.flags or "Foaming" in e.functions or _WASHING.search(e.inci) for e in firsts)


def _product_type(chosen: str | None, heading: str | None, name: str | None,
                  skipped: list[str]) -> tuple[str, bool]:
    """(type, guessed): the chosen type, else one guessed from the product's words."""
    if chosen is not None:
        return chosen, False
    # Only title-like lines before the list: directions ("after cleansing, apply ...") would mislead.
    titles = [t for t in skipped[:3] if len(t.split()) <= 8 and not t.rstrip().endswith(".")]
    return guess_product_type(heading, name, *titles)


def _product_report(name: str | None, tokens: list[Token], skipped: list[str], kb: KnowledgeBase,
                    scores: Mapping[str, float] | None, shelf: list[ProductReport],
                    product_type: tuple[str, bool], budget: FuzzyBudget | None = None,
                    may_guess: bool = False) -> ProductReport:
    """``may_guess``: no type was chosen, so one the words did not give may be read from the ingredients."""
    lines: list[IngredientLine] = []
    resolved: dict[str, list[Match]] = {}       # a name printed twice (a kit, a long paste) is resolved once
    for token in tokens:
        if token.name not in resolved:
            resolved[token.name] = resolve(token.name, kb, budget)
    if may_guess and not product_type[1] and washes_off(
            [m.entry for t in tokens for m in resolved[t.name] if m.entry is not None and not t.may_contain]):
        product_type = ("rinse_off", True)
    for token in tokens:
        matches = resolved[token.name]
        for m in matches:
            line = _line(len(lines) + 1, token, m, product_type[0])
            if len(matches) > 1 and m.query != token.name:
                line.text = m.query          # one part of an "(and)" blend or a run-together pair
            lines.append(line)
    one_pct = _position_hints(lines)
    unknown = list(dict.fromkeys(ing.text for ing in lines if not ing.recognised))
    report = ProductReport(name=name, lines=lines, actives=_actives(lines), flags=_flag_hits(lines), conflicts=[],
                           fit=concern_fit(lines, scores), unknown=unknown, skipped_text=skipped,
                           one_percent_after=one_pct, product_type=product_type[0],
                           product_type_guessed=product_type[1])
    for other in shelf:                     # only between products: one formula is made to be used as it is
        report.conflicts.extend(find_conflicts(report, other, other.name or "a saved product"))
    return report


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
        conflicts=find_conflicts(a, b, b.name or "Product B"),
    )
