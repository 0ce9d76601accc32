"""The read-only check of a query, made on its tokens before anything evaluates it.

A query passes only if it is a SELECT, ASK, CONSTRUCT or DESCRIBE query that names no remote
service and reads only graphs of the served dataset: no update operation, no SERVICE, no LOAD,
and every FROM / FROM NAMED IRI must be one of the dataset's named graphs. Nothing here opens a
connection or a file; the engine never sees a refused query.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

from peacegraph.errors import QueryError
from peacegraph.server.lexer import Token, tokenize

UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
MAX_NESTING = 64


class RefusedQuery(QueryError):
    """The query is well formed but not allowed here (update, SERVICE, LOAD, foreign FROM)."""


@dataclass(frozen=True)
class CheckedQuery:
    form: str
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()
    limit: int | None = None


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


def check_query(text: str, allowed_graphs, *, max_nesting: int = MAX_NESTING) -> CheckedQuery:
    """Return the form of `text` and the graphs it names, or raise RefusedQuery / LexError.

    `allowed_graphs` are the IRIs a FROM or FROM NAMED clause may name.
    """
    if not text.strip():
        raise RefusedQuery("empty query")
    tokens = tokenize(text)
    if not tokens:
        raise RefusedQuery("empty query: only comments")
    allowed = set(allowed_graphs)
    prefixes: dict[str, str] = {}
    base: str | None = None
    i = 0
    # Prologue: BASE and PREFIX declarations.
    while i < len(tokens) and tokens[i].is_word("BASE", "PREFIX"):
        tok = tokens[i]
        if tok.is_word("BASE"):
            if i + 1 >= len(tokens) or tokens[i + 1].kind != "IRI":
                raise RefusedQuery(f"BASE must be followed by an IRI at {_at(tok)}")
            base = _iri_of(tokens[i + 1], prefixes, base)
            i += 2
        else:
            if (i + 2 >= len(tokens) or tokens[i + 1].kind != "PNAME"
                    or not tokens[i + 1].text.endswith(":") or tokens[i + 2].kind != "IRI"):
                raise RefusedQuery(f"PREFIX must be followed by a prefix and an IRI at {_at(tok)}")
            prefixes[tokens[i + 1].text[:-1]] = _iri_of(tokens[i + 2], prefixes, base) or ""
            i += 3
    if i >= len(tokens):
        raise RefusedQuery("empty query: a prologue with no query after it")
    first = tokens[i]
    if first.kind == "WORD" and first.upper in UPDATE_WORDS:
        raise RefusedQuery(f"this endpoint is read-only: {first.upper} (a SPARQL update) is not "
                           f"accepted (at {_at(first)})")
    if not (first.kind == "WORD" and first.upper in FORMS):
        raise RefusedQuery(f"expected SELECT, ASK, CONSTRUCT or DESCRIBE at {_at(first)}, "
                           f"found {first.text[:40]!r}")
    form = first.upper
    from_graphs: list[str] = []
    from_named: list[str] = []
    limit = None
    depth = 0
    for j in range(i, len(tokens)):
        tok = tokens[j]
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
            raise RefusedQuery(f"SERVICE (federated query) is not allowed on this endpoint "
                               f"(at {_at(tok)})")
        if word in UPDATE_WORDS:
            raise RefusedQuery(f"this endpoint is read-only: {word} is not accepted (at {_at(tok)})")
        if word == "FROM":
            k = j + 1
            named = k < len(tokens) and tokens[k].is_word("NAMED")
            if named:
                k += 1
            target = tokens[k] if k < len(tokens) else None
            iri = _iri_of(target, prefixes, base) if target is not None else None
            clause = "FROM NAMED" if named else "FROM"
            if iri is None:
                raise RefusedQuery(f"{clause} must name a graph IRI (at {_at(tok)})")
            if iri not in allowed:
                raise RefusedQuery(
                    f"{clause} <{iri}> is not a graph of this dataset; this endpoint never "
                    f"fetches remote data (at {_at(tok)}). Graphs: "
                    + ", ".join(f"<{g}>" for g in sorted(allowed)))
            (from_named if named else from_graphs).append(iri)
        elif word == "LIMIT" and depth == 0 and j + 1 < len(tokens) and tokens[j + 1].kind == "NUMBER":
            if tokens[j + 1].text.isdigit():
                limit = int(tokens[j + 1].text)
    return CheckedQuery(form, tuple(from_graphs), tuple(from_named), limit)


@lru_cache(maxsize=256)
def check_query_cached(text: str, allowed_graphs: tuple[str, ...]) -> CheckedQuery:
    """check_query for repeated texts (the stored queries of the pages and of clients)."""
    return check_query(text, allowed_graphs)
