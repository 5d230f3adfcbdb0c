"""The language switch and the translated shell: ?lang=, the browser's locale, the sidebar switch,
page changes, navigation labels and page title."""
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.conftest import open_page
from tests.conftest import REPO_ROOT
from tests.i18n_helpers import english_sentences, page_texts

pytestmark = pytest.mark.usefixtures("app_env")


@pytest.fixture
def shell(monkeypatch):
    """What app.py hands to st.navigation and st.set_page_config on each run."""
    seen = {"sections": [], "titles": [], "page_title": []}
    navigation, set_page_config = st.navigation, st.set_page_config

    def spy_navigation(pages, *args, **kwargs):
        seen["sections"] = list(pages)
        seen["titles"] = [page.title for section in pages.values() for page in section]
        return navigation(pages, *args, **kwargs)

    def spy_page_config(*args, **kwargs):
        seen["page_title"].append(kwargs.get("page_title"))
        return set_page_config(*args, **kwargs)

    monkeypatch.setattr(st, "navigation", spy_navigation)
    monkeypatch.setattr(st, "set_page_config", spy_page_config)
    return seen


def start(query_lang=None, locale=None) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    if query_lang:
        at.query_params["lang"] = query_lang
    if locale:
        at.context["locale"] = locale
    at.run()
    assert not at.exception, at.exception
    return at


def switch(at: AppTest):
    return at.sidebar.get("button_group")[0]


def test_lang_zh_in_the_url_shows_chinese_everywhere_on_the_home_page(shell):
    at = start(query_lang="zh")
    assert switch(at).value == "zh"
    assert shell["sections"] == ["", "课程", "RNN 内部"]
    assert shell["titles"] == ["首页", "序列基础", "姓氏 → 国籍", "字符级语言模型", "形状与门", "跨时间步的梯度",
                               "梯度爆炸与梯度裁剪"]
    assert shell["page_title"][-1] == "rnnviz · 现场训练循环神经网络"
    assert at.sidebar.caption[0].value == "rnnviz：在浏览器中现场训练循环神经网络。"
    assert at.title[0].value == "rnnviz：看循环神经网络如何学习"
    assert english_sentences(page_texts(at)) == []
    assert at.query_params["lang"] == "zh"


@pytest.mark.parametrize("locale, expected", [("zh-CN", "zh"), ("zh-TW", "zh"), ("en-US", "en"), ("de-DE", "en"),
                                              (None, "en")])
def test_a_new_session_follows_the_browser_locale(shell, locale, expected):
    at = start(locale=locale)
    assert switch(at).value == expected
    assert shell["titles"][0] == {"zh": "首页", "en": "Home"}[expected]
    assert at.query_params["lang"] == expected  # written back, so a copied link keeps the language


def test_the_url_wins_over_the_browser_locale(shell):
    at = start(query_lang="en", locale="zh-CN")
    assert switch(at).value == "en"
    assert shell["sections"] == ["", "Lessons", "Inside the RNN"]
    assert at.title[0].value == "rnnviz: watch recurrent networks learn"


def test_the_switch_changes_the_language_and_the_url_and_is_kept_across_pages(shell):
    at = start(query_lang="zh")
    switch(at).set_value("en").run()
    assert shell["titles"][0] == "Home" and at.title[0].value == "rnnviz: watch recurrent networks learn"
    assert at.query_params["lang"] == "en"
    at.switch_page("app_pages/sequence_basics.py")
    at.run()
    assert not at.exception, at.exception
    assert switch(at).value == "en" and shell["sections"][1] == "Lessons"
    switch(at).set_value("zh").run()
    assert shell["sections"][1] == "课程" and at.query_params["lang"] == "zh"


def test_the_training_controls_speak_chinese():
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/sequence_basics.py")
    at.run()
    assert not at.exception, at.exception
    labels = {b.label for b in at.button}
    assert {"训练", "单步", "重置"} <= labels, labels
    reset = next(b for b in at.button if b.label == "重置")
    reset.click().run()
    assert "已根据随机种子重新初始化模型。" in [i.value for i in at.info]


def test_english_is_unchanged_by_default():
    at = open_page("")
    assert at.title[0].value == "rnnviz: watch recurrent networks learn"
    assert switch(at).value == "en"
