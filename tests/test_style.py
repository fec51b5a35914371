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
    assert column(report, "paragraphs_with_quote") == 0.5


def test_degenerate_texts_give_finite_numbers():
    for text in ("", "\n\n", "Only a title", "\ufeffTitle\n\n😀 ☃ ünïcode\n", "A\n\nB\n\nC"):
        features = style_features(text)
        assert features.shape == (len(NAMES),) and np.isfinite(features).all(), text
