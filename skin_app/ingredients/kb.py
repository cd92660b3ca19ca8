"""The ingredient knowledge (data/ingredients.csv) and name matching. One job: a printed name -> an entry.

Matching goes exact (the INCI name itself), then alias (common, old and translated names), then
normalised (case, punctuation, spacing, British spellings, the common name in parentheses, synonyms
separated by slashes), then botanical (a plant of the inventory with a part or form it does not list, read by
the INCI plant-name grammar in ``botanical``, which also reads ferments), then spelling (one-letter typos repaired by
``spelling``, never for a name the EU bans anywhere or a fragrance allergen), then fuzzy. A fuzzy match is only a suggestion ("did you mean"): it is never
treated as the ingredient, so it can never raise a ban; a suggestion that is a fragrance allergen raises
only an "uncertain allergen" flag. Fuzzy matching runs within a time budget (``FuzzyBudget``); the
EU rules of each entry come from data/ingredients_eu.csv (see ``eu``).
"""
from __future__ import annotations

import bisect
import csv
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from skin_app.config import ingredients_csv_path
from skin_app.ingredients.botanical import (
    FORMS,
    MARKETING_PREFIXES,
    PARTS,
    BotanicalIndex,
    FermentIndex,
    states_part_of,
)
from skin_app.ingredients.entry import BOOL_FLAGS, Entry
from skin_app.ingredients.eu import ALL_TYPES, SKIN_AND_HAIR, EuRule, verdict
from skin_app.ingredients.parse import MAX_TOKEN_CHARS
from skin_app.ingredients.spelling import SpellingIndex


@dataclass(frozen=True)
class Match:
    """What a printed name turned out to be."""
    query: str
    entry: Entry | None                   # None: not recognised (a fuzzy guess is only a suggestion)
    method: str                           # exact, alias, normalised, botanical, spelling, fuzzy, unknown
    suggestion: Entry | None = None       # the fuzzy "did you mean"
    score: float = 0.0

    @property
    def recognised(self) -> bool:
        return self.entry is not None


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------
# (the text a spelling needs, its pattern, the spelling the inventory uses): a pattern runs only when its text
# is there, which keeps building the knowledge base's 60,000 keys quick.
_SPELLING = [
    ("sulph", re.compile(r"sulph"), "sulf"), ("aluminium", re.compile(r"aluminium"), "aluminum"),
    ("colour", re.compile(r"colour"), "color"), ("glycerine", re.compile(r"glycerine\b"), "glycerin"),
    ("extrait", re.compile(r"\bextrait\b"), "extract"), ("ext", re.compile(r"\bext\.?$"), "extract"),
    ("hc", re.compile(r"\bhc[li]\b"), "hydrochloride"),       # "HCl", and "HCI" with the l read as an I
]
_FIVE_DIGITS = re.compile(r"\d{5}")
_NOT_KEY = re.compile(r"[^a-z0-9]+")
# (no two optional runs of spaces side by side: each way to share a run between them would be tried)
_CI_RE = re.compile(r"\b(?:c(?:\s*\.\s*|\s*)i(?:\s*\.)?|colou?r\s+index)(?:\s*[-:#])?\s*(?:no\.?\s*)?(\d{5})\b", re.I)


_SPACED_PUNCTUATION = re.compile(r" ?([-/,()]) ?")


def exact_key(name: str) -> str:
    s = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    return _SPACED_PUNCTUATION.sub(r"\1", s)


def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def loose_key(name: str) -> str:
    s = unicodedata.normalize("NFKC", name).casefold()
    if not s.isascii():
        s = _strip_accents(s)
    if _FIVE_DIGITS.search(s):
        s = _CI_RE.sub(r"ci \1", s)
    for needle, pattern, repl in _SPELLING:
        if needle in s:
            s = pattern.sub(repl, s)
    return _NOT_KEY.sub("", s)


