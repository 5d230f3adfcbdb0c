"""The one step loop (rnnviz.core.unroll) against references it does not share code with:
nn.RNN / nn.LSTM / nn.GRU run over whole sequences (plain or packed), autograd through those
modules, and the names tutorial's own i2h / i2o formulation."""
import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnviz.core.cells import GATE_NAMES
from rnnviz.core.models import ModelConfig, RecurrentModel, TutorialConfig, TutorialRNN
from rnnviz.core.unroll import (
    IncrementalUnroll,
    Record,
    cell_module_stepper,
    explicit_stepper,
    fused_module_stepper,
    unroll,
)

CELLS = ["rnn", "lstm", "gru"]
TOKENS = torch.tensor([[0, 3, 5, 1, 1, 4, 2], [2, 2, 0, 5, 3, 1, 4], [5, 4, 3, 2, 1, 0, 0]])
LENGTHS = torch.tensor([7, 4, 1])


def fused_model(cell_type, layers=2, embedding=None, seed=1):
    return RecurrentModel(ModelConfig(input_size=6, output_size=7, cell_type=cell_type, implementation="fused",
                                      hidden_size=5, num_layers=layers, embedding_dim=embedding, seed=seed))


def fused_twin(model: RecurrentModel) -> nn.RNNBase:
    """A fresh nn.RNN/LSTM/GRU holding copies of a cell-implementation model's weights."""
    cfg = model.config
    rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cfg.cell_type](
        cfg.layer_input_size, cfg.hidden_size, num_layers=cfg.num_layers, batch_first=True)
    with torch.no_grad():
        for layer, cell in enumerate(model.cells):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(rnn, f"{name}_l{layer}").copy_(getattr(cell, name))
    return rnn


def as_state(final, cell_type):
    return tuple(final) if cell_type == "lstm" else (final,)


def steppers_for_fused(model):
    return {"explicit equations": explicit_stepper(model), "fused module, one step": fused_module_stepper(model)}


@pytest.mark.parametrize("cell_type,layers,embedding", itertools.product(CELLS, [1, 2], [None, 3]))
def test_every_stepper_computes_what_the_fused_module_computes_over_the_whole_sequence(cell_type, layers, embedding):
    model = fused_model(cell_type, layers, embedding)
    x = model.encode_inputs(TOKENS)
    with torch.no_grad():
        expected_hidden, final = model.rnn(x)
        expected_logits = model.head(expected_hidden)
    for name, stepper in steppers_for_fused(model).items():
        with torch.no_grad():
            run = unroll(model, TOKENS, stepper=stepper)
        torch.testing.assert_close(run.outputs, expected_hidden, atol=1e-5, rtol=0, msg=name)
        torch.testing.assert_close(run.logits, expected_logits, atol=1e-5, rtol=0, msg=name)
        for got, want in zip(run.final_state, as_state(final, cell_type)):
            torch.testing.assert_close(got, want, atol=1e-5, rtol=0, msg=name)


@pytest.mark.parametrize("cell_type", CELLS)
def test_cell_modules_step_like_a_fused_module_with_their_weights(cell_type):
    model = RecurrentModel(ModelConfig(input_size=6, output_size=7, cell_type=cell_type, implementation="cell",
                                       hidden_size=5, num_layers=2, seed=4))
    reference = fused_twin(model)
    x = model.encode_inputs(TOKENS)
    initial = model.initial_state(3)
    initial = tuple(torch.randn(part.shape, generator=torch.Generator().manual_seed(k)) for k, part in enumerate(initial))
    with torch.no_grad():
        expected, final = reference(x, initial if cell_type == "lstm" else initial[0])
        run = unroll(model, x, initial, stepper=cell_module_stepper(model))
    torch.testing.assert_close(run.outputs, expected, atol=1e-5, rtol=0)
    for got, want in zip(run.final_state, as_state(final, cell_type)):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("cell_type,implementation", itertools.product(CELLS, ["cell", "scratch", "fused"]))
