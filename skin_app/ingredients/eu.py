"""EU Cosmetics Regulation verdicts by product type. One job: annex rules + product type -> a verdict.

The annexes of Regulation (EC) No 1223/2009 do not say "restricted" in general: an Annex III, IV, V or VI
entry allows a substance only in the fields of application it lists, each with its own maximum
concentration and conditions, and an Annex II entry bans it (sometimes only in one form, or "except" where
another annex allows it). So a verdict needs the product type. ``tools/build_ingredients_csv.py`` turns
each annex entry into rules (one per lettered field of application) with the product types the field
covers, using :func:`scope_types` below, and writes them to ``data/ingredients_eu.csv``; :func:`verdict`
reads them for one product type.

Verdicts, most serious first: ``not_permitted`` (Annex II ban, or no annex entry of the substance covers
this product type), ``restricted`` (a maximum concentration applies), ``labelling`` (must be named on the
label above a threshold: the fragrance allergens), ``allowed`` (listed, conditions are manufacturer
specifications such as purity or pH, shown under details only), and ``""`` (not in the annexes).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PRODUCT_TYPES: dict[str, str] = {
    "leave_on_face": "Leave-on face (cream, serum, toner, sunscreen)",
    "face_makeup": "Face make-up (foundation, concealer, blush, face powder)",
    "eye_area": "Eye care (eye cream, eye gel)",
    "eye_makeup": "Eye make-up (mascara, eyeliner, eyeshadow, make-up remover)",
    "lip": "Lip (lipstick, lip balm)",
    "rinse_off": "Rinse-off skin (cleanser, face wash, shower gel, soap)",
    "hair": "Rinse-off hair (shampoo, conditioner, hair mask)",
    "leave_on_hair": "Leave-on hair (leave-in conditioner, hair oil, hair lotion)",
    "hair_dye": "Hair dye (oxidative or non-oxidative)",
    "nail": "Nail (polish, remover, cuticle care)",
    "oral": "Oral care (toothpaste, mouthwash)",
    "deodorant": "Deodorant or antiperspirant (not a spray)",
}
DEFAULT_PRODUCT_TYPE = "leave_on_face"
LEAVE_ON = frozenset({"leave_on_face", "face_makeup", "eye_area", "eye_makeup", "lip", "nail", "leave_on_hair",
                      "deodorant"})
ALL_TYPES = frozenset(PRODUCT_TYPES)
# The skin and hair products the app started with: a typo repair is refused for a name banned in any of them
SKIN_AND_HAIR = frozenset({"leave_on_face", "rinse_off", "eye_area", "lip", "hair", "nail"})
# Types an annex field's "except ..." can take away whole (an exception naming "face cream" leaves face products)
_EXCEPTABLE = ALL_TYPES - {"leave_on_face", "rinse_off"}

# Words in a product's name that tell its type; the first type whose words appear wins, so the more
# specific types come first ("eye cream" is eye area, "lip scrub" is lip, "face wash" is rinse-off).
_TYPE_WORDS: list[tuple[str, re.Pattern]] = [
    ("nail", re.compile(r"\b(nail|nails|cuticle|nagellack|vernis|esmalte|smalto)\b", re.I)),
    ("hair_dye", re.compile(r"\b(hair ?(?:colou?r|dye)|hair colou?rant|haarfarbe|coloration|tinte|tinta para el "
                            r"cabello|farba do włosów|haarverf)\b", re.I)),
    ("oral", re.compile(r"\b(toothpaste|tooth ?gel|mouthwash|mouth ?rinse|dentifrice|zahnpasta|mundspülung|"
                        r"tandpasta|pasta do zębów|pasta de dientes|colutorio|dentifricio)\b", re.I)),
    ("deodorant", re.compile(r"\b(deodorant|deo|anti-?perspirant|d[ée]odorant|desodorante|dezodorant)\b", re.I)),
    ("lip", re.compile(r"\b(lip|lips|lipstick|lipgloss|lip gloss|lip balm|lippen\w*|l[èe]vres?|labios?|labbra)\b", re.I)),
    ("eye_makeup", re.compile(r"\b(mascara|eyeliner|eye ?liner|eye ?shadow|eye ?pencil|kohl|brow \w+|eyebrow|"
                              r"eye make-?up remover|"
                              r"lidschatten|wimperntusche|tusz do rz[ęe]s)\b", re.I)),
    ("eye_area", re.compile(r"\b(eye|eyes|under[- ]eye|augen\w*|yeux|contour des yeux|ojos|occhi|oog\w*|oczy)\b", re.I)),
    ("leave_on_hair", re.compile(r"\b(leave-?in|hair oil|hair serum|hair lotion|hair cream|hair mist|styling|"
                                 r"hair tonic|scalp serum|haaröl|haarkur ohne ausspülen)\b", re.I)),
    ("hair", re.compile(r"\b(shampoo|shampooing|champ[uú]|conditioner|hair|haar\w*|cheveux|cabello|capelli|"
                        r"scalp|co-wash|dry shampoo|sp[üu]lung|szampon|odżywka)\b", re.I)),
    ("face_makeup", re.compile(r"\b(foundation|concealer|bb cream|cc cream|blush|bronzer|face powder|"
                               r"setting powder|highlighter|fond de teint|grundierung|podkład|korektor|base de "
                               r"maquillaje)\b", re.I)),
    ("rinse_off", re.compile(r"\b(cleanser|cleansing|wash|face wash|body wash|shower|soap|scrub|exfoliating gel|"
                             r"micellar|foaming|rinse|peel-off|wash-off|reinigung\w*|waschgel|duschgel|nettoyant|"
                             r"savon|limpiador|gel de ducha|detergente|reiniging\w*|douchegel|żel pod prysznic|"
                             r"mydło)\b", re.I)),
    ("leave_on_face", re.compile(r"\b(cream|creme|crème|serum|sérum|lotion|moisturi[sz]er|toner|essence|"
                                 r"spf|sunscreen|sun cream|fluid|gel cream|emulsion|oil|balm|"
                                 r"primer|tagescreme|nachtcreme|gesichts\w*|visage|cara|viso|gezicht\w*|krem|"
                                 r"twarzy)\b", re.I)),
]


def guess_product_type(*texts: str | None) -> tuple[str, bool]:
    """(type, guessed): the type named by the words of a product's name or description, else the default.
    ``guessed`` is False when no word gave it away (the page then asks the person to pick)."""
    for text in texts:
        if not text:
            continue
        for code, pattern in _TYPE_WORDS:
            if pattern.search(text):
                return code, True
    return DEFAULT_PRODUCT_TYPE, False


# ---------------------------------------------------------------------------------------------
# Fields of application (annex wording) -> product types
# ---------------------------------------------------------------------------------------------
# Purposes that are none of our types: a depilatory, a hair straightener or an eyelash tint is another product;
# body products, fine fragrances and powder or spray forms are not one of ours either (hair dyes, oral care and
# deodorants are: see _mentioned).
_SPECIAL = re.compile(
    r"dyeing|colouring|oxidative|oxidising|eyelash|eyebrow|waving|straighten|depilator|denture|self-tanning|"
    r"astringent|fragrance|eau de toilette|perfume|foot|callosity|solvent|stabili[sz]er|children|powder|spray|"
    r"aerosol|propel|\bbath|shaving|\bbody\b|professional", re.I)
# Fields that name a use, not a kind of product ("denaturant for ethanol", "pH adjuster"): every type.
_USE_ONLY = re.compile(r"^\W*(?:denaturant|rust inhibitor|as traces|(?:other uses )?(?:as )?ph[- ]ad?juster(?! for)|"
                       r"other uses|processing aid)", re.I)
_FORM = re.compile(r"(?<!non-)(?<!non )(?<!not in form of )\b(?:loose powder|powder|powdery|spray|aerosol|"
                   r"propellant)\b", re.I)
# Powder make-up for the face is a face make-up product; other powders and sprays are none of our types.
_FACE_POWDER = re.compile(r"face\s+products?\s+in\s+loose\s+powder|powder\s+foundation|face\s+powders?", re.I)
# Wipes for the anogenital area (baby and intimate wipes) are a kind of product of their own.
_NOT_OURS = re.compile(r"anogenital|intimate wipes|baby wipes", re.I)
_NEGATED = re.compile(r"not to be used (?:in|on|for) ([^.;]*)", re.I)
_EXCEPT_IN_PARENS = re.compile(r"\((?:except(?:ing)?|excluding|other than)\b([^()]*)\)", re.I)
_EXCEPT = re.compile(r"\b(?:except(?:ing)?|with the exception of|excluding|other than)\b", re.I)
_EVERYTHING = re.compile(r"\bother(?:s)?\s+(?:products?|produts|uses?|leave-on and rinse-off|non-spray)|"
                         r"\ball (?:cosmetic )?products|\bcosmetic products", re.I)


def _mentioned(text: str) -> set[str]:
    """Our product types a piece of annex wording names explicitly (not "other products")."""
    t = " ".join(text.lower().replace("\xad", "").split())
    out: set[str] = set()
    if re.search(r"\bnail", t):
        out.add("nail")
    if re.search(r"\blip", t):
        out.add("lip")
    if re.search(r"self-tanning products(?! for the body)", t):
        out.add("leave_on_face")                 # a self-tanner for the face is a leave-on face product
    if "mucous membrane" in t:
        out |= {"lip", "oral"}  # Annex IV keeps "vicinity of the eyes" apart from "mucous membranes"
    if re.search(r"eye products|around the eyes?|vicinity of the eyes?|eye area", t):
        out |= {"eye_area", "eye_makeup"}
    if re.search(r"eye make-?up|eye ?shadow|mascara|eyeliner", t):
        out.add("eye_makeup")
    if re.search(r"eye cream", t):
        out.add("eye_area")
    if re.search(r"hair d(?:ye|ue|ae|ay)|colouring agents? for hair|hair dyeing", t):   # as misspelt in the annexes
        out.add("hair_dye")
    if re.search(r"\boral|tooth|mouth|dentifrice", t):
        out.add("oral")
    if re.search(r"deodorant|anti-?perspirant", t):
        out.add("deodorant")
    if re.search(r"\bhair\b(?! ?(?:d[yua][ey]|dyeing|straighten|waving|aerosol|spray|and eyelash))|shampoo", t):
        if re.search(r"leave-? ?on hair|hair leave-? ?on|hair lotion", t):
            out.add("leave_on_hair")
        if not re.search(r"leave-? ?on hair|hair leave-? ?on", t) or re.search(r"shampoo|rinse", t):
            out.add("hair")
            if not re.search(r"shampoo|conditioner|dandruff", t):
                out.add("hair_dye")              # a hair dye is a hair product, rinsed off
            if not re.search(r"shampoo|rinse|wash", t):
                out.add("leave_on_hair")          # "Hair products": rinsed off or left on
    face = re.sub(r"face powders? and blemish concealers|face powders?|loose powder|powder foundation|"
                  r"self-tanning products? for the face|face rinse-? ?off|rinse-? ?off face|"
                  r"(?:lip|eye) make-? ?up(?: products)?(?: and make-? ?up remover)?|rinse-? ?off skin products?", " ", t)
    if re.search(r"face powders?|blemish concealers?|powder foundation", t):
        out.add("face_makeup")
    if re.search(r"\bface\b|\bfacial|make-?up|skin products|hand products", face):
        out.add("leave_on_face")
        if re.search(r"make-?up(?! remover)|foundation|concealer|face products|^\W*skin products", face):
            out.add("face_makeup")               # make-up is a face product; face products include make-up
        if re.search(r"^\W*skin products", face):
            out |= {"eye_area", "eye_makeup", "lip", "rinse_off"}
        if re.search(r"face products", t):
            out |= {"eye_area", "eye_makeup", "lip"}
        if re.search(r"face creams?|face and hand", t):
            out.add("eye_area")                  # an eye cream is a face cream for the skin around the eyes
    if re.search(r"rinse-? ?off|shower gel|soaps?\b|\bwash", t):
        if not re.search(r"rinse-? ?off hair|hair rinse-? ?off|rinse-off \(?head", t) or \
                re.search(r"skin and hair|rinse-? ?off skin", t):
            out.add("rinse_off")
        if not re.search(r"body|skin|hand|shower|soap|face|hair", t):
            out.add("oral")                      # "Rinse-off products, except oral care products": oral is one
        if not re.search(r"body|skin|hand|shower|soap|face", t) or re.search(r"hair", t):
            out.add("hair")
            if not re.search(r"shampoo|conditioner|dandruff", t):
                out.add("hair_dye")
    if re.search(r"leave-? ?on|non-rinse|non rinse", t):
        if re.search(r"leave-? ?on hair|hair leave-? ?on", t):
            out.add("leave_on_hair")
        if re.search(r"leave-? ?on skin|skin leave-? ?on", t) and "hair" not in t:
            out |= LEAVE_ON - {"leave_on_hair"}  # skin products only
        elif not re.search(r"body leave-? ?on|leave-? ?on hair|hair leave-? ?on", t) or "skin" in t:
            out |= LEAVE_ON
    return out


def negated_types(text: str) -> frozenset[str]:
    """The product types a "Not to be used in ..." of a field or of the annex's "Other" column takes away ("Not to
    be used in oral products", "... in lip products"); an exception inside it ("... children under 3 years of
    age, except for shampoos") takes nothing away."""
    out: set[str] = set()
    for m in _NEGATED.finditer(" ".join((text or "").replace("\xad", "").split())):
        if not _FOR_WHOM.search(m.group(1)):
            out |= _mentioned(_EXCEPT.split(m.group(1))[0])
    return frozenset(out)


