"""Browser: set-ups in the URL, a reload that loses nothing, keyboard control, projector mode,
internals that move while training, the replay, and its exports (HTML that plays offline, CSV)."""
import csv
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, press_until, screenshot
from tests.browser.harness import drawn_chart
from tests.browser.test_names_browser import wait_until_idle
from tests.browser.test_pages_browser import assert_no_error_boxes, open_app

pytestmark = pytest.mark.browser

SLIDER_LABEL = ".slider-group > text.slider-label"
READ_Z = """(prefix) => Array.from(document.querySelectorAll('.js-plotly-plot'))
  .filter(el => el.layout && String((el.layout.title || {}).text || '').replace(/<[^>]*>/g, '').startsWith(prefix))
  .map(el => (el.data || []).map(t => JSON.stringify(t.z || null)))"""


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def epoch(page) -> int:
    text = page.locator("text=/^epoch \\d+/").last.text_content()
    return int(re.match(r"epoch (\d+)", text).group(1))


@pytest.mark.parametrize("path,check", [
    ("/sequence_basics?task=elloh&model=lstm&hidden=9",
     lambda page: expect(page.get_by_text("hello → elloh. ", exact=False).first).to_be_visible()),
    ("/names?cell=lstm&hidden=64&name=Nakamura",
     lambda page: expect(page.get_by_label("Type a surname")).to_have_value("Nakamura")),
    ("/charlm?corpus=names&language=Italian&prefix=Ros",
     lambda page: expect(page.get_by_text("Italian surnames").first).to_be_visible()),
    ("/inside_gradients?delay=7&hidden=16",
     lambda page: expect(page.get_by_text("Distractor steps k").first).to_be_visible()),
    ("/inside_clipping?delay=4&rho=2",
     lambda page: expect(page.get_by_text("Exploding gradients and clipping").first).to_be_visible()),
])
def test_a_link_opens_each_page_at_its_setup_and_the_url_keeps_it(page, app_url, path, check):
    open_app(page, app_url + path)
    check(page)
    expected = parse_qs(urlparse(path).query)
    page.wait_for_timeout(1500)
    got = query(page)
    for param, (value,) in expected.items():
        assert got.get(param) == value, (param, got)
    assert_no_error_boxes(page)


def test_the_url_follows_a_changed_setting(page, app_url):
    open_app(page, app_url + "/sequence_basics")
    page.get_by_text("hello → elloh").first.click()
    expect(page).to_have_url(re.compile(r"task=elloh"), timeout=15_000)


def test_train_with_the_keyboard_then_reload_and_find_the_same_model(page, app_url):
    open_app(page, app_url + "/sequence_basics?task=alphabet&hidden=16&speed=5")
    expect(page.get_by_role("button", name=re.compile("^Train"))).to_be_visible(timeout=30_000)
    page.locator("h1").first.click()  # focus on the page, not in a text box
    page.keyboard.press("t")
    expect(page.get_by_role("button", name=re.compile("^Pause"))).to_be_visible(timeout=15_000)
    # internals move while training: the live softmax heatmap's values change between two ticks
    # (every tick alone; every 7.5-12 s while other tests' sessions on this server train too).
    # Charts are redrawn only while on screen, so the student scrolls to it first.
    drawn_chart(page, "Softmax at each step, now", timeout=20)
    before = page.evaluate(READ_Z, "Softmax at each step, now")
    after, waited = before, 0
    while before and after and before[-1] == after[-1] and waited < 20_000:
        page.wait_for_timeout(500)
        waited += 500
        after = page.evaluate(READ_Z, "Softmax at each step, now")
    assert before and after and before[-1] != after[-1]
    press_until(page, "Pause", "Continue")
    page.wait_for_timeout(1500)
    trained = epoch(page)
    assert trained > 0
    page.reload()
    expect(page.get_by_text("Welcome back").first).to_be_visible(timeout=30_000)
    assert epoch(page) == trained
    assert_no_error_boxes(page)


def download(page, button: str, attempts: int = 3):
    """Click the download button named ``button`` once the page is idle; the download. A click that
    lands while the page is being rerun can be lost (seen once in CI, with other tests' sessions
    training on the same server), so it is clicked again after 20 s without a download. A button
    whose file is still being made is disabled until it is: the next click waits for that."""
    for attempt in range(attempts):
        wait_until_idle(page)
        target = page.get_by_role("button", name=button).last
        expect(target).to_be_enabled(timeout=30_000)
        try:
            with page.expect_download(timeout=20_000) as started:
                target.click()
            return started.value
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise


def test_replay_scrubs_and_exports_play_offline(page, app_url, tmp_path, browser):
    open_app(page, app_url + "/sequence_basics?task=ohlol&hidden=8&speed=1")
    expect(page.get_by_role("button", name=re.compile("^Train"))).to_be_visible(timeout=30_000)
    for _ in range(12):
        page.get_by_role("button", name=re.compile("^Step")).click()
        page.wait_for_timeout(300)
    # Every Step's rerun done: a download button clicked during a rerun names a file the rerun replaces.
    wait_until_idle(page)
    page.get_by_role("tab", name="Replay of training").last.click()
    chart = drawn_chart(page, "Replay of training").last
    label = chart.locator(SLIDER_LABEL)
    expect(label).to_have_text(re.compile(r"training step \d+"), timeout=20_000)
    last = label.text_content()
    chart.locator(".updatemenu-button", has_text="Play").click()
    page.wait_for_timeout(1200)
    assert label.text_content() != last  # ▶ moved through the snapshots
    expect(chart.get_by_text(re.compile(r"step \d+: predicts"))).to_be_visible()
    screenshot(page, "sequence_basics_replay")

    html_path = tmp_path / "replay.html"
    download(page, "Download as HTML (plays offline)").save_as(html_path)
    rows = list(csv.DictReader(io.StringIO(download(page, "Training history (CSV)").path().read_text())))
    assert [int(r["step"]) for r in rows] == list(range(1, len(rows) + 1)) and len(rows) >= 12
    assert {"loss", "accuracy", "grad_norm_before_clip", "grad_norm_after_clip"} <= set(rows[0])

    offline = browser.new_context(offline=True)
    try:
        exported = offline.new_page()
        exported.goto(html_path.as_uri())
        exported_label = exported.locator(SLIDER_LABEL)
        expect(exported_label).to_have_text(re.compile(r"training step \d+"), timeout=15_000)
        start = exported_label.text_content()
        exported.locator(".updatemenu-button", has_text="Play").click()
        exported.wait_for_timeout(1200)
        assert exported_label.text_content() != start
    finally:
        offline.close()


def test_projector_mode_hides_the_settings(browser, app_url):
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = context.new_page()
        open_app(page, app_url + "/names?present=1")
        expect(page.get_by_text("Projector mode")).to_be_visible(timeout=30_000)
        expect(page.locator('section[data-testid="stSidebar"]')).to_be_hidden()
        expect(page.get_by_role("button", name=re.compile("^Train"))).to_be_visible()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SCREENSHOTS / "names_projector_1024.png"))
        page.get_by_text("Projector mode").click()  # off again: the same page, the settings back
        expect(page.locator('section[data-testid="stSidebar"]')).to_be_visible(timeout=15_000)
        assert "present" not in query(page)
    finally:
        context.close()
