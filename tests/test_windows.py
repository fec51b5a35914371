"""Word pieces, windows and the math after the encoder, on hand-built cases."""

import numpy as np
import pytest

from slant.heads import decode_spans, merge_windows, paragraph_ranges, pool
from slant.windows import Tokens, encoder_inputs, load_tokenizer, tokenize, window_bounds


@pytest.fixture(scope="module")
def tokenizer():
    from slant.models import default_path
    path = default_path() / "tokenizer.json"
    if not path.exists():
        from slant.training.model import minilm_dir
        path = minilm_dir() / "tokenizer.json"
    return load_tokenizer(path)


@pytest.mark.parametrize("text,pieces", [
    ("\ufeffWar on sense", [("War", 1), ("on", 5), ("sense", 8)]),          # BOM counts, offsets stay exact
    ("café 🛑 naïve", [("café", 0), ("🛑", 5), ("naïve", 7)]),              # code points, not bytes
    ("a\n\nb", [("a", 0), ("b", 3)]),
])
def test_offsets_index_the_text_itself(tokenizer, text, pieces):
    t = tokenize(tokenizer, text)
    got = [(text[s:e], s) for s, e in t.offsets.tolist()]
    assert got == pieces


def test_long_text_is_not_truncated(tokenizer):
    text = " ".join(["word"] * 1000)
    t = tokenize(tokenizer, text)
    assert len(t) == 1000 and t.offsets[-1].tolist() == [len(text) - 4, len(text)]


@pytest.mark.parametrize("n,size,stride", [(0, 8, 5), (1, 8, 5), (8, 8, 5), (9, 8, 5), (100, 8, 5), (100, 8, 8)])
def test_windows_cover_every_piece(n, size, stride):
    bounds = window_bounds(n, size, stride)
    covered = set()
    for a, b in bounds:
        assert 0 <= a <= b <= n and b - a <= size
        covered.update(range(a, b))
    assert covered == set(range(n)) and bounds[-1][1] == n


def test_pieces_are_mapped_back_exactly_through_overlapping_windows():
    """A fake encoder whose state for a piece is the piece's own index: merging must give each index back."""
    n = 23
    t = Tokens(np.arange(n) + 100, np.array([[3 * i, 3 * i + 2] for i in range(n)]))
    bounds = window_bounds(n, 8, 5)
    ids, mask = encoder_inputs(t, bounds, cls_id=1, sep_id=2, pad_id=0)
    hidden = np.zeros((len(bounds), ids.shape[1], 1), dtype=np.float32)
    for w, (a, b) in enumerate(bounds):
        assert ids[w, 0] == 1 and ids[w, b - a + 1] == 2 and mask[w].sum() == b - a + 2
        assert ids[w, 1:b - a + 1].tolist() == list(range(100 + a, 100 + b))
        hidden[w, 1:b - a + 1, 0] = np.arange(a, b)
        hidden[w, 0, 0] = hidden[w, b - a + 1:, 0] = 999      # specials and padding must not leak in
    assert merge_windows(hidden, bounds, n)[:, 0].tolist() == list(range(n))


def test_overlaps_are_averaged():
    hidden = np.array([[[0.0], [1.0], [1.0], [0.0]], [[0.0], [3.0], [3.0], [0.0]]], dtype=np.float32)
    assert merge_windows(hidden, [(0, 2), (1, 3)], 3)[:, 0].tolist() == [1.0, 2.0, 3.0]


def test_windows_merge_as_they_come():
    """The runtime hands merge_windows a generator of windows of their own lengths (one encoder run each):
    the same states as from one padded array, each window read once; a window too many or too few is an
    error, not a silent truncation."""
    bounds = window_bounds(9, 4, 3)
    rng = np.random.default_rng(3)
    padded = rng.normal(size=(len(bounds), 6, 2)).astype(np.float32)
    read = []

    def one_at_a_time():
        for w, (a, b) in enumerate(bounds):
            read.append(w)
            yield padded[w, :b - a + 2].copy()
    np.testing.assert_array_equal(merge_windows(one_at_a_time(), bounds, 9), merge_windows(padded, bounds, 9))
    assert read == list(range(len(bounds)))
    with pytest.raises(ValueError):
        merge_windows(padded[:-1], bounds, 9)


