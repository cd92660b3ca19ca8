"""Scan: a selfie (upload or camera) -> what the model found, as overlays and scores -> saved to the
profile's history. A thin shell over ``skin_app.analysis.analyze``; runs inside app.py's navigation
and on its own (AppTest)."""
from __future__ import annotations

import hashlib
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:                     # stand-alone run: make the project importable
    sys.path.insert(0, _ROOT)

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app_pages.common import (active_profile, camera_input, concern_picker, page_link, plain, segmenter,  # noqa: E402
                              storage, viewer_zone)
from skin_app.config import setup_tensorflow_env  # noqa: E402
from skin_app.errors import UserFacingError  # noqa: E402
from skin_app.pictures import STORED_SIZE, crop_to_png, masks_to_png  # noqa: E402
from skin_app.results import CONCERN_LABELS, CONCERNS, ScanResult  # noqa: E402
from skin_app.storage import DatabaseError  # noqa: E402

log = logging.getLogger("skingorithm.scan")
RESULT = "scan_result"            # session key: (photo digest, ScanResult) of the last analysis
SAVED = "scan_saved"              # session key: (photo digest, scan id) once saved
PHOTO_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "heic", "heif"]
WORD_COLOURS = {"good": "green", "fair": "orange", "needs care": "red"}
REGION_LABELS = {"forehead": "Forehead", "left_cheek": "Left cheek", "right_cheek": "Right cheek", "nose": "Nose",
                 "chin": "Chin", "left_under_eye": "Left under-eye", "right_under_eye": "Right under-eye",
                 "eyes": "Eyes"}
KEEP_PICTURE = f"Keep the small face picture ({STORED_SIZE} px) and the marks"
KEEP_NOTHING = "Keep only the scores (no picture)"

MEANING = """
**How the scores work.** Each score is 0-100, higher is better, and means the same on every concern:
**90** is what a typical face without that concern reads, **70** is where a dermatologist's grade
turns from mild to moderate (or the reference photos' equivalent), **50 or less** is clearly visible.
Words: **good** from 70, **fair** from 50, **needs care** below 50. Overall is the mean of the four,
so each concern weighs a quarter. The scores were fitted to graded reference photos:
{CURVES}

The number after ± is the noise band: how far the score moves when the same face is photographed
again (light, distance, camera). A word only changes from your last scan's when the score moves past
the edge by more than that.

**Limits.** This is an estimate from one photo by a model trained on public research photos, not a
medical diagnosis. Compare scans taken the same way. See a dermatologist about anything that worries
you. Your photo is analysed on this computer; the original is never stored.
"""


def meaning() -> str:
    from skin_app.calibration import describe, load_calibration
    lines = []
    for row in describe(load_calibration()):
        at = row["at"]
        unit = row["unit"]
        lines.append(f"- {CONCERN_LABELS[row['concern']]}: from the {row['measure']}; "
                     f"{at['90']:.2f} {unit} reads 90, {at['70']:.2f} {unit} reads 70, {at['50']:.2f} {unit} reads 50.")
    return MEANING.replace("{CURVES}", "\n".join(lines))


def tips() -> None:
    with st.expander("How to take a good photo"):
        st.markdown("- Face the camera straight on, head level, whole face in the picture.\n"
                    "- Even daylight from the front; no strong shadows, no backlight.\n"
                    "- No make-up, glasses or hair over the face; hold still so the photo is sharp.\n"
                    "- For tracking progress, use the same place, light and distance each time.")


def photo_input():
    source = st.segmented_control("Photo from", ["Upload", "Camera"], default="Upload", key="scan_source",
                                  required=True)
    if source == "Camera":
        return camera_input("Take a selfie", key="scan_camera")
    return st.file_uploader("Choose a photo of your face (JPEG, PNG, WebP, BMP or HEIC, up to 25 MB)",
                            type=PHOTO_TYPES, key="scan_upload")


def show_refusal(exc: UserFacingError) -> None:
    """A photo the engine could not use: what is wrong and what to do, as advice (never a traceback)."""
    st.warning(exc.message)
    if exc.advice:
        st.info(exc.advice)
    quality = getattr(exc, "quality", None)
    others = [i for i in (quality.issues if quality else []) if i.message != exc.message]
    for issue in others:
        st.info(f"{issue.message} {issue.advice}")


def analyse(data: bytes, digest: str) -> ScanResult | None:
    seg = segmenter()
    if seg is None:
        return None
    setup_tensorflow_env()
    from skin_app.analysis import analyze
    with st.status("Reading the photo…", expanded=False) as status:
        try:
            result = analyze(data, segmenter=seg, progress=lambda step: status.update(label=step))
        except UserFacingError as exc:
            status.update(label="This photo could not be analysed", state="complete")
            show_refusal(exc)
            return None
        except Exception:  # noqa: BLE001 - shown as advice; the details go to the terminal's log
            log.exception("analysis failed")
            status.update(label="This photo could not be analysed", state="complete")
            st.warning("Something went wrong while analysing this photo.")
            st.info("Try another photo. If it keeps happening, the terminal running the app shows the details.")
            return None
        t = result.timings_ms
        st.write(f"Face found and checked: {t.get('decode_ms', 0) + t.get('face_ms', 0):.0f} ms")
        st.write(f"Skin analysed by the model: {t.get('segment_ms', 0):.0f} ms")
        st.write(f"Scored: {t.get('score_ms', 0):.0f} ms")
        status.update(label=f"Done in {t.get('total_ms', 0) / 1000:.1f} s", state="complete")
    st.session_state[RESULT] = (digest, result)
    return result


