"""Which PTC-2020 class a given span belongs to (SemEval-2020 Task 11, technique classification).

The span is read through what the detector already computed for its article:

* the token head's probabilities of the span's word pieces, mean and max per technique (2 x 23);
* the encoder states of those pieces, mean and max (2 x H);
* how the span is written: how often its text occurs in the article (log), its length in words (log),
  whether it occurs more than once, ends with "!", holds a quotation mark (5).

A multinomial logistic regression over the 14 classes (standardised features) turns them into class
probabilities.  Numpy only; fitted by ``slant train`` (slant.training.span_classes_fit) on the PTC-2020
train spans of the training folds.
"""

from __future__ import annotations

import numpy as np

from .article_heads import softmax
from .windows import Tokens

__all__ = ["SpanClassifier", "span_features", "rule_scores", "ranked_answers"]

QUOTES = ('"', "“", "”", "«", "»")


def span_features(text: str, tokens: Tokens, states: np.ndarray, token_probs: np.ndarray,
                  start: int, end: int) -> np.ndarray:
    """One feature vector for the span ``[start, end)`` of ``text`` (see the module doc).

    A span that covers no word piece (only spaces or punctuation the tokenizer drops) is read
    through the first piece at or after it.

    >>> t = Tokens(np.array([7, 8]), np.array([[0, 3], [4, 7]]))
    >>> f = span_features("Bad bad!", t, np.array([[1., 0.], [3., 2.]]), np.array([[0.2], [0.6]]), 0, 7)
    >>> f[:6].tolist()  # token probabilities mean and max, states mean and max
    [0.4000000059604645, 0.6000000238418579, 2.0, 1.0, 3.0, 2.0]
    """
    offsets = tokens.offsets
    inside = np.flatnonzero((offsets[:, 0] < end) & (offsets[:, 1] > start)) if len(tokens) else np.zeros(0, int)
    if not len(inside) and len(tokens):
        inside = np.array([min(int(np.searchsorted(offsets[:, 0], start)), len(tokens) - 1)])
    if len(inside):
        p, s = token_probs[inside], states[inside]
        neural = [p.mean(0), p.max(0), s.mean(0), s.max(0)]
    else:
        neural = [np.zeros(token_probs.shape[1]), np.zeros(token_probs.shape[1]),
                  np.zeros(states.shape[1]), np.zeros(states.shape[1])]
    raw = text[start:end].strip()
    low = raw.lower()
    repeats = max(text.lower().count(low), 1) if low else 1
    written = [np.log1p(repeats), np.log1p(len(low.split())), float(repeats > 1), float(raw.endswith("!")),
               float(any(q in raw for q in QUOTES))]
    return np.concatenate(neural + [np.asarray(written)]).astype(np.float32)


def rule_scores(features: np.ndarray, labels: list[str]) -> np.ndarray:
    """[n, 14] class scores without a classifier: for each class, the highest mean token-head probability
    of the techniques it covers (the first ``len(labels)`` features are those means).  Models without a
    span classifier classify this way; training measures the classifier against it."""
    from . import taxonomy

    means = np.atleast_2d(features)[:, :len(labels)]
    return np.stack([means[:, [labels.index(t) for t in c.techniques]].max(1) for c in taxonomy.PTC_CLASSES], 1)


class SpanClassifier:
    """Standardise, then a linear layer and a softmax over ``classes``."""

    def __init__(self, arrays: dict[str, np.ndarray], classes: list[str]):
        self.mean, self.scale = arrays["mean"], arrays["scale"]
        self.w, self.b = arrays["w"], arrays["b"]
        self.classes = list(classes)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """[n, C] class probabilities for [n, F] span features."""
        return softmax((np.atleast_2d(features) - self.mean) / self.scale @ self.w + self.b)


def ranked_answers(keys: list, scores: np.ndarray, classes: list[str]) -> list[str]:
    """One class per row; a span listed k times (the template's way of saying it has k classes) gets its
    k best classes, in order.

    >>> ranked_answers([("a", 0, 3), ("a", 0, 3), ("a", 5, 9)], np.array([[.2, .8], [.2, .8], [.6, .4]]), ["X", "Y"])
    ['Y', 'X', 'X']
    """
    seen: dict = {}
    out = []
    for key, row in zip(keys, scores):
        k = seen.get(key, 0)
        seen[key] = k + 1
        out.append(classes[int(np.argsort(-row, kind="stable")[min(k, len(classes) - 1)])])
    return out
