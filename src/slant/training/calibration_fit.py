"""Calibrated technique and span scores: Platt scaling per technique, fitted on out-of-fold scores.

The raw paragraph score (the mean of the paragraph head, the strongest piece and the lexical head) ranks
well but does not say how often it is right: out of fold, the labels the shipped recipe reports carried a
mean score near 0.6 while about 0.42 of them were right.  For each technique with at least
``MIN_POSITIVES`` positive paragraphs this fits ``sigmoid(slope * logit(score) + intercept)`` to the gold
labels; the others, and any whose fit would reverse the order of its scores, take one map fitted on all
techniques together (or, where the scores say nothing of being right, the share right).  The map is
monotone per technique, so the reported techniques do not change — only the score they are reported with (``slant.heads.calibrated``).  Spans get the same kind of map, from the
mean probability of a span's pieces to the chance that it overlaps an annotated span of its technique
(``span_outcomes``, ``fit_span_calibration``); the frames' map is fitted with the article heads
(``article_fit.frame_calibration``).  Text printed one sentence per line (``segment.prints_sentence_lines``: the
dev articles, PTC-2020, many sites) gets a map of its own, fitted on the out-of-fold scores of the training
articles as PTC-2020 prints them (``fit_line_calibration``): a line holds less evidence than a paragraph, and
the paragraph map overstated how often its reported techniques are right.

Export fits it on the out-of-fold scores that also tune the thresholds; for a model exported before it
existed, fit it on the out-of-fold scores of its own cross-validation (or one of the same recipe and data):

    python -m slant.training.calibration_fit --data ../shared/data --model DIR --cv runs/CV

which reads that cross-validation's finished folds (``fold-K.npz``) and writes both manifest sections (and
their figures) into ``DIR``.  ``--across-folds`` (instead of ``--model``) measures whether a map fitted on some
models' scores calibrates another model of the same recipe: each fold (its own model) scored with the map of
the other folds.  The figures are cross-fitted: fitted on one half of the articles, measured on the
other (by article), both ways.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..heads import calibrated, logit

MIN_POSITIVES = 10


def _platt(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """(slope, intercept) of a logistic regression of ``y`` on ``x``; None when it cannot be fitted or
    would reverse the order of the scores."""
    from sklearn.linear_model import LogisticRegression

    if not len(y) or y.min() == y.max():
        return None
    m = LogisticRegression(C=1.0).fit(x[:, None], y)
    slope, intercept = float(m.coef_[0, 0]), float(m.intercept_[0])
    return (slope, intercept) if slope > 0 else None


FLAT_SLOPE = 1e-3


def _flat(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The map for scores that say nothing of being right: the share right, whatever the score (a slope just
    above 0 keeps the order)."""
    if not len(y):
        return 1.0, 0.0
    rate = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
    return FLAT_SLOPE, float(np.log(rate / (1 - rate)) - FLAT_SLOPE * x.mean())


def _label_maps(scores: np.ndarray, right: np.ndarray, label: np.ndarray, n_labels: int,
                min_positives: int) -> tuple[np.ndarray, np.ndarray]:
    """Per label (slope, intercept) from scored items: each item's score, whether it was right, its label."""
    x, y = logit(scores), (right > 0).astype(int)
    shared = _platt(x, y) or _flat(x, y)
    fits = [_platt(x[label == k], y[label == k]) if y[label == k].sum() >= min_positives else None
            for k in range(n_labels)]
    return (np.array([f[0] if f else shared[0] for f in fits]),
            np.array([f[1] if f else shared[1] for f in fits]))


def fit_maps(probs: np.ndarray, gold: np.ndarray, min_positives: int = MIN_POSITIVES) -> tuple[np.ndarray, np.ndarray]:
    """Per technique (slope, intercept) over ``probs`` / ``gold`` [N, K]."""
    n, k = probs.shape
    return _label_maps(probs.ravel(), gold.ravel(), np.tile(np.arange(k), n), k, min_positives)


