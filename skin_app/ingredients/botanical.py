"""Plant names the inventory does not list: INCI botanical-name grammar. One job: a printed plant name -> the plant.

INCI names of plant ingredients are built as "Genus species [Part] Form" ("Ziziphus Jujuba Seed Extract",
"Rosa Canina Fruit Oil", "Citrus Aurantium Dulcis Flower Water"). The 2020 CosIng export lists many plants only
with some of their parts, so "Ziziphus Jujuba Fruit Extract" is missing although the jujuba seed and leaf
extracts are there, and labels often print the plant alone ("Rosmarinus Officinalis (Rosemary)"). This module
recognises such a name when:

- its Latin name (genus, species and any variety word) is a plant of the inventory: another part of the same
  plant is listed there, with a plant part word in at least one of its names or under two names or more;
- everything after the Latin name is plant parts and one form ("Flower/Leaf/Stem Extract", "Seed Oil",
  "Essential Oil"), or nothing (then the part is "not stated");
- no name of that plant carries an EU annex limit or ban, and its genus is not banned as a whole ("Phytolacca
  spp."): for those plants the part decides the verdict, so the name stays unrecognised and gets a "did you
  mean" instead. A plant some of whose names are EU-declarable fragrance allergens (lavender, rose), and an oil
  (or a plant of unstated part) of a genus whose oils are allergens (citrus, mint...; the same plant may be
  listed under another Latin name: "Citrus Bergamia" is the inventory's "Citrus Aurantium Bergamia"), is read
  with the uncertain allergen flag ``allergen_maybe``, never quietly.

The entry it returns is marked as inferred in its INCI field and text; it gets only the CosIng functions that
all listed names of the same plant and form share, the fragrance and fungal-acne flags only when all of them
carry them (or the label itself says "essential oil"), and never an EU verdict. Latin names also count when
printed in parentheses after a common name ("Goji Berry Extract (Lycium Barbarum)").
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace

from skin_app.ingredients.entry import Entry

# Plant parts as INCI botanical names print them (CTFA/PCPC nomenclature conventions and CosIng usage).
PARTS = frozenset("""
    LEAF LEAVES FLOWER FLOWERS BLOSSOM PETAL PETALS SEED SEEDS ROOT ROOTS FRUIT BERRY BERRIES BARK STEM STALK PEEL
    RIND KERNEL RHIZOME BUD BUDS NUT HERB WOOD HEARTWOOD TWIG BRANCH GERM BRAN PULP SPROUT SPROUTS SHOOT CALLUS
    CELL BULB TUBER NEEDLE CONE THALLUS HULL HUSK SHELL MYCELIUM SPOROCARP FROND CORM PERICARP POD SILK MERISTEM
    CALYX STIGMA POLLEN SAP CAMBIUM TOP TOPS AERIAL PLANT NODE LEAFLET SEEDCOAT
""".split())
# The form: what was made of the part. "ESSENTIAL OIL" is an OIL the label calls essential.
FORMS = frozenset("""
    EXTRACT OIL WATER BUTTER WAX CERA JUICE POWDER GUM RESIN ABSOLUTE FLOUR MEAL HYDROSOL DISTILLATE OLEORESIN
    BALSAM LATEX STARCH UNSAPONIFIABLES FIBER FIBERS
""".split())
PART_NOT_STATED = "(PART NOT STATED)"      # ends the INCI field of an inferred plant printed without its part
_PLURAL = {"LEAVES": "LEAF", "FLOWERS": "FLOWER", "PETALS": "PETAL", "SEEDS": "SEED", "ROOTS": "ROOT",
           "BERRIES": "BERRY", "BUDS": "BUD", "SPROUTS": "SPROUT", "TOPS": "TOP", "FIBERS": "FIBER"}
# First words that make a chemical or animal name, not a plant ("Hydrolyzed Wheat Protein", "Human ...").
_NOT_A_GENUS = frozenset("""
    HYDROLYZED HYDROGENATED HUMAN OZONIZED DEFATTED TRIMETHYLSILYL SHEEP BOVINE PORCINE EGG MILK SODIUM POTASSIUM
    CALCIUM MAGNESIUM ZINC COPPER SILVER GOLD IRON PEG PPG SEA SUCROSE FERMENTED SULFATED OXIDIZED ACETYLATED
    EPOXIDIZED ETHOXYLATED MALEATED SAPONIFIED BLOWN POLYGLYCERYL GLYCERYL ORGANIC NATURAL AMMONIUM TDI FERMENT
    SWEET BLACK WHITE RED GREEN YELLOW BITTER WILD ROYAL EVENING CARNAUBA CHICKEN DEER PIG FISH BEE GOAT COW HORSE
    SNAIL UMBILICAL FUSEL
