"""`slant serve` over real HTTP on 127.0.0.1, and its web page in headless Chromium."""

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO, XSS_ARTICLE, run_slant, serving


def call(base: str, path: str, body=None, raw: bytes | None = None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as ex:
        return ex.code, ex.headers.get("Content-Type", ""), ex.read()


def test_health_taxonomy_and_openapi(server):
    status, _, body = call(server, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok" and json.loads(body)["thresholds"] == "micro"
    status, _, body = call(server, "/api/taxonomy")
    taxonomy = json.loads(body)
    assert status == 200 and len(taxonomy["techniques"]) == 23 and len(taxonomy["frames"]) == 14
    status, _, body = call(server, "/openapi.json")
    assert status == 200 and "/api/analyze" in json.loads(body)["paths"]
    assert call(server, "/docs")[0] == 200


def test_analyze_text(server, article_text):
    from jsonschema import validate
    from slant.schema import JSON_SCHEMA
    status, ctype, body = call(server, "/api/analyze", {"text": article_text, "id": "a1"})
    assert status == 200 and ctype.startswith("application/json")
    doc = json.loads(body)
    validate(doc, JSON_SCHEMA)
    assert doc["id"] == "a1" and doc["text"] == article_text and doc["techniques"] is not None
    assert doc["genre"] is None and isinstance(doc["frames"], list)  # 29 words: too short for a genre
    long_text = (EXAMPLES / "article900000001.txt").read_text(encoding="utf-8")
    doc = json.loads(call(server, "/api/analyze", {"text": long_text})[2])
    assert doc["genre"]["label"] in ("opinion", "reporting", "satire") and isinstance(doc["frames"], list)
    doc = json.loads(call(server, "/api/analyze", {"text": "Wake up, patriots!"})[2])
    assert doc["genre"] is None and doc["frames"] is None and doc["techniques"] is not None  # 3 words


def test_a_title_given_beside_the_text_is_read_as_its_title(server):
    """The API's "title" (when it is not the text's first line) is read as the article's title, as the model was
    trained, not only shown: the body's labels are those of the titled text, in the body's own offsets."""
    article = (EXAMPLES / "article900000001.txt").read_text(encoding="utf-8")
    title, body = article.split("\n\n", 1)
    titled = json.loads(call(server, "/api/analyze", {"text": article})[2])
    beside = json.loads(call(server, "/api/analyze", {"text": body, "title": title})[2])
    alone = json.loads(call(server, "/api/analyze", {"text": body})[2])
    shift = len(title) + 2
    assert beside["title"] == title and beside["text"] == body
    assert beside["genre"] == titled["genre"] and beside["frames"] == titled["frames"]
    assert [(t["paragraph"] + 2, t["labels"]) for t in beside["techniques"]] == \
           [(t["paragraph"], t["labels"]) for t in titled["techniques"] if t["paragraph"] > 1]
    assert [(s["start"] + shift, s["end"] + shift, s["technique"]) for s in beside["spans"]] == \
           [(s["start"], s["end"], s["technique"]) for s in titled["spans"] if s["start"] >= shift]
    assert all(body[s["start"]:s["end"]] == s["text"] for s in beside["spans"])
    assert alone["title"] != title   # without it, the body's first line is its title
    _, _, raw = call(server, "/api/analyze", {"text": body, "title": "  "})   # a blank title (an empty form field)
    assert json.loads(raw)["title"] == alone["title"]                         # is none: it was "  "


def test_a_text_given_with_the_address_it_was_taken_from(server):
    """source_url: where a text (a passage selected on a page) came from; recorded, shown, never fetched."""
    address = "https://news.example.org/2024/03/story.html?ref=home"
    status, _, raw = call(server, "/api/analyze", {"text": "The corrupt elite betrayed us all.", "title": "Story",
                                                    "source_url": address})
    doc = json.loads(raw)
    assert status == 200 and (doc["url"], doc["id"], doc["title"]) == (address, "story", "Story")
    assert json.loads(call(server, "/api/analyze", {"text": "x", "source_url": address, "id": "mine"})[2])["id"] == "mine"
    report = call(server, "/api/report", doc)[2].decode()
    assert address.replace("&", "&amp;") in report or json.dumps(address)[1:-1] in report


@pytest.mark.parametrize("body,status,detail", [
    ({}, 422, "give exactly one of text and url"),
    ({"text": "a", "url": "http://127.0.0.1/"}, 422, "give exactly one of text and url"),
    ({"text": "   "}, 422, "text is empty"),
    ({"text": "\ufeff\u200b\n"}, 422, "text is empty"),
    ({"url": " "}, 422, "url is empty"),   # it was ": only http and https URLs are fetched, not a bare path"
    ({"text": "x", "id": "has space"}, 422, "id must not contain spaces"),
    ({"url": "https://example.org/a", "source_url": "https://example.org/a"}, 422,
     "source_url goes with text (where it was taken from); a url is fetched"),
    ({"text": "x", "source_url": "javascript:alert(1)"}, 422, "source_url must be an http(s) address"),
    ({"text": "x", "source_url": "https://example.org/" + "a" * 8200}, 422, "at most 8192 characters"),
    ({"url": "http://127.0.0.1:9/secret"}, 422, "refused: 127.0.0.1 is a loopback address"),
    ({"url": "file:///etc/passwd"}, 422, "only http and https URLs are fetched"),
    # JSON carries half of an emoji ("\\ud83d"): it was a 500 from the tokenizer
    ({"text": "The elite \ud83d lie."}, 422, "the text holds an unpaired surrogate (U+D83D) at character 10, "
                                             "which is not Unicode text (half of an emoji cut in two?)"),
    ({"text": "The elite lie.", "title": "Cut \ud83d"}, 422, "the title holds an unpaired surrogate (U+D83D) at "
                                                            "character 4"),
    ({"text": "The\u0000 elite lie."}, 422, "the text holds a NUL character at character 3: binary data, not text"),
])
def test_bad_requests_get_clear_4xx(server, body, status, detail):
    got, _, raw = call(server, "/api/analyze", body)
    assert got == status and detail in json.loads(raw)["detail"]


def test_a_text_in_another_language_is_refused_unless_declared(server):
    from test_language import FRENCH
    status, _, raw = call(server, "/api/analyze", {"text": FRENCH})
    assert status == 422 and json.loads(raw)["detail"] == (
        "the text reads as French (fr); slant's model reads English only")
    status, _, raw = call(server, "/api/analyze", {"text": FRENCH, "language": "en"})
    assert status == 200 and json.loads(raw)["language"] == "en" and json.loads(raw)["techniques"] is not None


def test_malformed_and_oversized_bodies(server):
    status, _, raw = call(server, "/api/analyze", raw=b"{not json")
    assert status == 422 and "Traceback" not in raw.decode()
    # the server answers 413 from the headers alone, without reading a body it will not use
    import socket
    from urllib.parse import urlsplit
    port = urlsplit(server).port
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 9000000\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and "over 8000000 bytes" in json.loads(payload)["detail"]
    status, _, raw = call(server, "/api/analyze", {"text": "x" * 1_000_001})   # the CLI's limit, runtime's
    assert status == 413 and json.loads(raw)["detail"] == \
        "text over 1,000,000 characters, more than slant analyses in one text: split it"
    # FastAPI's own refusals are one line too (they were a list of objects, echoing the input back)
    for body, detail in ((b"{not json", "body: not JSON (Expecting property name enclosed in double quotes at "
                                        "character 1)"),
                         (b'{"text": "x", "extra": 1}', "extra: extra inputs are not permitted"),
                         (b'{"text": "x", "thresholds": "most"}', "thresholds: input should be 'micro' or "
                                                                  "'per-technique'"),
                         (b'["x"]', "body: input should be a valid dictionary or object to extract fields from")):
        status, _, raw = call(server, "/api/analyze", raw=body)
        assert (status, json.loads(raw)) == (422, {"detail": detail})
    status, _, raw = call(server, "/api/analyze-file?name=a.txt&thresholds=most", raw=b"x")
    assert (status, json.loads(raw)) == (422, {"detail": "thresholds: input should be 'micro' or 'per-technique'"})


def test_pasted_page_source_is_read_as_a_page(server):
    """A text that opens as an HTML page (a page's source pasted into the box) is read as `curl URL | slant
    analyze -` reads one: its article's title and paragraphs, not its markup; a title given beside it wins, a
    text that only mentions a tag is text, and a page holding half of a surrogate pair is refused (the parser
    cut the text there)."""
    page = ("<!DOCTYPE html><html><head><title>Budget</title></head><body><nav>Home | About</nav><article>"
            "<h1>Budget</h1><p>The council approved the budget on Tuesday after a long debate.</p>"
            "<p>The corrupt elite are lying to you again.</p></article></body></html>")
    status, _, raw = call(server, "/api/analyze", {"text": page})
    doc = json.loads(raw)
    assert status == 200 and doc["title"] == "Budget" and "<" not in doc["text"] and "Home | About" not in doc["text"]
    assert doc["source"] == "api" and "The corrupt elite are lying to you again." in doc["text"]
    status, _, raw = call(server, "/api/analyze", {"text": page, "title": "Given"})
    assert status == 200 and json.loads(raw)["title"] == "Given"
    text = "Why the <html> tag matters\n\nEvery page opens with it."
    status, _, raw = call(server, "/api/analyze", {"text": text})
    assert status == 200 and json.loads(raw)["text"] == text
    status, _, raw = call(server, "/api/analyze", {"text": page.replace("Tuesday", "Tuesday \ud83d")})
    assert (status, json.loads(raw)["detail"]) == (422, "the text holds an unpaired surrogate (U+D83D) at character "
                                                        f"{page.index('Tuesday') + 8}, which is not Unicode text (half "
                                                        "of an emoji cut in two?)")


def test_a_file_is_analysed_as_the_cli_reads_it(server, tmp_path):
    """POST /api/analyze-file?name=...: the file's bytes, read as `slant analyze FILE` reads them (a .docx, a PDF, a
    page, a screenshot, text); a broken PDF, a table or an empty file get a 4xx that says what it is."""
    from conftest import EXAMPLES, write_docx, write_pdf
    article = (EXAMPLES / "article900000001.txt").read_bytes()
    docx = write_docx(tmp_path / "s.docx", ["<w:r><w:t>Brussels Plots</w:t></w:r>",
                                            "<w:r><w:t>The corrupt elite are lying to you again.</w:t></w:r>"])
    page = b"<!DOCTYPE html><html><head><title>Budget</title></head><body><article><h1>Budget</h1><p>The council " \
           b"approved the budget on Tuesday after a long debate.</p></article></body></html>"

    def upload(name, raw, query=""):
        status, _, body = call(server, f"/api/analyze-file?name={name}{query}", raw=raw,
                               headers={"Content-Type": "application/octet-stream"})
        return status, json.loads(body)

    status, doc = upload("article900000001.txt", article)
    same = json.loads(call(server, "/api/analyze", {"text": article.decode("utf-8")})[2])
    assert status == 200 and doc["id"] == "900000001" and doc["source"] == "article900000001.txt"
    assert (doc["text"], doc["techniques"], doc["spans"]) == (same["text"], same["techniques"], same["spans"])
    status, doc = upload("C%3A%5Cdocs%5Cs.docx", docx.read_bytes(), "&thresholds=per-technique")   # a path: name kept
    assert status == 200 and doc["title"] == "Brussels Plots" and doc["source"] == "s.docx"
    pdf = write_pdf(tmp_path / "r.pdf", "Brussels Plots", ["The corrupt elite are lying to you again."])
    status, doc = upload("r.pdf", pdf.read_bytes())
    assert status == 200 and doc["title"] == "Brussels Plots" and doc["source"] == "r.pdf"
    assert doc["text"] == "Brussels Plots\n\nThe corrupt elite are lying to you again.\n"
    status, doc = upload("saved.txt", page)
    assert status == 200 and doc["title"] == "Budget" and "<" not in doc["text"]
    from conftest import write_picture
    shot = write_picture(tmp_path / "shot.png", "Brussels Plots", ["The corrupt elite are lying to you again."])
    status, doc = upload("shot.png", shot.read_bytes())   # a screenshot: read by OCR
    assert status == 200 and doc["title"] == "Brussels Plots" and doc["source"] == "shot.png"
    for name, raw, code, detail in (
            ("r.pdf", b"%PDF-1.7\n", 422, "r.pdf: not a readable PDF document (No /Root object! - Is this really a "
                                           "PDF?)"),
            ("t.csv", b"id,text\n1,a\n", 422, "t.csv: a table of articles (CSV), not one text; analyse its rows "
                                               "with slant batch t.csv -o OUT"),
            ("e.txt", b"", 422, "e.txt: empty file, no text to read"),
            ("", b"x", 422, "name is empty")):
        status, body = upload(name, raw)
        assert (status, body["detail"]) == (code, detail)


def test_paste_and_analyze_in_the_page(server, page, article_text, tmp_path):
    page.goto(server + "/")
    page.fill("#text", article_text)
    page.click("#analyze")
    page.wait_for_selector("#genre")
    assert page.inner_text("#status") == "done"
    assert page.inner_text("#genre") == "genre: text too short"  # 29 words; frames are shown
    assert page.inner_text("#article p[data-paragraph='1']") == article_text.splitlines()[0]  # BOM and all
    assert page.locator("#article p").count() == 4 and page.locator("#summary .chip").count() >= 1
    assert page.locator("#frames").count() == 0
    page.screenshot(path=str(tmp_path / "app.png"), full_page=True)
    assert (tmp_path / "app.png").stat().st_size > 10_000
    page.fill("#text", "Wake up, patriots!")
    page.click("#analyze")
    page.wait_for_selector("#frames")
    assert page.inner_text("#frames") == "frames: text too short" and page.locator("#summary .frame").count() == 0
    from slant.article_heads import FRAMES_MIN_WORDS, GENRE_MIN_WORDS, word_count
    assert page.evaluate("[SLANT_GENRE_MIN_WORDS, SLANT_FRAMES_MIN_WORDS]") == [GENRE_MIN_WORDS, FRAMES_MIN_WORDS]
    tricky = "Café-au-lait, ½ price: x_y 2026 — naïve Zürich Ⅻ 東京 don't."
    assert page.evaluate("t => slantWords(t)", tricky) == word_count(tricky)  # the page counts as the runtime does
    assert page.errors == []


def test_a_report_of_a_document(server):
    """POST /api/report: a Document in, the offline HTML report out; anything else is a 422 that says why."""
    doc = json.loads(call(server, "/api/analyze", {"text": (EXAMPLES / "article900000001.txt").read_text()})[2])
    status, kind, page = call(server, "/api/report", doc)
    assert status == 200 and kind.startswith("text/html") and b'<meta name="generator" content="slant">' in page
    status, _, raw = call(server, "/api/report", {"id": "x"})
    assert status == 422 and json.loads(raw)["detail"].startswith("report: ")


@pytest.mark.parametrize("kind", ["docx", "pdf"])
def test_choose_a_file_in_the_page(server, page, tmp_path, kind):
    """A Word or PDF document chosen in the page is analysed (POST /api/analyze-file); choosing it clears the text
    box, and typing text again sets the file aside."""
    from conftest import write_docx, write_pdf
    if kind == "docx":
        document = write_docx(tmp_path / "statement.docx", ["<w:r><w:t>Brussels Plots Against Your Coffee</w:t></w:r>",
                                                            "<w:r><w:t>The corrupt elite are lying to you again.</w:t>"
                                                            "</w:r>"])
    else:
        document = write_pdf(tmp_path / "statement.pdf", "Brussels Plots Against Your Coffee",
                             ["The corrupt elite are lying to you again."])
    page.goto(server + "/")
    page.fill("#text", "Something else")
    page.set_input_files("#file", str(document))
    assert page.input_value("#text") == ""
    page.click("#analyze")
    page.wait_for_selector("#article p[data-paragraph='3']")
    assert page.inner_text("#status") == "done"
    assert page.inner_text("#article p[data-paragraph='1']") == "Brussels Plots Against Your Coffee"
    with page.expect_download() as got:             # the result, as the API answered it, kept as a file
        page.click("#download")
    saved = json.loads(open(got.value.path(), encoding="utf-8").read())
    assert got.value.suggested_filename == "statement.json" and saved["schema"] == "slant.document/1"
    assert saved["title"] == "Brussels Plots Against Your Coffee" and saved["source"] == document.name
    with page.expect_download() as got:             # the offline HTML report, as analyze --format html writes it
        page.click("#download-report")
    report = Path(got.value.path()).read_text(encoding="utf-8")
    assert got.value.suggested_filename == "statement.html" and report.startswith("<!doctype html>")
    from slant.report_html import html_report
    from slant.schema import from_dict
    assert report == html_report(from_dict(saved))
    page.fill("#text", "Wake up, patriots!")
    assert page.evaluate("document.getElementById('file').files.length") == 0
    page.click("#analyze")
    page.locator("#article p[data-paragraph='1']", has_text="Wake up, patriots!").wait_for()
    assert page.errors == []


def test_the_api_docs_work_offline(server, page):
    # FastAPI's /docs and /redoc loaded Swagger UI, ReDoc and fonts from CDNs: blank offline, and a request to
    # those sites online; /docs is served by slant itself now
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(server + "/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/analyze" in paths and "/api/taxonomy" in paths
    assert requests and all(url.startswith(server) for url in requests), requests
    assert page.errors == []
    assert call(server, "/redoc")[0] == 404


def test_the_page_shows_refusals(server, page):
    page.goto(server + "/")
    page.fill("#url", "http://127.0.0.1:9/")
    page.click("#analyze")
    page.wait_for_selector("#status.error")
    assert "loopback" in page.inner_text("#status")


def test_the_page_says_when_a_text_is_not_english(server, page):
    from test_language import GERMAN
    page.goto(server + "/")
    page.fill("#text", GERMAN)
    page.click("#analyze")
    page.wait_for_selector("#status.error")
    assert "reads as German (de)" in page.inner_text("#status")


def test_injected_markup_never_executes_in_the_page(server, page):
    page.goto(server + "/")
    page.fill("#text", XSS_ARTICLE)
    page.click("#analyze")
    page.wait_for_selector("#genre")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#report img, #report svg, #report b, #report script").count() == 0
    assert "<script>window.__pwned = 1</script>" in page.inner_text("#article")


def test_serve_with_per_technique_thresholds(every_technique_model, article_text, tmp_path):
    with serving(tmp_path, "--model", every_technique_model, "--thresholds", "per-technique") as base:
        status, _, body = call(base, "/api/analyze", {"text": article_text})
    doc = json.loads(body)
    assert status == 200 and len(doc["techniques"]) == len(doc["paragraphs"])
    assert all(len(p["labels"]) == 23 for p in doc["techniques"])
    # a model without that set: one line before anything listens, and a request for it is refused in one line
    import shutil
    old = tmp_path / "old"
    shutil.copytree(every_technique_model, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["thresholds"]["paragraph_per_technique"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    r = run_slant("serve", "--port", "0", "--model", old, "--thresholds", "per-technique")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == (f"Error: {old / 'manifest.json'}: this model has no per-technique thresholds "
                                "(exported before they existed); use --thresholds micro")
    with serving(tmp_path, "--model", old) as base:
        status, _, body = call(base, "/api/analyze", {"text": article_text, "thresholds": "per-technique"})
        assert status == 400 and json.loads(body)["detail"].startswith(f"{old / 'manifest.json'}: this model has no")
        assert call(base, "/api/analyze", {"text": article_text})[0] == 200


def test_each_request_can_pick_the_operating_point(every_technique_model, article_text, tmp_path):
    """A server started at the default (micro) answers per-technique when a request asks for it (the tiny
    model's per-technique thresholds are all 0: every technique in every paragraph), and micro otherwise."""
    with serving(tmp_path, "--model", every_technique_model) as base:
        answers = {point: json.loads(call(base, "/api/analyze", {"text": article_text, "thresholds": point})[2])
                   for point in ("per-technique", "micro")}
        default = json.loads(call(base, "/api/analyze", {"text": article_text})[2])
        status, _, body = call(base, "/api/analyze", {"text": article_text, "thresholds": "recall"})
    assert all(len(p["labels"]) == 23 for p in answers["per-technique"]["techniques"])
    assert answers["micro"]["techniques"] == default["techniques"]
    assert sum(len(p["labels"]) for p in default["techniques"]) < 23 * len(default["paragraphs"])
    assert status == 422 and "per-technique" in body.decode()


def test_the_page_can_pick_the_operating_point(every_technique_model, page, article_text, tmp_path):
    with serving(tmp_path, "--model", every_technique_model) as base:
        page.goto(base + "/")
        page.fill("#text", article_text)
        page.click("#analyze")
        page.wait_for_selector("#genre")
        default = page.locator("#techniques label").count()
        page.select_option("#thresholds", "per-technique")
        page.click("#analyze")
        page.locator("#techniques label").nth(22).wait_for()  # (the page's CSP forbids wait_for_function's eval)
        assert page.locator("#techniques label").count() == 23
        assert default < 23
        assert page.inner_text("#status") == "done" and page.errors == []


def test_the_load_benchmark_runs():
    """benchmarks/serve_load.py (a server on 127.0.0.1, clients POSTing) prints figures and is run by hand: a
    short run end to end so that it cannot rot."""
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "serve_load.py"), "--clients", "2", "--seconds", "1"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "requests ok" in r.stdout and "errors 0" in r.stdout


@pytest.fixture
def fetching_server(tmp_path):
    """The app in this process, allowed to fetch from one site of its own on 127.0.0.1 (the served command
    refuses loopback addresses, rightly), over real HTTP on 127.0.0.1; yields (its base URL, the site)."""
    import threading
    import time

    import uvicorn

    from conftest import free_port
    from slant.server import create_app
    from test_fetch import PAGE, Site

    paragraphs = "".join("<p>" + " ".join(f"On day {day}.{k} the council met again and argued about the budget for "
                                          f"the new schools; the {day} speakers disagreed on every line of it, and "
                                          f"the meeting ran late." for k in range(5)) + "</p>"
                         for day in range(1500))   # distinct: the extraction drops repeated paragraphs
    site = Site({"/story.html": (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE),
                 "/column.html": (200, {"Content-Type": "text/html; charset=utf-8"},
                                  b'<html><head><title>Wake Up | The Daily Example</title><meta property="og:title" '
                                  b'content="Wake Up"></head><body><p>They lie to you every day.</p></body></html>'),
                 "/book.html": (200, {"Content-Type": "text/html; charset=utf-8"},
                                f"<html><body><article><h1>A Very Long Page</h1>{paragraphs}</article>"
                                "</body></html>".encode())})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(fetch_options={"allow": site.allow}), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the app did not start")
        yield f"http://127.0.0.1:{port}", site
    finally:
        server.should_exit = True
        thread.join(10)
        site.httpd.shutdown()


def test_a_fetched_page_is_analysed_and_a_very_long_one_refused(fetching_server, page):
    base, site = fetching_server
    status, _, body = call(base, "/api/analyze", {"url": site.url + "/story.html"})
    doc = json.loads(body)
    assert status == 200 and doc["title"] == "Budget Approved After Long Debate"
    assert doc["url"] == site.url + "/story.html" and doc["techniques"] is not None
    assert [line for line in doc["text"].splitlines() if line][1].startswith("The council met on Tuesday")
    # the pasted text's cap (the runtime's) holds for a page's extracted text too (here about 1,100,000 characters)
    status, _, body = call(base, "/api/analyze", {"url": site.url + "/book.html"})
    assert status == 413 and json.loads(body)["detail"] == (f"{site.url}/book.html: the page's text is over "
                                                            "1,000,000 characters, more than slant analyses in one "
                                                            "text: split it")
    page.goto(base + "/")
    page.fill("#url", site.url + "/story.html")
    page.click("#analyze")
    page.wait_for_selector("#genre")
    assert page.inner_text("#status") == "done" and page.errors == []
    assert page.locator("#article p").nth(1).inner_text().startswith("The council met on Tuesday")


def test_the_bookmarklet_analyses_the_page_you_read(fetching_server, page):
    """The page's "slant this page" link, as a bookmark clicked on another site's page: a selection goes with the
    page's title and address (in the #fragment, which reaches no server); with nothing selected, the page's address
    is fetched. Either way the page that opens analyses it and takes it out of its address."""
    from urllib.parse import quote, unquote

    base, site = fetching_server
    page.goto(base + "/")
    href = page.get_attribute("#bookmarklet", "href")
    assert href.startswith("javascript:")
    page.click("#bookmarklet")   # on slant's own page it says what to do with it
    assert "bookmarks bar" in page.inner_text("#status") and page.errors == []
    code = unquote(href[len("javascript:"):])
    story = site.url + "/story.html"
    page.goto(story)

    def click_bookmark():
        with page.context.expect_page() as opened:
            page.evaluate(code)
        report = opened.value
        errors = []
        report.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        report.on("pageerror", lambda e: errors.append(str(e)))
        report.wait_for_selector("#genre")
        assert report.inner_text("#status") == "done" and errors == []
        assert report.evaluate("location.hash") == ""   # the text left the address
        return report

    page.evaluate("""() => { const range = document.createRange();
                             range.selectNodeContents(document.querySelectorAll('article p')[1]);
                             getSelection().removeAllRanges(); getSelection().addRange(range); }""")
    report = click_bookmark()
    assert report.input_value("#text") == ("Critics said the plan was a disgrace and a betrayal of every family in "
                                           "town, and promised to fight it.")
    assert report.inner_text("#from") == f"selected on Budget Approved After Long Debate · {story}"
    assert report.inner_text("h1.title") == "Budget Approved After Long Debate"
    assert report.inner_text(".report .meta") == story
    assert report.locator("#article p").count() == 1   # the selection alone; its title is read above it
    report.fill("#text", "Wake up, patriots!")   # a text typed over it is not the selection any more
    assert report.is_hidden("#from")
    report.close()
    assert site.fetched == []   # a selection is never fetched
    page.goto(site.url + "/column.html")   # a page's og:title is its headline, without the site's name
    page.evaluate("getSelection().selectAllChildren(document.body)")
    report = click_bookmark()
    assert report.inner_text("h1.title") == "Wake Up" and report.input_value("#text") == "They lie to you every day."
    report.close()
    page.goto(story)
    page.evaluate("getSelection().removeAllRanges()")
    report = click_bookmark()   # nothing selected: the page's address, fetched by slant
    assert report.input_value("#url") == story and report.input_value("#text") == ""
    assert report.locator("#article p").nth(1).inner_text().startswith("The council met on Tuesday")
    assert site.fetched == ["/story.html"]
    report.close()
    # a selection on a page read from disk: its file:// address is not kept (the API takes http(s) ones only)
    report = page.context.new_page()
    report.goto(base + "/#text=" + quote("They lie.", safe="") + "&source_url=" + quote("file:///home/me/a.html"))
    report.wait_for_selector("#genre")
    assert report.inner_text("#status") == "done" and report.is_hidden("#from")
    report.close()
    # a page slant cannot fetch (here: one it is not allowed to, as a private address): the error says what to do
    report = page.context.new_page()
    report.goto(base + "/#url=" + quote("http://127.0.0.1:9/intranet/story.html", safe=""))
    report.wait_for_function("document.getElementById('status').className === 'error'")
    assert report.inner_text("#status") == (
        "http://127.0.0.1:9/intranet/story.html: refused: 127.0.0.1 is a loopback address — slant cannot read that "
        "page itself (a login, a paywall, a private address): select the article's text there and click the "
        "bookmark again")


def test_a_port_in_use_is_one_line_before_anything_is_announced():
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "slant", "serve", "--host", "127.0.0.1", "--port", str(port)],
                           capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stderr == f"Error: 127.0.0.1:{port}: cannot listen (in use: another server listens there; " \
                       "pick another --port)\n"
    r = subprocess.run([sys.executable, "-m", "slant", "serve", "--host", "no-such-host.invalid"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("Error: no-such-host.invalid: not an address to listen on (")


def test_port_0_serves_on_a_free_port_it_names():
    import re
    import time
    proc = subprocess.Popen([sys.executable, "-m", "slant", "serve", "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline()
        match = re.fullmatch(r"slant \S+ serving on (http://127\.0\.0\.1:(\d+))/ \(Ctrl-C stops\)\n", first)
        assert match and int(match.group(2)) > 0, first
        for _ in range(100):
            try:
                status, _, body = call(match.group(1), "/healthz")
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        assert status == 200 and json.loads(body)["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "reachable from other machines" not in proc.stderr.read()   # 127.0.0.1: no note


def test_an_address_other_machines_reach_gets_a_note():
    # tests bind 127.0.0.1 only, so the check that decides the note is run on the addresses themselves
    from slant.cli import _loopback
    assert _loopback("127.0.0.1") and _loopback("::1") and _loopback("127.0.0.2")
    assert not _loopback("0.0.0.0") and not _loopback("::") and not _loopback("192.168.1.5")
