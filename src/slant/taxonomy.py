"""The label sets of SemEval-2023 Task 3 and SemEval-2020 Task 11, in one place.

The names, definitions and examples live in ``data/taxonomy.json`` (the
definitions and examples are our own wording); this module loads them once and
gives typed, ordered access.  Orders follow the official scorer files.

>>> len(GENRES), len(FRAMES), len(TECHNIQUES), len(GROUPS), len(PTC_CLASSES)
(3, 14, 23, 6, 14)
>>> group_of("Doubt")
'Attack_on_Reputation'
>>> ptc_to_techniques("Thought-terminating_Cliches")
('Conversation_Killer',)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Iterable

from .errors import LabelError

__all__ = [
    "Entry", "Group", "PTCClass", "VERSION", "GENRES", "FRAMES", "TECHNIQUES", "GROUPS",
    "PTC_CLASSES", "KINDS", "LABELS", "records", "entry", "group_of", "ptc_to_techniques", "technique_to_ptc", "check_labels",
]


@dataclass(frozen=True)
class Entry:
    """A genre, frame or technique: its exact name, a definition and a one-line example."""

    kind: str
    name: str
    definition: str
    example: str


@dataclass(frozen=True)
class Group:
    """One of the 6 coarse technique groups of SemEval-2023 Task 3."""

    name: str
    definition: str
    techniques: tuple[str, ...]


@dataclass(frozen=True)
class PTCClass:
    """One of the 14 PTC-2020 classes and the SemEval-2023 techniques it covers."""

    name: str
    techniques: tuple[str, ...]


def _load() -> dict:
    raw = resources.files("slant").joinpath("data/taxonomy.json").read_text(encoding="utf-8")
    return json.loads(raw)


_RAW = _load()
VERSION: str = _RAW["version"]


def _entries(kind: str) -> tuple[Entry, ...]:
    return tuple(Entry(kind[:-1], e["name"], e["definition"], e["example"]) for e in _RAW[kind])


_GENRE_ENTRIES = _entries("genres")
_FRAME_ENTRIES = _entries("frames")
_TECHNIQUE_ENTRIES = _entries("techniques")

GENRES: tuple[str, ...] = tuple(e.name for e in _GENRE_ENTRIES)
FRAMES: tuple[str, ...] = tuple(e.name for e in _FRAME_ENTRIES)
TECHNIQUES: tuple[str, ...] = tuple(e.name for e in _TECHNIQUE_ENTRIES)
GROUPS: tuple[Group, ...] = tuple(
    Group(g["name"], g["definition"], tuple(g["techniques"])) for g in _RAW["groups"]
)
PTC_CLASSES: tuple[PTCClass, ...] = tuple(
    PTCClass(c["name"], tuple(c["techniques"])) for c in _RAW["ptc_classes"]
)

_BY_KIND = {"genre": _GENRE_ENTRIES, "frame": _FRAME_ENTRIES, "technique": _TECHNIQUE_ENTRIES}
_ENTRY = {(e.kind, e.name): e for entries in _BY_KIND.values() for e in entries}
_GROUP_OF = {t: g.name for g in GROUPS for t in g.techniques}
_PTC = {c.name: c.techniques for c in PTC_CLASSES}
_TO_PTC = {t: c.name for c in PTC_CLASSES for t in c.techniques}

LABELS = {"genre": GENRES, "frame": FRAMES, "technique": TECHNIQUES,
          "ptc": tuple(c.name for c in PTC_CLASSES)}


def entry(kind: str, name: str) -> Entry:
    """The taxonomy entry for a genre, frame or technique; LabelError if unknown."""
    try:
        return _ENTRY[(kind, name)]
    except KeyError:
        raise LabelError(f"unknown {kind} {name!r}") from None


def group_of(technique: str) -> str:
    """The coarse group a technique belongs to."""
    try:
        return _GROUP_OF[technique]
    except KeyError:
        raise LabelError(f"unknown technique {technique!r}") from None


def ptc_to_techniques(ptc_class: str) -> tuple[str, ...]:
    """The SemEval-2023 techniques a PTC-2020 class covers (one or more)."""
    try:
        return _PTC[ptc_class]
    except KeyError:
        raise LabelError(f"unknown PTC-2020 class {ptc_class!r}") from None


def technique_to_ptc(technique: str) -> str | None:
    """The PTC-2020 class a technique falls in, or None where PTC has no such class.

    >>> technique_to_ptc("Straw_Man"), technique_to_ptc("Appeal_to_Time")
    ('Whataboutism,Straw_Men,Red_Herring', None)
    """
    if technique not in _GROUP_OF:
        raise LabelError(f"unknown technique {technique!r}")
    return _TO_PTC.get(technique)


def check_labels(kind: str, names: Iterable[str]) -> None:
    """Raise LabelError naming the first name not in the label set of ``kind``."""
    known = LABELS[kind]
    for name in names:
        if name not in known:
            raise LabelError(f"unknown {'PTC-2020 class' if kind == 'ptc' else kind} {name!r}")


KINDS = ("genres", "frames", "techniques", "groups", "ptc")


def records(kind: str) -> list[dict]:
    """One label set as plain dicts (for JSON, the CLI and the API); ``kind`` is one of KINDS.

    >>> records("techniques")[0]["group"], records("ptc")[2]["techniques"]
    ('Justification', ['Appeal_to_Popularity', 'Guilt_by_Association'])
    """
    if kind in ("genres", "frames", "techniques"):
        out = []
        for e in _BY_KIND[kind[:-1]]:
            record = {"name": e.name, "definition": e.definition, "example": e.example}
            if kind == "techniques":
                record = {"name": e.name, "group": _GROUP_OF[e.name], "ptc_class": _TO_PTC.get(e.name), **record}
            out.append(record)
        return out
    if kind == "groups":
        return [{"name": g.name, "definition": g.definition, "techniques": list(g.techniques)} for g in GROUPS]
    if kind == "ptc":
        return [{"name": c.name, "techniques": list(c.techniques)} for c in PTC_CLASSES]
    raise LabelError(f"unknown label set {kind!r}; one of {', '.join(KINDS)}")


def _check_consistency() -> None:
    grouped = sorted(_GROUP_OF)
    if grouped != sorted(TECHNIQUES) or len(grouped) != sum(len(g.techniques) for g in GROUPS):
        raise RuntimeError("taxonomy.json: every technique must be in exactly one group")
    mapped = {t for c in PTC_CLASSES for t in c.techniques}
    if not mapped <= set(TECHNIQUES):
        raise RuntimeError(f"taxonomy.json: PTC mapping names unknown techniques {mapped - set(TECHNIQUES)}")


_check_consistency()
