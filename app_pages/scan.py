"""Scan: a selfie (upload or camera) -> what the model found, as overlays and scores -> saved to the
profile's history. A thin shell over ``skin_app.scan.analysis.analyze``; runs inside app.py's navigation
and on its own (AppTest)."""
from __future__ import annotations

import hashlib
import logging
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:                     # stand-alone run: make the project importable
    sys.path.insert(0, _ROOT)

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app_pages.common import (  # noqa: E402
    active_profile,
    camera_input,
    concern_picker,
    labels_in_full,
    page_link,
    plain,
    segmenter,
    storage,
    viewer_zone,
)
from skin_app.concerns import (  # noqa: E402
    CONCERN_LABELS,
    FULL_CHECK,
    REGION_LABELS,
    VIEW_CONCERNS,
    VIEW_HELP,
    VIEW_LABELS,
    VIEW_SCORED,
    VIEWS,
)
from skin_app.config import setup_tensorflow_env  # noqa: E402
from skin_app.errors import UserFacingError  # noqa: E402
from skin_app.history.save import save_scans  # noqa: E402
from skin_app.limits import NOTE_MAX  # noqa: E402
from skin_app.scan.imaging import MAX_BYTES as PHOTO_MAX_BYTES  # noqa: E402
from skin_app.scan.pictures import STORED_SIZE  # noqa: E402
from skin_app.scan.quality import CHECK_LABELS, CLOSEUP_CHECKS  # noqa: E402
from skin_app.scan.results import ScanResult  # noqa: E402

log = logging.getLogger("skingorithm.scan")
RESULT = "scan_result"            # session key: (photo digest, ScanResult) of the last analysis
SAVED = "scan_saved"              # session key: (photo digest, scan ids, profile id) once saved
PHOTO_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "heic", "heif"]
WORD_COLOURS: dict[str, Literal["green", "orange", "red", "gray"]] = {"good": "green", "fair": "orange",
                                                                     "needs care": "red"}
KEEP_PICTURE = f"Keep the small face picture ({STORED_SIZE} px) and the marks"
KEEP_NOTHING = "Keep only the scores (no picture)"
PICTURE_VIEWS = ["Marked", "Side by side", "Blend"]
SCORE_BOX_PX = 108                # three boxes to a line on a 390 px phone; labels wrap, never cut
NOT_MEASURED = "not measured"
NOT_MEASURED_HELP = "Not measured on this photo: its colour cannot be read (see the photo check)."

MEANING = """
**How the scores work.** Each score is 0-100, higher is better, and means the same on every concern:
**90** is what a typical face without that concern reads, **70** is where a dermatologist's grade
turns from mild to moderate (or the reference photos' equivalent), **50 or less** is clearly visible.
Words: **good** from 70, **fair** from 50, **needs care** below 50, with one exception: once you have a
saved scan of this view, a word changes from that scan's word only when the score moves past the edge
by more than its noise band (the number after ±), so a 68 after a "good" scan still reads "good" and
the page says so under the scores. **Overall** is the mean of the concerns this view scores, but never
more than {LEAD} points above the weakest of them: so Overall reads "good" only when every concern is at
least "fair", and one concern that needs care is never hidden by clear ones. The scores were fitted to
graded reference photos:
{CURVES}

The number after ± is the noise band: how far the score moved when the same face was photographed
again in the same conditions (minutes apart, simulated re-shots). Different light, distance or head
position can move a score further than that; compare scans taken the same way.

**Limits.** This is an estimate from one photo by a model trained on public research photos, not a
medical diagnosis. Compare scans taken the same way. See a dermatologist about anything that worries
you. Your photo is analysed on this computer; the original is never stored.
"""


