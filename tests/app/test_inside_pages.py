"""AppTest: the three "Inside the RNN" pages."""
from tests.app.conftest import chart_spec, chart_titles, open_page


def test_shapes_and_gates_page(app_env):
    at = open_page("app_pages/inside_shapes_gates.py")
    assert not at.exception, at.exception
    at.radio(key="inside_shapes_cell").set_value("lstm").run()
    at.toggle(key="inside_shapes_bi").set_value(True).run()
    assert any("bidirectional=True" in c.value for c in at.code)
    assert any("max |difference|" in s.value for s in at.success)
    at.radio(key="inside_shapes_source").set_value("gru").run()
    at.text_input(key="inside_shapes_text").input("王 hi 😀").run()  # any visible text can be learned
    assert not at.exception, at.exception
    lesson = at.session_state["inside_shapes_gates"].lesson
    assert (lesson.task.display_input, lesson.task.display_target) == ("王 hi ", " hi 😀")
    at.text_input(key="inside_shapes_text").input("a").run()
    assert not at.exception
    assert any("at least two characters" in e.value for e in at.error)


def test_gates_move_while_the_model_learns_the_text(app_env):
    at = open_page("app_pages/inside_shapes_gates.py")
    at.radio(key="inside_shapes_source").set_value("lstm").run()
    before = chart_spec(at, "The LSTM's gates, now")
    assert [a["text"] for a in before["layout"]["annotations"]][:4] == [
        "input gate i", "forget gate f", "candidate g", "output gate o"]
    for _ in range(3):
        at.button(key="inside_shapes_gates_step").click().run()
    lesson = at.session_state["inside_shapes_gates"].lesson
    assert lesson.step_count == 3
    after = chart_spec(at, "The LSTM's gates, now")
    changed = [b["z"] != a["z"] for b, a in zip(before["data"], after["data"])]
    assert all(changed), changed  # every gate, c_t and h_t moved with three optimizer steps
    assert lesson.replay.steps == [0, 1, 2, 3]


def test_shapes_page_uses_the_model_trained_in_sequence_basics(app_env):
    at = open_page("app_pages/inside_shapes_gates.py")
    assert "basics" not in at.radio(key="inside_shapes_source").options[0]  # nothing trained yet: fresh cells only
    at.switch_page("app_pages/sequence_basics.py")
    at.run()
    at.button(key="sequence_basics_step").click().run()
    at.button(key="sequence_basics_step").click().run()
    basics = at.session_state["sequence_basics"].lesson
    assert basics.trainer.step_count == 2
    at.switch_page("app_pages/inside_shapes_gates.py")
    at.run()
    assert not at.exception
    source = at.radio(key="inside_shapes_source")
    assert source.options[0] == "the model you trained in Sequence basics (RNN, 2 epochs)"
    assert source.value == "basics"
    # the traced input is that task's own input, read by that model
    assert at.text_input(key="inside_shapes_text_basics").value == basics.task.display_input
    assert f"Step by step: the RNN reading “{basics.task.display_input}” (press ▶)" in chart_titles(at)


def test_gradients_page_race_steps_and_records(app_env):
    at = open_page("app_pages/inside_gradients.py")
    at.slider(key="inside_gradients_delay").set_value(5).run()
    at.button(key="inside_gradients_step").click().run()
    at.button(key="inside_gradients_step").click().run()
    race = at.session_state["inside_gradients"].lesson.race
    assert race.step_count == 2
    assert all(len(e.recorder.rows) == 2 for e in race.entries)
    at.slider(key="inside_gradients_rho").set_value(0.5).run()
    assert not at.exception
    assert any("orders of magnitude" in c.value for c in at.caption)


def test_clipping_page_trains_both_runs(app_env):
    at = open_page("app_pages/inside_clipping.py")
    at.button(key="inside_clipping_train").click().run()
    race = at.session_state["inside_clipping"].lesson.race
    clipped, unclipped = race.entries
    assert clipped.trainer.config.clip_threshold == 1.0 and unclipped.trainer.config.clip_threshold is None
    first = [e.trainer.step_count for e in race.entries]
    assert first[0] > 0 and first[0] == first[1] == race.step_count
    for _ in range(3):
        at.run()
    # every page run while playing trained both runs further, in step
    grown = [e.trainer.step_count for e in race.entries]
    assert grown[0] > first[0] and grown[0] == grown[1] == race.step_count
    # every step recorded (the history thins its oldest records past its limit, never the newest)
    assert all(e.trainer.history.last.step == e.trainer.step_count for e in race.entries)
    at.button(key="inside_clipping_train").click().run()  # Pause
    paused = [e.trainer.step_count for e in race.entries]
    at.run()
    assert [e.trainer.step_count for e in race.entries] == paused
    assert not at.exception

    kept = clipped.trainer.history.records
    free = unclipped.trainer.history.records
    assert all(r.grad_norm_after_clip <= 1.0 + 1e-5 for r in kept)
    assert all(r.grad_norm_before_clip > 1.0 for r in kept if r.clipped)
    assert not any(r.clipped for r in free) and all(r.grad_norm_after_clip == r.grad_norm_before_clip for r in free)
    # Same seed, same minibatches: identical until the first clipped step changes the update, different after.
    first_clip = next(r.step for r in kept if r.clipped)
    assert first_clip < len(kept)
    assert [r.loss for r in kept[:first_clip]] == [r.loss for r in free[:first_clip]]
    assert kept[first_clip].loss != free[first_clip].loss
    assert sum(a.loss != b.loss for a, b in zip(kept[first_clip:], free[first_clip:])) > len(kept[first_clip:]) // 2
