"""PDF documents to Documents: the paragraphs of the text layer, in reading order.

pdfminer.six lays each page out (characters into lines, lines into blocks); ``formats.layout`` reads the blocks
column by column, leaves out running headers and footers, and makes paragraphs of the lines by where they stand
(written one per line with a blank line between, as ``formats.office`` and ``formats.html`` write theirs, the
first the title). A line's text has its ligatures (U+FB00-FB06: "ﬁ") written out and its soft hyphens dropped; a
glyph whose font names no letter (pdfminer's "(cid:13)", LaTeX's ©) is dropped.

A PDF without a text layer (scanned pages), or one whose fonts do not say which letters they draw (a tenth of
its characters such glyphs), is read by OCR (``formats.ocr``, with slant's ``[ocr]`` extra); without it, or
without text to read even so, it is refused with InputError naming it and what it is, as is one locked with a
password or a broken one.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata

from ..document import Document
from ..errors import InputError
from .layout import Line, in_columns, paragraphs

__all__ = ["is_pdf", "document_from_pdf", "pdf_paragraphs"]

_UNKNOWN = re.compile(r"\(cid:\d+\)")


def is_pdf(raw: bytes) -> bool:
    """Whether ``raw`` is a PDF file: it starts with the marker, or has it in its first 1024 bytes (after a
    little junk, as readers allow) and ends as a PDF does.

    >>> is_pdf(b"%PDF-1.7\\n..."), is_pdf(b"junk\\n%PDF-1.4\\n...%%EOF\\n"), is_pdf(b"How a file starts: %PDF-1.7.")
    (True, True, False)
    """
    at = raw.find(b"%PDF-", 0, 1024)
    return at == 0 or (at > 0 and b"%%EOF" in raw[-1024:])


def _clean(text: str) -> str:
    """A line's text: ligatures written out, soft hyphens dropped, whitespace runs one space."""
    text = "".join(unicodedata.normalize("NFKC", c) if "\ufb00" <= c <= "\ufb06" else c for c in text)
    return " ".join(text.replace("\u00ad", "").split())


def _lines(raw: bytes, source: str) -> list[list[Line]]:
    """The lines of each block of each page, in pdfminer's reading order."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer, LTTextLine
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psexceptions import PSException

    from ..runtime import MAX_CHARACTERS

    logging.getLogger("pdfminer").setLevel(logging.ERROR)   # its warnings about odd but readable files
    blocks: list[list[Line]] = []
    characters = 0
    pages = None
    while characters <= MAX_CHARACTERS:   # past it the text is refused: a thousand-page report is not read to the end
        try:
            if pages is None:
                pages = enumerate(extract_pages(io.BytesIO(raw), laparams=LAParams()))
            number, page = next(pages, (None, None))
            if page is None:
                break
            boxes = [e for e in page if isinstance(e, LTTextContainer)]
        except PDFPasswordIncorrect:
            raise InputError(f"{source}: a PDF document locked with a password: unlock it (or save its text) "
                             f"first") from None
        except PDFEncryptionError as ex:
            raise InputError(f"{source}: an encrypted PDF document slant cannot open ({ex})") from None
        except Exception as ex:   # noqa: BLE001 - pdfminer raises whatever its parser trips on (KeyError,
            # TypeError, ...); a broken file is an input error, not a crash
            said = " ".join(str(ex).split())[:120]
            detail = said if isinstance(ex, (PDFSyntaxError, PSException)) and said else \
                f"broken structure: {type(ex).__name__}{': ' + said if said else ''}"
            raise InputError(f"{source}: not a readable PDF document ({detail})") from None
        height = page.height or 792.0
        for element, column in in_columns(boxes, height):
            lines = [Line(number, text, line.x0, line.x1, line.y0, line.y1, height, column)
                     for line in element if isinstance(line, LTTextLine)
                     for text in [_clean(line.get_text())] if text]
            if lines:
                blocks.append(lines)
                characters += sum(len(line.text) + 1 for line in lines)
    return blocks


def pdf_paragraphs(raw: bytes, source: str) -> list[str]:
    """The paragraphs of a PDF's text layer in reading order (``layout.paragraphs``); InputError naming ``source``
    for a PDF slant cannot read."""
    return paragraphs(_lines(raw, source))


def document_from_pdf(raw: bytes, doc_id: str, source: str) -> Document:
    """A Document from a PDF file's bytes: its paragraphs one per line with a blank line between, the first the
    title; InputError naming ``source`` when it cannot be read or holds no text. Pages without a text layer, or
    whose fonts do not say which letters they draw, are read by OCR where slant's ``[ocr]`` extra is installed."""
    from .ocr import NOT_INSTALLED, ocr_available, scanned_pages

    found = pdf_paragraphs(raw, source)
    text = "\n\n".join(found)
    unknown = _UNKNOWN.findall(text)   # pdfminer's "(cid:13)": a glyph it cannot name
    unnamed = len(unknown) > 0.1 * (len(text) - sum(map(len, unknown)) + len(unknown))   # a tenth of the characters
    if (unnamed or not text.strip()) and ocr_available():   # pictures of text: read them
        found = scanned_pages(raw, source)
        if not found:
            raise InputError(f"{source}: a PDF document without text to read (no text layer, and no text in its "
                             f"pages' pictures)")
        return Document(doc_id, "\n\n".join(found) + "\n", source=source)
    if not text.strip():
        raise InputError(f"{source}: a PDF document without text to read (scanned pages are pictures of text; "
                         f"{NOT_INSTALLED})")
    if unnamed:
        raise InputError(f"{source}: a PDF document whose fonts do not say which letters they draw (save its "
                         f"text from the program that made it; or {NOT_INSTALLED})")
    if unknown:   # a symbol here and there (LaTeX's ©): dropped, not read as text
        found = [p for p in (" ".join(_UNKNOWN.sub(" ", p).split()) for p in found) if p]
    return Document(doc_id, "\n\n".join(found) + "\n", source=source)
