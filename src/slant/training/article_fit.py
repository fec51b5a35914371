"""Genre and frame heads on top of an exported technique model: fit, tune, measure.

The encoder is frozen: each article runs once through the exported (int8)
model, and its pooled states and technique probabilities become the features of
logistic regressions (class-balanced, standardisation folded into the weights);
a TF-IDF + logistic regression head on the article text (genre and frames) and a
logistic regression over style features (genre) are fitted beside them, and the
runtime averages, per task, the parts the manifest names (``ENSEMBLE``: chosen on
out-of-fold figures, see docs/model-history.md).  Frame thresholds are tuned per frame (jointly for
micro-F1), and the temperature of the genre probabilities for log loss, on the held-out
fold — for a model trained on every article, on out-of-fold predictions; the reported
figures use thresholds and temperatures cross-fitted inside it (tuned on one half of its
articles, scored on the other), as for techniques.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import taxonomy
from ..article_heads import FEATURES, GENRE_MIN_WORDS, WORD, ArticleHeads, article_features, temper
from ..document import Document
from ..evaluate import multilabel_scores, single_label_scores
from ..style import style_features

GENRES, FRAMES = list(taxonomy.GENRES), list(taxonomy.FRAMES)
DEFAULT_FEATURES = ["states_mean", "states_max"]
POOLINGS = {"mean": ["states_mean"], "max": ["states_max"], "mean+max": ["states_mean", "states_max"],
            "mean+max+techniques": ["states_mean", "states_max", "techniques_mean", "techniques_max"],
            "techniques": ["techniques_mean", "techniques_max"]}
# Genre averages the encoder and TF-IDF parts. The encoder part is fitted only on articles the technique encoder
# was trained on: its states are those of a model that has seen the text, and the articles that have genre and
# frames but no technique labels (7, all satire) were never seen — a genre head fitted on both learned "unseen
# text = satire" and called 34 of the 90 English dev articles satire (docs/model-history.md). Frames average the same parts.
# (Earlier: the style part's signal on the training articles came from how their sources break lines; putting
# each sentence on a line of its own turned 109 of 446 articles into satire, so it is measured, not used.)
ENSEMBLE = {"genre": ["encoder", "lexical"], "frames": ["encoder", "lexical"]}
C_ENCODER = 0.01
C_STYLE = 0.1
# Texts under GENRE_MIN_WORDS words get a frame map of their own, fitted on the labelled articles cut after
# their first N words for each N here (out of fold; the frames of a cut article are the full article's): cut
# short, the reported frames were right less often than the full-length map said (0.57-0.61 right at 0-75 words
# against a mean score of 0.65-0.66; 0.69 right and 0.67 said in full; slant.training.short_text_study).
SHORT_CUTS = (10, 25, 50, 75)


@dataclass
class Articles:
    """Articles with labels and, per feature name, one pooled vector per article."""

    docs: list[Document]
    pooled: dict[str, np.ndarray]
    style: np.ndarray    # [n, len(style.NAMES)]
    genre: np.ndarray    # [n] index into GENRES, -1 when the article has no genre label
    frames: np.ndarray   # [n, 14]
    labelled: np.ndarray  # [n] bool: genre and frames known
    seen: np.ndarray  # [n] bool: the encoder was trained on this article's text (it has technique labels)

    def take(self, rows) -> "Articles":
        rows = list(rows)
        return Articles([self.docs[i] for i in rows], {k: v[rows] for k, v in self.pooled.items()},
                        self.style[rows], self.genre[rows], self.frames[rows], self.labelled[rows], self.seen[rows])

    def x(self, names) -> np.ndarray:
        return np.hstack([self.pooled[n] for n in names])

    @property
    def texts(self) -> list[str]:
        return [d.text for d in self.docs]


def cut(doc: Document, words: int) -> Document:
    """``doc`` cut after its first ``words`` words, title included (0: its title line alone), labels kept."""
    if words:
        ends = [m.end() for m in WORD.finditer(doc.text)]
        end = ends[words - 1] if len(ends) > words else len(doc.text)
    else:
        end = doc.text.find("\n") if "\n" in doc.text else len(doc.text)
    short = Document(doc.id, doc.text[:end].rstrip() or doc.text)
    short.genre, short.frames = doc.genre, doc.frames
    return short


def short_versions(docs: list[Document], cuts=SHORT_CUTS) -> tuple[list[Document], np.ndarray]:
    """(the labelled documents of ``docs`` cut short, once per length in ``cuts``; for each, the index in
    ``docs`` of the document it was cut from)."""
    pairs = [(i, n) for i, d in enumerate(docs) if d.genre is not None and d.frames is not None for n in cuts]
    return [cut(docs[i], n) for i, n in pairs], np.array([i for i, _ in pairs], dtype=int)


def articles(docs: list[Document], pools_and_probs, unseen_ids=frozenset()) -> Articles:
    """``pools_and_probs``: per document, (``article_pool`` of its piece states [2H], paragraph technique
    probabilities [P, K]), as ``Detector.parts`` gives them; ``unseen_ids``: the articles whose text the
    encoder was not trained on (genre and frames only)."""
    pooled = {name: [] for name in FEATURES}
    for states_pool, probs in pools_and_probs:
        for name in FEATURES:
            pooled[name].append(article_features(states_pool, probs, [name]))
    genre = np.array([GENRES.index(d.genre.name) if d.genre else -1 for d in docs])
    frames = np.zeros((len(docs), len(FRAMES)), dtype=np.float32)
    for i, d in enumerate(docs):
        for f in d.frames or []:
            frames[i, FRAMES.index(f.name)] = 1
    labelled = np.array([d.genre is not None and d.frames is not None for d in docs])
    style = np.array([style_features(d.text) for d in docs], dtype=np.float32).reshape(len(docs), -1)
    seen = np.array([d.id not in unseen_ids for d in docs], dtype=bool)
    return Articles(docs, {k: np.array(v, dtype=np.float32) for k, v in pooled.items()}, style, genre, frames,
                    labelled, seen)


def through(detector, docs: list[Document], unseen_ids=frozenset()) -> Articles:
    """``articles`` of ``docs``, each run once through ``detector`` (a runtime Detector)."""
    def run():
        for d in docs:
            _, states_pool, _, parts = detector.parts(d.text, [(p.start, p.end) for p in d.paragraphs])
            yield states_pool, detector.combine(parts)
    return articles(docs, run(), unseen_ids)


def _genre_columns(x, genre: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    """A class-balanced multinomial regression over the genres present: coef [F, 3], intercept [3];
    a genre absent from training gets a logit far below the others."""
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((x.shape[1], len(GENRES)), dtype=np.float32)
    intercept = np.full(len(GENRES), -30.0, dtype=np.float32)
    present = sorted(set(genre.tolist()))
    if len(present) == 1:
        intercept[present[0]] = 0.0
        return coef, intercept
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(x, genre)
    if len(present) == 2:  # sklearn fits one binary column for the second class
        coef[:, present[1]], intercept[present[1]] = clf.coef_[0], clf.intercept_[0]
        intercept[present[0]] = 0.0
    else:
        coef[:, present] = clf.coef_.T
        intercept[present] = clf.intercept_
    return coef, intercept


def scaling(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and scale for standardising like ``x``; a constant column keeps scale 1."""
    mean, std = x.mean(0), x.std(0)
    return mean, np.where(std > 1e-4, std, 1.0)


