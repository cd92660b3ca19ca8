"""Turns a pasted ingredient label into products and ingredient tokens. One job: text in, tokens out.

Real labels are messy (see ``docs/INGREDIENTS_SOURCES.md`` and the tests, which are built from real
labels): marketing text before the list, "Ingredients:" headers in several languages, "May contain /
+/-" shade blocks, commas inside parentheses and chemical names ("1,2-Hexanediol"), percentages glued
to the next name, footnote asterisks, "(and)" blends, multi-product kits, ligatures, mojibake.

Nothing here knows what an ingredient *is*: deciding whether a chunk of text is a list or prose uses
an ``is_known`` callback supplied by the matcher, so this module stays testable on its own.
"""
from __future__ import annotations

import ast
import bisect
import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from skin_app.limits import INGREDIENT_INPUT_MAX

# A paste larger than this is cut (a long real label is about 3,000 characters; a kit about 20,000).
# A single token longer than this is not an ingredient name (the longest CosIng name is ~1,900
# characters, but those never appear on labels; real label tokens stay under ~150).
MAX_TOKEN_CHARS = 300


@dataclass(frozen=True)
class Token:
    """One ingredient as it appears on the label (frozen: make_token hands the same one out for the same text)."""
    text: str                     # as printed (trimmed)
    name: str                     # cleaned for matching: no percentage, no footnote marks
    percent: str | None = None    # "2%" when the label states it
    may_contain: bool = False     # inside a "May contain / +/-" shade block
    footnote: str = ""            # the asterisks or daggers the label put on it


@dataclass
class ParsedProduct:
    name: str | None                       # a kit's product heading, or None
    tokens: list[Token] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # text judged not to be part of the list


@dataclass
class ParsedLabel:
    products: list[ParsedProduct]
    truncated: bool = False                # the paste was longer than INGREDIENT_INPUT_MAX


# ---------------------------------------------------------------------------------------------
# Text clean-up
# ---------------------------------------------------------------------------------------------
_MOJIBAKE = re.compile(r"[ÃÂâ][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
                       r"\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\ufeff\ufffd]")
# A script/style block or comment is cut whole, to its end; any other tag is cut alone (see _strip_tags).
_BLOCK_START = re.compile(r"<\s*(script|style)\b|<!--", re.I)
_BLOCK_END = {"script": re.compile(r"<\s*/\s*script\s*>", re.I), "style": re.compile(r"<\s*/\s*style\s*>", re.I),
              "<!--": re.compile(r"-->")}
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,500}>")
_BR_TAG = re.compile(r"<\s*(br|/p|/li|/div|p|li)\b[^<>]{0,100}>", re.I)


def fix_mojibake(text: str) -> str:
    """UTF-8 text that was decoded as Windows-1252 ("Ã©" for "é", "â€™" for "’"), repaired when it clearly is."""
    if not _MOJIBAKE.search(text):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        return fixed
    # Mixed text: repair each run separately.
    def repair(m: re.Match) -> str:
        try:
            return m.group(0).encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return m.group(0)
    return re.sub(r"[ÃÂâ][\x80-\xbf\u0152-\u20ac\u2122]{1,2}", repair, text)


_TRANSLATE = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u3000": " ", "\t": " ",
    "\u2122": "", "\u00ae": "", "\u00a9": "", "\u2120": "",
    "\uff0c": ",", "\u3001": ",", "\u060c": ",", "\uff1a": ":", "\uff08": "(", "\uff09": ")", "\uff1b": ";",
    "\\": "/",
    "\u2022": ",", "\u00b7": ",", "\u25cf": ",", "\u25aa": ",", "\u2219": ",",
})


def clean_text(text: str) -> tuple[str, bool]:
    """Normalises a paste: size cap, mojibake, ligatures (NFKC), control characters, HTML tags, quotes."""
    if not isinstance(text, str):
        raise TypeError("ingredient text must be a string")
    truncated = len(text) > INGREDIENT_INPUT_MAX
    text = text[:INGREDIENT_INPUT_MAX]
    text = fix_mojibake(text)
    if "<" in text and ">" in text:
        text = _BR_TAG.sub("\n", text)
        text = _strip_tags(text)
    if "&" in text and ";" in text:
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFKC", text)          # ﬁ -> fi, full-width letters, superscripts
    text = text.translate(_TRANSLATE)
    text = _CONTROL.sub(" ", text)
    text = _SPACE_RUN.sub(_space_run, text)              # runs of spaces, tabs, NBSP, zero-width marks: one
    return text, truncated


# Each match starts where its run starts (the look-behind), so a long run is read once, not once per space.
_SPACE_RUN = re.compile(r"(?<! ) *\n[ \n]*| {2,}")


def _space_run(m: re.Match) -> str:
    return "\n" if "\n" in m.group(0) else " "


