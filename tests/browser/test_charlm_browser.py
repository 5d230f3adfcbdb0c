"""Browser: the Character language model page trains live, continues “分开” and draws Chinese in its charts."""
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
    cjk_cells = candidates.locator("text.textpoint, g.textpoint text, text").filter(has_text=re.compile("[\u4e00-\u9fff]"))
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
