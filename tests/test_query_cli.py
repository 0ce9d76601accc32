"""peacegraph.query: stored queries, safe execution, bindings and `peacegraph query` output."""

from __future__ import annotations

import csv
import io
import json
import re
import socket

import pytest
from rdflib import Literal, Namespace, URIRef

from peacegraph.cli import main
from peacegraph.errors import InputError, QueryError
from peacegraph.namespaces import PGID, TOPIC
from peacegraph.query import find_stored, parse_bindings, parse_term, prepare, resolve_query, run_query, stored_queries

XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

PROVISIONS = """PREFIX pg: <https://w3id.org/peacegraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?provision ?label WHERE { ?provision a pg:Provision ; rdfs:label ?label } ORDER BY ?label"""


def test_stored_queries_lists_only_numbered_files(tmp_path):
    (tmp_path / "01-first.rq").write_text(
        "# title: The first\n# description: One line.\n# description: Two lines.\n"
        "# param: ?topic — a topic\n# param: ?doc - a document\nSELECT * WHERE { ?s ?p ?o }\n")
    (tmp_path / "02-second.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n")
    (tmp_path / "_internal.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n")
    (tmp_path / "notes.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n")
    queries = stored_queries(tmp_path)
    assert [q.name for q in queries] == ["01-first", "02-second"]
    first = queries[0]
    assert first.title == "The first"
    assert first.description == "One line. Two lines."
    assert first.params == [("topic", "a topic"), ("doc", "a document")]
    assert first.path == tmp_path / "01-first.rq"
    assert queries[1].title == "02-second"
    assert find_stored("first", tmp_path).name == "01-first"
    assert find_stored("1", tmp_path).name == "01-first"
    assert find_stored("02", tmp_path).name == "02-second"
    assert find_stored("internal", tmp_path) is None


def test_shipped_stored_queries_have_headers_and_run(built_dataset):
    queries = stored_queries()
    assert len(queries) >= 13
    assert all(re.fullmatch(r"\d\d-[\w.-]+", q.name) for q in queries)
    for q in queries:
        assert q.title and q.title != q.name, q.name
        projected = {str(v) for v in prepare(q.text).algebra.get("PV", [])}
        for var, _ in q.params:
            # a parameter must be projected to be bound by substitution in Oxigraph
            assert var in projected, (q.name, var)
        result = run_query(built_dataset, q.text)
        assert len(list(result)) > 0, q.name


def test_run_query_with_bindings_narrows(pipeline_dataset):
    rows = list(run_query(pipeline_dataset, PROVISIONS))
    assert len(rows) == 5
    narrowed = list(run_query(pipeline_dataset, PROVISIONS, {"provision": PGID["us-plan-amnesty"]}))
    assert [(r[0], str(r[1])) for r in narrowed] == [(PGID["us-plan-amnesty"], "amnesty clause")]


def test_default_graph_is_the_union_and_prefixes_are_known(pipeline_dataset):
    rows = list(run_query(pipeline_dataset, "SELECT ?t WHERE { pgid:us-plan pg:hasProvision ?t } ORDER BY ?t"))
    assert PGID["us-plan-amnesty"] in [r[0] for r in rows]  # from the inferred graph


@pytest.mark.parametrize("text,message", [
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "SERVICE"),
    ("SELECT * WHERE { OPTIONAL { SERVICE <http://169.254.169.254/> { ?s ?p ?o } } }", "SERVICE"),
    ("INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }", "read-only"),
    ("LOAD <http://127.0.0.1:9/x>", "read-only"),
    ("SELECT * WHERE { ?s ?p ?o } ; INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }", "read-only"),
    ("", "empty query"),
])
def test_refused_queries_touch_nothing(pipeline_dataset, monkeypatch, text, message):
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, addr: connections.append(addr))
    before = len(pipeline_dataset)
    with pytest.raises(QueryError, match=message):
        run_query(pipeline_dataset, text)
    assert connections == []
    assert len(pipeline_dataset) == before


