"""`python -m skin_app ingredients TEXT|-` : analyse an ingredient label from the command line.

    python -m skin_app ingredients "Water, Glycerin, Niacinamide, Retinol"
    pbpaste | python -m skin_app ingredients - --json
    python -m skin_app ingredients - --scores acne=55,flek=62,wrinkle=80,panda_eye=70 < label.txt
    python -m skin_app ingredients "Aqua, Methylisothiazolinone" --product-type rinse_off

Exit status: 0 analysed, 2 nothing to analyse (empty text, no list found).
"""
from __future__ import annotations

import argparse
import json
import sys

from skin_app.ingredients.eu import PRODUCT_TYPES
from skin_app.ingredients.report import ACTIVE_LABELS, IngredientInputError, IngredientReport, analyse


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("ingredients", help="analyse a product's ingredient list",
                              description="Analyse an ingredient list as printed on a label or shop page.")
    p.add_argument("text", help="the ingredient list, or - to read it from standard input")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--scores", default=None,
                   help="fit to a scan: concern=score pairs, e.g. acne=55,flek=62 (0-100, higher is better)")
    p.add_argument("--product-type", choices=list(PRODUCT_TYPES), default=None,
                   help="what kind of product it is, for the EU verdicts: " + "; ".join(
                       f"{k} = {v}" for k, v in PRODUCT_TYPES.items()) + " (default: guessed from --name and "
                   "the label's words, else leave_on_face)")
    p.add_argument("--name", default=None, help="the product's name, e.g. 'Gentle Foaming Cleanser' (helps the guess)")
    p.set_defaults(func=run)
    return p


def _read_text(arg: str) -> str:
    if arg != "-":
        return arg
    data = sys.stdin.buffer.read()
    return data.decode("utf-8", errors="replace")


def _parse_scores(spec: str | None) -> dict[str, float] | None:
    if not spec:
        return None
    scores: dict[str, float] = {}
    for part in spec.split(","):
        key, _, value = part.partition("=")
        try:
            scores[key.strip()] = float(value)
        except ValueError:
            raise IngredientInputError(f"--scores: {part!r} is not concern=number") from None
    return scores


def run(args: argparse.Namespace) -> int:
    try:
        report = analyse(_read_text(args.text), scores=_parse_scores(args.scores),
                         product_type=args.product_type, name=args.name)
    except IngredientInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        # dumps, not dump: dump feeds the stream through the pure-Python encoder (3x slower on a long report)
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(report))
    return 0


def render_text(report: IngredientReport) -> str:
    out: list[str] = []
    for product in report.products:
        if report.is_kit:
            out.append(f"== {product.name or 'Product'} ==")
        how = "guessed from its name or ingredients" if product.product_type_guessed else (
            "as chosen" if report.product_type_chosen else "default; set it with --product-type")
        out.append(f"Product type: {PRODUCT_TYPES[product.product_type]} ({how})")
        for line in product.bans:
            out.append(f"EU NOT PERMITTED - {line.text}: {line.eu_text}")
        out.append(f"{product.recognised_count}/{len(product.lines)} ingredients recognised")
        for line in product.lines:
            name = line.matched or (f"? did you mean {line.did_you_mean}" if line.did_you_mean else "? not recognised")
            extra = [line.percent] if line.percent else []
            extra += [f for f in line.flags]
            out.append(f"{line.position:3d}. {line.text}  ->  {name}" + (f"  [{', '.join(extra)}]" if extra else ""))
            if line.what:
                out.append(f"      {line.what}" + (f" Evidence: {line.evidence}." if line.evidence else ""))
            if line.eu_text and line.eu_verdict != "not_permitted":
                out.append(f"      EU: {line.eu_text}")
        if product.actives:
            out.append("Key actives: " + "; ".join(f"{ACTIVE_LABELS.get(k, k)}: {', '.join(v)}"
                                                  for k, v in product.actives.items()))
        for f in product.flags:
            out.append(f"Flag - {f.label}: {', '.join(f.ingredients)}")
        for c in product.conflicts:
            out.append(f"Conflict with {c.with_product} ({c.severity}) - {c.message} "
                       f"[{', '.join(c.here)} / {', '.join(c.other)}] Source: {c.source}")
        for fit in product.fit:
            if fit.yours and fit.sentence:
                out.append(f"Fit: {fit.sentence}")
        if product.one_percent_after:
            out.append(f"Hint: ingredients after position {product.one_percent_after} are probably at most 1 %.")
        out.append("")
    if report.truncated:
        out.append("Note: the text was very long; only its beginning was analysed.")
    return "\n".join(out) + "\n"