def _ece(scores: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: |mean score - share right| per score bin, weighted by the bin's size."""
    if not len(scores):
        return 0.0
    idx = np.minimum((scores * bins).astype(int), bins - 1)
    return float(sum(abs(scores[idx == b].mean() - right[idx == b].mean()) * (idx == b).sum()
                     for b in range(bins) if (idx == b).any()) / len(scores))


def _summary(scores: np.ndarray, gold: np.ndarray, reported: np.ndarray) -> dict:
    y = (gold > 0).astype(float)
    q = np.clip(scores, 1e-7, 1 - 1e-7)
    r = lambda v: round(float(v), 4)  # noqa: E731
    return {"log_loss": r(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))),
            "brier": r(np.mean((scores - y) ** 2)),
            "reported_mean_score": r(scores[reported].mean()) if reported.any() else None,
            "reported_share_right": r(y[reported].mean()) if reported.any() else None,
            "reported_calibration_error": r(_ece(scores[reported], y[reported]))}


def _fit_items(items: list[tuple], n_labels: int, min_positives: int, unit: str,
               reported=None) -> tuple[dict, dict]:
    """(section, figures) from scored items, one (scores, right, labels) triple of arrays per article: the maps
    fitted on all of them, and figures cross-fitted by article (maps fitted on one half, scored on the other);
    ``reported(scores, labels)`` picks the items the figures call reported (all when None)."""
    from .fit import crossfit_splits

    def pooled(articles):
        return tuple(np.concatenate([items[i][j] for i in articles]) if articles else np.zeros(0)
                     for j in range(3))

    score, right, label = pooled(range(len(items)))
    label = label.astype(int)
    slope, intercept = _label_maps(score, right, label, n_labels, min_positives)
    positives = np.bincount(label[right > 0], minlength=n_labels)
    section = {"method": f"platt per label (shared where fewer than min_positives right {unit})",
               "min_positives": min_positives,
               "slope": [round(float(v), 5) for v in slope], "intercept": [round(float(v), 5) for v in intercept]}
    figures = {"articles": len(items), unit: int(len(score)),
               "share_right": round(float((right > 0).mean()), 4) if len(right) else None,
               "labels_with_enough_positives": int((positives >= min_positives).sum())}
    raw, cal, ys, hot = [], [], [], []
    for tune, test in crossfit_splits(len(items)):
        tune_score, tune_right, tune_label = pooled(tune)
        s, b = _label_maps(tune_score, tune_right, tune_label.astype(int), n_labels, min_positives)
        test_score, test_right, test_label = pooled(test)
        test_label = test_label.astype(int)
        raw.append(test_score)
        cal.append(calibrated(test_score, s[test_label], b[test_label]))
        ys.append(test_right)
        hot.append(np.ones(len(test_score), bool) if reported is None else reported(test_score, test_label))
    if sum(len(y) for y in ys):
        y, shown = np.concatenate(ys), np.concatenate(hot)
        figures |= {"crossfit_raw": _summary(np.concatenate(raw), y, shown),
                    "crossfit_calibrated": _summary(np.concatenate(cal), y, shown)}
    return section, figures


def fit_calibration(probs: list, gold: list, thresholds, min_positives: int = MIN_POSITIVES,
                    unit: str = "paragraph labels") -> tuple[dict, dict]:
    """(the manifest's ``paragraph_calibration`` section, its figures) from out-of-fold paragraph scores and
    gold labels, one array [P, K] per article (the frames too: one row per article, ``unit`` "frame labels");
    ``thresholds`` (the micro operating point) says which labels are reported, for the figures."""
    thresholds = np.asarray(thresholds)
    k = len(thresholds)
    items = [(p.ravel(), y.ravel(), np.tile(np.arange(k), len(p))) for p, y in zip(probs, gold)]
    return _fit_items(items, k, min_positives, unit,
                      lambda scores, labels: scores >= thresholds[labels])


def fit_line_calibration(par_probs: list, par_gold: list, line_probs: list, line_gold: list, thresholds,
                         min_positives: int = MIN_POSITIVES) -> tuple[dict, dict]:
    """(the ``lines`` entry of ``paragraph_calibration``, its figures): the map for text printed one sentence per
    line (``segment.prints_sentence_lines``), fitted on the out-of-fold scores of the same articles as PTC-2020
    prints them (one array [lines, K] per article, beside their paragraphs' ``par_probs``).  A line holds less
    evidence than a paragraph, so the paragraph map overstates its chance of being right."""
    return fit_format_calibration(par_probs, par_gold, line_probs, line_gold, thresholds, min_positives,
                                  unit="line labels", base="paragraph")


