"""What a worker does with a batch of Records: decode, extract HTML, analyse, and turn the
Document into table rows.  The model is loaded once per worker process (``init_worker``)
and kept in a module global; the local pool and the Ray actors both call ``analyse_batch``.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
from collections import Counter

from ..document import Document
from ..errors import NotUnicodeError, SlantError, TextTooLongError
from ..fetch import FetchAhead
from ..language import NotEnglishError
from ..formats.html import document_from_html
from ..formats.tsv import decode_text
from ..inputs import DOCUMENT_KINDS, PAGE_KINDS, page_text, read_document, read_url
from ..segment import is_blank
from .records import Record

__all__ = ["init_worker", "analyse_batch", "Outcome", "article_row", "span_rows", "parse_date"]

_DETECTOR = None
_FETCH: dict = {}   # slant.fetch.fetch's options for the records that name their article by its address
CONTEXT = 80  # characters of context kept on each side of a span


def init_worker(model: str | None, threads: int, thresholds: str = "micro", fetch_options: dict | None = None) -> None:
    """Load the model once for this process (the pool initializer / the Ray actor's constructor)."""
    global _DETECTOR, _FETCH
    from ..runtime import load_detector

    _DETECTOR = load_detector(model, threads=threads, thresholds=thresholds)
    _FETCH = dict(fetch_options or {})


class Outcome:
    """What became of one Record: an article row with its span rows, or an error reason."""

    __slots__ = ("record", "article", "spans", "error")

    def __init__(self, record: Record, article: dict | None = None, spans: list[dict] | None = None,
                 error: str | None = None):
        self.record, self.article, self.spans, self.error = record, article, spans or [], error


def analyse_batch(records: list[Record]) -> tuple[list[Outcome], int, int]:
    """Outcomes for these records, in order, with this process's id and peak RSS in bytes.

    A record that cannot be read or analysed becomes an error outcome with the
    reason; nothing here raises for one bad article."""
    outcomes = []
    linked = [r for r in records if r.kind == "url"]
    with FetchAhead(linked if len(linked) > 1 else [], lambda r: r.data, lambda r: _document(r, r.data)) as pages:
        for record in records:
            outcomes.append(_outcome(record, pages))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return outcomes, os.getpid(), peak


def _outcome(record: Record, pages: FetchAhead) -> Outcome:
    try:
        # a page fetched ahead reads its record's address in its own thread: the text goes only after it is taken
        doc = pages.result(record) if record in pages else _document(record, record.data)
        record.data = b""  # the text is not sent back
        _DETECTOR.analyze(doc)
        return Outcome(record, article_row(record, doc), span_rows(record, doc))
    except (NotEnglishError, TextTooLongError, NotUnicodeError) as ex:  # the message starts with the source
        return Outcome(record, error=ex.reason)
    except SlantError as ex:
        return Outcome(record, error=_reason(record, str(ex)))
    except Exception as ex:  # a bug must not end a 100,000-article run: report it as this article's error
        return Outcome(record, error=f"analysis failed: {ex.__class__.__name__}: {ex}")
    finally:
        record.data = b""


def _reason(record: Record, message: str) -> str:
    """The reason without the origin the message may start with (the errors table has its own column)."""
    return message.removeprefix(record.origin + ": ")


def _document(record: Record, data: bytes | str) -> Document:
    if record.kind == "url":   # a row with an address and no text: the article is fetched (slant.fetch's rules)
        doc = read_url(data, site_as_source=True, **_FETCH)
        doc.id = record.key
        doc.title, doc.date = record.title or doc.title, record.date or doc.date
        doc.source, doc.language = record.source or doc.source, record.language
        return doc
    if record.kind in DOCUMENT_KINDS:
        doc = read_document(data, record.kind, record.key, record.origin)
        doc.title, doc.source, doc.url, doc.date = record.title or doc.title, record.source, record.url, record.date
        doc.language = record.language
        return doc
    saved_from = None
    if isinstance(data, str):
        text = data
    elif record.kind in PAGE_KINDS:   # a saved page in windows-1252 reads by its <meta> charset
        text, saved_from = page_text(data, record.origin, record.kind)
    else:
        text = decode_text(data, record.origin)
    if is_blank(text):
        raise SlantError("empty, no text to read")
    if record.kind in PAGE_KINDS:
        doc = document_from_html(text, record.key, record.origin, record.url or saved_from, site_as_source=True)
        doc.title = record.title or doc.title
        doc.date = record.date or doc.date
        doc.url = record.url or doc.url
        doc.source = record.source or doc.source
    else:
        doc = Document(record.key, text, title=record.title, source=record.source, url=record.url,
                       date=record.date)
    doc.language = record.language
    return doc


def parse_date(text: str | None) -> dt.date | None:
    """The calendar date of an ISO-8601 date or timestamp ("2024-03-05", "2024-03-05T10:00:00Z"), else None."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def article_row(record: Record, doc: Document) -> dict:
    paragraphs: Counter[str] = Counter()
    best: dict[str, float] = {}
    for labels in (doc.techniques or {}).values():
        for label in labels:
            paragraphs[label.name] += 1
            best[label.name] = max(best.get(label.name, 0.0), label.score)
    spans = Counter(s.technique for s in doc.spans)
    for s in doc.spans:
        best[s.technique] = max(best.get(s.technique, 0.0), s.score)
    names = sorted(set(paragraphs) | set(spans), key=lambda n: (-best[n], n))
    return {
        "key": record.key,
        "id": record.id,
        "origin": record.origin,
        "title": doc.title,
        "source": doc.source,
        "url": doc.url,
        "date": parse_date(doc.date),
        "date_text": doc.date,
        "chars": len(doc.text),
        "paragraphs": len(doc.paragraphs),
        "genre": doc.genre.name if doc.genre else None,
        "genre_score": doc.genre.score if doc.genre else None,
        "frames": None if doc.frames is None else [f.name for f in doc.frames],   # None: too short to tell
        "frame_scores": None if doc.frames is None else [f.score for f in doc.frames],
        "techniques": names,
        "technique_stats": [{"technique": n, "paragraphs": paragraphs[n], "spans": spans[n], "max_score": best[n]}
                            for n in names],
        "spans": len(doc.spans),
    }


def span_rows(record: Record, doc: Document) -> list[dict]:
    rows = []
    for s in doc.spans:
        p = doc.paragraph_at(s.start)
        rows.append({"key": record.key, "id": record.id, "source": doc.source, "date": parse_date(doc.date),
                     "technique": s.technique, "start": s.start, "end": s.end,
                     "paragraph": p.number if p else None, "score": s.score, "text": s.text,
                     "before": _context(doc.text, p.start if p else 0, s.start, before=True),
                     "after": _context(doc.text, s.end, p.end if p else len(doc.text), before=False)})
    return rows


def _context(text: str, start: int, end: int, before: bool, width: int = CONTEXT) -> str:
    """Up to ``width`` characters of the span's paragraph beside it, cut at a word boundary."""
    piece = text[start:end]
    if len(piece) <= width:
        return piece
    if before:
        piece = piece[-width:]
        cut = piece.find(" ")
        return "…" + (piece[cut + 1:] if 0 <= cut < width // 2 else piece)
    piece = piece[:width]
    cut = piece.rfind(" ")
    return (piece[:cut] if cut > width // 2 else piece) + "…"
