"""Values bound into a query's text for remote stores: valid SPARQL for every query form, and the
bound terms read back exactly as given."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from peacegraph.sparql_bind import BindError, bind_values, term_to_sparql, without_dataset_clauses

THING = ox.NamedNode("https://w3id.org/peacegraph/id/a")
HOSTILE = ox.Literal('a "quote" } { \\ # <x>\nnew line\ttab', language="en-GB")


@pytest.fixture(scope="module")
def store():
    s = ox.Store()
    s.add(ox.Quad(THING, ox.NamedNode("urn:p"), HOSTILE))
    s.add(ox.Quad(ox.NamedNode("urn:other"), ox.NamedNode("urn:p"), ox.Literal("x")))
    return s


@pytest.mark.parametrize("text, expected", [
    ("ASK { ?thing ?p ?o }", True),
    ("# { a comment\nASK WHERE { { ?thing ?p ?o } UNION { ?x ?q ?thing } }", True),
    ("SELECT ?o WHERE { ?thing ?p ?o }", 1),
    ("SELECT (EXISTS { ?a ?b ?c } AS ?e) ?o { ?thing ?p ?o FILTER (?o != \"}\") } ORDER BY ?o LIMIT 5", 1),
    ("CONSTRUCT { ?thing ?p ?o } WHERE { ?thing ?p ?o }", 1),
    ("PREFIX p: <urn:> CONSTRUCT WHERE { ?thing p:p ?o } LIMIT 3", 1),
    ("DESCRIBE ?thing", None),
    ("DESCRIBE ?thing LIMIT 1", None),
])
def test_every_query_form_stays_valid_and_is_narrowed(store, text, expected):
    bound = bind_values(text, {"thing": THING})
    answer = store.query(bound)
    if isinstance(answer, ox.QueryBoolean):
        assert bool(answer) is expected
    elif isinstance(answer, ox.QuerySolutions):
        assert [s["o"] for s in answer] == [HOSTILE]
    elif expected is not None:
        assert [t.subject for t in answer] == [THING] * expected


def test_a_bound_literal_reads_back_exactly(store):
    bound = bind_values("SELECT ?s WHERE { ?s ?p ?o }", {"o": HOSTILE})
    assert [s["s"] for s in store.query(bound)] == [THING]
    typed = ox.Literal("7", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#nonNegativeInteger"))
    assert term_to_sparql(typed) == '"7"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger>'
    assert term_to_sparql(ox.Literal("plain")) == '"plain"'


def test_what_cannot_be_bound_is_refused():
    with pytest.raises(BindError):
        bind_values("SELECT * WHERE { ?s ?p ?o }", {"s": ox.BlankNode("b")})
    with pytest.raises(BindError):
        bind_values("SELECT * WHERE { ?s ?p ?o }", {"s } ": THING})
    with pytest.raises(BindError):
        bind_values("INSERT DATA { <urn:a> <urn:b> <urn:c> }", {"s": THING})
    with pytest.raises(BindError):
        bind_values("ASK FROM <urn:g>", {"s": THING})
    assert bind_values("SELECT * WHERE { ?s ?p ?o }", {}) == "SELECT * WHERE { ?s ?p ?o }"


def test_dataset_clauses_are_removed_and_nothing_else():
    text = ("PREFIX g: <urn:g:>\nSELECT * FROM g:a FROM NAMED <urn:b> # FROM <urn:c>\n"
            "WHERE { ?s <urn:p> \"FROM <urn:d>\" }")
    out = without_dataset_clauses(text)
    assert "g:a" not in out and "<urn:b>" not in out
    assert "# FROM <urn:c>" in out and '"FROM <urn:d>"' in out
    ox.Store().query(out)
