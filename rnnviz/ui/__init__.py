"""Streamlit widgets shared by the lesson pages (the only streamlit importer in rnnviz)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import streamlit as st

from rnnviz.core.runtime import TrainingSlots, training_slot_count
from rnnviz.core.train import Trainer
from rnnviz.viz import training

TICK_SECONDS = 0.25  # training per fragment run: short, so the page and other sessions stay responsive
TICK_INTERVAL = "0.7s"  # pause between ticks, leaving room for the browser to draw
AUTO_PAUSE_SECONDS = 120.0  # a forgotten tab must not train forever on a shared server

OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD"}  # keys are rnnviz.train.OPTIMIZERS

CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


@dataclass
class LiveSession:
    """What one page keeps in st.session_state: its lesson object and whether it is training."""

    lesson: Any
    playing: bool = False
    notice: str | None = None
    pause_at_train_seconds: float = 0.0  # auto-pause point for the current run
    results: dict[str, Any] = field(default_factory=dict)  # page-specific results (experiments)


def session(key: str, factory: Callable[[], Any]) -> LiveSession:
    if key not in st.session_state:
        st.session_state[key] = LiveSession(lesson=factory())
    return st.session_state[key]


def lesson_header(title: str, intro: str, equation: str | None = None) -> None:
    st.title(title)
    st.markdown(intro)
    if equation:
        st.latex(equation)


def chart(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config=CHART_CONFIG)


def training_controls(state: LiveSession, reset: Callable[[], Any], key: str) -> None:
    """Train/Pause, Step and Reset. Callbacks run before the script, so the live fragment
    below is defined with the right schedule on the same run."""
    trainer: Trainer = state.lesson.trainer

    def toggle() -> None:
        state.playing = not state.playing and not state.lesson.trainer.stopped
        state.pause_at_train_seconds = state.lesson.trainer.train_seconds + AUTO_PAUSE_SECONDS
        state.notice = None

    def step() -> None:
        state.playing = False
        state.lesson.trainer.step()

    def do_reset() -> None:
        state.playing = False
        state.lesson = reset()
        state.notice = "Model re-initialised from the seed."

    cols = st.columns([1.2, 1, 1, 4], vertical_alignment="center")
    cols[0].button(
        "Pause" if state.playing else ("Continue" if trainer.step_count else "Train"),
        key=f"{key}_train", type="primary", on_click=toggle, icon=":material/pause:" if state.playing
        else ":material/play_arrow:", disabled=trainer.stopped, width="stretch",
    )
    cols[1].button("Step", key=f"{key}_step", on_click=step, disabled=trainer.stopped, width="stretch",
                   icon=":material/skip_next:", help="One optimizer step")
    cols[2].button("Reset", key=f"{key}_reset", on_click=do_reset, width="stretch",
                   icon=":material/restart_alt:", help="Re-initialise the model from the seed")
    if state.notice:
        cols[3].info(state.notice, icon=":material/info:")


@st.cache_resource
def training_slots() -> TrainingSlots:
    """One turnstile per server process, shared by every session."""
    return TrainingSlots(training_slot_count())


def live_training(
    state: LiveSession, render: Callable[[Any], None], key: str, steps_per_tick: int | None = None
) -> None:
    """Train in short slices while playing and redraw ``render(lesson)`` after each.

    ``steps_per_tick`` slows tiny tasks down so a class can watch them converge;
    None trains for the whole slice.
    """

    @st.fragment(run_every=TICK_INTERVAL if state.playing else None, key=f"{key}_live")
    def live() -> None:
        trainer: Trainer = state.lesson.trainer
        # Train and draw as one unit: a page run that starts meanwhile (Pause, typing) waits for
        # the slice to end, so the counters and the charts it draws describe the same step.
        with trainer.lock:
            tick(trainer)

    def tick(trainer: Trainer) -> None:
        waiting = False
        if state.playing:
            ran, _ = training_slots().run(lambda: trainer.run_for(TICK_SECONDS, max_steps=steps_per_tick),
                                          wait=TICK_SECONDS)
            waiting = not ran
            if trainer.stopped or trainer.train_seconds > state.pause_at_train_seconds:
                state.playing = False
                if not trainer.stopped:
                    state.notice = (
                        f"Paused automatically after {trainer.train_seconds:.0f} s of training; "
                        "press Continue for more."
                    )
                st.rerun()  # the whole page: stop the ticks, refresh the views below
        if trainer.stop_reason:
            st.error(trainer.stop_reason, icon=":material/error:")
        if waiting:
            st.caption(":material/hourglass_top: Other sessions are training on this server; yours continues in a moment.")
        render(state.lesson)

    live()


def training_charts(trainer: Trainer, key: str, accuracy: bool = True) -> None:
    history = trainer.history
    left, right = st.columns(2)
    with left:
        chart(
            training.loss_curve(
                history.steps, history.losses, accuracy=history.metric("accuracy") if accuracy else None
            ),
            key=f"{key}_loss",
        )
    with right:
        chart(
            training.grad_norm_chart(
                history.steps, history.grad_norms_before_clip, history.grad_norms_after_clip,
                threshold=trainer.config.clip_threshold,
            ),
            key=f"{key}_grad",
        )
