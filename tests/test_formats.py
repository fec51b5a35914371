"""Readers and writers of every task format, on tiny files written here."""


import pytest

from slant import Document, FormatError, InputError
from slant.formats import ptc, read_article, read_articles, semeval, write_article
from slant.formats.semeval import FramesRow, GenreRow, ParagraphRow, SpanRow, TemplateRow
from slant.formats.ptc import SIRow
from conftest import ARTICLE, write

READERS = {
    "subtask1": semeval.read_subtask1, "subtask2": semeval.read_subtask2, "subtask3": semeval.read_subtask3,
    "spans": semeval.read_spans, "template": semeval.read_template,
    "si": ptc.read_si, "tc": ptc.read_tc, "tc-template": ptc.read_tc_template,
}


@pytest.mark.parametrize("fmt,line,expected,error", [
    ("subtask1", "7\topinion", GenreRow("7", "opinion"), None),
    ("subtask1", "7\tOpinion", None, "unknown genre 'Opinion'"),
    ("subtask1", "7 opinion", None, "expected 2 tab-separated columns for subtask 1, got 1"),
    ("subtask2", "7\tPolitical,Morality", FramesRow("7", ("Political", "Morality")), None),
    ("subtask2", "7\t", FramesRow("7", ()), None),
    ("subtask2", "7\tPolitical,,Morality", None, "empty label in list"),
    ("subtask2", "7\tPolitical,Political", None, "label repeated in list"),
    ("subtask2", "7\tPolitics", None, "unknown frame 'Politics'"),
    ("subtask3", "7\t3\tDoubt,Slogans", ParagraphRow("7", 3, ("Doubt", "Slogans")), None),
    ("subtask3", "7\t3\t", ParagraphRow("7", 3, ()), None),
    ("subtask3", "7\t3", ParagraphRow("7", 3, ()), None),
    ("subtask3", "7\t0\tDoubt", None, "paragraph numbers start at 1"),
    ("subtask3", "7\tthree\tDoubt", None, "paragraph must be a non-negative integer, got 'three'"),
    ("subtask3", "7\t3\tDoubt\textra", None, "expected 2 or 3 tab-separated columns"),
    ("subtask3", "\t3\tDoubt", None, "bad article id ''"),
    ("spans", "7\tDoubt\t4\t9", SpanRow("7", "Doubt", 4, 9), None),
    ("spans", "7\tDoubt\t9\t4", None, "end 4 is not after start 9"),
    ("spans", "7\tDoubt\t4\t4", None, "end 4 is not after start 4"),
    ("spans", "7\tDoubt\t-1\t4", None, "start must be a non-negative integer, got '-1'"),
    ("spans", "7\tName_Calling,Labeling\t0\t3", None, "unknown technique 'Name_Calling,Labeling'"),
    ("template", "7\t3\tSome\ttext", TemplateRow("7", 3, "Some\ttext"), None),
    ("si", "7\t4\t9", SIRow("7", 4, 9), None),
    ("si", "7\t4", None, "expected 3 tab-separated columns for PTC SI, got 2"),
    ("tc", "7\tName_Calling,Labeling\t0\t3", SpanRow("7", "Name_Calling,Labeling", 0, 3), None),  # comma in name
    ("tc", "7\tName_Calling-Labeling\t0\t3", None, "unknown PTC-2020 class 'Name_Calling-Labeling'"),
    ("tc-template", "7\t?\t0\t3", SpanRow("7", "?", 0, 3), None),
    ("tc-template", "7\tDoubt\t0\t3", None, "template rows have '\\?' in column 2"),
])
def test_parse_row(tmp_path, fmt, line, expected, error):
    path = write(tmp_path / "labels.txt", f"{line}\n")
    if error:
        with pytest.raises(FormatError, match=f"^{path}:1: .*{error}"):
            READERS[fmt](path)
    else:
        assert READERS[fmt](path) == [expected]


