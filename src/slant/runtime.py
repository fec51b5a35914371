"""Inference: text -> encoder windows -> heads -> genre, frames, labelled paragraphs and spans.

Needs onnxruntime, tokenizers and numpy only (and threadpoolctl, to keep numpy's BLAS on one thread); never torch.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from .article_heads import ArticleHeads, too_short_for_frames, too_short_for_genre, word_count
from .language import ENGLISH, NotEnglishError, identify, primary
from .document import Document, Label
from .errors import InputError, ModelError, TextTooLongError, refuse_not_text
from .heads import (RangePools, calibrated, evidence_spans, merge_windows, merged_chunks, paragraph_ranges, range_max,
                    sigmoid)
from .lexical import LexicalHead
from .models import Artifact, load_artifact
from .operating_points import OPERATING_POINTS
from .segment import is_blank, prints_sentence_lines, title_of
from .span_classes import SpanClassifier, rule_scores, span_features
from .windows import encoder_inputs, load_tokenizer, tokenize, window_bounds

__all__ = ["OPERATING_POINTS", "MAX_CHARACTERS", "LONE_SHORT_WORDS", "LONE_SHORT_SCALE", "paragraph_thresholds",
           "Detector", "load_detector", "analyze", "one_blas_thread"]

# The longest text analysed at once (characters).  Memory grows with the text, about 0.8 KB a character for
# the merged encoder states: 1,018,296 characters took 8.7 s and 922 MB peak on 2 cores (docs/model-history.md,
# "Long texts").  A longer one is refused with TextTooLongError instead of exhausting a laptop's memory.
MAX_CHARACTERS = 1_000_000

# A text of one paragraph is, to the encoder, an article's first line — its title (newlines give it no pieces),
# and the model reads titles as titles: out of fold (fold 0 of the 4-layer recipe, 90 articles), body paragraphs
# analysed alone scored micro-F1 0.413 with 36 % more techniques reported than gold (1-5 words: 68 for 10),
# against 0.434 under this title line, reported about as often as gold (docs/model-history.md, session 30).
# So the techniques of a one-paragraph text are read under it; its genre and frames as before, from the text alone.
# A text of several paragraphs without a title is read as it is: its first paragraph, read as a title, scored
# as well as under this line (the same held-out articles without their titles: 0.444 as they are, 0.442 under it);
# one whose title is given beside it (Document.title) is read under that title (Detector.heading): 0.457, as titled.
LONE_PARAGRAPH_TITLE = "Untitled\n\n"


# Read alone, a short text still gets more techniques than it holds: out of fold (fold 0 / fold 1 models, body
# paragraphs of up to 15 words read alone under LONE_PARAGRAPH_TITLE), 103 reported for 72 gold and 79 for 68,
# micro-F1 0.331 / 0.367; with the micro thresholds 1.3 times as high 0.371 / 0.397 (68 and 53 reported; every
# factor from 1.2 to 1.4 gains on both folds), while in their articles the same paragraphs are not over-reported.
# The per-technique operating point, which trades precision for recall on purpose, loses with it and keeps its
# thresholds (docs/model-history.md, session 32).
LONE_SHORT_WORDS = 15
LONE_SHORT_SCALE = 1.3


def one_blas_thread() -> None:
    """Run numpy's BLAS on one thread in this process, as ``import slant`` does through
    ``OPENBLAS_NUM_THREADS=1`` when numpy is not loaded yet.  The encoder's threads are onnxruntime's;
    BLAS threads woken by the small head products spin-wait beside them and take a core (measured on
    2 cores, numpy imported before slant as a notebook or pipeline would: 7.7 -> 12.3 articles/s for the
    shipped model, 12.1 -> 20.1 for a 2-layer one).  Process-wide and not undone: threadpoolctl lets only
    one thread steer OpenBLAS, so a limit scoped to each call would not hold in a server's worker threads.
    An explicit ``OPENBLAS_NUM_THREADS`` wins."""
    if os.environ.get("OPENBLAS_NUM_THREADS", "1") != "1":
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


# The exported encoders carry their layer norms as Add + LayerNormalization (slant.training.export
# split_skip_layer_norms): onnxruntime's CPU kernel for the fused SkipLayerNormalization is the slower one, so the
# session must not fuse them back.
UNFUSED = ["SkipLayerNormFusion"]


def session_threads() -> int:
    """The CPU threads an onnxruntime session of slant's runs on: ``SLANT_THREADS``, else up to 2."""
    return int(os.environ.get("SLANT_THREADS", "0")) or min(2, os.cpu_count() or 1)


