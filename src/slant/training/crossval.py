"""``slant train --cross-validate``: out-of-fold predictions for every article, then one model on all of them.

The single-fold recipe (``slant train``) trains on four folds and tunes its thresholds on the fifth, so
the shipped detector never sees a fifth of the data and its 23 thresholds rest on ~90 articles.  This
mode trains the same recipe once per fold (each fold's articles predicted by the model that never saw
them, PTC-2020 spans joining only that model's training folds, the lexical head refitted per fold),
tunes the thresholds on the out-of-fold probabilities of every article, measures them there, and
finally trains the recipe once more on every article.

It writes, in ``--out``: ``teacher-fp32.pt`` (the all-article model), ``cv.json`` (recipe, data hash,
thresholds, out-of-fold figures) and ``oof.npz`` (out-of-fold paragraph probabilities); after each fold,
``fold-K.npz`` (its out-of-fold probabilities), from which a rerun of the same command resumes (as it does
after the all-article model, which is saved with its recipe), and
``fold-K-fp32.pt`` (its model: the teacher of fold K when a later cross-validation distils a student from
this one, ``--distil-from OUT/teacher-fp32.pt``; a rerun whose fold has a model of the same recipe and data
but no predictions predicts with that model instead of training it again).  While a model trains,
``fold-K-progress.pt`` (``teacher-progress.pt`` for the all-article one) holds its state after the last
finished epoch, so a rerun stopped mid-training resumes after that epoch, not at the fold's start (a fold of
``--base mpnet`` takes about two hours on two CPU cores); it goes when the model is saved.  Exporting is
a second step on a CPU: ``slant train --from-checkpoint OUT/teacher-fp32.pt`` reads ``cv.json``
beside the checkpoint for its thresholds and figures, and ``oof.npz`` for the per-technique thresholds.
The neural steps run on ``--device cuda`` where there is a GPU (minutes instead of hours).  With
``--save-targets`` it also writes each model's probabilities on every article (``fold-K-targets.npz``,
``targets.npz``; slant.training.targets): a few MB that teach a student elsewhere when the checkpoints
(438 MB each for ``--base mpnet``) stay on the GPU machine.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch

from ..document import Document
from ..errors import ModelError
from ..lexical import LexicalHead
from .corpus import load_english
from .fit import (TrainConfig, _figures, _pooled_micro, add_sentence_units, add_token_targets, combined_probs,
                  crossfit, crossfit_micro,
                  examples_and_folds, fit_neural, log_progress, paragraph_scores, paragraph_texts,
                  predict, prepare_all, seed_and_threads, tune_thresholds)
from .lexical_fit import fit_lexical
from .distil import check_cv_teacher, fold_checkpoint, fold_teacher
from .model import checkpoint_recipe, load_checkpoint, save_checkpoint
from .ptc_spans import on_ptc_text, ptc_spans
from .targets import targets_path, targets_record, write_targets

CV_FILE = "cv.json"
OOF_FILE = "oof.npz"
SCHEMA = "slant.cv/1"
# The recipe a cross-validation ran with; exporting its all-article checkpoint copies it into the config.
RECIPE = ("layers", "base", "epochs", "lr", "head_lr", "window", "stride", "windows_per_batch", "seed", "fold_seed", "folds",
          "joint_article", "article_weight", "sentence_units", "max_articles", "tiny", "distil_from", "distil_weight",
          "distil_states", "state_weight", "ffn", "bf16")
# Options added after cross-validations had saved folds: left out of the recipe at these defaults, so that a
# rerun of such a cross-validation still finds its folds.
ADDED_LATER = {"ffn": None, "base": "minilm", "bf16": False}


def recipe(cfg: TrainConfig) -> dict:
    return {name: [str(p) for p in cfg.distil_from] if name == "distil_from" else getattr(cfg, name)
            for name in RECIPE if name not in ADDED_LATER or getattr(cfg, name) != ADDED_LATER[name]}


def load_cv(checkpoint: Path, data_hash: str) -> dict:
    """The cv.json beside an all-article checkpoint, checked against the data; ModelError (one line) if wrong."""
    path = Path(checkpoint).parent / CV_FILE
    if not path.is_file():
        raise ModelError(f"{checkpoint}: trained on every article, but {path} (its thresholds and out-of-fold "
                         f"figures) is missing")
    cv = json.loads(path.read_text(encoding="utf-8"))
    if cv.get("schema") != SCHEMA:
        raise ModelError(f"{path}: not a slant cross-validation record (schema {cv.get('schema')!r})")
    if cv["data_sha256"] != data_hash:
        raise ModelError(f"{path}: made from other data (sha256 {cv['data_sha256'][:12]}, this data "
                         f"{data_hash[:12]})")
    return cv


def out_of_fold_probs(folder: Path, docs, kind: str = "paragraph") -> list[np.ndarray] | None:
    """The out-of-fold paragraph probabilities a cross-validation saved in ``folder`` (oof.npz, beside its
    all-article checkpoint), one array per document of ``docs`` (in the order they were saved); with ``kind``
    "ptc", those of the lines of the same articles as PTC-2020 prints them (``docs`` in that print), or None
    when the cross-validation had no PTC text.  ModelError when they are missing or belong to other articles."""
    path = Path(folder) / OOF_FILE
    try:
        with np.load(path) as z:
            if kind == "ptc" and "ptc_probs" not in z.files:
                return None
            ids, offsets, probs = [str(i) for i in z["ids"]], z[f"{kind}_offsets"], z[f"{kind}_probs"]
    except (OSError, KeyError, ValueError) as ex:
        raise ModelError(f"{path}: cannot read the out-of-fold predictions of the cross-validation ({ex})") from None
    if ids != [d.id for d in docs] or len(offsets) != len(ids) + 1 or \
            any(offsets[i + 1] - offsets[i] != len(d.paragraphs) for i, d in enumerate(docs)):
        raise ModelError(f"{path}: its articles or paragraphs are not those of --data")
    return [probs[offsets[i]:offsets[i + 1]] for i in range(len(docs))]


def split_saved(z, name: str) -> list[np.ndarray]:
    """One array per article of a fold file's ``name`` (``tok``, ``par`` or ``ptc``), cut by ``name_sizes``."""
    return np.split(z[name], np.cumsum(z[f"{name}_sizes"])[:-1])


