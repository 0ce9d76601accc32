"""The dump's own literals where the store would rewrite them.

Oxigraph encodes a typed literal by its value: every type derived from xsd:integer
(xsd:nonNegativeInteger, xsd:int, …) is stored as xsd:integer, xsd:dateTimeStamp as
xsd:dateTime, and lexical forms become canonical ("1.0"^^xsd:decimal is stored as "1"). Graph
answers would then differ from the dump, and the Web Annotation offsets (oa:start, oa:end:
xsd:nonNegativeInteger) would fail the project's own shapes. So the quads whose literal the store
rewrites are recorded when the data is loaded, and graph answers (CONSTRUCT, DESCRIBE, the
/graph pages) carry the dump's literal again. Solutions (SELECT) are the values the engine
computes with and keep the engine's form.
"""

from __future__ import annotations

from pathlib import Path

XSD = "http://www.w3.org/2001/XMLSchema#"
# kept verbatim by the store: nothing to record
_VERBATIM = {XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}


def _stored_forms(literals) -> dict:
    """Each literal and the form the store gives back for it (a scratch store in memory)."""
    import pyoxigraph as ox

    literals = list(set(literals))
    scratch = ox.Store()
    p = ox.NamedNode("urn:peacegraph:literal")
    scratch.extend(ox.Quad(ox.NamedNode(f"urn:peacegraph:literal:{i}"), p, lit)
                   for i, lit in enumerate(literals))
    return {literals[int(q.subject.value.rsplit(":", 1)[1])]: q.object for q in scratch}


def rewritten_quads(sources: list[tuple]) -> list:
    """The quads of `sources` ((path, RdfFormat, base IRI) each) whose literal the store rewrites."""
    import pyoxigraph as ox

    from peacegraph.server.rdf_input import rdf_source

    candidates = []
    for path, fmt, base in sources:
        with rdf_source(path) as source:
            for q in ox.parse(**source, format=fmt, base_iri=base):
                o = q.object
                if isinstance(o, ox.Literal) and o.datatype.value not in _VERBATIM:
                    candidates.append(q)
    stored = _stored_forms(q.object for q in candidates)
    return [q for q in candidates if stored[q.object] != q.object]


class DumpLiterals:
    """Maps a stored triple back to the dump's literal(s) it was loaded from."""

    def __init__(self, quads: list) -> None:
        import pyoxigraph as ox

        stored = _stored_forms(q.object for q in quads)
        self._map: dict = {}
        for q in quads:
            key = ox.Triple(q.subject, q.predicate, stored[q.object])
            forms = self._map.setdefault(key, [])
            if q.object not in forms:
                forms.append(q.object)

    def __len__(self) -> int:
        return len(self._map)

    def triples(self, triples: list) -> list:
        """`triples` (pyoxigraph Triples of a graph answer) with the dump's literals restored."""
        if not self._map:
            return triples
        import pyoxigraph as ox

        out = []
        for t in triples:
            forms = self._map.get(t)
            if forms is None:
                out.append(t)
            else:
                out.extend(ox.Triple(t.subject, t.predicate, o) for o in forms)
        return out

    @staticmethod
    def save(quads: list, path: Path) -> None:
        import pyoxigraph as ox

        ox.serialize(quads, output=str(path), format=ox.RdfFormat.N_QUADS)

    @classmethod
    def load(cls, path: Path) -> DumpLiterals:
        import pyoxigraph as ox

        if not Path(path).is_file():
            return cls([])
        return cls(list(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS)))
