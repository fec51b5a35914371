"""The JSON form of a Document, versioned, with its JSON Schema.

``to_dict``/``from_dict`` round-trip a Document exactly.  ``from_dict`` checks
everything the schema says and more (offsets against the text, span text against
the offsets, labels against the taxonomy) and raises InputError/LabelError/
SpanError with the field that is wrong.  Documented in docs/schema.md.
"""

from __future__ import annotations

import json
from typing import Any

from . import taxonomy
from .document import Document, Label
from .errors import InputError

__all__ = ["SCHEMA_ID", "JSON_SCHEMA", "to_dict", "from_dict", "dumps", "loads"]

SCHEMA_ID = "slant.document/1"

_LABEL_SCORE = {"type": "number", "minimum": 0, "maximum": 1}


def _label(names: tuple[str, ...]) -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["label", "score"],
            "properties": {"label": {"enum": list(names)}, "score": _LABEL_SCORE}}


_OPT_STR = {"type": ["string", "null"]}

JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "slant Document",
    "description": "An article with its paragraphs, genre, frames, techniques per paragraph and "
                   "technique spans. Offsets are Unicode code point indices into `text`, end exclusive.",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "id", "text", "paragraphs", "genre", "frames", "techniques", "spans"],
    "properties": {
        "schema": {"const": SCHEMA_ID, "description": "Schema name and version."},
        "id": {"type": "string", "pattern": r"^\S+$", "description": "Article id (the digits of article<ID>.txt)."},
        "title": _OPT_STR | {"description": "First line of the text, stripped, or the title read from HTML."},
        "source": _OPT_STR | {"description": "Where the text came from: file path or outlet."},
        "url": _OPT_STR | {"description": "URL of the article, when known."},
        "language": _OPT_STR | {"description": "ISO 639 language code (two letters where there is one), when "
                                                   "known: as declared, else as told by the analysis."},
        "date": _OPT_STR | {"description": "Publication date (ISO 8601), when known."},
        "text": {"type": "string", "description": "The text exactly as read; every offset indexes it."},
        "paragraphs": {
            "description": "Non-blank lines of text.split('\\n'), numbered by 1-based line number "
                           "(the SemEval-2023 Task 3 template rule); a range excludes its line end ('\\n' or '\\r\\n'). "
                           "Derived from text.",
            "type": "array",
            "items": {"type": "object", "additionalProperties": False, "required": ["number", "start", "end"],
                      "properties": {"number": {"type": "integer", "minimum": 1},
                                     "start": {"type": "integer", "minimum": 0},
                                     "end": {"type": "integer", "minimum": 1}}},
        },
        "genre": {"description": "Genre with its probability; null when not analysed, or when the text has fewer "
                                 "than 100 words (too short to tell).",
                  "oneOf": [{"type": "null"}, _label(taxonomy.GENRES)]},
        "frames": {"description": "Frames with scores; null when not analysed, or when the text has fewer "
                             "than 10 words (too short to tell).",
                   "oneOf": [{"type": "null"}, {"type": "array", "items": _label(taxonomy.FRAMES)}]},
        "techniques": {
            "description": "Techniques per paragraph; null when not analysed. Paragraphs without "
                           "techniques may be left out.",
            "oneOf": [{"type": "null"}, {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["paragraph", "labels"],
                "properties": {"paragraph": {"type": "integer", "minimum": 1},
                               "labels": {"type": "array", "items": _label(taxonomy.TECHNIQUES)}}}}],
        },
        "spans": {
            "description": "Technique spans: text == document text[start:end]. Overlaps allowed.",
            "type": "array",
            "items": {"type": "object", "additionalProperties": False,
                      "required": ["start", "end", "technique", "score", "text"],
                      "properties": {"start": {"type": "integer", "minimum": 0},
                                     "end": {"type": "integer", "minimum": 1},
                                     "technique": {"enum": list(taxonomy.TECHNIQUES)},
                                     "score": _LABEL_SCORE,
                                     "text": {"type": "string"}}},
        },
    },
}

_METADATA = ("title", "source", "url", "language", "date")


def _label_dicts(labels: list[Label]) -> list[dict]:
    return [{"label": lab.name, "score": lab.score} for lab in labels]