def test_paragraph_pooling_over_a_long_document(tokenizer):
    paragraphs = [" ".join([f"w{p}"] * (60 + 7 * p)) for p in range(6)]
    text = "\n\n".join(paragraphs)
    t = tokenize(tokenizer, text)
    spans, start = [], 0
    for p in paragraphs:
        spans.append((start, start + len(p)))
        start += len(p) + 2
    ranges = paragraph_ranges(t, spans)
    assert [b - a for a, b in ranges] == [len(tokenize(tokenizer, p)) for p in paragraphs]
    assert ranges[0][0] == 0 and ranges[-1][1] == len(t)
    assert all(b == a2 for (_, b), (a2, _) in zip(ranges, ranges[1:]))   # contiguous, no piece lost
    states = np.arange(len(t), dtype=np.float32)[:, None]
    pooled = pool(states, ranges)
    for (a, b), row in zip(ranges, pooled):
        assert row.tolist() == [pytest.approx((a + b - 1) / 2), b - 1]
    # fed in chunks that cut across paragraphs (as the runtime feeds the windows' states): the same numbers
    from slant.heads import RangePools
    for size in (1, 7, 50, len(t)):
        chunked = RangePools(ranges, 1)
        for start in range(0, len(t), size):
            chunked.add(start, states[start:start + size])
        np.testing.assert_array_equal(chunked.result(), pooled)


def test_spans_widen_to_whole_words(tokenizer):
    text = "An unbelievably shameful betrayal."
    t = tokenize(tokenizer, text)
    probs = np.zeros((len(t), 1))
    inside = [i for i, (s, e) in enumerate(t.offsets.tolist()) if text[s:e] in ("##ful", "shame", "ful")]
    probs[inside, 0] = 0.9
    spans = decode_spans(text, t, probs, np.array([0.5]), ["Loaded_Language"])
    assert [(text[s:e], label) for s, e, label, _ in spans] == [("shameful", "Loaded_Language")]


def test_span_edges_keep_joined_words_whole_and_drop_edge_words(tokenizer):
    """Pieces hot on "hatred of the" and on "’t believe it": the span is the whole hyphenated word without the
    trailing function words, and the whole contraction (it was "hatred of the" and "’t believe it")."""
    text = "They call it self-hatred of the people. Don’t believe it."
    t = tokenize(tokenizer, text)
    probs = np.zeros((len(t), 1))
    for lo, hi in ((text.index("hatred"), text.index(" people")), (text.index("’t"), len(text) - 1)):
        probs[[i for i, (s, e) in enumerate(t.offsets.tolist()) if s >= lo and e <= hi], 0] = 0.9
    spans = decode_spans(text, t, probs, np.array([0.5]), ["Loaded_Language"], max_gap=0)
    assert [text[s:e] for s, e, _, _ in spans] == ["self-hatred", "Don’t believe it"]


