"""URL input: safe fetching (SSRF guard) and HTML extraction, against servers on 127.0.0.1 only.

Every test here runs with name resolution and socket connects patched: a name
resolves only through the table below, and a connect to anything but loopback
fails the test — so even a broken guard could not send a packet elsewhere.
"""

import http.server
import json
import ipaddress
import socket
import threading
import time
from pathlib import Path

import pytest

from conftest import run_slant, write, write_docx, write_pdf
from slant.errors import InputError
from slant.fetch import USER_AGENT, FetchError, check_address, fetch
from slant.inputs import read_inputs, read_url

NAMES = {"localhost": "127.0.0.1", "news.example": "192.168.1.7", "mapped.example": "::ffff:10.0.0.1", "public.example": "93.184.216.34"}
PAGE = b"""<html><head><title>Budget Approved After Long Debate</title>
<meta property="article:published_time" content="2024-03-01"></head><body><nav>Home | About | Contact</nav>
<article><h1>Budget Approved After Long Debate</h1>
<p>The council met on Tuesday and approved the budget after a long debate about the new schools.</p>
<p>Critics said the plan was a disgrace and a betrayal of every family in town, and promised to fight it.</p>
</article><footer>Copyright</footer></body></html>"""


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host, port, *args, **kwargs):
        if host in NAMES:
            ip = NAMES[host]
            family = socket.AF_INET6 if ":" in ip else socket.AF_INET
            sockaddr = (ip, port, 0, 0) if family == socket.AF_INET6 else (ip, port)
            return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise socket.gaierror(f"test resolver: unknown name {host}")
        return real_getaddrinfo(host, port, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        if not ipaddress.ip_address(address[0]).is_loopback:
            pytest.fail(f"a test tried to connect to {address}")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)


class Site:
    """An HTTP server on 127.0.0.1 serving a fixed table of paths; counts its hits, and keeps the paths that
    slant's fetcher asked for (by its User-Agent; a browser's requests are not among them)."""

    def __init__(self, routes, delay: float = 0.0):
        site = self
        self.hits = 0
        self.fetched: list[str] = []
        self.busy = self.most_busy = 0   # requests being answered at once, and the most there were
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with lock:
                    site.hits += 1
                    site.busy += 1
                    site.most_busy = max(site.most_busy, site.busy)
                    if self.headers.get("User-Agent") == USER_AGENT:
                        site.fetched.append(self.path)
                try:
                    self.answer()
                finally:
                    with lock:
                        site.busy -= 1

            def answer(self):
                if delay:
                    time.sleep(delay)
                status, headers, body = routes.get(self.path, (404, {}, b""))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def allow(self, address, port):
        return address == "127.0.0.1" and port == self.port



def test_several_urls_are_fetched_side_by_side_in_their_order(tmp_path):
    """`slant analyze URL URL ...` reads its URLs ahead, side by side (two at once from one site), and gives the
    Documents, and the errors, in the order given."""
    from slant.fetch import AllowOnly, FetchAhead
    from slant.inputs import read_inputs

    pages = {f"/s{i}.html": (200, {"Content-Type": "text/html; charset=utf-8"},
                             PAGE.replace(b"Tuesday", f"day {i}".encode())) for i in range(4)}
    site = Site(pages, delay=0.4)
    try:
        urls = [site.url + path for path in pages] + [site.url + "/gone.html"]
        got = list(read_inputs(urls[:2] + [urls[4]] + urls[2:4], allow=AllowOnly(("127.0.0.1", site.port))))
    finally:
        site.httpd.shutdown()
    assert [d.url if not isinstance(d, Exception) else str(d) for d in got] == [
        urls[0], urls[1], f"{urls[4]}: HTTP 404 Not Found", urls[2], urls[3]]
    assert [d.id for d in got if not isinstance(d, Exception)] == ["s0", "s1", "s2", "s3"]
    assert site.most_busy == FetchAhead.PER_SITE and sorted(site.fetched) == sorted(u[len(site.url):] for u in urls)

@pytest.fixture
def sites():
    made = []

    def make(routes):
        made.append(Site(routes))
        return made[-1]

    yield make
    for s in made:
        s.httpd.shutdown()