def test_padded_rows_match_packed_sequences_through_the_fused_module(cell_type, implementation):
    """With lengths: real steps equal nn.RNN on packed sequences, padded steps read zero, and the final
    state is each row's state at its own last real step."""
    model = RecurrentModel(ModelConfig(input_size=6, output_size=7, cell_type=cell_type,
                                       implementation=implementation, hidden_size=5, num_layers=2, seed=2))
    if implementation == "scratch":  # scratch cells hold the row-vector matrices: load a fused twin from them
        reference = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell_type](6, 5, num_layers=2, batch_first=True)
        blocks = {"rnn": ["h"], "lstm": list("ifgo"), "gru": list("rzn")}[cell_type]
        with torch.no_grad():
            for layer, cell in enumerate(model.cells):
                getattr(reference, f"weight_ih_l{layer}").copy_(torch.cat([getattr(cell, f"W_x{g}").T for g in blocks]))
                getattr(reference, f"weight_hh_l{layer}").copy_(torch.cat([getattr(cell, f"W_h{g}").T for g in blocks]))
                if cell_type == "gru":
                    bias_ih = torch.cat([cell.b_r, cell.b_z, cell.b_xn])
                    bias_hh = torch.cat([torch.zeros(5), torch.zeros(5), cell.b_hn])
                else:
                    bias_ih = torch.cat([getattr(cell, f"b_{g}") for g in blocks])
                    bias_hh = torch.zeros_like(bias_ih)
                getattr(reference, f"bias_ih_l{layer}").copy_(bias_ih)
                getattr(reference, f"bias_hh_l{layer}").copy_(bias_hh)
    elif implementation == "cell":
        reference = fused_twin(model)
    else:
        reference = model.rnn
    x = model.encode_inputs(TOKENS)
    with torch.no_grad():
        packed, final = reference(pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False))
        expected, _ = pad_packed_sequence(packed, batch_first=True, total_length=TOKENS.shape[1])
        run = unroll(model, TOKENS, lengths=LENGTHS)
    torch.testing.assert_close(run.outputs, expected, atol=1e-5, rtol=0)
    assert torch.all(run.outputs[2, 1:] == 0) and torch.all(run.outputs[1, 4:] == 0)
    for got, want in zip(run.final_state, as_state(final, cell_type)):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("cell_type", CELLS)
@pytest.mark.parametrize("stepper_kind", ["explicit equations", "fused module, one step"])
def test_recorded_top_hidden_gradients_are_the_total_derivative(cell_type, stepper_kind):
    """∂L/∂h_t (top layer) from the engine - by autograd.grad on every layer's recorded h_t, and by
    hooks on the top layer's h_t during a plain backward - equals the gradient of a nudge ε added to
    h_t between two whole-sequence runs of the fused module: steps ≤ t, then (h_t + ε) read by the
    head and by the steps after t."""
    model = fused_model(cell_type, layers=2)
    tokens, targets = TOKENS[:1], torch.tensor([1, 2, 3, 4, 5, 6, 0])
    stepper = steppers_for_fused(model)[stepper_kind]
    run = unroll(model, tokens, stepper=stepper, record=Record(hidden=True))
    all_layers = run.hidden_grads(F.cross_entropy(run.logits[0], targets))
    assert len(all_layers) == 2 and len(all_layers[-1]) == 7

    top_only = unroll(model, tokens, stepper=stepper)
    hooked = {}
    for t, h in enumerate(top_only.top_hidden):
        h.register_hook(lambda grad, t=t: hooked.__setitem__(t, grad))
    F.cross_entropy(top_only.logits[0], targets).backward()
    assert sorted(hooked) == list(range(7))
    assert model.rnn.weight_hh_l0.grad is not None  # the backward went on to the model's own weights

    x = model.encode_inputs(tokens)
    for t in range(7):
        head_part, state = model.rnn(x[:, : t + 1])
        state = as_state(state, cell_type)
        nudge = torch.zeros(1, 5, requires_grad=True)
        h_top = state[0][-1] + nudge
        later_state = (torch.cat([state[0][:-1], h_top[None]]),) + state[1:]
        read_by_head = [head_part[:, :t], h_top[:, None]]
        if t < 6:
            tail, _ = model.rnn(x[:, t + 1:], later_state if cell_type == "lstm" else later_state[0])
            read_by_head.append(tail)
        reference_loss = F.cross_entropy(model.head(torch.cat(read_by_head, dim=1))[0], targets)
        (expected,) = torch.autograd.grad(reference_loss, nudge)
        torch.testing.assert_close(all_layers[-1][t], expected, atol=1e-6, rtol=1e-4, msg=f"step {t}")
        torch.testing.assert_close(hooked[t], expected, atol=1e-6, rtol=1e-4, msg=f"hook, step {t}")


