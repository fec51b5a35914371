"""PTC-2020 (SemEval-2020 Task 11) label files.

* SI labels / predictions   ``ID<TAB>start<TAB>end``
* TC labels / predictions   ``ID<TAB>class<TAB>start<TAB>end`` (14 classes; names may hold commas)
* TC template               ``ID<TAB>?<TAB>start<TAB>end``

Offsets are code points into the PTC article text, end exclusive.  Split on
tabs only: class names such as ``Name_Calling,Labeling`` contain commas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import FormatError
from .semeval import SpanRow
from .tsv import Fields, read_rows, write_lines

__all__ = ["SIRow", "SpanRow", "read_si", "write_si", "read_tc", "write_tc",
           "read_tc_template", "write_tc_template"]

TEMPLATE_LABEL = "?"


@dataclass(frozen=True)
class SIRow:
    article_id: str
    start: int
    end: int
    line: int = field(default=0, compare=False)


def read_si(path: str | Path) -> list[SIRow]:
    return read_rows(path, (3,), lambda f: SIRow(f.id(0), *f.span(1), f.line), "PTC SI")


def write_si(path: str | Path, rows: Iterable[SIRow]) -> None:
    write_lines(path, (f"{r.article_id}\t{r.start}\t{r.end}" for r in rows))


def read_tc(path: str | Path) -> list[SpanRow]:
    return read_rows(path, (4,), lambda f: SpanRow(f.id(0), f.label(1, "ptc"), *f.span(2), f.line), "PTC TC")


def write_tc(path: str | Path, rows: Iterable[SpanRow]) -> None:
    write_lines(path, (f"{r.article_id}\t{r.technique}\t{r.start}\t{r.end}" for r in rows))


def read_tc_template(path: str | Path) -> list[SpanRow]:
    def parse(f: Fields) -> SpanRow:
        if f.values[1] != TEMPLATE_LABEL:
            raise FormatError(f.where, f"template rows have '?' in column 2, got {f.values[1]!r}")
        return SpanRow(f.id(0), TEMPLATE_LABEL, *f.span(2), f.line)

    return read_rows(path, (4,), parse, "PTC TC template")


def write_tc_template(path: str | Path, rows: Iterable[SpanRow]) -> None:
    write_tc(path, (SpanRow(r.article_id, TEMPLATE_LABEL, r.start, r.end) for r in rows))
