"""Every shape in shapes/*.ttl has a tiny valid and a tiny invalid fixture.

tests/fixtures/shapes/<shape-local-name>/valid.ttl must give no result of that shape;
invalid.ttl must give results of that shape for exactly the focus nodes its `# expect-focus:`
lines name (Turtle terms, prefixed names allowed). The list of shapes is read from shapes/, so a
new shape without fixtures fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.util import from_n3

from peacegraph import paths
from peacegraph.load import parse_rdf_file
from peacegraph.namespaces import SH
from peacegraph.validate import SHAPES_NS, check_shapes, validate_graph

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
OWN_CONSTRAINTS = (SH.sparql, SH["or"], SH["and"], SH.xone, SH["not"], SH.nodeKind, SH["class"],
                   SH.node, SH.closed, SH["in"], SH.hasValue, SH.pattern, SH.datatype)


def _raw_shapes() -> Graph:
    graph = Graph()
    for path in sorted(paths.data_dir("shapes").glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def _shape_nodes(graph: Graph) -> set:
    shapes = set(graph.subjects(RDF.type, SH.NodeShape)) | set(graph.subjects(RDF.type, SH.PropertyShape))
    return shapes | set(graph.objects(None, SH.property))


def _tested_shapes(graph: Graph) -> list[URIRef]:
    """Shapes that can be the sh:sourceShape of a result for a data node: targeted node shapes
    with constraints of their own, and the property shapes of targeted node shapes."""
    tested = set()
    for shape in _shape_nodes(graph):
        if any((shape, t, None) in graph for t in TARGETS):
            if any((shape, c, None) in graph for c in OWN_CONSTRAINTS):
                tested.add(shape)
            tested.update(graph.objects(shape, SH.property))
    return sorted(tested)


def _local(shape) -> str:
    return str(shape)[len(SHAPES_NS):]


SHAPES = _tested_shapes(_raw_shapes())


def _expected_focus(path: Path, graph: Graph) -> set:
    expected = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect-focus:"):
            expected.add(from_n3(line.split(":", 1)[1].strip(), nsm=graph.namespace_manager))
    return expected


def _results_of(shapes: Graph, shape, fixture: Path):
    data = parse_rdf_file(fixture)
    report = validate_graph(data, shapes, origin={s: fixture.name for s in data.subjects()})
    return data, report, [r for r in report.results if r.source_shape == shape]


def test_shapes_are_found():
    names = {_local(s) for s in SHAPES}
    assert {"Stance-position", "QuoteMatchesTextShape", "SourceHashShape", "AttestedRelationShape",
            "LineageAcyclicShape", "DeclaredVocabularyShape", "ClaimConflictShape",
            "EvidenceRequiredShape"} <= names


@pytest.mark.parametrize("shape", SHAPES, ids=_local)
def test_valid_fixture_gives_no_result(shape, shipped_shapes):
    fixture = FIXTURES / _local(shape) / "valid.ttl"
    assert fixture.is_file(), f"shape {_local(shape)} has no valid fixture at {fixture}"
    _, _, results = _results_of(shipped_shapes, shape, fixture)
    assert results == []


@pytest.mark.parametrize("shape", SHAPES, ids=_local)
def test_invalid_fixture_gives_the_expected_focus_nodes(shape, shipped_shapes):
    fixture = FIXTURES / _local(shape) / "invalid.ttl"
    assert fixture.is_file(), f"shape {_local(shape)} has no invalid fixture at {fixture}"
    data, report, results = _results_of(shipped_shapes, shape, fixture)
    assert report.conforms is False  # so `peacegraph validate --data invalid.ttl` exits 1
    expected = _expected_focus(fixture, data)
    assert expected, f"{fixture} names no '# expect-focus:' node"
    assert {r.focus for r in results} == expected
    for r in results:
        assert r.source_shape == shape
        assert r.severity == SH.Violation
        assert r.message and "{?" not in r.message and "{$" not in r.message
        if isinstance(r.focus, URIRef):
            assert r.file == fixture.name


def test_every_fixture_folder_belongs_to_a_shape():
    names = {_local(s) for s in SHAPES}
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders - names == set()


def test_shapes_graph_has_no_blank_nodes():
    graph = _raw_shapes()
    blank = [t for t in graph if any(isinstance(x, BNode) for x in t)]
    assert blank == []


def test_every_shape_is_named_commented_and_explained():
    graph = _raw_shapes()
    for shape in _shape_nodes(graph) | set(graph.subjects(RDF.type, SH.SPARQLConstraint)):
        assert isinstance(shape, URIRef) and str(shape).startswith(SHAPES_NS), shape
        assert graph.value(shape, RDFS.comment) is not None, f"{shape} has no rdfs:comment"
        has_sparql = (shape, SH.sparql, None) in graph
        if not has_sparql:
            message = graph.value(shape, SH.message)
            assert isinstance(message, Literal) and len(str(message)) > 10, f"{shape} has no sh:message"
    for constraint in graph.objects(None, SH.sparql):
        assert graph.value(constraint, SH.message) is not None, f"{constraint} has no sh:message"


def test_untargeted_shapes_are_used_by_tested_shapes():
    """Helper shapes (sh:node, sh:or, sh:qualifiedValueShape) are exercised through the shapes
    that use them; targeted shapes without constraints of their own hold property shapes."""
    graph = _raw_shapes()
    tested = set(SHAPES)
    for shape in _shape_nodes(graph) - tested:
        if any((shape, t, None) in graph for t in TARGETS):
            assert list(graph.objects(shape, SH.property)), f"{shape} checks nothing"
            continue
        users = set(graph.subjects(None, shape))
        for s, _, _ in graph.triples((None, RDF.first, shape)):
            users |= set(graph.subjects(None, s))
        users |= {s for u in list(users) for s in graph.subjects(SH.property, u)}
        assert users, f"helper shape {shape} is not used"


def test_shipped_shapes_are_well_formed():
    assert check_shapes(_raw_shapes()) == []
