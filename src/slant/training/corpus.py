"""The English SemEval-2023 training articles, labelled, with folds by article.

Every article of the subtask-3 files comes with its paragraph labels and spans,
and with its genre (subtask 1) and frames (subtask 2) where those files list it.

Folds keep near-duplicate articles together (word 5-gram Jaccard >= 0.5), so a
copy of an article never sits on both sides of a split.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..document import Document
from ..errors import InputError
from ..formats import read_articles, semeval

__all__ = ["Corpus", "load_english", "near_duplicate_groups", "assign_folds"]


@dataclass
class Corpus:
    documents: list[Document]   # the subtask-3 articles (techniques and spans; genre and frames where known)
    data_hash: str
    sources: list[str]
    article_only: list[Document] = field(default_factory=list)  # genre and frames only, not in subtask 3

    def article_folds(self, k: int, seed: int) -> dict[str, int]:
        """Fold per article id as `slant train` assigns them to the article heads: the subtask-3 articles'
        folds, and the genre-and-frames-only articles in folds of their own."""
        return dict(zip((d.id for d in self.documents + self.article_only),
                        assign_folds(self.documents, k, seed) + assign_folds(self.article_only, k, seed)))


def _hash_files(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def load_english(data_root: str | Path) -> Corpus:
    """Subtask-3 English train articles with paragraph labels, spans, genre and frames attached."""
    base = Path(data_root) / "semeval2023" / "en"
    labels, spans = base / "train-labels-subtask-3.txt", base / "train-labels-subtask-3-spans.txt"
    genres, frames = base / "train-labels-subtask-1.txt", base / "train-labels-subtask-2.txt"
    for p in (labels, spans, genres, frames, base / "train-articles"):
        if not p.exists():
            raise InputError(f"{p}: not found; --data must point at the shared data folder")
    rows = semeval.read_subtask3(labels)
    ids = {r.article_id for r in rows}
    genre_rows, frame_rows = semeval.read_subtask1(genres), semeval.read_subtask2(frames)
    wanted = ids | {r.article_id for r in genre_rows}
    docs = {d.id: d for d in read_articles(base / "train-articles", "en") if d.id in wanted}
    semeval.attach(docs, rows, labels)
    semeval.attach(docs, semeval.read_spans(spans), spans)
    semeval.attach(docs, genre_rows, genres)
    semeval.attach(docs, [r for r in frame_rows if r.article_id in docs], frames)
    for i in ids:
        if docs[i].techniques is None:
            docs[i].techniques = {}
    files = [labels, spans, genres, frames] + [base / "train-articles" / f"article{i}.txt" for i in docs]
    ordered = sorted(docs, key=int)
    return Corpus([docs[i] for i in ordered if i in ids], _hash_files(files),
                  [str(p) for p in (labels, spans, genres, frames)],
                  [docs[i] for i in ordered if i not in ids and docs[i].frames is not None])


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