def _strip_tags(text: str) -> str:
    """HTML tags out (script/style blocks and comments whole) in one pass. A block's end is searched for once
    per kind of block (with no end after one opener there is none after the next), so a paste of openers
    costs linear time, not one scan to the end per opener."""
    out: list[str] = []
    pos = i = 0
    no_end: set[str] = set()
    while (i := text.find("<", i)) >= 0:
        block = _BLOCK_START.match(text, i)
        kind = (block.group(1) or block.group(0)).lower() if block else ""
        end = None
        if kind and kind not in no_end:
            closing = _BLOCK_END[kind].search(text, block.end()) if block else None
            if closing is None:
                no_end.add(kind)
            else:
                end = closing.end()
        if end is None:
            tag = _TAG.match(text, i)
            end = tag.end() if tag else None
        if end is None:
            i += 1
            continue
        out.append(text[pos:i])
        out.append(" ")
        pos = i = end
    out.append(text[pos:])
    return "".join(out)


_LIST_ITEM_SEPARATOR = re.compile(r"""['"]\s*,\s*['"]""")


def unwrap_list_literal(text: str) -> str:
    """Some shops export the list as a Python/JSON list of strings ("['Step 1:', 'Water, ...']"): one line each."""
    s = text.strip()
    if len(s) >= 4 and s[0] == "[" and s[-1] == "]" and s[1] in "'\"":
        try:
            value = ast.literal_eval(s) if len(s) < 100_000 else None
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return "\n".join(value)
        if value is None and s[-2] == s[1]:
            # A curly apostrophe inside an item ("Extrait D’orge") became a straight one during clean-up and
            # broke the literal: split at the quote-comma-quote between items instead.
            return "\n".join(_LIST_ITEM_SEPARATOR.split(s[2:-2]))
    return text


# ---------------------------------------------------------------------------------------------
# Headers and product headings
# ---------------------------------------------------------------------------------------------
_HEADER_WORDS = (
    r"ingredients?|ingredient\s+list|inci|inci\s+list|composition|inhaltsstoffe|bestandteile|zutaten|"
    r"zusammensetzung|samenstelling|sk[łl]ad|composici[óo]n|"
    r"ingr[ée]dients?|ingredientes?|ingredienti|sk[łl]adniki|ingredi[ëe]nten|ingrediensen|ainesosat|"
    r"innehåll|ingredienser|obsah|sastojci|formula|contents?"
)
# "Ingredients", "Full ingredient list", "Active Ingredients", "Ingredients/Ingrédients", "INCI"
_HEADER_RE = re.compile(
    rf"^[\s\-*•\[(]*(?:(?:full|complete|other|inactive|active|key|all)\s+)?(?:{_HEADER_WORDS})"
    rf"(?>\s*(?:/|\(|\||-)\s*(?:{_HEADER_WORDS})\)?)*(?:\s+(?:list|\(inci\)))?[\s\])]*$",
    re.I,
)
_MAY_CONTAIN_RE = re.compile(
    r"^[\s\[(]*(?:\+\s*/\s*-|\+-|±|may\s+contain|may\s+also\s+contain|peut\s+contenir|kann\s+enthalten|"
    r"puede\s+contener|pu[òo]\s+contenere|mag\s+bevatten|mo[żz]e\s+zawiera[ćc])"
    r"(?>\s*(?:/|\(|\||-)?\s*(?:\+\s*/\s*-|may\s+contain|peut\s+contenir|kann\s+enthalten|puede\s+contener)\)?)*"
    r"[\s\])]*$",
    re.I,
)
_MAY_CONTAIN_PREFIX = re.compile(
    r"^[\s\[(]*(?:\+\s*/\s*-|\+-|±|may\s+contain|peut\s+contenir|kann\s+enthalten|puede\s+contener)[\s\])]*", re.I)
# Kaggle-style exports of kits: "... Product Name: Spf30 Face Cream Division: Cl (Clinique)Water , ..."
_PRODUCT_NAME_RE = re.compile(r"\bProduct Name:\s{0,3}(?P<name>[^\n]{1,200}?)\s{1,3}Division:\s*\w+\s*(?:\([^()]{0,40}\))?", re.I)
# "...before sun exposure.Active Ingredients: ..." - a drug-facts header glued to the sentence before it.
_GLUED_HEADER = re.compile(r"(?<=[.!?;)\]])\s*(?=(?:active|inactive|other)\s+ingredients?\s*:)|"
                           r"(?<=[a-z])(?=(?:Active|Inactive|Other)\s+Ingredients?\s*:)", re.I)
# "First Bar: ... . Second Bar: ..." - kit headings inside one line: each gets a line of its own.
_INLINE_HEADING = re.compile(
    r"(?:^|(?<=[.;] )|(?<=[.;])) ?((?:First|Second|Third|Fourth|Fifth|Sixth|\d(?:st|nd|rd|th)) [A-Z][\w'&-]*"
    r"(?: [A-Z][\w'&-]*){0,3}|(?:Step|Product|Part|Phase) ?\d+(?: [A-Z][\w'&-]*){0,3}) ?: ?", re.M)
# "Cleanser: Aqua, ... Moisturizer: Aqua, ...": a kit's products named by their kind, inside one line; at a
# line's or sentence's start with up to three words of name before the kind ("Night Repair Serum:"), and glued
# to the list before ("..., Glycerin Moisturizer: Aqua") only when what precedes it is a known name.
_KIT_KINDS = (r"(?:Cleanser|Moisturi[sz]er|Serum|Toner|Cream|Lotion|Mask|Essence|Balm|Sunscreen|Primer|Shampoo|"
              r"Conditioner|Face Wash|Body Wash|Scrub|Exfoliator|Treatment)")
