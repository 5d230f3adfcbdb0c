"""The Character language model page in Chinese (?lang=zh): no English sentence left in what the page
itself says, in its main states (opened, after training steps, a typed prefix, a prefix the vocabulary
cannot read, the decoding methods, a pasted text that is too short, surnames of one language).

The corpus and the generated text are data, not UI: they are allowed. The internal texts of the
figure builders (axis titles, legends, the replay's panels) belong to rnnviz/viz and its catalogue;
here the charts are checked for the titles and subtitles this page passes them.
"""
import html
import re

import pytest

from tests.app.conftest import chart_specs, open_page
from tests.i18n_helpers import english_sentences, figure_texts, page_texts

pytestmark = pytest.mark.usefixtures("app_env")

PAGE = "app_pages/charlm.py"
KEY = "charlm"
PREFIX = "prefix"


def open_zh():
    at = open_page(PAGE, lang="zh")
    no_problem(at)
    return at


def no_problem(at) -> None:
    assert not at.exception, at.exception


def generated(at) -> list[str]:
    """The prefix and its continuation as shown (data, not UI)."""
    blocks = [m.value for m in at.markdown if "font-size:1.35rem" in m.value]
    return [html.unescape(re.sub(r"<[^>]+>", " ", b)) for b in blocks]


def titles_and_subtitles(at) -> list[str]:
    out = []
    for spec in chart_specs(at):
        if "cells" in spec:  # a grid of coloured cells
            out += [spec["title"], spec["subtitle"] or ""]
            continue
        title = spec.get("layout", {}).get("title", {})
        if isinstance(title, dict):
            out.append(title.get("text", ""))
            out.append((title.get("subtitle") or {}).get("text", ""))
    return [t for t in out if t]


def page_leftovers(at, allow=()) -> list[str]:
    """English sentences in everything the page shows but the charts' insides (those are viz's)."""
    in_charts = {t for spec in chart_specs(at) for t in figure_texts(spec)}
    texts = [t for t in page_texts(at) if t not in in_charts]
    return english_sentences(texts, allow=[*allow, *generated(at)])


def own_titles(at) -> list[str]:
    """Titles this page passes to the figure builders (the others come from viz's defaults)."""
    mine = ("“", "每个生成字符", "每个字符采样自", "前缀 + 续写", "按读入每个字符")
    return [t for t in titles_and_subtitles(at) if t.startswith(mine)]


def test_the_lyrics_page_opens_in_chinese():
    at = open_zh()
    assert at.title[0].value == "字符级语言模型"
    assert page_leftovers(at) == []
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["词表（不同字符数）"] == "1,027" and metrics["字符数"] == "10,000"
    assert metrics["验证部分（末尾 10%）"] == "1,000"
    assert any(m.value.startswith("### 未训练：验证困惑度") for m in at.markdown)
    assert "周杰伦歌词（前 10,000 个字符）" in [m.value.strip("*") for m in at.markdown]
    assert [h.value for h in at.main.header] == ["1 · 语料库", "2 · 把语料库切成小批量", "3 · 训练",
                                                 "4 · 根据前缀续写"]
    assert [h.value for h in at.sidebar.header] == ["语料库", "模型", "小批量", "训练"]
    assert at.radio(key="charlm_sb_corpus").options[0] == "周杰伦歌词（书中的语料库）"
    assert at.radio(key="charlm_sb_input").options == ["独热编码", "嵌入"]
    assert "在周杰伦歌词（前 10,000 个字符）上训练的 nn.RNN 256" in " ".join(c.value for c in at.caption)
    assert any(t.startswith("“分开”之后每个生成字符的最可能候选") for t in own_titles(at))
    assert english_sentences(own_titles(at)) == []


def test_training_steps_samples_and_the_replay_in_chinese():
    at = open_zh()
    for _step in range(3):
        at.button(key="charlm_step").click().run()
    at.button(key="charlm_train").click().run()
    at.run()
    at.button(key="charlm_train").click().run()  # pause
    no_problem(at)
    assert at.session_state[KEY].lesson.trainer.step_count >= 3
    assert any(m.value.startswith("### 训练困惑度") for m in at.markdown)
    assert any(m.value.startswith("**样本**（贪心") for m in at.markdown)
    assert at.subheader[0].value == "训练回放"
    assert any("随着模型的训练" in c.value for c in at.caption)
    assert any(t.startswith("“分开” → “") and t.endswith("此刻每个下一字符的候选") for t in own_titles(at))
    at.radio(key="charlm_source_jaychou_lyrics_10000").set_value("live").run()
    no_problem(at)
    assert page_leftovers(at) == []
    assert english_sentences(own_titles(at)) == []


def test_a_typed_prefix_and_prefixes_the_vocabulary_cannot_read():
    at = open_zh()
    at.text_input(key=PREFIX).input("分开").run()
    assert page_leftovers(at) == []
    at.text_input(key=PREFIX).input("分开Qz").run()
    no_problem(at)
    assert any(w.value.startswith("以下字符不在模型的词表中") and "“Q”" in w.value for w in at.warning)
    assert page_leftovers(at, allow=["分开Qz"]) == []
    at.text_input(key=PREFIX).input("Qz").run()
    no_problem(at)
    assert any("没有可以续写的内容" in e.value for e in at.error)
    assert page_leftovers(at, allow=["Qz"]) == []


@pytest.mark.parametrize("method, how", [("temperature", "以温度 2 采样"), ("top_k", "以温度 2 从前 5 个候选中采样")])
def test_the_decoding_methods_in_chinese(method, how):
    at = open_zh()
    at.radio(key="charlm_method").set_value(method).run()
    at.select_slider(key="charlm_temperature").set_value(2.0).run()
    no_problem(at)
    assert at.radio(key="charlm_method").options == ["贪心：总是选最可能的字符", "按温度采样", "从前 k 个候选中采样（按温度）"]
    assert any(t.startswith(how) for t in titles_and_subtitles(at))
    assert page_leftovers(at) == []
    assert english_sentences(own_titles(at)) == []


def test_a_pasted_text_that_is_too_short_is_refused_in_chinese():
    at = open_zh()
    at.radio(key="charlm_sb_corpus").set_value("custom").run()
    assert at.info[0].value == "请在侧边栏上传 UTF-8 文本文件或粘贴一些文本，用它来训练。"
    assert page_leftovers(at) == []
    at.text_area(key="charlm_sb_paste").input("tiny").run()
    no_problem(at)
    assert [e.value for e in at.error] == ["文本只有 4 个字符；语言模型至少需要 20 个（有几千个字符才能学到些东西）。"]
    assert page_leftovers(at) == []
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。\n" * 12
    at.text_area(key="charlm_sb_paste").input(poem).run()
    no_problem(at)
    assert any(e.value.startswith("训练部分（前 90%）有 270 个字符") and "批量大小 7、时间步数 35" in e.value
               for e in at.error)
    assert page_leftovers(at) == []


def test_surnames_of_one_language_in_chinese():
    at = open_zh()
    at.radio(key="charlm_sb_corpus").set_value("names").run()
    at.selectbox(key="charlm_sb_language").set_value("Italian").run()
    no_problem(at)
    assert at.selectbox(key="charlm_sb_language").options[:2] == ["阿拉伯语", "汉语"]
    assert any(re.fullmatch(r"\*\*意大利语姓氏（[\d,]+ 个，每行一个）\*\*", m.value) for m in at.markdown)
    assert page_leftovers(at) == []
