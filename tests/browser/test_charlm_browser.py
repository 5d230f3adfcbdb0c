"""Browser: the Character language model page trains live, continues “分开” and draws Chinese in its charts."""
import itertools
import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import press_until, screenshot
from tests.browser.harness import drawn_chart

pytestmark = pytest.mark.browser


def open_charlm(page, url: str) -> None:
    # Through the app's own navigation, so app.py's page config (wide layout, thread cap) applies.
    page.goto(url)
    page.wait_for_selector("[data-testid=stApp]")
    page.get_by_role("link", name="Character language model").first.click()
    expect(page.get_by_text(re.compile("Untrained: validation perplexity"))).to_be_visible(timeout=60_000)


def assert_no_error_boxes(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stAlertContentError]").count() == 0


def test_charlm_trains_live_and_continues_a_chinese_prefix(page, app_url):
    open_charlm(page, app_url)
    # the pretrained checkpoint continues the prefix at once, in Chinese, in the page and in the charts
    expect(page.locator("b", has_text="分开").first).to_be_visible(timeout=30_000)
    candidates = drawn_chart(page, "Top candidates for each character generated after “分开”")
    expect(candidates.first).to_be_visible(timeout=30_000)
    cjk_cells = candidates.locator("td").filter(has_text=re.compile("[\u4e00-\u9fff]"))
    expect(cjk_cells.nth(29)).to_be_attached(timeout=30_000)  # at least 30 Chinese labels drawn
    assert_no_error_boxes(page)
    screenshot(page, "charlm_opened", full_height=5200)

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_role("heading", name=re.compile(r"Training perplexity [\d,.]+ · validation"))).to_be_visible(
        timeout=60_000)
    expect(page.get_by_text(re.compile(r"step \d+ · epoch [\d.]+ · [\d,]+ characters/s"))).to_be_visible()
    press_until(page, "Pause", then="Continue")
    expect(page.get_by_text("分开 → ").first).to_be_visible()  # the samples, as the book prints them
    perplexity = drawn_chart(page, "Perplexity: training vs. held-out text")
    expect(perplexity).to_have_count(1, timeout=30_000)  # the live ticks' stale copies are gone
    expect(perplexity).to_be_visible()
    expect(perplexity.get_by_text(re.compile(r"chance = vocabulary size \(1,027\)"))).to_be_visible()
    assert_no_error_boxes(page)
    screenshot(page, "charlm_trained", full_height=5200)

    # a prefix with characters the model never saw: named, left out, the rest continued
    page.set_viewport_size({"width": 1400, "height": 1000})
    prefix = page.get_by_label("Prefix", exact=True).and_(page.locator("input"))
    prefix.fill("分开Q")
    prefix.press("Enter")
    expect(page.get_by_text(re.compile("left out of the prefix: “Q”"))).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Colour the text by one unit").click()
    expect(drawn_chart(page, "The text coloured by hidden unit")).to_be_visible()
    page.get_by_role("tab", name="Hidden states").click()
    hidden = drawn_chart(page, "Hidden state h_t (top layer)")
    expect(hidden).to_be_visible()
    expect(hidden.locator(".updatemenu-button")).to_have_count(2)  # ▶ replays the state filling in
    assert_no_error_boxes(page)
    screenshot(page, "charlm_inspect", full_height=5200)


def test_the_address_bar_follows_a_prefix_typed_with_an_input_method(page, app_url):
    open_charlm(page, app_url)
    prefix = page.get_by_label("Prefix", exact=True).and_(page.locator("input"))
    expect(prefix).to_have_value("分开", timeout=30_000)
    history_before = page.evaluate("history.length")
    prefix.click()
    prefix.press("End")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.imeSetComposition", {"text": "wo", "selectionStart": 2, "selectionEnd": 2})  # pinyin, composing
    page.wait_for_timeout(800)
    assert parse_qs(urlparse(page.url).query)["prefix"] == ["分开"]  # not the pinyin of a character being composed
    cdp.send("Input.insertText", {"text": "我"})  # the character chosen
    expect(page).to_have_url(re.compile(r"[?&]prefix=%E5%88%86%E5%BC%80%E6%88%91(&|$)"))  # 分开我
    expect(drawn_chart(page, "Top candidates for each character generated after “分开我”").first).to_be_visible(
        timeout=30_000)
    assert page.evaluate("history.length") == history_before  # typing adds no step to Back
    assert_no_error_boxes(page)


