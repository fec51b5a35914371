"""PDF documents to Documents: the paragraphs of the text layer, in reading order.

pdfminer.six lays each page out (characters into lines, lines into blocks); its blocks are read column by column
where a page has columns, a justified line that it cut is put together again, and the lines become the article's
paragraphs, one per line with a blank line between (as ``formats.office`` and ``formats.html`` write theirs), the
first the title:

- a page's running header and footer are left out: one-line blocks in the page's outer strips (its top and
  bottom 8 %) that repeat on other pages (page numbers aside), are a page number, a date, a time or a web
  address (a browser's "print to PDF" writes the page's title, the date, its URL and "1/3" there), repeat 20
  or more characters of the text (the title), or are in smaller print than the text;
- a paragraph ends where more space than the line spacing follows its line, where the next line starts
  indented or in another size of print (a heading), and where its line stops short of the column's edge
  although the next line's first word would have fitted (how paragraphs set without space between them end);
- a paragraph cut by a page or column break is joined again: where paragraphs start indented, when the next
  column's first line is not; elsewhere when the line before the break is full and ends no sentence (a
  sentence that ends at the foot of a column, space between paragraphs, is taken to end its paragraph:
  nothing on the page tells);
- lines are joined with a space, or without one after a hyphen that ends a line: a word hyphenated by the
  typesetter is joined whole ("propa-" + "ganda" is "propaganda", where the shipped tokenizer knows the word),
  a word broken at its own hyphen keeps it ("self-" + "hatred" stays "self-hatred"); a soft hyphen is dropped,
  ligatures (U+FB00-FB06: "ﬁ") are written out, and a glyph whose font names no letter (pdfminer's
  "(cid:13)", LaTeX's ©) is dropped.

A PDF without a text layer (scanned pages), one whose fonts do not say which letters they draw (a tenth of its
characters such glyphs), one locked with a password or a broken one is refused with InputError naming it and what it is.
"""

from __future__ import annotations

import io
import logging
import re
import statistics
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..document import Document
from ..errors import InputError

__all__ = ["is_pdf", "document_from_pdf", "pdf_paragraphs"]

MARGIN = 0.08               # the outer strips of a page that hold its running header and footer
_UNKNOWN = re.compile(r"\(cid:\d+\)")
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
_PAGE_FURNITURE = re.compile(
    r"^(?:(?:page|p\.|seite|pagina)?\s*\d{1,4}\s*(?:(?:/|of|von|de|di|из)\s*\d{1,4})?"   # 3, 3/12, Page 3 of 12
    r"|[ivxlc]{1,7}"                                                                     # a preface's iv
    r"|[a-z][a-z0-9+.-]*://\S+"                                                          # a URL
    r"|(?:www\.)\S+"
    r"|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4},?(?:\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?)?"   # 12/7/26, 1:33 PM
    r")$", re.IGNORECASE)


def is_pdf(raw: bytes) -> bool:
    """Whether ``raw`` is a PDF file: it starts with the marker, or has it in its first 1024 bytes (after a
    little junk, as readers allow) and ends as a PDF does.

    >>> is_pdf(b"%PDF-1.7\\n..."), is_pdf(b"junk\\n%PDF-1.4\\n...%%EOF\\n"), is_pdf(b"How a file starts: %PDF-1.7.")
    (True, True, False)
    """
    at = raw.find(b"%PDF-", 0, 1024)
    return at == 0 or (at > 0 and b"%%EOF" in raw[-1024:])


@dataclass
class _Line:
    """A line of text from pdfminer's layout, in page coordinates (y grows upwards)."""

    page: int
    text: str
    x0: float
    x1: float
    y0: float
    y1: float
    page_height: float
    column: int = 0         # which of its page's columns holds it (-1: a line across them, as a title over both)
    left: float = 0.0       # the edges of its column: the furthest its lines reach
    right: float = 0.0

    @property
    def size(self) -> float:
        return max(self.y1 - self.y0, 1.0)

    @property
    def in_margin(self) -> bool:
        return self.y0 >= self.page_height * (1 - MARGIN) or self.y1 <= self.page_height * MARGIN


