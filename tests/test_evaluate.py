"""The official metrics against hand-computed values, and the file checks around them."""

import random

import pytest
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from slant import FormatError, InputError, taxonomy
from slant.evaluate import (evaluate_files, multilabel_scores, prf, single_label_scores,
                            span_class_scores, span_overlap_scores)
from conftest import EXAMPLES, write

# Each case: gold, pred, and the figures worked out by hand in the comment.
SINGLE = [
    # 4 items, 2 right -> micro 0.5; F1 opinion 2*1/(2+2)=.5, satire 2*1/(2+1)=.667, reporting 0 -> macro .3889
    ({1: "opinion", 2: "opinion", 3: "satire", 4: "reporting"},
     {1: "opinion", 2: "satire", 3: "satire", 4: "opinion"}, 0.5, 0.388889),
    # all right: every label present scores 1
    ({1: "opinion", 2: "satire"}, {1: "opinion", 2: "satire"}, 1.0, 1.0),
    # only opinion in gold and pred: macro over the one label present
    ({1: "opinion", 2: "opinion"}, {1: "opinion", 2: "opinion"}, 1.0, 1.0),
    # majority baseline on a skewed set: opinion F1 2*3/(4+3)=.857, satire 0 -> macro .4286
    ({1: "opinion", 2: "opinion", 3: "opinion", 4: "satire"}, {i: "opinion" for i in range(1, 5)}, 0.75, 0.428571),
]


@pytest.mark.parametrize("gold,pred,micro,macro", SINGLE)
def test_single_label_by_hand(gold, pred, micro, macro):
    s = single_label_scores(gold, pred)
    assert s.micro.f1 == pytest.approx(micro, abs=1e-6)
    assert s.macro_f1 == pytest.approx(macro, abs=1e-6)


MULTI = [
    # tp X1 Y1; pred 4, gold 3 -> micro 2*2/7 = .5714; F1 X .667, Y .667, Z 0, W (absent) 1 -> macro .5833
    ({"a": {"X", "Y"}, "b": {"Y"}, "c": set()}, {"a": {"X"}, "b": {"X", "Y"}, "c": {"Z"}}, 0.571429, 0.583333),
    # nothing predicted: micro 0; X 0, Y 0, Z 1, W 1 -> macro .5
    ({"a": {"X"}, "b": {"Y"}}, {"a": set(), "b": set()}, 0.0, 0.5),
    # nothing in gold, nothing predicted: every F1 is the zero-division value 1
    ({"a": set()}, {"a": set()}, 1.0, 1.0),
]


@pytest.mark.parametrize("gold,pred,micro,macro", MULTI)
def test_multilabel_by_hand(gold, pred, micro, macro):
    s = multilabel_scores(gold, pred, ["X", "Y", "Z", "W"])
    assert s.micro.f1 == pytest.approx(micro, abs=1e-6)
    assert s.macro_f1 == pytest.approx(macro, abs=1e-6)


def test_per_label_counts():
    s = multilabel_scores({"a": {"X", "Y"}, "b": {"Y"}}, {"a": {"X"}, "b": {"X", "Y"}}, ["X", "Y", "Z"])
    assert s.per_label["X"] == prf(1, 2, 1)
    assert s.per_label["Y"].precision == 1.0 and s.per_label["Y"].recall == 0.5
    assert s.per_label["Z"].precision is None and s.per_label["Z"].f1 == 1.0
    assert s.macro_f1_gold_labels == pytest.approx((2 / 3 + 2 / 3) / 2)


@pytest.mark.parametrize("seed", range(25))
def test_agrees_with_sklearn_as_the_official_scorers_call_it(seed):
    """The official scorers call sklearn f1_score(..., zero_division=1); we must agree on random cases."""
    rng = random.Random(seed)
    labels = list(taxonomy.TECHNIQUES)
    keys = [(str(a), p) for a in range(3) for p in range(1, rng.randint(2, 12))]
    gold = {k: set(rng.sample(labels[:8], rng.choice([0, 0, 1, 2]))) for k in keys}
    pred = {k: set(rng.sample(labels[:10], rng.choice([0, 1, 1, 3]))) for k in keys}
    mlb = MultiLabelBinarizer(classes=labels).fit([labels])
    g, p = mlb.transform([gold[k] for k in keys]), mlb.transform([pred[k] for k in keys])
    s = multilabel_scores(gold, pred, labels)
    assert s.micro.f1 == pytest.approx(f1_score(g, p, average="micro", zero_division=1))
    assert s.macro_f1 == pytest.approx(f1_score(g, p, average="macro", zero_division=1))

    genres = list(taxonomy.GENRES)
    gold1 = {k: rng.choice(genres) for k in keys}
    pred1 = {k: rng.choice(genres[: rng.randint(1, 3)]) for k in keys}
    s1 = single_label_scores(gold1, pred1)
    y, yhat = [gold1[k] for k in keys], [pred1[k] for k in keys]
    assert s1.macro_f1 == pytest.approx(f1_score(y, yhat, average="macro", zero_division=1))
    assert s1.micro.f1 == pytest.approx(f1_score(y, yhat, average="micro", zero_division=1))


