"""Descriptions of the service itself: the SPARQL 1.1 Service Description and VoID, as pyoxigraph triples."""

from __future__ import annotations

import pyoxigraph as ox

from peacegraph.query import ox_term
from peacegraph.void import void_graph

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCTERMS = "http://purl.org/dc/terms/"
FORMATS_W3 = "http://www.w3.org/ns/formats/"
_RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                   "Turtle", "N-Triples", "N-Quads", "TriG", "JSON-LD", "RDF_XML")


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def service_description_triples(endpoint: str, graphs: list[str], config) -> list[ox.Triple]:
    service = _n(endpoint)
    dataset = _n(endpoint + "#dataset")
    default = _n(endpoint + "#default-graph")
    t = [ox.Triple(service, RDF_TYPE, _n(SD + "Service")),
         ox.Triple(service, _n(SD + "endpoint"), service),
         ox.Triple(service, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Query")),
         ox.Triple(service, _n(SD + "feature"), _n(SD + "UnionDefaultGraph")),
         ox.Triple(service, _n(SD + "defaultDataset"), dataset),
         ox.Triple(dataset, RDF_TYPE, _n(SD + "Dataset")),
         ox.Triple(dataset, _n(SD + "defaultGraph"), default),
         ox.Triple(default, RDF_TYPE, _n(SD + "Graph")),
         ox.Triple(service, _n(DCTERMS + "description"),
                   ox.Literal(f"peacegraph SPARQL 1.1 endpoint (read-only; {config.timeout:g} s and "
                              f"{config.max_rows} rows per query)"))]
    for fmt in _RESULT_FORMATS:
        t.append(ox.Triple(service, _n(SD + "resultFormat"), _n(FORMATS_W3 + fmt)))
    for g in graphs:
        named = _n(f"{endpoint}#graph-{len(t)}")
        t += [ox.Triple(dataset, _n(SD + "namedGraph"), named),
              ox.Triple(named, RDF_TYPE, _n(SD + "NamedGraph")),
              ox.Triple(named, _n(SD + "name"), _n(g))]
    return t


def void_triples(public: str, base: str, graph_sizes: dict[str, int], dumps: list[str]) -> list[ox.Triple]:
    """The dataset's VoID (peacegraph.void) with this server's endpoint and download URLs."""
    g = void_graph(base, graph_sizes, dumps, sparql_endpoint=public + "sparql", download_url=public + "download/")
    return [ox.Triple(ox_term(s), ox_term(p), ox_term(o)) for s, p, o in g]
