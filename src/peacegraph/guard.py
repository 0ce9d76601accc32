"""The read-only check of a query, made on its tokens before anything evaluates it: the one rule
set of `peacegraph query`, `peacegraph diff` and the endpoint.

A query passes only if it is a SELECT, ASK, CONSTRUCT or DESCRIBE query that names no remote
service and reads only graphs of the dataset it runs on: no update operation, no SERVICE, no
LOAD, bracket nesting at most MAX_NESTING deep. A FROM / FROM NAMED (or the protocol's
default-graph-uri / named-graph-uri) naming a graph the dataset does not hold names an empty
graph, as the SPARQL 1.1 Protocol reads it: `local_dataset` leaves it out of the dataset handed to
the engine, so it is never dereferenced. Nothing here opens a connection or a file; the engine
never sees a refused query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

from peacegraph.errors import QueryError
from peacegraph.sparql_lexer import Token, iter_tokens

UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
MAX_NESTING = 64
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# Stands for the empty graph when every graph a query names is foreign: a name no dataset holds
# and no store dereferences (not an http IRI).
EMPTY_GRAPH = "urn:x-peacegraph:empty-graph"


class RefusedQuery(QueryError):
    """The query is well formed but not allowed here (update, SERVICE, LOAD, too deep)."""


@dataclass(frozen=True)
class CheckedQuery:
    form: str
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()
    limit: int | None = None
    relative: bool = False      # a relative IRI with no BASE: the service supplies the base


def _at(tok: Token) -> str:
    return f"line {tok.line}, column {tok.column}"


def _iri_of(tok: Token, prefixes: dict[str, str], base: str | None) -> str | None:
    if tok.kind == "IRI":
        iri = tok.text[1:-1]
        return urljoin(base, iri) if base else iri
    if tok.kind == "PNAME":
        prefix, _, local = tok.text.partition(":")
        ns = prefixes.get(prefix)
        return None if ns is None else ns + local
    return None


class _Tokens:
    """Tokens read lazily with a short look-back window, so checking a huge query costs no memory."""

    def __init__(self, text: str):
        self._it = iter_tokens(text)
        self._buf: dict[int, Token] = {}
        self._read = 0
        self._low = 0

    def get(self, i: int) -> Token | None:
        """Token number i (read forward only), or None past the end."""
        while self._read <= i:
            tok = next(self._it, None)
            if tok is None:
                return None
            self._buf[self._read] = tok
            self._read += 1
        while self._low < i - 4:
            self._buf.pop(self._low, None)
            self._low += 1
        return self._buf.get(i)


def check_query(text: str, *, max_nesting: int = MAX_NESTING) -> CheckedQuery:
    """Return the form of `text` and the graphs its FROM / FROM NAMED name, or raise
    RefusedQuery / LexError. The graphs may be any IRIs: `local_dataset` makes a foreign one an
    empty graph before the query is evaluated."""
    if not text.strip():
        raise RefusedQuery("empty query")
    tokens = _Tokens(text)
    if tokens.get(0) is None:
        raise RefusedQuery("empty query: only comments")
    prefixes: dict[str, str] = {}
    base: str | None = None
    i = 0
    # Prologue: BASE and PREFIX declarations.
    while (tok := tokens.get(i)) is not None and tok.is_word("BASE", "PREFIX"):
        if tok.is_word("BASE"):
            target = tokens.get(i + 1)
            if target is None or target.kind != "IRI":
                raise RefusedQuery(f"BASE must be followed by an IRI at {_at(tok)}")
            base = _iri_of(target, prefixes, base)
            i += 2
        else:
            name, target = tokens.get(i + 1), tokens.get(i + 2)
            if (name is None or target is None or name.kind != "PNAME" or not name.text.endswith(":")
                    or target.kind != "IRI"):
                raise RefusedQuery(f"PREFIX must be followed by a prefix and an IRI at {_at(tok)}")
            prefixes[name.text[:-1]] = _iri_of(target, prefixes, base) or ""
            i += 3
    first = tokens.get(i)
    if first is None:
        raise RefusedQuery("empty query: a prologue with no query after it")
    if first.kind == "WORD" and first.upper in UPDATE_WORDS:
        raise RefusedQuery(f"queries are read-only: {first.upper} (a SPARQL update) is not "
                           f"accepted (at {_at(first)})")
    if not (first.kind == "WORD" and first.upper in FORMS):
        raise RefusedQuery(f"expected SELECT, ASK, CONSTRUCT or DESCRIBE at {_at(first)}, "
                           f"found {first.text[:40]!r}")
    form = first.upper
    from_graphs: list[str] = []
    from_named: list[str] = []
    limit = None
    relative = False
    depth = 0
    j = i
    while (tok := tokens.get(j)) is not None:
        j += 1
        if tok.kind == "IRI" and base is None and not _SCHEME.match(tok.text[1:-1]):
            relative = True
        if tok.kind == "PUNCT" and tok.text in "({[":
            depth += 1
            if depth > max_nesting:
                raise RefusedQuery(f"query nested too deeply (more than {max_nesting} levels) "
                                   f"at {_at(tok)}")
        elif tok.kind == "PUNCT" and tok.text in ")}]":
            depth -= 1
        if tok.kind != "WORD":
            continue
        word = tok.upper
        if word == "SERVICE":
            raise RefusedQuery(f"SERVICE is not allowed: queries run on the dataset only, never on a "
                               f"remote service (at {_at(tok)})")
        if word in UPDATE_WORDS:
            raise RefusedQuery(f"queries are read-only: {word} is not accepted (at {_at(tok)})")
        if word == "FROM":
            target = tokens.get(j)
            named = target is not None and target.is_word("NAMED")
            if named:
                target = tokens.get(j + 1)
            iri = _iri_of(target, prefixes, base) if target is not None else None
            clause = "FROM NAMED" if named else "FROM"
            if iri is None:
                raise RefusedQuery(f"{clause} must name a graph IRI (at {_at(tok)})")
            (from_named if named else from_graphs).append(iri)
        elif word == "LIMIT" and depth == 0:
            number = tokens.get(j)
            if number is not None and number.kind == "NUMBER" and number.text.isdigit():
                limit = int(number.text)
    return CheckedQuery(form, tuple(from_graphs), tuple(from_named), limit, relative)


def local_dataset(default_graphs, named_graphs, held) -> tuple[list[str], list[str]]:
    """The dataset of a query restricted to the graphs `held`: a graph the dataset does not hold
    is empty (SPARQL 1.1 Protocol), so it is dropped, and a list left with none becomes
    [EMPTY_GRAPH]. The engine then never sees a foreign IRI as a graph to read."""
    held = set(held)

    def keep(graphs):
        graphs = list(graphs)
        kept = [g for g in graphs if g in held or g == ""]
        return kept if kept or not graphs else [EMPTY_GRAPH]

    return keep(default_graphs), keep(named_graphs)


@lru_cache(maxsize=256)
def check_query_cached(text: str) -> CheckedQuery:
    """check_query for repeated texts (the stored queries of the pages and of clients)."""
    return check_query(text)
