"""Publishing by the linked-data conventions: Link headers and <link> elements, JSON-LD with the
dump's @context, application/xml, the dataset's description (VoID, DCAT, schema.org) as RDF and
as a page, the service description's sizes, and public IRIs that never follow the Host header."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDF

from endpoint.serverkit import BASE, GRAPHS, KUSHNER, SMALL, http
from peacegraph.export import jsonld_context
from peacegraph.metadata_shapes import schema_org_graph, validate_metadata
from peacegraph.namespaces import VOID
from peacegraph.terms import Terms

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PUBLIC = "http://127.0.0.1:5000/"
DOCUMENTS = ["/id/jared-kushner", "/source/test_source", "/ontology", "/graph/asserted", "/dataset",
             "/.well-known/void"]
SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.fixture(scope="module")
def published(tmp_path_factory, small_config, small_backend):
    """A client of an app that publishes dumps (a dist folder with the small fixture as TriG)."""
    from peacegraph.server.app import create_app
    dist = tmp_path_factory.mktemp("published")
    (dist / "peacegraph.trig").write_bytes(SMALL.read_bytes())
    (dist / "SHA256SUMS").write_text(f"{hashlib.sha256(SMALL.read_bytes()).hexdigest()}  peacegraph.trig\n")
    return create_app(dataclasses.replace(small_config, dist_dir=dist), backend=small_backend).test_client()


def _links(header: str) -> list[dict]:
    out = []
    for part in re.findall(r"<[^>]*>[^,]*", header or ""):
        href = part[1:part.index(">")]
        params = dict(re.findall(r'(\w+)="([^"]*)"', part))
        out.append({"href": href, **params})
    return out


@pytest.mark.parametrize("path", DOCUMENTS)
@pytest.mark.parametrize("accept", [BROWSER, "text/turtle"])
def test_every_document_links_its_representations(client, path, accept):
    r = client.get(path, headers={"Accept": accept})
    assert r.status_code == 200
    links = _links(r.headers.get("Link"))
    alternates = {link["type"]: link["href"] for link in links if link["rel"] == "alternate"}
    assert {"text/html", "text/turtle", "application/ld+json", "application/n-triples",
            "application/rdf+xml"} <= set(alternates)
    assert alternates["text/turtle"] == PUBLIC + path.lstrip("/") + "?format=turtle"
    assert any(link["rel"] == "describedby" for link in links)
    assert {"rel": "http://rdfs.org/ns/void#inDataset", "type": "text/turtle",
            "href": PUBLIC + "dataset"} in links
    # and each alternate is what it says
    for media, href in alternates.items():
        alt = client.get(href[len(PUBLIC) - 1:])
        assert alt.status_code == 200 and alt.headers["Content-Type"].startswith(media), (href, media)


@pytest.mark.parametrize("path", DOCUMENTS + ["/sparql", "/download/"])
def test_every_html_page_has_link_elements(client, path):
    r = client.get(path, headers={"Accept": BROWSER})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    page = r.data.decode()
    head = page[:page.index("</head>")]
    assert '<link rel="http://rdfs.org/ns/void#inDataset" type="text/turtle"' in head
    assert r.headers.get("Link")
    if path in DOCUMENTS:
        assert f'<link rel="alternate" type="application/ld+json" href="{PUBLIC}{path.lstrip("/")}?format=jsonld">' in head


def test_entity_json_ld_has_the_dumps_context(client):
    r = client.get("/id/jared-kushner", headers={"Accept": "application/ld+json"})
    assert r.headers["Content-Type"].startswith("application/ld+json")
    doc = json.loads(r.data)
    assert doc["@context"] == jsonld_context(Terms())
    node = next(n for n in doc["@graph"] if n["@id"] == "pgid:jared-kushner")
    assert "pg:Person" in node["@type"]
    assert node["rdfs:label"] == [{"@value": "Jared Kushner", "@language": "en"}]
    # the same graph as the Turtle
    as_ld = Graph().parse(data=r.data, format="json-ld")
    as_ttl = Graph().parse(data=client.get("/id/jared-kushner", headers={"Accept": "text/turtle"}).data,
                           format="turtle")
    assert len(as_ld) == len(as_ttl) and set(as_ld) == set(as_ttl)


def test_application_xml_is_rdf_xml_for_pages_and_results_for_select(client):
    page = client.get("/id/jared-kushner", headers={"Accept": "application/xml"})
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("application/rdf+xml")
    assert (URIRef(KUSHNER), None, None) in Graph().parse(data=page.data, format="xml")
    select = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"},
                        headers={"Accept": "application/xml"})
    assert select.status_code == 200 and select.headers["Content-Type"].startswith("application/sparql-results+xml")
    construct = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"},
                           headers={"Accept": "application/xml"})
    assert construct.status_code == 200 and construct.headers["Content-Type"].startswith("application/rdf+xml")


@pytest.mark.parametrize("path", ["/.well-known/void", "/dataset"])
def test_a_browser_gets_a_readable_dataset_page(client, path):
    r = client.get(path, headers={"Accept": BROWSER})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    page = r.data.decode()
    assert "creativecommons.org/licenses/by/4.0" in page and "all rights" in page
    assert "https://w3id.org/peacegraph/graph/asserted" in page and "148" in page
    turtle = client.get(path)
    assert turtle.headers["Content-Type"].startswith("text/turtle")


def test_the_dataset_iri_dereferences_to_its_description(published):
    graph = Graph().parse(data=published.get("/dataset", headers={"Accept": "text/turtle"}).data, format="turtle")
    ds = URIRef(BASE + "dataset")
    assert (ds, RDF.type, VOID.Dataset) in graph and (ds, RDF.type, DCAT.Dataset) in graph
    report = validate_metadata(graph)
    assert report.conforms, report.text()


def test_served_void_names_rdf_dumps_with_sizes_and_checksums(tmp_path, small_config, small_backend):
    from peacegraph.server.app import create_app
    dist = tmp_path / "dist"
    dist.mkdir()
    files = {"peacegraph.trig": SMALL.read_bytes(), "provisions.csv": b"provision_iri\r\n",
             "void.ttl": b"# described elsewhere\n"}
    for name, data in files.items():
        (dist / name).write_bytes(data)
    (dist / "SHA256SUMS").write_text("".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in files.items()))
    app = create_app(dataclasses.replace(small_config, dist_dir=dist), backend=small_backend)
    graph = Graph().parse(data=app.test_client().get("/.well-known/void").data, format="turtle")
    ds = URIRef(BASE + "dataset")
    assert {str(u) for u in graph.objects(ds, VOID.dataDump)} == {PUBLIC + "download/peacegraph.trig"}
    report = validate_metadata(graph)
    assert report.conforms, report.text()
    sizes = {str(graph.value(d, DCAT.downloadURL)).rsplit("/", 1)[-1]: int(graph.value(d, DCAT.byteSize))
             for d in graph.objects(ds, DCAT.distribution) if graph.value(d, DCAT.downloadURL) is not None}
    assert sizes == {"peacegraph.trig": len(files["peacegraph.trig"]), "provisions.csv": len(files["provisions.csv"])}


def test_service_description_links_the_void_and_gives_graph_sizes(client):
    r = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=r.data, format="turtle")
    assert (None, URIRef("http://www.w3.org/2000/01/rdf-schema#seeAlso"), URIRef(PUBLIC + ".well-known/void")) in graph
    sizes = {}
    for named in graph.subjects(RDF.type, URIRef(SD + "NamedGraph")):
        content = graph.value(named, URIRef(SD + "graph"))
        sizes[str(graph.value(named, URIRef(SD + "name")))] = int(graph.value(content, VOID.triples))
    assert set(sizes) == set(GRAPHS) and sum(sizes.values()) == 148
    report = validate_metadata(graph)
    assert report.conforms, report.text()


def test_home_page_carries_the_schema_org_dataset(published):
    page = published.get("/", headers={"Accept": BROWSER}).data.decode()
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(blocks) == 1
    document = json.loads(blocks[0])
    assert document["@type"] == "Dataset" and document["@id"] == BASE + "dataset"
    assert document["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert [d["contentUrl"] for d in document["distribution"]] == [PUBLIC + "download/peacegraph.trig"]
    report = validate_metadata(schema_org_graph(document))
    assert report.conforms, report.text()


EVIL = "evil.example"


@pytest.mark.parametrize("path, accept", [
    ("/.well-known/void", "text/turtle"), ("/dataset", BROWSER), ("/sparql", "text/turtle"),
    ("/sparql", BROWSER), ("/", BROWSER), ("/id/jared-kushner", BROWSER), ("/id/jared-kushner", "text/turtle"),
    ("/source/test_source", "application/ld+json"), ("/download/", BROWSER), ("/ontology", BROWSER)])
def test_the_host_header_never_becomes_an_iri(client, path, accept):
    r = client.get(path, headers={"Accept": accept, "Host": EVIL})
    assert r.status_code == 200
    assert EVIL not in r.headers.get("Link", "")
    assert EVIL.encode() not in r.data
    assert not any(EVIL in v for _, v in r.headers.items())


def test_the_host_header_never_becomes_an_iri_on_the_live_server(live):
    for path, accept in (("sparql", "text/turtle"), (".well-known/void", "text/turtle"), ("", BROWSER)):
        status, headers, body = http(live.url + path, headers={"Accept": accept, "Host": EVIL})
        assert status == 200 and EVIL.encode() not in body and EVIL not in headers.get("Link", "")
    status, _, body = http(live.url + "sparql", headers={"Accept": "text/turtle", "Host": EVIL})
    endpoints = [t.object.value for t in ox.parse(body, format=ox.RdfFormat.TURTLE)
                 if t.predicate.value == SD + "endpoint"]
    assert endpoints == [live.endpoint]


def test_public_url_is_the_configured_one(small_config, small_backend):
    from peacegraph.server.app import create_app
    app = create_app(dataclasses.replace(small_config, public_url="https://data.example.org/pg"),
                     backend=small_backend)
    c = app.test_client()
    body = c.get("/sparql", headers={"Accept": "text/turtle", "Host": EVIL}).data
    assert b"<https://data.example.org/pg/sparql>" in body
    links = _links(c.get("/id/jared-kushner", headers={"Host": EVIL}).headers["Link"])
    assert all(link["href"].startswith("https://data.example.org/pg/") for link in links)
