"""PTC-2020 spans moved onto the SemEval-2023 text of the same article (hand-built cases)."""

import pytest

from slant import Document, Span
from slant.training.ptc_spans import align_offsets, ptc_spans

pytest.importorskip("torch", reason="needs the train extra")  # slant.training imports torch

SEMEVAL = "\ufeffTitle é\n\nThe corrupt élite 🙂 lied. They always lie!\n\nA quiet second paragraph here.\n"
PTC = "\ufeffTitle é\n\nThe corrupt élite 🙂 lied.\nThey always lie!\nA quiet 2nd paragraph here.\n"


def test_offsets_follow_shared_words_across_rejoined_lines_and_multibyte_text():
    moved = align_offsets(PTC, SEMEVAL)
    for word in ("corrupt", "élite", "🙂", "They", "lie!", "quiet", "paragraph"):
        a, b = PTC.index(word), SEMEVAL.index(word)
        assert moved[a] == b and moved[a + len(word)] == b + len(word)
        assert SEMEVAL[moved[a]:moved[a + len(word)]] == word
    assert PTC.index("2nd") not in moved              # a word the texts do not share has no mapping


def _ptc_folder(root, rows):
    (root / "ptc2020" / "train-articles").mkdir(parents=True)
    (root / "ptc2020" / "train-articles" / "article7.txt").write_bytes(PTC.encode("utf-8"))
    (root / "ptc2020" / "train-task2-TC.labels").write_text(
        "".join(f"7\t{c}\t{PTC.index(f)}\t{PTC.index(f) + len(f)}\n" for c, f in rows), encoding="utf-8")
    return root


def test_spans_move_map_to_techniques_and_resolve_merged_classes_by_semeval_spans(tmp_path):
    doc = Document(id="7", text=SEMEVAL)
    at = SEMEVAL.index("They always lie!")
    doc.spans = [Span(at, at + len("They always lie!"), "Straw_Man")]
    rows = [("Loaded_Language", "corrupt élite 🙂 lied.\nThey"),            # crosses a PTC line break
            ("Whataboutism,Straw_Men,Red_Herring", "always lie"),           # SemEval says Straw_Man here
            ("Bandwagon,Reductio_ad_hitlerum", "corrupt élite"),            # no SemEval span: not guessed
            ("Doubt", "2nd paragraph"),                                     # its text changed: dropped
            ("Doubt", "2nd paragraph")]                                     # a doubled row counts once
    moved, record = ptc_spans(_ptc_folder(tmp_path, rows), [doc])
    got = [(SEMEVAL[m.start:m.end], m.technique) for m in moved["7"]]
    assert got == [("corrupt élite 🙂 lied. They", "Loaded_Language"), ("always lie", "Straw_Man")]
    assert record["ptc spans"] == 4 and record["moved"] == 2
    assert record["dropped: class covers several techniques, none marked there"] == 1
    assert record["dropped: end in unshared text"] == 1
    assert record["moved, overlapping a SemEval span of the same technique"] == 1
    assert "moved, identical to a SemEval span" not in record


def test_articles_without_ptc_spans_get_none(tmp_path):
    moved, record = ptc_spans(_ptc_folder(tmp_path, []), [Document(id="8", text="Other.\n")])
    assert moved == {} and record["sha256"]
