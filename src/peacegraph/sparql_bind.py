"""Values bound into the text of a query, for a store that takes no substitutions (a remote SPARQL
endpoint): a VALUES block opening the query's WHERE group.

The block goes at the top level of the outermost group, found with the SPARQL lexer (so braces
in strings, IRIs or comments, and the groups of EXISTS in a projection, are not mistaken for
it), which is valid SPARQL for every query form: after the projection of a SELECT, in the
pattern of an ASK, in the WHERE clause of a CONSTRUCT (the short form `CONSTRUCT WHERE { … }`
gets its template written out first) and of a DESCRIBE (one without a WHERE clause gets one).
First in the group, the values are joined before anything else the group does, which is what
binding the variables before evaluation means for the patterns of that group. The terms are
serialized here from pyoxigraph terms, never pasted: IRIs and literals only, each checked
against the SPARQL grammar.
"""

from __future__ import annotations

import re

from peacegraph.errors import QueryError
from peacegraph.sparql_lexer import Token, tokenize

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
# SPARQL 1.1 grammar [139] IRIREF, [145] LANGTAG and the ASCII part of [166] VARNAME
_IRI_FORBIDDEN = re.compile(r'[<>"{}|^`\\\x00-\x20]')
_LANGTAG = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*")
_VARNAME = re.compile(r"[A-Za-z_0-9][A-Za-z_0-9\u00B7]*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_MODIFIERS = ("GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES")


class BindError(QueryError):
    """A value that cannot be bound in a query's text, or a query with no place for it."""


def _iri(value: str) -> str:
    if _IRI_FORBIDDEN.search(value):
        raise BindError(f"cannot bind the IRI {value!r}: it holds a character SPARQL does not allow in an IRI")
    return f"<{value}>"


def term_to_sparql(term) -> str:
    """A pyoxigraph IRI or literal in SPARQL syntax."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return _iri(term.value)
    if isinstance(term, ox.Literal):
        text = '"' + "".join(_ESCAPES.get(ch, ch) for ch in term.value) + '"'
        if term.language:
            if not _LANGTAG.fullmatch(term.language):
                raise BindError(f"cannot bind a literal tagged {term.language!r}: not a SPARQL language tag")
            return f"{text}@{term.language}"
        if term.datatype.value == XSD_STRING:
            return text
        return f"{text}^^{_iri(term.datatype.value)}"
    raise BindError(f"cannot bind {term!r} in a query: only IRIs and literals can be bound")


def values_block(bindings: dict) -> str:
    """`VALUES (?a ?b) { (term term) }` for {name: pyoxigraph term}, names in sorted order."""
    names = sorted(bindings)
    for name in names:
        if not _VARNAME.fullmatch(name):
            raise BindError(f"cannot bind {name!r}: not a SPARQL variable name")
    row = " ".join(term_to_sparql(bindings[name]) for name in names)
    return "VALUES (" + " ".join("?" + name for name in names) + ") { (" + row + ") }"


class _Text:
    """The query text with the offsets of its tokens (the lexer gives line and column)."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def start(self, tok: Token) -> int:
        return self._line_starts[tok.line - 1] + tok.column - 1

    def end(self, tok: Token) -> int:
        return self.start(tok) + len(tok.text)


def _is(tok: Token, punct: str) -> bool:
    return tok.kind == "PUNCT" and tok.text == punct


def _matching(tokens: list[Token], i: int) -> int:
    """The index of the bracket closing the one at tokens[i]."""
    depth = 0
    for j in range(i, len(tokens)):
        tok = tokens[j]
        if tok.kind == "PUNCT" and tok.text in "({[":
            depth += 1
        elif tok.kind == "PUNCT" and tok.text in ")}]":
            depth -= 1
            if depth == 0:
                return j
    raise BindError("the query has an unclosed bracket")


def bind_values(text: str, bindings: dict) -> str:
    """`text` with `bindings` ({variable name: pyoxigraph term}) bound by a VALUES block opening
    its WHERE group; `text` itself when there is nothing to bind."""
    if not bindings:
        return text
    block = values_block(bindings)
    q = _Text(text)
    tokens = q.tokens
    i = 0
    while i < len(tokens) and tokens[i].is_word("BASE", "PREFIX"):
        i += 2 if tokens[i].is_word("BASE") else 3
    if i >= len(tokens) or not tokens[i].is_word("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
        raise BindError("values can only be bound in a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    form = tokens[i].upper
    j = i + 1
    if form == "CONSTRUCT":
        if j < len(tokens) and _is(tokens[j], "{"):
            j = _matching(tokens, j) + 1          # past the template
        else:
            # CONSTRUCT WHERE { T }: the same with its template written out, CONSTRUCT { T } WHERE { T }
            while j < len(tokens) and not _is(tokens[j], "{"):
                j += 1
            if j == len(tokens):
                raise BindError("the CONSTRUCT query has no WHERE clause")
            close = _matching(tokens, j)
            template = text[q.start(tokens[j]):q.end(tokens[close])]
            after = q.end(tokens[i])
            brace = q.end(tokens[j])
            return (text[:after] + " " + template + text[after:brace] + " " + block + " "
                    + text[brace:])
    depth = 0
    for k in range(j, len(tokens)):
        tok = tokens[k]
        if tok.kind != "PUNCT" and tok.kind != "WORD":
            continue
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif tok.text == "{" and depth == 0:
            brace = q.end(tok)
            return text[:brace] + " " + block + " " + text[brace:]
        elif form == "DESCRIBE" and depth == 0 and tok.is_word(*_MODIFIERS):
            at = q.start(tok)
            return text[:at] + "WHERE { " + block + " }\n" + text[at:]
    if form == "DESCRIBE":
        return text.rstrip() + "\nWHERE { " + block + " }\n"
    raise BindError(f"the {form} query has no WHERE clause")


def without_dataset_clauses(text: str) -> str:
    """`text` without its FROM and FROM NAMED clauses, for a store that merges them with the
    dataset of the protocol's graph parameters (Virtuoso) instead of letting those win."""
    q = _Text(text)
    tokens = q.tokens
    cuts = []
    for k, tok in enumerate(tokens):
        if tok.is_word("FROM"):
            end = k + 2 if k + 1 < len(tokens) and tokens[k + 1].is_word("NAMED") else k + 1
            if end < len(tokens) and tokens[end].kind in ("IRI", "PNAME"):
                cuts.append((q.start(tok), q.end(tokens[end])))
    for start, end in reversed(cuts):
        text = text[:start] + text[end:]
    return text
