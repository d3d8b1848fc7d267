"""docs/rules.md: every anchor the code cites exists, and the code cites it instead of the documents.

Comments cite ``docs/rules.md#capacity`` rather than "000 §3.7", a paragraph of a regulation that is
not in the repository; these tests keep the citations and the page in step.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
RULES = ROOT / "docs" / "rules.md"
SUFFIXES = {".py", ".html", ".yaml", ".yml", ".md", ".toml", ".txt"}
SKIPPED = {".git", ".venv", "var", "build", "node_modules", ".mypy_cache", ".ruff_cache"}
CITATION = re.compile(r"docs/rules\.md#([A-Za-z0-9_-]+)")
# A paragraph of a source document cited directly: "000 §3.7", "004 §7.7", "002 §IV".
SEED_PARAGRAPH = re.compile(r"\b00[0-4] §")
# Packages that cite docs/rules.md only; service/ and experiments/ join when their citations move.
CLEAN = ("features", "matching", "service")


def _anchors() -> list[str]:
    return re.findall(r'<a id="([^"]+)"></a>', RULES.read_text(encoding="utf-8"))


def _files(*tops: str) -> list[Path]:
    roots = [ROOT / top for top in tops] if tops else [ROOT]
    found = []
    for root in roots:
        for path in root.rglob("*"):
            parts = set(path.relative_to(ROOT).parts)
            if path.suffix in SUFFIXES and path.is_file() and not parts & SKIPPED:
                found.append(path)
    return sorted(found)


def test_anchors_are_unique_and_listed_in_the_table_of_contents() -> None:
    anchors = _anchors()
    assert len(anchors) == len(set(anchors)), sorted(a for a in anchors if anchors.count(a) > 1)
    text = RULES.read_text(encoding="utf-8")
    contents = text.split("## ", 1)[0]  # everything before the first section
    listed = re.findall(r"\[`([^`]+)`\]\(#([^)]+)\)", contents)
    assert all(name == target for name, target in listed), listed
    assert [name for name, _ in listed] == anchors


def test_every_link_inside_the_page_has_its_anchor() -> None:
    anchors = set(_anchors())
    links = set(re.findall(r"\]\(#([^)]+)\)", RULES.read_text(encoding="utf-8")))
    assert links - anchors == set()


def test_every_citation_in_the_repository_has_its_anchor() -> None:
    anchors = set(_anchors())
    missing = [
        f"{path.relative_to(ROOT)}:{number}: #{anchor}"
        for path in _files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for anchor in CITATION.findall(line)
        if anchor not in anchors
    ]
    assert missing == []


@pytest.mark.parametrize("top", CLEAN)
def test_code_cites_the_rules_page_not_the_source_documents(top: str) -> None:
    direct = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _files(top)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SEED_PARAGRAPH.search(line)
    ]
    assert direct == []
