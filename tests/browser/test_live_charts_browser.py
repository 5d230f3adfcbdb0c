"""Browser: what the charts hold, read from Plotly's own data in the page.

- While training, the loss chart's data grows between two ticks (a redraw with the same numbers,
  or a chart frozen at its first drawing, fails), in the same chart element: updated in place
  (Plotly.react), not torn down and drawn anew.
- ▶ Play on the hidden-state heatmap moves its timestep slider, and the frame drawn hides exactly
  the timesteps after the one the slider names.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import press_until, screenshot
from tests.browser.harness import drawn_chart
from tests.browser.test_names_browser import open_names
from tests.browser.test_pages_browser import assert_no_error_boxes, open_app

pytestmark = pytest.mark.browser

# Every Plotly chart in the page titled ``title`` (tags stripped): its traces' names, x and y as plain lists.
READ_CHARTS = """(title) => Array.from(document.querySelectorAll('.js-plotly-plot'))
  .filter(el => el.layout && el.layout.title
          && String(el.layout.title.text || '').replace(/<[^>]*>/g, '') === title)
  .map(el => (el._fullData || []).map(t => ({
      name: t.name,
      x: t.x ? Array.from(t.x) : [],
      y: t.y ? Array.from(t.y) : [],
  })))"""


def loss_points(page, title: str = "Training loss") -> dict[int, float]:
    """step -> loss of the newest loss chart in the page (a redraw may briefly leave a stale copy)."""
    charts = page.evaluate(READ_CHARTS, title)
    curves = [next((t for t in traces if t["name"] == "loss"), None) for traces in charts]
    curves = [c for c in curves if c and c["x"]]
    if not curves:
        return {}
    newest = max(curves, key=lambda c: max(c["x"]))
    assert len(newest["x"]) == len(newest["y"])
    return dict(zip((int(x) for x in newest["x"]), newest["y"]))


def wait_for_loss_points(page, at_least: int, timeout_ms: int = 60_000) -> dict[int, float]:
    waited = 0
    while waited <= timeout_ms:
        points = loss_points(page)
        if len(points) >= at_least:
            return points
        page.wait_for_timeout(250)
        waited += 250
    raise AssertionError(f"the loss chart never held {at_least} points (last read: {len(points)})")


def assert_loss_chart_grows_between_ticks(page) -> tuple[dict[int, float], dict[int, float]]:
    before = wait_for_loss_points(page, at_least=2)
    # The next tick: within a second alone, within 2.5-4 s while other sessions (other tests'
    # pages on this server) train too; a chart frozen at its first drawing never grows.
    after, waited = loss_points(page), 0
    while len(after) <= len(before) and waited < 15_000:
        page.wait_for_timeout(250)
        waited += 250
        after = loss_points(page)
    assert len(after) > len(before), f"{len(before)} points, then {len(after)} {waited / 1000:g} seconds later"
    assert max(after) > max(before), "no later training step was drawn"
    assert after != before
    # the same run continued: the steps drawn in both readings carry the same losses
    shared = sorted(set(before) & set(after))
    assert shared, "the two readings share no step"
    assert all(after[s] == pytest.approx(before[s], rel=1e-6) for s in shared)
    assert all(v > 0 for v in after.values())  # cross-entropy of an imperfect prediction
    return before, after


# Marks the charts titled ``title`` (a data attribute, which Plotly leaves alone); returns how many.
TAG_CHARTS = """(title) => {
  const charts = Array.from(document.querySelectorAll('.js-plotly-plot')).filter(el => el.layout && el.layout.title
      && String(el.layout.title.text || '').replace(/<[^>]*>/g, '') === title);
  charts.forEach(el => { el.dataset.testTag = 'before'; });
  return charts.length;
}"""
# How many loss points the marked chart holds now (-1: no marked chart left).
TAGGED_LOSS_POINTS = """() => {
  const el = document.querySelector('.js-plotly-plot[data-test-tag="before"]');
  if (!el) return -1;
  const loss = (el._fullData || []).find(t => t.name === 'loss');
  return loss && loss.x ? loss.x.length : 0;
}"""


def test_sequence_basics_loss_chart_data_changes_while_training(page, app_url):
    open_app(page, app_url + "/sequence_basics")
    expect(page.get_by_text("Predicted:").first).to_contain_text("untrained", timeout=30_000)
    page.get_by_role("button", name="Train").click()
    wait_for_loss_points(page, at_least=2)
    assert page.evaluate(TAG_CHARTS, "Training loss") == 1
    before, after = assert_loss_chart_grows_between_ticks(page)
    # the newer data is in the chart element that was there before: updated, not replaced
    assert page.evaluate(TAGGED_LOSS_POINTS) >= len(after)
    # the page's epoch counter is at least the newest step drawn
    counter = page.get_by_text(re.compile(r"epoch \d+")).first.inner_text()
    assert int(re.search(r"epoch (\d+)", counter).group(1)) >= max(after)
    screenshot(page, "live_sequence_basics_loss_growing")
    press_until(page, "Pause", then="Continue")
    assert_no_error_boxes(page)


def test_names_loss_chart_data_changes_while_training(page, app_url):
    open_names(page, app_url)
    page.get_by_role("button", name="Train").click()
    drawn_chart(page, "Training loss")  # below the typing box: scrolled to, it is redrawn every tick
    before, after = assert_loss_chart_grows_between_ticks(page)
    screenshot(page, "live_names_loss_growing")
    press_until(page, "Pause", then="Continue")
    assert_no_error_boxes(page)


def test_charts_off_screen_are_drawn_when_scrolled_to(page, app_url):
    open_app(page, app_url + "/sequence_basics")
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(2_000)  # enough to draw all of them, were they all drawn at once
    visible, drawn = page.evaluate(COUNT_VISIBLE_AND_DRAWN)  # (charts in closed tabs left out)
    assert 0 < drawn < visible, (drawn, visible)  # those in view are drawn, those far below wait
    hidden_state = drawn_chart(page, "Hidden state h_t while reading “hello”")  # scrolled to: drawn
    expect(hidden_state.locator(".main-svg").first).to_be_visible()
    assert page.evaluate(COUNT_VISIBLE_AND_DRAWN)[1] > drawn
    assert_no_error_boxes(page)


# (charts not in a closed tab, those of them drawn by plotly.js)
COUNT_VISIBLE_AND_DRAWN = """() => {
  const visible = Array.from(document.querySelectorAll('.rnnviz-chart')).filter(el => el.checkVisibility());
  return [visible.length, visible.filter(el => el.querySelector('.main-svg')).length];
}"""


SLIDER_LABEL = ".slider-group > text.slider-label"  # the slider's current value, "up to 3·l"


def displayed_mask(chart) -> dict:
    """The frame's mask: the layout shape that hides the timesteps not yet reached."""
    return chart.evaluate("el => { const s = (el.layout.shapes || [])[0] || {}; "
                          "return {x0: s.x0, x1: s.x1, visible: s.visible}; }")


