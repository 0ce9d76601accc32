"""The endpoint on the real build of the shipped data: every IRI of the graph dereferences here."""
import json
import re
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox
import pytest

from endpoint.serverkit import BASE

BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


@pytest.fixture(scope="module")
def real(real_app, built_dist):
    return real_app.test_client(), built_dist


def local_iris(trig) -> set[str]:
    iris = set()
    for quad in ox.parse(path=str(trig), format=ox.RdfFormat.TRIG):
        for term in (quad.subject, quad.object, quad.graph_name):
            if isinstance(term, ox.NamedNode) and term.value.startswith(BASE):
                iris.add(term.value)
    return iris


def test_every_iri_of_the_graph_dereferences(real):
    client, dist = real
    iris = local_iris(dist / "peacegraph.trig")
    paths = {urlsplit(i).path.replace("/peacegraph", "", 1) for i in iris}
    assert any(p.startswith("/id/") for p in paths) and any(p.startswith("/source/") for p in paths)
    failures = []
    for path in sorted(paths):
        for accept in (BROWSER, "text/turtle"):
            r = client.get(path, headers={"Accept": accept})
            if r.status_code != 200:
                failures.append((path, accept, r.status_code))
    assert failures == []


def test_entity_pages_of_the_real_graph_show_quotes(real):
    client, dist = real
    page = client.get("/id/jared-kushner", headers={"Accept": BROWSER}).data.decode()
    assert '<mark class="quote">' in page and "/source/" in page and "#char=" in page


def test_source_page_of_the_real_text(real):
    client, dist = real
    r = client.get("/sparql?" + urlencode({"query": "SELECT ?s WHERE { ?s a <https://w3id.org/peacegraph/ontology#SourceText> }"}),
                   headers={"Accept": "application/sparql-results+json"})
    sources = [b["s"]["value"] for b in json.loads(r.data)["results"]["bindings"]]
    assert sources
    for iri in sources:
        path = urlsplit(iri).path.replace("/peacegraph", "", 1)
        text = client.get(path, headers={"Accept": "text/plain"}).data.decode()
        html = client.get(path, headers={"Accept": BROWSER}).data.decode()
        assert len(text) > 1000 and len(re.findall(r'<span id="char=\d+,\d+"></span>', html)) > 10


def test_downloads_list_the_dumps_with_checksums(real):
    client, dist = real
    page = client.get("/download/", headers={"Accept": BROWSER}).data.decode()
    sums = dict(line.split("  ")[::-1] for line in (dist / "SHA256SUMS").read_text().splitlines() if line)
    for name, digest in sums.items():
        assert name in page and digest in page
    body = client.get("/download/peacegraph.trig").data
    assert body == (dist / "peacegraph.trig").read_bytes()


def test_stored_research_queries_answer(real):
    from peacegraph.query import stored_queries
    client, _ = real
    for q in stored_queries():
        r = client.post("/sparql", data={"query": q.text}, headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200, (q.name, r.data[:300])
        if not q.name.startswith("_"):
            assert json.loads(r.data)["results"]["bindings"], q.name


def _read_back(client, iri: str, how: str):
    """One named graph as the endpoint serves it: its /graph page in N-Triples, or a CONSTRUCT."""
    from rdflib import Graph
    if how == "page":
        r = client.get(urlsplit(iri).path.replace("/peacegraph", "", 1),
                       headers={"Accept": "application/n-triples"})
    else:
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
        r = client.get("/sparql?" + urlencode({"query": query}), headers={"Accept": "application/n-triples"})
    assert r.status_code == 200, (iri, r.status_code)
    return Graph().parse(data=r.data.decode("utf-8"), format="nt")


def _served_exactly_the_dump(client, built_dataset, shipped_shapes):
    from rdflib import Dataset
    from rdflib.compare import isomorphic
    from rdflib.namespace import XSD

    from peacegraph.namespaces import NAMED_GRAPHS, OA
    from peacegraph.validate import validate_graph
    for how in ("page", "construct"):
        served = Dataset(default_union=True)
        for name in NAMED_GRAPHS:
            g = _read_back(client, str(name), how)
            dump = built_dataset.graph(name)
            assert len(g) == len(dump) > 0, (name, how)
            assert isomorphic(g, dump), (name, how)
            target = served.graph(name)
            target.addN((s, p, o, target) for s, p, o in g)
        offsets = {o.datatype for p in (OA.start, OA.end) for o in served.objects(None, p)}
        assert offsets == {XSD.nonNegativeInteger}, how
        report = validate_graph(served, shipped_shapes)
        assert report.conforms, report.text()


def test_each_named_graph_read_back_is_the_dump_and_conforms(real, built_dataset, shipped_shapes):
    client, dist = real
    _served_exactly_the_dump(client, built_dataset, shipped_shapes)


def test_each_named_graph_read_back_from_a_store_dir_is_the_dump(built_dist, built_dataset, shipped_shapes, tmp_path):
    from peacegraph.server.app import close_app, create_app
    from peacegraph.server.config import ServerConfig
    # the store is made, then reused; then reused and moved to memory with the literals it recorded
    for memory in (False, False, True):
        app = create_app(ServerConfig(data=[built_dist / "peacegraph.trig"], store_dir=tmp_path / "store",
                                      memory=memory, workers=1, max_workers=2, timeout=20))
        try:
            backend = app.extensions["peacegraph"].backend
            backend.wait_until_loaded(60)
            assert backend.stats()["mode"] == ("memory" if memory else "disk")
            _served_exactly_the_dump(app.test_client(), built_dataset, shipped_shapes)
        finally:
            close_app(app)
