"""Widgets every lesson page shares: its header, a chart, the training curves."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from rnnviz.data.download import ProgressCallback, format_bytes
from rnnviz.i18n import N_, _, translate
from rnnviz.ui.present import for_projector
from rnnviz.viz import training

OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD"}  # keys are rnnviz.core.train.OPTIMIZERS

# The modebar keeps "Download plot as a png" (2× scale, for slides).
CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"],
                "toImageButtonOptions": {"format": "png", "scale": 2}}


def lesson_header(title: str, intro: str, equation: str | None = None) -> None:
    st.title(title)
    st.markdown(intro)
    if equation:
        st.latex(equation)


def chart(fig, key: str) -> None:
    st.plotly_chart(for_projector(fig), key=key, config=CHART_CONFIG)


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
        text = (_("{label}: {done} of {total}", label=label, done=format_bytes(done), total=format_bytes(total))
                if total else _("{label}: {done}", label=label, done=format_bytes(done)))
        bar.progress(min(1.0, done / total) if total else 0.0, text=text)

    try:
        yield progress
    finally:
        bar.empty()


def figure_html(fig) -> bytes:
    """A standalone page that plays offline: plotly.js embedded, no network, not auto-playing."""
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False, config=CHART_CONFIG).encode("utf-8")


def html_download(fig_factory, file_name: str, key: str, label: str = N_("Download as HTML (plays offline)")) -> None:
    """A button that builds the standalone HTML only when pressed (it embeds 4 MB of plotly.js)."""
    st.download_button(translate(label), data=lambda: figure_html(fig_factory()), file_name=file_name, mime="text/html",
                       key=key, icon=":material/download:")


def history_download(lesson, file_name: str, key: str) -> None:
    """The training history, one row per recorded step, as CSV."""
    st.download_button(_("Training history (CSV)"), data=lesson.history_csv, file_name=file_name, mime="text/csv",
                       key=key, icon=":material/table:",
                       help=_("Step, loss, metrics and the gradient norm before and after clipping for every "
                              "recorded step (older steps are thinned in long runs)."))


def replay_section(lesson, build_figure, key: str, file_name: str, caption: str) -> None:
    """The replay slider over training steps, with its HTML export and the history CSV."""
    replay = lesson.replay
    if replay is None or len(replay.frames) < 2:
        st.info(_("Train for a few steps: the replay fills in with snapshots taken as the model learns."),
                icon=":material/slow_motion_video:")
        return
    chart(build_figure(replay.frames), key=f"{key}_replay")
    st.caption(caption)
    st.caption(_("{count} snapshots, denser early where learning is fastest ({size:,.0f} KB).",
                 count=len(replay.frames), size=replay.nbytes / 1024))
    left, right = st.columns(2)
    frames = list(replay.frames)
    with left:
        html_download(lambda: build_figure(frames), file_name, key=f"{key}_replay_html")
    with right:
        history_download(lesson, file_name.replace("replay", "history").replace(".html", ".csv"),
                         key=f"{key}_history_csv")
