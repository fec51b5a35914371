"""Article files of both corpora: ``article<ID>.txt``, UTF-8, text kept exactly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from ..document import Document
from ..errors import InputError
from ..segment import is_blank
from .tsv import decode_text, read_text

__all__ = ["read_article", "read_articles", "iter_articles", "write_article", "article_id"]

_NAME = re.compile(r"^article(\S+)\.txt$")


def article_id(path: str | Path) -> str:
    """The id in ``article<ID>.txt``; for any other name, the file name without its suffix,
    white space turned into ``_`` (ids never hold spaces).

    >>> article_id("a/article7.txt"), article_id("my notes.txt")
    ('7', 'my_notes')
    """
    path = Path(path)
    match = _NAME.match(path.name)
    return match.group(1) if match else re.sub(r"\s+", "_", path.stem)


def read_article(path: str | Path, language: str | None = None, doc_id: str | None = None,
                 data: bytes | None = None) -> Document:
    """A Document holding the file's exact text (from ``data``, its bytes, when already read); InputError for
    empty, binary or non-UTF-8 files."""
    text = read_text(path) if data is None else decode_text(data, str(path))
    if is_blank(text):
        raise InputError(f"{path}: empty file, no text to read")
    doc_id = doc_id or article_id(path)
    if not doc_id or any(c.isspace() for c in doc_id):
        raise InputError(f"{path}: cannot make an article id from the file name")
    return Document(doc_id, text, source=str(path), language=language)


def _sort_key(path: Path):
    doc_id = article_id(path)
    return (0, int(doc_id), "") if doc_id.isdigit() else (1, 0, doc_id)


def article_paths(folder: str | Path) -> list[Path]:
    """The ``article*.txt`` files of a folder, by numeric id; InputError if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a directory")
    paths = sorted((p for p in folder.iterdir() if _NAME.match(p.name) and p.is_file()), key=_sort_key)
    if not paths:
        raise InputError(f"{folder}: no article*.txt files")
    return paths


def iter_articles(folder: str | Path, language: str | None = None) -> Iterator[Document]:
    for path in article_paths(folder):
        yield read_article(path, language)


def read_articles(folder: str | Path, language: str | None = None) -> list[Document]:
    """Every ``article*.txt`` of a folder as Documents, ordered by id."""
    return list(iter_articles(folder, language))


def write_article(doc: Document, folder: str | Path) -> Path:
    """Write ``doc.text`` byte-exactly as ``folder/article<ID>.txt``."""
    path = Path(folder) / f"article{doc.id}.txt"
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(doc.text)
    return path
