"""Which encoder layer should the genre and frame heads read?  Out-of-fold figures per layer.

    python -m slant.training.layer_study --data ../shared/data --checkpoint runs/M/teacher-fp32.pt

Every article runs once through the fine-tuned fp32 encoder of the checkpoint (windows merged as the
runtime merges them), and the states after each layer (0: the embeddings, then every transformer layer)
are pooled as the shipped heads pool them (mean and max).  For each layer and each of the five folds of
``slant train``, the article heads are fitted on the other folds exactly as ``slant train`` fits them
(slant.training.article_fit: the encoder part on the articles the encoder was trained on, the TF-IDF part on
all) and predict the held-out fold.  Reported per layer, official metrics over the out-of-fold predictions:
frames micro-F1 (thresholds cross-fitted, pooled and per fold) and genre macro-F1 (pooled and per fold: only
the clean fold counts for a model trained on genre), for the encoder part alone
and averaged with the TF-IDF part as the runtime averages them.

The encoder was fine-tuned on the technique labels of every article outside its held-out fold, if it has one:
only that fold is unseen text for it (``clean_fold``).  Prints JSON.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from ..article_heads import article_pool
from ..errors import SlantError
from ..heads import merge_windows
from ..windows import encoder_inputs, load_tokenizer, tokenize, window_bounds
from . import article_fit
from .corpus import load_english


def layer_states(model, docs, tokenizer, window: int, stride: int, special) -> list[list[np.ndarray]]:
    """Per document, per layer (0 = embeddings), the merged piece states [n, H] of ``model``'s encoder."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for d in docs:
            tokens = tokenize(tokenizer, d.text)
            bounds = window_bounds(len(tokens), window, stride)
            ids, mask = encoder_inputs(tokens, bounds, *special)
            hidden = model.encoder(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                                   output_hidden_states=True).hidden_states
            out.append([merge_windows(h.numpy(), bounds, len(tokens)) for h in hidden])
    return out


def _figures(data: article_fit.Articles, folds: np.ndarray, genre: np.ndarray, frames: np.ndarray) -> dict:
    labelled = data.labelled
    per_fold = [article_fit.frames_crossfit(data.take(np.flatnonzero((folds == k) & labelled)),
                                            frames[(folds == k) & labelled]) for k in np.unique(folds)]
    genre_per_fold = [article_fit.genre_scores(data.take(np.flatnonzero(folds == k)), genre[folds == k])["macro_f1"]
                      for k in np.unique(folds)]
    return {"frames_micro_f1_crossfit": article_fit.frames_crossfit(data, frames),
            "frames_per_fold": per_fold, "frames_fold_mean": round(float(np.mean(per_fold)), 4),
            "genre_macro_f1": article_fit.genre_scores(data, genre)["macro_f1"], "genre_per_fold": genre_per_fold}


def run(data: str, checkpoint: str, seed: int = 13) -> dict:
    from pathlib import Path

    from ..errors import InputError
    from ..models import load_artifact
    from .model import checkpoint_holdout, load_checkpoint

    if not Path(checkpoint).is_file():
        raise InputError(f"{checkpoint}: no such checkpoint")
    try:
        model, holdout = load_checkpoint(checkpoint), checkpoint_holdout(checkpoint)
    except Exception as e:  # not a checkpoint slant train wrote (torch raises many kinds of error here)
        raise InputError(f"{checkpoint}: not a slant train checkpoint ({type(e).__name__})") from e
    corpus = load_english(data)
    docs = corpus.documents + corpus.article_only
    fold_of = corpus.article_folds(5, seed)
    folds = np.array([fold_of[d.id] for d in docs])
    shipped = load_artifact(verify=False)  # its tokenizer and windows: the runtime's
    m = shipped.manifest
    tokenizer = load_tokenizer(shipped.path / "tokenizer.json")
    states = layer_states(model, docs, tokenizer, int(m["window"]), int(m["stride"]),
                          (m["cls_id"], m["sep_id"], m["pad_id"]))
    unseen = {d.id for d in corpus.article_only}
    if holdout is not None:  # the held-out fold is unseen text too
        unseen |= {d.id for d, f in zip(docs, folds) if f == holdout}
    result = {"checkpoint": str(checkpoint), "articles": len(docs), "clean_fold": holdout, "layers": {}}
    for layer in range(len(states[0])):
        data_l = article_fit.articles(docs, ((article_pool(s[layer]), np.zeros((1, 1))) for s in states),
                                      unseen_ids=unseen)
        parts = article_fit.out_of_fold_parts(data_l, folds)
        genre, frames = article_fit.combine(parts)
        result["layers"][str(layer)] = {
            "encoder_alone": _figures(data_l, folds, parts["encoder"]["genre"], parts["encoder"]["frames"]),
            "encoder_and_tfidf": _figures(data_l, folds, genre, frames)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--checkpoint", required=True, help="a teacher-fp32.pt of slant train")
    args = parser.parse_args()
    try:
        print(json.dumps(run(args.data, args.checkpoint), indent=2))
    except SlantError as e:
        raise SystemExit(f"error: {e}")


if __name__ == "__main__":
    main()
