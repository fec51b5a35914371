import numpy as np
import pytest

from slant.lexical import LexicalHead, terms

pytest.importorskip("sklearn")


def test_numpy_inference_equals_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from slant.training.lexical_fit import fit_lexical

    texts = ["the corrupt elite betrayed us", "a quiet council meeting", "corrupt thugs and the corrupt elite",
             "the weather was mild", "thugs unleashed a savage crackdown", "the budget passed the council",
             "Ünïcode wörds and the elite", "x"]
    y = np.array([[1, 0], [0, 0], [1, 1], [0, 0], [1, 1], [0, 0], [1, 0], [0, 0]], dtype=np.float32)
    head = LexicalHead.from_arrays(fit_lexical(texts, y, min_df=1))
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    x = vec.fit_transform(texts)
    new = ["the corrupt elite", "savage council thugs thugs", "nothing known here", ""]
    for k in range(2):
        clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000).fit(x, y[:, k])
        expected = clf.predict_proba(vec.transform(new))[:, 1]
        assert head.probabilities(new)[:, k] == pytest.approx(expected, abs=2e-3)  # coef stored as float16


def test_terms_match_the_default_analyzer():
    from sklearn.feature_extraction.text import TfidfVectorizer
    analyzer = TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()
    text = "Don't trust the so-called \"experts\" — 2020's élite, a b c!"
    assert terms(text) == analyzer(text)


def test_bigrams_never_join_two_texts_nor_skip_an_unknown_word():
    vocabulary = ["corrupt", "elite", "corrupt elite", "regime"]
    coef = np.array([[0.0], [0.0], [5.0], [1.0]], dtype=np.float32)  # only the bigram and "regime" weigh
    head = LexicalHead(vocabulary, np.ones(4, dtype=np.float32), coef, np.zeros(1, dtype=np.float32))
    batch = ["the corrupt", "elite regime", "corrupt elite", "corrupt zzz elite", "", "Corrupt  ELITE!"]
    logits = head.logits(batch)
    assert logits.tolist() == [head.logits([t])[0].tolist() for t in batch]  # a batch is its texts one by one
    assert logits[0, 0] == 0.0 and logits[1, 0] == pytest.approx(1 / np.sqrt(2))  # "corrupt" + "elite": no bigram
    assert logits[2, 0] == pytest.approx(5 / np.sqrt(3))
    assert logits[3, 0] == 0.0 and logits[4, 0] == 0.0
    assert logits[5, 0] == logits[2, 0]
    assert head.logits([]).shape == (0, 1)
