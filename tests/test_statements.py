from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.plugins.stores.memory import SimpleMemory

from peacegraph.statements import statements

EX = "http://example.org/"


def _dataset():
    ds = Dataset(default_union=True)
    a, b = ds.graph(URIRef(EX + "a")), ds.graph(URIRef(EX + "b"))
    for i in range(5):
        a.add((URIRef(EX + f"s{i}"), URIRef(EX + "p"), Literal(i)))
    b.add((URIRef(EX + "s0"), URIRef(EX + "p"), Literal(0)))   # in both graphs
    b.add((URIRef(EX + "t"), URIRef(EX + "q"), Literal("x", lang="en")))
    return ds, a, b


def test_a_named_graph_gives_exactly_its_own_statements():
    ds, a, b = _dataset()
    assert set(statements(a)) == set(a.triples((None, None, None)))
    assert set(statements(b)) == set(b.triples((None, None, None)))
    assert len(set(statements(b))) == 2
    # the store's own set, not a walk through rdflib's per-statement bookkeeping
    assert isinstance(statements(a), set)


def test_a_plain_graph_and_an_emptied_one():
    g = Graph()
    g.add((URIRef(EX + "s"), URIRef(EX + "p"), URIRef(EX + "o")))
    assert set(statements(g)) == {(URIRef(EX + "s"), URIRef(EX + "p"), URIRef(EX + "o"))}
    g.remove((None, None, None))
    assert list(statements(g)) == []


def test_the_dataset_itself_and_other_stores_are_read_the_ordinary_way():
    ds, _, _ = _dataset()
    assert statements(ds) is ds
    other = Graph(store=SimpleMemory())
    other.add((URIRef(EX + "s"), URIRef(EX + "p"), Literal(1)))
    assert statements(other) is other
