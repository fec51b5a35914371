"""Predictions in the official task formats, for evaluation and for shared-task submissions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import taxonomy
from .formats import iter_articles, ptc, semeval
from .formats.semeval import SpanRow
from .errors import InputError, ModelError
from .evaluate import merge_spans
from .runtime import Detector

__all__ = ["semeval_predict", "ptc_si", "ptc_tc"]

_SUBTASKS = {
    "1": (semeval.subtask1_rows, semeval.write_subtask1),
    "2": (semeval.subtask2_rows, semeval.write_subtask2),
    "3": (semeval.subtask3_rows, semeval.write_subtask3),
}


def semeval_predict(detector: Detector, subtask: str, articles: str | Path, output: str | Path) -> int:
    """Write the official rows of ``subtask`` ("1" genre, "2" frames, "3" techniques per paragraph,
    numbered as in the official templates) for every article*.txt; returns the count."""
    rows, write = _SUBTASKS[subtask]
    if subtask in ("1", "2") and detector.article is None:
        raise ModelError(f"{detector.artifact.path}: this model has no genre and frame heads (subtask {subtask})")
    docs = [detector.analyze(doc) for doc in iter_articles(articles)]
    write(output, rows(docs))
    return len(docs)


def ptc_si(detector: Detector, articles: str | Path, output: str | Path) -> int:
    """PTC span identification: technique spans of any class, overlapping ones merged."""
    rows = []
    n = 0
    for doc in iter_articles(articles):
        n += 1
        detector.analyze(doc)
        rows += [ptc.SIRow(doc.id, s, e) for s, e in merge_spans([(sp.start, sp.end) for sp in doc.spans])]
    ptc.write_si(output, rows)
    return n


def ptc_tc(detector: Detector, articles: str | Path, template: str | Path, output: str | Path) -> int:
    """PTC technique classification of the template's spans into the 14 PTC classes.

    A span's score for a class is the highest, over the techniques the class
    covers, of the mean probability of the span's word pieces; the best class
    wins.  Classes cover different techniques, so no technique is left out.
    """
    rows = ptc.read_tc_template(template)
    needed = {r.article_id for r in rows}
    docs = {doc.id: doc for doc in iter_articles(articles) if doc.id in needed}
    missing = sorted(needed - set(docs))
    if missing:
        raise InputError(f"{template}: names articles not in {articles} (first: {missing[0]})")
    classes = taxonomy.PTC_CLASSES
    columns = [[detector.labels.index(t) for t in c.techniques] for c in classes]
    encoded = {}  # each article encoded once, whatever the order of the template's rows
    for doc_id in dict.fromkeys(r.article_id for r in rows):
        doc = docs[doc_id]
        tokens, probs, _ = detector.probabilities(doc.text, [(p.start, p.end) for p in doc.paragraphs])
        encoded[doc_id] = (tokens, probs)
    answers = []
    for r in rows:
        tokens, probs = encoded[r.article_id]
        inside = (tokens.offsets[:, 0] < r.end) & (tokens.offsets[:, 1] > r.start)
        mean = probs[inside].mean(0) if inside.any() else np.zeros(probs.shape[1])
        best = int(np.argmax([max(mean[k] for k in cols) for cols in columns]))
        answers.append(SpanRow(r.article_id, classes[best].name, r.start, r.end))
    ptc.write_tc(output, answers)
    return len(docs)
