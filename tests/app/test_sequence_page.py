"""AppTest: the home page and the Sequence basics page, as a student uses them."""
import pytest

from tests.app.conftest import chart_specs, chart_titles, open_page, open_tab

PAGE = "app_pages/sequence_basics.py"
TABS = "sequence_basics_inside_tab"


def predicted_line(at) -> str:
    lines = [m.value for m in at.markdown if m.value.startswith("### Predicted")]
    assert lines, "no prediction line on the page"
    return lines[0]


def test_home_page_lists_the_lessons_and_shows_the_recurrence(app_env):
    at = open_page("")
    assert "rnnviz" in at.title[0].value
    assert any("h_t" in latex.value for latex in at.latex)
    assert any("Sequence basics" in m.value for m in at.markdown)


def test_train_until_the_model_predicts_ohlol(app_env):
    at = open_page(PAGE)
    assert "untrained" in predicted_line(at)
    at.button(key="sequence_basics_train").click().run()
    for _ in range(30):
        if "Predicted: `ohlol`" in predicted_line(at):
            break
        at.run()  # each run is one training tick of the live fragment
    assert not at.exception, at.exception
    assert "Predicted: `ohlol`" in predicted_line(at)
    assert "matches the target" in predicted_line(at)
    # pausing keeps the model; the inspection views are charts
    at.button(key="sequence_basics_train").click().run()
    assert at.session_state["sequence_basics"].playing is False
    epochs = at.session_state["sequence_basics"].lesson.trainer.step_count
    assert epochs > 0
    at.run()
    assert at.session_state["sequence_basics"].lesson.trainer.step_count == epochs
    charts = chart_specs(at)
    assert len(charts) >= 4  # loss, gradient norms, hidden state, softmax...


def test_step_and_reset(app_env):
    at = open_page(PAGE)
    at.button(key="sequence_basics_step").click().run()
    at.button(key="sequence_basics_step").click().run()
    assert at.session_state["sequence_basics"].lesson.trainer.step_count == 2
    at.button(key="sequence_basics_reset").click().run()
    assert at.session_state["sequence_basics"].lesson.trainer.step_count == 0
    assert not at.exception


def test_changing_the_architecture_resets_with_a_notice(app_env):
    at = open_page(PAGE)
    at.button(key="sequence_basics_step").click().run()
    at.slider(key="sb_hidden").set_value(8).run()
    lesson = at.session_state["sequence_basics"].lesson
    assert lesson.model.config.hidden_size == 8 and lesson.trainer.step_count == 0
    assert any("re-initialised" in i.value for i in at.info)


@pytest.mark.parametrize("preset", ["scratch", "rnn_cell", "embed_rnn", "lstm", "gru"])
def test_every_model_choice_renders_and_steps(app_env, preset):
    at = open_page(PAGE)
    at.selectbox(key="sb_preset").set_value(preset).run()
    at.radio(key="sb_layers").set_value(2).run()
    at.button(key="sequence_basics_step").click().run()
    assert not at.exception, at.exception
    assert at.session_state["sequence_basics"].lesson.model.config.num_layers == 2


@pytest.mark.parametrize("source,target,message", [
    ("hello", "abc", "same length"),
    ("", "abc", "both"),
    ("a" * 50, "b" * 50, "at most"),
])
def test_bad_custom_pairs_show_a_message_not_an_exception(app_env, source, target, message):
    at = open_page(PAGE)
    at.radio(key="sb_task").set_value("custom").run()
    at.text_input(key="sb_custom_input").input(source).run()
    at.text_input(key="sb_custom_target").input(target).run()
    assert not at.exception
    assert any(message in e.value for e in at.error)


def test_custom_non_latin_pair_trains(app_env):
    at = open_page(PAGE)
    at.radio(key="sb_task").set_value("custom").run()
    at.text_input(key="sb_custom_input").input("Ωμέγα").run()
    at.text_input(key="sb_custom_target").input("μέγαΩ").run()
    at.button(key="sequence_basics_step").click().run()
    assert not at.exception and not at.error


def test_prediction_widget_handles_unknown_and_emoji(app_env):
    at = open_tab(open_page(PAGE), TABS, "Try it")
    at.text_input(key="sequence_basics_typed_ohlol").input("he😀王").run()
    assert not at.exception
    assert any("😀" in w.value and "王" in w.value for w in at.warning)
    at.text_input(key="sequence_basics_typed_ohlol").input("   ").run()
    assert not at.exception and at.info


def test_alphabet_page_reports_all_successors_after_training(app_env):
    at = open_page(PAGE)
    at.radio(key="sb_task").set_value("alphabet").run()
    open_tab(at, TABS, "Try it")
    at.select_slider(key="sb_speed").set_value(0).run()
    at.button(key="sequence_basics_train").click().run()
    for _ in range(10):
        at.run()
        if at.session_state["sequence_basics"].lesson.trainer.step_count >= 200:
            break
    at.button(key="sequence_basics_train").click().run()
    assert any("25 of 25 right" in m.value for m in at.markdown)


def test_generalisation_experiment_shows_both_accuracies(app_env):
    at = open_tab(open_page(PAGE), TABS, "Generalisation")
    at.radio(key="sequence_basics_split").set_value("tail").run()
    at.button(key="sequence_basics_run_generalisation").click().run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert any("training windows" in label for label in labels) and any("unseen" in label for label in labels)


def test_the_page_builds_only_its_open_tab(app_env):
    """Only the open tab of "Inside the model" is built and sent (a page opens sooner); opening
    another shows its content and drops the previous tab's."""
    at = open_page(PAGE)
    titles = chart_titles(at)
    assert "Hidden state h_t while reading “hello”" in titles
    assert "Softmax at each step while reading “hello”" not in titles
    open_tab(at, TABS, "Softmax at each step")
    titles = chart_titles(at)
    assert "Softmax at each step while reading “hello”" in titles
    assert "Hidden state h_t while reading “hello”" not in titles
