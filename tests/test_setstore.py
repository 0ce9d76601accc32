"""SetStore against rdflib's Memory store: the same random operations on a Dataset (and a plain
Graph) over each store must read back the same, through every pattern and every graph."""

import random
from itertools import product

import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import XSD
from rdflib.plugins.stores.memory import Memory

from peacegraph.setstore import SetStore
from peacegraph.statements import statements

EX = "http://example.org/"
SUBJECTS = [URIRef(EX + f"s{i}") for i in range(6)] + [BNode("b1")]
PREDICATES = [URIRef(EX + f"p{i}") for i in range(4)]
OBJECTS = SUBJECTS[:4] + [Literal("x"), Literal("x", lang="en"), Literal(1), Literal("1", datatype=XSD.integer),
                          Literal("01", datatype=XSD.integer)]
GRAPHS = [URIRef(EX + f"g{i}") for i in range(3)] + [DATASET_DEFAULT_GRAPH_ID]


def _triple(rng):
    return rng.choice(SUBJECTS), rng.choice(PREDICATES), rng.choice(OBJECTS)


def _pattern(rng):
    s, p, o = _triple(rng)
    return (rng.choice([s, None]), rng.choice([p, None]), rng.choice([o, None]))


def _operate(rng, datasets):
    """One random change, the same on every dataset."""
    op = rng.random()
    name = rng.choice(GRAPHS)
    if op < 0.45:
        t = _triple(rng)
        for ds in datasets:
            ds.graph(name).add(t)
    elif op < 0.6:
        ts = [_triple(rng) for _ in range(rng.randint(1, 8))]
        for ds in datasets:
            g = ds.graph(name)
            g.addN((*t, g) for t in ts)
    elif op < 0.7:
        t = _triple(rng)
        for ds in datasets:
            ds.add((*t, name))
    elif op < 0.82:
        pattern = _pattern(rng)
        for ds in datasets:
            ds.graph(name).remove(pattern)
    elif op < 0.88:
        pattern = _pattern(rng)
        for ds in datasets:
            ds.remove(pattern)   # from every graph
    elif op < 0.92:
        for ds in datasets:
            ds.remove_graph(name)
    else:
        for ds in datasets:
            ds.graph(name)       # an empty graph is still a graph


def _read(ds: Dataset) -> dict:
    """Everything the Graph and Dataset API can tell about the dataset."""
    seen: dict = {"len": len(ds), "graphs": sorted(str(g.identifier) for g in ds.graphs())}
    names = [None, *GRAPHS]
    for name, s, p, o in product(names, [None, *SUBJECTS], [None, *PREDICATES], [None, *OBJECTS]):
        view = ds if name is None else ds.graph(name)
        seen[(name, s, p, o)] = sorted(view.triples((s, p, o)))
    for name in GRAPHS:
        seen[("len", name)] = len(ds.graph(name))
        seen[("contains", name)] = [t in ds.graph(name) for t in product(SUBJECTS, PREDICATES, OBJECTS[:5])]
    for t in product(SUBJECTS[:3], PREDICATES[:2], OBJECTS):
        seen[("contexts", t)] = sorted(str(g.identifier) for g in ds.graphs(t))
    seen["quads"] = sorted((s, p, o, str(g)) for s, p, o, g in ds.quads((None, None, None, None)))
    return seen


@pytest.mark.parametrize("seed", range(12))
def test_a_dataset_reads_as_over_rdflibs_memory_store(seed):
    rng = random.Random(seed)
    for default_union in (True, False):
        memory = Dataset(store=Memory(), default_union=default_union)
        ours = Dataset(store=SetStore(), default_union=default_union)
        for step in range(60):
            _operate(rng, [memory, ours])
            if step % 15 == 14:
                assert _read(ours) == _read(memory)
        assert _read(ours) == _read(memory)


def test_a_graph_walked_while_it_changes_sees_the_statements_it_started_with():
    for store in (Memory(), SetStore()):
        g = Graph(store=store)
        g.addN((s, PREDICATES[0], Literal(i), g) for i, s in enumerate(SUBJECTS))
        seen = 0
        for s, p, o in g:
            g.remove((s, p, o))
            g.add((s, PREDICATES[1], o))
            seen += 1
        assert seen == len(SUBJECTS)
        for s in SUBJECTS[:3]:
            for t in g.triples((s, None, None)):
                g.add((s, PREDICATES[2], t[2]))
        assert len(g) == len(SUBJECTS) + 3


def test_lookups_follow_changes_after_they_are_built():
    g = Graph(store=SetStore())
    a, b = SUBJECTS[:2]
    p, q = PREDICATES[:2]
    g.add((a, p, Literal(1)))
    assert list(g.objects(a, p)) == [Literal(1)]          # the subject lookup is built here
    assert list(g.subjects(p, Literal(1))) == [a]          # the object lookup here
    assert list(g.subject_objects(p)) == [(a, Literal(1))]  # the predicate lookup here
    g.add((a, p, Literal(2)))
    g.add((b, q, Literal(1)))
    g.store.add_triples([(b, p, Literal(2)), (a, p, Literal(2))], g)
    assert sorted(g.objects(a, p)) == [Literal(1), Literal(2)]
    assert sorted(g.subjects(None, Literal(1))) == [a, b]
    assert sorted(g.subjects(p, Literal(2))) == [a, b]
    g.remove((a, None, Literal(1)))
    assert list(g.objects(a, p)) == [Literal(2)]
    assert list(g.subjects(None, Literal(1))) == [b]
    assert sorted(g.subject_objects(p)) == [(a, Literal(2)), (b, Literal(2))]
    g.remove((None, p, None))
    assert list(g) == [(b, q, Literal(1))]
    assert list(g.subject_objects(p)) == []
    assert len(g) == 1


def test_namespaces_are_bound_as_by_the_memory_store():
    stores = Memory(), SetStore()
    base = URIRef(EX)
    for store in stores:
        store.bind("ex", base)
        store.bind("ex2", base)                      # rebinding a namespace moves it
        store.bind("other", URIRef(EX + "o#"))
        store.bind("other", URIRef(EX + "x#"), override=False)
        store.bind("new", URIRef(EX + "n#"), override=False)
    memory, ours = stores
    assert sorted(ours.namespaces()) == sorted(memory.namespaces())
    for prefix in ("ex", "ex2", "other", "new", "none"):
        assert ours.namespace(prefix) == memory.namespace(prefix)
    for ns in (base, URIRef(EX + "o#"), URIRef(EX + "x#"), URIRef(EX + "n#")):
        assert ours.prefix(ns) == memory.prefix(ns)


def test_statements_reads_a_graphs_own_set():
    ds = Dataset(store=SetStore(), default_union=True)
    a, b = ds.graph(URIRef(EX + "a")), ds.graph(URIRef(EX + "b"))
    a.add((SUBJECTS[0], PREDICATES[0], Literal(1)))
    b.add((SUBJECTS[0], PREDICATES[0], Literal(1)))
    b.add((SUBJECTS[1], PREDICATES[0], Literal(2)))
    assert isinstance(statements(b), set)
    assert statements(b) == set(b)
    assert statements(a) == {(SUBJECTS[0], PREDICATES[0], Literal(1))}
    assert list(statements(ds.graph(URIRef(EX + "empty")))) == []
    assert statements(ds) is ds
    assert len(ds) == 2


def test_quoted_graphs_are_refused():
    with pytest.raises(NotImplementedError):
        SetStore().add((SUBJECTS[0], PREDICATES[0], OBJECTS[0]), Graph(), quoted=True)
