"""The shipped model, through the runtime a user gets from `pip install`."""

import json
import subprocess
import sys

import pytest

from slant import Document, taxonomy
from slant.models import default_path, load_artifact
from slant.runtime import load_detector
from conftest import ARTICLE, EXAMPLES, run_slant


@pytest.fixture(scope="module")
def detector():
    return load_detector()


def test_artifact_is_small_and_described():
    art = load_artifact()
    m = art.manifest
    assert sum(f["bytes"] for f in m["files"].values()) < 40_000_000
    assert m["labels"] == list(taxonomy.TECHNIQUES)
    assert len(m["training"]["data_sha256"]) == 64 and m["training"]["commands"]
    # trained on every article: its figures are out-of-fold, from the cross-validation that chose its thresholds
    assert m["training"]["holdout_fold"] is None and "--cross-validate" in m["training"]["commands"][0]
    assert m["metrics"]["cross_validated"]["fp32_torch"]["subtask3_micro_f1_crossfit"] > 0.4
    assert m["metrics"]["cross_validated"]["out_of_fold_articles"] == 446
    assert (default_path() / "RESULTS.md").is_file()
    # frame scores are reported calibrated (fitted on the article heads' out-of-fold scores)
    assert len(m["article"]["frame_calibration"]["slope"]) == 14
    assert m["metrics"]["article"]["frames_calibration"]["articles"] == 433


@pytest.mark.parametrize("text", [
    ARTICLE,
    "One line only, no title break",
    "Title\n\n" + "The corrupt regime lies and lies. " * 400,   # far longer than one window
    "😀🛑\n\nçà ñ ü — 北京 “quotes”",
])
def test_detector_contract(detector, text):
    doc = detector.analyze(Document("t", text))
    again = detector.analyze(Document("t", text))
    assert [(s.start, s.end, s.technique, s.score) for s in doc.spans] == \
           [(s.start, s.end, s.technique, s.score) for s in again.spans]
    assert doc.techniques == again.techniques
    numbers = {p.number for p in doc.paragraphs}
    for number, labels in doc.techniques.items():
        assert number in numbers
        for label in labels:
            assert label.name in taxonomy.TECHNIQUES and 0.0 <= label.score <= 1.0
    for span in doc.spans:
        assert 0 <= span.start < span.end <= len(text) and text[span.start:span.end] == span.text
        assert 0.0 <= span.score <= 1.0
        paragraph = doc.paragraph_at(span.start)
        assert paragraph is not None and span.technique in {l.name for l in doc.techniques[paragraph.number]}


def test_every_paragraph_label_has_evidence(detector):
    doc = detector.analyze(Document("t", ARTICLE + "\n\nThese traitors and their corrupt media allies lie."))
    for number, labels in doc.techniques.items():
        p = doc.paragraph(number)
        for label in labels:
            assert any(s.technique == label.name and p.start <= s.start < p.end for s in doc.spans), label


@pytest.mark.parametrize("setting, expected", [(None, 1), ("2", 2)])
def test_a_detector_runs_numpys_blas_on_one_thread(setting, expected):
    """numpy's BLAS threads spin beside onnxruntime's and take a core: where numpy was imported before slant (a
    notebook, a pipeline) the OPENBLAS_NUM_THREADS default of ``import slant`` comes too late, so loading a
    detector sets BLAS to one thread; an explicit setting wins."""
    import os
    code = ("import numpy; from threadpoolctl import threadpool_info; "
            "n = lambda: max(i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'); "
            "before = n(); from slant.runtime import load_detector; load_detector(); print(before, n())")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env |= {"OPENBLAS_NUM_THREADS": setting} if setting else {}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    before, after = map(int, r.stdout.split())
    assert after == expected and (before > 1 or (os.cpu_count() or 1) == 1 or setting)


