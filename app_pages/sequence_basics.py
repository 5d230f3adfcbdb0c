"""Lesson 1: toy sequences (alphabet, hello → ohlol, hello → elloh, your own pair)."""
import numpy as np
import streamlit as st

from rnnviz import ui
from rnnviz.core.shapes import cell_shapes, fused_shapes
from rnnviz.core.trace import Trace
from rnnviz.data.tasks import SPLIT_MODES, builtin_tasks, validate_custom_pair
from rnnviz.i18n import N_, _, pgettext, translate
from rnnviz.lessons.sequence import (
    MODEL_PRESETS,
    SequenceLesson,
    SequenceLessonConfig,
    generalisation_experiment,
)
from rnnviz.viz import replay, softmax, states

KEY = "sequence_basics"
TASK_TITLES = {key: task.title for key, task in builtin_tasks().items()} | {"custom": N_("Your own pair of strings")}
SPEEDS = {1: N_("1 epoch"), 5: N_("5 epochs"), 20: N_("20 epochs"), 100: N_("100 epochs"), 0: N_("as many as fit")}
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
CLIP_THRESHOLDS = [0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0]

ui.lesson_header(
    _("Sequence basics"),
    _("An RNN reads one character at a time and, at every step, outputs scores for the next "
      "character. The same weights are used at every step; only the hidden state $h_t$ changes. "
      "Pick a task and a model in the sidebar, press **Train**, and watch the prediction converge."),
    r"h_t = \tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h), \quad "
    r"\hat{y}_t = \mathrm{softmax}(h_t W_{hq} + b_q), \quad "
    r"L = -\tfrac{1}{T}\textstyle\sum_t \log \hat{y}_{t}[y_t]",
)


def gate_label(name: str) -> str:
    """A gate's name from rnnviz.core.cells.GATE_NAMES, for display."""
    labels = {
        "input gate i": pgettext("gate", "input gate i"),
        "forget gate f": pgettext("gate", "forget gate f"),
        "candidate g": pgettext("gate", "candidate g"),
        "output gate o": pgettext("gate", "output gate o"),
        "reset gate r": pgettext("gate", "reset gate r"),
        "update gate z": pgettext("gate", "update gate z"),
        "candidate n": pgettext("gate", "candidate n"),
    }
    return labels.get(name, name)


def read_settings() -> tuple[SequenceLessonConfig, str | None, int | None]:
    """Sidebar widgets → the lesson config, a message if the input is unusable, and the speed."""
    sb = st.sidebar
    # Labels translated now, into a dict: a format_func is also called outside the script run (AppTest)
    task_titles = {k: translate(v) for k, v in TASK_TITLES.items()}
    sb.header(_("Task"))
    task_key = sb.radio(_("Sequence task"), list(TASK_TITLES), format_func=task_titles.__getitem__, index=1, key="sb_task")
    custom_input = custom_target = ""
    problem = None
    if task_key == "custom":
        custom_input = sb.text_input(_("Input string"), "hihell", key="sb_custom_input")
        custom_target = sb.text_input(_("Target string (same length)"), "ihello", key="sb_custom_target")
        problem = validate_custom_pair(custom_input, custom_target)
    sb.header(_("Model"))
    preset_labels = {k: translate(p.label) for k, p in MODEL_PRESETS.items()}
    preset = sb.selectbox(_("Model"), list(MODEL_PRESETS), format_func=preset_labels.__getitem__,
                          index=list(MODEL_PRESETS).index("rnn"), key="sb_preset")
    hidden_size = sb.slider(_("Hidden size"), 1, 64, 4, key="sb_hidden")
    num_layers = sb.radio(_("Layers"), [1, 2], horizontal=True, key="sb_layers")
    embedding_dim = 8
    if MODEL_PRESETS[preset].embedding:
        embedding_dim = sb.slider(_("Embedding size"), 1, 32, 8, key="sb_embedding")
    sb.header(_("Training"))
    optimizer = sb.radio(_("Optimizer"), list(ui.OPTIMIZER_LABELS), format_func=ui.OPTIMIZER_LABELS.get,
                         horizontal=True, key="sb_opt")
    learning_rate = sb.select_slider(_("Learning rate"), LEARNING_RATES, value=0.1, key="sb_lr")
    clip_on = sb.toggle(_("Clip the gradient norm"), value=False, key="sb_clip_on")
    clip = sb.select_slider(_("Clip threshold"), CLIP_THRESHOLDS, value=1.0, key="sb_clip") if clip_on else None
    seed = sb.number_input(_("Seed"), min_value=0, max_value=2**31 - 1, value=0, step=1, key="sb_seed")
    speed = sb.select_slider(_("Speed: epochs per update"), list(SPEEDS), value=5,
                             format_func={n: translate(v) for n, v in SPEEDS.items()}.__getitem__, key="sb_speed",
                             help=_("Slow it down to watch the prediction change; speed it up to train long runs."))
    config = SequenceLessonConfig(
        task_key=task_key, custom_input=custom_input, custom_target=custom_target, preset=preset,
        hidden_size=int(hidden_size), num_layers=int(num_layers), embedding_dim=int(embedding_dim),
        seed=int(seed), optimizer=optimizer, learning_rate=float(learning_rate), clip_threshold=clip,
    )
    return config, problem, speed or None  # 0 means no cap