_KIT_KIND = re.compile(rf"(?:^|(?<=[.;] )|(?<=[.;]))((?:[A-Z][\w'&-]* ){{0,3}}{_KIT_KINDS}) ?: ?(?=[A-Z])", re.M)
_KIT_KIND_GLUED = re.compile(rf"(?<=[a-z0-9)]) ((?:(?:Eye|Night|Day|Face|Facial|Body|Hand|Lip) )?{_KIT_KINDS}) ?: ?"
                             r"(?=[A-Z])")


def _kit_kinds(text: str, known: IsKnown) -> str:
    text = _KIT_KIND.sub(lambda m: "\n" + m.group(1) + ":\n", text)

    def glued(m: re.Match) -> str:           # the name before it: back to a separator, at most a name's length
        start = max(0, m.start() - MAX_TOKEN_CHARS)
        cut = max(text.rfind(c, start, m.start()) for c in ",;\n")
        last = text[max(cut + 1, start):m.start()].strip(" .")
        return "\n" + m.group(1) + ":\n" if last and known(last) else m.group(0)
    return _KIT_KIND_GLUED.sub(glued, text)
# A Drug Facts block printed on one line: "Active ingredients Purpose Avobenzone 3% Sunscreen Homosalate 10%
# Sunscreen Inactive ingredients Water, ...": each active keeps its percentage, the purpose column goes.
_DRUG_FACTS = re.compile(r"\bactive ingredients?(?: \([^()]{0,60}\))?(?: ?purposes?)? ?:? ?(?P<rows>.{1,600}?) ?"
                         r"\binactive ingredients? ?:? ?", re.I)
_DRUG_PERCENT = re.compile(r"(?<![\d.,])\d{1,2}(?:[.,]\d{1,3})? ?%")
# What stands between two rows: the previous row's purpose ("Sunscreen") and "(in each ...)" notes.
_DRUG_PURPOSE_WORDS = re.compile(r"^(?:(?:sunscreens?|skin protectant|acne (?:treatment|medication)|anti-?perspirant|"
                                 r"anti-?dandruff|anti-?fungal|purposes?)\b[ ,;]*|\([^()]{0,60}\)[ ,;]*)+", re.I)


def _drug_facts(text: str) -> str:
    """Each row is the words before a percentage, less the purpose column of the row before."""
    def rows(m: re.Match) -> str:
        body, found, start = m.group("rows"), [], 0
        for pct in _DRUG_PERCENT.finditer(body):
            name = _DRUG_PURPOSE_WORDS.sub("", body[start:pct.start()].strip(" ,;")).strip(" ,;")
            start = pct.end()
            if re.search(r"[A-Za-z]{3}", name):
                found.append(f"{name} {pct.group(0)}")
        if not found:
            return m.group(0)
        return "\nActive Ingredients:\n" + ", ".join(found) + "\nInactive Ingredients:\n"
    return _DRUG_FACTS.sub(rows, text) if "%" in text else text


_STEP_RE = re.compile(r"^\s*(?:step\s*\d+|product\s*\d+|\d+\.)\s*[:.\-]?\s*", re.I)


# "Free of: parabens, sulfates, ..." / "Formulated without:" / "Does not contain:" name what is NOT inside.
_EXCLUSION_RE = re.compile(r"(?:\bfree\s+(?:of|from)\b|\bformulated\s+without\b|\bmade\s+without\b|"
                           r"\bdo(?:es)?\s+not\s+(?:use|contain|include)\b|\bnever\s+(?:use|contain)\b|\bcontains\s+no\b|\bwithout\b|^\s*no\s*$|\bclean\s+at\b|"
                           r"\bfree\s*-\s*from\b|\bsans\b|\bohne\b|\bsin\b|\blibre\s+de\b)", re.I)


# A header or a "may contain" line is short; longer text is neither and never reaches their patterns.
_HEADING_MAX_CHARS = 120


def is_list_header(text: str) -> bool:
    text = text.strip()
    return len(text) <= _HEADING_MAX_CHARS and bool(_HEADER_RE.match(text))


def is_may_contain(text: str) -> bool:
    text = text.strip()
    return len(text) <= _HEADING_MAX_CHARS and bool(_MAY_CONTAIN_RE.match(text))


# ---------------------------------------------------------------------------------------------
# Splitting at the top level (outside parentheses)
# ---------------------------------------------------------------------------------------------
_ABBREVIATIONS = {
    "denat", "ext", "no", "nr", "st", "dr", "vit", "sp", "spp", "ssp", "subsp", "var", "fl", "oz", "approx",
    "inc", "co", "ltd", "mr", "ms", "mrs", "sr", "jr", "vs", "etc", "e.g", "i.e", "eg", "ie", "f", "l", "c",
    "p", "d", "a", "b", "e", "k", "o", "hydrogen", "min", "max", "cf", "fig", "aq", "dist", "purif", "conc",
    "mfd", "mg", "ml", "g", "wt", "vol", "ca", "sd", "usp", "ep", "ph", "fd", "n", "s", "t", "u",
}
_OPEN = "([{"
_CLOSE = ")]}"
_SEPARATORS = ",;|"


