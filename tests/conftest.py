"""Shared fixtures: tiny articles written here, and running the CLI as a user does."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SHARED_DATA = REPO.parent / "shared" / "data"

# A small article with the awkward parts of real ones: a BOM, a blank line of
# spaces, a multibyte character, an em dash, and no final newline.
ARTICLE = (
    "\ufeffWar on Common Sense\n"
    "\n"
    "The sinister regime of bureaucrats wants to tax your café au lait.\n"
    "   \n"
    "Everyone agrees — every single honest person — that this is madness.\n"
    "\n"
    "Stop them now 🛑!"
)


@pytest.fixture
def article_text() -> str:
    return ARTICLE


@pytest.fixture
def article_file(tmp_path: Path) -> Path:
    path = tmp_path / "article123.txt"
    path.write_bytes(ARTICLE.encode("utf-8"))
    return path


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def run_slant(*args: str, stdin: str | None = None, cwd: Path | None = None) -> Run:
    """Run ``python -m slant`` as a subprocess, the way a user runs the CLI."""
    proc = subprocess.run([sys.executable, "-m", "slant", *map(str, args)], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", cwd=cwd or REPO, timeout=120)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random-encoder model trained by `slant train --tiny` on a corpus written in the tests."""
    pytest.importorskip("torch", reason="needs the train extra")
    from tiny_corpus import write_tiny_corpus

    root = tmp_path_factory.mktemp("tiny")
    write_tiny_corpus(root / "data")
    r = run_slant("train", "--data", root / "data", "--out", root / "model", "--tiny")
    assert r.returncode == 0, r.stderr
    assert "step" in r.stderr and "exported" in r.stderr        # progress is shown
    return root
