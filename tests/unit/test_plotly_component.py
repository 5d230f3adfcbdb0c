"""The payload a chart sends to the browser (rnnviz/ui/plotly_chart.js reads it)."""
import json
import re

import plotly.graph_objects as go
import plotly.io as pio

from rnnviz.ui.plotly_component import (
    BUNDLED_PLOTLY_JS,
    FULL_PLOTLY_JS,
    PLOTLY_JS,
    PLOTLY_JS_ROUTE,
    chart_payload,
    choose_plotly_js,
    grid_payload,
    plotly_js_version,
)
from rnnviz.viz import language_model, training

CONFIG = {"displaylogo": False}


def test_the_payload_carries_the_figure_as_plotly_writes_it():
    fig = training.loss_curve([1, 2, 3], [2.0, 1.5, 1.2])
    payload = json.loads(chart_payload(fig, CONFIG))
    assert payload["figure"] == json.loads(pio.to_json(fig, validate=False))
    assert payload["config"] == CONFIG
    assert payload["assets"] == PLOTLY_JS_ROUTE


def test_the_payload_starts_with_the_height_the_browser_reserves():
    # the browser reads the height with a regular expression before parsing the whole payload
    tall = go.Figure({"data": [{"type": "bar", "y": [1]}], "layout": {"height": 612, "title": {"text": "漢字"}}})
    raw = chart_payload(tall, CONFIG).decode("utf-8")
    assert re.match(r'^\{"height": (\d+)', raw).group(1) == "612"
    assert "漢字" in raw  # sent as UTF-8, not escaped
    default = chart_payload(go.Figure(), CONFIG).decode("utf-8")
    assert re.match(r'^\{"height": (\d+)', default).group(1) == "450"  # plotly.js's default height


def test_a_grid_goes_as_it_is_built_with_a_height_for_its_rows():
    grid = language_model.candidates_grid(["0·分", "1·开"], [list("分开我"), list("开你他")],
                                          [[0.6, 0.3, 0.1], [0.5, 0.4, 0.1]], [0, 2])
    raw = grid_payload(grid).decode("utf-8")
    payload = json.loads(raw)
    assert payload["grid"] == json.loads(json.dumps(grid)) and "figure" not in payload
    assert "分" in raw and "\\u5206" not in raw  # UTF-8, not escaped
    rows_height = int(re.match(r'^\{"height": (\d+)', raw).group(1))
    more_rows = language_model.candidates_grid(["0·分"], [list("分开我你他")], [[0.5, 0.2, 0.1, 0.1, 0.1]], [0])
    assert int(re.match(r'^\{"height": (\d+)', grid_payload(more_rows).decode()).group(1)) > rows_height


def test_plotly_js_is_where_the_route_points():
    assert PLOTLY_JS.is_file()
    assert PLOTLY_JS_ROUTE.endswith("/" + PLOTLY_JS.name)
    assert "plotly.js" in PLOTLY_JS.read_text(encoding="utf-8")[:200]


def _bundle(path, header: str):
    path.write_text(f"/**\n* {header}\n* Licensed under the MIT license\n*/\n(function(){{}})();", encoding="utf-8")
    return path


def test_the_bundled_plotly_js_is_served_only_when_it_is_the_same_version(tmp_path):
    full = _bundle(tmp_path / "plotly.min.js", "plotly.js v4.1.1")
    assert plotly_js_version(full) == "4.1.1"
    same = _bundle(tmp_path / "same.js", "plotly.js (scatter, bar, heatmap - minified) v4.1.1")
    older = _bundle(tmp_path / "older.js", "plotly.js (scatter, bar, heatmap - minified) v4.0.0")
    unnamed = _bundle(tmp_path / "unnamed.js", "some other library v4.1.1")
    assert plotly_js_version(unnamed) is None
    assert choose_plotly_js(full, same) == same
    assert choose_plotly_js(full, older) == full
    assert choose_plotly_js(full, unnamed) == full
    assert choose_plotly_js(full, tmp_path / "missing.js") == full
    assert choose_plotly_js(_bundle(tmp_path / "odd.js", "no version here"), same) == tmp_path / "odd.js"


def test_the_committed_bundle_matches_the_pinned_plotly():
    """requirements.txt pins plotly to the version whose plotly.js the committed bundle is; bumping one
    without the other lands here (the app would still work, on the 4.8 MB full bundle) until
    scripts/build_plotly_js.py is run again."""
    assert plotly_js_version(BUNDLED_PLOTLY_JS) == plotly_js_version(FULL_PLOTLY_JS)
    assert PLOTLY_JS == BUNDLED_PLOTLY_JS
    assert BUNDLED_PLOTLY_JS.stat().st_size < FULL_PLOTLY_JS.stat().st_size / 2
    assert BUNDLED_PLOTLY_JS.with_name("LICENSE").read_text(encoding="utf-8").startswith("MIT License")
