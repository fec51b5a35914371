"""Article-level heads: genre (one of 3, probabilities summing to 1) and frames (14, multi-label).

They read what the technique detector already computed for the article — the
encoder states of every word piece (windows merged; from the encoder's
``article_states`` output, an early layer, when it has one: slant.runtime) and
the paragraph technique probabilities — so one encoder pass serves every head.  Parts:

* ``encoder`` (genre and frames): logistic regressions over pooled article
  features, named in the manifest (``states_mean``/``states_max``: mean and max
  of the piece states; ``techniques_mean``/``techniques_max``: mean and max over
  paragraphs of the technique probabilities);
* ``lexical`` (genre and frames): TF-IDF of the article's word uni- and bigrams
  with logistic regressions (slant.lexical);
* ``style`` (genre only): a logistic regression over how the article is written
  (slant.style: quotation, attribution, person, punctuation, lengths).

The manifest names, per task, which parts are averaged (``ensemble``:
``{"genre": [...], "frames": [...]}``).  Genre columns are softmax-normalised
(multinomial regressions), and the averaged genre probabilities are sharpened or
softened by ``genre_temperature`` (tuned for log loss on out-of-fold predictions;
it never changes which genre is most likely); frame columns are sigmoids compared
with per-frame thresholds, and reported calibrated (``frame_calibration``: Platt scaling per
frame, fitted out of fold; its ``short`` map for a text under ``under_words`` words) where the model
has it.  Numpy only.

A text shorter than ``GENRE_MIN_WORDS`` words gets no genre (``too_short_for_genre``): cut short, the
training articles' genres are called no better than chance and mostly satire, while their frames hold
up (slant.training.short_text_study) — down to ``FRAMES_MIN_WORDS`` words; a shorter text gets no frames
either (``too_short_for_frames``).
"""

from __future__ import annotations

import re

import numpy as np

from .errors import ModelError
from .heads import calibrated, pool, sigmoid
from .lexical import LexicalHead
from .style import NAMES as STYLE_NAMES
from .style import style_features

__all__ = ["FEATURES", "FRAMES_MIN_WORDS", "GENRE_MIN_WORDS", "ArticleHeads", "article_features", "article_pool", "softmax",
           "temper", "too_short_for_frames", "too_short_for_genre", "word_count"]

FEATURES = ("states_mean", "states_max", "techniques_mean", "techniques_max")
PARTS = {"genre": ("encoder", "lexical", "style"), "frames": ("encoder", "lexical")}

# The 433 English train articles with genre and frames cut after their first N words, heads fitted on the other
# folds' full articles (python -m slant.training.short_text_study, shipped model; 10 of them satire): the genre
# called is right for 0.61 of the titles alone (146 called satire), 0.74 at 25 words (71 satire), 0.78 at 50 and
# 75 (54, 40), 0.84 at 100 (13), 0.88 from 150 on and in full (0): the rule sits where the satire calls stop
# flooding.  Frames hold up (micro-F1 0.60 on titles alone, 0.66 at 100 words, 0.71 in full), so they stay —
# down to 10 words: cut after 1, 3, 5, 6, 8 and 10 words, frames micro-F1 is 0.41, 0.50, 0.54, 0.56, 0.57 and
# 0.59, where naming the 5 commonest frames for every article, without reading it, scores 0.56; and the frames
# reported of a 1-word text are right 0.38 of the time at a mean score of 0.58.  From 10 words the model adds
# to that guess, and its frame scores are calibrated (the short-text map is fitted on cuts of 10 words and more).
GENRE_MIN_WORDS = 100
FRAMES_MIN_WORDS = 10
WORD = re.compile(r"\w+")


def word_count(text: str) -> int:
    """Words of ``text`` (runs of letters, digits and underscores), title included.

    >>> word_count("Brussels bans coffee! It's 2026.")
    6
    """
    return len(WORD.findall(text))


def too_short_for_genre(text: str) -> bool:
    return word_count(text) < GENRE_MIN_WORDS


