"""The documentation's links lead somewhere: every relative link in the README and docs/ names a file that exists."""

import re

import pytest

from conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")), REPO / "tools" / "gpu" / "README.md"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_name_files_that_exist(page):
    text = page.read_text(encoding="utf-8")
    links = [link for link in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", link)]
    missing = [link for link in links if not link.startswith("#") and not (page.parent / link.split("#")[0]).exists()]
    assert missing == [], f"{page.relative_to(REPO)} links to missing files: {missing}"
