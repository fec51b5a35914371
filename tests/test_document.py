import pytest

from slant import Document, Label, SpanError, LabelError
from slant.segment import paragraphs, title_of


@pytest.mark.parametrize("text,expected", [
    ("Title\n\nBody", [(1, 0, 5), (3, 7, 11)]),
    ("Title", [(1, 0, 5)]),
    ("", []),
    ("\n\n", []),
    ("A\n \t \nB\n", [(1, 0, 1), (3, 6, 7)]),            # whitespace-only lines count but carry nothing
    ("\ufeffT\n\nB", [(1, 0, 2), (3, 4, 5)]),             # U+FEFF is text, not whitespace
    ("A\r\n\r\nB", [(1, 0, 1), (3, 5, 6)]),               # only \n splits; a lone \r line is blank
    ("A b\r\n\r\nC\r\n", [(1, 0, 3), (3, 7, 8)]),         # a Windows line end stays out of the range
    ("A\rB\n", [(1, 0, 3)]),                             # a lone \r inside a line is the line's
    ("Title\r\rBody\r", [(1, 0, 5), (3, 7, 11)]),         # no \n at all: classic Mac line ends split
    ("é🛑\n\nü", [(1, 0, 2), (3, 4, 5)]),                 # code points, not bytes
])
def test_paragraph_rule(text, expected):
    assert [(p.number, p.start, p.end) for p in paragraphs(text)] == expected


@pytest.mark.parametrize("text,title", [("\ufeff Big News \n\nx", "Big News"), ("\n\nbody", None),
                                        ("Mac News\r\rbody", "Mac News")])
def test_title_of(text, title):
    assert title_of(text) == title


def test_span_text_is_the_documents_text(article_text):
    doc = Document("123", article_text)
    start = article_text.index("sinister regime")
    span = doc.add_span(start, start + len("sinister regime"), "Loaded_Language", 0.75)
    assert span.text == "sinister regime" == doc.text[span.start:span.end]
    emoji = article_text.index("🛑")
    assert doc.add_span(emoji, emoji + 1, "Slogans").text == "🛑"


@pytest.mark.parametrize("start,end,technique,score,error", [
    (-1, 3, "Doubt", 1.0, "outside text"),
    (0, 10_000, "Doubt", 1.0, "outside text"),
    (5, 5, "Doubt", 1.0, "start must be before end"),
    (6, 5, "Doubt", 1.0, "start must be before end"),
    (0, 3, "Doubts", 1.0, "unknown technique 'Doubts'"),
    (0, 3, "Doubt", 1.5, r"score 1.5 is not a number in \[0, 1\]"),
    (0, 3, "Doubt", float("nan"), "score nan"),
    (0.0, 3, "Doubt", 1.0, "offsets must be integers"),
    (True, 3, "Doubt", 1.0, "offsets must be integers"),
])
def test_invalid_spans_raise(article_text, start, end, technique, score, error):
    doc = Document("123", article_text)
    with pytest.raises((SpanError, LabelError), match=error):
        doc.add_span(start, end, technique, score)
    assert doc.spans == []


def test_labels_are_checked(article_text):
    doc = Document("123", article_text)
    with pytest.raises(LabelError, match="unknown genre 'news'"):
        doc.set_genre("news")
    with pytest.raises(LabelError, match="unknown frame 'Economy'"):
        doc.set_frames(["Economy"])
    with pytest.raises(LabelError, match="frame 'Political' given twice"):
        doc.set_frames(["Political", Label("Political", 0.3)])
    with pytest.raises(LabelError, match="no paragraph 2"):
        doc.set_paragraph_techniques(2, ["Doubt"])
    assert doc.set_frames([Label("Political", 0.25)]) == [Label("Political", 0.25)]
    assert doc.set_paragraph_techniques(5, ["Doubt"]) == [Label("Doubt", 1.0)]


def test_unanalysed_differs_from_nothing_found(article_text):
    doc = Document("123", article_text)
    assert doc.frames is None and doc.techniques is None and doc.genre is None
    doc.set_frames([])
    assert doc.frames == []


def test_techniques_from_spans_follow_overlapped_lines(article_text):
    doc = Document("123", article_text)
    a = article_text.index("sinister")
    b = article_text.index("every single")
    doc.add_span(a, b, "Exaggeration-Minimisation", 0.4)   # crosses the blank lines into paragraph 5
    doc.add_span(b, b + 5, "Exaggeration-Minimisation", 0.9)
    assert doc.techniques_from_spans() == {
        3: [Label("Exaggeration-Minimisation", 0.4)],
        5: [Label("Exaggeration-Minimisation", 0.9)],
    }


def test_paragraph_at(article_text):
    doc = Document("123", article_text)
    assert doc.paragraph_at(article_text.index("sinister")).number == 3
    assert doc.paragraph_at(article_text.index("\n\n")) is None


def test_validate_catches_direct_assignment(article_text):
    doc = Document("123", article_text)
    doc.genre = Label("tabloid")
    with pytest.raises(LabelError, match="unknown genre 'tabloid'"):
        doc.validate()


@pytest.mark.parametrize("doc_id", ["", "a b", None])
def test_bad_ids(doc_id):
    with pytest.raises(ValueError, match="document id"):
        Document(doc_id, "text")
