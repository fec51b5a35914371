"""Corpus mode as a user runs it: `slant batch`, `slant query`, `slant report` as subprocesses,
the output read by DuckDB, pandas and polars, the dashboard in headless Chromium."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO, SHARED_DATA, XSS_ARTICLE, run_slant
from slant.article_heads import GENRE_MIN_WORDS, word_count

ARTICLES = [
    ("Corrupt elite betrays families\n\nThe corrupt elite has betrayed every hard-working family.\n\n"
     "Can we really trust a minister who never held a real job?\n"),
    ("Council news\n\nThe council met on Tuesday and approved the budget.\n\n"
     "The weather in the north was mild this week.\n"),
    ("Patriots rally\n\nReal patriots stand with our brave soldiers.\n\n"
     "Either we close the borders today or we lose everything.\n"),
]
META = [("a1", "herald", "2024-01-05"), ("a2", "gazette", "2024-02-11"), ("a3", "herald", "2024-03-20")]


def batch(*args, model: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slant", "batch", *map(str, args), "--model", str(model), "-q"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)


def query(out: Path, sql: str) -> list[dict]:
    r = run_slant("query", out, sql, "--format", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def model(tiny_model) -> Path:
    return tiny_model / "model"


def write_formats(root: Path) -> dict[str, Path]:
    """The same three articles as a folder of files, JSONL, CSV and Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / "folder"
    folder.mkdir()
    for (aid, _, _), text in zip(META, ARTICLES):
        (folder / f"{aid}.txt").write_text(text, encoding="utf-8")
    rows = [{"id": aid, "text": text, "source": src, "date": date, "title": None, "url": None}
            for (aid, src, date), text in zip(META, ARTICLES)]
    jsonl = root / "corpus.jsonl"
    jsonl.write_text("".join(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n" for r in rows),
                     encoding="utf-8")
    csv_path = root / "corpus.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["id", "source", "date", "text"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    parquet = root / "corpus.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    return {"folder": folder, "jsonl": jsonl, "csv": csv_path, "parquet": parquet}


def test_genre_and_frames_are_null_for_a_text_too_short_to_tell(tmp_path, model):
    folder = tmp_path / "in"
    folder.mkdir()
    long_text = (REPO / "examples" / "article900000001.txt").read_text(encoding="utf-8")   # 159 words
    (folder / "long.txt").write_text(long_text, encoding="utf-8")
    (folder / "short.txt").write_text(ARTICLES[0], encoding="utf-8")
    (folder / "tiny.txt").write_text("Wake up, patriots!\n", encoding="utf-8")
    r = batch(folder, "-o", tmp_path / "out", "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    rows = {row["origin"]: row for row in query(tmp_path / "out", "SELECT origin, genre, genre_score, frames, "
                                                                  "frame_scores FROM articles")}
    long, short, tiny = (next(v for k, v in rows.items() if k.endswith(name))
                         for name in ("long.txt", "short.txt", "tiny.txt"))
    assert long["genre"] in {"opinion", "reporting", "satire"} and 0 < long["genre_score"] <= 1
    assert short["genre"] is None and short["genre_score"] is None and isinstance(short["frames"], list)
    assert tiny["genre"] is None and tiny["frames"] is None and tiny["frame_scores"] is None  # 3 words
    from slant.corpus.dashboard import dashboard_data
    frames = dashboard_data(tmp_path / "out")["frames"]   # shares among the 2 articles given frames, not all 3
    assert frames and all(r["source_articles"] == 2 and r["share"] == r["articles"] / 2 for r in frames)
    assert run_slant("report", tmp_path / "out", "-o", tmp_path / "dashboard.html").returncode == 0


