"""Articles without their title line: how the model reads a text whose first line is not a title.

    python -m slant.training.title_study --data ../shared/data --model runs/t0 [--fold K]

The model reads an article's first line as its title (SemEval-2023's format), and a text pasted without one has
its first paragraph read as a title. The model (a single-fold model, `slant train --holdout-fold K`; its
held-out fold unless --fold says otherwise) reads each held-out article five ways: as it is; as it is under
``runtime.LONE_PARAGRAPH_TITLE`` (what a title taken for a body paragraph costs); without its title line, the
first body paragraph read as a title; without its title line under ``LONE_PARAGRAPH_TITLE``; and without its
title line, the title given beside the text (``Document.title``, as the API's and batch's ``title``). For each:
the body paragraphs' micro precision, recall and F1 against the gold labels (all of them, and the first one
alone), genre macro-F1 and frames micro-F1 (over the articles that have those labels), and how many
labels were reported. Prints JSON.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .. import taxonomy
from ..document import Document
from ..evaluate import multilabel_scores, single_label_scores
from . import lone_paragraph_study
from .lone_paragraph_study import held_out, prf

READINGS = ("titled", "titled_under_untitled", "untitled_as_is", "untitled_under_untitled", "title_given_beside")


def study(data: str | Path, model: str | Path, fold: int | None = None) -> dict:
    detector, fold, held = held_out(data, model, fold)
    held = [d for d in held if len(d.paragraphs) > 2]
    counts = {way: defaultdict(lambda: [0, 0, 0]) for way in READINGS}
    genres = {way: ({}, {}) for way in READINGS}
    frames = {way: ({}, {}) for way in READINGS}
    for article in held:
        gold = {n: {label.name for label in labels} for n, labels in (article.techniques or {}).items()}
        title, first = article.paragraphs[0], article.paragraphs[1]
        body = article.text[first.start:]
        docs = {
            "titled": (detector.analyze(Document(article.id, article.text, language="en"), untitled=False), 0),
            "titled_under_untitled": (detector.analyze(Document(article.id, article.text, language="en"),
                                                       untitled=True), 0),
            "untitled_as_is": (detector.analyze(Document(article.id, body, language="en"), untitled=False),
                               first.start),
            "untitled_under_untitled": (detector.analyze(Document(article.id, body, language="en"), untitled=True),
                                        first.start),
            "title_given_beside": (detector.analyze(Document(article.id, body, title=article.text[title.start:title.end],
                                                             language="en")), first.start),
        }
        for way, (doc, shift) in docs.items():
            number = {p.start: p.number for p in article.paragraphs}
            for p in doc.paragraphs:
                n = number[p.start + shift]
                if n == title.number:
                    continue
                found = {label.name for label in doc.techniques.get(p.number, [])}
                truth = gold.get(n, set())
                for key in ("all", "first") if n == first.number else ("all",):
                    c = counts[way][key]
                    c[0], c[1], c[2] = c[0] + len(found & truth), c[1] + len(found), c[2] + len(truth)
            if article.genre is not None and doc.genre is not None:
                genres[way][0][article.id], genres[way][1][article.id] = article.genre.name, doc.genre.name
            if article.frames is not None and doc.frames is not None:
                frames[way][0][article.id] = {label.name for label in article.frames}
                frames[way][1][article.id] = {label.name for label in doc.frames}
    result = {"model": str(model), "fold": fold, "articles": len(held), "readings": {}}
    for way in READINGS:
        result["readings"][way] = {
            "paragraphs": prf(*counts[way]["all"]),
            "first_body_paragraph": prf(*counts[way]["first"]),
            "genre_macro_f1": round(single_label_scores(*genres[way]).macro_f1, 4),
            "frames_micro_f1": round(multilabel_scores(*frames[way], taxonomy.FRAMES).micro.f1, 4),
        }
    return result


def main() -> None:
    lone_paragraph_study.main(study, __doc__)


if __name__ == "__main__":
    main()
