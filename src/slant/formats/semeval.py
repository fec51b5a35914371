"""SemEval-2023 Task 3 label files: subtasks 1, 2, 3, the 3-spans file and the 3 template.

Formats (tab-separated, one record per line, ``\\n``-terminated):

* subtask 1 (genre)       ``ID<TAB>genre``
* subtask 2 (frames)      ``ID<TAB>frame,frame,...`` (annotation order)
* subtask 3 (paragraphs)  ``ID<TAB>paragraph<TAB>technique,...`` (empty when none)
* subtask 3 spans         ``ID<TAB>technique<TAB>start<TAB>end`` (code points, end exclusive)
* subtask 3 template      ``ID<TAB>paragraph<TAB>paragraph text``

Readers return rows in file order and keep the line number for error messages;
writers write rows in the order given, so ``write(read(f))`` reproduces ``f``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from ..document import Document
from ..errors import FormatError, LabelError, SpanError
from .tsv import Fields, read_rows, write_lines

__all__ = [
    "LANGUAGES", "GenreRow", "FramesRow", "ParagraphRow", "SpanRow", "TemplateRow",
    "read_subtask1", "read_subtask2", "read_subtask3", "read_spans", "read_template",
    "write_subtask1", "write_subtask2", "write_subtask3", "write_spans", "write_template",
    "subtask1_rows", "subtask2_rows", "subtask3_rows", "span_rows", "template_rows", "attach",
]

# Folder codes of the SemEval-2023 data -> ISO 639-1.
LANGUAGES = {"en": "en", "fr": "fr", "ge": "de", "it": "it", "po": "pl", "ru": "ru",
             "es": "es", "gr": "el", "ka": "ka"}


@dataclass(frozen=True)
class GenreRow:
    article_id: str
    genre: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class FramesRow:
    article_id: str
    frames: tuple[str, ...]
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ParagraphRow:
    article_id: str
    paragraph: int
    techniques: tuple[str, ...]
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class SpanRow:
    """A labelled span; also the row type of PTC-2020 TC labels and templates."""

    article_id: str
    technique: str
    start: int
    end: int
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class TemplateRow:
    article_id: str
    paragraph: int
    text: str
    line: int = field(default=0, compare=False)


def _unique(rows: list, key, path, what: str) -> list:
    first: dict = {}
    for row in rows:
        k = key(row)
        if k in first:
            raise FormatError(f"{path}:{row.line}", f"{what} {k} given twice (first at line {first[k]})")
        first[k] = row.line
    return rows


def _paragraph_number(f: Fields) -> int:
    number = f.int(1, "paragraph")
    if number < 1:
        raise FormatError(f.where, "paragraph numbers start at 1")
    return number


def read_subtask1(path: str | Path) -> list[GenreRow]:
    rows = read_rows(path, (2,), lambda f: GenreRow(f.id(0), f.label(1, "genre"), f.line), "subtask 1")
    return _unique(rows, lambda r: r.article_id, path, "article")


def read_subtask2(path: str | Path) -> list[FramesRow]:
    rows = read_rows(path, (2,), lambda f: FramesRow(f.id(0), f.labels(1, "frame"), f.line), "subtask 2")
    return _unique(rows, lambda r: r.article_id, path, "article")


def read_subtask3(path: str | Path) -> list[ParagraphRow]:
    def parse(f: Fields) -> ParagraphRow:
        techniques = f.labels(2, "technique") if len(f.values) == 3 else ()
        return ParagraphRow(f.id(0), _paragraph_number(f), techniques, f.line)

    rows = read_rows(path, (2, 3), parse, "subtask 3")
    return _unique(rows, lambda r: (r.article_id, r.paragraph), path, "paragraph")


def read_spans(path: str | Path) -> list[SpanRow]:
    return read_rows(path, (4,), lambda f: SpanRow(f.id(0), f.label(1, "technique"), *f.span(2), f.line),
                     "subtask 3 spans")


def read_template(path: str | Path) -> list[TemplateRow]:
    def parse(f: Fields) -> TemplateRow:
        return TemplateRow(f.id(0), _paragraph_number(f), f.values[2], f.line)

    rows = read_rows(path, (3,), parse, "subtask 3 template", text_last=True)
    return _unique(rows, lambda r: (r.article_id, r.paragraph), path, "paragraph")


def write_subtask1(path: str | Path, rows: Iterable[GenreRow]) -> None:
    write_lines(path, (f"{r.article_id}\t{r.genre}" for r in rows))


def write_subtask2(path: str | Path, rows: Iterable[FramesRow]) -> None:
    write_lines(path, (f"{r.article_id}\t{','.join(r.frames)}" for r in rows))


def write_subtask3(path: str | Path, rows: Iterable[ParagraphRow]) -> None:
    write_lines(path, (f"{r.article_id}\t{r.paragraph}\t{','.join(r.techniques)}" for r in rows))


def write_spans(path: str | Path, rows: Iterable[SpanRow]) -> None:
    write_lines(path, (f"{r.article_id}\t{r.technique}\t{r.start}\t{r.end}" for r in rows))


def write_template(path: str | Path, rows: Iterable[TemplateRow]) -> None:
    write_lines(path, (f"{r.article_id}\t{r.paragraph}\t{r.text}" for r in rows))


# -- Documents -> rows -------------------------------------------------------

def _require(doc: Document, attr: str, what: str):
    value = getattr(doc, attr)
    if value is None:
        raise LabelError(f"document {doc.id}: has no {what} to write")
    return value


def subtask1_rows(docs: Iterable[Document]) -> list[GenreRow]:
    return [GenreRow(d.id, _require(d, "genre", "genre").name) for d in docs]


def subtask2_rows(docs: Iterable[Document]) -> list[FramesRow]:
    return [FramesRow(d.id, tuple(f.name for f in _require(d, "frames", "frames"))) for d in docs]


def subtask3_rows(docs: Iterable[Document]) -> list[ParagraphRow]:
    """One row per paragraph of every document (the official template), techniques alphabetical."""
    rows = []
    for doc in docs:
        techniques = _require(doc, "techniques", "paragraph techniques")
        for p in doc.paragraphs:
            names = sorted(label.name for label in techniques.get(p.number, []))
            rows.append(ParagraphRow(doc.id, p.number, tuple(names)))
    return rows


def span_rows(docs: Iterable[Document]) -> list[SpanRow]:
    """Every span, sorted as the official file is: by id, start, end, technique."""
    rows = [SpanRow(d.id, s.technique, s.start, s.end) for d in docs for s in d.spans]
    return sorted(rows, key=lambda r: (r.article_id, r.start, r.end, r.technique))


def template_rows(docs: Iterable[Document]) -> list[TemplateRow]:
    return [TemplateRow(d.id, p.number, d.text[p.start:p.end]) for d in docs for p in d.paragraphs]


# -- rows -> Documents -------------------------------------------------------

def attach(docs: Mapping[str, Document], rows: Iterable, path: str | Path = "<rows>") -> None:
    """Put labels read from a file onto the Documents they name.

    Every row must name a known article, an existing paragraph and offsets
    inside the text; the error names the file and line.
    """
    for row in rows:
        where = f"{path}:{row.line}"
        doc = docs.get(row.article_id)
        if doc is None:
            raise FormatError(where, f"unknown article id {row.article_id}")
        try:
            if isinstance(row, GenreRow):
                doc.set_genre(row.genre)
            elif isinstance(row, FramesRow):
                doc.set_frames(row.frames)
            elif isinstance(row, ParagraphRow):
                doc.set_paragraph_techniques(row.paragraph, row.techniques)
            elif isinstance(row, SpanRow):
                doc.add_span(row.start, row.end, row.technique)
            else:
                raise TypeError(f"cannot attach {type(row).__name__}")
        except (LabelError, SpanError) as ex:
            raise FormatError(where, str(ex)) from None
