"""Rich Text Format documents (.rtf: WordPad's, TextEdit's, and what many newsrooms and press offices still send)
to Documents.

striprtf turns the markup into text (``\\par`` and ``\\line`` end lines; ``\\'e9`` is read in the code page the
document declares, ``\\ansicpg1252``; ``\\u8220?`` is the character it names); its lines are the Document's
paragraphs, one per line with a blank line between, the first the title, as ``formats.office`` writes a Word
document's.
"""

from __future__ import annotations

import codecs
import re

from ..document import Document
from ..errors import InputError

__all__ = ["is_rtf", "document_from_rtf"]

_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*\{\\rtf")


def is_rtf(raw: bytes) -> bool:
    """Whether ``raw`` is an RTF document, by its first bytes.

    >>> is_rtf(b"{\\\\rtf1\\\\ansi Hello}"), is_rtf(b"{ a JSON object }")
    (True, False)
    """
    return bool(_START.match(raw[:64]))


def _code_page(raw: bytes) -> str:
    declared = re.search(rb"\\ansicpg(\d{3,5})", raw[:4096])
    if declared:
        try:
            return codecs.lookup(f"cp{int(declared.group(1))}").name
        except LookupError:
            pass
    return "cp1252"


def document_from_rtf(raw: bytes, doc_id: str, source: str) -> Document:
    """A Document from an RTF file's bytes; InputError naming ``source`` when it is not RTF or holds no text.

    >>> document_from_rtf(rb"{\\rtf1\\ansi{\\b A Title}\\par caf\\'e9 \\u8220?society\\u8221?\\par}", "a", "a.rtf").text
    'A Title\\n\\ncafé “society”\\n'
    """
    from striprtf.striprtf import rtf_to_text

    if not is_rtf(raw):
        raise InputError(f"{source}: not an RTF document (it does not start with {{\\rtf)")
    # the markup is 7-bit; a byte above 127 outside an escape is read as the declared code page's
    encoding = _code_page(raw)
    try:
        text = rtf_to_text(raw.decode(encoding, errors="replace"), encoding=encoding, errors="replace")
    except (ValueError, IndexError, RecursionError) as ex:
        raise InputError(f"{source}: not a readable RTF document ({type(ex).__name__}: {ex})") from None
    lines = [" ".join(line.split()) for line in text.replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise InputError(f"{source}: no text in the RTF document")
    return Document(doc_id, "\n\n".join(lines) + "\n", source=source)
