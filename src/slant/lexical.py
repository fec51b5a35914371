"""The lexical head: TF-IDF of word uni- and bigrams with one logistic regression per label.

Inference in numpy only, reproducing scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2),
sublinear_tf=True)`` followed by ``LogisticRegression.predict_proba`` exactly (tested
against scikit-learn).  Word choice carries much of the signal for loaded language
and name calling; the encoder heads carry the rest, and the runtime averages them.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

__all__ = ["LexicalHead", "terms"]

_WORD = re.compile(r"(?u)\b\w\w+\b")


def terms(text: str) -> list[str]:
    """Lower-cased word unigrams and bigrams, as scikit-learn's default analyzer makes them.

    >>> terms("The Regime's thugs!")
    ['the', 'regime', 'thugs', 'the regime', 'regime thugs']
    """
    words = _WORD.findall(text.lower())
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


class LexicalHead:
    def __init__(self, vocabulary: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray):
        self.index = {term: i for i, term in enumerate(vocabulary)}
        self.idf = idf.astype(np.float32)
        self.coef = coef.astype(np.float32)          # [V, K]
        self.intercept = intercept.astype(np.float32)

    @classmethod
    def from_arrays(cls, arrays: dict) -> "LexicalHead":
        return cls(arrays["vocabulary"].tolist(), arrays["idf"], arrays["coef"], arrays["intercept"])

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """[len(texts), K] probabilities, one sigmoid per label."""
        return 1.0 / (1.0 + np.exp(-self.logits(texts)))

    def logits(self, texts: list[str]) -> np.ndarray:
        """[len(texts), K] logits."""
        logits = np.tile(self.intercept, (len(texts), 1))
        for row, text in enumerate(texts):
            counts = Counter(i for i in (self.index.get(t) for t in terms(text)) if i is not None)
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float32, count=len(counts))
            values = tf * self.idf[idx]
            values /= np.linalg.norm(values)
            logits[row] += values @ self.coef[idx]
        return logits