@dataclass
class _Chunk:
    segments: list[str]
    ends_with_colon: bool      # the chunk was followed by ":" (a label or header)
    line_start: bool           # the chunk starts a new line


def _split_chunks(text: str) -> list[_Chunk]:
    """Splits into chunks at newlines, top-level ': ' and sentence ends; each chunk into comma segments."""
    chunks: list[_Chunk] = []
    segments: list[str] = []
    buf: list[str] = []
    depth = 0
    line_start = True
    n = len(text)

    def flush_segment() -> None:
        seg = "".join(buf).strip()
        buf.clear()
        if seg:
            segments.append(seg)

    def flush_chunk(colon: bool) -> None:
        nonlocal line_start
        flush_segment()
        if segments or colon:
            chunks.append(_Chunk(list(segments), colon, line_start))
        segments.clear()

    i = 0
    while i < n:
        ch = text[i]
        if ch == "\n":
            flush_chunk(False)
            depth = 0
            line_start = True
            i += 1
            continue
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if depth == 0:
            if ch == "," and i > 0 and text[i - 1].isdigit() and i + 1 < n and text[i + 1].isdigit():
                buf.append(ch)          # "1,2-Hexanediol", "2,6-Naphthalate", "4,5 %"
                i += 1
                continue
            if ch in _SEPARATORS:
                flush_segment()
                i += 1
                continue
            if ch == ":" and (i + 1 == n or text[i + 1] in " \n" or _header_before(buf)):
                flush_chunk(True)
                line_start = False
                i += 1
                continue
            if ch == "." and _is_sentence_end(text, i, buf):
                flush_chunk(False)
                line_start = False
                i += 1
                continue
        elif ch == "\n":
            depth = 0
        buf.append(ch)
        i += 1
    flush_chunk(False)
    return chunks


def _header_before(buf: list[str]) -> bool:
    """'Ingredients:Water' has no space after the colon; still a header."""
    tail = "".join(buf[-40:]).strip()
    last = re.split(r"[,;.]", tail)[-1]
    return is_list_header(last) or is_may_contain(last)


def _is_sentence_end(text: str, i: int, buf: list[str]) -> bool:
    """A '.' that ends a sentence: followed by a space and an upper-case letter, '-' or '*', or by the end."""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if nxt and nxt not in " \n":
        return False                      # "3.0%", "C.I.", "Denat.,"
    j = i + 1
    while j < len(text) and text[j] == " ":
        j += 1
    after = text[j] if j < len(text) else ""
    if after and not (after.isupper() or after in "-*+[(\"'" or after.isdigit()):
        return False
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", "".join(buf[-12:]))
    if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Chunk classification: list or prose
# ---------------------------------------------------------------------------------------------
_STOPWORDS = {
    "the", "your", "you", "helps", "help", "that", "this", "is", "are", "to", "for", "it", "its", "our", "we",
    "which", "while", "into", "from", "will", "can", "be", "by", "as", "on", "in", "skin", "visibly", "look",
    "appearance", "formula", "free", "without", "use", "apply", "reduce", "reduces", "provides", "an", "a",
    "more", "less", "all", "has", "have", "also", "these", "those", "so", "not", "than", "then", "when",
    "who", "how", "what", "why", "made", "contains", "clinically", "proven", "tested", "dermatologist",
    "hydrate", "hydrates", "protect", "protects", "smooth", "smooths", "boost", "boosts", "improve",
    "improves", "leaves", "leave", "keeps", "keep", "gives", "give", "rich", "known", "natural-looking",
    "with", "of", "and", "or", "high", "levels", "supports", "strong", "including", "such", "other",
    "contaminants", "percent", "there", "their", "they", "them", "was", "were", "been", "being",
    # German, Dutch, Polish and Spanish sentence words that no ingredient name uses ("Kann Spuren von Nüssen
    # enthalten", "Niet inslikken", "Chronić przed dziećmi", "Puede contener trazas"): "de", "van", "z" are not
    # here, names use them ("Aceite de girasol", "Oliwa z oliwek")
    "kann", "enthalten", "spuren", "nicht", "bitte", "für", "mit", "sie", "ist", "wird", "haut", "nach", "bei",
    "kan", "bevatten", "sporen", "niet", "voor", "met", "het", "huid", "na", "bij",
    "może", "zawierać", "śladowe", "ilości", "nie", "przed", "dla", "jest", "skóry", "chronić", "po",
    "puede", "contener", "trazas", "para", "con", "piel", "los", "las", "una", "después", "evitar",
    # ... and the words of their safety warnings (eyes, children, out of reach, avoid contact)
    "augen", "kindern", "fern", "vermeiden", "ogen", "kinderen", "buiten", "bereik", "houden", "vermijd",
    "oczu", "dzieci", "dziećmi", "unikać", "kontaktu", "ojos", "niños", "alcance", "fuera",
}
_WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'\-]*")


def _prose_score(segment: str) -> float:
    """Fraction of lower-case stop words among the words of a segment (0 for a name, high for a sentence)."""
    words = _WORD.findall(re.sub(r"\([^()]*\)", " ", segment))
    if not words:
        return 0.0
    hits = sum(1 for w in words if w.lower() in _STOPWORDS and not w.isupper())
    return hits / len(words)


