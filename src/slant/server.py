"""``slant serve``: the HTTP API and the web page, on FastAPI.

* ``POST /api/analyze`` — JSON ``{"text": ..., "title"?: ..., "source_url"?: ...}`` or ``{"url": ...}``, and
  optionally ``"thresholds": "micro" | "per-technique"`` (default: the server's) and ``"language"`` (declares the
  text's language: a text that reads as another language than English is refused with 422 unless it is
  declared English); answers the Document (schema slant.document/1). A text that opens as an HTML page (a
  page's source, pasted) is read as a page: its article's title and paragraphs.
* ``POST /api/analyze-file?name=FILE`` — the bytes of a file as the body (``thresholds`` and ``language`` as query
  parameters): a Word, OpenDocument, RTF or PDF document (.docx, .odt, .rtf, .pdf), a saved email (.eml), an HTML
  page (.mhtml too), a picture of text (a screenshot, read by OCR where slant's ``[ocr]`` extra is installed) or a
  text file, read as ``slant analyze FILE`` reads it.
* ``POST /api/report`` — a Document (as /api/analyze answers it) in, its self-contained offline HTML report out.
* ``GET /api/taxonomy`` — every label set with definitions and examples.
* ``GET /healthz`` — liveness, with the model's name and default operating point.
* ``GET /`` — the web page: paste text, give a URL or choose a file, see the highlighted report; its "slant this
  page" bookmarklet opens it from any page with the text selected there (``#text=…&title=…&source_url=…``) or the
  page's address (``#url=…``), which it analyses.
* ``/docs`` and ``/openapi.json`` — the OpenAPI description.

The model is loaded once per process.  Bodies over ``max_body`` bytes get 413, and so does an article
text over ``runtime.MAX_CHARACTERS``, pasted or extracted from a fetched page (the CLI's limit too);
bad input gets a 4xx with a one-line ``detail`` (FastAPI's validation errors too); an unexpected failure gets a
500 that says only that — never a stack trace.
"""

from __future__ import annotations

import errno
import logging
import re
from pathlib import Path
from typing import Literal

from fastapi import Body, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from swagger_ui_bundle import swagger_ui_path

from . import __version__, schema
from .document import Document
from .errors import InputError, NotUnicodeError, SlantError, refuse_not_text
from .formats.html import document_from_html, is_html_page
from .inputs import url_id
from .language import NotEnglishError
from .operating_points import OPERATING_POINTS
from .report_html import app_page, html_report, taxonomy_dict
from .segment import is_blank

__all__ = ["create_app", "MAX_BODY"]

MAX_BODY = 8_000_000  # bytes of request body: room for runtime.MAX_CHARACTERS of text in UTF-8 JSON
MAX_URL = 8_192       # characters of a source_url: longer than any page's address browsers keep

log = logging.getLogger("slant.server")


OperatingPoint = Literal[tuple(OPERATING_POINTS)]  # type: ignore[valid-type]


