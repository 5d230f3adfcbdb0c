"""AppTest: the Character language model page, as a student uses it."""
import pytest

from tests.app.conftest import chart_specs, chart_titles, open_page, open_tab

PAGE = "app_pages/charlm.py"
KEY = "charlm"
SOURCE = "charlm_source_jaychou_lyrics_10000"
PREFIX = "prefix"


def lesson(at):
    return at.session_state[KEY].lesson


def generated_text(at) -> str:
    blocks = [m.value for m in at.markdown if "font-size:1.35rem" in m.value]
    assert blocks, "no generated text on the page"
    return blocks[0]


def no_problem(at) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_opens_on_the_books_lyrics_and_continues_fen_kai_with_the_checkpoint(app_env):
    at = open_page(PAGE)
    no_problem(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Vocabulary (distinct characters)"] == "1,027" and metrics["Characters"] == "10,000"
    assert metrics["Validation tail (last 10%)"] == "1,000"
    assert any(m.value.startswith("### Untrained: validation perplexity") for m in at.markdown)
    assert at.radio(key=SOURCE).value == "pretrained"
    text = generated_text(at)
    assert "<b>分开</b>" in text  # the prefix, then 40 memorised characters
    assert len(lesson(at).prepared.corpus.text) == 10_000
    assert len(chart_specs(at)) >= 5  # minibatches, perplexity, gradient norm, softmax views, ...


def test_step_train_pause_measures_validation_and_samples(app_env):
    at = open_page(PAGE)
    at.button(key="charlm_step").click().run()
    assert lesson(at).trainer.step_count == 1 and lesson(at).latest.step == 1  # paused: measured at once
    at.button(key="charlm_train").click().run()
    for _ in range(3):
        at.run()  # each run is one training tick of the live fragment
    at.button(key="charlm_train").click().run()
    no_problem(at)
    state = at.session_state[KEY]
    assert state.playing is False and state.lesson.trainer.step_count > 1
    assert state.lesson.latest.step == state.lesson.trainer.step_count
    assert any(m.value.startswith("### Training perplexity") for m in at.markdown)
    assert any("分开 → " in c.value and "不分开 → " in c.value for c in at.code)
    # generation from the model trained here
    at.radio(key=SOURCE).set_value("live").run()
    no_problem(at)
    assert "<b>分开</b>" in generated_text(at)


def test_prefix_characters_outside_the_vocabulary_are_named(app_env):
    at = open_page(PAGE)
    at.text_input(key=PREFIX).input("分开Qz😀").run()
    assert not at.exception
    assert any("“Q”" in w.value and "😀" in w.value for w in at.warning)
    assert "<b>分开</b>" in generated_text(at)
    at.text_input(key=PREFIX).input("Qz").run()
    assert not at.exception
    assert any("nothing to continue" in e.value for e in at.error)


@pytest.mark.parametrize("method", ["temperature", "top_k"])
def test_sampling_methods_render(app_env, method):
    at = open_page(PAGE)
    at.radio(key="charlm_method").set_value(method).run()
    at.select_slider(key="charlm_temperature").set_value(2.0).run()
    no_problem(at)
    assert "<b>分开</b>" in generated_text(at)


def test_pasted_text_too_short_for_the_minibatch_suggests_values_then_trains(app_env):
    at = open_page(PAGE)
    at.radio(key="charlm_sb_corpus").set_value("custom").run()
    assert not at.exception and at.info  # asks for a text
    at.text_area(key="charlm_sb_paste").input("tiny").run()
    assert not at.exception and any("at least 20" in e.value for e in at.error)
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。\n" * 12  # 300 characters
    at.text_area(key="charlm_sb_paste").input(poem).run()
    assert not at.exception
    assert any("batch size" in e.value and "steps" in e.value for e in at.error)  # 32 × 35 does not fit
    at.select_slider(key="charlm_sb_batch").set_value(4).run()
    at.select_slider(key="charlm_sb_steps").set_value(20).run()
    no_problem(at)
    at.button(key="charlm_step").click().run()
    no_problem(at)
    assert lesson(at).vocab_size == len(set(poem)) and lesson(at).trainer.step_count == 1
    assert any(r.value == "custom" for r in at.radio if r.key == "charlm_sb_corpus")


def test_surnames_of_one_language_and_settings_changes(app_env):
    at = open_page(PAGE)
    at.radio(key="charlm_sb_corpus").set_value("names").run()
    at.selectbox(key="charlm_sb_language").set_value("Italian").run()
    no_problem(at)
    assert lesson(at).prepared.corpus.key == "names:Italian"
    at.radio(key="charlm_sb_sampling").set_value("random").run()
    assert any("zero hidden state" in m.value for m in at.markdown)
    at.button(key="charlm_step").click().run()
    at.select_slider(key="charlm_sb_lr").set_value(0.01).run()
    assert lesson(at).trainer.step_count == 1  # a new learning rate keeps the model
    at.select_slider(key="charlm_sb_hidden").set_value(64).run()
    no_problem(at)
    assert lesson(at).trainer.step_count == 0 and lesson(at).model.config.hidden_size == 64
    assert any("re-initialised" in i.value for i in at.info)


def test_shakespeare_opens_with_its_own_checkpoint(app_env):
    at = open_page(PAGE)
    at.radio(key="charlm_sb_corpus").set_value("shakespeare").run()
    no_problem(at)
    assert lesson(at).vocab_size == 65 and len(lesson(at).prepared.corpus.text) == 1_115_394
    assert at.radio(key="charlm_source_tinyshakespeare_all").value == "pretrained"
    assert "<b>ROMEO:</b>" in generated_text(at)
    at.text_input(key="prefix").input("分开").run()  # lyrics prefix, English model
    assert not at.exception and any("nothing to continue" in e.value for e in at.error)



def test_each_corpus_starts_at_its_own_sample_prefix_and_gets_back_what_was_typed_for_it(app_env):
    at = open_page(PAGE)
    assert at.text_input(key=PREFIX).value == "分开"  # the lyrics' sample prefix
    at.text_input(key=PREFIX).input("我的").run()
    at.radio(key="charlm_sb_corpus").set_value("shakespeare").run()
    no_problem(at)
    assert at.text_input(key=PREFIX).value == "ROMEO:"  # a lyrics prefix means nothing to Shakespeare
    assert "<b>ROMEO:</b>" in generated_text(at)
    at.radio(key="charlm_sb_corpus").set_value("lyrics").run()
    assert at.text_input(key=PREFIX).value == "我的"
    assert "<b>我的</b>" in generated_text(at)


def test_only_the_open_view_of_the_continuation_is_drawn(app_env):
    """Each keystroke in the prefix box redraws the open tab's charts, not those of all three."""
    at = open_page(PAGE)
    views = [t.startswith(("Top candidates for each character", "The distribution each character",
                           "Hidden state h_t (top layer) over prefix", "The text coloured by hidden unit"))
             for t in chart_titles(at)]
    assert sum(views) == 2 and any(t.startswith("Top candidates") for t in chart_titles(at))
    open_tab(at, "charlm_generation_views", "Hidden states")
    no_problem(at)
    titles = chart_titles(at)
    assert any(t.startswith("Hidden state h_t (top layer) over prefix") for t in titles)
    assert not any(t.startswith(("Top candidates for each character", "The text coloured")) for t in titles)
    open_tab(at, "charlm_generation_views", "Colour the text by one unit")
    no_problem(at)
    assert any(t.startswith("The text coloured by hidden unit") for t in chart_titles(at))
