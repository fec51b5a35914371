"""Which parts should the genre head average?  Out-of-fold figures on the English train articles.

    python -m slant.training.genre_study --data ../shared/data [--model DIR]

Folds are those of ``slant train`` (seed 13, near-duplicates together; the
genre-only articles in folds of their own).  For every fold, each part is fitted
on the other four exactly as ``slant train`` fits it (slant.training.article_fit)
and predicts the held-out articles; the official subtask-1 metric (macro-F1) is
reported over all out-of-fold predictions pooled and as the mean of the five folds.

Parts: ``lexical`` (TF-IDF + LR), ``style`` (slant.style + LR) and, with
``--model``, ``encoder`` (LR on the pooled states of that model's encoder, fitted
like ``slant train`` on the training articles the encoder was trained on).  An
encoder was fine-tuned (on technique labels, not genre) on every article with
technique labels except its held-out fold, if it has one: only that fold and the
genre-only articles are unseen text for it.  The study also fits the encoder part
on the unseen articles too (as slant did before: the genre-only articles are all
satire, so the part learned that unseen text is satire) and counts, per variant,
the opinion and reporting articles it calls satire among those the encoder saw
and those it did not (a held-out-fold model has unseen ones).

It also asks whether the other five languages' genre labels help: the style part
(language-neutral numbers; each language's own short word lists; features
standardised within each language) trained on English plus fr/ge/it/po/ru, and,
per other language, its own 5-fold figure and the figure when trained on the rest.
Prints JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from .. import taxonomy
from ..article_heads import softmax
from ..errors import SlantError
from ..evaluate import single_label_scores
from ..formats import read_articles, semeval
from ..lexical import LexicalHead
from ..style import Lexicon, style_features
from . import article_fit
from .corpus import load_english

GENRES = list(taxonomy.GENRES)
OTHER_LANGUAGES = {
    "fr": Lexicon("je j me moi mon ma mes nous notre nos", "tu toi ton ta tes vous votre vos",
                  "déclaré dit selon annoncé indiqué affirmé expliqué ajouté précisé souligné"),
    "ge": Lexicon("ich mich mir mein meine meinen meinem meiner wir uns unser unsere unseren",
                  "du dich dir dein deine ihr euch euer eure",
                  "sagte sagt erklärte laut berichtete teilte betonte sagten hieß"),
    "it": Lexicon("io mi me mio mia miei mie noi ci nostro nostra nostri nostre",
                  "tu te ti tuo tua voi vi vostro vostra",
                  "detto dichiarato secondo affermato spiegato annunciato riferito sottolineato"),
    "po": Lexicon("ja mnie mi mój moja moje my nas nam nasz nasza nasze",
                  "ty ciebie cię ci twój twoja wy was wam wasz wasza",
                  "powiedział powiedziała według poinformował oświadczył dodał zapowiedział podkreślił"),
    "ru": Lexicon("я меня мне мой моя моё мои мы нас нам наш наша наши", "ты тебя тебе твой вы вас вам ваш ваша",
                  "сказал сказала заявил заявила словам сообщил сообщила отметил добавил подчеркнул"),
}


def macro_f1(gold: np.ndarray, probs: np.ndarray) -> float:
    ids = [str(i) for i in range(len(gold))]
    s = single_label_scores(dict(zip(ids, (GENRES[g] for g in gold))),
                            dict(zip(ids, (GENRES[int(k)] for k in probs.argmax(1)))), "subtask 1")
    return round(float(s.macro_f1), 4)


def _figures(gold, probs, folds) -> dict:
    per = [macro_f1(gold[folds == k], probs[folds == k]) for k in sorted(set(folds.tolist()))]
    return {"macro_f1_pooled": macro_f1(gold, probs), "macro_f1_fold_mean": round(float(np.mean(per)), 4),
            "per_fold": per}


def _zscore(x, rows):
    """``x`` standardised with the statistics of its ``rows``."""
    mean, scale = article_fit.scaling(x[rows])
    return (x - mean) / scale


def _style_probs(x_train, y_train, x_test):
    w, b = article_fit.fit_style_part(x_train, y_train)
    return softmax(x_test @ w + b)


def _other_languages(data: Path) -> dict:
    out = {}
    for lang, lexicon in OTHER_LANGUAGES.items():
        base = data / "semeval2023" / lang
        if not (base / "train-labels-subtask-1.txt").is_file():
            continue
        rows = semeval.read_subtask1(base / "train-labels-subtask-1.txt")
        docs = {d.id: d for d in read_articles(base / "train-articles", lang)}
        x = np.array([style_features(docs[r.article_id].text, lexicon) for r in rows], dtype=np.float64)
        out[lang] = (_zscore(x, slice(None)), np.array([GENRES.index(r.genre) for r in rows]))
    return out


def run(data: str | Path, model: str | Path | None = None, seed: int = 13) -> dict:
    data = Path(data)
    corpus = load_english(data)
    docs = [d for d in corpus.documents + corpus.article_only if d.genre is not None]
    fold_of = corpus.article_folds(5, seed)
    folds = np.array([fold_of[d.id] for d in docs])
    gold = np.array([GENRES.index(d.genre.name) for d in docs])
    texts = [d.text for d in docs]
    style = np.array([style_features(t) for t in texts], dtype=np.float64)
    encoder, holdout = None, None
    if model is not None:
        import dataclasses

        from ..models import load_artifact
        from ..runtime import Detector
        artifact = load_artifact(model)  # its own genre and frame heads are not used (they may be an older kind)
        detector = Detector(dataclasses.replace(artifact, article=None))
        holdout = artifact.manifest.get("training", {}).get("holdout_fold")
        pooled = []
        for d in docs:
            _, states_pool, _, parts = detector.parts(d.text, [(p.start, p.end) for p in d.paragraphs])
            pooled.append(article_fit.article_features(states_pool, detector.combine(parts), article_fit.DEFAULT_FEATURES))
        encoder = np.array(pooled, dtype=np.float64)
    # the articles whose text the encoder was trained on: not the genre-only ones, not a held-out fold
    genre_only = {d.id for d in corpus.article_only}
    seen = np.array([d.id not in genre_only and folds[i] != holdout for i, d in enumerate(docs)])
    others = _other_languages(data)
    other_x = np.vstack([x for x, _ in others.values()] or [np.zeros((0, style.shape[1]))])
    other_y = np.concatenate([y for _, y in others.values()] or [np.zeros(0, dtype=int)])

    parts = {name: np.zeros((len(docs), len(GENRES))) for name in
             ["majority", "lexical", "style", "style, trained with 5 more languages"]
             + (["encoder", "encoder, fitted on unseen articles too"] if model else [])}
    for k in range(5):
        tr, te = folds != k, folds == k
        parts["majority"][te, np.bincount(gold[tr], minlength=3).argmax()] = 1
        arrays = article_fit.fit_lexical_part([texts[i] for i in np.flatnonzero(tr)], gold[tr],
                                              np.zeros((tr.sum(), 14)), 4.0, 2)
        lexical = LexicalHead.from_arrays({n[len("lexical_"):]: v for n, v in arrays.items()})
        parts["lexical"][te] = softmax(lexical.logits([texts[i] for i in np.flatnonzero(te)])[:, :3])
        parts["style"][te] = _style_probs(style[tr], gold[tr], style[te])
        z = _zscore(style, tr)
        parts["style, trained with 5 more languages"][te] = _style_probs(
            np.vstack([z[tr], other_x]), np.concatenate([gold[tr], other_y]), z[te])
        if encoder is not None:
            for name, rows in (("encoder", tr & seen), ("encoder, fitted on unseen articles too", tr)):
                w, b = article_fit.fit_encoder_part(encoder[rows], gold[rows], np.zeros((rows.sum(), 14)),
                                                    article_fit.C_ENCODER)
                parts[name][te] = softmax(encoder[te] @ w[:, :3] + b[:3])

    result = {"articles": len(docs), "genres": {g: int((gold == i).sum()) for i, g in enumerate(GENRES)},
              "model": str(model) if model else None, "english_out_of_fold": {}}
    averaged = [n for n in ("encoder", "lexical", "style") if n in parts]
    for r in range(1, len(averaged) + 1):
        for combo in itertools.combinations(averaged, r):
            probs = np.mean([parts[n] for n in combo], axis=0)
            result["english_out_of_fold"]["+".join(combo)] = _figures(gold, probs, folds)
    for name in ("majority", "style, trained with 5 more languages") + (
            ("encoder, fitted on unseen articles too",) if model else ()):
        result["english_out_of_fold"][name] = _figures(gold, parts[name], folds)
    if encoder is not None:  # satire calls on opinion and reporting articles, by whether the encoder saw them
        plain = gold != GENRES.index("satire")
        result["satire_calls_on_opinion_and_reporting"] = {
            name: {which: f"{int((parts[name][rows].argmax(1) == GENRES.index('satire')).sum())} of {int(rows.sum())}"
                   for which, rows in (("seen by the encoder", plain & seen), ("not seen", plain & ~seen))}
            for name in ("encoder", "encoder, fitted on unseen articles too")}

    result["other_languages_style"] = {}
    for lang, (x, y) in others.items():
        rng = np.random.default_rng(seed)
        fold = np.empty(len(y), dtype=int)
        for g in range(3):  # stratified folds
            rows = rng.permutation(np.flatnonzero(y == g))
            fold[rows] = np.arange(len(rows)) % 5
        own = np.zeros((len(y), 3))
        for k in range(5):
            own[fold == k] = _style_probs(x[fold != k], y[fold != k], x[fold == k])
        rest_x = np.vstack([others[m][0] for m in others if m != lang] + [_zscore(style, slice(None))])
        rest_y = np.concatenate([others[m][1] for m in others if m != lang] + [gold])
        result["other_languages_style"][lang] = {"articles": len(y), "own_5_fold": macro_f1(y, own),
                                                 "trained_on_the_other_languages": macro_f1(
                                                     y, _style_probs(rest_x, rest_y, x))}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", default=None, help="a model folder whose encoder gives the encoder part")
    args = parser.parse_args()
    try:
        print(json.dumps(run(args.data, args.model), indent=2))
    except SlantError as e:
        raise SystemExit(f"error: {e}")


if __name__ == "__main__":
    main()
