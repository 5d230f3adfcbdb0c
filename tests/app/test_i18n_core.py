"""AppTest: the core's stop message reaches a page in the page's language.

The reason is created where training runs: Step's callback and the live fragment's tick, which run in
a fresh context and find the session's language through the i18n fallback. Only the message is
checked here (the page's own texts are its translator's tests).
"""
import re

import pytest
import torch

from tests.app.conftest import open_page
from tests.i18n_helpers import english_sentences

pytestmark = pytest.mark.usefixtures("app_env")

PAGE = "app_pages/sequence_basics.py"
KEY = "sequence_basics"
CJK = re.compile(r"[\u4e00-\u9fff]")


def poisoned_page(lang: str):
    """The page with its model's output weights set to infinity: the next step's loss is NaN."""
    at = open_page(PAGE, lang=lang)
    with torch.no_grad():
        at.session_state[KEY].lesson.model.head.weight.fill_(float("inf"))
    return at


def stop_messages(at) -> list[str]:
    return [e.value for e in at.error if "NaN" in e.value]


def test_the_nan_stop_message_is_chinese_on_a_chinese_page():
    """Step trains in its callback (a fresh context); the live fragment shows the reason. (Train's
    ticks yield to full page runs, which every AppTest run is: tests/unit/test_i18n_core.py runs a
    tick's training in a fresh context, and the browser check presses Train.)"""
    at = poisoned_page("zh")
    at.button(key=f"{KEY}_step").click().run()
    assert not at.exception, at.exception
    assert at.session_state[KEY].lesson.trainer.stopped
    messages = stop_messages(at)
    assert len(messages) == 1, [e.value for e in at.error]
    assert CJK.search(messages[0]) and english_sentences(messages) == [], messages
    assert "第 1 个训练步" in messages[0] and "“重置”" in messages[0]
    assert at.session_state[KEY].playing is False


def test_the_stop_message_follows_a_switch_of_language():
    at = poisoned_page("en")
    at.button(key=f"{KEY}_step").click().run()
    assert stop_messages(at)[0].startswith("The loss became NaN (not a number) at step 1, so training stopped.")
    at.sidebar.get("button_group")[0].set_value("zh").run()
    assert not at.exception, at.exception
    assert CJK.search(stop_messages(at)[0]) and english_sentences(stop_messages(at)) == []
