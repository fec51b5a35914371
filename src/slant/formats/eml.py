"""Emails saved as files (.eml: what Outlook, Thunderbird and Apple Mail save, how newsletters, press releases and
chain letters reach an analyst) to Documents.

The subject is the title; the body is the message's plain-text part (its HTML part, read as ``formats.html``
reads a page, where it has none), decoded by its charset and transfer encoding. Plain-text mail is wrapped at
about 72 characters, so a paragraph is a run of lines between blank lines, its lines joined. The Date header
gives the Document's date.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re

from ..document import Document
from ..errors import InputError

__all__ = ["is_eml", "document_from_eml", "mime_headers"]

# a MIME message's opening: header lines (folded ones too), then a blank line
_HEADERS = re.compile(rb"^(?:[A-Za-z][A-Za-z0-9-]*:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)+\r?\n")


def mime_headers(raw: bytes) -> bytes | None:
    """The header block a MIME message (a saved email, a page saved as .mhtml) opens with, else None."""
    head = _HEADERS.match(raw[:16384])
    return head.group() if head else None


def is_eml(raw: bytes, name: str = "") -> bool:
    """Whether ``raw`` is a saved email: named .eml, or opening with mail headers that hold From: and Subject:.

    >>> is_eml(b"From: a@b.org\\r\\nSubject: Hi\\r\\n\\r\\nBody"), is_eml(b"Subject: notes\\n\\nNo sender.")
    (True, False)
    """
    if name.lower().endswith(".eml"):
        return True
    head = mime_headers(raw)
    return head is not None and all(re.search(rb"(?im)^" + field + rb":", head) for field in (b"from", b"subject"))


def _paragraphs(text: str) -> list[str]:
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return [p for p in (" ".join(block.split()) for block in blocks) if p]


def document_from_eml(raw: bytes, doc_id: str, source: str) -> Document:
    """A Document from a saved email's bytes; InputError naming ``source`` when it holds no text.

    >>> raw = (b"From: Press Office <press@example.org>\\nSubject: The plan is a =?utf-8?q?disgrace=E2=80=94again?=\\n"
    ...        b"Date: Mon, 7 Dec 2026 10:00:00 +0100\\nContent-Type: text/plain; charset=utf-8\\n\\n"
    ...        b"They lied to you\\nagain and again.\\n\\nWake up!\\n")
    >>> doc = document_from_eml(raw, "a", "a.eml")
    >>> doc.text, doc.date
    ('The plan is a disgrace\u2014again\\n\\nThey lied to you again and again.\\n\\nWake up!\\n', '2026-12-07')
    """
    from .html import document_from_html

    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        subject = " ".join(str(message.get("Subject") or "").split())
        body = message.get_body(preferencelist=("plain", "html"))
        content = body.get_content() if body is not None else None
    except (LookupError, ValueError, TypeError, AttributeError, IndexError) as ex:   # a charset it does not know, ...
        raise InputError(f"{source}: not a readable email ({type(ex).__name__}: {ex})") from None
    if not isinstance(content, str) or not content.strip():
        raise InputError(f"{source}: an email without a text body")
    if body.get_content_type() == "text/html":
        paragraphs = document_from_html(content, doc_id, source).text.split("\n\n")
        paragraphs = [p.strip() for p in paragraphs if p.strip()]
    else:
        paragraphs = _paragraphs(content)
    if subject and (not paragraphs or paragraphs[0] != subject):
        paragraphs.insert(0, subject)
    if not paragraphs:
        raise InputError(f"{source}: an email without a text body")
    date = None
    try:
        when = email.utils.parsedate_to_datetime(str(message.get("Date") or ""))
        date = when.date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    return Document(doc_id, "\n\n".join(paragraphs) + "\n", source=source, date=date)