def out_of_fold_token_probs(folder: Path, docs) -> list[np.ndarray]:
    """The out-of-fold piece probabilities of a cross-validation in ``folder``, one array per document of
    ``docs`` (the order of oof.npz), read from its fold files (fold-K.npz); ModelError when they are missing
    or belong to other articles."""
    with np.load(Path(folder) / OOF_FILE) as z:
        ids, folds = [str(i) for i in z["ids"]], [int(f) for f in z["folds"]]
    if ids != [d.id for d in docs]:
        raise ModelError(f"{Path(folder) / OOF_FILE}: its articles are not those of --data")
    out: list = [None] * len(docs)
    for k in sorted(set(folds)):
        path = Path(folder) / f"fold-{k}.npz"
        rows = [i for i, f in enumerate(folds) if f == k]
        try:
            with np.load(path) as z:
                tok = split_saved(z, "tok")
        except (OSError, KeyError, ValueError) as ex:
            raise ModelError(f"{path}: cannot read the fold's out-of-fold predictions ({ex})") from None
        if len(tok) != len(rows):
            raise ModelError(f"{path}: its articles are not fold {k} of oof.npz")
        for i, t in zip(rows, tok):
            out[i] = t
    return out


def _ptc_targets(cfg: TrainConfig, examples, log):
    """Per example, the token targets with the PTC-2020 spans added (same arrays when there are none)."""
    union = [e.token_y.copy() for e in examples]
    if not (Path(cfg.data) / "ptc2020").is_dir():
        return union, None
    moved, record = ptc_spans(cfg.data, [e.doc for e in examples])
    for e, u in zip(examples, union):
        add_token_targets(e, moved.get(e.doc.id, []), target=u)
    log(f"PTC-2020 spans: {record.get('moved', 0)} moved onto the SemEval texts; they join the training folds only")
    return union, record