def meaning() -> str:
    from skin_app.scan.calibration import OVERALL_LEAD, describe, load_calibration
    lines = []
    for row in describe(load_calibration()):
        at = row["at"]
        unit = row["unit"]
        lines.append(f"- {CONCERN_LABELS[row['concern']]}: from the {row['measure']}; "
                     f"{at['90']:.2f} {unit} reads 90, {at['70']:.2f} {unit} reads 70, {at['50']:.2f} {unit} reads 50.")
    return MEANING.replace("{CURVES}", "\n".join(lines)).replace("{LEAD}", f"{OVERALL_LEAD:.0f}")


FULL_CHECK_OPTION = "Full check"
VIEW_TIPS = {
    "front": "- Face the camera straight on, head level, whole face in the picture, about an arm's length away.\n",
    "left": "- Turn your head about 40 degrees to your right so your **left** cheek faces the camera; both eyes "
            "still visible.\n",
    "right": "- Turn your head about 40 degrees to your left so your **right** cheek faces the camera; both eyes "
             "still visible.\n",
    "closeup": "- Fill the frame with the skin you want checked, about 10-15 cm away (closer, phones cannot "
               "focus).\n",
}
# The camera's framing guide: an oval drawn over the live picture (our own fixed CSS, no user text).
FRAME_CSS = """<style>
[data-testid="stCameraInputWebcamStyledBox"] { position: relative; }
[data-testid="stCameraInputWebcamStyledBox"]::after {
  content: ""; position: absolute; left: 50%; top: 8%; height: 84%; aspect-ratio: 3 / 4; max-width: 80%;
  transform: translateX(-50%);
  border: 3px dashed rgba(255, 255, 255, 0.9); border-radius: 50%; box-shadow: 0 0 0 2px rgba(0, 0, 0, 0.35);
  pointer-events: none; }
[class*="st-key-scan_frame_closeup"] [data-testid="stCameraInputWebcamStyledBox"]::after {
  top: 10%; height: 80%; aspect-ratio: 1; border-radius: 12px; }
</style>"""
# Score boxes three to a line on a 390 px phone: a smaller number than Streamlit's default (fixed CSS).
SCORES_CSS = """<style>
[class*="st-key-scan_scores"] [data-testid="stMetricValue"] { font-size: 1.75rem; }
</style>"""
FRAME_WORDS = {
    "front": "Fit your face inside the oval, forehead to chin, about an arm's length (40-50 cm) away, light in front of you.",
    "left": "Turn your head so your left cheek fills the oval; keep about an arm's length away.",
    "right": "Turn your head so your right cheek fills the oval; keep about an arm's length away.",
    "closeup": "Fill the frame with skin, 10-15 cm away; tap the picture to focus before taking it.",
}


def tips(view: str) -> None:
    with st.expander("How to take a good photo"):
        st.markdown(VIEW_TIPS[view] +
                    "- Even daylight from the front; no strong shadows, no backlight.\n"
                    "- No make-up, glasses or hair over the skin; hold still so the photo is sharp.\n"
                    "- For tracking progress, use the same place, light and distance each time.\n"
                    "- Phones may mirror selfies: if the app names the other cheek, pick that side.")


def view_picker() -> str:
    """The view the photo shows (concerns.VIEWS), or the full check (front + left + right)."""
    options = [*VIEWS, FULL_CHECK_OPTION]
    chosen = st.segmented_control("What does the photo show?", options, default="front", key="scan_view_kind",
                                  required=True, format_func=lambda v: VIEW_LABELS.get(v, v),
                                  help="Each view keeps its own history line. A full check saves a front and "
                                       "both side views as one visit, as clinics photograph a face.")
    if chosen in VIEW_HELP:
        st.caption(VIEW_HELP[chosen])
    return chosen


