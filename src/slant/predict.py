"""Predictions in the official task formats, for evaluation and for shared-task submissions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import taxonomy
from .formats import ptc, semeval
from .formats.articles import article_id, article_paths, read_article
from .formats.semeval import SpanRow
from .formats.tsv import writable
from .errors import FormatError, InputError, ModelError, SlantError
from .evaluate import merge_spans
from .language import ENGLISH, identify, language_name
from .runtime import Detector
from .span_classes import ranked_answers

__all__ = ["Written", "semeval_predict", "ptc_si", "ptc_tc"]


@dataclass
class Written:
    """What a prediction file holds: its articles, how many of them read as another language
    (predicted all the same — the format needs a row for each — but by a model that reads English),
    and the articles left out because they could not be read or analysed, one error line each."""

    articles: int = 0
    other_languages: Counter = field(default_factory=Counter)
    left_out: list[str] = field(default_factory=list)

    def count(self, doc) -> None:
        self.articles += 1
        if doc.language is None:
            doc.language = identify(doc.text)[0]
        if doc.language not in (None, ENGLISH):
            self.other_languages[doc.language] += 1

    def warning(self) -> str | None:
        if not self.other_languages:
            return None
        which = ", ".join(f"{language_name(code)} {n}" for code, n in self.other_languages.most_common())
        return (f"{sum(self.other_languages.values())} of the {self.articles} articles read as another language "
                f"({which}): slant's model reads English, so their predictions mean little")


def _analysed(detector: Detector, articles: str | Path, written: Written) -> list:
    """Every article*.txt of the folder analysed in official mode; an article that cannot be read or
    analysed is left out and its error kept in ``written.left_out``, so one bad file costs its own rows,
    not the whole file's. InputError if no article is left."""
    docs = []
    for path in article_paths(articles):
        try:
            doc = detector.analyze(read_article(path), official=True)
        except SlantError as ex:
            written.left_out.append(str(ex))
            continue
        written.count(doc)
        docs.append(doc)
    if not docs and written.left_out:
        _none_left(articles, written.left_out)
    return docs


def _none_left(articles: str | Path, errors: list[str]) -> None:
    if len(errors) == 1:
        raise InputError(errors[0])
    raise InputError(f"{articles}: none of its {len(errors)} articles could be read (first: {errors[0]})")


_SUBTASKS = {
    "1": (semeval.subtask1_rows, semeval.write_subtask1),
    "2": (semeval.subtask2_rows, semeval.write_subtask2),
    "3": (semeval.subtask3_rows, semeval.write_subtask3),
}


def semeval_predict(detector: Detector, subtask: str, articles: str | Path, output: str | Path) -> Written:
    """Write the official rows of ``subtask`` ("1" genre, "2" frames, "3" techniques per paragraph,
    numbered as in the official templates) for every article*.txt."""
    rows, write = _SUBTASKS[subtask]
    if subtask in ("1", "2") and detector.article is None:
        raise ModelError(f"{detector.artifact.path}: this model has no genre and frame heads (subtask {subtask})")
    written = Written()
    write(writable(output), rows(_analysed(detector, articles, written)))
    return written


def ptc_si(detector: Detector, articles: str | Path, output: str | Path) -> Written:
    """PTC span identification: technique spans of any class, overlapping ones merged."""
    rows, output = [], writable(output)
    written = Written()
    for doc in _analysed(detector, articles, written):
        rows += [ptc.SIRow(doc.id, s, e) for s, e in merge_spans([(sp.start, sp.end) for sp in doc.spans])]
    ptc.write_si(output, rows)
    return written


def ptc_tc(detector: Detector, articles: str | Path, template: str | Path, output: str | Path) -> Written:
    """PTC technique classification of the template's spans into the 14 PTC classes.

    Scores come from the model's span classifier (slant.span_classes), or from the token head for a
    model without one; a span the template lists k times gets its k best classes.
    """
    rows, output = ptc.read_tc_template(template), writable(output)
    needed = {r.article_id for r in rows}
    paths = {article_id(p): p for p in article_paths(articles) if article_id(p) in needed}
    missing = sorted(needed - set(paths))
    if missing:
        raise InputError(f"{template}: names articles not in {articles} (first: {missing[0]})")
    written = Written()
    docs = {}
    for doc_id, path in paths.items():
        try:
            docs[doc_id] = read_article(path)
        except SlantError as ex:  # its spans are left out, the others still classified
            written.left_out.append(str(ex))
    if not docs:
        _none_left(articles, written.left_out)
    rows = [r for r in rows if r.article_id in docs]
    for r in rows:   # a span past its article's end was classified on the text it had
        if r.end > len(docs[r.article_id].text):
            raise FormatError(f"{template}:{r.line}", f"span {r.start}-{r.end} ends after the "
                                                      f"{len(docs[r.article_id].text):,} characters of article "
                                                      f"{r.article_id}")
    classes = [c.name for c in taxonomy.PTC_CLASSES]
    by_article: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_article.setdefault(r.article_id, []).append(i)
    scores = np.zeros((len(rows), len(classes)))
    for doc_id, idx in by_article.items():  # each article encoded once, whatever the order of the rows
        scores[idx] = detector.span_classes(docs[doc_id].text, [(rows[i].start, rows[i].end) for i in idx])
    answers = ranked_answers([(r.article_id, r.start, r.end) for r in rows], scores, classes)
    ptc.write_tc(output, [SpanRow(r.article_id, c, r.start, r.end) for r, c in zip(rows, answers)])
    for doc in docs.values():
        written.count(doc)
    return written
