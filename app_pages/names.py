"""Lesson 2: names → nationality. Which of 18 languages does a surname come from?"""
import dataclasses
import math

import streamlit as st

from rnnviz import ui
from rnnviz.core.checkpoints import CheckpointError
from rnnviz.core.models import TutorialRNN
from rnnviz.data import names
from rnnviz.data.download import DatasetError
from rnnviz.i18n import N_, _, language, translate, using
from rnnviz.viz import evaluation as evaluation_figures
from rnnviz.lessons.names import (
    CELLS,
    EXAMPLES,
    MAX_TYPED_CHARS,
    cell_label,
    language_label,
    language_labels,
    NamesConfig,
    NamesData,
    NamesLesson,
    predict_name,
    checkpoint_bytes,
    find_pretrained,
    load_names_checkpoint,
    top_prediction,
)
from rnnviz.viz import replay, softmax, states

KEY = "names"
NAME_KEY = f"{KEY}_typed"
HIDDEN_SIZES = [8, 16, 32, 64, 128, 256]
EMBEDDING_SIZES = [4, 8, 16, 32, 64]
BATCH_SIZES = [1, 8, 32, 64, 128, 256, 512]
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.3, 1.0]
CLIP_THRESHOLDS = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0]
LIVE_EXAMPLE = "Dostoevsky"  # read live while nothing is typed
ANSWERING = {"trained": N_("the model trained on this page"), "pretrained": N_("the pretrained checkpoint")}
INPUTS = {"embedding": N_("embedding"), "one-hot": N_("one-hot")}

ui.lesson_header(
    _("Names → nationality"),
    _("Which of 18 languages does a surname come from? The RNN reads the name one letter at a time; only "
      "its **last** hidden state $h_T$ is turned into a probability for each language. Type a name below "
      "and watch the belief shift as letters arrive, then train your own model and see which languages it "
      "learns first (and which it confuses)."),
    r"h_t = f(x_t, h_{t-1}), \quad \hat{y} = \mathrm{softmax}(h_T W_{hq} + b_q), \quad "
    r"L = -\log \hat{y}_{\text{language}}",
)


def in_this_language(label_of):
    """A format_func that speaks this run's language wherever it is called: Streamlit calls it while
    the page runs, but AppTest also calls it from its own thread, where no language is set."""
    lang = language()

    def label(value) -> str:
        with using(lang):
            return label_of(value)

    return label


# --- loading, once per session ------------------------------------------------------------------

@st.cache_resource(show_spinner=_("Reading and cleaning the names…"))
def prepared_names(folder: str) -> NamesData:
    """Shared by every session: the names, cleaned, split and encoded (read-only)."""
    return NamesData.from_dataset(names.load_names(folder), source=folder)


@st.cache_resource(show_spinner=_("Loading the pretrained model…"))
def shipped_pretrained(lang: str):
    """The shipped checkpoint, or why not: in ``lang``, as the message is cached with it."""
    return find_pretrained()


def default_data() -> tuple[NamesData | None, str | None]:
    """The names from $RNNVIZ_NAMES_DIR, the cache, or a download with a progress bar."""
    try:
        with ui.download_progress(_("Downloading the names archive")) as progress:
            folder = names.ensure_names_dir(progress=progress)
        return prepared_names(str(folder)), None
    except DatasetError as err:
        return None, str(err)


