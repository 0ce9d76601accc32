"""OWL 2 RL reasoning: the informative triples the ontology entails from the data.

`infer(graph, engine=...)` computes the OWL 2 RL closure of ontology ∪ sources ∪ asserted and
returns only the triples worth publishing in the inferred named graph: new ones, about our own
things and terms, without the axiomatic chatter every OWL RL closure produces (reflexive
sameAs/subClassOf, `rdf:type owl:Thing`, statements about the RDF/OWL/standard vocabularies).

Three engines give the same informative triples (tests/test_reason.py checks it on fixtures, on
the shipped graph and on a synthetic corpus):

- ``"forward"``: our own forward-chaining engine (peacegraph.forward): the rules for class and
  property hierarchies, domains, ranges, inverse, symmetric, transitive, (inverse-)functional
  properties and owl:sameAs, compiled from the closed schema and applied semi-naively; it
  refuses, naming the construct, an input with class expressions, property chains or keys.
  1M triples: 0.9 s of CPU for the closure, 3-4 s for the whole stage, 64 MB above the dataset;
- ``"reasonable"``: a Rust OWL 2 RL reasoner (PyPI ``reasonable``) that also applies the rules
  of the constructs "forward" refuses. It applies the instance rules but not all of the schema
  rules (scm-spo, scm-dom1/2, scm-rng1/2), so those are completed here over the (small) schema
  part of its output. 1M triples: 61 s and 8.5 GB above the dataset (it derives 1.1M triples,
  most of them trivia, and keeps them all as Python terms);
- ``"owlrl"``: the pure-Python reference implementation (owlrl.OWLRL_Semantics), super-linear
  (7 s of CPU at 8k triples, 71 s at 79k).

The default, ``"auto"``, is "forward", or "reasonable" for an input "forward" refuses.

With "forward" and "reasonable" a Dataset is read graph by graph, never merged into a copy, and
the closure is filtered in one pass against a set of the input triples (a hash lookup per triple
instead of an rdflib index probe), with Python's cycle collector paused (peacegraph.gcpause).
The result can be written straight into a graph of the Dataset itself (`into`), as the build
does with its inferred graph.
"""

from __future__ import annotations

from rdflib import BNode, Dataset, Graph, Literal
from rdflib.namespace import OWL, RDF, RDFS, XSD

from peacegraph.errors import PeacegraphError
from peacegraph.forward import UnsupportedConstruct, schema_closure
from peacegraph.forward import closure as forward_closure
from peacegraph.gcpause import paused_gc
from peacegraph.namespaces import INFERRED_GRAPH, bind_prefixes

ENGINES = ("owlrl", "reasonable", "forward")
# "forward" wherever it covers the input, "reasonable" for the constructs it refuses.
DEFAULT_ENGINE = "auto"

# Subjects in these namespaces are terms of RDF, OWL or an imported standard vocabulary; what a
# closure says about them (owl:Thing is a class, rdfs:label is a property...) is not ours to publish.
STANDARD_NAMESPACES = (
    str(RDF), str(RDFS), str(OWL), str(XSD),
    "http://www.w3.org/ns/prov#", "http://xmlns.com/foaf/0.1/", "http://www.w3.org/ns/org#",
    "http://purl.org/dc/terms/", "http://purl.org/dc/elements/1.1/",
    "http://www.w3.org/2004/02/skos/core#", "http://www.w3.org/ns/oa#", "http://rdfs.org/ns/void#",
    "http://www.w3.org/ns/shacl#",
)
# rdf:type values every node or term gets from the closure's axioms.
TRIVIAL_TYPES = frozenset({
    OWL.Thing, RDFS.Resource, OWL.NamedIndividual, RDFS.Class, OWL.Class, RDF.Property,
    RDFS.Datatype, RDFS.Literal, RDF.List, RDFS.ContainerMembershipProperty,
})
# Properties whose reflexive statements (x p x) hold of everything.
REFLEXIVE_TRIVIA = frozenset({
    OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty,
})
# Top and bottom of the class and property hierarchies: x ⊑ owl:Thing holds of every class.
TRIVIAL_SUPERS = frozenset({OWL.Thing, RDFS.Resource, OWL.topObjectProperty, OWL.topDataProperty})


class ReasoningError(PeacegraphError):
    """The reasoner could not run (unknown engine, or the engine failed)."""