class AnalyzeRequest(BaseModel):
    """Give either ``text`` (the article: title on the first line, then paragraphs) or ``url``."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, description="Article text; paragraphs are its non-blank lines. A text that "
                                               "opens as an HTML page (a page's source, pasted) is read as a page: "
                                               "its article's title and paragraphs.")
    url: str | None = Field(None, description="An http(s) URL to fetch and extract (public addresses only).")
    title: str | None = Field(None, description="Title, when it is not the first line of text: the text is then "
                                                "read under it, as the model reads an article with its title.")
    id: str | None = Field(None, description="Id to give the document (no spaces).")
    source_url: str | None = Field(
        None, max_length=MAX_URL, description="With text: the http(s) address it was taken from (the page a passage "
                                              "was selected on, as the page's bookmarklet sends it); kept as the "
                                              "Document's url and shown in its report, never fetched.")
    language: str | None = Field(
        None, description="The text's language, if known (e.g. en): skips the check that refuses a text which "
                          "reads as another language (422). The model reads English; other languages are refused.")
    thresholds: OperatingPoint | None = Field(
        None, description="Operating point: micro (thresholds tuned together for micro-F1, fewer false alarms) or "
                          "per-technique (each technique at its own best F1: more of the less common techniques); "
                          "default: the one the server was started with.")


def create_app(model: str | Path | None = None, fetch_options: dict | None = None,
               max_body: int = MAX_BODY, thresholds: str = "micro") -> FastAPI:
    """The application; the model at ``model`` (default: the shipped one) loads at startup, with the
    operating point ``thresholds`` (``operating_points.OPERATING_POINTS``)."""
    from .runtime import MAX_CHARACTERS, load_detector

    detector = load_detector(model, thresholds=thresholds)
    # FastAPI's /docs and /redoc pages load their scripts, styles and fonts from CDNs: offline they were blank,
    # and online a look at them told those sites. /docs is Swagger UI from the swagger-ui-bundle package, served here.
    app = FastAPI(title="slant", version=__version__, docs_url=None, redoc_url=None,
                  description="How a news article persuades: genre, frames, persuasion techniques with spans.")
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="slant API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body):
            return JSONResponse({"detail": f"request body over {max_body} bytes"}, status_code=413)
        if request.method == "POST" and length is None:
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > max_body:
                    return JSONResponse({"detail": f"request body over {max_body} bytes"}, status_code=413)
            request._body = body  # starlette reads the cached body from here
        return await call_next(request)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, ex: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, ex: RequestValidationError):
        # one line, as every refusal here (FastAPI's own answer is a list that echoes the input: a 1 MB text back)
        return JSONResponse({"detail": "; ".join(_invalid(e) for e in ex.errors())}, status_code=422)

    @app.exception_handler(SlantError)
    async def refused(request: Request, ex: SlantError):
        # not "api: the text reads as ...": the request is the input
        detail = ex.reason if isinstance(ex, (NotEnglishError, NotUnicodeError)) else str(ex)
        return JSONResponse({"detail": detail}, status_code=422 if isinstance(ex, InputError) else 400)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "model": detector.artifact.manifest.get("name"), "version": __version__,
                "thresholds": detector.operating_point}

    @app.get("/api/taxonomy")
    def get_taxonomy() -> dict:
        return taxonomy_dict()

    @app.post("/api/analyze")
    async def analyze(body: AnalyzeRequest) -> JSONResponse:
        if (body.text is None) == (body.url is None):
            return JSONResponse({"detail": "give exactly one of text and url"}, status_code=422)
        if body.url is not None and body.source_url is not None:
            return JSONResponse({"detail": "source_url goes with text (where it was taken from); a url is fetched"},
                                status_code=422)
        if body.source_url is not None and not re.match(r"https?://[^\s/]", body.source_url, re.IGNORECASE):
            return JSONResponse({"detail": "source_url must be an http(s) address"}, status_code=422)
        if body.url is not None:
            from .inputs import read_url
            doc = await run_in_threadpool(read_url, body.url, **(fetch_options or {}))
            doc.language = body.language or doc.language
        else:
            if is_blank(body.text):
                return JSONResponse({"detail": "text is empty"}, status_code=422)
            doc_id = body.id or (url_id(body.source_url) if body.source_url else "text")
            if any(c.isspace() for c in doc_id):
                return JSONResponse({"detail": "id must not contain spaces"}, status_code=422)
            title = (body.title or "").strip() or None   # a blank title is none, as a batch column's is
            if is_html_page(body.text[:4096].encode("utf-8", "surrogatepass")):
                # a page's source pasted (as `curl URL | slant analyze -` pipes one): its article, not its markup
                refuse_not_text("api", "text", body.text)   # the parser would cut the text there
                doc = await run_in_threadpool(document_from_html, body.text, doc_id, "api")
                doc.title, doc.language = title or doc.title, body.language
            else:
                doc = Document(doc_id, body.text, title=title, source="api", language=body.language)
            doc.url = body.source_url or doc.url
        return await _analysed(doc, body.thresholds, "text" if body.url is None else f"{body.url}: the page's text is")

    @app.post("/api/analyze-file", openapi_extra={"requestBody": {
        "required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def analyze_file(request: Request,
                           name: str = Query(..., description="The file's name: its extension and its first bytes "
                                                              "say how it is read (.docx, .odt, .rtf, .pdf, .eml, "
                                                              "an HTML page or .mhtml, a picture of text, or "
                                                              "text)."),
                           language: str | None = Query(None, description="As in /api/analyze."),
                           thresholds: OperatingPoint | None = Query(None, description="As in /api/analyze.")
                           ) -> JSONResponse:
        """Analyse an uploaded file, its bytes as the request body: a Word, OpenDocument, RTF or PDF document
        (.docx, .odt, .rtf, .pdf), a saved email (.eml), an HTML page (.mhtml too), a picture of text (a screenshot,
        read by OCR) or a text file, read as `slant analyze FILE` reads it (the web page's "or a file")."""
        from .inputs import document_from_bytes
        name = Path(name.replace("\\", "/")).name   # a browser may send a path; only the name is kept
        if not name:
            return JSONResponse({"detail": "name is empty"}, status_code=422)
        raw = await request.body()
        if not raw:
            return JSONResponse({"detail": f"{name}: empty file, no text to read"}, status_code=422)
        doc = await run_in_threadpool(document_from_bytes, raw, name)
        doc.language = language or doc.language
        return await _analysed(doc, thresholds, f"{name}: the text is")

    @app.post("/api/report", response_class=HTMLResponse)
    def report(document: dict = Body(..., description="A Document as /api/analyze answers it.")) -> HTMLResponse:
        """The self-contained offline HTML report of an analysed Document, as `slant analyze --format html` writes
        it (the web page's "download the report")."""
        return HTMLResponse(html_report(schema.from_dict(document, "report")))

    async def _analysed(doc: Document, point: str | None, what: str) -> JSONResponse:
        if len(doc.text) > MAX_CHARACTERS:   # pasted, extracted from a page or a file: the runtime's one limit
            return JSONResponse({"detail": f"{what} over {MAX_CHARACTERS:,} characters, more than slant analyses in "
                                           "one text: split it"}, status_code=413)
        await run_in_threadpool(detector.analyze, doc, point)
        return JSONResponse(schema.to_dict(doc))

    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        return HTMLResponse(app_page())

    return app


def _invalid(error: dict) -> str:
    """One of a request's validation errors in words: "source_url: string should have at most 8192 characters",
    "body: not JSON (Expecting value at character 0)"."""
    loc = [str(part) for part in error.get("loc", ())]
    where = ".".join(loc[1:]) if len(loc) > 1 and loc[0] in ("body", "query") else ".".join(loc) or "request"
    if error.get("type") == "json_invalid":
        why = (error.get("ctx") or {}).get("error", "")
        return f"body: not JSON ({why} at character {loc[1]})" if why and len(loc) > 1 else "body: not JSON"
    message = str(error.get("msg", "invalid"))
    return f"{where}: {message[:1].lower()}{message[1:]}"


def listen(host: str, port: int):
    """A socket bound to ``host:port`` (port 0: a free one), or a one-line SlantError saying why not
    (the port in use, an address this machine does not have), before anything is announced."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as ex:
        raise SlantError(f"{host}: not an address to listen on ({ex.strerror})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as uvicorn does: restart over TIME_WAIT
    try:
        sock.bind(address)
    except OSError as ex:
        sock.close()
        why = "in use: another server listens there; pick another --port" if ex.errno == errno.EADDRINUSE \
            else (ex.strerror or str(ex))
        raise SlantError(f"{host}:{port}: cannot listen ({why})") from None
    return sock


def serve(app: FastAPI, sock) -> None:
    """Serve ``app`` on the bound socket ``sock`` (``listen``) until Ctrl-C."""
    import uvicorn

    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    except KeyboardInterrupt:   # a second Ctrl-C during shutdown
        pass
    finally:
        sock.close()