def render_live(lesson: SequenceLesson) -> None:
    snap = lesson.snapshot()
    predicted, target = snap["predicted"], snap["target"]
    if snap["last_loss"] is None:
        st.markdown(_("### Predicted: `{predicted}` (untrained)\ntarget `{target}`: press **Train**",
                      predicted=predicted, target=target))
    else:
        verdict = _(":green[:material/check_circle: matches the target]") if predicted == target else ""
        st.markdown(_(
            "### Predicted: `{predicted}` {verdict}\n"
            "epoch **{step}** · loss **{loss:.3f}** · accuracy **{accuracy:.0%}** · target `{target}`",
            predicted=predicted, verdict=verdict, step=snap["step"], loss=snap["last_loss"],
            accuracy=snap["last_accuracy"], target=target))
    ui.training_charts(snap, key=KEY)
    if snap["clipped_count"]:
        st.caption(_("Gradient clipped on {clipped} of {steps} steps.", clipped=snap["clipped_count"], steps=snap["step"]))
    show_live_internals(lesson)


def show_live_internals(lesson: SequenceLesson) -> None:
    """The display sequence's softmax and h_t, redrawn with every tick: watch them sharpen."""
    task = lesson.task
    tr = lesson.trace_display()
    chars = list(task.display_input)
    left, right = st.columns(2)
    with left:
        ui.live_chart(lambda: softmax.softmax_heatmap(
            tr.probs, task.vocab, chars, targets=task.encode(task.display_target),
            title=_("Softmax at each step, now (reading “{text}”)", text=task.display_input)),
            key=f"{KEY}_live_softmax", depends_on=task.display_input)
    with right:
        ui.live_chart(lambda: states.hidden_state_heatmap(tr.hidden_states[-1], chars, animate=False,
                                                          title=_("Hidden state h_t, now (top layer)")),
                      key=f"{KEY}_live_hidden", depends_on=task.display_input)


