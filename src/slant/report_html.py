"""Self-contained HTML: the report of one analysed article, and the page of the web app.

Both inline the same stylesheet and renderer (src/slant/web/report.css, report.js):
no CDN, no network.  The Document travels as JSON inside a
``<script type="application/json">`` element with ``<``, ``>`` and ``&``
escaped, so no article text can close the element; the renderer puts all text in
the page with ``textContent``, so none of it is ever parsed as markup.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib import resources

from . import schema, taxonomy
from .document import Document
from .formats.html import GENERATOR_META
from .render import heading

__all__ = ["html_report", "app_page", "taxonomy_dict", "safe_json"]


def taxonomy_dict() -> dict[str, list[dict]]:
    """Every label set with definitions and examples (what GET /api/taxonomy returns)."""
    return {kind: taxonomy.records(kind) for kind in taxonomy.KINDS}


def safe_json(value) -> str:
    """JSON that is safe inside a <script> element: no character of it can end the element.

    >>> safe_json({"t": "</script><b>&"})
    '{"t": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(value, ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


@lru_cache(maxsize=None)
def _asset(name: str) -> str:
    return resources.files("slant").joinpath("web", name).read_text(encoding="utf-8")


def _page(title: str, body: str, script: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{GENERATOR_META}
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:">
<title>{html.escape(title)}</title>
<style>
{_asset("report.css")}
</style>
</head>
<body>
{body}
<script>
{_asset("report.js")}
{script}
</script>
</body>
</html>
"""


def html_report(doc: Document) -> str:
    """One offline HTML file: the article with its highlighted spans, genre, frames and filters."""
    from . import __version__

    data = safe_json({"document": schema.to_dict(doc), "taxonomy": taxonomy_dict()})
    body = (f'<header class="top"><span class="brand">slant</span>'
            f'<span class="muted">how this article persuades · slant {html.escape(__version__)} · '
            f'scores are model probabilities, not verdicts</span></header>\n'
            f'<div id="report"></div>\n<script type="application/json" id="slant-data">{data}</script>')
    script = ('const slantData = JSON.parse(document.getElementById("slant-data").textContent);\n'
              'slantRender(document.getElementById("report"), slantData.document, slantData.taxonomy);')
    return _page(f"slant · {heading(doc)}", body, script)


def app_page() -> str:
    """The page served at / by ``slant serve``: paste text or a URL, see the same report."""
    return _page("slant", _asset("app.html"), _asset("app.js"))
