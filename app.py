"""SkinGorithm: ``streamlit run app.py``. Navigation over the pages in app_pages/, the profile picker,
and the resources built once per process (app_pages/common.py: the database; the model, which starts
loading in the background as soon as the app starts, so the first scan does not wait for it)."""
from __future__ import annotations

import streamlit as st

from app_pages.common import profile_sidebar, start_model_loading

st.set_page_config(page_title="SkinGorithm", page_icon="🫧", layout="wide")

navigation = st.navigation([
    st.Page("app_pages/scan.py", title="Scan", icon=":material/photo_camera:", default=True),
    st.Page("app_pages/progress.py", title="Progress", icon=":material/monitoring:"),
    st.Page("app_pages/ingredients.py", title="Ingredients", icon=":material/science:"),
    st.Page("app_pages/routine.py", title="Routine", icon=":material/alarm:"),
    st.Page("app_pages/settings.py", title="Settings & privacy", icon=":material/lock:"),
])
start_model_loading()
profile_sidebar()
navigation.run()