def show_hidden_states(lesson: SequenceLesson, tr: Trace) -> None:
    chars = list(lesson.task.display_input)
    text = lesson.task.display_input
    for layer in range(lesson.model.config.num_layers):
        if tr.hidden_states.shape[0] > 1:
            title = _("Hidden state h_t (layer {layer}) while reading “{text}”", layer=layer + 1, text=text)
        else:
            title = _("Hidden state h_t while reading “{text}”", text=text)
        ui.chart(states.hidden_state_heatmap(tr.hidden_states[layer], chars, title=title),
                 key=f"{KEY}_hidden_{layer}")
    if tr.cell_states is not None:
        limit = max(1.0, float(np.abs(tr.cell_states[-1]).max()))
        ui.chart(states.hidden_state_heatmap(tr.cell_states[-1], chars, title=_("LSTM cell state c_t (top layer)"),
                                              value_range=(-limit, limit)), key=f"{KEY}_cell")
    if tr.gates:
        gate_labels = {name: gate_label(name) for name in tr.gates}
        gate = st.radio(_("Gate"), list(tr.gates), format_func=gate_labels.__getitem__, horizontal=True,
                        key=f"{KEY}_gate")
        in_01 = not gate.startswith("candidate")
        ui.chart(states.hidden_state_heatmap(
            tr.gates[gate][-1], chars, title=_("{gate} at each step (top layer)", gate=gate_labels[gate]),
            value_range=(0.0, 1.0) if in_01 else (-1.0, 1.0), colorscale="Viridis" if in_01 else "RdBu_r"),
            key=f"{KEY}_gates")
    st.caption(_("Press ▶ on a chart to replay how the hidden state fills in, one character at a time. "
                 "Colour means the same value in every frame (−1 blue, 0 white, +1 red)."))


def show_softmax(lesson: SequenceLesson, tr: Trace) -> None:
    task = lesson.task
    chars, targets = list(task.display_input), task.encode(task.display_target)
    st.markdown(_("Loss on this sequence: **{loss:.4f}**. □ marks the target, ◇ the model's choice.", loss=tr.loss))
    ui.chart(softmax.softmax_heatmap(tr.probs, task.vocab, chars, targets=targets,
                                     title=_("Softmax at each step while reading “{text}”", text=task.display_input)),
             key=f"{KEY}_softmax")
    ui.chart(softmax.softmax_bars(tr.probs, task.vocab, chars, targets=targets,
                                  title=_("Output distribution at each step (target in orange)")),
             key=f"{KEY}_bars")


def show_try_it(lesson: SequenceLesson) -> None:
    task = lesson.task
    default = "m" if task.key == "alphabet" else task.display_input[:3]
    typed = st.text_input(_("Type one character or a string; the model reads it from an empty state"),
                          default, max_chars=200, key=f"{KEY}_typed_{task.key}")
    if not typed.strip():
        st.info(_("Type something made of the task's characters: {chars}", chars=" ".join(task.vocab)))
        return
    reading = lesson.trace_typed(typed)
    if reading.skipped_chars:
        st.warning(_("Skipped characters the model has no input for: {skipped}. It knows only: {vocab}",
                     skipped=pgettext("list separator", ", ").join(f"“{c}”" for c in reading.skipped_chars),
                     vocab=" ".join(task.vocab)))
    if reading.trace is None:
        return
    rows = []
    probability = _("probability")
    for t, (ch, probs) in enumerate(zip(reading.used_text, reading.trace.probs)):
        top = np.argsort(probs)[::-1][:3]
        rows.append({_("step"): t, _("reads"): ch, _("outputs"): task.vocab[top[0]], probability: float(probs[top[0]]),
                     _("top 3"): ", ".join(f"{task.vocab[i]} {probs[i]:.0%}" for i in top)})
    st.dataframe(rows, hide_index=True, column_config={
        probability: st.column_config.ProgressColumn(probability, min_value=0.0, max_value=1.0, format="%.2f")})
    ui.chart(softmax.softmax_heatmap(reading.trace.probs, task.vocab, list(reading.used_text),
                                     title=_("Softmax at each step while reading “{text}”", text=reading.used_text)),
             key=f"{KEY}_typed_softmax")
    if task.key == "alphabet":
        successors = lesson.successor_predictions()
        letters = task.vocab[:-1]
        right = sum(successors[c] == chr(ord(c) + 1) for c in letters)
        st.markdown(_("**Each letter typed alone → the model's next letter: {right} of {total} right**",
                      right=right, total=len(letters)))
        st.code("  ".join(f"{c}→{successors[c]}" for c in letters), language=None, wrap_lines=True)