# "Not to be used in leave-on products for the nappy area of children under three": a condition on who the product
# is for, which no product type of ours says; it stays in the verdict's words.
_FOR_WHOM = re.compile(r"child|nappy|infant|\bbab(?:y|ies)|under \d+ years", re.I)


def scope_types(text: str) -> frozenset[str]:
    """The product types one field of application of an annex entry covers.

    Empty wording and "other products" cover every type; a purpose that is none of ours (depilatory, hair
    straightener, eyelash tint, body lotion, fine fragrance, powder or spray forms other than face powder) covers
    none; "except ..." and "not to be
    used in ..." take types away. Wording we cannot read covers every type, so a limit is shown, not lost."""
    t = " ".join((text or "").replace("\xad", "").split())
    if not t:
        return ALL_TYPES
    removed = set(negated_types(t))
    t = _NEGATED.sub(" ", t)
    exceptions = [m.group(1) for m in _EXCEPT_IN_PARENS.finditer(t)]
    t = _EXCEPT_IN_PARENS.sub(" ", t)
    main, *rest = _EXCEPT.split(t)
    exceptions += rest
    for e in exceptions:                     # "except face cream" does not take all face products away
        # "(except ... spray/aerosol deodorant ...)": a spray form is none of our types, so it takes none away
        kept = [item for item in re.split(r",|;|\band\b", e) if not _FORM.search(item)]
        removed |= _mentioned(" , ".join(kept)) & _EXCEPTABLE
    if not re.search(r"[a-z]", main, re.I):
        return frozenset(ALL_TYPES - removed)
    if _USE_ONLY.search(main):
        return frozenset(ALL_TYPES - removed)
    if _FORM.search(main) and ";" not in main:
        # a powder, spray or aerosol form: none of our types, except powder make-up for the face
        return frozenset({"face_makeup"} - removed) if _FACE_POWDER.search(main) else frozenset()
    if _NOT_OURS.search(main):
        return frozenset()                   # a product for one purpose that is none of our types
    named = _mentioned(main)
    if _EVERYTHING.search(main):
        named |= ALL_TYPES
    elif not named and not _SPECIAL.search(main):
        named = set(ALL_TYPES)               # wording we cannot read: keep the rule everywhere
    return frozenset(named - removed)


