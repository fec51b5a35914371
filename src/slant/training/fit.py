"""``slant train``: fine-tune the technique detector, tune thresholds, measure, export.

Recipe (see models/README.md for the measured figures): articles are cut into
overlapping windows of word pieces; one encoder pass per window; the paragraph
head is trained on the official paragraph labels and the token head on the
character spans, both with per-label positive weights for the rare techniques.
Thresholds are tuned per label on a held-out fold of articles (near-duplicates
kept together); the reported figures use thresholds cross-fitted inside that
fold (tuned on one half, scored on the other), so they are not tuned on
what they score.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import taxonomy
from ..document import Document
from ..evaluate import multilabel_scores, span_overlap_scores
from ..heads import decode_spans, paragraph_ranges, sigmoid
from ..windows import Tokens, encoder_inputs, load_tokenizer, tokenize, window_bounds
from .corpus import assign_folds, load_english
from .model import DocBatch, TechniqueModel, build_encoder, minilm_dir

LABELS = list(taxonomy.TECHNIQUES)


@dataclass
class TrainConfig:
    data: Path
    out: Path
    layers: int = 4
    epochs: int = 6
    lr: float = 8e-5
    head_lr: float = 2e-3
    window: int = 254
    stride: int = 200
    windows_per_batch: int = 12
    folds: int = 5
    holdout_fold: int = 0
    seed: int = 13
    threads: int = 2
    tiny: bool = False
    max_articles: int | None = None
    command: str = ""
    extra: dict = field(default_factory=dict)


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


def prepare(doc: Document, tokenizer, window: int, stride: int, ids_special: tuple[int, int, int]) -> Example:
    tokens = tokenize(tokenizer, doc.text)
    bounds = window_bounds(len(tokens), window, stride)
    ids, mask = encoder_inputs(tokens, bounds, *ids_special)
    ranges = paragraph_ranges(tokens, [(p.start, p.end) for p in doc.paragraphs])
    index = {name: k for k, name in enumerate(LABELS)}
    token_y = np.zeros((len(tokens), len(LABELS)), dtype=np.float32)
    for s in doc.spans:
        hit = (tokens.offsets[:, 0] < s.end) & (tokens.offsets[:, 1] > s.start)
        token_y[hit, index[s.technique]] = 1
    par_y = np.zeros((len(doc.paragraphs), len(LABELS)), dtype=np.float32)
    for i, p in enumerate(doc.paragraphs):
        for label in (doc.techniques or {}).get(p.number, []):
            par_y[i, index[label.name]] = 1
    return Example(doc, tokens, bounds, ids, mask, ranges, [p.number for p in doc.paragraphs], token_y, par_y)


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


def collate(batch: list[Example]):
    width = max(e.ids.shape[1] for e in batch)
    ids = np.concatenate([np.pad(e.ids, ((0, 0), (0, width - e.ids.shape[1]))) for e in batch])
    mask = np.concatenate([np.pad(e.mask, ((0, 0), (0, width - e.mask.shape[1]))) for e in batch])
    docs, first = [], 0
    for e in batch:
        docs.append(DocBatch(first, e.bounds, len(e.tokens), e.ranges))
        first += len(e.bounds)
    return torch.from_numpy(ids), torch.from_numpy(mask), docs


def pos_weights(examples: list[Example], attr: str) -> torch.Tensor:
    y = np.concatenate([getattr(e, attr) for e in examples])
    pos = y.sum(0)
    neg = len(y) - pos
    return torch.tensor(np.clip(np.sqrt(neg / np.maximum(pos, 1)), 1.0, 30.0), dtype=torch.float32)


@torch.no_grad()
def predict(model: TechniqueModel, examples: list[Example], limit: int):
    """Per example: (token probabilities [n, K], paragraph probabilities [P, K])."""
    model.eval()
    out = []
    for batch in batches(examples, limit, None):
        ids, mask, docs = collate(batch)
        for tok, par in model(ids, mask, docs):
            out.append((sigmoid(tok.numpy()), sigmoid(par.numpy())))
    return out


def tune_thresholds(probs: np.ndarray, y: np.ndarray, min_positives: int = 5) -> np.ndarray:
    """Per-label thresholds that maximise each label's F1; labels with few positives share the
    threshold that maximises micro-F1 over all labels."""
    grid = np.round(np.arange(0.05, 0.96, 0.025), 3)

    def f1(p, t, y_):
        pred = p >= t
        tp = (pred & (y_ > 0)).sum()
        return 2 * tp / max(pred.sum() + (y_ > 0).sum(), 1)

    shared = grid[int(np.argmax([f1(probs, t, y) for t in grid]))]
    out = np.full(probs.shape[1], shared)
    for k in range(probs.shape[1]):
        if y[:, k].sum() >= min_positives:
            out[k] = grid[int(np.argmax([f1(probs[:, k], t, y[:, k]) for t in grid]))]
    return out


def paragraph_scores(examples, par_probs, thresholds):
    gold, pred = {}, {}
    for e, probs in zip(examples, par_probs):
        for i, n in enumerate(e.numbers):
            gold[(e.doc.id, n)] = {LABELS[k] for k in np.flatnonzero(e.par_y[i])}
            pred[(e.doc.id, n)] = {LABELS[k] for k in np.flatnonzero(probs[i] >= thresholds)}
    return multilabel_scores(gold, pred, LABELS, "subtask 3 (held-out)")


def span_scores(examples, token_probs, thresholds):
    """Span-overlap P/R/F1: label-blind (PTC SI) and label-aware (spans match only their technique)."""
    gold_si, pred_si, gold_lab, pred_lab = {}, {}, {}, {}
    for e, probs in zip(examples, token_probs):
        for s in e.doc.spans:
            gold_si.setdefault(e.doc.id, []).append((s.start, s.end))
            gold_lab.setdefault(f"{e.doc.id}|{s.technique}", []).append((s.start, s.end))
        for start, end, label, _ in decode_spans(e.doc.text, e.tokens, probs, thresholds, LABELS):
            pred_si.setdefault(e.doc.id, []).append((start, end))
            pred_lab.setdefault(f"{e.doc.id}|{label}", []).append((start, end))
    return span_overlap_scores(gold_si, pred_si), span_overlap_scores(gold_lab, pred_lab)


def crossfit(examples, probs, pick, score):
    """Score each half of the held-out articles with thresholds tuned on the other half (2-fold cross-fitting)."""
    halves = [list(range(0, len(examples), 2)), list(range(1, len(examples), 2))]
    results = []
    for tune, test in (halves, halves[::-1]):
        thresholds = tune_thresholds(np.concatenate([probs[i] for i in tune]),
                                     np.concatenate([pick(examples[i]) for i in tune]))
        results.append(score([examples[i] for i in test], [probs[i] for i in test], thresholds))
    return results


def _pooled_micro(results) -> dict:
    c = sum(r.micro.correct for r in results)
    p = sum(r.micro.predicted for r in results)
    g = sum(r.micro.gold for r in results)
    return {"precision": c / p if p else 0.0, "recall": c / g if g else 0.0, "f1": 2 * c / (p + g) if p + g else 0.0}


def log_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def train(cfg: TrainConfig, log=log_progress) -> dict:
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    rng = random.Random(cfg.seed)
    started = time.time()
    corpus = load_english(cfg.data)
    docs = corpus.documents[: cfg.max_articles] if cfg.max_articles else corpus.documents
    tokenizer_path = cfg.extra.get("tokenizer") or (minilm_dir() / "tokenizer.json")
    tokenizer = load_tokenizer(tokenizer_path)
    special = (tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"), tokenizer.token_to_id("[PAD]"))
    examples = [prepare(d, tokenizer, cfg.window, cfg.stride, special) for d in docs]
    folds = assign_folds(docs, cfg.folds, cfg.seed)
    train_ex = [e for e, f in zip(examples, folds) if f != cfg.holdout_fold]
    held_ex = [e for e, f in zip(examples, folds) if f == cfg.holdout_fold]
    log(f"data: {len(docs)} articles ({len(train_ex)} train, {len(held_ex)} held out), "
        f"{sum(len(e.tokens) for e in examples)} word pieces, sha256 {corpus.data_hash[:12]}")

    model = TechniqueModel(build_encoder(cfg.layers, cfg.tiny), len(LABELS))
    heads = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    optimizer = torch.optim.AdamW([{"params": model.encoder.parameters(), "lr": cfg.lr},
                                   {"params": heads, "lr": cfg.head_lr}], weight_decay=0.01)
    steps = cfg.epochs * sum(1 for _ in batches(train_ex, cfg.windows_per_batch, None))
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / max(1, steps - warmup)))
    token_loss = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weights(train_ex, "token_y"))
    par_loss = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weights(train_ex, "par_y"))

    step = 0
    for epoch in range(cfg.epochs):
        model.train()
        total = 0.0
        for batch in batches(train_ex, cfg.windows_per_batch, rng):
            ids, mask, docs_b = collate(batch)
            outputs = model(ids, mask, docs_b)
            loss = sum(par_loss(par, torch.from_numpy(e.par_y)) + token_loss(tok, torch.from_numpy(e.token_y))
                       for e, (tok, par) in zip(batch, outputs)) / len(batch)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            total += loss.item()
            if step % 20 == 0 or step == steps:
                elapsed = time.time() - started
                eta = elapsed / step * (steps - step)
                log(f"epoch {epoch + 1}/{cfg.epochs} step {step}/{steps} loss {total / 20:.4f} "
                    f"elapsed {elapsed / 60:.1f} min eta {eta / 60:.1f} min")
                total = 0.0

    log("predicting the held-out fold")
    predictions = predict(model, held_ex, cfg.windows_per_batch)
    tok_probs = [t for t, _ in predictions]
    par_probs = [p for _, p in predictions]
    par_thr = tune_thresholds(np.concatenate(par_probs), np.concatenate([e.par_y for e in held_ex]))
    tok_thr = tune_thresholds(np.concatenate(tok_probs), np.concatenate([e.token_y for e in held_ex]))
    cross_par = crossfit(held_ex, par_probs, lambda e: e.par_y, paragraph_scores)
    in_sample = paragraph_scores(held_ex, par_probs, par_thr)
    si, labelled = span_scores(held_ex, tok_probs, tok_thr)
    metrics = {
        "held_out_articles": len(held_ex),
        "subtask3_micro_f1_crossfit": round(_pooled_micro(cross_par)["f1"], 4),
        "subtask3_crossfit": {k: round(v, 4) for k, v in _pooled_micro(cross_par).items()},
        "subtask3_micro_f1_tuned_in_sample": round(in_sample.micro.f1, 4),
        "subtask3_macro_f1_tuned_in_sample": round(in_sample.macro_f1, 4),
        "subtask3_macro_f1_gold_labels_in_sample": round(in_sample.macro_f1_gold_labels or 0, 4),
        "per_label_in_sample": {n: round(s.f1, 4) for n, s in in_sample.per_label.items() if s.gold},
        "spans_si_in_sample": {"precision": round(si.micro.precision, 4), "recall": round(si.micro.recall, 4),
                               "f1": round(si.micro.f1, 4)},
        "spans_labelled_in_sample": {"precision": round(labelled.micro.precision, 4),
                                     "recall": round(labelled.micro.recall, 4), "f1": round(labelled.micro.f1, 4)},
        "train_minutes": round((time.time() - started) / 60, 1),
    }
    log(json.dumps({k: v for k, v in metrics.items() if k != "per_label_in_sample"}))
    from .export import export
    export(model, tokenizer_path, cfg, corpus, metrics, par_thr, tok_thr, held_ex, predictions, log)
    return metrics
