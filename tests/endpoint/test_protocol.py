"""SPARQL 1.1 Protocol behaviour through the Flask test client."""
import csv
import io
import json
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest

from endpoint.serverkit import BASE, GRAPHS

PERSON_Q = "SELECT ?s WHERE { ?s a <https://w3id.org/peacegraph/ontology#Person> }"
KUSHNER = BASE + "id/jared-kushner"
SRX = "{http://www.w3.org/2005/sparql-results#}"


def get(client, query, accept="application/sparql-results+json", **params):
    return client.get("/sparql?" + urlencode({"query": query, **params}, doseq=True), headers={"Accept": accept})


def uris(resp):
    return sorted(b["s"]["value"] for b in json.loads(resp.data)["results"]["bindings"])


def test_get_post_form_and_post_query_agree(client):
    a = get(client, PERSON_Q)
    b = client.post("/sparql", data={"query": PERSON_Q}, headers={"Accept": "application/sparql-results+json"})
    c = client.post("/sparql", data=PERSON_Q.encode(), content_type="application/sparql-query",
                    headers={"Accept": "application/sparql-results+json"})
    assert a.status_code == b.status_code == c.status_code == 200
    assert uris(a) == uris(b) == uris(c) == [KUSHNER]
    assert a.headers["Content-Type"].startswith("application/sparql-results+json")


