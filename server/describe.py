"""Descriptions of the service and the dataset it serves: the SPARQL 1.1 Service Description,
and the dataset's VoID / DCAT / schema.org description (peacegraph.void) with this server's
endpoint and download URLs. Every public IRI comes from the site's configuration, never from a
request."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Graph

from peacegraph.query import ox_term
from peacegraph.server.stored import page_query
from peacegraph.void import Release, dataset_iri, schema_org_dataset, void_graph

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCTERMS = "http://purl.org/dc/terms/"
RDFS_SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
FORMATS_W3 = "http://www.w3.org/ns/formats/"
_RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                   "Turtle", "N-Triples", "N-Quads", "TriG", "JSON-LD", "RDF_XML")


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def service_description_triples(endpoint: str, graphs: list[str], config, *,
                                graph_sizes: dict[str, int] | None = None,
                                void_url: str | None = None) -> list[ox.Triple]:
    """The service description: the endpoint, its features and result formats, its default
    dataset with each named graph and its size (`graph_sizes`), and a link to the VoID."""
    sizes = graph_sizes or {}
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
    if void_url:
        t.append(ox.Triple(dataset, _n(RDFS_SEE_ALSO), _n(void_url)))
    if sizes:
        t.append(ox.Triple(default, _n(VOID + "triples"), _integer(sum(sizes.values()))))
    for i, g in enumerate(graphs):
        named = _n(f"{endpoint}#graph-{i}")
        content = _n(f"{endpoint}#graph-{i}-content")
        t += [ox.Triple(dataset, _n(SD + "namedGraph"), named),
              ox.Triple(named, RDF_TYPE, _n(SD + "NamedGraph")),
              ox.Triple(named, _n(SD + "name"), _n(g)),
              ox.Triple(named, _n(SD + "graph"), content),
              ox.Triple(content, RDF_TYPE, _n(SD + "Graph"))]
        if g in sizes:
            t.append(ox.Triple(content, _n(VOID + "triples"), _integer(sizes[g])))
    return t


def _integer(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=_n("http://www.w3.org/2001/XMLSchema#integer"))


def served_release(site) -> Release | None:
    """The version the served dumps state of the dataset, if they state one."""
    res = site.run(page_query("dataset_version"),
                   bindings={"dataset": ox.NamedNode(str(dataset_iri(site.config.base)))})
    if not res.rows:
        return None
    r = dict(zip(res.variables, res.rows[0], strict=True))
    issued = r.get("issued")
    return Release(r["version"].value, issued.value if issued is not None else None)


def _arguments(site, files) -> tuple:
    public = site.public_url()
    return (site.config.base, site.graph_sizes(), files), {
        "sparql_endpoint": public + "sparql", "download_url": public + "download/",
        "release": served_release(site)}


def dataset_graph(site, files) -> Graph:
    """The dataset's VoID and DCAT with this server's endpoint and the files it offers (DumpFile)."""
    args, kwargs = _arguments(site, files)
    return void_graph(*args, **kwargs)


def dataset_schema_org(site, files) -> dict:
    """The same description as a schema.org Dataset (JSON-LD) for the home page."""
    args, kwargs = _arguments(site, files)
    return schema_org_dataset(*args, **kwargs)


def ox_triples(graph: Graph) -> list[ox.Triple]:
    return [ox.Triple(ox_term(s), ox_term(p), ox_term(o)) for s, p, o in graph]
