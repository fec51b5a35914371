"""Soft targets from teacher models, for ``slant train --distil-from``.

A teacher is a fine-tuned checkpoint (``teacher-fp32.pt`` of an earlier run) of any depth; several are
averaged (an ensemble teacher).  Each teacher's token and paragraph probabilities on the training
articles become soft targets that the student learns beside the gold labels.

A teacher that saw the held-out fold would leak it into the student's figures, so every teacher must
come from a run on the same data with the same folds and the same held-out fold — checked against the
manifest written beside its checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..models import sha256_file

__all__ = ["check_teacher", "attach_soft_targets"]


def check_teacher(path: Path, cfg, data_hash: str) -> dict:
    """The teacher's record for the manifest; ModelError when it cannot be shown to share the student's folds."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such teacher checkpoint (give a run's teacher-fp32.pt)")
    manifest = path.parent / "manifest.json"
    if not manifest.is_file():
        raise ModelError(f"{path}: no manifest.json beside it, so its folds cannot be checked")
    training = json.loads(manifest.read_text(encoding="utf-8")).get("training", {})
    theirs = {"data_sha256": training.get("data_sha256"), "folds": training.get("folds"),
              "fold_seed": training.get("fold_seed", training.get("seed")),
              "holdout_fold": training.get("holdout_fold"), "max_articles": training.get("max_articles")}
    ours = {"data_sha256": data_hash, "folds": cfg.folds, "fold_seed": cfg.fold_seed,
            "holdout_fold": cfg.holdout_fold, "max_articles": cfg.max_articles}
    for key, value in ours.items():
        if theirs[key] != value:
            raise ModelError(f"{path}: teacher trained with {key} {theirs[key]!r}, this run uses {value!r} "
                             "(a teacher must not have seen the held-out fold)")
    return {"checkpoint": str(path), "sha256": sha256_file(path), "commands": training.get("commands", [])}


def attach_soft_targets(teachers: list[Path], examples, windows_per_batch: int, log) -> None:
    """Set ``soft_token`` and ``soft_par`` on every example: the mean over the teachers of their
    probabilities (teachers in eval mode, so the targets are fixed and computed once)."""
    from .fit import predict
    from .model import load_checkpoint

    sums = None
    for path in teachers:
        model = load_checkpoint(path)
        log(f"teacher {path}: {model.encoder.config.num_hidden_layers} layers, predicting {len(examples)} articles")
        out = predict(model, examples, windows_per_batch)
        sums = out if sums is None else [(a + t, b + p) for (a, b), (t, p) in zip(sums, out)]
    for e, (tok, par) in zip(examples, sums):
        e.soft_token = (tok / len(teachers)).astype(np.float32)
        e.soft_par = (par / len(teachers)).astype(np.float32)
