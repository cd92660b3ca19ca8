"""Settings & privacy: where the data lives, the picture choice, deleting a profile or everything,
and the model card. Runs inside app.py's navigation and on its own (AppTest)."""
from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:                     # stand-alone run: make the project importable
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from app_pages.common import PROFILE, active_profile, plain, storage  # noqa: E402
from skin_app.config import data_dir, model_card_path, model_path  # noqa: E402
from skin_app.scan.pictures import STORED_SIZE  # noqa: E402
from skin_app.storage import DatabaseError  # noqa: E402

CONFIRM_WORD = "DELETE"


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def offline_section() -> None:
    st.subheader("Runs fully offline")
    st.markdown(
        "- Your photos are analysed on this computer by a model shipped with the app; nothing is uploaded.\n"
        "- The app listens on this computer only (`localhost`) unless you open it to your phone below, "
        "sends no usage statistics and makes no outside connection.\n"
        f"- The original photo is never stored. A scan keeps its scores, the measurements behind them and, "
        f"if you allow it, a small {STORED_SIZE} px picture of your aligned face with the marks the model found.\n"
        "- Results are estimates from a photo, not a medical diagnosis. See a dermatologist about "
        "anything that worries you.")


def data_section() -> None:
    st.subheader("Where your data lives")
    db = storage()
    s = db.summary()
    st.text("Database file")
    st.code(str(s.path), language=None)
    st.caption("Set the SKINGORITHM_DB environment variable to keep it elsewhere. Back it up by copying the "
               "file while the app is closed, or export a profile on the Progress page.")
    cols = st.columns(4)
    cols[0].metric("Size", _size(s.file_bytes))
    cols[1].metric("Profiles", s.profiles)
    cols[2].metric("Scans", s.scans)
    cols[3].metric("Stored face pictures", s.pictures)
    st.text("Model weights")
    st.code(str(model_path()), language=None)


def pictures_section(profile) -> None:
    st.subheader("Face pictures")
    db = storage()
    keep = st.toggle(f"Keep a small face picture with each new scan of {plain(profile.name)}",
                     value=profile.store_pictures, key=f"store_pictures_{profile.id}",
                     help="Needed to compare photos later. Scores are kept either way.")
    if keep != profile.store_pictures:
        db.set_store_pictures(profile.id, keep)
        st.toast("Saved your choice.")
    stored = sum(1 for s in db.list_scans(profile.id) if s.has_picture)
    st.caption(f"{stored} stored picture(s) in this profile.")
    if stored and st.button("Forget this profile's pictures (keep the scores)", key="forget_pictures"):
        n = db.forget_pictures(profile.id)
        st.success(f"Removed {n} picture(s); the scores stay.")


def delete_section(profile) -> None:
    st.subheader("Delete")
    db = storage()
    with st.container(border=True):
        st.markdown(f"**Delete the profile {plain(profile.name)}** with all its scans, pictures, shelf and routines.")
        sure = st.checkbox(f"Yes, delete {plain(profile.name)} for good", key=f"confirm_profile_{profile.id}")
        if st.button("Delete this profile", key="delete_profile", disabled=not sure):
            db.delete_profile(profile.id)
            st.session_state.pop(PROFILE, None)
            st.session_state["settings_done"] = f"Deleted the profile {plain(profile.name)}."
            st.rerun()
    with st.container(border=True):
        st.markdown("**Delete everything**: every profile, scan, picture, product and routine in this installation. "
                    "The file is rewritten so nothing can be recovered from it.")
        typed = st.text_input(f"Type {CONFIRM_WORD} to confirm", key="confirm_everything", max_chars=20)
        if st.button("Delete everything", key="delete_everything", type="primary",
                     disabled=typed.strip() != CONFIRM_WORD):
            db.delete_everything()
            st.session_state.pop(PROFILE, None)
            st.session_state["settings_done"] = "Deleted everything. The app starts afresh."
            st.rerun()


