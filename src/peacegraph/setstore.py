"""`SetStore`: an rdflib Store that keeps each graph's statements in a plain set.

    dataset = Dataset(store=SetStore(), default_union=True)
    graph = Graph(store=SetStore())
    store.add_triples(triples, graph)     # a bulk add: one set.update

rdflib's Memory store keeps three nested-dict indexes (subject, predicate and object first) for
every statement, plus a record of the graphs each statement is in: about 6 µs and several
hundred bytes a statement, paid when the statement is added whether or not anything ever looks
it up by pattern. The build adds millions of statements and reads most graphs only whole. Here
a statement costs one set entry; a graph's lookups by subject, by predicate or by object are
built the first time a pattern needs that one (a dict from the term to its statements: the
statement itself when it is the only one, else a list of them) and kept up to date as the graph
changes.

It is context-aware and graph-aware (a Dataset can be built on it) and not formula-aware;
rdflib's store events (TripleAddedEvent...) are not dispatched.
"""

from __future__ import annotations

from rdflib.graph import Graph
from rdflib.store import Store

_S, _P, _O = 0, 1, 2


def _key(context):
    """The dict key of a graph: its identifier (the store is handed Graphs or identifiers)."""
    if context is None:
        return None
    return context.identifier if isinstance(context, Graph) else context


def _insert(index: dict, term, triple) -> None:
    found = index.get(term)
    if found is None:
        index[term] = triple
    elif type(found) is tuple:
        index[term] = [found, triple]
    else:
        found.append(triple)


def _delete(index: dict, term, triple) -> None:
    found = index[term]
    if type(found) is tuple:
        del index[term]
        return
    found.remove(triple)
    if len(found) == 1:
        index[term] = found[0]


def _index(triples, position: int) -> dict:
    index: dict = {}
    for t in triples:
        _insert(index, t[position], t)
    return index


class _Graph:
    """One graph's statements and whichever of its lookups have been needed so far."""

    __slots__ = ("triples", "indexes")

    def __init__(self):
        self.triples: set = set()
        self.indexes: list = [None, None, None]   # by subject, predicate, object

    def lookup(self, position: int, term) -> tuple | list:
        index = self.indexes[position]
        if index is None:
            index = self.indexes[position] = _index(self.triples, position)
        found = index.get(term)
        if found is None:
            return ()
        # a copy: the graph may change while the caller walks the result
        return (found,) if type(found) is tuple else list(found)

    def match(self, s, p, o):
        """The statements matching a pattern (None: any term), as a list or tuple of its own."""
        if s is not None:
            if p is not None and o is not None:
                t = (s, p, o)
                return (t,) if t in self.triples else ()
            found = self.lookup(_S, s)
            if p is not None:
                return [t for t in found if t[1] == p]
            if o is not None:
                return [t for t in found if t[2] == o]
            return found
        if o is not None:
            found = self.lookup(_O, o)
            return found if p is None else [t for t in found if t[1] == p]
        if p is not None:
            return self.lookup(_P, p)
        return list(self.triples)

    def add(self, t) -> None:
        if t in self.triples:
            return
        self.triples.add(t)
        for position, index in enumerate(self.indexes):
            if index is not None:
                _insert(index, t[position], t)

    def update(self, triples) -> None:
        if self.indexes == [None, None, None]:
            self.triples.update(triples)
            return
        for t in triples:
            self.add(t)

    def discard(self, found) -> None:
        triples = self.triples
        for t in found:
            if t in triples:
                triples.remove(t)
                for position, index in enumerate(self.indexes):
                    if index is not None:
                        _delete(index, t[position], t)


