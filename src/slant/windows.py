"""Tokens with exact character offsets, and the windows the encoder reads.

Shared by training and the runtime, so both cut articles the same way.  Needs
only ``tokenizers`` and ``numpy``.  Offsets are code-point indices into the
text as given (U+FEFF and multibyte characters included), checked by tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Tokens", "load_tokenizer", "tokenize", "window_bounds", "encoder_inputs"]


@dataclass(frozen=True)
class Tokens:
    """Word pieces of a text: ids and ``[start, end)`` character offsets, one row per piece."""

    ids: np.ndarray      # int64 [n]
    offsets: np.ndarray  # int64 [n, 2]

    def __len__(self) -> int:
        return len(self.ids)


def load_tokenizer(path: str | Path):
    """A ``tokenizers.Tokenizer`` from tokenizer.json, with truncation and padding off."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


def tokenize(tokenizer, text: str) -> Tokens:
    """Word pieces of ``text`` without special tokens; offsets index ``text`` itself."""
    enc = tokenizer.encode(text, add_special_tokens=False)
    ids = np.asarray(enc.ids, dtype=np.int64)
    offsets = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
    return Tokens(ids, offsets)


def window_bounds(n_tokens: int, size: int, stride: int) -> list[tuple[int, int]]:
    """Token ranges ``[a, b)`` of at most ``size`` tokens, starting every ``stride`` tokens, covering all.

    >>> window_bounds(10, 4, 3)
    [(0, 4), (3, 7), (6, 10)]
    >>> window_bounds(0, 4, 3), window_bounds(3, 4, 3)
    ([(0, 0)], [(0, 3)])
    """
    if not 0 < stride <= size:
        raise ValueError("need 0 < stride <= size")
    bounds, a = [], 0
    while True:
        b = min(a + size, n_tokens)
        bounds.append((a, b))
        if b >= n_tokens:
            return bounds
        a += stride


def encoder_inputs(tokens: Tokens, bounds: list[tuple[int, int]], cls_id: int, sep_id: int,
                   pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """``input_ids`` and ``attention_mask`` [windows, longest + 2]: ``[CLS] pieces [SEP]`` padded.

    Piece ``i`` of window ``(a, b)`` sits at position ``1 + i - a``.
    """
    width = max(b - a for a, b in bounds) + 2
    ids = np.full((len(bounds), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(bounds), width), dtype=np.int64)
    for w, (a, b) in enumerate(bounds):
        n = b - a
        ids[w, 0] = cls_id
        ids[w, 1:n + 1] = tokens.ids[a:b]
        ids[w, n + 1] = sep_id
        mask[w, :n + 2] = 1
    return ids, mask
