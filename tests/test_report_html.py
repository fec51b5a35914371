"""Reports as users get them: each --format from the CLI, and the HTML report opened in headless Chromium."""

import json

from conftest import EXAMPLES, REPO, XSS_ARTICLE, run_slant, write

EXAMPLE = EXAMPLES / "article900000001.txt"


def test_text_json_jsonl_and_html_formats(tmp_path):
    text = run_slant("analyze", EXAMPLE)
    assert text.returncode == 0 and text.stdout.splitlines()[1].startswith("genre: ")
    assert "\x1b[" not in text.stdout          # no colour codes when the output is not a terminal
    doc = json.loads(run_slant("analyze", EXAMPLE, "--format", "json").stdout)
    assert doc["schema"] == "slant.document/1" and doc["genre"] and doc["spans"]
    lines = run_slant("analyze", EXAMPLE, EXAMPLE, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["900000001", "900000001-2"]
    out = tmp_path / "report.html"
    r = run_slant("analyze", EXAMPLE, "--format", "html", "-o", out)
    assert r.returncode == 0 and r.stderr.strip() == f"wrote {out}"
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "http://" not in page and "https://" not in page  # no CDN


def test_a_report_read_back_is_not_an_article(tmp_path):
    # reports written into the articles' folder were read back by the next run as 15-word articles about slant,
    # given frames and techniques; slant's pages name it as their generator and are refused
    folder = tmp_path / "articles"
    folder.mkdir()
    article = write(folder / "a.txt", "A title\n\nThe corrupt elite lies to you.\n")
    (folder / "reports").mkdir()
    report = folder / "reports" / "a.html"
    assert run_slant("analyze", article, "--format", "html", "-o", report).returncode == 0
    r = run_slant("analyze", folder, "--format", "jsonl")
    assert r.returncode == 1 and [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["a"]
    assert r.stderr == f"Error: {report}: a page slant wrote (a report or dashboard), not an article\n"
    page = write(tmp_path / "page.html", "<html><head><meta name='generator' content='WordPress 6.4'><title>Budget"
                 "</title></head><body><article><h1>Budget</h1><p>The council approved the budget on Tuesday after"
                 " a long debate about the city's schools and roads.</p></article></body></html>")
    assert run_slant("analyze", page).returncode == 0   # another site's generator is no reason


def test_colour_report_marks_spans_by_group():
    from slant import Document
    from slant.render import text_report
    doc = Document("a", "Title\n\nThe corrupt elite lies.\n")
    doc.set_paragraph_techniques(3, ["Loaded_Language"])
    doc.add_span(11, 25, "Loaded_Language", 0.8)
    plain, coloured = text_report(doc), text_report(doc, color=True)
    assert "\x1b[" not in plain and "corrupt elite" in plain
    assert "\x1b[32m" in coloured and "legend: " in coloured      # green: Manipulative_Wording
    assert "techniques in 1 of 2 paragraphs: Loaded_Language ×1" in plain
    lone = Document("b", "The corrupt elite lies.")
    lone.set_paragraph_techniques(1, ["Loaded_Language"])
    assert "techniques in 1 of 1 paragraph: Loaded_Language ×1" in text_report(lone)   # was "of 1 paragraphs"


def test_spans_are_grouped_by_paragraph_as_a_scan_of_every_span_would():
    """The text report finds each paragraph's spans by bisection (a scan of every span for every paragraph took
    95 s on a text of 70,000 lines); the same spans, in the same order, as the scan on random documents."""
    import random
    from slant import Document
    from slant.render import _spans_of_paragraphs
    rng = random.Random(1)
    for _ in range(300):
        text = "\n".join("".join(rng.choice("ab ") for _ in range(rng.randint(0, 8))) for _ in range(rng.randint(1, 8)))
        if not text.strip():
            continue
        doc = Document("x", text)
        for _ in range(rng.randint(0, 6)):
            a = rng.randrange(len(text))
            doc.add_span(a, rng.randint(a + 1, len(text)), "Loaded_Language", 0.5)
        beginning, overlapping = _spans_of_paragraphs(doc)
        for i, p in enumerate(doc.paragraphs):
            assert beginning[i] == [s for s in doc.spans if p.start <= s.start < p.end]
            assert overlapping[i] == [s for s in doc.spans if s.start < p.end and s.end > p.start]


def test_several_html_reports_go_to_a_folder(tmp_path):
    folder = tmp_path / "reports"
    r = run_slant("analyze", EXAMPLE, write(tmp_path / "b.txt", "Title\n\nSome words here.\n"),
                  "--format", "html", "-o", folder)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["900000001.html", "b.html"]
    r = run_slant("analyze", EXAMPLE, EXAMPLE, "--format", "html")
    assert r.returncode == 2 and "needs -o FOLDER" in r.stderr
    a_file = write(tmp_path / "notes.txt", "mine\n")   # -o naming a file: one line, the file left alone
    r = run_slant("analyze", EXAMPLE, EXAMPLE, "--format", "html", "-o", a_file)
    assert r.returncode == 1 and r.stderr == f"Error: {a_file}: a file, not a folder (--format html with several " \
        "articles writes one report per article into a folder)\n" and a_file.read_text() == "mine\n"
    # one article and -o an existing folder: its report goes into it (it was "cannot write (Is a directory)")
    r = run_slant("analyze", tmp_path / "b.txt", "--format", "html", "-o", folder)
    assert r.returncode == 0 and r.stderr == f"wrote 1 report to {folder}\n" and (folder / "b.html").exists()


def test_html_report_in_the_browser(tmp_path, page):
    out = tmp_path / "report.html"
    assert run_slant("analyze", EXAMPLE, "--format", "html", "-o", out).returncode == 0
    page.goto(out.as_uri())
    assert page.inner_text("#genre").startswith(("opinion", "reporting", "satire"))
    marks = page.locator("#article mark.hl")
    n = marks.count()
    assert n >= 1
    marks.first.click()
    detail = page.inner_text("#detail")
    assert "—" in detail and "«" in detail          # technique, score, definition, quote
    marks.last.focus()                              # from the keyboard: a passage reached with Tab opens with Enter
    page.keyboard.press("Enter")
    assert page.locator("#article mark.selected").count() == 1
    assert page.inner_text("#detail") != detail or n == 1
    # filters: hiding every technique removes every highlight; the slider at 1.0 does too
    for box in page.locator("#techniques input[type=checkbox]").all():
        box.uncheck()
    assert page.locator("#article mark.hl").count() == 0
    for box in page.locator("#techniques input[type=checkbox]").all():
        box.check()
    assert page.locator("#article mark.hl").count() == n
    page.locator("#threshold").fill("1")
    assert page.locator("#article mark.hl").count() == 0
    shot = REPO / "docs" / "report.png"
    page.locator("#threshold").fill("0")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert page.errors == []
    assert shot.exists()    # the README's screenshot of this report is committed


def test_overlapping_spans_render_once_each(tmp_path, page):
    from slant import Document, schema
    doc = Document("o", "Title\n\nThe corrupt elite lies to you.\n")
    doc.set_paragraph_techniques(3, ["Loaded_Language", "Name_Calling-Labeling"])
    doc.add_span(11, 24, "Loaded_Language", 0.8)        # "corrupt elite"
    doc.add_span(19, 29, "Name_Calling-Labeling", 0.6)  # "elite lies"
    path = write(tmp_path / "o.json", schema.dumps(doc))
    from slant.report_html import html_report
    out = write(tmp_path / "o.html", html_report(schema.loads(path.read_text())))
    page.goto(out.as_uri())
    texts = page.locator("#article p[data-paragraph='3'] mark").all_inner_texts()
    assert texts == ["corrupt ", "elite", " lies"]
    assert page.inner_text("#article p[data-paragraph='3']") == "The corrupt elite lies to you."
    assert page.locator("#article mark.multi").count() == 1
    assert page.errors == []


def test_the_report_links_to_the_article_where_it_has_an_http_address(tmp_path, page):
    """The report's line under the heading links to the article it read (in a new tab, without telling the site
    where from); an address that is not http(s) — a Document's url is data, /api/report takes any — stays text."""
    from slant import Document
    from slant.report_html import html_report

    for url, link in (("https://news.example.org/2024/story?id=1&x=2", True), ("javascript:window.__pwned=1", False),
                      (None, False)):
        doc = Document("u", "Title\n\nThe corrupt elite lies to you.\n", source="feed", url=url, date="2024-03-01")
        doc.techniques = {}
        page.goto(write(tmp_path / "u.html", html_report(doc)).as_uri())
        assert page.inner_text(".report .meta") == f"{url or 'feed'} · 2024-03-01"
        links = page.locator(".report .meta a")
        assert links.count() == (1 if link else 0), url
        if link:
            assert (links.get_attribute("href"), links.get_attribute("target"), links.get_attribute("rel")) == (
                url, "_blank", "noopener noreferrer")
        assert page.errors == [] and page.evaluate("window.__pwned") is None


def test_the_heading_and_title_line_of_a_lone_paragraph_and_of_a_body_given_its_title(tmp_path, page):
    """A text of one paragraph (a pasted quote) is read as body text: it was shown whole as the report's heading
    and in bold as a title line. The heading is cut after a whole word to 120 characters, in the text report and
    the page's <title> as in the HTML report; paragraph 1 is a title line only where slant read it as one."""
    from slant import Document
    from slant.report_html import html_report
    from slant.render import HEADING_CHARS, heading, text_report

    quote = "The corrupt elite have betrayed every family in this country, again and again, " * 4
    article = "A Title\n\nThe corrupt elite lies to you.\n"
    body = Document("b", "The corrupt elite lies to you.\n\nIt always has.\n", title="Lies of the elite")
    expected = {"quote": (heading(Document("q", quote)), False), "article": ("A Title", True),
                "body": ("Lies of the elite", False)}
    assert len(expected["quote"][0]) <= HEADING_CHARS and expected["quote"][0].endswith(" betrayed every…")
    for name, doc in (("quote", Document("q", quote)), ("article", Document("a", article)), ("body", body)):
        doc.techniques = {}
        title, title_line = expected[name]
        assert text_report(doc).splitlines()[0] == f"{title}  [{doc.id}]"
        out = write(tmp_path / f"{name}.html", html_report(doc))
        page.goto(out.as_uri())
        assert page.inner_text("h1") == title and page.title() == f"slant · {title}"
        assert page.locator("#article p[data-paragraph='1'].title-line").count() == (1 if title_line else 0), name
        assert page.errors == []


def test_injected_markup_never_executes_in_the_report(tmp_path, page):
    src = write(tmp_path / "xss.txt", XSS_ARTICLE)
    out = tmp_path / "xss.html"
    assert run_slant("analyze", src, "--format", "html", "-o", out).returncode == 0
    raw = out.read_text()
    assert "<script>window.__pwned" not in raw and "<img src=x" not in raw and "</style><b>" not in raw
    page.goto(out.as_uri())
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#article img, #article svg, #article b, #article script").count() == 0
    assert "<script>window.__pwned = 1</script>" in page.inner_text("#article")
    assert "onerror=" in page.inner_text("#article")