def _name_like(segment: str) -> bool:
    words = segment.split()
    if not words or len(words) > 10 or len(segment) > MAX_TOKEN_CHARS:
        return False
    return _prose_score(segment) < 0.2 or len(words) <= 2 and _prose_score(segment) < 0.5


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------
_PERCENT_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:[.,]\d{1,3})?)\s*%")
_GLUED_PERCENT = re.compile(r"(\d\s*%)(?=[A-Za-z])")      # "Zinc Oxide 3.0%Water"
_SPACED_LOCANT = re.compile(r"(?<![\d.,])(\d)\s*,\s+(\d)\s*-\s*(?=[A-Za-z])")   # "1, 2-Hexanediol"
# "[+/-: Mica (CI 77019), Iron Oxides (CI 77491)]": a shade block in brackets
# (the block's end is found by _bracketed_may_contain: one pattern to "]" would rescan the text per opener)
_BRACKETED_MAY_CONTAIN = re.compile(r"[\[(]\s*((?:\+\s*/\s*-|±|may\s+contain|peut\s+contenir|kann\s+enthalten|"
                                    r"puede\s+contener)[^:\])]{0,40})\s*:?\s*", re.I)
_BRACKET = re.compile(r"[\[\]]")
# "... Tocopherol Free of parabens, formaldehydes, ...": a claim glued to the end of the list starts a new line
_CLAIM_START = re.compile(r"(?<!\s)\s+(?=(?:free\s+(?:of|from)|formulated\s+without|made\s+without|does\s+not\s+contain|"
                          r"contains\s+no|clean\s+at\s+sephora)\b)", re.I)
# "C.I. 77891", "C. I. 77891", "Ci77891", "CI-77891", "C I 77891" -> "CI 77891"
_CI_SPELLING = re.compile(r"\bC(?: ?\. ?| ?)I(?: ?\. ?| ?)(?:[-:#] ?)?(\d{5})\b", re.I)
_DISCLAIMER = re.compile(r"(?:please be aware that ingredient lists may change|ingredient lists? (?:are|is) subject to "
                         r"change|refer to the product packaging for the most up[- ]to[- ]date)[^\n]*", re.I)
# A footnote glued to the last name: "Phenoxyethanol * Essential Oil" -> cut at " *" (after the last comma)
_GLUED_FOOTNOTE = re.compile(r"(?<!\s)\s+[*†‡]+\s*[A-Za-z]")
# Not ingredients: a spreadsheet's error value pasted as a cell ("#NAME?") and a shop's shade or batch code
# in brackets ("[V2898A]", also after a name: "Heptapeptide-15 Palmitate [V2802A]").
_SPREADSHEET_ERROR = re.compile(r"^#(?:NAME\?|VALUE!|REF!|N/A|DIV/0!|NUM!|NULL!)$", re.I)
_SHADE_CODE = re.compile(r"(?<!\s)\s*\[[A-Z]{1,2}\d{3,}[A-Z]?\]")
# A Drug Facts row ("Avobenzone 3% Sunscreen"): the purpose column after the percentage is no part of the name.
_DRUG_PURPOSE = re.compile(r"(?<!\s)\s+(?:sunscreens?|skin protectant|acne (?:treatment|medication))\s*$", re.I)
# Letters lost with a PDF ligature ("ffi", "fi"): "Rosmarinus O_cinalis", "Of cinalis", "Metabisul te".
_LIGATURE_GAP = [(re.compile(r"\b([Oo])f?[ _]cinal"), r"\1fficinal"), (re.compile(r"(bisul)[ _](te)\b", re.I), r"\1fi\2")]
_FOOTNOTE_RE = re.compile(r"[*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰°^#]+")
_LEADING_NOISE = re.compile(r"^(?:[\s\-–+•>.·]|\band\b|&)+", re.I)
_TRAILING_NOISE = re.compile(r"(?<![\s.;,\-–])[\s.;,\-–]+$")


def _bracketed_may_contain(text: str) -> str:
    """'[+/-: Mica (CI 77019), Iron Oxides (CI 77491)]' -> its own 'May contain' heading and line. The block
    runs to the next ']' with no '[' before it; the brackets' places are read once, so this is linear."""
    if "]" not in text:
        return text
    brackets = [m.start() for m in _BRACKET.finditer(text)]
    out: list[str] = []
    pos = 0
    while (m := _BRACKETED_MAY_CONTAIN.search(text, pos)) is not None:
        k = bisect.bisect_left(brackets, m.end())
        if k == len(brackets) or text[brackets[k]] != "]":
            out.append(text[pos:m.start() + 1])
            pos = m.start() + 1
            continue
        close = brackets[k]
        out.append(text[pos:m.start()] + "\n" + m.group(1).strip() + ":\n" + text[m.end():close] + "\n")
        pos = close + 1
    out.append(text[pos:])
    return "".join(out)


