"""Paragraphs by the SemEval-2023 Task 3 line rule.

A paragraph is a line of ``text.split("\\n")`` that is not empty after
``.strip()``; paragraphs are numbered by their 1-based line number, so empty
lines count in the numbering but carry no paragraph.  This reproduces the
organisers' subtask-3 templates exactly (title = paragraph 1, first body line
usually 3).  U+FEFF is not whitespace to ``str.strip`` and stays in the line.
A text with no ``\\n`` but ``\\r`` line ends (classic Mac OS) is split on ``\\r`` the same way
(the shared task's files never have one); with ``\\r\\n`` line ends the ``\\r`` stays out of each paragraph.

>>> [(p.number, p.start, p.end) for p in paragraphs("Title\\n\\nBody one.\\n  \\nBody two")]
[(1, 0, 5), (3, 7, 16), (5, 20, 28)]
>>> title_of("\\ufeff Big News \\n\\nBody")
'Big News'
>>> [(p.number, p.start, p.end) for p in paragraphs("Title\\r\\rBody one.\\rBody two")], title_of("Mac\\rBody")
([(1, 0, 5), (3, 7, 16), (4, 17, 25)], 'Mac')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Paragraph", "paragraphs", "line_end", "title_of", "is_blank", "one_sentence_per_line",
           "prints_sentence_lines"]

# Characters that print nothing and are not white space to str.strip: a byte-order mark, zero-width ones.
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060]")

# The space after a sentence end: . ! or ? (and a closing quote or bracket), then an opening quote or a capital.
SENTENCE_END = re.compile(r'(?<=[.!?])(["”’)]?) (?=["“‘(]?[A-Z])')


# A text whose body lines are this often a single sentence is printed one sentence per line (SemEval-2023's
# English train articles: 10 % of them; their PTC-2020 versions and the English dev articles: 95 % and 99 %).
SENTENCE_LINES_SHARE = 0.8


@dataclass(frozen=True)
class Paragraph:
    """A paragraph: its official number and its line's character range (end exclusive, without the line
    end: ``\\n``, ``\\r\\n`` in text with Windows line ends, or ``\\r`` in text with classic Mac ones)."""

    number: int
    start: int
    end: int


def line_end(text: str) -> str:
    """The character that ends ``text``'s lines: ``\\n``, or ``\\r`` in a text that has no ``\\n`` but ``\\r``
    (classic Mac OS line ends; with ``\\r\\n`` ones it is ``\\n``)."""
    return "\r" if "\n" not in text and "\r" in text else "\n"


def paragraphs(text: str) -> tuple[Paragraph, ...]:
    """Every non-blank line of ``text`` as a Paragraph, numbered by line."""
    found = []
    start = 0
    for number, line in enumerate(text.split(line_end(text)), start=1):
        end = start + len(line)
        if line.strip():
            found.append(Paragraph(number, start, end - line.endswith("\r")))
        start = end + 1
    return tuple(found)


def is_blank(text: str) -> bool:
    """Whether ``text`` has nothing to read: white space, byte-order marks and zero-width characters only
    (a file saved with a BOM and nothing else is as empty as one without).

    >>> is_blank("\\ufeff\\n"), is_blank(" \\u200b "), is_blank("\\ufeffA")
    (True, True, False)
    """
    return not _INVISIBLE.sub("", text).strip()


def title_of(text: str) -> str | None:
    """The first line, stripped (and without a leading U+FEFF), when it holds text."""
    first = text.split(line_end(text), 1)[0].lstrip("\ufeff").strip()
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


def prints_sentence_lines(text: str, lines: tuple[Paragraph, ...] | None = None) -> bool:
    """Whether the body of ``text`` (its lines after the title) is printed one sentence per line, as PTC-2020
    and the SemEval-2023 English dev articles print it: ``SENTENCE_LINES_SHARE`` of its lines or more hold no
    sentence end followed by another sentence.  Such text gets its own calibration of the technique scores
    (``paragraph_calibration.lines`` in the manifest): a line holds less evidence than a paragraph.
    ``lines``: the text's ``paragraphs`` when they are at hand (a Document has them).

    >>> prints_sentence_lines("Title\\n\\nOne.\\nTwo, three.\\nFour!")
    True
    >>> prints_sentence_lines("Title\\n\\nOne. Two.\\nThree. Four.\\nFive.")
    False
    >>> prints_sentence_lines("A title alone. Or two sentences of it.")
    False
    """
    body = (paragraphs(text) if lines is None else lines)[1:]
    if not body:
        return False
    single = sum(not SENTENCE_END.search(text[p.start:p.end]) for p in body)
    return single >= SENTENCE_LINES_SHARE * len(body)
