"""Shared fixtures: tiny articles written here, and running the CLI as a user does."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SHARED_DATA = REPO.parent / "shared" / "data"

# A small article with the awkward parts of real ones: a BOM, a blank line of
# spaces, a multibyte character, an em dash, and no final newline.
ARTICLE = (
    "\ufeffWar on Common Sense\n"
    "\n"
    "The sinister regime of bureaucrats wants to tax your café au lait.\n"
    "   \n"
    "Everyone agrees — every single honest person — that this is madness.\n"
    "\n"
    "Stop them now 🛑!"
)


@pytest.fixture
def article_text() -> str:
    return ARTICLE


@pytest.fixture
def article_file(tmp_path: Path) -> Path:
    path = tmp_path / "article123.txt"
    path.write_bytes(ARTICLE.encode("utf-8"))
    return path


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def run_slant(*args: str, stdin: str | bytes | None = None, cwd: Path | None = None) -> Run:
    """Run ``python -m slant`` as a subprocess, the way a user runs the CLI (``stdin`` as text, or bytes: a file
    piped in)."""
    raw = isinstance(stdin, bytes)
    proc = subprocess.run([sys.executable, "-m", "slant", *map(str, args)], input=stdin, capture_output=True,
                          text=not raw, encoding=None if raw else "utf-8", cwd=cwd or REPO, timeout=120)
    if raw:
        return Run(proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"))
    return Run(proc.returncode, proc.stdout, proc.stderr)


def write_docx(path: Path, paragraphs: list[str], table: list[str] = ()) -> Path:
    """A Word document as Word writes one (the parts slant reads, and the package files around them): each of
    ``paragraphs`` is the inner markup of a <w:p> (runs), each of ``table`` a table cell's text."""
    import zipfile
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = "".join(f"<w:p>{runs}</w:p>" for runs in paragraphs)
    if table:
        body += "<w:tbl><w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{cell}</w:t></w:r></w:p></w:tc>"
                                          for cell in table) + "</w:tr></w:tbl>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                         'openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" '
                         'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"'
                         '/></Types>')
        archive.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                         'openxmlformats.org/package/2006/relationships"/>')
        archive.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                                              f'<w:document {ns}><w:body>{body}<w:sectPr/></w:body></w:document>')
    return path


def write_pdf(path: Path, title: str, paragraphs: list[str], *, columns: int = 1, indent: float = 0,
              spacing: float = 4, running: bool = False, password: str | None = None) -> Path:
    """A PDF as a word processor prints one (fpdf2 typesets it): ``title`` in large bold, then ``paragraphs`` in
    ``columns`` columns, each paragraph's first line indented by ``indent`` mm and followed by ``spacing`` mm;
    ``running`` puts a header and a numbered footer on every page; ``password`` locks it."""
    from fpdf import FPDF

    class Paper(FPDF):
        def header(self):
            if running:
                self.set_font("helvetica", size=8)
                self.set_y(8)
                self.cell(0, 5, "The Daily Gazette - 7 December 2026")
                self.set_xy(self.l_margin, 20)

        def footer(self):
            if running:
                self.set_y(-15)
                self.set_font("helvetica", size=8)
                self.cell(0, 5, f"Page {self.page_no()}", align="C")

    pdf = Paper(format="letter")
    pdf.set_auto_page_break(True, margin=25)
    if password is not None:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.multi_cell(0, 9, title)
    pdf.ln(3)
    pdf.set_font("helvetica", size=11)
    with pdf.text_columns(ncols=columns, gutter=10, text_align="J" if indent else "L") as text:
        for paragraph in paragraphs:
            with text.paragraph(first_line_indent=indent, bottom_margin=spacing) as par:
                par.write(paragraph)
    pdf.output(str(path))
    return path


def picture_of(title: str, paragraphs: list[str], *, width: int = 900, size: int = 22, dark: bool = False):
    """A picture of an article as a screen shows one (a Pillow image; its built-in font): ``title`` in larger
    print, then ``paragraphs`` wrapped to ``width`` pixels, a blank line between; ``dark``: light text on a dark
    background, as a dark mode shows it."""
    from PIL import Image, ImageDraw, ImageFont
    title_font, font = ImageFont.load_default(size=round(size * 1.5)), ImageFont.load_default(size=size)
    ink, paper = ("#e7e9ea", "#15202b") if dark else ("black", "white")
    picture = Image.new("RGB", (width, 40 * size + 60 * size * len(paragraphs)), paper)
    draw, y, margin = ImageDraw.Draw(picture), 30, 30
    for text, face, step in [(title, title_font, round(size * 2.1))] + [(p, font, round(size * 1.4))
                                                                        for p in paragraphs]:
        lines = [""]
        for word in text.split():      # wrapped where the next word would pass the right margin
            if lines[-1] and draw.textlength(lines[-1] + " " + word, font=face) > width - 2 * margin:
                lines.append(word)
            else:
                lines[-1] = (lines[-1] + " " + word).strip()
        for line in lines if text else []:
            draw.text((margin, y), line, font=face, fill=ink)
            y += step
        y += size
    return picture.crop((0, 0, width, y + 30))


