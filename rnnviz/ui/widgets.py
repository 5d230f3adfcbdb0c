"""Widgets every lesson page shares: its header, a chart, the training curves."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from rnnviz.data.download import ProgressCallback, format_bytes
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


def training_charts(snapshot: dict, key: str) -> None:
    """Loss (and accuracy, if the lesson measures it) and gradient norms, from a lesson's snapshot."""
    left, right = st.columns(2)
    with left:
        chart(training.loss_curve(snapshot["steps"], snapshot["losses"],
                                  accuracy=snapshot["metrics"].get("accuracy")), key=f"{key}_loss")
    with right:
        chart(training.grad_norm_chart(snapshot["steps"], snapshot["grad_norms_before_clip"],
                                       snapshot["grad_norms_after_clip"], threshold=snapshot["clip_threshold"]),
              key=f"{key}_grad")


@contextmanager
def download_progress(label: str) -> Iterator[ProgressCallback]:
    """A progress callback for rnnviz.data downloads that draws a bar only once bytes arrive
    (a cached dataset shows none), and removes it afterwards."""
    bar = st.empty()

    def progress(done: int, total: int | None) -> None:
        text = f"{label}: {format_bytes(done)}" + (f" of {format_bytes(total)}" if total else "")
        bar.progress(min(1.0, done / total) if total else 0.0, text=text)

    try:
        yield progress
    finally:
        bar.empty()