def too_short_for_frames(text: str) -> bool:
    return word_count(text) < FRAMES_MIN_WORDS


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def temper(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities raised to 1/temperature and renormalised (the argmax stays).

    >>> temper(np.array([0.6, 0.3, 0.1]), 0.5).round(3).tolist()
    [0.783, 0.196, 0.022]
    """
    logits = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    return softmax(logits)


def article_pool(states: np.ndarray) -> np.ndarray:
    """[2H]: the mean and the max of an article's piece states [n, H] (zeros for none): what the article
    heads read of them. The runtime pools them chunk by chunk as the encoder's windows come
    (``heads.RangePools``), to the same numbers, without holding every piece's states.

    >>> article_pool(np.array([[1., 0.], [3., 2.]]))
    array([2., 1., 3., 2.], dtype=float32)
    """
    return pool(states, [(0, len(states))])[0]


def article_features(states_pool: np.ndarray, paragraph_probs: np.ndarray, names) -> np.ndarray:
    """One vector per article: the named poolings concatenated (zeros where there is nothing to pool);
    ``states_pool`` is ``article_pool`` of its piece states.

    >>> article_features(article_pool(np.array([[1., 0.], [3., 2.]])), np.array([[0.5], [0.1]]),
    ...                  ["states_mean", "states_max", "techniques_max"])
    array([2. , 1. , 3. , 2. , 0.5], dtype=float32)
    """
    width = len(states_pool) // 2
    parts = []
    for name in names:
        source, how = name.rsplit("_", 1)
        if source == "states":
            parts.append(states_pool[:width] if how == "mean" else states_pool[width:])
        elif not len(paragraph_probs):
            parts.append(np.zeros(paragraph_probs.shape[1], dtype=np.float32))
        else:
            parts.append(paragraph_probs.mean(0) if how == "mean" else paragraph_probs.max(0))
    return np.concatenate(parts).astype(np.float32)


class ArticleHeads:
    """Genre and frame heads read from ``article.npz`` and the manifest's ``article`` section."""

    def __init__(self, arrays: dict[str, np.ndarray], section: dict):
        self.genres = list(section["genres"])
        self.frames = list(section["frames"])
        self.features = list(section["features"])
        self.ensemble = {task: list(parts) for task, parts in section["ensemble"].items()}
        self.frame_thresholds = np.asarray(section["frame_thresholds"], dtype=np.float32)
        self.genre_temperature = float(section.get("genre_temperature", 1.0))
        c = section.get("frame_calibration")   # None: a model exported before it reports raw frame scores
        self.frame_calibration = None if c is None else (np.asarray(c["slope"]), np.asarray(c["intercept"]))
        short = (c or {}).get("short")   # the map for texts under short["under_words"] words, where fitted
        self.short_frame_calibration = None if short is None else (np.asarray(short["slope"]),
                                                                   np.asarray(short["intercept"]))
        self.short_text_words = 0 if short is None else int(short["under_words"])
        self.w, self.b = arrays["encoder_w"].astype(np.float32), arrays["encoder_b"].astype(np.float32)
        self.lexical = LexicalHead.from_arrays({k[len("lexical_"):]: v for k, v in arrays.items()
                                                if k.startswith("lexical_")})
        self.style_w, self.style_b = arrays.get("style_w"), arrays.get("style_b")
        if self.style_w is None and "style" in self.ensemble.get("genre", []):
            raise ModelError("article.npz: the genre ensemble names the style part, which it does not hold")
        self.used_parts = {name for names in self.ensemble.values() for name in names}
        if self.style_w is not None and self.style_w.shape[0] != len(STYLE_NAMES):
            raise ModelError(f"article.npz: its style part reads {self.style_w.shape[0]} style features, this version "
                             f"of slant computes {len(STYLE_NAMES)} (refit it: slant train --article-heads-on)")

    def parts(self, text: str, states_pool: np.ndarray, paragraph_probs: np.ndarray, names=None) -> dict[str, dict]:
        """{part: {task: probabilities}} for one article: genre [3] and frames [14] per part that has them
        (only the parts in ``names`` when given); ``states_pool``: ``article_pool`` of its piece states."""
        return self.score(article_features(states_pool, paragraph_probs, self.features), text, names)

    def score(self, features: np.ndarray, text: str, names=None) -> dict[str, dict]:
        """``parts`` from the article's pooled features (training measures through this too)."""
        g = len(self.genres)
        wanted = lambda name: names is None or name in names  # noqa: E731
        out = {}
        if wanted("encoder"):
            enc = features @ self.w + self.b
            out["encoder"] = {"genre": softmax(enc[:g]), "frames": sigmoid(enc[g:])}
        if wanted("lexical"):
            lex = self.lexical.logits([text])[0]
            out["lexical"] = {"genre": softmax(lex[:g]), "frames": sigmoid(lex[g:])}
        if self.style_w is not None and wanted("style"):
            out["style"] = {"genre": softmax(style_features(text) @ self.style_w + self.style_b)}
        return out

    def frame_scores(self, frames: np.ndarray, text: str) -> np.ndarray:
        """The frame scores to report for ``text``: calibrated (the chance that the article uses the frame, Platt
        scaling fitted out of fold; monotone, so the thresholds still compare the raw scores) when the model has
        a ``frame_calibration`` — by its ``short`` map for a text under that map's ``under_words`` words (cut
        short, the full-length map overstated how often the frames reported are right)."""
        if self.short_frame_calibration is not None and word_count(text) < self.short_text_words:
            return calibrated(frames, *self.short_frame_calibration)
        return frames if self.frame_calibration is None else calibrated(frames, *self.frame_calibration)

    def probabilities(self, text: str, states_pool: np.ndarray, paragraph_probs: np.ndarray):
        """(genre probabilities [3], frame probabilities [14]): per task, the mean of its ensemble's parts
        (a part no task names is not computed), genre tempered by ``genre_temperature``."""
        parts = self.parts(text, states_pool, paragraph_probs, self.used_parts)
        genre, frames = (np.mean([parts[n][task] for n in self.ensemble[task]], axis=0) for task in ("genre", "frames"))
        return temper(genre, self.genre_temperature), frames
