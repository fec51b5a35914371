"""Fit the lexical head (TF-IDF + one logistic regression per label) with scikit-learn."""

from __future__ import annotations

import numpy as np

from ..lexical import terms


def fit_lexical(texts: list[str], y: np.ndarray, c: float = 4.0, min_df: int = 2) -> dict[str, np.ndarray]:
    """Arrays for slant.lexical.LexicalHead; labels with fewer than 2 positives never fire."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(analyzer=terms, min_df=min_df, sublinear_tf=True)
    x = vec.fit_transform(texts)
    coef = np.zeros((x.shape[1], y.shape[1]), dtype=np.float32)
    intercept = np.full(y.shape[1], -30.0, dtype=np.float32)
    for k in range(y.shape[1]):
        if y[:, k].sum() >= 2:
            clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(x, y[:, k])
            coef[:, k] = clf.coef_[0]
            intercept[k] = clf.intercept_[0]
    return {"vocabulary": np.array(vec.get_feature_names_out(), dtype=str), "idf": vec.idf_.astype(np.float32),
            "coef": coef.astype(np.float16), "intercept": intercept}