def ptc_examples(cfg: TrainConfig, examples, log) -> list | None:
    """Each example as PTC-2020 prints the article — one sentence per line, the format of the SemEval-2023
    English dev articles — with its SemEval spans moved onto that text and its lines labelled by them
    (``ptc_spans.on_ptc_text``); None when the data has no PTC text for some article."""
    if not (Path(cfg.data) / "ptc2020").is_dir():
        return None
    docs = []
    for e in examples:
        found = on_ptc_text(cfg.data, e.doc)
        if found is None:
            log(f"no PTC-2020 text for article {e.doc.id}: no out-of-fold figures in PTC's format")
            return None
        doc = Document(e.doc.id, found[0])
        for m in found[1]:
            doc.add_span(m.start, m.end, m.technique)
        doc.techniques = doc.techniques_from_spans()
        docs.append(doc)
    return prepare_all(cfg, docs)


def ptc_figures(examples, par_probs, ptc_ex, ptc_probs) -> dict:
    """Out-of-fold micro-F1 on the articles as PTC-2020 prints them, thresholds cross-fitted (tuned on one half
    of the articles, scored on the other's PTC lines): tuned on the paragraphs, as the shipped thresholds are,
    and tuned on the PTC lines themselves."""
    lengths = [p.end - p.start for e in ptc_ex for p in e.doc.paragraphs]
    out = {"units": len(lengths), "median_characters": float(np.median(lengths)) if lengths else 0.0}
    ptc_gold = [e.par_y for e in ptc_ex]
    for name, probs, source in (("paragraphs", par_probs, examples), ("ptc_text", ptc_probs, ptc_ex)):
        out[f"micro_f1_crossfit_thresholds_tuned_on_{name}"] = round(
            crossfit_micro(probs, [e.par_y for e in source], ptc_probs, ptc_gold), 4)
    return out


def _device(cfg: TrainConfig) -> str:
    return cfg.device if cfg.device == "cpu" else f"{cfg.device} ({torch.cuda.get_device_name()})"


def _save_fold(path: Path, key: str, tok_list: list, par_list: list, ptc_list: list | None, made: dict) -> None:
    """One fold's out-of-fold probabilities, so that an interrupted run (hours on a CPU) resumes after it;
    ``made`` says where and how long it trained (a resumed run's cv.json reports it)."""
    tmp = path.with_suffix(".tmp.npz")
    ptc = {} if ptc_list is None else {"ptc": np.concatenate(ptc_list), "ptc_sizes": np.array([len(p) for p in ptc_list])}
    np.savez(tmp, key=np.array(key), made=np.array(json.dumps(made)), tok=np.concatenate(tok_list), par=np.concatenate(par_list),
             tok_sizes=np.array([len(t) for t in tok_list]), par_sizes=np.array([len(p) for p in par_list]), **ptc)
    tmp.replace(path)


def _load_fold(path: Path, key: str, held_ex, held_ptc) -> tuple[list, list, list | None, dict] | None:
    """A fold saved by an earlier run of the same recipe on the same data — its token, paragraph and PTC-format
    probabilities and where it was made — or None (none saved, another recipe, or no PTC-format predictions
    where this run makes them)."""
    if not path.is_file():
        return None
    with np.load(path) as z:
        if str(z["key"]) != key or list(z["tok_sizes"]) != [len(e.tokens) for e in held_ex] \
                or list(z["par_sizes"]) != [len(e.numbers) for e in held_ex]:
            return None
        ptc = None
        if held_ptc is not None:
            if "ptc_sizes" not in z.files or list(z["ptc_sizes"]) != [len(e.numbers) for e in held_ptc]:
                return None
            ptc = split_saved(z, "ptc")
        made = json.loads(str(z["made"])) if "made" in z.files else {}
        return split_saved(z, "tok"), split_saved(z, "par"), ptc, made


@dataclass
class _Prepared:
    """What every part of a cross-validation reads: the articles, their folds and targets."""
    corpus: object
    examples: list
    folds: list
    gold: list               # per example, token targets from the SemEval-2023 spans alone
    union: list              # ... with the PTC-2020 spans added (training folds only)
    ptc_record: dict | None
    ptc_ex: list | None      # the articles as PTC-2020 prints them, or None
    key: str                 # recipe and data: a saved fold belongs to this run only if its key is this


