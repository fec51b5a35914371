"""``slant train``: fine-tune the technique detector, tune thresholds, measure, export.

Recipe (see src/slant/artifacts/slant-en/RESULTS.md for the measured figures): articles are cut into
overlapping windows of word pieces; one encoder pass per window; the paragraph
head is trained on the official paragraph labels and the token head on the
character spans, both with per-label positive weights for the rare techniques; a lexical head
(TF-IDF + logistic regression) is fitted on the same training articles.  A
paragraph's probability is the mean of the paragraph head, the token head's
strongest piece in the paragraph and the lexical head.
Thresholds are tuned per label, jointly for micro-F1, on a held-out fold of articles (near-duplicates
kept together); the reported figures use thresholds cross-fitted inside that
fold (tuned on one half, scored on the other), so they are not tuned on
what they score.  ``slant train --cross-validate`` (slant.training.crossval) instead
trains the recipe once per fold and once on every article; ``--from-checkpoint`` on
its all-article checkpoint exports it with thresholds tuned on the out-of-fold predictions.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import taxonomy
from ..document import Document
from ..errors import SlantError
from ..evaluate import multilabel_scores, prf, span_overlap_scores
from ..heads import evidence_spans, paragraph_ranges, range_max, sigmoid
from ..segment import one_sentence_per_line, paragraphs
from ..windows import Tokens, encoder_inputs, load_tokenizer, tokenize, window_bounds
from .corpus import assign_folds, load_english
from .model import DocBatch, TechniqueModel, build_encoder, for_cpu_training, load_checkpoint, minilm_dir
from .ptc_spans import ptc_spans
from .targets import is_targets

LABELS = list(taxonomy.TECHNIQUES)


@dataclass
class TrainConfig:
    data: Path
    out: Path
    layers: int = 4
    base: str = "minilm"                 # the pretrained encoder it starts from (slant.training.model.BASES)
    epochs: int = 6
    lr: float = 8e-5
    head_lr: float = 2e-3
    window: int = 254
    stride: int = 200
    windows_per_batch: int = 12
    folds: int = 5
    holdout_fold: int = 0
    seed: int = 13          # initialisation and shuffling
    fold_seed: int = 13     # which articles fall in which fold
    threads: int = 2
    device: str = "cpu"                  # where torch trains ("cuda" on a GPU machine); export and scoring use the CPU
    bf16: bool = False                   # training's forward pass under bfloat16 autocast (weights stay float32)
    tiny: bool = False
    max_articles: int | None = None
    checkpoint: Path | None = None
    joint_article: bool = False
    article_weight: float = 1.0          # weight of the genre and frames losses when joint_article
    distil_from: tuple[Path, ...] = ()   # teacher checkpoints whose mean probabilities become soft targets
    distil_weight: float = 0.5           # share of the soft-target loss; the gold labels get the rest
    distil_states: bool = False          # one teacher: start from its layers and heads, learn its hidden states
    state_weight: float = 1.0            # with distil_states: weight of the last layer's state loss
    ffn: int | None = None               # with distil_states: the student's feed-forward width (the teacher's if None)
    sentence_units: bool = False         # the paragraph head also trains on the sentences of each paragraph
    jobs: int = 1                        # --cross-validate: trainings run side by side, each in its own process
    save_targets: bool = False           # --cross-validate: also write each model's probabilities (slant.training.targets)
    command: str = ""


@dataclass
class Example:
    doc: Document
    tokens: Tokens
    bounds: list
    ids: np.ndarray
    mask: np.ndarray
    ranges: list
    numbers: list
    token_y: np.ndarray
    par_y: np.ndarray
    genre: int = -1                 # index into taxonomy.GENRES, -1 when unknown
    frames_y: np.ndarray | None = None  # [14], None when unknown
    soft_token: np.ndarray | None = None  # [n, K] teachers' probabilities (--distil-from)
    soft_par: np.ndarray | None = None    # [P, K]
    teacher_states: list | None = None    # --distil-states: per student layer, its teacher layer's states [W, L, H]
    # (piece ranges, labels [U, K]) of the units the paragraph head trains on when they are not just the
    # paragraphs (--sentence-units: the paragraphs, then the sentences of those with several)
    train_units: tuple[list, np.ndarray] | None = None


def paragraph_labels(doc: Document) -> np.ndarray:
    """[paragraphs, techniques]: 1 where the document's subtask-3 labels give a paragraph a technique."""
    index = {name: k for k, name in enumerate(LABELS)}
    y = np.zeros((len(doc.paragraphs), len(LABELS)), dtype=np.float32)
    for i, p in enumerate(doc.paragraphs):
        for label in (doc.techniques or {}).get(p.number, []):
            y[i, index[label.name]] = 1
    return y


def span_overlap_labels(spans, units: list[tuple[int, int]]) -> np.ndarray:
    """[units, techniques]: the techniques of the spans (anything with start, end, technique) that overlap
    each character range — the rule the official paragraph labels follow."""
    index = {name: k for k, name in enumerate(LABELS)}
    y = np.zeros((len(units), len(LABELS)), dtype=np.float32)
    for i, (start, end) in enumerate(units):
        for s in spans:
            if s.start < end and s.end > start:
                y[i, index[s.technique]] = 1
    return y