_CI_IN_PARENS = re.compile(r"\(\s*C\.?\s*I\.?\s*(\d{5})\s*\)", re.I)
_BOTANICAL_TAIL = re.compile(r"\b(?:EXTRACT|OIL|WATER|BUTTER|JUICE|POWDER|WAX|CERA)$")
_PAREN = re.compile(r" ?\(([^()]*)\) ?")        # on a name with single spaces
_SUFFIXES = re.compile(r"(?<!\s)\s+(?:\(?(?:organic|bio|natural|vegan|non[- ]gmo|nano|non[- ]nano|ecocert)\)?)$", re.I)


def name_variants(name: str) -> list[str]:
    """Forms of a printed name worth looking up, most literal first."""
    out: list[str] = [name]

    def add(v: str) -> None:
        v = re.sub(r"\s+", " ", v).strip(" -.,;")
        if v and v not in out:
            out.append(v)

    add(MARKETING_PREFIXES.sub("", name))
    add(_SUFFIXES.sub("", MARKETING_PREFIXES.sub("", name)))
    if "(" in name:
        outside = _PAREN.sub(" ", " ".join(name.split()))
        add(outside)
        add(MARKETING_PREFIXES.sub("", outside))
        for inner in re.findall(r"\(([^()]*)\)", name):
            add(inner)
            add(MARKETING_PREFIXES.sub("", inner))
        # "Aqua (Water, Eau)" / "Iron Oxides (CI 77491, CI 77492)": each piece of the parenthesis
        for inner in re.findall(r"\(([^()]*)\)", name):
            for piece in re.split(r"[,/;]", inner):
                add(piece)
    if name.lower().endswith(" ext."):
        add(name[:-5] + " Extract")
    # "Caprylic/Capric Triglycerides", "Iron Oxides": a plural the INCI name does not use
    for v in list(out):
        if len(v) > 5 and v[-1] in "sS" and v[-2:].lower() not in ("ss", "us", "is"):
            add(v[:-1])
    return out


# ---------------------------------------------------------------------------------------------
# The knowledge base
# ---------------------------------------------------------------------------------------------
def _int_or_none(v: str) -> int | None:
    v = (v or "").strip()
    if not v:
        return None
    try:
        return int(float(v.split("-")[0]))
    except ValueError:
        return None


def load_eu_rules(path: Path) -> dict[str, tuple[EuRule, ...]]:
    out: dict[str, list[EuRule]] = {}
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            types = frozenset(t for t in r["types"].split() if t != "-")
            if r["types"] == "all":
                types = ALL_TYPES
            out.setdefault(r["inci"], []).append(EuRule(
                annex=r["annex"], ref=r["ref"], kind=r["kind"], types=types, nano=r["nano"] == "1",
                max_conc=r["max_conc"], scope=r["scope"], conditions=r["conditions"], substance=r["substance"]))
    return {k: tuple(v) for k, v in out.items()}


def load_botanical_synonyms(path: Path) -> dict[str, str]:
    """Older or variant Latin plant names -> the inventory's ("MATRICARIA RECUTITA" -> "CHAMOMILLA RECUTITA")."""
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        return {" ".join(r["old_prefix"].split()).upper(): " ".join(r["inci_prefix"].split()).upper()
                for r in csv.DictReader(fh) if r.get("old_prefix") and r.get("inci_prefix")}


def load_common_names(path: Path) -> dict[str, str]:
    """English plant names -> the inventory's Latin name ("rice" -> "ORYZA SATIVA")."""
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        return {r["common"]: r["inci_prefix"] for r in csv.DictReader(fh) if r.get("common") and r.get("inci_prefix")}


def _split(v: str, sep: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in (v or "").split(sep) if x.strip())


def _same_plant_and_form(entry: Entry, genus: str, printed: str) -> bool:
    """Whether a plant name's common-name variant matched the plant itself: the same genus ("Anthemis Nobilis
    (Chamomile)" must not pick German chamomile) and, when the label prints a form, the same form
    ("Butyrospermum Parkii (Shea Butter) Extract" is an extract, not the butter)."""
    words = entry.inci.split()
    form = printed.split()[-1].upper()
    return words[0] == genus and (form not in FORMS or words[-1] == form)


