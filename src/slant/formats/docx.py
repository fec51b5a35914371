"""Word documents (.docx) to Documents, with the standard library only (zipfile, xml.etree).

The Document's text is the document body's paragraphs, one per line with a blank line between (the
layout of the SemEval article files, and of pages read by ``formats.html``); a line break inside a
paragraph (Shift+Enter) starts a new one, as a ``<br>`` does in a page. The first line is the title.
Deleted text of tracked changes, field codes, headers, footers and comments are not article text and
are left out; inserted text and the paragraphs of tables and text boxes are kept.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

from ..document import Document
from ..errors import InputError

__all__ = ["is_docx", "document_from_docx"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Word writes a text box twice, for new readers (mc:Choice) and old ones (mc:Fallback): the fallback is skipped.
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
BODY = "word/document.xml"
# A body's markup is some 20 times its text; this is a hundred books. More is a zip bomb, not an article.
MAX_BODY_BYTES = 256 * 2**20


def is_docx(raw: bytes) -> bool:
    """Whether ``raw`` is a Word document: a ZIP archive holding ``word/document.xml``."""
    if not raw.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return BODY in archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def _lines(root: ElementTree.Element) -> list[str]:
    """The body's paragraphs in document order, each split at its line breaks, white space collapsed."""
    paragraphs: list[list[str]] = []

    def walk(element: ElementTree.Element, parts: list[str]) -> None:
        for child in element:
            tag = child.tag
            if tag == _W + "p":          # a paragraph; one inside a text box is a paragraph of its own
                inner: list[str] = []
                walk(child, inner)
                paragraphs.append(inner)
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
    return [" ".join(line.split()) for parts in paragraphs for line in "".join(parts).split("\n")
            if line.strip()]


def document_from_docx(raw: bytes, doc_id: str, source: str) -> Document:
    """A Document from a .docx file's bytes; InputError naming ``source`` when it cannot be read or holds no text.

    >>> import io, zipfile
    >>> body = ('<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    ...         '<w:p><w:r><w:t>A Title</w:t></w:r></w:p><w:p/><w:p><w:r><w:t xml:space="preserve">Body </w:t>'
    ...         '</w:r><w:del><w:r><w:delText>gone </w:delText></w:r></w:del><w:r><w:t>text.</w:t></w:r></w:p>'
    ...         '</w:body></w:document>')
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as archive:
    ...     archive.writestr("word/document.xml", body)
    >>> document_from_docx(buffer.getvalue(), "a", "a.docx").text
    'A Title\\n\\nBody text.\\n'
    """
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            info = archive.getinfo(BODY)
            if info.file_size > MAX_BODY_BYTES:
                raise InputError(f"{source}: a Word document whose text is too large to read "
                                 f"({info.file_size:,} bytes of markup)")
            xml = archive.read(info)
    except KeyError:
        raise InputError(f"{source}: a ZIP archive, not a Word document (no {BODY})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, ValueError, OSError) as ex:
        # RuntimeError: a document encrypted with a password
        raise InputError(f"{source}: not a readable Word document ({ex})") from None
    if b"<!DOCTYPE" in xml[:4096]:   # Word never writes one; entity definitions are how XML bombs work
        raise InputError(f"{source}: not a readable Word document (a DOCTYPE in its body)")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as ex:
        raise InputError(f"{source}: not a readable Word document ({ex})") from None
    lines = _lines(root)
    if not lines:
        raise InputError(f"{source}: no text in the Word document")
    return Document(doc_id, "\n\n".join(lines) + "\n", source=source)
