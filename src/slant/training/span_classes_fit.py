"""Fit the PTC-2020 span classifier (slant.span_classes) and measure it on the held-out fold.

Training spans: the PTC-2020 train labels (14 classes, on the PTC texts) of the articles in the
training folds; the held-out fold's PTC articles are only scored.  Features come from the exported
int8 model, as at run time.  The regularisation is chosen by cross-validation over the training folds
(grouped by fold, so no article is on both sides); the held-out fold is never used to choose.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import taxonomy
from ..evaluate import span_class_scores
from ..formats import ptc
from ..formats.tsv import read_text
from ..span_classes import ranked_answers, rule_scores
from .article_fit import scaling

__all__ = ["fit_span_classifier", "C_GRID"]

C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1)
CLASSES = [c.name for c in taxonomy.PTC_CLASSES]


def _collect(detector, base: Path, fold_of: dict[str, int]):
    """Features, class index, (article, start, end) and fold of every PTC train row of the given articles."""
    rows = [r for r in ptc.read_tc(base / "train-task2-TC.labels") if r.article_id in fold_of]
    by_article: dict[str, list] = {}
    for r in rows:
        by_article.setdefault(r.article_id, []).append(r)
    X, y, keys, folds = [], [], [], []
    for doc_id, items in by_article.items():
        text = read_text(base / "train-articles" / f"article{doc_id}.txt")
        X.append(detector.span_features(text, [(r.start, r.end) for r in items]))
        y += [CLASSES.index(r.technique) for r in items]
        keys += [(doc_id, r.start, r.end) for r in items]
        folds += [fold_of[doc_id]] * len(items)
    return (np.concatenate(X) if X else None), np.array(y, int), keys, np.array(folds)


def _fit(X: np.ndarray, y: np.ndarray, C: float) -> dict:
    from sklearn.linear_model import LogisticRegression

    mean, scale = scaling(X)
    model = LogisticRegression(C=C, max_iter=3000).fit((X - mean) / scale, y)
    w = np.zeros((X.shape[1], len(CLASSES)), np.float32)
    b = np.full(len(CLASSES), -30.0, np.float32)  # a class never seen in training is never chosen
    w[:, model.classes_] = model.coef_.T
    b[model.classes_] = model.intercept_
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32), "w": w, "b": b}


def _probabilities(arrays: dict, X: np.ndarray) -> np.ndarray:
    from ..span_classes import SpanClassifier

    return SpanClassifier(arrays, CLASSES).probabilities(X)


def _micro_f1(keys, y, scores) -> float:
    gold = [(*k, CLASSES[c]) for k, c in zip(keys, y)]
    pred = [(*k, c) for k, c in zip(keys, ranked_answers(keys, scores, CLASSES))]
    return round(float(span_class_scores(gold, pred, CLASSES).micro.f1), 4)


def fit_span_classifier(data_root: Path, detector, fold_of: dict[str, int], holdout_fold: int | None,
                        log):
    """(arrays for span_classes.npz, manifest section, figures), or None when the data has no PTC-2020
    train labels or too few classes in the training folds to fit a classifier."""
    base = Path(data_root) / "ptc2020"
    if not (base / "train-task2-TC.labels").is_file():
        return None
    X, y, keys, folds = _collect(detector, base, fold_of)
    held = folds == holdout_fold if holdout_fold is not None else np.zeros(len(folds), dtype=bool)
    train = ~held
    if X is None or len(set(y[train].tolist())) < 2:
        log("PTC span classifier: fewer than two classes in the training folds, not fitted")
        return None
    log(f"PTC span classifier: {int(train.sum())} training spans, {int(held.sum())} held out; choosing C")
    inner = {}
    for C in C_GRID:
        scores = np.zeros((len(y), len(CLASSES)))
        for f in sorted(set(folds[train].tolist())):
            fit_on, score_on = train & (folds != f), train & (folds == f)
            if len(set(y[fit_on].tolist())) >= 2 and score_on.any():
                scores[score_on] = _probabilities(_fit(X[fit_on], y[fit_on], C), X[score_on])
        index = np.flatnonzero(train)
        inner[C] = _micro_f1([keys[i] for i in index], y[index], scores[index])
    C = max(C_GRID, key=lambda c: (inner[c], -c))  # ties: the stronger regularisation
    arrays = _fit(X[train], y[train], C)
    figures = {"training_spans": int(train.sum()), "held_out_spans": int(held.sum()), "C": C,
               "training_folds_cv_micro_f1": {str(c): v for c, v in inner.items()}}
    if held.any():
        index = np.flatnonzero(held)
        held_keys = [keys[i] for i in index]
        figures["held_out_micro_f1"] = _micro_f1(held_keys, y[index], _probabilities(arrays, X[index]))
        figures["held_out_micro_f1_token_head_rule"] = _micro_f1(held_keys, y[index],
                                                                 rule_scores(X[index], detector.labels))
        figures["held_out_articles"] = len({k[0] for k in held_keys})
        log(f"PTC span classifier (C={C}): held-out TC micro-F1 {figures['held_out_micro_f1']:.4f}, "
            f"token-head rule {figures['held_out_micro_f1_token_head_rule']:.4f}")
    section = {"classes": CLASSES, "C": C,
               "features": "token-head probabilities (mean, max), encoder states (mean, max), repeats, length, "
                           "'!', quotes"}
    return arrays, section, figures
