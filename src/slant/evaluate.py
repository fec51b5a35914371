"""The official metrics of SemEval-2023 Task 3 and SemEval-2020 Task 11, reimplemented.

* subtask 1 (genre): macro-F1 over the labels that occur in gold or prediction,
  micro-F1 (= accuracy) — sklearn ``f1_score`` as the official scorer calls it.
* subtask 2 (frames) and 3 (techniques per paragraph): micro-F1 over
  (item, label) pairs, macro-F1 over the full label list, where a label absent from
  both gold and prediction scores 1 (the official ``zero_division=1``).
* PTC SI: span-overlap precision/recall/F1 of Da San Martino et al. (2019):
  partial credit ``|s ∩ t| / |s|`` for precision and ``/ |t|`` for recall.
* PTC TC: micro-F1 over the given spans (= accuracy), per-class P/R/F1.

Metric cards: docs/metrics/.  Pure functions here work on mappings; the
``evaluate_*_files`` functions read the task files and check that the prediction
file answers exactly the gold items, with errors naming file and line.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Collection, Hashable, Iterable, Mapping, Sequence

from . import taxonomy
from .errors import FormatError, InputError
from .formats import ptc, semeval

__all__ = ["PRF", "Scores", "prf", "single_label_scores", "multilabel_scores", "span_overlap_scores",
           "span_class_scores", "evaluate_files", "TASKS"]


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 with the counts behind them.

    ``precision``/``recall`` are None where undefined (nothing predicted / no gold).
    """

    precision: float | None
    recall: float | None
    f1: float
    gold: int
    predicted: int
    correct: float


def prf(correct: float, predicted: float, gold: float, zero_division: float = 1.0) -> PRF:
    """P, R and F1 from counts; F1 = 2·correct / (predicted + gold), ``zero_division`` when both are 0.

    >>> prf(2, 3, 4)
    PRF(precision=0.6666666666666666, recall=0.5, f1=0.5714285714285714, gold=4, predicted=3, correct=2)
    >>> prf(0, 0, 0).f1, prf(0, 0, 2).f1
    (1.0, 0.0)
    """
    precision = correct / predicted if predicted else None
    recall = correct / gold if gold else None
    total = predicted + gold
    f1 = 2 * correct / total if total else zero_division
    return PRF(precision, recall, f1, gold, predicted, correct)


@dataclass(frozen=True)
class Scores:
    """What a metric reports: micro P/R/F1, macro-F1, and P/R/F1 per label."""

    task: str
    items: int
    micro: PRF
    macro_f1: float | None
    per_label: dict[str, PRF] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def macro_f1_gold_labels(self) -> float | None:
        """Macro-F1 over the labels that occur in gold only (not official; absent labels do not count)."""
        present = [s.f1 for s in self.per_label.values() if s.gold]
        return sum(present) / len(present) if present else None

    def to_dict(self) -> dict:
        out = asdict(self)
        out["macro_f1_gold_labels"] = self.macro_f1_gold_labels
        out["notes"] = list(self.notes)
        return out

    def format(self) -> str:
        """A plain-text table for people."""

        def num(x):
            return "    -" if x is None else f"{x:5.3f}"

        m = self.micro
        lines = [f"{self.task}: {self.items} items",
                 f"micro  P {num(m.precision)}  R {num(m.recall)}  F1 {num(m.f1)}"]
        if self.macro_f1 is not None:
            lines.append(f"macro  F1 {num(self.macro_f1)}   (labels in gold only: {num(self.macro_f1_gold_labels)})")
        if self.per_label:
            width = max(len(name) for name in self.per_label)
            lines.append("")
            lines.append(f"{'label':<{width}}      P      R     F1   gold   pred")
            for name, s in self.per_label.items():
                lines.append(f"{name:<{width}}  {num(s.precision)}  {num(s.recall)}  {num(s.f1)}"
                             f"  {s.gold:5d}  {s.predicted:5d}")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


