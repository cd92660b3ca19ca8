"""Builds data/ingredients.csv from the public reference data plus our own curated layer.

Usage:
    python tools/build_ingredients_csv.py ../shared/ingredients [--out data/ingredients.csv]

Inputs (facts, carried with attribution; see docs/INGREDIENTS_SOURCES.md):
- reference/cosing_inventory_sohab117/cosing.csv     EU CosIng inventory: INCI names, CAS, functions (CC BY 4.0)
- reference/cosing_annexes_on-the-list/annex_*.csv   EU annexes II-VI: prohibited / restricted / allowed lists (CC BY 4.0)
- reference/comedogenic_dermscan/comedogenicity_irritancy.csv   comedogenicity and irritancy 0-5 (MIT)
- reference/evidence_vallydia/compounds.csv          evidence grades A-F (CC BY 4.0)
Inputs written by us (in this repository):
- data/ingredients_curated.csv   plain-language function, pros, cons, concerns, active class, flags
- data/ingredients_aliases.csv    common, old, German, French and Spanish names -> INCI

Annex status is attached ONLY where an annex lists the exact INCI name (its "Name of Common Ingredients
Glossary" or "Identified INGREDIENTS" columns). Never by substring or fuzzy similarity: "GLYCOLIC ACID"
must not inherit the restriction of "THIOGLYCOLIC ACID".
"""
from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
CURATED = ROOT / "data" / "ingredients_curated.csv"
ALIASES = ROOT / "data" / "ingredients_aliases.csv"
BOTANICAL = ROOT / "data" / "ingredients_botanical_synonyms.csv"
TEXTS = ROOT / "data" / "ingredients_texts.csv"
ANNEX_NAMES = ROOT / "data" / "ingredients_annex_names.csv"

COLUMNS = [
    "inci", "cas", "functions", "aliases", "what", "pros", "cons", "helps", "aggravates", "active",
    "fragrance", "allergen", "essential_oil", "drying_alcohol", "silicone", "sulfate", "paraben",
    "formaldehyde_releaser", "comedogenic", "irritancy", "rating_source", "fungal_acne", "pregnancy",
    "eu_status", "eu_ref", "eu_limit", "evidence", "evidence_source", "curated",
]
BOOL_FLAGS = ["fragrance", "allergen", "essential_oil", "drying_alcohol", "silicone", "sulfate", "paraben",
              "formaldehyde_releaser", "fungal_acne", "pregnancy"]
from skin_app.concerns import SCORED  # noqa: E402  (the one vocabulary)


