"""The server's keeper of lessons after their tab goes: bounded in count, memory and age."""
import time
from types import SimpleNamespace

from rnnviz.lessons.sequence import SequenceLesson, SequenceLessonConfig
from rnnviz.ui.keep import LessonKeeper, lesson_nbytes


def state(hidden: int = 4) -> SimpleNamespace:
    return SimpleNamespace(lesson=SequenceLesson(SequenceLessonConfig(hidden_size=hidden)))


def test_a_lesson_comes_back_only_to_its_own_browser_and_page():
    keeper = LessonKeeper()
    mine = state()
    keeper.put("browser-a", "names", mine)
    assert keeper.get("browser-a", "names") is mine
    assert keeper.get("browser-b", "names") is None
    assert keeper.get("browser-a", "charlm") is None


def test_the_oldest_go_first_when_too_many_and_their_browser_is_told():
    keeper = LessonKeeper(max_lessons=3)
    for i in range(5):
        keeper.put(f"b{i}", "p", state())
    assert len(keeper) == 3
    assert keeper.get("b0", "p") is None and keeper.was_dropped("b0", "p")
    assert keeper.get("b4", "p") is not None and not keeper.was_dropped("b4", "p")
    keeper.put("b2", "p", state())  # used again: now the newest
    keeper.put("b5", "p", state())
    assert keeper.get("b2", "p") is not None and keeper.get("b3", "p") is None


def test_memory_is_bounded_by_the_lessons_estimated_size():
    big = state(hidden=64)
    size = lesson_nbytes(big.lesson)
    params = sum(p.numel() * 4 for p in big.lesson.model.parameters())
    assert size >= 3 * params  # weights and Adam's two moments
    keeper = LessonKeeper(max_bytes=int(2.5 * size))
    for i in range(4):
        keeper.put(f"b{i}", "p", state(hidden=64))
    assert len(keeper) == 2 and keeper.nbytes <= 2.5 * size


def test_lessons_expire_after_a_while():
    keeper = LessonKeeper(max_age_seconds=0.2)
    keeper.put("b", "p", state())
    time.sleep(0.3)
    assert keeper.get("b", "p") is None and keeper.was_dropped("b", "p")


def test_a_lesson_still_training_is_kept_and_an_idle_one_goes_without_anyone_asking():
    keeper = LessonKeeper(max_age_seconds=0.3)
    training, idle = state(), state()
    keeper.put("b", "training", training)
    keeper.put("b", "idle", idle)
    for _ in range(4):  # a session that keeps ticking: its lesson stays, though put long ago
        time.sleep(0.1)
        training.last_active = time.monotonic()
    keeper.expire()  # as the server's janitor does, with no page asking
    assert len(keeper) == 1 and keeper.was_dropped("b", "idle")
    assert keeper.get("b", "training") is training