# ---------------------------------------------------------------------------------------------
# Rules and verdicts
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EuRule:
    """One field of application of one annex entry, as attached to one INCI name."""
    annex: str                 # II, III, IV, V, VI
    ref: str                   # "III/98"
    kind: str                  # ban, ban_except, conditional, limit, labelling, spec, colourant
    types: frozenset[str]      # the product types this field covers (bans: all)
    nano: bool                 # the entry is about the nano form only
    max_conc: str              # "2.0%" etc.; "" when none
    scope: str                 # the field of application as the annex words it
    conditions: str            # other conditions and warnings, shortened
    substance: str             # the annex's substance wording, shortened


KIND_BANS = ("ban", "ban_except")


@dataclass(frozen=True)
class EuVerdict:
    level: str                 # not_permitted, restricted, labelling, allowed, "" (not listed)
    text: str                  # one line for people
    refs: tuple[str, ...]      # the annex entries behind it
    limit_percent: float | None = None      # the limit for this type: the lowest maximum of its general fields
    details: tuple[str, ...] = ()           # specifications, conditional entries, other product types
    cap_percent: float | None = None        # the highest maximum any field covering this type allows


_HAIR_DYE = re.compile(r"hair d[yua][ey]|colouring agents? for hair|hair dyeing", re.I)
_PERCENT = re.compile(r"(?<!\d)(\d+(?:[.,]\d+)?)\s*%")