def displayed_heatmap_z(chart) -> list[list[float | None]]:
    return chart.evaluate("el => el._fullData[0].z.map(row => Array.from(row, v => (v === null || Number.isNaN(v)) ? null : v))")


def test_play_advances_the_hidden_state_animation(page, app_url):
    open_app(page, app_url + "/sequence_basics")
    chart = drawn_chart(page, "Hidden state h_t while reading “hello”")
    expect(chart).to_have_count(1, timeout=30_000)
    label = chart.locator(SLIDER_LABEL)
    timesteps = ["0·h", "1·e", "2·l", "3·l", "4·o"]
    expect(label).to_have_text("up to 4·o", timeout=10_000)  # drawn complete, on the last timestep
    assert all(v is not None for row in displayed_heatmap_z(chart) for v in row)

    # ▶ Play from the last timestep starts over at the first, then moves on frame by frame (400 ms each)
    chart.locator(".updatemenu-button", has_text="Play").click()
    seen = []
    for _ in range(120):  # at most ~6 s
        text = label.text_content()
        if not seen or seen[-1] != text:
            seen.append(text)
        if len(seen) >= 3:
            break
        page.wait_for_timeout(50)
    assert len(seen) >= 3, f"the slider label only showed {seen} after ▶ Play"
    shown = [timesteps.index(s.removeprefix("up to ")) for s in seen[1:]]
    assert shown == sorted(shown) and len(set(shown)) == len(shown), f"not advancing: {seen}"

    # ❚❚ Pause holds a frame: it draws exactly the timesteps up to the one the slider names
    chart.locator(".updatemenu-button", has_text="Pause").click()
    page.wait_for_timeout(600)
    held = label.text_content()
    page.wait_for_timeout(900)  # more than two frames' time: still the same frame
    assert label.text_content() == held
    k = timesteps.index(held.removeprefix("up to "))
    # every value is in the heatmap once; the frame moves a plot-background mask over the timesteps
    # after k (column t spans t - 0.5 .. t + 0.5), so exactly those are hidden
    assert all(v is not None for row in displayed_heatmap_z(chart) for v in row)
    mask = displayed_mask(chart)
    assert mask["visible"] is not False and mask["x0"] == pytest.approx(k + 0.5)
    assert mask["x1"] == pytest.approx(len(timesteps) - 0.5)
    screenshot(page, "play_hidden_state_paused_mid_animation")
    if k < len(timesteps) - 1:
        # ▶ again resumes from the held frame and plays to the end
        chart.locator(".updatemenu-button", has_text="Play").click()
        expect(label).to_have_text("up to 4·o", timeout=10_000)
        page.wait_for_timeout(500)
        assert displayed_mask(chart)["visible"] is False  # the last frame hides nothing
    assert_no_error_boxes(page)