def photo_input(view: str, key_suffix: str = ""):
    source = st.segmented_control("Photo from", ["Upload", "Camera"], default="Upload",
                                  key=f"scan_source{key_suffix}", required=True)
    if source == "Camera":
        st.html(FRAME_CSS)
        st.caption(FRAME_WORDS[view])
        with st.container(key=f"scan_frame_{view}{key_suffix}"):
            return camera_input("Take a photo", key=f"scan_camera{key_suffix}")
    return st.file_uploader(f"Choose a photo ({VIEW_LABELS[view].lower()}; JPEG, PNG, WebP, BMP or HEIC, up to "
                            f"{PHOTO_MAX_BYTES // 2**20} MB)", type=PHOTO_TYPES, key=f"scan_upload{key_suffix}",
                            max_upload_size=PHOTO_MAX_BYTES // 2**20)


def show_refusal(message: str, advice: str, others=()) -> None:
    """A photo the engine could not use: what is wrong and what to do, in one box at the top level,
    open (never folded into a status box); other problems found follow as a list."""
    text = f"**{message}**  \n{advice}"
    if others:
        text += "\n\nAlso:\n" + "\n".join(f"- {i.message} {i.advice}" for i in others)
    st.warning(text, icon=":material/no_photography:")


# The measurement each check leaves behind, so a check that ran and passed can be ticked (a blocking
# problem found early stops the later checks, which are then not listed).
_CHECK_MEASURES = {"no_face": None, "several_faces": "faces", "cut_off": "cut_off_share", "turned": "yaw",
                   "too_small": ("face_width_px", "short_side_px"), "too_dark": "p98_luminance",
                   "overexposed": "clipped_share", "blurry": "sharpness", "whole_face": "whole_face",
                   "not_skin": "skin_colour_share", "colour_cast": "skin_hue"}


def _ran(code: str, measured: dict) -> bool:
    names = _CHECK_MEASURES[code]
    if names is None:
        return True
    return any(n in measured for n in ((names,) if isinstance(names, str) else names))


def checklist(quality, view: str) -> None:
    """The pre-check: what passed on one line, then each problem with what to do, one line each."""
    found: dict[str, Any] = {}
    for issue in quality.issues:
        found.setdefault(issue.code, issue)
    passed, problems = [], []
    for code in (CLOSEUP_CHECKS if view == "closeup" else CHECK_LABELS):
        issue = found.get(code)
        if issue is not None and issue.blocking:
            problems.append(f":red[:material/cancel:] {CHECK_LABELS[code]}: {issue.message}")
        elif issue is not None:
            problems.append(f":orange[:material/error:] {CHECK_LABELS[code]}: {issue.message} {issue.advice}")
        elif _ran(code, quality.measurements):
            passed.append(CHECK_LABELS[code])
    if not passed and len(problems) <= 1:
        return                         # only the refusal itself, already said above
    lines = ([f":green[:material/check_circle:] {' · '.join(passed)}"] if passed else []) + problems
    st.markdown("**Photo check**  \n" + "  \n".join(lines))


def precheck(data: bytes, view: str):
    """Decode and check the photo for its view before the model runs. A photo that cannot be used gets
    the refusal (what to fix) on top and the check list under it; returns the CheckedPhoto or None."""
    from skin_app.scan.analysis import check_photo
    try:
        checked = check_photo(data, view)
    except UserFacingError as exc:
        show_refusal(exc.message, exc.advice)
        return None
    except Exception:
        log.exception("photo check failed")
        show_refusal("Something went wrong while reading this photo.",
                     "Try another photo. If it keeps happening, the terminal running the app shows the details.")
        return None
    if checked.quality.ok:
        return checked
    blocking = [i for i in checked.quality.issues if i.blocking]
    show_refusal(blocking[0].message, blocking[0].advice, blocking[1:])
    checklist(checked.quality, view)
    return None


def analyse(data: bytes, checked, started: float) -> ScanResult | None:
    """The model's part, with a live status line; ``started``: when the person handed the photo over,
    so the time shown is what they waited (including any wait for the model to finish loading)."""
    seg, waited = segmenter()
    if seg is None:
        return None
    setup_tensorflow_env()
    from skin_app.scan.analysis import analyze
    status = st.empty()
    problem = None
    with status.status("Analysing…", expanded=False) as box:
        try:
            result = analyze(data, segmenter=seg, progress=lambda step: box.update(label=step), view=checked.view,
                             checked=checked)
        except UserFacingError as exc:          # the photo, a missing calibration file, ...
            problem = (exc.message, exc.advice)
        except Exception:
            log.exception("analysis failed")
            problem = ("Something went wrong while analysing this photo.",
                       "Try another photo. If it keeps happening, the terminal running the app shows the details.")
        if problem is None:
            t = result.timings_ms
            total = time.perf_counter() - started
            st.write(f"Photo read and checked: {t.get('decode_ms', 0) + t.get('face_ms', 0):.0f} ms")
            if waited >= 0.05:
                st.write(f"Waiting for the skin model to finish loading: {waited:.1f} s")
            st.write(f"Skin analysed by the model: {t.get('segment_ms', 0):.0f} ms")
            st.write(f"Scored: {t.get('score_ms', 0):.0f} ms")
            result.timings_ms["waited_ms"] = round(total * 1000, 1)
            box.update(label=f"Done in {total:.1f} s" + (f" (of which {waited:.1f} s waiting for the model to load)"
                                                          if waited >= 0.05 else ""), state="complete")
    if problem is not None:
        status.empty()                  # the refusal stands alone at the top level, not in a finished box
        show_refusal(*problem)
        return None
    return result


def pictures(result: ScanResult, suffix: str = "") -> None:
    """The marked face, as large as its column (the full width on a phone), or beside the plain photo,
    or blended; the toolbar's fullscreen button and a download show it at full resolution."""
    from skin_app.scan.imaging import encode_png
    from skin_app.scan.overlay import overlay_masks, side_by_side
    concerns = concern_picker(f"scan_overlay{suffix}", concerns=VIEW_SCORED[result.view])
    view = st.segmented_control("Picture", PICTURE_VIEWS, default=PICTURE_VIEWS[0], key=f"scan_view{suffix}",
                                required=True)
    marked = overlay_masks(result.crop, result.masks, concerns)
    if view == "Blend":
        strength = st.slider("Marks: 0 = plain photo, 100 = full marks", 0, 100, 60, key=f"scan_blend{suffix}")
        st.image(overlay_masks(result.crop, result.masks, concerns, alpha=0.75 * strength / 100,
                               outline=strength > 0),
                 caption=f"Your face with the model's marks at {strength} %" if strength else "Your face, no marks",
                 width="stretch")
    elif view == "Side by side":
        # a row that does not stack on a phone, marked face first
        with st.container(horizontal=True, gap="small"):
            for picture, caption in ((marked, "What the model marked"), (result.crop, "Your photo as the model saw it")):
                with st.container(width="stretch"):          # two equal halves
                    st.image(picture, caption=caption, width="stretch")
    else:
        st.image(marked, caption="What the model marked (the ⤢ button on the picture shows it full screen)",
                 width="stretch")
    st.download_button("Download the marked picture (full size, PNG)",
                       lambda: encode_png(side_by_side(result.crop, overlay_masks(result.crop, result.masks, concerns))),
                       f"skingorithm-{result.view}-marked.png", "image/png", key=f"scan_picture_png{suffix}",
                       icon=":material/download:", on_click="ignore")


def light_warning(result: ScanResult) -> None:
    """Warns when this photo was taken in conditions unlike the person's usual scans of this view (the
    median of their last five): score changes against those would come partly from the light."""
    from skin_app.scan.conditions import differences, of_scan, usual
    recent = [of_scan(s.metrics) for s in storage().latest_scans(active_profile().id, result.view, 5)]
    unlike = differences(usual([c for c in recent if c]), result.metrics.get("conditions") or {})
    if unlike:
        st.warning(f"**Taken in different conditions from your usual scans:** {', '.join(unlike)}. Scores that "
                   "depend on light (dark circles, dark spots) may move for that reason alone; Progress will not "
                   "count such a change as real. For comparable scans, use the same place, light and distance.",
                   icon=":material/wb_sunny:")


def previous_words(profile_id: int, view: str) -> dict[str, str]:
    """The words of the profile's latest stored scan of this view (for hysteresis)."""
    from skin_app.scan.calibration import word_for
    scans = storage().latest_scans(profile_id, view, 1, scorable_only=True)
    if not scans:
        return {}
    return {k: word_for(v) for k, v in scans[-1].scores.items() if isinstance(v, (int, float))}


def scores(result: ScanResult, suffix: str = "") -> None:
    """The view's scores in one compact row (three to a line on a phone), each with its word and, after
    the ±, its noise band: how far it moves between re-shots of the same face. A word only changes
    from the last saved scan's of this view when the score leaves that band around the edge; when it
    is held (or Overall is held below a concern that needs care) the line under the row says why."""
    from skin_app.history.progress import load_noise_band
    from skin_app.scan.calibration import acne_words, overall_note, scan_words
    band = load_noise_band()
    keys = ("overall", *VIEW_SCORED[result.view])
    present = [k for k in keys if k in result.scores]      # redness may be unmeasured (colour unreadable)
    words = scan_words({k: result.scores[k] for k in present}, previous_words(active_profile().id, result.view),
                       {k: band[k] for k in present})
    st.html(SCORES_CSS)
    labels_in_full()
    with st.container(horizontal=True, gap="small", key=f"scan_scores{suffix}"):
        for key in keys:
            value = result.scores.get(key)
            with st.container(border=True, width=SCORE_BOX_PX, gap=None):
                if value is None:               # redness on a photo whose colour cannot be read
                    st.metric(CONCERN_LABELS[key], "–", help=NOT_MEASURED_HELP)
                    st.badge(NOT_MEASURED, color="gray")
                    continue
                word = words[key].word
                st.metric(CONCERN_LABELS[key], f"{value:.0f} ±{band[key]:.0f}",
                          help=f"Out of 100; higher is better. ±{band[key]:.1f}: how far this score moves "
                               "between re-shots of the same face in the same light.")
                st.badge(word, color=WORD_COLOURS.get(word, "gray"))
    why = [f"{CONCERN_LABELS[k]}: {words[k].why}." for k in present if words[k].why]
    note = overall_note(result.scores, VIEW_CONCERNS[result.view], CONCERN_LABELS)
    if why or note:
        st.caption("  \n".join([*why, *([note] if note else [])]), width="stretch")
    m = result.metrics
    acne = f"{acne_words(result.acne).capitalize()} · " if result.acne else ""
    side = " on this side of your face (as a dermatologist counts, half a face)" if result.view in ("left", "right") else ""
    st.caption(f"{acne}Dark spots: {m.get('flek_spot_count', '–')}{side} "
               "(separate spots the model marked on your skin; touching spots counted apart; the grade is read "
               "by a model fitted to dermatologists' grades of clinical photos)")


def regions_table(result: ScanResult) -> None:
    per_region = result.metrics.get("per_region") or {}
    rows = []
    for name, values in per_region.items():
        rows.append({"Region": REGION_LABELS.get(name, name),
                     **{CONCERN_LABELS[c]: round(100 * float(values[c]), 2) if c in values else None
                        for c in VIEW_SCORED[result.view]}})
    if rows:
        with st.expander("Where on the face (% of each region marked; redness: % redder than your own skin)"):
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="scan_regions")