# ---------------------------------------------------------------------------------------------
# CosIng inventory
# ---------------------------------------------------------------------------------------------
def load_cosing(ref: Path) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    with open(ref / "cosing_inventory_sohab117" / "cosing.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            name = " ".join(r["inci_name"].split()).upper()
            if not name:
                continue
            functions = [f.strip() for f in (r["function"] or "").split(",") if f.strip()]
            row = rows.setdefault(name, {"inci": name, "cas": "", "functions": []})
            row["cas"] = row["cas"] or (r["cas_number"] or "").strip()
            for f in functions:
                if f not in row["functions"]:
                    row["functions"].append(f)
    return rows


# ---------------------------------------------------------------------------------------------
# EU annexes -> rules per INCI name and field of application (data/ingredients_eu.csv)
# ---------------------------------------------------------------------------------------------
ANNEX_STATUS = {"II": "prohibited", "II*": "conditional", "III": "restricted", "IV": "colourant", "V": "preservative", "VI": "uv_filter"}
EU_COLUMNS = ["inci", "annex", "ref", "kind", "types", "nano", "max_conc", "scope", "conditions", "substance"]
_SUBSTANCE_COLUMNS = ("Chemical name / INN", "Chemical name", "Name of Common Ingredients Glossary",
                      "Colour index Number / Name of Common Ingredients Glossary", "Chemical/IUPAC Name")
_IDENTIFIED = "Identified INGREDIENTS or substances e.g."
_CAS = re.compile(r"\b\d{2,7}-\d{2}-\d\b")
# Annex II wording that bans a use, a grade or an amount, not the ingredient as sold for cosmetics.
_BAN_CONDITION = re.compile(r"when used as|hair (?:and eyelash )?dye|except for normal content|except if|\bunless\b|"
                            r"\bif (?:it|they|the)\b|\bif\s+\w+\s+contain|provided that", re.I)
# "X and its compounds, except those in Annex V": the ban stands unless another annex entry allows the name.
_EXCEPT_ANNEX = re.compile(r"(?:except|exception)\b[^.]*?(?:annex|entry|reference number)", re.I)
_EXCEPT_SPLIT = re.compile(r",?\s*\b(?:except(?:ion)?|with (?:the )?exception of)\b", re.I)
# Names an Annex II entry lists as products that may contain the banned substance, not as the substance:
# mixtures by their name (extracts, oils, media) or known to be one (checked by hand).
ANNEX_II_MIXTURES = {"CYCLOMETHICONE"}      # D5/D6 with possible D4 (II/1388 bans D4 = cyclotetrasiloxane)
_MIXTURE_NAME = re.compile(r"EXTRACT|\bOIL\b|JUICE|MEDIA|FERMENT|CULTURE|POWDER|WATER|/|LYSATE|FILTRATE", re.I)
_COMBINATION = re.compile(r"\(AND\)|\bAND\b(?! ITS| THEIR)|\bmixture of\b", re.I)
_NANO = re.compile(r"\(\s*nano\s*\)", re.I)
_ALLERGEN_WORDING = re.compile(r"presence of the substances? (?:or substances )?(?:must|shall) be indicated.{0,80}"
                               r"in the list of ingredients", re.I | re.S)
_PURITY = re.compile(r"(?:maximum|minimum)?\s*(?:secondary amine content|nitrosamine content|purity|impurit\w*)[^;\n]*",
                     re.I)
_HAS_LIMIT = re.compile(r"\d\s*%|\bppm\b|mg/kg", re.I)
_LETTER = re.compile(r"(?:^|(?<=\s)|(?<=\n))\(?([a-z])\)\s*")     # read in sequence only: (a), (b), ... (n)
# Mercury and its compounds (Annex II/221): the annex names none of the compounds; these are the INCI names
# that are mercury compounds (checked by hand). Thimerosal and the phenylmercuric salts keep their Annex V
# entry for eye products ("except those special cases included in Annex V").
ANNEX_GROUP_MEMBERS = {"II/221": re.compile(r"\bMERCUR(?:IC|OUS|Y)\b|^THIMEROSAL$")}


def _annex_rows(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header_at = next(i for i, r in enumerate(rows) if r and r[0].startswith("Reference"))
    header = rows[header_at]
    return [dict(zip(header, r)) for r in rows[header_at + 1:] if any(c.strip() for c in r)]


def _names_in_cell(cell: str, inventory: set[str], comma_list: bool = True) -> set[str]:
    """INCI names listed in an annex cell, exact only. In a comma-separated list (``comma_list``) names may
    contain commas ("2,4-DIAMINO..."), so consecutive pieces are re-joined and kept only when the result is
    a CosIng name. A chemical name is never cut at its commas ("Benzoic acid, 4-ethoxy-, ... ester" is not
    benzoic acid); from it come whole names and those given as "(INCI: X)", "X [INCI]" or "(Hydroquinone)"."""
    text = _NANO.sub(" ", cell.replace("\xad", "")).upper()
    lines = re.split(r"\n|;| / |/(?=\s*[A-Z]{2})", text)
    lines += re.findall(r"INCI:\s*([^()\[\]]+)", text) + re.findall(r"([^\[\],;]+?)\s*\[INCI\]", text)
    lines += re.findall(r"(?:^|\s)\(([^()]+)\)", text)       # "(Hydroquinone)", not "tetra(acetic acid)"
    found: set[str] = set()
    for line in lines:
        if not comma_list:
            cand = " ".join(line.split()).strip(" .,")
            if cand in inventory:
                found.add(cand)
            continue
        pieces = [p.strip() for p in line.split(",")]
        for i in range(len(pieces)):
            for k in range(1, 5):
                if i + k > len(pieces):
                    break
                cand = " ".join(",".join(pieces[i:i + k]).split()).strip(" .")
                if cand in inventory:
                    found.add(cand)
    return found


def _clean_limit(text: str) -> str:
    text = re.sub(r"\s*\n\s*", "; ", (text or "").replace("\xad", "").strip())
    text = re.sub(r"(;\s*)+", "; ", text).strip("; ")
    return text[:300]


def _lettered(text: str) -> dict[str, str]:
    """'(a) Leave-on (b) Rinse-off' -> {'a': 'Leave-on', 'b': 'Rinse-off'}; unlettered text -> {'': text}."""
    text = (text or "").replace("\xad", "")
    marks = []
    for m in _LETTER.finditer(text):         # "(i)" after "(h)" is a field; "(i)" anywhere else is not
        if m.group(1) == chr(ord("a") + len(marks)):
            marks.append(m)
    if not marks:
        return {"": text.strip()}
    out: dict[str, str] = {}
    head = text[:marks[0].start()].strip()
    for m, nxt in zip(marks, marks[1:] + [None]):
        out.setdefault(m.group(1), (head + " " + text[m.end():nxt.start() if nxt else len(text)]).strip())
    return out


def _cas_index(cosing: dict[str, dict]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for name, row in cosing.items():
        for cas in set(_CAS.findall(row.get("cas") or "")):
            index.setdefault(cas, []).append(name)
    return index


def _functions_only_preserve(row: dict) -> bool:
    funcs = {f.lower() for f in row.get("functions", [])}
    return bool(funcs) and funcs <= {"preservative", "antimicrobial"}


def load_annex_names(path: Path = ANNEX_NAMES) -> dict[str, list[tuple[str, str]]]:
    """Annex reference -> [(name, CAS)]: substances an entry covers that the 2020 inventory lacks by that name."""
    out: dict[str, list[tuple[str, str]]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            name = " ".join((r.get("name") or "").split()).upper()
            if name and not name.startswith("#"):
                out.setdefault(r["ref"].strip(), []).append((name, (r.get("cas") or "").strip()))
    return out


def annex_rules(ref: Path, cosing: dict[str, dict],
                members: dict[str, list[tuple[str, str]]] | None = None) -> tuple[list[dict], set[str], set[str]]:
    """Every annex entry as rules attached to INCI names: one rule per field of application.
    Also the INCI names the annexes mark as declarable fragrance allergens and as formaldehyde releasers.
    ``members``: names an entry covers beyond those it prints (load_annex_names)."""
    from skin_app.ingredients.eu import negated_types, scope_types  # the one place that reads fields of application

    inventory = set(cosing)
    by_cas = _cas_index(cosing)
    rules: list[dict] = []
    allergens: set[str] = set()
    formaldehyde: set[str] = set()
    folder = ref / "cosing_annexes_on-the-list"
    for annex in ("II", "III", "IV", "V", "VI"):
        for row in _annex_rows(folder / f"annex_{annex}.csv"):
            ref_no = f"{annex}/{row.get('Reference Number', '').strip()}"
            wording = " ".join(row.get(c, "") for c in _SUBSTANCE_COLUMNS[:2])
            main_wording = _EXCEPT_SPLIT.split(wording, maxsplit=1)[0]
            substance: set[str] = set()
            for col in _SUBSTANCE_COLUMNS:
                cell = row.get(col, "")
                if col in _SUBSTANCE_COLUMNS[:2]:
                    cell = _EXCEPT_SPLIT.split(cell, maxsplit=1)[0]    # "..., with exception of sodium nitrite"
                substance |= _names_in_cell(cell, inventory, comma_list="Glossary" in col)
            cas_numbers = set(_CAS.findall(row.get("CAS Number", "")))
            for cas in cas_numbers:
                names = by_cas.get(cas, [])
                if 0 < len(names) <= 3 and len(cas_numbers) <= 12:
                    substance |= set(names)
            identified = _names_in_cell(row.get(_IDENTIFIED, ""), inventory) - substance
            group = ANNEX_GROUP_MEMBERS.get(ref_no)
            if group is not None:
                substance |= {n for n in inventory if group.search(n)}
            substance |= {name for name, _cas in (members or {}).get(ref_no, ())}
            combination = annex != "II" and bool(_COMBINATION.search(
                row.get("Name of Common Ingredients Glossary", "") or row.get("Chemical name / INN", "")))
            # An entry about the nano form only; "TRIS-BIPHENYL TRIAZINE / TRIS-BIPHENYL TRIAZINE (NANO)" covers both.
            glossary = [p for p in re.split(r"/|;|\n", row.get("Name of Common Ingredients Glossary", "")) if p.strip()]
            nano = all(_NANO.search(p) for p in glossary) if glossary else bool(_NANO.search(wording))
            other = row.get("Other", "") + "\n" + row.get("Wording of conditions of use and warnings", "")
            if _ALLERGEN_WORDING.search(other):
                allergens |= substance | identified
            if re.search(r"releas\w* formaldehyde|formaldehyde releas", other, re.I):
                formaldehyde |= substance | identified
            short_substance = " ".join(wording.split())[:200]
            base = {"annex": annex, "ref": ref_no, "nano": "1" if nano else "", "substance": short_substance}

            if annex == "II":
                if _BAN_CONDITION.search(wording):
                    kinds = {n: "conditional" for n in substance | identified}
                else:
                    kind = "ban_except" if _EXCEPT_ANNEX.search(wording) else "ban"
                    kinds = {n: kind for n in substance}
                    kinds.update({n: "conditional" if _MIXTURE_NAME.search(n) or n in ANNEX_II_MIXTURES else kind
                                  for n in identified})
                for name, kind in kinds.items():
                    rules.append(dict(base, inci=name, kind=kind, types="all", max_conc="", scope="",
                                      conditions=""))
                continue

            names = substance | identified
            if combination:
                # "CITRIC ACID (AND) SILVER CITRATE": the limit is the mixture's. A plain part gets it only
                # when it is itself nothing but a preservative (methylchloroisothiazolinone), never citric acid.
                names = {n for n in names if _COMBINATION.search(n) or "/" in n or _functions_only_preserve(cosing[n])}
            scope_col = row.get("Product Type, body parts", "")
            max_col = row.get("Maximum concentration in ready for use preparation", "")
            if annex == "IV" or not scope_col.strip():
                # Annex IV and some Annex V rows word the field in the concentration column
                # ("0,0015 % Rinse-off products", "Not to be used in eye products").
                scope_col = (scope_col + " " + max_col).strip()
            scopes = _lettered(scope_col)
            maxima = _lettered(max_col)
            others = _lettered(other)
            allergen = bool(_ALLERGEN_WORDING.search(other))
            conditions = _clean_limit(other)[:240]
            for letter, scope in scopes.items():
                max_conc = maxima.get(letter, maxima.get("", "")) if letter else max_col
                max_conc = _clean_limit(max_conc)[:160]
                part_other = others.get(letter, "") if letter else ""
                if annex == "IV":
                    kind = "colourant"
                    max_conc = max_conc if _HAS_LIMIT.search(max_conc) else ""
                elif re.search(r"\btraces\b", scope, re.I):
                    kind = "spec"                 # "as traces in ingredients": a purity limit on raw materials
                elif _HAS_LIMIT.search(_PURITY.sub(" ", max_conc)):
                    kind = "limit"
                elif allergen:
                    kind = "labelling"
                else:
                    kind = "spec"
                # the "Other" column's "Not to be used in oral products" narrows the field ("Other products")
                types = scope_types(scope) - negated_types(part_other or other)
                for name in names:
                    rules.append(dict(base, inci=name, kind=kind, types=" ".join(sorted(types)) or "-",
                                      max_conc=max_conc,
                                      scope=_clean_limit(scope)[:160] if re.search(r"[A-Za-z]{4}", scope) else "",
                                      conditions=_clean_limit(part_other)[:160] or conditions))
    return rules, allergens, formaldehyde


def annex_columns(rules: list[dict]) -> tuple[str, str, str]:
    """A product-type-free summary for the main CSV (status, refs, limits); the verdict per product type
    comes from the rules themselves (skin_app.ingredients.eu.verdict)."""
    rules = [r for r in rules if not r["nano"]] or rules
    kinds = {r["kind"] for r in rules}
    annexes = {r["annex"] for r in rules}
    if "ban" in kinds or ("ban_except" in kinds and annexes == {"II"}):
        status = "prohibited"
    elif "III" in annexes:
        status = "restricted"
    elif "V" in annexes:
        status = "preservative"
    elif "VI" in annexes:
        status = "uv_filter"
    elif "IV" in annexes:
        status = "colourant"
    else:
        status = "conditional"
    refs = " | ".join(dict.fromkeys(r["ref"] for r in rules))
    limits = []
    for r in rules:
        if r["annex"] == "II":
            word = "bans only" if r["kind"] == "conditional" else "prohibited"
            limits.append(f"{r['ref']}: {word} ({r['substance'][:120]})")
        else:
            parts = [p for p in (r["scope"], r["max_conc"]) if p] or [r["conditions"][:120] or "conditions apply"]
            limits.append(f"{r['ref']}: " + "; ".join(parts))
    return status, refs, " | ".join(dict.fromkeys(limits))[:700]


# ---------------------------------------------------------------------------------------------
# Ratings and evidence
# ---------------------------------------------------------------------------------------------
# Names in the dermscan table that are common names or carry typos, mapped by hand to INCI.
DERMSCAN_TO_INCI = {
    "ALMOND OIL": "PRUNUS AMYGDALUS DULCIS OIL", "AVOCADO OIL": "PERSEA GRATISSIMA OIL",
    "COCOA BUTTER": "THEOBROMA CACAO SEED BUTTER", "COCONUT OIL": "COCOS NUCIFERA OIL",
    "CORN OIL": "ZEA MAYS GERM OIL", "COTTON SEED OIL": "GOSSYPIUM HERBACEUM SEED OIL",
    "COTTONSEED OIL": "GOSSYPIUM HERBACEUM SEED OIL", "EVENING PRIMROSE OIL": "OENOTHERA BIENNIS OIL",
    "GRAPE SEED OIL": "VITIS VINIFERA SEED OIL", "HEMP SEED OIL": "CANNABIS SATIVA SEED OIL",
    "JOJOBA OIL": "SIMMONDSIA CHINENSIS SEED OIL", "LINSEED OIL": "LINUM USITATISSIMUM SEED OIL",
    "OLIVE OIL": "OLEA EUROPAEA FRUIT OIL", "PEANUT OIL": "ARACHIS HYPOGAEA OIL",
    "SAFFLOWER OIL": "CARTHAMUS TINCTORIUS SEED OIL", "SESAME OIL": "SESAMUM INDICUM SEED OIL",
    "SHEA BUTTER": "BUTYROSPERMUM PARKII BUTTER", "SOYBEAN OIL": "GLYCINE SOJA OIL",
    "SUNFLOWER OIL": "HELIANTHUS ANNUUS SEED OIL", "WHEAT GERM OIL": "TRITICUM VULGARE GERM OIL",
    "CASTOR OIL": "RICINUS COMMUNIS SEED OIL", "MINERAL OIL": "PARAFFINUM LIQUIDUM",
    "VITAMIN A PALMITATE": "RETINYL PALMITATE", "LITHIUMM STEARATE": "LITHIUM STEARATE",
    "MAGNESEIUM ALUMINUM SILICATE": "MAGNESIUM ALUMINUM SILICATE", "SYEARYL HEPTANOATE": "STEARYL HEPTANOATE",
    "D & C RED # 3": "CI 45430", "D & C RED # 30": "CI 73360", "D & C RED # 36": "CI 12085",
    "D & C RED #3": "CI 45430", "D & C RED #30": "CI 73360", "D & C RED #36": "CI 12085",
    "CETEARYL ALCOHOL + CETEARETH 20": "", "STEARETH 10": "STEARETH-10", "STEARETH 2": "STEARETH-2",
    "STEARETH 20": "STEARETH-20", "OLETH 3": "OLETH-3", "OLETH 10": "OLETH-10", "LAURETH 4": "LAURETH-4",
    "PEG 16 LANOLIN": "PEG-16 LANOLIN", "PPG 2 MYRISTYL PROPIONATE": "PPG-2 MYRISTYL ETHER PROPIONATE",
    "HEXADECYL ALCOHOL": "CETYL ALCOHOL",
}


_LIPOPHILIC = re.compile(r"OIL$|BUTTER$|WAX$|LANOLIN|\bCERA\b|ATES?$|YL ALCOHOL$|(?:LAURIC|MYRISTIC|PALMITIC|"
                         r"STEARIC|OLEIC|LINOLEIC|ISOSTEARIC|BEHENIC) ACID$|^CI \d|ESTERS?$|SQUAL|PETROLATUM|"
                         r"PARAFFIN|GLYCERIDES?$|(?:LAURETH|OLETH|STEARETH|CETEARETH|STEARETH)-\d+$|MINERAL")
_NOT_LIPOPHILIC = re.compile(r"SULFATE$|SULFONATE$|CHLORIDE$|PHOSPHATE$|CARBONATE$|SILICATE$|\bSODIUM\b|\bPOTASSIUM\b")


# Salts and thickening gums: an irritancy number for the pure powder says nothing about a cream.
_INERT_FOR_IRRITANCY = re.compile(r"CHLORIDE$|CARBONATE$|SILICATE$|\bGUM$|^ALGIN$|CARRAGEENAN|^AGAR$")


def load_dermscan(ref: Path, inventory: set[str]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    path = ref / "comedogenic_dermscan" / "comedogenicity_irritancy.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            raw = " ".join(r["Name"].split()).upper()
            inci = DERMSCAN_TO_INCI.get(raw, raw)
            inci = re.sub(r"(\b(?:PEG|PPG|STEARETH|LAURETH|OLETH|CETEARETH|STEARETH))\s+(\d)", r"\1-\2", inci)
            if inci and inci in inventory:
                out[inci] = (r["Comedogenicity"].strip(), r["Irritancy"].strip())
    return out


def load_evidence(ref: Path, inventory: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    with open(ref / "evidence_vallydia" / "compounds.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            grade = (r.get("overall_grade") or "").strip()
            # The INCI column when filled, else the compound's own name (exact INCI names only).
            names = re.split(r"\s*[;|]\s*", (r.get("inci_name") or "").upper())
            if not any(n.strip() for n in names):
                names = [r.get("name") or ""]          # synonyms name derivatives graded with the parent: not used
                names = [re.sub(r"\([^()]*\)", " ", n).upper() for n in names]
            for name in names:
                name = " ".join(name.split())
                if name in inventory and grade and name not in out:
                    out[name] = grade
    return out


# ---------------------------------------------------------------------------------------------
# Family rules (ours): applied to every INCI name, overridable in the curated file
# ---------------------------------------------------------------------------------------------
_SILICONE = re.compile(r"(ICONE\b|ICONES\b|SILOXANE|SILANE\b|SILANOL|SILSESQUIOXANE|DIMETHICONOL|SILYLATE|"
                       r"SILICONE|METHICONE|SILOXY)")
_SULFATE = re.compile(r"(LAURYL|LAURETH|MYRETH|MYRISTYL|COCO|COCOYL|CETYL|CETEARYL|DECYL|DECETH|TRIDECETH|PARETH|"
                      r"OLETH|ALKYL|C\d+-\d+)[\w\-/ ]*\bSULFATE$")
_PARABEN = re.compile(r"PARABEN")
_DRYING_ALCOHOL = re.compile(r"^(ALCOHOL|ALCOHOL DENAT\..*|SD ALCOHOL.*|ISOPROPYL ALCOHOL|METHYL ALCOHOL|"
                             r"PROPYL ALCOHOL|ETHANOL|DENATURED ALCOHOL)$")
_FORMALDEHYDE_RELEASERS = {
    "DMDM HYDANTOIN", "IMIDAZOLIDINYL UREA", "DIAZOLIDINYL UREA", "QUATERNIUM-15", "2-BROMO-2-NITROPROPANE-1,3-DIOL",
    "5-BROMO-5-NITRO-1,3-DIOXANE", "SODIUM HYDROXYMETHYLGLYCINATE", "METHENAMINE", "BENZYLHEMIFORMAL",
    "POLYOXYMETHYLENE UREA", "MDM HYDANTOIN", "GLYOXAL", "TRIS(HYDROXYMETHYL)NITROMETHANE", "FORMALDEHYDE",
    "PARAFORMALDEHYDE", "METHYLENE GLYCOL",
}
_AROMATIC_PART = re.compile(r"\b(LEAF|LEAVES|FLOWER|PEEL|HERB|BARK|WOOD|ROOT|RHIZOME|RIND|NEEDLE|TWIG|RESIN|"
                            r"BUD|GRASS|STEM|CONE|BRANCH|HEARTWOOD|SEED BALSAM)\b[\w/ ]* OIL$")
# Plant oils pressed from seeds, kernels or fruit flesh (fixed oils): never essential oils, whatever their
# CosIng functions say (soybean, coconut and corn oil are listed as "perfuming").
_FIXED_OIL_GENERA = {
    "GLYCINE", "COCOS", "ZEA", "OLEA", "HELIANTHUS", "RICINUS", "PRUNUS", "SIMMONDSIA", "PERSEA", "BUTYROSPERMUM",
    "ELAEIS", "SESAMUM", "ARACHIS", "BRASSICA", "CARTHAMUS", "GOSSYPIUM", "ORYZA", "TRITICUM", "VITIS", "MACADAMIA",
    "ARGANIA", "LINUM", "CANNABIS", "LIMNANTHES", "THEOBROMA", "MANGIFERA", "OENOTHERA", "BORAGO", "HIPPOPHAE",
    "MORINGA", "ADANSONIA", "SCLEROCARYA", "PASSIFLORA", "PUNICA", "RUBUS", "RIBES", "CUCURBITA", "CUCUMIS",
    "CARYOCAR", "ORBIGNYA", "ASTROCARYUM", "BERTHOLLETIA", "JUGLANS", "CORYLUS", "CALOPHYLLUM", "AZADIRACHTA",
    "CAMELINA", "PLUKENETIA", "SCHINZIOPHYTON", "CRAMBE", "SHOREA", "MAURITIA", "EUTERPE", "BACTRIS", "CITRULLUS",
    "PISTACIA", "ANACARDIUM", "CARICA", "BIXA", "NIGELLA", "ALEURITES", "HORDEUM", "AVENA", "SOLANUM", "MALUS",
    "PYRUS", "FRAGARIA", "VACCINIUM", "ACTINIDIA", "PHOENIX", "GARCINIA", "IRVINGIA", "PENTACLETHRA", "TAMANU",
    "LUFFA", "LYCIUM", "OPUNTIA", "SILYBUM", "CAMELLIA", "LUPINUS", "PAPAVER", "CARYA", "PONGAMIA", "MADHUCA",
}
_FIXED_OIL_SPECIES = ("SALVIA HISPANICA", "ROSA CANINA FRUIT", "ROSA CANINA SEED", "ROSA RUBIGINOSA SEED",
                      "ROSA MOSCHATA SEED", "CITRUS PARADISI SEED", "CITRUS AURANTIFOLIA SEED")
# Plants whose fruit, seed or kernel oil is an aromatic, steam-distilled oil (star anise, nutmeg, litsea).
_ESSENTIAL_OIL_GENERA = {
    "ILLICIUM", "MYRISTICA", "LITSEA", "PIMENTA", "PIPER", "ELETTARIA", "CORIANDRUM", "ANETHUM", "FOENICULUM",
    "CARUM", "CUMINUM", "JUNIPERUS", "EUGENIA", "SYZYGIUM", "CYMBOPOGON", "PELARGONIUM", "LAVANDULA", "ROSMARINUS",
    "MENTHA", "EUCALYPTUS", "MELALEUCA", "THYMUS", "ORIGANUM", "CANANGA", "SANTALUM", "CEDRUS", "POGOSTEMON",
    "VETIVERIA", "CHRYSOPOGON", "BOSWELLIA", "COMMIPHORA", "CINNAMOMUM", "LAURUS", "OCIMUM", "MATRICARIA",
    "CHAMOMILLA", "ANTHEMIS", "CHAMAEMELUM", "JASMINUM", "ABIES", "PINUS", "CUPRESSUS", "DAUCUS", "APIUM",
    "PETROSELINUM", "ANGELICA", "AMYRIS", "ANIBA", "CISTUS", "LEPTOSPERMUM", "MYRTUS", "NARDOSTACHYS", "PICEA",
    "RAVENSARA", "ARTEMISIA", "TANACETUM", "HELICHRYSUM", "ACHILLEA", "LIPPIA", "SALVIA", "ZINGIBER", "CURCUMA",
    "CITRUS", "MICHELIA", "POLIANTHES", "STYRAX", "MYROXYLON", "FERULA", "LEVISTICUM", "AGATHOSMA", "TAGETES",
}
_NOT_A_SCENT = re.compile(r"EXTRACT|JUICE|WATER|POWDER|FERMENT|FILTRATE|LYSATE|\bCELL|CALLUS|\bGUM\b|\bHULL\b")
_FIXED_OIL_PART = re.compile(r"\b(SEED|KERNEL|NUT|GERM|BRAN|PULP)\b")
_FA_TRIGGER = re.compile(r"(LAURATE|LAURIC ACID|MYRISTATE|MYRISTIC ACID|PALMITATE|PALMITIC ACID|STEARATE|"
                         r"STEARIC ACID|OLEATE|OLEIC ACID|LINOLEATE|LINOLEIC ACID|ISOSTEARATE|ISOSTEARIC ACID|"
                         r"BEHENATE|POLYSORBATE|SORBITAN \w+ATE|FERMENT|ESTERS$|LANOLIN)")
_FA_SAFE = {"CAPRYLIC/CAPRIC TRIGLYCERIDE", "SQUALANE", "PARAFFINUM LIQUIDUM", "MINERAL OIL", "HYDROGENATED POLYISOBUTENE"}


def rule_flags(inci: str, functions: list[str]) -> dict[str, str]:
    f: dict[str, str] = {}
    funcs = {x.lower() for x in functions}
    botanical_oil = inci.endswith(" OIL") and not re.search(
        r"HYDROGENATED|PEG-|PPG-|SULFATED|ETHOXYLATED|EPOXIDIZED|MINERAL|SILICONE|OZONIZED|POLYGLYCERYL|ESTERS|"
        r"MALEATED|BLOWN|SULFONATED|PARAFFIN", inci) and len(inci.split()) >= 3
    if _SILICONE.search(inci) and "SILICA" not in inci.replace("SILICONE", ""):
        f["silicone"] = "1"
    if _SULFATE.search(inci) and "CHONDROITIN" not in inci and "DEXTRAN" not in inci:
        f["sulfate"] = "1"
    if _PARABEN.search(inci):
        f["paraben"] = "1"
    if _DRYING_ALCOHOL.match(inci):
        f["drying_alcohol"] = "1"
    if inci in _FORMALDEHYDE_RELEASERS:
        f["formaldehyde_releaser"] = "1"
    genus = inci.split(" ")[0]
    fixed = genus in _FIXED_OIL_GENERA or any(inci.startswith(p) for p in _FIXED_OIL_SPECIES)
    aromatic_part = bool(_AROMATIC_PART.search(inci))
    essential = botanical_oil and (
        aromatic_part or (not fixed and (
            genus in _ESSENTIAL_OIL_GENERA or
            ({"perfuming", "masking", "tonic"} & funcs and not _FIXED_OIL_PART.search(inci) and "FRUIT OIL" not in inci)
            or ("CITRUS" in inci and "SEED" not in inci))))
    if essential:
        f["essential_oil"] = "1"
        f["fragrance"] = "1"
    # A name whose only CosIng functions are perfuming or masking is a fragrance material, unless it is a
    # plant extract, juice, water or powder (turmeric root extract is listed as "perfuming" too).
    if inci in {"PARFUM", "AROMA", "FRAGRANCE"} or (funcs and funcs <= {"perfuming", "masking", "fragrance"} and
                                                    not _NOT_A_SCENT.search(inci) and not botanical_oil):
        f["fragrance"] = "1"
    if inci not in _FA_SAFE and (_FA_TRIGGER.search(inci) or (botanical_oil and not essential)):
        f["fungal_acne"] = "1"
    return f


# ---------------------------------------------------------------------------------------------
# Curated layer and aliases (ours)
# ---------------------------------------------------------------------------------------------
def load_curated(path: Path = CURATED) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if (r.get("inci") or "").strip() and not r["inci"].startswith("#")]
    for r in rows:
        r["inci"] = " ".join(r["inci"].split()).upper()
        for key in ("helps", "aggravates"):
            for c in filter(None, (r.get(key) or "").split(";")):
                if c.strip() not in SCORED:
                    raise ValueError(f"{r['inci']}: unknown concern {c!r} in {key}")
    return rows


def parse_flags(text: str) -> dict[str, str]:
    """'pregnancy; fungal_acne=0; comedogenic=2' -> {'pregnancy': '1', 'fungal_acne': '0', 'comedogenic': '2'}"""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, _, value = part.partition("=")
        key, value = key.strip(), (value.strip() or "1")
        if key not in BOOL_FLAGS and key not in ("comedogenic", "irritancy", "evidence"):
            raise ValueError(f"unknown flag {key!r}")
        out[key] = value
    return out


def load_texts(path: Path = TEXTS) -> dict[str, str]:
    """Our richer plain-language texts (what it is, what it does, who should care) by INCI name."""
    with open(path, encoding="utf-8", newline="") as fh:
        return {" ".join(r["inci"].split()).upper(): " ".join(r["about"].split())
                for r in csv.DictReader(fh) if r.get("inci") and not r["inci"].startswith("#") and r.get("about")}


def load_aliases(path: Path = ALIASES) -> list[tuple[str, str]]:
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            alias = " ".join((r.get("alias") or "").split())
            inci = " ".join((r.get("inci") or "").split()).upper()
            if alias and inci and not alias.startswith("#"):
                out.append((alias, inci))
    return out


def load_botanical(path: Path = BOTANICAL) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [(" ".join(r["old_prefix"].split()).upper(), " ".join(r["inci_prefix"].split()).upper())
                for r in csv.DictReader(fh) if r.get("old_prefix") and r["old_prefix"] != r["inci_prefix"]]


def botanical_aliases(inventory: set[str], synonyms: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """'CITRUS MEDICA LIMONUM PEEL OIL' -> 'CITRUS LIMON PEEL OIL' for every INCI name with the new prefix."""
    out = []
    for old, new in synonyms:
        for name in inventory:
            if name == new or name.startswith(new + " "):
                alias = old + name[len(new):]
                if alias not in inventory:
                    out.append((alias.title(), name))
    return out


# ---------------------------------------------------------------------------------------------
# Label-language names (ours): German, French, Spanish and Italian forms of chemical INCI names
# ---------------------------------------------------------------------------------------------
LANGS = ("de", "fr", "es", "it")
# First words that are metals (salts: "Sodium Benzoate" -> "Natriumbenzoat", "Benzoate de sodium").
_CATIONS = {
    "SODIUM": ("Natrium", "sodium", "sodio", "sodio"), "POTASSIUM": ("Kalium", "potassium", "potasio", "potassio"),
    "CALCIUM": ("Calcium", "calcium", "calcio", "calcio"), "MAGNESIUM": ("Magnesium", "magnésium", "magnesio", "magnesio"),
    "ZINC": ("Zink", "zinc", "zinc", "zinco"), "ALUMINUM": ("Aluminium", "aluminium", "aluminio", "alluminio"),
    "AMMONIUM": ("Ammonium", "ammonium", "amonio", "ammonio"), "COPPER": ("Kupfer", "cuivre", "cobre", "rame"),
    "SILVER": ("Silber", "argent", "plata", "argento"), "IRON": ("Eisen", "fer", "hierro", "ferro"),
}
# Words that do not follow the spelling rules below.
_IRREGULAR_STEMS = {   # -IC ACID stems: German name of the acid, else the stem + "säure"
    "CITRIC": "Zitronen", "LACTIC": "Milch", "BENZOIC": "Benzoe", "SORBIC": "Sorbin", "ASCORBIC": "Ascorbin",
    "STEARIC": "Stearin", "PALMITIC": "Palmitin", "LAURIC": "Laurin", "MALIC": "Äpfel", "TARTARIC": "Wein",
    "DEHYDROACETIC": "Dehydracet", "AZELAIC": "Azelain", "KOJIC": "Koji", "FERULIC": "Ferula", "TRANEXAMIC": "Tranexam",
    "OLEIC": "Öl", "LINOLEIC": "Linol", "HYALURONIC": "Hyaluron", "MYRISTIC": "Myristin", "ACETIC": "Essig",
    "FORMIC": "Ameisen", "SUCCINIC": "Bernstein", "GLUCONIC": "Glucon", "PHYTIC": "Phytin", "UNDECYLENIC": "Undecylen",
}
_IRREGULAR = {   # whole names (mostly EU fragrance allergens with their own common names)
    "CINNAMAL": ("Zimtaldehyd", "Aldéhyde cinnamique", "Aldehído cinámico", "Aldeide cinnamica"),
    "HEXYL CINNAMAL": ("Hexylzimtaldehyd", "Hexylcinnamaldéhyde", "Hexilcinamaldehído", "Aldeide esilcinnamica"),
    "AMYL CINNAMAL": ("Amylzimtaldehyd", "Amylcinnamaldéhyde", "Amilcinamaldehído", "Aldeide amilcinnamica"),
    "AMYLCINNAMYL ALCOHOL": ("Amylzimtalkohol", "Alcool amylcinnamique", "Alcohol amilcinamílico", "Alcol amilcinnamilico"),
    "CINNAMYL ALCOHOL": ("Zimtalkohol", "Alcool cinnamique", "Alcohol cinamílico", "Alcol cinnamilico"),
    "COUMARIN": ("Cumarin", "Coumarine", "Cumarina", "Cumarina"),
    "EVERNIA PRUNASTRI EXTRACT": ("Eichenmoosextrakt", "Extrait de mousse de chêne", "Extracto de musgo de roble",
                                  "Estratto di muschio di quercia"),
    "EVERNIA FURFURACEA EXTRACT": ("Baummoosextrakt", "Extrait de mousse d'arbre", "Extracto de musgo de árbol",
                                   "Estratto di muschio d'albero"),
    "ANISE ALCOHOL": ("Anisalkohol", "Alcool anisique", "Alcohol anísico", "Alcol anisico"),
    "GLYCERIN": ("Glycerin", "Glycérine", "Glicerina", "Glicerina"),
    "ALCOHOL": ("Alkohol", "Alcool", "Alcohol", "Alcol"),
    "AQUA": ("Wasser", "Eau", "Agua", "Acqua"),
    "PARFUM": ("Parfüm", "Parfum", "Perfume", "Profumo"),
    "UREA": ("Harnstoff", "Urée", "Urea", "Urea"),
    "CAFFEINE": ("Koffein", "Caféine", "Cafeína", "Caffeina"),
    "MENTHOL": ("Menthol", "Menthol", "Mentol", "Mentolo"),
    "CAMPHOR": ("Kampfer", "Camphre", "Alcanfor", "Canfora"),
    "XANTHAN GUM": ("Xanthan", "Gomme xanthane", "Goma xantana", "Gomma xantana"),
    "TALC": ("Talkum", "Talc", "Talco", "Talco"),
    "KAOLIN": ("Kaolin", "Kaolin", "Caolín", "Caolino"),
    "SILICA": ("Kieselsäure", "Silice", "Sílice", "Silice"),
    "PANTHENOL": ("Panthenol", "Panthénol", "Pantenol", "Pantenolo"),
    "TOCOPHEROL": ("Tocopherol", "Tocophérol", "Tocoferol", "Tocoferolo"),
    "RETINOL": ("Retinol", "Rétinol", "Retinol", "Retinolo"),
    "HYDROGEN PEROXIDE": ("Wasserstoffperoxid", "Peroxyde d'hydrogène", "Peróxido de hidrógeno", "Perossido di idrogeno"),
    "FORMALDEHYDE": ("Formaldehyd", "Formaldéhyde", "Formaldehído", "Formaldeide"),
}


def _romance(word: str, lang: str) -> str:
    """An English chemical stem in Spanish or Italian spelling ("benzyl" -> "bencil" / "benzil")."""
    w = word.lower().replace("ph", "f").replace("th", "t").replace("y", "i").replace("ch", "c").replace("oo", "o")
    if lang == "es":
        w = w.replace("zi", "ci").replace("ze", "ce").replace("ss", "s").replace("mm", "m").replace("nn", "n")
        w = w.replace("ll", "l")
        if re.match(r"s[tcp]", w):
            w = "e" + w
    if lang == "it":
        w = w.replace("ct", "tt").replace("x", "ss")
        w = re.sub(r"^hi", "i", w)
    return w.replace("h", "") if lang == "it" and w.startswith("h") else w


def _anion(word: str) -> tuple[str, str, str, str] | None:
    """'BENZOATE' -> ('Benzoat', 'benzoate', 'benzoato', 'benzoato'); 'CHLORIDE' -> ('Chlorid', 'chlorure', ...)."""
    w = word.lower()
    if w.endswith("ate") and len(w) > 5:
        return (w[:-1].capitalize(), w, _romance(w[:-1], "es") + "o", _romance(w[:-1], "it") + "o")
    if w.endswith("ide") and len(w) > 4:
        halide = re.search(r"(chlor|brom|fluor|iod)ide$", w)
        fr = w[:-3] + "ure" if halide else w[:-3].replace("oxi", "oxy") + "yde"
        es = _romance(w[:-3], "es") + ("uro" if halide else "ido")
        it = _romance(w[:-3], "it") + ("uro" if halide else "ido")
        return (w[:-1].capitalize(), fr, es, it)
    return None


def _alkyl(word: str) -> tuple[str, str, str, str, tuple[str, str, str]] | None:
    """'BENZYL' -> German 'Benzyl', French 'benzyle', Spanish 'bencilo', Italian 'benzile', and the
    adjectives for alcohols ('benzylique', 'bencílico', 'benzilico')."""
    w = word.lower()
    if not w.endswith("yl") or len(w) < 4:
        return None
    es, it = _romance(w, "es"), _romance(w, "it")
    return (w.capitalize(), w + "e", es + "o", it + "e", (w + "ique", es + "ico", it + "ico"))


def language_names(inci: str) -> list[tuple[str, str]]:
    """(alias, language) pairs: the names a German, French, Spanish or Italian label may print for a
    chemical INCI name, by spelling rules checked on real translations (see tests). [] when no rule fits."""
    if inci in _IRREGULAR:
        return list(zip(_IRREGULAR[inci], LANGS))
    words = inci.split()
    out: list[tuple[str, str]] = []
    if len(words) == 2 and words[1] == "ACID" and words[0].endswith("IC"):
        stem = words[0][:-2]
        de = _IRREGULAR_STEMS.get(words[0], stem.capitalize())
        fr = stem.lower() + ("ïque" if stem.endswith("O") else "ique")
        out = [(de + "säure", "de"), ("Acide " + fr, "fr"),
               ("Ácido " + _romance(stem, "es") + "ico", "es"), ("Acido " + _romance(stem, "it") + "ico", "it")]
    elif len(words) == 2 and words[1] == "ALCOHOL" and _alkyl(words[0]):
        de, _fr, _es, _it, (fr_adj, es_adj, it_adj) = _alkyl(words[0])
        out = [(de + "alkohol", "de"), ("Alcool " + fr_adj, "fr"), ("Alcohol " + es_adj, "es"), ("Alcol " + it_adj, "it")]
    elif len(words) == 2 and (_anion(words[1]) and (words[0] in _CATIONS or _alkyl(words[0]))):
        an = _anion(words[1])
        if words[0] in _CATIONS:
            c = _CATIONS[words[0]]
            out = [(c[0] + an[0].lower(), "de"), (f"{an[1].capitalize()} de {c[1]}", "fr"),
                   (f"{an[2].capitalize()} de {c[2]}", "es"), (f"{an[3].capitalize()} di {c[3]}", "it")]
        else:
            a = _alkyl(words[0])
            out = [(a[0] + an[0].lower(), "de"), (f"{an[1].capitalize()} de {a[1]}", "fr"),
                   (f"{an[2].capitalize()} de {a[2]}", "es"), (f"{an[3].capitalize()} di {a[3]}", "it")]
    elif len(words) == 1 and re.fullmatch(r"[A-Z]{4,}", inci):
        w = inci.lower()
        if w.endswith("ene"):
            out = [(w[:-1].capitalize(), "de"), (w[:-3].capitalize() + "ène", "fr"),
                   (_romance(w[:-1], "es").capitalize() + "o", "es"), (_romance(w, "it").capitalize(), "it")]
        elif w.endswith("one") and len(w) > 6:
            out = [(w[:-1].capitalize(), "de"), (_romance(w[:-1], "es").capitalize() + "a", "es")]
        elif w.endswith("ol") and len(w) > 6:
            out = [(_romance(w, "es").capitalize(), "es"), (_romance(w, "it").capitalize() + "o", "it")]
        elif w.endswith("in") and len(w) > 5:
            out = [(w.capitalize() + "e", "fr"), (_romance(w, "es").capitalize() + "a", "es"),
                   (_romance(w, "it").capitalize() + "a", "it")]
        elif w.endswith("ine") and len(w) > 6:
            out = [(w[:-1].capitalize(), "de"), (_romance(w[:-1], "es").capitalize() + "a", "es"),
                   (_romance(w[:-1], "it").capitalize() + "a", "it")]
    out = [(re.sub(r" de ([aeiouéh])", r" d'\1", a) if lang == "fr" else a, lang) for a, lang in out]
    return [(a, lang) for a, lang in out if a.upper() != inci]


def frequent_names(ref: Path, inventory: set[str], top: int = 500) -> list[str]:
    """The INCI names most often printed on the development lists (a plain comma split, exact names)."""
    counts: dict[str, int] = {}
    path = ref / "dev_product_lists.jsonl"
    if not path.exists():
        return []
    import json
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line).get("ingredients") or ""
            for token in re.split(r"[,;]", text):
                name = " ".join(re.sub(r"\([^()]*\)|\*", " ", token).split()).strip(" .").upper()
                if name in inventory:
                    counts[name] = counts.get(name, 0) + 1
    return [n for n, _ in sorted(counts.items(), key=lambda kv: -kv[1])[:top]]


def build(ref: Path) -> tuple[list[dict], list[dict]]:
    cosing = load_cosing(ref / "reference")
    inventory = set(cosing)
    curated = load_curated()
    aliases = load_aliases()
    # Curated rows may add an INCI missing from the 2020 export (e.g. a newer name); they are kept.
    for r in curated:
        if r["inci"] not in cosing:
            cosing[r["inci"]] = {"inci": r["inci"], "cas": r.get("cas", ""), "functions": []}
    inventory = set(cosing)
    members = load_annex_names()
    for listed in members.values():         # banned substances the 2020 inventory does not name
        for name, cas in listed:
            cosing.setdefault(name, {"inci": name, "cas": cas, "functions": []})
    inventory = set(cosing)
    eu_rules, allergens, formaldehyde = annex_rules(ref / "reference", cosing, members)
    annex: dict[str, list[dict]] = {}
    for r in eu_rules:
        annex.setdefault(r["inci"], []).append(r)
    ratings = load_dermscan(ref / "reference", inventory)
    evidence = load_evidence(ref / "reference", inventory)

    rows: dict[str, dict] = {}
    for name, c in cosing.items():
        row = {k: "" for k in COLUMNS}
        row["inci"] = name
        row["cas"] = c["cas"]
        row["functions"] = "; ".join(c["functions"])
        row.update(rule_flags(name, c["functions"]))
        if name in allergens:
            row["allergen"] = "1"
            row["fragrance"] = "1"
        if name in formaldehyde:
            row["formaldehyde_releaser"] = "1"
        if name in annex:
            row["eu_status"], row["eu_ref"], row["eu_limit"] = annex_columns(annex[name])
        if name in ratings:
            comedogenic, irritancy = ratings[name]
            row["irritancy"] = "" if _INERT_FOR_IRRITANCY.search(name) else irritancy
            # Comedogenicity was tested on oily raw materials (rabbit ear); for salts, gums and surfactants the
            # number says nothing about a product on the face (sodium chloride "5", carrageenan "5").
            row["comedogenic"] = comedogenic if _LIPOPHILIC.search(name) and not _NOT_LIPOPHILIC.search(name) else ""
            row["rating_source"] = ("dermscan table (Fulton-style rabbit-ear and human tests of the pure raw "
                                    "material; says nothing about the concentration in a product)")
        if name in evidence:
            row["evidence"] = evidence[name]
            row["evidence_source"] = "Vallydia register"
        rows[name] = row

    for r in curated:
        row = rows[r["inci"]]
        row["curated"] = "1"
        for key in ("what", "pros", "cons", "helps", "aggravates", "active"):
            row[key] = (r.get(key) or "").strip()
        for key, value in parse_flags(r.get("flags") or "").items():
            if key in BOOL_FLAGS:
                row[key] = "1" if value == "1" else ""
            elif key in ("comedogenic", "irritancy"):
                row[key] = value
                row["rating_source"] = ("SkinGorithm curation from published comedogenicity tables and "
                                        "patch-test literature (pure raw material, not the product)")
            elif key == "evidence":
                row["evidence"] = value
                row["evidence_source"] = "SkinGorithm curation"

    for inci, about in load_texts().items():
        if inci not in rows:
            raise SystemExit(f"ingredients_texts.csv: unknown INCI name {inci!r}")
        rows[inci]["what"] = about
    aliases += botanical_aliases(set(rows), load_botanical())

    # Label-language names for every EU fragrance allergen, preservative and UV filter and the 500 names most
    # frequent on real labels (and every curated row).
    wanted = set(allergens) | {r["inci"] for r in eu_rules if r["annex"] in ("V", "VI")}
    wanted |= set(frequent_names(ref, set(rows))) | {r["inci"] for r in curated}
    for name in sorted(wanted):
        aliases += [(alias, name) for alias, _lang in language_names(name)]
    alias_map: dict[str, list[str]] = {}
    missing = []
    for alias, inci in aliases:
        if inci not in rows:
            missing.append((alias, inci))
            continue
        alias_map.setdefault(inci, [])
        if alias not in alias_map[inci] and alias.upper() != inci:
            alias_map[inci].append(alias)
    if missing:
        raise SystemExit("aliases pointing to unknown INCI names:\n" + "\n".join(f"  {a} -> {i}" for a, i in missing))
    for inci, names in alias_map.items():
        rows[inci]["aliases"] = " | ".join(names)
    eu = sorted(eu_rules, key=lambda r: (r["inci"], r["annex"], r["ref"]))
    return [rows[k] for k in sorted(rows)], eu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shared", type=Path, help="path to the shared ingredients folder (../shared/ingredients)")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "ingredients.csv")
    args = ap.parse_args(argv)
    rows, eu = build(args.shared)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    with open(args.out.with_name("ingredients_eu.csv"), "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=EU_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(eu)
    curated = sum(1 for r in rows if r["curated"])
    flagged = {k: sum(1 for r in rows if r[k]) for k in BOOL_FLAGS + ["eu_status"]}
    print(f"wrote {args.out}: {len(rows)} ingredients, {curated} curated; flags: {flagged}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
