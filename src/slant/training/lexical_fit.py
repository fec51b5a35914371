"""Fit lexical heads (TF-IDF of word uni- and bigrams + logistic regression) with scikit-learn."""

from __future__ import annotations

import numpy as np

from ..lexical import terms


def tfidf(texts: list[str], min_df: int = 2):
    """(fitted vectorizer, document-term matrix) with the settings slant.lexical reproduces."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=terms, min_df=min_df, sublinear_tf=True)
    return vec, vec.fit_transform(texts)


def lexical_arrays(vec, coef: np.ndarray, intercept: np.ndarray) -> dict[str, np.ndarray]:
    """Arrays for slant.lexical.LexicalHead (coef [V, K], intercept [K])."""
    return {"vocabulary": np.array(vec.get_feature_names_out(), dtype=str), "idf": vec.idf_.astype(np.float32),
            "coef": coef.astype(np.float16), "intercept": intercept.astype(np.float32)}


def binary_columns(x, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    """One class-balanced logistic regression per column of ``y``; columns with fewer than 2
    positives (or no negatives) never fire."""
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((x.shape[1], y.shape[1]), dtype=np.float32)
    intercept = np.full(y.shape[1], -30.0, dtype=np.float32)
    for k in range(y.shape[1]):
        if 2 <= y[:, k].sum() < len(y):
            clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(x, y[:, k])
            coef[:, k] = clf.coef_[0]
            intercept[k] = clf.intercept_[0]
    return coef, intercept


def fit_lexical(texts: list[str], y: np.ndarray, c: float = 4.0, min_df: int = 2) -> dict[str, np.ndarray]:
    """The paragraph lexical head: arrays for slant.lexical.LexicalHead, one sigmoid per label."""
    vec, x = tfidf(texts, min_df)
    return lexical_arrays(vec, *binary_columns(x, y, c))
