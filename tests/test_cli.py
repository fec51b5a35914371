"""The CLI run as a subprocess, the way a user runs it."""

import json

import pytest

import slant
from conftest import EXAMPLES, run_slant, write


def test_help_lists_the_commands():
    r = run_slant("--help")
    assert r.returncode == 0
    for command in ("evaluate", "schema", "taxonomy"):
        assert command in r.stdout


def test_version():
    r = run_slant("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"slant, version {slant.__version__}"


def test_taxonomy_text_and_json():
    r = run_slant("taxonomy", "--kind", "techniques")
    assert r.returncode == 0
    assert "Loaded_Language  [Manipulative_Wording]" in r.stdout and "techniques (23)" in r.stdout
    data = json.loads(run_slant("taxonomy", "--json").stdout)
    assert [len(data[k]) for k in ("genres", "frames", "techniques", "groups", "ptc")] == [3, 14, 23, 6, 14]
    assert data["techniques"][0]["definition"]


def test_evaluate_example_pair_text():
    r = run_slant("evaluate", "--subtask", "3", "--gold", EXAMPLES / "gold-subtask-3.txt",
                  "--pred", EXAMPLES / "pred-subtask-3.txt")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "subtask 3 (techniques per paragraph): 9 items"
    assert lines[1] == "micro  P 0.750  R 0.643  F1 0.692"
    assert any(line.startswith("Appeal_to_Hypocrisy ") and line.split()[1:4] == ["1.000", "1.000", "1.000"]
               for line in lines)


def test_evaluate_json(tmp_path):
    gold = write(tmp_path / "g", "1\topinion\n2\tsatire\n3\treporting\n")
    pred = write(tmp_path / "p", "1\topinion\n2\topinion\n3\treporting\n")
    r = run_slant("evaluate", "--subtask", "1", "--gold", gold, "--pred", pred, "--json")
    data = json.loads(r.stdout)
    # opinion 2*1/3, satire 0, reporting 1 -> macro 5/9; accuracy 2/3
    assert data["macro_f1"] == pytest.approx(5 / 9) and data["micro"]["f1"] == pytest.approx(2 / 3)
    assert data["per_label"]["satire"]["recall"] == 0.0 and data["per_label"]["satire"]["precision"] is None


def test_evaluate_ptc_si(tmp_path):
    gold = write(tmp_path / "g", "1\t0\t10\n")
    pred = write(tmp_path / "p", "1\t5\t15\n")
    r = run_slant("evaluate", "--ptc", "si", "--gold", gold, "--pred", pred)
    assert r.returncode == 0 and "micro  P 0.500  R 0.500  F1 0.500" in r.stdout


@pytest.mark.parametrize("args,code,message", [
    (["evaluate", "--subtask", "3", "--gold", "missing.txt", "--pred", "x"], 1, "Error: missing.txt: no such file"),
    (["evaluate", "--subtask", "1", "--gold", "{gold}", "--pred", "{bad}"], 1, "Error: {bad}:2: unknown genre 'news'"),
    (["evaluate", "--subtask", "1", "--gold", "{gold}", "--pred", "{binary}"], 1, "Error: {binary}: binary file"),
    (["evaluate", "--gold", "{gold}", "--pred", "{gold}"], 2, "Error: give exactly one of --subtask"),
    (["evaluate", "--subtask", "1", "--ptc", "si", "--gold", "{gold}", "--pred", "{gold}"], 2, "Error: give exactly one"),
    (["taxonomy", "--kind", "colours"], 2, "Error: Invalid value for '--kind'"),
    (["semeval", "predict", "--subtask", "3", "--articles", "", "--output", "x"], 2,
     "Error: Invalid value for '--articles': an empty path names no file or folder"),
])
def test_errors_are_one_line_without_traceback(tmp_path, args, code, message):
    files = {"gold": write(tmp_path / "gold.txt", "1\topinion\n2\tsatire\n"),
             "bad": write(tmp_path / "bad.txt", "1\topinion\n2\tnews\n"),
             "binary": tmp_path / "bin.txt"}
    files["binary"].write_bytes(b"\x00\x01")
    fill = {k: str(v) for k, v in files.items()}
    r = run_slant(*[a.format(**fill) for a in args])
    assert r.returncode == code
    assert "Traceback" not in r.stderr
    error_lines = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and error_lines[0].startswith(message.format(**fill)), r.stderr
    if code == 1:
        assert r.stderr.count("\n") == 1
