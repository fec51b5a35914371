"""How the detector's outputs are decoded, measured on the held-out fold of an exported single-fold model.

    python -m slant.training.decode_study --data ../shared/data --model DIR [--study gap|lines]

* ``gap`` — evidence spans decoded with several merge gaps (runs of one technique at most that many
  pieces apart become one span; slant uses ``heads.SPAN_MERGE_GAP``): span-overlap F1 for any technique
  (PTC SI style) and for the same technique.
* ``lines`` — the held-out articles in three formats: as they are (``paragraphs``); with every body
  sentence on a line of its own (``lines``: the space after a sentence end becomes a newline — same
  characters, offsets and word pieces, so only the units change); and as PTC-2020 prints the same
  article (``ptc``: PTC's own sentence-per-line text with its small edits, the SemEval spans moved onto
  it through the word alignment of ``ptc_spans``).  ``ptc`` is the format of the SemEval-2023 English
  dev articles — they are the PTC-2020 test articles, 59 of 90 byte-identical, and unlike the train
  articles were not rejoined into paragraphs — so it is the closest to the dev evaluation that the
  training data allows.  Each unit is labelled with the techniques whose spans overlap it (the rule the
  official paragraph labels follow).  Subtask-3 micro-F1 per unit, with thresholds tuned on each
  format (or on paragraphs and lines together), for the shipped three-part score and each part alone.

Thresholds are cross-fitted as in ``slant train``: tuned on one half of the held-out articles, scored
on the other, both ways.  The model must have been exported with a held-out fold (``slant train
--holdout-fold K``); its genre and frame heads are not used.  Prints JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from ..errors import InputError, ModelError, SlantError
from ..evaluate import span_overlap_scores
from ..heads import SPAN_MERGE_GAP, evidence_spans
from ..models import load_artifact
from ..runtime import Detector
from ..segment import one_sentence_per_line, paragraphs
from .corpus import assign_folds, load_english
from .fit import crossfit_micro, crossfit_splits, prepare, span_overlap_labels, tune_thresholds
from .ptc_spans import on_ptc_text


def held_out(model: str, data: str):
    """(detector without article heads, the model's held-out articles)."""
    artifact = load_artifact(model)
    training = artifact.manifest.get("training", {})
    fold = training.get("holdout_fold")
    if fold is None:
        raise ModelError(f"{model}: trained without a held-out fold; export one with slant train --holdout-fold K")
    docs = load_english(data).documents
    # models exported before --fold-seed existed drew their folds with the initialisation seed
    folds = assign_folds(docs, int(training["folds"]), int(training.get("fold_seed", training["seed"])))
    return Detector(dataclasses.replace(artifact, article=None)), [d for d, f in zip(docs, folds) if f == fold]


def gap_study(detector: Detector, docs, gaps) -> dict:
    """Span-overlap F1 per merge gap.  Span scores cannot be summed over the two halves (their precision and
    recall rest on different overlaps), so both halves' spans are collected first and scored once."""
    examples = [prepare(d, detector.tokenizer, detector.window, detector.stride, detector.special) for d in docs]
    outputs = [detector.probabilities(d.text, [(p.start, p.end) for p in d.paragraphs]) for d in docs]
    gold_any = {e.doc.id: [(s.start, s.end) for s in e.doc.spans] for e in examples}
    gold_same: dict = {}
    for e in examples:
        for s in e.doc.spans:
            gold_same.setdefault(f"{e.doc.id}|{s.technique}", []).append((s.start, s.end))
    out = {}
    for gap in gaps:
        pred_any, pred_same, count = {}, {}, 0
        for tune, test in crossfit_splits(len(docs)):
            par_thr = tune_thresholds(np.concatenate([outputs[i][2] for i in tune]),
                                      np.concatenate([examples[i].par_y for i in tune]))
            tok_thr = tune_thresholds(np.concatenate([outputs[i][1] for i in tune]),
                                      np.concatenate([examples[i].token_y for i in tune]))
            for i in test:
                e, (tokens, token_probs, par_probs) = examples[i], outputs[i]
                hot = [np.flatnonzero(row >= par_thr).tolist() for row in par_probs]
                for start, end, label, _ in evidence_spans(e.doc.text, tokens, token_probs, tok_thr, detector.labels,
                                                           e.ranges, hot, gap):
                    pred_any.setdefault(e.doc.id, []).append((start, end))
                    pred_same.setdefault(f"{e.doc.id}|{label}", []).append((start, end))
                    count += 1
        any_, same = span_overlap_scores(gold_any, pred_any), span_overlap_scores(gold_same, pred_same)
        out[str(gap)] = {"spans": count,
                         "any_technique": {k: round(getattr(any_.micro, k), 4) for k in ("precision", "recall", "f1")},
                         "same_technique_f1": round(same.micro.f1, 4)}
    return out


FORMATS = ("paragraphs", "lines", "ptc")


def lines_study(detector: Detector, docs, data: str) -> dict:
    parts = ("paragraph_head", "token_max", "lexical")
    versions = [on_ptc_text(data, d) for d in docs]
    if any(v is None for v in versions):  # all 446 English train articles are in PTC-2020
        missing = [d.id for d, v in zip(docs, versions) if v is None]
        raise InputError(f"{Path(data) / 'ptc2020'}: no PTC-2020 text for article(s) {', '.join(missing[:5])}")
    units = {k: [] for k in FORMATS}  # per article: ({part: [U, K]}, gold [U, K])
    lengths = {k: [] for k in FORMATS}
    for d, (ptc_text, ptc_spans, _) in zip(docs, versions):
        for name, text, spans in (("paragraphs", d.text, d.spans), ("lines", one_sentence_per_line(d.text), d.spans),
                                  ("ptc", ptc_text, ptc_spans)):
            found = paragraphs(text)
            _, _, _, probs = detector.parts(text, [(u.start, u.end) for u in found])
            units[name].append(({k: probs[k] for k in parts}, span_overlap_labels(spans, [(u.start, u.end) for u in found])))
            lengths[name] += [u.end - u.start for u in found]
    scores = {}
    for combo in [tuple(detector.ensemble)] + [(k,) for k in parts]:
        # per format, one array of probabilities and one of gold labels per article; "both" tunes on paragraphs
        # and lines together
        probs = {name: [np.mean([p[k] for k in combo], axis=0) for p, _ in units[name]] for name in FORMATS}
        gold = {name: [y for _, y in units[name]] for name in FORMATS}
        probs["both"] = [np.concatenate(pair) for pair in zip(probs["paragraphs"], probs["lines"])]
        gold["both"] = [np.concatenate(pair) for pair in zip(gold["paragraphs"], gold["lines"])]
        scores["+".join(combo)] = {
            f"tuned on {tuned_on}, scored on {scored_on}": round(
                crossfit_micro(probs[tuned_on], gold[tuned_on], probs[scored_on], gold[scored_on]), 4)
            for tuned_on in (*FORMATS, "both") for scored_on in FORMATS}
    return {
        "ptc_spans_not_moved": sum(v[2] for v in versions), "spans": sum(len(d.spans) for d in docs),
        "units": {k: len(v) for k, v in lengths.items()},
        "median_characters": {k: float(np.median(v)) for k, v in lengths.items()},
        "units_with_a_technique": {k: round(float(np.mean(np.concatenate([y.sum(1) > 0 for _, y in units[k]]))), 4)
                                   for k in units},
        "micro_f1_crossfit": scores,
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True, help="an exported model with a held-out fold")
    ap.add_argument("--study", choices=["gap", "lines", "all"], default="all")
    ap.add_argument("--gaps", default=f"0,1,2,3,5,8,{SPAN_MERGE_GAP},20,40")
    args = ap.parse_args(argv)
    try:
        detector, docs = held_out(args.model, args.data)
        result = {"model": args.model, "held_out_articles": len(docs)}
        if args.study in ("gap", "all"):
            result["span_merge_gap"] = gap_study(detector, docs, [int(g) for g in args.gaps.split(",")])
        if args.study in ("lines", "all"):
            result["one_sentence_per_line"] = lines_study(detector, docs, args.data)
    except SlantError as e:
        raise SystemExit(f"error: {e}")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
