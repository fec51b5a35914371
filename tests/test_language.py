"""The model reads English: texts in other languages are refused with one line, unless declared English."""

import json

import pytest

from conftest import EXAMPLES, run_slant, write

# Written for these tests.
FRENCH = ("Le gouvernement trahit encore les familles\n\n"
          "Les élites corrompues de la capitale veulent une fois de plus taxer le café du matin. "
          "Peut-on vraiment faire confiance à un ministre qui n'a jamais travaillé de sa vie ? "
          "Les vrais patriotes se lèveront pour défendre nos traditions contre ces technocrates.\n")
GERMAN = ("Die Regierung verrät die Familien\n\n"
          "Die korrupte Elite in der Hauptstadt will schon wieder den Kaffee am Morgen besteuern. "
          "Kann man einem Minister trauen, der nie in seinem Leben gearbeitet hat? "
          "Wahre Patrioten werden unsere Traditionen gegen diese Technokraten verteidigen.\n")
ENGLISH = (EXAMPLES / "article900000001.txt").read_text(encoding="utf-8")


def test_english_passes_the_screen_and_other_languages_are_named():
    from slant.language import english_share, identify
    assert english_share(ENGLISH)[0] > 0.3 and english_share(FRENCH)[0] < 0.1
    assert identify(ENGLISH) == ("en", 1.0)                      # the screen alone
    assert identify(FRENCH)[0] == "fr" and identify(GERMAN)[0] == "de"
    assert identify(FRENCH)[1] >= 0.95


@pytest.mark.parametrize("text", [
    "Brussels Bureaucrats Plot to Ban Your Morning Coffee",   # a headline: too short for the screen
    "Pompeo, Maduro, Guaidó: Caracas, Bogotá",                 # names only
    "OK",
])
def test_short_or_odd_english_is_never_called_another_language(text):
    from slant.language import identify
    assert identify(text)[0] in ("en", None)


def test_language_tags_reduce_to_their_primary_subtag():
    from slant.language import language_name, primary
    assert primary("en-GB") == "en" and primary(" EN_us ") == "en" and primary("fr") == "fr"
    assert language_name("fr") == "French (fr)" and language_name("pcm") == "pcm"


def test_the_library_refuses_another_language_unless_declared():
    import slant
    from slant.document import Document
    from slant.language import NotEnglishError
    with pytest.raises(NotEnglishError, match=r"^document text: the text reads as French \(fr\)"):
        slant.analyze(FRENCH)
    declared = slant.analyze(Document("fr1", FRENCH, language="en-GB"))
    assert declared.techniques is not None and declared.language == "en-GB"
    with pytest.raises(NotEnglishError, match="its language is given as German"):
        slant.analyze(Document("en1", ENGLISH, language="de"))
    assert slant.analyze(Document("empty", ENGLISH, language="")).language == "en"   # an empty column: not declared
    doc = slant.analyze(ENGLISH)
    assert doc.language == "en" and doc.genre is not None
    assert slant.analyze("Brussels Bureaucrats Plot").language is None   # unsure: analysed, language unknown


def test_cli_reports_another_language_in_one_line_and_analyses_the_rest(tmp_path):
    french, german = write(tmp_path / "fr.txt", FRENCH), write(tmp_path / "de.txt", GERMAN)
    english = write(tmp_path / "en.txt", ENGLISH)
    r = run_slant("analyze", french, english, german, "--format", "jsonl")
    assert r.returncode == 1
    assert [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["en"]
    assert json.loads(r.stdout)["language"] == "en"
    assert r.stderr.splitlines() == [
        f"Error: {french}: the text reads as French (fr); slant's model reads English only",
        f"Error: {german}: the text reads as German (de); slant's model reads English only",
    ]
    r = run_slant("analyze", "-", "--language", "en", stdin=FRENCH)     # declared: analysed whatever it reads as
    assert r.returncode == 0 and r.stdout.startswith("Le gouvernement trahit encore les familles  [<stdin>]")


def test_official_formats_label_every_article_and_warn_about_other_languages(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder / "article1.txt", ENGLISH)
    write(folder / "article2.txt", FRENCH)
    write(folder / "article3.txt", GERMAN)
    r = run_slant("semeval", "predict", "--subtask", "1", "--articles", folder, "--output", tmp_path / "genre.txt")
    assert r.returncode == 0, r.stderr
    assert [line.split("\t")[0] for line in (tmp_path / "genre.txt").read_text().splitlines()] == ["1", "2", "3"]
    assert r.stderr.splitlines()[-1] == ("Warning: 2 of the 3 articles read as another language (French (fr) 1, "
                                         "German (de) 1): slant's model reads English, so their predictions mean little")
    r = run_slant("ptc", "predict", "--task", "si", "--articles", folder, "--output", tmp_path / "si.txt")
    assert r.returncode == 0 and "Warning: 2 of the 3 articles read as another language" in r.stderr
    template = write(tmp_path / "template.txt", "1\t?\t0\t8\n2\t?\t0\t14\n")   # classes of given spans
    r = run_slant("ptc", "predict", "--task", "tc", "--articles", folder, "--template", template,
                  "--output", tmp_path / "tc.txt")
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines()[-1] == ("Warning: 1 of the 2 articles read as another language (French (fr) 1): "
                                         "slant's model reads English, so their predictions mean little")


def test_the_language_study_runs_on_tiny_data(tmp_path):
    import subprocess
    import sys
    from conftest import REPO
    from tiny_corpus import write_tiny_corpus
    data = write_tiny_corpus(tmp_path / "data")
    fr = data / "semeval2023" / "fr" / "train-articles"
    fr.mkdir(parents=True)
    write(fr / "article1.txt", FRENCH)
    r = subprocess.run([sys.executable, "-m", "slant.language", "--data", str(data)], capture_output=True, text=True,
                       cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert [row[:2] for row in rows if row[0] == "fr"][-2:] == [["fr", "whole"], ["fr", "each line"]]
    assert ["en", "whole", "10 articles", "en 10"] in rows and ["fr", "whole", "1 articles", "fr 1"] in rows
    r = subprocess.run([sys.executable, "-m", "slant.language", "--data", str(tmp_path / "nowhere")],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().endswith("nowhere/semeval2023: not found")
