"""Where articles come from: text, HTML (and pages saved as one .mhtml file), Word, OpenDocument, RTF and PDF
files, saved emails, pictures of text (by OCR, with slant's ``[ocr]`` extra), folders of them, http(s) URLs, and
standard input.

``read_inputs`` yields one result per article: a Document, or the InputError
that says why that input could not be read, so that a batch reports its bad
files and still analyzes the rest.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import BinaryIO, Iterator

from .document import Document
from .errors import InputError, SlantError
from .formats.articles import article_id, read_article
from .formats.tsv import decode_text, read_bytes
from .segment import is_blank

__all__ = ["read_inputs", "input_sources", "read_sources", "read_stdin", "read_url", "read_file",
           "document_from_bytes", "file_kind", "read_document", "page_text", "DOCUMENT_KINDS", "PAGE_KINDS", "is_url",
           "EMPTY_PATH", "given_path", "TABLE_SUFFIXES", "folder_files", "NO_FILES", "url_id"]

STDIN = "-"
HTML_SUFFIXES = (".html", ".htm")
# what a folder's articles are
SUFFIXES = (".txt", ".docx", ".odt", ".rtf", ".pdf", ".eml", ".mhtml", ".mht") + HTML_SUFFIXES
PAGE_KINDS = ("html", "mhtml")   # files read as web pages (page_text)
DOCUMENT_KINDS = ("docx", "odt", "rtf", "pdf", "eml", "image")   # files in a document format (read_document)
TABLE_SUFFIXES = (".json", ".jsonl", ".csv", ".tsv", ".parquet")   # tables of articles: slant batch reads them


# pathlib reads "" as ".", so an empty argument (an unset shell variable: slant analyze "$FILE") would analyse the
# current folder; it is refused with this reason instead.
EMPTY_PATH = "an empty path names no file or folder"


def given_path(raw: str) -> Path:
    """``raw`` as a Path; InputError for an empty one.

    >>> given_path("notes/a.txt").name
    'a.txt'
    """
    if not raw:
        raise InputError(f"'': {EMPTY_PATH}")
    return Path(raw)


def is_url(raw: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", raw))


def url_id(url: str) -> str:
    """A Document id from an address: its last path part without extension ("story" for .../story.html), else
    its host."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    tail = [p for p in parts.path.split("/") if p]
    name = re.sub(r"\.[A-Za-z0-9]+$", "", tail[-1]) if tail else (parts.hostname or "url")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "url"


def read_url(url: str, site_as_source: bool = False, **fetch_options) -> Document:
    """Fetch ``url`` (slant.fetch rules) and turn the page into a Document; FetchError / InputError on failure.
    Its source is ``url``, or with ``site_as_source`` the site (a page's ``og:site_name``, else the host), as
    ``slant batch`` gives its articles."""
    from urllib.parse import urlsplit

    from .fetch import DOCUMENT_TYPES, DOWNLOAD_TYPES, fetch
    from .formats.html import decode_html, document_from_html, is_html_page

    page = fetch(url, **fetch_options)
    source = (urlsplit(page.url).hostname or url) if site_as_source else url
    if page.content_type in DOWNLOAD_TYPES:   # a download (a PDF behind a "download" link): read as a file is
        from urllib.parse import unquote
        name = unquote(urlsplit(page.url).path.rstrip("/").rsplit("/", 1)[-1]) or "download"
        try:
            doc = document_from_bytes(page.body, name)
        except InputError as ex:   # named by the URL asked for, not by the file's name
            said = str(ex)
            raise InputError(url + said[len(name):] if said.startswith(name + ": ") else said) from None
        doc.id, doc.source, doc.url = url_id(page.url), source, page.url
        return doc
    if page.content_type in DOCUMENT_TYPES:
        doc = read_document(page.body, DOCUMENT_TYPES[page.content_type], url_id(page.url), url)
        doc.source, doc.url = source, page.url
        return doc
    if page.content_type == "text/plain" and not is_html_page(page.body):   # a page served as plain text is a page
        try:
            text = page.body.decode(page.charset or "utf-8")
        except (LookupError, UnicodeDecodeError):
            text = page.body.decode("utf-8", errors="replace")
        if is_blank(text):
            raise InputError(f"{url}: empty page, no text to read")
        return Document(url_id(page.url), text, source=source, url=page.url)
    doc = document_from_html(decode_html(page.body, url, page.charset, lenient=True), url_id(page.url), url,
                             page.url, site_as_source=site_as_source)
    doc.source = doc.source or source
    return doc


def _page(raw: bytes, doc_id: str, where: str, kind: str = "html") -> Document:
    """A page's bytes (``kind`` "html") or a page saved as one file ("mhtml") as a Document."""
    from .formats.html import document_from_html

    text, url = page_text(raw, where, kind)
    if is_blank(text):
        raise InputError(f"{where}: empty file, no text to read")
    return document_from_html(text, doc_id, where, url)