def _percent(text: str, highest: bool = False) -> float | None:
    """The limit a field's maximum states: its lowest figure ("0,14 % for the sum ...; 0,8 % for mixtures ...":
    0.14, the one every product must meet), or with ``highest`` the most it ever allows."""
    values = [float(v.replace(",", ".")) for v in _PERCENT.findall(text or "")]
    return (max(values) if highest else min(values)) if values else None


# Fields narrower than a product type: for a face cream, "self-tanning products for the face" and "face
# make-up" are other products the type also covers, so their limits are shown, not taken as the type's own.
_NARROWER = {
    "leave_on_face": re.compile(r"self-tanning|make-? ?up|foundation|concealer|powder|\beye|\blip|\bnail|hand|"
                                r"anti-?perspirant|deodorant|fragrance|body", re.I),
    "face_makeup": re.compile(r"self-tanning|\beye|\blip|\bnail|hand|anti-?perspirant|deodorant|fragrance|body|"
                              r"\bhair", re.I),
    "eye_makeup": re.compile(r"self-tanning|\blip|\bnail|hand|body|\bhair|face make-? ?up", re.I),
    "leave_on_hair": re.compile(r"dye|straighten|waving|spray|aerosol|eyelash|eyebrow|\bskin\b(?! and hair)|soap|"
                                r"shower|hand wash|\bface|\beye|\blip|\bnail", re.I),
    "hair_dye": re.compile(r"shampoo|conditioner|dandruff|\bskin\b(?! and hair)|soap|shower|hand wash|\bface|\beye|"
                           r"\blip|\bnail|straighten|waving|^\W*(?:all )?leave-? ?on", re.I),
    "eye_area": re.compile(r"self-tanning|\blip|\bnail|hand|body", re.I),
    "lip": re.compile(r"self-tanning|\beye|\bnail|hand|body", re.I),
    "rinse_off": re.compile(r"\bhair\b(?! products)|shampoo|oral|tooth|mouth", re.I),
    "hair": re.compile(r"dye|straighten|waving|spray|aerosol|eyelash|eyebrow|\bskin\b(?! and hair)|soap|shower|"
                       r"hand wash|\bface|^\W*(?:all )?leave-? ?on", re.I),    # our hair type: shampoo, conditioner
    "nail": re.compile(r"self-tanning|\beye|\blip|\bface|hand wash|body", re.I),
}