READ_GRID = """(title) => {  // and marks each cell: a cell drawn anew comes without the mark
    const grid = Array.from(document.querySelectorAll('.rnnviz-grid')).find(
        (g) => g.querySelector('.rnnviz-title').textContent.includes(title));
    if (!grid) return null;
    const cells = Array.from(grid.querySelectorAll('td'));
    const marked = cells.map((cell) => cell.dataset.testMark === 'seen');
    cells.forEach((cell) => { cell.dataset.testMark = 'seen'; });
    return {title: grid.querySelector('.rnnviz-title').textContent, texts: cells.map((c) => c.textContent),
            tips: cells.map((c) => c.title), marked,
            backgrounds: cells.map((c) => getComputedStyle(c).backgroundColor),
            chosen: cells.filter((c) => c.classList.contains('chosen')).length,
            rows: grid.querySelectorAll('tbody tr').length, plotly: grid.querySelector('.main-svg') !== null};
}"""


def test_the_candidates_grid_follows_the_prefix_cell_by_cell(page, app_url):
    """The prefix box's candidates are an HTML table: a keystroke rewrites its cells in place."""
    open_charlm(page, app_url)
    drawn_chart(page, "Top candidates for each character generated after “分开”")
    before = page.evaluate(READ_GRID, "generated after “分开”")
    assert before["rows"] == 8 and len(before["texts"]) == 8 * 30 and not before["plotly"]
    assert before["chosen"] == 30  # greedy: the chosen character is a top candidate at every step
    assert all(tip.startswith("step ") and "p = " in tip for tip in before["tips"])
    assert len(set(before["backgrounds"])) > 5  # coloured by probability
    prefix = page.get_by_label("Prefix", exact=True).and_(page.locator("input"))
    prefix.click()
    prefix.press("End")
    page.keyboard.insert_text("我")
    expect(drawn_chart(page, "Top candidates for each character generated after “分开我”").first).to_be_visible(
        timeout=30_000)
    after = page.evaluate(READ_GRID, "generated after “分开我”")
    assert not any(before["marked"]) and all(after["marked"])  # the same cells, updated in place
    assert after["texts"] != before["texts"] and after["tips"] != before["tips"]
    assert_no_error_boxes(page)


# The pause the charts below the first wait for (plotly_chart.js's SETTLE_MS), stated here, not read
# from there: a shorter wait in the code must fail this test, not loosen it.
SETTLE_MS = 200

COUNT_REDRAWS = """(title) => {
    const gd = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
        (el) => el.layout && el.layout.title && String(el.layout.title.text).startsWith(title));
    window.__redraws = [];
    gd.on('plotly_afterplot', () => { window.__redraws.push(performance.now()); });
}"""


def test_the_charts_below_the_first_wait_for_a_pause_in_the_typing(page, app_url):
    """While a student types, the first chart follows every key and the next waits for a pause."""
    open_charlm(page, app_url)
    drawn_chart(page, "Top candidates for each character generated after “分开”")
    bars = drawn_chart(page, "The distribution each character was drawn from")
    page.set_viewport_size({"width": 1400, "height": 2600})  # the table and the bars both in view
    page.locator(".rnnviz-grid .rnnviz-title", has_text="after “分开”").evaluate(
        "(title) => title.scrollIntoView({block: 'start'})")
    expect(page.locator(".rnnviz-grid .rnnviz-title", has_text="after “分开”")).to_be_in_viewport()
    expect(bars.first).to_be_in_viewport()
    page.evaluate(COUNT_REDRAWS, "The distribution each character was drawn from")
    prefix = page.get_by_label("Prefix", exact=True).and_(page.locator("input"))
    prefix.click()
    prefix.press("End")
    typed, shown_at = "分开", []
    for char in "我想你了我想":
        page.keyboard.insert_text(char)
        typed += char
        # the next key as soon as the table shows this one (checked at every frame): typing on, without a pause
        shown_at.append(page.wait_for_function(
            "(typed) => Array.from(document.querySelectorAll('.rnnviz-grid .rnnviz-title'))"
            ".some((title) => title.textContent.includes(typed)) && performance.now()", arg=f"after “{typed}”",
            polling="raf", timeout=10_000).json_value())
    # The bars waited: drawn with every key, six redraws. A gap between two keys' tables of SETTLE_MS or
    # more is a pause (on a slow machine a key's round trip alone takes that long), where they may be drawn.
    pauses = sum(later - earlier >= SETTLE_MS for earlier, later in itertools.pairwise(shown_at))
    # and were drawn at the pause after the last key (perhaps before this line: a slow machine's round trip)
    page.wait_for_function("(last) => window.__redraws.some((t) => t > last)", arg=shown_at[-1], timeout=10_000)
    during = sum(t <= shown_at[-1] for t in page.evaluate("window.__redraws"))
    assert during <= 2 + pauses, (during, pauses, shown_at)
    assert_no_error_boxes(page)
