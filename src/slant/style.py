"""How an article is written, as a few numbers: the features of the genre head's style part.

Reporting quotes and attributes ("said", "according to"), carries numbers and
datelines; opinion and satire speak in the first and second person, ask and
exclaim.  These are counted per 1,000 characters or words of the body (every
non-empty line after the title, joined) and per sentence, plus the title's shape.

Nothing here depends on how the body is broken into lines: sources differ in that
(one sentence per line, blank lines between paragraphs, ...) whatever the genre, and
paragraph counts and lengths once made the genre head call 109 of the 446 training
articles satire when each sentence was put on a line of its own (docs/model-history.md).
Numpy only; the names below are the columns, in order.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .segment import line_end

__all__ = ["ENGLISH", "NAMES", "Lexicon", "style_features"]


class Lexicon:
    """The few words the features count: first person, second person, attribution (lower case)."""

    def __init__(self, first: str, second: str, attribution: str):
        self.first, self.second, self.attribution = (frozenset(x.split()) for x in (first, second, attribution))


ENGLISH = Lexicon("i me my mine myself we us our ours ourselves", "you your yours yourself yourselves",
                  "said says told according reported stated announced added noted explained confirmed")
QUOTES = "\"“”«»„‘’'"
_WORD = re.compile(r"\w+(?:'\w+)?")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_LINK = re.compile(r"https?://|www\.|@\w")

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")

NAMES = ("log_chars", "quotes_per_1k_chars", "sentences_with_quote", "sentences_opening_with_quote",
         "digits_per_1k_chars", "questions_per_1k_chars", "exclamations_per_1k_chars", "first_person_per_1k_words",
         "second_person_per_1k_words", "attribution_per_1k_words", "all_caps_words", "mean_word_chars",
         "parentheses_per_1k_chars", "links_per_1k_chars", "title_question", "title_exclamation", "title_colon",
         "log_title_words", "log_words_per_sentence", "title_quote", "log_first_sentence_chars",
         "colons_per_1k_chars")


def style_features(text: str, lexicon: Lexicon = ENGLISH) -> np.ndarray:
    """The ``NAMES`` columns for one article (title = first non-empty line).

    >>> f = style_features('Why?\\n\\nWe said "no" to you!')
    >>> [round(float(x), 3) for x in f[[NAMES.index("title_question"), NAMES.index("first_person_per_1k_words")]]]
    [1.0, 200.0]
    """
    lines = [line.strip() for line in text.split(line_end(text)) if line.strip()]
    title = lines[0] if lines else ""
    body = " ".join(lines[1:])
    per_char = 1000 / max(len(body), 1)
    raw_words = _WORD.findall(body)
    words = [w.lower() for w in raw_words]
    per_word = 1000 / max(len(words), 1)
    sentences = [x for x in _SENTENCE_SPLIT.split(body) if x] or [""]
    return np.array([
        math.log(max(len(body), 1)),
        sum(body.count(q) for q in QUOTES) * per_char,
        np.mean([any(q in x for q in QUOTES) for x in sentences]),
        np.mean([x[:1] in QUOTES for x in sentences]),
        sum(c.isdigit() for c in body) * per_char,
        body.count("?") * per_char,
        body.count("!") * per_char,
        sum(w in lexicon.first for w in words) * per_word,
        sum(w in lexicon.second for w in words) * per_word,
        sum(w in lexicon.attribution for w in words) * per_word,
        np.mean([w.isupper() and len(w) > 1 for w in raw_words]) if raw_words else 0.0,
        np.mean([len(w) for w in words]) if words else 0.0,
        body.count("(") * per_char,
        len(_LINK.findall(body)) * per_char,
        "?" in title,
        "!" in title,
        ":" in title,
        math.log(len(title.split()) + 1),
        math.log(len(words) / max(len(_SENTENCE_END.findall(body)), 1) + 1),
        any(q in title for q in QUOTES),
        math.log(len(sentences[0]) + 1),
        body.count(":") * per_char,
    ], dtype=np.float64).astype(np.float32)