MODEL_SUMMARY = """
- **What it is.** One model, made by the SkinGorithm team, that marks face skin, eyes, acne, dark
  spots, wrinkles and dark circles in a photo of a face. It runs on this computer. It is no medical device.
- **What it learned from.** About 3,400 public research photos in which people had marked these things
  by hand: celebrity and studio portraits for skin and eyes, dermatology clinic photos (ACNE04) for
  acne, web close-ups for dark spots, and a few hundred faces for wrinkles and dark circles.
- **How often it is right.** On photos it never saw it finds the face skin and eyes well, and about
  four in ten acne spots and a third of dark spots exactly; it marks some dark circles where there
  are none. Scores move by a few points between two photos of the same face (the Progress page shows
  how much).
- **Who it may serve less well.** The wrinkle and dark-circle photos were mostly of light-skinned
  people and the acne photos of East Asian patients, so expect it to be less accurate on other skin
  tones for those concerns. Faint acne was often not marked in its training photos, so it misses
  faint spots. It was trained on adults' faces.
- **Use.** The weights may be used for personal and research purposes only (the training photos'
  terms).
"""


def model_card_section() -> None:
    st.subheader("About the model")
    st.markdown(MODEL_SUMMARY)
    card = model_card_path()
    if card.exists():
        with st.expander("The full model card (data, training, measured accuracy, for specialists)", expanded=False):
            st.markdown(card.read_text(encoding="utf-8"))     # our own shipped file, not user text
        st.caption(f"The same card is the file {card.name} beside the model weights.")
    else:
        st.info(f"The model card ({card}) is not installed.")


def phone_section() -> None:
    """Opt-in phone mode: the app on the local network with a new access code, shown as a QR code."""
    from skin_app import access
    st.subheader("Open on my phone")
    st.markdown(
        "Turning this on lets a phone **on the same Wi-Fi** open SkinGorithm: take a selfie there, see the "
        "scores and your routine. It opens **the whole app, every profile**, to anyone on your network who "
        "has the code below (a new code each time you turn this on). Photos still go only to this "
        "computer. Turn it off when you are done; it is off again at the next start (unless started with "
        "`bash run.sh --phone`).")
    mode = access.phone_mode()
    if not access.available():
        st.info("Phone mode needs the app started with `bash run.sh` (add `--phone` to start with it on).")
        return
    on = st.toggle("Open on my phone", value=mode is not None, key="phone_mode")
    if on and mode is None:
        from streamlit import config
        try:
            mode = access.turn_on(int(config.get_option("server.port")), data_dir())
        except access.PhoneModeError as exc:
            st.warning(str(exc))
            return
    elif not on and mode is not None:
        access.turn_off()
        st.success("Phone mode is off: phones can no longer open the app.")
        return
    if mode is None:
        return
    import segno
    left, right = st.columns([1, 2])
    left.image(segno.make(mode.url, error="m").png_data_uri(scale=6, border=2), caption="Scan with the phone's camera",
               width=220)
    with right:
        st.markdown("Or type this link on the phone (the code in it is the key; do not share it):")
        st.code(mode.url, language=None)
        if mode.https:
            st.markdown("The phone will warn that the connection's certificate is not trusted: it was made on "
                        "this computer a moment ago. Check that the address matches the link above, then "
                        "continue. The live camera then works in the phone's browser.")
        else:
            st.markdown("This computer has no `openssl`, so the link is plain HTTP: the phone's browser will "
                        "not allow the live camera there. On the Scan page choose **Upload**: phones offer "
                        "their own camera in the file picker.")


def main() -> None:
    st.title("Settings & privacy")
    done = st.session_state.pop("settings_done", None)
    if done:
        st.success(done)
    try:
        profile = active_profile()
        offline_section()
        phone_section()
        data_section()
        pictures_section(profile)
        delete_section(profile)
    except DatabaseError as exc:
        st.error(str(exc))
    model_card_section()


main()