def _clean(text: str) -> str:
    """A line's text: ligatures written out, soft hyphens dropped, whitespace runs one space."""
    text = "".join(unicodedata.normalize("NFKC", c) if "\ufb00" <= c <= "\ufb06" else c for c in text)
    return " ".join(text.replace("\u00ad", "").split())


def _lines(raw: bytes, source: str) -> list[list[_Line]]:
    """The lines of each block of each page, in pdfminer's reading order."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer, LTTextLine
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psexceptions import PSException

    from ..runtime import MAX_CHARACTERS

    logging.getLogger("pdfminer").setLevel(logging.ERROR)   # its warnings about odd but readable files
    blocks: list[list[_Line]] = []
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
        for element, column in _in_columns(boxes, height):
            lines = [_Line(number, text, line.x0, line.x1, line.y0, line.y1, height, column)
                     for line in element if isinstance(line, LTTextLine)
                     for text in [_clean(line.get_text())] if text]
            if lines:
                blocks.append(lines)
                characters += sum(len(line.text) + 1 for line in lines)
    return blocks


def _in_columns(boxes: list, height: float) -> list[tuple]:
    """A page's text blocks in reading order, each with the column that holds it (-1: across columns), where it
    sets text in columns: pdfminer's order interleaves them.

    The gutters are the gaps between the blocks narrower than half the text's width (those in the page's top
    and bottom strips aside: a page number centred under two columns sits in their gutter); a block that crosses a
    gutter (a title, a picture's caption over both columns) separates bands, and each band is read column by
    column, top to bottom. A page without gutters keeps pdfminer's order, all in column 0."""
    if len(boxes) < 3:
        return [(box, 0) for box in boxes]
    left, right = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
    narrow = sorted((b.x0, b.x1) for b in boxes if b.x1 - b.x0 < 0.5 * (right - left)
                    and b.y1 > height * MARGIN and b.y0 < height * (1 - MARGIN))
    gutters, reach = [], left
    for x0, x1 in narrow:
        if x0 - reach > 8 and reach > left:      # 8 points: wider than the space between words
            gutters.append((reach, x0))
        reach = max(reach, x1)
    if not gutters:
        return [(box, 0) for box in boxes]

    def column(box) -> int:
        return sum(box.x0 >= g1 - 1 for _, g1 in gutters)

    def crosses(box) -> bool:
        return any(box.x0 < g0 and box.x1 > g1 for g0, g1 in gutters)

    ordered, band = [], []
    for box in sorted(boxes, key=lambda b: -b.y1):
        if crosses(box):
            ordered.extend(sorted(band, key=lambda b: (column(b), -b.y1)))
            ordered.append(box)
            band = []
        else:
            band.append(box)
    ordered.extend(sorted(band, key=lambda b: (column(b), -b.y1)))
    return [(box, -1 if crosses(box) else column(box)) for box in ordered]


def _furniture(blocks: list[list[_Line]]) -> set[int]:
    """ids of the lines that are running headers and footers (see the module's docstring)."""
    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", line.text.lower())

    alone = [block[0] for block in blocks if len(block) == 1 and block[0].in_margin]
    pages_of: dict[str, set[int]] = {}
    for line in alone:
        pages_of.setdefault(key(line), set()).add(line.page)
    others = [line for block in blocks for line in block if not (len(block) == 1 and line.in_margin)]
    body = " ".join(line.text for line in others)
    usual = statistics.median(line.size for line in others) if others else 0.0
    return {id(line) for line in alone
            if len(pages_of[key(line)]) > 1 or _PAGE_FURNITURE.match(line.text)
            or (len(line.text) >= 20 and line.text in body)
            or line.size < 0.85 * usual}


def _columns(lines: list[_Line]) -> None:
    """Set each line's column edges: the furthest left and right its column's lines reach (for a line across
    columns, its page's)."""
    edges: dict[tuple[int, int], tuple[float, float]] = {}
    for line in lines:
        for key in ((line.page, line.column), (line.page, -1)):
            left, right = edges.get(key, (line.x0, line.x1))
            edges[key] = (min(left, line.x0), max(right, line.x1))
    for line in lines:
        line.left, line.right = edges[line.page, line.column]


def _whole(lines: list[_Line]) -> list[_Line]:
    """Lines with the pieces of a line put together, where its first piece stands: pdfminer cuts a justified line
    where its spaces are wide, and may order the pieces apart. Pieces on one baseline that overlap or stand far
    apart (a sidebar beside the text) stay lines of their own."""
    out: list[_Line] = []
    pieces: dict[int, list[_Line]] = {}     # id of a first piece -> the pieces on its baseline, in reading order
    for line in lines:
        for first in reversed(out[-12:]):   # a line's pieces are read close together
            if first.page == line.page and first.column == line.column and abs(first.y0 - line.y0) < 0.3 * first.size:
                pieces[id(first)].append(line)
                break
        else:
            out.append(line)
            pieces[id(line)] = [line]
    whole: list[_Line] = []
    joined: list[_Line] = []
    for first in out:
        row = sorted(pieces[id(first)], key=lambda p: p.x0)
        if len(row) > 1 and all(0 <= b.x0 - a.x1 < 2 * first.size for a, b in zip(row, row[1:])):
            first.text = " ".join(p.text for p in row)
            first.x0, first.x1 = row[0].x0, row[-1].x1
            joined.append(first)
        else:
            whole.extend(pieces[id(first)])
    pages: dict[int, list[_Line]] = {}
    for line in whole:
        pages.setdefault(line.page, []).append(line)
    for line in joined:     # each where it stands on the page: between the lines of its column above and below it
        on_page = pages.setdefault(line.page, [])
        low = line.y0 - 0.3 * line.size
        column = [j for j, other in enumerate(on_page) if other.column == line.column]
        below = [j for k, j in enumerate(column) if on_page[j].y0 < low
                 and not (k and column[k - 1] == j - 1 and on_page[j - 1].y0 < low)]
        above = [j for j in column if on_page[j].y0 > line.y0]
        on_page.insert(below[0] if below else (above[-1] + 1 if above else len(on_page)), line)
    return [line for number in sorted(pages) for line in pages[number]]


def _ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text))


