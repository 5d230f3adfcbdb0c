"""The transparent path (explicit equations) must compute what the fast path computes."""
import itertools

import pytest
import torch
from torch import nn

from rnnviz.core.cells import GATE_NAMES, ScratchCell, explicit_params
from rnnviz.core.models import ModelConfig, RecurrentModel
from rnnviz.core.trace import trace

COMBOS = list(itertools.product(["rnn", "lstm", "gru"], ["fused", "cell", "scratch"], [1, 2], [None, 3]))


def make(cell_type, implementation, layers, embedding, seed=1, hidden=5):
    return RecurrentModel(ModelConfig(
        input_size=6, output_size=7, cell_type=cell_type, implementation=implementation,
        hidden_size=hidden, num_layers=layers, embedding_dim=embedding, seed=seed))


@pytest.mark.parametrize("cell_type,implementation,layers,embedding", COMBOS)
def test_trace_equals_fast_forward(cell_type, implementation, layers, embedding):
    model = make(cell_type, implementation, layers, embedding)
    tokens = torch.tensor([0, 3, 5, 1, 1, 4, 2])
    logits, final_state = model(tokens[None])
    tr = trace(model, tokens)
    assert tr.hidden_states.shape == (layers, 7, 5)
    torch.testing.assert_close(torch.from_numpy(tr.logits), logits[0].detach(), atol=1e-5, rtol=0)
    for fast, transparent in zip(final_state, tr.final_state):
        torch.testing.assert_close(transparent[:, 0], fast[:, 0].detach(), atol=1e-5, rtol=0)
    # the top layer's h_t at every step is what the head reads
    torch.testing.assert_close(
        model.output_logits(torch.from_numpy(tr.hidden_states[-1])), logits[0], atol=1e-5, rtol=0)
    assert (tr.cell_states is not None) == (cell_type == "lstm")
    assert set(tr.gates) == set(GATE_NAMES[cell_type])


@pytest.mark.parametrize("cell_type", ["rnn", "lstm", "gru"])
def test_scratch_cell_equals_pytorch_layer_with_copied_weights(cell_type):
    """The from-scratch equations, fed nn.RNN/LSTM/GRU's own weights, give nn.RNN/LSTM/GRU's output."""
    torch.manual_seed(0)
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell_type](4, 6, batch_first=True)
    cell = ScratchCell(cell_type, 4, 6)
    params = explicit_params(cell_type, layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)
    with torch.no_grad():
        for name, value in params.items():
            getattr(cell, name).copy_(value)
    x = torch.randn(3, 9, 4)
    expected, _ = layer(x)
    state = (torch.zeros(3, 6), torch.zeros(3, 6)) if cell_type == "lstm" else (torch.zeros(3, 6),)
    outputs = []
    for t in range(9):
        state, _ = cell(x[:, t], state)
        outputs.append(state[0])
    torch.testing.assert_close(torch.stack(outputs, 1), expected, atol=1e-5, rtol=0)


def test_scratch_rnn_has_the_textbook_parameters():
    model = make("rnn", "scratch", 1, None)
    names = {n for n, _ in model.named_parameters()}
    assert names == {"cells.0.W_xh", "cells.0.W_hh", "cells.0.b_h", "W_hq", "b_q"}
    assert model.cells[0].W_xh.shape == (6, 5) and model.W_hq.shape == (5, 7)


def test_same_seed_same_weights_different_seed_different():
    a, b, c = make("gru", "fused", 2, 3, seed=7), make("gru", "fused", 2, 3, seed=7), make("gru", "fused", 2, 3, seed=8)
    for (_, pa), (_, pb), (_, pc) in zip(a.named_parameters(), b.named_parameters(), c.named_parameters()):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)


def test_trace_gradients_match_autograd_on_fast_path():
    """∂loss/∂h_t from the transparent unroll equals autograd through nn.RNN's outputs (single layer)."""
    model = make("rnn", "fused", 1, None)
    tokens, targets = torch.tensor([1, 2, 3, 4, 5]), torch.tensor([2, 3, 4, 5, 0])
    tr = trace(model, tokens, targets)
    # Fast path: a step-by-step loop over nn.RNN so each h_t is a node we can differentiate.
    x = model.encode_inputs(tokens[None])
    hs = [torch.zeros(1, 5)]
    for t in range(5):
        # feed back the very tensor we differentiate by, so its gradient includes every later step
        out, _ = model.rnn(x[:, t : t + 1], hs[-1][None])
        hs.append(out[:, 0])
    hs = hs[1:]
    logits = model.output_logits(torch.cat(hs))
    loss = nn.functional.cross_entropy(logits, targets)
    grads = torch.autograd.grad(loss, hs)
    torch.testing.assert_close(torch.from_numpy(tr.grad_hidden[0]), torch.cat(grads), atol=1e-6, rtol=1e-4)
    assert tr.loss == pytest.approx(float(loss.detach()), abs=1e-6)


def test_trace_rejects_empty_sequence():
    with pytest.raises(ValueError):
        trace(make("rnn", "fused", 1, None), [])


@pytest.mark.parametrize("bad", [dict(hidden_size=0), dict(num_layers=9), dict(cell_type="transformer"),
                                 dict(implementation="cuda"), dict(embedding_dim=0)])
def test_model_config_rejects_absurd_values(bad):
    with pytest.raises(ValueError):
        ModelConfig(input_size=4, output_size=4, **bad).validate()