class KnowledgeBase:
    def __init__(self, entries: list[Entry], botanical_synonyms: dict[str, str] | None = None,
                 infer: bool = True, common_names: dict[str, str] | None = None) -> None:
        """``infer``: also read unlisted plant names (Latin or English, ``common_names``) and ferments by their
        grammar and repair one-letter typos (off only to measure what they add)."""
        self.infer = infer
        self.entries = entries
        self.by_inci: dict[str, Entry] = {}
        self._exact: dict[str, Entry] = {}
        self._alias: dict[str, Entry] = {}
        self._loose: dict[str, Entry] = {}
        for e in entries:
            self.by_inci[e.inci] = e
            self._exact.setdefault(exact_key(e.inci), e)
        for e in entries:
            for a in e.aliases:
                k = exact_key(a)
                if k not in self._exact:
                    self._alias.setdefault(k, e)
        # Loose keys: INCI names first (a curated or shorter name wins a collision), then aliases.
        for e in sorted(entries, key=lambda x: (not x.curated, len(x.inci))):
            self._loose.setdefault(loose_key(e.inci), e)
        for e in entries:
            for a in e.aliases:
                self._loose.setdefault(loose_key(a), e)
        self._by_genus: dict[str, list[Entry]] = {}
        for e in entries:
            if len(e.inci.split()) >= 3 and _BOTANICAL_TAIL.search(e.inci):
                self._by_genus.setdefault(e.inci.split()[0], []).append(e)
        self._genera = set(self._by_genus)
        self.common_names = common_names or {}
        self.botanical = BotanicalIndex(entries, botanical_synonyms, self.common_names)
        self.ferments = FermentIndex(entries)
        self.spelling = SpellingIndex([e.inci for e in entries] + [a for e in entries for a in e.aliases])
        self._fuzzy_keys = [k for k in self._loose if len(k) >= 4]
        self._fuzzy_entries = [self._loose[k] for k in self._fuzzy_keys]
        # The fragrance allergens' names alone: a cheap check that still runs when the time budget is spent.
        allergen = [i for i, e in enumerate(self._fuzzy_entries) if "allergen" in e.flags]
        self._fuzzy_index = ByLength(self._fuzzy_keys, self._fuzzy_entries)
        self._allergen_index = ByLength([self._fuzzy_keys[i] for i in allergen], [self._fuzzy_entries[i] for i in allergen])
        self._cache: dict[str, Match] = {}
        self._lookups: dict[str, tuple[Entry, str] | None] = {}
        self._known: dict[str, bool] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_csv(cls, path: str | Path) -> KnowledgeBase:
        """Reads data/ingredients.csv and, beside it, the EU rules in ingredients_eu.csv."""
        rules = load_eu_rules(Path(path).with_name("ingredients_eu.csv"))
        synonyms = load_botanical_synonyms(Path(path).with_name("ingredients_botanical_synonyms.csv"))
        common = load_common_names(Path(path).with_name("ingredients_plant_common_names.csv"))
        entries = []
        with open(path, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                entries.append(Entry(
                    inci=r["inci"], cas=r["cas"], functions=_split(r["functions"], ";"),
                    aliases=_split(r["aliases"], "|"), what=r["what"], pros=r["pros"], cons=r["cons"],
                    helps=_split(r["helps"], ";"), aggravates=_split(r["aggravates"], ";"), active=r["active"],
                    flags=frozenset(f for f in BOOL_FLAGS if r.get(f) == "1"),
                    comedogenic=_int_or_none(r["comedogenic"]), irritancy=_int_or_none(r["irritancy"]),
                    rating_source=r["rating_source"], eu_status=r["eu_status"], eu_ref=r["eu_ref"],
                    eu_limit=r["eu_limit"], evidence=r["evidence"], evidence_source=r["evidence_source"],
                    curated=r["curated"] == "1", eu_rules=rules.get(r["inci"], ()),
                ))
        return cls(entries, synonyms, common_names=common)

    def __len__(self) -> int:
        return len(self.entries)

    # -- lookups without guessing -------------------------------------------------------------
    def _direct(self, name: str) -> tuple[Entry, str] | None:
        k = exact_key(name)
        e = self._exact.get(k)
        if e is not None:
            return e, "exact"
        e = self._alias.get(k)
        if e is not None:
            return e, "alias"
        e = self._loose.get(loose_key(name))
        if e is not None:
            return e, "normalised"
        return None

    def _entry_named(self, name: str) -> Entry | None:
        hit = self._direct(name)
        return hit[0] if hit is not None else None

    def lookup(self, name: str) -> tuple[Entry, str] | None:
        """Exact, alias or normalised match of any variant of the name; None if not recognised.
        Remembered: the parser and the matcher ask about the same names."""
        try:
            return self._lookups[name]
        except KeyError:
            pass
        if len(name) > MAX_TOKEN_CHARS:
            return None                 # no ingredient name is this long (and none is looked up at this length)
        result = None
        variants = name_variants(name)
        genus = self._genus_of(name)
        for i, v in enumerate(variants):
            hit = self._direct(v)
            if hit is None:
                continue
            if i and genus and not v.upper().startswith(genus) and not _same_plant_and_form(hit[0], genus, name):
                continue
            result = hit if i == 0 else (hit[0], "normalised")
            if i and hit[1] != "exact":
                ci = _CI_IN_PARENS.search(name)  # "Violet 2 (CI 60730)": the colour index number decides
                by_ci = self._direct(f"CI {ci.group(1)}") if ci is not None else None
                if by_ci is not None:
                    result = (by_ci[0], "normalised")
            break
        if result is None and self.infer:
            result = self.botanical.infer(name, self._entry_named) or \
                self.ferments.infer(name, self._entry_named) or self._repaired(name)
        if len(self._lookups) > 200_000:
            self._lookups.clear()
        self._lookups[name] = result
        return result

    def _repaired(self, name: str) -> tuple[Entry, str] | None:
        """A name with one-letter typos repaired (``spelling``), accepted only for an ingredient that
        no EU annex bans in any kind of product and that is no fragrance allergen or formaldehyde releaser: a
        typo never raises a ban or an allergen flag (those names get a "did you mean")."""
        target = self._repair_target(name)
        if target is None or {"allergen", "formaldehyde_releaser"} & target.flags or \
                any(verdict(target.eu_rules, t).level == "not_permitted" for t in SKIN_AND_HAIR):
            return None
        return target, "spelling"

    def _repair_target(self, name: str) -> Entry | None:
        """The ingredient a name means once its one-letter typos are repaired, accepted or not: None unless the
        repaired spellings that are inventory names all name one ingredient."""
        hits = {hit[0].inci: hit[0] for hit in map(self.lookup, self.spelling.repairs(name)) if hit is not None}
        return next(iter(hits.values())) if len(hits) == 1 else None

    def synonym_pair(self, first: str, second: str) -> Entry | None:
        """One ingredient printed under two names ("Aqua - Water", "Aqua/Watter", "Butyrospermum Parkii/Shea
        Buttter"): the entry when one name is known and the other is the same substance or close to one of
        its names, or when the Latin half plus the other half's last word is close to a name of that plant.
        None otherwise (two different ingredients, or nothing known)."""
        hits = [self.lookup(first), self.lookup(second)]
        known = [h[0] for h in hits if h is not None]
        if len(known) == 2:
            if same_substance(known[0], known[1]):
                return known[0]
            # "Curcuma Longa Extract/Turmeric Root Extract": one plant and form, the part named in one half only
            for unstated, named in ((known[0], known[1]), (known[1], known[0])):
                if states_part_of(named, unstated):
                    return named
            return None
        if len(known) == 1:
            entry = known[0]
            other = second if hits[0] is not None else first
            names = [loose_key(entry.inci)] + [loose_key(a) for a in entry.aliases]
            k = loose_key(other)
            if len(k) >= 4 and max(fuzz.ratio(k, n) for n in names) >= 85:
                return entry
            # "Limnanthes Alba Seed Oil / Meadowfoam Seed Oil": the Latin name and the plant's common name
            # with the same part ("Seed Oil"); the Latin one is the INCI name.
            latin, common = (first, second) if hits[0] is not None else (second, first)
            tail = [w.lower() for w in latin.split()[-2:]]
            if entry.inci.split()[0] in self._genera and len(common.split()) >= 2 and \
                    [w.lower() for w in common.split()[-len(tail):]] == tail and \
                    common.split()[0].upper() not in self._genera:
                return entry
            # "Thymus Vulgaris Extract/Thyme Extract", "Curcuma Longa Extract/Turmeric Root Extract": the plant's
            # common name with the same form; a part named only in the common half completes the Latin one.
            common_tail = self.botanical.common_tail(latin, common)
            if common_tail is None:
                return None
            read = self.botanical.read(latin, self._entry_named)
            if read is not None and any(w in PARTS for w in common_tail) and not any(w in PARTS for w in read[1]):
                fuller = self.lookup(" ".join([read[0], *common_tail]))
                if fuller is not None:
                    return fuller[0]
            return entry
        latin = " ".join(first.split()).upper()
        if len(latin.split()) < 2 or latin.split()[0] not in self._genera or not second.split():
            return None
        plant = [e for e in self._by_genus.get(latin.split()[0], ()) if e.inci.startswith(latin + " ")]
        if not plant:
            return None
        k = loose_key(f"{latin} {second.split()[-1]}")
        best = max(plant, key=lambda e: fuzz.ratio(k, loose_key(e.inci)))
        return best if fuzz.ratio(k, loose_key(best.inci)) >= 90 else None

    def _genus_of(self, name: str) -> str | None:
        """'Anthemis Nobilis (Chamomile)' -> 'ANTHEMIS' when the name starts with a plant genus of the inventory."""
        if "(" not in name:
            return None
        words = _PAREN.sub(" ", " ".join(name.split())).split()
        if len(words) < 2:
            return None
        first = words[0].upper()
        return first if first in self._genera else None

    def is_known(self, name: str) -> bool:
        """Whether the name, or one of its slash-printed synonyms, is recognised. Remembered: the parser asks
        about every segment several times while it decides what is a list."""
        try:
            return self._known[name]
        except KeyError:
            pass
        known = self.lookup(name) is not None or \
            any(self.lookup(p) is not None for p in split_synonyms(name) if len(p) > 2)
        with self._lock:
            if len(self._known) > 200_000:
                self._known.clear()
            self._known[name] = known
        return known

    # -- full match -----------------------------------------------------------------------------
    def forget_matches(self) -> None:
        """Empties what earlier calls remembered about names (matches, lookups, known names), so the next
        analysis does all its work again: what benchmarks and timing tests measure."""
        with self._lock:
            self._cache.clear()
            self._lookups.clear()
            self._known.clear()

    def match(self, name: str, fuzzy: bool = True, budget: FuzzyBudget | None = None) -> Match:
        """``budget``: once spent, a name gets only the cheap allergen "did you mean" (and is not cached)."""
        key = name if fuzzy else "\x00" + name
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        hit = self.lookup(name)
        if hit is not None:
            result = Match(name, hit[0], hit[1], score=100.0)
        elif fuzzy and budget is not None and budget.spent():
            return self._fuzzy(name, self._allergen_index, variants=2)
        elif fuzzy:
            # A one-letter typo of a name a typo may not decide ("Geranoil"): that name is the "did you mean"
            target = self._repair_target(name) if self.infer else None
            result = Match(name, None, "fuzzy", suggestion=target, score=round(fuzz.ratio(
                loose_key(name), loose_key(target.inci)), 1)) if target is not None else self._fuzzy(name)
        else:
            result = Match(name, None, "unknown")
        with self._lock:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = result
        return result

    def _fuzzy(self, name: str, index: ByLength | None = None, variants: int = 4) -> Match:
        index = self._fuzzy_index if index is None else index
        best: tuple[Entry, float] | None = None
        for v in name_variants(name)[:variants]:
            k = loose_key(v)
            if len(k) < 5 or len(k) > 120:
                continue
            cutoff = 90.0 if len(k) < 12 else 87.0
            found = index.best(k, cutoff)
            if found is not None and (best is None or found[1] > best[1]):
                best = found
        if best is None:
            return Match(name, None, "unknown")
        return Match(name, None, "fuzzy", suggestion=best[0], score=round(best[1], 1))


class ByLength:
    """Names for fuzzy matching, grouped by length. ``fuzz.ratio`` is 100 x (1 - indel distance / (la + lb)), and
    the indel distance is at least |la - lb|, so a name far longer or shorter than the query cannot reach the
    cut-off. Only the names of a length that can reach it are scored, and each query no longer converts every
    name (a paste of 16,000 unknown names spent most of its time there). The answer is ``process.extractOne``'s
    over the whole list: the best score, and among equal scores the name listed first."""

    def __init__(self, keys: list[str], entries: list[Entry]) -> None:
        order = sorted(range(len(keys)), key=lambda i: (len(keys[i]), i))
        self.keys = [keys[i] for i in order]
        self.entries = [entries[i] for i in order]
        self.positions = order                      # where each name stood in the list as given
        self.lengths = [len(k) for k in self.keys]

    def best(self, query: str, cutoff: float) -> tuple[Entry, float] | None:
        e = 1.0 - cutoff / 100.0
        q = len(query)
        lo = bisect.bisect_left(self.lengths, q * (1 - e) / (1 + e) - 1e-9)
        hi = bisect.bisect_right(self.lengths, q * (1 + e) / (1 - e) + 1e-9)
        if lo >= hi:
            return None
        found = process.extract(query, self.keys[lo:hi], scorer=fuzz.ratio, score_cutoff=cutoff, limit=None)
        if not found:
            return None
        top = max(score for _, score, _ in found)
        i = min((lo + j for _, score, j in found if score == top), key=lambda j: self.positions[j])
        return self.entries[i], top


_CAS_NUMBER = re.compile(r"\b\d{2,7}-\d{2}-\d\b")


def same_substance(a: Entry, b: Entry) -> bool:
    """Two entries name one substance: the same INCI, a shared CAS number, or one lists the other's name
    among its aliases ("Cera Alba" / "Beeswax", "Mica" / "CI 77019")."""
    if a.inci == b.inci:
        return True
    if set(_CAS_NUMBER.findall(a.cas)) & set(_CAS_NUMBER.findall(b.cas)):
        return True
    return exact_key(b.inci) in {exact_key(x) for x in a.aliases} or \
        exact_key(a.inci) in {exact_key(x) for x in b.aliases}


class FuzzyBudget:
    """Wall-clock time one analysis may spend on fuzzy "did you mean" look-ups over all names (a paste of
    10,000 unknown names would otherwise take about a minute); after it, only fragrance allergens are tried."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.perf_counter() + seconds

    def spent(self) -> bool:
        return time.perf_counter() > self.deadline


def split_synonyms(name: str) -> list[str]:
    """'Water/Aqua/Eau' -> ['Water', 'Aqua', 'Eau']; slashes inside parentheses are left alone."""
    parts: list[str] = []
    buf: list[str] = []
    depth = 0
    for ch in name:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == "/" and depth == 0:
            parts.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf).strip())
    return [p for p in parts if p]


_default_lock = threading.Lock()


@lru_cache(maxsize=4)
def _load(path: str) -> KnowledgeBase:
    return KnowledgeBase.from_csv(path)


def default_kb() -> KnowledgeBase:
    """The shipped knowledge, loaded once per process."""
    with _default_lock:
        return _load(str(ingredients_csv_path()))
