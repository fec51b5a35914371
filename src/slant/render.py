"""Plain-text report of an analysed Document, for the terminal."""

from __future__ import annotations

from . import taxonomy
from .document import Document

__all__ = ["text_report"]


def _quote(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def text_report(doc: Document) -> str:
    """Techniques per paragraph with scores, then the spans that carry them."""
    lines = [f"{doc.title or doc.id}  [{doc.source or doc.id}]"]
    if doc.genre is not None:
        lines.append(f"genre: {doc.genre.name} ({doc.genre.score:.2f})")
    if doc.frames is not None:
        lines.append("frames: " + (", ".join(f"{f.name} ({f.score:.2f})" for f in doc.frames) or "none found"))
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
    lines.append(f"techniques in {len(doc.techniques)} of {len(doc.paragraphs)} paragraphs: {summary}")
    for p in doc.paragraphs:
        labels = doc.techniques.get(p.number)
        if not labels:
            continue
        lines.append("")
        lines.append(f"¶{p.number}  {_quote(doc.text[p.start:p.end], 90)}")
        for label in labels:
            lines.append(f"    {label.name:<34} {label.score:.2f}  [{taxonomy.group_of(label.name)}]")
        for s in doc.spans:
            if p.start <= s.start < p.end:
                lines.append(f"      » {s.technique:<32} {s.score:.2f}  «{_quote(s.text, 70)}»  ({s.start}-{s.end})")
    return "\n".join(lines)