def to_dict(doc: Document) -> dict[str, Any]:
    """The JSON-ready form of ``doc`` (checked first)."""
    doc.validate()
    return {
        "schema": SCHEMA_ID,
        "id": doc.id,
        **{k: getattr(doc, k) for k in _METADATA},
        "text": doc.text,
        "paragraphs": _paragraph_dicts(doc),
        "genre": None if doc.genre is None else {"label": doc.genre.name, "score": doc.genre.score},
        "frames": None if doc.frames is None else _label_dicts(doc.frames),
        "techniques": None if doc.techniques is None else [
            {"paragraph": n, "labels": _label_dicts(labels)} for n, labels in sorted(doc.techniques.items())
        ],
        "spans": [{"start": s.start, "end": s.end, "technique": s.technique, "score": s.score, "text": s.text}
                  for s in doc.spans],
    }


def _get(data: dict, key: str, types, where: str, required: bool = True):
    if key not in data:
        if required:
            raise InputError(f"{where}: missing field {key!r}")
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, types):
        raise InputError(f"{where}: field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _read_labels(items, where: str) -> list[Label]:
    if not isinstance(items, list):
        raise InputError(f"{where}: expected a list of {{label, score}} objects")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"label", "score"}:
            raise InputError(f"{where}[{i}]: expected an object with exactly 'label' and 'score'")
        out.append(Label(item["label"], item["score"]))
    return out


def from_dict(data: Any, where: str = "document") -> Document:
    """A Document from its JSON form; errors name ``where`` and the field."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object")
    schema = data.get("schema")
    if schema != SCHEMA_ID:
        raise InputError(f"{where}: schema is {schema!r}, this slant reads {SCHEMA_ID!r}")
    unknown = set(data) - set(JSON_SCHEMA["properties"])
    if unknown:
        raise InputError(f"{where}: unknown fields {sorted(unknown)}")
    doc_id = _get(data, "id", str, where)
    if not doc_id or any(c.isspace() for c in doc_id):
        raise InputError(f"{where}: id must be non-empty without spaces")
    where = f"{where} {doc_id}"
    meta = {k: _get(data, k, (str, type(None)), where, required=False) for k in _METADATA}
    doc = Document(doc_id, _get(data, "text", str, where), **meta)
    given = _get(data, "paragraphs", list, where, required=False)
    if given is not None and given != _paragraph_dicts(doc):
        raise InputError(f"{where}: 'paragraphs' do not match the text (they are derived from it)")
    genre = data.get("genre")
    if genre is not None:
        (label,) = _read_labels([genre], f"{where}: genre")
        doc.set_genre(label.name, label.score)
    if data.get("frames") is not None:
        doc.set_frames(_read_labels(data["frames"], f"{where}: frames"))
    techniques = data.get("techniques")
    if techniques is not None:
        if not isinstance(techniques, list):
            raise InputError(f"{where}: 'techniques' must be a list or null")
        doc.techniques = {}
        for i, item in enumerate(techniques):
            if not isinstance(item, dict) or set(item) != {"paragraph", "labels"} \
                    or not isinstance(item["paragraph"], int) or isinstance(item["paragraph"], bool):
                raise InputError(f"{where}: techniques[{i}] must be {{paragraph: int, labels: [...]}}")
            if item["paragraph"] in doc.techniques:
                raise InputError(f"{where}: techniques[{i}]: paragraph {item['paragraph']} given twice")
            doc.set_paragraph_techniques(item["paragraph"],
                                         _read_labels(item["labels"], f"{where}: techniques[{i}].labels"))
    for i, item in enumerate(_get(data, "spans", list, where, required=False) or []):
        fields = {"start", "end", "technique", "score", "text"}
        if not isinstance(item, dict) or not {"start", "end", "technique"} <= set(item) <= fields:
            raise InputError(f"{where}: spans[{i}] must be an object with start, end, technique[, score, text]")
        doc.spans.append(doc._checked_span(item["start"], item["end"], item["technique"],
                                           item.get("score", 1.0), item.get("text")))
    return doc


def _paragraph_dicts(doc: Document) -> list[dict]:
    return [{"number": p.number, "start": p.start, "end": p.end} for p in doc.paragraphs]


def dumps(doc: Document, indent: int | None = 2) -> str:
    return json.dumps(to_dict(doc), ensure_ascii=False, indent=indent)


def loads(raw: str, where: str = "document") -> Document:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as ex:
        raise InputError(f"{where}: not valid JSON ({ex.msg} at line {ex.lineno} column {ex.colno})") from None
    return from_dict(data, where)
