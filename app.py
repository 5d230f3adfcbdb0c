"""rnnviz: entry point. Page config, navigation over pages/, nothing heavy."""
import streamlit as st

from rnnviz.runtime import configure_torch

st.set_page_config(page_title="rnnviz · RNNs trained live", page_icon=":material/cycle:", layout="wide")
configure_torch()

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/sequence_basics.py", title="Sequence basics", icon=":material/text_rotation_none:",
                url_path="sequence-basics"),
    ]
)
st.sidebar.caption("rnnviz: recurrent networks, trained live in your browser.")
navigation.run()