def read_settings() -> NamesConfig:
    sb = st.sidebar
    sb.header(_("Model"))
    cell = sb.selectbox(_("Recurrent cell"), list(CELLS), format_func=in_this_language(cell_label), index=list(CELLS).index("gru"),
                        key="names_cell",
                        help=_("The tutorial's RNN concatenates input and hidden state; its output reads h_{t-1}."))
    one_hot = sb.radio(_("Characters enter as"), list(INPUTS), format_func=in_this_language(lambda v: translate(INPUTS[v])),
                       horizontal=True, key="names_input") == "one-hot"
    embedding_dim = None if one_hot else sb.select_slider(_("Embedding size"), EMBEDDING_SIZES, value=32,
                                                          key="names_embedding")
    hidden_size = sb.select_slider(_("Hidden size"), HIDDEN_SIZES, value=128, key="names_hidden")
    if cell == "tutorial":
        sb.caption(_("The tutorial's RNN has one layer."))
        num_layers = 1
    else:
        num_layers = sb.radio(_("Layers"), [1, 2], horizontal=True, key="names_layers")
    sb.header(_("Training"))
    batch_size = sb.select_slider(_("Batch size (names per step)"), BATCH_SIZES, value=128, key="names_batch",
                                  help=_("The tutorial trains on one name at a time (batch size 1)."))
    optimizer = sb.radio(_("Optimizer"), list(ui.OPTIMIZER_LABELS), format_func=ui.OPTIMIZER_LABELS.get, horizontal=True, key="names_optimizer")
    learning_rate = sb.select_slider(_("Learning rate"), LEARNING_RATES, value=0.005, key="names_lr")
    dropout = sb.slider(_("Dropout"), 0.0, 0.6, 0.0, 0.1, key="names_dropout", disabled=one_hot,
                        help=_("Randomly zero embedding features and final hidden units while training. Off for "
                               "one-hot input, where it would erase whole letters."))
    clip_on = sb.toggle(_("Clip the gradient norm"), value=False, key="names_clip_on")
    clip = sb.select_slider(_("Clip threshold"), CLIP_THRESHOLDS, value=1.0, key="names_clip") if clip_on else None
    seed = sb.number_input(_("Seed"), min_value=0, max_value=2**31 - 1, value=0, step=1, key="names_seed")
    return NamesConfig(
        cell=cell, hidden_size=int(hidden_size), num_layers=int(num_layers), embedding_dim=embedding_dim,
        batch_size=int(batch_size), seed=int(seed), optimizer=optimizer, learning_rate=float(learning_rate),
        clip_threshold=clip, dropout=0.0 if one_hot else float(dropout),
    )


# --- try a name ---------------------------------------------------------------------------------------

def percent(value) -> str:
    """A manifest number as a percentage; "?" when an uploaded manifest lacks it or holds something else."""
    return f"{value:.1%}" if isinstance(value, (int, float)) and math.isfinite(value) else "?"


def set_name(name: str) -> None:
    st.session_state[NAME_KEY] = name


def inputs_label(embedding_dim: int | None) -> str:
    """How characters enter a model, as a noun phrase: one-hot, or a 32-d embedding."""
    return _("one-hot") if embedding_dim is None else _("{dim}-d embedding", dim=embedding_dim)


def example_names() -> None:
    """Names to try at a click. Outside the typing fragment: a keystroke then sends the browser
    ~15 fewer elements to lay out again (a click runs the whole page, and is rare)."""
    st.header(_("Try a name"))
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        for in_data in (True, False):
            st.markdown(_("In the data:") if in_data else _("&emsp;Never seen:"))
            for i, example in enumerate(EXAMPLES):
                if example.in_data == in_data:
                    st.button(example.name, key=f"{KEY}_example_{i}", help=translate(example.note),
                              on_click=set_name, args=(example.name,))