def single_label_scores(gold: Mapping[Hashable, str], pred: Mapping[Hashable, str],
                        task: str = "single-label") -> Scores:
    """One label per item (subtask 1).  Keys of gold and pred must be the same.

    >>> s = single_label_scores({1: "opinion", 2: "opinion", 3: "satire", 4: "reporting"},
    ...                         {1: "opinion", 2: "satire", 3: "satire", 4: "opinion"})
    >>> round(s.micro.f1, 4), round(s.macro_f1, 4)
    (0.5, 0.3889)
    """
    _same_keys(gold, pred)
    names = [n for n in taxonomy.GENRES if n in set(gold.values()) | set(pred.values())]
    names += sorted(set(gold.values()) | set(pred.values()) - set(names))
    correct = Counter(g for k, g in gold.items() if pred[k] == g)
    gold_n, pred_n = Counter(gold.values()), Counter(pred.values())
    per_label = {n: prf(correct[n], pred_n[n], gold_n[n]) for n in names}
    total_correct = sum(correct.values())
    micro = prf(total_correct, len(pred), len(gold))
    macro = sum(s.f1 for s in per_label.values()) / len(per_label) if per_label else 0.0
    return Scores(task, len(gold), micro, macro, per_label)


def multilabel_scores(gold: Mapping[Hashable, Collection[str]], pred: Mapping[Hashable, Collection[str]],
                      labels: Sequence[str], task: str = "multi-label") -> Scores:
    """A set of labels per item (subtasks 2 and 3).  Keys of gold and pred must be the same.

    Macro-F1 averages over every name in ``labels``; a label absent from both
    gold and prediction scores 1, as in the official scorer.

    >>> s = multilabel_scores({"a": {"X", "Y"}, "b": {"Y"}, "c": set()},
    ...                       {"a": {"X"}, "b": {"X", "Y"}, "c": {"Z"}}, ["X", "Y", "Z", "W"])
    >>> round(s.micro.f1, 4), round(s.macro_f1, 4), s.per_label["W"].f1
    (0.5714, 0.5833, 1.0)
    """
    _same_keys(gold, pred)
    correct, gold_n, pred_n = Counter(), Counter(), Counter()
    for key, gold_labels in gold.items():
        g, p = set(gold_labels), set(pred[key])
        unknown = (g | p) - set(labels)
        if unknown:
            raise ValueError(f"labels {sorted(unknown)} are not in the label list")
        gold_n.update(g)
        pred_n.update(p)
        correct.update(g & p)
    per_label = {n: prf(correct[n], pred_n[n], gold_n[n]) for n in labels}
    micro = prf(sum(correct.values()), sum(pred_n.values()), sum(gold_n.values()))
    macro = sum(s.f1 for s in per_label.values()) / len(per_label)
    return Scores(task, len(gold), micro, macro, per_label)


Interval = tuple[int, int]


