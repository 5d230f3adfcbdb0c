"""AppTest: the Names → nationality page, as a student uses it."""
import pytest

from rnnviz.data import names
from rnnviz.lessons.names import EXAMPLES
from tests.app.conftest import chart_titles, open_page
from tests.conftest import SHARED_DATA

PAGE = "app_pages/names.py"
KEY = "names"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def lesson(at):
    return at.session_state[KEY].lesson


def test_typed_name_is_answered_at_once_by_the_pretrained_model(app_env):
    at = open_page(PAGE)
    assert at.title[0].value == "Names → nationality"
    assert any("softmax" in latex.value for latex in at.latex)
    assert lesson(at).pretrained is not None and lesson(at).step_count == 0
    assert any("Type a surname" in i.value for i in at.info)
    at.text_input(key="names_typed").input("Dostoevsky").run()
    assert not at.exception, at.exception
    shown = metrics(at)
    assert shown["#1"] == "Russian"
    assert {"#1", "#2", "#3"} <= shown.keys()
    assert any("read by the pretrained checkpoint" in m.value for m in at.markdown)
    charts = chart_titles(at)
    assert any("after each letter of “Dostoevsky”" in spec for spec in charts)  # languages × letters
    assert any("Hidden state h_t while reading “Dostoevsky”" in spec for spec in charts)


def test_example_button_fills_the_name(app_env):
    at = open_page(PAGE)
    at.button(key="names_example_0").click().run()  # Nakamura
    assert at.text_input(key="names_typed").value == "Nakamura"
    assert metrics(at)["#1"] == "Japanese"


def test_never_seen_examples_are_buttons_that_fill_the_name(app_env):
    at = open_page(PAGE)
    unseen = [(i, e) for i, e in enumerate(EXAMPLES) if not e.in_data]
    assert len(unseen) >= 3
    for i, example in unseen:
        at.button(key=f"names_example_{i}").click().run()
        assert not at.exception, at.exception
        assert at.text_input(key="names_typed").value == example.name
        assert "#1" in metrics(at)


def test_the_data_section_counts_duplicates_and_splits_by_name(app_env):
    at = open_page(PAGE)
    # the facts, read off the files: every line as the model reads it
    lines = {lang: [kept for line in (SHARED_DATA / "names" / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
                    if (kept := names.normalise_name(line).kept)] for lang in names.LANGUAGES}
    rows = sum(len(v) for v in lines.values())
    distinct = len({name for v in lines.values() for name in v})
    data = lesson(at).data
    held_out = {data.dataset.names[i] for i in data.test_idx}
    trained = {data.dataset.names[i] for i in data.train_idx}
    assert not held_out & trained
    text = " ".join(m.value for m in at.markdown)
    assert f"**{rows:,} surnames**" in text
    assert f"Only **{distinct:,}** are distinct" in text and f"**{rows - distinct:,}** lines repeat a name" in text
    assert f"{len(lines['Arabic']):,} lines but {len(set(lines['Arabic'])):,} names" in text
    assert "Split once, **by name**" in text and "no held-out name is ever trained on" in text
    assert f"**{len(held_out):,}** names (**{len(data.test_idx):,}** lines) held out" in text
    assert f"**{len(data.train_idx):,}** lines to train on" in text
    assert "10% of every language" not in text


@pytest.mark.parametrize("typed, message", [
    ("   ", "Type a surname"),
    ("😀", "Nothing is left to read"),
    ("Abcdefghij" * 5, "at most 40"),
])
def test_unreadable_input_gets_a_message_not_a_trace(app_env, typed, message):
    at = open_page(PAGE)
    at.text_input(key="names_typed").input(typed).run()
    assert not at.exception, at.exception
    assert any(message in i.value for i in at.info)
    assert "#1" not in metrics(at)


def test_transliteration_is_shown(app_env):
    at = open_page(PAGE)
    at.text_input(key="names_typed").input("王小明").run()
    assert not at.exception, at.exception
    assert any("“王小明” → **“Wang Xiao Ming”**" in m.value for m in at.markdown)
    assert "#1" in metrics(at)


def test_train_then_pause_shows_scores_per_language_and_the_confusion_matrix(app_env):
    at = open_page(PAGE)
    at.text_input(key="names_typed").input("Nakamura").run()
    at.button(key="names_train").click().run()
    for _ in range(10):
        if lesson(at).step_count >= 20:
            break
        at.run()  # each run is one training tick of the live fragment
    at.button(key="names_train").click().run()  # pause: the page scores the model now
    assert not at.exception, at.exception
    assert at.session_state[KEY].playing is False
    steps = lesson(at).step_count
    assert steps > 0
    evaluation = lesson(at).latest_evaluation
    assert evaluation.step == steps
    shown = metrics(at)
    assert shown["Test accuracy"] == f"{evaluation.test.accuracy:.1%}"
    assert "Balanced accuracy" in shown and "“Nakamura” now looks" in shown
    specs = chart_titles(at)
    assert any("Accuracy per language (step" in spec for spec in specs)
    assert any("Confusion matrix" in spec for spec in specs)
    assert any("Accuracy on the held-out 10%" in spec for spec in specs)
    # the typed name is now read by the page's own model, with a choice to go back
    assert any("this page's model" in m.value for m in at.markdown)
    at.radio(key="names_answering").set_value("pretrained").run()
    assert any("read by the pretrained checkpoint" in m.value for m in at.markdown)


def test_architecture_change_starts_a_new_model_and_says_so(app_env):
    at = open_page(PAGE)
    at.button(key="names_step").click().run()
    assert lesson(at).step_count == 1
    at.sidebar.select_slider(key="names_hidden").set_value(32).run()
    assert not at.exception, at.exception
    assert lesson(at).step_count == 0 and lesson(at).config.hidden_size == 32
    assert any("re-initialised" in i.value for i in at.info)
    at.sidebar.selectbox(key="names_cell").set_value("tutorial").run()
    assert lesson(at).config.cell == "tutorial"
    at.button(key="names_step").click().run()
    assert lesson(at).step_count == 1 and not at.exception


def test_without_the_data_the_page_still_answers_and_says_how_to_get_it(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("RNNVIZ_NAMES_DIR", str(tmp_path / "no-names-here"))
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert not lesson(at).can_train
    warning = " ".join(w.value for w in at.warning)
    assert "names data is not available" in warning and "RNNVIZ_NAMES_DIR" in warning and "data.zip" in warning
    at.text_input(key="names_typed").input("Nguyen").run()
    assert metrics(at)["#1"] == "Vietnamese"