@st.fragment
def try_a_name(state: ui.LiveSession) -> None:
    lesson: NamesLesson = state.lesson
    typed = st.text_input(_("Type a surname: the prediction updates as you type"), key=NAME_KEY,
                          max_chars=MAX_TYPED_CHARS, live=ui.TYPING_COMMIT,
                          placeholder=_("e.g. {name}", name=LIVE_EXAMPLE))
    prefer = "auto"
    if lesson.pretrained is not None and lesson.step_count > 0:
        prefer = st.radio(_("Answer with"), list(ANSWERING), format_func=in_this_language(lambda v: translate(ANSWERING[v])),
                          horizontal=True, key=f"{KEY}_answering")
    model, which = lesson.answering_model(prefer)
    prediction = lesson.predict(typed, prefer)
    if not prediction.ok:
        st.info(prediction.message, icon=":material/keyboard:")
        return
    if which == "untrained":
        st.warning(_("This model has not been trained yet, so its guesses are random. Press **Train** below."),
                   icon=":material/warning:")
    cleaned = prediction.cleaned
    if prediction.transliterated:
        st.markdown(_("unidecode transliterated “{typed}” → **“{read}”**", typed=prediction.raw.strip(),
                      read=cleaned.transliterated))
    if cleaned.dropped_chars:
        st.warning(_("Skipped characters the model cannot read: {chars}. It reads a–z, A–Z, space and  . , : ; - '",
                     chars=", ".join(f"“{c}”" for c in cleaned.dropped_chars)), icon=":material/filter_alt:")
    if which == "pretrained":
        st.markdown(_("**“{name}”**, read by the pretrained checkpoint:", name=prediction.text))
    elif which == "trained":
        st.markdown(_("**“{name}”**, read by this page's model (step {step}):", name=prediction.text,
                      step=lesson.step_count))
    else:
        st.markdown(_("**“{name}”**, read by this page's untrained model:", name=prediction.text))
    for column, (rank, (lang, p)) in zip(st.columns(3), enumerate(prediction.top, start=1)):
        column.metric(f"#{rank}", language_label(lang), f"{p:.1%}", delta_color="off", delta_arrow="off",
                      border=True)
    chars = list(prediction.text)
    trace = prediction.trace
    ui.chart(softmax.softmax_heatmap(
        trace.probs, language_labels(), chars,
        title=_("P(language) after each letter of “{name}”", name=prediction.text), class_title=_("language")),
        key=f"{KEY}_typed_softmax")
    st.caption(_("Each column is the model's answer if the name ended after that letter (◇ marks its choice); "
                 "only the last column is what it was trained to say."))
    sigmoid = isinstance(model, TutorialRNN)  # its h_t is a sigmoid, in 0..1
    ui.chart(states.hidden_state_heatmap(
        trace.hidden_states[-1], chars, title=_("Hidden state h_t while reading “{name}”", name=prediction.text),
        value_range=(0.0, 1.0) if sigmoid else (-1.0, 1.0), colorscale="Viridis" if sigmoid else "RdBu_r"),
        key=f"{KEY}_typed_hidden")
    if sigmoid:
        st.caption(_("Press ▶ to watch h_t fill in, one letter at a time (the tutorial RNN's h_t is a sigmoid: 0 to 1; "
                     "its output reads h_{t-1}, so the last h_t is never used)."))
    else:
        st.caption(_("Press ▶ to watch h_t fill in, one letter at a time (−1 blue, 0 white, +1 red)."))


# --- training ---------------------------------------------------------------------------------------------

def render_live(lesson: NamesLesson) -> None:
    evaluation = lesson.latest_evaluation
    data = lesson.data
    typed = st.session_state.get(NAME_KEY, "")
    guess = top_prediction(lesson.model, typed) if lesson.step_count else None
    # Each metric as wide as its text, wrapping onto a second row rather than cutting labels and
    # values short on a narrow screen (or in projector mode, or with longer Chinese labels).
    with st.container(horizontal=True, gap="large"):
        metric = {"delta_color": "off", "delta_arrow": "off", "width": "content"}
        st.metric(_("Steps"), f"{lesson.step_count:,}", _("{epochs:.1f} epochs", epochs=lesson.batches.epochs_done),
                  **metric)
        st.metric(_("Names / second"), f"{lesson.names_per_second:,.0f}" if lesson.step_count else "–",
                  _("{seconds:.1f} s of training", seconds=lesson.trainer.train_seconds), **metric)
        if evaluation is not None:
            st.metric(_("Test accuracy"), f"{evaluation.test.accuracy:.1%}",
                      _("always {language}: {rate:.1%}", language=language_label(data.majority_language),
                        rate=data.majority_rate), **metric)
            st.metric(_("Balanced accuracy"), f"{evaluation.test.balanced_accuracy:.1%}",
                      _("guessing: {rate:.1%}", rate=1 / len(names.LANGUAGES)), **metric,
                      help=_("The mean over the 18 languages of the share of that language's names got right: "
                             "every language counts the same, however few names it has."))
        if guess:
            st.metric(_("“{name}” now looks", name=typed.strip()[:18]), language_label(guess[0]), f"{guess[1]:.0%}",
                      **metric)
    ui.training_charts(lesson.snapshot(), key=KEY)
    if lesson.trainer.clipped_count:
        st.caption(_("Gradient clipped on {clipped} of {steps} steps.", clipped=lesson.trainer.clipped_count,
                     steps=lesson.step_count))
    left, right = st.columns([3, 2])
    with left:
        ui.live_chart(lambda: evaluation_figures.accuracy_figure(lesson.evaluations, data.majority_rate,
                                                                 language_label(data.majority_language)),
                      key=f"{KEY}_accuracy")
    if evaluation is None:
        return
    with right:
        ui.live_chart(lambda: evaluation_figures.accuracy_bars(
            language_labels(), evaluation.test.per_language,
            title=_("Accuracy per language (step {step})", step=evaluation.step), category_title=_("language")),
            key=f"{KEY}_per_language")
    ui.live_chart(lambda: evaluation_figures.confusion_matrix_figure(
        evaluation.test.confusion, language_labels(),
        title=_("Confusion matrix, rows normalised (step {step})", step=evaluation.step)), key=f"{KEY}_confusion")
    st.caption(_("Scored on the {count:,} held-out names (never seen in training, the same for every model) every "
                 "½ s of training while it runs, and at every pause.", count=data.n_test))
    show_live_internals(lesson, typed if typed.strip() else LIVE_EXAMPLE)