@lru_cache(maxsize=20_000)
def make_token(raw: str, may_contain: bool) -> Token | None:
    """A segment of the list -> the token it names, or None. Remembered: a kit or a long paste repeats names,
    and the parser reads each segment more than once while it decides what is a list."""
    text = _SHADE_CODE.sub("", raw).strip().strip(",;").strip()
    if not text or _SPREADSHEET_ERROR.match(text):
        return None
    name = text
    glued = _GLUED_FOOTNOTE.search(name, name.rfind(",") + 1)
    if glued and len(name[glued.start():].split()) >= 2:
        name = name[:glued.start()]
        text = name.strip()
    footnote = "".join(_FOOTNOTE_RE.findall(name))
    name = _FOOTNOTE_RE.sub("", name)
    percent = None
    m = _PERCENT_RE.search(name)
    if m:
        percent = m.group(1).replace(",", ".") + "%"
        name = (name[:m.start()] + " " + name[m.end():])
        name = re.sub(r"\(\s*\)", " ", name)
        name = _DRUG_PURPOSE.sub("", name)
    name = _LEADING_NOISE.sub("", name)
    if not name.lower().rstrip().endswith("denat."):
        name = _TRAILING_NOISE.sub("", name)
    name = re.sub(r"\s+", " ", name).strip()
    name = _balance(name)
    if not name or not re.search(r"[A-Za-zÀ-ÿ0-9]", name):
        return None
    return Token(text=text[:MAX_TOKEN_CHARS], name=name[:MAX_TOKEN_CHARS], percent=percent,
                 may_contain=may_contain, footnote=footnote)


def _balance(name: str) -> str:
    """Drops a dangling '(' or ')' left by truncation ("Citrus Grandis (Grape") so matching can still work."""
    opens, closes = name.count("("), name.count(")")
    if opens > closes:
        idx = name.rfind("(")
        if ")" not in name[idx:]:
            name = (name[:idx] + " " + name[idx + 1:]).strip()
    elif closes > opens:
        name = name.replace(")", " ", closes - opens) if name.startswith(")") or name.endswith(")") else name
        name = re.sub(r"\s+", " ", name).strip()
    return name


_BLEND = re.compile(r" ?\( ?(?:and|&|et|und) ?\) ?", re.I)


def split_blend(name: str) -> list[str]:
    """'Cetearyl Alcohol (and) Ceteareth-20' is two ingredients sold premixed."""
    parts = _BLEND.split(" ".join(name.split()))      # spaces first: the pattern then reads each character once
    return [p.strip() for p in parts if p.strip()]


# ---------------------------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------------------------
IsKnown = Callable[[str], bool]


def parse_label(text: str, is_known: IsKnown | None = None) -> ParsedLabel:
    """Splits a pasted label into products (a kit gives several) and each product into ingredient tokens."""
    known = is_known or (lambda _s: False)
    cleaned, truncated = clean_text(text)
    cleaned = unwrap_list_literal(cleaned)
    cleaned = _PRODUCT_NAME_RE.sub(lambda m: "\n" + m.group("name").strip() + ":\n", cleaned)
    cleaned = _GLUED_HEADER.sub("\n", cleaned)
    cleaned = _drug_facts(cleaned)
    cleaned = _INLINE_HEADING.sub(lambda m: "\n" + m.group(1) + ":\n", cleaned)
    cleaned = _kit_kinds(cleaned, known)
    cleaned = _GLUED_PERCENT.sub(r"\1, ", cleaned)
    cleaned = _SPACED_LOCANT.sub(r"\1,\2-", cleaned)
    cleaned = _bracketed_may_contain(cleaned)
    cleaned = _DISCLAIMER.sub("\n", cleaned)
    cleaned = _CLAIM_START.sub("\n", cleaned)
    cleaned = _CI_SPELLING.sub(r"CI \1", cleaned)
    for gap, letters in _LIGATURE_GAP:
        cleaned = gap.sub(letters, cleaned)
    chunks = _split_chunks(cleaned)
    products = _group_products(chunks, known)
    result: list[ParsedProduct] = []
    for name, pchunks in products:
        product = _parse_product(name, pchunks, known)
        if product.tokens or name is not None:
            result.append(product)
    # Headings that led nowhere (a kit heading with an empty list) are dropped unless nothing is left.
    with_tokens = [p for p in result if p.tokens]
    if with_tokens:
        result = with_tokens
    if not result:
        result = [ParsedProduct(name=None, tokens=[], skipped=[])]
    return ParsedLabel(products=result, truncated=truncated)


def _chunk_is_list(chunk: _Chunk, known: IsKnown, previous_was_list: bool) -> bool:
    segs = chunk.segments
    if not segs:
        return False
    if _EXCLUSION_RE.search(segs[0]) and len(segs[0].split()) > 1:
        return False                    # "Formulated without parabens, formaldehyde, coal tar, ..."
    if not previous_was_list and 2 <= len(segs) <= _SENTENCE_LIST_MAX and \
            (_PROSE_LAST.match(segs[-1]) or any(_sentence(s) for s in (segs[0], segs[-1]))):
        return False                    # "Delivers nutrients through turmeric, olive leaf, green tea, and cress"
    recognised = sum(1 for s in segs if _segment_known(s, known))
    if recognised / len(segs) >= 0.5 and recognised >= 1:
        # A sentence that happens to contain "Water" is still a sentence.
        if len(segs) == 1 and _prose_score(segs[0]) >= 0.25 and len(segs[0].split()) > 4:
            return False
        return True
    if recognised == 0 and any(len(s.split()) >= 6 and _prose_score(s) >= 0.25 for s in segs):
        return False                    # a sentence with commas in it
    name_like = sum(1 for s in segs if _name_like(s))
    if name_like / len(segs) >= 0.8 and (len(segs) >= 3 or (previous_was_list and chunk.line_start is False)):
        return True
    if previous_was_list and len(segs) >= 2 and name_like / len(segs) >= 0.8:
        return True
    return False


