"""Plain-text report of an analysed Document, for the terminal (coloured when asked)."""

from __future__ import annotations

import bisect
import textwrap

import click

from . import taxonomy
from .article_heads import FRAMES_MIN_WORDS, GENRE_MIN_WORDS, word_count
from .document import Document, Span

__all__ = ["text_report", "heading", "short_title", "counted", "GROUP_COLOURS", "HEADING_CHARS"]

# One terminal colour per technique group (the HTML report uses the same grouping).
GROUP_COLOURS = {
    "Attack_on_Reputation": "red", "Justification": "yellow", "Simplification": "blue",
    "Distraction": "magenta", "Call": "cyan", "Manipulative_Wording": "green",
}


# A report's heading is the document's title, cut to this many characters: a text of one paragraph (a pasted
# quote) has its whole text as its title, and a long first line made a heading of hundreds of words. The HTML
# report cuts it the same way (web/report.js: SLANT_HEADING_CHARS).
HEADING_CHARS = 120


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1.

    >>> counted(1, "article"), counted(2000, "span"), counted(0, "source")
    ('1 article', '2,000 spans', '0 sources')
    """
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _quote(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def heading(doc: Document) -> str:
    """The title a report shows for ``doc``: its title (or id) as ``short_title`` cuts it."""
    return short_title(doc.title or doc.id)


def short_title(title: str) -> str:
    """``title``, white space collapsed, cut after a whole word to at most ``HEADING_CHARS`` characters, "…"
    included (also the dashboard's titles beside example passages).

    >>> short = short_title("Real patriots know it. " * 10)
    >>> len(short), short[-10:]
    (120, ' it. Real…')
    """
    text = " ".join(title.split())
    if len(text) <= HEADING_CHARS:
        return text
    cut = text[:HEADING_CHARS - 1]
    space = cut.rfind(" ")
    if space > HEADING_CHARS // 2 and text[HEADING_CHARS - 1] != " ":   # not inside a word
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def _spans_of_paragraphs(doc: Document) -> tuple[list[list[Span]], list[list[Span]]]:
    """Per paragraph (by index), in the Document's order: the spans that start in it, and those that overlap it.
    Found by bisection: a scan of every span for every paragraph made a text of 70,000 lines take minutes."""
    starts = [p.start for p in doc.paragraphs]
    beginning: list[list[Span]] = [[] for _ in starts]
    overlapping: list[list[Span]] = [[] for _ in starts]
    for s in doc.spans:
        i = bisect.bisect_right(starts, s.start) - 1        # the last paragraph starting at or before the span
        if i >= 0 and s.start < doc.paragraphs[i].end:
            beginning[i].append(s)
        else:
            i += 1
        while i < len(starts) and doc.paragraphs[i].start < s.end:
            overlapping[i].append(s)
            i += 1
    return beginning, overlapping


def _highlighted(doc: Document, start: int, end: int, overlapping: list[Span]) -> str:
    """The paragraph with each span coloured by its group (the strongest span wins where they overlap)."""
    spans = sorted(overlapping, key=lambda s: -s.score)
    cuts = sorted({start, end} | {min(max(x, start), end) for s in spans for x in (s.start, s.end)})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = doc.text[a:b]
        top = next((s for s in spans if s.start <= a and s.end >= b), None)
        out.append(click.style(piece, fg=GROUP_COLOURS.get(taxonomy.group_of(top.technique)), bold=True,
                               underline=True) if top else piece)
    return "".join(out)


def text_report(doc: Document, color: bool = False, explain: bool = False) -> str:
    """Genre and frames first, then techniques per paragraph with scores and the spans that carry them.

    With ``color``, each paragraph is printed whole with its spans coloured by technique group,
    and a legend closes the report. With ``explain``, what each technique found is and an example of it
    (``slant taxonomy``'s words) close it.
    """
    style = (lambda text, **kw: click.style(text, **kw)) if color else (lambda text, **kw: text)
    lines = [style(heading(doc), bold=True) + f"  [{doc.source or doc.id}]"]
    words = word_count(doc.text)
    length = counted(words, "word")
    if doc.genre is not None:
        lines.append(f"genre: {style(doc.genre.name, bold=True)} ({doc.genre.score:.2f})")
    elif doc.techniques is not None and words < GENRE_MIN_WORDS:  # analysed, but too short for a genre
        lines.append(f"genre: not assessed ({length}; a genre needs {GENRE_MIN_WORDS} or more)")
    if doc.frames is not None:
        lines.append("frames: " + (", ".join(f"{f.name} ({f.score:.2f})" for f in doc.frames) or "none found"))
    elif doc.techniques is not None and words < FRAMES_MIN_WORDS:
        lines.append(f"frames: not assessed ({length}; frames need {FRAMES_MIN_WORDS} or more)")
    if doc.techniques is None:
        lines.append("techniques: not analysed")
        return "\n".join(lines)
    counts: dict[str, int] = {}
    for labels in doc.techniques.values():
        for label in labels:
            counts[label.name] = counts.get(label.name, 0) + 1
    if not counts:
        lines.append("techniques: none found")
        return "\n".join(lines)
    summary = ", ".join(f"{name} ×{n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    lines.append(f"techniques in {len(doc.techniques)} of {counted(len(doc.paragraphs), 'paragraph')}: {summary}")
    beginning, overlapping = _spans_of_paragraphs(doc)
    for i, p in enumerate(doc.paragraphs):
        labels = doc.techniques.get(p.number)
        if not labels:
            continue
        lines.append("")
        body = _highlighted(doc, p.start, p.end, overlapping[i]) if color else _quote(doc.text[p.start:p.end], 90)
        lines.append(f"¶{p.number}  {body}")
        for label in labels:
            group = taxonomy.group_of(label.name)
            name = style(f"{label.name:<34}", fg=GROUP_COLOURS.get(group))
            lines.append(f"    {name} {label.score:.2f}  [{group}]")
        for s in beginning[i]:
            lines.append(f"      » {s.technique:<32} {s.score:.2f}  «{_quote(s.text, 70)}»  ({s.start}-{s.end})")
    if explain:
        lines += ["", "what they are:"]
        for name in sorted(counts, key=lambda n: (-counts[n], n)):
            entry = taxonomy.entry("technique", name)
            lines.append(f"  {style(name, fg=GROUP_COLOURS.get(taxonomy.group_of(name)), bold=True)}  "
                         f"[{taxonomy.group_of(name)}]")
            lines += [f"      {line}" for line in textwrap.wrap(entry.definition, 100)]
            lines += [f"      {line}" for line in textwrap.wrap(f"e.g. \"{entry.example}\"", 100)]
    if color:
        lines.append("")
        lines.append("legend: " + "  ".join(style(g.name, fg=GROUP_COLOURS[g.name], bold=True, underline=True)
                                            for g in taxonomy.GROUPS))
    return "\n".join(lines)
