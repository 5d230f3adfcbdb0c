"""Widgets every lesson page shares: its header, a chart, the training curves."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import streamlit as st

from rnnviz.data.download import ProgressCallback, format_bytes
from rnnviz.i18n import N_, _, translate
from rnnviz.ui.plotly_component import PLOTLY_JS, chart_payload, grid_payload, plotly_chart
from rnnviz.ui.present import for_projector
from rnnviz.viz import training

OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD"}  # keys are rnnviz.core.train.OPTIMIZERS

# The modebar keeps "Download plot as a png" (2× scale, for slides).
CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"],
                "toImageButtonOptions": {"format": "png", "scale": 2}}
# A prediction box commits at every key (Streamlit's live=True waits 250 ms after the last one): reading
# a name or a prefix costs the server ~10 ms and its charts update in place, so the charts can follow
# every key. A 30 ms pause, to merge a burst, cost every keystroke ~20 ms (measured in the browser).
TYPING_COMMIT = "0ms"
FULL_RUN_KEY = "_rnnviz_full_run"  # True while app.py runs the whole page, False in a fragment's own run
DETAIL_SECONDS_KEY = "_rnnviz_detail_seconds"  # set by a live tick: how often it redraws the details
LIVE_CHARTS_KEY = "_rnnviz_live_charts"


def lesson_header(title: str, intro: str, equation: str | None = None) -> None:
    st.title(title)
    st.markdown(intro)
    if equation:
        st.latex(equation)


def chart(fig, key: str) -> None:
    """A figure, or a grid of coloured cells (a dict from ``viz.language_model.candidates_grid``)."""
    plotly_chart(payload(fig), key=key)


def payload(fig) -> bytes:
    if isinstance(fig, dict):  # HTML, whose sizes follow the page's font size (projector mode enlarges it)
        return grid_payload(fig)
    return chart_payload(for_projector(fig), CHART_CONFIG)


def live_chart(build: Callable[[], Any], key: str, depends_on: Any = None) -> None:
    """A live view other than the loss curve: rebuilt at every tick while this session trains alone;
    while others train too, at most every few seconds (the tick's pace says how often), the same
    payload re-sent in between (no figure built on the server, nothing drawn in the browser). A full
    page run, or a change of ``depends_on`` (what the view shows, e.g. the typed name), always
    rebuilds it."""
    kept = st.session_state.setdefault(LIVE_CHARTS_KEY, {})
    now = time.monotonic()
    previous = kept.get(key)
    reuse = (previous is not None and previous[2] == depends_on and not st.session_state.get(FULL_RUN_KEY)
             and now - previous[1] < st.session_state.get(DETAIL_SECONDS_KEY, 0.0))
    if not reuse:
        kept[key] = (payload(build()), now, depends_on)
    plotly_chart(kept[key][0], key=key)


def training_charts(snapshot: dict, key: str) -> None:
    """Loss (and accuracy, if the lesson measures it) and gradient norms, from a lesson's snapshot.
    The loss curve moves at every tick; the gradients at the pace of the other live views."""
    left, right = st.columns(2)
    with left:
        chart(training.loss_curve(snapshot["steps"], snapshot["losses"],
                                  accuracy=snapshot["metrics"].get("accuracy")), key=f"{key}_loss")
    with right:
        live_chart(lambda: training.grad_norm_chart(
            snapshot["steps"], snapshot["grad_norms_before_clip"], snapshot["grad_norms_after_clip"],
            threshold=snapshot["clip_threshold"]), key=f"{key}_grad")


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
    """A standalone page that plays offline: the charts' plotly.js embedded, no network, not auto-playing."""
    page = fig.to_html(include_plotlyjs=False, full_html=True, auto_play=False, config=CHART_CONFIG)
    plotly_js = f'<script charset="utf-8">{PLOTLY_JS.read_text(encoding="utf-8")}</script>'
    return page.replace("<body>", f"<body>\n{plotly_js}", 1).encode("utf-8")


def html_download(fig_factory, file_name: str, key: str, label: str = N_("Download as HTML (plays offline)")) -> None:
    """A button that builds the standalone HTML only when pressed (it embeds 1.5 MB of plotly.js)."""
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