def show_shapes(lesson: SequenceLesson) -> None:
    cfg = lesson.model.config
    seq_len, batch = len(lesson.task.display_input), len(lesson.task.inputs)
    if cfg.embedding_dim:
        st.markdown(_(
            "This task feeds **{batch}** sequence(s) of up to **{steps}** steps; each character becomes a "
            "vector of **{size}** numbers (an embedding). "
            "nn.RNN expects (seq_len, batch, input_size) unless `batch_first=True`.",
            batch=batch, steps=seq_len, size=cfg.layer_input_size))
    else:
        st.markdown(_(
            "This task feeds **{batch}** sequence(s) of up to **{steps}** steps; each character becomes a "
            "vector of **{size}** numbers (one-hot). "
            "nn.RNN expects (seq_len, batch, input_size) unless `batch_first=True`.",
            batch=batch, steps=seq_len, size=cfg.layer_input_size))
    batch_first = st.toggle("batch_first=True", value=True, key=f"{KEY}_batch_first")
    cell = cfg.cell_type.upper()
    tensor, shape, meaning = _("tensor"), _("shape"), _("meaning")
    left, right = st.columns(2)
    with left:
        st.markdown(_("**nn.{cell} — whole sequence, {layers} layer(s)**", cell=cell, layers=cfg.num_layers))
        rows = fused_shapes(cfg.cell_type, seq_len, batch, cfg.layer_input_size, cfg.hidden_size,
                            cfg.num_layers, batch_first)
        st.dataframe([{tensor: r.tensor, shape: str(r.shape), meaning: r.meaning} for r in rows],
                     hide_index=True)
    with right:
        st.markdown(_("**nn.{cell}Cell — one step, you write the loop**", cell=cell))
        rows = cell_shapes(cfg.cell_type, batch, cfg.layer_input_size, cfg.hidden_size)
        st.dataframe([{tensor: r.tensor, shape: str(r.shape), meaning: r.meaning} for r in rows],
                     hide_index=True)
    st.markdown(_("**This model's parameters**"))
    st.dataframe([{_("parameter"): name, shape: str(tuple(p.shape)), _("numbers"): p.numel()}
                  for name, p in lesson.model.named_parameters()], hide_index=True)


def show_generalisation(state: ui.LiveSession) -> None:
    st.markdown(_(
        "Train a fresh model (the settings in the sidebar) on some **windows** of the alphabet, e.g. "
        "`abc → bcd`, then ask it about windows it never saw. Does it know “the next letter”, or only the "
        "transitions it was shown?"))
    c1, c2, c3 = st.columns(3)
    window = c1.slider(_("Window length"), 1, 10, 3, key=f"{KEY}_window")
    held_out = c2.slider(_("Share held out"), 0.1, 0.5, 0.3, 0.05, key=f"{KEY}_held_out")
    mode = c3.radio(_("Hold out"), list(SPLIT_MODES), format_func={m: translate(v) for m, v in SPLIT_MODES.items()}.__getitem__, key=f"{KEY}_split")
    if st.button(_("Run the experiment (300 steps)"), key=f"{KEY}_run_generalisation", icon=":material/science:"):
        with st.spinner(_("Training on the training windows…")):
            # through the server's turnstile, like every training slice: a class pressing this at once queues
            ran, result = ui.training_slots().run(lambda: generalisation_experiment(
                state.lesson.config, window=window, held_out_fraction=held_out, mode=mode), wait=15.0)
        if ran:
            state.results["generalisation"] = result
        else:
            st.warning(_("The server is busy training other sessions' models; press the button again in a moment."))
    result = state.results.get("generalisation")
    if result is None:
        return
    if np.isnan(result.train_accuracy):
        st.error(_("Training stopped because the loss became NaN; lower the learning rate and run it again."))
        return
    m1, m2 = st.columns(2)
    m1.metric(_("Accuracy on the {count} training windows", count=len(result.train_windows)),
              f"{result.train_accuracy:.0%}")
    m2.metric(_("Accuracy on the {count} unseen windows", count=len(result.held_out_windows)),
              f"{result.held_out_accuracy:.0%}")
    st.dataframe([{_("unseen window"): w[0], _("target"): w[1], _("model says"): p, _("right"): w[1] == p}
                  for w, p in zip(result.held_out_windows, result.held_out_predictions)], hide_index=True)


