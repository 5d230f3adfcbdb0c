"""Inside the RNN: tensor shapes, and the gates of LSTM and GRU step by step."""
import numpy as np
import streamlit as st
import torch

from rnnviz import ui
from rnnviz.core.shapes import cell_shapes, fused_shapes, tensor_label
from rnnviz.core.trace import trace
from rnnviz.i18n import N_, _
from rnnviz.lessons.inside import CELL_STATE, GatesConfig, GatesLesson, panel_label, pca_2d
from rnnviz.viz import inside as fi
from rnnviz.viz import replay
from rnnviz.viz.style import figure

KEY = "inside_shapes"
MAX_GATES_TEXT = 40
COLOURS = {"input": "#9ecae1", "state": "#fdae6b", "output": "#a1d99b"}


def shown_panels(fig, names):
    """``fig`` with its panels' names (English keys: the figure builders choose each panel's colour
    scale from them) shown in the page's language: subplot titles, trace names, hover labels."""
    labels = {name: panel_label(name) for name in names}
    labels = {name: shown for name, shown in labels.items() if shown != name}
    if not labels:
        return fig

    def swap(text: str) -> str:
        for name, shown in labels.items():
            if text in (name, f"<b>{name}</b>") or text.startswith(f"{name}<br>"):
                return text.replace(name, shown, 1)
        return text

    def visit(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str):
                    if key in ("text", "name", "hovertemplate"):
                        node[key] = swap(value)
                else:
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    spec = fig.to_dict()
    visit(spec)
    return figure(spec["data"], spec["layout"], spec.get("frames"))


ui.lesson_header(
    _("Shapes and gates"),
    _("Most RNN bugs are shape bugs. Pick the sizes and see the tensors that go in and out of `nn.RNN` "
      "(the whole sequence at once) and `nn.RNNCell` (one step, you write the loop). Then open the cells and "
      "watch the LSTM's and GRU's gates decide, step by step, what to keep and what to forget."),
)

st.header(_("Tensor shapes"))
c = st.columns(4)
cell_type = c[0].radio(_("Cell"), ["rnn", "lstm", "gru"], format_func=str.upper, horizontal=True, key=f"{KEY}_cell")
seq_len = c[1].number_input("seq_len", 1, 512, 5, key=f"{KEY}_seq")
batch = c[2].number_input("batch", 1, 512, 3, key=f"{KEY}_batch")
input_size = c[3].number_input("input_size", 1, 512, 4, key=f"{KEY}_input")
c = st.columns(4)
hidden_size = c[0].number_input("hidden_size", 1, 512, 6, key=f"{KEY}_hidden")
num_layers = c[1].number_input("num_layers", 1, 4, 1, key=f"{KEY}_layers")
bidirectional = c[2].toggle("bidirectional", key=f"{KEY}_bi")
batch_first = c[3].toggle("batch_first", key=f"{KEY}_bf")
module = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cell_type]
rows = fused_shapes(cell_type, int(seq_len), int(batch), int(input_size), int(hidden_size), int(num_layers),
                    batch_first, bidirectional)
shapes = {r.tensor: r.shape for r in rows}
st.code(
    f"rnn = nn.{module}(input_size={input_size}, hidden_size={hidden_size}, num_layers={num_layers}"
    f"{', bidirectional=True' if bidirectional else ''}{', batch_first=True' if batch_first else ''})\n"
    f"output, {'(h_n, c_n)' if cell_type == 'lstm' else 'h_n'} = rnn(x{', (h_0, c_0)' if cell_type == 'lstm' else ', h_0'})"
    f"   # x: {tuple(shapes['input x'])}", language="python")
blocks = [(tensor_label("input x"), shapes["input x"], COLOURS["input"]), ("h_0", shapes["h_n"], COLOURS["state"]),
          ("output", shapes["output"], COLOURS["output"]), ("h_n", shapes["h_n"], COLOURS["state"])]
if cell_type == "lstm":
    blocks.append(("c_n", shapes["c_n"], COLOURS["state"]))
ui.chart(fi.tensor_blocks(blocks, title=_("nn.{module}: the whole sequence in one call", module=module)),
         key=f"{KEY}_blocks")
step_rows = cell_shapes(cell_type, int(batch), int(input_size), int(hidden_size))
step_shapes = {r.tensor: r.shape for r in step_rows}
step_blocks = [("x_t", step_shapes["x_t"], COLOURS["input"]), ("h_t", step_shapes["h_t"], COLOURS["state"])]
if cell_type == "lstm":
    step_blocks.append(("c_t", step_shapes["c_t"], COLOURS["state"]))
ui.chart(fi.tensor_blocks(step_blocks, title=_("nn.{module}Cell: one step per call, {seq_len} calls for the sequence",
                                                module=module, seq_len=seq_len)),
         key=f"{KEY}_cell_blocks")
with st.expander(_("Every tensor and weight, with what each axis means")):
    st.dataframe([{_("module"): r.module, _("tensor"): tensor_label(r.tensor), _("shape"): str(r.shape),
                   _("meaning"): r.meaning} for r in rows + step_rows], hide_index=True)