def save_form(results: ScanResult | dict[str, ScanResult], key: str) -> None:
    """Saves one scan, or a full check's scans (a dict view -> result) as one visit."""
    profile = active_profile()
    saved = st.session_state.get(SAVED)
    if saved and saved[0] == key and saved[2] == profile.id:     # saved to this profile, not one switched from
        st.success("Saved to your history.")
        page_link("app_pages/progress.py", "See your progress", ":material/monitoring:")
        return
    batch = results if isinstance(results, dict) else {results.view: results}
    zone = viewer_zone()
    now = datetime.now(zone)
    with st.form("save_scan"):
        what = "full check" if len(batch) > 1 else f"{VIEW_LABELS[next(iter(batch))].lower()} scan"
        st.markdown(f"**Save this {what} to {plain(profile.name)}'s history**")
        c1, c2 = st.columns(2)
        day = c1.date_input("Date", value=now.date(), key="save_date", max_value=now.date() + timedelta(days=1))
        clock = c2.time_input("Time", value=now.time().replace(second=0, microsecond=0), key="save_time")
        note = st.text_input("Note (optional)", key="save_note", max_chars=NOTE_MAX,
                             placeholder="e.g. started niacinamide serum")
        keep = st.radio("Face picture", [KEEP_PICTURE, KEEP_NOTHING], key="save_keep",
                        index=0 if profile.store_pictures else 1,
                        help="The original photo is never stored. The small picture lets you compare scans later.")
        if st.form_submit_button("Save to history", type="primary"):
            taken = datetime.combine(day, clock, tzinfo=zone)
            try:
                ids = save_scans(storage(), profile.id, list(batch.values()), taken, note,
                                 keep_picture=keep == KEEP_PICTURE)
            except UserFacingError as exc:
                st.warning(str(exc))
                return
            st.session_state[SAVED] = (key, ids, profile.id)
            st.rerun()