@pytest.mark.parametrize("url,reason", [
    ("http://127.0.0.1:9/", "refused: 127.0.0.1 is a loopback address"),
    ("http://localhost:9/", "localhost resolves to 127.0.0.1, which is a loopback address"),
    ("http://[::1]:9/", "::1 is a loopback address"),
    ("http://10.1.2.3/", "10.1.2.3 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[::ffff:127.0.0.1]/", "127.0.0.1 is a loopback address"),
    ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
    ("http://0.0.0.0/", "0.0.0.0 is a"),
    ("http://100.64.0.1/", "100.64.0.1 is not a public address"),
    ("http://news.example/story", "refused: news.example resolves to 192.168.1.7, which is a private address"),
    ("http://mapped.example/", "mapped.example resolves to ::ffff:10.0.0.1 (10.0.0.1 is a private address)"),
])
def test_private_and_special_addresses_are_refused(url, reason):
    with pytest.raises(FetchError, match="refused") as ex:
        fetch(url)
    assert reason in str(ex.value) and str(ex.value).startswith(url)


@pytest.mark.parametrize("url,reason", [
    ("file:///etc/passwd", "only http and https URLs are fetched, not file"),
    ("ftp://public.example/a", "only http and https URLs are fetched, not ftp"),
    ("http://user:pw@public.example/", "URLs with credentials are refused"),
    ("http://nowhere.invalid/", "cannot resolve nowhere.invalid"),
    ("http://[::1", r"^http://\[::1: not a valid URL \(Invalid IPv6 URL\)$"),
])
def test_other_refusals(url, reason):
    with pytest.raises(FetchError, match=reason):
        fetch(url)


def test_check_address_accepts_public_ones():
    check_address("93.184.216.34")
    check_address("2606:2800:220:1:248:1893:25c8:1946")


def test_an_allowed_page_becomes_a_document(sites):
    site = sites({"/story.html": (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE)})
    doc = read_url(site.url + "/story.html", allow=site.allow)
    assert doc.title == "Budget Approved After Long Debate" and doc.id == "story"
    assert [doc.text[p.start:p.end] for p in doc.paragraphs][1].startswith("The council met on Tuesday")
    assert "Home | About" not in doc.text and doc.url == site.url + "/story.html" and doc.date == "2024-03-01"
    # a press release published as a Word document is read as one
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        docx = write_docx(Path(folder) / "release.docx", ["<w:r><w:t>Minister resigns</w:t></w:r>",
                                                          "<w:r><w:t>The minister resigned on Monday.</w:t></w:r>"])
        raw = docx.read_bytes()
    site = sites({"/release.docx": (200, {"Content-Type": "application/vnd.openxmlformats-officedocument."
                                                          "wordprocessingml.document"}, raw)})
    doc = read_url(site.url + "/release.docx", allow=site.allow)
    assert (doc.id, doc.title, doc.text) == ("release", "Minister resigns",
                                             "Minister resigns\n\nThe minister resigned on Monday.\n")
    assert doc.url == site.url + "/release.docx" and doc.source == site.url + "/release.docx"
    # and as a PDF
    with tempfile.TemporaryDirectory() as folder:
        raw = write_pdf(Path(folder) / "r.pdf", "Minister resigns", ["The minister resigned on Monday."]).read_bytes()
    site = sites({"/report": (200, {"Content-Type": "application/pdf"}, raw)})
    doc = read_url(site.url + "/report", allow=site.allow)
    assert (doc.id, doc.title, doc.text) == ("report", "Minister resigns",
                                             "Minister resigns\n\nThe minister resigned on Monday.\n")
    import io

    from conftest import picture_of
    shot = io.BytesIO()
    picture_of("Minister resigns", ["The minister resigned on Monday."]).save(shot, "PNG")
    site = sites({"/media/shot.png": (200, {"Content-Type": "image/png"}, shot.getvalue())})   # a screenshot's link
    doc = read_url(site.url + "/media/shot.png", allow=site.allow)
    assert (doc.id, doc.title) == ("shot", "Minister resigns")
    site = sites({"/release.rtf": (200, {"Content-Type": "text/rtf"}, rb"{\rtf1\ansi{\b Minister resigns}\par Today.\par}")})
    assert read_url(site.url + "/release.rtf", allow=site.allow).text == "Minister resigns\n\nToday.\n"
    # a download whose type the server does not say is read by what its bytes are; bytes that are no text say so
    site = sites({"/files/get?id=7": (200, {"Content-Type": "application/octet-stream"}, raw),
                  "/files/blob.bin": (200, {"Content-Type": "application/octet-stream"}, b"\x89PNG\r\n\x1a\n\x00")})
    doc = read_url(site.url + "/files/get?id=7", allow=site.allow)
    assert (doc.title, doc.source, doc.url) == ("Minister resigns", site.url + "/files/get?id=7",
                                                site.url + "/files/get?id=7")
    with pytest.raises(InputError, match=r"^http://127\.0\.0\.1:\d+/files/blob\.bin: a PNG image slant cannot open"):
        read_url(site.url + "/files/blob.bin", allow=site.allow)
    # a server that calls its pages plain text: the page is still read as a page, a text as text
    site = sites({"/story": (200, {"Content-Type": "text/plain"}, PAGE), "/notes": (200, {"Content-Type": "text/plain"},
                 b"Why the <html> tag matters\n\nEvery page opens with it.")})
    assert read_url(site.url + "/story", allow=site.allow).title == "Budget Approved After Long Debate"
    assert read_url(site.url + "/notes", allow=site.allow).text == "Why the <html> tag matters\n\nEvery page opens with it."


