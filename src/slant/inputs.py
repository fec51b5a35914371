"""Where articles come from: files, folders of files, and standard input.

``read_inputs`` yields one result per article: a Document, or the InputError
that says why that input could not be read, so that a batch reports its bad
files and still analyzes the rest.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO, Iterator

from .document import Document
from .errors import InputError, SlantError
from .formats.articles import read_article
from .formats.tsv import decode_utf8

__all__ = ["read_inputs", "read_stdin"]

STDIN = "-"


def read_stdin(stream: BinaryIO | None = None, doc_id: str = "stdin") -> Document:
    text = decode_utf8((stream or sys.stdin.buffer).read(), "<stdin>")
    if not text.strip():
        raise InputError("<stdin>: empty input, no text to read")
    return Document(doc_id, text, source="<stdin>")


def _folder_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".txt")
    if not files:
        raise InputError(f"{folder}: no .txt files to analyze")
    return files


def read_inputs(paths: list[str]) -> Iterator[Document | SlantError]:
    """Documents for every input path ('-' is standard input; a folder means its .txt files)."""
    seen_ids: dict[str, int] = {}

    def unique(doc: Document) -> Document:
        n = seen_ids.get(doc.id, 0)
        seen_ids[doc.id] = n + 1
        if n:
            doc.id = f"{doc.id}-{n + 1}"
        return doc

    for raw in paths:
        if raw == STDIN:
            try:
                yield unique(read_stdin())
            except SlantError as ex:
                yield ex
            continue
        path = Path(raw)
        try:
            files = _folder_files(path) if path.is_dir() else [path]
        except SlantError as ex:
            yield ex
            continue
        for f in files:
            try:
                yield unique(read_article(f))
            except SlantError as ex:
                yield ex
