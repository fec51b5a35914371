"""Quality floors of the shipped model on text written by us (not from any data set): sentences
with the techniques they show (paragraph micro-F1) and short articles of each genre (accuracy).

    python tests/quality_gate.py           # print the score and the floor
    python tests/quality_gate.py --pin     # pin the set's hash and the current score as the floor
    python tests/quality_gate.py --pin --allow-lower   # ... even if that lowers the floor

The sets are pinned by SHA-256 so that a changed set cannot quietly move a
score; re-pinning refuses to lower a floor without --allow-lower.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETS = {"paragraph_micro_f1": HERE / "quality" / "techniques.jsonl",
        "genre_accuracy": HERE / "quality" / "genres.jsonl"}
FLOORS = HERE / "quality" / "floors.json"


class GateError(Exception):
    pass


def set_hash(paths=tuple(SETS.values())) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def load_set(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def model_digest(detector) -> str:
    """The model's digest (slant.models.model_digest): any replaced file or changed threshold changes it."""
    from slant.models import model_digest as digest
    return digest(detector.artifact.manifest)


def items() -> int:
    return sum(len(load_set(p)) for p in SETS.values())


def paragraph_micro_f1(detector, rows: list[dict]) -> float:
    """Micro-F1 over (item, technique): the body paragraph's predicted techniques against ours."""
    from slant import Document, taxonomy
    from slant.evaluate import multilabel_scores
    gold, pred = {}, {}
    for i, item in enumerate(rows):
        doc = detector.analyze(Document(str(i), item["text"]))
        gold[i] = set(item["techniques"])
        pred[i] = {label.name for label in doc.techniques.get(doc.paragraphs[-1].number, [])}
    return multilabel_scores(gold, pred, taxonomy.TECHNIQUES).micro.f1


def genre_accuracy(detector, rows: list[dict]) -> float:
    from slant import Document
    genres = [detector.analyze(Document(str(i), r["text"])).genre for i, r in enumerate(rows)]
    return sum(g is not None and g.name == r["genre"] for g, r in zip(genres, rows)) / len(rows)


def score(detector) -> dict[str, float]:
    return {"paragraph_micro_f1": paragraph_micro_f1(detector, load_set(SETS["paragraph_micro_f1"])),
            "genre_accuracy": genre_accuracy(detector, load_set(SETS["genre_accuracy"]))}


def check(measured: dict[str, float], floors: dict, digest: str) -> None:
    if floors["sha256"] != digest:
        raise GateError(f"the quality sets changed (sha256 {digest[:12]} != pinned {floors['sha256'][:12]}): "
                        "re-pin deliberately")
    for name, floor in floors["floors"].items():
        if measured[name] < floor - floors["epsilon"]:
            raise GateError(f"{name} {measured[name]:.4f} is below the floor {floor:.4f} (epsilon {floors['epsilon']})")


def pin(measured: dict[str, float], floors: dict, digest: str, allow_lower: bool, model_sha: str) -> dict:
    for name, old in floors["floors"].items():
        if round(measured[name], 4) < old and not allow_lower:
            raise GateError(f"refusing to lower the {name} floor from {old:.4f} to {measured[name]:.4f} "
                            "without --allow-lower")
    return floors | {"sets": [str(p.relative_to(HERE.parent)) for p in SETS.values()], "sha256": digest,
                     "items": items(), "model_sha256": model_sha,
                     "floors": {name: round(value, 4) for name, value in measured.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pin", action="store_true")
    parser.add_argument("--allow-lower", action="store_true")
    args = parser.parse_args()
    from slant.runtime import load_detector
    detector = load_detector()
    measured = score(detector)
    floors = json.loads(FLOORS.read_text())
    for name, value in measured.items():
        print(f"{name} {value:.4f}; floor {floors['floors'].get(name, 0.0):.4f}")
    try:
        if args.pin:
            model_sha = model_digest(detector)
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