def add_sentence_units(examples: list[Example]) -> int:
    """``--sentence-units``: give the paragraph head, beside each example's paragraphs, the sentences of every
    paragraph that has several (``segment.one_sentence_per_line``), labelled by span overlap — so it learns
    the units of sources that print one sentence per line (PTC-2020, the SemEval-2023 English dev articles)
    from the same encoder pass.  Returns how many sentence units were added (to examples that had none)."""
    added = 0
    for e in examples:
        if e.train_units is not None:  # a cross-validation trains on the same examples six times
            continue
        have = {(p.start, p.end) for p in e.doc.paragraphs}
        extra = [(u.start, u.end) for u in paragraphs(one_sentence_per_line(e.doc.text)) if (u.start, u.end) not in have]
        e.train_units = (list(e.ranges) + paragraph_ranges(e.tokens, extra),
                         np.concatenate([e.par_y, span_overlap_labels(e.doc.spans, extra)]))
        added += len(extra)
    return added


def prepare(doc: Document, tokenizer, window: int, stride: int, ids_special: tuple[int, int, int]) -> Example:
    tokens = tokenize(tokenizer, doc.text)
    bounds = window_bounds(len(tokens), window, stride)
    ids, mask = encoder_inputs(tokens, bounds, *ids_special)
    ranges = paragraph_ranges(tokens, [(p.start, p.end) for p in doc.paragraphs])
    par_y = paragraph_labels(doc)
    frames_y = None
    if doc.frames is not None:
        frames_y = np.zeros(len(taxonomy.FRAMES), dtype=np.float32)
        for f in doc.frames:
            frames_y[list(taxonomy.FRAMES).index(f.name)] = 1
    example = Example(doc, tokens, bounds, ids, mask, ranges, [p.number for p in doc.paragraphs],
                      np.zeros((len(tokens), len(LABELS)), dtype=np.float32), par_y,
                      list(taxonomy.GENRES).index(doc.genre.name) if doc.genre else -1, frames_y)
    add_token_targets(example, doc.spans)
    return example


def add_token_targets(example: Example, spans, target: np.ndarray | None = None) -> int:
    """Mark spans (anything with start, end, technique) in ``target`` (default ``example.token_y``), one row
    per word piece of ``example``; returns how many piece labels were not marked before."""
    index = {name: k for k, name in enumerate(LABELS)}
    offsets = example.tokens.offsets
    target = example.token_y if target is None else target
    before = int(target.sum())
    for s in spans:
        target[(offsets[:, 0] < s.end) & (offsets[:, 1] > s.start), index[s.technique]] = 1
    return int(target.sum()) - before


def batches(examples: list[Example], limit: int, rng: random.Random | None):
    order = list(range(len(examples)))
    if rng:
        rng.shuffle(order)
    batch, windows = [], 0
    for i in order:
        n = len(examples[i].bounds)
        if batch and windows + n > limit:
            yield batch
            batch, windows = [], 0
        batch.append(examples[i])
        windows += n
    if batch:
        yield batch


def collate(batch: list[Example], training: bool = False):
    """Encoder inputs of a batch and each document's windows and units: its paragraphs, or in training the
    units its paragraph head trains on (``Example.train_units``)."""
    width = max(e.ids.shape[1] for e in batch)
    ids = np.concatenate([np.pad(e.ids, ((0, 0), (0, width - e.ids.shape[1]))) for e in batch])
    mask = np.concatenate([np.pad(e.mask, ((0, 0), (0, width - e.mask.shape[1]))) for e in batch])
    docs, first = [], 0
    for e in batch:
        ranges = e.train_units[0] if training and e.train_units is not None else e.ranges
        docs.append(DocBatch(first, e.bounds, len(e.tokens), ranges))
        first += len(e.bounds)
    return torch.from_numpy(ids), torch.from_numpy(mask), docs


def pos_weights(examples: list[Example], attr: str) -> torch.Tensor:
    y = np.concatenate([getattr(e, attr) for e in examples])
    pos = y.sum(0)
    neg = len(y) - pos
    return torch.tensor(np.clip(np.sqrt(neg / np.maximum(pos, 1)), 1.0, 30.0), dtype=torch.float32)


def balanced_genre_loss(genres: list[int] | np.ndarray, device=None):
    """Cross-entropy for one article's genre logits [G] and its genre, scaled by that genre's class-balance
    weight (total / (G * count), counted over ``genres``, the training articles' genres).

    The scale is applied per article: ``CrossEntropyLoss(weight=...)`` averages by the weights of its batch,
    so over a batch of one article it cancels the weight and balances nothing.
    """
    g = len(taxonomy.GENRES)
    counts = np.bincount(np.asarray(genres, dtype=int), minlength=g).astype(np.float64)
    weights = torch.tensor(counts.sum() / (g * np.maximum(counts, 1)), dtype=torch.float32, device=device)

    def loss(logits: torch.Tensor, genre: int) -> torch.Tensor:
        return weights[genre] * torch.nn.functional.cross_entropy(
            logits.unsqueeze(0), torch.tensor([genre], device=logits.device))

    return loss


