"""Browser: every page opens without an error box; Sequence basics trains live and draws its charts."""
import itertools
import json
import re

import plotly.io as pio
import pytest
from playwright.sync_api import expect

from rnnviz.ui.plotly_component import BUNDLED_TRACES, PLOTLY_JS
from tests.browser.conftest import press_until, screenshot
from tests.browser.harness import drawn_chart

pytestmark = pytest.mark.browser


def open_app(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("[data-testid=stApp]")
    expect(page.locator("h1").first).to_be_visible(timeout=30_000)


def assert_no_error_boxes(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stAlertContentError]").count() == 0


def test_home_page(page, app_url):
    open_app(page, app_url)
    expect(page.get_by_text("watch recurrent networks learn")).to_be_visible()
    expect(page.get_by_text("Open Sequence basics")).to_be_visible()
    expect(page.locator(".katex").first).to_be_visible(timeout=30_000)  # the recurrence is typeset
    # plotly.js is loaded while the student reads this page, so the lesson opened next draws at once
    page.wait_for_function("() => window.Plotly && typeof window.Plotly.react === 'function'", timeout=30_000)
    assert page.locator(".js-plotly-plot").count() == 0
    assert_no_error_boxes(page)
    screenshot(page, "home")
    page.get_by_text("Open Sequence basics").click()
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=30_000)
    loads = page.evaluate("(name) => performance.getEntriesByType('resource')"
                          ".filter(r => r.name.endsWith('/' + name)).length", PLOTLY_JS.name)
    assert loads == 1  # fetched once, by the home page


def test_every_figure_draws_with_the_plotly_js_the_charts_load(page):
    """The charts load a plotly.js built with only some trace types (scripts/build_plotly_js.py): every
    figure builder's output (tests/unit/test_i18n_viz.cases(), which covers them all) draws with it."""
    from tests.unit.test_i18n_viz import cases

    page.set_content("<!doctype html><html><body><div id='chart'></div></body></html>")
    page.add_script_tag(path=str(PLOTLY_JS))
    registered = set(page.evaluate("() => Object.keys(Plotly.PlotSchema.get().traces)"))
    assert registered == set(BUNDLED_TRACES)
    for name, fig in cases():
        used = {trace.type for trace in fig.data} | {trace.type for frame in fig.frames for trace in frame.data}
        assert used <= registered, f"{name} draws {used - registered}, which the served plotly.js lacks"
        spec = json.loads(pio.to_json(fig, validate=False))
        drawn = page.evaluate("""(spec) => Plotly.newPlot('chart', spec.data, spec.layout)
            .then((gd) => gd._fullData.map((trace) => trace.type))""", spec)
        assert drawn == [trace.type for trace in fig.data], name


# Each log y axis of a drawn figure: its ticks as (log10 of the value, label) and its labels' boxes.
_LOG_AXES = """(spec) => Plotly.newPlot('chart', spec.data, spec.layout).then((gd) =>
    gd._fullLayout._subplots.yaxis.map((id) => gd._fullLayout['yaxis' + id.slice(1)])
      .filter((axis) => axis.type === 'log').map((axis) => ({
        ticks: axis._vals.map((tick) => [tick.x, tick.text]),
        boxes: [...gd.querySelectorAll('.' + axis._id + 'tick text')].map((text) => {
            const box = text.getBoundingClientRect();
            return [box.top, box.bottom];
        }),
      })))"""


def tick_label_value(text: str) -> float:
    """The number a tick label shows: "0.5", "1,000", "2k", "500μ", "10<sup>−3</sup>"."""
    text = text.replace("\u2212", "-").replace(",", "")
    if power := re.fullmatch(r"10<sup>(-?\d+)</sup>", text):
        return 10.0 ** int(power.group(1))
    scale = {"μ": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6}.get(text[-1:], 1.0)
    return float(text.rstrip("μmkM")) * scale


