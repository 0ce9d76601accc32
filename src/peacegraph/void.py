"""The description of the dataset: one description for dist/void.ttl, the endpoint's
/.well-known/void and the dataset IRI's page, so all name the same dataset IRI and URI space.

It is VoID (counts, named graphs as subsets, URI space, vocabularies, example resources, the
RDF dumps as `void:dataDump`s, the SPARQL endpoint) and DCAT in one graph: the dataset is also a
`dcat:Dataset` whose `dcat:Distribution`s are the files of the export, each with its media
type, byte size and SHA-256 (`spdx:checksum`). The same facts make the schema.org `Dataset`
(`schema_org_dataset`) that dataset search engines read from the home page.

Nothing here reads a clock: the dates are the project's creation date and, for a release, the
issue date the release names, so two builds of the same input stay byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, XSD

from peacegraph.namespaces import PREFIXES, VOID

SPDX = Namespace("http://spdx.org/rdf/terms#")
SCHEMA = "https://schema.org/"
VOCABULARIES = ("pg", "oa", "prov", "dcterms", "skos", "foaf", "org")
TITLE = "peacegraph"
DESCRIPTION = ("A knowledge graph of the 2025 Ukraine peace negotiations; every fact is anchored to "
               "the exact words of a source text.")
KEYWORDS = ("Ukraine", "peace negotiations", "28-point plan", "knowledge graph", "linked data",
            "provenance", "Web Annotation")
DATA_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
CREATOR = "peacegraph contributors"
CREATED = "2026-11-28"
SOURCE_RIGHTS = ("The source texts quoted as evidence are not covered by this license: all rights "
                 "are reserved by their authors and publishers, as stated on each source node.")
# things of the shipped graph a newcomer can start from
EXAMPLES = ("id/us-28-point-plan", "id/jared-kushner")
# media types of the files an export writes
MEDIA_TYPES = {".trig": "application/trig", ".nq": "application/n-quads", ".ttl": "text/turtle",
               ".jsonld": "application/ld+json", ".nt": "application/n-triples",
               ".rdf": "application/rdf+xml", ".csv": "text/csv"}
RDF_DUMP_TYPES = {"application/trig", "application/n-quads", "text/turtle", "application/ld+json",
                  "application/n-triples", "application/rdf+xml"}
DESCRIPTION_FILE = "void.ttl"


@dataclass(frozen=True)
class DumpFile:
    name: str
    size: int | None = None
    sha256: str = ""

    @property
    def media_type(self) -> str | None:
        suffix = "." + self.name.rsplit(".", 1)[-1] if "." in self.name else ""
        return MEDIA_TYPES.get(suffix)

    @property
    def is_rdf_dump(self) -> bool:
        return self.media_type in RDF_DUMP_TYPES and self.name != DESCRIPTION_FILE


@dataclass(frozen=True)
class Release:
    """The version a description carries; `issued` (an ISO date) only for a release."""
    version: str
    issued: str | None = None


def dataset_iri(base: str) -> URIRef:
    """The dataset's IRI, derived from the base IRI of the data (never from where it is served)."""
    return URIRef(base + "dataset")


def version_iri(base: str, version: str) -> URIRef:
    return URIRef(f"{base}dataset?version={version}")


def _files(dumps) -> list[DumpFile]:
    return [d if isinstance(d, DumpFile) else DumpFile(str(d)) for d in dumps]


