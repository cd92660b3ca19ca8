"""Progress: each score over time with its noise band, comparing two scans, the history table,
deleting a scan, and exporting or importing the profile's data. Runs inside app.py's navigation and
on its own (AppTest)."""
from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:                     # stand-alone run: make the project importable
    sys.path.insert(0, _ROOT)

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app_pages.common import active_profile, concern_picker, labels_in_full, page_link, plain, storage, viewer_zone  # noqa: E402
from skin_app.charts import acne_count_figure, compare_figure, progress_figure  # noqa: E402
from skin_app.concerns import CONCERN_LABELS, VIEW_LABELS, VIEWS  # noqa: E402
from skin_app.errors import UserFacingError  # noqa: E402
from skin_app.history.export import ExportFileError, export_csv_zip, export_json, import_bundle, read_bundle  # noqa: E402
from skin_app.history.progress import SCORE_KEYS, acne_counts, compare_scores, load_noise_band, not_measured, visits  # noqa: E402
from skin_app.history.remeasure import needs_redness, remeasure_redness  # noqa: E402
from skin_app.limits import MAX_FILE_BYTES, MAX_IMPORT_BYTES  # noqa: E402
from skin_app.scan.conditions import differences, of_scan  # noqa: E402
from skin_app.scan.overlay import overlay_masks  # noqa: E402
from skin_app.scan.pictures import png_to_masks, png_to_rgb  # noqa: E402
from skin_app.storage import DatabaseError, StoredScan  # noqa: E402
from skin_app.values import local_time  # noqa: E402


def when(scan: StoredScan, zone) -> str:
    """The scan's time in the browser's zone (in UTC where that zone cannot show it)."""
    moment = local_time(scan.taken_at, zone)
    return moment.strftime("%d %b %Y, %H:%M") if moment else scan.taken_at[:40]


def scan_label(scan: StoredScan, zone) -> str:
    return f"{when(scan, zone)} · overall {scan.scores.get('overall', float('nan')):.1f}"


def view_picker(profile) -> str:
    """Which view's history to show: each view is its own line, never mixed with another in a chart."""
    counts = storage().scan_views(profile.id)
    views = [v for v in VIEWS if counts.get(v)]
    if len(views) <= 1:
        return views[0] if views else "front"
    return st.segmented_control("View", views, default=views[0], key="progress_view", required=True,
                                format_func=lambda v: f"{VIEW_LABELS[v]} ({counts[v]})",
                                help="Scans of each view are charted and compared only with the same view.")


def chart_section(scans: list[StoredScan], band, zone) -> None:
    st.subheader("Over time")
    keys = [k for k in SCORE_KEYS if any(k in s.scores for s in scans)]
    key = st.selectbox("Score", keys, format_func=lambda k: CONCERN_LABELS.get(k, k), key="progress_key")
    if key is None:                         # no score in any scan
        return
    unscored = [s for s in scans if s.rescore_failed]
    scans = [s for s in scans if not s.rescore_failed]
    if not scans:
        st.info("None of your scans could be put on today's score scale; see the history below.")
        return
    fig = progress_figure([(s.taken_at, s.scores) for s in scans], key, band[key], zone,
                          others=[k for k in keys if k != key], versions=[s.model_version for s in scans],
                          conditions=[of_scan(s.metrics) for s in scans])
    st.plotly_chart(fig, width="stretch", key="progress_chart")
    counts = acne_counts(scans) if key == "acne" else []
    if len(counts) >= 2:
        with st.expander("Acne lesions counted in each scan"):
            st.plotly_chart(acne_count_figure(counts, zone), width="stretch", key="progress_acne_counts")
            st.caption("The bars show the range the counter's typical error gives; touching lesions are counted apart.")
    current = scans[-1].model_version
    earlier = [s for s in scans if s.model_version != current]
    if earlier:
        st.warning(f"{len(earlier)} scan(s) were measured by an earlier model version. Their scores were put on "
                   "today's scale from their stored measurements, but they are not directly comparable, so they "
                   "are drawn as separate grey circles, not joined to your current line.")
    if unscored:
        st.info(f"{len(unscored)} scan(s) could not be put on today's score scale (their stored measurements are "
                "incomplete); they are left out of the chart and listed in the history below.")
    missing = sum(key not in s.scores for s in scans)
    if missing:
        st.caption(f"{CONCERN_LABELS.get(key, key)} was not measured on {missing} scan(s) (saved before it "
                   "existed, or a photo whose colour could not be read); they are left out of this line.")
    scans = [s for s in scans if s.model_version == current]
    unlike = differences(of_scan(scans[0].metrics), of_scan(scans[-1].metrics)) if len(scans) >= 2 else []
    changes = compare_scores(scans[0].scores, scans[-1].scores, band, keys=(key,), conditions=unlike) \
        if len(scans) >= 2 else []
    for change in changes:                  # none when an imported scan lacks this score
        text = f"Since your first scan: {change.describe()}."
        (st.success if change.verdict == "better" else st.warning if change.verdict == "worse" else st.info)(text)
    st.caption(f"The grey band is ±{band[key]:.1f} points around your first scan: re-shots of the same face "
               f"(a little zoom, shift, exposure and colour, simulated from real photos) differ by about this much, "
               f"so a change inside it is not progress; real re-shots in other light can differ more. Open circles are scans taken in different light, distance or head position than the "
               f"first: the band does not cover that, so their change is not counted. Noise band: {band.source}.")
    if band.method:
        with st.expander("How the noise band was measured"):
            st.text(band.method)


