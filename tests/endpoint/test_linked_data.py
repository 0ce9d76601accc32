"""Linked-data pages through the Flask test client."""
import hashlib
import re

import pyoxigraph as ox
import pytest

from endpoint.serverkit import BASE, SMALL

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def source_text() -> str:
    """The text of the small fixture's one source, read straight from the fixture file."""
    store = ox.Store()
    store.load(path=str(SMALL), format=ox.RdfFormat.TRIG)
    return next(iter(store.quads_for_pattern(None, ox.NamedNode(BASE[:-1] + "/ontology#text"), None))).object.value


def test_entity_html_shows_facts_neighbours_and_highlighted_evidence(client, source_text):
    r = client.get("/id/us-28-point-plan", headers={"Accept": BROWSER})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "Accept" in r.headers["Vary"]
    page = r.data.decode()
    assert "<h1>US 28-point plan</h1>" in page
    assert 'href="/id/jared-kushner"' in page                       # neighbour via a fact
    assert 'href="/id/provision-army-cap"' in page                 # neighbour linking here
    text = source_text
    s = text.index("Jared Kushner and Steve Witkoff drafted the 28-point plan")
    e = s + len("Jared Kushner and Steve Witkoff drafted the 28-point plan")
    # the attestation's quote, highlighted, linking to the span
    assert '<mark class="quote">Jared Kushner and Steve Witkoff drafted the 28-point plan</mark>' in page
    assert f'href="/source/test_source#char={s},{e}"' in page
    assert 'id="g-drafters"' in page                                # in its group, by meaning