def result_view(result: ScanResult, suffix: str = "") -> None:
    """One view's result: the marked face beside its scores, words and bands (stacked on a phone)."""
    left, right = st.columns([3, 2])
    with left:
        pictures(result, suffix)
    with right:
        scores(result, suffix)


def show_result(result: ScanResult, key: str) -> None:
    checklist(result.quality, result.view)
    light_warning(result)
    result_view(result)
    regions_table(result)
    with st.expander("What these scores mean, and their limits"):
        st.markdown(meaning())
    save_form(result, key)


def scan_one(view: str, suffix: str = "") -> ScanResult | None:
    """One photo of one view: input, pre-check, analysis (once per photo). The result or None."""
    photo = photo_input(view, suffix)
    if photo is None:
        st.info("Upload a photo or take one with the camera to start.")
        return None
    started = time.perf_counter()
    data = photo.getvalue()
    key = f"{view}:{hashlib.sha256(data).hexdigest()}"
    stored = st.session_state.get(RESULT + suffix)
    if stored and stored[0] == key:
        return stored[1]
    checked = precheck(data, view)
    if checked is None:
        return None
    result = analyse(data, checked, started)
    if result is not None:
        st.session_state[RESULT + suffix] = (key, result)
    return result


def full_check() -> None:
    """Front, left and right photos of one visit, each checked and scored on its own view's line,
    saved together."""
    st.markdown("A **full check** is three photos taken together: front, left side and right side. Each keeps "
                "its own history line; they are saved as one visit.")
    results = {}
    for view in FULL_CHECK:
        with st.container(border=True):
            st.markdown(f"**{VIEW_LABELS[view]}**: {VIEW_HELP[view]}")
            result = scan_one(view, suffix=f"_{view}")
            if result is not None:
                results[view] = result
                checklist(result.quality, view)
                light_warning(result)
                result_view(result, f"_{view}")
    if len(results) == len(FULL_CHECK):
        save_form(results, "full:" + "|".join(f"{v}" for v in FULL_CHECK) +
                  hashlib.sha256("".join(str(r.scores) for r in results.values()).encode()).hexdigest()[:16])
    else:
        missing = [VIEW_LABELS[v].lower() for v in FULL_CHECK if v not in results]
        st.caption(f"Still needed before saving: {', '.join(missing)}.")


def main() -> None:
    st.title("Scan")
    st.caption("A photo of your face → what the model sees (acne, dark spots, wrinkles, dark circles) and "
               "the redness in its colour → saved to your history. Everything happens on this computer.")
    view = view_picker()
    if view == FULL_CHECK_OPTION:
        tips("front")
        full_check()
        return
    tips(view)
    result = scan_one(view)
    if result is not None:
        show_result(result, st.session_state[RESULT][0])


main()