@st.fragment
def inside_the_model(state: ui.LiveSession) -> None:
    """A fragment: only the open tab is built and sent (a page opens sooner), and opening another tab
    runs this section, not the page."""
    lesson, task = state.lesson, state.lesson.task
    views = [
        (_("Hidden states"), lambda: show_hidden_states(lesson, lesson.trace_display())),
        (_("Softmax at each step"), lambda: show_softmax(lesson, lesson.trace_display())),
        (_("Replay of training"), lambda: ui.replay_section(
            lesson, lambda frames: replay.sequence_replay(frames, task.vocab, task.display_input),
            key=KEY, file_name=f"rnnviz_{task.key}_replay.html",
            caption=_("Drag the slider (or press ▶) to scrub through training: what the model predicted for "
                      "“{text}” at each snapshot, with its softmax and hidden state then.", text=task.display_input))),
        (_("Try it"), lambda: show_try_it(lesson)),
        (_("Tensor shapes"), lambda: show_shapes(lesson)),
        (_("Generalisation"), lambda: show_generalisation(state)),
    ]
    tabs = st.tabs([label for label, _show in views], key=f"{KEY}_inside_tab", on_change="rerun")
    for tab, (_label, show) in zip(tabs, views):
        if tab.open:
            with tab:
                show()


URL_FIELDS = [
    ui.UrlField("task", "sb_task", ui.choice(list(TASK_TITLES))),
    ui.UrlField("input", "sb_custom_input", ui.text(40)),
    ui.UrlField("target", "sb_custom_target", ui.text(40)),
    ui.UrlField("model", "sb_preset", ui.choice(list(MODEL_PRESETS))),
    ui.UrlField("hidden", "sb_hidden", ui.integer(1, 64)),
    ui.UrlField("layers", "sb_layers", ui.choice([1, 2])),
    ui.UrlField("embedding", "sb_embedding", ui.integer(1, 32)),
    ui.UrlField("optimizer", "sb_opt", ui.choice(list(ui.OPTIMIZER_LABELS))),
    ui.UrlField("lr", "sb_lr", ui.choice(LEARNING_RATES)),
    ui.UrlField("clip", "sb_clip_on", ui.flag),
    ui.UrlField("threshold", "sb_clip", ui.choice(CLIP_THRESHOLDS)),
    ui.UrlField("seed", "sb_seed", ui.integer(0, 2**31 - 1)),
    ui.UrlField("speed", "sb_speed", ui.choice(list(SPEEDS))),
]
url_follows_settings = ui.url_setup(KEY, URL_FIELDS)
config, problem, speed = read_settings()
url_follows_settings()
st.sidebar.divider()
with st.sidebar:
    ui.copy_link_control(URL_FIELDS)
if problem:
    st.error(problem, icon=":material/edit:")
    st.stop()

state = ui.live_lesson(KEY, config, SequenceLesson)

task = state.lesson.task
st.markdown(_("**{title}.** {description}", title=translate(task.title), description=translate(task.description)))
if len(task.vocab) > 2 * config.hidden_size:
    st.caption(_(":material/lightbulb: {count} characters through {hidden} hidden units is a "
                 "tight squeeze: some seeds never get every output right. Try a hidden size of 8 or more.",
                 count=len(task.vocab), hidden=config.hidden_size))
ui.train_section(state, render_live, key=KEY, steps_per_tick=speed)

st.header(_("Inside the model"))
if state.playing:
    st.caption(_("The softmax and h_t above move with every update; these step-by-step animations show the "
                 "model as it was when the page last refreshed (press **Pause** to refresh them)."))
inside_the_model(state)
