"""Pooling the piece states of a whole article for genre and frames: mean, max, or learned attention?

    python -m slant.training.pooling_study --data ../shared/data --model DIR [--folds 0]

Every article runs once through the model's encoder (windows merged, as the
runtime does).  For each held-out fold, a linear genre head (class-balanced
cross-entropy) and frame head (binary cross-entropy) are trained with AdamW on
the other folds' pooled states, for each pooling:

* ``mean``, ``max``, ``mean+max`` — fixed poolings (the shipped heads use mean+max);
* ``attention`` — a learned query scores every piece; the pooled vector is the
  softmax-weighted mean of the states (one query per task);
* ``attention+max``.

Figures are the official metrics on the held-out fold: subtask-1 macro-F1 and
subtask-2 micro-F1 with frame thresholds cross-fitted inside the fold (as in
``slant train``).  The model's encoder was fine-tuned with the articles outside
its held-out fold, so only that fold is clean.  Prints JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import taxonomy
from . import article_fit
from .corpus import assign_folds, load_english

POOLINGS = ("mean", "max", "mean+max", "attention", "attention+max")
GENRES, FRAMES = len(taxonomy.GENRES), len(taxonomy.FRAMES)


class PooledHeads(nn.Module):
    def __init__(self, hidden: int, pooling: str):
        super().__init__()
        self.pooling = pooling
        width = hidden * (2 if "+" in pooling else 1)
        self.query = nn.Parameter(torch.zeros(2, hidden)) if pooling.startswith("attention") else None
        self.genre = nn.Linear(width, GENRES)
        self.frames = nn.Linear(width, FRAMES)

    def pooled(self, states: torch.Tensor, task: int) -> torch.Tensor:
        parts = []
        for how in self.pooling.split("+"):
            if how == "mean":
                parts.append(states.mean(0))
            elif how == "max":
                parts.append(states.max(0).values)
            else:
                weights = torch.softmax(states @ self.query[task], dim=0)
                parts.append(weights @ states)
        return torch.cat(parts)

    def forward(self, states: torch.Tensor):
        return self.genre(self.pooled(states, 0)), self.frames(self.pooled(states, 1))


def fit_predict(states, genre, frames, train_rows, test_rows, pooling, epochs=30, seed=13):
    torch.manual_seed(seed)
    mean, std = article_fit.scaling(np.concatenate([states[i] for i in train_rows]))
    x = [torch.from_numpy(((s - mean) / std).astype(np.float32)) for s in states]
    model = PooledHeads(states[0].shape[1], pooling)
    counts = np.bincount(genre[train_rows], minlength=GENRES).astype(np.float64)
    weights = torch.tensor(counts.sum() / (GENRES * np.maximum(counts, 1)), dtype=torch.float32)
    genre_loss, frames_loss = nn.CrossEntropyLoss(weight=weights), nn.BCEWithLogitsLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        for batch in np.array_split(rng.permutation(train_rows), max(1, len(train_rows) // 16)):
            loss = 0.0
            for i in batch:
                g, f = model(x[i])
                loss = loss + genre_loss(g.unsqueeze(0), torch.tensor([genre[i]])) \
                    + frames_loss(f, torch.from_numpy(frames[i]))
            optimizer.zero_grad()
            (loss / len(batch)).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        out = [model(x[i]) for i in test_rows]
    return (np.array([torch.softmax(g, 0).numpy() for g, _ in out]),
            np.array([torch.sigmoid(f).numpy() for _, f in out]))


def run(data, model, folds=(0,), seed: int = 13) -> dict:
    from ..runtime import load_detector

    torch.set_num_threads(2)
    corpus = load_english(data)
    docs = corpus.documents + corpus.article_only
    fold = np.array(assign_folds(corpus.documents, 5, seed) + assign_folds(corpus.article_only, 5, seed))
    detector = load_detector(model)
    states = []
    for d in docs:
        _, s, _, _ = detector.parts(d.text, [(p.start, p.end) for p in d.paragraphs])
        states.append(s.astype(np.float32))
    articles = article_fit.articles(docs, ((s, np.zeros((1, 1))) for s in states),
                                    unseen_ids={d.id for d in corpus.article_only})
    labelled = articles.labelled
    result = {"model": str(model), "folds": list(folds), "poolings": {}}
    for pooling in POOLINGS:
        figures = []
        for k in folds:
            train_rows = np.flatnonzero((fold != k) & labelled & articles.seen)
            test_rows = np.flatnonzero((fold == k) & labelled)
            genre_p, frame_p = fit_predict(states, articles.genre, articles.frames, train_rows, test_rows, pooling)
            held = articles.take(test_rows)
            figures.append({"fold": int(k),
                            "genre_macro_f1": article_fit.genre_scores(held, genre_p)["macro_f1"],
                            "frames_micro_f1_crossfit": article_fit.frames_crossfit(held, frame_p)})
        result["poolings"][pooling] = figures
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--folds", default="0", help="comma-separated held-out folds (default 0, the clean one)")
    args = parser.parse_args()
    print(json.dumps(run(Path(args.data), Path(args.model), [int(k) for k in args.folds.split(",")]), indent=2))


if __name__ == "__main__":
    main()
