"""The only streamlit importers in rnnviz: widgets, the live training loop, page scaffolding.

A lesson page is widgets and layout: it reads its settings into a config, gets its lesson
with ``live_lesson`` (the session object, apply-or-reinitialise, the notice), draws the
controls and the live fragment with ``train_section``, and lays out views.
"""
from rnnviz.ui.language import choose_language  # noqa: F401
from rnnviz.ui.live import (  # noqa: F401
    AUTO_PAUSE_SECONDS,
    LiveSession,
    accept_upload,
    live_lesson,
    live_training,
    page_run,
    server_setup,
    session,
    train_section,
    training_controls,
    training_slots,
)
from rnnviz.ui.widgets import (  # noqa: F401
    CHART_CONFIG,
    OPTIMIZER_LABELS,
    TYPING_COMMIT,
    chart,
    download_progress,
    figure_html,
    history_download,
    html_download,
    live_chart,
    replay_section,
    lesson_header,
    training_charts,
)
from rnnviz.ui.present import presenting, projector_mode  # noqa: F401
from rnnviz.ui.plotly_component import preload_plotly  # noqa: F401
from rnnviz.ui.url import UrlField, choice, copy_link_control, flag, integer, number, text, url_setup  # noqa: F401