SI = [
    # exact match
    ({"1": [(0, 10)]}, {"1": [(0, 10)]}, 1.0, 1.0),
    # pred (5,15) vs gold (0,10): overlap 5 -> P 5/10, R 5/10
    ({"1": [(0, 10)]}, {"1": [(5, 15)]}, 0.5, 0.5),
    # one pred covering two gold spans: P (2+2)/10 = .4 over 1 span; R (2/2 + 2/2)/2 = 1
    ({"1": [(0, 2), (8, 10)]}, {"1": [(0, 10)]}, 0.4, 1.0),
    # overlapping predictions are merged first: (0,6)+(4,10) -> (0,10)
    ({"1": [(0, 10)]}, {"1": [(0, 6), (4, 10)]}, 1.0, 1.0),
    # spans of another article never match; an article with no gold adds to precision's denominator
    ({"1": [(0, 10)]}, {"2": [(0, 10)], "1": [(0, 5)]}, 0.5, 0.5),
    # nothing predicted
    ({"1": [(0, 10)]}, {}, 0.0, 0.0),
]


@pytest.mark.parametrize("gold,pred,precision,recall", SI)
def test_span_overlap_by_hand(gold, pred, precision, recall):
    s = span_overlap_scores(gold, pred)
    assert s.micro.precision == pytest.approx(precision)
    assert s.micro.recall == pytest.approx(recall)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    assert s.micro.f1 == pytest.approx(f1)


def test_span_class_by_hand():
    gold = [("1", 0, 5, "Doubt"), ("1", 6, 9, "Slogans"), ("1", 6, 9, "Repetition"), ("2", 0, 3, "Doubt")]
    pred = [("1", 0, 5, "Doubt"), ("1", 6, 9, "Repetition"), ("1", 6, 9, "Doubt"), ("2", 0, 3, "Slogans")]
    s = span_class_scores(gold, pred, ["Doubt", "Repetition", "Slogans"])
    assert s.micro.f1 == pytest.approx(2 / 4)          # Doubt@1:0-5 and Repetition@1:6-9 right
    assert s.per_label["Doubt"] == prf(1, 2, 2)
    assert s.per_label["Slogans"] == prf(0, 1, 1)
    with pytest.raises(ValueError, match="do not list the same spans"):
        span_class_scores(gold, pred[:-1], ["Doubt", "Repetition", "Slogans"])


# -- files -------------------------------------------------------------------

def test_example_pair_matches_hand_computation():
    """examples/: 14 gold (paragraph, technique) pairs, 12 predicted, 9 right."""
    s = evaluate_files("3", EXAMPLES / "gold-subtask-3.txt", EXAMPLES / "pred-subtask-3.txt")
    assert (s.micro.correct, s.micro.predicted, s.micro.gold) == (9, 12, 14)
    assert s.micro.f1 == pytest.approx(18 / 26)
    assert s.items == 9


@pytest.mark.parametrize("task,gold,pred,error", [
    ("1", "1\topinion\n2\tsatire\n", "1\topinion\n3\tsatire\n", ":2: article 3 is not in the gold file"),
    ("1", "1\topinion\n2\tsatire\n", "1\topinion\n", ": no prediction for 1 of 2 gold articles \\(first: article 2\\)"),
    ("1", "1\topinion\n", "1\tneutral\n", ":1: unknown genre 'neutral'"),
    ("2", "1\tPolitical\n", "1\tPolitical;Economic\n", ":1: unknown frame 'Political;Economic'"),
    ("3", "1\t1\t\n1\t3\tDoubt\n", "1\t1\t\n1\t4\tDoubt\n", ":2: article 1 paragraph 4 is not in the gold file"),
    ("3", "1\t1\t\n1\t3\tDoubt\n", "1\t1\t\n",
     ": no prediction for 1 of 2 gold paragraphs \\(first: article 1 paragraph 3\\)"),
    ("3", "1\t1\t\n", "1\t1\tDoubt\tx\n", ":1: expected 2 or 3 tab-separated columns"),
    ("3", "", "1\t1\t\n", "gold.txt: no rows"),
    ("tc", "1\tDoubt\t0\t5\n", "1\tDoubt\t0\t6\n", ":1: span 1 0-6 is not in the gold file"),
    ("tc", "1\tDoubt\t0\t5\n", "1\tDoubt\t0\t5\n1\tSlogans\t0\t5\n", ":2: span 1 0-5 is listed more often than in"),
    ("tc", "1\tDoubt\t0\t5\n1\tSlogans\t7\t9\n", "1\tDoubt\t0\t5\n", ": no prediction for 1 of 2 gold spans"),
    ("tc", "1\tDoubt\t0\t5\n", "1\t?\t0\t5\n", ":1: unknown PTC-2020 class '\\?'"),
])
def test_file_errors_name_file_and_line(tmp_path, task, gold, pred, error):
    g, p = write(tmp_path / "gold.txt", gold), write(tmp_path / "pred.txt", pred)
    with pytest.raises((FormatError, InputError), match=error):
        evaluate_files(task, g, p)


def test_si_file_notes_articles_without_gold(tmp_path):
    g = write(tmp_path / "gold.txt", "1\t0\t10\n")
    p = write(tmp_path / "pred.txt", "1\t0\t10\n99\t0\t4\n")
    s = evaluate_files("si", g, p)
    assert s.micro.precision == pytest.approx(0.5) and s.micro.recall == 1.0
    assert "1 predicted articles have no gold span (first: 99)" in s.notes[0]


def test_unknown_task():
    with pytest.raises(InputError, match="unknown task '4'"):
        evaluate_files("4", "a", "b")