def picture(scan: StoredScan, concerns: list[str]):
    """The stored crop with the chosen marks; None without a picture. A damaged picture (an import that
    slipped through an older version) raises ValueError or OSError, shown by the caller as a note."""
    if scan.crop_png is None:
        return None
    crop = png_to_rgb(scan.crop_png)
    if scan.masks_png is None or not concerns:
        return crop
    return overlay_masks(crop, png_to_masks(scan.masks_png, size=(crop.shape[0], crop.shape[1])), concerns)


def compare_section(scans: list[StoredScan], band, zone) -> None:
    st.subheader("Compare two scans")
    if len(scans) < 2:
        st.info("Save a second scan to compare two of them.")
        return
    ids = [s.id for s in scans]
    by_id = {s.id: s for s in scans}
    left, right = st.columns(2)
    a = left.selectbox("Before", ids, index=0, format_func=lambda i: scan_label(by_id[i], zone), key="cmp_a")
    b = right.selectbox("After", ids, index=len(ids) - 1, format_func=lambda i: scan_label(by_id[i], zone), key="cmp_b")
    before, after = by_id[a], by_id[b]
    concerns = concern_picker("cmp_overlay")
    for col, scan in ((left, before), (right, after)):
        try:
            image = picture(scan, concerns)
        except (ValueError, OSError):
            col.warning("The picture stored with this scan is damaged; its scores are still shown. "
                        "Delete the scan below if you do not want to keep it.")
            continue
        if image is None:
            col.info("No picture was stored with this scan.")
        else:
            col.image(image, caption=when(scan, zone), width="stretch")
        if scan.note:
            col.caption(f"Note: {plain(scan.note)}")
    unlike = differences(of_scan(before.metrics), of_scan(after.metrics))
    changes = compare_scores(before.scores, after.scores, band, conditions=unlike)
    if unlike:
        st.warning(f"These two photos were taken in different conditions ({', '.join(unlike)}). Scores can move "
                   "with the light alone, so no change between them is counted as real. Take photos in the same "
                   "place, light and distance to compare them.")
    labels_in_full()
    unmeasured = not_measured(before.scores, after.scores)
    if unmeasured:
        st.caption(f"Not measured on one of these scans, so not compared: {', '.join(unmeasured)}.")
    cols = st.columns(len(changes) or 1)
    for col, c in zip(cols, changes):
        col.metric(c.label, f"{c.after:.1f}", f"{c.delta:+.1f}" + ("" if c.real else " (not counted)" if c.conditions
                                                                  else " (noise)"),
                   delta_color="normal" if c.real else "off",
                   help=f"Before {c.before:.1f}. Changes within ±{c.band:.1f} are noise.")
    st.plotly_chart(compare_figure(changes), width="stretch", key="compare_chart")
    real = [c.describe() for c in changes if c.real]
    if real:
        st.markdown("\n".join(f"- {plain(t)}" for t in real))
    elif not unlike:
        st.info("No score changed by more than its noise band between these two scans.")
    if before.model_version != after.model_version:
        st.warning("These scans were measured by different model versions, so they are not directly comparable: "
                   "part of the change may come from the model, not your skin.")


def visit_words(scan: StoredScan) -> str:
    """A stored scan's scores with their words, one line (the Scan page's words, without hysteresis)."""
    from skin_app.scan.calibration import scan_words
    words = scan_words(scan.scores)
    return " · ".join(f"{CONCERN_LABELS.get(k, k)} {v:.0f} ({words[k].word})" for k, v in scan.scores.items()
                      if k in words)