def fit_format_calibration(base_probs: list, base_gold: list, probs: list, gold: list, thresholds,
                           min_positives: int = MIN_POSITIVES, *, unit: str, base: str) -> tuple[dict, dict]:
    """({slope, intercept}, figures): a map for the scores of another form of the same articles (``probs``,
    one array per article, beside the ``base_probs`` the main map is fitted on: lines beside paragraphs, texts
    cut short beside the full ones).  The figures show the main map (``crossfit_{base}_map``) and this one on
    ``probs``, both cross-fitted by article."""
    from .fit import crossfit_splits

    section, figures = fit_calibration(probs, gold, thresholds, min_positives, unit=unit)
    thresholds = np.asarray(thresholds)
    scores, right, shown = [], [], []
    for tune, test in crossfit_splits(len(probs)):
        if not tune:
            continue
        slope, intercept = fit_maps(np.concatenate([base_probs[i] for i in tune]),
                                    np.concatenate([base_gold[i] for i in tune]), min_positives)
        for i in test:
            scores.append(calibrated(probs[i], slope, intercept).ravel())
            right.append(np.asarray(gold[i]).ravel())
            shown.append((probs[i] >= thresholds).ravel())
    if scores:
        figures[f"crossfit_{base}_map"] = _summary(*map(np.concatenate, (scores, right, shown)))
    return {"slope": section["slope"], "intercept": section["intercept"]}, figures


def span_outcomes(examples, token_probs: list, par_probs: list, par_thresholds, span_thresholds) -> list[list]:
    """Per article, the spans the runtime would show (``evidence_spans`` under the paragraph labels) as
    (score, technique index, whether it overlaps an annotated span of its technique)."""
    from ..heads import evidence_spans
    from .fit import LABELS

    index = {name: k for k, name in enumerate(LABELS)}
    out = []
    for e, tok, par in zip(examples, token_probs, par_probs):
        gold = [(s.start, s.end, s.technique) for s in e.doc.spans]
        hot = [np.flatnonzero(row >= par_thresholds).tolist() for row in par]
        out.append([(score, index[label], any(t == label and s < end and start < t_end for s, t_end, t in gold))
                    for start, end, label, score in evidence_spans(e.doc.text, e.tokens, tok, span_thresholds,
                                                                   LABELS, e.ranges, hot)])
    return out


def fit_span_calibration(outcomes: list[list], n_labels: int, min_positives: int = MIN_POSITIVES) -> tuple[dict, dict]:
    """(the manifest's ``span_calibration`` section, its figures) from ``span_outcomes``: a span's score (the
    mean probability of its pieces) mapped to the chance that it overlaps an annotated span of its technique."""
    items = [tuple(np.array([o[j] for o in spans], dtype=float) for j in (0, 2, 1)) for spans in outcomes]
    return _fit_items(items, n_labels, min_positives, "spans")


def _cv_folds(cv: Path, data_hash: str) -> tuple[dict, dict]:
    """The recipe of the cross-validation in ``cv`` and its finished folds {k: (paragraph scores, piece scores,
    PTC-format line scores or None) per article}; ModelError (one line) when there are none or they come from
    other data."""
    from .crossval import split_saved

    folds, recipe = {}, None
    for path in sorted(cv.glob("fold-*.npz")):
        if not re.fullmatch(r"fold-\d+\.npz", path.name):
            continue
        with np.load(path) as z:
            key = json.loads(str(z["key"]))
            if key["data_sha256"] != data_hash:
                raise ModelError(f"{path}: made from other data (sha256 {key['data_sha256'][:12]}, the model's "
                                 f"{data_hash[:12]})")
            if recipe is not None and key["recipe"] != recipe:
                raise ModelError(f"{path}: another recipe than the other folds in {cv}")
            recipe = key["recipe"]
            folds[int(path.stem.split("-")[1])] = (split_saved(z, "par"), split_saved(z, "tok"),
                                                   split_saved(z, "ptc") if "ptc" in z.files else None)
    if not folds:
        raise ModelError(f"{cv}: no finished folds (fold-K.npz) of a cross-validation here")
    return recipe, folds