def encoder_session(path: Path, threads: int | None = None, options=None):
    """An onnxruntime session for the encoder at ``path`` on ``threads`` threads (``SLANT_THREADS``, else up to 2),
    with the graph optimisations of ``UNFUSED`` switched off; ``options``: a SessionOptions to start from."""
    import onnxruntime as ort

    options = options or ort.SessionOptions()
    options.intra_op_num_threads = threads or session_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=UNFUSED)


def paragraph_thresholds(artifact: Artifact, thresholds: str) -> list[float]:
    """The paragraph thresholds of operating point ``thresholds``; ModelError when the model lacks them."""
    if thresholds not in OPERATING_POINTS:
        raise ValueError(f"thresholds must be one of {', '.join(OPERATING_POINTS)}")
    values = artifact.manifest["thresholds"].get(OPERATING_POINTS[thresholds])
    if values is None:
        raise ModelError(f"{artifact.path / 'manifest.json'}: this model has no {thresholds} thresholds "
                         f"(exported before they existed); use --thresholds micro")
    return values


class Detector:
    """A loaded model.  ``analyze(doc)`` fills ``doc.techniques`` and ``doc.spans``, and
    ``doc.genre`` and ``doc.frames`` when the model has article heads — all from one
    encoder pass per window.  ``thresholds`` picks the default operating point (``OPERATING_POINTS``);
    ``analyze`` can be given another."""

    def __init__(self, artifact: Artifact, threads: int | None = None, thresholds: str = "micro"):
        one_blas_thread()
        self.artifact = artifact
        m = artifact.manifest
        self.labels = artifact.labels
        self.label_index = {name: k for k, name in enumerate(self.labels)}
        self.window, self.stride = int(m["window"]), int(m["stride"])
        self.special = (int(m["cls_id"]), int(m["sep_id"]), int(m["pad_id"]))
        self.operating_point = thresholds
        self.paragraph_thresholds = self.thresholds_at(thresholds)
        self.span_thresholds = np.asarray(m["thresholds"]["span"], dtype=np.float32)
        # None: a model exported before calibration existed shows its raw scores
        self.calibration, self.line_calibration, self.span_calibration = (
            None if c is None else (np.asarray(c["slope"]), np.asarray(c["intercept"]))
            for c in (m.get("paragraph_calibration"), (m.get("paragraph_calibration") or {}).get("lines"),
                      m.get("span_calibration")))
        self.tokenizer = load_tokenizer(artifact.path / "tokenizer.json")
        self.session = encoder_session(artifact.path / "encoder.onnx", threads)
        names = [o.name for o in self.session.get_outputs()]
        self.outputs = [n for n in ("hidden", "article_states") if n in names]
        # encoders exported since the padding mask was dropped read input_ids alone (training.export.drop_padding_mask)
        self.reads_mask = "attention_mask" in {i.name for i in self.session.get_inputs()}
        if self.outputs[:1] != ["hidden"] or ("article_states_layer" in m.get("encoder", {})) != ("article_states" in names):
            raise ModelError(f"{artifact.path / 'encoder.onnx'}: its outputs ({', '.join(names)}) are not those "
                             f"its manifest describes")
        h = artifact.heads
        self.token_w, self.token_b = h["token_w"], h["token_b"]
        self.par_w, self.par_b = h["paragraph_w"], h["paragraph_b"]
        self.lexical = LexicalHead.from_arrays(artifact.lexical)
        self.ensemble = list(m["paragraph_ensemble"])
        self.article = ArticleHeads(artifact.article, m["article"]) if artifact.article is not None else None
        self.span_classifier = (SpanClassifier(artifact.span_classes, m["span_classes"]["classes"])
                                if artifact.span_classes is not None else None)

    def thresholds_at(self, point: str) -> np.ndarray:
        """The paragraph thresholds of operating point ``point``; ModelError when the model lacks them."""
        return np.asarray(paragraph_thresholds(self.artifact, point), dtype=np.float32)

    def encode(self, text: str):
        """(word pieces, their merged encoder states [n, H], the merged states the article heads read [n, H]):
        the encoder's ``article_states`` output (an earlier layer, manifest ``encoder.article_states_layer``)
        when it has one, else the last layer's states again (models exported before it existed).

        The encoder runs once per window, each at its own length, not once over the article's windows as one
        padded batch: on 2 cores 1.13-1.20x faster over the dev articles (a short last window costs no padding,
        and smaller activations stay in cache), and a window's states depend on its own pieces only — the
        int8 encoder quantises each run's activations with one scale, so in a batch a window's numbers
        moved with its neighbours' (docs/model-history.md, "One window per encoder run").  The windows' states
        are merged as they come, into one array of every piece's states (for span features and the studies;
        the analysis itself, ``parts``, keeps none of them).  Nothing is padded, so the encoder needs no
        padding mask: the exported ones read none (a further 1.06-1.08x)."""
        tokens = tokenize(self.tokenizer, text)
        merged = merge_windows(*self._window_states(tokens), len(tokens))
        if len(self.outputs) == 1:
            return tokens, merged, merged
        states, article_states = np.split(merged, 2, axis=1)
        return tokens, states, article_states

    def _window_states(self, tokens):
        """(the encoder's outputs per window over ``tokens``, run as they are read, [L_w, H * outputs] each;
        the windows' bounds): what ``heads.merge_windows`` and ``heads.merged_chunks`` read."""
        bounds = window_bounds(len(tokens), self.window, self.stride)
        return (self._run_window(tokens, window) for window in bounds), bounds

    def _run_window(self, tokens, window: tuple[int, int]) -> np.ndarray:
        """One encoder run over one window of ``tokens``: its outputs side by side, [window + 2, H * outputs]."""
        ids, mask = encoder_inputs(tokens, [window], *self.special)
        outputs = self.session.run(self.outputs, {"input_ids": ids, "attention_mask": mask} if self.reads_mask
                                   else {"input_ids": ids})
        return np.concatenate([out[0] for out in outputs], axis=-1)

    def parts(self, text: str, paragraph_spans: list[tuple[int, int]]):
        """(tokens, ``article_heads.article_pool`` of the states the article heads read [2H], per-piece
        probabilities [n, K], {part name: per-paragraph probabilities [P, K]}).

        The encoder's states are read chunk by chunk as its windows come (``heads.merged_chunks``) into the
        token head and the paragraphs' and the article's pools (``heads.RangePools``), and not kept: a long text
        costs its pieces' technique probabilities, not their states (``benchmarks/long_text.py``), with the
        numbers that pooling every piece's states at once gives."""
        tokens = tokenize(self.tokenizer, text)
        ranges = paragraph_ranges(tokens, paragraph_spans)
        width = self.token_w.shape[0]
        paragraph_pools, article_pool, token_probs = RangePools(ranges, width), None, None
        for start, chunk in merged_chunks(*self._window_states(tokens), len(tokens)):
            states = chunk[:, :width]
            article_states = chunk[:, width:] if len(self.outputs) > 1 else states
            probs = sigmoid(states @ self.token_w + self.token_b)
            if token_probs is None:
                token_probs = np.empty((len(tokens), probs.shape[1]), dtype=probs.dtype)
                article_pool = RangePools([(0, len(tokens))], article_states.shape[1])
            token_probs[start:start + len(chunk)] = probs
            paragraph_pools.add(start, states)
            article_pool.add(start, article_states)
        return tokens, article_pool.result()[0], token_probs, {
            "paragraph_head": sigmoid(paragraph_pools.result() @ self.par_w + self.par_b),
            "token_max": range_max(token_probs, ranges),
            "lexical": self.lexical.probabilities([text[s:e] for s, e in paragraph_spans]),
        }

    def span_features(self, text: str, spans: list[tuple[int, int]]) -> np.ndarray:
        """[n, F] features of the given character spans (slant.span_classes), from one encoder pass."""
        tokens, states, _ = self.encode(text)
        token_probs = sigmoid(states @ self.token_w + self.token_b)
        return np.stack([span_features(text, tokens, states, token_probs, s, e) for s, e in spans]) if spans \
            else np.zeros((0, 2 * len(self.labels) + 2 * states.shape[1] + 5), dtype=np.float32)

    def span_classes(self, text: str, spans: list[tuple[int, int]]) -> np.ndarray:
        """[n, 14] PTC-2020 class scores of the given spans: the model's span classifier, or (a model
        without one) each class's best mean token-head probability."""
        features = self.span_features(text, spans)
        if self.span_classifier is not None:
            return self.span_classifier.probabilities(features)
        return rule_scores(features, self.labels)

    def probabilities(self, text: str, paragraph_spans: list[tuple[int, int]]):
        """(tokens, per-piece probabilities [n, K], per-paragraph probabilities [P, K]).

        A paragraph's probability is the mean of the parts named in the
        manifest's ``paragraph_ensemble``: the paragraph head, the token head's
        strongest piece in the paragraph, and the lexical head.
        """
        tokens, _, token_probs, parts = self.parts(text, paragraph_spans)
        return tokens, token_probs, self.combine(parts)

    def combine(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        return np.mean([parts[name] for name in self.ensemble], axis=0)

    def analyze(self, doc: Document, thresholds: str | None = None, official: bool = False,
                untitled: bool | None = None) -> Document:
        """Label ``doc`` in place (genre and frames when the model has them, paragraph techniques
        with scores, the spans backing them) and return it; ``thresholds`` names an operating point
        other than the detector's.

        The model reads English: a text that surely reads as another language (``slant.language``) raises
        NotEnglishError, unless ``doc.language`` declares it English; ``doc.language`` is filled in when
        it was not given and the text's language is sure.  A text under ``GENRE_MIN_WORDS`` words gets no
        genre, one under ``FRAMES_MIN_WORDS`` no frames either (they stay None).  With ``official`` none of
        this applies: every article gets every label, as the official task formats need a row for each.  A text over
        ``MAX_CHARACTERS`` raises TextTooLongError, an empty one (``segment.is_blank``) InputError.
        The text is read under the title line ``heading`` gives: the Document's own title where it has one that
        is not the text's first line, else for a text of one paragraph ``LONE_PARAGRAPH_TITLE`` (not with
        ``official``, where a file of one line is an article's title); ``untitled`` True reads any text under
        that line, False none (the studies' switch: ``slant.training.title_study``). Offsets stay the text's.

        A technique is reported where its raw paragraph score passes the threshold (at the micro point, for a
        text of one paragraph and up to ``LONE_SHORT_WORDS`` words, ``LONE_SHORT_SCALE`` times it); the score it is
        reported with is calibrated (the chance of being right, measured out of fold) when the model has a
        ``paragraph_calibration`` (its ``lines`` map for text printed one sentence per line: ``score_map``),
        and a span's (the chance that it overlaps an annotated span of its technique) when it has a
        ``span_calibration``."""
        where = doc.source or f"document {doc.id}"
        if len(doc.text) > MAX_CHARACTERS:
            raise TextTooLongError(where, len(doc.text), MAX_CHARACTERS)
        if is_blank(doc.text):
            raise InputError(f"{where}: empty, no text to read")
        for what, value in (("text", doc.text), ("title", doc.title or "")):
            refuse_not_text(where, what, value)
        if not doc.language:   # None, or "" from an empty column
            doc.language, probability = identify(doc.text)
            if doc.language not in (None, ENGLISH) and not official:
                raise NotEnglishError(where, doc.language, probability)
        elif primary(doc.language) != ENGLISH and not official:
            raise NotEnglishError(where, primary(doc.language))
        point = thresholds or self.operating_point
        cut = self.paragraph_thresholds if point == self.operating_point else self.thresholds_at(point)
        heading = self.heading(doc, official, untitled)
        text, shift = heading + doc.text, len(heading)
        spans = [(p.start + shift, p.end + shift) for p in doc.paragraphs]
        if (point == "micro" and heading == LONE_PARAGRAPH_TITLE and len(spans) == 1
                and word_count(doc.text) <= LONE_SHORT_WORDS):
            cut = cut * LONE_SHORT_SCALE
        tokens, pool, token_probs, parts = self.parts(text, ([(0, shift - 2)] if heading else []) + spans)
        all_probs = self.combine(parts)
        par_probs = all_probs[1:] if heading else all_probs
        if self.article is not None:
            article_text, article_probs = text, all_probs   # the text with the title it was given
            if heading == LONE_PARAGRAPH_TITLE:   # a made-up title line: genre and frames as measured, without it
                article_text, article_probs = doc.text, par_probs
                if len(spans) == 1:   # a lone paragraph's from its text alone
                    _, pool, _, lone_parts = self.parts(doc.text, [(p.start, p.end) for p in doc.paragraphs])
                    article_probs = self.combine(lone_parts)
            genre, frames = self.article.probabilities(article_text, pool, article_probs)
            self._label_article(doc, None if too_short_for_genre(article_text) and not official else genre,
                                None if too_short_for_frames(article_text) and not official else frames)
        hot = [np.flatnonzero(row >= cut).tolist() for row in par_probs]   # decided on the raw scores
        calibration = self.score_map(doc)
        scores = par_probs if calibration is None else calibrated(par_probs, *calibration)
        doc.techniques = {}
        for p, row, ks in zip(doc.paragraphs, scores, hot):
            labels = sorted((Label(self.labels[k], round(float(row[k]), 4)) for k in ks), key=lambda lab: -lab.score)
            doc.set_paragraph_techniques(p.number, labels)
        doc.spans = []
        ranges = paragraph_ranges(tokens, spans)
        found = evidence_spans(text, tokens, token_probs, self.span_thresholds, self.labels, ranges, hot)
        scores = [score for *_, score in found]
        if self.span_calibration is not None and found:
            ks = [self.label_index[label] for _, _, label, _ in found]
            slope, intercept = self.span_calibration
            scores = calibrated(np.array(scores), slope[ks], intercept[ks]).round(4).tolist()
        for (start, end, label, _), score in zip(found, scores):
            doc.add_span(start - shift, end - shift, label, score)
        return doc

    @staticmethod
    def heading(doc: Document, official: bool = False, untitled: bool | None = None) -> str:
        """The title line (with its blank line) that ``analyze`` reads ``doc``'s text under, or "": the
        Document's own title when it has one that its text's first line does not hold (a ``title`` given beside the
        body, in the API or a batch column — the model was trained on articles with their titles); else
        ``LONE_PARAGRAPH_TITLE`` for a text of one paragraph; none in ``official`` mode, where the text is
        read as the task gives it. ``untitled`` True or False forces ``LONE_PARAGRAPH_TITLE`` or none.

        >>> Detector.heading(Document("a", "The body, alone.\\n\\nMore of it.", title="A  Title"))
        'A Title\\n\\n'
        >>> Detector.heading(Document("b", "A TITLE | The Site\\n\\nThe body.", title="A title")), \\
        ...     Detector.heading(Document("c", "One paragraph."))
        ('', 'Untitled\\n\\n')
        """
        if untitled is not None:
            return LONE_PARAGRAPH_TITLE if untitled else ""
        if official:
            return ""
        given = " ".join((doc.title or "").split())
        if given and given.casefold() not in " ".join((title_of(doc.text) or "").split()).casefold():
            return given + "\n\n"   # not already the first line (nor in it, as "Title | Site" holds it)
        return LONE_PARAGRAPH_TITLE if len(doc.paragraphs) == 1 else ""

    def score_map(self, doc: Document):
        """The (slopes, intercepts) that calibrate the technique scores of ``doc``: the map for text printed one
        sentence per line (``segment.prints_sentence_lines``) where the model has one, else the paragraph map;
        None for a model without calibration."""
        if self.line_calibration is not None and prints_sentence_lines(doc.text, doc.paragraphs):
            return self.line_calibration
        return self.calibration

    def _label_article(self, doc: Document, genre: np.ndarray | None, frames: np.ndarray | None) -> None:
        doc.genre = doc.frames = None
        if genre is not None:
            best = int(np.argmax(genre))
            doc.set_genre(self.article.genres[best], round(float(genre[best]), 4))
        if frames is None:
            return
        hot = np.flatnonzero(frames >= self.article.frame_thresholds)   # decided on the raw scores
        scores = self.article.frame_scores(frames, doc.text)
        doc.set_frames(sorted((Label(self.article.frames[k], round(float(scores[k]), 4)) for k in hot),
                              key=lambda lab: -lab.score))


def load_detector(path: str | Path | None = None, threads: int | None = None, thresholds: str = "micro") -> Detector:
    """The shipped detector (or the artifact at ``path``), checked against its manifest."""
    return Detector(load_artifact(path), threads, thresholds)


@lru_cache(maxsize=1)
def _shipped() -> Detector:
    return load_detector()


def analyze(item: str | Document, detector: Detector | None = None) -> Document:
    """Analyse a text (or a Document, labelled in place) with ``detector`` or the shipped one.

    The shipped detector is loaded once per process on first use.
    """
    doc = item if isinstance(item, Document) else Document("text", item)
    return (detector or _shipped()).analyze(doc)