def _prepare(cfg: TrainConfig, log) -> _Prepared:
    corpus = load_english(cfg.data)
    examples, folds = examples_and_folds(cfg, corpus)
    gold = [e.token_y for e in examples]
    union, ptc_record = _ptc_targets(cfg, examples, log)
    ptc_ex = ptc_examples(cfg, examples, log)
    key = json.dumps({"recipe": recipe(cfg), "data_sha256": corpus.data_hash}, sort_keys=True)
    return _Prepared(corpus, examples, folds, gold, union, ptc_record, ptc_ex, key)


def _held_out(prep: _Prepared, k: int) -> tuple[list[int], list, list | None]:
    held = [i for i, f in enumerate(prep.folds) if f == k]
    return (held, [prep.examples[i] for i in held],
            [prep.ptc_ex[i] for i in held] if prep.ptc_ex is not None else None)


def _fit_fold(cfg: TrainConfig, prep: _Prepared, k: int, log) -> tuple[list, list, list | None, dict]:
    """Train on every fold but ``k``, predict fold ``k`` (also as PTC prints it); save both, return what
    ``_load_fold`` returns."""
    out, started = Path(cfg.out), time.time()
    held, held_ex, held_ptc = _held_out(prep, k)
    for e, g, u, f in zip(prep.examples, prep.gold, prep.union, prep.folds):
        e.token_y = u if f != k else g  # held-out articles are scored on SemEval-2023 spans alone
    train_ex = [e for e, f in zip(prep.examples, prep.folds) if f != k]
    saved = fold_checkpoint(out, k)
    reused = saved.is_file() and checkpoint_recipe(saved) == prep.key
    if reused:  # a run stopped between model and predictions
        log(f"fold {k + 1}/{cfg.folds}: model read from {saved} (an interrupted run of the same recipe and data), "
            f"predicting {len(held)}")
        model = load_checkpoint(saved).to(cfg.device)
    else:
        log(f"fold {k + 1}/{cfg.folds}: training on {len(train_ex)} articles, predicting {len(held)}")
        torch.manual_seed(cfg.seed)
        model = fit_neural(cfg, train_ex, log, [fold_teacher(t, k) for t in cfg.distil_from],
                           progress=out / f"fold-{k}-progress.pt", key=prep.key)
        save_checkpoint(model, saved, cfg.tiny, k, prep.key)
    lexical = LexicalHead.from_arrays(fit_lexical(*paragraph_texts(train_ex)))
    outputs = predict(model, held_ex, cfg.windows_per_batch)
    tok_list = [tok for tok, _ in outputs]
    par_list = [combined_probs(e, tok, par, lexical) for e, (tok, par) in zip(held_ex, outputs)]
    ptc_list = None
    if held_ptc is not None:  # the same articles as PTC prints them (the dev format)
        ptc_list = [combined_probs(e, tok, par, lexical)
                    for e, (tok, par) in zip(held_ptc, predict(model, held_ptc, cfg.windows_per_batch))]
    made = {"device": _device(cfg), "torch": torch.__version__, "minutes": round((time.time() - started) / 60, 1),
            **({"model_read_from_an_earlier_run": True} if reused else {})}
    _save_fold(out / f"fold-{k}.npz", prep.key, tok_list, par_list, ptc_list, made)
    for e, g in zip(prep.examples, prep.gold):
        e.token_y = g
    return tok_list, par_list, ptc_list, made


def _final_saved(cfg: TrainConfig, prep: _Prepared) -> bool:
    """Whether ``--out`` holds the all-article model of this recipe and data (a rerun does not train it again)."""
    final = Path(cfg.out) / "teacher-fp32.pt"
    return final.is_file() and checkpoint_recipe(final) == prep.key