def _word_fits(before: _Line, line: _Line) -> bool:
    """Whether the first word of ``line`` would have fitted at the end of ``before``: then the line was broken
    on purpose (a paragraph's end, a heading), not because the text reached the column's edge."""
    if before.text.endswith("-"):
        return False
    width = (line.x1 - line.x0) / max(len(line.text), 1)      # the mean width of a character
    word = line.text.split(" ", 1)[0]
    return before.right - before.x1 > (len(word) + 2) * width * 1.15


def _joined(before: _Line, line: _Line, gap: float, indented: bool) -> bool:
    """Whether ``line`` goes on the paragraph that ``before`` ends, ``gap`` the usual space between the lines of a
    paragraph, ``indented`` whether the document starts its paragraphs indented."""
    new_flow = (line.page != before.page or line.y1 > before.y0 + 0.5 * before.size   # up: a new column or page
                or line.x0 > before.x1 or line.x1 < before.x0)
    if abs(line.size - before.size) > 0.15 * before.size:   # a heading, a caption, a footnote
        return False
    indent = 0.8 * before.size
    if new_flow:    # a paragraph cut by a page or column break
        if line.x0 - line.left > indent:
            return False
        return line.text[:1].islower() or not (_word_fits(before, line)
                                               or (_ends_sentence(before.text) and not indented))
    if before.y0 - line.y1 > gap + 0.25 * before.size:          # space between: a new paragraph
        return False
    if line.x0 - before.x0 > indent or (line.x0 - line.left > indent and _ends_sentence(before.text)):
        return False                                             # its first line indented
    return not _word_fits(before, line)