def merge_spans(spans: Iterable[Interval]) -> list[Interval]:
    """Overlapping ``(start, end)`` spans joined into one; sorted."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def span_overlap_scores(gold: Mapping[str, Iterable[Interval]], pred: Mapping[str, Iterable[Interval]],
                        task: str = "ptc-si") -> Scores:
    """SemEval-2020 Task 11 span identification: partial-overlap P, R, F1.

    P = Σ_s Σ_t |s∩t| / |s| over predicted spans s, divided by the number of
    predicted spans; R likewise over gold spans t.  Overlapping spans on one side
    of an article are merged first.  Articles missing on one side have no spans.

    >>> s = span_overlap_scores({"1": [(0, 10)], "2": [(5, 9)]}, {"1": [(5, 15)], "3": [(0, 2)]})
    >>> round(s.micro.precision, 4), round(s.micro.recall, 4), round(s.micro.f1, 4)
    (0.25, 0.25, 0.25)
    """
    ids = set(gold) | set(pred)
    gold_m = {a: merge_spans(gold.get(a, ())) for a in ids}
    pred_m = {a: merge_spans(pred.get(a, ())) for a in ids}
    p_sum = r_sum = 0.0
    for a in ids:
        for s in pred_m[a]:
            for t in gold_m[a]:
                overlap = min(s[1], t[1]) - max(s[0], t[0])
                if overlap > 0:
                    p_sum += overlap / (s[1] - s[0])
                    r_sum += overlap / (t[1] - t[0])
    n_pred = sum(len(v) for v in pred_m.values())
    n_gold = sum(len(v) for v in gold_m.values())
    precision = p_sum / n_pred if n_pred else 0.0
    recall = r_sum / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    micro = PRF(precision, recall, f1, n_gold, n_pred, p_sum)
    return Scores(task, n_gold, micro, None, {})


def span_class_scores(gold: Iterable[tuple[str, int, int, str]], pred: Iterable[tuple[str, int, int, str]],
                      labels: Sequence[str], task: str = "ptc-tc") -> Scores:
    """SemEval-2020 Task 11 technique classification over given spans: micro-F1 and per class.

    Spans are matched by (article, start, end); a span that carries several
    gold classes (listed on several rows) is matched as a multiset.

    >>> gold = [("1", 0, 5, "Doubt"), ("1", 6, 9, "Slogans"), ("1", 6, 9, "Repetition")]
    >>> pred = [("1", 0, 5, "Doubt"), ("1", 6, 9, "Repetition"), ("1", 6, 9, "Doubt")]
    >>> s = span_class_scores(gold, pred, ["Doubt", "Repetition", "Slogans"])
    >>> round(s.micro.f1, 4), round(s.per_label["Doubt"].precision, 4)
    (0.6667, 0.5)
    """
    by_span_gold, by_span_pred = defaultdict(Counter), defaultdict(Counter)
    for a, s, e, label in gold:
        by_span_gold[(a, s, e)][label] += 1
    for a, s, e, label in pred:
        by_span_pred[(a, s, e)][label] += 1
    if {k: sum(c.values()) for k, c in by_span_gold.items()} != {k: sum(c.values()) for k, c in by_span_pred.items()}:
        raise ValueError("prediction and gold do not list the same spans")
    correct, gold_n, pred_n = Counter(), Counter(), Counter()
    for key, g in by_span_gold.items():
        p = by_span_pred[key]
        gold_n.update(g)
        pred_n.update(p)
        correct.update(g & p)
    unknown = (set(gold_n) | set(pred_n)) - set(labels)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} are not in the label list")
    per_label = {n: prf(correct[n], pred_n[n], gold_n[n]) for n in labels if gold_n[n] or pred_n[n]}
    micro = prf(sum(correct.values()), sum(pred_n.values()), sum(gold_n.values()))
    macro = sum(s.f1 for s in per_label.values()) / len(per_label) if per_label else 0.0
    return Scores(task, sum(gold_n.values()), micro, macro, per_label)


def _same_keys(gold: Mapping, pred: Mapping) -> None:
    if set(gold) != set(pred):
        missing, extra = set(gold) - set(pred), set(pred) - set(gold)
        raise ValueError(f"prediction keys differ from gold: {len(missing)} missing, {len(extra)} extra")


# -- files -------------------------------------------------------------------

TASKS = {
    "1": "subtask 1 (genre)",
    "2": "subtask 2 (frames)",
    "3": "subtask 3 (techniques per paragraph)",
    "si": "PTC-2020 SI (span identification)",
    "tc": "PTC-2020 TC (technique classification)",
}


def _nonempty(rows: list, path) -> list:
    if not rows:
        raise InputError(f"{path}: no rows")
    return rows


def _align(gold_rows, pred_rows, key, gold_path, pred_path, what: str) -> None:
    """Every prediction names a gold item, once; every gold item has a prediction."""
    gold_keys = {key(r) for r in gold_rows}
    for r in pred_rows:
        if key(r) not in gold_keys:
            raise FormatError(f"{pred_path}:{r.line}", f"{_show(what, key(r))} is not in the gold file {gold_path}")
    missing = gold_keys - {key(r) for r in pred_rows}
    if missing:
        first = sorted(missing, key=str)[0]
        raise InputError(f"{pred_path}: no prediction for {len(missing)} of {len(gold_keys)} gold {what}s "
                         f"(first: {_show(what, first)})")


def _show(what: str, key) -> str:
    """'article 7', or 'article 7 paragraph 3' for a paragraph's (article, paragraph) key."""
    return f"article {key[0]} paragraph {key[1]}" if isinstance(key, tuple) else f"{what} {key}"


