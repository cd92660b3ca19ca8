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
CURATED = ROOT / "data" / "ingredients_curated.csv"
ALIASES = ROOT / "data" / "ingredients_aliases.csv"
BOTANICAL = ROOT / "data" / "ingredients_botanical_synonyms.csv"

COLUMNS = [
    "inci", "cas", "functions", "aliases", "what", "pros", "cons", "helps", "aggravates", "active",
    "fragrance", "allergen", "essential_oil", "drying_alcohol", "silicone", "sulfate", "paraben",
    "formaldehyde_releaser", "comedogenic", "irritancy", "rating_source", "fungal_acne", "pregnancy",
    "eu_status", "eu_ref", "eu_limit", "evidence", "evidence_source", "curated",
]
BOOL_FLAGS = ["fragrance", "allergen", "essential_oil", "drying_alcohol", "silicone", "sulfate", "paraben",
              "formaldehyde_releaser", "fungal_acne", "pregnancy"]
CONCERNS = {"acne", "flek", "wrinkle", "panda_eye"}


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
# EU annexes
# ---------------------------------------------------------------------------------------------
ANNEX_STATUS = {"II": "prohibited", "II*": "conditional", "III": "restricted", "IV": "colourant", "V": "preservative", "VI": "uv_filter"}
_NAME_COLUMNS = ("Identified INGREDIENTS or substances e.g.", "Name of Common Ingredients Glossary",
                 "Colour index Number / Name of Common Ingredients Glossary")


def _annex_rows(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header_at = next(i for i, r in enumerate(rows) if r and r[0].startswith("Reference"))
    header = rows[header_at]
    return [dict(zip(header, r)) for r in rows[header_at + 1:] if any(c.strip() for c in r)]


def _names_in_cell(cell: str, inventory: set[str]) -> set[str]:
    """INCI names listed in an annex cell, exact only. Names may contain commas ("2,4-DIAMINO..."),
    so consecutive pieces are re-joined and kept only when the result is a CosIng name."""
    found: set[str] = set()
    for line in re.split(r"\n|;| / ", cell.upper()):
        pieces = [p.strip() for p in line.split(",")]
        for i in range(len(pieces)):
            for k in range(1, 5):
                if i + k > len(pieces):
                    break
                cand = ",".join(pieces[i:i + k]).strip()
                cand = " ".join(cand.split())
                if cand in inventory:
                    found.add(cand)
    return found


def _clean_limit(text: str) -> str:
    text = re.sub(r"\s*\n\s*", "; ", (text or "").strip())
    text = re.sub(r"(;\s*)+", "; ", text).strip("; ")
    return text[:300]


# Hand-checked Annex II hits on real labels where the annex names a mixture as an example ("e.g.") of a
# banned component; the ingredient itself is not banned. Kept as a note, never as a prohibition.
ANNEX_II_MIXTURES = {
    "CYCLOMETHICONE": "a mixture of cyclic silicones; Annex II/1388 bans its D4 component "
                      "(cyclotetrasiloxane), not cyclomethicone made of D5/D6",
}


def load_annexes(ref: Path, inventory: set[str]) -> tuple[dict[str, list[dict]], set[str], set[str]]:
    """INCI -> annex hits; plus the INCI names the annexes mark as declarable fragrance allergens
    and as formaldehyde releasers (from their own wording)."""
    hits: dict[str, list[dict]] = {}
    allergens: set[str] = set()
    formaldehyde: set[str] = set()
    folder = ref / "cosing_annexes_on-the-list"
    for annex in ("II", "III", "IV", "V", "VI"):
        for row in _annex_rows(folder / f"annex_{annex}.csv"):
            names: set[str] = set()
            for col in _NAME_COLUMNS:
                if row.get(col):
                    names |= _names_in_cell(row[col], inventory)
            if not names:
                continue
            ref_no = row.get("Reference Number", "").strip()
            limit = _clean_limit(row.get("Maximum concentration in ready for use preparation", ""))
            product = _clean_limit(row.get("Product Type, body parts", ""))
            other = row.get("Other", "") + " " + row.get("Wording of conditions of use and warnings", "")
            is_allergen = bool(re.search(r"presence of the substances? (?:or substances )?(?:must|shall) be "
                                         r"indicated.{0,80}in the list of ingredients", other, re.I | re.S))
            releases_formaldehyde = bool(re.search(r"releas\w* formaldehyde|formaldehyde releas", other, re.I))
            substance = " ".join(row.get("Chemical name / INN", row.get("Chemical name", "")).split())
            # Annex II entries that ban a substance "except" in a form or amount (petrolatum unless fully
            # refined; furocoumarins "except for normal content in natural essences"; only the "(nano)" form
            # of styrene/acrylates copolymer; colourants banned only "when used as a substance in hair dye
            # products"; sodium hydroxymethylglycinate only "if" it releases 0.1 % formaldehyde) do not ban the
            # ingredient named on a label: they are kept as a note, never as a prohibition.
            conditional = annex == "II" and bool(re.search(
                r"\bexcept(?:ion)?\b|\bunless\b|\be\.g\.|\bnano\b|\bwhen used\b|\bif the\b|\bhair dye", substance, re.I))
            substance = substance[:200]
            for name in names:
                mixture = annex == "II" and name in ANNEX_II_MIXTURES
                hits.setdefault(name, []).append({
                    "annex": "II*" if (conditional or mixture) else annex, "ref": f"{annex}/{ref_no}", "limit": limit, "product": product,
                    "other": _clean_limit(other)[:200],
                    "substance": ANNEX_II_MIXTURES[name] if mixture else substance,
                })
                if is_allergen:
                    allergens.add(name)
                if releases_formaldehyde:
                    formaldehyde.add(name)
    return hits, allergens, formaldehyde


def annex_columns(hits: list[dict]) -> tuple[str, str, str]:
    order = ["II", "III", "V", "VI", "IV", "II*"]
    hits = sorted(hits, key=lambda h: order.index(h["annex"]))
    status = ANNEX_STATUS[hits[0]["annex"]]
    refs = " | ".join(h["ref"] for h in hits)
    limits = []
    for h in hits:
        if h["annex"] == "II":
            limits.append(f"{h['ref']}: prohibited ({h['substance']})")
            continue
        if h["annex"] == "II*":
            limits.append(f"{h['ref']}: Annex II bans only: {h['substance']}")
            continue
        parts = [p for p in (h["product"], h["limit"]) if p] or ([h["other"]] if h["other"] else [])
        limits.append(f"{h['ref']}: " + ("; ".join(parts) if parts else "conditions apply"))
    return status, refs, " | ".join(limits)[:700]


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
            for name in re.split(r"\s*[;|]\s*", (r.get("inci_name") or "").upper()):
                name = " ".join(name.split())
                if name in inventory and grade:
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
                            r"BUD|GRASS|STEM|BERRY|CONE|BRANCH|HEARTWOOD|SEED BALSAM)\b[\w/ ]* OIL$")
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
    essential = botanical_oil and (
        bool(_AROMATIC_PART.search(inci)) or
        ({"perfuming", "masking", "tonic"} & funcs and not _FIXED_OIL_PART.search(inci) and "FRUIT OIL" not in inci)
        or ("CITRUS" in inci and "SEED" not in inci)
    )
    if essential:
        f["essential_oil"] = "1"
        f["fragrance"] = "1"
    if inci in {"PARFUM", "AROMA", "FRAGRANCE"} or (funcs and funcs <= {"perfuming", "masking", "fragrance"}):
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
                if c.strip() not in CONCERNS:
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


