"""Style features of the genre head: what they count, on text written for this test."""

import numpy as np

from slant.style import NAMES, style_features

REPORT = ("Council approves budget\n\n"
          "The council approved a budget of 412 million dollars on Tuesday, officials said.\n\n"
          "\"Hard choices had to be made,\" the mayor told reporters, according to a statement.\n")
OPINION = ("Why do we keep losing?\n\n"
           "I am tired of excuses. We deserve better, and you know it!\n\n"
           "Our leaders have failed us. Are you angry yet? I am!\n")


def column(features, name):
    return float(features[NAMES.index(name)])


def test_reporting_and_opinion_differ_where_they_should():
    report, opinion = style_features(REPORT), style_features(OPINION)
    assert len(report) == len(NAMES) and report.dtype == np.float32
    for name in ("attribution_per_1k_words", "quotes_per_1k_chars", "digits_per_1k_chars"):
        assert column(report, name) > column(opinion, name) == 0, name
    for name in ("first_person_per_1k_words", "second_person_per_1k_words", "questions_per_1k_chars",
                 "exclamations_per_1k_chars", "title_question"):
        assert column(opinion, name) > column(report, name) == 0, name
    assert column(report, "sentences_with_quote") == 0.5 and column(report, "sentences_opening_with_quote") == 0.5


def test_line_breaks_do_not_change_the_style():
    """Sources differ in how they break a body into lines (blank lines between paragraphs, one sentence per
    line, ...) whatever the genre: the features must not see it."""
    one_per_line = REPORT.replace("on Tuesday, officials said. ", "on Tuesday, officials said.\n")
    one_per_line = one_per_line.replace("dollars on Tuesday, officials said.\n\n", "dollars on Tuesday, officials said.\n")
    sentence_lines = OPINION.replace(". ", ".\n").replace("? ", "?\n").replace("\n\n", "\n").replace("?\n", "?\n\n", 1)
    for a, b in ((REPORT, one_per_line), (OPINION, sentence_lines), (OPINION, OPINION.replace("\n\n", "\n   \n\n"))):
        assert a != b
        np.testing.assert_array_equal(style_features(a), style_features(b))


def test_degenerate_texts_give_finite_numbers():
    for text in ("", "\n\n", "Only a title", "\ufeffTitle\n\n😀 ☃ ünïcode\n", "A\n\nB\n\nC"):
        features = style_features(text)
        assert features.shape == (len(NAMES),) and np.isfinite(features).all(), text
