"""The real server over HTTP on 127.0.0.1, with real SPARQL clients."""
import threading
import time
from urllib.parse import urlencode

import psutil
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, POST, RDFXML, TURTLE, XML, SPARQLWrapper

from endpoint.serverkit import BASE, BOMB_Q, KUSHNER, PERSON, PERSON_Q, SLOW_Q, Listener, ask_person, http


def test_sparqlwrapper_json_xml_get_and_post(live):
    for method in ("GET", POST):
        sw = SPARQLWrapper(live.endpoint)
        sw.setMethod(method)
        sw.setQuery(PERSON_Q)
        sw.setReturnFormat(JSON)
        assert [b["s"]["value"] for b in sw.query().convert()["results"]["bindings"]] == [KUSHNER]
        sw.setReturnFormat(XML)
        doc = sw.query().convert()
        assert [n.firstChild.data for n in doc.getElementsByTagName("uri")] == [KUSHNER]
    sw = SPARQLWrapper(live.endpoint)
    sw.setQuery("ASK { ?s ?p ?o }")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["boolean"] is True


def test_sparqlwrapper_construct_as_turtle_and_rdfxml(live):
    for fmt in (TURTLE, RDFXML):
        sw = SPARQLWrapper(live.endpoint)
        sw.setQuery(f"CONSTRUCT WHERE {{ ?s a <{PERSON}> }}")
        sw.setReturnFormat(fmt)
        result = sw.query().convert()
        g = result if isinstance(result, rdflib.Graph) else rdflib.Graph().parse(data=result, format="turtle")
        assert set(g) == {(rdflib.URIRef(KUSHNER), rdflib.RDF.type, rdflib.URIRef(PERSON))}


def test_sparqlwrapper_syntax_error_shows_position(live):
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed
    sw = SPARQLWrapper(live.endpoint)
    sw.setQuery("SELECT * WHERE {\n ?s ?p }")
    sw.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed, match="line 2, column"):
        sw.query()


def test_rdflib_sparqlstore_dataset_graph_and_named_graph(live):
    ds = rdflib.Dataset(SPARQLStore(live.endpoint))          # sends default-graph-uri=urn:x-rdflib:default
    assert [r[0] for r in ds.query(PERSON_Q)] == [rdflib.URIRef(KUSHNER)]
    g = rdflib.Graph(SPARQLStore(live.endpoint))
    assert list(g.triples((None, rdflib.RDF.type, rdflib.URIRef(PERSON))))[0][0] == rdflib.URIRef(KUSHNER)
    construct = g.query(f"CONSTRUCT WHERE {{ ?s a <{PERSON}> }}").graph
    assert len(construct) == 1
    onto = rdflib.Graph(SPARQLStore(live.endpoint), identifier=rdflib.URIRef(BASE + "graph/ontology"))
    assert list(onto.query(PERSON_Q)) == []                   # default-graph-uri honoured: no union
    asserted = rdflib.Graph(SPARQLStore(live.endpoint), identifier=rdflib.URIRef(BASE + "graph/asserted"))
    assert len(list(asserted.query(PERSON_Q))) == 1
    assert (rdflib.URIRef(KUSHNER), rdflib.RDFS.label, None) in asserted


def _cpu_of(pids, seconds=1.0):
    procs = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            p.cpu_percent(None)
            procs.append(p)
        except psutil.NoSuchProcess:
            pass
    time.sleep(seconds)
    total = 0.0
    for p in procs:
        try:
            total += p.cpu_percent(None)
        except psutil.NoSuchProcess:
            pass
    return total


def test_slow_query_is_stopped_with_503_while_fast_ones_answer(live):
    before = live.status()["backend"]
    result = {}

    def slow():
        t = time.monotonic()
        result["slow"] = http(live.endpoint + "?" + urlencode({"query": SLOW_Q}),
                              headers={"Accept": "application/sparql-results+json"})
        result["slow_time"] = time.monotonic() - t

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.3)
    fast_times = []
    while th.is_alive():
        t = time.monotonic()
        assert ask_person(live) == [KUSHNER]
        fast_times.append(time.monotonic() - t)
        time.sleep(0.05)
    th.join()
    status, _, body = result["slow"]
    assert status == 503 and b"time limit of 2 s" in body
    assert 1.9 <= result["slow_time"] < 4
    assert len(fast_times) >= 5 and max(fast_times) < 1.0
    after = live.status()["backend"]
    assert after["timeouts"] == before["timeouts"] + 1
    # the CPU comes back: no process of the server keeps computing
    time.sleep(0.5)
    server = psutil.Process(live.proc.pid)
    pids = [server.pid] + [c.pid for c in server.children(recursive=True)]
    assert _cpu_of(pids) < 30.0


def test_engine_crash_costs_only_that_query(live):
    before = live.status()["backend"]
    status, _, body = http(live.endpoint, data=urlencode({"query": BOMB_Q}).encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                    "Accept": "application/sparql-results+json"})
    assert status == 400 and b"crashed" in body
    assert ask_person(live) == [KUSHNER]
    after = live.status()["backend"]
    assert after["crashes"] == before["crashes"] + 1 and after["workers"] >= 1
    assert live.proc.poll() is None




@pytest.fixture()
def listener():
    lst = Listener()
    yield lst
    lst.close()


def test_no_outbound_connection_ever(live, listener):
    here = f"http://127.0.0.1:{listener.port}/"
    queries = [
        f"SELECT * WHERE {{ SERVICE <{here}sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?x ?y ?z OPTIONAL {{ SERVICE SILENT <{here}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * FROM <{here}data.ttl> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{here}data.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"LOAD <{here}data.ttl>",
        f"DESCRIBE <{here}thing>",
    ]
    statuses = []
    for q in queries:
        statuses.append(http(live.endpoint + "?" + urlencode({"query": q}),
                             headers={"Accept": "application/sparql-results+json, text/turtle"})[0])
    statuses.append(http(live.endpoint + "?" + urlencode({"query": "ASK {}", "default-graph-uri": here}),
                         headers={"Accept": "application/sparql-results+json"})[0])
    statuses.append(http(live.endpoint + "?" + urlencode({"query": "ASK {}", "named-graph-uri": here}),
                         headers={"Accept": "application/sparql-results+json"})[0])
    time.sleep(0.5)
    # SERVICE and LOAD are refused; a graph the dataset does not hold is an empty graph, never fetched
    assert statuses == [400, 400, 200, 200, 400, 200, 200, 200]
    assert listener.connections == []
    assert ask_person(live) == [KUSHNER]