@pytest.mark.parametrize("text", [
    "SELECT * FROM <http://127.0.0.1:9/data.ttl> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT * FROM <https://w3id.org/peacegraph/graph/nothing> WHERE { ?s ?p ?o }",
    "SELECT * FROM <https://w3id.org/peacegraph/graph/nothing> FROM NAMED <http://127.0.0.1:9/g> "
    "WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
])
def test_a_graph_the_data_does_not_hold_is_empty_and_never_fetched(pipeline_dataset, monkeypatch, text):
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, addr: connections.append(addr))
    assert list(run_query(pipeline_dataset, text)) == []
    assert connections == []


def test_from_a_graph_of_the_data_reads_that_graph_only(pipeline_dataset):
    # the endpoint's rule: FROM / FROM NAMED may name the graphs of the dataset queried
    ontology = "https://w3id.org/peacegraph/graph/ontology"
    def count(query: str) -> int:
        return int(list(run_query(pipeline_dataset, query))[0][0])

    in_graph = count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ontology}> {{ ?s ?p ?o }} }}")
    assert count(f"SELECT (COUNT(*) AS ?n) FROM <{ontology}> WHERE {{ ?s ?p ?o }}") == in_graph
    assert 0 < in_graph < count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    rows = list(run_query(pipeline_dataset, f"SELECT DISTINCT ?g FROM NAMED <{ontology}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"))
    assert [r[0] for r in rows] == [URIRef(ontology)]


def test_syntax_error_has_line_and_column():
    with pytest.raises(QueryError, match=r"line 2, column \d+"):
        prepare("SELECT ?s\nWHERE { ?s ?p }")


def test_deep_nesting_is_a_clean_error_and_a_long_sum_a_result(pipeline_dataset):
    text = "SELECT * WHERE " + "{ " * 60 + "?s ?p ?o" + " }" * 60
    with pytest.raises(QueryError, match="^query nested too deeply$"):
        run_query(pipeline_dataset, text)
    # a thousand terms in one flat sum nest nothing: it is evaluated
    text = "SELECT (" + "+".join(["1"] * 1000) + " AS ?x) WHERE {}"
    assert list(run_query(pipeline_dataset, text)) == [(Literal(1000, datatype=XSD.integer),)]


@pytest.mark.parametrize("text,term", [
    ("<http://example.org/a>", URIRef("http://example.org/a")),
    ("topic:territory", TOPIC["territory"]),
    ("pgid:us-plan", PGID["us-plan"]),
    ("https://example.org/x", URIRef("https://example.org/x")),
    ('"Kyiv"@en', Literal("Kyiv", lang="en")),
    ('"5"^^xsd:integer', Literal("5", datatype=XSD.integer)),
    ("42", Literal(42)),
    ("true", Literal(True)),
    ("plain words", Literal("plain words")),
])
def test_parse_term(text, term):
    assert parse_term(text) == term


def test_bad_bindings_are_input_errors():
    with pytest.raises(InputError, match="VAR=TERM"):
        parse_bindings(["novalue"])
    with pytest.raises(InputError, match="invalid IRI"):
        parse_bindings(["x=<http://e/a b>"])
    assert parse_bindings(["?topic=topic:energy"]) == {"topic": TOPIC["energy"]}


def test_resolve_query(tmp_path):
    f = tmp_path / "mine.rq"
    f.write_text("# title: Mine\nASK {}\n")
    text, stored = resolve_query(str(f))
    assert stored.title == "Mine" and "ASK" in text
    with pytest.raises(InputError, match="no stored query named 'nonexistent-query'"):
        resolve_query("nonexistent-query")
    with pytest.raises(InputError, match="no such query file"):
        resolve_query(str(tmp_path / "missing.rq"))
    assert resolve_query("ASK { ?s ?p ?o }") == ("ASK { ?s ?p ?o }", None)


