"""PDF documents (slant.formats.pdf): the paragraphs of the text layer, as a word processor or a browser's
"print to PDF" lays them out, come back as they were written."""

from __future__ import annotations

import pytest

from conftest import write_pdf
from slant.errors import InputError
from slant.formats.pdf import document_from_pdf, pdf_paragraphs

TITLE = "Brussels Bureaucrats Plot to Ban Your Morning Coffee"
# paragraphs of one to six lines, so that some are cut by page and column breaks
SENTENCES = ["The minister's plan is a disgrace.", "Critics said he lied to the people about the cost of the scheme "
             "and about who would pay for it.", "Nobody believes him any more.", "The opposition, for its part, called "
             "the plan a betrayal of every family that works hard and plays by the rules."]
PARAGRAPHS = [" ".join([f"Paragraph {i} is here."] + [SENTENCES[(i + k) % 4] for k in range(i % 5)]) for i in range(40)]


def paragraphs_of(path) -> list[str]:
    return pdf_paragraphs(path.read_bytes(), str(path))


@pytest.mark.parametrize("layout", [
    dict(),                                       # space between paragraphs
    dict(indent=8, spacing=0),                    # first lines indented, no space between, justified
    dict(columns=2),                              # two columns, the title across both
    dict(columns=3, indent=5, spacing=0),
], ids=["spaced", "indented", "two-columns", "three-columns-indented"])
def test_paragraphs_come_back_as_written(tmp_path, layout):
    """Each paragraph whole and in reading order, over three pages, those cut by a page or column break joined;
    the running header and the page numbers left out."""
    pdf = write_pdf(tmp_path / "a.pdf", TITLE, PARAGRAPHS, running=True, **layout)
    assert paragraphs_of(pdf) == [TITLE] + PARAGRAPHS


def test_a_document_is_its_paragraphs_under_its_title(tmp_path):
    doc = document_from_pdf(write_pdf(tmp_path / "a.pdf", TITLE, PARAGRAPHS[:3]).read_bytes(), "a", "a.pdf")
    assert doc.text == "\n\n".join([TITLE] + PARAGRAPHS[:3]) + "\n"
    assert (doc.id, doc.source, doc.title) == ("a", "a.pdf", TITLE)


def test_lines_broken_at_a_hyphen_and_ligatures(tmp_path):
    """A word broken at its own hyphen keeps it ("anti-" + "American"), one hyphenated by the typesetter is whole
    again ("propa-" + "ganda"); a soft hyphen is dropped, ligatures are written out."""
    from slant.formats.layout import _join
    from slant.formats.pdf import _clean
    assert _join("the anti-", "American mood") == "the anti-American mood"
    assert _join("a self-", "serving plan") == "a self-serving plan"
    assert _join("pure propa-", "ganda, they said") == "pure propaganda, they said"   # typeset hyphenation
    assert _join("their declara-", "tions.") == "their declarations."
    assert _join("it ended -", "then") == "it ended - then"
    assert _clean("a \ufb01ne  propa\u00adganda\ufb02ow ") == "a fine propagandaflow"
    words = "They called it a self-serving, anti-democratic and short-sighted plan, " * 12
    pdf = write_pdf(tmp_path / "h.pdf", TITLE, [words.strip()])
    assert paragraphs_of(pdf) == [TITLE, words.strip()]


def test_pdfs_slant_cannot_read_are_named(tmp_path):
    from fpdf import FPDF
    scanned = FPDF()
    scanned.add_page()
    scanned.rect(20, 20, 100, 150, style="F")     # a picture of a page, no text layer
    scanned.output(str(tmp_path / "scan.pdf"))
    locked = write_pdf(tmp_path / "locked.pdf", TITLE, PARAGRAPHS[:2], password="secret")
    readable = write_pdf(tmp_path / "owner-only.pdf", TITLE, PARAGRAPHS[:2], password="")   # opens without one
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(readable.read_bytes()[:400])
    assert paragraphs_of(readable) == [TITLE] + PARAGRAPHS[:2]
    for path, message in ((tmp_path / "scan.pdf", "a PDF document without text to read (no text layer, and no "
                                                  "text in its pages' pictures)"),   # read by OCR: test_ocr.py
                          (locked, "a PDF document locked with a password: unlock it (or save its text) first"),
                          (cut, "not a readable PDF document (")):
        with pytest.raises(InputError) as caught:
            document_from_pdf(path.read_bytes(), "x", str(path))
        assert str(caught.value).startswith(f"{path}: {message}")
        assert "\n" not in str(caught.value)


def test_glyphs_without_a_letter(monkeypatch):
    """A glyph whose font names no letter comes out of pdfminer as "(cid:13)": a few (LaTeX's ©) are dropped, a
    PDF of mostly such glyphs (fonts without a letter map) is read by OCR, or refused without the OCR files,
    rather than analysed as noise."""
    import slant.formats.pdf as pdf
    monkeypatch.setattr(pdf, "pdf_paragraphs", lambda raw, source: ["A Title", "Copyright c(cid:13) 2001 the authors."])
    assert document_from_pdf(b"", "x", "x.pdf").text == "A Title\n\nCopyright c 2001 the authors.\n"
    monkeypatch.setattr(pdf, "pdf_paragraphs", lambda raw, source: ["(cid:3)(cid:4)(cid:5) (cid:6)(cid:7)", "A b."])
    import slant.formats.ocr as ocr
    monkeypatch.setattr(ocr, "scanned_pages", lambda raw, source: ["A Title", "The text as its pages show it."])
    assert document_from_pdf(b"", "x", "x.pdf").text == "A Title\n\nThe text as its pages show it.\n"   # by OCR
    monkeypatch.setattr(ocr, "ocr_available", lambda: False)
    with pytest.raises(InputError, match=r'^x.pdf: a PDF document whose fonts do not say which letters they draw '
                                         r'\(save its text from the program that made it; or reading text from '
                                         r'pictures needs slant\'s OCR files: pip install "slant\[ocr\]"\)$'):
        document_from_pdf(b"", "x", "x.pdf")