def page_text(raw: bytes, where: str, kind: str) -> tuple[str, str | None]:
    """The HTML of a page file (``kind`` "html") or of a page saved as one file ("mhtml"), and the web address
    it was saved from when it says (an http(s) one only)."""
    from .formats.html import decode_html
    if kind != "mhtml":
        return decode_html(raw, where), None
    from .formats.mhtml import page_of_mhtml
    text, location = page_of_mhtml(raw, where)
    return text, location if location and re.match(r"(?i)^https?://", location) else None


def read_file(path: Path) -> Document:
    """A file as a Document (``document_from_bytes``)."""
    return document_from_bytes(read_bytes(path), str(path))


def document_from_bytes(raw: bytes, name: str) -> Document:
    """A file's bytes as a Document, by what they are: a Word, OpenDocument, RTF or PDF document (.docx, .odt,
    .rtf, .pdf), a picture of text (read by OCR) or an HTML page (named .html/.htm, or opening as a page whatever
    its name: `curl URL > page.txt`) has its article extracted; anything else is the article's exact text.
    ``name``, the file's path or name, gives the id and the source; a table of articles (.csv, .jsonl, ...) is
    refused with a pointer to `slant batch`."""
    path = Path(name)
    _refuse_table(name)
    kind = file_kind(raw, name)
    if kind in DOCUMENT_KINDS:
        return read_document(raw, kind, article_id(path), name)
    if kind in PAGE_KINDS:
        return _page(raw, article_id(path), name, kind)
    return read_article(path, data=raw)


def read_document(raw: bytes, kind: str, doc_id: str, source: str) -> Document:
    """A document's bytes as a Document: ``kind`` "docx" or "odt" (formats.office), "rtf" (formats.rtf), "pdf"
    (formats.pdf), "eml" (formats.eml, a saved email) or "image" (formats.ocr, a picture of text), its paragraphs
    one per line with a blank line between, the first the title; InputError naming ``source``."""
    if kind == "image":
        from .formats.ocr import document_from_image, image_kind
        return document_from_image(raw, doc_id, source, image_kind(raw) or "a picture")
    if kind == "pdf":
        from .formats.pdf import document_from_pdf
        return document_from_pdf(raw, doc_id, source)
    if kind == "rtf":
        from .formats.rtf import document_from_rtf
        return document_from_rtf(raw, doc_id, source)
    if kind == "eml":
        from .formats.eml import document_from_eml
        return document_from_eml(raw, doc_id, source)
    from .formats.office import document_from_office
    return document_from_office(raw, kind, doc_id, source)


def file_kind(raw: bytes, name: str) -> str:
    """How a file is read, by its name and first bytes: "docx", "odt", "rtf" or "pdf" (a Word, OpenDocument, RTF or PDF
    document; RTF by its first bytes only, a text named .rtf is text), "image" (a PNG, JPEG, WebP, GIF, TIFF or BMP
    picture, by its first bytes: read by OCR), "mhtml" (a page saved as one file,
    .mhtml/.mht), "eml" (a saved email: named .eml, or opening with From: and Subject: headers), "html" (named
    .html/.htm, or opening as a page whatever its name), else "text". `slant analyze`, `slant batch` and standard
    input all ask."""
    from .formats.html import is_html_page
    from .formats.office import office_kind
    from .formats.pdf import is_pdf
    from .formats.eml import is_eml
    from .formats.mhtml import is_mhtml
    from .formats.ocr import image_kind
    from .formats.rtf import is_rtf

    path = Path(name)
    suffix = path.suffix.lower()
    if kind := office_kind(raw, path.name):
        return kind
    if suffix == ".pdf" or is_pdf(raw):
        return "pdf"
    if is_rtf(raw):
        return "rtf"
    if image_kind(raw):
        return "image"
    if is_mhtml(raw, path.name):
        return "mhtml"
    if is_eml(raw, path.name):
        return "eml"
    return "html" if suffix in HTML_SUFFIXES or is_html_page(raw) else "text"


def _refuse_table(name: str) -> None:
    """InputError for a table of articles (.csv, .jsonl, ...): not one text, its rows are articles."""
    suffix = Path(name).suffix.lower()
    if suffix in TABLE_SUFFIXES:
        raise InputError(f"{name}: a table of articles ({suffix[1:].upper()}), not one text; analyse its rows with "
                         f"slant batch {name} -o OUT")


def read_stdin(stream: BinaryIO | None = None, doc_id: str = "stdin") -> Document:
    """Standard input as a Document: an HTML page (`curl URL | slant analyze -`), a Word, OpenDocument, RTF or
    PDF document, a saved email or a picture of text has its article extracted, anything else is the article's
    exact text."""
    raw = (stream or sys.stdin.buffer).read()
    kind = file_kind(raw, "")
    if kind in DOCUMENT_KINDS:
        return read_document(raw, kind, doc_id, "<stdin>")
    if kind in PAGE_KINDS:
        return _page(raw, doc_id, "<stdin>", kind)
    text = decode_text(raw, "<stdin>")
    if is_blank(text):
        raise InputError("<stdin>: empty input, no text to read")
    return Document(doc_id, text, source="<stdin>")


