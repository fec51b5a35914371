"""Quality floor of the shipped model on sentences written by us (not from any data set).

    python tests/quality_gate.py           # print the score and the floor
    python tests/quality_gate.py --pin     # pin the set's hash and the current score as the floor
    python tests/quality_gate.py --pin --allow-lower   # ... even if that lowers the floor

The set is pinned by SHA-256 so that a changed set cannot quietly move the
score; re-pinning refuses to lower a floor without --allow-lower.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SET = HERE / "quality" / "techniques.jsonl"
FLOORS = HERE / "quality" / "floors.json"


class GateError(Exception):
    pass


def set_hash(path: Path = SET) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_set(path: Path = SET) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(detector, items: list[dict]) -> float:
    """Micro-F1 over (item, technique): the body paragraph's predicted techniques against ours."""
    from slant import Document, taxonomy
    from slant.evaluate import multilabel_scores
    gold, pred = {}, {}
    for i, item in enumerate(items):
        doc = detector.analyze(Document(str(i), item["text"]))
        gold[i] = set(item["techniques"])
        pred[i] = {label.name for label in doc.techniques.get(doc.paragraphs[-1].number, [])}
    return multilabel_scores(gold, pred, taxonomy.TECHNIQUES).micro.f1


def check(measured: float, floors: dict, digest: str) -> None:
    if floors["sha256"] != digest:
        raise GateError(f"{SET.name} changed (sha256 {digest[:12]} != pinned {floors['sha256'][:12]}): re-pin deliberately")
    floor = floors["floors"]["paragraph_micro_f1"]
    if measured < floor - floors["epsilon"]:
        raise GateError(f"paragraph micro-F1 {measured:.4f} is below the floor {floor:.4f} (epsilon {floors['epsilon']})")


def pin(measured: float, floors: dict, digest: str, allow_lower: bool, model_sha: str) -> dict:
    old = floors["floors"]["paragraph_micro_f1"]
    if measured < old and not allow_lower:
        raise GateError(f"refusing to lower the floor from {old:.4f} to {measured:.4f} without --allow-lower")
    return floors | {"sha256": digest, "items": len(load_set()), "model_sha256": model_sha,
                     "floors": {"paragraph_micro_f1": round(measured, 4)}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pin", action="store_true")
    parser.add_argument("--allow-lower", action="store_true")
    args = parser.parse_args()
    from slant.runtime import load_detector
    detector = load_detector()
    measured = score(detector, load_set())
    floors = json.loads(FLOORS.read_text())
    print(f"paragraph micro-F1 {measured:.4f}; floor {floors['floors']['paragraph_micro_f1']:.4f}")
    try:
        if args.pin:
            model_sha = detector.artifact.manifest["files"]["encoder.onnx"]["sha256"]
            FLOORS.write_text(json.dumps(pin(measured, floors, set_hash(), args.allow_lower, model_sha), indent=2) + "\n")
            print("pinned")
        else:
            check(measured, floors, set_hash())
    except GateError as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