def visits_section(all_scans: list[StoredScan], band, zone) -> None:
    """Full checks: the views of one visit together (marked pictures, scores, words), and the changes of
    each view between two visits, counted only when their photos were taken in comparable conditions."""
    groups = visits(all_scans)
    if not groups:
        return
    st.subheader("Full checks")
    labels = {i: f"{when(g[0], zone)} ({', '.join(VIEW_LABELS[s.view].lower() for s in g)})" for i, g in enumerate(groups)}
    pick = st.selectbox("Visit", list(labels), index=len(groups) - 1, format_func=lambda i: labels[i], key="visit_pick")
    if pick is None:
        return
    concerns = concern_picker("visit_overlay")
    for col, scan in zip(st.columns(len(groups[pick])), groups[pick]):
        with col:
            try:
                image = picture(scan, [c for c in concerns if c in scan.scores])
            except (ValueError, OSError):
                image = None
            if image is not None:
                st.image(image, caption=VIEW_LABELS[scan.view], width="stretch")
            else:
                st.markdown(f"**{VIEW_LABELS[scan.view]}** (no picture)")
            st.caption(visit_words(scan))
    if len(groups) < 2:
        st.caption("Save another full check to compare two visits.")
        return
    others = [i for i in labels if i != pick]
    against = st.selectbox("Compare with the visit of", others, index=others.index(pick - 1) if pick else 0,
                           format_func=lambda i: labels[i], key="visit_against")
    if against is None:
        return
    earlier, later = sorted((against, pick))
    before = {s.view: s for s in groups[earlier]}
    lines = []
    for scan in groups[later]:
        old = before.get(scan.view)
        if old is None:
            continue
        unlike = differences(of_scan(old.metrics), of_scan(scan.metrics))
        changes = compare_scores(old.scores, scan.scores, band, conditions=unlike)
        said = [c.describe() for c in changes if c.real or c.conditions and abs(c.delta) > c.band]
        lines.append(f"**{VIEW_LABELS[scan.view]}**: " + ("; ".join(plain(t) for t in said) if said else
                                                          "no score changed by more than its noise band"))
    st.markdown("  \n".join(lines))


def history_section(scans: list[StoredScan], zone) -> None:
    st.subheader("History")
    rows = [{"Date": when(s, zone), **{CONCERN_LABELS[k]: round(s.scores[k], 1) for k in SCORE_KEYS if k in s.scores},
             "Acne lesions": _count(s.metrics.get("acne_lesion_count")), "Note": s.note,
             "Picture": "yes" if s.has_picture else "no", "Model": s.model_version} for s in reversed(scans)]
    # Narrow columns and the date pinned: on a 390 px phone the table scrolls inside its own box,
    # the date always in view, instead of running off the screen.
    narrow = {label: st.column_config.NumberColumn(label, width="small", format="%.0f")
              for label in (CONCERN_LABELS[k] for k in SCORE_KEYS)}
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="history_table",
                 column_config={"Date": st.column_config.TextColumn("Date", pinned=True), **narrow,
                                "Acne lesions": st.column_config.NumberColumn("Acne lesions", width="small")})
    if any("redness" not in s.scores for s in scans):
        st.caption("A blank Redness was not measured (a scan saved before redness existed or measured with its "
                   "first definition, or a photo whose colour could not be read).")
    later = sum(isinstance(s.metrics.get("redness_remeasured"), dict) and "redness" in s.scores for s in scans)
    if later:
        st.caption(f"Redness of {later} scan(s) was measured later, from the face picture the scan kept.")
    with st.expander("Delete a scan"):
        by_id = {s.id: s for s in scans}
        pick = st.selectbox("Scan", list(reversed(list(by_id))), format_func=lambda i: scan_label(by_id[i], zone),
                            key="delete_pick")
        sure = st.checkbox("Yes, delete this scan and its picture", key="delete_sure")
        if st.button("Delete scan", key="delete_scan", disabled=not sure):
            try:
                if storage().delete_scan(pick, profile_id=active_profile().id):
                    st.session_state["progress_done"] = f"Deleted the scan of {when(by_id[pick], zone)}."
            except DatabaseError as exc:
                st.error(str(exc))
                return
            st.session_state.pop("delete_sure", None)
            st.rerun()


def remeasure_section(profile, every_view: list[StoredScan]) -> None:
    """Scans saved before redness was measured, whose face picture was kept: redness can be read from it.
    What a run did is said here, beside the button the person pressed (the page's top is out of view)."""
    done = st.session_state.pop("remeasure_done", None)
    if done:
        st.success(done)                      # the app's own words (remeasure.RemeasureReport.describe)
    todo = [s for s in every_view if needs_redness(s)]
    if not todo:
        return
    st.info(f"{len(todo)} scan(s) saved before redness was measured kept their face picture. Redness can be "
            "measured from those pictures now; the other scores stay as they were saved.")
    if st.button("Measure redness from the kept pictures", key="remeasure_redness"):
        bar = st.progress(0.0, text="Measuring redness…")
        try:
            report = remeasure_redness(storage(), profile.id, todo,
                                       progress=lambda done, total: bar.progress(done / total, text="Measuring redness…"))
        except UserFacingError as exc:
            st.error(str(exc))
            return
        st.session_state["remeasure_done"] = report.describe()
        st.rerun()