def _join(text: str, line: str) -> str:
    """``text`` and the ``line`` that follows it: a word hyphenated across them is joined whole ("propa-" +
    "ganda": "propaganda", when the shipped tokenizer knows the word whole); one broken at its own hyphen
    keeps it ("self-" + "hatred": "self-hatred")."""
    if not (re.search(r"\w-$", text) and line[:1].isalpha()):
        return text + " " + line
    tail, head = re.search(r"[A-Za-z]*-$", text).group()[:-1], re.match(r"[a-z]*", line).group()
    word = tail.lower() + head
    if tail and head and (word in _words() or (word.endswith("s") and word[:-1] in _words())):
        return text[:-1] + line   # typesetting's hyphen (LaTeX, InDesign): not the word's
    return text + line


@lru_cache(maxsize=1)
def _words() -> frozenset[str]:
    """The English words the shipped model's tokenizer holds whole (21,719): what a hyphenated line break may
    join into. Empty when the model cannot be read (hyphens are then kept)."""
    import json

    from ..models import default_path
    try:
        vocab = json.loads((default_path() / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()
    return frozenset(w for w in vocab if len(w) > 1 and w.isascii() and w.isalpha())


def pdf_paragraphs(raw: bytes, source: str) -> list[str]:
    """The paragraphs of a PDF's text layer in reading order (the module's docstring says how); InputError naming
    ``source`` for a PDF slant cannot read."""
    blocks = _lines(raw, source)
    skip = _furniture(blocks)
    lines = _whole([line for block in blocks for line in block if id(line) not in skip])
    _columns(lines)
    gaps = [before.y0 - line.y1 for before, line in zip(lines, lines[1:])
            if line.page == before.page and 0 <= before.y0 - line.y1 < 2 * before.size
            and abs(line.size - before.size) < 0.15 * before.size]
    gap = sorted(gaps)[len(gaps) // 5] if gaps else 0.0     # the line spacing: most gaps of a paragraph's lines
    indented = sum(line.page == before.page and 0 <= before.y0 - line.y1 < gap + 0.25 * before.size
                   and line.x0 - line.left > 0.8 * line.size and _ends_sentence(before.text)
                   for before, line in zip(lines, lines[1:])) >= 2
    paragraphs: list[str] = []
    for i, line in enumerate(lines):
        if i and _joined(lines[i - 1], line, gap, indented):
            paragraphs[-1] = _join(paragraphs[-1], line.text)
        else:
            paragraphs.append(line.text)
    return paragraphs


def document_from_pdf(raw: bytes, doc_id: str, source: str) -> Document:
    """A Document from a PDF file's bytes: its paragraphs one per line with a blank line between, the first the
    title; InputError naming ``source`` when it cannot be read or holds no text."""
    paragraphs = pdf_paragraphs(raw, source)
    text = "\n\n".join(paragraphs)
    if not text.strip():
        raise InputError(f"{source}: a PDF document without text to read (scanned pages are pictures of text: "
                         f"slant reads a PDF's text layer, and this one has none)")
    unknown = _UNKNOWN.findall(text)   # pdfminer's "(cid:13)": a glyph it cannot name
    if len(unknown) > 0.1 * (len(text) - sum(map(len, unknown)) + len(unknown)):   # a tenth of the characters
        raise InputError(f"{source}: a PDF document whose fonts do not say which letters they draw: save its "
                         f"text from the program that made it")
    if unknown:   # a symbol here and there (LaTeX's ©): dropped, not read as text
        paragraphs = [p for p in (" ".join(_UNKNOWN.sub(" ", p).split()) for p in paragraphs) if p]
    return Document(doc_id, "\n\n".join(paragraphs) + "\n", source=source)