def test_a_redirect_to_loopback_is_refused(sites):
    target = sites({"/": (200, {"Content-Type": "text/html"}, PAGE)})
    site = sites({"/go": (302, {"Location": f"{target.url}/"}, b"")})
    with pytest.raises(FetchError, match=rf"refused \(redirected to {target.url}/\).*loopback"):
        fetch(site.url + "/go", allow=site.allow)
    assert site.hits == 1 and target.hits == 0


def test_redirects_to_allowed_pages_are_followed_and_loops_stop(sites):
    site = sites({"/a": (301, {"Location": "/b"}, b""), "/b": (200, {"Content-Type": "text/plain"}, b"Hi\n\nthere\n"),
                  "/loop": (302, {"Location": "/loop"}, b"")})
    page = fetch(site.url + "/a", allow=site.allow)
    assert page.url == site.url + "/b" and page.body == b"Hi\n\nthere\n"
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(site.url + "/loop", allow=site.allow)


def test_size_type_and_status_caps(sites):
    site = sites({"/big": (200, {"Content-Type": "text/html"}, b"x" * 5000),
                  "/mp4": (200, {"Content-Type": "video/mp4"}, b"\x00\x00\x00 ftypisom"),
                  "/gone": (404, {}, b"")})
    with pytest.raises(FetchError, match="5000 bytes is over the 1000-byte limit"):
        fetch(site.url + "/big", allow=site.allow, max_bytes=1000)
    with pytest.raises(FetchError, match="content type video/mp4; expected HTML, plain text, a Word, "
                                         "OpenDocument or RTF text, a PDF document or an image"):
        fetch(site.url + "/mp4", allow=site.allow)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(site.url + "/gone", allow=site.allow)


def test_html_files_and_bad_html(tmp_path):
    page = write(tmp_path / "story.html", PAGE.decode())
    empty = write(tmp_path / "empty.html", "<html><head><title></title></head><body><div></div></body></html>")
    got = list(read_inputs([str(page), str(empty)]))
    assert got[0].title == "Budget Approved After Long Debate" and got[0].source == str(page)
    assert isinstance(got[1], InputError) and str(got[1]) == f"{empty}: no article text found in the HTML"


def test_cli_refuses_loopback_urls_in_one_line():
    # A subprocess cannot carry the patches: it only ever names loopback, so nothing leaves the machine.
    r = run_slant("analyze", "http://127.0.0.1:9/admin")
    assert r.returncode == 1
    assert r.stderr == "Error: http://127.0.0.1:9/admin: refused: 127.0.0.1 is a loopback address\n"
    r = run_slant("analyze", "http://[::1")    # urllib's ValueError, a traceback before
    assert r.returncode == 1 and r.stderr == "Error: http://[::1: not a valid URL (Invalid IPv6 URL)\n"


