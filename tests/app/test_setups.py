"""Shareable set-ups (settings in the URL), a reload that loses nothing, reproducible seeds."""
import pytest
from streamlit.testing.v1 import AppTest

from rnnviz.ui.url import COPY_LINK_KEY
from tests.conftest import REPO_ROOT


def open_with(page: str, params: dict[str, str], token: str | None = None) -> AppTest:
    """A fresh session (a new browser tab) opening ``page`` with these query parameters."""
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    if token:
        at.session_state["_browser_token"] = token
    at.run()
    at.switch_page(page)
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    return at


SEQUENCE = "app_pages/sequence_basics.py"


def test_a_link_opens_sequence_basics_at_exactly_that_setup(app_env):
    at = open_with(SEQUENCE, {"task": "alphabet", "model": "gru", "hidden": "8", "clip": "1", "threshold": "0.5",
                              "seed": "7", "lr": "0.03", "speed": "20"})
    assert at.radio(key="sb_task").value == "alphabet"
    assert at.selectbox(key="sb_preset").value == "gru"
    assert at.slider(key="sb_hidden").value == 8
    assert at.toggle(key="sb_clip_on").value is True
    assert at.select_slider(key="sb_clip").value == 0.5
    assert at.number_input(key="sb_seed").value == 7
    config = at.session_state["sequence_basics"].lesson.config
    assert (config.task_key, config.preset, config.hidden_size, config.clip_threshold, config.seed,
            config.learning_rate) == ("alphabet", "gru", 8, 0.5, 7, 0.03)
    assert not at.toast  # nothing was ignored


def test_bad_values_in_a_link_are_ignored_with_a_notice(app_env):
    at = open_with(SEQUENCE, {"lr": "abc", "hidden": "999", "model": "transformer", "seed": "-4", "bogus": "1",
                              "task": "elloh"})
    assert not at.exception
    notice = " ".join(t.value for t in at.toast)
    for bad in ("lr=abc", "hidden=999", "model=transformer", "seed=-4", "bogus=1"):
        assert bad in notice
    assert at.slider(key="sb_hidden").value == 4  # the default, not 999
    assert at.radio(key="sb_task").value == "elloh"  # the good values still apply


def test_the_url_follows_the_settings(app_env):
    at = open_with(SEQUENCE, {})
    at.slider(key="sb_hidden").set_value(12).run()
    at.selectbox(key="sb_preset").set_value("lstm").run()
    assert at.query_params["hidden"] == "12" and at.query_params["model"] == "lstm"
    # and that URL, opened in a new session, gives the same set-up
    again = open_with(SEQUENCE, dict(at.query_params))
    assert again.session_state["sequence_basics"].lesson.config == at.session_state["sequence_basics"].lesson.config



def test_typed_text_is_in_the_offered_link_at_once_and_in_the_url_with_the_next_setting(app_env):
    at = open_with("app_pages/names.py", {"name": "Nakamura"})
    at.text_input(key="names_typed").input("Kowalski").run()
    # The browser writes typed text into its own address bar (rnnviz/ui/typed_url.js, browser-tested):
    # a keystroke sends no URL message from the server.
    assert at.query_params["name"] == "Nakamura"
    at.session_state[COPY_LINK_KEY] = True  # the "Copy link" popover, opened
    at.run()
    link = next(c.value for c in at.code if "?" in c.value)
    assert "name=Kowalski" in link and "cell=" in link
    at.select_slider(key="names_hidden").set_value(64).run()  # another setting: the server writes both
    assert at.query_params["hidden"] == "64" and at.query_params["name"] == "Kowalski"


def test_the_same_url_and_seed_give_the_same_training_curve(app_env):
    params = {"task": "alphabet", "model": "lstm", "hidden": "12", "seed": "3", "lr": "0.03"}
    histories = []
    for _ in range(2):
        at = open_with(SEQUENCE, params)
        for _ in range(6):
            at.button(key="sequence_basics_step").click().run()
        histories.append([(r.step, r.loss, r.grad_norm_before_clip)
                          for r in at.session_state["sequence_basics"].lesson.trainer.history.records])
    assert len(histories[0]) == 6
    assert histories[0] == histories[1]


def test_names_and_charlm_links_carry_the_typed_name_and_prefix(app_env):
    at = open_with("app_pages/names.py", {"cell": "lstm", "hidden": "64", "name": "Nakamura"})
    assert at.text_input(key="names_typed").value == "Nakamura"
    assert at.session_state["names"].lesson.config.cell == "lstm"
    assert any(m.value == "Japanese" for m in at.metric if m.label == "#1")
    at = open_with("app_pages/charlm.py", {"corpus": "names", "language": "Italian", "prefix": "Ros",
                                           "sampling": "random", "decoding": "top_k"})
    assert at.session_state["charlm"].lesson.config.corpus.key == "names:Italian"
    assert at.session_state["charlm"].lesson.config.sampling == "random"
    assert at.text_input(key="prefix").value == "Ros"
    assert at.query_params["prefix"] == "Ros"


def test_a_reload_in_the_same_browser_gets_the_trained_model_back(app_env):
    token = "reload-test-browser-token-1"
    first = open_with(SEQUENCE, {"task": "alphabet"}, token=token)
    for _ in range(5):
        first.button(key="sequence_basics_step").click().run()
    trained = first.session_state["sequence_basics"].lesson
    reloaded = open_with(SEQUENCE, dict(first.query_params), token=token)  # a new session, same browser
    assert reloaded.session_state["sequence_basics"].lesson is trained
    assert trained.step_count == 5
    assert any("Welcome back" in i.value for i in reloaded.info)
    stranger = open_with(SEQUENCE, dict(first.query_params), token="another-browsers-token-22")
    assert stranger.session_state["sequence_basics"].lesson.step_count == 0  # same set-up, own fresh model


@pytest.mark.parametrize("page,key,param,value,state_key", [
    ("app_pages/inside_gradients.py", "inside_gradients_delay", "delay", "7", "inside_gradients"),
    ("app_pages/inside_clipping.py", "inside_clipping_delay", "delay", "4", "inside_clipping"),
])
def test_inside_pages_take_their_setup_from_the_url(app_env, page, key, param, value, state_key):
    at = open_with(page, {param: value})
    assert at.slider(key=key).value == int(value)
    assert at.session_state[state_key].lesson.config.delay == int(value)