@torch.no_grad()
def predict(model: TechniqueModel, examples: list[Example], limit: int, train_units: bool = False):
    """Per example: (token probabilities [n, K], paragraph probabilities [P, K]); with ``train_units`` the
    paragraph head's probabilities for the units it trains on (``Example.train_units``) instead."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for batch in batches(examples, limit, None):
        ids, mask, docs = collate(batch, training=train_units)
        for tok, par, _ in model(ids.to(device), mask.to(device), docs):
            out.append((sigmoid(tok.float().cpu().numpy()), sigmoid(par.float().cpu().numpy())))
    return out


THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.025), 3)


def tune_thresholds(probs: np.ndarray, y: np.ndarray, min_positives: int = 5, passes: int = 2) -> np.ndarray:
    """Per-label thresholds that maximise micro-F1 over all labels (the official subtask-2 and -3 metric):
    start from the one threshold that maximises it, then move each label's threshold (labels with at least
    ``min_positives`` positives) to the value that maximises micro-F1 with the others fixed, ``passes`` times.

    Maximising each label's own F1 instead (what slant did before) lowers the thresholds of the hard labels
    until their recall pays for their false positives, which costs micro-F1 dearly: on five-fold
    out-of-fold predictions 0.330 against 0.432 (docs/model-history.md)."""
    grid = THRESHOLD_GRID
    pos = y > 0
    gold = int(pos.sum())
    hits = np.stack([((probs >= t) & pos).sum(0) for t in grid])   # [grid, labels] true positives
    shown = np.stack([(probs >= t).sum(0) for t in grid])          # [grid, labels] predicted positives
    f1 = lambda tp, pred: 2 * tp / max(pred + gold, 1)  # noqa: E731
    best = int(np.argmax([f1(hits[g].sum(), shown[g].sum()) for g in range(len(grid))]))
    chosen = np.full(probs.shape[1], best)
    for _ in range(passes):
        for k in np.flatnonzero(pos.sum(0) >= min_positives):
            tp = hits[chosen, np.arange(len(chosen))].sum() - hits[chosen[k], k]
            pred = shown[chosen, np.arange(len(chosen))].sum() - shown[chosen[k], k]
            scores = [f1(tp + hits[g, k], pred + shown[g, k]) for g in range(len(grid))]
            chosen[k] = int(np.argmax(scores))  # first maximum: the lowest threshold among ties
    return grid[chosen]


def per_technique_thresholds(probs: np.ndarray, y: np.ndarray, min_positives: int = 5,
                             min_precision: float = 0.1) -> np.ndarray:
    """The recall-leaning operating point (``slant analyze --thresholds per-technique``): each label's
    threshold at its own best F1 among the thresholds where at least ``min_precision`` of its reports are
    right; a label with no such threshold, or fewer than ``min_positives`` positives, keeps its micro-F1
    threshold (``tune_thresholds``).

    Without the precision floor a technique the model cannot find gets its "best" F1 from a threshold
    near 0 (out of fold: Straw_Man reported on 360 paragraphs for 15 gold ones, F1 0.02)."""
    pos = y > 0
    chosen = tune_thresholds(probs, y, min_positives)
    for k in np.flatnonzero(pos.sum(0) >= min_positives):
        best = -1.0
        for t in THRESHOLD_GRID:
            shown = probs[:, k] >= t
            hits = int((shown & pos[:, k]).sum())
            f1 = 2 * hits / (shown.sum() + pos[:, k].sum())
            if shown.any() and hits >= min_precision * shown.sum() and f1 > best:
                best, chosen[k] = f1, t
    return chosen


def paragraph_scores(examples, par_probs, thresholds):
    gold, pred = {}, {}
    for e, probs in zip(examples, par_probs):
        for i, n in enumerate(e.numbers):
            gold[(e.doc.id, n)] = {LABELS[k] for k in np.flatnonzero(e.par_y[i])}
            pred[(e.doc.id, n)] = {LABELS[k] for k in np.flatnonzero(probs[i] >= thresholds)}
    return multilabel_scores(gold, pred, LABELS, "subtask 3 (held-out)")


def span_scores(examples, token_probs, thresholds, par_probs, par_thresholds):
    """Span-overlap P/R/F1 of the spans the runtime shows (evidence for the paragraph labels):
    label-blind (PTC SI) and label-aware (spans match only their own technique)."""
    gold_si, pred_si, gold_lab, pred_lab = {}, {}, {}, {}
    for e, probs, pp in zip(examples, token_probs, par_probs):
        for s in e.doc.spans:
            gold_si.setdefault(e.doc.id, []).append((s.start, s.end))
            gold_lab.setdefault(f"{e.doc.id}|{s.technique}", []).append((s.start, s.end))
        hot = [np.flatnonzero(row >= par_thresholds).tolist() for row in pp]
        for start, end, label, _ in evidence_spans(e.doc.text, e.tokens, probs, thresholds, LABELS, e.ranges, hot):
            pred_si.setdefault(e.doc.id, []).append((start, end))
            pred_lab.setdefault(f"{e.doc.id}|{label}", []).append((start, end))
    return span_overlap_scores(gold_si, pred_si), span_overlap_scores(gold_lab, pred_lab)


def crossfit_splits(n: int) -> list[tuple[list[int], list[int]]]:
    """The two (tune, test) splits of 2-fold cross-fitting over ``n`` articles: alternate articles, both ways.

    >>> crossfit_splits(5)
    [([0, 2, 4], [1, 3]), ([1, 3], [0, 2, 4])]
    """
    halves = [list(range(0, n, 2)), list(range(1, n, 2))]
    return [(halves[0], halves[1]), (halves[1], halves[0])]


def crossfit_micro(tune_probs: list, tune_gold: list, test_probs: list, test_gold: list) -> float:
    """Micro-F1 of ``test_probs`` against ``test_gold`` (one array per article), each half of the articles
    scored with thresholds tuned on the other half's ``tune_probs`` / ``tune_gold`` — the same articles, which
    may be cut into other units (paragraphs to tune, PTC lines to score)."""
    correct = predicted = gold = 0
    for tune, test in crossfit_splits(len(test_probs)):
        if not tune:
            continue
        thresholds = tune_thresholds(np.concatenate([tune_probs[i] for i in tune]),
                                     np.concatenate([tune_gold[i] for i in tune]))
        for i in test:
            hit, y = test_probs[i] >= thresholds, test_gold[i] > 0
            correct, predicted, gold = correct + int((hit & y).sum()), predicted + int(hit.sum()), gold + int(y.sum())
    return f1_from_counts(correct, predicted, gold)


def f1_from_counts(correct: float, predicted: float, gold: float) -> float:
    """Micro-F1 from pooled counts (0 when there is nothing predicted and nothing to find)."""
    return 2 * correct / (predicted + gold) if predicted + gold else 0.0


def crossfit(examples, probs, pick, score, tuner=tune_thresholds):
    """Score each half of the held-out articles with thresholds tuned on the other half (2-fold cross-fitting)."""
    results = []
    for tune, test in crossfit_splits(len(examples)):
        thresholds = tuner(np.concatenate([probs[i] for i in tune]),
                           np.concatenate([pick(examples[i]) for i in tune]))
        results.append(score([examples[i] for i in test], [probs[i] for i in test], thresholds))
    return results


def _pooled_micro(results) -> dict:
    c = sum(r.micro.correct for r in results)
    p = sum(r.micro.predicted for r in results)
    g = sum(r.micro.gold for r in results)
    return {"precision": c / p if p else 0.0, "recall": c / g if g else 0.0, "f1": f1_from_counts(c, p, g)}


def per_technique_point(examples, par_probs) -> tuple[np.ndarray, dict]:
    """The per-technique thresholds tuned on all of ``par_probs`` and that operating point's figures, with
    thresholds cross-fitted: micro-F1, and macro-F1 over the labels with gold paragraphs (per-label counts
    pooled over both halves)."""
    halves = crossfit(examples, par_probs, lambda e: e.par_y, paragraph_scores, per_technique_thresholds)
    pooled = [prf(*(sum(getattr(r.per_label[name], k) for r in halves) for k in ("correct", "predicted", "gold")))
              for name in LABELS]
    f1s = [s.f1 for s in pooled if s.gold]
    thresholds = per_technique_thresholds(np.concatenate(par_probs), np.concatenate([e.par_y for e in examples]))
    return thresholds, {"subtask3_micro_f1_crossfit": round(_pooled_micro(halves)["f1"], 4),
                        "subtask3_macro_f1_gold_labels_crossfit": round(float(np.mean(f1s)), 4)}


def log_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _article_loss(train_ex: list[Example], device):
    """Genre cross-entropy (class-balanced over the training folds) plus frames BCE, for joint training."""
    g = len(taxonomy.GENRES)
    genre_loss = balanced_genre_loss([e.genre for e in train_ex if e.genre >= 0], device)
    frames_loss = torch.nn.BCEWithLogitsLoss()

    def loss(e: Example, logits):
        total = 0.0
        if e.genre >= 0:
            total = total + genre_loss(logits[:g], e.genre)
        if e.frames_y is not None:
            total = total + frames_loss(logits[g:], torch.from_numpy(e.frames_y).to(device))
        return total

    return loss


def fit_neural(cfg: TrainConfig, train_ex: list[Example], log, teachers: list[Path] = (),
               progress: Path | None = None, key: str = "") -> TechniqueModel:
    """Fine-tune encoder and heads (or load them from ``cfg.checkpoint``); with ``teachers`` (checkpoints that
    never saw what is held out from ``train_ex``) a student distilled from them (slant.training.distil).

    With ``progress`` (a file), the training's state after each epoch is saved there, and a run that finds it
    with the same ``key`` (recipe and data) resumes after that epoch: weights, optimizer, learning-rate
    schedule and random generators restored, so it ends with the model a run that never stopped would have
    made.  The file goes when the training ends.  (A fold of a large teacher takes hours on a CPU.)"""
    n_article = len(taxonomy.GENRES) + len(taxonomy.FRAMES) if cfg.joint_article else 0
    if cfg.checkpoint:
        model = load_checkpoint(cfg.checkpoint)
        log(f"encoder and heads loaded from {cfg.checkpoint}")
        return model
    if cfg.sentence_units:  # before the teachers' targets, which then cover the sentence units too
        add_sentence_units(train_ex)  # an earlier fold of a cross-validation may have added some already
        units = sum(len(e.train_units[0]) - len(e.ranges) for e in train_ex)
        log(f"sentence units in the paragraph head's training: {units}")
    device = torch.device(cfg.device)
    if device.type == "cuda":  # TF32 matrix products: several times fp32's rate, precision enough for fine-tuning
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    if cfg.distil_states and (not teachers or is_targets(teachers[0]) or cfg.joint_article):
        raise ValueError("distil_states learns the states of the first teacher (a checkpoint), without joint "
                         "article heads")
    if teachers:
        from .distil import attach_teachers, detach_teachers, state_loss, student_from_teacher
        attach_teachers(cfg, list(teachers), train_ex, log)
    if cfg.distil_states:
        model = student_from_teacher(load_checkpoint(teachers[0]), cfg.layers, cfg.ffn).to(device)
        log(f"student: {cfg.layers} layers (feed-forward width {model.encoder.config.intermediate_size}) and the "
            f"heads of {teachers[0]}")
    else:
        model = TechniqueModel(build_encoder(cfg.layers, cfg.tiny, base=cfg.base), len(LABELS),
                               article_outputs=n_article).to(device)
    if device.type == "cpu":   # a GPU's own dropout and attention kernels are faster than these
        for_cpu_training(model)
    rng = random.Random(cfg.seed)
    heads = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    optimizer = torch.optim.AdamW([{"params": model.encoder.parameters(), "lr": cfg.lr},
                                   {"params": heads, "lr": cfg.head_lr}], weight_decay=0.01,
                                  fused=True)   # one pass over the weights per step: a torch loop per tensor otherwise
    steps = cfg.epochs * sum(1 for _ in batches(train_ex, cfg.windows_per_batch, None))
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / max(1, steps - warmup)))
    token_loss = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weights(train_ex, "token_y").to(device))
    par_loss = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weights(train_ex, "par_y").to(device))
    article_loss = _article_loss(train_ex, device) if cfg.joint_article else None
    alpha = cfg.distil_weight if cfg.distil_from else 0.0
    on = lambda a: torch.from_numpy(a).to(device)  # noqa: E731

    def technique_loss(e: Example, tok, par):
        par_y = e.train_units[1] if e.train_units is not None else e.par_y
        gold = par_loss(par, on(par_y)) + token_loss(tok, on(e.token_y))
        if not alpha:
            return gold
        soft = par_loss(par, on(e.soft_par)) + token_loss(tok, on(e.soft_token))
        return (1 - alpha) * gold + alpha * soft

    done = _resume(progress, key, model, optimizer, schedule, rng, log) if progress is not None else 0
    started, step = time.time(), schedule.last_epoch   # the optimizer steps taken so far (by a resumed run too)
    resumed_at = step
    for epoch in range(done, cfg.epochs):
        model.train()
        total = 0.0
        for batch in batches(train_ex, cfg.windows_per_batch, rng):
            ids, mask, docs_b = collate(batch, training=True)
            ids, mask = ids.to(device), mask.to(device)
            states = 0.0
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                if cfg.distil_states:
                    hidden = model.encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
                    outputs = model.from_hidden(hidden[-1], docs_b)
                    states = state_loss(hidden[1:], batch, mask, cfg.state_weight)
                else:
                    outputs = model(ids, mask, docs_b)
                loss = sum(technique_loss(e, tok, par)
                           + (cfg.article_weight * article_loss(e, art) if article_loss else 0.0)
                           for e, (tok, par, art) in zip(batch, outputs)) / len(batch) + states
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            total += loss.item()
            if step % 20 == 0 or step == steps:
                elapsed = time.time() - started
                log(f"epoch {epoch + 1}/{cfg.epochs} step {step}/{steps} loss {total / 20:.4f} "
                    f"elapsed {elapsed / 60:.1f} min "
                    f"eta {elapsed / max(1, step - resumed_at) * (steps - step) / 60:.1f} min")
                total = 0.0
        if progress is not None and epoch + 1 < cfg.epochs:
            _save_progress(progress, key, epoch + 1, model, optimizer, schedule, rng)
    if teachers:
        detach_teachers(train_ex)
    if progress is not None:
        progress.unlink(missing_ok=True)
    return model


def _save_progress(path: Path, key: str, epochs_done: int, model, optimizer, schedule, rng) -> None:
    """What ``_resume`` needs to go on after ``epochs_done`` epochs, written whole or not at all."""
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"key": key, "epochs_done": epochs_done, "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(), "rng": rng.getstate(),
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}, tmp)
    tmp.replace(path)


def _resume(path: Path, key: str, model, optimizer, schedule, rng, log) -> int:
    """The epochs an earlier run of ``key`` finished, its state restored into the arguments; 0 when ``path``
    holds none (missing, unreadable, or another recipe's or data's)."""
    if not path.is_file():
        return 0
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as ex:   # a file cut short when the machine went away: start afresh
        log(f"{path}: unreadable ({type(ex).__name__}), training from the start")
        return 0
    if state.get("key") != key:
        log(f"{path}: another recipe's or data's progress, training from the start")
        return 0
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    rng.setstate(state["rng"])
    torch.set_rng_state(state["torch_rng"])
    if state["cuda_rng"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    log(f"resuming after epoch {state['epochs_done']} from {path}")
    return int(state["epochs_done"])


def paragraph_texts(examples: list[Example]) -> tuple[list[str], np.ndarray]:
    texts = [e.doc.text[p.start:p.end] for e in examples for p in e.doc.paragraphs]
    return texts, np.concatenate([e.par_y for e in examples])


def combined_probs(e: Example, tok: np.ndarray, par: np.ndarray, lexical) -> np.ndarray:
    """The runtime's paragraph score computed from the torch model's outputs (``predict``) and a
    LexicalHead: mean of the paragraph head, the token head's strongest piece and the lexical head."""
    return np.mean([par, range_max(tok, e.ranges), lexical.probabilities(paragraph_texts([e])[0])], axis=0)


