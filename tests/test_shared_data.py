"""The readers against the real training data in ../shared/data (skipped where it is absent).

Nothing from the data is copied into the repository: these tests read it in place.
"""

import pytest

from slant.formats import ptc, read_articles, semeval
from conftest import SHARED_DATA

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")

LANGS = ["en", "fr", "ge", "it", "po", "ru"]
SEMEVAL_FILES = [("1", semeval.read_subtask1, semeval.write_subtask1),
                 ("2", semeval.read_subtask2, semeval.write_subtask2),
                 ("3", semeval.read_subtask3, semeval.write_subtask3),
                 ("3-spans", semeval.read_spans, semeval.write_spans)]


@pytest.mark.parametrize("lang", LANGS)
def test_semeval_label_files_round_trip_and_attach(tmp_path, lang):
    base = SHARED_DATA / "semeval2023" / lang
    docs = {d.id: d for d in read_articles(base / "train-articles", semeval.LANGUAGES[lang])}
    for name, read, write in SEMEVAL_FILES:
        path = base / f"train-labels-subtask-{name}.txt"
        rows = read(path)
        write(tmp_path / "out", rows)
        assert (tmp_path / "out").read_bytes() == path.read_bytes(), name
        semeval.attach(docs, rows, path)
    # Our paragraph rule gives exactly the rows of the official label file (= the templates).
    rows = semeval.read_subtask3(base / "train-labels-subtask-3.txt")
    ids = sorted({r.article_id for r in rows})
    ours = semeval.subtask3_rows(docs[i] for i in ids)
    assert sorted((r.article_id, r.paragraph) for r in ours) == sorted((r.article_id, r.paragraph) for r in rows)
    # Paragraph labels equal the techniques of the spans overlapping the line (one known English exception).
    disagree = sum(
        {label.name for label in d.techniques_from_spans().get(p.number, [])}
        != {label.name for label in d.paragraph_techniques(p.number)}
        for d in (docs[i] for i in ids) for p in d.paragraphs)
    assert disagree == (1 if lang == "en" else 0)


@pytest.mark.parametrize("name,read,write", [
    ("train-task1-SI.labels", ptc.read_si, ptc.write_si),
    ("train-task2-TC.labels", ptc.read_tc, ptc.write_tc),
    ("dev-task-TC-template.out", ptc.read_tc_template, ptc.write_tc_template),
])
def test_ptc_files_round_trip(tmp_path, name, read, write):
    path = SHARED_DATA / "ptc2020" / name
    write(tmp_path / "out", read(path))
    assert (tmp_path / "out").read_bytes() == path.read_bytes()


def test_every_article_folder_reads():
    folders = [p for p in (SHARED_DATA / "semeval2023").glob("*/*-articles")] + \
              [p for p in (SHARED_DATA / "ptc2020").glob("*-articles")]
    total = sum(len(read_articles(f)) for f in folders)
    assert total == 2484 + 536
