"""The one data model: a Document with its text, paragraphs and labels.

Every stage reads and writes Documents.  Character offsets are Python ``str``
indices (Unicode code points) into ``Document.text`` exactly as read, U+FEFF and
all; ends are exclusive, so ``doc.text[span.start:span.end] == span.text``.

Label sets distinguish "not analysed" (``None``) from "analysed, nothing found"
(empty).  Scores are probabilities in [0, 1]; gold labels carry 1.0.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from . import taxonomy
from .errors import LabelError, SpanError
from .segment import Paragraph, paragraphs, title_of

__all__ = ["Document", "Label", "Span", "Paragraph"]


@dataclass(frozen=True)
class Label:
    """A label name with its score (probability that the label applies)."""

    name: str
    score: float = 1.0


@dataclass(frozen=True)
class Span:
    """A technique marked on the text: ``text == document.text[start:end]``."""

    start: int
    end: int
    technique: str
    score: float = 1.0
    text: str = ""


def _check_score(where: str, score: float) -> float:
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score) \
            or not 0.0 <= score <= 1.0:
        raise LabelError(f"{where}: score {score!r} is not a number in [0, 1]")
    return float(score)


def _labels(kind: str, where: str, labels) -> list[Label]:
    out, seen = [], set()
    for label in labels:
        if isinstance(label, str):
            label = Label(label)
        taxonomy.check_labels(kind, [label.name])
        if label.name in seen:
            raise LabelError(f"{where}: {kind} {label.name!r} given twice")
        seen.add(label.name)
        out.append(Label(label.name, _check_score(f"{where}: {label.name}", label.score)))
    return out


@dataclass(eq=False)
class Document:
    """An article and what is known about it.

    Build one with ``Document(id, text)``; set labels through the methods, which
    check names against the taxonomy and offsets against the text.
    """

    id: str
    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    language: str | None = None
    date: str | None = None
    genre: Label | None = None
    frames: list[Label] | None = None
    techniques: dict[int, list[Label]] | None = None
    spans: list[Span] = field(default_factory=list)
    paragraphs: tuple[Paragraph, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id or any(c.isspace() for c in self.id):
            raise ValueError(f"document id must be a non-empty string without spaces, got {self.id!r}")
        if not isinstance(self.text, str):
            raise TypeError(f"document {self.id}: text must be str")
        self.paragraphs = paragraphs(self.text)
        if self.title is None:
            self.title = title_of(self.text)

    # -- paragraphs ---------------------------------------------------------
    # Paragraphs are in text order, so numbers and starts both increase: found by bisection (a linear search
    # per paragraph made a text of 70,000 short lines take a minute, most of it here).
    def paragraph(self, number: int) -> Paragraph:
        """The paragraph with this official number; LabelError if there is none."""
        i = bisect.bisect_left(self.paragraphs, number, key=lambda p: p.number)
        if i < len(self.paragraphs) and self.paragraphs[i].number == number:
            return self.paragraphs[i]
        raise LabelError(f"document {self.id}: no paragraph {number} (paragraphs are non-blank lines)")

    def paragraph_at(self, offset: int) -> Paragraph | None:
        """The paragraph holding character ``offset``, or None when it falls on a blank line."""
        i = bisect.bisect_right(self.paragraphs, offset, key=lambda p: p.start) - 1
        if i >= 0 and self.paragraphs[i].start <= offset < self.paragraphs[i].end:
            return self.paragraphs[i]
        return None

    # -- labels -------------------------------------------------------------
    def set_genre(self, name: str, score: float = 1.0) -> Label:
        taxonomy.check_labels("genre", [name])
        self.genre = Label(name, _check_score(f"document {self.id}: genre", score))
        return self.genre

    def set_frames(self, labels) -> list[Label]:
        """Frames as names or Labels; replaces any earlier set."""
        self.frames = _labels("frame", f"document {self.id}", labels)
        return self.frames

    def set_paragraph_techniques(self, number: int, labels) -> list[Label]:
        """Techniques of paragraph ``number`` as names or Labels; replaces earlier ones."""
        self.paragraph(number)
        found = _labels("technique", f"document {self.id} paragraph {number}", labels)
        if self.techniques is None:
            self.techniques = {}
        if found:
            self.techniques[number] = found
        else:  # only paragraphs with techniques are kept: one form for "none"
            self.techniques.pop(number, None)
        return found

    def paragraph_techniques(self, number: int) -> list[Label]:
        """Techniques of paragraph ``number`` (empty when none or not analysed)."""
        self.paragraph(number)
        return list((self.techniques or {}).get(number, []))

    def add_span(self, start: int, end: int, technique: str, score: float = 1.0) -> Span:
        """Mark ``text[start:end]`` with a technique; SpanError on bad offsets."""
        span = self._checked_span(start, end, technique, score)
        self.spans.append(span)
        return span

    def _checked_span(self, start, end, technique, score, text: str | None = None) -> Span:
        where = f"document {self.id}: span {start}-{end}"
        if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) \
                or not isinstance(end, int):
            raise SpanError(f"{where}: offsets must be integers")
        if not 0 <= start < end <= len(self.text):
            if start >= end:
                raise SpanError(f"{where}: start must be before end")
            raise SpanError(f"{where}: outside text of length {len(self.text)}")
        taxonomy.check_labels("technique", [technique])
        piece = self.text[start:end]
        if text is not None and text != piece:
            raise SpanError(f"{where}: text {text!r} does not match the document's {piece!r}")
        return Span(start, end, technique, _check_score(where, score), piece)

    def techniques_from_spans(self) -> dict[int, list[Label]]:
        """Paragraph techniques implied by the spans: every technique whose span overlaps a line.

        This is the relation the SemEval-2023 organisers used between the
        span file and the paragraph file; scores are the highest span score.
        """
        found: dict[int, dict[str, float]] = {}
        for span in self.spans:
            for p in self.paragraphs:
                if p.start < span.end and span.start < p.end:
                    best = found.setdefault(p.number, {})
                    best[span.technique] = max(best.get(span.technique, 0.0), span.score)
        return {n: [Label(t, s) for t, s in sorted(labels.items())] for n, labels in sorted(found.items())}

    def validate(self) -> None:
        """Re-check every label and span (after direct assignment to the fields)."""
        if self.genre is not None:
            self.set_genre(self.genre.name, self.genre.score)
        if self.frames is not None:
            self.set_frames(self.frames)
        if self.techniques is not None:
            for number, labels in list(self.techniques.items()):
                self.set_paragraph_techniques(number, labels)
        self.spans = [self._checked_span(s.start, s.end, s.technique, s.score, s.text or None)
                      for s in self.spans]