def _standardised(x: np.ndarray):
    mean, scale = scaling(x)
    return (x - mean) / scale, mean, scale


def fit_encoder_part(x: np.ndarray, genre: np.ndarray, frames: np.ndarray, c: float):
    """(w [F, 17], b [17]) over raw features, standardisation folded in."""
    from .lexical_fit import binary_columns

    z, mean, scale = _standardised(x)
    gw, gb = _genre_columns(z, genre, c)
    fw, fb = binary_columns(z, frames, c)
    w = np.hstack([gw, fw]) / scale[:, None]
    b = np.concatenate([gb, fb]) - mean @ w
    return w.astype(np.float32), b.astype(np.float32)


def fit_style_part(x: np.ndarray, genre: np.ndarray, c: float = C_STYLE):
    """(w [S, 3], b [3]) over raw style features, standardisation folded in."""
    z, mean, scale = _standardised(x.astype(np.float64))
    gw, gb = _genre_columns(z, genre, c)
    w = gw / scale[:, None]
    return w.astype(np.float32), (gb - mean @ w).astype(np.float32)


def fit_lexical_part(texts: list[str], genre: np.ndarray, frames: np.ndarray, c: float, min_df: int):
    from .lexical_fit import binary_columns, lexical_arrays, tfidf

    vec, x = tfidf(texts, min_df)
    gw, gb = _genre_columns(x, genre, c)
    fw, fb = binary_columns(x, frames, c)
    arrays = lexical_arrays(vec, np.hstack([gw, fw]), np.concatenate([gb, fb]))
    return {f"lexical_{k}": v for k, v in arrays.items()}