def _fit_final(cfg: TrainConfig, prep: _Prepared, log) -> None:
    """The recipe trained on every article (PTC-2020 spans included), saved as teacher-fp32.pt with its recipe."""
    if _final_saved(cfg, prep):
        log(f"final model read from {Path(cfg.out) / 'teacher-fp32.pt'} (an earlier run of the same recipe and data)")
        return
    for e, u in zip(prep.examples, prep.union):
        e.token_y = u
    log(f"final model: training on all {len(prep.examples)} articles")
    torch.manual_seed(cfg.seed)
    model = fit_neural(cfg, prep.examples, log, list(cfg.distil_from),
                       progress=Path(cfg.out) / "teacher-progress.pt", key=prep.key)
    save_checkpoint(model, Path(cfg.out) / "teacher-fp32.pt", cfg.tiny, None, prep.key)
    for e, g in zip(prep.examples, prep.gold):
        e.token_y = g


def _save_targets(cfg: TrainConfig, prep: _Prepared, fold_ids: list[int], log) -> list[str]:
    """``--save-targets``: each fold model's and the all-article model's probabilities on every article
    (slant.training.targets), read from their saved checkpoints; a rerun keeps the files already written."""
    out = Path(cfg.out)
    if cfg.sentence_units:
        add_sentence_units(prep.examples)   # the units a student with --sentence-units trains on
    written = []
    for k in fold_ids + [None]:
        path = targets_path(out, k)
        if not path.is_file() or targets_record(path).get("recipe") != recipe(cfg):
            model = load_checkpoint(fold_checkpoint(out, k) if k is not None else out / "teacher-fp32.pt").to(cfg.device)
            log(f"targets of the {'all-article model' if k is None else f'model of fold {k + 1}'}: "
                f"{len(prep.examples)} articles -> {path}")
            write_targets(model, prep.examples, path, {"recipe": recipe(cfg), "data_sha256": prep.corpus.data_hash,
                                                       "holdout_fold": k, "command": cfg.command}, cfg.windows_per_batch)
        written.append(path.name)
    return written


def _part(cfg: TrainConfig, part: int | None) -> None:
    """One part of a parallel cross-validation, in its own process: fold ``part``, or the final model (None)."""
    seed_and_threads(cfg)
    name = "final" if part is None else f"fold {part + 1}"

    def log(msg: str) -> None:
        log_progress(f"[{name}] {msg}")

    prep = _prepare(cfg, log)
    if part is None:
        _fit_final(cfg, prep, log)
    else:
        _fit_fold(cfg, prep, part, log)


def _run_parts(cfg: TrainConfig, parts: list, log) -> None:
    """Run the given parts (fold numbers; None for the final model) in ``cfg.jobs`` processes at once; each
    saves its own files. On one GPU the processes share it: a model this small leaves it mostly idle, so
    parts run side by side in little more time than one."""
    log(f"{len(parts)} trainings in {min(cfg.jobs, len(parts))} processes at once")
    with ProcessPoolExecutor(max_workers=min(cfg.jobs, len(parts)), mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_part, cfg, part): part for part in parts}
        for done in as_completed(futures):
            if done.exception() is not None:  # a part's error stops the run with that error; parts not yet
                pool.shutdown(wait=False, cancel_futures=True)  # started never start
                raise done.exception()
            part = futures[done]
            log("final model saved" if part is None else f"fold {part + 1}/{cfg.folds}: saved")


