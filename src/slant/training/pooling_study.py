"""Pooling the piece states of a whole article for genre and frames: mean, max, or learned attention?

    python -m slant.training.pooling_study --data ../shared/data --model DIR [--folds 0]

Every article runs once through the model's encoder (windows merged, as the
runtime does).  For each held-out fold, a linear genre head (class-balanced
cross-entropy) and frame head (binary cross-entropy) are trained with AdamW on
the other folds' pooled states, for each pooling:

* ``mean``, ``max``, ``mean+max`` — fixed poolings (the shipped heads use mean+max);
* ``attention`` — a learned query scores every piece; the pooled vector is the
  softmax-weighted mean of the states (one query per task);
* ``attention+max``;
* with ``--branch``, also ``layer+mean+max`` — an article branch: the encoder layer that follows the one
  the states come from (MiniLM's, pretrained; manifest ``encoder.article_states_layer``) fine-tuned on genre
  and frames over the frozen states (chunks of 256 pieces), then mean+max (about 6 minutes a fold here).

Figures are the official metrics on the held-out fold: subtask-1 macro-F1 and
subtask-2 micro-F1 with frame thresholds cross-fitted inside the fold (as in
``slant train``); pooled over the folds asked for, each pooling's head alone and
averaged with the TF-IDF part (``+ lexical``, as the shipped heads average it),
against the shipped heads themselves (``shipped``: logistic regressions on mean+max,
+ TF-IDF; all fitted on the same folds).  The genre losses are class-balanced per
article.  The model's encoder was fine-tuned with the articles outside its held-out
fold, so only that fold is clean.  Prints JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import taxonomy
from ..article_heads import article_pool
from ..errors import InputError, SlantError
from . import article_fit
from .corpus import load_english
from .fit import balanced_genre_loss

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
    genre_loss, frames_loss = balanced_genre_loss(genre[train_rows]), nn.BCEWithLogitsLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        for batch in np.array_split(rng.permutation(train_rows), max(1, len(train_rows) // 16)):
            loss = 0.0
            for i in batch:
                g, f = model(x[i])
                loss = loss + genre_loss(g, int(genre[i])) \
                    + frames_loss(f, torch.from_numpy(frames[i]))
            optimizer.zero_grad()
            (loss / len(batch)).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        out = [model(x[i]) for i in test_rows]
    return (np.array([torch.softmax(g, 0).numpy() for g, _ in out]),
            np.array([torch.sigmoid(f).numpy() for _, f in out]))


BRANCH = "layer+mean+max"
CHUNK = 256


class Branch(nn.Module):
    """One encoder layer over an article's frozen states, chunk by chunk, then mean+max and linear heads."""

    def __init__(self, hidden: int, layer_index: int):
        super().__init__()
        from transformers import BertConfig, BertModel
        from transformers.utils import logging as hf_logging

        from .model import minilm_dir

        hf_logging.set_verbosity_error()
        config = BertConfig.from_pretrained(str(minilm_dir()))
        if config.hidden_size == hidden:
            bert = BertModel.from_pretrained(str(minilm_dir()), num_hidden_layers=layer_index + 1,
                                             add_pooling_layer=False, attn_implementation="eager").float()
            self.layer = bert.encoder.layer[layer_index]
        else:  # a --tiny model's states: a fresh layer of their width
            tiny = BertConfig(hidden_size=hidden, num_attention_heads=2, intermediate_size=2 * hidden,
                              attn_implementation="eager")
            self.layer = BertModel(tiny, add_pooling_layer=False).encoder.layer[0]
        self.norm = nn.LayerNorm(2 * hidden)
        self.genre = nn.Linear(2 * hidden, GENRES)
        self.frames = nn.Linear(2 * hidden, FRAMES)

    @staticmethod
    def chunks(states: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        n, hidden = states.shape
        k = max(1, -(-n // CHUNK))
        x, mask = np.zeros((k, CHUNK, hidden), np.float32), np.zeros((k, CHUNK), np.float32)
        for i in range(k):
            part = states[i * CHUNK:(i + 1) * CHUNK]
            x[i, :len(part)], mask[i, :len(part)] = part, 1
        return torch.from_numpy(x), torch.from_numpy(mask)

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        out = self.layer(x, attention_mask=(1 - mask)[:, None, None, :] * -1e4)
        v = (out[0] if isinstance(out, tuple) else out)[mask.bool()]
        z = self.norm(torch.cat([v.mean(0), v.max(0).values]))
        return self.genre(z), self.frames(z)


def fit_predict_branch(states, genre, frames, train_rows, test_rows, layer_index, epochs=8, seed=13):
    torch.manual_seed(seed)
    model = Branch(states[0].shape[1], layer_index)
    x = {i: Branch.chunks(states[i]) for i in [*train_rows, *test_rows]}
    genre_loss, frames_loss = balanced_genre_loss(genre[train_rows]), nn.BCEWithLogitsLoss()
    layer = [p for n, p in model.named_parameters() if n.startswith("layer.")]
    heads = [p for n, p in model.named_parameters() if not n.startswith("layer.")]
    optimizer = torch.optim.AdamW([{"params": layer, "lr": 5e-5}, {"params": heads, "lr": 1e-3}], weight_decay=0.01)
    batch, rng = 8, np.random.default_rng(seed)
    steps = epochs * -(-len(train_rows) // batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(  # 10% warm-up, then linear decay
        optimizer, lambda s: min(1.0, (s + 1) / max(1, 0.1 * steps)) * max(0.0, 1 - s / steps))
    for _ in range(epochs):
        model.train()
        order = rng.permutation(train_rows)
        for b in range(0, len(order), batch):
            optimizer.zero_grad()
            for i in order[b:b + batch]:
                g, f = model(*x[i])
                loss = genre_loss(g, int(genre[i])) + frames_loss(f, torch.from_numpy(frames[i]))
                (loss / batch).backward()
            optimizer.step()
            schedule.step()
    model.eval()
    with torch.no_grad():
        out = [model(*x[i]) for i in test_rows]
    return (np.array([torch.softmax(g, 0).numpy() for g, _ in out]),
            np.array([torch.sigmoid(f).numpy() for _, f in out]))


def _scores(held, genre_p, frame_p) -> dict:
    return {"genre_macro_f1": article_fit.genre_scores(held, genre_p)["macro_f1"],
            "frames_micro_f1_crossfit": article_fit.frames_crossfit(held, frame_p)}


def run(data, model, folds=(0,), seed: int = 13, branch: bool = False) -> dict:
    from ..runtime import load_detector

    torch.set_num_threads(2)
    corpus = load_english(data)
    docs = corpus.documents + corpus.article_only
    fold_of = corpus.article_folds(5, seed)
    fold = np.array([fold_of[d.id] for d in docs])
    detector = load_detector(model)
    layer_index = detector.artifact.manifest.get("encoder", {}).get("article_states_layer")
    if branch and layer_index is None:
        raise InputError(f"{model}: its encoder has no article_states output, so no layer follows its states")
    states = [detector.encode(d.text)[2].astype(np.float32) for d in docs]   # every piece's: the poolings studied
    articles = article_fit.articles(docs, ((article_pool(s), np.zeros((1, 1))) for s in states),
                                    unseen_ids={d.id for d in corpus.article_only})
    labelled = articles.labelled
    held_rows = np.flatnonzero(np.isin(fold, folds) & labelled)
    held = articles.take(held_rows)
    shipped = article_fit.out_of_fold_parts(articles, fold)  # the shipped heads' parts, fitted per fold
    lexical = {task: shipped["lexical"][task][held_rows] for task in ("genre", "frames")}
    result = {"model": str(model), "folds": list(folds), "poolings": {},
              "pooled": {"shipped": _scores(held, *(p[held_rows] for p in article_fit.combine(shipped)))}}
    for pooling in [*POOLINGS, *([BRANCH] if branch else [])]:
        figures, genre_p, frame_p = [], np.zeros((len(docs), GENRES)), np.zeros((len(docs), FRAMES))
        for k in folds:
            train_rows = np.flatnonzero((fold != k) & labelled & articles.seen)
            test_rows = np.flatnonzero((fold == k) & labelled)
            if pooling == BRANCH:
                g, f = fit_predict_branch(states, articles.genre, articles.frames, train_rows, test_rows, layer_index)
            else:
                g, f = fit_predict(states, articles.genre, articles.frames, train_rows, test_rows, pooling)
            genre_p[test_rows], frame_p[test_rows] = g, f
            figures.append({"fold": int(k), **_scores(articles.take(test_rows), g, f)})
        result["poolings"][pooling] = figures
        g, f = genre_p[held_rows], frame_p[held_rows]
        result["pooled"][pooling] = _scores(held, g, f)
        result["pooled"][f"{pooling} + lexical"] = _scores(held, (g + lexical["genre"]) / 2, (f + lexical["frames"]) / 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--folds", default="0", help="comma-separated held-out folds (default 0, the clean one)")
    parser.add_argument("--branch", action="store_true",
                        help=f"also train the article branch ({BRANCH}: one more encoder layer, fine-tuned)")
    args = parser.parse_args()
    try:
        result = run(Path(args.data), Path(args.model), [int(k) for k in args.folds.split(",")], branch=args.branch)
    except SlantError as e:
        raise SystemExit(f"error: {e}") from None
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