def encoder_rows(data: Articles) -> Articles:
    """The articles the encoder part is fitted on: those whose text the encoder was trained on (all, when
    none was)."""
    return data.take(np.flatnonzero(data.seen)) if data.seen.any() else data


def fit(train: Articles, features=DEFAULT_FEATURES, c_encoder: float = C_ENCODER, c_lexical: float = 4.0,
        min_df: int = 2) -> dict[str, np.ndarray]:
    """Arrays of article.npz, fitted on the labelled articles of ``train`` (the encoder part on those the
    encoder has seen; with none, on all)."""
    t = train.take(np.flatnonzero(train.labelled))
    e = encoder_rows(t)
    w, b = fit_encoder_part(e.x(features), e.genre, e.frames, c_encoder)
    sw, sb = fit_style_part(t.style, t.genre)
    return {"encoder_w": w, "encoder_b": b, "style_w": sw, "style_b": sb,
            **fit_lexical_part(t.texts, t.genre, t.frames, c_lexical, min_df if len(t.docs) > 20 else 1)}


def section(features, thresholds, genre_temperature: float = 1.0, frame_calibration: dict | None = None) -> dict:
    """The manifest's ``article`` section; ``frame_calibration`` ({slope, intercept}, one per frame; optionally
    ``short``, the map for texts under ``under_words`` words) makes the runtime report calibrated frame scores."""
    out = {"genres": GENRES, "frames": FRAMES, "features": list(features), "ensemble": ENSEMBLE,
           "frame_thresholds": [round(float(x), 4) for x in thresholds],
           "genre_temperature": round(float(genre_temperature), 2)}
    if frame_calibration is not None:
        out["frame_calibration"] = {k: frame_calibration[k] for k in ("slope", "intercept", "short")
                                    if k in frame_calibration}
    return out


def predict_parts(arrays: dict, features, data: Articles) -> dict[str, dict[str, np.ndarray]]:
    """{part: {task: probabilities [n, 3 or 14]}}, through the runtime's ArticleHeads."""
    heads = ArticleHeads(arrays, section(features, [0.5] * len(FRAMES)))
    x = data.x(features)
    rows = [heads.score(x[i], d.text) for i, d in enumerate(data.docs)]
    return {p: {task: np.array([r[p][task] for r in rows]) for task in rows[0][p]} for p in rows[0]}


def combine(parts: dict, ensemble=ENSEMBLE) -> tuple[np.ndarray, np.ndarray]:
    """(genre probabilities, frame probabilities): per task, the mean of the parts ``ensemble`` names."""
    return tuple(np.mean([parts[n][task] for n in ensemble[task]], axis=0) for task in ("genre", "frames"))


TEMPERATURES = np.round(np.linspace(0.2, 3.0, 57), 2)


def _log_loss(probs: np.ndarray, gold: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(gold)), gold], 1e-9, 1.0)).mean())


