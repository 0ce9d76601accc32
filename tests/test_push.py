"""peacegraph push: the Graph Store HTTP Protocol against a real `oxigraph serve` on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyoxigraph as ox
import pytest

from peacegraph.cli import main
from peacegraph.namespaces import NAMED_GRAPHS
from peacegraph.oxigraph_server import OxigraphServer, free_port, oxigraph_load
from peacegraph.push import graph_url, push

G_ONTOLOGY, G_ASSERTED, G_INFERRED, G_SOURCES = (str(g) for g in NAMED_GRAPHS)

TRIG = """
@prefix pg: <https://w3id.org/peacegraph/ontology#> .
@prefix pgid: <https://w3id.org/peacegraph/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<%(o)s> { pg:Person a <http://www.w3.org/2002/07/owl#Class> ; rdfs:label "person"@en . }
<%(a)s> {
  pgid:anna a pg:Person ; rdfs:label "Anna \\"the envoy\\" Kov\u00e1\u010d" ; pg:role "line one\\nline two" .
  pgid:plan pg:pointCount "28"^^xsd:integer ; rdfs:label "28\u2011point plan"@en .
}
<%(i)s> { pgid:anna a <http://www.w3.org/ns/prov#Agent> . }
<%(s)s> { <https://w3id.org/peacegraph/source/t> pg:text "Skip to content\\n\\n\u201cquoted\u201d" . }
""" % {"o": G_ONTOLOGY, "a": G_ASSERTED, "i": G_INFERRED, "s": G_SOURCES}


def _graphs(path) -> dict[str, set]:
    out: dict[str, set] = {}
    for q in ox.parse(path=str(path)):
        name = "" if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        out.setdefault(name, set()).add(q.triple)
    return out


def _store_graphs(server: OxigraphServer) -> dict[str, set]:
    """Every named graph of the store, fetched back through the Graph Store Protocol."""
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    req = urllib.request.Request(server.query_url + "?" + urllib.parse.urlencode({"query": query}),
                                 headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        names = [b["g"]["value"] for b in json.load(r)["results"]["bindings"]]
    out = {}
    for name in names:
        req = urllib.request.Request(graph_url(server.store_url, name), headers={"Accept": "application/n-triples"})
        with urllib.request.urlopen(req, timeout=30) as r:
            out[name] = {q.triple for q in ox.parse(r.read(), format=ox.RdfFormat.N_TRIPLES)}
    return out


@pytest.fixture
def dump(tmp_path):
    path = tmp_path / "peacegraph.trig"
    path.write_text(TRIG, encoding="utf-8")
    return path


@pytest.fixture
def oxigraph(tmp_path):
    with OxigraphServer(tmp_path / "store") as server:
        yield server


def test_pushed_graphs_are_identical_in_the_store(dump, oxigraph, capsys):
    assert main(["push", oxigraph.store_url, "--data", str(dump)]) == 0
    assert _store_graphs(oxigraph) == _graphs(dump)
    out = capsys.readouterr().out
    assert f"<{G_ASSERTED}>: 5 triples" in out


def test_pushing_twice_replaces_each_graph_whole(dump, oxigraph, tmp_path):
    push(oxigraph.store_url, dump)
    push(oxigraph.store_url, dump)
    assert _store_graphs(oxigraph) == _graphs(dump)
    smaller = tmp_path / "smaller.trig"
    smaller.write_text(TRIG.replace('pgid:plan pg:pointCount "28"^^xsd:integer ; ', "pgid:plan "), encoding="utf-8")
    pushed = push(oxigraph.store_url, smaller)
    assert {p.graph: p.triples for p in pushed}[G_ASSERTED] == 4
    assert _store_graphs(oxigraph) == _graphs(smaller)


def test_a_built_corpus_round_trips(tmp_path, oxigraph):
    """A larger dump (a synthetic corpus, anchored) keeps its exact triple counts per graph."""
    from peacegraph.build import BuildConfig, assemble
    from peacegraph.export import export
    from peacegraph.synth import synthesize

    synthesize(tmp_path / "corpus", 4000, seed=5)
    config = BuildConfig.defaults(seeds=tmp_path / "corpus" / "seeds", graph=tmp_path / "corpus" / "graph")
    export(assemble(config, reason=False).dataset, tmp_path / "dist")
    trig = tmp_path / "dist" / "peacegraph.nq"
    pushed = push(oxigraph.store_url, trig)
    expected = {name: len(triples) for name, triples in _graphs(trig).items()}
    assert {p.graph: p.triples for p in pushed} == expected
    # the dump's own description (version, license) goes to the store's default graph
    assert expected.pop("") == 5
    assert {name: len(t) for name, t in _store_graphs(oxigraph).items()} == expected
    assert expected[G_ASSERTED] > 2000


def test_dead_port_fails_cleanly(dump, capsys):
    url = f"http://127.0.0.1:{free_port()}/store"
    assert main(["push", url, "--data", str(dump)]) == 2
    err = capsys.readouterr().err
    assert "cannot connect" in err and "written: none" in err and f"not written: <{G_ONTOLOGY}>" in err
    assert len(err.strip().splitlines()) == 1


def test_read_only_store_refuses_with_the_status(dump, tmp_path, capsys):
    oxigraph_load(tmp_path / "ro", [dump])
    with OxigraphServer(tmp_path / "ro", read_only=True) as server:
        assert main(["push", server.store_url, "--data", str(dump)]) == 2
    err = capsys.readouterr().err
    # Oxigraph's read-only server answers a Graph Store Protocol PUT with 403 and says why
    assert "failed on <https://w3id.org/peacegraph/graph/ontology>: HTTP 403 Forbidden: The server is read-only;" in err
    assert "written: none" in err


class _Recorder(BaseHTTPRequestHandler):
    """A store that accepts `accept` PUTs and answers 500 after that; records what it saw."""

    def do_PUT(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append((self.path, self.headers.get("Authorization"),
                                 self.headers.get("Content-Type"), body))
        if len(self.server.seen) > self.server.accept:
            self.send_response(500, "Internal Server Error")
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"disk full\n")
        else:
            self.send_response(204)
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen, server.accept = [], 2
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_failure_part_way_says_what_was_and_was_not_written(dump, recorder, capsys):
    url = f"http://127.0.0.1:{recorder.server_port}/store"
    assert main(["push", url, "--data", str(dump), "--user", "ann", "--password", "s3cret"]) == 2
    err = capsys.readouterr().err
    assert "HTTP 500" in err and "disk full" in err
    assert f"written: <{G_ONTOLOGY}>, <{G_ASSERTED}>" in err
    assert f"not written: <{G_INFERRED}>, <{G_SOURCES}>" in err
    path, auth, ctype, body = recorder.seen[0]
    assert path == "/store?" + urllib.parse.urlencode({"graph": G_ONTOLOGY})
    assert auth == "Basic YW5uOnMzY3JldA=="
    assert ctype == "application/n-triples"
    assert len(list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))) == 2


def test_bad_input_is_refused_before_anything_is_sent(tmp_path, recorder, capsys):
    url = f"http://127.0.0.1:{recorder.server_port}/store"
    bad = tmp_path / "bad.trig"
    bad.write_text(TRIG + "\n<x> <y> .\n", encoding="utf-8")
    assert main(["push", url, "--data", str(bad)]) == 2
    assert main(["push", url, "--data", str(tmp_path / "missing.trig")]) == 2
    assert main(["push", "ftp://example.org/store", "--data", str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and "bad.trig" in err[0] and "missing.trig" in err[1] and "http" in err[2]
    assert recorder.seen == []
