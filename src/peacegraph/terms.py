"""N-Triples and Turtle forms of RDF terms, compaction of IRIs to prefixed names, and plain
literals made in bulk."""

from __future__ import annotations

import re
from functools import lru_cache

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from peacegraph.errors import ExportError
from peacegraph.namespaces import PREFIXES

_XSD_STRING = str(XSD.string)
# what the compaction cache gives for an IRI not seen yet (None is an answer: no prefixed name)
_UNKNOWN = object()
# the characters _escape changes
_ESCAPED = re.compile(r'[\\"\r\n\t]')
_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")


def plain_literal(value: str) -> Literal:
    """The literal Literal(value) makes of a str, without its checks and lookups for a datatype
    or language (one in five statements of a graph is a plain string)."""
    inst = str.__new__(Literal, value)
    # the four slots as Literal.__new__ sets them for a str with neither datatype nor language
    inst._language = None
    inst._datatype = None
    inst._value = value
    inst._ill_typed = None
    return inst


def _escape(value: str, long: bool = False) -> str:
    value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r")
    if not long:
        value = value.replace("\n", "\\n").replace("\t", "\\t")
    return value


class Terms:
    """N-Triples and Turtle forms of terms, and prefix compaction.

    Caches are keyed by plain strings: rdflib terms compare in Python, plain strings in C."""

    def __init__(self, prefixes: dict | None = None):
        prefixes = prefixes or PREFIXES
        # longest namespace first, so topic: wins over pgid: for topics
        self.namespaces = sorted(((str(ns), p) for p, ns in prefixes.items()),
                                 key=lambda x: (-len(x[0]), x[1]))
        self.prefixes = dict(sorted((p, str(ns)) for p, ns in prefixes.items()))
        # A local name holds no "/" or "#", so where every namespace ends in one, an IRI's
        # namespace can only be what runs to its last "/" or "#": one lookup, not a scan.
        self._by_namespace = ({ns: p for ns, p in self.namespaces}
                              if all(ns[-1] in "/#" for ns, _ in self.namespaces) else None)
        self._compact: dict = {}
        self._iri_nt: dict = {}
        self._iri_ttl: dict = {}

    def compact(self, iri: str) -> str | None:
        """prefix:local when the local part is safe in Turtle and JSON-LD, else None."""
        iri = str.__str__(iri)
        result = self._compact.get(iri, _UNKNOWN)
        if result is _UNKNOWN:
            result = self._compact[iri] = self.compaction(iri)
        return result

    def compaction(self, iri: str) -> str | None:
        """What compact() gives, worked out afresh: for callers that keep their own cache."""
        by_namespace = self._by_namespace
        if by_namespace is not None:
            cut = max(iri.rfind("/"), iri.rfind("#")) + 1
            prefix = by_namespace.get(iri[:cut])
            if prefix is not None and _LOCAL.fullmatch(iri, cut):
                return f"{prefix}:{iri[cut:]}"
            return None
        for ns, prefix in self.namespaces:
            if iri.startswith(ns) and len(iri) > len(ns) and _LOCAL.fullmatch(iri, len(ns)):
                return f"{prefix}:{iri[len(ns):]}"
        return None

    def iri_forms(self, iri: str) -> tuple[str, str]:
        """The N-Triples and Turtle forms of an IRI (a plain str), what nt() and ttl() give of
        it, worked out afresh: for callers that keep their own cache."""
        nt = f"<{iri}>"
        return nt, self.compaction(iri) or nt

    def nt(self, term) -> str:
        kind = type(term)
        if kind is URIRef:
            # one string per IRI, however many statements name it (a dump holds millions)
            found = self._iri_nt.get(term)
            if found is None:
                # URIRef.__add__ would build (and warn about) a new URIRef
                found = self._iri_nt[term] = f"<{term}>"
            return found
        if kind is Literal:
            s = '"' + _escape(term) + '"'
            if term.language:
                return f"{s}@{term.language}"
            dt = term.datatype
            if dt is not None and str.__ne__(dt, _XSD_STRING):
                return f"{s}^^<{dt}>"
            return s
        if isinstance(term, URIRef):
            return self.nt(URIRef(term))
        if isinstance(term, Literal):
            return self.nt(Literal(term, lang=term.language, datatype=term.datatype))
        if isinstance(term, BNode):
            raise ExportError(f"blank node {term.n3()} in the data; every node must be named")
        raise ExportError(f"cannot export term {term!r}")

    def string_forms(self, value: str, language: str | None = None) -> tuple[str, str]:
        """The N-Triples and Turtle forms of a plain or language-tagged string literal, from its
        lexical form: what nt() and ttl() give of the literal, without reading the term."""
        if _ESCAPED.search(value) is None:
            # nothing to escape in either form (the common case: one scan, not five)
            nt = '"' + value + '"'
            if language:
                nt = f"{nt}@{language}"
            return nt, nt
        nt = '"' + _escape(value) + '"'
        if "\n" in value:
            ttl = '"""' + _escape(value, long=True) + '"""'
            if language:
                return f"{nt}@{language}", f"{ttl}@{language}"
            return nt, ttl
        if language:
            nt = f"{nt}@{language}"
        return nt, nt

    def ttl_of_nt(self, nt: str, term=None) -> str:
        """The Turtle form of a term given its N-Triples form (`term` itself is read only for
        literals whose Turtle form differs: datatypes and line breaks)."""
        if nt[0] == "<":
            found = self._iri_ttl.get(nt)
            if found is None:
                found = self._iri_ttl[nt] = self.compact(nt[1:-1]) or nt
            return found
        if nt[0] == '"' and "\\n" not in nt:
            # a plain or language-tagged literal without a line break reads the same in both
            if nt[-1] != ">":
                return nt
            # a typed one differs in its datatype alone (an IRI holds no '"')
            at = nt.rfind('"^^<')
            return nt[:at + 3] + self.ttl_of_nt(nt[at + 3:])
        return self.ttl(term)

    def ttl(self, term) -> str:
        if isinstance(term, URIRef):
            return self.compact(term) or f"<{term}>"
        if isinstance(term, Literal):
            value = str.__str__(term)
            if "\n" in value:
                s = '"""' + _escape(value, long=True) + '"""'
            else:
                s = '"' + _escape(value) + '"'
            if term.language:
                return f"{s}@{term.language}"
            dt = term.datatype
            if dt is not None and str.__ne__(dt, _XSD_STRING):
                return s + "^^" + self.ttl(URIRef(dt))
            return s
        return self.nt(term)


@lru_cache(maxsize=1)
def _shared() -> Terms:
    return Terms()


def short_name(term) -> str:
    """A term as a message shows it: prefix:local when one of the project's prefixes fits, else
    <iri>; a blank node as "a blank node"; a literal in its N-Triples form."""
    if isinstance(term, URIRef):
        return _shared().compact(term) or f"<{term}>"
    if isinstance(term, BNode):
        return "a blank node"
    return term.n3() if hasattr(term, "n3") else str(term)
