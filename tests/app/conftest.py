"""AppTest helpers: run app.py headless and switch to a page."""

import pytest
from streamlit.testing.v1 import AppTest

from rnnviz.ui.plotly_component import COMPONENT_NAME
from tests.conftest import REPO_ROOT, SHARED_DATA
from tests.i18n_helpers import payload_spec


@pytest.fixture
def app_env(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RNNVIZ_NAMES_DIR", str(SHARED_DATA / "names"))
    monkeypatch.setenv("RNNVIZ_CORPORA_DIR", str(SHARED_DATA / "corpora"))


def open_page(page: str, timeout: float = 60, lang: str | None = None) -> AppTest:
    """app.py run headless, then ``page``; ``lang`` as a visitor's ``?lang=`` would set it."""
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=timeout)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
    return at


def open_tab(at: AppTest, key: str, label: str) -> AppTest:
    """Open the tab labelled ``label`` (as shown, so translated) of the ``st.tabs`` keyed ``key``, as
    a click on it would: a page builds only its open tab (``on_change="rerun"``)."""
    at.session_state[key] = label
    at.run()
    assert not at.exception, at.exception
    return at


def chart_elements(at: AppTest) -> list:
    """The page's Plotly charts (rnnviz.ui.plotly_component's custom component), in page order."""
    return [el for el in at.get("bidi_component") if el.proto.component_name == COMPONENT_NAME]


def chart_specs(at: AppTest) -> list[dict]:
    """The figure of every Plotly chart on the page (or the grid, for a grid of coloured cells), parsed
    from the JSON the browser receives.

    Parsed, not matched as text: whether non-ASCII text is escaped in it depends on whether orjson
    is installed.
    """
    return [payload_spec(el.proto.bytes) for el in chart_elements(at)]


def _title(spec: dict) -> str:
    if "cells" in spec:  # a grid
        return spec["title"]
    title = spec.get("layout", {}).get("title", {})
    return title.get("text", "") if isinstance(title, dict) else str(title)


def chart_titles(at: AppTest) -> list[str]:
    """The title text of every Plotly chart on the page."""
    return [_title(spec) for spec in chart_specs(at)]


def chart_spec(at: AppTest, title_starts: str) -> dict:
    """The parsed spec of the first Plotly chart whose title starts with ``title_starts``."""
    for spec in chart_specs(at):
        if _title(spec).startswith(title_starts):
            return spec
    raise AssertionError(f"no chart titled {title_starts!r}…; titles: {chart_titles(at)}")
