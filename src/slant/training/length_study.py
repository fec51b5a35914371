"""Techniques micro-F1 by how long an article's paragraphs are, from a cross-validation's out-of-fold predictions.

    python -m slant.training.length_study --data ../shared/data --cv runs/e10

Sources differ in how they break a text into paragraphs, and the paragraph is the unit the
official metric scores.  This groups the training articles by the median length of their
paragraphs as their sources printed them (characters; ``EDGES``) and scores each group's
out-of-fold paragraph probabilities (``oof.npz`` beside ``cv.json``, written by ``slant
train --cross-validate``) with thresholds cross-fitted over all articles, as ``slant train``
reports its overall figure: tuned on one half of the articles, scored on the other, both
ways.  Prints JSON.

It says nothing about text split into lines by a machine, one sentence per line — the
format of the SemEval-2023 English dev articles (PTC-2020's automatic split): for that,
``python -m slant.training.decode_study --study lines`` scores a held-out fold in PTC's own
text.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..errors import SlantError
from .corpus import load_english
from .crossval import OOF_FILE, out_of_fold_probs
from .fit import crossfit_splits, f1_from_counts, paragraph_labels, tune_thresholds

EDGES = (0, 100, 150, 250)  # group k holds median paragraph lengths in [EDGES[k], EDGES[k+1])


def median_paragraph(doc) -> float:
    lengths = [p.end - p.start for p in doc.paragraphs if p.end > p.start]
    return float(np.median(lengths)) if lengths else 0.0


def group_of(median: float, edges=EDGES) -> int:
    return int(np.searchsorted(edges, median, side="right")) - 1


def group_names(edges=EDGES) -> list[str]:
    return [f"{lo}-{hi}" for lo, hi in zip(edges, edges[1:])] + [f"{edges[-1]}+"]


def crossfit_counts(probs: list[np.ndarray], gold: list[np.ndarray], groups: list[int], n_groups: int) -> np.ndarray:
    """[n_groups, 3] true positives, predictions and gold positives per group, every article scored with
    thresholds tuned on the other half of the articles (alternate articles, both ways)."""
    counts = np.zeros((n_groups, 3))
    for tune, test in crossfit_splits(len(probs)):
        if not tune or not test:
            continue
        thr = tune_thresholds(np.concatenate([probs[i] for i in tune]), np.concatenate([gold[i] for i in tune]))
        for i in test:
            hit, y = probs[i] >= thr, gold[i] > 0
            counts[groups[i]] += ((hit & y).sum(), hit.sum(), y.sum())
    return counts


def f1(counts) -> float:
    return round(f1_from_counts(*counts), 4)


def run(data: str | Path, cv: str | Path, edges=EDGES) -> dict:
    corpus_docs = {d.id: d for d in load_english(data).documents}
    path = Path(cv) / OOF_FILE
    try:
        with np.load(path) as z:
            ids = [str(i) for i in z["ids"]]
    except (OSError, KeyError, ValueError) as ex:
        raise SlantError(f"{path}: cannot read the out-of-fold predictions of a cross-validation ({ex})") from None
    if not set(ids) <= set(corpus_docs):
        raise SlantError(f"{path}: its articles are not those of {data}")
    docs = [corpus_docs[i] for i in ids]
    probs = out_of_fold_probs(cv, docs)
    gold = [paragraph_labels(d) for d in docs]
    groups = [group_of(median_paragraph(d), edges) for d in docs]
    names = group_names(edges)
    counts = crossfit_counts(probs, gold, groups, len(names))
    paragraphs = np.bincount(groups, weights=[len(y) for y in gold], minlength=len(names))
    result = {
        "cv": str(cv),
        "groups": "median paragraph length of the article, characters",
        "all": {"articles": len(ids), "paragraphs": int(paragraphs.sum()), "micro_f1_crossfit": f1(counts.sum(0))},
        "by_median_paragraph": {name: {"articles": int(np.sum(np.array(groups) == k)), "paragraphs": int(paragraphs[k]),
                                       "micro_f1_crossfit": f1(counts[k]) if paragraphs[k] else None}
                                for k, name in enumerate(names)},
    }
    return result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--cv", required=True, help="the output folder of slant train --cross-validate (holds oof.npz)")
    args = ap.parse_args(argv)
    try:
        print(json.dumps(run(args.data, args.cv), indent=2))
    except SlantError as e:
        raise SystemExit(f"error: {e}")


if __name__ == "__main__":
    main()
