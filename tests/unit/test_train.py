"""Trainer: clipping, norms, the NaN guard, reproducibility, bounded history."""
import math
import time

import pytest
import torch

from rnnviz.core.models import ModelConfig, RecurrentModel
from rnnviz.core.train import History, StepRecord, TrainConfig, Trainer, run_for, sequence_loss
from rnnviz.data.tasks import builtin_tasks


def ohlol_trainer(**train_kwargs):
    task = builtin_tasks()["ohlol"]
    inputs, targets = task.tensors()
    model = RecurrentModel(ModelConfig(input_size=4, output_size=4, hidden_size=4, seed=0))
    return Trainer(model, TrainConfig(**train_kwargs), next_batch=lambda: (inputs, targets)), task


def test_clipped_norm_is_at_most_threshold_and_before_norm_is_torch_total_norm():
    trainer, task = ohlol_trainer(optimizer="sgd", learning_rate=0.5, clip_threshold=0.05)
    inputs, targets = task.tensors()
    # torch's own total norm of the gradient the trainer is about to take
    probe = RecurrentModel(trainer.model.config)
    probe.load_state_dict(trainer.model.state_dict())
    loss, _ = sequence_loss(probe, inputs, targets)
    loss.backward()
    expected_total = float(torch.nn.utils.get_total_norm([p.grad for p in probe.parameters()]))
    record = trainer.step()
    assert record.grad_norm_before_clip == pytest.approx(expected_total, rel=1e-5)
    assert record.clipped and expected_total > 0.05
    assert record.grad_norm_after_clip <= 0.05 * (1 + 1e-5)
    assert set(record.param_grad_norms) == {n for n, _ in trainer.model.named_parameters()}
    assert math.sqrt(sum(v * v for v in record.param_grad_norms.values())) == pytest.approx(expected_total, rel=1e-5)
    for _ in range(20):
        r = trainer.step()
        assert r.grad_norm_after_clip <= 0.05 * (1 + 1e-5)
    assert trainer.clipped_count == sum(r.clipped for r in trainer.history.records)


def test_no_clipping_leaves_the_norm_alone():
    trainer, _ = ohlol_trainer(clip_threshold=None)
    record = trainer.step()
    assert not record.clipped and record.grad_norm_after_clip == record.grad_norm_before_clip


def test_nan_loss_stops_training_with_a_reason_and_leaves_weights_untouched():
    trainer, _ = ohlol_trainer()
    with torch.no_grad():
        trainer.model.head.weight.fill_(float("inf"))
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    assert trainer.step() is None
    assert trainer.stopped and "NaN" in trainer.stop_reason and "Reset" in trainer.stop_reason
    assert trainer.step() is None and trainer.run_for(0.2) == 0
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(v, before[k])
    assert trainer.step_count == 0


def test_non_finite_gradient_stops_before_the_optimizer_step():
    trainer, task = ohlol_trainer()

    def sqrt_at_zero_loss(model, inputs, targets):
        # value 0, but d sqrt(u)/du is infinite at u = 0: a finite loss with a NaN gradient
        total = sum(p.sum() for p in model.parameters())
        return (total - total.detach()).abs().sqrt(), {"accuracy": 0.0}

    trainer.loss_fn = sqrt_at_zero_loss
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    assert trainer.step() is None
    assert "gradient norm" in trainer.stop_reason and "NaN" in trainer.stop_reason
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(v, before[k])


def test_seeded_training_is_reproducible():
    a, _ = ohlol_trainer(learning_rate=0.1)
    b, _ = ohlol_trainer(learning_rate=0.1)
    a.run_steps(15)
    b.run_steps(15)
    assert a.history.losses == b.history.losses
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)


def test_hello_ohlol_reaches_exact_string_within_a_few_dozen_epochs():
    """The classic exercise: seed 0, hidden 4, Adam lr 0.1."""
    trainer, task = ohlol_trainer(optimizer="adam", learning_rate=0.1)
    inputs, _ = task.tensors()
    for epoch in range(1, 61):
        trainer.step()
        with torch.no_grad():
            predicted = task.decode(trainer.model(inputs)[0][0].argmax(-1))
        if predicted == "ohlol":
            break
    assert predicted == "ohlol", f"still predicting {predicted!r} after 60 epochs"
    assert epoch <= 40


def test_config_changes_apply_to_the_next_step():
    trainer, _ = ohlol_trainer(learning_rate=0.1)
    trainer.step()
    trainer.update_config(TrainConfig(learning_rate=0.01, clip_threshold=0.001))
    assert trainer.optimizer.param_groups[0]["lr"] == 0.01
    assert trainer.step().clipped
    trainer.update_config(TrainConfig(optimizer="sgd", learning_rate=0.5))
    assert isinstance(trainer.optimizer, torch.optim.SGD)


@pytest.mark.parametrize("bad", [dict(learning_rate=0), dict(learning_rate=-1), dict(learning_rate=1e9),
                                 dict(learning_rate=float("nan")), dict(clip_threshold=0),
                                 dict(clip_threshold=-3), dict(optimizer="lbfgs")])