def test_cli_table_is_aligned_with_prefixed_names(pipeline_trig, capsys):
    assert main(["query", PROVISIONS, "--data", str(pipeline_trig)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["provision", "label"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].startswith("pgid:us-plan-amnesty")
    col = lines[0].index("label")
    assert all(line[col - 2:col] == "  " for line in lines[2:-1])
    assert lines[2][col:] == "amnesty clause"
    assert lines[-1] == "(5 rows)"


def test_cli_formats(pipeline_trig, capsys):
    assert main(["query", PROVISIONS, "--data", str(pipeline_trig), "--format", "csv",
                 "--bind", "provision=pgid:us-plan-amnesty"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [["provision", "label"], [str(PGID["us-plan-amnesty"]), "amnesty clause"]]
    assert main(["query", PROVISIONS, "--data", str(pipeline_trig), "--format", "tsv",
                 "--bind", "provision=pgid:us-plan-amnesty"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "?provision\t?label", f"<{PGID['us-plan-amnesty']}>\t\"amnesty clause\"@en"]
    assert main(["query", PROVISIONS, "--data", str(pipeline_trig), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["head"]["vars"] == ["provision", "label"]
    assert len(doc["results"]["bindings"]) == 5
    assert main(["query", "ASK { pgid:us-plan pg:draftedBy pgid:jared-kushner }",
                 "--data", str(pipeline_trig)]) == 0
    assert capsys.readouterr().out.strip() == "true"


def test_cli_runs_a_stored_query_by_name(built_dist, capsys):
    name = stored_queries()[0].name
    assert main(["query", name, "--data", str(built_dist / "peacegraph.trig")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\(\d+ rows?\)$", out.strip())


def test_cli_binds_a_stored_query_defaults_unless_told_otherwise(built_dist, capsys):
    data = ["--data", str(built_dist / "peacegraph.trig")]
    assert main(["query", "01-drafters", *data]) == 0
    documents = {line.split()[0] for line in capsys.readouterr().out.splitlines()[2:-1]}
    assert documents == {"pgid:us-28-point-plan"}
    assert main(["query", "01-drafters", "--all", *data]) == 0
    everything = {line.split()[0] for line in capsys.readouterr().out.splitlines()[2:-1]}
    assert everything > documents
    assert main(["query", "01-drafters", "--bind", "document=pgid:us-19-point-plan", *data]) == 0
    out = capsys.readouterr().out
    assert "pgid:us-28-point-plan " not in out


def test_a_default_must_belong_to_a_declared_parameter(tmp_path):
    (tmp_path / "01-x.rq").write_text("# title: X\n# param: ?a — a\n# default: ?b pgid:y\nASK {}\n")
    with pytest.raises(InputError, match=r"\?b, which is not a # param"):
        stored_queries(tmp_path)
    (tmp_path / "01-x.rq").write_text("# title: X\n# param: ?a — a\n# choices: ?a\nASK {}\n")
    with pytest.raises(InputError, match="expected \\?variable TERM"):
        stored_queries(tmp_path)


def test_cli_errors_exit_2(pipeline_trig, capsys):
    assert main(["query", "SELECT * WHERE { ?s ?p }", "--data", str(pipeline_trig)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("peacegraph query: error: SPARQL syntax error at line 1")
    assert len(err.strip().splitlines()) == 1
    assert main(["query", PROVISIONS, "--data", str(pipeline_trig), "--bind", "oops"]) == 2
    assert main(["query", PROVISIONS, "--data", str(pipeline_trig.parent / "missing.trig")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_cli_builds_the_default_data_when_missing(tmp_path, monkeypatch, capsys):
    from peacegraph import paths
    monkeypatch.setattr(paths, "default_dist", lambda: tmp_path / "dist")
    assert main(["query", "ASK { ?s a pg:Provision }"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "true"
    assert "building it first" in captured.err
    assert (tmp_path / "dist" / "peacegraph.trig").is_file()