def test_cli_reads_html_files(tmp_path):
    page = write(tmp_path / "story.html", PAGE.decode())
    r = run_slant("analyze", page)
    assert r.returncode == 0 and r.stdout.startswith(f"Budget Approved After Long Debate  [{page}]")
    old = tmp_path / "old.html"   # saved from a windows-1252 site
    old.write_bytes(_in("windows-1252", '<meta charset="windows-1252">'))
    r = run_slant("analyze", old, "--format", "json")
    assert r.returncode == 0 and "about the new café" in json.loads(r.stdout)["text"]


def test_a_page_without_an_html_name_is_read_as_a_page(tmp_path):
    """`curl URL | slant analyze -` and `curl -o page.txt URL` give pages without an .html name: their markup was
    analysed as the article's text (title '<!DOCTYPE html><html><head>...', one paragraph of tags)."""
    r = run_slant("analyze", "-", "--format", "json", stdin=PAGE.decode())
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["title"] == "Budget Approved After Long Debate" and "<" not in doc["text"]
    saved = write(tmp_path / "saved.txt", "\n" + PAGE.decode())
    plain = write(tmp_path / "about.txt", "Why the <html> tag matters\n\nEvery page opens with <html> and a head.")
    r = run_slant("analyze", saved, plain, "--format", "jsonl")
    assert r.returncode == 0, r.stderr
    first, second = (json.loads(line) for line in r.stdout.splitlines())
    assert first["title"] == "Budget Approved After Long Debate" and "<" not in first["text"]
    assert second["text"] == "Why the <html> tag matters\n\nEvery page opens with <html> and a head."
    r = run_slant("batch", saved, "-o", tmp_path / "out", "--language", "en")
    assert r.returncode == 0, r.stderr
    r = run_slant("query", tmp_path / "out", "select title from articles", "--format", "csv")
    assert r.stdout.splitlines() == ["title", "Budget Approved After Long Debate"]


def _in(charset: str, meta: str) -> bytes:
    """PAGE with a café, saved in ``charset`` with the ``meta`` declaration a site of that charset prints."""
    return PAGE.replace(b"<head>", b"<head>" + meta.encode()).replace(b"new schools", "new café".encode(charset))


def test_saved_pages_read_by_their_declared_charset(tmp_path):
    pages = {
        "meta.html": _in("windows-1252", '<meta charset="windows-1252">'),
        "http_equiv.html": _in("iso-8859-1", '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'),
        "utf16.html": PAGE.replace(b"new schools", "new café".encode()).decode().encode("utf-16"),  # with its BOM
    }
    for name, raw in pages.items():
        (tmp_path / name).write_bytes(raw)
    docs = list(read_inputs([str(tmp_path / name) for name in pages]))
    assert all("about the new café" in doc.text for doc in docs), docs
    bad = {"none.html": _in("windows-1252", ""), "klingon.html": _in("windows-1252", '<meta charset="klingon">'),
           "lies.html": _in("windows-1252", '<meta charset="utf-8">')}
    for name, raw in bad.items():
        (tmp_path / name).write_bytes(raw)
    offset = _in("windows-1252", "").index(b"\xe9")
    assert [str(e) for e in read_inputs([str(tmp_path / name) for name in bad])] == [
        f"{tmp_path / 'none.html'}: not UTF-8 text (byte 0xe9 at offset {offset}), and the page declares no charset",
        f"{tmp_path / 'klingon.html'}: unknown charset 'klingon' (as its <meta> declares)",
        f"{tmp_path / 'lies.html'}: not UTF-8 text (byte 0xe9 at offset {offset + 22})",
    ]


def test_a_fetched_page_reads_by_its_meta_charset_when_the_server_names_none(sites):
    site = sites({"/old.html": (200, {"Content-Type": "text/html"}, _in("windows-1252", '<meta charset="windows-1252">'))})
    assert "about the new café" in read_url(site.url + "/old.html", allow=site.allow).text