def build(ref: Path) -> list[dict]:
    cosing = load_cosing(ref / "reference")
    inventory = set(cosing)
    curated = load_curated()
    aliases = load_aliases()
    # Curated rows may add an INCI missing from the 2020 export (e.g. a newer name); they are kept.
    for r in curated:
        if r["inci"] not in cosing:
            cosing[r["inci"]] = {"inci": r["inci"], "cas": r.get("cas", ""), "functions": []}
    inventory = set(cosing)
    annex, allergens, formaldehyde = load_annexes(ref / "reference", inventory)
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
            row["comedogenic"], row["irritancy"] = ratings[name]
            row["rating_source"] = "dermscan (Fulton-style table)"
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
                row["rating_source"] = "SkinGorithm curation (consensus of published comedogenicity tables)"
            elif key == "evidence":
                row["evidence"] = value
                row["evidence_source"] = "SkinGorithm curation"

    aliases += botanical_aliases(set(rows), load_botanical())
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
    return [rows[k] for k in sorted(rows)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shared", type=Path, help="path to the shared ingredients folder (../shared/ingredients)")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "ingredients.csv")
    args = ap.parse_args(argv)
    rows = build(args.shared)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    curated = sum(1 for r in rows if r["curated"])
    flagged = {k: sum(1 for r in rows if r[k]) for k in BOOL_FLAGS + ["eu_status"]}
    print(f"wrote {args.out}: {len(rows)} ingredients, {curated} curated; flags: {flagged}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
