"""Projector mode: the same page and state, with the sidebar's settings hidden and everything larger."""
from __future__ import annotations

import streamlit as st

from rnnviz.i18n import _

PRESENT_KEY = "present"
CHART_FONT_SIZE = 20  # figures use 15 px; the back row needs more
CHART_HEIGHT_SCALE = 1.2

# Streamlit's own test ids: stable across the 1.x series, and checked by a browser test.
PROJECTOR_CSS = """
<style>
  section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
  [data-testid="stExpandSidebarButton"] { display: none !important; }
  html { font-size: 19px; }
  .katex-display { overflow-x: auto; overflow-y: hidden; }
  .stMainBlockContainer { max-width: 100%; padding: 3.5rem 2rem 2rem 2rem; }  /* clear of the header bar */
  .stMarkdown p, .stMarkdown li, .stCaption { font-size: 1.15rem; }
</style>
"""


def projector_mode() -> bool:
    """The projector toggle at the top of every page (and ``?present=1``); True when on."""
    if PRESENT_KEY not in st.session_state:
        st.session_state[PRESENT_KEY] = st.query_params.get(PRESENT_KEY, "") in ("1", "true", "yes")
    with st.container(horizontal=True, horizontal_alignment="right"):
        on = st.toggle(_("Projector mode"), key=PRESENT_KEY, help=_(
            "Hide the settings and enlarge text and charts for the back row. The page and its model stay the same."))
    if on:
        st.query_params[PRESENT_KEY] = "1"
        st.html(PROJECTOR_CSS)
    elif PRESENT_KEY in st.query_params:
        del st.query_params[PRESENT_KEY]
    return on


def presenting() -> bool:
    return bool(st.session_state.get(PRESENT_KEY))


def for_projector(fig):
    """Larger text and taller charts while presenting; the figure unchanged otherwise."""
    if not presenting():
        return fig
    height = fig.layout.height
    fig.update_layout(font={"size": CHART_FONT_SIZE},
                      **({"height": int(height * CHART_HEIGHT_SCALE)} if height else {}))
    return fig