def show_live_internals(lesson: NamesLesson, typed: str) -> None:
    """The typed name read by the model being trained, redrawn with every tick."""
    prediction = predict_name(lesson.model, typed)
    if not prediction.ok:
        return
    chars = list(prediction.text)
    st.markdown(_("**“{name}” as this model reads it now** (step {step:,})", name=prediction.text,
                  step=lesson.step_count))
    left, right = st.columns(2)
    with left:
        ui.live_chart(lambda: softmax.softmax_heatmap(
            prediction.trace.probs, language_labels(), chars, class_title=_("language"),
            title=_("P(language) after each letter, now")), key=f"{KEY}_live_belief", depends_on=prediction.text)
    with right:
        sigmoid = isinstance(lesson.model, TutorialRNN)
        ui.live_chart(lambda: states.hidden_state_heatmap(
            prediction.trace.hidden_states[-1], chars, animate=False, title=_("Hidden state h_t, now"),
            value_range=(0.0, 1.0) if sigmoid else (-1.0, 1.0), colorscale="Viridis" if sigmoid else "RdBu_r"),
            key=f"{KEY}_live_hidden", depends_on=prediction.text)


def shown_in_labels(frames: list) -> list:
    """The replay frames with each example's top language as a display label (the frames keep keys)."""
    return [dataclasses.replace(f, values={**f.values, "top": {name: (language_label(lang), p)
                                                              for name, (lang, p) in f.values["top"].items()}})
            for f in frames]


def show_replay(state: ui.LiveSession) -> None:
    lesson: NamesLesson = state.lesson
    st.subheader(_("Replay of training"))
    choices = [e.name for e in EXAMPLES]
    name = st.selectbox(_("Example name"), choices, key=f"{KEY}_replay_name",
                        help=_("Each snapshot scored every example name; pick one to scrub through training."))
    ui.replay_section(lesson, lambda frames: replay.beliefs_replay(shown_in_labels(frames), name, language_labels()),
                      key=KEY, file_name="rnnviz_names_replay.html",
                      caption=_("What the model believed “{name}” to be, letter by letter, as it trained.", name=name))


def show_training(state: ui.LiveSession) -> None:
    st.header(_("Train your own"))
    lesson: NamesLesson = state.lesson
    if not lesson.can_train:
        st.info(_("Training needs the names data; see **The data** below."), icon=":material/dataset:")
        return
    cfg = lesson.config
    layers = _("1 layer") if cfg.num_layers == 1 else _("{count} layers", count=cfg.num_layers)
    inputs = _("one-hot letters") if cfg.embedding_dim is None else _("a {dim}-d embedding", dim=cfg.embedding_dim)
    st.markdown(_("**{cell}**, {layers} of {units} units on {inputs}; batches of {batch} names, padded and packed so "
                  "each name stops at its own last letter.", cell=cell_label(cfg.cell), layers=layers,
                  units=cfg.hidden_size, inputs=inputs, batch=cfg.batch_size))
    ui.train_section(state, render_live, key=KEY)
    show_replay(state)


# --- data and checkpoints ------------------------------------------------------------------------------------