def test_post_query_body_is_utf8_and_another_charset_is_415(client):
    q = 'SELECT ?s WHERE { ?s ?p ?o FILTER(?o = "Ukraine\u2019s") }'.replace("\u2019", "\u00e9")
    q2 = 'ASK { FILTER("caf\u00e9" = "caf\u00e9") }'
    r = client.post("/sparql", data=q2.encode("utf-8"), content_type="application/sparql-query; charset=UTF-8",
                    headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and json.loads(r.data)["boolean"] is True
    for charset, codec in (("ISO-8859-1", "latin-1"), ("UTF-16", "utf-16")):
        for ctype in ("application/sparql-query", "application/x-www-form-urlencoded"):
            body = q2 if ctype.endswith("query") else "query=" + q2
            refused = client.post("/sparql", data=body.encode(codec), content_type=f"{ctype}; charset={charset}")
            assert refused.status_code == 415 and b"UTF-8" in refused.data
    bad = client.post("/sparql", data=q.encode("latin-1"), content_type="application/sparql-query")
    assert bad.status_code == 400 and b"UTF-8" in bad.data


def test_default_graph_uri_is_honoured(client):
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/peacegraph/ontology#Person> }"
    union = json.loads(get(client, q).data)["results"]["bindings"][0]["n"]["value"]
    only_onto = get(client, q, **{"default-graph-uri": BASE + "graph/ontology"})
    assert union == "1" and json.loads(only_onto.data)["results"]["bindings"][0]["n"]["value"] == "0"
    both = get(client, q, **{"default-graph-uri": [BASE + "graph/ontology", BASE + "graph/asserted"]})
    assert json.loads(both.data)["results"]["bindings"][0]["n"]["value"] == "1"
    unknown = get(client, q, **{"default-graph-uri": "http://127.0.0.1/x"})
    assert json.loads(unknown.data)["results"]["bindings"][0]["n"]["value"] == "0"  # an empty graph


def test_named_graph_uri_restricts_graph(client):
    q = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    r = get(client, q, **{"named-graph-uri": BASE + "graph/inferred"})
    gs = [b["g"]["value"] for b in json.loads(r.data)["results"]["bindings"]]
    assert gs == [BASE + "graph/inferred"]
    allg = get(client, q)
    assert sorted(b["g"]["value"] for b in json.loads(allg.data)["results"]["bindings"]) == GRAPHS


def test_from_clause_of_a_served_graph(client):
    q = f"SELECT (COUNT(*) AS ?n) FROM <{BASE}graph/inferred> WHERE {{ ?s ?p ?o }}"
    assert json.loads(get(client, q).data)["results"]["bindings"][0]["n"]["value"] == "2"


@pytest.mark.parametrize("make", [
    lambda c: c.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D"),
    lambda c: c.post("/sparql", data={"query": ["ASK {}", "ASK {}"]}),
])
def test_two_query_parameters_is_400(client, make):
    r = make(client)
    assert r.status_code == 400 and b"more than one" in r.data


def test_wrong_content_type_is_415(client):
    r = client.post("/sparql", data=b"ASK {}", content_type="text/plain")
    assert r.status_code == 415
    r = client.post("/sparql", data=b"ASK {}")
    assert r.status_code == 415


@pytest.mark.parametrize("make", [
    lambda c: c.post("/sparql", data={"update": "INSERT DATA { <http://a> <http://b> <http://c> }"}),
    lambda c: c.post("/sparql", data=b"INSERT DATA { <http://a> <http://b> <http://c> }", content_type="application/sparql-update"),
    lambda c: c.get("/sparql?" + urlencode({"query": "INSERT DATA { <http://a> <http://b> <http://c> }"})),
    lambda c: c.get("/sparql?" + urlencode({"update": "CLEAR ALL"})),
])
def test_updates_are_400_and_change_nothing(client, make):
    r = make(client)
    assert r.status_code == 400 and b"read-only" in r.data
    check = get(client, "ASK { <http://a> <http://b> <http://c> }")
    assert json.loads(check.data)["boolean"] is False


def test_syntax_error_has_line_and_column(client):
    r = get(client, "SELECT * WHERE {\n  ?s ?p }")
    assert r.status_code == 400 and r.headers["Content-Type"].startswith("text/plain")
    assert b"syntax error" in r.data and b"line 2, column 10" in r.data


@pytest.mark.parametrize("accept, expected", [
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("application/sparql-results+json;q=0.1, text/*;q=0.8", "text/csv"),
    ("application/xml", "application/sparql-results+xml"),
])
def test_accept_negotiation_for_select(client, accept, expected):
    r = get(client, PERSON_Q, accept=accept)
    assert r.status_code == 200 and r.headers["Content-Type"].split(";")[0] == expected
    assert "Accept" in r.headers["Vary"]


def test_select_formats_carry_the_same_answer(client):
    xml = ET.fromstring(get(client, PERSON_Q, accept="application/sparql-results+xml").data)
    assert [u.text for u in xml.iter(SRX + "uri")] == [KUSHNER]
    rows = list(csv.reader(io.StringIO(get(client, PERSON_Q, accept="text/csv").data.decode())))
    assert rows == [["s"], [KUSHNER]]
    tsv = get(client, PERSON_Q, accept="text/tab-separated-values").data.decode().splitlines()
    assert tsv == ["?s", f"<{KUSHNER}>"]
    parsed = list(ox.parse_query_results(get(client, PERSON_Q, accept="application/sparql-results+xml").data,
                                         format=ox.QueryResultsFormat.XML))
    assert parsed[0]["s"] == ox.NamedNode(KUSHNER)


def test_ask_formats(client):
    assert json.loads(get(client, "ASK { ?s ?p ?o }").data) == {"head": {}, "boolean": True}
    xml = ET.fromstring(get(client, "ASK { <http://nothing> ?p ?o }", accept="application/sparql-results+xml").data)
    assert xml.find(SRX + "boolean").text == "false"


@pytest.mark.parametrize("accept, fmt", [
    ("text/turtle", ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/n-quads", ox.RdfFormat.N_QUADS), ("application/trig", ox.RdfFormat.TRIG),
    ("application/ld+json", ox.RdfFormat.JSON_LD), ("application/rdf+xml", ox.RdfFormat.RDF_XML),
])
def test_construct_and_describe_formats(client, accept, fmt):
    q = f"CONSTRUCT {{ <{KUSHNER}> ?p ?o }} WHERE {{ GRAPH <{BASE}graph/asserted> {{ <{KUSHNER}> ?p ?o }} }}"
    r = get(client, q, accept=accept)
    assert r.status_code == 200 and r.headers["Content-Type"].split(";")[0] == accept
    triples = list(ox.parse(r.data, format=fmt))
    assert len(triples) == 3
    d = get(client, f"DESCRIBE <{KUSHNER}>", accept=accept)
    assert d.status_code == 200 and len(list(ox.parse(d.data, format=fmt))) >= 3


def test_format_parameter_overrides_accept(client):
    r = get(client, PERSON_Q, accept="application/sparql-results+json", format="csv")
    assert r.headers["Content-Type"].startswith("text/csv")
    r = get(client, "CONSTRUCT WHERE { ?s a ?o } LIMIT 1", accept="text/turtle", format="application/n-triples")
    assert r.headers["Content-Type"].startswith("application/n-triples")
    assert get(client, PERSON_Q, format="png").status_code == 400


def test_unacceptable_accept_is_406_and_garbage_gets_default(client):
    assert get(client, PERSON_Q, accept="image/png").status_code == 406
    r = get(client, PERSON_Q, accept="!!garbage;;q=x,,")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/sparql-results+json")


def test_unknown_parameters_are_ignored(client):
    r = get(client, PERSON_Q, output="json", results="xml", callback="x")
    assert r.status_code == 200 and uris(r) == [KUSHNER]


def test_head_and_cors(client):
    r = client.head("/sparql?" + urlencode({"query": PERSON_Q}), headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.data == b"" and r.headers["Access-Control-Allow-Origin"] == "*"
    pre = client.options("/sparql", headers={"Origin": "http://example.org", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in pre.headers["Access-Control-Allow-Headers"]


def test_put_and_delete_are_405(client):
    assert client.put("/sparql", data=b"x").status_code == 405
    assert client.delete("/sparql").status_code == 405


def test_service_description_for_rdf_clients_and_page_for_browsers(client):
    r = client.get("/sparql", headers={"Accept": "text/turtle"})
    triples = list(ox.parse(r.data, format=ox.RdfFormat.TURTLE))
    sd = "http://www.w3.org/ns/sparql-service-description#"
    endpoints = [t.object.value for t in triples if t.predicate.value == sd + "endpoint"]
    assert endpoints == ["http://127.0.0.1:5000/sparql"]  # the configured address, not the Host header
    names = sorted(t.object.value for t in triples if t.predicate.value == sd + "name")
    assert names == GRAPHS
    assert any(t.predicate.value == sd + "resultFormat" for t in triples)
    x = client.get("/sparql", headers={"Accept": "application/rdf+xml"})
    assert x.headers["Content-Type"].startswith("application/rdf+xml")
    page = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and b"<textarea" in page.data


def test_public_url_sets_sd_endpoint(small_config, small_backend):
    import dataclasses

    from peacegraph.server.app import create_app
    app = create_app(dataclasses.replace(small_config, public_url="https://example.org/pg/"),
                     backend=small_backend)
    r = app.test_client().get("/sparql", headers={"Accept": "application/n-triples"})
    assert b"<https://example.org/pg/sparql> <http://www.w3.org/ns/sparql-service-description#endpoint>" in r.data


def test_row_limit_truncates_and_marks(small_config, small_backend):
    import dataclasses

    from peacegraph.server.app import create_app
    cfg = dataclasses.replace(small_config, max_rows=5)
    c = create_app(cfg, backend=small_backend).test_client()
    r = get(c, "SELECT * WHERE { ?s ?p ?o } LIMIT 999999999999")
    doc = json.loads(r.data)
    assert len(doc["results"]["bindings"]) == 5 and doc["peacegraph"]["truncated"] is True
    assert r.headers["Peacegraph-Truncated"].startswith("true")
    x = get(c, "SELECT * WHERE { ?s ?p ?o }", accept="application/sparql-results+xml")
    assert b"truncatedResult" in x.data and len(ET.fromstring(x.data).findall(f"{SRX}results/{SRX}result")) == 5
    small = get(c, "SELECT * WHERE { ?s ?p ?o } LIMIT 3")
    assert "Peacegraph-Truncated" not in small.headers and "peacegraph" not in json.loads(small.data)


def test_query_length_and_body_limits(small_config, small_backend):
    import dataclasses

    from peacegraph.server.app import create_app
    cfg = dataclasses.replace(small_config, max_query_length=200, max_body=1000)
    c = create_app(cfg, backend=small_backend).test_client()
    long_q = "SELECT * WHERE { ?s ?p ?o }" + " " * 300
    assert get(c, long_q).status_code == 400
    r = c.post("/sparql", data=b"ASK {}" + b" " * 2000, content_type="application/sparql-query")
    assert r.status_code == 413
    assert c.post("/sparql", data={"query": "ASK {}" + " " * 2000}).status_code == 413


def test_browser_following_a_query_link_gets_the_page_running_it(client):
    r = client.get("/sparql?" + urlencode({"query": PERSON_Q}),
                   headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    page = r.data.decode()
    assert '"autorun": true' in page and "?s a &lt;https://w3id.org/peacegraph/ontology#Person&gt;" in page


def test_status_reports_workers_without_paths(client):
    doc = client.get("/status").get_json()
    assert doc["backend"]["workers"] >= 1 and "store" not in doc["backend"] and "pids" not in doc["backend"]
    assert doc["limits"]["timeout"] == 3


def test_format_parameter_in_a_post_form(client):
    r = client.post("/sparql", data={"query": PERSON_Q, "format": "tsv"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/tab-separated-values")
    assert r.data.decode().splitlines() == ["?s", f"<{KUSHNER}>"]


def test_errors_carry_the_status_the_server_answers_with():
    from peacegraph.errors import PeacegraphError, QueryError, StoreError
    from peacegraph.server.backend import QueryCrashed, QuerySyntaxError, QueryTimeout, ServerBusy
    from peacegraph.server.protocol import ProtocolError

    statuses = {QueryError: 400, QuerySyntaxError: 400, QueryCrashed: 400, QueryTimeout: 503,
                ServerBusy: 503, StoreError: 502}
    assert {cls: cls("x").http_status for cls in statuses} == statuses
    refused = ProtocolError(415, "unsupported Content-Type")
    assert isinstance(refused, PeacegraphError) and refused.http_status == 415
    assert str(refused) == "unsupported Content-Type"


def test_a_failing_page_query_answers_with_its_errors_status(small_config):
    from peacegraph.server.app import create_app
    from peacegraph.server.backend import QueryTimeout

    class Stalled:
        def graph_names(self):
            return GRAPHS

        def query(self, _request):
            raise QueryTimeout("query stopped: it ran longer than the time limit")

    c = create_app(small_config, backend=Stalled()).test_client()
    r = c.get("/id/jared-kushner", headers={"Accept": "application/json"})
    assert r.status_code == 503 and r.get_json()["error"].startswith("query stopped")
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert get(c, PERSON_Q).status_code == 503