def test_every_log_axis_tick_label_reads_as_its_value(page):
    """Plotly writes a log axis's 2s and 5s as bare small digits by default: 0.5 drawn as "5" under the
    1, which a student reads as five. Each label, as drawn, must be the value at its height, and no
    two labels may be drawn over each other, even when exploding gradients span nine decades."""
    import numpy as np

    from rnnviz.viz.inside import metric_lines
    from rnnviz.viz.training import grad_norm_chart, loss_curve
    from tests.unit.test_i18n_viz import cases

    steps = np.arange(1, 61)
    exploding = np.logspace(-3, 6, steps.size)
    small_losses = {"clipped": (steps, np.logspace(-1.7, -3.7, steps.size)), "not clipped": (steps, np.full(steps.size, 0.9))}
    wide = [("nine decades of gradient norm", grad_norm_chart(steps, exploding, np.minimum(exploding, 1.0), threshold=1.0)),
            ("a loss falling over four and a half decades", loss_curve(steps, np.logspace(0.5, -4, steps.size), log_y=True)),
            ("two races' losses, 0.0002 to 0.9", metric_lines(small_losses, title="loss", x_title="step", y_title="loss", log_y=True))]
    page.set_content("<!doctype html><html><body><div id='chart' style='width:700px'></div></body></html>")
    page.add_script_tag(path=str(PLOTLY_JS))
    log_axes = 0
    for name, fig in [*cases(), *wide]:
        for axis in page.evaluate(_LOG_AXES, json.loads(pio.to_json(fig, validate=False))):
            log_axes += 1
            for log10_value, text in axis["ticks"]:
                assert tick_label_value(text) == pytest.approx(10.0 ** log10_value, rel=1e-3), (name, text)
            boxes = sorted(axis["boxes"])
            assert len(boxes) == len(axis["ticks"]) >= 2, name
            for (top, bottom), (next_top, next_bottom) in itertools.pairwise(boxes):
                # a label's box is its line's height, more than its ink (a superscript's most of all)
                height = max(bottom - top, next_bottom - next_top)
                assert next_top - top >= 0.8 * height, f"{name}: tick labels drawn over each other"
    assert log_axes >= 6  # the loss, gradient-norm and perplexity charts, and the three above


def test_sequence_basics_trains_live_and_animates(page, app_url):
    open_app(page, app_url + "/sequence_basics")
    expect(page.get_by_text("Predicted:").first).to_contain_text("untrained", timeout=30_000)
    page.get_by_role("button", name="Train").click()
    # the live fragment keeps redrawing while the epoch counter climbs
    expect(page.get_by_text(re.compile(r"epoch \d+"))).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name=re.compile("Predicted: ohlol"))).to_be_visible(timeout=60_000)
    screenshot(page, "sequence_basics_training")
    press_until(page, "Pause", then="Continue")
    page.wait_for_timeout(1500)
    # loss, gradient norms, the live softmax and h_t, the hidden-state animation: drawn by plotly
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    hidden_chart = drawn_chart(page, "Hidden state h_t while reading “hello”").last
    expect(hidden_chart).to_be_attached(timeout=30_000)
    # the hidden-state animation has play/pause controls and a timestep slider
    expect(hidden_chart.locator(".updatemenu-button")).to_have_count(2)
    expect(hidden_chart.locator(".slider-container")).to_have_count(1)
    hidden_chart.locator(".updatemenu-button").first.click()
    page.wait_for_timeout(2500)
    assert_no_error_boxes(page)
    screenshot(page, "sequence_basics_paused")
    page.get_by_role("tab", name="Softmax at each step").click()
    expect(drawn_chart(page, "Softmax at each step while reading “hello”").first).to_be_visible()
    page.get_by_role("tab", name="Tensor shapes").click()
    expect(page.get_by_text("one step, you write the loop")).to_be_visible()
    assert_no_error_boxes(page)


def test_bad_custom_input_shows_a_message(page, app_url):
    open_app(page, app_url + "/sequence_basics")
    page.get_by_text("Your own pair of strings").click()
    box = page.get_by_label("Target string (same length)")
    box.fill("abc")
    box.press("Enter")
    expect(page.get_by_text("must be the same length")).to_be_visible(timeout=30_000)
    assert page.locator("[data-testid=stException]").count() == 0
    screenshot(page, "sequence_basics_bad_input")


def test_deep_link_on_a_fresh_server_gets_the_real_navigation(browser, tmp_path):
    """The first visitor of a fresh server may arrive by a link to a lesson, not the home page.

    Streamlit's legacy pages/ auto-discovery would then run the lesson file alone (no page config,
    file names as navigation); the lessons live in app_pages/ so that cannot happen.
    """
    from tests.browser.harness import data_env, streamlit_server

    with streamlit_server(data_env(tmp_path / "cache"), tmp_path / "log") as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        open_app(page, url + "/inside_clipping")
        nav = page.locator("[data-testid=stSidebarNav]")
        expect(nav.get_by_text("Inside the RNN")).to_be_visible(timeout=30_000)
        expect(nav.get_by_text("Exploding gradients, clipping")).to_be_visible()
        assert nav.get_by_text("inside clipping", exact=True).count() == 0
        assert page.locator("[data-testid=stDialog]").count() == 0  # no "Page not found"
        context.close()
