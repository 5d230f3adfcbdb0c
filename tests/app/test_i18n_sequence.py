"""The Sequence basics page in Chinese (?lang=zh): sidebar, prediction line, every tab, typed input,
bad custom pairs, the generalisation experiment; no English sentence left."""
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import chart_titles, open_page, open_tab
from tests.i18n_helpers import english_sentences, page_texts

pytestmark = pytest.mark.usefixtures("app_env")

PAGE = "app_pages/sequence_basics.py"
TABS = "sequence_basics_inside_tab"
# Texts the figure builders of rnnviz/viz write themselves (empty-chart notes, default titles, replay
# panels): the viz area translates them. Listed so this test checks what the page itself says.
VIZ_OWNED = [
    "No training steps yet. Press Train to start.",
    "No gradient norms yet. Press Train to start.",
    "Gradient norm before and after clipping",
    "Replay of training: reading",
    "softmax at each timestep",
]


def open_zh() -> AppTest:
    return open_page(PAGE, lang="zh")


def english_left(at: AppTest, allow=()) -> list[str]:
    return english_sentences(page_texts(at), allow=[*VIZ_OWNED, *allow])


def predicted_line(at) -> str:
    lines = [m.value for m in at.markdown if m.value.startswith("### 预测")]
    assert lines, [m.value for m in at.markdown]
    return lines[0]


def step(at: AppTest, times: int = 1) -> None:
    for _i in range(times):
        at.button(key="sequence_basics_step").click().run()
    assert not at.exception, at.exception


def test_the_page_speaks_chinese_before_and_after_training_steps():
    at = open_zh()
    assert at.title[0].value == "序列基础"
    assert "未训练" in predicted_line(at) and "按 **训练** 开始" in predicted_line(at)
    assert [t.label for t in at.tabs] == ["隐藏状态", "每个时间步的 softmax", "训练回放", "动手试试", "张量形状", "泛化"]
    assert {h.value for h in at.sidebar.header} >= {"任务", "模型", "训练"}
    assert at.sidebar.radio(key="sb_task").options == ["字母表：下一个字母", "hello → ohlol", "hello → elloh",
                                                        "你自己的一对字符串"]
    assert "nn.RNN（独热编码输入）" in at.sidebar.selectbox(key="sb_preset").options
    assert at.sidebar.select_slider(key="sb_speed").options[-1] == "尽可能多"
    assert english_left(at) == []

    step(at, 3)
    assert "第 **3** 轮" in predicted_line(at) and "损失" in predicted_line(at)
    titles = chart_titles(at)
    assert "当前每个时间步的 softmax（读取“hello”）" in titles
    assert "读取“hello”时的隐藏状态 h_t" in titles
    assert english_left(at) == []
    for label in [t.label for t in at.tabs][1:]:  # a page builds only its open tab: open each
        open_tab(at, TABS, label)
        assert english_left(at) == [], label


def test_lstm_gates_and_layers_in_chinese():
    at = open_zh()
    at.selectbox(key="sb_preset").set_value("lstm").run()
    at.radio(key="sb_layers").set_value(2).run()
    step(at)
    gate = at.radio(key="sequence_basics_gate")
    assert gate.label == "门" and gate.options == ["输入门 i", "遗忘门 f", "候选记忆细胞 g", "输出门 o"]
    gate.set_value("forget gate f").run()
    assert not at.exception, at.exception
    titles = chart_titles(at)
    assert "每个时间步的遗忘门 f（最上层）" in titles and "LSTM 细胞状态 c_t（最上层）" in titles
    assert "读取“hello”时的隐藏状态 h_t（第 2 层）" in titles
    assert english_left(at) == []
    open_tab(at, TABS, "张量形状")
    assert any(m.value.startswith("**nn.LSTM — 整个序列，2 层**") for m in at.markdown)
    assert english_left(at) == []


def test_typed_input_and_its_messages_in_chinese():
    at = open_tab(open_zh(), TABS, "动手试试")
    at.text_input(key="sequence_basics_typed_ohlol").input("he😀王").run()
    assert not at.exception, at.exception
    assert [w.value for w in at.warning] == ["已跳过模型没有对应输入的字符：“😀”、“王”。它只认识：h e l o"]
    assert english_left(at, allow=["h e l o"]) == []
    at.text_input(key="sequence_basics_typed_ohlol").input("   ").run()
    assert [i.value for i in at.info if "请输入" in i.value] == ["请输入由本任务的字符组成的内容：h e l o"]
    assert english_left(at, allow=["h e l o"]) == []


@pytest.mark.parametrize("source, target, message", [
    ("hello", "abc", "输入有 5 个字符，目标有 3 个"),
    ("", "abc", "请同时输入输入字符串和目标字符串。"),
    ("a" * 50, "b" * 50, "每个字符串最多 40 个字符"),
    ("a\u200bb", "abc", "是控制字符或不可见字符"),
])
def test_bad_custom_pairs_are_explained_in_chinese(source, target, message):
    at = open_zh()
    at.radio(key="sb_task").set_value("custom").run()
    at.text_input(key="sb_custom_input").input(source).run()
    at.text_input(key="sb_custom_target").input(target).run()
    assert not at.exception, at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert english_left(at) == []


def test_a_custom_pair_and_the_alphabet_generalisation_in_chinese():
    at = open_zh()
    at.radio(key="sb_task").set_value("custom").run()
    assert any(m.value.startswith("**hihell → ihello。** 你自己的一对字符串。") for m in at.markdown)
    at.radio(key="sb_task").set_value("alphabet").run()
    assert any("个隐藏单元相当勉强" in c.value for c in at.caption)
    open_tab(at, TABS, "泛化")
    at.radio(key="sequence_basics_split").set_value("tail").run()
    assert at.radio(key="sequence_basics_split").options[1] == "字母表末尾（模型从未见过的字母对）"
    at.button(key="sequence_basics_run_generalisation").click().run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert any("个训练窗口上的准确率" in label for label in labels), labels
    assert any("个未见过的窗口上的准确率" in label for label in labels), labels
    assert english_left(at) == []