def genre_scores(data: Articles, probs: np.ndarray) -> dict:
    """Official subtask-1 figures (macro-F1 over the genres in gold or prediction), accuracy,
    log loss, per genre."""
    m = np.flatnonzero(data.labelled)
    gold = {data.docs[i].id: GENRES[data.genre[i]] for i in m}
    pred = {data.docs[i].id: GENRES[int(np.argmax(probs[i]))] for i in m}
    s = single_label_scores(gold, pred, "subtask 1")
    r = lambda x: None if x is None else round(float(x), 4)  # noqa: E731
    called = np.bincount(probs[m].argmax(1), minlength=len(GENRES))
    return {"macro_f1": r(s.macro_f1), "accuracy": r(s.micro.f1), "log_loss": r(_log_loss(probs[m], data.genre[m])),
            "predicted": {n: int(c) for n, c in zip(GENRES, called)},
            "per_genre": {n: {"precision": r(v.precision), "recall": r(v.recall), "f1": r(v.f1), "gold": v.gold}
                          for n, v in s.per_label.items()}}


def frame_scores(data: Articles, probs: np.ndarray, thresholds: np.ndarray):
    m = np.flatnonzero(data.labelled)
    gold = {data.docs[i].id: {FRAMES[k] for k in np.flatnonzero(data.frames[i])} for i in m}
    pred = {data.docs[i].id: {FRAMES[k] for k in np.flatnonzero(probs[i] >= thresholds)} for i in m}
    return multilabel_scores(gold, pred, FRAMES, "subtask 2")


def tune_frames(data: Articles, probs: np.ndarray) -> np.ndarray:
    from .fit import tune_thresholds

    m = np.flatnonzero(data.labelled)
    return tune_thresholds(probs[m], data.frames[m])


def frames_crossfit(data: Articles, probs: np.ndarray) -> float:
    """Frames micro-F1 with thresholds tuned on one half of the held-out articles and scored on the other."""
    from .fit import _pooled_micro, crossfit_splits

    m = np.flatnonzero(data.labelled)
    results = [frame_scores(data.take(m[test]), probs[m[test]], tune_frames(data.take(m[tune]), probs[m[tune]]))
               for tune, test in crossfit_splits(len(m))]
    return round(_pooled_micro(results)["f1"], 4)