def show_data(state: ui.LiveSession) -> None:
    st.header(_("The data"))
    lesson: NamesLesson = state.lesson
    problem = state.results.get("data_problem")
    if lesson.data is None:
        st.warning(
            _("The names data is not available: {problem}\n\n"
              "To get it: connect to the internet and press **Try the download again**, set the environment "
              "variable `{env}` to a folder with the 18 `Language.txt` files, or download "
              "[data.zip]({url}) yourself and upload it here. The pretrained model answers typed names "
              "meanwhile.", problem=problem or _("it could not be loaded."), env=names.NAMES_DIR_ENV,
              url=names.NAMES_URL), icon=":material/cloud_off:")
        if st.button(_("Try the download again"), key=f"{KEY}_retry", icon=":material/refresh:"):
            data, problem = default_data()
            state.results["data_problem"] = problem
            if data is not None:
                state.lesson, state.playing = lesson.with_data(data), False
                st.rerun()
            st.error(problem, icon=":material/error:")
    else:
        data = lesson.data
        ds = data.dataset
        split = data.summary
        st.markdown(_(
            "**{rows:,} surnames** in 18 languages from the PyTorch tutorial (source: `{source}`), "
            "transliterated to ASCII with unidecode and read as {chars} characters "
            "(a–z, A–Z and  . , : ; - '). Only **{distinct:,}** are distinct: "
            "**{duplicates:,}** lines repeat a name already listed (Arabic has "
            "{arabic_rows:,} lines but {arabic_names:,} names).",
            rows=len(ds), source=data.source, chars=len(names.NAME_ALPHABET), distinct=split.distinct_names,
            duplicates=split.duplicate_rows, arabic_rows=ds.counts["Arabic"],
            arabic_names=split.distinct_per_language["Arabic"]))
        st.markdown(_(
            "Split once, **by name**: about 10% of each language's distinct names are held out, every copy "
            "with them, so no held-out name is ever trained on. That is **{test_names:,}** names "
            "(**{test_rows:,}** lines) held out and **{train_rows:,}** lines to train on. Split line by line "
            "instead, {leaked:,} of its {row_test_rows:,} held-out lines "
            "would also be in training under the same language: a score for memory, not for reading names.",
            test_names=split.test_names, test_rows=data.n_test, train_rows=data.n_train,
            leaked=split.row_split_same_label, row_test_rows=split.row_split_test_rows))
        left, right = st.columns([3, 2])
        with left:
            counts = {language_label(lang): value for lang, value in data.split_counts().items()}
            ui.chart(evaluation_figures.class_counts_figure(counts), key=f"{KEY}_counts")
        with right:
            st.markdown(
                _("- The data is very imbalanced: always answering **{language}** is right "
                  "**{rate:.0%}** of the time, so watch the **balanced accuracy** (every language "
                  "counts the same; guessing gives {guessing:.1%}).",
                  language=language_label(data.majority_language), rate=data.majority_rate, guessing=1 / 18) + "\n"
                + _("- **{count:,}** names appear under more than one language "
                    "(e.g. *Smith* is English, Scottish and Czech): no model can get all of those right. Each "
                    "sits on one side of the split with all its lines.", count=ds.duplicates_across_languages) + "\n"
                + _("- **{count}** name(s) had characters outside the alphabet, which were "
                    "dropped; {empty} became empty and were left out.", count=ds.names_with_dropped_chars,
                    empty=ds.empty_after_cleaning))
            if ds.dropped_examples:
                st.dataframe([{_("in the file"): e.original, _("read as"): e.kept,
                               _("dropped"): " ".join(e.dropped_chars)} for e in ds.dropped_examples],
                             hide_index=True)
    uploaded = st.file_uploader(_("Upload a zip with the 18 Language.txt files (e.g. the tutorial's data.zip)"),
                                type=["zip"], key=f"{KEY}_zip")
    data = ui.accept_upload(state, uploaded, "zip", lambda raw: NamesData.from_dataset(
        names.load_names_from_zip(raw), source=_("uploaded {file}", file=uploaded.name)), errors=(DatasetError,))
    if data is not None:
        state.lesson, state.playing = state.lesson.with_data(data), False
        state.notice = _("Now training on {file}; the model was re-initialised.", file=uploaded.name)
        st.rerun()


