"""Browser: the three "Inside the RNN" pages draw their charts, animate, and train without error boxes."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import press_until, screenshot
from tests.browser.harness import draw_charts, drawn_chart
from tests.browser.test_pages_browser import assert_no_error_boxes, open_app

pytestmark = pytest.mark.browser


def test_shapes_and_gates(page, app_url):
    open_app(page, app_url + "/inside_shapes_gates")
    expect(page.get_by_text("nn.RNN: the whole sequence in one call").first).to_be_visible(timeout=30_000)
    page.get_by_text("LSTM", exact=True).first.click()
    expect(page.get_by_text("(h_n, c_n)")).to_be_visible(timeout=30_000)
    page.get_by_text("an LSTM", exact=True).first.click()  # the model that learns the typed text
    expect(drawn_chart(page, "Step by step: the LSTM reading").first).to_be_visible()
    expect(drawn_chart(page, "The LSTM's gates, now").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"max \|difference\|"))).to_be_visible()
    gates = drawn_chart(page, "forget gate f")
    expect(gates.locator(".updatemenu-button")).to_have_count(2)
    expect(page.locator(".katex").nth(2)).to_be_attached(timeout=30_000)  # the three cells' equations
    assert_no_error_boxes(page)
    screenshot(page, "inside_shapes_gates", full_height=3200)


def test_gradients_race_trains_live(page, app_url):
    open_app(page, app_url + "/inside_gradients")
    page.get_by_role("button", name="Train").click()
    expect(drawn_chart(page, "dark = vanished").first).to_be_visible()
    page.wait_for_timeout(4000)
    press_until(page, "Pause", then="Continue")
    expect(drawn_chart(page, "Eigenvalues of W_hh").first).to_be_visible()
    draw_charts(page)
    expect(page.locator(".js-plotly-plot").nth(5)).to_be_attached(timeout=30_000)  # race, loss, profiles, heatmaps, eigenvalues, radii
    assert_no_error_boxes(page)
    screenshot(page, "inside_gradients", full_height=3200)


def test_clipping_side_by_side(page, app_url):
    open_app(page, app_url + "/inside_clipping")
    page.get_by_role("button", name="Train").click()
    expect(drawn_chart(page, "steps clipped").first).to_be_visible()
    page.wait_for_timeout(3000)
    press_until(page, "Pause", then="Continue")
    expect(drawn_chart(page, "Gradient norm: not clipped").first).to_be_visible()
    expect(drawn_chart(page, "Gradient norm: clipped at 1").first).to_be_visible()
    # Both runs trained, in step: once the page has settled, each caption names the same step count.
    # (Read until they agree: a redraw still in flight shows the previous run's captions faded.)
    captions = page.get_by_text(re.compile(r"^step \d+ · loss"))
    for _ in range(30):
        page.wait_for_timeout(500)
        steps = [int(re.match(r"step (\d+)", text).group(1)) for text in captions.all_inner_texts()]
        if len(steps) == 2 and steps[0] == steps[1] and not page.locator("[data-testid=stStatusWidget]").count():
            break
    assert len(steps) == 2 and steps[0] == steps[1] > 0, steps
    assert_no_error_boxes(page)
    screenshot(page, "inside_clipping", full_height=1800)
