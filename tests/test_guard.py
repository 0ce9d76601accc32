import pytest

from peacegraph.guard import EMPTY_GRAPH, RefusedQuery, check_query, local_dataset
from peacegraph.sparql_lexer import LexError, tokenize

G = ["https://w3id.org/peacegraph/graph/asserted", "https://w3id.org/peacegraph/graph/ontology"]


@pytest.mark.parametrize("query", [
    'SELECT * WHERE { ?s ?p "SERVICE <http://127.0.0.1/> { }" }',
    "SELECT * WHERE { ?s ?p 'insert data' }",
    'SELECT * WHERE { ?s ?p """multi\nline SERVICE\nLOAD""" }',
    "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o }",
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://127.0.0.1/> in a comment\n",
    "PREFIX service: <http://example.org/> SELECT * WHERE { ?s service:load ?o }",
    "PREFIX load: <http://example.org/> SELECT ?service WHERE { ?service load: ?insert }",
    "select * where { ?s ?p ?o . filter(?o != 'from <file:///etc/passwd>') }",
    "SELECT * WHERE { ?s ?p ?o FILTER(?s<?o||?p>?o) }",
    'SELECT * WHERE { ?s ?p "escaped \\" SERVICE" }',
    "SELECT * WHERE { ?s ?p $delete }",
    "ASK { ?s ?p ?o }",
    "CONSTRUCT WHERE { ?s ?p ?o }",
    "DESCRIBE <https://w3id.org/peacegraph/id/x>",
])
def test_keywords_inside_strings_iris_comments_and_names_pass(query):
    expected = next((f for f in ("ASK", "CONSTRUCT", "DESCRIBE") if query.startswith(f)), "SELECT")
    assert check_query(query).form == expected


@pytest.mark.parametrize("query, words", [
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "SERVICE"),
    ("select * where { service silent <http://169.254.169.254/> { ?s ?p ?o } }", "SERVICE"),
    ("SELECT * WHERE { OPTIONAL { SeRvIcE <http://127.0.0.1/> { ?s ?p ?o } } }", "SERVICE"),
    ("INSERT DATA { <http://a> <http://b> <http://c> }", "read-only"),
    ("PREFIX x: <http://x/> insert { ?s ?p ?o } WHERE { ?s ?p ?o }", "read-only"),
    ("DELETE WHERE { ?s ?p ?o }", "read-only"),
    ("LOAD <http://127.0.0.1/data.ttl>", "read-only"),
    ("CLEAR ALL", "read-only"),
    ("DROP GRAPH <http://x>", "read-only"),
    ("SELECT * WHERE { ?s ?p ?o } ; INSERT DATA { <a> <b> <c> }", "read-only"),
    ("SELECT * FROM ?g WHERE { ?s ?p ?o }", "FROM must name a graph IRI"),
    ("", "empty"),
    ("# only a comment\n", "empty"),
    ("PREFIX x: <http://x/>", "empty"),
    ("HELLO", "expected SELECT"),
])
def test_refused(query, words):
    with pytest.raises(RefusedQuery) as info:
        check_query(query)
    assert words in str(info.value)


def test_from_a_served_graph_passes_and_is_reported():
    q = ("PREFIX g: <https://w3id.org/peacegraph/graph/> SELECT * FROM g:asserted "
         "FROM NAMED <https://w3id.org/peacegraph/graph/ontology> WHERE { ?s ?p ?o } LIMIT 7")
    checked = check_query(q)
    assert checked.from_graphs == (G[0],) and checked.from_named == (G[1],) and checked.limit == 7


@pytest.mark.parametrize("query, named, graph", [
    ("SELECT * FROM <http://127.0.0.1/remote.ttl> WHERE { ?s ?p ?o }", False, "http://127.0.0.1/remote.ttl"),
    ("SELECT * FROM NAMED <file:///etc/passwd> WHERE { ?s ?p ?o }", True, "file:///etc/passwd"),
    ("PREFIX f: <file:///etc/> SELECT * FROM f:passwd WHERE { ?s ?p ?o }", False, "file:///etc/passwd"),
    ("BASE <http://127.0.0.1/> SELECT * FROM <x.ttl> WHERE { ?s ?p ?o }", False, "http://127.0.0.1/x.ttl"),
])
def test_a_foreign_graph_is_an_empty_graph_of_the_local_dataset(query, named, graph):
    checked = check_query(query)
    assert (checked.from_named if named else checked.from_graphs) == (graph,)
    defaults, named_graphs = local_dataset(checked.from_graphs, checked.from_named, G)
    assert graph not in defaults + named_graphs
    assert (named_graphs if named else defaults) == [EMPTY_GRAPH]


def test_local_dataset_keeps_held_graphs_and_the_default():
    assert local_dataset([G[0], "http://x/", ""], [], G) == ([G[0], ""], [])
    assert local_dataset([], ["http://x/", G[1]], G) == ([], [G[1]])
    assert local_dataset(["http://x/"], ["http://y/"], G) == ([EMPTY_GRAPH], [EMPTY_GRAPH])
    assert EMPTY_GRAPH not in G and not EMPTY_GRAPH.startswith(("http:", "https:", "file:"))


def test_lexer_positions_and_errors():
    toks = tokenize("SELECT ?x\nWHERE { ?x a <http://x> }")
    assert [(t.kind, t.line, t.column) for t in toks][:3] == [("WORD", 1, 1), ("VAR", 1, 8), ("WORD", 2, 1)]
    with pytest.raises(LexError) as info:
        tokenize('SELECT * WHERE {\n  ?s ?p "open }')
    assert info.value.line == 2 and info.value.column == 9 and "unterminated string" in str(info.value)
    with pytest.raises(LexError, match="control character U\\+0001"):
        tokenize("SELECT * WHERE { ?s ?p ?o \x01 }")


def test_nesting_limit():
    deep = "SELECT * WHERE " + "{ " * 70 + "?s ?p ?o" + " }" * 70
    with pytest.raises(RefusedQuery, match="nested too deeply"):
        check_query(deep)
    assert check_query("SELECT * WHERE " + "{ " * 20 + "?s ?p ?o" + " }" * 20).form == "SELECT"


def test_a_relative_iri_without_base_is_reported():
    assert check_query("CONSTRUCT { <s> <p> 1 } WHERE {}").relative is True
    assert check_query("BASE <http://x/> CONSTRUCT { <s> <p> 1 } WHERE {}").relative is False
    assert check_query("SELECT * WHERE { <http://x/s> ?p ?o }").relative is False