def evaluate_files(task: str, gold_path: str | Path, pred_path: str | Path) -> Scores:
    """Score a prediction file against a gold file with the official metric of ``task`` (see TASKS)."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; one of {', '.join(TASKS)}")
    name = TASKS[task]
    if task == "1":
        gold, pred = _nonempty(semeval.read_subtask1(gold_path), gold_path), semeval.read_subtask1(pred_path)
        _align(gold, pred, lambda r: r.article_id, gold_path, pred_path, "article")
        return single_label_scores({r.article_id: r.genre for r in gold},
                                   {r.article_id: r.genre for r in pred}, name)
    if task == "2":
        gold, pred = _nonempty(semeval.read_subtask2(gold_path), gold_path), semeval.read_subtask2(pred_path)
        _align(gold, pred, lambda r: r.article_id, gold_path, pred_path, "article")
        return multilabel_scores({r.article_id: r.frames for r in gold},
                                 {r.article_id: r.frames for r in pred}, taxonomy.FRAMES, name)
    if task == "3":
        gold, pred = _nonempty(semeval.read_subtask3(gold_path), gold_path), semeval.read_subtask3(pred_path)
        key = lambda r: (r.article_id, r.paragraph)  # noqa: E731
        _align(gold, pred, key, gold_path, pred_path, "paragraph")
        return multilabel_scores({key(r): r.techniques for r in gold},
                                 {key(r): r.techniques for r in pred}, taxonomy.TECHNIQUES, name)
    if task == "si":
        gold, pred = _nonempty(ptc.read_si(gold_path), gold_path), ptc.read_si(pred_path)
        gold_spans, pred_spans = defaultdict(list), defaultdict(list)
        for r in gold:
            gold_spans[r.article_id].append((r.start, r.end))
        for r in pred:
            pred_spans[r.article_id].append((r.start, r.end))
        scores = span_overlap_scores(gold_spans, pred_spans, name)
        unseen = sorted(set(pred_spans) - set(gold_spans))
        if unseen:
            note = (f"{len(unseen)} predicted articles have no gold span (first: {unseen[0]}); "
                    "their spans count against precision")
            scores = Scores(scores.task, scores.items, scores.micro, scores.macro_f1, scores.per_label, (note,))
        return scores
    gold, pred = _nonempty(ptc.read_tc(gold_path), gold_path), ptc.read_tc(pred_path)
    _align_multiset(gold, pred, gold_path, pred_path)
    as_tuple = lambda r: (r.article_id, r.start, r.end, r.technique)  # noqa: E731
    return span_class_scores(map(as_tuple, gold), map(as_tuple, pred), taxonomy.LABELS["ptc"], name)


def _align_multiset(gold, pred, gold_path, pred_path) -> None:
    """TC: the prediction lists each gold span exactly as often as the gold file does."""
    left = Counter((r.article_id, r.start, r.end) for r in gold)
    for r in pred:
        key = (r.article_id, r.start, r.end)
        if left[key] <= 0:
            extra = "is not in" if key not in {(g.article_id, g.start, g.end) for g in gold} else "is listed more often than in"
            raise FormatError(f"{pred_path}:{r.line}", f"span {r.article_id} {r.start}-{r.end} {extra} the gold file {gold_path}")
        left[key] -= 1
    missing = [k for k, n in left.items() if n > 0]
    if missing:
        a, s, e = sorted(missing)[0]
        raise InputError(f"{pred_path}: no prediction for {sum(left[k] for k in missing)} of {len(gold)} gold spans "
                         f"(first: {a} {s}-{e})")
