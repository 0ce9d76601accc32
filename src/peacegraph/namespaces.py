"""The IRIs of peacegraph (things under id/, source texts under source/, named graphs under
graph/, the vocabulary at ontology#) and the standard vocabularies it aligns to."""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD

BASE = "https://w3id.org/peacegraph/"
PG = Namespace(BASE + "ontology#")
PGID = Namespace(BASE + "id/")
TOPIC = Namespace(BASE + "id/topic/")
SRC = Namespace(BASE + "source/")
GRAPH = Namespace(BASE + "graph/")
OA = Namespace("http://www.w3.org/ns/oa#")
VOID = Namespace("http://rdfs.org/ns/void#")
SH = Namespace("http://www.w3.org/ns/shacl#")

ONTOLOGY_GRAPH = URIRef(GRAPH["ontology"])
ASSERTED_GRAPH = URIRef(GRAPH["asserted"])
INFERRED_GRAPH = URIRef(GRAPH["inferred"])
SOURCES_GRAPH = URIRef(GRAPH["sources"])
NAMED_GRAPHS = (ONTOLOGY_GRAPH, ASSERTED_GRAPH, INFERRED_GRAPH, SOURCES_GRAPH)

PREFIXES = {
    "pg": PG, "pgid": PGID, "topic": TOPIC, "src": SRC, "oa": OA,
    "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS, "prov": PROV,
    "foaf": FOAF, "org": ORG, "dcterms": DCTERMS, "void": VOID, "sh": SH,
}


def bind_prefixes(graph) -> None:
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True, replace=True)


def source_iri(stem: str) -> URIRef:
    return URIRef(SRC + stem)


def span_iri(stem: str, start: int, end: int) -> URIRef:
    """RFC 5147 fragment of a source text: end exclusive, Unicode code points. `stem`: that of
    a source IRI as read (peacegraph.load refuses an IRI with characters none may hold)."""
    return checked_iri(f"{SRC}{stem}#char={start},{end}")


def selector_iri(stem: str, start: int, end: int, kind: str) -> URIRef:
    """The TextQuoteSelector (kind "quote") or TextPositionSelector (kind "position") of a span."""
    return checked_iri(f"{SRC}{stem}#{kind}-{start}-{end}")


def checked_iri(value: str) -> URIRef:
    """URIRef(value) for a value already known to hold no character an IRI cannot (made of
    checked parts, or refused by peacegraph.load otherwise): URIRef() would look again, only to
    log a warning, at a tenth of anchoring's time at a million statements."""
    # Identifier.__new__ is str.__new__
    return str.__new__(URIRef, value)
