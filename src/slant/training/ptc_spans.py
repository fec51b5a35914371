"""The PTC-2020 spans of the English train articles, moved onto the SemEval-2023 texts.

The 446 English SemEval-2023 train articles are PTC-2020 articles re-annotated;
PTC's 371 train articles carry a second, older annotation (14 classes) of the
same texts.  PTC text has one sentence per line and small edits, so offsets are
moved through a word alignment: a span boundary inside a word that both texts
share moves with that word; a span whose ends land in words the texts do not
share is dropped, as is one whose moved text differs from the PTC text (spaces
aside).

Classes map to the 23 techniques through the taxonomy.  A class that covers
several techniques (``Whataboutism,Straw_Men,Red_Herring``,
``Bandwagon,Reductio_ad_hitlerum``) is resolved by the SemEval spans of those
techniques that overlap the moved span; where none does, the span is dropped
rather than guessed.

The spans join the article they belong to, so they follow its fold: nothing
crosses from training folds to held-out ones.

The other way, ``on_ptc_text`` gives an article as PTC prints it — one sentence per
line, the format of the SemEval-2023 English dev articles (the PTC-2020 test
articles, not rejoined into paragraphs) — with its SemEval spans moved onto that
text, so that held-out articles can be scored in the dev format.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .. import taxonomy
from ..document import Document
from ..formats import ptc
from ..formats.tsv import read_text

__all__ = ["MovedSpan", "align_offsets", "ptc_spans", "on_ptc_text"]

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class MovedSpan:
    start: int
    end: int
    technique: str


def align_offsets(source: str, target: str) -> dict[int, int]:
    """Map every character offset of ``source`` that lies in (or just after) a word shared with
    ``target`` to the corresponding offset of ``target``."""
    a = [(m.group(), m.start()) for m in _WORD.finditer(source)]
    b = [(m.group(), m.start()) for m in _WORD.finditer(target)]
    matcher = difflib.SequenceMatcher(None, [w for w, _ in a], [w for w, _ in b], autojunk=False)
    out: dict[int, int] = {}
    for i, j, n in matcher.get_matching_blocks():
        for k in range(n):
            word, sa = a[i + k]
            sb = b[j + k][1]
            for c in range(len(word) + 1):
                out[sa + c] = sb + c
    return out


def _squash(text: str) -> str:
    return " ".join(text.split())


def ptc_spans(data_root: str | Path, docs: list[Document]) -> tuple[dict[str, list[MovedSpan]], dict]:
    """PTC train spans moved onto ``docs`` (by article id), and a record of what happened to them
    (counts, and the sha256 of the PTC files read)."""
    base = Path(data_root) / "ptc2020"
    labels = base / "train-task2-TC.labels"
    rows = ptc.read_tc(labels)
    digest = hashlib.sha256(labels.read_bytes())
    by_id: dict[str, list] = {}
    for r in rows:
        by_id.setdefault(r.article_id, []).append(r)
    counts: Counter = Counter()
    out: dict[str, list[MovedSpan]] = {}
    for doc in docs:
        spans = by_id.get(doc.id)
        if not spans:
            continue
        path = base / "train-articles" / f"article{doc.id}.txt"
        source = read_text(path)
        digest.update(path.name.encode() + source.encode("utf-8"))  # the file's bytes: it decoded as UTF-8
        offsets = align_offsets(source, doc.text)
        moved: set[MovedSpan] = set()
        for cls, start, end in sorted({(r.technique, r.start, r.end) for r in spans}):  # one row is doubled
            counts["ptc spans"] += 1
            # PTC spans are trimmed, so both ends sit on word characters: start at a word's start or
            # inside it, end at a word's end or inside it.
            if start not in offsets or end not in offsets:
                counts["dropped: end in unshared text"] += 1
                continue
            s, e = offsets[start], offsets[end]
            if e <= s or _squash(doc.text[s:e]) != _squash(source[start:end]):
                counts["dropped: text differs"] += 1
                continue
            techniques = taxonomy.ptc_to_techniques(cls)
            if len(techniques) > 1:
                techniques = tuple({x.technique for x in doc.spans
                                    if x.technique in techniques and x.start < e and x.end > s})
                if not techniques:
                    counts["dropped: class covers several techniques, none marked there"] += 1
                    continue
            for t in techniques:
                moved.add(MovedSpan(s, e, t))
            counts["moved"] += 1
            if any(x.technique in techniques and x.start < e and x.end > s for x in doc.spans):
                counts["moved, overlapping a SemEval span of the same technique"] += 1
            if any(x.technique in techniques and (x.start, x.end) == (s, e) for x in doc.spans):
                counts["moved, identical to a SemEval span"] += 1
        out[doc.id] = sorted(moved, key=lambda m: (m.start, m.end, m.technique))
    return out, {"sha256": digest.hexdigest(), **dict(sorted(counts.items()))}


def on_ptc_text(data_root: str | Path, doc: Document) -> tuple[str, list[MovedSpan], int] | None:
    """(PTC-2020 text of ``doc``, its SemEval spans moved onto that text, spans that could not be moved),
    or None when PTC has no such article.  A span end inside text the two versions do not share moves to
    the nearest shared character inside the span; a span with no shared character is not moved."""
    for split in ("train-articles", "dev-articles", "test-articles"):
        path = Path(data_root) / "ptc2020" / split / f"article{doc.id}.txt"
        if not path.is_file():
            continue
        text = read_text(path)
        offsets = align_offsets(doc.text, text)
        moved, lost = [], 0
        for s in doc.spans:
            inside = [c for c in range(s.start, s.end + 1) if c in offsets]
            starts, ends = [c for c in inside if c < s.end], [c for c in inside if c > s.start]
            if not starts or not ends or offsets[ends[-1]] <= offsets[starts[0]]:
                lost += 1
                continue
            moved.append(MovedSpan(offsets[starts[0]], offsets[ends[-1]], s.technique))
        return text, moved, lost
    return None
