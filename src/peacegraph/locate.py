"""Line and column of a statement in a Turtle file, for reports that must point at the line to fix.

The parsers give positions only for syntax errors, so a node's place is found again in the
file's text when a report needs it (never on the way of a valid build): the first place the
node is written as a subject (at the start of a line), else the first place it is written at
all, in any spelling the file's prefixes allow; a quote is the `pg:quote` literal with its
value, the first one at or after the line of the node it is evidence for. Lines and columns
count from 1, columns in code points.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from rdflib import URIRef
from rdflib.namespace import RDF

from peacegraph.errors import AnchorError
from peacegraph.namespaces import OA, PG

_PREFIX = re.compile(r"(?im)^\s*@?prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>")
_QUOTE = re.compile(r'pg:quote\s+("""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"'
                    r"|'''(?:[^'\\]|\\.|'(?!''))*'''|'(?:[^'\\\n]|\\.)*')", re.S)
_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.S)
_NAME_END = r"(?![\w\-:%])"
# results located one by one (each a scan of the files); the rest keep their file only
MAX_LOCATED = 1000


def _unescape(body: str) -> str:
    def one(m):
        e = m.group(1)
        if e[0] in "uU" and len(e) > 1:
            return chr(int(e[1:], 16))
        return _ESCAPES.get(e, e)
    return _ESCAPE.sub(one, body)


