"""docs/rules.md: every anchor the code cites exists, and the code cites it instead of the documents.

Comments cite ``docs/rules.md#capacity`` rather than "000 §3.7", a paragraph of a regulation that is
not in the repository; these tests keep the citations and the page in step.
"""

from __future__ import annotations

import ast
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


# An "Enforced in" paragraph cites code as `path.py` followed by the symbols defined there:
# `service/pairs/pairs.py` `end_pair`, `PairPublic.missing_consent` (...); `matching/problem.py` ...
# A symbol counts while only commas, spaces and "and" separate it from the path or the previous
# symbol (a "(" may open the list right after the path); anything else (prose, "/", ";") ends it.
SPAN = re.compile(r"`([^`\n]+)`")
PY_PATH = re.compile(r"[\w./*-]+\.py")
SYMBOL = re.compile(r"([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?(?:\(.*\))?")
SEPARATOR = re.compile(r"[\s,]*(?:and\s+)?")
AFTER_PATH = re.compile(r"\s*\(?")
ANCHOR = re.compile(r'<a id="([^"]+)"></a>')


def _citations() -> list[tuple[str, str, str | None]]:
    """(anchor, path, symbol or None) for every path and symbol of the "Enforced in" paragraphs."""
    found: list[tuple[str, str, str | None]] = []
    anchor = "(before the first anchor)"
    for paragraph in re.split(r"\n\s*\n", RULES.read_text(encoding="utf-8")):
        anchors = ANCHOR.findall(paragraph)
        anchor = anchors[-1] if anchors else anchor
        if "Enforced in" not in paragraph:
            continue
        text = paragraph[paragraph.index("Enforced in") :]
        path: str | None = None
        after_path = False
        end = 0
        for span in SPAN.finditer(text):
            gap = text[end : span.start()]
            end = span.end()
            if PY_PATH.fullmatch(span[1]):
                path = span[1]
                found.append((anchor, path, None))
                after_path = True
                continue
            if path is not None and (
                SEPARATOR.fullmatch(gap) or (after_path and AFTER_PATH.fullmatch(gap))
            ):
                symbol = SYMBOL.fullmatch(span[1])
                if symbol:
                    found.append((anchor, path, symbol[1] + (f".{symbol[2]}" if symbol[2] else "")))
                    after_path = False
                    continue
            path = None
    return found


def _names(body: list[ast.stmt]) -> set[str]:
    """Names a module or class body defines: functions, classes, assignments."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _defines(path: Path, symbol: str) -> bool:
    """Whether the module at ``path`` defines ``name`` or ``Class.attribute`` at its top level."""
    module = ast.parse(path.read_text(encoding="utf-8"))
    name, _, attribute = symbol.partition(".")
    if not attribute:
        return name in _names(module.body)
    classes = [n for n in module.body if isinstance(n, ast.ClassDef) and n.name == name]
    return any(attribute in _names(c.body) for c in classes)


def test_the_parser_finds_the_citations() -> None:
    cited = _citations()
    assert ("capacity", "matching/problem.py", "Problem.__init__") in cited
    assert ("capacity", "matching/problem.py", "MAX_CAPACITY") in cited
    # Prose inside parentheses after a symbol is not a citation.
    assert all(symbol != "Conflict" for _, _, symbol in cited)


def test_every_python_file_the_page_names_exists() -> None:
    text = RULES.read_text(encoding="utf-8")
    missing = sorted(
        {s for s in SPAN.findall(text) if PY_PATH.fullmatch(s) and not (ROOT / s).is_file()}
    )
    assert missing == [], "docs/rules.md names files that are not in the repository: " + ", ".join(
        missing
    )


def test_every_cited_file_and_symbol_exists() -> None:
    wrong = []
    for anchor, cited, symbol in _citations():
        path = ROOT / cited
        if symbol is None:
            if not any(ROOT.glob(cited)):
                wrong.append(f"#{anchor}: `{cited}` does not exist")
        elif path.is_file() and not _defines(path, symbol):
            wrong.append(f"#{anchor}: `{cited}` does not define `{symbol}`")
    assert wrong == [], "docs/rules.md cites code that is not there:\n" + "\n".join(wrong)