def cross_validate(cfg: TrainConfig, log=log_progress) -> dict:
    seed_and_threads(cfg)
    started = time.time()
    prep = _prepare(cfg, log)
    corpus, examples, folds, gold, ptc_ex = prep.corpus, prep.examples, prep.folds, prep.gold, prep.ptc_ex
    teachers = [check_cv_teacher(t, cfg, corpus.data_hash, sorted(set(folds))) for t in cfg.distil_from]
    log(f"data: {len(examples)} articles in {cfg.folds} folds, sha256 {corpus.data_hash[:12]}, device {cfg.device}")

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    fold_ids = sorted(set(folds))
    saved = {k: _load_fold(out / f"fold-{k}.npz", prep.key, *_held_out(prep, k)[1:]) for k in fold_ids}
    if cfg.jobs > 1:
        parts = [k for k in fold_ids if saved[k] is None] + ([] if _final_saved(cfg, prep) else [None])
        if parts:
            _run_parts(cfg, parts, log)
    oof_par: list = [None] * len(examples)
    oof_tok: list = [None] * len(examples)
    oof_ptc: list = [None] * len(examples)
    per_fold, made_where = {}, {}
    for k in fold_ids:
        held, held_ex, held_ptc = _held_out(prep, k)
        if saved[k] is not None:
            log(f"fold {k + 1}/{cfg.folds}: out-of-fold predictions read from {out / f'fold-{k}.npz'} "
                f"(an interrupted run of the same recipe and data)")
            tok_list, par_list, ptc_list, made = saved[k]
            made = {"read_from_an_earlier_run": True, **made}
        elif cfg.jobs > 1:
            tok_list, par_list, ptc_list, made = _load_fold(out / f"fold-{k}.npz", prep.key, held_ex, held_ptc)
        else:
            tok_list, par_list, ptc_list, made = _fit_fold(cfg, prep, k, log)
        made_where[k] = made
        for j, (i, tok, par) in enumerate(zip(held, tok_list, par_list)):
            oof_tok[i], oof_par[i] = tok, par
            if ptc_list is not None:
                oof_ptc[i] = ptc_list[j]
        if len(held) >= 2:  # thresholds tuned on one half of the fold, scored on the other
            per_fold[k] = round(_pooled_micro(crossfit(held_ex, par_list, lambda e: e.par_y,
                                                       paragraph_scores))["f1"], 4)
            log(f"fold {k + 1}/{cfg.folds}: micro-F1 (thresholds cross-fitted inside the fold) {per_fold[k]:.4f}")

    par_thr = tune_thresholds(np.concatenate(oof_par), np.concatenate([e.par_y for e in examples]))
    tok_thr = tune_thresholds(np.concatenate(oof_tok), np.concatenate(gold))
    figures = _figures(examples, oof_par, oof_tok, par_thr, tok_thr)
    figures["per_fold_micro_f1_crossfit"] = per_fold
    log(f"out of fold, all {len(examples)} articles: micro-F1 (cross-fitted) {figures['subtask3_micro_f1_crossfit']:.4f}")
    ptc_arrays = {}
    if ptc_ex is not None:
        figures["ptc_text"] = ptc_figures(examples, oof_par, ptc_ex, oof_ptc)
        ptc_arrays = {"ptc_offsets": np.cumsum([0] + [len(p) for p in oof_ptc]),
                      "ptc_probs": np.concatenate(oof_ptc).astype(np.float32)}
        log(f"out of fold, the same articles as PTC-2020 prints them (one sentence per line, the dev format): "
            f"micro-F1 {figures['ptc_text']['micro_f1_crossfit_thresholds_tuned_on_paragraphs']:.4f}")

    if cfg.jobs == 1 or _final_saved(cfg, prep):
        _fit_final(cfg, prep, log)   # trains it, or says it was read
    saved_targets = _save_targets(cfg, prep, fold_ids, log) if cfg.save_targets else None
    offsets = np.cumsum([0] + [len(p) for p in oof_par])
    np.savez_compressed(out / OOF_FILE, ids=np.array([e.doc.id for e in examples]), folds=np.array(folds),
                        paragraph_offsets=offsets, paragraph_probs=np.concatenate(oof_par).astype(np.float32),
                        **ptc_arrays)
    record = {
        "schema": SCHEMA,
        "command": cfg.command,
        "data_sha256": corpus.data_hash,
        "data": corpus.sources,
        "recipe": recipe(cfg),
        "device": _device(cfg),
        "fold_models": made_where,   # where each fold trained: a resumed run read some from an earlier one
        "torch": torch.__version__,
        "thresholds": {"paragraph": [round(float(x), 4) for x in par_thr],
                       "span": [round(float(x), 4) for x in tok_thr]},
        "figures": {"out_of_fold_articles": len(examples), "fp32_torch": figures},
        "ptc2020_spans": prep.ptc_record,
        "teachers": teachers,
        "saved_targets": saved_targets,
        "minutes": round((time.time() - started) / 60, 1),
    }
    (out / CV_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {out}: teacher-fp32.pt (all articles), {CV_FILE}, oof.npz in {record['minutes']} min; "
        f"export with: slant train --data {cfg.data} --out OUT --from-checkpoint {out / 'teacher-fp32.pt'}")
    return record
