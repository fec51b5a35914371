"""`slant analyze` as a user runs it: formats, stdin, and bad inputs in a batch."""

import json

import pytest

from conftest import ARTICLE, EXAMPLES, run_slant, write


def test_text_report(tiny_model, article_file):
    r = run_slant("analyze", article_file, "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"War on Common Sense  [{article_file}]")
    lines = r.stdout.splitlines()
    assert lines[1].startswith("genre: ") and lines[2].startswith("frames: ") and "techniques" in lines[3]


def test_stdin_and_jsonl(tiny_model):
    r = run_slant("analyze", "-", "--format", "jsonl", "--model", tiny_model / "model", stdin=ARTICLE)
    assert r.returncode == 0, r.stderr
    (line,) = r.stdout.splitlines()
    doc = json.loads(line)
    assert doc["id"] == "stdin" and doc["text"] == ARTICLE and doc["source"] == "<stdin>"
    assert r.stderr == ""   # piped: no "Reading the article from standard input" line


def test_stdin_from_a_terminal_says_what_it_waits_for(tiny_model):
    """`slant analyze -` typed without a pipe sat silent, waiting; on a terminal it now says to paste the article
    and end it with Ctrl-D (piped input, as above, gets no such line)."""
    import os
    import pty
    import subprocess
    import sys
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "slant", "analyze", "-", "--format", "jsonl", "--model",
                             str(tiny_model / "model")], stdin=follower, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    os.close(follower)
    os.write(leader, b"A title\n\nA body typed at the terminal.\n\x04")   # Ctrl-D at the start of a line: end
    out, err = proc.communicate(timeout=120)
    os.close(leader)
    assert proc.returncode == 0, err
    assert err.startswith("Reading the article from standard input: paste or type it, then press Ctrl-D")
    assert json.loads(out)["text"] == "A title\n\nA body typed at the terminal.\n"


def test_json_for_several_is_a_list(tiny_model, tmp_path):
    a = write(tmp_path / "a.txt", "First\n\nbody one")
    b = write(tmp_path / "b.txt", "Second\n\nbody two")
    r = run_slant("analyze", a, b, "--format", "json", "--model", tiny_model / "model")
    assert [d["id"] for d in json.loads(r.stdout)] == ["a", "b"]


