"""`peacegraph serve --store URL`: the endpoint over a real `oxigraph serve` keeps every rule."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from peacegraph.errors import StoreError
from peacegraph.namespaces import ASSERTED_GRAPH, NAMED_GRAPHS, PGID
from peacegraph.oxigraph_server import OxigraphServer, free_port
from peacegraph.push import push
from peacegraph.query import stored_queries
from peacegraph.server.app import close_app, create_app
from peacegraph.server.backend import QueryRequest
from peacegraph.server.config import ServerConfig
from peacegraph.server.remote import RemoteBackend

JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def small_build(tmp_path_factory) -> Path:
    """A small synthetic corpus, anchored, reasoned and exported (its shapes are checked in
    test_synth); returns the TriG dump."""
    from peacegraph.build import BuildConfig, assemble
    from peacegraph.export import export
    from peacegraph.synth import synthesize

    root = tmp_path_factory.mktemp("remote")
    synthesize(root / "corpus", 4000, seed=9)
    config = BuildConfig.defaults(seeds=root / "corpus" / "seeds", graph=root / "corpus" / "graph")
    export(assemble(config).dataset, root / "dist")
    return root / "dist" / "peacegraph.trig"


@pytest.fixture(scope="module")
def oxigraph(small_build, tmp_path_factory):
    with OxigraphServer(tmp_path_factory.mktemp("oxstore") / "db") as server:
        push(server.store_url, small_build)
        yield server


@pytest.fixture(scope="module")
def remote_app(oxigraph):
    app = create_app(ServerConfig(store_url=oxigraph.query_url, timeout=20.0, max_rows=1000))
    yield app.test_client()
    close_app(app)


@pytest.fixture(scope="module")
def embedded_app(small_build):
    app = create_app(ServerConfig(data=[small_build], workers=1, timeout=10.0, max_rows=1000))
    yield app.test_client()
    close_app(app)


def _rows(client, query: str, **params) -> Counter:
    resp = client.post("/sparql", data={"query": query, **params}, headers={"Accept": JSON})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    doc = json.loads(resp.data)
    return Counter(json.dumps(b, sort_keys=True) for b in doc["results"]["bindings"])


def test_graphs_are_read_from_the_store(oxigraph):
    backend = RemoteBackend(ServerConfig(store_url=oxigraph.query_url))
    backend.start()
    assert backend.graph_names() == sorted(str(g) for g in NAMED_GRAPHS)
    assert backend.stats()["backend"] == "remote"
    backend.close()


def test_stored_queries_answer_as_the_embedded_store_does(remote_app, embedded_app):
    queries = stored_queries()
    assert queries
    answered = 0
    for q in queries:
        remote = _rows(remote_app, q.text)
        assert remote == _rows(embedded_app, q.text), q.name
        answered += bool(remote)
    assert answered >= 3, "the synthetic corpus answers several research questions"


def test_the_client_dataset_is_honoured(remote_app, embedded_app):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    only_asserted = _rows(remote_app, count, **{"default-graph-uri": str(ASSERTED_GRAPH)})
    assert only_asserted == _rows(embedded_app, count, **{"default-graph-uri": str(ASSERTED_GRAPH)})
    assert only_asserted != _rows(remote_app, count)
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert _rows(remote_app, graphs, **{"named-graph-uri": str(ASSERTED_GRAPH)}) == Counter(
        [json.dumps({"g": {"type": "uri", "value": str(ASSERTED_GRAPH)}}, sort_keys=True)])
    assert len(_rows(remote_app, graphs)) == 4


def test_service_update_and_load_are_still_refused(remote_app, oxigraph):
    for query in (f"SELECT * WHERE {{ SERVICE <{oxigraph.query_url}> {{ ?s ?p ?o }} }}",
                  "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                  f"LOAD <{oxigraph.base}/store?default>"):
        resp = remote_app.post("/sparql", data={"query": query})
        assert resp.status_code == 400, query
    assert _rows(remote_app, "SELECT * WHERE { <urn:a> <urn:b> ?c }") == Counter()


def test_row_limit_marks_truncation(remote_app):
    resp = remote_app.post("/sparql", data={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers={"Accept": JSON})
    assert resp.status_code == 200
    doc = json.loads(resp.data)
    assert len(doc["results"]["bindings"]) == 1000
    assert doc["peacegraph"]["truncated"] is True


def test_construct_and_ask_pass_through(remote_app):
    resp = remote_app.post("/sparql", data={"query": "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 5"},
                           headers={"Accept": "application/n-triples"})
    assert resp.status_code == 200
    assert len(list(ox.parse(resp.data, format=ox.RdfFormat.N_TRIPLES))) == 5
    resp = remote_app.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": JSON})
    assert json.loads(resp.data)["boolean"] is True


def test_a_syntax_error_from_the_store_is_a_400(oxigraph):
    backend = RemoteBackend(ServerConfig(store_url=oxigraph.query_url))
    backend.start()
    from peacegraph.server.backend import QuerySyntaxError
    with pytest.raises(QuerySyntaxError):
        backend.query(QueryRequest(text="SELECT * WHERE { ?s ?p }", form="SELECT", result_format="json"))


def test_bindings_narrow_the_query(oxigraph, small_build):
    backend = RemoteBackend(ServerConfig(store_url=oxigraph.query_url))
    backend.start()
    text = "SELECT ?p WHERE { ?s ?p ?o }"
    person = next(q.subject for q in ox.parse(path=str(small_build))
                  if q.object == ox.NamedNode("https://w3id.org/peacegraph/ontology#Person"))
    everything = backend.query(QueryRequest(text=text, form="SELECT", result_format="python"))
    narrowed = backend.query(QueryRequest(text=text, form="SELECT", result_format="python",
                                          bindings={"s": person}))
    assert 0 < narrowed.count < everything.count


def test_a_slow_query_is_stopped_at_the_time_limit(small_build, tmp_path):
    # a store of its own, whose --timeout-s ends the abandoned query soon after the test
    with OxigraphServer(tmp_path / "db", timeout_s=3) as oxigraph:
        push(oxigraph.store_url, small_build)
        _slow_query_is_stopped(oxigraph)


def _slow_query_is_stopped(oxigraph):
    app = create_app(ServerConfig(store_url=oxigraph.query_url, timeout=1.5))
    try:
        client = app.test_client()
        slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
        started = time.monotonic()
        resp = client.post("/sparql", data={"query": slow})
        assert resp.status_code == 503
        assert "time limit" in resp.get_data(as_text=True)
        assert time.monotonic() - started < 5
        assert _rows(client, "SELECT * WHERE { ?s a ?c } LIMIT 1")
    finally:
        close_app(app)


def test_an_entity_page_renders_with_its_evidence(remote_app, small_build):
    person = next(q.subject.value for q in ox.parse(path=str(small_build))
                  if q.object == ox.NamedNode("https://w3id.org/peacegraph/ontology#Person"))
    slug = person[len(str(PGID)):]
    resp = remote_app.get(f"/id/{slug}", headers={"Accept": "text/html"})
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "<html" in page.lower() and "#char=" in page
    resp = remote_app.get(f"/id/{slug}", headers={"Accept": "text/turtle"})
    assert resp.status_code == 200 and b"Person" in resp.data


def test_an_unreachable_store_fails_at_start_with_one_line():
    url = f"http://127.0.0.1:{free_port()}/query"
    with pytest.raises(StoreError, match="cannot reach the remote store"):
        create_app(ServerConfig(store_url=url, store_timeout=2))
    done = subprocess.run([sys.executable, "-m", "peacegraph.cli", "serve", "--store", url, "--port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "cannot reach" in done.stderr


def test_peacegraph_serve_store_over_http(oxigraph):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "peacegraph.cli", "serve", "--store", oxigraph.query_url,
                             "--port", str(port), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/sparql?" + urllib.parse.urlencode({"query": "ASK { ?s a ?c }"})
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": JSON}), timeout=5) as r:
                    assert json.load(r)["boolean"] is True
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(20)
        proc.stderr.close()


def test_the_real_build_answers_the_same_from_a_remote_store(built_dist, tmp_path):
    dump = built_dist / "peacegraph.trig"
    with OxigraphServer(tmp_path / "db") as server:
        pushed = push(server.store_url, dump)
        # the named graphs, and the dump's own description in the default graph ("")
        assert {p.graph for p in pushed} == {str(g) for g in NAMED_GRAPHS} | {""}
        remote = create_app(ServerConfig(store_url=server.query_url))
        embedded = create_app(ServerConfig(data=[dump], workers=1))
        try:
            rc, ec = remote.test_client(), embedded.test_client()
            for q in stored_queries():
                rows = _rows(rc, q.text)
                assert rows and rows == _rows(ec, q.text), q.name
            page = rc.get("/id/jared-kushner", headers={"Accept": "text/html"})
            assert page.status_code == 200 and b"#char=" in page.data
        finally:
            close_app(remote)
            close_app(embedded)