def void_graph(base: str, graph_sizes: dict, dumps, *, sparql_endpoint: str | None = None,
               download_url: str | None = None, release: Release | None = None) -> Graph:
    """VoID and DCAT for the data under `base`: its named graphs with their sizes (`graph_sizes`,
    graph IRI -> triples) as subsets, the files `dumps` (DumpFile, or names) under `download_url`
    (default base/download/) as distributions, the RDF ones as `void:dataDump`s, the SPARQL
    endpoint (default base/sparql), and the version of `release`."""
    g = Graph()
    g.bind("void", VOID)
    g.bind("dcat", DCAT)
    g.bind("spdx", SPDX)
    ds = dataset_iri(base)
    downloads = download_url or base + "download/"
    for kind in (VOID.Dataset, DCAT.Dataset):
        g.add((ds, RDF.type, kind))
    g.add((ds, DCTERMS.title, Literal(TITLE, lang="en")))
    g.add((ds, DCTERMS.description, Literal(DESCRIPTION, lang="en")))
    for word in KEYWORDS:
        g.add((ds, DCAT.keyword, Literal(word, lang="en")))
    g.add((ds, DCTERMS.license, URIRef(DATA_LICENSE)))
    g.add((ds, DCTERMS.rights, Literal(SOURCE_RIGHTS, lang="en")))
    creator = URIRef(f"{ds}#creator")
    g.add((ds, DCTERMS.creator, creator))
    g.add((ds, DCTERMS.publisher, creator))
    g.add((creator, RDF.type, FOAF.Organization))
    g.add((creator, FOAF.name, Literal(CREATOR)))
    g.add((ds, DCTERMS.created, Literal(CREATED, datatype=XSD.date)))
    if release is not None:
        g.add((ds, OWL.versionInfo, Literal(release.version)))
        g.add((ds, URIRef(str(DCAT) + "version"), Literal(release.version)))  # DCAT 3
        g.add((ds, OWL.versionIRI, version_iri(base, release.version)))
        if release.issued:
            g.add((ds, DCTERMS.issued, Literal(release.issued, datatype=XSD.date)))
    g.add((ds, DCAT.landingPage, URIRef(base)))
    g.add((ds, VOID.triples, Literal(sum(graph_sizes.values()), datatype=XSD.integer)))
    endpoint = URIRef(sparql_endpoint or base + "sparql")
    g.add((ds, VOID.sparqlEndpoint, endpoint))
    service = URIRef(f"{ds}#sparql")
    g.add((ds, DCAT.distribution, service))
    g.add((service, RDF.type, DCAT.Distribution))
    g.add((service, DCTERMS.title, Literal("SPARQL 1.1 endpoint", lang="en")))
    g.add((service, DCAT.accessURL, endpoint))
    g.add((service, DCTERMS.license, URIRef(DATA_LICENSE)))
    # the things the dataset describes are named under id/
    g.add((ds, VOID.uriSpace, Literal(base + "id/")))
    for example in EXAMPLES:
        g.add((ds, VOID.exampleResource, URIRef(base + example)))
    for vocab in VOCABULARIES:
        g.add((ds, VOID.vocabulary, URIRef(PREFIXES[vocab])))
    g.add((ds, VOID.vocabulary, URIRef(base + "ontology#")))
    for f in _files(dumps):
        _distribution(g, ds, f, downloads)
    for name, n in graph_sizes.items():
        name = URIRef(name)
        g.add((ds, VOID.subset, name))
        g.add((name, RDF.type, VOID.Dataset))
        g.add((name, DCTERMS.title, Literal(f"{str(name).rsplit('/', 1)[-1]} graph", lang="en")))
        g.add((name, VOID.triples, Literal(n, datatype=XSD.integer)))
    return g


def _distribution(g: Graph, ds: URIRef, f: DumpFile, downloads: str) -> None:
    url = URIRef(downloads + f.name)
    media = f.media_type
    if f.is_rdf_dump:
        g.add((ds, VOID.dataDump, url))
    if media is None or f.name == DESCRIPTION_FILE:
        return
    dist = URIRef(f"{ds}#file-{f.name}")
    g.add((ds, DCAT.distribution, dist))
    g.add((dist, RDF.type, DCAT.Distribution))
    g.add((dist, DCTERMS.title, Literal(f.name)))
    g.add((dist, DCAT.downloadURL, url))
    g.add((dist, DCAT.accessURL, url))
    g.add((dist, DCAT.mediaType, URIRef("https://www.iana.org/assignments/media-types/" + media)))
    g.add((dist, DCTERMS.license, URIRef(DATA_LICENSE)))
    if f.size is not None:
        g.add((dist, DCAT.byteSize, Literal(f.size, datatype=XSD.nonNegativeInteger)))
    if f.sha256:
        checksum = URIRef(f"{ds}#sha256-{f.name}")
        g.add((dist, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(f.sha256, datatype=XSD.hexBinary)))


def schema_org_dataset(base: str, graph_sizes: dict, dumps, *, sparql_endpoint: str | None = None,
                       download_url: str | None = None, release: Release | None = None) -> dict:
    """The same description as a schema.org `Dataset` in JSON-LD (what dataset search engines
    read), built from `void_graph` so the two never disagree."""
    g = void_graph(base, graph_sizes, dumps, sparql_endpoint=sparql_endpoint,
                   download_url=download_url, release=release)
    ds = dataset_iri(base)
    out: dict = {
        "@context": SCHEMA, "@type": "Dataset", "@id": str(ds),
        "name": TITLE, "description": DESCRIPTION, "url": str(g.value(ds, DCAT.landingPage)),
        "keywords": list(KEYWORDS), "license": DATA_LICENSE, "dateCreated": CREATED,
        "creator": {"@type": "Organization", "name": CREATOR},
        "isAccessibleForFree": True,
        "creditText": f"{TITLE} ({DATA_LICENSE})", "distribution": [],
    }
    if release is not None:
        out["version"] = release.version
        if release.issued:
            out["datePublished"] = release.issued
    for dist in sorted(g.objects(ds, DCAT.distribution)):
        download = g.value(dist, DCAT.downloadURL)
        if download is None:
            continue
        entry = {"@type": "DataDownload", "contentUrl": str(download),
                 "encodingFormat": str(g.value(dist, DCAT.mediaType)).rsplit("/media-types/", 1)[-1]}
        size = g.value(dist, DCAT.byteSize)
        if size is not None:
            entry["contentSize"] = f"{int(size)} B"
        checksum = g.value(dist, SPDX.checksum)
        if checksum is not None:
            entry["sha256"] = str(g.value(checksum, SPDX.checksumValue))
        out["distribution"].append(entry)
    return out