def _count(value) -> int | None:
    """A lesion count for the table; anything else an old import stored shows as blank."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def export_section(profile) -> None:
    st.subheader("Export and import")
    db = storage()
    pictures = st.checkbox("Include the face pictures", value=True, key="export_pictures")
    stem = "".join(ch if ch.isalnum() else "-" for ch in profile.name).strip("-").lower() or "profile"
    left, right = st.columns(2)
    # Built when clicked, not on every rerun: a year of daily scans with pictures is tens of MB
    # (bench/bench_progress.py). Streamlit runs the callable on its own thread; Storage keeps one
    # connection per thread.
    # on_click="ignore": a click does not rerun the page, so the file the browser is fetching is not
    # dropped by the rerun ("Deferred file ... not found"), and a second click builds it again.
    left.download_button("Download as JSON", lambda: export_json(db, profile.id, pictures), f"skingorithm-{stem}.json",
                         "application/json", key="export_json", on_click="ignore")
    right.download_button("Download as CSV (ZIP)", lambda: export_csv_zip(db, profile.id, pictures),
                          f"skingorithm-{stem}-csv.zip", "application/zip", key="export_csv", on_click="ignore")
    st.caption("JSON and the CSV ZIP each hold all of this profile's data: scans, shelf and routines.")
    # Any export this app writes imports back here: the uploader takes the import limit (serve.py lets files in
    # the app's own formats through up to it; a lone scans .csv stays at its own, smaller limit).
    upload = st.file_uploader("Import a SkinGorithm export (.json, .zip, or a scans .csv)",
                              type=["json", "zip", "csv"], key="import_file", max_upload_size=MAX_IMPORT_BYTES // 2**20)
    st.caption(f"Any export this app writes imports back here: JSON or ZIP up to {MAX_IMPORT_BYTES // 2**20} MB, "
               f"a scans .csv up to {MAX_FILE_BYTES // 2**20} MB.")
    target = st.radio("Import into", ["this profile", "a new profile"], horizontal=True, key="import_target",
                      help="Into this profile: anything it already holds is skipped, so importing twice is safe.")
    if st.button("Import", key="import_go", disabled=upload is None) and upload is not None:
        try:
            bundle = read_bundle(upload.getvalue(), upload.name)
            summary = import_bundle(db, bundle, into_profile_id=profile.id if target == "this profile" else None)
        except ExportFileError as exc:
            st.warning(plain(exc.message))            # may quote the file's own text
            st.info(exc.advice)
            return
        except UserFacingError as exc:
            st.warning(plain(str(exc)))
            return
        name = plain(summary.profile_name)
        where = f"the new profile {name}" if summary.created_profile else name
        skipped = summary.scans_skipped + summary.shelf_skipped + summary.routines_skipped
        st.session_state["progress_done"] = (
            f"Imported into {where}: {summary.scans_added} scan(s), {summary.shelf_added} product(s), "
            f"{summary.routines_added} routine(s) with {summary.marks_added} mark(s)"
            + (f"; {skipped} already there and skipped." if skipped else "."))
        st.rerun()


def main() -> None:
    st.title("Progress")
    done = st.session_state.pop("progress_done", None)
    if done:
        st.success(done)                      # built from the app's own words and escaped names
    try:
        profile = active_profile()
        view = view_picker(profile)
        scans = storage().list_scans(profile.id, view=view)
    except DatabaseError as exc:
        st.error(str(exc))
        return
    zone = viewer_zone()
    try:
        band = load_noise_band()
    except UserFacingError as exc:          # a noise band measured for other weights
        st.error(str(exc))
        return
    try:
        every_view = storage().list_scans(profile.id)      # read once: the re-measure and the visits use it
    except DatabaseError as exc:
        st.error(str(exc))
        return
    if not scans:
        st.info(f"No saved scans for {plain(profile.name)} yet. Scan your face and save the result to start your history.")
        page_link("app_pages/scan.py", "Go to Scan", ":material/photo_camera:")
    else:
        chart_section(scans, band, zone)
        st.divider()
        compare_section(scans, band, zone)
        st.divider()
        history_section(scans, zone)
        remeasure_section(profile, every_view)
    if visits(every_view):
        st.divider()
        visits_section(every_view, band, zone)
    st.divider()
    export_section(profile)


main()