def folder_files(folder: Path) -> list[Path]:
    """The .txt, .html, .mhtml, .docx, .odt, .rtf, .pdf and .eml files in ``folder`` and its subfolders (not through
    links to folders), in name order. Passed over: Word's lock files (``~$name.docx``, while a document is open;
    LibreOffice's are hidden files), hidden files and folders (``.git``, ``.venv`` with its licence and metadata
    .txt files, ``.ipynb_checkpoints`` with copies of the articles), and the ``page_files/`` folder a browser's
    "save complete page" keeps beside ``page.html`` (its pictures, scripts and embedded frames: adverts and posts
    that are parts of the page, not articles). Pictures are passed over too (a folder's photos illustrate its
    articles); a picture named as an input is read by OCR. A file named as an input is read whatever its name."""
    found = []
    for root, dirs, files in os.walk(folder):
        files = [name for name in files if not name.startswith((".", "~$"))]   # ~$x.docx: Word's lock file
        pages = {Path(name).stem for name in files if Path(name).suffix.lower() in HTML_SUFFIXES}
        dirs[:] = [d for d in dirs if not d.startswith(".") and not (d.endswith("_files") and d[:-6] in pages)]
        found.extend(Path(root) / name for name in files if Path(name).suffix.lower() in SUFFIXES)
    return sorted(p for p in found if p.is_file())


NO_FILES = "no .txt, .html, .mhtml, .docx, .odt, .rtf, .pdf or .eml files in this folder or its subfolders"


def _folder_files(folder: Path) -> list[Path]:
    files = folder_files(folder)
    if not files:
        raise InputError(f"{folder}: {NO_FILES}")
    return files


Source = Path | str | SlantError   # a file, a URL or "-", or why an input names none


def input_sources(paths: list[str], output: Path | None = None) -> list[Source]:
    """What ``paths`` name, in order, read by nothing yet: each file (folders listed, subfolders too), URL and
    "-", or the InputError of an input that names none (an empty path, a folder without articles, a table).

    ``output`` (where the caller writes as Documents come) is never a source: not when a folder holds it (an
    earlier run's report is no article); an input that is the output itself raises InputError, before anything
    could overwrite it."""
    def same(path: Path) -> bool:
        return output is not None and path.resolve() == output.resolve()

    sources: list[Source] = []
    for raw in paths:
        if raw == STDIN or is_url(raw):
            sources.append(raw)
            continue
        try:
            path = given_path(raw)
            if path.is_dir():
                sources.extend(f for f in _folder_files(path) if not same(f))
                continue
            if path.is_file():   # a table is refused before anything is read
                _refuse_table(str(path))
        except SlantError as ex:
            sources.append(ex)
            continue
        if same(path):   # the whole run stops: writing anything would overwrite this input
            raise InputError(f"{path}: the output too; give -o another file (it would overwrite this input)")
        sources.append(path)
    return sources


def read_sources(sources: list[Source], **fetch_options) -> Iterator[Document | SlantError]:
    """A Document for every source of ``input_sources`` (ids made unique: a second "a" is "a-2"), or the
    SlantError that says why it could not be read. Several URLs are fetched side by side, ahead of their turn
    (``fetch.FetchAhead``); ``fetch_options`` go to ``fetch.fetch``."""
    from .fetch import FetchAhead

    seen_ids: dict[str, int] = {}

    def unique(doc: Document) -> Document:
        n = seen_ids.get(doc.id, 0)
        seen_ids[doc.id] = n + 1
        if n:
            doc.id = f"{doc.id}-{n + 1}"
        return doc

    urls = [source for source in sources if isinstance(source, str) and source != STDIN]
    with FetchAhead(urls if len(urls) > 1 else [], str, lambda url: read_url(url, **fetch_options)) as pages:
        for source in sources:
            if isinstance(source, SlantError):
                yield source
                continue
            try:
                if source == STDIN:
                    yield unique(read_stdin())
                elif isinstance(source, str):
                    yield unique(pages.result(source) if source in pages else read_url(source, **fetch_options))
                else:
                    yield unique(read_file(source))
            except SlantError as ex:
                yield ex


def read_inputs(paths: list[str], output: Path | None = None, **fetch_options) -> Iterator[Document | SlantError]:
    """Documents for every input: a file (``document_from_bytes``), a folder (its ``folder_files``), an http(s)
    URL, or '-' for standard input; ``input_sources``, then ``read_sources``."""
    return read_sources(input_sources(paths, output), **fetch_options)