def _calibration_error(probs: np.ndarray, gold: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the most likely genre: |confidence - accuracy| per confidence bin,
    weighted by the bin's share of articles."""
    confidence, right = probs.max(1), probs.argmax(1) == gold
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(sum((which == b).mean() * abs(confidence[which == b].mean() - right[which == b].mean())
                     for b in range(bins) if (which == b).any()))


def tune_temperature(probs: np.ndarray, gold: np.ndarray) -> float:
    """The temperature in ``TEMPERATURES`` with the lowest log loss of ``temper(probs, t)``."""
    return float(min(TEMPERATURES, key=lambda t: _log_loss(temper(probs, t), gold)))


def genre_calibration(data: Articles, probs: np.ndarray) -> tuple[float, dict]:
    """(temperature tuned on all labelled articles of ``data``, figures): log loss and calibration error
    before, and with temperatures cross-fitted (tuned on one half of the articles, applied to the other)."""
    m = np.flatnonzero(data.labelled)
    p, gold = probs[m], data.genre[m]
    from .fit import crossfit_splits

    crossfit = np.zeros_like(p)
    for tune, test in crossfit_splits(len(m)):
        crossfit[test] = temper(p[test], tune_temperature(p[tune], gold[tune]) if tune else 1.0)
    t = tune_temperature(p, gold)
    r = lambda x: round(x, 4)  # noqa: E731
    return t, {"temperature": t, "log_loss": r(_log_loss(p, gold)), "log_loss_crossfit": r(_log_loss(crossfit, gold)),
               "calibration_error": r(_calibration_error(p, gold)),
               "calibration_error_crossfit": r(_calibration_error(crossfit, gold))}


def frame_calibration(data: Articles, probs: np.ndarray, thresholds: np.ndarray) -> tuple[dict, dict]:
    """(slope and intercept per frame, figures): Platt scaling of the frame scores of the labelled articles
    of ``data`` (``calibration_fit``; each article is a unit of the cross-fitting)."""
    from .calibration_fit import fit_calibration

    m = np.flatnonzero(data.labelled)
    return fit_calibration([probs[i:i + 1] for i in m], [data.frames[i:i + 1] for i in m], thresholds,
                           unit="frame labels")


def _scored(held: Articles, parts: dict, majority_genre: int) -> tuple[dict, dict]:
    """(figures, tuned): frame thresholds, their calibration and the genre temperature tuned on ``held``,
    and the figures of ``parts`` (predictions for ``held``), with the baselines and ablations measured the
    same way."""
    genre_p, frame_p = combine(parts)
    thresholds = tune_frames(held, frame_p)
    frame_map, frame_cal = frame_calibration(held, frame_p, thresholds)
    temperature, calibration = genre_calibration(held, genre_p)
    majority = np.zeros_like(genre_p)
    majority[:, majority_genre] = 1
    in_sample = frame_scores(held, frame_p, thresholds)
    genre_of = lambda *names: genre_scores(held, np.mean([parts[n]["genre"] for n in names], axis=0))["macro_f1"]  # noqa: E731
    figures = {
        "held_out_articles": int(held.labelled.sum()),
        "ensemble": ENSEMBLE,
        "genre": genre_scores(held, genre_p),
        "genre_calibration": calibration,
        "frames_calibration": frame_cal,
        "frames_micro_f1_crossfit": frames_crossfit(held, frame_p),
        "frames_micro_f1_tuned_in_sample": round(in_sample.micro.f1, 4),
        "frames_macro_f1_tuned_in_sample": round(in_sample.macro_f1, 4),
        "per_frame_in_sample": {n: {"f1": round(s.f1, 4), "gold": s.gold} for n, s in in_sample.per_label.items()},
        "baselines": {
            "majority": {"genre_macro_f1": genre_scores(held, majority)["macro_f1"], "frames_micro_f1": 0.0},
            "tfidf_lr": {"genre_macro_f1": genre_of("lexical"),
                         "frames_micro_f1_crossfit": frames_crossfit(held, parts["lexical"]["frames"])},
        },
        "ablation": {"encoder_alone": {"genre_macro_f1": genre_of("encoder"),
                                       "frames_micro_f1_crossfit": frames_crossfit(held, parts["encoder"]["frames"])},
                     "genre: style alone": genre_of("style"),
                     "genre: encoder+lexical": genre_of("encoder", "lexical"),
                     "genre: encoder+lexical+style": genre_of("encoder", "lexical", "style")},
    }
    return figures, {"thresholds": thresholds, "genre_temperature": temperature, "frame_calibration": frame_map}


def _majority(data: Articles) -> int:
    return int(np.bincount(data.genre[data.labelled], minlength=len(GENRES)).argmax())


def fold_heads(data: Articles, folds: np.ndarray, features=DEFAULT_FEATURES) -> dict[int, dict]:
    """{fold: the arrays of heads fitted (``fit``) on the other folds' articles}."""
    return {int(k): fit(data.take(np.flatnonzero(folds != k)), features) for k in np.unique(folds)}


def predict_by_fold(fitted: dict[int, dict], features, data: Articles, folds: np.ndarray) -> dict:
    """{part: {task: probabilities}} for every article of ``data``, each predicted by the heads of its fold."""
    parts: dict = {}
    for k, arrays in fitted.items():
        rows = np.flatnonzero(folds == k)
        if not len(rows):
            continue
        for name, tasks in predict_parts(arrays, features, data.take(rows)).items():
            for task, probs in tasks.items():
                parts.setdefault(name, {}).setdefault(task, np.zeros((len(data.docs), probs.shape[1])))[rows] = probs
    return parts


def out_of_fold_parts(data: Articles, folds: np.ndarray, features=DEFAULT_FEATURES) -> dict[str, dict[str, np.ndarray]]:
    """{part: {task: probabilities [n, 3 or 14]}} for every article of ``data``, each fold's articles predicted
    by heads fitted (``fit``) on the other folds."""
    return predict_by_fold(fold_heads(data, folds, features), features, data, folds)


def short_text_map(full: Articles, full_frames: np.ndarray, short: Articles, short_frames: np.ndarray,
                   rows: np.ndarray, thresholds: np.ndarray) -> tuple[dict, dict]:
    """(the ``short`` entry of ``frame_calibration``, its figures): Platt scaling per frame of the held-out frame
    scores of ``short`` (articles cut short, ``short_versions``; ``rows``: each one's article in ``full``),
    cross-fitted by article, beside the full-length map on the same texts (``crossfit_full_text_map``)."""
    from .calibration_fit import fit_format_calibration

    m = [i for i in np.flatnonzero(full.labelled) if (rows == i).any()]
    section, figures = fit_format_calibration(
        [full_frames[i:i + 1] for i in m], [full.frames[i:i + 1] for i in m],
        [short_frames[rows == i] for i in m], [short.frames[rows == i] for i in m], thresholds,
        unit="frame labels", base="full_text")
    section["under_words"] = GENRE_MIN_WORDS
    section["fitted_on"] = (f"held-out frame scores of {len(m)} articles cut after their first "
                            f"{', '.join(map(str, SHORT_CUTS))} words")
    return section, figures


def _add_short_map(figures: dict, tuned: dict, full: Articles, full_parts: dict, short: Articles,
                   short_parts: dict, rows: np.ndarray) -> None:
    section, short_figures = short_text_map(full, combine(full_parts)[1], short, combine(short_parts)[1], rows,
                                            tuned["thresholds"])
    tuned["frame_calibration"] = {**tuned["frame_calibration"], "short": section}
    figures["frames_calibration_short_texts"] = short_figures


def measure_out_of_fold(data: Articles, folds: np.ndarray, features=DEFAULT_FEATURES,
                        short: tuple[Articles, np.ndarray] | None = None) -> tuple[dict, dict]:
    """For a model trained on every article: fit the heads on every article; tune the frame thresholds and
    measure on out-of-fold predictions (each fold's articles scored by heads fitted on the other folds).
    The encoder under the features saw every article's technique labels (never its genre or frames), so
    these figures lean optimistic; the single-fold recipe's held-out figures are the strict ones.  With
    ``short`` (articles cut short and the row of each one's article, ``short_versions``), the frame map for
    short texts is fitted on their out-of-fold scores too."""
    fitted = fold_heads(data, folds, features)
    parts = predict_by_fold(fitted, features, data, folds)
    figures, tuned = _scored(data, parts, _majority(data))
    if short is not None:
        cut_data, rows = short
        _add_short_map(figures, tuned, data, parts, cut_data, predict_by_fold(fitted, features, cut_data, folds[rows]),
                       rows)
    figures["scored"] = "out of fold: heads refitted per fold on the features of the encoder trained on every article"
    return fit(data, features), {"figures": figures, **tuned}


def measure(train: Articles, held: Articles, features=DEFAULT_FEATURES,
            short: tuple[Articles, np.ndarray] | None = None) -> tuple[dict, dict]:
    """Fit on ``train``, tune frame thresholds on ``held``; return (arrays, figures) with the
    baselines and ablations measured on ``held`` the same way (``short``: ``held``'s articles cut short and
    the row of each one's article in ``held``, for the frame map of short texts)."""
    arrays = fit(train, features)
    parts = predict_parts(arrays, features, held)
    figures, tuned = _scored(held, parts, _majority(train))
    if short is not None:
        cut_data, rows = short
        _add_short_map(figures, tuned, held, parts, cut_data, predict_parts(arrays, features, cut_data), rows)
    t = encoder_rows(train.take(np.flatnonzero(train.labelled)))
    for name, pooling in POOLINGS.items():  # pooling over windows, measured with the encoder part alone
        w, b = fit_encoder_part(t.x(pooling), t.genre, t.frames, C_ENCODER)
        enc = predict_parts({**arrays, "encoder_w": w, "encoder_b": b}, pooling, held)["encoder"]
        figures["ablation"][f"pooling {name}"] = {"genre_macro_f1": genre_scores(held, enc["genre"])["macro_f1"],
                                                  "frames_micro_f1_crossfit": frames_crossfit(held, enc["frames"])}
    return arrays, {"figures": figures, **tuned}