def show_checkpoints(state: ui.LiveSession) -> None:
    st.header(_("Pretrained model"))
    lesson: NamesLesson = state.lesson
    if lesson.pretrained is not None:
        meta = lesson.pretrained.metadata
        cfg = lesson.pretrained.model.config
        if meta.get("uploaded_file"):
            source = _("Uploaded {file}", file=meta["uploaded_file"])
        else:
            source = meta.get("source_name") or _("Shipped checkpoint")
        st.markdown(_(
            "**{source}**: {cell}, {layers} layer(s) of {units} units, {inputs}; test accuracy **{accuracy}**, "
            "balanced **{balanced}** on the same held-out names; trained {date}.",
            source=source, cell=cfg.cell_type.upper(), layers=cfg.num_layers, units=cfg.hidden_size,
            inputs=inputs_label(cfg.embedding_dim), accuracy=percent(meta.get("test_accuracy")),
            balanced=percent(meta.get("balanced_accuracy")), date=meta.get("date", meta.get("saved_on", "?"))))
        if meta.get("training_command"):
            st.code(meta["training_command"], language="bash", wrap_lines=True)
    else:
        st.info(state.results.get("pretrained_problem") or _("No pretrained model is loaded."),
                icon=":material/info:")
    left, right = st.columns(2)
    with left:
        uploaded = st.file_uploader(_("Load another checkpoint (.pt) for this session"), type=["pt"],
                                    key=f"{KEY}_checkpoint")
        checkpoint = ui.accept_upload(state, uploaded, "checkpoint", load_names_checkpoint,
                                      errors=(CheckpointError,))
        if checkpoint is not None:
            checkpoint.metadata["uploaded_file"] = uploaded.name  # shown as "Uploaded <name>", in the reader's language
            state.lesson.pretrained = checkpoint
            st.rerun()
    with right:
        can_save = lesson.can_train and lesson.step_count > 0 and lesson.config.cell != "tutorial"
        st.download_button(
            _("Download this page's model as a checkpoint"), data=lambda: checkpoint_bytes(lesson),
            file_name=f"names_{lesson.config.cell}_step{lesson.step_count}.pt", mime="application/octet-stream",
            key=f"{KEY}_download", icon=":material/download:", disabled=not can_save or state.playing,
            help=_("Train first (and pause). The tutorial RNN cannot be saved as a checkpoint."))


# --- the page ------------------------------------------------------------------------------------------

def first_lesson(config: NamesConfig) -> NamesLesson:
    """A session's first lesson: the shared names data and the shipped model, or why not."""
    data, problems["data_problem"] = default_data()
    pretrained, problems["pretrained_problem"] = shipped_pretrained(language())
    return NamesLesson(config, data, pretrained)


URL_FIELDS = [
    ui.UrlField("cell", "names_cell", ui.choice(list(CELLS))),
    ui.UrlField("input", "names_input", ui.choice(["embedding", "one-hot"])),
    ui.UrlField("embedding", "names_embedding", ui.choice(EMBEDDING_SIZES)),
    ui.UrlField("hidden", "names_hidden", ui.choice(HIDDEN_SIZES)),
    ui.UrlField("layers", "names_layers", ui.choice([1, 2])),
    ui.UrlField("batch", "names_batch", ui.choice(BATCH_SIZES)),
    ui.UrlField("optimizer", "names_optimizer", ui.choice(list(ui.OPTIMIZER_LABELS))),
    ui.UrlField("lr", "names_lr", ui.choice(LEARNING_RATES)),
    ui.UrlField("dropout", "names_dropout", ui.choice([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6])),
    ui.UrlField("clip", "names_clip_on", ui.flag),
    ui.UrlField("threshold", "names_clip", ui.choice(CLIP_THRESHOLDS)),
    ui.UrlField("seed", "names_seed", ui.integer(0, 2**31 - 1)),
    ui.UrlField("name", NAME_KEY, ui.text(MAX_TYPED_CHARS), typed=True),
]
url_follows_settings = ui.url_setup(KEY, URL_FIELDS)
problems: dict[str, str | None] = {}
settings = read_settings()
state = ui.live_lesson(KEY, settings, first_lesson, keep_results=True)
with st.sidebar:
    st.divider()
    ui.copy_link_control(URL_FIELDS)
state.results.update(problems)

example_names()
try_a_name(state)
show_training(state)
show_data(state)
show_checkpoints(state)
url_follows_settings()