def test_absurd_training_settings_are_rejected_with_a_message(bad):
    with pytest.raises(ValueError, match=r"\w+"):
        TrainConfig(**bad).validate()


def test_history_stays_bounded_and_keeps_the_newest_steps():
    history = History(limit=100)
    for step in range(1, 10_001):
        history.append(StepRecord(step, 1.0 / step, {}, 1.0, 1.0, False, {}))
    assert len(history) <= 100
    assert history.steps[-1] == 10_000 and history.steps[0] == 1
    assert history.steps == sorted(history.steps)
    assert history.steps[-25:] == list(range(9_976, 10_001))


class SleepingStep:
    """A step that takes a known time: sleeps ``seconds`` per call and counts its calls."""

    def __init__(self, seconds: float, stop_after: int | None = None, give_up_after: int = 1000):
        self.seconds, self.stop_after, self.give_up_after = seconds, stop_after, give_up_after
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls > self.give_up_after:
            raise AssertionError("run_for kept stepping long after its slice")
        if self.stop_after is not None and self.calls > self.stop_after:
            return None  # stopped, as Trainer.step after a NaN
        time.sleep(self.seconds)
        return self.calls


# Slack for a loaded 2-core machine: how late a sleep may wake up. The slice (0.3 s) is far shorter
# than running on would take (give_up_after steps), so a run_for that ignores its deadline still fails.
LATE_WAKE = 0.25


def test_run_for_uses_its_slice_and_stops_within_it():
    step = SleepingStep(0.04)
    started = time.perf_counter()
    done = run_for(step, 0.3)
    elapsed = time.perf_counter() - started
    assert done == step.calls  # every step it made is counted, none twice
    # it keeps stepping until the deadline (no early return) ...
    assert elapsed >= 0.3
    # ... and starts no step after it: at most the one step begun before the deadline runs over
    assert elapsed <= 0.3 + 0.04 + LATE_WAKE
    # sleeps never end early, so no more steps fit than the slice holds, plus the one begun at its end
    assert 2 <= done <= math.floor(0.3 / 0.04) + 1


def test_run_for_stops_at_max_steps_or_when_the_step_says_stop():
    step = SleepingStep(0.001)
    started = time.perf_counter()
    assert run_for(step, 30.0, max_steps=3) == 3 and step.calls == 3
    assert time.perf_counter() - started < 5  # long before the 30 s slice ends
    stopping = SleepingStep(0.001, stop_after=4)
    assert run_for(stopping, 30.0) == 4 and stopping.calls == 5  # the fifth call said stop
    never = SleepingStep(0.001)
    assert run_for(never, 0.0) == 0 and never.calls == 0


def test_trainer_run_for_counts_the_steps_it_records():
    trainer, task = ohlol_trainer()
    inputs, targets = task.tensors()

    def slow_batch():
        time.sleep(0.03)  # each step takes at least this long
        return inputs, targets

    trainer.next_batch = slow_batch
    started = time.perf_counter()
    first = trainer.run_for(0.2)
    elapsed = time.perf_counter() - started
    assert 0.2 <= elapsed <= 0.2 + 0.03 + LATE_WAKE
    assert 1 <= first <= math.floor(0.2 / 0.03) + 1
    second = trainer.run_for(0.1)
    assert second >= 1
    assert trainer.step_count == first + second == len(trainer.history)
    assert trainer.history.steps == list(range(1, first + second + 1))
    assert trainer.run_for(0.0) == 0 and trainer.step_count == first + second


def test_training_slots_let_sessions_take_turns():
    import threading

    from rnnviz.core.runtime import TrainingSlots

    slots = TrainingSlots(1)
    inside = threading.Event()
    release = threading.Event()
    holder = threading.Thread(target=slots.run, args=(lambda: (inside.set(), release.wait(5)), 1.0))
    holder.start()
    assert inside.wait(5)
    assert slots.run(lambda: "second", wait=0.05) == (False, None)  # busy: the second session waits its turn
    release.set()
    holder.join()
    assert slots.run(lambda: "second", wait=0.05) == (True, "second")


def test_tracing_while_another_thread_trains_is_safe():
    """A page traces a typed input in one fragment while another fragment trains the same model."""
    import threading

    from rnnviz.core.trace import trace

    task = builtin_tasks()["alphabet"]
    inputs, targets = task.tensors()
    model = RecurrentModel(ModelConfig(input_size=26, output_size=26, cell_type="gru", hidden_size=32, seed=0))
    trainer = Trainer(model, TrainConfig(learning_rate=0.01), next_batch=lambda: (inputs, targets))
    errors = []

    def train():
        try:
            trainer.run_for(1.5)
        except Exception as err:  # pragma: no cover - the failure we guard against
            errors.append(err)

    worker = threading.Thread(target=train)
    worker.start()
    traced = 0
    while worker.is_alive():
        tr = trace(model, task.encode("abcdefghij"), task.encode("bcdefghijk"))
        assert torch.isfinite(torch.from_numpy(tr.grad_hidden)).all()
        traced += 1
    worker.join()
    assert not errors and traced > 5 and trainer.step_count > 5