# Fields that name the type itself ("face products, hand products and lip products" is a face product's field).
_OWN = {
    "leave_on_face": re.compile(r"face (?:products|creams?)|face and hand|^\W*(?:all )?leave-? ?on (?:skin )?products|"
                                r"^\W*skin products", re.I),
    "face_makeup": re.compile(r"make-? ?up|foundation|concealer|face products|^\W*(?:all )?leave-? ?on (?:skin )?"
                              r"products|^\W*skin products", re.I),
    "eye_makeup": re.compile(r"\beye", re.I),
    "leave_on_hair": re.compile(r"leave-? ?on hair|hair leave-? ?on|hair lotion|hair products", re.I),
    "hair_dye": re.compile(r"hair d[yua]e|colouring agents? for hair|hair dyeing", re.I),
    "oral": re.compile(r"\boral|tooth|mouth", re.I), "deodorant": re.compile(r"deodorant|anti-?perspirant", re.I),
    "eye_area": re.compile(r"\beye", re.I), "lip": re.compile(r"\blip", re.I), "nail": re.compile(r"\bnail", re.I),
    "rinse_off": re.compile(r"rinse-? ?off|soap|shower|wash", re.I),
    "hair": re.compile(r"\bhair\b(?! ?d[yua]e)|shampoo", re.I),
}
# "Other products": the field for whatever the entry's other fields do not name.
_OTHERS = re.compile(r"^\W*(?:all )?others?\b", re.I)


