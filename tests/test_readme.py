"""The README is documentation users copy from: these tests fail when it goes stale."""

from __future__ import annotations

import re
from pathlib import Path

from peacegraph import paths
from peacegraph.cli import COMMANDS
from peacegraph.query import run_query, stored_queries

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_the_two_commands():
    first_block = _blocks("sh")[0]
    assert "make run" in first_block and "make test" in first_block


def test_no_section_or_paragraph_is_there_twice():
    # an edit that pastes a section in again leaves two of its heading, or a long paragraph twice
    headings = re.findall(r"^#{1,4} .+$", README, flags=re.M)
    assert len(headings) == len(set(headings)), sorted({h for h in headings if headings.count(h) > 1})
    paragraphs = [p for p in README.split("\n\n") if len(p) > 300 and not p.startswith("|")]
    assert len(paragraphs) == len(set(paragraphs)), [p[:80] for p in paragraphs if paragraphs.count(p) > 1]


def test_make_targets_named_in_the_readme_exist():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    for target in set(re.findall(r"`make ([a-z]+)", README)):
        assert target in targets, f"README names `make {target}`, which the Makefile lacks"


def test_ci_calls_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_first_query_answers_as_the_readme_says(built_dataset):
    query = _blocks("sparql")[0]
    rows = list(run_query(built_dataset, query))
    drafters = {str(row[0]) for row in rows}
    assert drafters == {"Jared Kushner", "Steve Witkoff"}
    quotes = {str(row[1]) for row in rows}
    assert "The duo have drafted a multi-point peace proposal" in quotes
    span = re.search(r"source/(\w+)#char=(\d+),(\d+)`", README)
    stem, start, end = span.group(1), int(span.group(2)), int(span.group(3))
    assert any(str(row[2]).endswith(f"{stem}#char={start},{end}") for row in rows)
    text = (paths.data_dir("seeds") / f"{stem}.txt").read_text(encoding="utf-8")
    assert text[start:end] == "The duo have drafted a multi-point peace proposal"


def test_every_command_is_documented():
    for command in COMMANDS:
        assert f"`peacegraph {command}" in README, f"README does not document `peacegraph {command}`"


def test_every_stored_query_is_listed_and_nothing_else():
    listed = set(re.findall(r"^\| `(\d\d-[a-z-]+)` \|", README, flags=re.M))
    assert listed == {q.name for q in stored_queries()}


def test_every_library_module_in_the_layout_table_exists():
    row = next(line for line in README.splitlines() if line.startswith("| `src/peacegraph/` |"))
    for module in re.findall(r"`(\w+)`", row.split("|")[2]):
        assert (ROOT / "src" / "peacegraph" / f"{module}.py").is_file(), module
