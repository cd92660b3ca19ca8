"""Ingredient analyzer page: paste a label, see every ingredient, the flags, conflicts and the fit to your
latest scan; save products to your shelf and compare two side by side; export unrecognised names.

A thin shell over ``skin_app.ingredients.report`` (analysis) and ``skin_app.storage`` (shelf, unknown log).
Pasted text is never rendered as HTML or Markdown: it goes into tables, ``st.text`` or is escaped.
Runs inside ``st.navigation`` (app.py) and on its own (``streamlit run app_pages/ingredients.py``,
``AppTest.from_file``).
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:                     # stand-alone run: make the project importable
    sys.path.insert(0, _ROOT)

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app_pages.common import active_profile, plain, storage  # noqa: E402
from skin_app.concerns import CONCERN_LABELS  # noqa: E402
from skin_app.errors import UserFacingError  # noqa: E402
from skin_app.history.export import unknown_ingredients_csv  # noqa: E402
from skin_app.ingredients.eu import PRODUCT_TYPES  # noqa: E402
from skin_app.ingredients.report import (  # noqa: E402
    ACTIVE_LABELS,
    IngredientInputError,
    IngredientReport,
    ProductReport,
    analyse,
    compare,
    shelf_products,
)
from skin_app.limits import INGREDIENT_INPUT_MAX, SHELF_NAME_MAX  # noqa: E402
from skin_app.storage import DatabaseError  # noqa: E402

TEXT = "ing_text"                 # session key of the text area
REPORT = "ing_report"             # session key: (text, product type choice, report) of the last analysis
TYPE = "ing_type"                 # session key of the product type picker ("auto" = guess from the label)
RUN = "ing_run"                   # session key: a number per analysis, so per-product widgets start afresh
AUTO = "auto"
TAB_LABEL_CHARS = 40
LOGGED = "ing_logged"             # session key: texts whose unknown names were already logged
EXAMPLE = ("Aqua (Water), Glycerin, Niacinamide, Butylene Glycol, Tranexamic Acid, Sodium Hyaluronate, "
           "Retinol, Phenoxyethanol, Parfum (Fragrance), Linalool, Ethylhexylglycerin")

md_escape = plain                 # pasted text inside Markdown: shown literally, never as markup or a link


def names(items: list[str]) -> str:
    return ", ".join(md_escape(i) for i in items)


# ---------------------------------------------------------------------------------------------
def ingredient_table(product: ProductReport) -> pd.DataFrame:
    rows = []
    for ing in product.lines:
        matched = ing.matched or (f"did you mean {ing.did_you_mean}?" if ing.did_you_mean else "not recognised")
        flags = [f.replace("_", " ") for f in ing.flags]
        if ing.comedogenic is not None:
            flags.append(f"comedogenic {ing.comedogenic}/5")
        eu = {"not_permitted": "NOT PERMITTED: ", "restricted": "", "labelling": ""}.get(ing.eu_verdict, "")
        eu = (eu + ing.eu_text) if ing.eu_text else ""
        rows.append({
            "#": ing.position,
            "As printed": ing.text,
            "Matched (INCI)": matched,
            "What it does": (ing.what or "; ".join(ing.functions)) + (f" Evidence: {ing.evidence}." if ing.evidence else ""),
            "Pros": ing.pros,
            "Cons": ing.cons,
            "Flags": ", ".join(flags),
            "EU (for this product type)": eu,
            "Position hint": "; ".join(ing.hints),
            "%": ing.percent or "",
            "May contain": "yes" if ing.may_contain else "",
        })
    return pd.DataFrame(rows)


def tab_label(name: str, limit: int = TAB_LABEL_CHARS) -> str:
    """A kit product's name for its tab: cut at a word boundary, never mid-word."""
    name = " ".join(name.split())
    if len(name) <= limit:
        return name
    cut = name[:limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-(") if " " in name[:limit - 1] else name[:limit - 1]
    return cut + "…"


def eu_section(product: ProductReport, report: IngredientReport) -> None:
    """Bans first and unmistakable; specifications only under details."""
    kind = PRODUCT_TYPES[product.product_type].split(" (")[0].lower()
    how = ("as chosen above" if report.product_type_chosen else
           "guessed from the label" if product.product_type_guessed else "the default")
    st.caption(f"EU verdicts are for a **{md_escape(kind)}** product ({how}); change the product type above "
               "if that is wrong.")
    for ing in product.bans:
        st.error(f"**Not permitted in the EU: {md_escape(ing.text)}**: {md_escape(ing.eu_text)}. "
                 "Products sold outside the EU may still use it; check the product's origin.")
    details = [(ing.text, d) for ing in product.lines for d in ing.eu_details]
    if details:
        with st.expander("EU details (purity and pH specifications, other product types, conditional entries)"):
            st.dataframe(pd.DataFrame([{"Ingredient": t, "Annex entry": d} for t, d in details]), hide_index=True)


def product_section(product: ProductReport, report: IngredientReport, key: str) -> None:
    total = len(product.lines)
    c1, c2, c3 = st.columns(3)
    c1.metric("Ingredients", total)
    c2.metric("Recognised", f"{product.recognised_count}/{total}")
    c3.metric("Flags", len(product.flags))

    eu_section(product, report)
    st.subheader("Summary")
    if product.actives:
        st.markdown("**Key actives:** " + "; ".join(
            f"{ACTIVE_LABELS.get(k, k)}: {names(v)}" for k, v in product.actives.items()))
    else:
        st.markdown("**Key actives:** none of the actives we track.")
    for f in product.flags:
        if f.code != "eu_prohibited":      # shown above, as errors
            st.markdown(f"- **{f.label}**: {names(f.ingredients)}  \n  {f.note}")
    for c in product.conflicts:
        text = (f"**With {md_escape(c.with_product or '')} on your shelf:** {c.message} "
                f"({names(c.here)} / {names(c.other)})")
        (st.error if c.severity == "avoid" else st.warning)(text)
        st.caption(f"Source: {md_escape(c.source)}")

    st.subheader("Fit to your latest scan")
    if not report.has_scan:
        st.info("No scan yet for this profile. Take a scan to see how this product fits your skin; "
                "meanwhile, here is what it targets.")
    any_fit = False
    for fit in product.fit:
        score = "" if fit.score is None else f" (your score {fit.score:.0f}/100)"
        if fit.helps or fit.aggravates:
            any_fit = True
            label = CONCERN_LABELS.get(fit.concern, fit.label)
            parts = []
            if fit.helps:
                parts.append(f"helps: {names(fit.helps)}")
            if fit.aggravates:
                parts.append(f"may aggravate: {names(fit.aggravates)}")
            mark = "**" if fit.yours else ""
            st.markdown(f"- {mark}{label}{score}{mark}: " + "; ".join(parts))
    if not any_fit:
        st.markdown("Nothing in this list targets acne, dark spots, wrinkles, dark circles or redness.")
    if product.one_percent_after:
        st.caption(f"Hint: from position {product.one_percent_after + 1} on, ingredients are probably at most 1 % "
                   "(an ingredient capped at 1 % or less by EU law comes before them). Labels never give "
                   "concentrations, so treat position remarks as hints.")

    st.subheader("Every ingredient, in label order")
    st.dataframe(ingredient_table(product), hide_index=True)
    unknown = [ing for ing in product.lines if not ing.recognised]
    if unknown:
        st.markdown(f"**Not recognised ({len(unknown)}):** kept in your local log, which you can export "
                    "below to report a missing ingredient.")
        st.text("\n".join(f"{ing.text}" + (f"  (did you mean {ing.did_you_mean}?)" if ing.did_you_mean else "")
                          for ing in unknown))
    if product.skipped_text:
        with st.expander("Text we did not read as ingredients"):
            st.text("\n".join(t[:300] for t in product.skipped_text[:50]))

    save_form(product, key)


def save_form(product: ProductReport, key: str) -> None:
    # Keys carry the analysis number: a new analysis gets a fresh box with its own product's name,
    # not the name typed for the previous product.
    run = st.session_state.get(RUN, 0)
    with st.form(f"save_{run}_{key}", clear_on_submit=False):
        name = st.text_input("Save to my shelf as", value=product.name or "", max_chars=SHELF_NAME_MAX,
                             key=f"save_name_{run}_{key}")
        if st.form_submit_button("Save to shelf"):
            profile = active_profile()
            text = _product_text(product)
            try:
                storage().save_shelf_product(profile.id, name, text, inci=product.inci_names,
                                             actives=product.actives)
            except UserFacingError as exc:
                st.error(str(exc))
            else:
                st.success("Saved to your shelf.")


def _product_text(product: ProductReport) -> str:
    """The product's own list (one product of a kit), as printed, comma-separated."""
    return ", ".join(dict.fromkeys(ing.text for ing in product.lines))


def _log_unknown(report: IngredientReport, text: str) -> None:
    logged = st.session_state.setdefault(LOGGED, set())
    try:
        profile_id = active_profile().id
        key = (profile_id, hash(text))          # each profile keeps its own log
        if key in logged:
            return
        logged.add(key)
        for p in report.products:
            storage().log_unknown_ingredients(profile_id, p.unknown, p.name or "")
    except DatabaseError as exc:
        st.error(str(exc))


# ---------------------------------------------------------------------------------------------
def shelf_section(profile_id: int) -> None:
    st.header("My shelf")
    try:
        shelf = storage().list_shelf(profile_id)
    except DatabaseError as exc:
        st.error(str(exc))
        return
    if not shelf:
        st.caption("Products you save appear here; new products are checked against them for conflicts.")
        return
    table = pd.DataFrame([{"Product": s.name, "Ingredients": len(s.inci),
                           "Key actives": ", ".join(ACTIVE_LABELS.get(k, k) for k in s.actives),
                           "Saved": s.created_at[:10]} for s in shelf])
    st.dataframe(table, hide_index=True)

    labels = {s.id: f"{s.name} (#{s.id})" for s in shelf}
    st.subheader("Compare two products")
    ids = list(labels)
    c1, c2 = st.columns(2)
    a = c1.selectbox("First", ids, format_func=lambda i: labels[i], key="cmp_a")
    b = c2.selectbox("Second", ids, index=min(1, len(ids) - 1), format_func=lambda i: labels[i], key="cmp_b")
    if len(ids) < 2:
        st.caption("Save a second product to compare.")
    elif a == b:
        st.info("Both pickers show the same product: choose a different one in one of them to compare.")
    elif a is not None and b is not None:
        comparison_view(next(s for s in shelf if s.id == a), next(s for s in shelf if s.id == b))

    with st.expander("Remove a product"):
        gone = st.selectbox("Product", ids, format_func=lambda i: labels[i], key="shelf_remove")
        if st.button("Remove from shelf", key="shelf_remove_btn") and gone is not None:
            try:
                storage().delete_shelf_product(gone, profile_id=active_profile().id)
            except DatabaseError as exc:
                st.error(str(exc))
                return
            st.rerun()


def comparison_view(a, b) -> None:
    reports = []
    for saved in (a, b):        # remembered per saved text: the shelf shows on every render
        products = [p for p in shelf_products(saved.name, saved.ingredients_text) if p.lines]
        if not products:
            st.error(f"No ingredient list was found in the saved text of {md_escape(saved.name)}.")
            return
        reports.append(replace(products[0], name=saved.name))
    ra, rb = reports
    cmp = compare(ra, rb)
    left, right = st.columns(2)
    for col, name, only, flags, actives in ((left, cmp.a, cmp.only_a, cmp.flags_a, cmp.actives_a),
                                            (right, cmp.b, cmp.only_b, cmp.flags_b, cmp.actives_b)):
        col.markdown(f"**{md_escape(name)}**")
        col.markdown("Key actives: " + (", ".join(actives) or "none"))
        col.markdown("Flags: " + (", ".join(flags) or "none"))
        col.markdown(f"Only here ({len(only)}):")
        col.text("\n".join(x.title() for x in only) or "-")
    st.markdown(f"**In both ({len(cmp.both)}):**")
    st.text(", ".join(x.title() for x in cmp.both) or "-")
    for c in cmp.conflicts:
        (st.error if c.severity == "avoid" else st.warning)(
            f"**Using both:** {c.message} ({names(c.here)} / {names(c.other)})")
        st.caption(f"Source: {md_escape(c.source)}")


def unknown_log_section() -> None:
    st.header("Report a missing ingredient")
    try:
        rows = storage().unknown_ingredients(active_profile().id)
    except DatabaseError as exc:
        st.error(str(exc))
        return
    if not rows:
        st.caption("Names we could not recognise in this profile's lists are kept here, on this computer only.")
        return
    st.dataframe(pd.DataFrame([{"Name as printed": r.text, "Seen": r.count, "Last seen": r.last_seen[:10]}
                               for r in rows]), hide_index=True)
    st.download_button("Export the list (CSV)", unknown_ingredients_csv(rows), file_name="unknown_ingredients.csv",
                       mime="text/csv", key="unknown_export")
    if st.button("Clear the list", key="unknown_clear"):
        try:
            storage().clear_unknown_ingredients(active_profile().id)
        except DatabaseError as exc:
            st.error(str(exc))
            return
        st.rerun()


# ---------------------------------------------------------------------------------------------
def _analyse(text: str, choice: str, profile_id: int) -> None:
    """Runs the analysis with the latest scan and the shelf; keeps the report in the session."""
    st.session_state.pop(REPORT, None)
    st.session_state[RUN] = st.session_state.get(RUN, 0) + 1
    try:
        latest = storage().latest_scan(profile_id)
    except DatabaseError as exc:
        st.error(str(exc))
        latest = None
    try:
        shelf = [(s.name, s.ingredients_text) for s in storage().list_shelf(profile_id)]
    except DatabaseError:
        shelf = []
    try:
        report = analyse(text or "", scores=latest.scores if latest else None, shelf=shelf,
                         product_type=None if choice == AUTO else choice)
    except IngredientInputError as exc:
        st.error(str(exc))
    else:
        st.session_state[REPORT] = (text, choice, report)
        _log_unknown(report, text or "")


def main() -> None:
    st.title("Ingredient analyzer")
    st.caption("Paste an ingredient list exactly as printed on the box or copied from a shop's page. "
               "Kits with several products are split automatically. Everything stays on this computer.")
    profile = active_profile()
    # The list and its button are one form, so the click carries the pasted text (a plain text box commits on
    # blur, and a tap right after pasting can be lost; Streamlit issues #8725, #10007). The product type stays
    # outside: changing it re-reads the same list at once.
    with st.form("ingredient_form", border=False):
        text = st.text_area("Ingredient list", key=TEXT, height=180, placeholder=EXAMPLE,
                            max_chars=INGREDIENT_INPUT_MAX)
        analyse = st.form_submit_button("Analyse", type="primary", key="analyse")
    choice = st.selectbox("Product type (sets the EU verdicts)", [AUTO] + list(PRODUCT_TYPES), key=TYPE,
                          format_func=lambda k: "Guess from the label" if k == AUTO else PRODUCT_TYPES[k])
    if analyse:
        _analyse(text, choice, profile.id)
    stored = st.session_state.get(REPORT)
    if stored is not None and stored[1] != choice:
        _analyse(stored[0], choice, profile.id)        # the type changed: same list, new verdicts
        stored = st.session_state.get(REPORT)
    if stored is not None:
        _, _, report = stored
        if report.truncated:
            st.warning("The text was very long; only its beginning was analysed.")
        if report.is_kit:
            st.info(f"This looks like a kit of {len(report.products)} products; each is analysed on its own.")
            tabs = st.tabs([md_escape(tab_label(p.name or f"Product {i + 1}")) for i, p in enumerate(report.products)])
            for i, (tab, product) in enumerate(zip(tabs, report.products)):
                with tab:
                    product_section(product, report, f"p{i}")
        else:
            product_section(report.products[0], report, "p0")

    shelf_section(profile.id)
    unknown_log_section()


main()
