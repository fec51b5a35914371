"""Soft targets from teacher models, for ``slant train --distil-from``.

A teacher is a fine-tuned checkpoint (``teacher-fp32.pt`` of an earlier run) of any depth; several are
averaged (an ensemble teacher).  Each teacher's token and paragraph probabilities on the training
articles become soft targets that the student learns beside the gold labels.

With ``--distil-states`` (one teacher) the student is built from the teacher itself — its embeddings,
its heads and evenly spread layers (``init_layers``) — and also learns the teacher's hidden states: each
student layer's output is pulled (mean squared error over the real pieces) towards the output of the
teacher layer at the same relative depth (``layer_map``), the last towards the last, which the heads read.

A teacher that saw the held-out fold would leak it into the student's figures, so every teacher must
come from a run on the same data with the same folds and the same held-out fold — checked against the
manifest written beside its checkpoint.  A cross-validated student (``--cross-validate --distil-from
CV/teacher-fp32.pt``) learns, in fold k, from the teacher cross-validation's model of fold k (which never
saw it), and in the final all-article training from its all-article model.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ModelError
from ..models import sha256_file
from .targets import TARGETS_FILE, is_targets, read_targets, targets_path, targets_record

__all__ = ["check_teacher", "check_cv_teacher", "fold_checkpoint", "fold_teacher", "attach_teachers", "detach_teachers",
           "attach_soft_targets", "ffn_neurons", "init_layers", "layer_map", "student_from_teacher",
           "attach_teacher_states", "state_loss", "INNER_STATE_WEIGHT"]

# Weight of the inner layers' state losses (the last layer's is TrainConfig.state_weight).
INNER_STATE_WEIGHT = 0.5


def check_teacher(path: Path, cfg, data_hash: str) -> dict:
    """The teacher's record for the manifest; ModelError when it cannot be shown to share the student's folds."""
    path = Path(path)
    if is_targets(path):
        raise ModelError(f"{path}: saved targets teach a cross-validated student only (give --cross-validate)")
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
    return _teacher_record(path, cfg, training.get("commands", []))


def _teacher_record(path: Path, cfg, commands: list[str], **more) -> dict:
    """A checked teacher's record for the manifest; ModelError when ``--distil-states`` asks it for more layers
    than it has, or for the layers of an MPNet teacher (the student would be MPNet too: it teaches through its
    probabilities)."""
    saved = torch.load(path, map_location="cpu")
    layers, base = int(saved["layers"]), saved.get("base", "minilm")
    states = cfg.distil_states and bool(cfg.distil_from) and Path(path) == Path(cfg.distil_from[0])
    if states and base != "minilm":
        raise ModelError(f"{path}: a {base} teacher cannot hand its layers to a MiniLM student; leave out "
                         f"--distil-states (the student then learns its probabilities)")
    if states and not 1 <= cfg.layers <= layers:
        raise ModelError(f"{path}: a teacher of {layers} layers cannot hand its layers to a student of "
                         f"{cfg.layers} (--layers)")
    return {"checkpoint": str(path), "sha256": sha256_file(path), "layers": layers, "base": base,
            "commands": commands, **more}


def fold_checkpoint(folder: Path, k: int) -> Path:
    """Where a cross-validation keeps the model of its fold ``k`` (trained without that fold)."""
    return Path(folder) / f"fold-{k}-fp32.pt"


def fold_teacher(path: Path, k: int) -> Path:
    """The teacher of fold ``k``'s student, given a cross-validation's all-article teacher: the model of fold
    ``k`` beside it, or its saved targets (slant.training.targets) when ``path`` names saved targets."""
    path = Path(path)
    return targets_path(path.parent, k) if is_targets(path) else fold_checkpoint(path.parent, k)


def _check_same_folds(path: Path, recipe: dict, cfg) -> None:
    """ModelError unless a teacher's cross-validation ``recipe`` cut the articles into this run's folds."""
    for key in ("folds", "fold_seed", "max_articles"):
        if recipe.get(key) != getattr(cfg, key):
            raise ModelError(f"{path}: teacher cross-validated with {key} {recipe.get(key)!r}, this run uses "
                             f"{getattr(cfg, key)!r} (each fold's teacher must not have seen that fold)")


def _check_cv_targets(path: Path, cfg, data_hash: str, folds: list[int]) -> dict:
    """``check_cv_teacher`` for saved targets: the all-article model's, with each fold's beside them."""
    record = targets_record(path)
    if record.get("holdout_fold") is not None:
        raise ModelError(f"{path}: the targets of a model trained with fold {record['holdout_fold']} held out; give "
                         f"the all-article model's ({TARGETS_FILE}), with each fold's beside it")
    if record.get("data_sha256") != data_hash:
        raise ModelError(f"{path}: the teacher was trained on other data (sha256 {str(record.get('data_sha256'))[:12]}, "
                         f"this run's {data_hash[:12]})")
    recipe = record.get("recipe", {})
    _check_same_folds(path, recipe, cfg)
    for k in folds:
        fold = targets_path(path.parent, k)
        if not fold.is_file() or targets_record(fold).get("holdout_fold") != k:
            raise ModelError(f"{path}: {fold.name} (the targets of the model that never saw fold {k}) is missing "
                             f"beside it")
    return {"targets": str(path), "sha256": sha256_file(path), "layers": recipe.get("layers"),
            "base": recipe.get("base", "minilm"), "commands": [record.get("command", "")],
            "per_fold": "fold-K-targets.npz beside it"}


def check_cv_teacher(path: Path, cfg, data_hash: str, folds: list[int]) -> dict:
    """A teacher for a cross-validation: the all-article checkpoint of an earlier cross-validation, whose folder
    also holds each fold's model — the teacher of that fold's student.  Its record for the manifest; ModelError
    (one line) unless its data and folds are this run's and the model of each fold in ``folds`` is there."""
    from .crossval import load_cv
    from .model import checkpoint_holdout

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such teacher (give a cross-validation's teacher-fp32.pt, or its targets.npz)")
    if is_targets(path):
        if cfg.distil_states and path == Path(cfg.distil_from[0]):
            raise ModelError(f"{path}: saved targets hold no states; --distil-states learns the states of the first "
                             f"--distil-from, which must be a checkpoint")
        return _check_cv_targets(path, cfg, data_hash, folds)
    held_out = checkpoint_holdout(path)
    if held_out is not None:
        raise ModelError(f"{path}: not a cross-validation's all-article checkpoint (it was trained with fold "
                         f"{held_out} held out); --cross-validate needs one per fold")
    cv = load_cv(path, data_hash)
    recipe = cv["recipe"]
    _check_same_folds(path, recipe, cfg)
    for k in folds:
        fold = fold_checkpoint(path.parent, k)
        if not fold.is_file() or checkpoint_holdout(fold) != k:
            raise ModelError(f"{path}: {fold.name} (the model that never saw fold {k}) is missing beside it; "
                             f"a cross-validation keeps one per fold since 2026-11-26")
    return _teacher_record(path, cfg, [cv["command"]], per_fold="fold-K-fp32.pt beside it")


def attach_teachers(cfg, paths: list[Path], examples, log) -> None:
    """The teachers' targets on ``examples``: the mean probabilities of all; with ``cfg.distil_states`` the
    states of the first, and the probabilities of the others where there are others (name the first twice to
    average its probabilities in too)."""
    if cfg.distil_states:
        attach_teacher_states(paths[0], examples, cfg.layers, cfg.windows_per_batch, log)
        if len(paths) > 1:   # replaces the first teacher's probabilities
            attach_soft_targets(paths[1:], examples, cfg.windows_per_batch, log)
    else:
        attach_soft_targets(paths, examples, cfg.windows_per_batch, log)


def detach_teachers(examples) -> None:
    """Drop the teachers' targets (a cross-validation's next fold has other teachers)."""
    for e in examples:
        e.soft_token = e.soft_par = e.teacher_states = None


def attach_soft_targets(teachers: list[Path], examples, windows_per_batch: int, log) -> None:
    """Set ``soft_token`` and ``soft_par`` on every example: the mean over the teachers of their
    probabilities (teachers in eval mode, so the targets are fixed and computed once); ``soft_par`` covers
    the units the student's paragraph head trains on (with --sentence-units, the sentences too)."""
    from .fit import predict
    from .model import load_checkpoint

    sums = None
    for path in teachers:
        if is_targets(path):
            log(f"teacher {path}: its saved probabilities on {len(examples)} articles")
            out = read_targets(path, examples)
        else:
            model = load_checkpoint(path)
            log(f"teacher {path}: {model.encoder.config.num_hidden_layers} layers, predicting {len(examples)} articles")
            out = predict(model, examples, windows_per_batch, train_units=True)
        sums = out if sums is None else [(a + t, b + p) for (a, b), (t, p) in zip(sums, out)]
    for e, (tok, par) in zip(examples, sums):
        e.soft_token = (tok / len(teachers)).astype(np.float32)
        e.soft_par = (par / len(teachers)).astype(np.float32)


def init_layers(teacher_layers: int, student_layers: int) -> list[int]:
    """The teacher layers (0-based) a student starts from: evenly spread, first and last included.

    >>> init_layers(4, 2), init_layers(4, 3), init_layers(6, 4), init_layers(4, 4)
    ([0, 3], [0, 2, 3], [0, 2, 3, 5], [0, 1, 2, 3])
    """
    return [int(x) for x in np.round(np.linspace(0, teacher_layers - 1, student_layers))]


def layer_map(teacher_layers: int, student_layers: int) -> list[int]:
    """For each student layer, the teacher layer (1-based, as in ``hidden_states``) whose output it learns:
    the same relative depth, the last to the last.

    >>> layer_map(4, 2), layer_map(4, 3), layer_map(6, 4)
    ([2, 4], [2, 3, 4], [2, 3, 5, 6])
    """
    return [math.ceil(i * teacher_layers / student_layers) for i in range(1, student_layers + 1)]


def ffn_neurons(w_in: torch.Tensor, w_out: torch.Tensor, keep: int) -> torch.Tensor:
    """The ``keep`` feed-forward neurons of a layer that a narrower student keeps, in their order: those with
    the largest ||input weights|| x ||output weights|| (``w_in`` [I, H] makes neuron i from the states, column
    i of ``w_out`` [H, I] writes it back).

    >>> ffn_neurons(torch.tensor([[1.], [3.], [2.]]), torch.tensor([[1., 1., 0.]]), 2).tolist()
    [0, 1]
    """
    score = w_in.norm(dim=1) * w_out.norm(dim=0)
    return torch.sort(torch.topk(score, keep).indices).values


def student_from_teacher(teacher, layers: int, ffn: int | None = None):
    """A ``layers``-deep TechniqueModel holding the teacher's embeddings, heads and ``init_layers``; with
    ``ffn``, each of those layers keeps only its ``ffn`` strongest feed-forward neurons (``ffn_neurons``)."""
    from transformers import BertModel

    from .model import TechniqueModel

    t = teacher.encoder.config.num_hidden_layers
    config = copy.deepcopy(teacher.encoder.config)
    config.num_hidden_layers = layers
    if ffn is not None:
        if not 0 < ffn <= config.intermediate_size:
            raise ModelError(f"--ffn {ffn}: the teacher's feed-forward layers have {config.intermediate_size} neurons")
        config.intermediate_size = ffn
    student = TechniqueModel(BertModel(config, add_pooling_layer=False), teacher.token_head.out_features)
    pick = {old: new for new, old in enumerate(init_layers(t, layers))}
    state = {}
    teacher_state = teacher.state_dict()
    kept = {old: ffn_neurons(teacher_state[f"encoder.encoder.layer.{old}.intermediate.dense.weight"],
                             teacher_state[f"encoder.encoder.layer.{old}.output.dense.weight"], config.intermediate_size)
            for old in pick}
    for name, value in teacher_state.items():
        if name.startswith("article_head."):
            continue
        if name.startswith("encoder.encoder.layer."):
            parts = name.split(".")
            old = int(parts[3])
            if old not in pick:
                continue
            if ".intermediate.dense." in name:   # weight [I, H] and bias [I]: the kept neurons' rows
                value = value[kept[old]]
            elif name.endswith(".output.dense.weight") and ".attention." not in name:   # [H, I]: their columns
                value = value[:, kept[old]]
            parts[3] = str(pick[old])
            name = ".".join(parts)
        state[name] = value
    student.load_state_dict(state)
    return student


def attach_teacher_states(teacher_path: Path, examples, student_layers: int, windows_per_batch: int, log) -> None:
    """One teacher pass over ``examples`` (eval mode): set ``soft_token`` and ``soft_par`` as
    ``attach_soft_targets`` does, and ``teacher_states`` — per student layer, the windows' states [W, L, H]
    (half precision) of the teacher layer it learns."""
    from ..heads import sigmoid
    from .fit import batches, collate
    from .model import load_checkpoint

    teacher = load_checkpoint(teacher_path).eval()
    targets = layer_map(teacher.encoder.config.num_hidden_layers, student_layers)
    log(f"teacher {teacher_path}: {teacher.encoder.config.num_hidden_layers} layers; student layers learn its "
        f"layers {targets}; predicting {len(examples)} articles")
    with torch.no_grad():
        for batch in batches(examples, windows_per_batch, None):
            ids, mask, docs = collate(batch, training=True)   # soft_par over the units the student trains on
            hidden = teacher.encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
            first = 0
            for e, (tok, par, _) in zip(batch, teacher.from_hidden(hidden[-1], docs)):
                n, width = len(e.bounds), e.ids.shape[1]
                e.teacher_states = [hidden[j][first:first + n, :width].half().clone() for j in targets]
                e.soft_token = sigmoid(tok.numpy()).astype(np.float32)
                e.soft_par = sigmoid(par.numpy()).astype(np.float32)
                first += n


def state_loss(student_states, batch, mask, last_weight: float):
    """Mean squared error between the student's layer outputs ``student_states`` (one [W, L, H] per layer)
    and the teacher states attached to ``batch``, over the real pieces (``mask``); the last layer weighs
    ``last_weight``, the others ``INNER_STATE_WEIGHT``."""
    width, count = mask.shape[1], mask.sum() * student_states[0].shape[-1]
    m = mask.unsqueeze(-1).to(student_states[0].dtype)
    total = 0.0
    for j, states in enumerate(student_states):
        target = torch.cat([F.pad(e.teacher_states[j].float(), (0, 0, 0, width - e.teacher_states[j].shape[1]))
                            for e in batch]).to(states.device)
        weight = last_weight if j == len(student_states) - 1 else INNER_STATE_WEIGHT
        total = total + weight * (((states - target) ** 2) * m).sum() / count
    return total

