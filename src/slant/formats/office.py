"""Word (.docx) and OpenDocument (.odt) text documents to Documents, with the standard library only.

Both are ZIP archives holding the document body as XML (``word/document.xml``, ``content.xml``). The
Document's text is the body's paragraphs, one per line with a blank line between (the layout of the
SemEval article files, and of pages read by ``formats.html``); a line break inside a paragraph
(Shift+Enter) starts a new one, as a ``<br>`` does in a page. The first line is the title. Deleted text
of tracked changes, field codes, footnotes, comments, headers and footers are not article text and are
left out; inserted text and the paragraphs of lists, tables and text boxes are kept.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

from ..document import Document
from ..errors import InputError

__all__ = ["office_kind", "document_from_office"]

# A body's markup is some 20 times its text; this is a hundred books. More is a zip bomb, not an article.
MAX_BODY_BYTES = 256 * 2**20
_BODIES = {"docx": ("word/document.xml", "Word document"), "odt": ("content.xml", "OpenDocument text")}

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Word writes a text box twice, for new readers (mc:Choice) and old ones (mc:Fallback): the fallback is skipped.
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_T = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


def office_kind(raw: bytes, name: str = "") -> str | None:
    """"docx" or "odt" when ``raw`` is such a document (or ``name`` ends so: a broken one is then said to be
    broken), else None."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix in _BODIES:
        return suffix
    if not raw.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names:
                return "docx"
            if ("content.xml" in names and "mimetype" in names and archive.getinfo("mimetype").file_size < 100
                    and archive.read("mimetype").strip() == _ODT_MIMETYPE):
                return "odt"
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    return None


def _docx_lines(root: ElementTree.Element) -> list[str]:
    paragraphs: list[str] = []

    def walk(element: ElementTree.Element, parts: list[str]) -> None:
        for child in element:
            tag = child.tag
            if tag == _W + "p":          # a paragraph; one inside a text box is a paragraph of its own
                inner: list[str] = []
                walk(child, inner)
                paragraphs.append("".join(inner))
            elif tag == _W + "t":
                parts.append(child.text or "")
            elif tag in (_W + "tab", _W + "ptab"):
                parts.append("\t")
            elif tag in (_W + "br", _W + "cr"):
                parts.append("\n")
            elif tag == _W + "noBreakHyphen":
                parts.append("-")
            elif tag not in (_W + "del", _W + "instrText", _W + "delText", _FALLBACK):
                walk(child, parts)

    walk(root, [])
    return paragraphs


def _odt_lines(root: ElementTree.Element) -> list[str]:
    paragraphs: list[str] = []
    skipped = (_T + "note", _T + "tracked-changes", _OFFICE + "annotation", _T + "sequence-decls",
               _OFFICE + "forms")

    def inline(element: ElementTree.Element) -> str:   # a paragraph's text: mixed content, spans nested
        out = [element.text or ""]
        for child in element:
            tag = child.tag
            if tag == _T + "s":
                out.append(" " * int(child.get(_T + "c", "1") or 1))
            elif tag == _T + "tab":
                out.append("\t")
            elif tag == _T + "line-break":
                out.append("\n")
            elif tag not in skipped:
                out.append(inline(child))
            out.append(child.tail or "")
        return "".join(out)

    def blocks(element: ElementTree.Element) -> None:
        for child in element:
            if child.tag in (_T + "p", _T + "h"):
                paragraphs.append(inline(child))
            elif child.tag not in skipped:
                blocks(child)

    body = root.find(f"{_OFFICE}body/{_OFFICE}text")
    blocks(body if body is not None else root)
    return paragraphs


def document_from_office(raw: bytes, kind: str, doc_id: str, source: str) -> Document:
    """A Document from a .docx (``kind`` "docx") or .odt ("odt") file's bytes; InputError naming ``source`` when
    it cannot be read or holds no text.

    >>> import io, zipfile
    >>> body = ('<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    ...         '<w:p><w:r><w:t>A Title</w:t></w:r></w:p><w:p/><w:p><w:r><w:t xml:space="preserve">Body </w:t>'
    ...         '</w:r><w:del><w:r><w:delText>gone </w:delText></w:r></w:del><w:r><w:t>text.</w:t></w:r></w:p>'
    ...         '</w:body></w:document>')
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as archive:
    ...     archive.writestr("word/document.xml", body)
    >>> document_from_office(buffer.getvalue(), "docx", "a", "a.docx").text
    'A Title\\n\\nBody text.\\n'
    """
    part, what = _BODIES[kind]
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            info = archive.getinfo(part)
            if info.file_size > MAX_BODY_BYTES:
                raise InputError(f"{source}: a {what} whose text is too large to read "
                                 f"({info.file_size:,} bytes of markup)")
            xml = archive.read(info)
    except KeyError:
        raise InputError(f"{source}: a ZIP archive, not a {what} (no {part})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, ValueError, OSError) as ex:
        # RuntimeError: a document encrypted with a password
        raise InputError(f"{source}: not a readable {what} ({ex})") from None
    if b"<!DOCTYPE" in xml[:4096]:   # neither writes one; entity definitions are how XML bombs work
        raise InputError(f"{source}: not a readable {what} (a DOCTYPE in its body)")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as ex:
        raise InputError(f"{source}: not a readable {what} ({ex})") from None
    paragraphs = _docx_lines(root) if kind == "docx" else _odt_lines(root)
    lines = [" ".join(line.split()) for paragraph in paragraphs for line in paragraph.split("\n") if line.strip()]
    if not lines:
        raise InputError(f"{source}: no text in the {what}")
    return Document(doc_id, "\n\n".join(lines) + "\n", source=source)