""".split())
_CHEMICAL_PART = re.compile(r"METHYL|ETHYL|PROPYL|AMIDO|MONIUM|HYDROXY|OXIDIZED")
_LATIN_WORD = re.compile(r"^[A-Z][A-Z-]*[A-Z]$")
_CHEMICAL_END = re.compile(r"(?:ED|YL|ATE|IDE|IC|OL)$")
_PAREN = re.compile(r"\(([^()]*)\)")
_AUTHOR = re.compile(r"(?<!\s)\s+(?:L|LINN|DC|MILL|THUNB)\.?$")     # "Rumex Crispus L." (the botanist's abbreviation)
_FOOTNOTES = re.compile(r"[*†‡§+^#]+")
# Marketing words printed before a name ("Organic", "Cold-Pressed"): never part of the INCI name.
MARKETING_PREFIXES = re.compile(
    r"^(?:(?:certified|usda|organic|org\.?|bio|natural|pure|raw|wild|fair\s*trade|cold[- ]pressed|virgin|"
    r"extra[- ]virgin|unrefined|refined|fermented|micronized|non[- ]nano|nano|vegan|sustainably\s+sourced|"
    r"ecocert|cosmos|pharmaceutical[- ]grade)\s+)+", re.I)


def inferred_entry(template: Entry, inci: str, functions: tuple[str, ...], flags: frozenset[str], what: str) -> Entry:
    """An entry read by a name grammar: only its name, the functions and flags its relatives share and our text;
    no CAS number, ratings, actives or EU rules (none of those can be inferred from a name)."""
    return replace(template, inci=inci, cas="", functions=functions, aliases=(), what=what, pros="", cons="",
                   helps=(), aggravates=(), active="", flags=flags, comedogenic=None, irritancy=None,
                   rating_source="", eu_status="", eu_ref="", eu_limit="", evidence="", evidence_source="",
                   curated=False, eu_rules=())


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\s+", text.strip()) if w]


def _tail_words(words: list[str]) -> list[str]:
    """The slash-separated pieces of part words ("FLOWER/LEAF/STEM" -> 3 words)."""
    return [p for w in words for p in w.split("/") if p]


def _is_plant_tail(words: list[str]) -> bool:
    pieces = _tail_words(words)
    return bool(pieces) and all(p in PARTS or p in FORMS or p == "ESSENTIAL" for p in pieces)


def states_part_of(other: Entry, unstated: Entry) -> bool:
    """``other`` names the plant of ``unstated`` (an inferred plant printed without its part) with a part, and
    with the same form when one was printed: "Beet Root Extract" for "Beta Vulgaris"."""
    if not unstated.inci.endswith(PART_NOT_STATED) or other.inci.endswith(PART_NOT_STATED):
        return False
    words = unstated.inci[:-len(PART_NOT_STATED)].split()
    form = words.pop() if words[-1] in FORMS else None
    return other.inci.startswith(" ".join(words) + " ") and form in (None, other.inci.split()[-1])


class BotanicalIndex:
    """The plants of the inventory by Latin name, and the grammar that reads a plant name against them."""

    def __init__(self, entries: Iterable[Entry], synonyms: dict[str, str] | None = None,
                 common_names: dict[str, str] | None = None) -> None:
        """``synonyms``: older or variant Latin names -> the inventory's (data/ingredients_botanical_synonyms.csv);
        ``common_names``: English plant names -> the inventory's Latin name (data/ingredients_plant_common_names.csv),
        read only where a name starts with no Latin plant name ("Rice Bran Oil", "Ashwagandha Root Extract")."""
        self.by_taxon: dict[str, list[Entry]] = {}
        with_part: set[str] = set()
        banned_genera: set[str] = set()
        for e in entries:
            words = e.inci.split()
            for rule in e.eu_rules:
                for genus in re.findall(r"\b([A-Z][a-z]+) spp\b", rule.substance):
                    banned_genera.add(genus.upper())
            for i in range(2, min(5, len(words))):
                pieces = set(words[i].split("/"))
                if pieces & (PARTS | FORMS):
                    taxon = words[:i]
                    if self._taxon_like(taxon):
                        part = any(set(w.split("/")) & PARTS for w in words[i:])
                        for n in range(2, len(taxon) + 1):      # the species also stands for its varieties
                            key = " ".join(taxon[:n])
                            self.by_taxon.setdefault(key, []).append(e)
                            if part:
                                with_part.add(key)
                    break
        self.by_taxon = {k: v for k, v in self.by_taxon.items() if k in with_part or len(v) >= 2}
        self._unsafe = {k for k, v in self.by_taxon.items()
                        if k.split()[0] in banned_genera or any(e.eu_rules or "allergen" in e.flags for e in v)}
        # Plants unsafe only because some of their names are fragrance allergens (labelling, no annex limit)
        self._allergen_only = {k for k in self._unsafe if k.split()[0] not in banned_genera and
                               all(r.kind == "labelling" for e in self.by_taxon[k] for r in e.eu_rules)}
        self._allergen_oil_genera = {e.inci.split()[0] for v in self.by_taxon.values() for e in v
                                     if "allergen" in e.flags and e.inci.endswith(" OIL")}
        self._made: dict[str, Entry] = {}
        self._synonyms = {old: new for old, new in (synonyms or {}).items() if new in self.by_taxon}
        self._genera = {k.split()[0] for k in [*self.by_taxon, *self._synonyms]}
        self._common = {" ".join(k.upper().split()): v for k, v in (common_names or {}).items() if v in self.by_taxon}
        self._common_first = {k.split()[0] for k in self._common}

    @staticmethod
    def _taxon_like(words: list[str]) -> bool:
        if _CHEMICAL_END.search(words[0]):
            return False
        return all(_LATIN_WORD.match(w) and w not in PARTS and w not in FORMS and w not in _NOT_A_GENUS and
                   not _CHEMICAL_PART.search(w) for w in words)

    # -- reading a printed name ----------------------------------------------------------------------------
    def read(self, name: str, known: Callable[[str], Entry | None]) -> tuple[str, list[str]] | None:
        """'Organic Goji Berry Extract (Lycium Barbarum)' -> ('LYCIUM BARBARUM', ['BERRY', 'EXTRACT']); None when
        the name is not a plant of the inventory followed by nothing but parts and a form."""
        first = [_FOOTNOTES.sub("", w) for w in name.upper().split()[:4]]
        if "(" not in name and not any(w in self._genera or w in self._common_first for w in first):
            return None                                     # no genus where one could stand: the common case
        s = _FOOTNOTES.sub(" ", name.upper().replace("_", " "))
        s = MARKETING_PREFIXES.sub("", " ".join(s.split()))
        inner = [" ".join(_AUTHOR.sub("", p.strip()).split()) for p in _PAREN.findall(s)]
        outside = _words(_PAREN.sub(" ", s))
        found = self._taxon_prefix(outside) or self._common_prefix(outside)
        if found is not None:                               # "Ziziphus Jujuba (Jujube) Fruit Extract"
            taxon, tail = found[0], outside[found[1]:]
        else:                                               # "Corn (Zea Mays) Oil", "Goji Berry Extract (Lycium Barbarum)"
            named = [self._synonyms.get(p, p) for p in inner]
            plants = [p for p in named if p in self.by_taxon]
            if not plants:
                return None
            taxon = plants[0]
            k = len(outside)
            while k > 0 and _is_plant_tail(outside[k - 1:]):
                k -= 1
            tail, common = outside[k:], outside[:k]
            # The common name must be a name, not another ingredient or plant ("Glycerin (Olea Europaea)")
            other = known(" ".join(common)) if common else None
            if len(common) > 3 or not all(w.isalpha() and w not in _NOT_A_GENUS for w in common) or \
                    (other is not None and not other.inci.startswith(taxon)):
                return None
        if tail and not _is_plant_tail(tail):
            return None
        if not any(p in PARTS for p in _tail_words(tail)):
            # "Vitis Vinifera (Grape Seed) Extract": the part may stand in the common name
            for p in inner:
                parts = [w for w in _words(p) if w in PARTS]
                if parts and p != taxon:
                    tail = parts + tail
                    break
        return taxon, tail

    def common_tail(self, latin: str, common: str) -> list[str] | None:
        """The parts and form of a common name printed beside a Latin plant name with the same form
        ("Thyme Extract" beside "Thymus Vulgaris Extract" -> ['EXTRACT']); None when it is not one."""
        latin_words, words = _words(latin.upper()), _words(_FOOTNOTES.sub(" ", common.upper()))
        if self._taxon_prefix(latin_words) is None or not words or not latin_words or words[-1] != latin_words[-1] \
                or words[-1] not in FORMS:
            return None
        k = len(words)
        while k > 0 and _is_plant_tail(words[k - 1:]):
            k -= 1
        name = words[:k]
        if not name or len(name) > 3 or any(w in _NOT_A_GENUS or not w.isalpha() for w in name) or \
                self._taxon_prefix(words) is not None or any(w in self.by_taxon for w in name):
            return None
        return words[k:]

    def _taxon_prefix(self, words: list[str]) -> tuple[str, int] | None:
        """(the inventory's Latin name, how many words it took) for the words a name starts with."""
        for n in (4, 3, 2):
            if len(words) >= n:
                key = " ".join(words[:n])
                key = self._synonyms.get(key, key)
                if key in self.by_taxon:
                    return key, n
        return None

    def _common_prefix(self, words: list[str]) -> tuple[str, int] | None:
        """(the inventory's Latin name, how many words it took) for an English plant name a name starts with."""
        for n in (3, 2, 1):
            if len(words) >= n:
                latin = self._common.get(" ".join(words[:n]))
                if latin is not None:
                    return latin, n
        return None

    def infer(self, name: str, known: Callable[[str], Entry | None]) -> tuple[Entry, str] | None:
        """(entry, method) for a plant name: 'normalised' when the name read by the grammar is an inventory
        name ("Cedrus Atlantica Bark (Cedarwood) Essential Oil" -> CEDRUS ATLANTICA BARK OIL), 'botanical'
        for an inferred entry, None when not a plant of the inventory or when its part decides an EU verdict."""
        read = self.read(name, known)
        if read is None:
            return None
        taxon, tail = read
        essential = "ESSENTIAL" in tail
        pieces = [_PLURAL.get(w, w) for w in tail if w != "ESSENTIAL"]
        standard = " ".join([taxon] + pieces)
        hit = known(standard) if pieces else None
        if hit is not None:
            return hit, "normalised"
        if taxon in self._unsafe and taxon not in self._allergen_only:
            return None
        forms = [p for p in _tail_words(pieces) if p in FORMS]
        if len(forms) > 1:
            return None                                     # "Leaf Extract Oil": not one ingredient
        # "Lavandula Angustifolia (Lavender)", "Citrus Bergamia Oil" (the inventory's Citrus Aurantium Bergamia):
        # some oils of the plant, or of its genus under other Latin names, are allergens; which part this is the
        # label does not say, so the plant is read with the uncertain allergen flag, never quietly.
        maybe_allergen = taxon in self._allergen_only or \
            (forms in ([], ["OIL"]) and taxon.split()[0] in self._allergen_oil_genera)
        parts = [p for p in _tail_words(pieces) if p in PARTS]
        inci = standard if parts else " ".join([taxon] + pieces + [PART_NOT_STATED])
        if inci in self._made:
            return self._made[inci], "botanical"
        entry = self._make(inci, taxon, parts, forms[0] if forms else None, essential, maybe_allergen)
        if len(self._made) < 20_000:
            self._made[inci] = entry
        return entry, "botanical"

    def _make(self, inci: str, taxon: str, parts: list[str], form: str | None, essential: bool,
              maybe_allergen: bool) -> Entry:
        siblings = self.by_taxon[taxon]
        same_form = [e for e in siblings if form is not None and e.inci.split()[-1] == form]
        same_part = [e for e in same_form if parts and all(p in e.inci.replace("/", " ").split() for p in parts)]
        group = same_part or same_form
        functions: tuple[str, ...] = ()
        flags: frozenset[str] = frozenset()
        if group:
            shared = set(group[0].functions).intersection(*(set(e.functions) for e in group[1:]))
            functions = tuple(f for f in group[0].functions if f in shared and f != "Not Reported")
            flags = frozenset({"fragrance", "essential_oil", "fungal_acne"}).intersection(*(e.flags for e in group))
        if essential and form == "OIL":
            flags = flags | {"essential_oil", "fragrance"}
            flags = flags - {"fungal_acne"}
        if maybe_allergen:
            flags = flags | {"allergen_maybe"}
        plant = taxon.capitalize()
        said = ", ".join(p.lower() for p in parts) if parts else "part not stated"
        what = (f"A plant ingredient: {plant} ({said}{', ' + form.lower() if form else ''}). Recognised from its "
                f"Latin name; this exact name is not in the EU CosIng inventory (2020 export), so only the "
                f"functions its other listed parts share are shown, and no EU verdict is given.")
        return inferred_entry(siblings[0], inci, functions, flags, what)


# ---------------------------------------------------------------------------------------------------------------
# Ferments: "Microorganism/Substrate/... Ferment [Filtrate|Extract|Lysate...]"
# ---------------------------------------------------------------------------------------------------------------
# INCI names a ferment by what was fermented and by what: the microorganism first, then the substrates, each
# after a slash, then "Ferment" and what was taken from it ("Lactobacillus/Rice Ferment Filtrate").
_FERMENT = re.compile(r"^(?P<parts>[A-Z0-9][A-Z0-9 ,.'-]*(?:/[A-Z0-9][A-Z0-9 ,.'-]*)*) FERMENT"
                      r"(?P<tail>(?: (?:FILTRATE|EXTRACT|LYSATE|LEES|OIL|POWDER|WATER|HYDROLYSATE|CURD))*)$")
_SLASH_SPACES = re.compile(r" ?/ ?")


def _ferment_parts(name: str) -> tuple[tuple[str, ...], str] | None:
    """'Bacillus/Soybean/ Folic Acid Ferment Extract*' -> (('BACILLUS', 'SOYBEAN', 'FOLIC ACID'), 'EXTRACT')."""
    s = " ".join(_FOOTNOTES.sub(" ", name.upper()).split())
    m = _FERMENT.match(_SLASH_SPACES.sub("/", s)) if "FERMENT" in s else None
    if m is None:
        return None
    return tuple(p.strip() for p in m.group("parts").split("/")), m.group("tail").strip()


class FermentIndex:
    """The inventory's ferments by their microorganism and substrates, and the grammar that reads one.

    A printed ferment is recognised when it names the same microorganism and substrates as an inventory ferment
    in another order ("Bacillus/Soybean/Folic Acid Ferment Extract" is BACILLUS/FOLIC ACID/SOYBEAN FERMENT
    EXTRACT), or, when the inventory lacks it, when its first name is a microorganism that starts inventory
    ferments and every substrate is a substrate of an inventory ferment or a known name. The inferred entry gets
    only the functions and flags all inventory ferments of that microorganism and ending share, and never an EU
    verdict (no annex entry names a ferment)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.by_parts: dict[tuple[frozenset[str], str], Entry] = {}
        self.organisms: dict[tuple[str, str], list[Entry]] = {}
        self.substrates: set[str] = set()
        for e in entries:
            read = _ferment_parts(e.inci)
            if read is None or e.eu_rules:
                continue
            parts, tail = read
            self.by_parts.setdefault((frozenset(parts), tail), e)
            if len(parts) >= 2:
                self.organisms.setdefault((parts[0], tail), []).append(e)
                self.substrates.update(parts[1:])
        self._made: dict[str, Entry] = {}

    def infer(self, name: str, known: Callable[[str], Entry | None]) -> tuple[Entry, str] | None:
        read = _ferment_parts(name)
        if read is None:
            return None
        parts, tail = read
        listed = self.by_parts.get((frozenset(parts), tail))
        if listed is not None:
            return listed, "normalised"
        family = self.organisms.get((parts[0], tail))
        if family is None or len(parts) < 2 or len(set(parts)) < len(parts) or \
                not all(p in self.substrates or known(p) is not None for p in parts[1:]):
            return None
        inci = "/".join(parts) + " FERMENT" + (" " + tail if tail else "")
        if inci not in self._made and len(self._made) < 20_000:
            self._made[inci] = self._make(inci, family)
        return self._made.get(inci) or self._make(inci, family), "botanical"

    @staticmethod
    def _make(inci: str, family: list[Entry]) -> Entry:
        shared = set(family[0].functions).intersection(*(set(e.functions) for e in family[1:]))
        functions = tuple(f for f in family[0].functions if f in shared and f != "Not Reported")
        flags = frozenset(family[0].flags).intersection(*(e.flags for e in family[1:])) - {"allergen"}
        organism = inci.split("/")[0].capitalize()
        what = (f"A ferment: {organism} grown on {inci.split('/', 1)[1].split(' FERMENT')[0].lower()}. Recognised "
                f"from its INCI name; this exact name is not in the EU CosIng inventory (2020 export), so only the "
                f"functions other {organism} ferments of this kind share are shown, and no EU verdict is given.")
        return inferred_entry(family[0], inci, functions, flags, what)