def test_a_span_of_nothing_but_the_or_punctuation_is_not_shown(tokenizer):
    """A run on "the", "of" or "!" alone says nothing of why (in sample such spans were right 1 time in 49): it is
    left out; where it was a labelled paragraph's only evidence, the evidence widens to a word that says something."""
    from slant.heads import evidence_spans, hollow

    assert hollow("the") and hollow("!") and hollow("\u201d") and hollow("of the") and hollow("")
    assert not hollow("our") and not hollow("the elite") and not hollow("Shameful!")
    text = "Shameful!\n!\nThey betray the people."
    t = tokenize(tokenizer, text)
    assert [text[s:e] for s, e in t.offsets.tolist()] == ["Shame", "ful", "!", "!", "They", "betray", "the", "people",
                                                          "."]
    lines = [(0, 3), (3, 4), (4, 9)]
    probs = np.full((len(t), 1), 0.05)
    probs[3, 0] = probs[6, 0] = 0.9     # the lone "!" line, and "the"
    probs[5, 0] = 0.4                   # "betray": under the threshold, the likelier neighbour of "the"
    assert decode_spans(text, t, probs, np.array([0.5]), ["Loaded_Language"], max_gap=0) == []
    spans = evidence_spans(text, t, probs, np.array([0.5]), ["Loaded_Language"], lines, [[], [0], [0]], max_gap=0)
    # the "!" line has no other word: its evidence stays what it is; "the" widens to the word beside it
    assert [(text[s:e], score) for s, e, _, score in spans] == [("!", 0.9), ("betray", 0.65)]


def test_article_pooling_over_a_long_document():
    """An article longer than three windows: article features pool the merged piece states of every
    window, so each piece counts once, whatever window it came from."""
    from slant.article_heads import article_features, article_pool
    from slant.heads import RangePools, merged_chunks
    n, size, stride = 700, 254, 200
    bounds = window_bounds(n, size, stride)
    assert len(bounds) >= 3
    hidden = np.zeros((len(bounds), size + 2, 2), dtype=np.float32)
    for w, (a, b) in enumerate(bounds):       # a fake encoder: piece i's state is (i, -i) in every window
        hidden[w, 1:1 + b - a, 0] = np.arange(a, b)
        hidden[w, 1:1 + b - a, 1] = -np.arange(a, b)
    states = merge_windows(hidden, bounds, n)
    probs = np.array([[0.1, 0.9], [0.3, 0.2]], dtype=np.float32)
    x = article_features(article_pool(states), probs, ["states_mean", "states_max", "techniques_mean", "techniques_max"])
    assert x.tolist() == pytest.approx([(n - 1) / 2, -(n - 1) / 2, n - 1, 0.0, 0.2, 0.55, 0.3, 0.9])
    # the runtime pools the windows' chunks as they come, without every piece's states: the same numbers
    streamed = RangePools([(0, n)], 2)
    for start, chunk in merged_chunks(iter(hidden), bounds, n):
        assert len(chunk) <= size
        streamed.add(start, chunk)
    np.testing.assert_array_equal(streamed.result()[0], article_pool(states))
    nothing = article_pool(np.zeros((0, 2), dtype=np.float32))
    assert article_features(nothing, np.zeros((0, 2)), ["states_max", "techniques_mean"]).tolist() == [0] * 4


def test_runs_of_one_technique_merge_across_a_short_gap():
    """Two sure runs of a technique with up to SPAN_MERGE_GAP unsure pieces between them are one span (the
    annotators' phrase); further apart they stay two; another technique's pieces never join them."""
    from slant.heads import SPAN_MERGE_GAP
    words = [f"w{i}" for i in range(40)]
    text = " ".join(words)
    starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
    t = Tokens(np.arange(40), np.stack([starts, starts + [len(w) for w in words]], axis=1))
    for gap, expected in ((SPAN_MERGE_GAP, 1), (SPAN_MERGE_GAP + 1, 2)):
        probs = np.zeros((40, 2))
        probs[[0, 1, 2 + gap], 0] = 0.9
        probs[5, 1] = 0.9
        spans = decode_spans(text, t, probs, np.array([0.5, 0.5]), ["X", "Y"])
        xs = [text[s:e] for s, e, label, _ in spans if label == "X"]
        assert len(xs) == expected, (gap, xs)
        assert xs[0].startswith("w0 w1") and xs[-1].endswith(f"w{2 + gap}")
        assert [text[s:e] for s, e, label, _ in spans if label == "Y"] == ["w5"]