class FileText:
    """One file's text with its line starts and prefixes, read once."""

    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.prefixes = {(p or ""): iri for p, iri in _PREFIX.findall(text)}

    def line_col(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.line_starts[lo] + 1

    def spellings(self, iri: str) -> list[str]:
        out = [f"<{iri}>"]
        for prefix, ns in self.prefixes.items():
            if ns and iri.startswith(ns) and re.fullmatch(r"[\w\-.%/]*", iri[len(ns):]):
                out.append(f"{prefix}:{iri[len(ns):]}")
        return out

    def find_node(self, iri: str) -> int | None:
        patterns = [re.escape(s) + (_NAME_END if not s.startswith("<") else "") for s in self.spellings(iri)]
        anywhere = re.compile(r"(?<![\w:/#\-])(?:" + "|".join(patterns) + ")")
        subject = re.compile(r"(?m)^[ \t]*(" + "|".join(patterns) + ")")
        m = subject.search(self.text)
        if m:
            return m.start(1)
        m = anywhere.search(self.text)
        return m.start() if m else None

    def _subject_pattern(self, iri: str) -> str:
        return "|".join(re.escape(s) + (_NAME_END if not s.startswith("<") else "") for s in self.spellings(iri))

    def find_definition(self, iri: str, predicate: str | None = None) -> int | None:
        """Where the node is written as a subject: at the predicate within that statement block
        when it has one, else at the node; the block that types the node (`a …`) first."""
        subject = re.compile(r"(?m)^[ \t]*(" + self._subject_pattern(iri) + r")")
        starts = [m.start(1) for m in subject.finditer(self.text)]
        if not starts:
            return None
        typed = re.compile(r"\s+a\s")
        starts.sort(key=lambda at: 0 if typed.match(self.text, at + len(self.text[at:].split(None, 1)[0])) else 1)
        if predicate is not None:
            pred = re.compile(r"(?<![\w:/#\-])(?:" + self._subject_pattern(predicate) + ")")
            block_end = re.compile(r"(?m)^(?=[^\s#])")
            for at in starts:
                end = block_end.search(self.text, at + 1)
                m = pred.search(self.text, at + 1, end.start() if end else len(self.text))
                if m:
                    return m.start()
        return starts[0]

    def find_quote(self, quote: str, after: int = 0) -> int | None:
        first = None
        for m in _QUOTE.finditer(self.text):
            literal = m.group(1)
            q = 3 if literal[:3] in ('"""', "'''") else 1
            if _unescape(literal[q:-q]) == quote:
                if m.start() >= after:
                    return m.start(1)
                if first is None:
                    first = m.start(1)
        return first


@lru_cache(maxsize=256)
def _file_text(path: str, mtime: float) -> FileText | None:
    try:
        return FileText(Path(path).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def file_text(path) -> FileText | None:
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        return None
    return _file_text(str(path), mtime)


def locate_node(path, node) -> tuple[int, int] | None:
    """(line, column) where a named node is defined in a file, or None."""
    ft = file_text(path) if path else None
    if ft is None or node is None:
        return None
    at = ft.find_node(str(node))
    return None if at is None else ft.line_col(at)


def locate_quote(path, quote: str, owner=None) -> tuple[int, int] | None:
    """(line, column) of the `pg:quote` with this value, the first after the owner's definition."""
    ft = file_text(path) if path else None
    if ft is None:
        return None
    after = 0
    if isinstance(owner, URIRef):
        after = ft.find_node(str(owner)) or 0
    at = ft.find_quote(quote, after)
    return None if at is None else ft.line_col(at)


def sources_paths(seeds_dir, loaded) -> dict:
    """The names the loader gives the files of a folder (``seeds/sources.ttl``) -> their paths."""
    folder = Path(seeds_dir)
    return {f"{folder.name}/{p.name}" if folder.name else p.name: p for p in loaded.files}


@contextmanager
def located(paths: dict):
    """Add the line and column of the quote at fault to an AnchorError raised inside."""
    try:
        yield
    except AnchorError as exc:
        quote = getattr(exc, "quote", None)
        if exc.file in paths:
            exc.path = paths[exc.file]
        if exc.line is None and quote is not None and exc.file in paths:
            where = locate_quote(paths[exc.file], quote, getattr(exc, "subject", None))
            if where is not None:
                exc.line, exc.column = where
        raise


def _attestation_at(ft: FileText, data, node) -> int | None:
    """An attestation written as a blank node: the place its rdf:subject/predicate/object are."""
    parts = [data.value(node, p) for p in (RDF.subject, RDF.predicate, RDF.object)]
    if any(p is None or not isinstance(p, URIRef) for p in parts):
        return None
    alts = ["|".join(re.escape(s) for s in ft.spellings(str(p))) for p in parts]
    m = re.search(rf"rdf:subject\s+(?:{alts[0]})\s*;\s*rdf:predicate\s+(?:{alts[1]})\s*;\s*"
                  rf"rdf:object\s+(?:{alts[2]})(?![\w\-:%])", ft.text)
    return m.start() if m else None


def _defining_file(result, paths: dict):
    """The file whose statement about the node the result is about: the one that writes the
    node as a subject with the result's property, else the one that types it, else its origin."""
    if isinstance(result.node, URIRef) and result.focus == result.node:
        pred = str(result.path) if isinstance(result.path, URIRef) else None
        best = None
        for name, path in paths.items():
            ft = file_text(path)
            if ft is None or str(result.node) not in ft.text and not any(
                    s in ft.text for s in ft.spellings(str(result.node))[1:]):
                continue
            at = ft.find_definition(str(result.node), pred)
            if at is None:
                continue
            hit_pred = pred is not None and ft.text.startswith(tuple(ft.spellings(pred)), at)
            rank = 0 if hit_pred else 1
            if best is None or rank < best[0]:
                best = (rank, name, ft.line_col(at))
        if best is not None:
            return best[1], best[2]
    return result.file, None


def locate_result(result, data, paths: dict):
    """(file, (line, column)) of what a validation result is about: the quote of an evidence
    span, else the statement of the node at fault."""
    if result.node is None:
        return result.file, None
    file, where = _defining_file(result, paths)
    if where is not None:
        return file, where
    path = paths.get(result.file)
    ft = file_text(path) if path else None
    if ft is None:
        return result.file, None
    focus = result.focus
    if focus is not None and focus != result.node:
        exacts = [data.value(sel, OA.exact) for sel in data.objects(focus, OA.hasSelector)]
        exacts.append(data.value(focus, OA.exact))
        for exact in (e for e in exacts if e is not None):
            where = locate_quote(path, str(exact), result.node)
            if where is not None:
                return result.file, where
    at = ft.find_node(str(result.node))
    if at is None and (result.node, RDF.type, PG.Attestation) in data:
        at = _attestation_at(ft, data, result.node)
    return result.file, None if at is None else ft.line_col(at)


def locate_results(report, data, paths: dict):
    """The report with line and column filled in for every result whose file is known."""
    if not paths or not report.results:
        return report
    head = []
    for r in report.results[:MAX_LOCATED]:
        file, where = locate_result(r, data, paths)
        head.append(replace(r, file=file, line=where[0], column=where[1]) if where else r)
    return replace(report, results=head + list(report.results[MAX_LOCATED:]))