def write_picture(path: Path, title: str, paragraphs: list[str], **options) -> Path:
    """``picture_of`` saved at ``path`` (PNG, JPEG, ... by its suffix)."""
    picture_of(title, paragraphs, **options).save(path)
    return path


def write_mhtml(path: Path, page: str, location: str = "https://news.example.com/story") -> Path:
    """A page saved as one file as Chrome saves it ("Save as... Webpage, Single File"): a MIME message whose HTML
    part is quoted-printable, beside a picture in base64."""
    import quopri
    boundary = "----MultipartBoundary--x1y2z3----"
    body = quopri.encodestring(page.encode("utf-8")).decode("ascii")
    path.write_bytes((f"From: <Saved by Blink>\r\nSnapshot-Content-Location: {location}\r\nSubject: =?utf-8?Q?A_page?="
                      f"\r\nDate: Mon, 7 Dec 2026 10:00:00 -0000\r\nMIME-Version: 1.0\r\nContent-Type: "
                      f"multipart/related;\r\n\ttype=\"text/html\";\r\n\tboundary=\"{boundary}\"\r\n\r\n\r\n"
                      f"--{boundary}\r\nContent-Type: text/html\r\nContent-ID: <frame-1@mhtml.blink>\r\n"
                      f"Content-Transfer-Encoding: quoted-printable\r\nContent-Location: {location}\r\n\r\n"
                      f"{body}\r\n--{boundary}\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
                      f"Content-Location: {location}/logo.png\r\n\r\niVBORw0KGgo=\r\n--{boundary}--\r\n"
                      ).encode("ascii"))
    return path


def write_odt(path: Path, body: str) -> Path:
    """An OpenDocument text as LibreOffice writes one (its mimetype first, stored; content.xml): ``body`` is the
    markup inside <office:text>."""
    import zipfile
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"')
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
                                        f'office:version="1.3"><office:body><office:text>{body}</office:text>'
                                        f'</office:body></office:document-content>', compress_type=zipfile.ZIP_DEFLATED)
    return path


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random-encoder model trained by `slant train --tiny` on a corpus written in the tests."""
    pytest.importorskip("torch", reason="needs the train extra")
    from tiny_corpus import write_tiny_corpus

    root = tmp_path_factory.mktemp("tiny")
    write_tiny_corpus(root / "data")
    r = run_slant("train", "--data", root / "data", "--out", root / "model", "--tiny")
    assert r.returncode == 0, r.stderr
    assert "step" in r.stderr and "exported" in r.stderr        # progress is shown
    return root


@pytest.fixture(scope="session")
def every_technique_model(tiny_model, tmp_path_factory) -> Path:
    """The tiny model with its per-technique thresholds all 0: with --thresholds per-technique every paragraph
    gets every technique, so a test can tell which operating point ran."""
    import shutil
    model = tmp_path_factory.mktemp("every") / "model"
    shutil.copytree(tiny_model / "model", model)
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["thresholds"]["paragraph_per_technique"] = [0.0] * len(manifest["labels"])
    (model / "manifest.json").write_text(json.dumps(manifest))
    return model


# -- the browser (Debian's chromium, driven by Playwright; never a downloaded browser) ---------------

XSS_ARTICLE = (
    "<script>window.__pwned = 1</script> Title </style><b>bold</b>\n\n"
    "The regime's <img src=x onerror=\"window.__pwned = 2\"> corrupt elite betrayed us all.\n\n"
    "\"</script><svg onload=window.__pwned=3>\" they shouted — a disgrace & a betrayal of every family.\n"
)


def chromium_path() -> str:
    import shutil
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install -y chromium")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and uncaught exceptions in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


# -- servers on 127.0.0.1 only ---------------------------------------------------------------------

def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(log_dir: Path, *args):
    """`slant serve ARGS` started as a user starts it, on a free port of 127.0.0.1; yields its base URL."""
    import time
    import urllib.request
    port = free_port()
    log = log_dir / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "slant", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 *map(str, args)], stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"slant serve exited: {log.read_text()}")
                time.sleep(0.1)
        else:
            pytest.fail("slant serve did not answer /healthz")
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """`slant serve` with the shipped model; yields its base URL."""
    with serving(tmp_path_factory.mktemp("serve")) as base:
        yield base
