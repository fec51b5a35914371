"""Articles without their title line: how the model reads a text whose first line is not a title.

    python -m slant.training.title_study --data ../shared/data --model runs/t0 [--fold K]

The model reads an article's first line as its title (SemEval-2023's format), and a text pasted without one has
its first paragraph read as a title. The model (a single-fold model, `slant train --holdout-fold K`; its
held-out fold unless --fold says otherwise) reads each held-out article four ways: as it is; as it is under
``runtime.LONE_PARAGRAPH_TITLE`` (what a title taken for a body paragraph costs); without its title line, the
first body paragraph read as a title; and without its title line under ``LONE_PARAGRAPH_TITLE``. For each:
the body paragraphs' micro precision, recall and F1 against the gold labels (all of them, and the first one
alone), genre macro-F1 and frames micro-F1 (over the articles that have those labels), and how many
labels were reported. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from .. import taxonomy
from ..document import Document
from ..errors import SlantError
from ..evaluate import multilabel_scores, single_label_scores
from ..models import load_artifact
from ..runtime import Detector
from .corpus import load_english

READINGS = ("titled", "titled_under_untitled", "untitled_as_is", "untitled_under_untitled")


def _prf(right: int, reported: int, gold: int) -> dict:
    precision, recall = right / max(reported, 1), right / max(gold, 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "reported": reported, "gold": gold}


def study(data: str | Path, model: str | Path, fold: int | None = None) -> dict:
    detector = Detector(load_artifact(model))
    manifest = detector.artifact.manifest.get("training", {})
    fold = manifest.get("holdout_fold") if fold is None else fold
    if fold is None:
        raise SlantError(f"{model}: trained on every article (no held-out fold); give --fold, or use a "
                         "single-fold model (slant train --holdout-fold K)")
    corpus = load_english(data)
    folds = corpus.article_folds(manifest.get("folds", 5), manifest.get("fold_seed", 13))
    held = [d for d in corpus.documents if folds[d.id] == fold and len(d.paragraphs) > 2]
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
            "paragraphs": _prf(*counts[way]["all"]),
            "first_body_paragraph": _prf(*counts[way]["first"]),
            "genre_macro_f1": round(single_label_scores(*genres[way]).macro_f1, 4),
            "frames_micro_f1": round(multilabel_scores(*frames[way], taxonomy.FRAMES).micro.f1, 4),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