@pytest.mark.parametrize("cell_type", CELLS)
def test_feeding_one_token_at_a_time_matches_the_fused_module_on_every_prefix(cell_type):
    model = fused_model(cell_type, layers=2, embedding=3)
    sequence = TOKENS[0]
    with torch.no_grad():
        incremental = IncrementalUnroll(model, stepper=explicit_stepper(model, detach=True))
        step_logits = [incremental.feed(sequence[t: t + 1]) for t in range(len(sequence))]
        full_logits, _ = model(sequence[None])
        torch.testing.assert_close(torch.cat(step_logits), full_logits[0], atol=1e-5, rtol=0)
        hidden = incremental.hidden_states()
        assert hidden.shape == (2, 1, 7, 5) and len(incremental.steps) == 7
        for t in range(len(sequence)):  # every layer's h_t is the fused module's final state after t+1 steps
            _, final = model.rnn(model.encode_inputs(sequence[None, : t + 1]))
            torch.testing.assert_close(hidden[:, :, t], as_state(final, cell_type)[0], atol=1e-5, rtol=0)
        for got, want in zip(incremental.state, as_state(final, cell_type)):
            torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("cell_type", ["lstm", "gru"])
def test_recorded_gates_rebuild_the_fused_modules_states(cell_type):
    """The gates the explicit equations record, combined by the textbook formulas, give back the
    states nn.LSTM / nn.GRU compute (LSTM: c_t = f c_{t-1} + i g, h_t = o tanh c_t;
    GRU: h_t = (1 - z) n + z h_{t-1})."""
    model = fused_model(cell_type, layers=1)
    with torch.no_grad():
        run = unroll(model, TOKENS, record=Record(gates=True, cells=True), stepper=explicit_stepper(model))
        states = [as_state(model.rnn(model.encode_inputs(TOKENS[:, : t + 1]))[1], cell_type) for t in range(7)]
    assert set(run.gates) == set(GATE_NAMES[cell_type])
    gate = {name.split()[-1]: values[0] for name, values in run.gates.items()}  # first letter: i, f, g, o / r, z, n
    previous_h, previous_c = torch.zeros(3, 5), torch.zeros(3, 5)
    for t, state in enumerate(states):
        if cell_type == "lstm":
            c_t = gate["f"][t] * previous_c + gate["i"][t] * gate["g"][t]
            torch.testing.assert_close(c_t, state[1][0], atol=1e-5, rtol=0)
            torch.testing.assert_close(gate["o"][t] * torch.tanh(c_t), state[0][0], atol=1e-5, rtol=0)
            torch.testing.assert_close(run.cells[0][t], state[1][0], atol=1e-5, rtol=0)
            previous_c = state[1][0]
        else:
            h_t = (1 - gate["z"][t]) * gate["n"][t] + gate["z"][t] * previous_h
            torch.testing.assert_close(h_t, state[0][0], atol=1e-5, rtol=0)
        previous_h = state[0][0]


def test_the_tutorial_rnn_steps_like_the_tutorials_i2h_i2o_modules():
    """The classic tutorial: hidden = i2h(cat(x, h)), output = i2o(cat(x, h)), with sigmoid on the hidden
    state as in this app's version; here written with nn.Linear on the concatenation."""
    model = TutorialRNN(TutorialConfig(input_size=6, output_size=4, hidden_size=5, seed=3))
    i2h, i2o = nn.Linear(11, 5), nn.Linear(11, 4)
    with torch.no_grad():
        i2h.weight.copy_(torch.cat([model.W_xh, model.W_hh]).T)
        i2h.bias.copy_(model.b_h)
        i2o.weight.copy_(torch.cat([model.W_xq, model.W_hq]).T)
        i2o.bias.copy_(model.b_q)
        x = model.encode_inputs(TOKENS)
        h, expected = torch.zeros(3, 5), []
        for t in range(7):
            combined = torch.cat([x[:, t], h], dim=1)
            expected.append(i2o(combined))
            h = torch.sigmoid(i2h(combined))
        run = unroll(model, TOKENS, record=Record(hidden=True))
    torch.testing.assert_close(run.logits, torch.stack(expected, dim=1), atol=1e-6, rtol=0)
    torch.testing.assert_close(run.final_state[0][0], h, atol=1e-6, rtol=0)


def test_steppers_refuse_models_without_the_modules_they_call():
    with pytest.raises(ValueError):
        cell_module_stepper(fused_model("rnn"))
    cell_model = RecurrentModel(ModelConfig(input_size=6, output_size=7, implementation="cell"))
    with pytest.raises(ValueError):
        fused_module_stepper(cell_model)
