"""Home: what an RNN is, and a card per lesson."""
import streamlit as st

from rnnviz import ui
from rnnviz.i18n import N_, _, translate

# plotly.js loads while the student reads this page: the lesson opened next draws its charts at once.
# (Not on the lesson pages: there it would compete with the page's own first render.)
ui.preload_plotly()

st.title(_("rnnviz: watch recurrent networks learn"))
st.markdown(_(
    "A **recurrent neural network** reads a sequence one element at a time. It keeps a "
    "**hidden state** $h_t$, a vector that summarises everything read so far, and updates it "
    "with the same weights at every step. From $h_t$ it predicts an output, such as the next "
    "character or the language of a name. Here you train small RNNs live and watch their "
    "hidden states, their predictions and their gradients change."
))
st.latex(r"h_t = \tanh\left(x_t W_{xh} + h_{t-1} W_{hh} + b_h\right) \qquad o_t = h_t W_{hq} + b_q")
st.caption(_(
    "x_t: the input at step t (a one-hot vector or an embedding); W_xh, W_hh, b_h: the weights "
    "shared by every step; o_t: the output scores, turned into probabilities by a softmax."
))

st.subheader(_("Lessons"))
LESSONS = [
    (N_("Sequence basics"), "app_pages/sequence_basics.py",
     N_("Alphabet next letter, hello → ohlol, hello → elloh: a from-scratch RNN, nn.RNNCell, nn.RNN, "
        "embeddings, LSTM and GRU, trained in seconds.")),
    (N_("Names → nationality"), "app_pages/names.py",
     N_("Which of 18 languages is a surname from? Type a name and watch the belief shift letter by letter.")),
    (N_("Character language model"), "app_pages/charlm.py",
     N_("Learn lyrics or Shakespeare character by character; perplexity, clipping, and continuing a prefix.")),
    (N_("Inside the RNN"), "app_pages/inside_shapes_gates.py",
     N_("Shapes, gates and gradients through time: why vanilla RNNs forget and how LSTM, GRU and clipping help. "
        "Three pages: shapes and gates, gradients through time, exploding gradients and clipping.")),
]
for row_start in range(0, len(LESSONS), 2):
    for column, (title, page, blurb) in zip(st.columns(2), LESSONS[row_start : row_start + 2]):
        with column.container(border=True):
            st.markdown(f"#### {translate(title)}")
            st.write(translate(blurb))
            if page:
                st.page_link(page, label=_("Open {title}", title=translate(title)), icon=":material/arrow_forward:")
            else:
                st.badge(_("Coming soon"), color="gray")
