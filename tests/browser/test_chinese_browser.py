"""Browser: every page in Chinese (?lang=zh), as a Chinese-speaking teacher walks it: no English
sentence in what the page shows (text and chart text), and a layout that holds at 1400 and 1024 px."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, press_until
from tests.browser.test_pages_browser import assert_no_error_boxes
from tests.i18n_helpers import english_sentences

pytestmark = pytest.mark.browser

# Everything a reader sees: the page's text, and the text Plotly drew inside every chart.
VISIBLE_TEXT = """() => {
  const skip = '.katex, [data-testid=stIconMaterial], [data-testid=stSkipLink], script, style, '
             + '[data-testid=stCode], code';
  const texts = [];
  const walker = document.createTreeWalker(document.querySelector('[data-testid=stApp]'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const text = node.textContent.trim();
    if (text) texts.push(text);
  }
  return texts;
}"""
# Text nodes one by one (a chart's tick labels are separate nodes, never one "sentence"), leaving
# out LaTeX (equations stay LaTeX), Material icon names (drawn as ligatures) and code.
# Streamlit's own widget chrome that an app cannot translate (the file uploader's button and limits).
STREAMLIT_CHROME = ("Skip to main content", "Drag and drop file here", "Browse files", "Upload", "per file")

PAGES = [
    ("sequence_basics", "训练"),
    ("names", "训练"),
    ("charlm", "训练"),
    ("inside_shapes_gates", "训练"),
    ("inside_gradients", "训练"),
    ("inside_clipping", "训练"),
]


@pytest.mark.parametrize("path,train", PAGES)
@pytest.mark.parametrize("width", [1400, 1024])
def test_every_page_reads_chinese_throughout(browser, app_url, path, train, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{app_url}/{path}")  # no ?lang: a Chinese browser gets Chinese by default
        expect(page.get_by_role("button", name=re.compile(f"^{train}"))).to_be_visible(timeout=60_000)
        # (a regex: "训练" alone would also match the "训练历史（CSV）" download button)
        press_until(page, re.compile(f"^{train}"), then=re.compile("^暂停"))
        page.wait_for_timeout(2500)
        press_until(page, re.compile("^暂停"), then=re.compile("^继续"))
        page.wait_for_timeout(2000)
        assert_no_error_boxes(page)
        texts = page.evaluate(VISIBLE_TEXT)
        # runs of single letters are data (a task's symbols "A B C D"), never an English sentence
        leftovers = [run for run in english_sentences(texts, allow=STREAMLIT_CHROME)
                     if any(len(word) > 1 for word in run.split())]
        assert not leftovers, f"{path} at {width} px still shows English: {leftovers[:10]}"
        # no button label cut short with an ellipsis
        for label in page.locator("[data-testid=stBaseButton-primary], [data-testid=stBaseButton-secondary]").all():
            if label.is_visible():
                assert not label.inner_text().strip().endswith("…"), label.inner_text()
        page.screenshot(path=str(SCREENSHOTS / f"zh_{path}_{width}.png"))
    finally:
        context.close()
