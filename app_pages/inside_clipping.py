"""Inside the RNN: exploding gradients and clipping, the same model trained twice side by side."""
import streamlit as st

from rnnviz import ui
from rnnviz.i18n import N_, _, translate
from rnnviz.lessons.inside import MAX_DELAY, ClipRaceConfig, RaceLesson, run_label
from rnnviz.viz import inside as fi
from rnnviz.viz import training

KEY = "inside_clipping"

ui.lesson_header(
    _("Exploding gradients and clipping"),
    _("When the recurrent weights are large, the gradient can grow with every step back in time, and a single "
      "update can throw the weights far away: the loss spikes, or turns NaN. **Gradient clipping** rescales the "
      "whole gradient whenever its norm exceeds a threshold θ, keeping its direction and capping its length. "
      "Below, the same vanilla RNN (same seed, same minibatches) trains twice: once clipped, once not."),
    r"g \leftarrow \min\left(1, \frac{\theta}{\lVert g \rVert}\right) g",
)
URL_FIELDS = [
    ui.UrlField("rho", f"{KEY}_rho", ui.number(0.5, 3.0)),
    ui.UrlField("lr", f"{KEY}_lr", ui.choice([0.01, 0.03, 0.1, 0.3, 1.0, 3.0])),
    ui.UrlField("threshold", f"{KEY}_clip", ui.choice([0.01, 0.1, 0.5, 1.0, 5.0, 25.0])),
    ui.UrlField("delay", f"{KEY}_delay", ui.integer(1, MAX_DELAY)),
]
url_follows_settings = ui.url_setup(KEY, URL_FIELDS)
c1, c2, c3, c4 = st.columns(4)
defaults = ClipRaceConfig()
rho = c1.slider(_("Spectral radius of W_hh at start"), 0.5, 3.0, defaults.spectral_radius, 0.1, key=f"{KEY}_rho")
learning_rate = c2.select_slider(_("Learning rate (SGD)"), [0.01, 0.03, 0.1, 0.3, 1.0, 3.0],
                                 value=defaults.learning_rate, key=f"{KEY}_lr")
threshold = c3.select_slider(_("Clip threshold θ"), [0.01, 0.1, 0.5, 1.0, 5.0, 25.0],
                             value=defaults.clip_threshold, key=f"{KEY}_clip")
delay = c4.slider(_("Distractor steps k"), 1, MAX_DELAY, defaults.delay, key=f"{KEY}_delay")
url_follows_settings()
config = ClipRaceConfig(delay=delay, spectral_radius=rho, learning_rate=learning_rate, clip_threshold=threshold)

state = ui.live_lesson(KEY, config, RaceLesson,
                       notice=N_("Settings changed: both runs were re-initialised from the same seed."))


def render(lesson: RaceLesson) -> None:
    entries = lesson.race.entries
    ui.chart(fi.metric_lines(
        {run_label(e.name): (e.trainer.history.steps, e.trainer.history.losses) for e in entries},
        title=_("Training loss, clipped vs not clipped"), x_title=_("training step"),
        y_title=_("cross-entropy loss (log scale)"), log_y=True), key=f"{KEY}_loss")
    for column, e in zip(st.columns(len(entries)), entries):
        with column:
            history = e.trainer.history
            ui.live_chart(lambda: training.grad_norm_chart(
                history.steps, history.grad_norms_before_clip, history.grad_norms_after_clip,
                threshold=e.trainer.config.clip_threshold, title=_("Gradient norm: {run}", run=run_label(e.name))),
                key=f"{KEY}_grad_{e.name}")
            if e.trainer.stop_reason:
                st.error(translate(e.trainer.stop_reason), icon=":material/error:")
            elif history.last:
                st.caption(_("step {step} · loss {loss:.3g} · largest gradient norm so far {largest:.3g}",
                             step=e.trainer.step_count, loss=history.last.loss,
                             largest=max(history.grad_norms_before_clip)))


ui.train_section(state, render, key=KEY)
