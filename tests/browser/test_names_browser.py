"""Browser: the Names → nationality page answers as the student types, trains live and draws its charts."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import press_until, screenshot
from tests.browser.harness import draw_charts, drawn_chart

pytestmark = pytest.mark.browser


def assert_no_error_boxes(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stAlertContentError]").count() == 0


def metric(page, label: str):
    return page.locator("[data-testid=stMetric]").filter(has_text=label).first


def open_names(page, app_url: str) -> None:
    """Through the app's own navigation, as a student arrives from the home page."""
    page.goto(app_url)
    nav = page.locator("[data-testid=stSidebarNav]")
    nav.get_by_text("Names → nationality").click()
    expect(page.get_by_role("heading", name="Names → nationality")).to_be_visible(timeout=30_000)


def wait_until_idle(page) -> None:
    """Until Streamlit has finished the current run (stale elements are drawn faded)."""
    page.wait_for_timeout(500)
    expect(page.locator("[data-testid=stStatusWidget]")).to_have_count(0, timeout=30_000)


def test_names_page_predicts_while_typing_and_trains_live(page, app_url):
    open_names(page, app_url)
    box = page.get_by_label("Type a surname")
    box.click()
    history_before = page.evaluate("history.length")
    # typed key by key, never pressing Enter: the prediction follows the typing
    box.press_sequentially("Nakamura", delay=40)
    expect(metric(page, "#1")).to_contain_text("Japanese", timeout=30_000)
    expect(drawn_chart(page, "P(language) after each letter of “Nakamura”")).to_be_visible()
    expect(drawn_chart(page, "Hidden state h_t while reading “Nakamura”")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]name=Nakamura(&|$)"))
    assert page.evaluate("history.length") == history_before  # the address bar follows, Back does not step letters
    # an example button replaces the name; a transliterated one says so
    page.get_by_role("button", name="王小明").click()
    expect(page.get_by_text("“Wang Xiao Ming”").first).to_be_visible(timeout=30_000)
    box.fill("")
    box.press_sequentially("Dostoevsky", delay=30)
    expect(metric(page, "#1")).to_contain_text("Russian", timeout=30_000)
    expect(page).to_have_url(re.compile(r"[?&]name=Dostoevsky(&|$)"))  # the link follows the typing
    # and so does the link offered for copying, though the page has not run since the typing
    page.get_by_role("button", name="Copy link to this set-up").click()
    link = page.get_by_test_id("stPopoverBody").locator("code")
    expect(link).to_contain_text("name=Dostoevsky", timeout=30_000)
    assert link.inner_text().startswith(app_url)
    page.keyboard.press("Escape")
    assert_no_error_boxes(page)
    wait_until_idle(page)
    screenshot(page, "names_typed", full_height=1600)

    page.get_by_role("button", name="Train").click()
    expect(metric(page, "Steps")).to_contain_text(re.compile(r"[1-9]"), timeout=30_000)
    expect(metric(page, "Test accuracy")).to_be_visible(timeout=30_000)
    page.wait_for_timeout(3000)
    press_until(page, "Pause", then="Continue")  # a click during a redraw may be lost: retried
    wait_until_idle(page)
    # Once paused, the confusion matrix and per-language chart describe the very step the counter shows.
    # (Read both until they settle: a redraw still in flight may show the step before.)
    for _ in range(60):
        steps = metric(page, "Steps").locator("[data-testid=stMetricValue]").inner_text()
        draw_charts(page)  # the charts below the fold, as a reader scrolling down sees them
        if page.get_by_text(f"Confusion matrix, rows normalised (step {steps})").count():
            break
        page.wait_for_timeout(500)
    expect(page.get_by_text(f"Confusion matrix, rows normalised (step {steps})").first).to_be_visible()
    expect(page.get_by_text(f"Accuracy per language (step {steps})").first).to_be_visible()
    # typed-name charts, loss, gradient norms, accuracy, per language, confusion, class counts
    expect(page.locator(".js-plotly-plot .main-svg").nth(7)).to_be_attached(timeout=30_000)
    assert_no_error_boxes(page)
    screenshot(page, "names_trained", full_height=4200)


def test_names_page_unreadable_input_gets_a_message(page, app_url):
    open_names(page, app_url)
    box = page.get_by_label("Type a surname")
    box.fill("🙂🙂")
    box.press("Enter")
    expect(page.get_by_text("Nothing is left to read")).to_be_visible(timeout=30_000)
    box.fill("   ")
    box.press("Enter")
    expect(page.get_by_text("Type a surname (letters")).to_be_visible(timeout=30_000)
    assert_no_error_boxes(page)
    wait_until_idle(page)
    screenshot(page, "names_bad_input")


def test_names_page_rejects_a_corrupt_checkpoint_and_a_bad_zip(page, app_url, tmp_path):
    open_names(page, app_url)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    page.locator("[data-testid=stFileUploader]").filter(has_text="Load another checkpoint").locator(
        "input[type=file]").set_input_files(str(corrupt))
    expect(page.get_by_text("corrupt.pt cannot be used")).to_be_visible(timeout=30_000)
    bad_zip = tmp_path / "names.zip"
    bad_zip.write_bytes(b"not a zip")
    page.locator("[data-testid=stFileUploader]").filter(has_text="Upload a zip").locator(
        "input[type=file]").set_input_files(str(bad_zip))
    expect(page.get_by_text("names.zip cannot be used")).to_be_visible(timeout=30_000)
    assert page.locator("[data-testid=stException]").count() == 0
    # the shipped model is still the one answering
    expect(page.get_by_text("Shipped checkpoint")).to_be_visible()
    wait_until_idle(page)
    screenshot(page, "names_bad_uploads", full_height=5200)