def _figures(examples, par_probs, tok_probs, par_thr, tok_thr) -> dict:
    cross = crossfit(examples, par_probs, lambda e: e.par_y, paragraph_scores)
    in_sample = paragraph_scores(examples, par_probs, par_thr)
    si, labelled = span_scores(examples, tok_probs, tok_thr, par_probs, par_thr)
    r = lambda x: round(float(x or 0), 4)  # noqa: E731
    return {
        "subtask3_micro_f1_crossfit": r(_pooled_micro(cross)["f1"]),
        "subtask3_crossfit": {k: r(v) for k, v in _pooled_micro(cross).items()},
        "subtask3_micro_f1_tuned_in_sample": r(in_sample.micro.f1),
        "subtask3_macro_f1_tuned_in_sample": r(in_sample.macro_f1),
        "subtask3_macro_f1_gold_labels_in_sample": r(in_sample.macro_f1_gold_labels),
        "per_label_in_sample": {n: {"f1": r(s.f1), "gold": s.gold} for n, s in in_sample.per_label.items() if s.gold},
        "spans_si_in_sample": {"precision": r(si.micro.precision), "recall": r(si.micro.recall), "f1": r(si.micro.f1)},
        "spans_labelled_in_sample": {"precision": r(labelled.micro.precision), "recall": r(labelled.micro.recall),
                                     "f1": r(labelled.micro.f1)},
    }


