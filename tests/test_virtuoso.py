"""`peacegraph push` and `peacegraph serve --store` against a real Virtuoso (Debian's virtuoso-t,
installed by `make virtuoso`), started once for these tests on free ports with a database and a
virtuoso.ini of its own, and stopped after them."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections import Counter

import pyoxigraph as ox
import pytest

from peacegraph.errors import StoreError
from peacegraph.namespaces import ASSERTED_GRAPH, NAMED_GRAPHS, ONTOLOGY_GRAPH
from peacegraph.push import push
from peacegraph.query import default_bindings, ox_term, stored_queries
from peacegraph.server.app import close_app, create_app
from peacegraph.server.config import ServerConfig
from peacegraph.server.stored import page_query
from peacegraph.urlopener import direct_opener
from peacegraph.virtuoso_server import VirtuosoServer
from servestore import serving_store

pytestmark = pytest.mark.virtuoso

JSON = "application/sparql-results+json"
SYSTEM_GRAPH = "http://www.openlinksw.com/schemas/virtrdf#"
STEM = "000_c087f7d81efda06d"
# Virtuoso has no default graph of its own: the dump's (the dataset's version and licence) is
# pushed as this named graph, outside the data's graph/ namespace and so not served.
DEFAULT_GRAPH = "urn:x-peacegraph:default-graph"
XSD = "http://www.w3.org/2001/XMLSchema#"
# Oxigraph stores the datatypes derived from xsd:integer as xsd:integer; Virtuoso keeps the one the
# data gives (oa:start is an xsd:nonNegativeInteger), so rows are compared with them folded; and
# Virtuoso writes an xsd:boolean as 0 or 1, the other lexical form of the same value.
INTEGER_TYPES = {XSD + t for t in ("integer", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger",
                                   "negativeInteger", "long", "int", "short", "byte", "unsignedLong",
                                   "unsignedInt", "unsignedShort", "unsignedByte")}


def _fold(term) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.Literal) and term.datatype.value in INTEGER_TYPES:
        return f'"{term.value}"^^<{XSD}integer>'
    if isinstance(term, ox.Literal) and term.datatype.value == XSD + "boolean":
        return f'"{str(term.value in ("1", "true")).lower()}"^^<{XSD}boolean>'
    return str(term)


def _dump_graphs(dump) -> dict[str, set]:
    out: dict[str, set] = {}
    for quad in ox.parse(path=str(dump)):
        name = "" if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
        out.setdefault(name, set()).add(tuple(map(_fold, quad.triple)))
    return out


@pytest.fixture(scope="session")
def virtuoso(built_dist):
    with VirtuosoServer() as server:
        server.pushed = push(server.store_url, built_dist / "peacegraph.trig", user=server.user,
                             password=server.password, default_graph=DEFAULT_GRAPH)
        yield server


@pytest.fixture(scope="session")
def virtuoso_app(virtuoso):
    app = create_app(ServerConfig(store_url=virtuoso.query_url, timeout=30.0))
    yield app
    close_app(app)


@pytest.fixture(scope="session")
def embedded_app(built_dist):
    app = create_app(ServerConfig(data=[built_dist / "peacegraph.trig"], workers=1))
    yield app
    close_app(app)


def _store_rows(virtuoso, query: str) -> list[dict]:
    """Asked of Virtuoso itself, with no dataset: what the store holds beyond the data."""
    data = urllib.parse.urlencode({"query": query}).encode()
    req = urllib.request.Request(virtuoso.query_url, data=data, headers={"Accept": JSON})
    with direct_opener().open(req, timeout=30) as r:
        return json.load(r)["results"]["bindings"]


def _rows(app, query: str, **params) -> Counter:
    resp = app.test_client().post("/sparql", data={"query": query, **params}, headers={"Accept": JSON})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return Counter(json.dumps(b, sort_keys=True) for b in json.loads(resp.data)["results"]["bindings"])


def test_push_writes_every_graph_with_digest_authentication(virtuoso, built_dist):
    assert virtuoso.version.startswith("07.20")
    expected = _dump_graphs(built_dist / "peacegraph.trig")
    assert {p.graph: p.triples for p in virtuoso.pushed} == {g: len(t) for g, t in expected.items()}
    assert {p.graph for p in virtuoso.pushed} >= {str(g) for g in NAMED_GRAPHS}
    expected[DEFAULT_GRAPH] = expected.pop("", set())
    for graph, triples in expected.items():
        count = _store_rows(virtuoso, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        assert int(count[0]["n"]["value"]) == len(triples), graph


def test_push_with_a_wrong_password_is_refused_and_writes_nothing(virtuoso, built_dist):
    with pytest.raises(StoreError) as caught:
        push(virtuoso.store_url, built_dist / "peacegraph.trig", user=virtuoso.user, password="wrong")
    assert "HTTP 401" in str(caught.value) and "Digest" in str(caught.value)
    assert "written: none" in str(caught.value)
    with pytest.raises(StoreError, match="HTTP 401"):
        push(virtuoso.store_url, built_dist / "peacegraph.trig")


def test_only_the_data_graphs_are_served(virtuoso, virtuoso_app):
    store_graphs = {b["g"]["value"] for b in _store_rows(virtuoso, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert SYSTEM_GRAPH in store_graphs      # the store holds more than the data
    served = sorted(str(g) for g in NAMED_GRAPHS)
    assert virtuoso_app.extensions["peacegraph"].graphs() == served
    graphs = _rows(virtuoso_app, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert sorted(json.loads(row)["g"]["value"] for row in graphs) == served
    system = f"SELECT * WHERE {{ GRAPH <{SYSTEM_GRAPH}> {{ ?s ?p ?o }} }}"
    assert _rows(virtuoso_app, system) == Counter()
    assert _rows(virtuoso_app, system, **{"default-graph-uri": str(ASSERTED_GRAPH)}) == Counter()
    # a graph the dataset does not hold is an empty graph, whatever the store holds under its name
    assert _rows(virtuoso_app, f"SELECT * FROM <{SYSTEM_GRAPH}> WHERE {{ ?s ?p ?o }}") == Counter()
    assert _rows(virtuoso_app, f"SELECT * FROM <{SYSTEM_GRAPH}> FROM <{ASSERTED_GRAPH}> "
                 f"WHERE {{ <{SYSTEM_GRAPH}> ?p ?o }}") == Counter()
    assert _rows(virtuoso_app, "SELECT * WHERE { ?s ?p ?o }", **{"default-graph-uri": SYSTEM_GRAPH}) == Counter()
    assert _rows(virtuoso_app, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
                 **{"named-graph-uri": SYSTEM_GRAPH}) == Counter()


def test_the_triple_count_is_the_dumps(virtuoso_app, embedded_app, built_dist):
    graphs = [str(g) for g in NAMED_GRAPHS]
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    remote = _rows(virtuoso_app, count)
    # the union of the named graphs: a remote store's default graph is not served
    assert remote == _rows(embedded_app, count, **{"default-graph-uri": graphs})
    dump = _dump_graphs(built_dist / "peacegraph.trig")
    union = set().union(*(dump[g] for g in graphs))
    assert int(json.loads(next(iter(remote)))["n"]["value"]) == len(union)


def test_from_and_the_dataset_parameters_name_our_graphs(virtuoso_app, embedded_app, built_dist):
    asserted = _dump_graphs(built_dist / "peacegraph.trig")[str(ASSERTED_GRAPH)]
    for query, params in ((f"SELECT (COUNT(*) AS ?n) FROM <{ASSERTED_GRAPH}> WHERE {{ ?s ?p ?o }}", {}),
                          ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {"default-graph-uri": str(ASSERTED_GRAPH)})):
        rows = _rows(virtuoso_app, query, **params)
        assert rows == _rows(embedded_app, query, **params)
        assert int(json.loads(next(iter(rows)))["n"]["value"]) == len(asserted)
    named = f"SELECT DISTINCT ?g FROM NAMED <{ONTOLOGY_GRAPH}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert _rows(virtuoso_app, named) == Counter([json.dumps({"g": {"type": "uri", "value": str(ONTOLOGY_GRAPH)}})])
    # the default graph alone: GRAPH sees no graph at all (Virtuoso would otherwise show every one)
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert _rows(virtuoso_app, graphs, **{"default-graph-uri": str(ASSERTED_GRAPH)}) == Counter()


@pytest.mark.parametrize("query", stored_queries(), ids=lambda q: q.name)
def test_research_questions_answer_as_the_embedded_store_does(virtuoso_app, embedded_app, query):
    bindings = {name: ox_term(term) for name, term in default_bindings(query).items()}
    answers = []
    for app in (virtuoso_app, embedded_app):
        result = app.extensions["peacegraph"].run(query.text, bindings=bindings)
        answers.append((result.variables, Counter(tuple(map(_fold, row)) for row in result.rows)))
    assert answers[0][1], f"{query.name} answers nothing"
    assert answers[0] == answers[1]


PAGES = ["/id/jared-kushner", "/id/us-28-point-plan", f"/source/{STEM}", "/ontology",
         *(f"/graph/{str(g).rsplit('/', 1)[-1]}" for g in NAMED_GRAPHS)]


@pytest.mark.parametrize("path", PAGES)
def test_every_linked_data_page_answers(virtuoso_app, embedded_app, path):
    remote, embedded = virtuoso_app.test_client(), embedded_app.test_client()
    page = remote.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    html = page.get_data(as_text=True)
    assert "<html" in html.lower()
    if path.startswith(("/id/", "/source/")):
        assert "#char=" in html
    if not path.startswith("/id/"):
        # the evidence the page highlights is the embedded store's (an entity page also lists its
        # links, which Virtuoso 7.2 filters differently: its evidence is compared below)
        assert html.count("#char=") == embedded.get(path, headers={"Accept": "text/html"}).get_data(as_text=True).count("#char=")
    triples = []
    for client in (remote, embedded):
        resp = client.get(path, headers={"Accept": "application/n-triples"})
        assert resp.status_code == 200
        triples.append({tuple(map(_fold, q.triple)) for q in ox.parse(resp.data, format=ox.RdfFormat.N_TRIPLES)})
    assert triples[0] and triples[0] == triples[1]


@pytest.mark.parametrize("slug", ["jared-kushner", "us-28-point-plan"])
def test_an_entity_pages_evidence_is_the_embedded_stores(virtuoso_app, embedded_app, slug):
    bindings = {"thing": ox.NamedNode(f"https://w3id.org/peacegraph/id/{slug}")}
    answers = []
    for app in (virtuoso_app, embedded_app):
        result = app.extensions["peacegraph"].run(page_query("entity_evidence"), bindings=bindings)
        answers.append(Counter(tuple(map(_fold, row)) for row in result.rows))
    assert answers[0] and answers[0] == answers[1]


def test_a_graph_page_is_the_dumps_graph(virtuoso_app, built_dist):
    expected = _dump_graphs(built_dist / "peacegraph.trig")[str(ASSERTED_GRAPH)]
    resp = virtuoso_app.test_client().get("/graph/asserted", headers={"Accept": "application/n-triples"})
    assert {tuple(map(_fold, q.triple)) for q in ox.parse(resp.data, format=ox.RdfFormat.N_TRIPLES)} == expected
    assert virtuoso_app.test_client().get("/graph/virtrdf").status_code == 404


def test_peacegraph_serve_store_over_http(virtuoso):
    with serving_store(virtuoso.query_url) as base:
        req = urllib.request.Request(base + "/id/jared-kushner", headers={"Accept": "text/html"})
        with direct_opener().open(req, timeout=30) as r:
            assert r.status == 200 and b"#char=" in r.read()
