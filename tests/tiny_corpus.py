"""A tiny corpus in the shared-data layout, written here (no shared data), for training tests."""

from __future__ import annotations

from pathlib import Path

from slant import taxonomy

# Sentences written for these tests; each with the technique it shows and the fragment carrying it.
LINES = [
    ("The corrupt elite has betrayed every hard-working family.", "Loaded_Language", "corrupt elite"),
    ("Can we really trust a minister who never held a real job?", "Doubt", "Can we really trust a minister"),
    ("Real patriots stand with our brave soldiers.", "Flag_Waving", "Real patriots stand with our brave soldiers"),
    ("The council met on Tuesday and approved the budget.", None, None),
    ("Either we close the borders today or we lose everything.", "False_Dilemma-No_Choice",
     "Either we close the borders today or we lose everything"),
    ("The weather in the north was mild this week.", None, None),
]


GENRES = ["opinion", "reporting", "satire"]
FRAMES = [("Political", "Security_and_defense"), ("Economic",), ("Political", "Morality")]


def write_tiny_corpus(root: Path, articles: int = 10) -> Path:
    base = root / "semeval2023" / "en"
    (base / "train-articles").mkdir(parents=True)
    paragraph_rows, span_rows, genre_rows, frame_rows = [], [], [], []
    for a in range(articles):
        doc_id = str(1000 + a)
        genre_rows.append(f"{doc_id}\t{GENRES[a % 3]}\n")
        frame_rows.append(f"{doc_id}\t{','.join(FRAMES[a % 3])}\n")
        lines = [f"Tiny article number {a}"] + [LINES[(a + i) % len(LINES)][0] for i in range(4)]
        text = "\n\n".join(lines) + "\n"
        (base / "train-articles" / f"article{doc_id}.txt").write_text(text, encoding="utf-8")
        paragraph_rows.append(f"{doc_id}\t1\t")
        for i in range(4):
            sentence, technique, fragment = LINES[(a + i) % len(LINES)]
            number = 3 + 2 * i
            paragraph_rows.append(f"{doc_id}\t{number}\t{technique or ''}")
            if technique:
                start = text.index(sentence) + sentence.index(fragment)
                span_rows.append((doc_id, technique, start, start + len(fragment)))
    (base / "train-labels-subtask-3.txt").write_text("\n".join(paragraph_rows) + "\n", encoding="utf-8")
    (base / "train-labels-subtask-1.txt").write_text("".join(genre_rows), encoding="utf-8")
    (base / "train-labels-subtask-2.txt").write_text("".join(frame_rows), encoding="utf-8")
    span_rows.sort(key=lambda r: (r[0], r[2], r[3], r[1]))
    _write_ptc(root / "ptc2020", base, span_rows)
    (base / "train-labels-subtask-3-spans.txt").write_text(
        "".join(f"{i}\t{t}\t{s}\t{e}\n" for i, t, s, e in span_rows), encoding="utf-8")
    return root


def _write_ptc(ptc: Path, semeval: Path, span_rows: list) -> None:
    """The PTC-2020 side: the same articles with one sentence per line (paragraph breaks become single
    newlines and a word is respelt), their spans in PTC classes, plus a span SemEval does not have
    ("hard-working family", Loaded_Language) wherever that sentence occurs."""
    (ptc / "train-articles").mkdir(parents=True)
    rows = []
    for path in sorted((semeval / "train-articles").glob("article*.txt")):
        doc_id = path.stem[len("article"):]
        text = path.read_text(encoding="utf-8")
        title, body = text.split("\n\n", 1)
        old = title + "\n\n" + body.replace("\n\n", "\n").replace("weather", "wether")
        (ptc / "train-articles" / path.name).write_text(old, encoding="utf-8")
        for i, technique, start, end in span_rows:
            if i == doc_id:
                fragment = text[start:end]
                at = old.index(fragment)
                rows.append((doc_id, taxonomy.technique_to_ptc(technique), at, at + len(fragment)))
        if "hard-working family" in old:
            at = old.index("hard-working family")
            rows.append((doc_id, "Loaded_Language", at, at + len("hard-working family")))
    (ptc / "train-task2-TC.labels").write_text("".join(f"{i}\t{c}\t{s}\t{e}\n" for i, c, s, e in rows),
                                               encoding="utf-8")