def fit_article_heads(cfg: TrainConfig, out: Path, detector, corpus, docs: list[Document], folds: list[int],
                      keep_ids: set, log) -> tuple[dict, dict]:
    """Run every article once through ``detector`` (the exported int8 model in ``out``), fit the genre and
    frame heads on the training folds, measure them on the held-out fold and write them into the artifact.

    Returns (the detector's outputs (tokens, token probabilities, parts) for the articles in ``keep_ids``,
    the article figures)."""
    from . import article_fit
    from .export import add_article_heads

    # Articles with genre and frames but no subtask-3 labels join the article heads only, in folds of their own.
    extra = corpus.article_only[: cfg.max_articles] if cfg.max_articles else corpus.article_only
    article_docs = docs + extra
    article_folds = folds + assign_folds(extra, cfg.folds, cfg.fold_seed)
    log(f"running {len(article_docs)} articles once through the exported (int8) model")
    outputs = {}

    def run_all():
        for i, doc in enumerate(article_docs, 1):
            tokens, article_pool, token_probs, parts = detector.parts(doc.text,
                                                                      [(p.start, p.end) for p in doc.paragraphs])
            if doc.id in keep_ids:
                outputs[doc.id] = (tokens, token_probs, parts)
            if i % 50 == 0 or i == len(article_docs):
                log(f"  {i}/{len(article_docs)} articles")
            yield article_pool, detector.combine(parts)

    unseen = {d.id for d in extra}
    articles = article_fit.articles(article_docs, run_all(), unseen_ids=unseen)
    article_folds = np.array(article_folds)
    held = np.flatnonzero(article_folds == cfg.holdout_fold) if cfg.holdout_fold is not None else None
    # the articles (the held-out fold's, for a single-fold model) cut short, for the frame map of short texts
    short_docs, rows = article_fit.short_versions(article_docs if held is None else [article_docs[i] for i in held])
    log(f"running {len(short_docs)} texts cut short ({', '.join(map(str, article_fit.SHORT_CUTS))} words) "
        "through it for the frames' short-text map")
    short = (article_fit.through(detector, short_docs, unseen), rows)
    if held is None:
        log("fitting the genre and frame heads on every article (thresholds and figures out of fold)")
        arrays, article = article_fit.measure_out_of_fold(articles, article_folds, short=short)
    else:
        log("fitting the genre and frame heads on the training folds")
        arrays, article = article_fit.measure(articles.take(np.flatnonzero(article_folds != cfg.holdout_fold)),
                                              articles.take(held), short=short)
    add_article_heads(out, arrays, article_fit.section(article_fit.DEFAULT_FEATURES, article["thresholds"],
                                                       article["genre_temperature"], article["frame_calibration"]))
    return outputs, article["figures"]


