"""The shapes of the dataset's descriptions (shapes/metadata/): each targeted node shape has a
valid and an invalid fixture in tests/fixtures/metadata-shapes/<shape>/ (the invalid one naming
its focus nodes in `# expect-focus:` lines), and the descriptions peacegraph writes conform."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from rdflib.util import from_n3

from peacegraph.metadata_shapes import metadata_shapes, schema_org_graph, validate_metadata
from peacegraph.namespaces import SH
from peacegraph.void import DumpFile, Release, schema_org_dataset, void_graph

FIXTURES = Path(__file__).parent / "fixtures" / "metadata-shapes"
META = "https://w3id.org/peacegraph/shapes/metadata#"
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
BASE = "https://w3id.org/peacegraph/"


def _targeted() -> list[URIRef]:
    shapes = metadata_shapes()
    return sorted(s for s in shapes.subjects(RDF.type, SH.NodeShape)
                  if any((s, t, None) in shapes for t in TARGETS))


def _family(shape) -> set:
    return {shape} | set(metadata_shapes().objects(shape, SH.property))


def _results(shape, fixture: Path):
    data = Graph().parse(fixture, format="turtle")
    report = validate_metadata(data)
    return data, [r for r in report.results if r.source_shape in _family(shape)]


def _name(shape) -> str:
    return str(shape)[len(META):]


def test_every_targeted_shape_has_its_fixtures():
    names = {_name(s) for s in _targeted()}
    assert {"VoidDatasetShape", "DcatDatasetShape", "DownloadShape", "ChecksumShape",
            "SchemaDatasetShape", "ServiceShape"} <= names
    assert names == {p.name for p in FIXTURES.iterdir() if p.is_dir()}


@pytest.mark.parametrize("shape", _targeted(), ids=_name)
def test_valid_fixture(shape):
    _, results = _results(shape, FIXTURES / _name(shape) / "valid.ttl")
    assert results == []


@pytest.mark.parametrize("shape", _targeted(), ids=_name)
def test_invalid_fixture(shape):
    fixture = FIXTURES / _name(shape) / "invalid.ttl"
    data, results = _results(shape, fixture)
    expected = {from_n3(line.split(":", 1)[1].strip(), nsm=data.namespace_manager)
                for line in fixture.read_text(encoding="utf-8").splitlines() if line.startswith("# expect-focus:")}
    assert expected and {r.focus for r in results} == expected


def _description() -> Graph:
    files = [DumpFile("peacegraph.trig", 120, "a" * 64), DumpFile("peacegraph.nq", 130, "b" * 64),
             DumpFile("provisions.csv", 40, "c" * 64), DumpFile("SHA256SUMS", 90, "")]
    return void_graph(BASE, {BASE + "graph/asserted": 100, BASE + "graph/inferred": 20}, files,
                      release=Release("1.2.0", "2026-12-01"))


def test_the_void_and_dcat_description_conforms_and_parses():
    graph = _description()
    report = validate_metadata(graph)
    assert report.conforms, report.text()
    # and it survives a Turtle round trip, as dist/void.ttl
    again = Graph().parse(data=graph.serialize(format="turtle"), format="turtle")
    assert len(again) == len(graph)


def test_the_schema_org_dataset_conforms():
    document = schema_org_dataset(BASE, {BASE + "graph/asserted": 100},
                                  [DumpFile("peacegraph.trig", 120, "a" * 64)], release=Release("1.2.0"))
    assert document["@type"] == "Dataset" and document["version"] == "1.2.0"
    graph = schema_org_graph(document)
    report = validate_metadata(graph)
    assert report.conforms, report.text()
    assert (None, RDF.type, URIRef("https://schema.org/Dataset")) in graph


def test_the_shipped_builds_description_conforms(built_dist):
    graph = Graph().parse(built_dist / "void.ttl", format="turtle")
    report = validate_metadata(graph)
    assert report.conforms, report.text()
    ds = URIRef(BASE + "dataset")
    examples = set(graph.objects(ds, URIRef("http://rdfs.org/ns/void#exampleResource")))
    # the example resources are things of the shipped graph
    nq = (built_dist / "peacegraph.nq").read_text(encoding="utf-8")
    assert examples and all(f"<{e}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>" in nq for e in examples)
