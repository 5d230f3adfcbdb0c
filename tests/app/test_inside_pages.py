"""AppTest: the three "Inside the RNN" pages."""
from tests.app.conftest import open_page


def test_shapes_and_gates_page(app_env):
    at = open_page("app_pages/inside_shapes_gates.py")
    assert not at.exception, at.exception
    at.radio(key="inside_shapes_cell").set_value("lstm").run()
    at.toggle(key="inside_shapes_bi").set_value(True).run()
    assert any("bidirectional=True" in c.value for c in at.code)
    assert any("max |difference|" in s.value for s in at.success)
    at.radio(key="inside_shapes_source").set_value("gru").run()
    at.text_input(key="inside_shapes_text_gru").input("王 hi 😀").run()
    assert not at.exception
    assert any("王" in w.value for w in at.warning)
    at.text_input(key="inside_shapes_text_gru").input("王😀").run()
    assert not at.exception and at.info


def test_shapes_page_uses_the_model_trained_in_sequence_basics(app_env):
    at = open_page("app_pages/sequence_basics.py")
    at.button(key="sequence_basics_step").click().run()
    at.switch_page("app_pages/inside_shapes_gates.py")
    at.run()
    assert "basics" in at.radio(key="inside_shapes_source").options[0] or at.radio(key="inside_shapes_source").value == "basics"
    assert not at.exception


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
    for _ in range(3):
        at.run()
    at.button(key="inside_clipping_train").click().run()
    assert not at.exception
    entries = at.session_state["inside_clipping"].lesson.race.entries
    assert entries[0].trainer.step_count > 0
    assert all(r.grad_norm_after_clip <= 1.0 + 1e-5 for r in entries[0].trainer.history.records)
