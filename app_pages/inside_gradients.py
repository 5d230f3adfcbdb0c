"""Inside the RNN: gradients through time. Vanilla RNN vs LSTM vs GRU, and the spectral radius."""
import dataclasses

import numpy as np
import streamlit as st

from rnnviz import ui
from rnnviz.i18n import N_, _, translate
from rnnviz.lessons.inside import (
    MAX_DELAY,
    RaceConfig,
    RaceLesson,
    RememberFirstTask,
    build_model,
    eigenvalues,
    radius_profiles,
    run_label,
)
from rnnviz.viz import inside as fi
from rnnviz.viz import replay

KEY = "inside_gradients"

ui.lesson_header(
    _("Gradients through time"),
    _("To learn from step $T$ that something at step $t$ mattered, the gradient must flow back through every "
      "step in between. Each step multiplies it by the Jacobian $\\partial h_{s}/\\partial h_{s-1}$. In a "
      "vanilla RNN that is $\\mathrm{diag}(1-h_s^2)\\,W_{hh}^\\top$, so the gradient shrinks or grows "
      "geometrically: it **vanishes** or **explodes**. LSTM and GRU add a path (the cell state, the "
      "update gate) along which it can survive."),
    r"\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_T}\prod_{s=t+1}^{T}"
    r"\frac{\partial h_s}{\partial h_{s-1}}, \qquad \frac{\partial h_s}{\partial h_{s-1}} = "
    r"\operatorname{diag}(1-h_s^2)\,W_{hh}^{\top}",
)

st.header(_("The race: remember the first symbol"))
task = RememberFirstTask()
st.markdown(_(
    "Each sequence starts with one of {symbols}, followed by k random distractors "
    "({distractors}) and a '?'. At the '?' the model must name the first symbol. "
    "Chance is {chance:.0%}. Try k = 5, then 15, then 40.",
    symbols=", ".join(task.symbols), distractors=", ".join(task.distractors), chance=1 / task.num_classes,
))
URL_FIELDS = [
    ui.UrlField("delay", f"{KEY}_delay", ui.integer(1, MAX_DELAY)),
    ui.UrlField("hidden", f"{KEY}_hidden", ui.choice([8, 16, 32, 64])),
    ui.UrlField("seed", f"{KEY}_seed", ui.integer(0, 10_000)),
    ui.UrlField("optimizer", f"{KEY}_optimizer", ui.choice(list(ui.OPTIMIZER_LABELS))),
    ui.UrlField("clip", f"{KEY}_clip", ui.choice(["off", 0.1, 1.0, 10.0])),
]
url_follows_settings = ui.url_setup(KEY, URL_FIELDS)
c1, c2, c3 = st.columns(3)
delay = c1.slider(_("Distractor steps k"), 1, MAX_DELAY, 15, key=f"{KEY}_delay")
hidden = c2.select_slider(_("Hidden size"), [8, 16, 32, 64], value=32, key=f"{KEY}_hidden")
seed = c3.number_input(_("Seed (same for all three)"), 0, 10_000, 0, key=f"{KEY}_seed")
c1, c2, c3 = st.columns(3)
optimizer = c1.radio(_("Optimizer"), list(ui.OPTIMIZER_LABELS), format_func=ui.OPTIMIZER_LABELS.get,
                     horizontal=True, key=f"{KEY}_optimizer",
                     help=_("Adam rescales each weight's gradient, which partly hides vanishing; SGD does not."))
rates = [0.001, 0.003, 0.01, 0.03, 0.1] if optimizer == "adam" else [0.03, 0.1, 0.3, 1.0]
learning_rate = c2.select_slider(_("Learning rate"), rates, value=0.01 if optimizer == "adam" else 0.3,
                                 key=f"{KEY}_lr_{optimizer}")
clip = c3.select_slider(_("Clip threshold"), ["off", 0.1, 1.0, 10.0], value=1.0, key=f"{KEY}_clip",
                        format_func=lambda v: _("off") if v == "off" else str(v))
url_follows_settings()
config = RaceConfig(delay=delay, hidden_size=hidden, seed=int(seed), optimizer=optimizer,
                    learning_rate=learning_rate, clip_threshold=None if clip == "off" else float(clip))

state = ui.live_lesson(KEY, config, RaceLesson,
                       notice=N_("New task or model size: the three models were re-initialised (same seed for all)."))
lesson = state.lesson

example, answer = lesson.race.task.example(seed=1)
st.caption(_("An example sequence: `{example}` → answer **{answer}**. "
             "All three models see exactly the same minibatches, from the same seed. "
             "The LSTM's forget-gate bias starts at 1, the usual choice. One run is one sample: "
             "try a few seeds before drawing conclusions.", example=example, answer=lesson.race.task.symbols[answer]))


