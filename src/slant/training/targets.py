"""A teacher's probabilities, saved so that they travel where its checkpoints cannot.

A large teacher is trained where there is a GPU (``slant train --base mpnet --cross-validate --device cuda``);
its checkpoints (438 MB each for MPNet) stay there, but a student trains for hours on a CPU elsewhere.  With
``--save-targets`` a cross-validation also writes, beside each model, what a student learns from it: the
model's token and paragraph probabilities on every article (over the units the paragraph head trains on —
with ``--sentence-units`` the sentences too), as bytes (probability x 255; a few MB per model):
``fold-K-targets.npz`` for the model of fold K (which never saw fold K) and ``targets.npz`` for the
all-article model.  ``--distil-from OUT/targets.npz`` then teaches a student as ``OUT/teacher-fp32.pt``
would (slant.training.distil), checked against the same data, folds and units.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import ModelError

__all__ = ["TARGETS_FILE", "SCHEMA", "targets_path", "is_targets", "write_targets", "read_targets", "targets_record"]

TARGETS_FILE = "targets.npz"
SCHEMA = "slant.targets/1"


def targets_path(folder: Path, k: int | None) -> Path:
    """Where a cross-validation keeps the targets of its fold-``k`` model (None: its all-article model)."""
    return Path(folder) / (TARGETS_FILE if k is None else f"fold-{k}-targets.npz")


def is_targets(path: Path) -> bool:
    """Whether a --distil-from path names saved targets rather than a checkpoint."""
    return Path(path).suffix == ".npz"


def _units(e) -> str:
    return "paragraphs+sentences" if e.train_units is not None else "paragraphs"


def write_targets(model, examples, path: Path, record: dict, windows_per_batch: int) -> None:
    """``model``'s probabilities on ``examples`` (over the units each trains on), with ``record`` (the
    cross-validation's recipe, data hash and the fold the model never saw) beside them."""
    from .fit import predict

    out = predict(model, examples, windows_per_batch, train_units=True)
    tok = [np.round(t * 255).astype(np.uint8) for t, _ in out]
    par = [np.round(p * 255).astype(np.uint8) for _, p in out]
    tmp = Path(path).with_suffix(".tmp.npz")
    np.savez_compressed(tmp, record=np.array(json.dumps({"schema": SCHEMA, **record})),
                        ids=np.array([e.doc.id for e in examples]), units=np.array([_units(e) for e in examples]),
                        tok=np.concatenate(tok), tok_sizes=np.array([len(t) for t in tok]),
                        par=np.concatenate(par), par_sizes=np.array([len(p) for p in par]))
    tmp.replace(path)


def targets_record(path: Path) -> dict:
    """The record saved with the targets; ModelError when the file is missing or not a targets file."""
    try:
        with np.load(path) as z:
            record = json.loads(str(z["record"]))
    except (OSError, KeyError, ValueError) as ex:
        raise ModelError(f"{path}: not a teacher's saved targets ({ex})") from None
    if record.get("schema") != SCHEMA:
        raise ModelError(f"{path}: not a teacher's saved targets (schema {record.get('schema')!r})")
    return record


def read_targets(path: Path, examples) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per example, the saved (token, paragraph-unit) probabilities; ModelError (one line) when an article is
    missing or was cut into other pieces or units than the student's."""
    targets_record(path)
    with np.load(path) as z:
        where = {str(i): j for j, i in enumerate(z["ids"])}
        tok_off = np.concatenate([[0], np.cumsum(z["tok_sizes"])])
        par_off = np.concatenate([[0], np.cumsum(z["par_sizes"])])
        tok, par, units = z["tok"], z["par"], z["units"]
        out = []
        for e in examples:
            j = where.get(e.doc.id)
            if j is None:
                raise ModelError(f"{path}: no targets for article {e.doc.id}")
            if str(units[j]) != _units(e):
                raise ModelError(f"{path}: the teacher's targets cover {units[j]}, the student trains on {_units(e)} "
                                 f"(give both runs --sentence-units, or neither)")
            t = tok[tok_off[j]:tok_off[j + 1]].astype(np.float32) / 255
            p = par[par_off[j]:par_off[j + 1]].astype(np.float32) / 255
            n_units = len(e.train_units[0]) if e.train_units is not None else len(e.ranges)
            if len(t) != len(e.tokens) or len(p) != n_units:
                raise ModelError(f"{path}: article {e.doc.id} was cut into {len(t)} pieces and {len(p)} units for the "
                                 f"teacher, {len(e.tokens)} and {n_units} for the student (another tokenizer?)")
            out.append((t, p))
    return out