class SetStore(Store):
    context_aware = True
    formula_aware = False
    graph_aware = True
    transaction_aware = False

    def __init__(self, configuration=None, identifier=None):
        super().__init__(configuration)
        self.identifier = identifier
        # graph identifier -> its statements; None holds those added with no graph
        self._graphs: dict = {}
        # graph identifier -> the Graph (or identifier) first given for it, for contexts()
        self._contexts: dict = {}
        self._namespace: dict = {}
        self._prefix: dict = {}

    def close(self, commit_pending_transaction: bool = False) -> None:
        """Let go of every statement now. A Graph and its namespace manager refer to each
        other, so a dropped graph waits for the cyclic collector; what it held need not."""
        self._graphs.clear()
        self._contexts.clear()

    # ---------------------------------------------------------------------- statements

    def statements_of(self, context) -> set:
        """The set of a graph's statements, read as it is (empty for a graph with none)."""
        graph = self._graphs.get(_key(context))
        return graph.triples if graph is not None else set()

    def _graph(self, context) -> _Graph:
        key = _key(context)
        graph = self._graphs.get(key)
        if graph is None:
            graph = self._graphs[key] = _Graph()
        if key is not None and key not in self._contexts:
            self._contexts[key] = context
        return graph

    def add(self, triple, context, quoted: bool = False) -> None:
        if quoted:
            raise NotImplementedError("SetStore holds no quoted (formula) graphs")
        self._graph(context).add(tuple(triple))

    def addN(self, quads) -> None:  # noqa: N802 (rdflib's name)
        last = graph = None
        for s, p, o, c in quads:
            if c is not last or graph is None:
                graph, last = self._graph(c), c
            graph.add((s, p, o))

    def add_triples(self, triples, context) -> None:
        """Add many (s, p, o) tuples of rdflib terms to one graph at once (a set update: the
        terms are taken as they are, not checked)."""
        self._graph(context).update(triples)

    def remove(self, triple_pattern, context=None) -> None:
        s, p, o = triple_pattern
        if context is None:
            graphs = list(self._graphs.values())
        else:
            graph = self._graphs.get(_key(context))
            graphs = [graph] if graph is not None else []
        for graph in graphs:
            graph.discard(graph.match(s, p, o))

    def triples(self, triple_pattern, context=None):
        s, p, o = triple_pattern
        if context is not None:
            graph = self._graphs.get(_key(context))
            if graph is None:
                return
            for t in graph.match(s, p, o):
                yield t, self._contexts_of(t)
            return
        # no graph named: the union of them all, each statement once
        graphs = sorted(self._graphs.values(), key=lambda g: len(g.triples), reverse=True)
        for i, graph in enumerate(graphs):
            earlier = [g.triples for g in graphs[:i]]
            for t in graph.match(s, p, o):
                if not any(t in e for e in earlier):
                    yield t, self._contexts_of(t)

    def _contexts_of(self, triple):
        for key, graph in list(self._graphs.items()):
            if key is not None and triple in graph.triples:
                yield self._contexts.get(key, key)

    def __len__(self, context=None) -> int:
        if context is not None:
            graph = self._graphs.get(_key(context))
            return len(graph.triples) if graph is not None else 0
        sets = sorted((g.triples for g in self._graphs.values()), key=len, reverse=True)
        total = len(sets[0]) if sets else 0
        for i, part in enumerate(sets[1:], start=1):
            earlier = sets[:i]
            total += sum(1 for t in part if not any(t in e for e in earlier))
        return total

    # ---------------------------------------------------------------------- graphs

    def contexts(self, triple=None):
        if triple is None or tuple(triple) == (None, None, None):
            return iter(list(self._contexts.values()))
        triple = tuple(triple)
        return iter([self._contexts.get(key, key) for key, graph in list(self._graphs.items())
                     if key is not None and triple in graph.triples])

    def add_graph(self, graph) -> None:
        self._contexts.setdefault(_key(graph), graph)

    def remove_graph(self, graph) -> None:
        key = _key(graph)
        self._graphs.pop(key, None)
        self._contexts.pop(key, None)

    # ---------------------------------------------------------------------- namespaces

    def bind(self, prefix: str, namespace, override: bool = True) -> None:
        # as rdflib's Memory store binds
        bound_namespace = self._namespace.get(prefix)
        bound_prefix = self._prefix.get(namespace)
        if bound_prefix is None:
            bound_prefix = self._prefix.get(bound_namespace)
        if override:
            if bound_prefix is not None:
                del self._namespace[bound_prefix]
            if bound_namespace is not None:
                del self._prefix[bound_namespace]
            self._prefix[namespace] = prefix
            self._namespace[prefix] = namespace
        else:
            ns = bound_namespace if bound_namespace is not None else namespace
            pfx = bound_prefix if bound_prefix is not None else prefix
            self._prefix[ns] = pfx
            self._namespace[pfx] = ns

    def namespace(self, prefix: str):
        return self._namespace.get(prefix)

    def prefix(self, namespace):
        return self._prefix.get(namespace)

    def namespaces(self):
        yield from list(self._namespace.items())


__all__ = ["SetStore"]