@pytest.mark.parametrize("fmt", ["folder", "jsonl", "csv", "parquet"])
def test_every_input_format_gives_the_same_articles(tmp_path, model, fmt):
    inputs = write_formats(tmp_path)
    out = tmp_path / "out"
    r = batch(inputs[fmt], "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert "3 articles" in r.stderr  # the summary
    rows = query(out, "SELECT id, key, source, date, genre, genre_score, frames, techniques, technique_stats, "
                      "spans FROM articles ORDER BY id")
    assert [row["id"] for row in rows] == ["a1", "a2", "a3"]
    for row, text in zip(rows, ARTICLES):  # each under GENRE_MIN_WORDS words: no genre (next test)
        assert word_count(text) < GENRE_MIN_WORDS and row["genre"] is None and row["genre_score"] is None
        assert isinstance(row["frames"], list) and isinstance(row["techniques"], list)
        assert sorted(s["technique"] for s in row["technique_stats"]) == sorted(row["techniques"])
        assert all(s["paragraphs"] + s["spans"] >= 1 and 0 <= s["max_score"] <= 1 for s in row["technique_stats"])
    if fmt != "folder":  # metadata columns come through
        assert [(row["source"], row["date"]) for row in rows] == [(s, d) for _, s, d in META]
    # the content hash does not depend on the container: a folder .txt and a JSONL text agree
    from slant.corpus.records import Record
    assert rows[0]["key"] == Record("x", "x", "text", ARTICLES[0]).key
    spans = query(out, "SELECT s.key, s.start, s.\"end\", s.text, s.technique FROM spans s")
    assert sum(row["spans"] for row in rows) == len(spans)
    texts = {Record("x", "x", "text", t).key: t for t in ARTICLES}
    for s in spans:  # every span's text is the article's text at its offsets
        assert texts[s["key"]][s["start"]:s["end"]] == s["text"]


def test_output_is_read_by_duckdb_pandas_and_polars(tmp_path, model):
    import duckdb
    import pandas as pd
    import polars as pl

    out = tmp_path / "out"
    assert batch(write_formats(tmp_path)["jsonl"], "-o", out, "--workers", "1", model=model).returncode == 0
    by_duckdb = duckdb.sql(f"SELECT id FROM read_parquet('{out}/articles/*.parquet') ORDER BY id").fetchall()
    by_pandas = pd.read_parquet(out / "articles")
    by_polars = pl.read_parquet(str(out / "articles" / "*.parquet"))
    assert [x for (x,) in by_duckdb] == sorted(by_pandas["id"]) == sorted(by_polars["id"].to_list()) == ["a1", "a2", "a3"]
    assert len(pd.read_parquet(out / "spans")) == int(by_pandas["spans"].sum())


def test_bad_inputs_land_in_the_errors_table_and_the_run_goes_on(tmp_path, model):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(ARTICLES[0], encoding="utf-8")
    (folder / "empty.txt").write_text("  \n\n", encoding="utf-8")
    (folder / "utf16.txt").write_bytes(ARTICLES[1].encode("utf-16"))   # Notepad's "Unicode": read, not an error
    (folder / "latin1.txt").write_bytes("Caf\xe9 society\n\nThe corrupt elite.\n".encode("latin-1"))
    (folder / "nothing.html").write_text("<html><head><title>x</title></head><body><script>1</script></body></html>",
                                         encoding="utf-8")
    jsonl = tmp_path / "lines.jsonl"
    jsonl.write_bytes(b'{"id": "ok", "text": "Patriots rally\\n\\nReal patriots stand with our brave soldiers.\\n"}\n'
                      b'{"id": "broken", "text": \n'
                      b'{"id": "notext", "body": "x"}\n'
                      b'[1, 2]\n'
                      b'{"id": "bytes", "text": "caf\xe9"}\n'
                      b'{"id": "bom", "text": "\\ufeff\\u200b\\n"}\n')   # a byte-order mark and nothing to read
    out = tmp_path / "out"
    r = batch(folder, jsonl, "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert "3 articles" in r.stderr and "8 errors" in r.stderr  # the summary's output line
    # its rate counts the 3 analysed articles only: 8 errors refused without the model do not make it look faster
    (time_line,) = [line for line in r.stderr.splitlines() if line.startswith("time")]
    seconds, rate = re.fullmatch(r"time\s+([\d.,]+) s\s+\(([\d.,]+) analysed/s, 1 local worker\)", time_line).groups()
    seconds, rate = float(seconds.replace(",", "")), float(rate.replace(",", ""))   # printed to 0.1 s and 0.01/s
    assert 3 / (seconds + 0.05) - 0.01 <= rate <= 3 / max(seconds - 0.05, 1e-3) + 0.01
    errors = {row["origin"]: row["reason"] for row in query(out, "SELECT origin, reason FROM errors")}
    assert errors == {
        str(folder / "empty.txt"): "empty, no text to read",
        str(folder / "latin1.txt"): "not UTF-8 text (byte 0xe9 at offset 3)",
        str(folder / "nothing.html"): "no article text found in the HTML",
        f"{jsonl}:2": "line 2: not JSON (Expecting value)",
        f"{jsonl}:3": 'line 3: no "text" field (nor a "url" to fetch)',
        f"{jsonl}:4": "line 4: not a JSON object",
        f"{jsonl}:5": "line 5: not UTF-8 text (byte 0xe9 at offset 28)",
        f"{jsonl}:6": "empty, no text to read",
    }
    assert sorted(row["id"] for row in query(out, "SELECT id FROM articles")) == ["good", "ok", "utf16"]


def page(title: str, head: str = "") -> str:
    return (f"<html><head><title>{title}</title>{head}</head><body><article><h1>{title}</h1>"
            "<p>The council approved the budget on Tuesday after a debate that lasted eleven hours.</p>"
            "<p>Critics said the corrupt plan betrays every hard-working family in the city.</p>"
            "</article></body></html>")


def test_saved_pages_name_their_site_as_the_source(tmp_path, model):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.html").write_text(page("Budget passes", '<meta property="og:site_name" content="Daily  Bugle">'
                                        '<link rel="canonical" href="https://www.bugle.example/a">'),
                                   encoding="utf-8")
    (folder / "b.html").write_text(page("Budget fails", '<link rel="canonical" href="https://news.example.org/b">'),
                                   encoding="utf-8")
    (folder / "c.html").write_text(page("Budget again — café", '<meta charset="windows-1252">'),
                                   encoding="windows-1252")   # an older site's page: read by its <meta> charset
    (folder / "d.txt").write_text(ARTICLES[0], encoding="utf-8")
    out = tmp_path / "out"
    r = batch(folder, "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    rows = query(out, "SELECT id, source, url FROM articles ORDER BY id")
    assert [(row["id"], row["source"]) for row in rows] == [
        ("a", "Daily Bugle"), ("b", "news.example.org"), ("c", None), ("d", None)]
    assert rows[0]["url"] == "https://www.bugle.example/a"
    assert query(out, "SELECT title FROM articles WHERE id = 'c'")[0]["title"] == "Budget again — café"
    spans = query(out, "SELECT DISTINCT id, source FROM spans ORDER BY id")
    assert spans and all(s["source"] == {"a": "Daily Bugle", "b": "news.example.org"}.get(s["id"]) for s in spans)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def error_reasons(out: Path) -> dict[str, str]:
    """id -> reason of a batch output's errors table."""
    return {row["id"]: row["reason"] for row in query(out, "SELECT id, reason FROM errors")}


def test_rows_that_give_an_address_and_no_text_are_fetched(tmp_path, model):
    """A table of links (a media-monitoring export: url, title, source, date): each row with a "url" and no text is
    fetched by the workers under slant.fetch's rules and analysed as the page; what cannot be fetched is an error row
    that says why; a row with text is read as it is, and the same address twice is fetched once."""
    from test_fetch import PAGE, Site

    from slant.corpus.batch import run_batch
    from slant.fetch import AllowOnly

    site = Site({"/story.html": (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE),
                 "/notes.txt": (200, {"Content-Type": "text/plain; charset=utf-8"}, ARTICLES[1].encode())})
    links = tmp_path / "links.csv"
    with open(links, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["url", "source", "date", "text"])
        writer.writerows([[site.url + "/story.html", "", "", ""],
                          [site.url + "/notes.txt", "Notes Weekly", "2024-05-01", ""],
                          [site.url + "/gone.html", "", "", ""],
                          ["ftp://example.org/a.txt", "", "", ""],
                          [site.url + "/story.html", "", "", ""],     # again: a duplicate, not fetched twice
                          [site.url + "/never.html", "Herald", "", ARTICLES[0]]])   # its text is read
    try:
        summary = run_batch([str(links)], tmp_path / "out", model=model, workers=1,
                            fetch_options={"allow": AllowOnly(("127.0.0.1", site.port))})
    finally:
        site.httpd.shutdown()
    out = tmp_path / "out"
    assert (summary.analysed, summary.errors, summary.duplicates) == (3, 2, 1)
    rows = {row["id"]: row for row in query(out, "SELECT id, title, source, url, date FROM articles")}
    assert rows["links-1"]["title"] == "Budget Approved After Long Debate"
    assert rows["links-1"]["source"] == f"127.0.0.1:{site.port}"   # the site: its og:site_name, else its host
    assert rows["links-1"]["url"] == site.url + "/story.html"
    assert str(rows["links-1"]["date"]) == "2024-03-01"                      # the page's own date
    assert (rows["links-2"]["source"], str(rows["links-2"]["date"])) == ("Notes Weekly", "2024-05-01")   # the row's
    assert rows["links-6"]["source"] == "Herald"
    assert error_reasons(out) == {"links-3": f"{site.url}/gone.html: HTTP 404 Not Found",
                                  "links-4": "ftp://example.org/a.txt: only http and https URLs are fetched, not ftp"}
    assert sorted(site.fetched) == ["/gone.html", "/notes.txt", "/story.html"]
    assert query(out, "SELECT same_as FROM duplicates")[0]["same_as"] == f"{links}:row 1"
    # the command as a user runs it: public addresses only (this one, on 127.0.0.1, is refused and said so)
    r = batch(links, "-o", tmp_path / "cli", "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert error_reasons(tmp_path / "cli")["links-1"] == f"{site.url}/story.html: refused: 127.0.0.1 is a loopback address"


def test_a_worker_fetches_a_batch_of_links_side_by_side_two_per_site(tmp_path, model):
    """Pages take seconds to come and a twentieth of one to analyse: a worker fetches a batch's links side by side,
    never more than two from one site at once (slant.fetch.FetchAhead.PER_SITE), and gives the same rows as one by
    one."""
    from test_fetch import PAGE, Site

    from slant.corpus.batch import run_batch
    from slant.fetch import AllowOnly, FetchAhead

    pages = {f"/story-{i}.html": (200, {"Content-Type": "text/html; charset=utf-8"},
                                  PAGE.replace(b"Tuesday", f"day {i}".encode())) for i in range(6)}
    site = Site(pages, delay=0.4)
    links = write_jsonl(tmp_path / "links.jsonl", [{"url": site.url + path} for path in pages])
    try:
        summary = run_batch([str(links)], tmp_path / "out", model=model, workers=1,
                            fetch_options={"allow": AllowOnly(("127.0.0.1", site.port))})
    finally:
        site.httpd.shutdown()
    assert summary.analysed == 6 and sorted(site.fetched) == sorted(pages)
    assert site.most_busy == FetchAhead.PER_SITE == 2   # side by side, and no more than two at once from one site
    texts = query(tmp_path / "out", "SELECT id, url FROM articles ORDER BY id")
    assert [t["url"] for t in texts] == [site.url + path for path in pages]


def test_columns_named_otherwise_are_read_as_slants_fields(tmp_path, model):
    """--column FIELD=NAME: an export's own column names (body, headline, media_name, publish_date) read as slant's
    fields, in CSV (its header's case aside), JSONL and Parquet alike; a column named but missing, or a field slant
    does not read, is one line before any work; the same output read another way is refused."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"Body": text, "headline": f"Headline {aid}", "media_name": src, "publish_date": date, "story_id": aid}
            for (aid, src, date), text in zip(META, ARTICLES)]
    table = tmp_path / "export.csv"
    with open(table, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    write_jsonl(tmp_path / "export.jsonl", rows)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "export.parquet")
    mapping = ["--column", "text=Body", "--column", "title=headline", "--column", "source=media_name",
               "--column", "date=publish_date", "--column", "ID=story_id"]
    sql = "SELECT id, title, source, CAST(date AS VARCHAR) AS date, techniques FROM articles ORDER BY id"
    expected = None
    for name in ("export.csv", "export.jsonl", "export.parquet"):
        out = tmp_path / name.replace(".", "-")
        r = batch(tmp_path / name, "-o", out, "--workers", "1", *mapping, model=model)
        assert r.returncode == 0, r.stderr
        got = query(out, sql)
        assert [(g["id"], g["title"], g["source"], g["date"]) for g in got] == [
            (aid, f"Headline {aid}", src, date) for aid, src, date in META], name
        assert expected is None or got == expected   # the same articles, however they were stored
        expected = got
    r = batch(tmp_path / "export.csv", "-o", tmp_path / "export-csv", "--workers", "1", *mapping[:-2], model=model)
    assert r.returncode == 1 and "--column id=story_id" in r.stderr and "not this one" in r.stderr, r.stderr
    for args, code, said in (
            (("--column", "text=content"), 1, f'{table}: no "content" column for --column text=content (found: '
                                              'body, headline, media_name, publish_date, story_id)'),
            (("--column", "body=text"), 2, "'body=text': expected FIELD=NAME, FIELD one of text, id, title, "
                                           "source, url, date, language"),
            (("--column", "text=a", "--column", "text=b"), 2, "text is named twice (text=a, text=b)")):
        r = batch(table, "-o", tmp_path / "bad", *args, model=model)
        assert r.returncode == code and said in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "bad").exists()


def test_a_text_in_another_language_is_an_error_unless_its_language_is_given(tmp_path, model):
    from test_language import FRENCH, GERMAN
    jsonl = write_jsonl(tmp_path / "mixed.jsonl", [
        {"id": "fr", "text": FRENCH},
        {"id": "de-as-en", "text": GERMAN, "language": "en"},
        {"id": "en-as-fr", "text": ARTICLES[1], "language": "fr"},
        {"id": "en", "text": ARTICLES[0]},
    ])
    out = tmp_path / "out"
    r = batch(jsonl, "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert error_reasons(out) == {
        "fr": "the text reads as French (fr); slant's model reads English only",
        "en-as-fr": "its language is given as French (fr); slant's model reads English only",
    }
    assert sorted(row["id"] for row in query(out, "SELECT id FROM articles")) == ["de-as-en", "en"]
    r = run_slant("report", out, "-o", tmp_path / "dashboard.html")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "dashboard.html").read_text(encoding="utf-8")
    assert "2 articles · 0 sources · " in page and "2 inputs not analysed (2 in another language) · 0 duplicates" in page
    r = batch(write_jsonl(tmp_path / "one.jsonl", [{"id": "en", "text": ARTICLES[0], "source": "Bugle"}]),
              "-o", tmp_path / "one", "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert run_slant("report", tmp_path / "one", "-o", tmp_path / "one.html").returncode == 0
    assert "1 article · 1 source · " in (tmp_path / "one.html").read_text(encoding="utf-8")   # was "1 articles · 1 sources"
    # --language for the inputs that give none (a folder of files): the French one is analysed too
    r = batch(jsonl, "-o", tmp_path / "out2", "--workers", "1", "--language", "en", model=model)
    assert r.returncode == 0, r.stderr
    assert [row["id"] for row in query(tmp_path / "out2", "SELECT id FROM errors")] == ["en-as-fr"]


def test_half_an_emoji_in_json_is_an_error_row_that_says_so(tmp_path, model):
    """A JSON string can hold one half of a surrogate pair ("\\ud83d": an emoji cut in two by whatever shortened
    the text); the tokenizer stopped on it ("analysis failed: TypeError: TextInputSequence must be str")."""
    jsonl = tmp_path / "cut.jsonl"
    jsonl.write_text('{"id": "cut", "text": "The elite lie \\ud83d to you."}\n'
                     + json.dumps({"id": "ok", "text": ARTICLES[0]}) + "\n"
                     + json.dumps({"id": "nul", "text": "\x00".join("The elite lie")}) + "\n", encoding="utf-8")
    r = batch(jsonl, "-o", tmp_path / "out", "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert error_reasons(tmp_path / "out") == {
        "cut": "the text holds an unpaired surrogate (U+D83D) at character 14, which is not Unicode text (half of an "
               "emoji cut in two?)",
        # a UTF-16 export read as UTF-8: it was analysed as a text
        "nul": "the text holds a NUL character at character 1: binary data, not text (a UTF-16 export read as UTF-8?)"}
    assert [row["id"] for row in query(tmp_path / "out", "SELECT id FROM articles")] == ["ok"]


def test_a_text_too_long_to_analyse_is_an_error_of_its_own(tmp_path, model):
    """A record over runtime.MAX_CHARACTERS goes to the errors table with the reason; the run goes on."""
    jsonl = write_jsonl(tmp_path / "long.jsonl", [
        {"id": "book", "text": "A title\n\n" + "word " * 200_000, "source": "library"},
        {"id": "en", "text": ARTICLES[0]},
    ])
    out = tmp_path / "out"
    r = batch(jsonl, "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert error_reasons(out) == {
        "book": "1,000,009 characters, more than the 1,000,000 slant analyses in one text: split it"}
    assert [row["id"] for row in query(out, "SELECT id FROM articles")] == ["en"]


def test_whole_input_problems_stop_before_any_work_with_one_line(tmp_path, model):
    bad_csv = tmp_path / "no_text.csv"
    bad_csv.write_text("id,body\n1,hello\n", encoding="utf-8")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("café,text\nx,y\n".encode("latin-1"))
    for args, expected in [((bad_csv,), f'{bad_csv}: no "text" column (nor a "url" one, to fetch) in the CSV '
                                          'header (found: id, body)'),
                           ((latin1,), f"{latin1}: the CSV header is not UTF-8 text (nor UTF-16 with a byte-order mark)"),
                           ((tmp_path / "missing.jsonl",), f"{tmp_path / 'missing.jsonl'}: no such file or folder"),
                           (("",), "'': an empty path names no file or folder")]:   # not the current folder
        r = batch(*args, "-o", tmp_path / "out", model=model)
        assert r.returncode == 1 and r.stderr == f"Error: {expected}\n", r.stderr   # the error line alone
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
    a_file = tmp_path / "out.txt"   # -o naming a file: one line, the file left alone
    a_file.write_text("mine\n")
    r = batch(write_formats(tmp_path)["jsonl"], "-o", a_file, model=model)
    assert r.returncode == 1 and a_file.read_text() == "mine\n"
    assert r.stderr == f"Error: {a_file}: a file, not a folder (the batch output is a folder of tables)\n"


def test_the_same_content_is_analysed_once(tmp_path, model):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLES[0], encoding="utf-8")
    (folder / "b.txt").write_text(ARTICLES[1], encoding="utf-8")
    (folder / "copy_of_a.txt").write_text(ARTICLES[0], encoding="utf-8")
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(json.dumps({"id": "b-again", "text": ARTICLES[1], "source": "wire"}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert batch(folder, jsonl, "-o", out, "--workers", "2", model=model).returncode == 0
    assert sorted(r["id"] for r in query(out, "SELECT id FROM articles")) == ["a", "b"]
    dups = {r["origin"]: r["same_as"] for r in query(out, "SELECT origin, same_as FROM duplicates")}
    assert dups == {str(folder / "copy_of_a.txt"): str(folder / "a.txt"), f"{jsonl}:1": str(folder / "b.txt")}
    # run again: everything is accounted for, nothing is added
    r = batch(folder, jsonl, "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0 and "done by an earlier run" in r.stderr
    assert query(out, "SELECT (SELECT count(*) FROM articles) a, (SELECT count(*) FROM duplicates) d") == [{"a": 2, "d": 2}]


def _big_corpus(path: Path, n: int) -> None:
    import random
    rng = random.Random(7)
    words = ("the corrupt elite minister council budget patriots soldiers border weather north trust family "
             "betrayed real brave close today lose everything approved mild week").split()
    texts = [f"Story {i}\n\n{' '.join(rng.choice(words) for _ in range(50))}.\n" if i % 97 else ""
             for i in range(n)]  # some empty texts: errors must be accounted for too
    texts += texts[1:41]  # and 40 repeats of earlier stories: duplicates
    with open(path, "w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"id": f"n{i}", "text": text, "source": f"s{i % 4}"}) + "\n")


def test_killed_with_sigkill_the_same_command_resumes_without_loss_or_duplication(tmp_path, model):
    corpus = tmp_path / "big.jsonl"
    _big_corpus(corpus, 4000)
    total = sum(1 for _ in open(corpus, encoding="utf-8"))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "slant", "batch", str(corpus), "-o", str(out), "--model", str(model),
           "--workers", "1", "--chunk-size", "25", "-q"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    commits = out / "_commits"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if commits.is_dir() and len(list(commits.glob("*.json"))) >= 3:
            break
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, mid-run
    proc.wait()
    before = query(out, "SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM errors) "
                        "+ (SELECT count(*) FROM duplicates) AS n")[0]["n"]
    assert 0 < before < total, "the kill must land mid-run for this test to mean anything"

    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    origins = query(out, "SELECT origin FROM articles UNION ALL SELECT origin FROM errors "
                         "UNION ALL SELECT origin FROM duplicates")
    got = sorted(row["origin"] for row in origins)
    assert got == sorted(f"{corpus}:{i}" for i in range(1, total + 1))  # every input exactly once
    counts = query(out, "SELECT count(*) AS n, count(DISTINCT key) AS keys FROM articles")[0]
    assert counts["n"] == counts["keys"]  # no article analysed twice
    empty = len([i for i in range(4000) if i % 97 == 0])
    assert query(out, "SELECT count(*) AS n FROM errors")[0]["n"] == empty
    assert query(out, "SELECT count(*) AS n FROM duplicates")[0]["n"] == 40
    assert query(out, "SELECT count(*) AS n FROM spans s ANTI JOIN articles a ON a.key = s.key")[0]["n"] == 0


def test_a_half_written_chunk_is_cleared_when_reopened(tmp_path):
    from slant.corpus.store import Store

    model = {"name": "m", "sha256": "0" * 64}
    store = Store.open(tmp_path / "out", model)
    store.commit({"articles": [], "errors": [{"origin": "x", "id": "x", "source": None, "key": None,
                                              "reason": "r"}]})
    # a kill between renaming the parts into place and writing the commit record:
    (tmp_path / "out" / "articles" / "part-000002.parquet").write_bytes(b"half")
    (tmp_path / "out" / "spans" / "part-000003.parquet.tmp").write_bytes(b"half")
    store = Store.open(tmp_path / "out", model)
    assert sorted(p.name for p in (tmp_path / "out" / "articles").iterdir()) == ["part-000001.parquet"]
    assert not list((tmp_path / "out" / "spans").glob("*.tmp"))
    assert store.done() == ({"x"}, {})
    with pytest.raises(Exception, match="not this one"):
        Store.open(tmp_path / "out", {"name": "other", "sha256": "1" * 64})


def test_query_errors_are_one_line(tmp_path, model):
    out = tmp_path / "out"
    assert batch(write_formats(tmp_path)["jsonl"], "-o", out, "--workers", "1", model=model).returncode == 0
    r = run_slant("query", out, "SELECT nope FROM articles")
    assert r.returncode == 1 and r.stderr.startswith("Error: query failed: Binder Error") and r.stderr.count("\n") == 1
    r = run_slant("query", tmp_path, "SELECT 1")
    assert r.returncode == 1 and "not a slant batch output" in r.stderr
    r = run_slant("query", out, "  ")   # an empty query printed nothing and exited 0
    assert r.returncode == 1 and r.stderr.startswith("Error: no SQL to run: give a query") and r.stderr.count("\n") == 1
    r = run_slant("query", out, "SELECT technique, count(*) AS n FROM techniques GROUP BY 1", "--format", "csv")
    assert r.returncode == 0 and r.stdout.splitlines()[0] == "technique,n"
    table = run_slant("query", out, "SELECT id FROM articles ORDER BY id")
    # the dashboard's -o, as every writer's: a folder, or a file in a missing folder, is one line (a missing folder
    # was created, where the other writers refuse one)
    for output, reason in ((tmp_path, "is a folder; give a file to write"),
                           (tmp_path / "nope" / "d.html", f"cannot write (no folder {tmp_path / 'nope'})")):
        r = run_slant("report", out, "-o", output)
        assert (r.returncode, r.stderr) == (1, f"Error: {output}: {reason}\n")
    assert not (tmp_path / "nope").exists()
    assert table.returncode == 0 and "a1" in table.stdout and "│" in table.stdout


def test_a_dashboard_of_part_of_the_output(tmp_path, model):
    """slant report --source/--since/--until/--where: the charts, counts and examples of the chosen articles only,
    the choice named on the page; a choice that matches nothing, or is not SQL, is one line."""
    from slant.corpus.dashboard import dashboard_data
    from slant.corpus.query import Selection

    out = tmp_path / "out"
    assert batch(write_formats(tmp_path)["jsonl"], "-o", out, "--workers", "1", model=model).returncode == 0
    r = run_slant("report", out, "-o", tmp_path / "herald.html", "--source", "herald", "--since", "2024-02-01")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "herald.html").read_text(encoding="utf-8")
    assert "1 of 3 articles (source herald · from 2024-02-01) · 1 source" in page
    assert "<title>slant dashboard · source herald · from 2024-02-01</title>" in page
    # the figures are those of the chosen article alone: spans, techniques, sources, examples
    d = dashboard_data(out, selection=Selection(where="id = 'a3'"))
    a3 = query(out, "SELECT spans, len(techniques) AS n FROM articles WHERE id = 'a3'")[0]
    assert (d["totals"]["articles"], d["totals"]["whole"], d["totals"]["spans"]) == (1, 3, a3["spans"])
    assert len(d["prevalence"]) == a3["n"] and {r["source"] for r in d["sources"]} == {"herald"}
    assert {r["id"] for r in d["examples_by_technique"] + d["examples_by_source"]} <= {"a3"}
    whole = dashboard_data(out)
    assert whole["totals"]["articles"] == whole["totals"]["whole"] == 3 and whole["totals"]["selection"] == ""
    both = dashboard_data(out, selection=Selection(("herald", "gazette"), until=dt.date(2024, 2, 11)))
    assert both["totals"]["articles"] == 2 and both["totals"]["selection"] == "source herald or gazette · to 2024-02-11"
    for args, code, said in (
            (("--where", "nonsense = 1"), 1, "Error: --where nonsense = 1: not a condition on the articles' columns ("),
            (("--source", "nobody"), 1, f"Error: {out}: none of its 3 analysed articles matches source nobody, "
                                        "nothing to chart"),
            (("--since", "2024-03-01", "--until", "2024-01-01"), 2, "Error: --since 2024-03-01 is after --until "
                                                                     "2024-01-01"),
            (("--since", "March"), 2, "Invalid value for '--since'")):
        r = run_slant("report", out, "-o", tmp_path / "none.html", *args)
        assert r.returncode == code and said in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert not (tmp_path / "none.html").exists()


def test_dashboard_opens_offline_in_chromium_with_every_chart(tmp_path, model, page):
    out = tmp_path / "out"
    corpus = write_formats(tmp_path)["jsonl"]
    with open(corpus, "a", encoding="utf-8") as f:  # markup in every field a user controls stays text
        f.write(json.dumps({"id": "x<b>", "text": XSS_ARTICLE, "source": "<img src=x onerror=window.__pwned=9>",
                            "title": "</script><script>window.__pwned=8</script>", "date": "2024-02-02"}) + "\n")
    assert batch(corpus, "-o", out, "--workers", "1", model=model).returncode == 0
    r = run_slant("report", out, "-o", tmp_path / "dashboard.html")
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "dashboard.html").read_text(encoding="utf-8")
    assert "<script src" not in html and "cdn" not in html.lower().replace("cdna", "")
    requests = []
    page.on("request", lambda req: requests.append(req.url))
    page.goto((tmp_path / "dashboard.html").as_uri())
    page.wait_for_function("document.querySelectorAll('[data-chart]').length > 0 && "
                           "document.querySelectorAll('[data-rendered]').length === "
                           "document.querySelectorAll('[data-chart]').length", timeout=30_000)
    charts = page.eval_on_selector_all("[data-chart]", "els => els.map(e => e.dataset.chart)")
    assert {"prevalence", "per_source", "over_time", "genres"} <= set(charts) <= {
        "prevalence", "per_source", "over_time", "cooccurrence", "genres", "frames"}
    for name in charts:  # each chart drew marks
        assert page.locator(f"#chart-{name} svg .mark-rect path, #chart-{name} svg .mark-line path, "
                            f"#chart-{name} svg .mark-symbol path").count() > 0, name
    # labels read as words ("Loaded Language", "Attack on Reputation"), as on the report page, not as label names
    labels = page.eval_on_selector_all("#chart-prevalence svg text", "els => els.map(e => e.textContent)")
    assert any(" " in t and t[0].isupper() for t in labels) and not any("_" in t for t in labels), labels
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
    assert page.errors == []
    assert page.evaluate("window.__pwned") is None
    assert all(u.startswith("file://") for u in requests), requests  # nothing fetched from anywhere
    # a bar links to its technique's example passages
    page.locator("#chart-prevalence svg .mark-rect path").first.click()
    page.wait_for_function("location.hash.startsWith('#t-')")
    target = page.evaluate("location.hash.slice(1)")
    assert page.locator(f"section.examples#{target} blockquote mark").count() > 0
    # the dashboard, read back by a later batch over the same folder, is not an article (slant's pages say so)
    r = batch(tmp_path / "dashboard.html", "-o", tmp_path / "again", "--workers", "1", model=model)
    assert r.returncode == 0 and error_reasons(tmp_path / "again") == {
        "dashboard": "a page slant wrote (a report or dashboard), not an article"}


def test_ray_engine_gives_the_same_output_and_resumes(tmp_path, model):
    pytest.importorskip("ray", reason="needs the ray extra")
    inputs = write_formats(tmp_path)
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    assert batch(inputs["jsonl"], "-o", local, "--workers", "1", model=model).returncode == 0
    # resume on Ray what a local run began: the folder's first article is done, the rest run on Ray
    first = tmp_path / "first"
    first.mkdir()
    (first / "a1.txt").write_text(ARTICLES[0], encoding="utf-8")
    assert batch(first, "-o", on_ray, "--workers", "1", model=model).returncode == 0
    r = batch(first, inputs["jsonl"], "-o", on_ray, "--engine", "ray", "--workers", "2", model=model)
    assert r.returncode == 0, r.stderr
    assert "done by an earlier run" in r.stderr
    sql = "SELECT key, genre, genre_score, frames, techniques, spans FROM articles ORDER BY key"
    assert query(on_ray, sql) == query(local, sql)
    assert query(on_ray, "SELECT count(*) AS n FROM duplicates")[0]["n"] == 1  # the JSONL copy of a1


def test_an_output_inside_the_input_folder_is_not_read_back_as_articles(tmp_path, model):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLES[0], encoding="utf-8")
    out = folder / "results"
    assert batch(folder, "-o", out, "--workers", "1", model=model).returncode == 0
    assert run_slant("report", out).returncode == 0  # writes results/dashboard.html inside the input folder
    assert (out / "dashboard.html").is_file()
    r = batch(folder, "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert query(out, "SELECT count(*) AS n FROM articles")[0]["n"] == 1
    assert query(out, "SELECT count(*) AS n FROM errors")[0]["n"] == 0


def test_progress_bar_on_a_terminal_shows_count_rate_and_eta(tmp_path, model):
    inputs = write_formats(tmp_path)
    env = os.environ | {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "160"}  # rich: act as a terminal
    r = subprocess.run([sys.executable, "-m", "slant", "batch", str(inputs["csv"]), "-o", str(tmp_path / "out"),
                        "--model", str(model), "--workers", "1"], capture_output=True, text=True, cwd=REPO,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "analysing" in r.stderr and "3/3" in r.stderr and "articles/s" in r.stderr and "ETA" in r.stderr
    r = subprocess.run([sys.executable, "-m", "slant", "batch", str(inputs["csv"]), "-o", str(tmp_path / "out2"),
                        "--model", str(model), "--workers", "1", "-q"], capture_output=True, text=True, cwd=REPO,
                       env=env, timeout=300)
    assert r.returncode == 0 and "analysing" not in r.stderr and "3 articles" in r.stderr  # -q: summary only


def test_sources_that_slug_alike_get_their_own_example_sections():
    from slant.corpus.dashboard import anchor

    assert anchor("s", "a b") != anchor("s", "a-b")
    assert anchor("t", "Loaded_Language") == "t-Loaded_Language"


def test_an_example_passage_names_its_article_by_a_short_title():
    # an article of one paragraph has its whole text as its title: it followed every example passage in full
    from slant.corpus.dashboard import _examples
    from slant.render import HEADING_CHARS

    title = "The corrupt elite have betrayed every family in this country, again and again. " * 10
    row = {"technique": "Loaded_Language", "text": "corrupt elite", "before": "The ", "after": " have", "score": 0.5,
           "id": "a1", "title": title, "source": "site", "date": None}
    page = _examples([row], "t", "technique", lambda name: name)
    assert "<a " not in page   # no address: no link
    for url, link in (('https://site.example/a?b=1&c="2"', True), ("javascript:alert(1)", False)):
        linked = _examples([row | {"url": url}], "t", "technique", lambda name: name)
        assert (' · <a href="https://site.example/a?b=1&amp;c=&quot;2&quot;" target="_blank" '
                'rel="noopener noreferrer">the article</a>' in linked) == link and "javascript" not in linked
    shown = page.split(" — ")[1].split("</div>")[0]
    assert shown.endswith("…") and len(shown) <= HEADING_CHARS and title.startswith(shown[:-1])


def test_batch_with_per_technique_thresholds_and_no_mixing_on_resume(tmp_path, every_technique_model):
    out = tmp_path / "out"
    jsonl = write_formats(tmp_path)["jsonl"]
    r = batch(jsonl, "-o", out, "--workers", "1", "--thresholds", "per-technique", model=every_technique_model)
    assert r.returncode == 0, r.stderr
    rows = query(out, "SELECT id, count(DISTINCT technique) AS n FROM techniques GROUP BY id ORDER BY id")
    assert rows == [{"id": aid, "n": 23} for aid, _, _ in META]      # every technique: the per-technique set ran
    # the same output folder with the default operating point would mix two: refused in one line
    r = batch(jsonl, "-o", out, "--workers", "1", model=every_technique_model)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "--thresholds per-technique), not this one" in r.stderr.strip() and len(r.stderr.strip().splitlines()) == 1
    # a model without a per-technique set: one line, and no output folder is started
    import shutil
    old = tmp_path / "old"
    shutil.copytree(every_technique_model, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["thresholds"]["paragraph_per_technique"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    r = batch(jsonl, "-o", tmp_path / "out2", "--thresholds", "per-technique", model=old)
    assert r.returncode == 1 and r.stderr == (
        f"Error: {old / 'manifest.json'}: this model has no per-technique thresholds (exported before they existed); "
        "use --thresholds micro\n")
    assert not (tmp_path / "out2").exists()


def test_resuming_with_a_model_whose_outputs_differ_is_refused(tmp_path, model):
    """The output remembers the model's digest: files, thresholds and head settings. A model with the same
    files but another genre temperature (as a re-fitted release can be) would mix genre probabilities, so it is
    refused; a re-export that differs only in its training record resumes."""
    import shutil
    jsonl = write_formats(tmp_path)["jsonl"]
    mine = tmp_path / "model"
    shutil.copytree(model, mine)
    out = tmp_path / "out"
    assert batch(jsonl, "-o", out, "--workers", "1", model=mine).returncode == 0

    def edit(change):
        manifest = json.loads((mine / "manifest.json").read_text())
        change(manifest)
        (mine / "manifest.json").write_text(json.dumps(manifest))

    edit(lambda m: m["training"]["commands"].append("slant train --from-checkpoint again"))
    r = batch(jsonl, "-o", out, "--workers", "1", model=mine)
    assert r.returncode == 0, r.stderr
    edit(lambda m: m["article"].update(genre_temperature=m["article"]["genre_temperature"] * 2))
    r = batch(jsonl, "-o", out, "--workers", "1", model=mine)
    assert r.returncode == 1 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "was written with model" in r.stderr and "not this one" in r.stderr


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")
def test_the_corpus_benchmark_runs(tmp_path):
    """benchmarks/corpus.py prints figures and is run by hand: a small run end to end so that it cannot rot."""
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "corpus.py"), "--articles", "6", "--no-ray"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    runs = [json.loads(line) for line in r.stdout.splitlines() if line.startswith('{"engine"')]
    assert [(x["engine"], x["workers"], x["articles"]) for x in runs] == [("local", 1, 6), ("local", 2, 6)]
    assert "speedup_2_vs_1_workers" in r.stdout


def test_a_csv_article_longer_than_pythons_csv_field_limit_is_read(tmp_path, model):
    # csv stops at a field over 131,072 characters: the whole file was "not a readable CSV file"
    long_text = "Corrupt elite\n\n" + "The corrupt elite betray our great nation again. " * 3000   # 147,015
    with open(tmp_path / "long.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["id", "text"], ["long", long_text], ["short", "Short\n\nThe corrupt elite lie."]])
    out = tmp_path / "out"
    r = batch(tmp_path / "long.csv", "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert [row["id"] for row in query(out, "SELECT id FROM articles ORDER BY id")] == ["long", "short"]


def test_a_parquet_file_with_binary_columns_is_read_as_text(tmp_path, model):
    # Spark and older writers store strings as binary: every row was '"text" is not a string'
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"id": pa.array([b"a", b"b", b"c"]), "source": pa.array([b"site", None, None]),
                             "text": pa.array([b"Corrupt elite\n\nThe corrupt elite lie.", b"caf\xe9 latin-1", b" "],
                                              pa.binary())}), tmp_path / "binary.parquet")
    out = tmp_path / "out"
    r = batch(tmp_path / "binary.parquet", "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert query(out, "SELECT id, source FROM articles") == [{"id": "a", "source": "site"}]
    assert error_reasons(out) == {"b": "not UTF-8 text (byte 0xe9 at offset 3)", "c": "empty, no text to read"}


def test_csv_exports_with_a_byte_order_mark(tmp_path, model):
    """Excel writes "CSV UTF-8" with a UTF-8 byte-order mark and its Unicode exports as UTF-16 with one: both
    read as the same table (before, the UTF-16 one was refused with its header shown as escaped bytes)."""
    rows = 'id,text\nx1,"The corrupt elite betray our great nation, again and again."\n'
    (tmp_path / "utf8.csv").write_bytes(rows.encode("utf-8-sig"))
    (tmp_path / "utf16.csv").write_bytes(rows.replace("x1", "x2").replace("again and again", "once more")
                                         .encode("utf-16"))
    out = tmp_path / "out"
    r = batch(tmp_path / "utf8.csv", tmp_path / "utf16.csv", "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert [row["id"] for row in query(out, "SELECT id FROM articles ORDER BY id")] == ["x1", "x2"]
    assert query(out, "SELECT count(*) AS n FROM errors")[0]["n"] == 0


def test_semicolon_csv_and_tsv_tables(tmp_path, model):
    """Excel writes "CSV" with semicolons where the decimal mark is a comma (most of Europe): it stopped the run with
    'no "text" column (found: id;title;text)'. A .tsv file was read as one text article, its header the title."""
    (tmp_path / "excel.csv").write_text('id;title;text\ns1;Crooks;"The corrupt elite lie to you; wake up, friends."\n',
                                        encoding="utf-8-sig")
    (tmp_path / "table.tsv").write_text("id\ttext\nt1\tThe corrupt elite lie to you, again and again.\n"
                                        "t2\tShort, but, with; commas.\n", encoding="utf-8")
    (tmp_path / "commas.csv").write_text('id,text\nc1,"A text; with semicolons, and commas."\n', encoding="utf-8")
    out = tmp_path / "out"
    r = batch(tmp_path / "excel.csv", tmp_path / "table.tsv", tmp_path / "commas.csv", "-o", out, "--workers", "1",
              model=model)
    assert r.returncode == 0, r.stderr
    rows = query(out, "SELECT id, title FROM articles ORDER BY id")
    assert rows == [{"id": "c1", "title": "A text; with semicolons, and commas."}, {"id": "s1", "title": "Crooks"},
                    {"id": "t1", "title": "The corrupt elite lie to you, again and again."},
                    {"id": "t2", "title": "Short, but, with; commas."}]
    r = run_slant("analyze", tmp_path / "table.tsv")
    assert r.returncode == 1 and "a table of articles (TSV), not one text; analyse its rows with slant batch" in r.stderr


def test_json_arrays_of_articles(tmp_path, model):
    """A .json file (an array of objects, as `slant analyze --format json` writes for several articles and most
    exports are) was read as one text article: the JSON itself, labelled. Its items are articles now."""
    (tmp_path / "export.json").write_text(json.dumps([{"id": "a", "text": ARTICLES[0], "source": "Bugle"}, 7,
                                                      {"id": "c"}]), encoding="utf-8")
    r = run_slant("analyze", EXAMPLES / "article900000001.txt", "--format", "json", "--model", model)
    (tmp_path / "one.json").write_text(r.stdout, encoding="utf-8")        # slant's own Document, read back
    out = tmp_path / "out"
    r = batch(tmp_path / "export.json", tmp_path / "one.json", "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert query(out, "SELECT id, source FROM articles ORDER BY id") == [
        {"id": "900000001", "source": str(EXAMPLES / "article900000001.txt")}, {"id": "a", "source": "Bugle"}]
    assert error_reasons(out) == {"export-2": "item 2: not a JSON object", "c": 'item 3: no "text" field (nor a "url" to fetch)'}
    (tmp_path / "lines.json").write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    (tmp_path / "string.json").write_text('"a text"', encoding="utf-8")
    for name, error in (("lines.json", "one JSON value after another, not one array: JSON Lines? name the file .jsonl"),
                        ("string.json", 'a JSON string, expected an array of objects with a "text" field')):
        r = batch(tmp_path / name, "-o", tmp_path / ("out-" + name), model=model)
        assert r.returncode == 1 and r.stderr == f"Error: {tmp_path / name}: {error}\n"
    r = run_slant("analyze", tmp_path / "export.json")
    assert r.returncode == 1 and "a table of articles (JSON), not one text" in r.stderr


def test_a_folder_of_word_documents(tmp_path, model):
    """slant batch reads the .docx files of a folder as slant analyze does; Word's lock file is passed over, a
    broken document is an error row that says so."""
    from conftest import write_docx
    folder = tmp_path / "statements"
    folder.mkdir()
    write_docx(folder / "a.docx", ["<w:r><w:t>Budget passes</w:t></w:r>",
                                   "<w:r><w:t>The council approved the budget after a long debate.</w:t></w:r>"])
    (folder / "~$a.docx").write_bytes(b"\x05user " + b"\x00" * 150)
    (folder / "b.docx").write_bytes(b"PK\x03\x04 cut short")
    out = tmp_path / "out"
    r = batch(folder, "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert query(out, "SELECT id, title FROM articles") == [{"id": "a", "title": "Budget passes"}]
    assert error_reasons(out) == {"b": "not a readable Word document (File is not a zip file)"}


def test_a_folder_of_pdf_rtf_mhtml_and_eml_documents(tmp_path, model):
    """slant batch reads the .pdf, .rtf, .mhtml and .eml files of a folder as slant analyze does (a saved page with its
    site as the source and the address it was saved from); a broken PDF is an error row that says so."""
    from conftest import write_pdf
    folder = tmp_path / "reports"
    folder.mkdir()
    write_pdf(folder / "a.pdf", "Budget passes", ["The council approved the budget after a long debate."])
    (folder / "b.pdf").write_bytes(b"%PDF-1.7\n")
    (folder / "c.rtf").write_bytes(rb"{\rtf1\ansi{\b Budget fails}\par The council rejected the budget.\par}")
    from conftest import write_mhtml
    write_mhtml(folder / "d.mhtml", "<html><head><meta property='og:site_name' content='The Gazette'></head><body>"
                                    "<article><h1>Budget delayed</h1><p>The council delayed the budget vote until "
                                    "March after a long debate.</p></article></body></html>")
    (folder / "e.eml").write_bytes(b"From: press@example.org\r\nSubject: Budget cut\r\nDate: Tue, 1 Dec 2026 08:00:00 "
                                   b"+0000\r\n\r\nThe council cut the budget\r\nafter a long debate.\r\n")
    out = tmp_path / "out"
    r = batch(folder, "-o", out, "--workers", "1", model=model)
    assert r.returncode == 0, r.stderr
    assert query(out, "SELECT id, title, source, url FROM articles ORDER BY id") == [
        {"id": "a", "title": "Budget passes", "source": None, "url": None},
        {"id": "c", "title": "Budget fails", "source": None, "url": None},
        {"id": "d", "title": "Budget delayed", "source": "The Gazette", "url": "https://news.example.com/story"},
        {"id": "e", "title": "Budget cut", "source": None, "url": None}]
    assert error_reasons(out) == {"b": "not a readable PDF document (No /Root object! - Is this really a PDF?)"}


def test_a_title_column_beside_a_body_is_read_as_the_title(tmp_path, model):
    """A JSONL row whose "text" is the body and whose "title" is beside it is analysed as the titled article
    (the runtime reads the text under its Document title), with spans in the body's offsets."""
    from slant.document import Document
    from slant.runtime import load_detector
    title, body = ARTICLES[0].split("\n\n", 1)
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps({"id": "beside", "title": title, "text": body}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert batch(jsonl, "-o", out, "--workers", "1", model=model).returncode == 0
    row = query(out, "SELECT title, techniques, frames FROM articles")[0]
    titled = load_detector(model).analyze(Document("t", ARTICLES[0], language="en"))
    untitled = load_detector(model).analyze(Document("u", body, language="en"), untitled=False)
    assert row["title"] == title
    assert sorted(row["techniques"]) == sorted({l.name for n, ls in titled.techniques.items() if n > 1 for l in ls})
    assert row["frames"] == [label.name for label in titled.frames or []]
    shift = len(title) + 2
    spans = query(out, "SELECT start, \"end\", technique FROM spans ORDER BY start, technique")
    assert [(s["start"] + shift, s["end"] + shift, s["technique"]) for s in spans] == \
        sorted((s.start, s.end, s.technique) for s in titled.spans if s.start >= shift)
    assert untitled.title != title


def test_local_workers_are_at_most_one_per_cpu(tmp_path, model):
    """--workers 500 grew to 500 processes on a big corpus, each holding the model (100 GB or more on a laptop);
    the local engine takes at most one per CPU and says so. The summary counts in the singular where it is 1."""
    from slant.corpus.engine import default_workers
    cpus = default_workers()
    text = tmp_path / "one.txt"
    text.write_text("Corrupt elite\n\nThe corrupt elite betray us.\n", encoding="utf-8")
    r = batch(text, "-o", tmp_path / "out", "--workers", str(cpus + 1), model=model)
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines()[0] == (f"note: --workers {cpus + 1} is more than the {cpus} CPUs this machine gives "
                                        f"slant; using {cpus} (each worker holds the model, and more than one per CPU "
                                        "gives no speed)")
    assert f"{cpus} local worker" in r.stderr and (cpus == 1 or f"{cpus} local workers, 1 busy" in r.stderr)
    output = [line for line in r.stderr.splitlines() if line.startswith("output")]
    assert len(output) == 1 and "1 article, " in output[0] and "0 errors, 0 duplicates" in output[0]
