"""rnnviz: entry point. Page config, navigation over app_pages/, nothing heavy."""
# pandas imported once, before any session runs: plotly reaches for pandas in sys.modules without
# importing it, and a page that builds a figure while another session is halfway through importing
# pandas fails ("partially initialized module 'pandas'"). Seen under load on a cold server.
import pandas  # noqa: F401
import streamlit as st

from rnnviz import ui

st.set_page_config(page_title="rnnviz · RNNs trained live", page_icon=":material/cycle:", layout="wide")
ui.server_setup()

# The lesson files live in app_pages/, not pages/: Streamlit treats a pages/ folder as a legacy
# multipage app, and a visitor opening a lesson's URL on a fresh server would get that file run
# alone (no page config, no navigation). Each page's URL is its file name (/sequence_basics, ...).
navigation = st.navigation(
    {
        "": [st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True)],
        "Lessons": [
            st.Page("app_pages/sequence_basics.py", title="Sequence basics", icon=":material/text_rotation_none:"),
            st.Page("app_pages/names.py", title="Names → nationality", icon=":material/translate:"),
            st.Page("app_pages/charlm.py", title="Character language model", icon=":material/edit_note:"),
        ],
        "Inside the RNN": [
            st.Page("app_pages/inside_shapes_gates.py", title="Shapes and gates", icon=":material/view_in_ar:"),
            st.Page("app_pages/inside_gradients.py", title="Gradients through time", icon=":material/trending_down:"),
            st.Page("app_pages/inside_clipping.py", title="Exploding gradients, clipping", icon=":material/content_cut:"),
        ],
    }
)
st.sidebar.caption("rnnviz: recurrent networks, trained live in your browser.")
ui.projector_mode()
with ui.page_run():  # training slices yield to page runs (a student opening a page)
    navigation.run()
