"""From encoder states to labels: the math after the encoder, in numpy.

The runtime and the training evaluation both go through these functions, so
the figures measured in training are those of the shipped decode path.

* ``merged_chunks`` / ``merge_windows``: one state per word piece, averaged where windows overlap —
  in chunks as the windows come, or as one array.
* ``paragraph_ranges`` / ``RangePools`` / ``pool``: a paragraph is represented by the mean and
  the max of its pieces' states (pieces are contiguous in text order), pooled chunk by chunk or at once.
* ``calibrated``: paragraph technique scores as the chance of being right (Platt scaling per technique).
* ``decode_spans``: runs of pieces whose probability for a technique passes its
  threshold become character spans, widened to whole words (``span_edges``); runs of the same
  technique at most ``SPAN_MERGE_GAP`` pieces apart become one span.
"""

from __future__ import annotations

import re

import numpy as np

from .windows import Tokens

__all__ = ["SPAN_MERGE_GAP", "sigmoid", "logit", "calibrated", "merged_chunks", "merge_windows", "paragraph_ranges",
           "RangePools", "pool", "range_max", "span_edges", "decode_spans", "evidence_spans"]

# Runs of one technique separated by at most this many pieces below its threshold become one span.
# Annotators mark phrases and clauses, while the token head is often sure of only some of their
# words ("our values ... our ... trade"); bridging the gap gives fewer, whole spans.  Held out (fold 0,
# four models, docs/model-history.md "Span decoding"): from 1 to 12 pieces, span-overlap F1 any technique
# +0.017 to +0.025, same technique +0.011 to +0.016, PTC-2020 SI (official scorer) +0.009 to +0.022;
# wider gaps lower the same-technique F1 again.
SPAN_MERGE_GAP = 12


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def calibrated(probs: np.ndarray, slope: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Paragraph technique scores [P, K] as the chance that the paragraph uses the technique:
    ``sigmoid(slope_k * logit(p) + intercept_k)``, fitted on out-of-fold scores (``paragraph_calibration``
    in the manifest).  Every slope is positive, so the map keeps each technique's order and a threshold on
    the raw score decides exactly as before.

    >>> calibrated(np.array([[0.5, 0.9]]), np.array([1.0, 2.0]), np.array([0.0, -1.0])).round(3)
    array([[0.5  , 0.968]])
    """
    return sigmoid(slope * logit(probs) + intercept)


def merged_chunks(hidden, bounds: list[tuple[int, int]], n_tokens: int):
    """Yield ``(start, states [m, H])``: the pieces' final states in text order, chunk by chunk, from
    per-window states (piece i of window (a, b) at 1 + i - a; an array [W, L, H] or any iterable of one
    [L_w, H] array per window, read once in order). A piece's state is the mean over the windows that hold
    it, summed in window order; its chunk is given as soon as no later window holds it (windows start in
    increasing order), so only a window's worth of states is held, however long the text.

    >>> w = np.arange(16, dtype=np.float32).reshape(2, 4, 2)     # windows (0, 2) and (1, 3), CLS and SEP around
    >>> [(s, c.tolist()) for s, c in merged_chunks(w, [(0, 2), (1, 3)], 3)]
    [(0, [[2.0, 3.0]]), (1, [[7.0, 8.0], [12.0, 13.0]])]
    """
    starts = [a for a, _ in bounds[1:]] + [n_tokens]
    sums, counts, first = None, None, 0   # the pending pieces [first, first + len(sums))
    for (a, b), window, done_before in zip(bounds, hidden, starts, strict=True):
        if sums is None:
            sums = np.zeros((0, window.shape[-1]), dtype=np.float32)
            counts = np.zeros((0, 1), dtype=np.float32)
        if b - first > len(sums):
            grow = b - first - len(sums)
            sums = np.concatenate([sums, np.zeros((grow, sums.shape[1]), dtype=np.float32)])
            counts = np.concatenate([counts, np.zeros((grow, 1), dtype=np.float32)])
        sums[a - first:b - first] += window[1:1 + b - a]
        counts[a - first:b - first] += 1
        k = done_before - first
        yield first, sums[:k] / np.maximum(counts[:k], 1)
        sums, counts, first = sums[k:], counts[k:], done_before


def merge_windows(hidden, bounds: list[tuple[int, int]], n_tokens: int) -> np.ndarray:
    """[n_tokens, H]: every piece's state (``merged_chunks``) in one array."""
    states = None
    for start, chunk in merged_chunks(hidden, bounds, n_tokens):
        if states is None:
            states = np.empty((n_tokens, chunk.shape[1]), dtype=np.float32)
        states[start:start + len(chunk)] = chunk
    return states


def paragraph_ranges(tokens: Tokens, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """For each character range, the pieces ``[ts, te)`` that start inside it.

    >>> t = Tokens(np.array([1, 2, 3]), np.array([[0, 3], [5, 8], [10, 12]]))
    >>> paragraph_ranges(t, [(0, 4), (5, 14)])
    [(0, 1), (1, 3)]
    """
    starts = tokens.offsets[:, 0] if len(tokens) else np.zeros(0, dtype=np.int64)
    return [(int(np.searchsorted(starts, s, "left")), int(np.searchsorted(starts, e, "left"))) for s, e in spans]


class RangePools:
    """The mean and max of the states of each range, fed chunk by chunk in text order (``add``) and read
    once (``result``, [P, 2H]; zeros for an empty range). The sums run piece by piece in text order, as
    ``states[a:b].mean(0)`` sums them, so chunks give the same numbers as the whole array at once."""

    def __init__(self, ranges: list[tuple[int, int]], width: int):
        self.ranges, self.width = ranges, width
        self.sums: dict[int, np.ndarray] = {}
        self.maxes: dict[int, np.ndarray] = {}
        self.starts = np.array([a for a, _ in ranges], dtype=np.int64)
        self.ends = np.array([b for _, b in ranges], dtype=np.int64)
        # paragraphs' ranges come in text order: a chunk's ranges are found by bisection, not by a scan of all
        self.ordered = bool(np.all(np.diff(self.starts) >= 0) and np.all(np.diff(self.ends) >= 0))

    def add(self, start: int, chunk: np.ndarray) -> RangePools:
        end = start + len(chunk)
        which = range(int(np.searchsorted(self.ends, start, "right")), int(np.searchsorted(self.starts, end, "left"))) \
            if self.ordered else range(len(self.ranges))
        for i in which:
            a, b = self.ranges[i]
            lo, hi = max(a, start), min(b, end)
            if lo >= hi:
                continue
            rows = chunk[lo - start:hi - start]
            if i in self.sums:
                self.sums[i] = np.add.reduce(np.concatenate([self.sums[i][None], rows]), axis=0)
                self.maxes[i] = np.maximum(self.maxes[i], rows.max(0))
            else:
                self.sums[i], self.maxes[i] = np.add.reduce(rows, axis=0), rows.max(0)
        return self

    def result(self) -> np.ndarray:
        out = np.zeros((len(self.ranges), 2 * self.width), dtype=np.float32)
        for i, total in self.sums.items():
            a, b = self.ranges[i]
            out[i, :self.width] = total / (b - a)
            out[i, self.width:] = self.maxes[i]
        return out


def pool(states: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
    """[P, 2H]: mean and max of the states of each range (zeros for an empty range)."""
    return RangePools(ranges, states.shape[1]).add(0, states).result()


def range_max(probs: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
    """[P, K]: the highest piece probability inside each range (the token head's evidence for a paragraph)."""
    out = np.zeros((len(ranges), probs.shape[1]), dtype=np.float32)
    for i, (a, b) in enumerate(ranges):
        if b > a:
            out[i] = probs[a:b].max(0)
    return out


# A span's edges.  Word pieces end inside words, so a span is widened to whole words, a word's parts joined
# by hyphens and apostrophes included ("self-hatred", "anti-American", "Don't": cut at the joiner, the
# report showed "hatred", "anti", "'t believe it").  Then words that annotators rarely put at an edge are
# taken off it: prepositions, conjunctions and forms of "be" at either end ("The corrupt elite are" ->
# "The corrupt elite"), articles at the end only (gold spans often start with "the"/"a", see
# docs/model-history.md, session 33), punctuation that joins clauses, and a quotation mark whose partner
# is outside the span (or that faces out of it: "” – aka", "grounds of ‘").  Held out (two single-fold
# models, the spans the runtime shows; ad hoc scripts): span-overlap F1 any technique 0.4328 -> 0.4342 and
# 0.4244 -> 0.4261, same technique 0.2468 -> 0.2477 and 0.2690 -> 0.2707; on the same articles as PTC-2020
# prints them 0.4441 -> 0.4453, 0.4275 -> 0.4291.
_JOINERS = "'\u2019\u2010\u2011-"
_WORD = re.compile(r"\w+(?:['\u2019\u2010\u2011-]\w+)*|[^\w\s]")
SPAN_EDGE_WORDS = frozenset("of to and in is are was were that for with by on at or as from , ; : - \u2013 \u2014"
                            .split())
SPAN_END_WORDS = SPAN_EDGE_WORDS | {"the", "a", "an"}
# Quotation marks by the mark that closes each: curly, guillemets, straight (the same both ways).
_CLOSES = {"\u201c": "\u201d", "\u00ab": "\u00bb", "\u2018": "\u2019", '"': '"', "'": "'"}
_OPENS = {close: open_ for open_, close in _CLOSES.items()}


def _in_word(text: str, i: int) -> bool:
    c = text[i]
    return c.isalnum() or (c in _JOINERS and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum())


def span_edges(text: str, start: int, end: int) -> tuple[int, int]:
    """The characters a span of ``text[start:end]`` shows: widened to whole words, then trimmed of
    edge words annotators rarely mark (see the note above); never trimmed to nothing.

    >>> text = "They call it self-hatred of the people, and the corrupt elite are lying."
    >>> [text[slice(*span_edges(text, s, e))] for s, e in [(18, 31), (44, 64), (40, 44)]]
    ['self-hatred', 'the corrupt elite', 'and']
    >>> text = 'He said: \u201cSo many conflicts were stoked by them'
    >>> text[slice(*span_edges(text, 9, len(text)))]
    'So many conflicts were stoked by them'
    """
    while start > 0 and _in_word(text, start - 1) and _in_word(text, start):
        start -= 1
    while end < len(text) and _in_word(text, end) and _in_word(text, end - 1):
        end += 1
    s, e = start, end
    if s < e and (text[s] in _OPENS and text[s] not in _CLOSES            # a closing mark cannot open a span
                  or text[s] in _CLOSES and _CLOSES[text[s]] not in text[s + 1:e]):
        s += 1
    if s < e and (text[e - 1] in _CLOSES and text[e - 1] not in _OPENS    # nor an opening mark end one
                  or text[e - 1] in _OPENS and _OPENS[text[e - 1]] not in text[s:e - 1]):
        e -= 1
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text, s, e)]
    if not words:
        return start, end
    a, b = 0, len(words)
    while a < b - 1 and words[a][2] in SPAN_EDGE_WORDS:
        a += 1
    while b - 1 > a and words[b - 1][2] in SPAN_END_WORDS:
        b -= 1
    return words[a][0], words[b - 1][1]


def hollow(text: str) -> bool:
    """Whether a span's text holds no word that says anything: only punctuation ("!", "”"), or only the
    function words spans are trimmed of ("of", "the", "is"). In sample, on the English training articles,
    the shipped model's spans of that kind overlapped an annotated span of their technique 1 time in 49
    (the model's one-word spans: 23 in 100; longer ones 68 in 100)."""
    return all(m.group().lower() in SPAN_END_WORDS for m in _WORD.finditer(text) if m.group()[0].isalnum())


def decode_spans(text: str, tokens: Tokens, probs: np.ndarray, thresholds: np.ndarray,
                 labels: list[str] | tuple[str, ...],
                 max_gap: int = SPAN_MERGE_GAP, keep_hollow: bool = False) -> list[tuple[int, int, str, float]]:
    """Character spans ``(start, end, label, score)`` from per-piece probabilities [n, K].

    Pieces at or above the label's threshold form runs; runs separated by at
    most ``max_gap`` pieces below it merge; a run becomes the characters from its first
    piece's start to its last piece's end, widened to whole words and trimmed of edge words
    (``span_edges``).  The score is the run's mean probability. A ``hollow`` span (a lone "the",
    "!") is left out unless ``keep_hollow``.

    >>> t = Tokens(np.arange(4), np.array([[0, 3], [4, 7], [8, 9], [10, 13]]))
    >>> p = np.array([[0.9], [0.8], [0.1], [0.7]])
    >>> decode_spans("The big a cat", t, p, np.array([0.5]), ["X"], max_gap=0)
    [(0, 7, 'X', 0.85), (10, 13, 'X', 0.7)]
    >>> decode_spans("The big a cat", t, np.array([[0.1], [0.1], [0.9], [0.1]]), np.array([0.5]), ["X"])
    []
    """
    found = []
    for k, label in enumerate(labels):
        hot = np.flatnonzero(probs[:, k] >= thresholds[k])
        if not len(hot):
            continue
        runs, first, last = [], hot[0], hot[0]
        for i in hot[1:]:
            if i - last <= max_gap + 1:
                last = i
            else:
                runs.append((first, last))
                first = last = i
        runs.append((first, last))
        for a, b in runs:
            start, end = span_edges(text, int(tokens.offsets[a, 0]), int(tokens.offsets[b, 1]))
            if end > start and (keep_hollow or not hollow(text[start:end])):
                found.append((start, end, label, round(float(probs[a:b + 1, k].mean()), 4)))
    return sorted(found, key=lambda s: (s[0], s[1], s[2]))


def _around_peak(text: str, tokens: Tokens, probs: np.ndarray, label: str, most: int = 8):
    """The span around a paragraph's strongest piece for ``label`` (``probs`` [n], the paragraph's): the pieces
    within half of the peak probability, widened toward the likelier neighbour, up to ``most`` pieces, while it
    is ``hollow`` (a lone "the" says nothing of why); hollow only where the paragraph has no other words."""
    peak = int(np.argmax(probs))
    lo = hi = peak
    while lo > 0 and probs[lo - 1] >= probs[peak] / 2:
        lo -= 1
    while hi < len(probs) - 1 and probs[hi + 1] >= probs[peak] / 2:
        hi += 1

    def span(keep_hollow: bool = False):
        return decode_spans(text, Tokens(tokens.ids[lo:hi + 1], tokens.offsets[lo:hi + 1]),
                            probs[lo:hi + 1, None], np.array([0.0]), [label], keep_hollow=keep_hollow)

    while not (found := span()) and hi - lo + 1 < most and (lo > 0 or hi < len(probs) - 1):
        if hi == len(probs) - 1 or (lo > 0 and probs[lo - 1] >= probs[hi + 1]):
            lo -= 1
        else:
            hi += 1
    return found or span(keep_hollow=True)


def evidence_spans(text: str, tokens: Tokens, token_probs: np.ndarray, thresholds: np.ndarray,
                   labels, ranges: list[tuple[int, int]], paragraph_labels: list[list[int]],
                   max_gap: int = SPAN_MERGE_GAP):
    """Spans that back the paragraph labels: ``(start, end, label, score)``.

    A technique's spans are kept only inside paragraphs labelled with it; a
    labelled paragraph with no span of its technique gets the run around its
    strongest piece (pieces within half of the peak probability, widened while it
    holds no word that says anything: "The" becomes "The big"), so every
    paragraph label comes with the words that carry it.

    >>> t = Tokens(np.arange(4), np.array([[0, 3], [4, 7], [9, 12], [13, 16]]))
    >>> p = np.array([[0.9], [0.2], [0.3], [0.1]])
    >>> evidence_spans("The big\\n\\nred cat", t, p, np.array([0.5]), ["X"], [(0, 2), (2, 4)], [[0], [0]])
    [(0, 7, 'X', 0.55), (9, 12, 'X', 0.3)]
    """
    found = []
    for (a, b), hot in zip(ranges, paragraph_labels):
        if b <= a or not hot:
            continue
        local = Tokens(tokens.ids[a:b], tokens.offsets[a:b])
        for k in hot:
            spans = decode_spans(text, local, token_probs[a:b, k:k + 1], thresholds[k:k + 1], [labels[k]],
                                 max_gap)
            if not spans:
                spans = _around_peak(text, local, token_probs[a:b, k], labels[k])
            found.extend(spans)
    return sorted(found, key=lambda s: (s[0], s[1], s[2]))
