"""The lexical head: TF-IDF of word uni- and bigrams with one logistic regression per label.

Inference in numpy only, reproducing scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2),
sublinear_tf=True)`` followed by ``LogisticRegression.predict_proba`` exactly (tested
against scikit-learn).  Word choice carries much of the signal for loaded language
and name calling; the encoder heads carry the rest, and the runtime averages them.
"""

from __future__ import annotations

import re
from itertools import chain, repeat

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
    """TF-IDF + one logistic regression per label, over the terms of ``vocabulary`` (unigrams and
    "word word" bigrams, scikit-learn's feature names).

    Inference looks each word up once, in a dictionary of the vocabulary's words, and finds the
    bigrams among integer pairs with numpy, so that an article's paragraphs cost one pass in Python
    per word rather than per term (the full analysis of the 90 English dev articles: 3.93 -> 3.83 s with
    the shipped model, 2.30 -> 2.18 s with a 2-layer one; docs/model-history.md, Speed).
    """

    def __init__(self, vocabulary: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray):
        singles = [i for i, term in enumerate(vocabulary) if " " not in term]
        doubles = [i for i, term in enumerate(vocabulary) if " " in term]
        self.words = {vocabulary[i]: n for n, i in enumerate(singles)}   # word -> word id
        halves = " ".join(vocabulary[i] for i in doubles).split(" ") if doubles else []  # bigrams' words, 2 by 2
        if len(halves) != 2 * len(doubles):
            raise ValueError("lexical vocabulary: a term holds more than two words")
        for word in set(halves) - self.words.keys():   # in a bigram only (not with scikit-learn's min_df)
            self.words[word] = len(self.words)
        self.unknown = len(self.words)                 # the id of every word outside the vocabulary
        self.unigram = np.full(self.unknown + 1, -1, dtype=np.int64)   # word id -> term index, or -1
        self.unigram[:len(singles)] = singles
        ids = np.fromiter(map(self.words.__getitem__, halves), dtype=np.int64, count=len(halves))
        keys = ids[0::2] * (self.unknown + 1) + ids[1::2]
        order = np.argsort(keys)
        self.pair_keys = keys[order]                   # sorted (first word, second word) keys of the bigrams
        self.pair_terms = np.asarray(doubles, dtype=np.int64)[order]
        self.size = len(vocabulary)
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
        words = [_WORD.findall(text.lower()) for text in texts]
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(texts))
        ids = np.fromiter(map(self.words.get, chain.from_iterable(words), repeat(self.unknown)),
                          dtype=np.int64, count=int(lengths.sum()))
        if not len(ids):
            return logits
        rows = np.repeat(np.arange(len(texts)), lengths)
        same_text = rows[1:] == rows[:-1]
        known = (ids[:-1] != self.unknown) & (ids[1:] != self.unknown) & same_text
        keys = ids[:-1][known] * (self.unknown + 1) + ids[1:][known]
        at = np.minimum(np.searchsorted(self.pair_keys, keys), max(len(self.pair_keys) - 1, 0))
        found = self.pair_keys[at] == keys if len(self.pair_keys) else np.zeros(len(keys), dtype=bool)
        unigram = self.unigram[ids]
        term = np.concatenate([unigram[unigram >= 0], self.pair_terms[at[found]]])
        row = np.concatenate([rows[unigram >= 0], rows[:-1][known][found]])
        if not len(term):
            return logits
        cells, counts = np.unique(row * self.size + term, return_counts=True)   # sorted by text, then term
        row, term = cells // self.size, cells % self.size
        values = (1.0 + np.log(counts)).astype(np.float32) * self.idf[term]
        values /= np.sqrt(np.bincount(row, values * values, minlength=len(texts)))[row].astype(np.float32)
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        logits[row[starts]] += np.add.reduceat(values[:, None] * self.coef[term], starts, axis=0)
        return logits
