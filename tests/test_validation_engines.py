"""The fast validation engine (pyshacl-turbo) gives exactly the report of the reference engine
(pyshacl): the same conformance and the same results — focus node, source shape, path, value,
severity, constraint component and message — on every shape fixture, valid and invalid, and on
the shipped graph, both as built and broken in ways that trigger Core and SHACL-SPARQL shapes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from peacegraph import validate as validate_module
from peacegraph.errors import PeacegraphError
from peacegraph.load import parse_rdf_file
from peacegraph.namespaces import ASSERTED_GRAPH, INFERRED_GRAPH, OA, ONTOLOGY_GRAPH, PG, PGID, SH
from peacegraph.validate import DEFAULT_ENGINE, ENGINES, SHAPES_NS, data_for_validation, validate_graph

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
FIXTURE_FILES = sorted(FIXTURES.glob("*/*.ttl")) + [FIXTURES / "complete.ttl"]
PGSH = SHAPES_NS


def _report_rows(report) -> Counter:
    """Every top-level result of the sh:ValidationReport graph, with all it says."""
    g = report.graph
    rows = Counter()
    for rep in g.subjects(RDF.type, SH.ValidationReport):
        for r in g.objects(rep, SH.result):
            rows[(g.value(r, SH.focusNode), g.value(r, SH.sourceShape), g.value(r, SH.resultPath),
                  g.value(r, SH.value), g.value(r, SH.resultSeverity),
                  g.value(r, SH.sourceConstraintComponent),
                  tuple(sorted(str(m) for m in g.objects(r, SH.resultMessage))))] += 1
    return rows


def _assert_same(shapes: Graph, data, origin=None):
    reference = validate_graph(data, shapes, origin, engine="pyshacl")
    fast = validate_graph(data, shapes, origin, engine="turbo")
    assert fast.conforms == reference.conforms
    assert fast.results == reference.results
    assert _report_rows(fast) == _report_rows(reference)
    assert fast.text() == reference.text()
    return reference


def test_turbo_is_the_default_and_pyshacl_stays_selectable():
    assert DEFAULT_ENGINE == "turbo"
    assert set(ENGINES) == {"turbo", "pyshacl"}


def test_unknown_engine_is_a_clear_error(shipped_shapes):
    with pytest.raises(PeacegraphError, match="unknown validation engine"):
        validate_graph(Graph(), shipped_shapes, engine="topbraid")


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_report_on_every_shape_fixture(fixture, shipped_shapes):
    data = parse_rdf_file(fixture)
    reference = _assert_same(shipped_shapes, data, {s: fixture.name for s in data.subjects()})
    if fixture.name == "invalid.ttl":
        shape = URIRef(PGSH + fixture.parent.name)
        assert any(r.source_shape == shape for r in reference.results)


def test_same_report_on_the_shipped_graph(built_dataset, shipped_shapes):
    reference = _assert_same(shipped_shapes, data_for_validation(built_dataset))
    assert reference.conforms is True


def _break(graph: Graph) -> set:
    """Damage a copy of the shipped data in ways that several shapes must report; returns the
    shapes expected among the results."""
    from rdflib.namespace import XSD  # imported here: pytest's collector probes module names

    actor = sorted(graph.subjects(RDF.type, PG.Person))[0]
    graph.remove((actor, RDFS.label, None))
    quote = sorted(graph.subjects(RDF.type, OA.TextQuoteSelector))[0]
    graph.set((quote, OA.exact, Literal("words the source never said")))
    position = sorted(graph.subjects(RDF.type, OA.TextPositionSelector))[0]
    graph.set((position, OA.end, Literal(10_000_000, datatype=XSD.nonNegativeInteger)))
    source = sorted(graph.subjects(RDF.type, PG.SourceText))[0]
    graph.set((source, PG.sha256, Literal("0" * 64)))
    first, second = sorted((s, o) for p in (PG.derivedFrom, PG.revisionOf, PG.respondsTo,
                                            PG.modelledOn)
                           for s, o in graph.subject_objects(p))[0]
    graph.add((second, PG.derivedFrom, first))
    attestation = sorted(graph.subjects(RDF.type, PG.Attestation))[0]
    s, p, o = (graph.value(attestation, k) for k in (RDF.subject, RDF.predicate, RDF.object))
    graph.remove((s, p, o))
    stance = sorted(graph.subjects(RDF.type, PG.Stance))[0]
    graph.set((stance, PG.position, PG.Shrugs))
    graph.add((stance, PG.mood, Literal("undeclared property")))
    return {URIRef(PGSH + name) for name in (
        "Actor-label", "QuoteMatchesTextShape", "PositionInRangeShape", "SourceHashShape",
        "LineageAcyclicShape", "AttestedTripleExistsShape", "Stance-position",
        "DeclaredVocabularyShape")}


def test_same_report_on_the_shipped_graph_broken(built_dataset, shipped_shapes):
    data = Graph()
    data += data_for_validation(built_dataset)
    expected = _break(data)
    reference = _assert_same(shipped_shapes, data)
    assert reference.conforms is False
    assert expected <= {r.source_shape for r in reference.results}


def test_a_dataset_is_validated_in_place_without_its_inferred_graph(built_dataset, shipped_shapes):
    """A Dataset is read graph by graph (no merged copy): a triple held by two named graphs
    counts once, the inferred graph is never validated, and the engine reads each predicate's
    statements one after another."""
    broken = Graph()
    broken += data_for_validation(built_dataset)
    _break(broken)
    dataset = Dataset()
    dataset.graph(ASSERTED_GRAPH).addN((s, p, o, dataset.graph(ASSERTED_GRAPH)) for s, p, o in broken)
    ontology = dataset.graph(ONTOLOGY_GRAPH)
    ontology.addN((s, p, o, ontology) for s, p, o in built_dataset.graph(ONTOLOGY_GRAPH))
    inferred = dataset.graph(INFERRED_GRAPH)
    inferred.add((PGID["not-validated"], PG.undeclaredTerm, Literal("inferred only")))

    view = validate_module._UnionView(dataset)
    assert len(view) == len(broken) and set(view) == set(broken)
    walk = list(view)
    walked = [p for _, p, _ in walk]
    assert len(walked) == len(broken)
    # each predicate's statements come together, their objects in the order they were made
    # (the engine indexes them faster so)
    runs = [p for i, p in enumerate(walked) if i == 0 or p != walked[i - 1]]
    assert len(runs) == len(set(walked)) > 1
    made = [id(o) for _, _, o in walk]
    assert all(made[i] <= made[i + 1] for i in range(len(walk) - 1) if walked[i] == walked[i + 1])
    in_place = validate_graph(dataset, shipped_shapes)
    reference = validate_graph(broken, shipped_shapes, engine="pyshacl")
    assert in_place.conforms is False
    assert in_place.results == reference.results
    assert in_place.triples == reference.triples


def test_each_sparql_target_selects_the_nodes_its_constraint_reports(built_dataset, shipped_shapes):
    """A shape with a SPARQL target checks only the nodes its target selects, so the target must
    select every node its constraint would report, written for speed as it may be: on the
    shipped graph broken (an undeclared class too), the target query and the constraint query
    run free over every node give the same nodes."""
    from rdflib.plugins.sparql import prepareQuery

    data = Graph()
    data += data_for_validation(built_dataset)
    _break(data)
    stance = sorted(data.subjects(RDF.type, PG.Stance))[0]
    data.add((stance, RDF.type, PG.Moodiness))
    attested = sorted(data.subjects(RDF.type, PG.AttestedProperty))[0]
    data.add((stance, attested, PGID["nobody-attests-this"]))
    conflict = sorted(data.subjects(RDF.type, PG.ClaimConflict))[0]
    for claim in data.objects(conflict, PG.conflictingClaim):
        data.remove((claim, PG.conflictsWith, None))
        data.remove((None, PG.conflictsWith, claim))
    checked = 0
    for shape, target in shipped_shapes.subject_objects(SH.target):
        for constraint in shipped_shapes.objects(shape, SH.sparql):
            selected, reported = (
                {row[0] for row in data.query(prepareQuery(
                    str(shipped_shapes.value(node, SH.select)),
                    initNs=validate_module._prefix_declarations(shipped_shapes, node)[0]))}
                for node in (target, constraint))
            assert selected == {r for r in reported if r is not None}, shape
            checked += bool(selected)
    assert checked == 8