def pictures(result: ScanResult) -> None:
    from skin_app.overlay import overlay_masks
    concerns = concern_picker("scan_overlay")
    view = st.segmented_control("View", ["Side by side", "Blend"], default="Side by side", key="scan_view",
                                required=True)
    if view == "Blend":
        strength = st.slider("Marks: 0 = plain photo, 100 = full marks", 0, 100, 60, key="scan_blend")
        st.image(overlay_masks(result.crop, result.masks, concerns, alpha=0.75 * strength / 100,
                               outline=strength > 0), caption="Your aligned face", width="stretch")
    else:
        left, right = st.columns(2)
        left.image(result.crop, caption="Your aligned face", width="stretch")
        right.image(overlay_masks(result.crop, result.masks, concerns), caption="What the model marked",
                    width="stretch")


def previous_words(profile_id: int) -> dict[str, str]:
    """The words of the profile's latest stored scan on the same calibration (for hysteresis)."""
    from skin_app.calibration import word_for
    latest = storage().latest_scan(profile_id)
    if latest is None or latest.rescore_failed:
        return {}
    return {k: word_for(v) for k, v in latest.scores.items() if isinstance(v, (int, float))}


def scores(result: ScanResult) -> None:
    from skin_app.calibration import word_for
    from skin_app.progress import load_noise_band
    band = load_noise_band()
    before = previous_words(active_profile().id)
    overall = result.scores["overall"]
    word = word_for(overall, before.get("overall"), band["overall"])
    st.metric("Overall", f"{overall:.0f} / 100", help=f"± {band['overall']:.1f} between re-shots of the same face")
    st.badge(word, color=WORD_COLOURS.get(word, "gray"))
    for concern in CONCERNS:
        value = result.scores[concern]
        w = word_for(value, before.get(concern), band[concern])
        c1, c2 = st.columns([3, 2])
        c1.metric(CONCERN_LABELS[concern], f"{value:.0f} ± {band[concern]:.0f}")
        c2.badge(w, color=WORD_COLOURS.get(w, "gray"))
    m = result.metrics
    counts = st.columns(2)
    counts[0].metric("Acne lesions", m.get("acne_lesion_count", "–"),
                     help="Separate spots the model marked as acne on your face skin (touching spots split).")
    counts[1].metric("Dark-spot count", m.get("flek_spot_count", "–"), help="Separate dark spots the model marked.")


def regions_table(result: ScanResult) -> None:
    per_region = result.metrics.get("per_region") or {}
    rows = []
    for name, values in per_region.items():
        rows.append({"Region": REGION_LABELS.get(name, name),
                     **{CONCERN_LABELS[c]: round(100 * float(values.get(c, 0.0)), 2) for c in CONCERNS}})
    if rows:
        st.markdown("**Where on the face** (% of each region the model marked)")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="scan_regions")


def save_form(result: ScanResult, digest: str) -> None:
    saved = st.session_state.get(SAVED)
    if saved and saved[0] == digest:
        st.success("Saved to your history.")
        page_link("app_pages/progress.py", "See your progress", ":material/monitoring:")
        return
    profile = active_profile()
    zone = viewer_zone()
    now = datetime.now(zone)
    with st.form("save_scan"):
        st.markdown(f"**Save to {plain(profile.name)}'s history**")
        c1, c2 = st.columns(2)
        day = c1.date_input("Date", value=now.date(), key="save_date", max_value=now.date() + timedelta(days=1))
        clock = c2.time_input("Time", value=now.time().replace(second=0, microsecond=0), key="save_time")
        note = st.text_input("Note (optional)", key="save_note", max_chars=500,
                             placeholder="e.g. started niacinamide serum")
        keep = st.radio("Face picture", [KEEP_PICTURE, KEEP_NOTHING], key="save_keep",
                        index=0 if profile.store_pictures else 1,
                        help="The original photo is never stored. The small picture lets you compare scans later.")
        if st.form_submit_button("Save to history", type="primary"):
            taken = datetime.combine(day, clock, tzinfo=zone)
            store = keep == KEEP_PICTURE
            try:
                scan_id = storage().add_scan(
                    profile.id, taken_at=taken, scores=result.scores, metrics=result.metrics,
                    model_version=result.model_version, note=note,
                    crop_png=crop_to_png(result.crop) if store else None,
                    masks_png=masks_to_png({c: result.masks[c] for c in CONCERNS}) if store else None)
            except (ValueError, DatabaseError) as exc:
                st.warning(str(exc))
                return
            st.session_state[SAVED] = (digest, scan_id)
            st.rerun()


def main() -> None:
    st.title("Scan")
    st.caption("A photo of your face → what the model sees (acne, dark spots, wrinkles, dark circles) → "
               "saved to your history. Everything happens on this computer.")
    tips()
    photo = photo_input()
    if photo is None:
        st.info("Upload a photo or take one with the camera to start.")
        return
    data = photo.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    stored = st.session_state.get(RESULT)
    result = stored[1] if stored and stored[0] == digest else analyse(data, digest)
    if result is None:
        return
    for issue in result.quality.issues:
        if not issue.blocking:
            st.info(f"{issue.message} {issue.advice}")
    left, right = st.columns([3, 2])
    with left:
        pictures(result)
    with right:
        scores(result)
    regions_table(result)
    with st.expander("What these scores mean, and their limits"):
        st.markdown(meaning())
    save_form(result, digest)


main()
