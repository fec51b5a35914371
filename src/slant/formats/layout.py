"""Lines laid out on pages to paragraphs: what a PDF's text layer (``formats.pdf``) and the text read from a
picture of a page (``formats.ocr``) both give.

A reader hands over the lines of each block of text (a column's run of lines) with their place on the page;
blocks are read column by column where a page has columns, a justified line cut in pieces is put together
again, and the lines become the article's paragraphs, the first the title:

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
  a word broken at its own hyphen keeps it ("self-" + "hatred" stays "self-hatred").
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Line", "in_columns", "paragraphs"]

MARGIN = 0.08               # the outer strips of a page that hold its running header and footer

_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
_PAGE_FURNITURE = re.compile(
    r"^(?:(?:page|p\.|seite|pagina)?\s*\d{1,4}\s*(?:(?:/|of|von|de|di|из)\s*\d{1,4})?"   # 3, 3/12, Page 3 of 12
    r"|[ivxlc]{1,7}"                                                                     # a preface's iv
    r"|[a-z][a-z0-9+.-]*://\S+"                                                          # a URL
    r"|(?:www\.)\S+"
    r"|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4},?(?:\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?)?"   # 12/7/26, 1:33 PM
    r")$", re.IGNORECASE)



@dataclass
class Line:
    """A line of text on a page, in page coordinates (y grows upwards, as in PDF)."""

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


def in_columns(boxes: list, height: float) -> list[tuple]:
    """A page's text blocks in reading order, each with the column that holds it (-1: across columns), where it
    sets text in columns: a reader's order (pdfminer's) interleaves them.

    The gutters are the gaps between the blocks narrower than half the text's width (those in the page's top
    and bottom strips aside: a page number centred under two columns sits in their gutter); a block that crosses a
    gutter (a title, a picture's caption over both columns) separates bands, and each band is read column by
    column, top to bottom. A page without gutters keeps the order given, all in column 0."""
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


def _furniture(blocks: list[list[Line]]) -> set[int]:
    """ids of the lines that are running headers and footers (see the module's docstring)."""
    def key(line: Line) -> str:
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


def _columns(lines: list[Line]) -> None:
    """Set each line's column edges: the furthest left and right its column's lines reach (for a line across
    columns, its page's)."""
    edges: dict[tuple[int, int], tuple[float, float]] = {}
    for line in lines:
        for key in ((line.page, line.column), (line.page, -1)):
            left, right = edges.get(key, (line.x0, line.x1))
            edges[key] = (min(left, line.x0), max(right, line.x1))
    for line in lines:
        line.left, line.right = edges[line.page, line.column]


def _whole(lines: list[Line]) -> list[Line]:
    """Lines with the pieces of a line put together, where its first piece stands: pdfminer (and a text
    detector) cuts a justified line where its spaces are wide, and may order the pieces apart. Pieces on one
    baseline that overlap or stand far apart (a sidebar beside the text) stay lines of their own."""
    out: list[Line] = []
    pieces: dict[int, list[Line]] = {}     # id of a first piece -> the pieces on its baseline, in reading order
    for line in lines:
        for first in reversed(out[-12:]):   # a line's pieces are read close together
            if first.page == line.page and first.column == line.column and abs(first.y0 - line.y0) < 0.3 * first.size:
                pieces[id(first)].append(line)
                break
        else:
            out.append(line)
            pieces[id(line)] = [line]
    whole: list[Line] = []
    joined: list[Line] = []
    for first in out:
        row = sorted(pieces[id(first)], key=lambda p: p.x0)
        if len(row) > 1 and all(0 <= b.x0 - a.x1 < 2 * first.size for a, b in zip(row, row[1:])):
            first.text = " ".join(p.text for p in row)
            first.x0, first.x1 = row[0].x0, row[-1].x1
            joined.append(first)
        else:
            whole.extend(pieces[id(first)])
    pages: dict[int, list[Line]] = {}
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


def _word_fits(before: Line, line: Line) -> bool:
    """Whether the first word of ``line`` would have fitted at the end of ``before``: then the line was broken
    on purpose (a paragraph's end, a heading), not because the text reached the column's edge."""
    if before.text.endswith("-"):
        return False
    width = (line.x1 - line.x0) / max(len(line.text), 1)      # the mean width of a character
    word = line.text.split(" ", 1)[0]
    return before.right - before.x1 > (len(word) + 2) * width * 1.15


def _joined(before: Line, line: Line, gap: float, indented: bool) -> bool:
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


def paragraphs(blocks: list[list[Line]]) -> list[str]:
    """The paragraphs of the lines of ``blocks`` (each block a list of lines, the blocks of each page in the order
    its reader found them, pages in order), in reading order; the module's docstring says how."""
    skip = _furniture(blocks)
    lines = _whole([line for block in blocks for line in block if id(line) not in skip])
    _columns(lines)
    gaps = [(before.size, before.y0 - line.y1) for before, line in zip(lines, lines[1:])
            if line.page == before.page and 0 <= before.y0 - line.y1 < 2 * before.size
            and abs(line.size - before.size) < 0.15 * before.size]

    known: dict[float, float] = {}

    def spacing(size: float) -> float:
        """The space between the lines of a paragraph in print of ``size``: most gaps between such lines (a
        title's lines stand further apart than the text's)."""
        if size not in known:
            alike = sorted(g for s, g in gaps if abs(s - size) < 0.15 * size) or sorted(g for _, g in gaps)
            known[size] = alike[len(alike) // 5] if alike else 0.0
        return known[size]

    indented = sum(line.page == before.page and 0 <= before.y0 - line.y1 < spacing(before.size) + 0.25 * before.size
                   and line.x0 - line.left > 0.8 * line.size and _ends_sentence(before.text)
                   for before, line in zip(lines, lines[1:])) >= 2
    paragraphs: list[str] = []
    for i, line in enumerate(lines):
        if i and _joined(lines[i - 1], line, spacing(lines[i - 1].size), indented):
            paragraphs[-1] = _join(paragraphs[-1], line.text)
        else:
            paragraphs.append(line.text)
    return paragraphs