def test_a_folder_is_read_with_its_subfolders_as_batch_reads_it(tiny_model, tmp_path):
    # a corpus kept one folder per site or per day: slant batch read it all, slant analyze found nothing
    for sub in ("site-a/2020", "site-b", "empty", "site-b/saved_files", ".venv/lib", ".ipynb_checkpoints"):
        (tmp_path / "corpus" / sub).mkdir(parents=True)
    write(tmp_path / "corpus" / ".venv" / "lib" / "LICENSE.txt", "Permission is hereby granted, free of charge")
    write(tmp_path / "corpus" / ".ipynb_checkpoints" / "one-checkpoint.txt", "First\n\nbody one")
    write(tmp_path / "corpus" / ".draft.txt", "Draft\n\nnot yet")   # hidden files and folders are passed over
    # a page saved "complete" keeps its embedded frames in saved_files/ beside saved.html: parts of the page
    write(tmp_path / "corpus" / "site-b" / "saved.html", "<html><head><title>Third</title></head><body><article>"
          "<h1>Third</h1><p>The council approved the budget after a long debate.</p></article></body></html>")
    write(tmp_path / "corpus" / "site-b" / "saved_files" / "advert.html", "<html><body><p>Buy the best phones "
          "of the season today, every model half price.</p></body></html>")
    write(tmp_path / "corpus" / "site-a" / "2020" / "one.txt", "First\n\nbody one")
    write(tmp_path / "corpus" / "site-b" / "two.txt", "Second\n\nbody two")
    write(tmp_path / "corpus" / "notes.md", "not an article")
    (tmp_path / "corpus" / "link").symlink_to(tmp_path / "corpus")   # a link back up is not followed
    r = run_slant("analyze", tmp_path / "corpus", "--format", "jsonl", "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    assert [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["one", "saved", "two"]


def test_text_and_jsonl_come_article_by_article(tiny_model, tmp_path):
    # a folder of many articles printed nothing until the last was analysed; now each Document is written as it
    # is analysed: the first is on stdout while the second is still being read from a pipe that has not closed
    import subprocess
    import sys
    import threading
    from conftest import REPO
    first = write(tmp_path / "first.txt", "First\n\nbody one")
    for fmt in ("jsonl", "text"):
        proc = subprocess.Popen([sys.executable, "-m", "slant", "analyze", str(first), "-", "--format", fmt,
                                 "--model", str(tiny_model / "model")], cwd=REPO, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=60)                 # before stdin gives the second article
        if not got:
            proc.kill()
            pytest.fail(f"no {fmt} output before the last input was read")
        line = got[0]
        assert ("first" in line) if fmt == "jsonl" else line.startswith("First  ["), line
        proc.stdin.write("Second\n\nbody two")
        proc.stdin.close()
        out, err = proc.stdout.read(), proc.stderr.read()
        assert proc.wait(timeout=120) == 0, err
        whole = run_slant("analyze", first, "-", "--format", fmt, "--model", tiny_model / "model",
                          stdin="Second\n\nbody two").stdout
        assert line + out == whole              # the same bytes as ever: reports one blank line apart


def test_the_output_is_never_read_as_an_input(tiny_model, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder / "a.txt", "First\n\nbody one")
    out = folder / "report.txt"
    for _ in range(2):   # the second run does not read the first run's report as an article
        r = run_slant("analyze", folder, "-o", out, "--format", "jsonl", "--model", tiny_model / "model")
        assert r.returncode == 0 and [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a"]
    # an input named as the output stops the run before anything is written over it
    article = write(tmp_path / "b.txt", "Second\n\nbody two")
    r = run_slant("analyze", folder, article, "-o", article, "--model", tiny_model / "model")
    assert r.returncode == 1 and article.read_text() == "Second\n\nbody two" and r.stdout == ""
    assert r.stderr == f"Error: {article}: the output too; give -o another file (it would overwrite this input)\n"
    # a file that cannot be written is refused before any work
    r = run_slant("analyze", folder, "-o", tmp_path / "missing" / "r.txt", "--model", tiny_model / "model")
    assert (r.returncode, r.stderr) == (1, f"Error: {tmp_path / 'missing' / 'r.txt'}: cannot write (no folder "
                                           f"{tmp_path / 'missing'})\n")


def test_a_utf16_text_with_its_byte_order_mark_reads_as_the_same_text(tiny_model, tmp_path):
    # Windows Notepad's "Unicode": UTF-16 with a byte-order mark (it was refused as a binary file)
    utf8 = write(tmp_path / "utf8.txt", ARTICLE)
    for codec in ("utf-16-le", "utf-16-be"):
        path = tmp_path / f"{codec}.txt"
        path.write_bytes("\ufeff".encode(codec) + ARTICLE.encode(codec))
        docs = [json.loads(run_slant("analyze", p, "--format", "json", "--model", tiny_model / "model").stdout)
                for p in (utf8, path)]
        for doc in docs:
            doc.pop("id"), doc.pop("source")
        assert docs[0] == docs[1] and docs[1]["text"] == ARTICLE


def test_bad_inputs_are_reported_and_the_rest_analyzed(tiny_model, tmp_path):
    good = write(tmp_path / "good.txt", "A title\n\nA body.")
    empty = write(tmp_path / "empty.txt", "")
    bom = write(tmp_path / "bom.txt", "\ufeff\n")         # saved by an editor that writes a BOM: still empty
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\x00\x00")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("café".encode("latin-1"))
    utf32 = tmp_path / "utf32.txt"
    utf32.write_bytes("café".encode("utf-32"))          # its mark begins with UTF-16's
    no_articles = tmp_path / "folder"
    no_articles.mkdir()
    missing = tmp_path / "missing.txt"
    long = write(tmp_path / "long.txt", "A title\n\n" + "word " * 200_000)   # runtime.MAX_CHARACTERS + 9
    table = write(tmp_path / "corpus.jsonl", '{"id": "a", "text": "A title\\n\\nA body."}\n')   # rows, not prose
    # "" (an unset shell variable) is not the current folder, which holds an article here
    r = run_slant("analyze", empty, bom, binary, good, latin1, utf32, no_articles, long, missing, "", table,
                  "--format", "jsonl", "--model", tiny_model / "model", cwd=tmp_path)
    assert r.returncode == 1
    assert [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["good"]
    assert r.stderr.splitlines() == [
        f"Error: {empty}: empty file, no text to read",
        f"Error: {bom}: empty file, no text to read",
        f"Error: {binary}: binary file (NUL byte at offset 4), expected UTF-8 text",
        f"Error: {latin1}: not UTF-8 text (byte 0xe9 at offset 3)",
        f"Error: {utf32}: binary file (NUL character at character 0), expected UTF-8 or UTF-16 text",
        f"Error: {no_articles}: no .txt, .html, .mhtml, .docx, .odt, .rtf, .pdf or .eml files in this folder or its subfolders",
        f"Error: {long}: 1,000,009 characters, more than the 1,000,000 slant analyses in one text: split it",
        f"Error: {missing}: no such file",
        "Error: '': an empty path names no file or folder",
        f"Error: {table}: a table of articles (JSONL), not one text; analyse its rows with slant batch {table} -o OUT",
    ]


def test_official_predictions_leave_out_bad_articles_and_keep_the_rest(tmp_path):
    # the shipped model: the official formats' writers, as a user runs them on a folder with bad files
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder / "article1.txt", "A title\n\nThe corrupt elite are destroying our great nation.\n")
    empty = write(folder / "article2.txt", "")
    binary = folder / "article3.txt"
    binary.write_bytes(b"\x89PNG\x00\x00")
    write(folder / "article4.txt", "Another title\n\nWe must fight back now or lose everything.\n")
    errors = [f"Error: {empty}: empty file, no text to read",
              f"Error: {binary}: binary file (NUL byte at offset 4), expected UTF-8 text"]
    out = tmp_path / "pred.txt"
    r = run_slant("semeval", "predict", "--subtask", "3", "--articles", folder, "--output", out)
    assert r.returncode == 1
    summary = f"wrote {out}: subtask 3 predictions for 2 articles (2 left out, named above)"
    assert r.stderr.splitlines() == [*errors, summary]
    assert [line.split("\t")[:2] for line in out.read_text().splitlines()] == \
           [["1", "1"], ["1", "3"], ["4", "1"], ["4", "3"]]
    r = run_slant("semeval", "predict", "--subtask", "1", "--articles", folder, "--output", tmp_path / "g.txt")
    assert r.returncode == 1 and r.stderr.splitlines()[:2] == errors
    assert [line.split("\t")[0] for line in (tmp_path / "g.txt").read_text().splitlines()] == ["1", "4"]
    r = run_slant("ptc", "predict", "--task", "si", "--articles", folder, "--output", tmp_path / "si.txt")
    assert r.returncode == 1 and r.stderr.splitlines()[:2] == errors
    assert {line.split("\t")[0] for line in (tmp_path / "si.txt").read_text().splitlines()} <= {"1", "4"}
    template = write(tmp_path / "template.txt", "1\t?\t2\t7\n3\t?\t0\t3\n4\t?\t0\t7\n")
    r = run_slant("ptc", "predict", "--task", "tc", "--articles", folder, "--template", template,
                  "--output", tmp_path / "tc.txt")
    assert r.returncode == 1 and r.stderr.splitlines()[0] == errors[1]     # article 2 is not in the template
    assert [line.split("\t")[0] for line in (tmp_path / "tc.txt").read_text().splitlines()] == ["1", "4"]
    # nothing readable: one error line, no file
    bad = tmp_path / "bad"
    bad.mkdir()
    binary.rename(bad / "article3.txt")
    r = run_slant("semeval", "predict", "--subtask", "3", "--articles", bad, "--output", tmp_path / "none.txt")
    assert r.returncode == 1 and not (tmp_path / "none.txt").exists()
    only = f"Error: {bad / 'article3.txt'}: binary file (NUL byte at offset 4), expected UTF-8 text"
    assert r.stderr.splitlines() == [only]


def test_official_predictions_refuse_an_output_they_cannot_write_before_any_work(tiny_model, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder / "article1.txt", "A title\n\nA body.\n")
    template = write(tmp_path / "template.txt", "1\t?\t2\t7\n")
    nowhere = tmp_path / "no-such-folder" / "pred.txt"
    for command in (["semeval", "predict", "--subtask", "3"], ["semeval", "predict", "--subtask", "1"],
                    ["ptc", "predict", "--task", "si"], ["ptc", "predict", "--task", "tc", "--template", template]):
        for output, error in ((folder, f"Error: {folder}: is a folder; give a file to write"),
                              (nowhere, f"Error: {nowhere}: cannot write (no folder {nowhere.parent})")):
            r = run_slant(*command, "--articles", folder, "--output", output, "--model", tiny_model / "model")
            assert r.returncode == 1 and r.stderr == error + "\n", (command, r.stderr)
    r = run_slant("semeval", "predict", "--subtask", "3", "--articles", folder, "--output", tmp_path / "p.txt",
                  "--model", tiny_model / "model")
    assert r.returncode == 0 and r.stderr == f"wrote {tmp_path / 'p.txt'}: subtask 3 predictions for 1 article\n"


def test_a_template_span_past_its_article_is_refused(tiny_model, tmp_path):
    # it was classified on the text it had and written as if whole
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder / "article1.txt", "A title\n\nA body.\n")   # 17 characters
    template = write(tmp_path / "template.txt", "1\t?\t0\t7\n1\t?\t9\t40\n")
    out = tmp_path / "tc.txt"
    r = run_slant("ptc", "predict", "--task", "tc", "--articles", folder, "--template", template, "--output", out,
                  "--model", tiny_model / "model")
    error = f"Error: {template}:2: span 9-40 ends after the 17 characters of article 1\n"
    assert (r.returncode, r.stderr) == (1, error)
    assert not out.exists()


@pytest.mark.parametrize("stdin,error", [("", "Error: <stdin>: empty input, no text to read")])
def test_bad_stdin(tiny_model, stdin, error):
    r = run_slant("analyze", "-", "--model", tiny_model / "model", stdin=stdin)
    assert r.returncode == 1 and r.stderr.strip() == error


def test_missing_model_folder(tmp_path, article_file):
    r = run_slant("analyze", article_file, "--model", tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == f"Error: {tmp_path}: no model here (manifest.json missing)"


@pytest.mark.parametrize("raw,error", [
    (b"PK\x00\x01", "<stdin>: binary file (NUL byte at offset 2), expected UTF-8 text"),
    (b"caf\xe9", "<stdin>: not UTF-8 text (byte 0xe9 at offset 3)"),
    (b"  \n", "<stdin>: empty input, no text to read"),
])
def test_read_stdin_errors(raw, error):
    import io
    from slant import InputError
    from slant.inputs import read_stdin
    with pytest.raises(InputError) as ex:
        read_stdin(io.BytesIO(raw))
    assert str(ex.value) == error


def test_documents_and_images_are_named_not_read(tiny_model, tmp_path):
    """An e-book given as an article is said to be one, with what to do (it was "not UTF-8 text (byte 0xe2 at
    offset 10)"), a picture cut short too (pictures are read by OCR: test_ocr.py); the rest is analysed."""
    files = {"book.epub": b"PK\x03\x04\x14\x00\x06\x00", "chart.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    good = write(tmp_path / "good.txt", "Title\n\nBody text.")
    r = run_slant("analyze", *(tmp_path / name for name in files), good, "--format", "jsonl",
                  "--model", tiny_model / "model")
    assert r.returncode == 1 and [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["good"]
    errors = r.stderr.splitlines()
    assert errors[0] == (f"Error: {tmp_path / 'book.epub'}: a ZIP archive (as .epub books and spreadsheets are), "
                         "not text: save the article as text or HTML first")
    assert len(errors) == 2 and errors[1].startswith(f"Error: {tmp_path / 'chart.png'}: a PNG image slant cannot open (")


def test_word_documents_are_read(tiny_model, tmp_path):
    """A .docx (a statement, a press release as it was sent) is read: its body's paragraphs, one per line, the
    first the title; deleted text of tracked changes is not read, a line break starts a paragraph, table cells
    are paragraphs. Word's lock file beside an open document is passed over in a folder; a broken .docx and a
    ZIP that is not one are named."""
    from conftest import write_docx
    folder = tmp_path / "statements"
    folder.mkdir()
    write_docx(folder / "statement.docx", ['<w:r><w:t>Brussels Plots Against Your Coffee</w:t></w:r>', "",
                                           '<w:r><w:t xml:space="preserve">The elite lie </w:t></w:r><w:del><w:r>'
                                           '<w:delText>always </w:delText></w:r></w:del><w:r><w:t>to you.</w:t></w:r>'
                                           '<w:r><w:br/><w:t>Wake up!</w:t></w:r>',
                                           # a text box, as Word writes it: for new readers and again for old ones
                                           '<w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/'
                                           'markup-compatibility/2006"><mc:Choice Requires="wps"><w:txbxContent>'
                                           '<w:p><w:r><w:t>Boxed.</w:t></w:r></w:p></w:txbxContent></mc:Choice>'
                                           '<mc:Fallback><w:txbxContent><w:p><w:r><w:t>Boxed.</w:t></w:r></w:p>'
                                           '</w:txbxContent></mc:Fallback></mc:AlternateContent></w:r>'],
               table=["A cell of a table."])
    (folder / "~$atement.docx").write_bytes(b"\x05user " + b"\x00" * 150)      # Word's lock file
    r = run_slant("analyze", folder, "--format", "jsonl", "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["text"] == ("Brussels Plots Against Your Coffee\n\nThe elite lie to you.\n\nWake up!\n\nBoxed.\n\n"
                           "A cell of a table.\n")
    assert doc["title"] == "Brussels Plots Against Your Coffee" and doc["source"] == str(folder / "statement.docx")
    saved = tmp_path / "download"   # `curl -o download URL`: no extension, a Word document by its content
    saved.write_bytes((folder / "statement.docx").read_bytes())
    r = run_slant("analyze", saved, "--format", "json", "--model", tiny_model / "model")
    assert r.returncode == 0 and json.loads(r.stdout)["title"] == "Brussels Plots Against Your Coffee", r.stderr
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04\x14\x00\x06\x00")
    import zipfile
    with zipfile.ZipFile(tmp_path / "other.docx", "w") as archive:
        archive.writestr("content.xml", "<office/>")
    r = run_slant("analyze", tmp_path / "broken.docx", tmp_path / "other.docx", "--model", tiny_model / "model")
    assert r.returncode == 1 and r.stderr.splitlines() == [
        f"Error: {tmp_path / 'broken.docx'}: not a readable Word document (File is not a zip file)",
        f"Error: {tmp_path / 'other.docx'}: a ZIP archive, not a Word document (no word/document.xml)"]


def test_pdf_documents_are_read(tiny_model, tmp_path):
    """A PDF (a report, a press release, an article printed to PDF) is read from its text layer: its paragraphs
    one per line, the first the title, running headers and page numbers left out; in a folder, from standard
    input, or saved under another name. One without text (scanned pages), one locked with a password and a
    broken one are named, one line each, and the rest is analysed."""
    from conftest import write_pdf
    folder = tmp_path / "reports"
    folder.mkdir()
    body = ["The corrupt elite are lying to you again about the cost of the plan.",
            "Critics said the minister misled parliament. " * 30]
    write_pdf(folder / "report.pdf", "Brussels Plots Against Your Coffee", body, running=True)
    expected = "Brussels Plots Against Your Coffee\n\n" + "\n\n".join(p.strip() for p in body) + "\n"
    r = run_slant("analyze", folder, "--format", "jsonl", "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["id"], doc["text"], doc["title"]) == ("report", expected, "Brussels Plots Against Your Coffee")
    raw = (folder / "report.pdf").read_bytes()
    r = run_slant("analyze", "-", "--format", "json", "--model", tiny_model / "model", stdin=raw)
    assert r.returncode == 0 and json.loads(r.stdout)["text"] == expected, r.stderr
    (tmp_path / "download").write_bytes(raw)        # `curl -o download URL`: a PDF by its content
    r = run_slant("analyze", tmp_path / "download", "--format", "json", "--model", tiny_model / "model")
    assert r.returncode == 0 and json.loads(r.stdout)["text"] == expected, r.stderr

    from fpdf import FPDF
    scan = FPDF()
    scan.add_page()
    scan.rect(20, 20, 100, 150, style="F")
    scan.output(str(tmp_path / "scan.pdf"))
    write_pdf(tmp_path / "locked.pdf", "Locked", body, password="secret")
    (tmp_path / "cut.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    r = run_slant("analyze", tmp_path / "scan.pdf", tmp_path / "locked.pdf", tmp_path / "cut.pdf",
                  folder / "report.pdf", "--format", "jsonl", "--model", tiny_model / "model")
    assert r.returncode == 1 and [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["report"]
    errors = r.stderr.splitlines()
    assert errors[:2] == [
        f"Error: {tmp_path / 'scan.pdf'}: a PDF document without text to read (no text layer, and no text in its "
        "pages' pictures)",
        f"Error: {tmp_path / 'locked.pdf'}: a PDF document locked with a password: unlock it (or save its text) first"]
    assert len(errors) == 3 and errors[2].startswith(f"Error: {tmp_path / 'cut.pdf'}: not a readable PDF document (")


def test_opendocument_texts_are_read(tiny_model, tmp_path):
    """A .odt (LibreOffice's, most of Europe's public sector) is read as a .docx is: headings and paragraphs, list
    items and table cells, spaces kept (<text:s/>), a line break starting a paragraph; tracked deletions,
    footnotes and comments left out."""
    from conftest import write_odt
    odt = write_odt(tmp_path / "statement.odt",
                    '<text:tracked-changes><text:changed-region text:id="c1"><text:deletion><text:p>Deleted.</text:p>'
                    '</text:deletion></text:changed-region></text:tracked-changes>'
                    '<text:h text:outline-level="1">Brussels Plots</text:h>'
                    '<text:p>The elite<text:s/>lie<text:note><text:note-citation>1</text:note-citation><text:note-body>'
                    '<text:p>A footnote.</text:p></text:note-body></text:note> to <text:span>you</text:span>.'
                    '<office:annotation><text:p>A comment.</text:p></office:annotation><text:line-break/>Wake up!</text:p>'
                    '<text:list><text:list-item><text:p>An item.</text:p></text:list-item></text:list>'
                    '<table:table><table:table-row><table:table-cell><text:p>A cell.</text:p></table:table-cell>'
                    '</table:table-row></table:table>')
    r = run_slant("analyze", odt, "--format", "json", "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["text"] == "Brussels Plots\n\nThe elite lie to you.\n\nWake up!\n\nAn item.\n\nA cell.\n"
    assert doc["title"] == "Brussels Plots" and doc["id"] == "statement"


def test_file_names_with_spaces_make_valid_ids(tiny_model, tmp_path):
    f = write(tmp_path / "my notes.txt", "Title\n\nBody text.")
    r = run_slant("analyze", f, "--format", "jsonl", "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["id"] == "my_notes"


def test_windows_and_classic_mac_line_ends_read_as_the_same_article(tiny_model, tmp_path):
    unix = write(tmp_path / "unix.txt", ARTICLE)
    windows = write(tmp_path / "windows.txt", ARTICLE.replace("\n", "\r\n"))
    mac = write(tmp_path / "mac.txt", ARTICLE.replace("\n", "\r"))
    r = run_slant("analyze", unix, windows, mac, "--format", "json", "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    texts = [[d["text"][p["start"]:p["end"]] for p in d["paragraphs"]] for d in docs]
    assert texts[0] == texts[1] == texts[2] and not any(t.endswith("\r") for t in texts[1] + texts[2])
    assert len({tuple(p["number"] for p in d["paragraphs"]) for d in docs}) == 1 and len(texts[0]) > 1
    assert docs[0]["title"] == docs[1]["title"] == docs[2]["title"]
    assert docs[0]["techniques"] == docs[1]["techniques"] == docs[2]["techniques"]
    assert docs[0]["frames"] == docs[1]["frames"] == docs[2]["frames"]
    spans = [[(s["technique"], s["score"], s["text"]) for s in d["spans"]] for d in docs]
    assert spans[0] == spans[1] == spans[2]


def test_the_long_text_benchmark_runs():
    """benchmarks/long_text.py prints time and memory per text length and is run by hand: two short sizes end to
    end so that it cannot rot."""
    import subprocess
    import sys
    from conftest import REPO
    for shape in ([], ["--short-lines"]):
        r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "long_text.py"), "--sizes", "3000,20000", *shape],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        header, *rows = r.stdout.splitlines()
        assert header.split()[:5] == ["characters", "paragraphs", "spans", "pieces", "seconds"]
        assert [row.split()[0] for row in rows] == ["3,000", "20,000"]
        assert all(int(row.split()[3].replace(",", "")) > 0 for row in rows)
    assert int(rows[1].split()[1].replace(",", "")) > 300   # short lines: hundreds of paragraphs in 20,000 characters


def test_rtf_documents_are_read(tiny_model, tmp_path):
    """An RTF document (WordPad's, TextEdit's; a press office's) is read as a Word document is: its lines, the
    first the title, escapes in its code page and Unicode escapes as the characters they name; it was read as
    text, its markup taken for the title. A text merely named .rtf is text."""
    folder = tmp_path / "releases"
    folder.mkdir()
    (folder / "release.rtf").write_bytes(rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Times New Roman;}}"
                                         b"\n" rb"{\b Brussels Plots Against Your Coffee}\par\par" b"\n"
                                         rb"The \u8220?caf\'e9 elite\u8221? are lying to you again.\par}")
    write(folder / "notes.rtf", "Not RTF at all\n\nJust text.")
    r = run_slant("analyze", folder, "--format", "jsonl", "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(d["id"], d["title"], d["text"]) for d in docs] == [
        ("notes", "Not RTF at all", "Not RTF at all\n\nJust text."),
        ("release", "Brussels Plots Against Your Coffee",
         "Brussels Plots Against Your Coffee\n\nThe “café elite” are lying to you again.\n")]
    (tmp_path / "empty.rtf").write_bytes(rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\par}")
    r = run_slant("analyze", tmp_path / "empty.rtf", "--model", tiny_model / "model")
    assert r.returncode == 1 and r.stderr == f"Error: {tmp_path / 'empty.rtf'}: no text in the RTF document\n"


def test_pages_saved_as_one_file_are_read(tiny_model, tmp_path):
    """A page saved as one .mhtml file (Chrome's and Edge's "Webpage, Single File") is read as the page it holds,
    with the address it was saved from as its URL; it was read as text, titled "From: <Saved by Blink>"."""
    from conftest import write_mhtml
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Budget</title></head><body><nav>Home | About"
            "</nav><article><h1>Budget Approved After Long Debate</h1><p>The council approved the budget on Tuesday "
            "after a long debate — the café owners were furious.</p></article></body></html>")
    folder = tmp_path / "saved"
    folder.mkdir()
    write_mhtml(folder / "story.mhtml", page)
    r = run_slant("analyze", folder, "--format", "jsonl", "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["id"], doc["title"], doc["url"]) == ("story", "Budget Approved After Long Debate",
                                                    "https://news.example.com/story")
    assert "café owners were furious" in doc["text"] and "Home | About" not in doc["text"] and "=" not in doc["text"]
    raw = (folder / "story.mhtml").read_bytes()
    r = run_slant("analyze", "-", "--format", "json", "--model", tiny_model / "model", stdin=raw)
    assert r.returncode == 0 and json.loads(r.stdout)["title"] == "Budget Approved After Long Debate", r.stderr
    from slant.inputs import document_from_bytes   # a byte outside ASCII in a header (it raised AttributeError)
    odd = document_from_bytes(raw.replace(b"news.example.com/story", b"news.example.com/caf\xe9", 1), "odd.mhtml")
    assert odd.title == "Budget Approved After Long Debate"
    (tmp_path / "empty.mht").write_bytes(b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=b\r\n\r\n"
                                         b"--b\r\nContent-Type: image/png\r\n\r\nxx\r\n--b--\r\n")
    r = run_slant("analyze", tmp_path / "empty.mht", "--model", tiny_model / "model")
    assert r.returncode == 1 and r.stderr == (f"Error: {tmp_path / 'empty.mht'}: a saved web page (MHTML) without an "
                                              "HTML part\n")


def test_saved_emails_are_read(tiny_model, tmp_path):
    """A saved email (.eml: a newsletter, a press release, a chain letter) is read: its subject the title, its
    plain-text body's paragraphs with their wrapped lines joined (quoted-printable and the charset decoded), the
    Date header its date; an HTML-only mail is read as a page. It was read as text, titled "From: ...". A text
    opening with other headers stays text."""
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "letter.eml").write_bytes(
        b"Return-Path: <news@example.org>\r\nFrom: Patriot News <news@example.org>\r\nTo: you@example.com\r\n"
        b"Subject: =?utf-8?q?They_are_coming_for_your_caf=C3=A9?=\r\nDate: Tue, 1 Dec 2026 08:00:00 +0000\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b1\r\n\r\n--b1\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"The corrupt elite in Brussels want to ban your morning caf=C3=A9 and they will\r\n"
        b"not stop until every tradition is gone.\r\n\r\nWake up!\r\n\r\n--b1\r\nContent-Type: text/html; "
        b"charset=utf-8\r\n\r\n<p>The HTML part, not read when there is a text one.</p>\r\n--b1--\r\n")
    (folder / "page.eml").write_bytes(
        b"From: a@example.org\r\nSubject: Budget\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>"
        b"<article><p>The council approved the budget on Tuesday after a long debate.</p></article></body></html>")
    r = run_slant("analyze", folder, "--format", "jsonl", "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    docs = {d["id"]: d for d in map(json.loads, r.stdout.splitlines())}
    assert docs["letter"]["text"] == ("They are coming for your café\n\nThe corrupt elite in Brussels want to ban your "
                                      "morning café and they will not stop until every tradition is gone.\n\n"
                                      "Wake up!\n")
    assert (docs["letter"]["title"], docs["letter"]["date"]) == ("They are coming for your café", "2026-12-01")
    assert docs["page"]["text"] == "Budget\n\nThe council approved the budget on Tuesday after a long debate.\n"
    (tmp_path / "blank.eml").write_bytes(b"From: a@example.org\r\nSubject: Nothing\r\n\r\n\r\n")
    r = run_slant("analyze", tmp_path / "blank.eml", "--model", tiny_model / "model")
    assert r.returncode == 1 and r.stderr == f"Error: {tmp_path / 'blank.eml'}: an email without a text body\n"
    note = write(tmp_path / "note.txt", "Subject: minutes\n\nThe council met.")
    r = run_slant("analyze", note, "--format", "json", "--model", tiny_model / "model")
    assert r.returncode == 0 and json.loads(r.stdout)["text"] == "Subject: minutes\n\nThe council met.", r.stderr


def test_explain_closes_the_report_with_what_each_technique_found_is():
    """--explain: the definition and example of each technique reported (slant taxonomy's words), once each, in the
    order of the summary; only with --format text."""
    from slant import taxonomy

    r = run_slant("analyze", EXAMPLES / "article900000001.txt", "--explain")
    assert r.returncode == 0, r.stderr
    plain = run_slant("analyze", EXAMPLES / "article900000001.txt").stdout
    assert r.stdout.startswith(plain.rstrip("\n") + "\n\nwhat they are:\n")
    found = [line.split()[0] for line in r.stdout.split("what they are:\n")[1].splitlines() if line.startswith("  ")
             and not line.startswith("      ")]
    summary = next(line for line in plain.splitlines() if line.startswith("techniques in "))
    assert found == [part.split(" ×")[0] for part in summary.split(": ", 1)[1].split(", ")]
    for name in found:
        assert taxonomy.entry("technique", name).definition.split()[0] in r.stdout
    r = run_slant("analyze", EXAMPLES / "article900000001.txt", "--explain", "--format", "jsonl")
    assert r.returncode == 2 and "--explain goes with --format text" in r.stderr


def test_a_body_given_its_title_on_the_command_line():
    """--title: a body piped in (a passage, an article without its headline) is read under the title given, as the
    API's "title" and batch's title column read it: the labels of the titled text, in the body's own offsets."""
    import slant
    from slant import Document

    article = (EXAMPLES / "article900000001.txt").read_text(encoding="utf-8")
    title, body = article.split("\n\n", 1)
    r = run_slant("analyze", "-", "--title", f"  {title} ", "--format", "json", stdin=body)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["title"] == title and doc["text"] == body
    library = slant.analyze(Document("b", body, title=title))
    assert [(s["start"], s["end"], s["technique"]) for s in doc["spans"]] == \
           [(s.start, s.end, s.technique) for s in library.spans]
    assert doc["genre"]["label"] == library.genre.name
    r = run_slant("analyze", "-", EXAMPLES / "article900000001.txt", "--title", "T", stdin=body)
    assert r.returncode == 2 and "--title names one article's title; 2 inputs were given" in r.stderr
