"""The Names → nationality page in Chinese (?lang=zh): no English sentence left in what it shows,
before and after a training step, for typed names, example buttons and bad input."""
import pytest
from streamlit.testing.v1 import AppTest

from rnnviz.data import names
from rnnviz.i18n import translate, using
from rnnviz.lessons.names import EXAMPLES, language_label
from tests.app.conftest import open_page
from tests.i18n_helpers import english_sentences, page_texts

pytestmark = pytest.mark.usefixtures("app_env")

PAGE = "app_pages/names.py"
KEY = "names"
# Texts the figure builders write themselves (area viz, not this page): tolerated only while the
# viz catalogue does not translate them, so this test tightens by itself once it does.
FIGURE_DEFAULTS = [
    "No training steps yet. Press Train to start.",
    "No training steps yet",
    "Press Train to start",
    "Gradient norm before and after clipping",
    "No gradient norms yet. Press Train to start.",
    "No gradient norms yet",
    "Accuracy on the held-out 10% while training",
    "test balanced accuracy",
    "fraction of row",
    "Names per language",
    "Replay of training:",
    "after each letter of",
]


def figure_defaults() -> list[str]:
    with using("zh"):
        return [text for text in FIGURE_DEFAULTS if translate(text) == text]


def leftover_english(at: AppTest, *data: str) -> list[str]:
    """English sentences on the page, besides typed names and what unidecode made of them."""
    return english_sentences(page_texts(at), allow=[*data, *figure_defaults()])


def open_in_chinese() -> AppTest:
    return open_page(PAGE, timeout=90, lang="zh")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_language_labels_are_chinese_in_chinese_and_english_keys_stay():
    with using("zh"):
        assert [language_label(lang) for lang in ("English", "Russian", "Arabic")] == ["英语", "俄语", "阿拉伯语"]
        assert all(language_label(lang) != lang for lang in names.LANGUAGES)
        assert len({language_label(lang) for lang in names.LANGUAGES}) == len(names.LANGUAGES)
    assert language_label("Russian") == "Russian"


def test_the_page_before_training_speaks_chinese():
    at = open_in_chinese()
    assert at.title[0].value == "姓氏 → 国籍"
    assert any("输入一个姓氏" in i.value for i in at.info)  # nothing typed yet
    assert {"训练", "单步", "重置"} <= {b.label for b in at.button}
    assert at.sidebar.selectbox(key="names_cell").options == [
        "教程中的 RNN（输入 ⊕ 隐藏状态，sigmoid）", "普通 RNN (tanh)", "门控循环单元 (GRU)", "长短期记忆网络 (LSTM)"]
    assert leftover_english(at) == []


@pytest.mark.parametrize("typed, read_as", [("王小明", "Wang Xiao Ming"), ("Nakamura", "Nakamura")])
def test_a_typed_name_is_answered_in_chinese(typed, read_as):
    at = open_in_chinese()
    at.text_input(key="names_typed").input(typed).run()
    assert not at.exception, at.exception
    with using("zh"):
        labels = {language_label(lang) for lang in names.LANGUAGES}
    assert metrics(at)["#1"] in labels
    assert any("由预训练检查点读取" in m.value for m in at.markdown)
    assert leftover_english(at, typed, read_as) == []


def test_example_buttons_and_their_notes_in_chinese():
    at = open_in_chinese()
    at.button(key="names_example_0").click().run()  # Nakamura
    assert at.text_input(key="names_typed").value == "Nakamura"
    assert metrics(at)["#1"] == "日语"
    notes = {b.help for b in at.button if b.key and b.key.startswith("names_example_")}
    assert "日语，数据中有" in notes and "从未见过" in notes
    assert leftover_english(at, *(e.name for e in EXAMPLES)) == []


@pytest.mark.parametrize("typed, message", [
    ("   ", "输入一个姓氏"),
    ("😀", "没有可读的内容了"),
    ("Abcdefghij" * 5, "模型最多读取 40 个"),
])
def test_bad_input_gets_a_chinese_message(typed, message):
    at = open_in_chinese()
    at.text_input(key="names_typed").input(typed).run()
    assert not at.exception, at.exception
    assert any(message in i.value for i in at.info), [i.value for i in at.info]
    assert "#1" not in metrics(at)
    assert leftover_english(at, typed.strip()) == []


def test_after_a_training_step_metrics_figures_and_sections_speak_chinese():
    at = open_in_chinese()
    at.text_input(key="names_typed").input("Nakamura").run()
    at.button(key="names_step").click().run()
    assert not at.exception, at.exception
    assert at.session_state[KEY].lesson.step_count == 1
    shown = metrics(at)
    assert {"训练步数", "测试准确率", "平衡准确率", "“Nakamura”现在像"} <= shown.keys(), shown.keys()
    assert any("由本页的模型（第 1 个训练步）读取" in m.value for m in at.markdown)
    assert [r.options for r in at.radio if r.key == "names_answering"] == [["本页训练的模型", "预训练检查点"]]
    headers = [h.value for h in at.header]
    assert {"试一个姓氏", "训练你自己的模型", "数据", "预训练模型"} <= set(headers), headers
    text = " ".join(m.value for m in at.markdown)
    assert "只划分一次，且**按姓氏**划分" in text and "阿拉伯语有" in text
    assert leftover_english(at, "Nakamura") == []
    at.radio(key="names_answering").set_value("pretrained").run()
    assert not at.exception, at.exception
    assert any("由预训练检查点读取" in m.value for m in at.markdown)


def test_without_the_data_the_page_says_how_to_get_it_in_chinese(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNVIZ_NAMES_DIR", str(tmp_path / "no-names-here"))
    at = open_in_chinese()
    warning = " ".join(w.value for w in at.warning)
    assert "姓氏数据不可用" in warning and "不存在" in warning and "RNNVIZ_NAMES_DIR" in warning
    assert any("训练需要姓氏数据" in i.value for i in at.info)
    assert "重新尝试下载" in {b.label for b in at.button}
    assert leftover_english(at) == []