# The annex's "Other" column: who may use it and where it may not go ("For professional use only", "Not to be used
# in preparations for children under 6 years of age, ...").
_PROFESSIONAL = re.compile(r"professional use", re.I)
_NOT_TO_BE_USED = re.compile(r"not to be used (?:in|on|for) [^.;]{1,140}", re.I)


def _other_conditions(rules: list[EuRule]) -> list[str]:
    out: list[str] = []
    for r in rules:
        if _PROFESSIONAL.search(r.conditions):
            out.append("for professional use only")
        out += [" ".join(m.group(0).split()).rstrip(" ,") for m in _NOT_TO_BE_USED.finditer(r.conditions)]
    return list(dict.fromkeys(c[0].lower() + c[1:] for c in out))


def _general(rules: list[EuRule], product_type: str) -> list[EuRule]:
    """The rules whose field is the product type itself, not a narrower product it also covers (all of them
    when none is left), nor an entry's "other products" field when another field of it names the type."""
    narrower, own = _NARROWER.get(product_type), _OWN.get(product_type)

    def named(scope: str) -> str:            # what the field names, without what it excepts
        return _EXCEPT.split(_EXCEPT_IN_PARENS.sub(" ", scope or ""))[0]
    general = [r for r in rules if narrower is None or not narrower.search(named(r.scope))
               or (own is not None and own.search(named(r.scope)))]
    general = general or rules
    named_refs = {r.ref for r in general if not _OTHERS.search(r.scope or "")}     # per entry
    return [r for r in general if r.ref not in named_refs or not _OTHERS.search(r.scope or "")]