def fit_span_classes(cfg: TrainConfig, out: Path, detector, docs: list[Document], folds: list[int], log):
    """Fit the PTC span classifier into the artifact in ``out``; its figures, or None without PTC-2020 labels."""
    from .export import add_span_classifier
    from .span_classes_fit import fit_span_classifier

    fitted = fit_span_classifier(cfg.data, detector, {d.id: f for d, f in zip(docs, folds)}, cfg.holdout_fold, log)
    if fitted is None:
        return None
    arrays, section, figures = fitted
    add_span_classifier(out, arrays, section)
    return figures


def refit_article_heads(cfg: TrainConfig, source: Path, log=log_progress) -> dict:
    """Fit only the genre and frame heads and the PTC span classifier, on the encoder of the exported model in ``source``: its encoder,
    technique heads, thresholds and technique figures are copied unchanged; the folds are the ones it was
    trained with (its fold seed and held-out fold), so the held-out articles stay unseen."""
    from ..runtime import load_detector
    from .export import copy_artifact, finish_article_refit

    started = time.time()
    corpus = load_english(cfg.data)
    manifest = copy_artifact(source, cfg.out, cfg.command, corpus.data_hash)
    training = manifest["training"]
    cfg.fold_seed = training.get("fold_seed", training["seed"])
    cfg.seed, cfg.folds, cfg.holdout_fold = training["seed"], training["folds"], training["holdout_fold"]
    docs = corpus.documents[: cfg.max_articles] if cfg.max_articles else corpus.documents
    detector = load_detector(cfg.out)
    folds = assign_folds(docs, cfg.folds, cfg.fold_seed)
    _, figures = fit_article_heads(cfg, Path(cfg.out), detector, corpus, docs, folds, set(), log)
    span_figures = fit_span_classes(cfg, Path(cfg.out), detector, docs, folds, log)
    figures["refit_minutes"] = round((time.time() - started) / 60, 1)
    finish_article_refit(cfg.out, figures, span_figures)
    log(f"wrote {cfg.out}: genre macro-F1 {figures['genre']['macro_f1']:.4f}, "
        f"frames micro-F1 (cross-fitted) {figures['frames_micro_f1_crossfit']:.4f}")
    return figures


def seed_and_threads(cfg: TrainConfig) -> None:
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.set_num_threads(cfg.threads)


def examples_and_folds(cfg: TrainConfig, corpus) -> tuple[list[Example], list[int]]:
    """The corpus's articles (the first ``cfg.max_articles``) as windowed examples, and each one's fold."""
    docs = corpus.documents[: cfg.max_articles] if cfg.max_articles else corpus.documents
    return prepare_all(cfg, docs), assign_folds(docs, cfg.folds, cfg.fold_seed)