# A sentence that names a few ingredients: its last item after a lower-case "and" (labels print no "and" in a
# list), or a first or last piece that is a sentence of its own.
_SENTENCE_LIST_MAX = 8
_PROSE_LAST = re.compile(r"^and [a-z]")


def _sentence(segment: str) -> bool:
    return len(segment.split()) >= 5 and _prose_score(segment) >= 0.25


def _segment_known(segment: str, known: IsKnown) -> bool:
    token = make_token(_MAY_CONTAIN_PREFIX.sub("", segment), False)
    if token is None:
        return False
    return any(known(p) for p in split_blend(token.name))


def _is_product_heading(chunk: _Chunk, nxt: _Chunk | None, known: IsKnown) -> bool:
    """A line like 'Soulfood Nourishing Mask:' followed by a list on the next line."""
    if not chunk.ends_with_colon or len(chunk.segments) > 3 or not chunk.line_start:
        return False
    title = ", ".join(chunk.segments)
    if is_list_header(title) or is_may_contain(title) or len(title) > 160:
        return False
    if nxt is None or not nxt.line_start:
        return False
    if nxt.ends_with_colon and not is_list_header(", ".join(nxt.segments)):
        return False
    if title.lstrip().startswith("-"):
        return False                       # a "-Turmeric: ..." bullet
    if len(chunk.segments) == 1 and _segment_known(title, known) and len(title.split()) <= 3:
        # "Niacinamide:" at line start followed by a list is more likely a bullet than a product;
        # still a heading if the next line is a long list.
        return len(nxt.segments) >= 5
    return True


def _group_products(chunks: list[_Chunk], known: IsKnown) -> list[tuple[str | None, list[_Chunk]]]:
    groups: list[tuple[str | None, list[_Chunk]]] = [(None, [])]
    for i, chunk in enumerate(chunks):
        nxt = chunks[i + 1] if i + 1 < len(chunks) else None
        if _is_product_heading(chunk, nxt, known):
            title = _STEP_RE.sub("", ", ".join(chunk.segments)).strip() or ", ".join(chunk.segments)
            groups.append((title[:160], []))
        else:
            groups[-1][1].append(chunk)
    return [g for g in groups if g[1] or g[0] is not None]


def _parse_product(name: str | None, chunks: list[_Chunk], known: IsKnown) -> ParsedProduct:
    product = ParsedProduct(name=name)
    # With an explicit "Ingredients:" header, what precedes the first one is description.
    first_header = next((i for i, c in enumerate(chunks)
                         if c.ends_with_colon and is_list_header(", ".join(c.segments))), None)
    if first_header is not None:
        for c in chunks[:first_header]:
            product.skipped.append(", ".join(c.segments))
        chunks = chunks[first_header:]
    may_contain = False
    previous_was_list = False
    exclusion = False
    excluded: list[_Chunk] = []        # what a "free from:" header announced: never read as ingredients
    for chunk in chunks:
        joined = ", ".join(chunk.segments)
        if chunk.ends_with_colon:
            if is_may_contain(joined):
                may_contain = True
            elif is_list_header(joined):
                previous_was_list = True       # a list follows
            elif _EXCLUSION_RE.search(joined):
                product.skipped.append(joined + ":")
                exclusion = True
                previous_was_list = False
            else:
                product.skipped.append(joined + ":")
                previous_was_list = False
            continue
        if exclusion:
            exclusion = False
            product.skipped.append(joined)
            excluded.append(chunk)
            continue
        segs = list(chunk.segments)
        if segs and _MAY_CONTAIN_PREFIX.match(segs[0]) and _MAY_CONTAIN_PREFIX.sub("", segs[0]) != segs[0]:
            may_contain = True
            segs[0] = _MAY_CONTAIN_PREFIX.sub("", segs[0])
            chunk = _Chunk([s for s in segs if s.strip()], chunk.ends_with_colon, chunk.line_start)
        if segs and re.match(r"^\s*[*†‡]+\s*\w", segs[0]) and _prose_score(joined) > 0 and \
                not _segment_known(segs[0], known):
            product.skipped.append(joined)     # "*Ingredient from Organic Farming"
            continue
        if not chunk.segments or not _chunk_is_list(chunk, known, previous_was_list):
            if joined.strip():
                product.skipped.append(joined)
            previous_was_list = False
            continue
        previous_was_list = True
        for seg in chunk.segments:
            seg_mc = may_contain
            if seg.strip().startswith("[") and "+/-" in seg:
                seg_mc = may_contain = True
            if _FOOTNOTE_DEFINITION.match(seg) and not _segment_known(seg, known) and not _asterisked_name(seg):
                product.skipped.append(seg)     # "*Certified organic", "**From essential oils" (not "***Frgrance")
                continue
            token = make_token(_MAY_CONTAIN_PREFIX.sub("", seg), seg_mc)
            if token is not None:
                product.tokens.append(token)
    if not product.tokens:
        _fallback(product, [c for c in chunks if not any(c is e for e in excluded) and
                            not _EXCLUSION_RE.search(", ".join(c.segments))], known)
    product.tokens = rejoin_split_names(product.tokens, known)
    return product


