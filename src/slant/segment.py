"""Paragraphs by the SemEval-2023 Task 3 line rule.

A paragraph is a line of ``text.split("\\n")`` that is not empty after
``.strip()``; paragraphs are numbered by their 1-based line number, so empty
lines count in the numbering but carry no paragraph.  This reproduces the
organisers' subtask-3 templates exactly (title = paragraph 1, first body line
usually 3).  U+FEFF is not whitespace to ``str.strip`` and stays in the line.

>>> [(p.number, p.start, p.end) for p in paragraphs("Title\\n\\nBody one.\\n  \\nBody two")]
[(1, 0, 5), (3, 7, 16), (5, 20, 28)]
>>> title_of("\\ufeff Big News \\n\\nBody")
'Big News'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Paragraph", "paragraphs", "title_of", "one_sentence_per_line"]

# The space after a sentence end: . ! or ? (and a closing quote or bracket), then an opening quote or a capital.
SENTENCE_END = re.compile(r'(?<=[.!?])(["”’)]?) (?=["“‘(]?[A-Z])')


@dataclass(frozen=True)
class Paragraph:
    """A paragraph: its official number and its line's character range (end exclusive, no newline)."""

    number: int
    start: int
    end: int


def paragraphs(text: str) -> tuple[Paragraph, ...]:
    """Every non-blank line of ``text`` as a Paragraph, numbered by line."""
    found = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        end = start + len(line)
        if line.strip():
            found.append(Paragraph(number, start, end))
        start = end + 1
    return tuple(found)


def title_of(text: str) -> str | None:
    """The first line, stripped (and without a leading U+FEFF), when it holds text."""
    first = text.split("\n", 1)[0].lstrip("\ufeff").strip()
    return first or None


def one_sentence_per_line(text: str) -> str:
    """``text`` with the space after each sentence end of the body (not the title line) made a newline:
    the same characters at the same offsets, printed one sentence per line as many sources (and
    PTC-2020) print them.

    >>> one_sentence_per_line('Title. Here\\n\\nOne. "Two!" Three? four.')
    'Title. Here\\n\\nOne.\\n"Two!"\\nThree? four.'
    """
    first = text.find("\n")
    if first < 0:
        return text
    return text[:first] + SENTENCE_END.sub(lambda m: m.group(1) + "\n", text[first:])
