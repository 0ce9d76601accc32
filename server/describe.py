"""Descriptions of the service itself: the SPARQL 1.1 Service Description and VoID, as pyoxigraph triples."""

from __future__ import annotations

import pyoxigraph as ox

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
    ds = _n(public + ".well-known/void#peacegraph")
    t = [ox.Triple(ds, RDF_TYPE, _n(VOID + "Dataset")),
         ox.Triple(ds, _n(DCTERMS + "title"), ox.Literal("peacegraph")),
         ox.Triple(ds, _n(DCTERMS + "description"), ox.Literal(
             "A knowledge graph of the 2025 Ukraine peace negotiations; every fact anchored to the "
             "words of a source text.")),
         ox.Triple(ds, _n(VOID + "sparqlEndpoint"), _n(public + "sparql")),
         ox.Triple(ds, _n(VOID + "uriSpace"), ox.Literal(base)),
         ox.Triple(ds, _n(VOID + "triples"), ox.Literal(str(sum(graph_sizes.values())),
                                                       datatype=_n("http://www.w3.org/2001/XMLSchema#integer")))]
    for name in dumps:
        t.append(ox.Triple(ds, _n(VOID + "dataDump"), _n(public + "download/" + name)))
    for g, size in sorted(graph_sizes.items()):
        sub = _n(g)
        t += [ox.Triple(ds, _n(VOID + "subset"), sub),
              ox.Triple(sub, RDF_TYPE, _n(VOID + "Dataset")),
              ox.Triple(sub, _n(VOID + "triples"), ox.Literal(str(size), datatype=_n(
                  "http://www.w3.org/2001/XMLSchema#integer")))]
    return t