def prepare_all(cfg: TrainConfig, docs: list[Document]) -> list[Example]:
    """``docs`` as windowed examples for the encoder's tokenizer and ``cfg``'s windows."""
    tokenizer = load_tokenizer(minilm_dir() / "tokenizer.json")
    special = (tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"), tokenizer.token_to_id("[PAD]"))
    return [prepare(d, tokenizer, cfg.window, cfg.stride, special) for d in docs]


def _all_article_checkpoint(cfg: TrainConfig, data_hash: str, log) -> dict | None:
    """For a checkpoint trained on every article (``slant train --cross-validate``): its cv.json, with the
    recipe copied into ``cfg`` and no held-out fold; None for a checkpoint of the single-fold recipe."""
    from .crossval import load_cv
    from .model import checkpoint_holdout

    if checkpoint_holdout(cfg.checkpoint) is not None:
        return None
    cv = load_cv(cfg.checkpoint, data_hash)
    for name, value in cv["recipe"].items():
        setattr(cfg, name, value)
    cfg.holdout_fold = None
    log(f"{cfg.checkpoint} was trained on every article: thresholds and figures from its cross-validation "
        f"({cv['figures']['out_of_fold_articles']} articles out of fold)")
    return cv


def _finish_all_article_model(cfg, out, cv, model, lexical, examples, detector, outputs, article, span_classes,
                              corpus, started, log) -> dict:
    """Thresholds and technique figures of an all-article model come from its cross-validation; what can
    still be measured on its own articles is how often int8 and fp32 disagree."""
    from ..lexical import LexicalHead
    from .calibration_fit import fit_calibration, fit_line_calibration, fit_span_calibration, span_outcomes
    from .crossval import out_of_fold_probs, out_of_fold_token_probs, ptc_examples
    from .export import finalize

    par_thr = np.array(cv["thresholds"]["paragraph"])
    tok_thr = np.array(cv["thresholds"]["span"])
    oof = out_of_fold_probs(Path(cfg.checkpoint).parent, [e.doc for e in examples])
    per_technique_thr, per_technique = per_technique_point(examples, oof)
    lex = LexicalHead.from_arrays(lexical)
    flips = 0
    for e, (tok, par) in zip(examples, predict(model, examples, cfg.windows_per_batch)):
        a = detector.combine(outputs[e.doc.id][2])
        b = combined_probs(e, tok, par, lex)
        flips += int(((a >= par_thr) != (b >= par_thr)).sum())
    metrics = {"trained_on": f"all {len(examples)} articles",
               "cross_validated": cv["figures"], "cross_validation_command": cv["command"],
               "cross_validated_per_technique_thresholds": per_technique,
               "cross_validation_device": cv["device"], "cross_validation_torch": cv["torch"],
               "int8_paragraph_label_flips_vs_fp32_on_training_articles": flips,
               "paragraphs": int(sum(len(e.numbers) for e in examples)),
               "train_minutes": round((time.time() - started) / 60, 1) + cv["minutes"],
               "article": article}
    if cv.get("ptc2020_spans"):
        metrics["ptc2020_spans_in_training_folds"] = cv["ptc2020_spans"]
    if span_classes is not None:
        metrics["span_classes"] = span_classes
    calibration = fit_calibration(oof, [e.par_y for e in examples], par_thr)
    calibration[0]["fitted_on"] = f"out-of-fold paragraph scores of the cross-validation ({len(examples)} articles)"
    printed = ptc_examples(cfg, examples, log)
    lines = None if printed is None else out_of_fold_probs(Path(cfg.checkpoint).parent, [e.doc for e in printed], "ptc")
    if lines is not None:
        calibration[0]["lines"], calibration[1]["lines"] = fit_line_calibration(
            oof, [e.par_y for e in examples], lines, [e.par_y for e in printed], par_thr)
        calibration[0]["lines"]["fitted_on"] = (f"out-of-fold scores of the same {len(examples)} articles as "
                                                "PTC-2020 prints them")
    oof_tok = out_of_fold_token_probs(Path(cfg.checkpoint).parent, [e.doc for e in examples])
    spans = fit_span_calibration(span_outcomes(examples, oof_tok, oof, par_thr, tok_thr), len(LABELS))
    spans[0]["fitted_on"] = f"out-of-fold spans of the cross-validation ({len(examples)} articles)"
    finalize(out, par_thr, tok_thr, metrics, corpus, per_technique_thr, calibration, spans)
    oof = cv["figures"]["fp32_torch"]
    log(f"exported {out}: out-of-fold micro-F1 (cross-fitted, fp32) {oof['subtask3_micro_f1_crossfit']:.4f}; "
        f"{flips} paragraph labels differ int8 vs fp32; genre macro-F1 {article['genre']['macro_f1']:.4f}, "
        f"frames micro-F1 (cross-fitted) {article['frames_micro_f1_crossfit']:.4f}")
    return metrics


def train(cfg: TrainConfig, log=log_progress) -> dict:
    from ..lexical import LexicalHead
    from ..runtime import load_detector
    from .calibration_fit import fit_calibration, fit_span_calibration, span_outcomes
    from .export import finalize, write_artifact
    from .lexical_fit import fit_lexical

    seed_and_threads(cfg)
    started = time.time()
    corpus = load_english(cfg.data)
    cv = _all_article_checkpoint(cfg, corpus.data_hash, log) if cfg.checkpoint else None
    teachers = (cv.get("teachers") or []) if cv else []   # a cross-validated student's teachers, for its manifest
    if cfg.distil_from and not cfg.checkpoint:  # refuse a teacher before any work is done
        from .distil import check_teacher
        teachers = [check_teacher(t, cfg, corpus.data_hash) for t in cfg.distil_from]
    tokenizer_path = minilm_dir() / "tokenizer.json"
    examples, folds = examples_and_folds(cfg, corpus)
    train_ex = [e for e, f in zip(examples, folds) if f != cfg.holdout_fold]
    held_ex = [e for e, f in zip(examples, folds) if f == cfg.holdout_fold]
    # thresholds are tuned on half the held-out articles and scored on the other half
    if cfg.holdout_fold is not None and min(len(train_ex), len(held_ex)) < 2:
        raise SlantError(f"{len(examples)} articles leave {len(train_ex)} to train on and {len(held_ex)} in held-out "
                         f"fold {cfg.holdout_fold}; training and tuning need at least 2 each (raise --max-articles)")
    log(f"data: {len(examples)} articles ({len(train_ex)} train, {len(held_ex)} held out), "
        f"{sum(len(e.tokens) for e in examples)} word pieces, sha256 {corpus.data_hash[:12]}")
    ptc_record = None
    if (Path(cfg.data) / "ptc2020").is_dir() and not cfg.checkpoint:
        # The PTC-2020 annotation of the same articles joins the token targets of the training folds only;
        # the held-out fold is tuned and scored on SemEval-2023 spans alone.
        moved, ptc_record = ptc_spans(cfg.data, [e.doc for e in train_ex])
        semeval_labels = int(sum(e.token_y.sum() for e in train_ex))
        ptc_record["new_piece_labels"] = sum(add_token_targets(e, moved.get(e.doc.id, [])) for e in train_ex)
        ptc_record["semeval_piece_labels"] = semeval_labels
        log(f"PTC-2020 spans of the training folds: {ptc_record.get('moved', 0)} moved onto the SemEval texts, "
            f"{ptc_record.get('moved, identical to a SemEval span', 0)} of them identical to a SemEval span; "
            f"{ptc_record['new_piece_labels']} new piece labels beside {ptc_record['semeval_piece_labels']}")

    model = fit_neural(cfg, train_ex, log, list(cfg.distil_from)).cpu()   # a checkpoint is loaded, not distilled
    log("fitting the lexical head")
    lexical = fit_lexical(*paragraph_texts(train_ex))
    out = write_artifact(model, lexical, tokenizer_path, cfg, corpus, teachers)

    held_ids = {e.doc.id for e in (examples if cv else held_ex)}
    detector = load_detector(out)
    outputs, article = fit_article_heads(cfg, out, detector, corpus, [e.doc for e in examples], folds, held_ids,
                                         log)
    span_classes = fit_span_classes(cfg, out, detector, [e.doc for e in examples], folds, log)
    if cv:
        return _finish_all_article_model(cfg, out, cv, model, lexical, examples, detector, outputs, article,
                                         span_classes, corpus, started, log)

    log("scoring techniques on the held-out fold")
    shipped = [outputs[e.doc.id] for e in held_ex]
    tok_probs = [t for _, t, _ in shipped]
    par_probs = [detector.combine(parts) for _, _, parts in shipped]
    ablation = {}
    for names in (["paragraph_head"], ["token_max"], ["lexical"], ["paragraph_head", "token_max"],
                  ["paragraph_head", "token_max", "lexical"]):
        probs = [np.mean([parts[n] for n in names], axis=0) for _, _, parts in shipped]
        ablation["+".join(names)] = round(_pooled_micro(crossfit(held_ex, probs, lambda e: e.par_y,
                                                                  paragraph_scores))["f1"], 4)
    par_thr = tune_thresholds(np.concatenate(par_probs), np.concatenate([e.par_y for e in held_ex]))
    tok_thr = tune_thresholds(np.concatenate(tok_probs), np.concatenate([e.token_y for e in held_ex]))
    per_technique_thr, per_technique = per_technique_point(held_ex, par_probs)

    # The fp32 torch model it came from, combined the same way, for the int8 comparison.
    lex = LexicalHead.from_arrays(lexical)
    fp32 = predict(model, held_ex, cfg.windows_per_batch)
    fp32_par = [combined_probs(e, tok, par, lex) for e, (tok, par) in zip(held_ex, fp32)]
    metrics = {"held_out_articles": len(held_ex),
               "int8_onnx": _figures(held_ex, par_probs, tok_probs, par_thr, tok_thr),
               "fp32_torch": _figures(held_ex, fp32_par, [t for t, _ in fp32], par_thr, tok_thr),
               "int8_onnx_per_technique_thresholds": per_technique,
               "train_minutes": round((time.time() - started) / 60, 1)}
    if ptc_record:
        metrics["ptc2020_spans_in_training_folds"] = ptc_record
    flips = sum(int(((a >= par_thr) != (b >= par_thr)).sum()) for a, b in zip(par_probs, fp32_par))
    metrics["int8_paragraph_label_flips_vs_fp32"] = flips
    metrics["int8_ablation_subtask3_micro_f1_crossfit"] = ablation
    metrics["article"] = article
    if span_classes is not None:
        metrics["span_classes"] = span_classes
    calibration = fit_calibration(par_probs, [e.par_y for e in held_ex], par_thr)
    calibration[0]["fitted_on"] = f"held-out fold {cfg.holdout_fold} ({len(held_ex)} articles), int8 scores"
    spans = fit_span_calibration(span_outcomes(held_ex, tok_probs, par_probs, par_thr, tok_thr), len(LABELS))
    spans[0]["fitted_on"] = f"spans of held-out fold {cfg.holdout_fold} ({len(held_ex)} articles), int8 scores"
    finalize(out, par_thr, tok_thr, metrics, corpus, per_technique_thr, calibration, spans)
    i8, f32 = metrics["int8_onnx"], metrics["fp32_torch"]
    log(f"exported {out}: held-out micro-F1 (cross-fitted) int8 {i8['subtask3_micro_f1_crossfit']:.4f}, "
        f"fp32 {f32['subtask3_micro_f1_crossfit']:.4f}; {flips} paragraph labels differ; "
        f"genre macro-F1 {article['genre']['macro_f1']:.4f}, "
        f"frames micro-F1 (cross-fitted) {article['frames_micro_f1_crossfit']:.4f}")
    return metrics
