"""Shared page plumbing: the cached database and model, the active profile and its sidebar picker.

Every page calls ``storage()`` and ``active_profile()``; the scan page calls ``segmenter()``
(the model, loading in the background since app.py called ``start_model_loading()``). The
picker (``profile_sidebar``) is drawn by app.py; a page run on its own (``AppTest.from_file``) uses
the first profile. Nothing else about the session lives here.
"""
from __future__ import annotations

import re

import streamlit as st

from skin_app.config import settings
from skin_app.errors import UserFacingError
from skin_app.limits import PROFILE_NAME_MAX
from skin_app.storage import DatabaseError, Profile, Storage

PROFILE = "profile_id"            # session key of the active profile's id
PICK = "profile_pick"             # the sidebar picker's widget key
PROFILE_PARAM = "profile"         # the active profile's id in the page address, so a reload keeps it


@st.cache_resource(show_spinner=False)
def _open_storage(path: str | None) -> Storage:
    """Opens the database and brings every stored scan onto the current score calibration (without a
    calibration file, scans stay as stored: the Scan page says what is missing)."""
    from skin_app.scan.calibration import CalibrationMissingError, load_calibration
    db = Storage(path)
    try:
        cal = load_calibration()
    except CalibrationMissingError:
        return db
    db.rescore_scans(cal.scored_by, cal.rescore_legacy)
    return db


def storage() -> Storage:
    """The database, opened once per process. Stops the page with a clear message if it is unusable."""
    try:
        return _open_storage(str(settings().database))
    except DatabaseError as exc:
        st.error(str(exc))
        st.stop()


def _preloader(path: str | None):
    from skin_app.scan.preload import shared
    return shared(path)


def start_model_loading() -> None:
    """Starts loading the skin model in the background (once per process); app.py calls it at start."""
    _preloader(str(settings().model))


def segmenter():
    """(the segmentation model, seconds this call waited for it to finish loading); (None, 0) with a
    message shown if it cannot load."""
    from skin_app.scan.segmentation import ModelMissingError
    loader = _preloader(str(settings().model))
    try:
        if loader.ready:
            return loader.get()
        with st.spinner("Finishing loading the skin model (once per start)…"):
            return loader.get()
    except ModelMissingError as exc:
        st.error(f"The skin model cannot be loaded: {exc}")
        return None, 0.0


def active_profile() -> Profile:
    """The profile picked in the sidebar; a first run creates one called "Me"."""
    db = storage()
    try:
        profiles = db.profiles_or_first("Me")
    except DatabaseError as exc:
        st.error(str(exc))
        st.stop()
    wanted = st.session_state.get(PROFILE)
    if wanted is None:                         # a new session (a reload, a new tab): the address, else the last used
        wanted = _profile_in_address() or _last_used()
    chosen = next((p for p in profiles if p.id == wanted), profiles[0])
    st.session_state[PROFILE] = chosen.id
    _remember(chosen.id)
    return chosen


def _last_used_file():
    """Beside the database: the id of the profile used last, so a new tab opens it (not the first by name)."""
    db = settings().database
    return db.with_name(db.name + ".last-profile")


