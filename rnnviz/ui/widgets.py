"""Widgets every lesson page shares: its header, a chart, the training curves."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from rnnviz.data.download import ProgressCallback, format_bytes

from rnnviz.core.train import Trainer
from rnnviz.viz import training

OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD"}  # keys are rnnviz.core.train.OPTIMIZERS

CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def lesson_header(title: str, intro: str, equation: str | None = None) -> None:
    st.title(title)
    st.markdown(intro)
    if equation:
        st.latex(equation)


def chart(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config=CHART_CONFIG)


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


@contextmanager
def download_progress(label: str) -> Iterator[ProgressCallback]:
    """A progress callback for rnnviz.data downloads that draws a bar only once bytes arrive
    (a cached dataset shows none), and removes it afterwards."""
    bar = st.empty()
    started: list[bool] = []

    def progress(done: int, total: int | None) -> None:
        started.append(True)
        text = f"{label}: {format_bytes(done)}" + (f" of {format_bytes(total)}" if total else "")
        bar.progress(min(1.0, done / total) if total else 0.0, text=text)

    try:
        yield progress
    finally:
        bar.empty()
