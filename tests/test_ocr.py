"""Pictures of text read by OCR (slant.formats.ocr): a screenshot or a photo of an article, and the pages of a
scanned PDF, with PP-OCRv5's files (``pip install "slant[ocr]"``) run on onnxruntime."""

import difflib
import io
import json
import sys

import numpy as np
import pytest
from conftest import picture_of, run_slant, write, write_picture

from slant.errors import InputError
from slant.formats import ocr
from slant.formats.tsv import not_text
from slant.inputs import document_from_bytes, file_kind

TITLE = "Brussels Bureaucrats Plot to Ban Your Morning Coffee"
PARAGRAPHS = [
    ("Unelected Brussels bureaucrats have once again shown their contempt for ordinary Europeans. A leaked memo "
     "reveals a plan to tax espresso out of existence by 2030."),
    ("Real Europeans will not stand by while a handful of technocrats destroy a tradition older than the Union "
     "itself."),
    "Hands off our coffee!",
]


def close(got: str, want: str) -> float:
    """How alike two texts are, letter by letter (OCR may misread a letter or split a word)."""
    return difflib.SequenceMatcher(None, want, got, autojunk=False).ratio()


def read(picture, name="shot.png", kind="PNG") -> list[str]:
    buffer = io.BytesIO()
    picture.save(buffer, kind)
    return document_from_bytes(buffer.getvalue(), name).text.strip().split("\n\n")


def assert_article(paragraphs: list[str]) -> None:
    assert paragraphs[0] == TITLE and len(paragraphs) == 1 + len(PARAGRAPHS)
    for got, want in zip(paragraphs[1:], PARAGRAPHS):
        assert close(got, want) >= 0.9, (got, want)


@pytest.mark.parametrize("options", [{}, {"dark": True}, {"width": 420, "size": 18}], ids=["screen", "dark", "phone"])
def test_a_screenshot_is_read_as_its_paragraphs(options):
    """The title (larger print) is the first paragraph, its two lines one; each paragraph's wrapped lines are one
    paragraph, a blank line's space ends it — on a wide screen, in dark mode and on a phone's narrow one."""
    assert_article(read(picture_of(TITLE, PARAGRAPHS, **options)))


def test_pictures_by_their_bytes_in_every_common_format(tmp_path):
    """PNG, JPEG, WebP, GIF, TIFF and BMP are known by their first bytes, whatever the file is called; a photo's
    EXIF orientation is applied (a phone saves a portrait shot sideways and says so)."""
    picture = picture_of(TITLE, PARAGRAPHS[:1])
    for kind, name in (("PNG", "a PNG image"), ("JPEG", "a JPEG image"), ("WEBP", "a WebP image"),
                       ("GIF", "a GIF image"), ("TIFF", "a TIFF image"), ("BMP", "a BMP image")):
        buffer = io.BytesIO()
        picture.save(buffer, kind)
        assert (ocr.image_kind(buffer.getvalue()), file_kind(buffer.getvalue(), "download")) == (name, "image")
    assert read(picture, "shot.jpg", "JPEG")[0] == TITLE
    # where only text is read (`slant semeval predict`'s article*.txt) a picture is named
    assert str(not_text(buffer.getvalue(), "article1.txt")) == ("article1.txt: a BMP image, not text: save the "
                                                                "article as text or HTML first")
    from PIL import Image
    sideways = picture.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6        # "rotate 90° clockwise to view"
    buffer = io.BytesIO()
    sideways.save(buffer, "JPEG", exif=exif)
    assert document_from_bytes(buffer.getvalue(), "photo.jpg").title == TITLE


def test_pictures_slant_cannot_read_are_named(monkeypatch):
    """A picture without text, a broken one, one too small to hold text, and any picture while the OCR files are
    not installed: one line naming the file and what it is."""
    from PIL import Image
    blank = io.BytesIO()
    Image.new("RGB", (600, 300), "white").save(blank, "PNG")
    tiny = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(tiny, "PNG")
    cases = ((blank.getvalue(), "blank.png: a PNG image without text to read"),
             (blank.getvalue()[:60], "cut.png: a PNG image slant cannot open ("),
             (tiny.getvalue(), "tiny.png: a picture too small to hold text (4×4 pixels)"))
    for raw, message in cases:
        with pytest.raises(InputError) as caught:
            document_from_bytes(raw, message.split(":")[0])
        assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    monkeypatch.setattr(ocr, "ocr_available", lambda: False)
    with pytest.raises(InputError, match=r'^blank.png: a PNG image: reading text from pictures needs slant\'s OCR '
                                         r'files: pip install "slant\[ocr\]"$'):
        document_from_bytes(blank.getvalue(), "blank.png")


