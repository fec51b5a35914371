"""The shipped model keeps its quality floors on text written by us; the gate's own logic is tested too."""

import json

import pytest

import quality_gate as gate


def test_shipped_model_meets_its_floor():
    from slant.runtime import load_detector
    floors = json.loads(gate.FLOORS.read_text())
    assert floors["items"] == gate.items() >= 21
    assert len(gate.load_set(gate.SETS["genre_accuracy"])) >= 6
    detector = load_detector()
    assert floors["model_sha256"] == gate.model_digest(detector), \
        "the shipped model changed: re-measure and re-pin the floors (python tests/quality_gate.py --pin)"
    gate.check(gate.score(detector), floors, gate.set_hash())


def test_genre_set_covers_every_genre():
    from slant import taxonomy
    from slant.article_heads import GENRE_MIN_WORDS, word_count
    rows = gate.load_set(gate.SETS["genre_accuracy"])
    assert {r["genre"] for r in rows} == set(taxonomy.GENRES)
    assert all(word_count(r["text"]) >= GENRE_MIN_WORDS for r in rows)  # long enough to be given a genre


FLOORS = {"sha256": "abc", "items": 3, "floors": {"paragraph_micro_f1": 0.5, "genre_accuracy": 0.5},
          "epsilon": 0.02, "model_sha256": "m"}


@pytest.mark.parametrize("micro,genre,digest,error", [
    (0.5, 0.5, "abc", None),
    (0.49, 0.5, "abc", None),                        # inside epsilon
    (0.47, 0.5, "abc", "paragraph_micro_f1 0.4700 is below the floor 0.5000"),
    (0.5, 0.3, "abc", "genre_accuracy 0.3000 is below the floor 0.5000"),
    (0.9, 0.9, "xyz", "changed"),
])
def test_check(micro, genre, digest, error):
    measured = {"paragraph_micro_f1": micro, "genre_accuracy": genre}
    if error:
        with pytest.raises(gate.GateError, match=error):
            gate.check(measured, FLOORS, digest)
    else:
        gate.check(measured, FLOORS, digest)


def test_pin_refuses_to_lower_without_the_flag():
    lower = {"paragraph_micro_f1": 0.4, "genre_accuracy": 0.5}
    with pytest.raises(gate.GateError, match="refusing to lower the paragraph_micro_f1 floor from 0.5000 to 0.4000"):
        gate.pin(lower, FLOORS, "abc", allow_lower=False, model_sha="m")
    assert gate.pin(lower, FLOORS, "abc", allow_lower=True, model_sha="m2")["floors"]["paragraph_micro_f1"] == 0.4
    higher = {"paragraph_micro_f1": 0.6, "genre_accuracy": 0.6}
    assert gate.pin(higher, FLOORS, "def", allow_lower=False, model_sha="m2")["sha256"] == "def"
