"""Shared page plumbing: the cached database handle and the active profile.

Every page calls ``storage()`` and ``active_profile()``; nothing else about the session lives here.
"""
from __future__ import annotations

import streamlit as st

from skin_app.storage import DatabaseError, Profile, Storage


@st.cache_resource(show_spinner=False)
def _open_storage(path: str | None) -> Storage:
    return Storage(path)


def storage() -> Storage:
    """The database, opened once per process. Stops the page with a clear message if it is unusable."""
    import os
    try:
        return _open_storage(os.environ.get("SKINGORITHM_DB"))
    except DatabaseError as exc:
        st.error(str(exc))
        st.stop()


def active_profile() -> Profile:
    """The profile picked in the sidebar; a first run creates one called "Me"."""
    db = storage()
    profiles = db.list_profiles()
    if not profiles:
        profiles = [db.create_profile("Me")]
    wanted = st.session_state.get("profile_id")
    for p in profiles:
        if p.id == wanted:
            return p
    st.session_state["profile_id"] = profiles[0].id
    return profiles[0]