st.header(_("Cell anatomy"))
eq = st.columns([1, 1.2, 1.4])
eq[0].markdown(_("**Vanilla RNN**"))
eq[0].latex(r"""\begin{aligned} a_t &= x_t W_{xh} + h_{t-1} W_{hh} + b_h\\ h_t &= \tanh(a_t)\end{aligned}""")
eq[1].markdown("**LSTM**")
eq[1].latex(r"""\begin{aligned} i_t &= \sigma(x_t W_{xi} + h_{t-1} W_{hi} + b_i)\\
f_t &= \sigma(x_t W_{xf} + h_{t-1} W_{hf} + b_f)\\ o_t &= \sigma(x_t W_{xo} + h_{t-1} W_{ho} + b_o)\\
g_t &= \tanh(x_t W_{xg} + h_{t-1} W_{hg} + b_g)\\ c_t &= f_t \odot c_{t-1} + i_t \odot g_t\\
h_t &= o_t \odot \tanh(c_t)\end{aligned}""")
eq[2].markdown(_("**GRU** (PyTorch's form: the reset gate acts after $W_{hn}$)"))
eq[2].latex(r"""\begin{aligned} r_t &= \sigma(x_t W_{xr} + h_{t-1} W_{hr} + b_r)\\
z_t &= \sigma(x_t W_{xz} + h_{t-1} W_{hz} + b_z)\\
n_t &= \tanh\big(x_t W_{xn} + b_{xn}\\ &\qquad + r_t \odot (h_{t-1} W_{hn} + b_{hn})\big)\\
h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}\end{aligned}""")

basics = st.session_state.get("sequence_basics")
choices = {"lstm": _("an LSTM"), "gru": _("a GRU"), "rnn": _("a vanilla RNN")}
if basics is not None and basics.lesson.trainer.step_count:
    choices = {"basics": _("the model you trained in Sequence basics ({cell}, {epochs} epochs)",
                           cell=basics.lesson.model.config.cell_type.upper(),
                           epochs=basics.lesson.trainer.step_count)} | choices
source = st.radio(_("Model"), list(choices), format_func=choices.get, horizontal=True, key=f"{KEY}_source")


def render_gates_live(lesson: GatesLesson) -> None:
    """The gates, cell state and h_t over the text, redrawn as the model learns it."""
    predicted = lesson.predicted_text()
    st.markdown(_("Step **{step}** · reading `{input}` it predicts `{predicted}` (target `{target}`)",
                  step=lesson.step_count, input=lesson.task.display_input, predicted=predicted,
                  target=lesson.task.display_target))
    def gates_now():
        internals = lesson.internals()
        return shown_panels(fi.gate_panel(internals, list(lesson.task.display_input), animate=False,
                                          title=_("The {cell}'s gates, now", cell=lesson.gates_config.cell_type.upper())),
                            internals)

    ui.live_chart(gates_now, key=f"{KEY}_live_gates", depends_on=lesson.task.display_input)


if source == "basics":
    model, vocab = basics.lesson.model, basics.lesson.task.vocab
    text = st.text_input(_("Input"), basics.lesson.task.display_input, max_chars=40, key=f"{KEY}_text_basics")
else:
    text = st.text_input(_("Text to learn (it reads each character and predicts the next)"), "hello world",
                         max_chars=MAX_GATES_TEXT, key=f"{KEY}_text")
    state = ui.live_lesson(f"{KEY}_gates", GatesConfig(cell_type=source, text=text), GatesLesson,
                           notice=N_("New text or cell: the model was re-initialised."))
    st.caption(_("A small model (8 units) learns to predict each next character of your text. Press **Train** "
                 "and watch its gates settle as it learns."))
    ui.train_section(state, render_gates_live, key=f"{KEY}_gates")
    model, vocab = state.lesson.model, state.lesson.task.vocab
    text = state.lesson.task.display_input
lookup = {ch: i for i, ch in enumerate(vocab)}
skipped = sorted({ch for ch in text if ch not in lookup})
if skipped:
    st.warning(_("Skipped characters this model has no input for: {chars}",
                 chars=", ".join(f"“{c}”" for c in skipped)))
used = [ch for ch in text if ch in lookup]
if not used:
    st.info(_("Type some characters the model knows: {chars}",
              chars=" ".join(v if v != " " else "␣" for v in vocab)))
    st.stop()
tokens = torch.tensor([lookup[ch] for ch in used])
tr = trace(model, tokens)
layer = -1
panels = {name: tr.gates[name][layer] for name in tr.gates}
if tr.cell_states is not None:
    panels[CELL_STATE] = tr.cell_states[layer]
panels["h_t"] = tr.hidden_states[layer]
ui.chart(shown_panels(fi.gate_panel(panels, used, title=_("Step by step: the {cell} reading “{text}” (press ▶)",
                                                         cell=model.config.cell_type.upper(), text="".join(used))),
                      panels), key=f"{KEY}_gates")
with torch.no_grad():
    fast_logits, fast_state = model(tokens[None])
logit_gap = float(np.abs(fast_logits[0].numpy() - tr.logits).max())
state_gap = float(np.abs(fast_state[0][:, 0].numpy() - tr.final_state[0][:, 0].numpy()).max())
st.success(_("From-scratch equations vs PyTorch's {implementation} module on this input: "
             "max |difference| {logit_gap:.1e} in the outputs and {state_gap:.1e} in the final hidden state.",
             implementation=model.config.implementation, logit_gap=logit_gap, state_gap=state_gap),
           icon=":material/check:")

if source != "basics":
    st.subheader(_("Replay of training"))
    ui.replay_section(
        state.lesson, lambda frames: shown_panels(replay.panels_replay(
            frames, text, title=_("Replay of training: the gates reading “{text}”", text=text),
            note_of=lambda f: _("step {step}: predicts “{predicted}”", step=f.step, predicted=f.values["predicted"])),
            frames[-1].arrays),
        key=f"{KEY}_gates", file_name="rnnviz_gates_replay.html",
        caption=_("The gates, cell state and h_t at each snapshot of training, on one colour scale per row."))

st.subheader(_("The hidden state's path"))
projection = pca_2d(tr.hidden_states[layer])
ui.chart(fi.pca_trajectory(projection.points, used, projection.explained,
                           title=_("h_t projected onto its two main directions (PCA), step by step")),
         key=f"{KEY}_pca")
