"""SkinGorithm: ``streamlit run app.py``. Navigation over the pages in app_pages/, the profile picker,
and the resources built once per process (database: app_pages/common.py; model: loaded on first scan)."""
from __future__ import annotations

import streamlit as st

from app_pages.common import profile_sidebar

st.set_page_config(page_title="SkinGorithm", page_icon="🫧", layout="wide")

navigation = st.navigation([
    st.Page("app_pages/scan.py", title="Scan", icon=":material/photo_camera:", default=True),
    st.Page("app_pages/progress.py", title="Progress", icon=":material/monitoring:"),
    st.Page("app_pages/ingredients.py", title="Ingredients", icon=":material/science:"),
    st.Page("app_pages/routine.py", title="Routine", icon=":material/alarm:"),
    st.Page("app_pages/settings.py", title="Settings & privacy", icon=":material/lock:"),
])
profile_sidebar()
navigation.run()