def _last_used() -> int | None:
    try:
        return int(_last_used_file().read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _remember(profile_id: int) -> None:
    if _last_used() == profile_id:
        return
    try:
        _last_used_file().write_text(str(profile_id), encoding="ascii")
    except OSError:                            # a read-only folder: a new tab opens the first profile, as before
        pass


def _profile_in_address() -> int | None:
    try:
        return int(st.query_params.get(PROFILE_PARAM, ""))
    except ValueError:
        return None


def _picked() -> None:
    st.session_state[PROFILE] = st.session_state[PICK]


def _add_profile() -> None:
    name = st.session_state.get("profile_new_name", "")
    try:
        profile = storage().create_profile(name)
    except UserFacingError as exc:
        st.session_state["profile_add_problem"] = str(exc)
        return
    st.session_state[PROFILE] = profile.id
    st.session_state["profile_new_name"] = ""


def profile_sidebar() -> Profile:
    """Pick or add a profile in the sidebar. Every page then shows only that profile's data."""
    current = active_profile()
    profiles = storage().list_profiles()
    names = {p.id: p.name for p in profiles}
    st.session_state[PICK] = current.id
    if st.query_params.get(PROFILE_PARAM) != str(current.id):
        st.query_params[PROFILE_PARAM] = str(current.id)
    with st.sidebar:
        st.selectbox("Profile", list(names), format_func=lambda pid: names.get(pid, "?"), key=PICK,
                     on_change=_picked, help="Each person in the family keeps their own scans, shelf and routines.")
        with st.expander("Add a profile"):
            # A form sends the typed name with the click: a plain text box commits on blur, and a click right
            # after typing can be lost on a busy computer or a phone (Streamlit issues #8725, #10007).
            with st.form("profile_add_form", border=False):
                st.text_input("Name", key="profile_new_name", max_chars=PROFILE_NAME_MAX)
                st.form_submit_button("Add", key="profile_add", on_click=_add_profile)
            problem = st.session_state.pop("profile_add_problem", None)
            if problem:
                st.warning(plain(problem))                # may quote the typed name
        st.caption("Everything stays on this computer.")
    return current


def page_link(page: str, label: str, icon: str | None = None) -> None:
    """A link to another page when running under app.py's navigation; plain text when a page runs alone."""
    try:
        st.page_link(page, label=label, icon=icon)
    except Exception:  # noqa: BLE001 - no navigation (a page run on its own, or AppTest.from_file)
        st.caption(f"→ {label}")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
# GitHub-flavoured Markdown turns bare addresses into links after escapes are read ("http\://x.y" still
# becomes a link to http://x.y), so a zero-width space goes where the address would start.
_AUTOLINK_START = re.compile(r"(?i)(?<=:)(?=//)|(?<=\bwww)(?=\\?\.)|(?<=@)")


def plain(text: str) -> str:
    """A person's own text (a profile name, a note) inside Markdown: shown literally, never as markup,
    and never as a link."""
    flat = _AUTOLINK_START.sub("\u200b", " ".join(str(text).split()))
    return _MD_SPECIAL.sub(r"\\\1", flat)


# Streamlit's camera widget, when the browser blocks the camera, links to docs.streamlit.io ("Learn how
# to allow access"). The app makes no outside connection and sends no one away: that link is hidden
# and the advice is given here instead.
NO_OUTSIDE_LINKS_IN_CAMERA = "<style>[data-testid='stCameraInput'] a[href^='http'] {display: none !important;}</style>"
CAMERA_ADVICE = ("If the picture stays dark, allow this page to use the camera: click the camera or lock icon in "
                 "the browser's address bar, choose Allow, then reload the page.")


def camera_input(label: str, key: str):
    """``st.camera_input`` without Streamlit's outside help link, with our own advice instead."""
    st.html(NO_OUTSIDE_LINKS_IN_CAMERA)
    return st.camera_input(label, key=key, help=CAMERA_ADVICE)


def viewer_zone_name() -> str:
    """The browser's time zone (``st.context.timezone``) when it tells us one this system knows, else UTC."""
    from skin_app.routines.schedule import is_known_timezone
    try:
        zone = st.context.timezone
    except Exception:  # noqa: BLE001 - no browser (tests)
        zone = None
    return zone if isinstance(zone, str) and is_known_timezone(zone) else "UTC"


def viewer_zone():
    """The browser's time zone as a ``ZoneInfo`` (see ``viewer_zone_name``)."""
    from zoneinfo import ZoneInfo
    return ZoneInfo(viewer_zone_name())


def concern_picker(key: str, label: str = "Show on the photo", concerns=None):
    """Per-concern overlay toggles (all on at first) over ``concerns`` (default: all; a view offers only
    what it scores); returns the chosen concern keys in display order."""
    from skin_app.concerns import CONCERN_LABELS, SCORED
    from skin_app.scan.overlay import CONCERN_COLOURS
    dots = {"acne": ":red[●]", "flek": ":orange[●]", "wrinkle": ":blue[●]", "panda_eye": ":violet[●]",
            "redness": ":green[●]"}   # overlay colours
    assert set(dots) == set(SCORED) and set(SCORED) <= set(CONCERN_COLOURS)
    offered = [c for c in SCORED if concerns is None or c in concerns]
    chosen = st.pills(label, offered, selection_mode="multi", default=offered, key=key,
                      format_func=lambda c: f"{dots[c]} {CONCERN_LABELS[c]}")
    return [c for c in offered if c in (chosen or [])]


# Score boxes' labels wrap instead of being cut ("Dark s..." and "Dark ci..." are the two easiest to
# confuse); our own fixed CSS, on every page that draws st.metric.
LABELS_IN_FULL = """<style>
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
</style>"""


def labels_in_full() -> None:
    st.html(LABELS_IN_FULL)
