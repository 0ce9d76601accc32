"""The modules of src/peacegraph and server/ import each other without a cycle, counting every
import statement (a function-local import hides a cycle from Python, not from this test)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"peacegraph": ROOT / "src" / "peacegraph", "peacegraph.server": ROOT / "server"}


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _imports(path: Path, known: set[str]) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        out.update(n for n in names if n in known)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    # importing a package's submodule runs the package's __init__, which is not an edge here
    return {name: {m for m in _imports(path, known) if m != name and not name.startswith(m + ".")}
            for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}   # 1 on the current path, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_checker_reads_both_trees():
    graph = import_graph()
    assert "peacegraph.build" in graph and "peacegraph.server.app" in graph
    assert "peacegraph.validate" in graph["peacegraph.build"]


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


STAGES = ("anchor", "build", "diff", "export", "load", "query", "reason", "validate", "synth", "push")
BASE = ("errors", "namespaces", "paths", "progress", "terms", "gcpause", "statements", "setstore")


@pytest.mark.parametrize("stage", STAGES)
def test_library_modules_do_not_import_the_command_layer(stage):
    deps = import_graph()[f"peacegraph.{stage}"]
    assert not {d for d in deps if d.startswith(("peacegraph.commands", "peacegraph.server"))
                or d == "peacegraph.cli"}, deps


@pytest.mark.parametrize("base", BASE)
def test_base_modules_import_only_base_modules(base):
    deps = import_graph()[f"peacegraph.{base}"]
    assert deps <= {f"peacegraph.{b}" for b in BASE}, deps


@pytest.mark.parametrize("lower, higher", [
    ("validate", "build"), ("query", "build"), ("query", "export"), ("export", "build"),
    ("load", "anchor"), ("anchor", "build"), ("reason", "build"), ("guard", "query"),
])
def test_a_stage_does_not_import_the_stages_that_use_it(lower, higher):
    assert f"peacegraph.{higher}" not in import_graph()[f"peacegraph.{lower}"]
