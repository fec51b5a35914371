"""Baselines on the same folds and threshold protocol as the model: predict-nothing, TF-IDF + LR
(the model's own lexical head, alone).

    python -m slant.training.baselines --data ../shared/data [--holdout-fold 0]

Prints JSON: micro/macro-F1 on the held-out fold, thresholds cross-fitted inside it
(tuned on one half of its articles, scored on the other), as for the model.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from .corpus import assign_folds, load_english
from .fit import LABELS, _pooled_micro, crossfit_splits, paragraph_labels, tune_thresholds


def _paragraphs(docs):
    """(article id, paragraph number, text, label vector) per paragraph."""
    return [(d.id, p.number, d.text[p.start:p.end], y) for d in docs for p, y in zip(d.paragraphs, paragraph_labels(d))]


def _scores(rows, probs, thresholds):
    from ..evaluate import multilabel_scores
    gold = {(a, n): {LABELS[k] for k in np.flatnonzero(y)} for a, n, _, y in rows}
    pred = {(a, n): {LABELS[k] for k in np.flatnonzero(p >= thresholds)} for (a, n, _, _), p in zip(rows, probs)}
    return multilabel_scores(gold, pred, LABELS)


def run(data, holdout_fold: int = 0, folds: int = 5, seed: int = 13) -> dict:
    from ..lexical import LexicalHead
    from .lexical_fit import fit_lexical

    corpus = load_english(data)
    fold_of = dict(zip((d.id for d in corpus.documents), assign_folds(corpus.documents, folds, seed)))
    train = _paragraphs([d for d in corpus.documents if fold_of[d.id] != holdout_fold])
    held = _paragraphs([d for d in corpus.documents if fold_of[d.id] == holdout_fold])
    nothing = _scores(held, np.zeros((len(held), len(LABELS))), np.full(len(LABELS), 0.5))
    # TF-IDF + logistic regression: the lexical head of the shipped model, alone.
    lexical = fit_lexical([t for _, _, t, _ in train], np.stack([y for *_, y in train]))
    probs = LexicalHead.from_arrays(lexical).probabilities([t for _, _, t, _ in held])
    y_held = np.stack([y for *_, y in held])
    articles = sorted({a for a, *_ in held}, key=int)
    results = []
    for tune_idx, test_idx in crossfit_splits(len(articles)):
        tune, test = {articles[k] for k in tune_idx}, {articles[k] for k in test_idx}
        ti = [i for i, r in enumerate(held) if r[0] in tune]
        si = [i for i, r in enumerate(held) if r[0] in test]
        thr = tune_thresholds(probs[ti], y_held[ti])
        results.append(_scores([held[i] for i in si], probs[si], thr))
    in_sample = _scores(held, probs, tune_thresholds(probs, y_held))
    return {
        "held_out_articles": len(articles), "held_out_paragraphs": len(held),
        "predict_nothing": {"micro_f1": round(nothing.micro.f1, 4), "macro_f1": round(nothing.macro_f1, 4)},
        "tfidf_lr": {"micro_f1_crossfit": round(_pooled_micro(results)["f1"], 4),
                     "micro_f1_tuned_in_sample": round(in_sample.micro.f1, 4),
                     "macro_f1_tuned_in_sample": round(in_sample.macro_f1, 4),
                     "macro_f1_gold_labels_in_sample": round(in_sample.macro_f1_gold_labels or 0, 4)},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--holdout-fold", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(run(args.data, args.holdout_fold), indent=2))
