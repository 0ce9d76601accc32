"""The W3C SPARQL 1.1 Protocol test suite, run from its own manifest against the real server.

`fixtures/w3c-protocol/manifest.ttl` is the suite's manifest unchanged: each test is one or more
HTTP requests (method, path, headers, body in a stated character encoding) with the expected
status, result format and ASK answer. Every query test (`query_*`), every refusal test
(`bad_query_*`, `bad_multiple_queries`, and `bad_update_*` / `bad_multiple_updates`, which a
read-only endpoint must refuse as the manifest expects) is run here as the manifest writes it;
the update tests that expect an update to succeed (`update_*`) do not apply to a read-only
service. The three tests of the Service Description manifest are below them. The server serves
the suite's data (`data.trig`: the graphs its `ut:graphData` names); a graph a request names that
the dataset does not hold (`data0.rdf`) is an empty graph.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF

from endpoint.serverkit import FIXTURES, LiveServer
from listener import Listener

SUITE = FIXTURES / "w3c-protocol"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SRX = "{http://www.w3.org/2005/sparql-results#}"

BOOLEAN_TYPES = {"application/sparql-results+json", "application/sparql-results+xml"}
TABULAR_TYPES = BOOLEAN_TYPES | {"text/csv", "text/tab-separated-values"}
RDF_TYPES = {"application/rdf+xml": "xml", "text/turtle": "turtle", "application/n-triples": "nt"}


def _manifest(name: str) -> Graph:
    return Graph().parse(SUITE / name, format="turtle")


def _entries(graph: Graph) -> list[URIRef]:
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    return list(Collection(graph, graph.value(manifest, MF.entries)))


def _local(entry) -> str:
    return str(entry).rsplit("#", 1)[-1]


def _applies(name: str) -> bool:
    return name.startswith(("query_", "bad_"))


PROTOCOL = _manifest("manifest.ttl")
PROTOCOL_TESTS = [e for e in _entries(PROTOCOL) if _applies(_local(e))]


@pytest.fixture(scope="module")
def suite_server():
    server = LiveServer(data=[str(SUITE / "data.trig")], workers=1, max_workers=2, timeout=5)
    yield server
    server.stop()


def _requests(graph: Graph, entry) -> list:
    action = graph.value(entry, MF.action)
    return list(Collection(graph, graph.value(action, HT.requests)))


def _send(server: LiveServer, graph: Graph, req, authority: str | None):
    path = str(graph.value(req, HT.absolutePath))
    assert path.startswith("/sparql/")
    # the manifest: replace the /sparql/ prefix with the endpoint's own path
    url = server.endpoint + path[len("/sparql/"):]
    headers = {"Host": authority} if authority else {}
    for h in Collection(graph, graph.value(req, HT.headers)) if graph.value(req, HT.headers) else []:
        headers[str(graph.value(h, HT.fieldName))] = str(graph.value(h, HT.fieldValue))
    body = graph.value(req, HT.body)
    data = None
    if body is not None:
        data = str(graph.value(body, CNT.chars)).encode(str(graph.value(body, CNT.characterEncoding)))
    http_req = urllib.request.Request(url, data=data, headers=headers,
                                      method=str(graph.value(req, HT.methodName)))
    if data is not None and "content-type" not in {k.lower() for k in headers}:
        # urllib would label a body form-encoded; the manifest sends it with no media type
        http_req.add_unredirected_header("Content-Type", "")
    try:
        with urllib.request.urlopen(http_req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def _boolean(media: str, body: bytes) -> bool:
    if media == "application/sparql-results+json":
        return json.loads(body)["boolean"]
    return ET.fromstring(body).find(f"{SRX}boolean").text.strip() == "true"


def _check_response(graph: Graph, resp, status: int, media_type: str, body: bytes) -> None:
    classes = {str(c).rsplit("StatusCode", 1)[-1][0] for c in graph.objects(resp, MF.expectedStatus)}
    assert str(status)[0] in classes, (status, body[:300])
    media = media_type.split(";")[0].strip().lower()
    expected_format = graph.value(resp, MF.expectedFormat)
    if expected_format == Literal("boolean"):
        assert media in BOOLEAN_TYPES, media
    elif expected_format == Literal("tabular"):
        assert media in TABULAR_TYPES, media
    elif expected_format == Literal("RDF"):
        assert media in RDF_TYPES, media
        Graph().parse(data=body, format=RDF_TYPES[media])
    expected_boolean = graph.value(resp, MF.expectedBoolean)
    if expected_boolean is not None:
        assert _boolean(media, body) is expected_boolean.toPython()


@pytest.mark.parametrize("entry", PROTOCOL_TESTS, ids=_local)
def test_protocol_manifest(entry, suite_server):
    """Runs the manifest's requests of one test in order; each answer as the manifest expects."""
    action = PROTOCOL.value(entry, MF.action)
    authority = PROTOCOL.value(action, HT.connectionAuthority)
    for req in _requests(PROTOCOL, entry):
        status, media, body = _send(suite_server, PROTOCOL, req, authority and str(authority))
        _check_response(PROTOCOL, PROTOCOL.value(req, HT.resp), status, media, body)


