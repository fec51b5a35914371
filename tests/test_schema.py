import json

import jsonschema
import pytest

from slant import Document, InputError, LabelError, SpanError
from slant.schema import JSON_SCHEMA, SCHEMA_ID, dumps, from_dict, loads, to_dict
from conftest import REPO, run_slant


@pytest.fixture
def labelled(article_text) -> Document:
    doc = Document("123", article_text, source="tests", url="https://example.org/a", language="en",
                   date="2026-11-25")
    doc.set_genre("opinion", 0.81)
    doc.set_frames([("Political"), ("Economic")])
    doc.set_paragraph_techniques(3, ["Loaded_Language", "Name_Calling-Labeling"])
    start = article_text.index("sinister regime")
    doc.add_span(start, start + 15, "Loaded_Language", 0.6)
    emoji = article_text.index("Stop")
    doc.add_span(emoji, len(article_text), "Slogans", 0.2)
    return doc


def test_round_trip_is_exact(labelled):
    again = loads(dumps(labelled))
    assert to_dict(again) == to_dict(labelled)
    assert again.text == labelled.text and again.text.startswith("\ufeff")
    assert again.spans[1].text == "Stop them now 🛑!"


def test_output_validates_against_the_published_schema(labelled, article_text):
    jsonschema.validate(to_dict(labelled), JSON_SCHEMA)
    jsonschema.validate(to_dict(Document("9", article_text)), JSON_SCHEMA)  # nothing analysed: nulls


def test_schema_command_prints_the_schema():
    r = run_slant("schema")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == JSON_SCHEMA
    jsonschema.Draft202012Validator.check_schema(JSON_SCHEMA)


def test_schema_doc_covers_every_field():
    doc = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    assert SCHEMA_ID in doc
    for name in JSON_SCHEMA["properties"]:
        assert f"`{name}`" in doc, name


def _base(article_text):
    return to_dict(Document("7", article_text))


@pytest.mark.parametrize("change,error,exc", [
    ({"schema": "slant.document/0"}, "this slant reads 'slant.document/1'", InputError),
    ({"id": "a b"}, "id must be non-empty", InputError),
    ({"text": 5}, "field 'text' has the wrong type", InputError),
    ({"colour": "red"}, r"unknown fields \['colour'\]", InputError),
    ({"paragraphs": []}, "'paragraphs' do not match the text", InputError),
    ({"genre": {"label": "news", "score": 1}}, "unknown genre 'news'", LabelError),
    ({"genre": {"label": "opinion"}}, "exactly 'label' and 'score'", InputError),
    ({"frames": [{"label": "Political", "score": 2}]}, r"score 2 is not a number in \[0, 1\]", LabelError),
    ({"techniques": [{"paragraph": 2, "labels": []}]}, "no paragraph 2", LabelError),
    ({"spans": [{"start": 5, "end": 2, "technique": "Doubt"}]}, "start must be before end", SpanError),
    ({"spans": [{"start": 0, "end": 999, "technique": "Doubt"}]}, "outside text", SpanError),
    ({"spans": [{"start": 1, "end": 4, "technique": "Doubt", "text": "war"}]}, "does not match", SpanError),
    ({"spans": [{"start": 1, "end": 4, "technique": "Doubting"}]}, "unknown technique", LabelError),
])
def test_from_dict_errors(article_text, change, error, exc):
    data = _base(article_text) | change
    with pytest.raises(exc, match=error):
        from_dict(data, "doc.json")


def test_loads_names_bad_json():
    with pytest.raises(InputError, match=r"^x.json: not valid JSON \(Expecting value at line 1 column 1\)$"):
        loads("nope", "x.json")