# Words that never stand alone on a label: "Sodium, Polyacrylate" is one name cut by a stray comma.
_INCOMPLETE = {"sodium", "potassium", "disodium", "trisodium", "tetrasodium", "calcium", "magnesium", "zinc",
               "ammonium", "aluminum", "aluminium", "hydrogenated", "hydrolyzed", "peg", "ppg"}


def rejoin_split_names(tokens: list[Token], known: IsKnown) -> list[Token]:
    """Joins two neighbouring tokens when one of them is no name on its own ("Butylene" at the end of a line,
    "Sodium" before a stray comma, "Copolymer" after one) and the two together are a known name."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if i + 1 < len(tokens) and not t.percent and t.may_contain == tokens[i + 1].may_contain:
            nxt = tokens[i + 1]
            joined = f"{t.name} {nxt.name}"
            if (t.name.lower() in _INCOMPLETE or not known(t.name) or not known(nxt.name)) and \
                    len(joined) <= MAX_TOKEN_CHARS and known(joined):
                out.append(Token(text=f"{t.text} {nxt.text}", name=joined, percent=nxt.percent,
                                 may_contain=t.may_contain, footnote=t.footnote + nxt.footnote))
                i += 2
                continue
        out.append(t)
        i += 1
    return out


_FOOTNOTE_WORDS = re.compile(r"^(?:organic|organics|natural|naturally|certified|biologique|bio|vegan|wildcrafted|"
                             r"fair ?trade|ecocert|cosmos|derived|plant|vegetable|origin|natural origin)$", re.I)


def _asterisked_name(segment: str) -> bool:
    """'***Frgrance' is an ingredient with footnote marks; '*Organic', '*PiteraTM' or '*Hadasei-3' define one."""
    word = _FOOTNOTE_RE.sub("", segment).strip(" .")
    return (len(word.split()) == 1 and len(word) >= 5 and word.isalpha() and not word.endswith("TM")
            and not _FOOTNOTE_WORDS.match(word))


_NO_LIST = re.compile(r"^\s*(?:no info(?:rmation)?|n/?a|none|not available|see (?:packaging|box)|"
                      r"visit the .{1,60} boutique|coming soon)\s*\.?\s*$", re.I)
_FOOTNOTE_DEFINITION = re.compile(r"^\s*[*†‡]+\s*[A-Za-z]")


def _fallback(product: ParsedProduct, chunks: list[_Chunk], known: IsKnown) -> None:
    """Nothing looked like a list. Two real cases are still worth reading:
    - names separated by spaces only ("Caprylic/Capric Triglyceride Dicaprylyl Carbonate Squalane ...");
    - a single ingredient ("100% Unrefined Sclerocarya Birrea (Marula) Kernel Oil.");
    - highlight bullets that name actives ("-Octinoxate 7.50%, Octisalate 4.00%: Sunscreen.").
    """
    for chunk in chunks:
        if chunk.ends_with_colon:
            continue
        for seg in chunk.segments:
            token = make_token(seg, False)
            if token is None:
                continue
            words = token.name.split()
            if known(token.name) and len(words) <= 10 and _prose_score(seg) < 0.2:
                product.tokens.append(token)
            elif len(words) >= 3 and _prose_score(seg) < 0.2:
                pieces = segment_words(words, known)
                if pieces and sum(len(p.split()) for p in pieces if known(p)) >= 0.8 * len(words):
                    product.tokens.extend(t for t in (make_token(p, False) for p in pieces) if t)
    if product.tokens:
        return
    plain = [c for c in chunks if not c.ends_with_colon and c.segments and not _NO_LIST.match(", ".join(c.segments))]
    if len(plain) == 1 and len(plain[0].segments) <= 4 and not _FOOTNOTE_DEFINITION.match(plain[0].segments[0]) \
            and all(_name_like(s) and len(s.split()) <= 8 and not s.lstrip().startswith("-") for s in plain[0].segments):
        # A one-ingredient product ("100% Unrefined Sclerocarya Birrea (Marula) Kernel Oil.") or a short list
        product.tokens.extend(t for t in (make_token(s, False) for s in plain[0].segments) if t)
        return
    for chunk in chunks:
        if chunk.ends_with_colon and chunk.segments and chunk.segments[0].lstrip().startswith("-"):
            for seg in chunk.segments:
                token = make_token(seg, False)
                if token is not None and known(token.name):
                    product.tokens.append(token)


def segment_words(words: list[str], known: IsKnown, longest: int = 8) -> list[str]:
    """Greedy longest-known-name segmentation of a list printed without commas."""
    out: list[str] = []
    pending: list[str] = []          # words no known name starts at: kept as one unknown token
    i = 0
    while i < len(words):
        for j in range(min(len(words), i + longest), i, -1):
            cand = " ".join(words[i:j]).strip(".;")
            if known(cand):
                if pending:
                    out.append(" ".join(pending))
                    pending = []
                out.append(cand)
                i = j
                break
        else:
            pending.append(words[i])
            i += 1
    if pending:
        out.append(" ".join(pending))
    return out
