"""A tiny corpus in the shared-data layout, written here (no shared data), for training tests."""

from __future__ import annotations

from pathlib import Path

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
    (base / "train-labels-subtask-3-spans.txt").write_text(
        "".join(f"{i}\t{t}\t{s}\t{e}\n" for i, t, s, e in span_rows), encoding="utf-8")
    return root
