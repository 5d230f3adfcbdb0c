"""Lesson 3: a character-level language model (Dive into Deep Learning, ch. 8), trained live."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import streamlit as st

from rnnviz import ui
from rnnviz.core.checkpoints import CheckpointError
from rnnviz.data.corpus import MAX_UPLOAD_BYTES
from rnnviz.data.download import DatasetError, format_bytes
from rnnviz.data.names import LANGUAGES
from rnnviz.i18n import N_, _, translate
from rnnviz.lessons.charlm import (
    CORPUS_SOURCES,
    CorpusChoice,
    PreparedCorpus,
    corpus_for,
    GENERATION_METHODS,
    LYRICS_BOOK_CHARS,
    MAX_GENERATE,
    MAX_PREFIX_CHARS,
    MODEL_PRESETS,
    SAMPLING_SCHEMES,
    CharLMConfig,
    CharLMLesson,
    CorpusText,
    Generation,
    GenerationConfig,
    PretrainedLM,
    check_prefix,
    generate,
    language_label,
    load_pretrained,
    pretrained_for,
)
from rnnviz.viz import language_model, replay, style, training

KEY = "charlm"
LYRICS_SIZES = [2_000, 5_000, 10_000, 20_000, 40_000, None]
SHAKESPEARE_SIZES = [10_000, 100_000, 300_000, None]
HIDDEN_SIZES = [16, 32, 64, 128, 256, 512]
STEPS = [5, 10, 20, 35, 50, 100, 200]
BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
CLIP_THRESHOLDS = [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]
TOP_K_SHOWN = 8  # candidates per generated character in the softmax views
MAX_HEATMAP_STEPS = 40  # generated characters drawn in the candidates heatmap (wider gets unreadable)
TEMPERATURES = [0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0]
LIVE_CHARS, LIVE_CANDIDATES = 20, 5  # the live view's continuation
MAX_ANIMATED_CHARS = 80  # longer texts get a static hidden-state heatmap (frames grow quadratically)

ui.lesson_header(
    _("Character language model"),
    _("A language model predicts the next character from the ones before it. Trained on a corpus, it "
      "assigns each text a probability; **perplexity** is the model's average uncertainty per character: "
      "as many choices as a uniform guess among that many characters (the vocabulary size is chance, 1 is "
      "perfect). Train on the lyrics, then type a prefix such as “分开” and let the model continue it."),
    r"\text{perplexity} = \exp\Big(-\frac{1}{T}\sum_{t=1}^{T} \log P(x_t \mid x_{t-1}, \ldots, x_1)\Big),"
    r"\qquad P(x_t \mid x_{<t}) = \mathrm{softmax}(h_{t-1} W_{hq} + b_q)",
)
INPUT_LABELS = {"one-hot": N_("one-hot"), "embedding": N_("embedding")}


# --- settings ----------------------------------------------------------------------------------------


def size_label(n: int | None) -> str:
    return _("all") if n is None else f"{n:,}"


def labelled(labels: dict, marked: bool = True):
    """A format_func with the labels translated now: Streamlit may call it outside this run's language
    (AppTest formats a widget's value from the test's thread)."""
    table = {key: translate(label) if marked else label for key, label in labels.items()}
    return table.__getitem__


def read_corpus_choice() -> CorpusChoice:
    """The sidebar's corpus widgets."""
    sb = st.sidebar
    sb.header(_("Corpus"))
    source = sb.radio(_("Corpus"), list(CORPUS_SOURCES), format_func=labelled(CORPUS_SOURCES),
                      key="charlm_sb_corpus", label_visibility="collapsed")
    if source == "lyrics":
        n = sb.select_slider(_("Characters of the lyrics"), LYRICS_SIZES, value=LYRICS_BOOK_CHARS,
                             format_func=labelled({n: size_label(n) for n in LYRICS_SIZES}, marked=False),
                             key="charlm_sb_lyrics_chars",
                             help=_("The book trains on the first 10,000 characters (1,027 distinct)."))
        return CorpusChoice(source, first_n_chars=n)
    if source == "shakespeare":
        n = sb.select_slider(_("Characters of Shakespeare"), SHAKESPEARE_SIZES, value=None,
                             format_func=labelled({n: size_label(n) for n in SHAKESPEARE_SIZES}, marked=False),
                             key="charlm_sb_shakespeare_chars")
        return CorpusChoice(source, first_n_chars=n)
    if source == "names":
        language = sb.selectbox(_("Language"), LANGUAGES, index=LANGUAGES.index("English"), key="charlm_sb_language",
                                format_func=labelled({lang: language_label(lang) for lang in LANGUAGES},
                                                  marked=False),
                                help=_("The model learns the surnames of this language and invents new ones."))
        return CorpusChoice(source, language=language)
    uploaded = sb.file_uploader(_("Upload a UTF-8 .txt file (at most {size})", size=format_bytes(MAX_UPLOAD_BYTES)),
                                type=["txt"], key="charlm_sb_upload", max_upload_size=MAX_UPLOAD_BYTES // 1_000_000)
    pasted = sb.text_area(_("…or paste text"), key="charlm_sb_paste", height=150,
                          placeholder=_("Paste a few thousand characters of any language."))
    return CorpusChoice(source, uploaded=None if uploaded is None else uploaded.getvalue(),
                        uploaded_name=uploaded.name if uploaded is not None else "", pasted=pasted or "")


def read_model_settings() -> dict:
    sb = st.sidebar
    sb.header(_("Model"))
    preset = sb.selectbox(_("Model"), list(MODEL_PRESETS),
                          format_func=labelled({k: p.label for k, p in MODEL_PRESETS.items()}),
                          index=list(MODEL_PRESETS).index("rnn"), key="charlm_sb_preset")
    embedding = sb.radio(_("Input"), list(INPUT_LABELS), format_func=labelled(INPUT_LABELS),
                         horizontal=True, key="charlm_sb_input",
                         help=_("The book feeds one-hot vectors as wide as the vocabulary; an embedding is a "
                                "learned, narrow vector per character."))
    embedding_dim = None
    if embedding == "embedding":
        embedding_dim = sb.select_slider(_("Embedding size"), [8, 16, 32, 64, 128], value=32,
                                         key="charlm_sb_embedding")
    hidden = sb.select_slider(_("Hidden size"), HIDDEN_SIZES, value=256, key="charlm_sb_hidden")
    layers = sb.radio(_("Layers"), [1, 2], horizontal=True, key="charlm_sb_layers")
    sb.header(_("Minibatches"))
    sampling = sb.radio(_("Sampling"), list(SAMPLING_SCHEMES), format_func=labelled(SAMPLING_SCHEMES),
                        key="charlm_sb_sampling")
    num_steps = sb.select_slider(_("Steps per row (num_steps)"), STEPS, value=35, key="charlm_sb_steps")
    batch_size = sb.select_slider(_("Batch size"), BATCH_SIZES, value=32, key="charlm_sb_batch")
    sb.header(_("Training"))
    optimizer = sb.radio(_("Optimizer"), list(ui.OPTIMIZER_LABELS), format_func=ui.OPTIMIZER_LABELS.get,
                         horizontal=True, key="charlm_sb_opt",
                         help=_("The book's from-scratch chapter uses SGD with learning rate 100 and clipping at "
                                "0.01; its concise chapter Adam 0.001."))
    learning_rate = sb.select_slider(_("Learning rate"), LEARNING_RATES, value=0.001, key="charlm_sb_lr")
    clip_on = sb.toggle(_("Clip the gradient norm"), value=True, key="charlm_sb_clip_on")
    clip = (sb.select_slider(_("Clip threshold θ"), CLIP_THRESHOLDS, value=0.01, key="charlm_sb_clip")
            if clip_on else None)
    seed = sb.number_input(_("Seed"), min_value=0, max_value=2**31 - 1, value=0, step=1, key="charlm_sb_seed")
    return dict(preset=preset, embedding_dim=embedding_dim, hidden_size=int(hidden), num_layers=int(layers),
                sampling=sampling, num_steps=int(num_steps), batch_size=int(batch_size), optimizer=optimizer,
                learning_rate=float(learning_rate), clip_threshold=clip, seed=int(seed))


@st.cache_resource(show_spinner=False, max_entries=8)
def shared_prepared_corpus(key: str, _corpus: CorpusText) -> PreparedCorpus:
    """The corpus encoded once per server and shared read-only by every session that picks it."""
    return PreparedCorpus.from_corpus(_corpus)


def new_lesson(config: CharLMConfig) -> CharLMLesson:
    return CharLMLesson(config, shared_prepared_corpus(config.corpus.key, config.corpus))


@st.cache_resource(show_spinner=False, max_entries=4)
def cached_pretrained(path: str, mtime: float) -> PretrainedLM:
    return load_pretrained(Path(path))


def pretrained_model(corpus_key: str) -> tuple[PretrainedLM | None, str | None]:
    path = pretrained_for(corpus_key)
    if path is None:
        return None, None
    try:
        return cached_pretrained(str(path), path.stat().st_mtime), None
    except CheckpointError as err:
        return None, _("The pretrained checkpoint could not be loaded: {problem}", problem=str(err))


# --- what the page shows ------------------------------------------------------------------------------


def fmt_ppl(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"


def show_corpus(lesson: CharLMLesson) -> None:
    prepared = lesson.prepared
    st.markdown(f"**{prepared.corpus.shown_title()}**")
    cols = st.columns(4)
    cols[0].metric(_("Characters"), f"{prepared.n_chars:,}")
    cols[1].metric(_("Vocabulary (distinct characters)"), f"{lesson.vocab_size:,}",
                   help=_("Chance perplexity: a uniform guess over the vocabulary."))
    cols[2].metric(_("Training part (first 90%)"), f"{len(prepared.train):,}")
    cols[3].metric(_("Validation tail (last 10%)"), f"{len(prepared.validation):,}",
                   help=_("Never trained on: its perplexity shows whether the model generalises or memorises."))
    with st.expander(_("Read the start of the text and its most frequent characters")):
        st.code(prepared.corpus.text[:600], language=None, wrap_lines=True)
        order = np.argsort(-np.asarray(lesson.vocab.counts), kind="stable")[:20]
        st.caption(_("Most frequent: {chars}", chars="  ".join(
            f"{style.display_char(lesson.vocab.index_to_char[i])} ×{lesson.vocab.counts[i]:,}" for i in order)))


def show_minibatches(lesson: CharLMLesson) -> None:
    cfg = lesson.config
    named = dict(batch=cfg.batch_size, steps=cfg.num_steps, batches=lesson.feeder.batches_per_epoch)
    if cfg.sampling == "sequential":
        st.markdown(_("Each minibatch is **{batch} rows × {steps} characters** (X), and the same characters shifted "
                      "by one (Y, what the model must predict); an epoch has **{batches}** minibatches. With "
                      "sequential sampling, row r of the next minibatch continues row r of this one, so the final "
                      "hidden state is reused (detached: gradients stop at the minibatch boundary).", **named))
    else:
        st.markdown(_("Each minibatch is **{batch} rows × {steps} characters** (X), and the same characters shifted "
                      "by one (Y, what the model must predict); an epoch has **{batches}** minibatches. With random "
                      "sampling, rows are independent pieces of the text, so every minibatch starts from a zero "
                      "hidden state.", **named))
    layout = lesson.layout()
    ui.chart(language_model.minibatch_layout_figure(
        layout, len(lesson.prepared.train), scheme=cfg.sampling, num_steps=cfg.num_steps,
        batch_size=cfg.batch_size), key=f"{KEY}_layout")
    columns = {"minibatch": _("minibatch"), "row": _("row"), "starts at": _("starts at"),
               "X (input)": _("X (input)"), "Y (target)": _("Y (target)")}
    st.dataframe([{columns.get(k, k): v for k, v in row.items()}
                  for row in lesson.minibatch_preview(n_batches=2, n_rows=3)], hide_index=True)


def render_live(lesson: CharLMLesson) -> None:
    trainer = lesson.trainer
    latest = lesson.latest
    if trainer.step_count == 0:
        st.markdown(_("### Untrained: validation perplexity {ppl} (chance: {chance})\nPress **Train**.",
                      ppl=fmt_ppl(latest.validation_perplexity), chance=f"{lesson.vocab_size:,}"))
    else:
        named = dict(train=fmt_ppl(lesson.train_perplexity()),
                     validation=fmt_ppl(latest.validation_perplexity if latest else math.nan),
                     step=f"{trainer.step_count:,}", epoch=f"{lesson.feeder.epochs_done:.1f}",
                     speed=f"{lesson.chars_per_second:,.0f}", seconds=f"{trainer.train_seconds:.1f}")
        if latest and latest.step != trainer.step_count:
            st.markdown(_("### Training perplexity {train} · validation {validation}\nstep **{step}** · epoch "
                          "**{epoch}** · **{speed}** characters/s · {seconds} s of training · validation measured "
                          "at step {measured}", measured=f"{latest.step:,}", **named))
        else:
            st.markdown(_("### Training perplexity {train} · validation {validation}\nstep **{step}** · epoch "
                          "**{epoch}** · **{speed}** characters/s · {seconds} s of training", **named))
    history = trainer.history
    ui.chart(language_model.perplexity_curve(
        history.steps, history.metric("perplexity"), [e.step for e in lesson.evaluations],
        [e.validation_perplexity for e in lesson.evaluations], vocab_size=lesson.vocab_size),
        key=f"{KEY}_ppl")
    ui.live_chart(lambda: training.grad_norm_chart(history.steps, history.grad_norms_before_clip,
                                                  history.grad_norms_after_clip,
                                                  threshold=trainer.config.clip_threshold), key=f"{KEY}_grad")
    samples = lesson.samples
    if samples is not None:
        st.markdown(_("**Samples** (greedy, {n} characters) at step {step}, epoch {epoch}:",
                      n=len(samples.continuations[0][1]), step=f"{samples.step:,}", epoch=f"{samples.epochs:.1f}"))
        st.code("\n".join(f"{p} → {c if c.strip() else '␣' * len(c)}".replace("\n", "↵")
                          for p, c in samples.continuations), language=None, wrap_lines=True)
        st.caption(_("An untrained model repeats the most frequent character (␣ marks spaces); "
                     "a memorising one recites the corpus."))
    show_live_candidates(lesson)


PREFIX_KEY = "prefix"  # the prefix box
PREFIX_CORPUS_KEY = f"{KEY}_prefix_corpus"  # the corpus the box's text was typed for
PREFIXES_KEY = f"{KEY}_prefixes"  # corpus key → the prefix last typed for it


def sample_prefix(corpus: CorpusText) -> str:
    return corpus.prefixes[0] if corpus.prefixes else ""


def prefix_box_for(corpus: CorpusText) -> None:
    """Before the prefix box: each corpus starts at its own sample prefix (a lyrics prefix means
    nothing to Shakespeare) and gets back what was typed for it; the first corpus shown keeps a
    prefix given in the link."""
    remembered = st.session_state.setdefault(PREFIXES_KEY, {})
    owner = st.session_state.get(PREFIX_CORPUS_KEY)
    if owner not in (None, corpus.key) and PREFIX_KEY in st.session_state:
        remembered[owner] = st.session_state[PREFIX_KEY]
    if owner not in (None, corpus.key) or PREFIX_KEY not in st.session_state:
        st.session_state[PREFIX_KEY] = remembered.get(corpus.key, sample_prefix(corpus))
    st.session_state[PREFIX_CORPUS_KEY] = corpus.key


def current_prefix(corpus: CorpusText) -> str:
    """What the prefix box holds for this corpus (its sample prefix before the box is shown)."""
    if st.session_state.get(PREFIX_CORPUS_KEY) == corpus.key and st.session_state.get(PREFIX_KEY):
        return st.session_state[PREFIX_KEY]
    return sample_prefix(corpus)


def show_live_candidates(lesson: CharLMLesson) -> None:
    """The prefix below continued greedily by the model being trained, redrawn with every tick."""
    corpus = lesson.prepared.corpus
    typed = current_prefix(corpus)
    check = check_prefix(typed, lesson.vocab)
    if not check.used:
        return

    def candidates_now():
        result = lesson.generate(check.used, GenerationConfig(num_chars=LIVE_CHARS))
        indices, probs, _model_probs = result.top_candidates(LIVE_CANDIDATES)
        return language_model.candidates_grid(
            step_labels(result), [[result.vocab[i] for i in row] for row in indices], probs, result.chosen_rank(),
            title=_("“{prefix}” → “{continuation}”: the candidates for each next character, now",
                    prefix=result.prefix, continuation=result.continuation))

    ui.live_chart(candidates_now, key=f"{KEY}_live_candidates", depends_on=check.used)


def read_generation_settings(corpus: CorpusText, live_steps: int, pretrained: PretrainedLM | None
                             ) -> tuple[str, str, GenerationConfig]:
    slug = corpus.key.replace(":", "_")
    sources = ["live"] + (["pretrained"] if pretrained is not None else [])
    labels = {"live": _("The model trained above (step {step})", step=f"{live_steps:,}")}
    if pretrained is not None:
        meta = pretrained.metadata
        labels["pretrained"] = _("Pretrained checkpoint (training perplexity {train}, validation {validation})",
                                 train=fmt_ppl(meta.get("train_perplexity")),
                                 validation=fmt_ppl(meta.get("validation_perplexity")))
    source = st.radio(_("Model"), sources, format_func=labelled(labels, marked=False), horizontal=True,
                      key=f"{KEY}_source_{slug}",
                      index=len(sources) - 1)
    c1, c2, c3 = st.columns([2, 1, 1])
    prefix_box_for(corpus)
    prefix = c1.text_input(_("Prefix"), max_chars=MAX_PREFIX_CHARS, key=PREFIX_KEY,
                           live=ui.TYPING_COMMIT)  # the continuation follows the typing
    num_chars = c2.number_input(_("Characters to generate"), 1, MAX_GENERATE, 30, key=f"{KEY}_num_chars")
    seed = c3.number_input(_("Sampling seed"), 0, 2**31 - 1, 0, key=f"{KEY}_gen_seed")
    c4, c5, c6 = st.columns([2, 1, 1])
    method = c4.radio(_("Decoding"), list(GENERATION_METHODS), format_func=labelled(GENERATION_METHODS),
                      horizontal=True, key=f"{KEY}_method")
    temperature = c5.select_slider(_("Temperature"), TEMPERATURES, value=1.0,
                                   key=f"{KEY}_temperature", disabled=method == "greedy",
                                   help=_("Divides the scores before the softmax: below 1 sharpens, above 1 "
                                          "flattens."))
    top_k = c6.number_input(_("k (top-k)"), 1, 1000, 5, key=f"{KEY}_top_k", disabled=method != "top_k")
    return source, prefix, GenerationConfig(int(num_chars), method, float(temperature), int(top_k), int(seed))


@st.fragment
def show_generation(lesson: CharLMLesson, state: ui.LiveSession) -> None:
    """A fragment: typing a prefix reruns only this section, not the page."""
    corpus = lesson.prepared.corpus
    pretrained, problem = pretrained_model(corpus.key)
    if problem:
        st.warning(problem)
    source, prefix, gen_config = read_generation_settings(corpus, lesson.trainer.step_count, pretrained)
    if source == "pretrained" and pretrained is not None:
        model, vocab = pretrained.model, pretrained.vocab
        st.caption(_("{title}; trained with {command} on {date}.", title=pretrained.shown_title(),
                     command=f"`{pretrained.metadata.get('command', '?')}`", date=pretrained.metadata.get("date", "?")))
    else:
        model, vocab = lesson.model, lesson.vocab
        if state.playing:
            st.caption(_("Training is running: this continuation uses the weights of the last page refresh. "
                         "Pause to see the newest model."))
    check = check_prefix(prefix, vocab)
    if check.message:
        (st.error if not check.used else st.warning)(check.message, icon=":material/translate:")
    if not check.used:
        return
    try:
        result = generate(model, vocab, prefix, gen_config)
    except ValueError as err:
        st.error(str(err))
        return
    st.markdown(
        f"<div style='font-size:1.35rem; line-height:1.7; padding:0.6rem 0.9rem; background:#f4f6fa; "
        f"border-radius:0.5rem'><b>{escape(result.prefix)}</b><span style='color:#1f3b73'>"
        f"{escape(result.continuation)}</span></div>", unsafe_allow_html=True)
    st.caption(_("Bold: your prefix; blue: generated. ↵ marks a line break."))
    # Only the open tab is drawn: each keystroke in the prefix box redraws its charts, not all four.
    tabs = st.tabs([_("Softmax at each step"), _("Hidden states"), _("Colour the text by one unit")],
                   key=f"{KEY}_generation_views", on_change="rerun")
    for tab, show in zip(tabs, (show_softmax_views, show_hidden_views, show_unit_colouring)):
        if tab.open:
            with tab:
                show(result)
    url_follows_settings()  # the decoding settings changed here (the browser keeps the typed prefix)


def escape(text: str) -> str:
    import html

    return html.escape(text).replace("\n", "↵")


def step_labels(result: Generation) -> list[str]:
    return style.unique_labels(list(result.continuation))


def show_softmax_views(result: Generation) -> None:
    indices, sampled, _model_probs = result.top_candidates(TOP_K_SHOWN)
    ranks = result.chosen_rank()
    labels = step_labels(result)
    n = min(len(labels), MAX_HEATMAP_STEPS)
    config = result.config
    temperature = f"{config.temperature:g}"
    how = {"greedy": _("greedy: the chosen character is always the most likely"),
           "temperature": _("sampled at temperature {temperature}", temperature=temperature),
           "top_k": _("sampled from the top {k} at temperature {temperature}", k=config.top_k,
                      temperature=temperature)}[config.method]
    outside = int((ranks[:n] >= TOP_K_SHOWN).sum())
    parts = [how, _("colour: probability in the distribution sampled from"),
             _("top {k} of {n} characters", k=TOP_K_SHOWN, n=f"{len(result.vocab):,}")]
    if n < len(labels):
        parts.append(_("first {n} of {total} steps", n=n, total=len(labels)))
    if outside:
        parts.append(_("{count} chosen outside the top {k}", count=outside, k=TOP_K_SHOWN))
    subtitle = " · ".join(parts)
    chars = [[result.vocab[i] for i in row] for row in indices]
    ui.chart(language_model.candidates_grid(labels[:n], chars[:n], sampled[:n], ranks[:n], subtitle=subtitle,
                                            title=_("Top candidates for each character generated after “{prefix}”",
                                                    prefix=result.prefix)),
             key=f"{KEY}_candidates")
    shown, sampled_p, model_p = result.top_candidates(TOP_K_SHOWN, include_chosen=True)
    positions = [int(np.flatnonzero(row == c)[0]) for row, c in zip(shown, result.chosen)]
    ui.chart(language_model.candidate_bars(labels, [[result.vocab[i] for i in row] for row in shown], sampled_p, model_p,
                                    positions, show_model=config.method != "greedy",
                                    title=_("The distribution each character was drawn from (press ▶)")),
             key=f"{KEY}_cand_bars")


def show_hidden_views(result: Generation) -> None:
    hidden_size = result.hidden.shape[2]
    n_units = st.slider(_("Units shown (those that vary most over this text)"), 4, min(64, hidden_size),
                        min(24, hidden_size), key=f"{KEY}_n_units")
    units = result.most_active_units(n_units)
    text = list(result.text)
    animate = len(text) <= MAX_ANIMATED_CHARS
    ui.chart(language_model.unit_heatmap(
        result.hidden[-1], text, units, animate=animate,
        title=_("Hidden state h_t (top layer) over prefix + continuation: {n} of {total} units", n=n_units,
                total=hidden_size)),
        key=f"{KEY}_hidden")
    sentences = [_("The first {n} columns are the prefix.", n=len(result.prefix))]
    if animate:
        sentences.append(_("Press ▶ to replay the state filling in."))
    sentences.append(_("Colour: −1 blue, 0 white, +1 red, the same in every frame."))
    st.caption(" ".join(sentences))


def show_unit_colouring(result: Generation) -> None:
    hidden_size = result.hidden.shape[2]
    suggestions = [int(u) for u in result.most_active_units(6)]
    unit = st.number_input(_("Hidden unit (0–{last})", last=hidden_size - 1), 0, hidden_size - 1, suggestions[0],
                           key=f"{KEY}_unit")
    st.caption(_("Units that vary most over this text: {units}", units=", ".join(f"h[{u}]" for u in suggestions)))
    values = result.unit_activations(int(unit))
    ui.chart(language_model.text_activation_figure(
        list(result.text), values, prefix_len=len(result.prefix), colorbar_title=f"h[{unit}]",
        title=_("The text coloured by hidden unit h[{unit}] after reading each character", unit=unit)),
        key=f"{KEY}_unit_text")


# --- the page ---------------------------------------------------------------------------------------------

URL_FIELDS = [
    ui.UrlField("corpus", "charlm_sb_corpus", ui.choice(list(CORPUS_SOURCES))),
    ui.UrlField("lyrics_chars", "charlm_sb_lyrics_chars", ui.choice(LYRICS_SIZES)),
    ui.UrlField("shakespeare_chars", "charlm_sb_shakespeare_chars", ui.choice(SHAKESPEARE_SIZES)),
    ui.UrlField("language", "charlm_sb_language", ui.choice(LANGUAGES)),
    ui.UrlField("model", "charlm_sb_preset", ui.choice(list(MODEL_PRESETS))),
    ui.UrlField("input", "charlm_sb_input", ui.choice(["one-hot", "embedding"])),
    ui.UrlField("embedding", "charlm_sb_embedding", ui.choice([8, 16, 32, 64, 128])),
    ui.UrlField("hidden", "charlm_sb_hidden", ui.choice(HIDDEN_SIZES)),
    ui.UrlField("layers", "charlm_sb_layers", ui.choice([1, 2])),
    ui.UrlField("sampling", "charlm_sb_sampling", ui.choice(list(SAMPLING_SCHEMES))),
    ui.UrlField("steps", "charlm_sb_steps", ui.choice(STEPS)),
    ui.UrlField("batch", "charlm_sb_batch", ui.choice(BATCH_SIZES)),
    ui.UrlField("optimizer", "charlm_sb_opt", ui.choice(list(ui.OPTIMIZER_LABELS))),
    ui.UrlField("lr", "charlm_sb_lr", ui.choice(LEARNING_RATES)),
    ui.UrlField("clip", "charlm_sb_clip_on", ui.flag),
    ui.UrlField("threshold", "charlm_sb_clip", ui.choice(CLIP_THRESHOLDS)),
    ui.UrlField("seed", "charlm_sb_seed", ui.integer(0, 2**31 - 1)),
    ui.UrlField("decoding", f"{KEY}_method", ui.choice(list(GENERATION_METHODS))),
    ui.UrlField("temperature", f"{KEY}_temperature", ui.choice(TEMPERATURES)),
    ui.UrlField("top_k", f"{KEY}_top_k", ui.integer(1, 1000)),
    ui.UrlField("prefix", PREFIX_KEY, ui.text(MAX_PREFIX_CHARS), typed=True),
]
url_follows_settings = ui.url_setup(KEY, URL_FIELDS)
choice = read_corpus_choice()
model_settings = read_model_settings()
with st.sidebar:
    st.divider()
    ui.copy_link_control(URL_FIELDS)
if not choice.ready:
    st.info(_("Upload a UTF-8 text file or paste some text in the sidebar to train on it."),
            icon=":material/upload_file:")
    st.stop()

existing = st.session_state.get(KEY)
try:
    with ui.download_progress(_("Downloading the corpus")) as progress, st.spinner(_("Loading the corpus…")):
        corpus = corpus_for(choice, existing.lesson.config.corpus if existing is not None else None, progress)
except (DatasetError, ValueError) as err:
    st.error(str(err), icon=":material/error:")
    st.stop()

config = CharLMConfig(corpus=corpus, **model_settings)
state = ui.live_lesson(KEY, config, new_lesson, errors=(DatasetError, ValueError))

st.header(_("1 · The corpus"))
show_corpus(state.lesson)
st.header(_("2 · Cutting the corpus into minibatches"))
show_minibatches(state.lesson)
st.header(_("3 · Training"))
lesson_config = state.lesson.config
if lesson_config.embedding_dim is None:
    st.caption(_("{model}, hidden size {hidden}, one-hot input · validation perplexity is measured about every "
                 "second of training, samples every few seconds.",
                 model=translate(MODEL_PRESETS[lesson_config.preset].label), hidden=lesson_config.hidden_size))
else:
    st.caption(_("{model}, hidden size {hidden}, embedded input · validation perplexity is measured about every "
                 "second of training, samples every few seconds.",
                 model=translate(MODEL_PRESETS[lesson_config.preset].label), hidden=lesson_config.hidden_size))
ui.train_section(state, render_live, key=KEY)
st.subheader(_("Replay of training"))
ui.replay_section(state.lesson, replay.continuation_replay, key=KEY, file_name="rnnviz_charlm_replay.html",
                  caption=_("How the continuation of the first sample prefix changed as the model trained: the "
                            "most likely next characters at each snapshot."))
st.header(_("4 · Continue a prefix"))
show_generation(state.lesson, state)
url_follows_settings()
