"""SELECT answers written by the engine's own serializers (results.native_solutions): the same
solutions as the Python serializers give, cut at the row and byte limits and marked the same way."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest

from peacegraph.server import results
from peacegraph.server.results import TRUNCATED_LINK, native_solutions

EX = "http://example.org/"
FORMATS = ("json", "xml", "csv", "tsv")
READABLE = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
            "tsv": ox.QueryResultsFormat.TSV}
QUERY = "SELECT ?s ?o ?missing WHERE { ?s ?p ?o } ORDER BY ?s ?o"


@pytest.fixture(scope="module")
def store():
    s = ox.Store()
    g = ox.NamedNode(EX + "g")
    objects = [ox.Literal("plain"), ox.Literal("tab\tnew\nline \"quoted\" back\\slash", language="en"),
               ox.Literal("7", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
               ox.Literal("2025-11-20", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")),
               ox.NamedNode(EX + "target"), ox.BlankNode("b1"), ox.Literal("comma, and \"quote\"")]
    for i in range(30):
        s.add(ox.Quad(ox.NamedNode(f"{EX}s{i:02d}"), ox.NamedNode(EX + "p"), objects[i % len(objects)], g))
    return s


def _answer(store, query=QUERY):
    return store.query(query, use_default_graph_as_union=True)


def _python(store, fmt, query=QUERY) -> bytes:
    answer = _answer(store, query)
    variables = [v.value for v in answer.variables]
    rows = [tuple(solution[v] for v in variables) for solution in answer]
    return results.serialize_solutions(variables, rows, fmt)


def _solutions(body: bytes, fmt: str) -> list:
    parsed = ox.parse_query_results(body, format=READABLE[fmt])
    names = [v.value for v in parsed.variables]
    return [names] + [tuple(solution[n] for n in names) for solution in parsed]


@pytest.mark.parametrize("fmt", ("json", "xml", "tsv"))
def test_the_engine_writes_the_same_solutions_as_the_python_serializers(store, fmt):
    body, count, cut = native_solutions(_answer(store), fmt, max_rows=1000, max_bytes=1 << 20)
    assert (count, cut) == (30, "")
    assert _solutions(body, fmt) == _solutions(_python(store, fmt), fmt)


def _csv_rows(data: bytes) -> list:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_csv_has_the_same_cells_as_the_python_serializer(store):
    body, count, cut = native_solutions(_answer(store), "csv", max_rows=1000, max_bytes=1 << 20)
    assert _csv_rows(body) == _csv_rows(_python(store, "csv")) and len(_csv_rows(body)) == 31


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_result_over_the_row_limit_is_cut_and_marked(store, fmt):
    body, count, cut = native_solutions(_answer(store), fmt, max_rows=10, max_bytes=1 << 20)
    assert (count, cut) == (10, "rows")
    if fmt in READABLE:
        assert len(_solutions(body, fmt)) == 11
    if fmt == "json":
        assert json.loads(body)["peacegraph"] == {"truncated": True, "maxRows": 10}
        assert body.index(b'"peacegraph"') < body.index(b'"results"')
    elif fmt == "xml":
        head = ET.fromstring(body).find("{http://www.w3.org/2005/sparql-results#}head")
        assert head.find("{http://www.w3.org/2005/sparql-results#}link").get("href") == TRUNCATED_LINK
    elif fmt == "csv":
        assert len(_csv_rows(body)) == 11
    else:
        assert body.count(b"\n") == 11


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_result_over_the_byte_limit_is_cut_within_it(store, fmt):
    whole, _, _ = native_solutions(_answer(store), fmt, max_rows=1000, max_bytes=1 << 20)
    limit = len(whole) // 2
    body, count, cut = native_solutions(_answer(store), fmt, max_rows=1000, max_bytes=limit)
    assert cut == "bytes" and 0 < count < 30
    assert len(body) <= limit + 100      # + the marker
    if fmt == "json":
        doc = json.loads(body)
        assert doc["peacegraph"] == {"truncated": True, "maxRows": 1000, "maxBytes": limit}
        assert len(doc["results"]["bindings"]) == count
    elif fmt in READABLE:
        assert len(_solutions(body, fmt)) == count + 1
    else:
        assert len(_csv_rows(body)) == count + 1


def test_a_complete_result_is_not_marked(store):
    body, count, cut = native_solutions(_answer(store), "json", max_rows=30, max_bytes=1 << 20)
    assert (count, cut) == (30, "") and "peacegraph" not in json.loads(body)


def test_xml_stays_well_formed_with_control_characters():
    s = ox.Store()
    s.add(ox.Quad(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.Literal("bell\x07 and \x01"),
                  ox.NamedNode(EX + "g")))
    body, count, _ = native_solutions(_answer(s), "xml", max_rows=10, max_bytes=1 << 20)
    literal = ET.fromstring(body).find(".//{http://www.w3.org/2005/sparql-results#}literal")
    assert count == 1 and literal.text == "bell\ufffd and \ufffd"


@pytest.mark.parametrize("fmt", ("json", "xml", "tsv"))
def test_solutions_without_variables(fmt):
    body, count, cut = native_solutions(ox.Store().query("SELECT * WHERE {}"), fmt, max_rows=10,
                                        max_bytes=1 << 20)
    assert (count, cut) == (1, "") and _solutions(body, fmt) == [[], ()]


def test_the_search_index_rows_are_not_held_to_a_clients_result_size(tmp_path):
    from peacegraph.errors import StoreError
    from peacegraph.server.backend import SEARCH_INDEX_BYTES, Backend, QueryResult

    class Recording(Backend):
        requests: list = []

        def start(self): ...
        def graph_names(self): return []
        def close(self): self.close_search()

        def query(self, request):
            self.requests.append(request)
            return QueryResult(form="SELECT", result_format=request.result_format, truncated=True,
                               truncated_by="bytes")

    backend = Recording(None)
    with pytest.raises(StoreError, match=f"more than {SEARCH_INDEX_BYTES:,} bytes"):
        backend.open_search(tmp_path / "search.sqlite")
    assert [r.max_bytes for r in backend.requests] == [SEARCH_INDEX_BYTES]
    assert SEARCH_INDEX_BYTES >= 2**30


class _Chunks:
    """An answer already written, handed to the sink in small pieces, as the engine does in 8 KB ones."""

    def __init__(self, data: bytes, size: int):
        self.data, self.size = data, size

    def serialize(self, sink, format):
        for at in range(0, len(self.data), self.size):
            sink.write(self.data[at:at + self.size])


@pytest.fixture(scope="module")
def braces():
    """Literals that look like the JSON around them: row separators, empty rows, quotes."""
    s = ox.Store()
    tricky = [',{', '[{', ',{}', '{}', ',{"s":{"type":"uri"', 'x,{', '"},{"', '\\,{', '<result>']
    for i in range(40):
        s.add(ox.Quad(ox.NamedNode(f"{EX}s{i:02d}"), ox.NamedNode(EX + "p"),
                      ox.Literal(tricky[i % len(tricky)] * (1 + i % 3)), ox.NamedNode(EX + "g")))
    return s


@pytest.mark.parametrize("fmt", ("json", "xml"))
@pytest.mark.parametrize("size", (1, 7, 8192))
@pytest.mark.parametrize("max_rows", (1, 9, 39, 40))
def test_literals_that_look_like_rows_do_not_move_the_cut(braces, fmt, size, max_rows):
    whole = _answer(braces).serialize(format=READABLE[fmt])
    expected = _solutions(whole, fmt)
    body, count, cut = native_solutions(_Chunks(whole, size), fmt, max_rows=max_rows, max_bytes=1 << 20)
    kept = _solutions(body, fmt)
    assert kept == expected[:max_rows + 1]
    assert cut == ("rows" if max_rows < 40 else "") and (cut == "" or count == max_rows)


@pytest.mark.parametrize("size", (3, 8192))
def test_literals_that_look_like_rows_are_cut_within_the_byte_limit(braces, size):
    whole = _answer(braces).serialize(format=ox.QueryResultsFormat.JSON)
    body, count, cut = native_solutions(_Chunks(whole, size), "json", max_rows=1000, max_bytes=len(whole) // 3)
    doc = json.loads(body)
    assert cut == "bytes" and len(body) <= len(whole) // 3 and 0 < count == len(doc["results"]["bindings"])
    assert _solutions(body, "json") == _solutions(whole, "json")[:count + 1]


@pytest.mark.parametrize("fmt", ("json", "xml"))
def test_rows_without_bindings_are_counted_against_the_row_limit(store, fmt):
    body, count, cut = native_solutions(_answer(store, "SELECT ?nothing WHERE { ?s ?p ?o }"), fmt,
                                        max_rows=12, max_bytes=1 << 20)
    assert (count, cut) == (12, "rows") and len(_solutions(body, fmt)) == 13
