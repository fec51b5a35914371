"""Web pages saved as one file (.mhtml, .mht: Chrome's and Edge's "Save as... Webpage, Single File", how many
newsrooms and archives keep a page) to the HTML of the page.

Such a file is a MIME message (multipart/related): the page's HTML is one part, quoted-printable or base64,
beside its pictures and styles; ``Snapshot-Content-Location`` says where it was saved from. The page is then
read as ``formats.html`` reads one, with that address as its URL.
"""

from __future__ import annotations

import email
import email.policy

from ..errors import InputError
from .eml import mime_headers
from .html import decode_html

__all__ = ["is_mhtml", "page_of_mhtml"]

SUFFIXES = (".mhtml", ".mht")


def is_mhtml(raw: bytes, name: str = "") -> bool:
    """Whether ``raw`` is a saved single-file page: named .mhtml/.mht, or a MIME message whose headers declare
    multipart/related.

    >>> is_mhtml(b"From: <Saved by Blink>\\r\\nMIME-Version: 1.0\\r\\nContent-Type: multipart/related;\\r\\n"
    ...          b"\\ttype=\\"text/html\\"\\r\\n\\r\\n--b\\r\\n"), is_mhtml(b"Subject: notes\\n\\nmultipart/related")
    (True, False)
    """
    if name.lower().endswith(SUFFIXES):
        return True
    head = mime_headers(raw)
    return head is not None and b"multipart/related" in head.lower()


def page_of_mhtml(raw: bytes, where: str) -> tuple[str, str | None]:
    """The HTML of the page a .mhtml file holds, and the address it was saved from (None when it names none);
    InputError naming ``where`` when it holds no HTML part."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        location = str(message.get("Snapshot-Content-Location") or "").strip() or None
        pages = [part for part in message.walk() if part.get_content_type() == "text/html"]
        page = next((p for p in pages if str(p.get("Content-Location") or "").strip() == location),
                    pages[0] if pages else None)
        body = page.get_payload(decode=True) if page is not None else None
        charset = page.get_content_charset() if page is not None else None
    except (LookupError, ValueError, TypeError, AttributeError, IndexError) as ex:   # a broken MIME structure
        raise InputError(f"{where}: not a readable saved web page (MHTML: {type(ex).__name__})") from None
    if page is None:
        raise InputError(f"{where}: a saved web page (MHTML) without an HTML part")
    if not isinstance(body, bytes) or not body.strip():
        raise InputError(f"{where}: a saved web page (MHTML) whose HTML part is empty")
    return decode_html(body, where, charset), location