def _fold_scores(cv: Path, data: Path) -> tuple[str, dict[int, tuple[list, list, list, list]], dict, dict]:
    """(data hash, {fold: (its articles' out-of-fold paragraph scores, their gold labels, the articles, their
    out-of-fold piece scores)}, the recipe, {fold: (the scores of the same articles' lines as PTC-2020 prints
    them, their gold labels)} for the folds that saved those — empty when not every fold did) of the finished
    folds of the cross-validation in ``cv``."""
    from .corpus import load_english
    from .crossval import ptc_examples
    from .fit import TrainConfig, examples_and_folds

    corpus = load_english(data)
    recipe, saved = _cv_folds(Path(cv), corpus.data_hash)
    cfg = TrainConfig(data=data, out=Path(cv), folds=recipe["folds"], fold_seed=recipe["fold_seed"],
                      max_articles=recipe["max_articles"], tiny=recipe["tiny"])
    examples, folds = examples_and_folds(cfg, corpus)
    with_lines = all(lines is not None for *_, lines in saved.values())
    printed = ptc_examples(cfg, examples, lambda msg: None) if with_lines else None
    out, lines = {}, {}
    for k, (fold_probs, fold_tok, fold_lines) in sorted(saved.items()):
        held = [e for e, f in zip(examples, folds) if f == k]
        if [len(p) for p in fold_probs] != [len(e.numbers) for e in held] or \
                [len(t) for t in fold_tok] != [len(e.tokens) for e in held]:
            raise ModelError(f"{cv / f'fold-{k}.npz'}: its articles are not fold {k} of this data")
        out[k] = (fold_probs, [e.par_y for e in held], held, fold_tok)
        if printed is not None:
            held_lines = [e for e, f in zip(printed, folds) if f == k]
            if [len(p) for p in fold_lines] != [len(e.numbers) for e in held_lines]:
                raise ModelError(f"{cv / f'fold-{k}.npz'}: its PTC-format scores are not those of fold {k}'s articles")
            lines[k] = (fold_lines, [e.par_y for e in held_lines])
    return corpus.data_hash, out, recipe, lines


def across_folds(cv: Path, data: Path) -> dict:
    """Does a map fitted on some models' scores calibrate another model of the same recipe?  Each finished fold
    of ``cv`` scored with the map fitted on the other folds' out-of-fold scores (each fold is its own model),
    per technique and one shared map, against the raw scores; thresholds tuned the same way, for "reported"."""
    from .fit import tune_thresholds

    _, scores, _, _ = _fold_scores(cv, data)
    if len(scores) < 2:
        raise ModelError(f"{cv}: needs at least two finished folds, has {len(scores)}")
    out = {}
    for name, need in (("raw", None), ("shared map", 10 ** 9), ("map per technique", MIN_POSITIVES)):
        q, y, hot = [], [], []
        for k, (probs, gold, _, _) in scores.items():
            rest_p = np.concatenate([p for j, (ps, *_) in scores.items() if j != k for p in ps])
            rest_y = np.concatenate([g for j, (_, gs, *_) in scores.items() if j != k for g in gs])
            p = np.concatenate(probs)
            q.append(p if need is None else calibrated(p, *fit_maps(rest_p, rest_y, need)))
            y.append(np.concatenate(gold))
            hot.append(p >= tune_thresholds(rest_p, rest_y))
        out[name] = _summary(np.concatenate(q), np.concatenate(y), np.concatenate(hot))
    return {"folds": sorted(scores), "articles": sum(len(p) for p, *_ in scores.values()), **out}


def _same_recipe(model: Path, manifest: dict, cv: Path, recipe: dict) -> None:
    """ModelError unless the model was trained the way the cross-validation's fold models were: a map fitted
    on another recipe's scores does not fit this model's (lab record, "Calibrated scores")."""
    training = manifest.get("training", {})
    mine = {key: training[key] for key in recipe if key in training}
    mine["layers"] = manifest.get("encoder", {}).get("layers", recipe["layers"])
    if "encoder_trained_with_article_heads" in training:
        mine["joint_article"] = training["encoder_trained_with_article_heads"]
    for key, value in sorted(mine.items()):
        if key not in ("folds", "fold_seed", "max_articles") and value != recipe[key]:
            raise ModelError(f"{model}: trained with {key} {value}, the cross-validation in {cv} with {recipe[key]}: "
                             "a map fitted on another recipe's scores would not fit this model's")


