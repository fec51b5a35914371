"""HTML pages to Documents: title and paragraphs extracted with trafilatura.

The Document's text is the title on the first line, then one paragraph per line
with a blank line between (the layout of the SemEval article files); the page's
URL and publication date are kept when present, and — for corpus mode, where a
Document's source is the outlet — its site name.
"""

from __future__ import annotations

import codecs
import re

from ..document import Document
from ..errors import InputError
from .tsv import UTF16_BOMS, by_byte_order_mark, decode_text, not_text

__all__ = ["decode_html", "document_from_html", "is_html_page", "GENERATOR_META"]

# Every page slant writes (the HTML report, the dashboard, the web app) names slant as its generator in its head.
# Read back as an article, such a page was a text of a few words about slant itself, given frames and techniques;
# it is refused instead.
GENERATOR_META = '<meta name="generator" content="slant">'
_SLANT_PAGE = re.compile(r"""<meta\s+name=["']generator["']\s+content=["']slant["']""", re.IGNORECASE)

# <meta charset="windows-1252"> or <meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"),) + UTF16_BOMS


# What an HTML page opens with, whatever its file is called: `curl URL > page.txt` and `curl URL | slant analyze -`
# give pages without an .html name.  A byte-order mark, white space, an XML declaration, a doctype and comments
# may come before <html>; a text article does not open so.
_PAGE_START = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s|<\?xml[^>]*>|<!--.*?-->)*(?:<!doctype\s+html\b|<html[\s>])",
                         re.IGNORECASE | re.DOTALL)


def is_html_page(raw: bytes) -> bool:
    """Whether ``raw`` (a file's or standard input's bytes) is an HTML page by its opening.

    >>> is_html_page(b"\\n<!DOCTYPE html>\\n<html lang='en'><p>Hi</p>"), is_html_page(b'<?xml version="1.0"?><html>')
    (True, True)
    >>> is_html_page(b"<HTML><BODY>Hi"), is_html_page(b"Why the <html> tag matters")
    (True, False)
    """
    return bool(_PAGE_START.match(raw[:4096]))


def decode_html(raw: bytes, where: str, declared: str | None = None, lenient: bool = False) -> str:
    """The text of an HTML page from its bytes: by its byte-order mark; else as UTF-8 when the bytes are
    UTF-8; else by the charset the server ``declared``, else by the page's own ``<meta>`` charset (in its
    first 4 KB: pages saved from older sites are often windows-1252 or iso-8859-1). InputError naming
    ``where`` when none of these reads it — or, ``lenient`` (a fetched page), UTF-8 with the bytes it
    cannot read replaced.

    >>> decode_html(b'<meta charset="windows-1252"><p>caf\\xe9</p>', "page.html")
    '<meta charset="windows-1252"><p>café</p>'
    """
    error = not_text(raw, where)
    if error is not None:
        raise error
    text = by_byte_order_mark(raw, where, _BOMS, "replace" if lenient else "strict")
    if text is not None:
        return text
    try:
        return decode_text(raw, where)
    except InputError as not_utf8:
        if b"\x00" in raw and not lenient:
            raise
        found = _META_CHARSET.search(raw[:4096])
        meta = found.group(1).decode("ascii") if found else None
        for charset, how in ((declared, "as its server declares"), (meta, "as its <meta> declares")):
            if not charset or _codec_name(charset) == "utf-8":
                continue
            try:
                return raw.decode(charset)
            except LookupError:
                if not lenient:
                    raise InputError(f"{where}: unknown charset {charset!r} ({how})") from None
            except UnicodeDecodeError as ex:
                if not lenient:
                    raise InputError(f"{where}: not {charset} text {how} (byte 0x{raw[ex.start]:02x} at "
                                     f"offset {ex.start})") from None
        if lenient:
            return raw.decode("utf-8", errors="replace")
        if declared or meta:   # it says UTF-8 and is not
            raise
        raise InputError(f"{not_utf8}, and the page declares no charset") from None


def _codec_name(charset: str) -> str | None:
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def document_from_html(page: str, doc_id: str, source: str, url: str | None = None, *,
                       site_as_source: bool = False) -> Document:
    """A Document from an HTML page; InputError naming ``source`` when no article text can be found.
    With ``site_as_source`` the Document's source is the page's site instead of ``source``: its
    ``og:site_name``, else the host of its URL or canonical link (None when the page names neither)."""
    import trafilatura

    if _SLANT_PAGE.search(page[:4096]):
        raise InputError(f"{source}: a page slant wrote (a report or dashboard), not an article")
    try:
        found = trafilatura.bare_extraction(page, url=url, with_metadata=True, include_comments=False,
                                            include_tables=False)
    except Exception as ex:  # trafilatura raises many kinds on broken markup
        raise InputError(f"{source}: cannot parse the HTML ({ex.__class__.__name__})") from None
    data = (found.as_dict() if hasattr(found, "as_dict") else found) if found else {}
    lines = [" ".join(line.split()) for line in (data.get("text") or "").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise InputError(f"{source}: no article text found in the HTML")
    title = " ".join((data.get("title") or "").split())
    if title and lines[0] != title:
        lines.insert(0, title)
    date = data.get("date")
    site = " ".join((data.get("sitename") or data.get("hostname") or "").split()) or None
    return Document(doc_id, "\n\n".join(lines) + "\n", title=lines[0] if title else None,
                    source=site if site_as_source else source,
                    url=data.get("url") or url, date=date if date and re.match(r"\d{4}-\d{2}-\d{2}", date) else None)
