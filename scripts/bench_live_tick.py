"""What one live-loop redraw costs, with and without the internals that move while training.

    RNNVIZ_NAMES_DIR=../shared/data/names RNNVIZ_CORPORA_DIR=../shared/data/corpora \\
        python scripts/bench_live_tick.py [--repeats 30]

For each lesson, after a little training: the time to produce what a tick draws (the snapshot and
the training charts, as Streamlit sends them: figure built, turned into a dict and into JSON), and
the same plus the internals views (the shown sequence's softmax and h_t; the typed name's beliefs
and h_t; the prefix's continuation candidates; the gates of the model learning the typed text).
Median milliseconds of CPU time in this thread. Training itself is not included.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import plotly.io as pio  # noqa: E402

from rnnviz.core.runtime import configure_torch  # noqa: E402
from rnnviz.data import names as names_data  # noqa: E402
from rnnviz.lessons.charlm import CharLMConfig, CharLMLesson, GenerationConfig, lyrics_corpus  # noqa: E402
from rnnviz.lessons.inside import GatesConfig, GatesLesson  # noqa: E402
from rnnviz.lessons.names import NamesConfig, NamesData, NamesLesson, predict_name  # noqa: E402
from rnnviz.lessons.sequence import SequenceLesson, SequenceLessonConfig  # noqa: E402
from rnnviz.viz import inside, language_model, softmax, states, training  # noqa: E402


def sent(fig) -> None:
    """What the page does with a figure (rnnviz.ui.plotly_component.chart_payload): to_dict, then JSON;
    a grid of coloured cells (grid_payload) goes as plain JSON."""
    if isinstance(fig, dict):
        json.dumps(fig, ensure_ascii=False)
    else:
        pio.to_json(fig.to_dict(), validate=False)


def charts(snap: dict) -> None:
    sent(training.loss_curve(snap["steps"], snap["losses"], accuracy=snap["metrics"].get("accuracy")))
    sent(training.grad_norm_chart(snap["steps"], snap["grad_norms_before_clip"], snap["grad_norms_after_clip"],
                                  threshold=snap["clip_threshold"]))


def sequence_internals(lesson: SequenceLesson) -> None:
    tr = lesson.trace_display()
    chars = list(lesson.task.display_input)
    sent(softmax.softmax_heatmap(tr.probs, lesson.task.vocab, chars))
    sent(states.hidden_state_heatmap(tr.hidden_states[-1], chars, animate=False))


def names_internals(lesson: NamesLesson) -> None:
    prediction = predict_name(lesson.model, "Dostoevsky")
    chars = list(prediction.text)
    sent(softmax.softmax_heatmap(prediction.trace.probs, names_data.LANGUAGES, chars))
    sent(states.hidden_state_heatmap(prediction.trace.hidden_states[-1], chars, animate=False))


def charlm_internals(lesson: CharLMLesson) -> None:
    result = lesson.generate("分开", GenerationConfig(num_chars=20))
    indices, probs, _probs = result.top_candidates(5)
    sent(language_model.candidates_grid(list(result.continuation), [[result.vocab[i] for i in row] for row in indices],
                                           probs, result.chosen_rank()))


def gates_internals(lesson: GatesLesson) -> None:
    sent(inside.gate_panel(lesson.internals(), list(lesson.task.display_input), title="gates", animate=False))


def cpu_ms(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        work()
        times.append((time.thread_time() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    configure_torch()
    sequence = SequenceLesson(SequenceLessonConfig(task_key="alphabet", hidden_size=16))
    names = NamesLesson(NamesConfig(), NamesData.from_dataset(names_data.load_names()))
    charlm = CharLMLesson(CharLMConfig(corpus=lyrics_corpus()))
    gates = GatesLesson(GatesConfig())
    lessons = [("Sequence basics (alphabet, hidden 16)", sequence, sequence_internals),
               ("Names (GRU 128)", names, names_internals),
               ("Character LM (lyrics, RNN 256)", charlm, charlm_internals),
               ("Shapes and gates (LSTM 8)", gates, gates_internals)]
    print("| lesson | tick without internals, ms | with internals, ms |")
    print("| --- | ---: | ---: |")
    for title, lesson, internals in lessons:
        lesson.run_steps(300)
        lesson.monitor(force=True)
        without = cpu_ms(lambda: charts(lesson.snapshot()), args.repeats)
        with_internals = cpu_ms(lambda: (charts(lesson.snapshot()), internals(lesson)), args.repeats)
        print(f"| {title} | {without:.1f} | {with_internals:.1f} |")


if __name__ == "__main__":
    main()