def render_race(lesson: RaceLesson) -> None:
    race = lesson.race
    entries = race.entries
    left, right = st.columns(2)
    with left:
        ui.chart(fi.metric_lines(
            {run_label(e.name): (e.trainer.history.steps, e.trainer.history.metric("accuracy")) for e in entries},
            title=_("Accuracy at the '?' (the race)"), x_title=_("training step"), y_title=_("accuracy"),
            reference=(1 / race.task.num_classes, _("chance")), y_range=(0, 1.05)), key=f"{KEY}_acc")
    with right:
        ui.live_chart(lambda: fi.metric_lines(
            {run_label(e.name): (e.trainer.history.steps, e.trainer.history.losses) for e in entries},
            title=_("Training loss"), x_title=_("training step"), y_title=_("cross-entropy loss")), key=f"{KEY}_loss")
    profiles = {}
    for e in entries:
        steps, norms = e.recorder.matrix()
        if len(steps):
            profiles[run_label(e.name)] = (list(range(race.task.steps)), norms[-1])
    ui.live_chart(lambda: fi.metric_lines(
        profiles, title=_("‖∂L/∂h_t‖ at the latest step: how much each timestep still hears of the loss"),
        x_title=_("timestep t (0 = the symbol to remember, last = '?')"), y_title=_("‖∂L/∂h_t‖ (log scale)"),
        log_y=True, markers=True), key=f"{KEY}_profile")
    ui.live_chart(lambda: fi.gradient_heatmaps(
        {run_label(e.name): e.recorder.matrix() for e in entries},
        title=_("‖∂L/∂h_t‖ for every training step (rows) and timestep (columns): dark = vanished"),
        x_title=_("timestep t (0 = symbol)")), key=f"{KEY}_heat")
    for e in entries:
        if e.trainer.stop_reason:
            st.error(_("{run}: {reason}", run=run_label(e.name), reason=translate(e.trainer.stop_reason)))


ui.train_section(state, render_race, key=KEY)



def shown_runs(frames):
    """The replay frames with each model's panel named in the page's language (the names are keys)."""
    return [dataclasses.replace(f, arrays={run_label(name): a for name, a in f.arrays.items()}) for f in frames]


def answers_note(frame) -> str:
    answers = ", ".join(f"{run_label(m)} {a}" for m, a in frame.values["answers"].items())
    return _("step {step}: answers {answers} (right: {answer})", step=frame.step, answers=answers,
             answer=frame.values["answer"])


st.subheader(_("Replay: the hidden states of one sequence, in each model"))
ui.replay_section(
    state.lesson, lambda frames: replay.panels_replay(
        shown_runs(frames), frames[-1].values["sequence"],
        title=_("Replay of training: reading “{sequence}”", sequence=frames[-1].values["sequence"]),
        note_of=answers_note),
    key=KEY, file_name="rnnviz_gradients_replay.html",
    caption=_("The same example sequence read by the three models at the same training steps: does the memory of "
              "the first symbol survive the distractors?"))

st.header(_("The spectral radius of W_hh"))
st.markdown(_(
    "At initialisation the tanh is nearly linear, so the gradient is multiplied by roughly $W_{hh}^\\top$ "
    "at every step back in time. Its largest |eigenvalue|, the **spectral radius** ρ, decides the "
    "trend. Below 1 the gradient vanishes geometrically. Above 1 it can grow. Here the vanilla RNN's "
    "W_hh is rescaled so that its spectral radius is exactly ρ."
))
rho = st.slider(_("Spectral radius ρ of W_hh at initialisation"), 0.1, 3.0, 1.0, 0.05, key=f"{KEY}_rho")
spectral_task = RememberFirstTask(delay=delay)
model = build_model(spectral_task, "rnn", hidden, seed=0, spectral_radius=rho)
left, right = st.columns([2, 3])
with left:
    ui.chart(fi.eigenvalue_figure(eigenvalues(model), title=_("Eigenvalues of W_hh (ρ = {rho:.2f})", rho=rho)),
             key=f"{KEY}_eig")
with right:
    radii = sorted({0.5, 0.9, 1.0, 1.1, 1.5, round(rho, 2)})
    profiles = radius_profiles(spectral_task, radii, hidden, seed=0)
    ui.chart(fi.metric_lines(
        {(_("ρ = {rho} (yours)", rho=f"{r:g}") if r == round(rho, 2) else f"ρ = {r:g}"):
         (list(range(spectral_task.steps)), p) for r, p in profiles.items()},
        title=_("‖∂L/∂h_t‖ at initialisation, for several spectral radii"),
        x_title=_("timestep t (the loss is at the last step)"), y_title=_("‖∂L/∂h_t‖ (log scale)"), log_y=True),
        key=f"{KEY}_rho_profiles")
    first, last = profiles[round(rho, 2)][0], profiles[round(rho, 2)][-1]
    ratio = first / last if last > 0 else float("nan")
    st.caption(_("With ρ = {rho:.2f}, the gradient reaching t = 0 is {ratio:.2g}× the one at the last step "
                 "({orders:+.1f} orders of magnitude).", rho=rho, ratio=ratio,
                 orders=np.log10(ratio) if ratio > 0 else float("nan")))
