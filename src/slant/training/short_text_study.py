"""How short can a text be for genre and frames?  Out-of-fold figures on English train articles cut short.

    python -m slant.training.short_text_study --data ../shared/data [--model DIR] [--words 0,25,50,75,100,150,200]

People paste a paragraph, a tweet or a headline as readily as an article, and the genre and frame heads were
fitted on articles of 112 words and more (median 703).  Each of the 433 articles with genre and frames is cut
after its first N words, title included (N = 0: the title alone); the heads are fitted per fold exactly as ``slant train`` fits
them (``article_fit.fit``, on the full articles of the other folds) and predict the held-out fold's cut
articles.  Frame thresholds, the frames' calibration and the genre temperature are those tuned on the
full-length out-of-fold predictions, as the shipped ones are.  Per N: genre macro-F1 (official subtask-1
metric), accuracy, the mean probability of the genre called and the genres called; frames micro-F1 (subtask
2), frames reported per article, the mean reported score — calibrated by the full-length map, which is what
the frames' own map for texts under 100 words (``article_fit.short_text_map``, fitted at export) corrects — and
the share of reported frames that are right.  The encoder of the model (the shipped one by default) saw every article's technique labels, so
the full-length row leans optimistic; the fall with N is what this measures.  Prints JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..article_heads import temper, word_count
from ..errors import SlantError
from ..heads import calibrated
from . import article_fit
from .corpus import load_english


def _figures(data: article_fit.Articles, genre_p: np.ndarray, frame_p: np.ndarray, tuned: dict) -> dict:
    genre_p = temper(genre_p, tuned["genre_temperature"])
    genre = article_fit.genre_scores(data, genre_p)
    hot = frame_p >= tuned["thresholds"]
    scores = calibrated(frame_p, np.array(tuned["frame_calibration"]["slope"]),
                        np.array(tuned["frame_calibration"]["intercept"]))
    right = data.frames > 0
    r = lambda x: round(float(x), 4)  # noqa: E731
    return {"genre_macro_f1": genre["macro_f1"], "genre_accuracy": genre["accuracy"],
            "genre_mean_probability_of_the_genre_called": r(genre_p.max(1).mean()),
            "genres_called": genre["predicted"],
            "frames_micro_f1": r(article_fit.frame_scores(data, frame_p, tuned["thresholds"]).micro.f1),
            "frames_reported_per_article": r(hot.sum(1).mean()),
            "frames_reported_mean_score": r(scores[hot].mean()) if hot.any() else None,
            "frames_reported_share_right": r(right[hot].mean()) if hot.any() else None}


def run(data: str | Path, model: str | Path | None = None, words=(0, 25, 50, 75, 100, 150, 200), seed: int = 13) -> dict:
    from ..runtime import load_detector

    corpus = load_english(data)
    docs = [d for d in corpus.documents + corpus.article_only if d.genre is not None and d.frames is not None]
    fold_of = corpus.article_folds(5, seed)
    folds = np.array([fold_of[d.id] for d in docs])
    unseen = {d.id for d in corpus.article_only}
    detector = load_detector(model)
    full = article_fit.through(detector, docs, unseen)
    fitted = article_fit.fold_heads(full, folds)

    def out_of_fold(data_: article_fit.Articles) -> tuple[np.ndarray, np.ndarray]:
        return article_fit.combine(article_fit.predict_by_fold(fitted, article_fit.DEFAULT_FEATURES, data_, folds))

    genre_full, frames_full = out_of_fold(full)
    thresholds = article_fit.tune_frames(full, frames_full)
    frame_map, _ = article_fit.frame_calibration(full, frames_full, thresholds)
    temperature, _ = article_fit.genre_calibration(full, genre_full)
    tuned = {"thresholds": thresholds, "frame_calibration": frame_map, "genre_temperature": temperature}
    lengths = [word_count(d.text) for d in docs]
    result = {"model": str(model) if model else "shipped", "articles": len(docs),
              "words_per_article": {"min": int(min(lengths)), "median": float(np.median(lengths))},
              "by_words": {}}
    for n in words:
        short = [article_fit.cut(d, n) for d in docs]
        cut_data = article_fit.through(detector, short, unseen)
        result["by_words"][str(n)] = _figures(cut_data, *out_of_fold(cut_data), tuned)
    result["by_words"]["full"] = _figures(full, genre_full, frames_full, tuned)
    return result


def _lengths(text: str) -> list[int]:
    """``--words``: comma-separated word counts, each 0 or more."""
    try:
        words = [int(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give whole numbers separated by commas, e.g. 0,50,100") from None
    if any(w < 0 for w in words):
        raise argparse.ArgumentTypeError(f"{text!r}: a length cannot be negative")
    return words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", default=None, help="a model folder (default: the shipped model)")
    parser.add_argument("--words", type=_lengths, default="0,25,50,75,100,150,200",
                        help="lengths to cut to, in words from the start (0: the title alone)")
    args = parser.parse_args()
    try:
        print(json.dumps(run(args.data, args.model, args.words), indent=2))
    except SlantError as e:
        raise SystemExit(f"error: {e}")


if __name__ == "__main__":
    main()