def test_the_manifest_is_the_suite():
    names = [_local(e) for e in PROTOCOL_TESTS]
    assert len(names) == 27 and "query_multiple_dataset" in names and "bad_query_non_utf8" in names


# -- the Service Description manifest: its three tests, named and described there ------------
SERVICE = _manifest("service-description-manifest.ttl")


def _service_test(name: str) -> str:
    """The manifest's own description of a service-description test."""
    entry = next(e for e in _entries(SERVICE) if _local(e) == name)
    return str(SERVICE.value(entry, MF.name))


def _description(server: LiveServer) -> tuple[str, Graph]:
    req = urllib.request.Request(server.endpoint, headers={"Accept": "text/turtle"})
    with urllib.request.urlopen(req, timeout=30) as r:
        media, body = r.headers.get("Content-Type", ""), r.read()
    return media, Graph().parse(data=body, format="turtle")


def test_returns_rdf(suite_server):
    assert _service_test("returns-rdf") == "GET on endpoint returns RDF"
    media, graph = _description(suite_server)
    assert media.startswith("text/turtle") and len(graph) > 0


def test_has_endpoint_triple(suite_server):
    assert _service_test("has-endpoint-triple") == "Service description contains a matching sd:endpoint triple"
    _, graph = _description(suite_server)
    assert (None, SD.endpoint, URIRef(suite_server.endpoint)) in graph


def test_conforms_to_schema(suite_server):
    """The description against the Service Description vocabulary's domains and ranges, as
    SHACL (shapes/metadata/service-description.ttl)."""
    from peacegraph.metadata_shapes import validate_metadata

    assert _service_test("conforms-to-schema") == "Service description conforms to schema"
    _, graph = _description(suite_server)
    report = validate_metadata(graph)
    assert report.conforms, report.text()
    assert set(graph.subjects(RDF.type, SD.Service))


def test_a_graph_the_dataset_does_not_hold_is_empty_and_never_fetched(suite_server):
    """FROM, FROM NAMED, default-graph-uri and named-graph-uri naming an IRI the dataset does not
    hold: an empty graph (the protocol's reading), and no connection to it."""
    listener = Listener()
    try:
        remote = f"http://127.0.0.1:{listener.port}/data.ttl"
        ask = "ASK { ?s ?p ?o }"
        cases = [("query", f"ASK FROM <{remote}> {{ ?s ?p ?o }}", {}),
                 ("query", f"ASK FROM NAMED <{remote}> {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
                 ("query", ask, {"default-graph-uri": remote}),
                 ("query", "ASK { GRAPH ?g { ?s ?p ?o } }", {"named-graph-uri": remote})]
        from urllib.parse import urlencode
        for _, text, params in cases:
            url = suite_server.endpoint + "?" + urlencode({"query": text, **params})
            req = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                assert r.status == 200
                assert json.loads(r.read())["boolean"] is False, text
    finally:
        listener.close()
    assert listener.connections == []


def test_a_held_graph_next_to_a_foreign_one_still_answers(suite_server):
    from urllib.parse import urlencode
    data1 = "http://kasei.us/2009/09/sparql/data/data1.rdf"
    text = f"ASK FROM <{data1}> FROM <http://example.invalid/none> {{ <{data1}> a ?t }}"
    url = suite_server.endpoint + "?" + urlencode({"query": text})
    req = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert json.loads(r.read())["boolean"] is True


def test_suite_files_are_the_published_ones():
    text = (SUITE / "manifest.ttl").read_text(encoding="utf-8")
    assert "bad_query_non_utf8" in text and Path(SUITE / "data.trig").is_file()