def _short(text: str, n: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[:n - 1].rstrip() + "…"


def verdict(rules: tuple[EuRule, ...] | list[EuRule], product_type: str, nano: bool = False) -> EuVerdict:
    """The EU verdict for one ingredient in one product type. ``nano``: the label says "(nano)"."""
    label = PRODUCT_TYPES.get(product_type, product_type).split(" (")[0].lower()
    rules = [r for r in rules if nano or not r.nano]
    if not rules:
        return EuVerdict("", "", ())
    details = [f"{r.ref}: bans only {_short(r.substance, 200)}" for r in rules if r.kind == "conditional"]
    bans = [r for r in rules if r.kind in KIND_BANS]
    # A hair-dye entry says how much may colour hair; it is no verdict on other products (tartrazine is an
    # Annex IV colourant, indigo leaf extract a skin-conditioning extract).
    hair_dye = [r for r in rules if r.annex == "III" and r.types <= {"hair_dye"} and _HAIR_DYE.search(r.scope)] \
        if product_type != "hair_dye" else []
    details += [f"{r.ref}: limit for hair dye products only ({_short(r.scope, 80)}: {r.max_conc or 'conditions'})"
                for r in hair_dye]
    regulating = [r for r in rules if r.annex != "II" and r not in hair_dye]
    if hair_dye and not regulating and not bans:
        return EuVerdict("allowed", "", tuple(dict.fromkeys(r.ref for r in hair_dye)), details=tuple(details))
    hard_bans = [r for r in bans if r.kind == "ban" or not regulating]
    if hard_bans:
        refs = tuple(dict.fromkeys(r.ref for r in hard_bans))
        return EuVerdict("not_permitted", f"prohibited in EU cosmetics (Annex {', '.join(refs)})", refs,
                         details=tuple(details))
    if not regulating:
        return EuVerdict("allowed", "", tuple(r.ref for r in rules), details=tuple(details))
    applies = [r for r in regulating if product_type in r.types]
    if not applies:
        elsewhere = list(dict.fromkeys(f"{r.ref} ({_short(r.scope, 80) or 'conditions apply'})" for r in regulating))
        refs = tuple(dict.fromkeys(r.ref for r in regulating + bans))
        why = "Annex II bans it except where another annex allows it; " if bans else ""
        article = "an" if label[:1] in "aeiou" else "a"
        return EuVerdict("not_permitted", f"not permitted in {article} {label} product in the EU", refs,
                         details=tuple(details + [why + "allowed only in: " + "; ".join(elsewhere)]))
    refs = tuple(dict.fromkeys(r.ref for r in applies))
    limits = [r for r in applies if r.kind == "limit" and r.max_conc]
    for r in applies:
        if r.kind in ("spec", "colourant") or (r.kind == "limit" and not r.max_conc):
            what = "colourant" if r.kind == "colourant" else "specification"
            text = "; ".join(p for p in (_short(r.scope, 80), r.max_conc, _short(r.conditions, 160)) if p)
            details.append(f"{r.ref} ({what}): {text or 'allowed'}")
    if limits:
        general = _general(limits, product_type)
        # Within one annex entry's fields the lowest applies; entries of different annexes are different
        # purposes (Annex V: as a preservative; Annex III: other purposes), so the larger purpose's limit.
        per_annex: dict[str, list[float]] = {}
        for r in general:
            pct = _percent(r.max_conc)
            if pct is not None:
                per_annex.setdefault(r.annex, []).append(pct)
        cap = [p for p in (_percent(r.max_conc, highest=True) for r in limits) if p is not None]
        limit = max(min(v) for v in per_annex.values()) if per_annex else None
        # The type's own limit first, then the limits of narrower products it covers.
        ordered = sorted(limits, key=lambda r: (r not in general, _percent(r.max_conc) or 0.0))
        parts = []
        for r in ordered:
            scope = f" in {_short(r.scope, 90)}" if r.scope and r.types != ALL_TYPES and r.scope != r.max_conc else ""
            parts.append(f"max {_short(r.max_conc, 90)}{scope} ({r.ref})")
        text = "restricted: " + "; ".join(dict.fromkeys(parts + _other_conditions(general)))
        if any(r.kind == "labelling" for r in applies):
            text += "; must be named on the label above 0.001 % (leave-on) or 0.01 % (rinse-off)"
        return EuVerdict("restricted", text, refs, limit, tuple(details), max(cap) if cap else None)
    if any(r.kind == "labelling" for r in applies):
        return EuVerdict("labelling", "must be named on the label above 0.001 % in leave-on or 0.01 % in "
                         "rinse-off products (fragrance allergen)", refs, details=tuple(details))
    return EuVerdict("allowed", "", refs, details=tuple(details))
