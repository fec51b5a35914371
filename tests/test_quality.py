"""The shipped model keeps its quality floor on sentences written by us; the gate's own logic is tested too."""

import json

import pytest

import quality_gate as gate


def test_shipped_model_meets_its_floor():
    from slant.runtime import load_detector
    floors = json.loads(gate.FLOORS.read_text())
    assert floors["items"] == len(gate.load_set()) >= 15
    detector = load_detector()
    assert floors["model_sha256"] == detector.artifact.manifest["files"]["encoder.onnx"]["sha256"], \
        "the shipped model changed: re-measure and re-pin the floor (python tests/quality_gate.py --pin)"
    gate.check(gate.score(detector, gate.load_set()), floors, gate.set_hash())


FLOORS = {"sha256": "abc", "items": 3, "floors": {"paragraph_micro_f1": 0.5}, "epsilon": 0.02, "model_sha256": "m"}


@pytest.mark.parametrize("measured,digest,error", [
    (0.5, "abc", None),
    (0.49, "abc", None),                        # inside epsilon
    (0.47, "abc", "below the floor 0.5000"),
    (0.9, "xyz", "changed"),
])
def test_check(measured, digest, error):
    if error:
        with pytest.raises(gate.GateError, match=error):
            gate.check(measured, FLOORS, digest)
    else:
        gate.check(measured, FLOORS, digest)


def test_pin_refuses_to_lower_without_the_flag():
    with pytest.raises(gate.GateError, match="refusing to lower the floor from 0.5000 to 0.4000"):
        gate.pin(0.4, FLOORS, "abc", allow_lower=False, model_sha="m")
    assert gate.pin(0.4, FLOORS, "abc", allow_lower=True, model_sha="m2")["floors"]["paragraph_micro_f1"] == 0.4
    assert gate.pin(0.6, FLOORS, "def", allow_lower=False, model_sha="m2")["sha256"] == "def"
