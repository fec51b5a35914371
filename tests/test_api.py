"""The public API holds together: exported names, and every module's examples run."""

import doctest
import importlib
import inspect
import pkgutil

import pytest

import slant


def test_all_is_sorted_and_complete():
    public = {name for name in dir(slant)
              if not name.startswith("_") and not inspect.ismodule(getattr(slant, name))}
    assert slant.__all__ == sorted(slant.__all__)
    assert public == set(slant.__all__) - {"__version__"}


MODULES = sorted(m.name for m in pkgutil.walk_packages(slant.__path__, "slant.") if m.name != "slant.__main__")


@pytest.mark.parametrize("name", MODULES)
def test_doctests_pass(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("name", ["slant.evaluate", "slant.taxonomy", "slant.segment"])
def test_metric_and_data_modules_carry_examples(name):
    """Like evaluate's metric contract test: a metric without worked examples fails."""
    assert doctest.testmod(importlib.import_module(name)).attempted > 1


def test_runtime_does_not_import_torch():
    import subprocess
    import sys
    code = "import sys, slant, slant.cli, slant.evaluate; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


HEADINGS = ["## Description", "## How to Use", "## Inputs", "## Output Values", "## Examples",
            "## Limitations and Bias", "## Citation"]


@pytest.mark.parametrize("task,card", [("1", "subtask1-genre"), ("2", "subtask2-3-micro-f1"),
                                       ("3", "subtask2-3-micro-f1"), ("si", "ptc-si"), ("tc", "ptc-tc")])
def test_every_task_metric_has_a_complete_card(task, card):
    from conftest import REPO
    from slant.evaluate import TASKS
    assert task in TASKS
    text = (REPO / "docs" / "metrics" / f"{card}.md").read_text(encoding="utf-8")
    assert [h for h in HEADINGS if h in text] == HEADINGS
    assert f"slant evaluate --{'subtask' if task.isdigit() else 'ptc'} {task}" in text
