"""Techniques of a paragraph read alone, as slant reads a text of one paragraph, against the same paragraph in its
article.

    python -m slant.training.lone_paragraph_study --data ../shared/data --model runs/t0 [--fold K]

A text of one paragraph is, to the encoder, an article's first line: its title. The model (a single-fold
model, `slant train --holdout-fold K`; its held-out fold unless --fold says otherwise, so the articles are
ones it never saw) reads each held-out article's body paragraphs three ways: in the article; alone, read as a
title (the official mode's reading, and `slant analyze`'s before session 30); and alone under
``runtime.LONE_PARAGRAPH_TITLE``, as `slant analyze` reads a one-paragraph text now. Paragraph-level
precision, recall and F1 against the gold labels, by the paragraph's length in words, and how many labels each
reading reports. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from ..document import Document
from ..errors import SlantError
from ..models import load_artifact
from ..runtime import Detector
from ..segment import is_blank
from .corpus import load_english

GROUPS = ((1, 5), (6, 15), (16, 40), (41, None))   # words, inclusive


def group(words: int) -> str:
    for low, high in GROUPS:
        if high is None or words <= high:
            return f"{low}-{high}" if high else f"{low}+"
    raise AssertionError


def held_out(data: str | Path, model: str | Path, fold: int | None = None):
    """(the model's Detector, the fold read, that fold's labelled articles): its held-out fold unless ``fold``
    names another."""
    detector = Detector(load_artifact(model))
    manifest = detector.artifact.manifest.get("training", {})
    fold = manifest.get("holdout_fold") if fold is None else fold
    if fold is None:
        raise SlantError(f"{model}: trained on every article (no held-out fold); give --fold, or use a "
                         "single-fold model (slant train --holdout-fold K)")
    corpus = load_english(data)
    folds = corpus.article_folds(manifest.get("folds", 5), manifest.get("fold_seed", 13))
    return detector, fold, [d for d in corpus.documents if folds[d.id] == fold]


def prf(right: int, reported: int, gold: int) -> dict:
    """Micro precision, recall and F1 from counts, with the counts."""
    precision, recall = right / max(reported, 1), right / max(gold, 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "reported": reported, "gold": gold}


def study(data: str | Path, model: str | Path, fold: int | None = None) -> dict:
    detector, fold, held = held_out(data, model, fold)
    counts = {way: defaultdict(lambda: [0, 0, 0]) for way in ("in_article", "alone_as_title", "alone_under_title")}
    for article in held:
        gold = {n: {label.name for label in labels} for n, labels in (article.techniques or {}).items()}
        doc = detector.analyze(Document(article.id, article.text, language="en"))
        for p in doc.paragraphs[1:]:   # the title is a title either way
            text = doc.text[p.start:p.end]
            if is_blank(text):   # zero-width characters only: no text to read alone (analyze refuses it)
                continue
            alone = Document("alone", text, language="en")
            readings = {
                "in_article": doc.techniques.get(p.number, []),
                "alone_as_title": detector.analyze(alone, official=True).techniques.get(1, []),
                "alone_under_title": detector.analyze(Document("alone", text, language="en")).techniques.get(1, []),
            }
            truth = gold.get(p.number, set())
            for way, labels in readings.items():
                found = {label.name for label in labels}
                for key in (group(len(text.split())), "all"):
                    c = counts[way][key]
                    c[0], c[1], c[2] = c[0] + len(found & truth), c[1] + len(found), c[2] + len(truth)
    result = {"model": str(model), "fold": fold, "articles": len(held), "readings": {}}
    for way, by_group in counts.items():
        result["readings"][way] = {}
        for key in [group(low) for low, _ in GROUPS] + ["all"]:
            result["readings"][way][key] = prf(*by_group[key])
    return result


def main(study=study, doc: str = __doc__) -> None:
    """The command line of this study, and of another over the same arguments (``title_study``)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="The shared data folder.")
    parser.add_argument("--model", required=True, help="A single-fold model folder (slant train --holdout-fold K).")
    parser.add_argument("--fold", type=int, default=None, help="The fold to read (default: the model's held-out one).")
    args = parser.parse_args()
    try:
        print(json.dumps(study(args.data, args.model, args.fold), indent=2))
    except SlantError as ex:
        raise SystemExit(f"Error: {ex}") from None


if __name__ == "__main__":
    main()