def infer(graph, engine: str = DEFAULT_ENGINE, into: Graph | None = None) -> Graph:
    """The informative triples the OWL 2 RL closure of `graph` adds (a new Graph, or `into`
    when given, e.g. the inferred graph of the Dataset being reasoned over; `graph` is left
    untouched). `graph` is ontology ∪ data: an rdflib Graph, or a Dataset whose named graphs
    (except the inferred one) are taken together — read in place by "forward" and "reasonable",
    merged into a working copy by "owlrl". `engine` is "forward", "reasonable", "owlrl" or
    "auto" ("forward" unless the input uses a construct it refuses, then "reasonable").
    The result holds no blank nodes."""
    if engine not in ENGINES and engine != "auto":
        raise ReasoningError(f"unknown reasoning engine {engine!r}; expected one of "
                             f"{', '.join(ENGINES)} or auto")
    if into is None:
        into = Graph()
        bind_prefixes(into)
    if engine == "owlrl":
        base = _as_graph(graph)
        closure = _owlrl_closure(base)
        into.addN((s, p, o, into) for s, p, o in informative(closure, base))
        return into
    graphs = _input_graphs(graph)
    with paused_gc():
        # One set serves as the reasoner's input and as the filter of what it returns.
        known = {t for g in graphs for t in g}
        closure = _closure(known, engine)
        # Listed before adding: `into` may share the store the input graphs are read from.
        inferred = list(_informative_known(closure, known, graphs))
        del closure, known
        into.addN((s, p, o, into) for s, p, o in inferred)
    return into


# Hoisted out of the per-triple loops: a Namespace attribute lookup costs more than the test.
_TYPE = RDF.type
_SCHEMA_LINKS = frozenset({RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range})


def _trivial(s, p, o) -> bool:
    if isinstance(s, (BNode, Literal)) or isinstance(o, BNode) or isinstance(p, BNode):
        return True
    if str(s).startswith(STANDARD_NAMESPACES):
        return True
    if s == o and p in REFLEXIVE_TRIVIA:
        return True
    if p == _TYPE and o in TRIVIAL_TYPES:
        return True
    return p in _SCHEMA_LINKS and o in TRIVIAL_SUPERS


def informative(triples, base: Graph):
    """The triples of `triples` worth publishing as inferred: not in `base` and not trivia."""
    for s, p, o in triples:
        if _trivial(s, p, o):
            continue
        if isinstance(o, Literal):
            o = _plain(o)
            if _has_literal(base, s, p, o):
                continue
        elif (s, p, o) in base:
            continue
        yield s, p, o


def _informative_known(triples, known: set, graphs: list):
    """`informative` against the input held as a set of triples (`known`) and, for literals
    that differ from the input only in form, the input graphs themselves."""
    for s, p, o in triples:
        if (s, p, o) in known or _trivial(s, p, o):
            continue
        if isinstance(o, Literal):
            o = _plain(o)
            if (s, p, o) in known or any(_has_literal(g, s, p, o) for g in graphs):
                continue
        yield s, p, o


def _input_graphs(graph) -> list:
    """The graphs whose union is the input: the named graphs of a Dataset (the inferred graph
    and empty graphs left out), or the Graph itself."""
    if isinstance(graph, Dataset):
        return [ctx for ctx in graph.graphs() if ctx.identifier != INFERRED_GRAPH and len(ctx)]
    if isinstance(graph, Graph):
        return [graph]
    raise TypeError(f"expected an rdflib Graph or Dataset, got {type(graph).__name__}")


def _as_graph(graph) -> Graph:
    if isinstance(graph, Dataset):
        merged = Graph()
        for ctx in graph.graphs():
            if ctx.identifier != INFERRED_GRAPH:
                merged += ctx
        return merged
    if isinstance(graph, Graph):
        return graph
    raise TypeError(f"expected an rdflib Graph or Dataset, got {type(graph).__name__}")


def _plain(lit: Literal) -> Literal:
    """RDF 1.1 makes "x" and "x"^^xsd:string the same literal; rdflib does not. Engines differ in
    which form they return, so both are compared in the plain form the loader produces."""
    if lit.datatype == XSD.string and lit.language is None:
        return Literal(str(lit))
    return lit


def _has_literal(base: Graph, s, p, o: Literal) -> bool:
    if (s, p, o) in base:
        return True
    for existing in base.objects(s, p):
        if isinstance(existing, Literal) and (_plain(existing) == o or existing.eq(o) is True):
            return True
    return False


def _owlrl_closure(base: Graph):
    import owlrl

    work = Graph()
    work.addN((s, p, o, work) for s, p, o in base)
    try:
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(work)
    except Exception as exc:  # owlrl raises bare Exceptions for inconsistent input
        raise ReasoningError(f"owlrl failed: {exc}") from None
    return work


def _closure(known: set, engine: str) -> list:
    if engine == "reasonable":
        return _reasonable_closure(known)
    try:
        return forward_closure(known)
    except UnsupportedConstruct as exc:
        if engine == "forward":
            raise ReasoningError(str(exc)) from None
    return _reasonable_closure(known)


def _reasonable_closure(triples) -> list:
    import reasonable

    reasoner = reasonable.PyReasoner()
    try:
        reasoner.from_graph(triples)
        closure = reasoner.reason()
    except Exception as exc:  # the extension raises its own error types
        raise ReasoningError(f"reasonable failed: {exc}") from None
    closure.extend(schema_closure(closure))
    return closure
