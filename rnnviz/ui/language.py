"""The language switch (中文 / English) at the top of every page's sidebar.

Which language a session sees, in order: its own choice in the switch (kept in st.session_state,
so it survives page changes); else ``?lang=zh`` / ``?lang=en`` in the URL; else Chinese when the
browser's locale is Chinese (``st.context.locale`` starts with "zh"); else English. The choice is
written back to the URL on every run (``?lang=``), because st.navigation page switches clear it,
so a copied link opens in the same language.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from rnnviz import i18n

STATE_KEY = "rnnviz_language"
QUERY_KEY = "lang"
LABELS = {"zh": "中文", "en": "English"}  # each in its own language: never translated


def browser_language() -> str:
    locale = st.context.locale
    return "zh" if locale and locale.lower().startswith("zh") else "en"


def initial_language() -> str:
    """A new session's language: the URL's, else the browser's."""
    return i18n.normalise(st.query_params.get(QUERY_KEY)) or browser_language()


def session_language() -> str | None:
    """The language this Streamlit session chose, or None outside a session's script thread.

    The i18n fallback: fragment reruns and widget callbacks run in a fresh context, before (or
    without) app.py's ``choose_language``, and find the session's language here."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    try:
        return st.session_state.get(STATE_KEY)
    except Exception:  # no session state here: plain English
        return None


def choose_language() -> str:
    """Draw the switch at the top of the sidebar and make its language this run's; call it in
    app.py before anything that speaks (page config, navigation)."""
    i18n.set_fallback(session_language)
    if st.session_state.get(STATE_KEY) not in LABELS:
        st.session_state[STATE_KEY] = initial_language()
    st.sidebar.segmented_control(
        "语言 / Language", options=list(LABELS), format_func=LABELS.__getitem__, key=STATE_KEY,
        required=True, label_visibility="collapsed",
    )
    lang = st.session_state[STATE_KEY]
    i18n.set_language(lang)
    if st.query_params.get(QUERY_KEY) != lang:
        st.query_params[QUERY_KEY] = lang
    return lang
