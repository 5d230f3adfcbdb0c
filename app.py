"""rnnviz: entry point. Language, page config, navigation over app_pages/, nothing heavy."""
# First of all, before the imports below start threads: glibc fixes its limit on malloc arenas once
# there are nine of them (see rnnviz.core.memory).
from rnnviz.core.memory import configure_malloc

configure_malloc()

# pandas imported once, before any session runs: plotly reaches for pandas in sys.modules without
# importing it, and a page that builds a figure while another session is halfway through importing
# pandas fails ("partially initialized module 'pandas'"). Seen under load on a cold server.
import pandas  # noqa: F401
import streamlit as st

from rnnviz import ui
from rnnviz.i18n import _

# First, so that everything below speaks it: the sidebar switch, else ?lang=, else the browser's locale.
ui.choose_language()
st.set_page_config(page_title=_("rnnviz · RNNs trained live"), page_icon=":material/cycle:", layout="wide")
ui.server_setup()

# The lesson files live in app_pages/, not pages/: Streamlit treats a pages/ folder as a legacy
# multipage app, and a visitor opening a lesson's URL on a fresh server would get that file run
# alone (no page config, no navigation). Each page's URL is its file name (/sequence_basics, ...),
# whatever the language of its title.
navigation = st.navigation(
    {
        "": [st.Page("app_pages/home.py", title=_("Home"), icon=":material/home:", default=True)],
        _("Lessons"): [
            st.Page("app_pages/sequence_basics.py", title=_("Sequence basics"), icon=":material/text_rotation_none:"),
            st.Page("app_pages/names.py", title=_("Names → nationality"), icon=":material/translate:"),
            st.Page("app_pages/charlm.py", title=_("Character language model"), icon=":material/edit_note:"),
        ],
        _("Inside the RNN"): [
            st.Page("app_pages/inside_shapes_gates.py", title=_("Shapes and gates"), icon=":material/view_in_ar:"),
            st.Page("app_pages/inside_gradients.py", title=_("Gradients through time"),
                    icon=":material/trending_down:"),
            st.Page("app_pages/inside_clipping.py", title=_("Exploding gradients, clipping"),
                    icon=":material/content_cut:"),
        ],
    }
)
st.sidebar.caption(_("rnnviz: recurrent networks, trained live in your browser."))
ui.projector_mode()
with ui.page_run():  # training slices yield to page runs (a student opening a page)
    navigation.run()