def test_columns_are_read_one_after_the_other():
    """Two columns side by side (a newspaper's page): the left one read first, then the right one; their lines
    at one height are not joined across the gutter."""
    from PIL import Image
    left, right = picture_of(TITLE, PARAGRAPHS[:1], width=420, size=18), picture_of("", PARAGRAPHS[1:2], width=420,
                                                                                     size=18)
    page = Image.new("RGB", (900, max(left.height, right.height)), "white")
    page.paste(left, (0, 0))
    page.paste(right, (470, 0))
    paragraphs = read(page)
    assert paragraphs[0] == TITLE and close(paragraphs[1], PARAGRAPHS[0]) >= 0.9
    assert close(" ".join(paragraphs[2:]), PARAGRAPHS[1]) >= 0.9


def test_regions_are_the_connected_parts_of_a_map():
    """The detector's map is cut into regions by 8-neighbour connection: the same as a flood fill."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        text = rng.random((30, 40)) > 0.6
        regions = ocr._regions(text)
        label = np.zeros(text.shape, int)
        for n, (_, _, _, _, runs) in enumerate(regions, 1):
            for row, start, end in runs:
                label[row, start:end] = n
        assert ((label > 0) == text).all()
        for y, x in zip(*np.nonzero(text)):      # neighbours share a region, and every region is connected
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    if 0 <= y + dy < 30 and 0 <= x + dx < 40 and text[y + dy, x + dx]:
                        assert label[y + dy, x + dx] == label[y, x]


def test_a_scanned_pdf_is_read_by_ocr(tmp_path, monkeypatch):
    """A PDF of pictures of pages (a scanner's) has no text layer: its pages are drawn and read, in order; without
    the OCR files it says what would read it."""
    from fpdf import FPDF
    pdf = FPDF(format="letter")
    for n, part in enumerate((PARAGRAPHS[:2], PARAGRAPHS[2:])):
        path = write_picture(tmp_path / f"page{n}.png", TITLE if n == 0 else "", part, width=1600, size=36)
        pdf.add_page()
        pdf.image(str(path), x=10, y=10, w=190)
    scan = tmp_path / "scan.pdf"
    pdf.output(str(scan))
    doc = document_from_bytes(scan.read_bytes(), str(scan))
    assert_article(doc.text.strip().split("\n\n"))
    monkeypatch.setitem(sys.modules, "pypdfium2", None)     # the OCR files installed by hand, pdfium not
    with pytest.raises(InputError, match=r"scan.pdf: a PDF document of pictures of pages: reading text from "
                                         r"pictures needs"):
        document_from_bytes(scan.read_bytes(), str(scan))
    monkeypatch.setattr(ocr, "ocr_available", lambda: False)
    with pytest.raises(InputError, match=r"scan.pdf: a PDF document without text to read \(scanned pages are "
                                         r"pictures of text; reading text from pictures needs"):
        document_from_bytes(scan.read_bytes(), str(scan))


def test_cli_reads_a_picture_named_or_piped_and_passes_over_a_folders_photos(tiny_model, tmp_path):
    """`slant analyze shot.png` and `... | slant analyze -` read the picture; a folder's pictures are its
    articles' illustrations, not articles: passed over."""
    shot = write_picture(tmp_path / "shot.png", TITLE, PARAGRAPHS)
    model = str(tiny_model / "model")
    r = run_slant("analyze", str(shot), "--format", "json", "--model", model)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["id"], doc["title"], doc["source"]) == ("shot", TITLE, str(shot))
    r = run_slant("analyze", "-", "--format", "json", "--model", model, stdin=shot.read_bytes())
    assert r.returncode == 0 and json.loads(r.stdout)["title"] == TITLE
    folder = tmp_path / "folder"
    folder.mkdir()
    write_picture(folder / "photo.png", TITLE, PARAGRAPHS[:1])
    write(folder / "story.txt", "A story\n\nIt was told.")
    r = run_slant("analyze", str(folder), "--format", "jsonl", "--model", model)
    assert r.returncode == 0 and [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["story"]
    r = run_slant("batch", str(shot), str(folder), "-o", str(tmp_path / "out"), "--model", model)   # named: read
    assert r.returncode == 0, r.stderr
    r = run_slant("query", str(tmp_path / "out"), "select id, title from articles order by id", "--format", "json")
    assert json.loads(r.stdout) == [{"id": "shot", "title": TITLE}, {"id": "story", "title": "A story"}]
