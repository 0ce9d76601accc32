"""Versioned releases: an immutable, versioned set of dumps, and the changelog of the graph
between two releases.

`make_release` builds the data into RELEASES/VERSION. The dumps state the version, its version
IRI (`…/dataset?version=VERSION`) and issue date, and name their own download IRIs under
`…/release/VERSION/`, so a paper can cite the exact data it used. A version that exists is never
rebuilt: the folder is claimed with mkdir (which fails if it exists) before anything is written,
the release is assembled beside it and moved in whole, and its files are made read-only.

`changelog` compares the graphs of two releases, quad by quad on their N-Quads dumps (canonical
and free of blank nodes, so equal statements are equal lines): the triples added and removed in
each named graph, and the things (subjects) added, removed or changed. The dumps' own
description in the default graph (version, date) is left out: it changes with every release.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyoxigraph as ox

from peacegraph.build import BuildConfig, BuildResult, build
from peacegraph.errors import InputError
from peacegraph.export import write_file
from peacegraph.namespaces import BASE
from peacegraph.void import Release

VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NQUADS = "peacegraph.nq"
CHANGES_MD = "CHANGES.md"
CHANGES_JSON = "changes.json"


@dataclass
class Changes:
    previous: str
    current: str
    added: dict = field(default_factory=dict)      # graph IRI -> sorted N-Quads lines
    removed: dict = field(default_factory=dict)
    nodes_added: list = field(default_factory=list)
    nodes_removed: list = field(default_factory=list)
    nodes_changed: list = field(default_factory=list)

    def counts(self) -> dict:
        graphs = sorted(set(self.added) | set(self.removed))
        return {g: (len(self.added.get(g, [])), len(self.removed.get(g, []))) for g in graphs}

    def markdown(self) -> str:
        lines = [f"# peacegraph {self.current}: changes since {self.previous}", "",
                 "| graph | triples added | triples removed |", "|---|---:|---:|"]
        for g, (a, r) in self.counts().items():
            lines.append(f"| <{g}> | {a} | {r} |")
        for title, nodes in (("Things added", self.nodes_added), ("Things removed", self.nodes_removed),
                             ("Things changed", self.nodes_changed)):
            lines += ["", f"## {title} ({len(nodes)})", ""]
            lines += [f"- <{n}>" for n in nodes] or ["none"]
        return "\n".join(lines) + "\n"

    def as_json(self) -> str:
        return json.dumps({"previous": self.previous, "current": self.current,
                           "triples": {"added": self.added, "removed": self.removed},
                           "nodes": {"added": self.nodes_added, "removed": self.nodes_removed,
                                     "changed": self.nodes_changed}},
                          indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def _quads(path: Path) -> dict[str, set[tuple[str, str, str]]]:
    """subject -> {(graph, predicate, object)} in N-Triples form, named graphs only."""
    try:
        quads = ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS)
        by_subject: dict[str, set] = {}
        for q in quads:
            if isinstance(q.graph_name, ox.DefaultGraph):
                continue
            by_subject.setdefault(str(q.subject), set()).add((str(q.graph_name), str(q.predicate), str(q.object)))
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"cannot read the dump: {exc}", file=str(path)) from None
    return by_subject


def _iri(nt: str) -> str:
    return nt[1:-1] if nt.startswith("<") and nt.endswith(">") else nt


def changelog(previous: Path, current: Path, previous_name: str, current_name: str) -> Changes:
    """The changes from the N-Quads dump `previous` to `current`."""
    old, new = _quads(previous), _quads(current)
    changes = Changes(previous_name, current_name)
    for subject in sorted(set(old) | set(new)):
        before, after = old.get(subject, set()), new.get(subject, set())
        if before == after:
            continue
        for g, p, o in after - before:
            changes.added.setdefault(_iri(g), []).append(f"{subject} {p} {o} {g} .")
        for g, p, o in before - after:
            changes.removed.setdefault(_iri(g), []).append(f"{subject} {p} {o} {g} .")
        kind = changes.nodes_added if not before else changes.nodes_removed if not after else changes.nodes_changed
        kind.append(_iri(subject))
    for table in (changes.added, changes.removed):
        for g in table:
            table[g].sort()
    return changes


def _version_of(folder: Path) -> str:
    """A release folder's version: the one its dumps state, else the folder's name."""
    void = folder / "void.ttl"
    if void.is_file():
        for quad in ox.parse(path=str(void), format=ox.RdfFormat.TURTLE):
            if quad.predicate.value == "http://www.w3.org/2002/07/owl#versionInfo":
                return quad.object.value
    return folder.name


def _freeze(folder: Path) -> None:
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)


@dataclass
class ReleaseResult:
    folder: Path
    build: BuildResult
    changes: Changes | None


def make_release(config: BuildConfig, root: Path, version: str, issued: str,
                 previous: Path | None = None, base: str = BASE) -> ReleaseResult:
    """Build release `version` into root/version (refusing one that exists) with the changelog
    from the release folder `previous`, if given."""
    if not VERSION.fullmatch(version) or ".." in version:
        raise InputError(f"invalid release version {version!r}: use letters, digits, '.', '-' and '_'")
    if not DATE.fullmatch(issued):
        raise InputError(f"invalid release date {issued!r}: use YYYY-MM-DD")
    if previous is not None and not (previous / NQUADS).is_file():
        raise InputError(f"the previous release has no {NQUADS}", file=str(previous))
    root = Path(root)
    target = root / version
    try:
        root.mkdir(parents=True, exist_ok=True)
        target.mkdir()
    except FileExistsError:
        raise InputError(f"release {version} exists at {target}; a release is never overwritten") from None
    except OSError as exc:
        raise InputError(f"cannot create {target}: {exc.strerror or exc}") from None
    stage = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=root))
    try:
        out = stage / version
        result = build(replace(config, out=out, release=Release(version, issued),
                               download_url=f"{base}release/{version}/"))
        changes = None
        if previous is not None:
            changes = changelog(previous / NQUADS, out / NQUADS, _version_of(previous), version)
            _add_files(out, {CHANGES_MD: changes.markdown(), CHANGES_JSON: changes.as_json()})
        _freeze(out)
        os.rename(out, target)   # replaces the empty folder claimed above
        result.out = target
    except BaseException:
        if out.is_dir():
            out.chmod(0o755)
        target.rmdir()
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return ReleaseResult(target, result, changes)


def _add_files(folder: Path, files: dict[str, str]) -> None:
    """Write files into a built folder and add them to its SHA256SUMS."""
    sums = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    for name, text in files.items():
        sums.append(f"{write_file(folder / name, [text])}  {name}")
    write_file(folder / "SHA256SUMS", ["\n".join(sorted(sums, key=lambda line: line.split("  ", 1)[1])) + "\n"])