def test_entity_rdf_formats(client):
    for accept, fmt in [("text/turtle", ox.RdfFormat.TURTLE), ("application/ld+json", ox.RdfFormat.JSON_LD),
                        ("application/n-triples", ox.RdfFormat.N_TRIPLES), ("application/rdf+xml", ox.RdfFormat.RDF_XML)]:
        r = client.get("/id/jared-kushner", headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(accept)
        assert r.headers["Vary"] == "Accept"
        triples = list(ox.parse(r.data, format=fmt))
        subjects = {t.subject.value for t in triples}
        assert BASE + "id/jared-kushner" in subjects
        assert any(t.object == ox.NamedNode(BASE + "id/jared-kushner") for t in triples)  # incoming too
    assert client.get("/id/jared-kushner").headers["Content-Type"].startswith("text/turtle")
    assert client.get("/id/jared-kushner?format=jsonld").headers["Content-Type"].startswith("application/ld+json")
    assert client.get("/id/jared-kushner", headers={"Accept": "image/png"}).status_code == 406


@pytest.mark.parametrize("path", [
    "/id/nobody", "/id/%3E", "/id/a%20b", "/id/%22quoted%22", "/id/a%00b", "/id/..%2F..%2Fetc%2Fpasswd",
    "/id/../../etc/passwd", "/id/%C3%A9l%C3%A9ment", "/id/%FF%FE", "/id/a%3Cscript%3E", "/id/" + "a" * 5000,
    "/source/..%2Fseeds%2F000", "/source/nope", "/source/%00", "/graph/nope", "/graph/..%2Fasserted",
    "/download/..%2Fpyproject.toml", "/download/nothing.ttl",
])
def test_unknown_and_malformed_paths_are_404(client, path):
    for accept in (BROWSER, "text/turtle"):
        r = client.get(path, headers={"Accept": accept})
        assert r.status_code == 404, (path, r.status_code)


def test_source_plain_text_is_verbatim(client, source_text):
    r = client.get("/source/test_source", headers={"Accept": "text/plain"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.data.decode("utf-8") == source_text
    assert hashlib.sha256(r.data).hexdigest() in client.get("/source/test_source", headers={"Accept": BROWSER}).data.decode()


def test_source_html_marks_every_span_with_an_anchor(client, source_text):
    page = client.get("/source/test_source", headers={"Accept": BROWSER}).data.decode()
    text = source_text
    anchors = re.findall(r'id="char=(\d+),(\d+)"', page)
    assert len(anchors) == 5
    for s, e in anchors:
        assert 0 <= int(s) < int(e) <= len(text)
    s = text.index("Kyiv rejects amnesty for war crimes")
    assert f'id="char={s},{s + 35}"' in page
    assert "<mark" in page and "Kyiv rejects amnesty for war crimes" in page
    rdf = client.get("/source/test_source", headers={"Accept": "text/turtle"})
    assert any(t.predicate.value.endswith("#sha256") for t in ox.parse(rdf.data, format=ox.RdfFormat.TURTLE))


def test_ontology_documents_terms_with_anchors(client):
    page = client.get("/ontology", headers={"Accept": BROWSER}).data.decode()
    for term in ("Person", "PeacePlan", "draftedBy", "Rejects"):
        assert f'id="{term}"' in page
    assert "Who drafted a document." in page and "<h2>Classes</h2>" in page and "<h2>Properties</h2>" in page
    ttl = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert len(list(ox.parse(ttl.data, format=ox.RdfFormat.TURTLE))) > 20


def test_named_graph_pages(client):
    r = client.get("/graph/inferred", headers={"Accept": "application/n-triples"})
    assert len(list(ox.parse(r.data, format=ox.RdfFormat.N_TRIPLES))) == 2
    assert b"2 triples" in client.get("/graph/inferred", headers={"Accept": BROWSER}).data


def test_void(client):
    r = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    triples = list(ox.parse(r.data, format=ox.RdfFormat.TURTLE))
    void = "http://rdfs.org/ns/void#"
    assert any(t.predicate.value == void + "sparqlEndpoint" and t.object.value == "http://127.0.0.1:5000/sparql" for t in triples)
    total = [t.object.value for t in triples if t.predicate.value == void + "triples"
             and t.subject.value == "https://w3id.org/peacegraph/dataset"]
    assert total == ["148"]
    assert [t.object.value for t in triples if t.predicate.value == void + "uriSpace"] == [
        "https://w3id.org/peacegraph/id/"]


def test_download_lists_and_serves_dumps(tmp_path, small_config, small_backend):
    import dataclasses

    from peacegraph.server.app import create_app
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "peacegraph.trig").write_bytes(SMALL.read_bytes())
    digest = hashlib.sha256(SMALL.read_bytes()).hexdigest()
    (dist / "SHA256SUMS").write_text(f"{digest}  peacegraph.trig\n")
    (dist / ".hidden").write_text("no")
    app = create_app(dataclasses.replace(small_config, dist_dir=dist), backend=small_backend)
    c = app.test_client()
    page = c.get("/download/", headers={"Accept": BROWSER}).data.decode()
    assert digest in page and str(SMALL.stat().st_size) in page and ".hidden" not in page
    r = c.get("/download/peacegraph.trig")
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == digest
    r.close()
    assert c.get("/download/.hidden").status_code == 404
    void = c.get("/.well-known/void", headers={"Accept": "text/turtle"}).data
    assert b"download/peacegraph.trig" in void


def test_non_http_iris_are_never_links(tmp_path, small_config):
    import dataclasses

    from peacegraph.server.app import close_app, create_app
    data = tmp_path / "x.ttl"
    data.write_text("<https://w3id.org/peacegraph/id/x> <http://www.w3.org/2000/01/rdf-schema#seeAlso> "
                    "<javascript:alert(1)> , <https://example.org/ok> .\n")
    app = create_app(dataclasses.replace(small_config, data=[data]))
    try:
        page = app.test_client().get("/id/x", headers={"Accept": BROWSER}).data.decode()
        assert 'href="javascript:' not in page and "javascript:alert(1)" in page
        assert 'href="https://example.org/ok"' in page
    finally:
        close_app(app)