def calibrate_model(model: Path, cv: Path, data: Path, log=print) -> dict:
    """Fit the calibrations of ``model``'s paragraph and span scores on the finished folds of the
    cross-validation in ``cv`` and write them into the model's manifest; returns the paragraph figures."""
    from ..models import load_artifact
    from .export import _write_manifest

    manifest = load_artifact(model).manifest
    data_hash, saved, recipe, lines = _fold_scores(cv, data)
    if manifest["training"]["data_sha256"] != data_hash:
        raise ModelError(f"{model}: trained on other data than {data} (sha256 "
                         f"{manifest['training']['data_sha256'][:12]}, the data {data_hash[:12]})")
    probs = [p for ps, *_ in saved.values() for p in ps]
    gold = [g for _, gs, *_ in saved.values() for g in gs]
    held = [e for *_, es, _ in saved.values() for e in es]
    tok = [t for *_, ts in saved.values() for t in ts]
    _same_recipe(model, manifest, cv, recipe)
    par_thr, span_thr = (np.asarray(manifest["thresholds"][k]) for k in ("paragraph", "span"))
    section, figures = fit_calibration(probs, gold, par_thr)
    where = f"folds {', '.join(str(k) for k in sorted(saved))} of the cross-validation in {cv} ({len(probs)} articles)"
    section["fitted_on"] = f"out-of-fold paragraph scores of {where}"
    spans, span_figures = fit_span_calibration(span_outcomes(held, tok, probs, par_thr, span_thr), len(par_thr))
    spans["fitted_on"] = f"out-of-fold spans of {where}"
    figures |= {"fitted_on": section["fitted_on"], "cross_validation_recipe": recipe}
    if lines:
        section["lines"], figures["lines"] = fit_line_calibration(
            probs, gold, [p for ps, _ in lines.values() for p in ps], [g for _, gs in lines.values() for g in gs],
            par_thr)
        section["lines"]["fitted_on"] = f"out-of-fold scores of the same articles as PTC-2020 prints them: {where}"
    manifest["paragraph_calibration"], manifest["span_calibration"] = section, spans
    manifest["metrics"]["paragraph_calibration"] = figures
    manifest["metrics"]["span_calibration"] = span_figures | {"fitted_on": spans["fitted_on"]}
    command = f"python -m slant.training.calibration_fit --data {data} --model {model} --cv {cv}"
    commands = manifest["training"].setdefault("commands", [])
    if command not in commands:
        commands.append(command)
    _write_manifest(Path(model), manifest)
    log(f"{model}: calibration of the paragraph scores fitted on {len(probs)} articles; reported labels, "
        f"cross-fitted: mean score {figures['crossfit_raw']['reported_mean_score']} raw, "
        f"{figures['crossfit_calibrated']['reported_mean_score']} calibrated, "
        f"share right {figures['crossfit_raw']['reported_share_right']}")
    if lines:
        f = figures["lines"]
        log(f"{model}: and for text printed one sentence per line, on the articles as PTC-2020 prints them: reported "
            f"labels, cross-fitted: mean score {f['crossfit_paragraph_map']['reported_mean_score']} with the "
            f"paragraph map, {f['crossfit_calibrated']['reported_mean_score']} with the line map, share right "
            f"{f['crossfit_calibrated']['reported_share_right']}")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, help="exported model folder (changed in place)")
    parser.add_argument("--cv", type=Path, required=True, help="a cross-validation's --out folder")
    parser.add_argument("--across-folds", action="store_true",
                        help="write nothing: print how well each fold's scores are calibrated by the other folds' map")
    args = parser.parse_args(argv)
    if (args.model is None) != args.across_folds:
        parser.error("give --model (fit it) or --across-folds (measure), one of them")
    try:
        if args.across_folds:
            print(json.dumps(across_folds(args.cv, args.data), indent=2))
        else:
            calibrate_model(args.model, args.cv, args.data)
    except ModelError as e:
        raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
    main()