def test_analyze_the_example_as_a_user_without_torch():
    code = ("import sys, json; from slant.runtime import load_detector; from slant import read_article; "
            "d = load_detector().analyze(read_article(sys.argv[1])); "
            "print(json.dumps([d.techniques is not None, 'torch' in sys.modules, 'transformers' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "article900000001.txt")],
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [True, False, False]


def test_cli_json_on_the_example():
    r = run_slant("analyze", EXAMPLES / "article900000001.txt", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["techniques"], "the example is written to be full of techniques"
    for span in doc["spans"]:
        assert doc["text"][span["start"]:span["end"]] == span["text"]


def test_library_analyze_text_and_document():
    import slant
    doc = slant.analyze("Title\n\nThe regime's thugs unleashed a savage crackdown.")
    assert doc.id == "text" and 3 in doc.techniques
    assert "Loaded_Language" in {label.name for label in doc.techniques[3]}
    mine = Document("42", ARTICLE)
    assert slant.analyze(mine) is mine and mine.techniques is not None
    for empty in ("", " \n\n ", "\ufeff\u200b"):   # refused as the CLI, batch and the API refuse it
        with pytest.raises(slant.InputError, match=r"^document text: empty, no text to read$"):
            slant.analyze(empty)
    with pytest.raises(slant.InputError, match=r"^notes.txt: empty"):
        slant.analyze(Document("n", "\n", source="notes.txt"))
    from slant.errors import NotUnicodeError
    with pytest.raises(NotUnicodeError, match=r"^document text: the text holds an unpaired surrogate \(U\+DE00\) at "
                                              r"character 4, "):
        slant.analyze("Cut \ude00 here.")   # it was a TypeError from the tokenizer
    with pytest.raises(NotUnicodeError, match=r"^document text: the text holds a NUL character at character 1: "
                                              r"binary data, not text"):
        slant.analyze("T\x00h\x00e\x00 elite lie")   # UTF-16 read as UTF-8: it was analysed as a text


def test_the_runtime_pools_a_long_text_chunk_by_chunk_to_the_numbers_of_the_whole():
    """Detector.parts never holds every piece's encoder states (a long text costs its pieces' technique
    probabilities): its paragraph and article pools equal those of the states merged whole (Detector.encode)."""
    import numpy as np

    from slant.article_heads import article_pool
    from slant.heads import paragraph_ranges, pool, sigmoid
    from slant.runtime import load_detector
    from slant.segment import paragraphs

    text = "\n\n".join(f"Paragraph {i}: the corrupt elite betray our great nation again and again. " * (1 + i % 9)
                       for i in range(60))   # about 3,500 pieces: many windows, paragraphs cut across them
    detector = load_detector()
    spans = [(p.start, p.end) for p in paragraphs(text)]
    tokens, states, article_states = detector.encode(text)
    assert len(tokens) > 5 * detector.window
    _, states_pool, token_probs, parts = detector.parts(text, spans)
    np.testing.assert_array_equal(states_pool, article_pool(article_states))
    ranges = paragraph_ranges(tokens, spans)
    np.testing.assert_array_equal(parts["paragraph_head"], sigmoid(pool(states, ranges) @ detector.par_w + detector.par_b))
    np.testing.assert_allclose(token_probs, sigmoid(states @ detector.token_w + detector.token_b), rtol=0, atol=1e-6)


def test_a_text_of_one_paragraph_is_read_under_a_title_line(monkeypatch):
    """To the encoder a one-paragraph text is an article's title; read alone, body paragraphs were given 36 %
    more techniques than gold out of fold (lab record, session 30). Its techniques are now those of the same
    paragraph under runtime.LONE_PARAGRAPH_TITLE, its spans in its own offsets; the official mode, where a file
    of one line is an article's title, reads it as before. (Short ones are also held to higher thresholds: the
    next test; here the factor is 1.)"""
    from slant import runtime
    from slant.document import Document
    from slant.runtime import LONE_PARAGRAPH_TITLE, load_detector

    monkeypatch.setattr(runtime, "LONE_SHORT_SCALE", 1.0)

    detector = load_detector()
    for greeting in ("Hello there", "Good morning everyone.", "Thanks for reading."):
        assert not detector.analyze(Document("g", greeting, language="en")).techniques.get(1), greeting
    text = "\ufeff  The corrupt elite are destroying our great nation, everyone knows it.  \n"
    lone = detector.analyze(Document("lone", text, language="en"))
    titled = detector.analyze(Document("titled", LONE_PARAGRAPH_TITLE + text, language="en"))
    # the same decisions (the scores differ: the titled text, one sentence under a title, gets the map for lines)
    names = [label.name for label in lone.techniques[1]]
    assert names == [label.name for label in titled.techniques[3]] and "Name_Calling-Labeling" in names
    shift = len(LONE_PARAGRAPH_TITLE)
    assert [(s.start, s.end, s.technique, s.score) for s in lone.spans] == \
           [(s.start - shift, s.end - shift, s.technique, s.score) for s in titled.spans]
    assert lone.spans and all(text[s.start:s.end] == s.text for s in lone.spans)
    assert lone.frames == detector.analyze(Document("again", text, language="en")).frames   # from the text alone
    import dataclasses
    from slant.runtime import Detector
    no_article_heads = Detector(dataclasses.replace(detector.artifact, article=None))   # reads the text once
    bare = no_article_heads.analyze(Document("bare", text, language="en"))
    assert bare.techniques == lone.techniques and bare.spans == lone.spans and bare.frames is None
    official = detector.analyze(Document("o", "Hello there", language="en"), official=True)
    _, probs = detector.probabilities("Hello there", [(0, 11)])[1:]
    assert {l.name for l in official.techniques[1]} == \
           {detector.labels[k] for k in (probs[0] >= detector.paragraph_thresholds).nonzero()[0]}


def test_a_short_lone_text_is_held_to_higher_thresholds(monkeypatch):
    """Read alone, texts of up to 15 words still got more techniques than gold out of fold (about 1.4 times as
    many on two folds); at the micro point their thresholds are 1.3 times as high (runtime.LONE_SHORT_SCALE;
    lab record, session 32). A longer lone text, and the per-technique point, keep theirs."""
    from slant import runtime
    from slant.document import Document
    from slant.runtime import load_detector

    detector, scale = load_detector(), runtime.LONE_SHORT_SCALE

    def names(text: str, factor: float, thresholds: str | None = None) -> list[str]:
        monkeypatch.setattr(runtime, "LONE_SHORT_SCALE", factor)
        doc = detector.analyze(Document("t", text, language="en"), thresholds=thresholds)
        return sorted(label.name for label in doc.techniques.get(1, []))

    short = "Real patriots know the corrupt elite are lying to you."   # 10 words
    held, unscaled = names(short, scale), names(short, 1.0)
    assert held == ["Name_Calling-Labeling"] and set(held) < set(unscaled)
    assert names(short, scale, "per-technique") == names(short, 1.0, "per-technique")
    longer = short + " They always lie, and they will keep lying until we stop them."   # 22 words
    assert names(longer, scale) == names(longer, 1.0) and names(longer, 1.0)


def test_a_text_of_several_paragraphs_can_be_read_under_a_title_line():
    """``untitled=True`` (the title study's switch) reads a text of several paragraphs under
    runtime.LONE_PARAGRAPH_TITLE as a one-paragraph text is read: the techniques of its paragraphs and its spans
    those of the titled text, in its own numbering and offsets; by default such a text is read as it is."""
    from slant.document import Document
    from slant.runtime import LONE_PARAGRAPH_TITLE, load_detector

    detector = load_detector()
    text = ("The corrupt elite are destroying our great nation, everyone knows it.\n\n"
            "Only a fool would trust these criminals with our money.\n\nWake up, patriots, before it is too late!")
    untitled = detector.analyze(Document("u", text, language="en"), untitled=True)
    titled = detector.analyze(Document("t", LONE_PARAGRAPH_TITLE + text, language="en"))
    assert {n: [l.name for l in labels] for n, labels in untitled.techniques.items()} == \
           {n - 2: [l.name for l in labels] for n, labels in titled.techniques.items() if n > 1}
    shift = len(LONE_PARAGRAPH_TITLE)
    assert untitled.spans and [(s.start, s.end, s.technique) for s in untitled.spans] == \
           [(s.start - shift, s.end - shift, s.technique) for s in titled.spans if s.start >= shift]
    assert all(text[s.start:s.end] == s.text for s in untitled.spans)
    as_is = detector.analyze(Document("a", text, language="en"))
    assert as_is.techniques == detector.analyze(Document("a", text, language="en"), untitled=False).techniques