@pytest.mark.parametrize("fmt,content,error", [
    ("subtask1", "7\topinion\n8\tsatire\n7\treporting\n", ":3: article 7 given twice \\(first at line 1\\)"),
    ("subtask3", "7\t1\t\n7\t1\tDoubt\n", ":2: paragraph \\('7', 1\\) given twice"),
])
def test_duplicates_are_errors(tmp_path, fmt, content, error):
    with pytest.raises(FormatError, match=error):
        READERS[fmt](write(tmp_path / "x.txt", content))


def test_ptc_spans_may_repeat(tmp_path):
    rows = ptc.read_tc(write(tmp_path / "tc", "7\tDoubt\t0\t3\n7\tDoubt\t0\t3\n"))
    assert len(rows) == 2


def test_blank_lines_and_crlf_are_tolerated(tmp_path):
    rows = semeval.read_subtask1(write(tmp_path / "x", "7\topinion\r\n\r\n8\tsatire\r\n"))
    assert [(r.article_id, r.genre, r.line) for r in rows] == [("7", "opinion", 1), ("8", "satire", 3)]
    # Notepad's "UTF-8 with BOM": the mark was read into the first id ("\ufeff7"), which matched no article
    rows = semeval.read_subtask1(write(tmp_path / "bom", "\ufeff7\topinion\r\n8\tsatire\r\n"))
    assert [r.article_id for r in rows] == ["7", "8"]


@pytest.mark.parametrize("fmt,content", [
    ("subtask1", "833\tsatire\n12\topinion\n"),
    ("subtask2", "833\tPolitical,Morality,Economic\n12\tLegality_Constitutionality_and_jurisprudence\n"),
    ("subtask3", "12\t1\t\n12\t3\tDoubt,Loaded_Language\n12\t5\tAppeal_to_Fear-Prejudice\n"),
    ("spans", "12\tDoubt\t149\t157\n12\tLoaded_Language\t149\t160\n"),
    ("template", "12\t1\tTitle here\n12\t3\tBody — with ünïcödé\n"),
    ("si", "12\t265\t323\n12\t1\t5\n"),
    ("tc", "12\tWhataboutism,Straw_Men,Red_Herring\t854\t1029\n12\tFlag-Waving\t1\t5\n"),
    ("tc-template", "12\t?\t123\t128\n12\t?\t1\t2\n"),
])
def test_write_read_round_trip_is_byte_exact(tmp_path, fmt, content):
    writers = {"subtask1": semeval.write_subtask1, "subtask2": semeval.write_subtask2,
               "subtask3": semeval.write_subtask3, "spans": semeval.write_spans,
               "template": semeval.write_template, "si": ptc.write_si, "tc": ptc.write_tc,
               "tc-template": ptc.write_tc_template}
    src = write(tmp_path / "in.txt", content)
    out = tmp_path / "out.txt"
    writers[fmt](out, READERS[fmt](src))
    assert out.read_bytes() == src.read_bytes()


def test_documents_to_rows_and_back(tmp_path, article_text):
    doc = Document("123", article_text)
    start = article_text.index("sinister regime")
    doc.add_span(start, start + 15, "Loaded_Language")
    doc.add_span(article_text.index("Everyone"), article_text.index(" that this"), "Appeal_to_Popularity")
    doc.techniques = doc.techniques_from_spans()
    doc.set_genre("opinion")
    doc.set_frames(["Political"])
    paths = {name: tmp_path / name for name in ("1", "2", "3", "spans", "template")}
    semeval.write_subtask1(paths["1"], semeval.subtask1_rows([doc]))
    semeval.write_subtask2(paths["2"], semeval.subtask2_rows([doc]))
    semeval.write_subtask3(paths["3"], semeval.subtask3_rows([doc]))
    semeval.write_spans(paths["spans"], semeval.span_rows([doc]))
    semeval.write_template(paths["template"], semeval.template_rows([doc]))
    assert paths["3"].read_text() == "123\t1\t\n123\t3\tLoaded_Language\n123\t5\tAppeal_to_Popularity\n123\t7\t\n"
    assert paths["template"].read_text(encoding="utf-8").splitlines()[0] == "123\t1\t\ufeffWar on Common Sense"

    fresh = Document("123", article_text)
    for name, reader in [("1", semeval.read_subtask1), ("2", semeval.read_subtask2),
                         ("3", semeval.read_subtask3), ("spans", semeval.read_spans)]:
        semeval.attach({"123": fresh}, reader(paths[name]), paths[name])
    assert (fresh.genre, fresh.frames, fresh.techniques) == (doc.genre, doc.frames, doc.techniques)
    assert [(s.start, s.end, s.technique, s.text) for s in fresh.spans] == \
           [(s.start, s.end, s.technique, s.text) for s in doc.spans]


