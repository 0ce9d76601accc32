"""The VoID description of the dataset: one description for dist/void.ttl and the endpoint's
/.well-known/void, so both name the same dataset IRI and URI space."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from peacegraph.namespaces import PREFIXES, VOID

VOCABULARIES = ("pg", "oa", "prov", "dcterms", "skos", "foaf", "org")


def dataset_iri(base: str) -> URIRef:
    """The dataset's IRI, derived from the base IRI of the data (never from where it is served)."""
    return URIRef(base + "dataset")


def void_graph(base: str, graph_sizes: dict, dumps, *, sparql_endpoint: str | None = None,
               download_url: str | None = None) -> Graph:
    """VoID for the data under `base`: its named graphs with their sizes (`graph_sizes`, graph IRI
    -> triples) as subsets, the dump files `dumps` under `download_url` (default base/download/),
    and the SPARQL endpoint (default base/sparql)."""
    g = Graph()
    ds = dataset_iri(base)
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, DCTERMS.title, Literal("peacegraph", lang="en")))
    g.add((ds, DCTERMS.description, Literal(
        "A knowledge graph of the 2025 Ukraine peace negotiations; every fact is anchored to the "
        "exact words of a source text.", lang="en")))
    g.add((ds, VOID.triples, Literal(sum(graph_sizes.values()), datatype=XSD.integer)))
    g.add((ds, VOID.sparqlEndpoint, URIRef(sparql_endpoint or base + "sparql")))
    # the things the dataset describes are named under id/
    g.add((ds, VOID.uriSpace, Literal(base + "id/")))
    for name in dumps:
        g.add((ds, VOID.dataDump, URIRef((download_url or base + "download/") + name)))
    for vocab in VOCABULARIES:
        g.add((ds, VOID.vocabulary, URIRef(PREFIXES[vocab])))
    for name, n in graph_sizes.items():
        name = URIRef(name)
        g.add((ds, VOID.subset, name))
        g.add((name, RDF.type, VOID.Dataset))
        g.add((name, DCTERMS.title, Literal(f"{str(name).rsplit('/', 1)[-1]} graph", lang="en")))
        g.add((name, VOID.triples, Literal(n, datatype=XSD.integer)))
    return g
