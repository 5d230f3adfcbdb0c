"""Character language model lesson: corpora, both sampling schemes and state carry, perplexity,
generation (greedy / temperature / top-k), the lesson's schedule, checkpoints."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnviz.core.checkpoints import CheckpointError, save_checkpoint
from rnnviz.core.models import ModelConfig, RecurrentModel
from rnnviz.core.trace import trace
from rnnviz.data.corpus import CorpusError, build_vocab, encode
from rnnviz.data.download import DatasetError
from rnnviz.lessons import charlm
from rnnviz.lessons.charlm import (
    CharLMConfig,
    CharLMLesson,
    CorpusText,
    GenerationConfig,
    MinibatchFeeder,
    PreparedCorpus,
    check_prefix,
    custom_corpus,
    evaluate_perplexity,
    generate,
    sampling_distribution,
)
from rnnviz.viz import language_model

try:
    from ._http import Route, serve
except ImportError:  # tests/unit is not a package
    from _http import Route, serve

TEXT = ("the quick brown fox jumps over the lazy dog. " * 40)  # 1,800 characters, 28 distinct


def corpus_of(text: str, key: str = "test") -> CorpusText:
    return CorpusText(key, key, text, ("the ", "fox"))


def small_config(text: str = TEXT, **changes) -> CharLMConfig:
    settings = dict(corpus=corpus_of(text), hidden_size=32, num_steps=10, batch_size=8, learning_rate=0.01,
                    clip_threshold=1.0)
    settings.update(changes)
    return CharLMConfig(**settings)


@pytest.fixture
def corpora_env(shared_data, monkeypatch, tmp_path):
    monkeypatch.setenv("RNNVIZ_CORPORA_DIR", str(shared_data / "corpora"))
    monkeypatch.setenv("RNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNVIZ_CORPUS_BASE_URL", raising=False)


# --- corpora -----------------------------------------------------------------------------------------


def test_lyrics_corpus_is_the_books_first_10000_characters(corpora_env):
    corpus = charlm.lyrics_corpus()
    prepared = PreparedCorpus.from_corpus(corpus)
    assert corpus.key == "jaychou_lyrics:10000" and len(corpus.text) == 10_000
    assert len(prepared.vocab) == 1027
    assert (len(prepared.train), len(prepared.validation)) == (9000, 1000)  # the held-out tail is the last 10%
    assert prepared.text_of(prepared.validation) == corpus.text[9000:]
    assert "\n" not in corpus.text  # the book replaces line breaks by spaces
    assert all(check_prefix(p, prepared.vocab).used == p for p in corpus.prefixes) and "分开" in corpus.prefixes


def test_shakespeare_downloads_from_localhost_with_progress_then_uses_the_cache(shared_data, monkeypatch, tmp_path):
    original = (shared_data / "corpora" / "tinyshakespeare.txt").read_bytes()
    monkeypatch.delenv("RNNVIZ_CORPORA_DIR", raising=False)
    monkeypatch.setenv("RNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[tuple[int, int | None]] = []
    with serve({"/input.txt": Route(original)}) as server:
        monkeypatch.setenv("RNNVIZ_CORPUS_BASE_URL", server.url(""))
        corpus = charlm.shakespeare_corpus(progress=lambda done, total: calls.append((done, total)))
        again = charlm.shakespeare_corpus(first_n_chars=1000)
        assert server.total_requests == 1  # the second load came from the verified cache
    assert corpus.text == original.decode("utf-8") and again.text == corpus.text[:1000]
    assert calls[-1] == (len(original), len(original))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_a_corrupted_download_is_refused_with_a_message(monkeypatch, tmp_path):
    monkeypatch.delenv("RNNVIZ_CORPORA_DIR", raising=False)
    monkeypatch.setenv("RNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    with serve({"/input.txt": Route(b"Not what was promised.\n" * 100)}) as server:
        monkeypatch.setenv("RNNVIZ_CORPUS_BASE_URL", server.url(""))
        with pytest.raises(DatasetError, match="checksum"):
            charlm.shakespeare_corpus()
    assert not any((tmp_path / "cache" / "corpora").iterdir())


def test_names_corpus_holds_one_languages_surnames_one_per_line(shared_data, monkeypatch):
    monkeypatch.setenv("RNNVIZ_NAMES_DIR", str(shared_data / "names"))
    corpus = charlm.names_corpus("Korean")
    lines = corpus.text.splitlines()
    assert corpus.key == "names:Korean" and corpus.text.endswith("\n")
    raw = {line.strip() for line in (shared_data / "names" / "Korean.txt").read_text(encoding="utf-8").splitlines()
           if line.strip()}
    assert set(lines) <= raw and len(lines) >= 90
    assert lines != sorted(lines)  # shuffled, so the validation tail is not just the last letters
    assert charlm.names_corpus("Korean").text == corpus.text  # ...in a fixed order
    assert all(len(p) == 1 and p.isupper() for p in corpus.prefixes)
    with pytest.raises(CorpusError, match="Unknown language"):
        charlm.names_corpus("Klingon")


@pytest.mark.parametrize("data,message", [
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG image"),
    ("caf\u00e9 au lait, s'il vous pla\u00eet. ".encode("latin-1") * 3, "not UTF-8"),
    (b"abc\x00def" * 10, "binary"),
    (b"x" * 6_000_000, "limit"),
    ("short".encode(), "at least"),
    (b"   \n\n  ", "only spaces"),
], ids=["png", "latin-1", "nul-bytes", "too-large", "too-short", "blank"])
def test_unusable_uploads_get_a_message(data, message):
    with pytest.raises(CorpusError, match=message):
        custom_corpus(data, "upload.txt")


def test_pasted_and_uploaded_text_are_the_same_corpus_and_too_many_distinct_chars_are_refused():
    text = "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。\r\n" * 10
    pasted, uploaded = custom_corpus(text, "pasted"), custom_corpus(text.encode("utf-8"), "poem.txt")
    assert pasted.key == uploaded.key and pasted.text == uploaded.text and "\r" not in pasted.text
    with pytest.raises(CorpusError, match="pasted text has"):
        custom_corpus("a" * (charlm.MAX_PASTED_CHARS + 1))
    many = "".join(chr(0x4E00 + i) for i in range(charlm.MAX_VOCAB + 10))
    with pytest.raises(CorpusError, match="distinct characters"):
        PreparedCorpus.from_corpus(custom_corpus(many))


def test_a_corpus_too_short_for_the_minibatch_says_so_and_the_suggestion_works():
    text = TEXT[:400]
    with pytest.raises(CorpusError) as info:
        CharLMLesson(small_config(text, batch_size=32, num_steps=35))
    message = str(info.value)
    assert "training part" in message and "needs at least 1,152" in message
    assert "batch size 10 with 35 steps" in message  # 360 training characters // 36
    lesson = CharLMLesson(small_config(text, batch_size=10, num_steps=35))
    assert lesson.trainer.step() is not None


@pytest.mark.parametrize("changes,message", [
    (dict(batch_size=0), "batch size"),
    (dict(num_steps=100_000), "number of steps"),
    (dict(batch_size=512, num_steps=500), "too large"),
    (dict(hidden_size=5000), "Hidden size"),
    (dict(learning_rate=1e9), "Learning rate"),
    (dict(learning_rate=float("nan")), "Learning rate"),
    (dict(clip_threshold=-1.0), "clipping threshold"),
    (dict(preset="transformer"), "Unknown model"),
    (dict(sampling="shuffled"), "Sampling"),
])
def test_absurd_hyperparameters_are_refused_with_a_message(changes, message):
    with pytest.raises(ValueError, match=message):
        CharLMLesson(small_config(**changes))


def test_minibatches_with_too_many_scores_for_memory_are_refused():
    text = "".join(chr(0x4E00 + i) for i in range(4000)) * 3  # 4,000 distinct characters
    config = small_config(text, batch_size=64, num_steps=100, embedding_dim=16, hidden_size=8)
    with pytest.raises(ValueError, match="26 million scores.*smaller batch"):
        CharLMLesson(config)  # 64 × 100 × 4,000 logits, whatever the input encoding
    CharLMLesson(config.with_(batch_size=8, num_steps=50))  # 1.6 million scores fit


# --- minibatches and the hidden state -------------------------------------------------------------


def test_random_sampling_shapes_targets_and_a_fresh_state_every_minibatch():
    train = np.arange(1000) % 97
    feeder = MinibatchFeeder(train, "random", batch_size=4, num_steps=7, seed=0)
    model = RecurrentModel(ModelConfig(97, 97, hidden_size=8))
    starts_seen = set()
    for _ in range(feeder.batches_per_epoch + 3):  # into a second epoch
        x, y = feeder.next_batch()
        assert x.shape == y.shape == (4, 7) and x.dtype == torch.long
        assert torch.equal(y, (x + 1) % 97)  # Y is X shifted by one character
        assert feeder.initial_state(4) is None
        feeder.loss(model, x, y)
        assert feeder.state is None
        starts_seen |= set(x[:, 0].tolist())
    assert feeder.epochs_started == 2 and len(starts_seen) > 4


def test_sequential_minibatches_continue_each_row_and_carry_the_detached_state():
    train = np.arange(2000)
    feeder = MinibatchFeeder(train % 50, "sequential", batch_size=4, num_steps=10)
    positions = MinibatchFeeder(train, "sequential", batch_size=4, num_steps=10)  # same cut, raw positions
    model = RecurrentModel(ModelConfig(50, 50, cell_type="lstm", hidden_size=6, seed=1))

    x1, y1 = feeder.next_batch()
    p1, _ = positions.next_batch()
    assert feeder.initial_state(4) is None  # the first minibatch of an epoch starts from zeros
    loss1, metrics = feeder.loss(model, x1, y1)
    assert math.isclose(metrics["perplexity"], math.exp(float(loss1.detach())), rel_tol=1e-6)
    _, expected_state = model(x1)
    assert all(torch.allclose(a, b) for a, b in zip(feeder.state, expected_state))
    assert all(s.grad_fn is None and not s.requires_grad for s in feeder.state)  # detached: BPTT is truncated

    x2, y2 = feeder.next_batch()
    p2, _ = positions.next_batch()
    assert torch.equal(p2[:, 0], p1[:, -1] + 1)  # row r continues exactly where it stopped
    carried = feeder.initial_state(4)
    assert carried is feeder.state
    loss2, _ = feeder.loss(model, x2, y2)
    with_state = F.cross_entropy(model(x2, carried)[0].reshape(-1, 50), y2.reshape(-1))
    from_zero = F.cross_entropy(model(x2)[0].reshape(-1, 50), y2.reshape(-1))
    assert torch.isclose(loss2, with_state) and not torch.isclose(loss2, from_zero)
    loss2.backward()  # works although batch 1's graph is gone: the carried state is a leaf

    for _ in range(feeder.batches_per_epoch - 2):
        feeder.loss(model, *feeder.next_batch())
    feeder.next_batch()  # the first minibatch of epoch 2
    assert feeder.epochs_started == 2 and feeder.initial_state(4) is None


def test_changing_sampling_or_batch_size_keeps_the_model_and_restarts_the_stream():
    lesson = CharLMLesson(small_config())
    lesson.trainer.run_steps(3)
    weights = [p.detach().clone() for p in lesson.model.parameters()]
    same = lesson.apply(lesson.config.with_(sampling="random", batch_size=4, learning_rate=0.003))
    assert same is lesson and lesson.trainer.step_count == 3
    assert all(torch.equal(a, b) for a, b in zip(weights, lesson.model.parameters()))
    assert lesson.feeder.sampling == "random" and lesson.feeder.next_batch()[0].shape == (4, 10)
    assert lesson.trainer.optimizer.param_groups[0]["lr"] == 0.003
    fresh = lesson.apply(lesson.config.with_(hidden_size=16))
    assert fresh is not lesson and fresh.trainer.step_count == 0 and fresh.prepared is lesson.prepared


@pytest.mark.parametrize("cell_type,layers", [("rnn", 1), ("rnn", 2), ("gru", 1), ("lstm", 2)])
def test_the_one_hot_fast_path_computes_what_the_model_computes(cell_type, layers):
    vocab, hidden = 70, 8
    model = RecurrentModel(ModelConfig(vocab, vocab, cell_type=cell_type, hidden_size=hidden, num_layers=layers))
    assert charlm.OneHotFastPath.applies_to(model)
    fast = charlm.training_forward(model)
    tokens, targets = torch.randint(0, vocab, (5, 9)), torch.randint(0, vocab, (5, 9))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    state = None
    for _ in range(3):  # still equal after optimizer steps: the twin shares the model's parameters
        plain_logits, plain_state = model(tokens, state)
        fast_logits, fast_state = fast(model, tokens, state)
        assert torch.allclose(plain_logits, fast_logits, atol=1e-5)
        assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(plain_state, fast_state))
        plain_grads = torch.autograd.grad(F.cross_entropy(plain_logits.reshape(-1, vocab), targets.reshape(-1)),
                                          list(model.parameters()))
        loss = F.cross_entropy(fast_logits.reshape(-1, vocab), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        assert all(torch.allclose(p.grad, g, atol=1e-6) for p, g in zip(model.parameters(), plain_grads))
        optimizer.step()
        state = tuple(s.detach() for s in fast_state)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in RecurrentModel(model.config).parameters())


def test_the_fast_path_is_used_only_where_it_pays():
    lyrics_like = CharLMLesson(small_config("".join(chr(0x4E00 + i % 300) for i in range(3000))))
    assert isinstance(lyrics_like.feeder.forward, charlm.OneHotFastPath)  # 300 characters vs 32 hidden units
    assert lyrics_like.feeder.forward is not charlm.plain_forward
    for changes in (dict(), dict(embedding_dim=8), dict(preset="scratch")):
        lesson = CharLMLesson(small_config(**changes))  # 28 characters: nothing to gain
        assert lesson.feeder.forward is charlm.plain_forward


# --- perplexity -----------------------------------------------------------------------------------------


def fixed_distribution_model(probs: np.ndarray, implementation: str = "fused") -> RecurrentModel:
    """A model whose prediction is ``probs`` whatever it reads (head weights 0, bias log p)."""
    n = len(probs)
    model = RecurrentModel(ModelConfig(n, n, implementation=implementation, hidden_size=4))
    weight, bias = model.head_params()
    with torch.no_grad():
        weight.zero_()
        bias.copy_(torch.log(torch.as_tensor(probs, dtype=torch.float32)))
    return model


def test_perplexity_of_a_known_distribution():
    probs = np.array([0.5, 0.25, 0.125, 0.125])
    rng = np.random.default_rng(0)
    sequence = rng.choice(4, size=16 * 20 + 1, p=probs)
    model = fixed_distribution_model(probs)
    expected = math.exp(-np.mean(np.log(probs[sequence[1:]])))
    assert evaluate_perplexity(model, sequence) == pytest.approx(expected, rel=1e-5)
    # the cross-entropy of p with itself: 2 ** entropy (1.75 bits) on a long sample
    long_sequence = rng.choice(4, size=200_001, p=probs)
    assert evaluate_perplexity(model, long_sequence, max_chars=200_000) == pytest.approx(2 ** 1.75, rel=0.01)
    uniform = fixed_distribution_model(np.full(7, 1 / 7))
    assert evaluate_perplexity(uniform, rng.integers(0, 7, 50)) == pytest.approx(7.0, rel=1e-5)


def test_evaluation_is_bounded_and_leaves_the_training_mode_alone():
    model = fixed_distribution_model(np.full(3, 1 / 3))
    model.train()
    calls = []
    model.register_forward_hook(lambda module, args, out: calls.append(args[0].shape))
    evaluate_perplexity(model, np.zeros(1_000_000, dtype=np.int64), max_chars=5000, rows=10)
    assert calls == [(10, 500)] and model.training
    with pytest.raises(ValueError, match="at least 2"):
        evaluate_perplexity(model, np.zeros(1, dtype=np.int64))


def epoch_length_by_stepping(lesson: CharLMLesson, limit: int = 500) -> int:
    """Minibatches in one epoch, counted by watching the feeder start its second epoch."""
    feeder = lesson.feeder
    assert feeder.epochs_started == 0
    steps = 0
    while feeder.epochs_started < 2:
        assert lesson.trainer.step() is not None and steps < limit
        steps += 1
    return steps - 1  # the last step opened epoch 2


@pytest.mark.parametrize("sampling", ["random", "sequential"])
def test_training_perplexity_averages_one_epoch_when_the_cap_is_larger(monkeypatch, sampling):
    # The test chooses the cap: far more than an epoch, so the epoch's length must bound the window.
    monkeypatch.setattr(charlm.lesson, "TRAIN_PPL_WINDOW", 10_000)
    lesson = CharLMLesson(small_config(sampling=sampling))
    epoch = epoch_length_by_stepping(lesson)
    # TEXT has 1,800 characters; whatever the held-out share, an epoch of 8 x 10 characters is several batches
    assert 3 <= epoch < len(TEXT) // 80
    lesson.trainer.run_steps(epoch + 3)  # well into the next epoch, so the window spans two epochs' batches
    losses = lesson.trainer.history.losses
    assert len(losses) > epoch + 2
    expected = math.exp(sum(losses[-epoch:]) / epoch)
    assert lesson.train_perplexity() == pytest.approx(expected, rel=1e-9)
    # and the test can tell the windows apart: one batch more or fewer gives another number
    for other in (epoch - 1, epoch + 1):
        assert math.exp(sum(losses[-other:]) / other) != pytest.approx(expected, rel=1e-9)


def test_training_perplexity_window_is_capped_by_the_constant(monkeypatch):
    monkeypatch.setattr(charlm.lesson, "TRAIN_PPL_WINDOW", 3)
    lesson = CharLMLesson(small_config())
    assert math.isnan(lesson.train_perplexity())  # no step yet: nothing to average
    lesson.trainer.run_steps(2)
    first_two = lesson.trainer.history.losses
    assert lesson.train_perplexity() == pytest.approx(math.exp((first_two[0] + first_two[1]) / 2), rel=1e-9)
    lesson.trainer.run_steps(8)
    losses = lesson.trainer.history.losses
    assert len(losses) == 10
    assert lesson.train_perplexity() == pytest.approx(math.exp(sum(losses[-3:]) / 3), rel=1e-9)
    assert math.exp(sum(losses[-4:]) / 4) != pytest.approx(lesson.train_perplexity(), rel=1e-9)


# --- generation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset,layers,embedding", [
    ("scratch", 1, None), ("rnn", 2, None), ("gru", 1, 8), ("lstm", 2, None),
])
def test_generation_reads_through_the_cells_exactly_as_the_fast_model(preset, layers, embedding):
    lesson = CharLMLesson(small_config(preset=preset, num_layers=layers, embedding_dim=embedding, hidden_size=12))
    lesson.trainer.run_steps(5)
    result = lesson.generate("the ", GenerationConfig(num_chars=15, method="temperature", seed=3))
    tokens = torch.from_numpy(encode(result.text, lesson.vocab))[None]
    with torch.no_grad():
        fast_logits, _ = lesson.model(tokens)
    fast_probs = torch.softmax(fast_logits[0], -1).numpy()
    assert np.allclose(result.model_probs, fast_probs[len(result.prefix) - 1: -1], atol=1e-5)
    assert np.allclose(result.hidden, trace(lesson.model, tokens[0]).hidden_states, atol=1e-5)
    assert result.hidden.shape == (layers, len(result.text), 12)
    assert result.read_chars == list(result.text[len(result.prefix) - 1: -1])


def test_greedy_generation_picks_the_argmax_every_time():
    lesson = CharLMLesson(small_config())
    lesson.trainer.run_steps(20)
    result = lesson.generate("fox", GenerationConfig(num_chars=30, method="greedy", seed=1))
    assert np.array_equal(result.chosen, result.model_probs.argmax(axis=1))
    assert np.array_equal(result.chosen_rank(), np.zeros(30))
    assert result.continuation == charlm.greedy_continuation(lesson.model, lesson.vocab, "fox", 30)
    assert lesson.generate("fox", GenerationConfig(num_chars=30, seed=99)).continuation == result.continuation


def test_temperature_sampling_draws_from_p_to_the_power_one_over_t():
    probs = np.array([0.6, 0.25, 0.1, 0.05])
    model = fixed_distribution_model(probs)
    vocab = build_vocab("abcd")
    for temperature in (1.0, 0.5, 2.0):
        results = [generate(model, vocab, "a", GenerationConfig(num_chars=500, method="temperature",
                                                               temperature=temperature, seed=seed))
                   for seed in range(8)]
        expected = probs ** (1 / temperature) / (probs ** (1 / temperature)).sum()
        assert np.allclose(results[0].sampling_probs, expected, atol=1e-5)
        assert np.allclose(results[0].model_probs, probs, atol=1e-5)  # the model itself is untouched
        chosen = np.concatenate([r.chosen for r in results])
        frequencies = np.bincount(chosen, minlength=4) / len(chosen)
        assert np.abs(frequencies - expected).max() < 0.03, (temperature, frequencies, expected)


def test_temperature_sharpens_below_one_and_flattens_above():
    logits = torch.tensor([2.0, 1.0, 0.5, -1.0])

    def entropy(p):
        return float(-(p * torch.log(p)).sum())

    cold, warm, hot = (sampling_distribution(logits, "temperature", t) for t in (0.25, 1.0, 4.0))
    assert entropy(cold) < entropy(warm) < entropy(hot)
    assert torch.allclose(warm, torch.softmax(logits, -1))
    assert float(sampling_distribution(logits, "temperature", 0.05)[0]) > 0.999  # → greedy


def test_top_k_only_draws_from_the_k_most_likely_characters():
    lesson = CharLMLesson(small_config())
    lesson.trainer.run_steps(10)
    result = lesson.generate("the ", GenerationConfig(num_chars=200, method="top_k", top_k=3, temperature=2.0))
    assert ((result.sampling_probs > 0).sum(axis=1) == 3).all()
    top3 = np.argsort(-result.model_probs, axis=1)[:, :3]
    assert all(c in row for c, row in zip(result.chosen, top3))
    assert (result.chosen_rank() < 3).all() and len(set(result.continuation)) > 3
    assert np.allclose(result.sampling_probs.sum(axis=1), 1.0, atol=1e-5)
    k1 = lesson.generate("the ", GenerationConfig(num_chars=20, method="top_k", top_k=1, temperature=5.0))
    assert np.array_equal(k1.chosen, k1.model_probs.argmax(axis=1))  # top-1 is greedy
    big_k = sampling_distribution(torch.tensor([1.0, 2.0]), "top_k", 1.0, top_k=50)
    assert torch.allclose(big_k, torch.softmax(torch.tensor([1.0, 2.0]), -1))


def test_sampling_is_reproducible_for_a_seed():
    lesson = CharLMLesson(small_config())
    config = GenerationConfig(num_chars=60, method="temperature", temperature=1.5, seed=7)
    first, again = lesson.generate("the ", config), lesson.generate("the ", config)
    other = lesson.generate("the ", GenerationConfig(num_chars=60, method="temperature", temperature=1.5, seed=8))
    assert first.continuation == again.continuation != other.continuation


def test_candidates_follow_the_model_and_always_include_the_chosen_character_when_asked():
    lesson = CharLMLesson(small_config())
    lesson.trainer.run_steps(10)
    result = lesson.generate("the ", GenerationConfig(num_chars=80, method="temperature", temperature=5.0, seed=2))
    indices, sampled, model = result.top_candidates(4)
    assert (np.diff(model, axis=1) <= 0).all()  # most likely first, by the model
    assert np.array_equal(indices[:, 0], result.model_probs.argmax(axis=1))
    assert np.allclose(sampled, np.take_along_axis(result.sampling_probs, indices, axis=1))
    ranks = result.chosen_rank()
    assert (ranks >= 4).any()  # at temperature 5 some choices are unlikely ones...
    shown, _, _ = result.top_candidates(4, include_chosen=True)
    assert all(c in row for c, row in zip(result.chosen, shown))  # ...which the bars still show
    assert np.array_equal(shown[ranks < 4], indices[ranks < 4])
    top_k = lesson.generate("the ", GenerationConfig(num_chars=20, method="top_k", top_k=2))
    _, sampled_k, model_k = top_k.top_candidates(5)
    assert (sampled_k[:, 2:] == 0).all() and (model_k[:, 2:] > 0).all()  # cut off, yet still the model's next


@pytest.mark.parametrize("changes,message", [
    (dict(num_chars=0), "between 1"), (dict(num_chars=10_000), "between 1"),
    (dict(temperature=0.0), "temperature"), (dict(temperature=float("nan")), "temperature"),
    (dict(top_k=0), "k must"), (dict(method="beam"), "method"),
])
def test_bad_generation_settings_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        GenerationConfig(**changes).validate()


def test_prefix_characters_outside_the_vocabulary_are_named_and_left_out():
    lesson = CharLMLesson(small_config())
    check = check_prefix("the Zebra😀 ", lesson.vocab)
    assert check.used == "the ebra " and check.unknown == ("Z", "😀")
    assert "“Z”" in check.message and "😀" in check.message and "the ebra" in check.message
    result = lesson.generate("the Zebra😀 ", GenerationConfig(num_chars=5))
    assert result.prefix == "the ebra " and result.text.startswith("the ebra ")
    nothing = check_prefix("ZZ😀", lesson.vocab)
    assert nothing.used == "" and "nothing to continue" in nothing.message
    with pytest.raises(ValueError, match="nothing to continue"):
        lesson.generate("ZZ😀", GenerationConfig())
    assert "Type a prefix" in check_prefix("", lesson.vocab).message
    assert "“space”" in check_prefix("x ", build_vocab("x")).message


def test_unit_activations_follow_the_hidden_states():
    lesson = CharLMLesson(small_config())
    result = lesson.generate("the ", GenerationConfig(num_chars=12))
    assert np.array_equal(result.unit_activations(5), result.hidden[-1, :, 5])
    order = result.most_active_units(32)
    spreads = result.hidden[-1].std(axis=0)[order]
    assert sorted(order.tolist()) == list(range(32)) and (np.diff(spreads) <= 0).all()
    with pytest.raises(ValueError, match="between 0 and 31"):
        result.unit_activations(32)


# --- the lesson: training, schedule, samples -----------------------------------------------------------


def test_short_training_lowers_both_perplexities():
    lesson = CharLMLesson(small_config(hidden_size=64, num_steps=20, batch_size=16, learning_rate=0.01))
    start = lesson.latest
    assert start.step == 0 and start.validation_perplexity == pytest.approx(lesson.vocab_size, rel=0.3)
    lesson.trainer.run_steps(120)
    lesson.update_monitors(force=True)
    end = lesson.latest
    assert end.step == 120 and end.train_perplexity < 3.0 and end.validation_perplexity < 3.0
    assert lesson.train_perplexity() < start.validation_perplexity / 5
    prefix, continuation = lesson.samples.continuations[0]
    assert prefix == "the " and "the" in continuation  # it learned the pangram


def test_validation_and_samples_follow_a_schedule_of_training_time():
    lesson = CharLMLesson(small_config())
    assert len(lesson.evaluations) == 1 and lesson.samples.step == 0
    lesson.trainer.run_steps(2)
    lesson.trainer.train_seconds = 0.5  # pretend: too soon for either
    assert lesson.update_monitors() is False and len(lesson.evaluations) == 1
    lesson._eval_cost = 0.0  # pretend validation is free, so the fixed interval applies
    lesson.trainer.train_seconds = charlm.EVAL_EVERY_SECONDS + 0.1
    assert lesson.update_monitors() is True
    assert len(lesson.evaluations) == 2 and lesson.samples.step == 0  # samples wait longer
    lesson.trainer.run_steps(1)
    lesson._eval_cost = 10.0  # an expensive validation waits: it may take only a share of training time
    lesson.trainer.train_seconds = charlm.SAMPLE_EVERY_SECONDS + 0.2
    lesson.update_monitors()
    assert lesson.samples.step == 3 and len(lesson.evaluations) == 2  # validation is not due yet
    lesson.update_monitors(force=True)  # Pause / Step: measure now
    assert len(lesson.evaluations) == 3 and lesson.latest.step == 3
    assert lesson.update_monitors(force=True) is False  # nothing new at the same step


def test_evaluations_stay_bounded(monkeypatch):
    lesson = CharLMLesson(small_config())
    monkeypatch.setattr(lesson, "validation_perplexity", lambda: 2.0)  # the bookkeeping is under test, not the maths
    monkeypatch.setattr(charlm.lesson, "greedy_continuation", lambda *args: "")
    for _ in range(charlm.MAX_EVALUATIONS + 50):
        lesson.trainer.step_count += 1  # a new step each time, without the cost of training
        lesson.update_monitors(force=True)
    assert len(lesson.evaluations) <= charlm.MAX_EVALUATIONS
    steps = [e.step for e in lesson.evaluations]
    assert steps == sorted(steps) and steps[-1] == lesson.trainer.step_count


def test_nan_weights_stop_training_with_a_reason_and_the_page_state_survives():
    lesson = CharLMLesson(small_config())
    with torch.no_grad():
        lesson.model.head.bias.fill_(float("nan"))
    assert lesson.trainer.step() is None
    assert "NaN" in lesson.trainer.stop_reason and "Reset" in lesson.trainer.stop_reason
    assert lesson.update_monitors(force=True) is False
    assert lesson.reset().trainer.step() is not None


def test_minibatch_preview_shows_adjacent_rows_for_sequential_sampling():
    lesson = CharLMLesson(small_config(text="".join(chr(65 + i % 26) for i in range(2000))))
    rows = lesson.minibatch_preview(n_batches=2, n_rows=2, width=100)
    assert [(r["row"], r["minibatch"]) for r in rows] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    first, second = rows[0], rows[1]
    assert second["starts at"] == first["starts at"] + 10
    assert first["Y (target)"][:-1] == first["X (input)"][1:]


# --- checkpoints ---------------------------------------------------------------------------------------


def test_the_shipped_lyrics_checkpoint_continues_a_prefix_offline(corpora_env):
    path = charlm.CHECKPOINTS["jaychou_lyrics:10000"]
    assert path.is_file(), "train it: python -m rnnviz.pretrain charlm --corpus lyrics"
    assert path.stat().st_size < 3_000_000
    pretrained = charlm.load_pretrained(path)
    meta = pretrained.metadata
    assert meta["corpus"] == "jaychou_lyrics:10000" and meta["command"].startswith("python -m rnnviz.pretrain charlm")
    assert len(pretrained.vocab) == 1027 and meta["date"]
    assert meta["train_perplexity"] <= 1.1
    # its recorded validation perplexity is what it scores on the real validation tail today
    prepared = PreparedCorpus.from_corpus(charlm.lyrics_corpus())
    assert pretrained.vocab.index_to_char == prepared.vocab.index_to_char
    measured = evaluate_perplexity(pretrained.model, prepared.validation)
    assert measured == pytest.approx(meta["validation_perplexity"], rel=1e-3)
    assert measured > len(pretrained.vocab)  # memorised: worse than chance on lyrics it never saw
    assert evaluate_perplexity(pretrained.model, prepared.train) < 1.1  # ...and near-perfect on those it saw
    result = generate(pretrained.model, pretrained.vocab, "不分开", GenerationConfig(num_chars=40))
    windows = [result.continuation[i: i + 8] for i in range(len(result.continuation) - 8)]
    assert any(w in prepared.text_of(prepared.train) for w in windows)  # it recites lines of the lyrics


def test_the_shipped_shakespeare_checkpoint_writes_english(corpora_env):
    path = charlm.CHECKPOINTS["tinyshakespeare:all"]
    assert path.is_file() and path.stat().st_size < 3_000_000
    pretrained = charlm.load_pretrained(path)
    meta = pretrained.metadata
    assert meta["corpus"] == "tinyshakespeare:all" and len(pretrained.vocab) == 65
    assert meta["validation_perplexity"] < 6 and meta["command"].startswith("python -m rnnviz.pretrain charlm")
    result = generate(pretrained.model, pretrained.vocab, "ROMEO:", GenerationConfig(num_chars=200, method="top_k",
                                                                                     top_k=3, seed=0))
    words = [w.strip(".,;:!?'") for w in result.continuation.split()]
    common = {"the", "and", "of", "to", "my", "I", "you", "is", "that", "in", "not", "with", "be", "a", "me"}
    assert sum(w in common for w in words) >= 5, result.continuation  # English, not letter soup


def test_pretrain_command_saves_a_loadable_checkpoint_and_refuses_bad_input(corpora_env, tmp_path, capsys):
    from rnnviz import pretrain

    out = tmp_path / "tiny.pt"
    argv = ["charlm", "--chars", "2000", "--hidden-size", "8", "--epochs", "2", "--batch-size", "4",
            "--out", str(out)]
    assert pretrain.main(argv) == 0
    loaded = charlm.load_pretrained(out)
    assert loaded.metadata["command"] == "python -m rnnviz.pretrain " + " ".join(argv)
    assert loaded.metadata["corpus"] == "jaychou_lyrics:2000" and out.with_suffix(".json").is_file()
    assert pretrain.main(["charlm", "--chars", "2000", "--batch-size", "0", "--out", str(out)]) == 2
    assert "batch size" in capsys.readouterr().err


def test_load_pretrained_refuses_other_checkpoints(tmp_path):
    model = RecurrentModel(ModelConfig(5, 5, hidden_size=3))
    save_checkpoint(model, tmp_path / "other.pt", {"task": "names"})
    with pytest.raises(CheckpointError, match="not a character language model"):
        charlm.load_pretrained(tmp_path / "other.pt")
    save_checkpoint(model, tmp_path / "bad_vocab.pt", {"task": "charlm", "vocabulary": ["a", "a", "b", "c", "d"]})
    with pytest.raises(CheckpointError, match="vocabulary"):
        charlm.load_pretrained(tmp_path / "bad_vocab.pt")
    save_checkpoint(model, tmp_path / "short.pt", {"task": "charlm", "vocabulary": ["a", "b"]})
    with pytest.raises(CheckpointError, match="does not match"):
        charlm.load_pretrained(tmp_path / "short.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        charlm.load_pretrained(tmp_path / "junk.pt")


# --- the lesson's figures -------------------------------------------------------------------------------


def test_lesson_figures_carry_their_reference_lines_labels_and_marks():

    fig = language_model.perplexity_curve([1, 2, 3], [900.0, 300.0, 80.0], [0, 3], [1000.0, 400.0], vocab_size=1027)
    by_name = {trace.name: trace for trace in fig.data}
    assert list(by_name["chance = vocabulary size (1,027)"].y) == [1027, 1027]
    assert list(by_name["ideal = 1"].y) == [1, 1] and fig.layout.yaxis.type == "log"
    assert "validation 400" in fig.layout.title.subtitle.text
    grid = language_model.candidates_grid(["0·我", "1·想"], [["我", "你"], ["想", "要"]], np.array([[0.7, 0.2], [0.4, 0.5]]),
                                           [0, 1])
    assert grid["cells"] == [["我", "想"], ["你", "要"]] and grid["probs"] == [[0.7, 0.4], [0.2, 0.5]]
    assert grid["chosen"] == [0, 1] and grid["rows"] == ["1st", "2nd"]  # rank 1st at step 0, 2nd at step 1
    text = language_model.text_activation_figure(list("分开我想"), [0.5, -0.5, 1.0, 0.0], prefix_len=2, width=3)
    assert text.data[0].zmin == -1 and text.data[0].zmax == 1
    assert list(text.data[0].text[0]) == ["<b>分</b>", "<b>开</b>", "我"] and text.data[0].text[1][0] == "想"
    assert text.data[0].z[1][1] is None  # the padding cell is blank
    units = language_model.unit_heatmap(np.zeros((4, 10)), list("abcd"), [7, 2])
    assert list(units.data[0].y) == ["h[7]", "h[2]"]
    lesson = CharLMLesson(small_config())
    layout = language_model.minibatch_layout_figure(lesson.layout(), len(lesson.prepared.train), scheme="sequential",
                                             num_steps=10, batch_size=8)
    assert [t.name for t in layout.data if t.showlegend is not False] == [
        "each row's stream", "minibatch 0", "minibatch 1", "minibatch 2"]
