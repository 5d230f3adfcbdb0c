"""rnnviz: entry point. Page config, navigation over pages/, nothing heavy."""
import streamlit as st

from rnnviz.runtime import configure_torch

st.set_page_config(page_title="rnnviz · RNNs trained live", page_icon=":material/cycle:", layout="wide")
configure_torch()

# Pages keep their default URL (the file name): Streamlit matches a URL opened directly against
# the files in pages/ before st.navigation runs, so a custom url_path shows "Page not found".
navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/sequence_basics.py", title="Sequence basics", icon=":material/text_rotation_none:"),
    ]
)
st.sidebar.caption("rnnviz: recurrent networks, trained live in your browser.")
navigation.run()
