"""HTML pages to Documents: title and paragraphs extracted with trafilatura.

The Document's text is the title on the first line, then one paragraph per line
with a blank line between (the layout of the SemEval article files); the page's
URL and publication date are kept when present, and — for corpus mode, where a
Document's source is the outlet — its site name.
"""

from __future__ import annotations

import re

from ..document import Document
from ..errors import InputError

__all__ = ["document_from_html"]


def document_from_html(page: str, doc_id: str, source: str, url: str | None = None, *,
                       site_as_source: bool = False) -> Document:
    """A Document from an HTML page; InputError naming ``source`` when no article text can be found.
    With ``site_as_source`` the Document's source is the page's site instead of ``source``: its
    ``og:site_name``, else the host of its URL or canonical link (None when the page names neither)."""
    import trafilatura

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
