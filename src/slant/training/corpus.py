"""The English SemEval-2023 subtask-3 training articles, labelled, with folds by article.

Folds keep near-duplicate articles together (word 5-gram Jaccard >= 0.5), so a
copy of an article never sits on both sides of a split.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

from ..document import Document
from ..errors import InputError
from ..formats import read_articles, semeval

__all__ = ["Corpus", "load_english", "near_duplicate_groups", "assign_folds"]


@dataclass
class Corpus:
    documents: list[Document]
    data_hash: str
    sources: list[str]


def _hash_files(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def load_english(data_root: str | Path) -> Corpus:
    """Subtask-3 English train articles with paragraph labels and spans attached."""
    base = Path(data_root) / "semeval2023" / "en"
    labels, spans = base / "train-labels-subtask-3.txt", base / "train-labels-subtask-3-spans.txt"
    for p in (labels, spans, base / "train-articles"):
        if not p.exists():
            raise InputError(f"{p}: not found; --data must point at the shared data folder")
    rows = semeval.read_subtask3(labels)
    ids = {r.article_id for r in rows}
    docs = {d.id: d for d in read_articles(base / "train-articles", "en") if d.id in ids}
    semeval.attach(docs, rows, labels)
    semeval.attach(docs, semeval.read_spans(spans), spans)
    for d in docs.values():
        if d.techniques is None:
            d.techniques = {}
    files = [labels, spans] + [base / "train-articles" / f"article{i}.txt" for i in docs]
    ordered = [docs[i] for i in sorted(docs, key=int)]
    return Corpus(ordered, _hash_files(files), [str(labels), str(spans)])


def _shingles(text: str, n: int = 5) -> set:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


def near_duplicate_groups(docs: list[Document], threshold: float = 0.5) -> list[int]:
    """A group number per document; documents whose shingle Jaccard >= threshold share one."""
    sets = [_shingles(d.text) for d in docs]
    parent = list(range(len(docs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(docs)):
        for j in range(i + 1, len(docs)):
            a, b = sets[i], sets[j]
            if min(len(a), len(b)) / max(len(a), len(b), 1) < threshold:
                continue
            if len(a & b) / len(a | b) >= threshold:
                parent[find(i)] = find(j)
    return [find(i) for i in range(len(docs))]


def assign_folds(docs: list[Document], k: int, seed: int) -> list[int]:
    """Fold number (0..k-1) per document: near-duplicates together, groups shuffled with ``seed``."""
    groups = near_duplicate_groups(docs)
    unique = sorted(set(groups))
    random.Random(seed).shuffle(unique)
    fold_of_group = {g: i % k for i, g in enumerate(unique)}
    return [fold_of_group[g] for g in groups]
