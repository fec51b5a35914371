"""Reading and writing the tab-separated label files of both shared tasks.

Every reader goes through :func:`read_rows`, so every format gets the same
checks and the same one-line errors (``FILE:LINE: what is wrong``).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from .. import taxonomy
from ..errors import FormatError, InputError, LabelError, SlantError

__all__ = ["read_bytes", "read_text", "decode_text", "not_text", "by_byte_order_mark", "read_rows", "writable",
           "writable_folder", "write_lines", "Fields"]

Row = TypeVar("Row")


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes; InputError naming it when it cannot be read."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    except OSError as ex:
        raise InputError(f"{path}: cannot read ({ex.strerror})") from None


def read_text(path: str | Path) -> str:
    """The exact text of a UTF-8 file (no BOM removal, no newline translation), or of a UTF-16 one with its mark."""
    return decode_text(read_bytes(path), str(path))


UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def by_byte_order_mark(raw: bytes, where: str, marks, errors: str = "strict") -> str | None:
    """``raw`` decoded by the first of ``marks`` ((mark, codec) pairs) it starts with, the mark dropped; None
    when it starts with none. InputError naming ``where`` for bytes the mark's codec cannot read (unless
    ``errors`` replaces them)."""
    for bom, codec in marks:
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(codec, errors=errors)
            except UnicodeDecodeError as ex:
                at = len(bom) + ex.start
                raise InputError(f"{where}: not {codec.upper()} text as its byte-order mark says "
                                 f"(byte 0x{raw[at]:02x} at offset {at})") from None
    return None


# Files taken for articles that are not text, by their first bytes: said by name, with what to do instead of
# "binary file (NUL byte at offset 5)" or "not UTF-8 text (byte 0xe2 at offset 10)".
_NOT_TEXT = ((b"%PDF-", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (as .epub books and spreadsheets are)"),
             (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (.doc)"),
             (b"\x1f\x8b", "gzip-compressed"))   # and pictures: formats.ocr.image_kind


def not_text(raw: bytes, where: str) -> InputError | None:
    """The error for a file that is surely not text by its first bytes (a PDF, a Word document, an image, ...).

    >>> str(not_text(b"%PDF-1.7\\n", "report.pdf"))
    'report.pdf: a PDF document, not text: save the article as text or HTML first'
    """
    from .ocr import image_kind
    kind = next((kind for magic, kind in _NOT_TEXT if raw.startswith(magic)), None) or image_kind(raw)
    return InputError(f"{where}: {kind}, not text: save the article as text or HTML first") if kind else None


def decode_text(raw: bytes, where: str) -> str:
    """Bytes as UTF-8 text, exactly (a UTF-8 byte-order mark stays, as U+FEFF: the official offsets count it);
    or as UTF-16 where a UTF-16 byte-order mark says so (Windows Notepad's "Unicode"), the mark dropped.
    InputError naming ``where`` for binary data or text in neither.

    >>> decode_text("caf\u00e9".encode("utf-16"), "a.txt")
    'café'
    """
    error = not_text(raw, where)
    if error is not None:
        raise error
    text = by_byte_order_mark(raw, where, UTF16_BOMS)
    if text is not None:
        nul = text.find("\x00")
        if nul >= 0:   # UTF-32, whose mark begins with UTF-16's, or binary data
            raise InputError(f"{where}: binary file (NUL character at character {nul}), expected UTF-8 or "
                             f"UTF-16 text")
        return text
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise InputError(f"{where}: binary file (NUL byte at offset {nul}), expected UTF-8 text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as ex:
        raise InputError(f"{where}: not UTF-8 text (byte 0x{raw[ex.start]:02x} at offset {ex.start})") from None


@dataclass
class Fields:
    """The tab-separated fields of one line, with helpers that raise FormatError naming it."""

    where: str
    values: list[str]
    line: int = field(default=0)

    def id(self, i: int) -> str:
        value = self.values[i]
        if not value or value != value.strip() or " " in value:
            raise FormatError(self.where, f"bad article id {value!r}")
        return value

    def int(self, i: int, name: str) -> int:
        value = self.values[i]
        if not value.isascii() or not value.isdigit():
            raise FormatError(self.where, f"{name} must be a non-negative integer, got {value!r}")
        return int(value)

    def label(self, i: int, kind: str) -> str:
        value = self.values[i].strip()
        try:
            taxonomy.check_labels(kind, [value])
        except LabelError as ex:
            raise FormatError(self.where, str(ex)) from None
        return value

    def labels(self, i: int, kind: str) -> tuple[str, ...]:
        """A comma-separated label list; empty field = no labels."""
        value = self.values[i].strip()
        if not value:
            return ()
        names = tuple(name.strip() for name in value.split(","))
        if "" in names:
            raise FormatError(self.where, f"empty label in list {value!r}")
        if len(set(names)) != len(names):
            raise FormatError(self.where, f"label repeated in list {value!r}")
        try:
            taxonomy.check_labels(kind, names)
        except LabelError as ex:
            raise FormatError(self.where, str(ex)) from None
        return names

    def span(self, i: int) -> tuple[int, int]:
        start, end = self.int(i, "start"), self.int(i + 1, "end")
        if end <= start:
            raise FormatError(self.where, f"end {end} is not after start {start}")
        return start, end


def read_rows(path: str | Path, columns: tuple[int, ...], parse: Callable[[Fields], Row],
              what: str, text_last: bool = False) -> list[Row]:
    """Parse every non-blank line of ``path`` with ``parse``.

    ``columns`` lists the accepted numbers of tab-separated fields; with
    ``text_last`` the last column is free text and keeps any tabs in it.
    ``what`` names the format in error messages.  A trailing ``\\r`` is tolerated, and so is a UTF-8
    byte-order mark at the start (Windows editors save "UTF-8 with BOM"; it was read into the first row's id,
    which then matched no article).
    """
    text = read_text(path).removeprefix("\ufeff")
    rows = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.endswith("\r"):
            line = line[:-1]
        if not line.strip():
            continue
        values = line.split("\t", max(columns) - 1) if text_last else line.split("\t")
        where = f"{path}:{number}"
        if len(values) not in columns:
            expected = " or ".join(str(c) for c in columns)
            raise FormatError(where, f"expected {expected} tab-separated columns for {what}, got {len(values)}")
        rows.append(parse(Fields(where, values, number)))
    return rows


def writable(path: str | Path) -> Path:
    """``path`` as a Path, when a file can be written there; else SlantError naming it — checked before a
    long run, so that hours of predictions do not end on a path that cannot take them. Creates nothing."""
    path = Path(path)
    if path.is_dir():
        raise SlantError(f"{path}: is a folder; give a file to write")
    if not path.parent.is_dir():
        raise SlantError(f"{path}: cannot write (no folder {path.parent})")
    return path


def writable_folder(path: str | Path, purpose: str) -> Path:
    """``path`` as a Path, when it is a folder or can become one; else SlantError naming it and ``purpose``
    (what the folder is for) — checked before any work. Creates nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SlantError(f"{path}: a file, not a folder ({purpose})")
    return path


def write_lines(path: str | Path, lines: Iterable[str]) -> None:
    """Write lines, each ending in ``\\n``, as UTF-8 without newline translation; SlantError naming the file
    when it cannot be written."""
    try:
        with open(path, "w", encoding="utf-8", newline="") as out:
            for line in lines:
                out.write(line + "\n")
    except OSError as ex:
        raise SlantError(f"{path}: cannot write ({ex.strerror or ex})") from None
