"""Inside the RNN: gradients through time are right, spectral scaling is exact, races are fair."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnviz.core.cells import cell_step
from rnnviz.core.models import ModelConfig, RecurrentModel
from rnnviz.core.trace import trace
from rnnviz.lessons.inside import (
    ClipRaceConfig,
    GradientRecorder,
    RaceConfig,
    RaceLesson,
    RememberFirstTask,
    build_model,
    eigenvalues,
    gradient_profile,
    make_cell_race,
    make_clip_race,
    pca_2d,
    radius_profiles,
    scale_spectral_radius,
    spectral_radius,
    unroll_batch,
)

TASK = RememberFirstTask(delay=6)


@pytest.mark.parametrize("cell_type", ["rnn", "lstm", "gru"])
def test_trace_grad_equals_autograd_through_the_fused_module_stepped(cell_type):
    """Transparent ∂L/∂h_t == autograd through nn.RNN/LSTM/GRU itself, run one step at a time."""
    model = RecurrentModel(ModelConfig(input_size=len(TASK.vocab), output_size=4, cell_type=cell_type, hidden_size=5, seed=3))
    tokens, target = TASK.batch(seed=5, batch_size=1)
    tr = trace(model, tokens[0], target, loss_on="last")
    x = model.encode_inputs(tokens)
    hs, cs = [torch.zeros(1, 5)], [torch.zeros(1, 5)]
    for t in range(tokens.shape[1]):
        prev = (hs[-1][None], cs[-1][None]) if cell_type == "lstm" else hs[-1][None]
        out, final = model.rnn(x[:, t : t + 1], prev)
        hs.append(out[:, 0])
        if cell_type == "lstm":
            cs.append(final[1][0])
    loss = F.cross_entropy(model.output_logits(hs[-1]), target)
    grads = torch.autograd.grad(loss, hs[1:])
    torch.testing.assert_close(torch.from_numpy(tr.grad_hidden[0]), torch.cat(grads), atol=1e-7, rtol=1e-4)


@pytest.mark.parametrize("cell_type", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_batched_unroll_grads_equal_the_trace(cell_type, layers):
    model = RecurrentModel(ModelConfig(input_size=len(TASK.vocab), output_size=4, cell_type=cell_type, implementation="cell",
                                       hidden_size=6, num_layers=layers, seed=1))
    tokens, targets = TASK.batch(seed=2, batch_size=3)
    logits, hidden = unroll_batch(model, tokens)
    loss = F.cross_entropy(logits[:1, -1], targets[:1])
    grads = torch.autograd.grad(loss, hidden)
    tr = trace(model, tokens[0], targets[0], loss_on="last")
    batched = torch.stack([g[0] for g in grads])
    torch.testing.assert_close(batched, torch.from_numpy(tr.grad_hidden[-1]), atol=1e-7, rtol=1e-4)
    torch.testing.assert_close(logits[0].detach(), torch.from_numpy(tr.logits), atol=1e-5, rtol=0)


@pytest.mark.parametrize("cell_type", ["rnn", "lstm", "gru"])
def test_trace_grad_matches_finite_differences(cell_type):
    """Nudge h_t by ε in float64 and watch the loss: (L(h+ε) − L(h−ε)) / 2ε ≈ the traced gradient."""
    model = RecurrentModel(ModelConfig(input_size=len(TASK.vocab), output_size=4, cell_type=cell_type, hidden_size=3, seed=4))
    tokens, target = TASK.batch(seed=9, batch_size=1)
    tr = trace(model, tokens[0], target, loss_on="last")
    params = {k: v.detach().double() for k, v in model.layer_params(0).items()}
    W_hq, b_q = (p.detach().double() for p in model.head_params())
    x = F.one_hot(tokens[0], len(TASK.vocab)).double()

    def loss_with_nudge(t_nudge, unit, eps):
        state = (torch.zeros(1, 3, dtype=torch.float64),) * (2 if cell_type == "lstm" else 1)
        for t in range(tokens.shape[1]):
            state, _ = cell_step(cell_type, x[t : t + 1], state, params)
            if t == t_nudge:
                h = state[0].clone()
                h[0, unit] += eps
                state = (h,) + state[1:]
        return float(F.cross_entropy(state[0] @ W_hq + b_q, target))

    eps = 1e-6
    numeric = np.array([[(loss_with_nudge(t, u, eps) - loss_with_nudge(t, u, -eps)) / (2 * eps) for u in range(3)]
                        for t in range(tokens.shape[1])])
    np.testing.assert_allclose(tr.grad_hidden[0], numeric, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("rho", [0.5, 1.0, 1.7])
def test_spectral_radius_scaling_is_exact(rho):
    model = build_model(TASK, "rnn", hidden_size=16, seed=0, spectral_radius=rho)
    assert spectral_radius(model.cells[0].weight_hh) == pytest.approx(rho, rel=1e-5)
    assert np.abs(eigenvalues(model)).max() == pytest.approx(rho, rel=1e-5)
    fused = RecurrentModel(ModelConfig(input_size=len(TASK.vocab), output_size=4, hidden_size=16, seed=0))
    scale_spectral_radius(fused, rho)
    assert spectral_radius(fused.layer_params(0)["W_hh"]) == pytest.approx(rho, rel=1e-5)
    with pytest.raises(ValueError):
        scale_spectral_radius(fused, 0.0)


def test_small_spectral_radius_makes_gradients_vanish_back_in_time():
    task = RememberFirstTask(delay=30)
    profiles = radius_profiles(task, [0.3, 1.0], hidden_size=32, seed=0)
    small, unit = profiles[0.3], profiles[1.0]
    assert small[0] < 1e-8 * small[-1]  # ~0.3^31: gone long before it reaches the first symbol
    assert unit[0] > 100 * small[0]


def test_gradient_recorder_records_the_same_norms_autograd_gives():
    model = build_model(TASK, "gru", hidden_size=8, seed=0)
    tokens, targets = TASK.batch(seed=1, batch_size=16)
    expected = gradient_profile(model, tokens, targets)
    recorder = GradientRecorder()
    loss, metrics = recorder.loss_fn(model, tokens, targets)
    loss.backward()
    recorder.commit(1)
    steps, matrix = recorder.matrix()
    assert steps == [1] and matrix.shape == (1, TASK.steps)
    np.testing.assert_allclose(matrix[0], expected, rtol=1e-5)
    assert 0 <= metrics["accuracy"] <= 1


def test_task_batches_are_seeded_and_well_formed():
    tokens, targets = TASK.batch(seed=3, batch_size=50)
    again, same_targets = TASK.batch(seed=3, batch_size=50)
    assert torch.equal(tokens, again) and torch.equal(targets, same_targets)
    assert tokens.shape == (50, 8) and torch.equal(tokens[:, 0], targets)
    assert (tokens[:, 1:-1] >= 4).all() and (tokens[:, -1] == len(TASK.vocab) - 1).all()
    with pytest.raises(ValueError):
        RememberFirstTask(delay=10_000).validate()


def test_race_models_share_seed_and_data_and_race_is_reproducible():
    config = RaceConfig(delay=5, hidden_size=8, batch_size=16)
    a, b = make_cell_race(config), make_cell_race(config)
    a.run_steps(5)
    b.run_steps(5)
    for ea, eb in zip(a.entries, b.entries):
        assert ea.trainer.history.losses == eb.trainer.history.losses
    assert a.step_count == 5 and len(a.entries[0].recorder.rows) == 5


def test_clip_race_same_data_same_start_then_clipping_differs():
    race = make_clip_race(ClipRaceConfig(delay=5, hidden_size=8, batch_size=8, clip_threshold=0.01))
    clipped, free = race.entries
    for p, q in zip(clipped.model.parameters(), free.model.parameters()):
        assert torch.equal(p, q)
    race.step()
    first_clipped, first_free = clipped.trainer.history.last, free.trainer.history.last
    assert first_clipped.grad_norm_before_clip == pytest.approx(first_free.grad_norm_before_clip, rel=1e-6)
    assert first_clipped.clipped and first_clipped.grad_norm_after_clip <= 0.01 * (1 + 1e-5)
    assert not first_free.clipped


def test_race_lesson_keeps_models_when_only_training_settings_change():
    lesson = RaceLesson(RaceConfig(delay=3, hidden_size=8, batch_size=8))
    lesson.trainer.run_steps(2)
    same = lesson.apply(RaceConfig(delay=3, hidden_size=8, batch_size=8, learning_rate=0.001))
    assert same is lesson and lesson.trainer.step_count == 2
    assert lesson.race.entries[0].trainer.optimizer.param_groups[0]["lr"] == 0.001
    assert lesson.apply(RaceConfig(delay=4, hidden_size=8, batch_size=8)) is not lesson


def test_pca_of_points_on_a_line_explains_everything():
    line = np.outer(np.arange(6), np.array([1.0, 2.0, -1.0]))
    projection = pca_2d(line)
    assert projection.explained[0] == pytest.approx(1.0)
    assert np.allclose(np.abs(projection.points[:, 0]), np.abs(np.arange(6) - 2.5) * np.sqrt(6))
    assert pca_2d(np.zeros((4, 3))).points.shape == (4, 2)


def test_default_clipping_demo_shows_the_lesson():
    """With the page's defaults, clipping is what makes training work (seeded, so deterministic)."""
    race = make_clip_race(ClipRaceConfig())
    race.run_steps(300)
    clipped, free = race.entries
    clipped_acc = np.mean(clipped.trainer.history.metric("accuracy")[-50:])
    free_acc = np.mean(free.trainer.history.metric("accuracy")[-50:])
    assert clipped_acc > 0.9 and free_acc < 0.6
    assert max(free.trainer.history.grad_norms_before_clip) > 3 * ClipRaceConfig().clip_threshold