def test_writing_labels_a_document_lacks_is_an_error(article_text):
    with pytest.raises(Exception, match="document 1: has no genre to write"):
        semeval.subtask1_rows([Document("1", article_text)])


@pytest.mark.parametrize("content,error", [
    ("9\topinion\n", ":1: unknown article id 9"),
    ("", None),
])
def test_attach_names_unknown_articles(tmp_path, article_text, content, error):
    path = write(tmp_path / "labels.txt", content)
    docs = {"123": Document("123", article_text)}
    if error:
        with pytest.raises(FormatError, match=f"^{path}{error}$"):
            semeval.attach(docs, semeval.read_subtask1(path), path)
    else:
        semeval.attach(docs, semeval.read_subtask1(path), path)
        assert docs["123"].genre is None


@pytest.mark.parametrize("content,error", [
    ("123\tDoubt\t0\t9999\n", ":1: document 123: span 0-9999: outside text of length"),
    ("123\t2\tDoubt\n", ":1: document 123: no paragraph 2"),
])
def test_attach_checks_offsets_and_paragraphs(tmp_path, article_text, content, error):
    path = write(tmp_path / "labels.txt", content)
    reader = semeval.read_spans if content.count("\t") == 3 else semeval.read_subtask3
    with pytest.raises(FormatError, match=f"^{path}{error}"):
        semeval.attach({"123": Document("123", article_text)}, reader(path), path)


# -- articles ----------------------------------------------------------------

def test_article_is_read_exactly(article_file):
    doc = read_article(article_file, language="en")
    assert doc.id == "123" and doc.text == ARTICLE and doc.language == "en"
    assert doc.title == "War on Common Sense"
    assert [p.number for p in doc.paragraphs] == [1, 3, 5, 7]


def test_write_article_is_byte_exact(tmp_path, article_file):
    doc = read_article(article_file)
    out = write_article(doc, tmp_path / "out" if (tmp_path / "out").mkdir() is None else None)
    assert out.name == "article123.txt" and out.read_bytes() == article_file.read_bytes()


@pytest.mark.parametrize("data,error", [
    (b"", "empty file, no text to read"),
    (b"  \n\n", "empty file, no text to read"),
    (b"\x7fELF\x02\x00binary", "binary file \\(NUL byte at offset 5\\), expected UTF-8 text"),
    (b"PK\x03\x04\x00\x00binary", "a ZIP archive \\(as .epub books and spreadsheets are\\), not text: save the "
                                   "article as text or HTML first"),
    (b"caf\xe9 au lait", "not UTF-8 text \\(byte 0xe9 at offset 3\\)"),
])
def test_bad_article_files(tmp_path, data, error):
    path = tmp_path / "article5.txt"
    path.write_bytes(data)
    with pytest.raises(InputError, match=f"^{path}: {error}$"):
        read_article(path)


def test_missing_file_and_folder_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_article(tmp_path / "article1.txt")
    with pytest.raises(InputError, match="no article\\*.txt files"):
        read_articles(tmp_path)
    with pytest.raises(InputError, match="not a directory"):
        read_articles(tmp_path / "nowhere")


def test_articles_are_ordered_by_numeric_id(tmp_path):
    for i in (10, 9, 100):
        write(tmp_path / f"article{i}.txt", f"Title {i}\n")
    write(tmp_path / "notes.txt", "not an article")
    assert [d.id for d in read_articles(tmp_path)] == ["9", "10", "100"]
