"""OWL 2 RL reasoning: the inferences the build publishes, the trivia it leaves out, and the
agreement of the two engines (owlrl, the reference; reasonable, the fast default)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS

from peacegraph.errors import PeacegraphError
from peacegraph.load import parse_rdf_file
from peacegraph.namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH, PG, PGID
from peacegraph.reason import DEFAULT_ENGINE, ENGINES, STANDARD_NAMESPACES, ReasoningError, infer, schema_closure

FIXTURE = Path(__file__).parent / "fixtures" / "reason" / "ontology-and-data.ttl"
ENGINE_PARAMS = pytest.mark.parametrize("engine", ENGINES)


@pytest.fixture(scope="module")
def data() -> Graph:
    return parse_rdf_file(FIXTURE)


@pytest.fixture(scope="module")
def inferred(data) -> dict:
    return {engine: infer(data, engine) for engine in ENGINES}


@ENGINE_PARAMS
def test_inverse(inferred, engine):
    g = inferred[engine]
    assert (PGID["jared-kushner"], PG.drafted, PGID["us-28-point-plan"]) in g
    assert (PGID["us-28-point-plan"], PG.hasProvision, PGID["point-amnesty"]) in g


@ENGINE_PARAMS
def test_super_property(inferred, engine):
    g = inferred[engine]
    assert (PGID["us-28-point-plan"], PROV.wasAttributedTo, PGID["jared-kushner"]) in g
    assert (PGID["us-19-point-plan"], PG.derivedFrom, PGID["us-28-point-plan"]) in g
    assert (PGID["us-19-point-plan"], PROV.wasRevisionOf, PGID["us-28-point-plan"]) in g
    assert (PGID["us-19-point-plan"], PROV.wasDerivedFrom, PGID["us-28-point-plan"]) in g
    assert (PGID["point-amnesty"], DCTERMS.isPartOf, PGID["us-28-point-plan"]) in g
    assert (PGID["point-amnesty"], DCTERMS.subject, PGID["topic-amnesty"]) in g
    assert (PGID.statement2, RDFS.label, Literal("the deadline is over", lang="en")) in g


@ENGINE_PARAMS
def test_super_class(inferred, engine):
    g = inferred[engine]
    assert (PGID["jared-kushner"], RDF.type, PG.Actor) in g
    assert (PGID["jared-kushner"], RDF.type, PROV.Agent) in g
    assert (PGID["jared-kushner"], RDF.type, FOAF.Person) in g
    assert (PGID["european-counterproposal"], RDF.type, PG.PeacePlan) in g
    assert (PGID["european-counterproposal"], RDF.type, FOAF.Document) in g


@ENGINE_PARAMS
def test_transitive_and_symmetric(inferred, engine):
    g = inferred[engine]
    # revisionOf ⊑ derivedFrom, modelledOn ⊑ derivedFrom, derivedFrom transitive
    assert (PGID["us-19-point-plan"], PG.derivedFrom, PGID["gaza-plan"]) in g
    assert (PGID["european-counterproposal"], PG.derivedFrom, PGID["gaza-plan"]) in g
    assert (PGID["us-19-point-plan"], PROV.wasDerivedFrom, PGID["gaza-plan"]) in g
    assert (PGID["claim-b"], PG.conflictsWith, PGID["claim-a"]) in g


@ENGINE_PARAMS
def test_domain_range_and_schema(inferred, engine):
    g = inferred[engine]
    assert (PGID["us-19-point-plan"], RDF.type, PROV.Entity) not in g  # no domain on revisionOf
    assert (PGID["gaza-plan"], RDF.type, PROV.Entity) in g
    assert (PG.revisionOf, RDFS.subPropertyOf, PROV.wasDerivedFrom) in g
    assert (PG.Counterproposal, RDFS.subClassOf, PG.Document) in g
    assert (PG.draftedBy, RDFS.range, PROV.Agent) in g


@ENGINE_PARAMS
def test_only_informative_triples(data, inferred, engine):
    g = inferred[engine]
    assert len(g) > 30
    for s, p, o in g:
        assert (s, p, o) not in data
        assert not isinstance(s, (BNode, Literal)) and not isinstance(o, BNode)
        assert not str(s).startswith(STANDARD_NAMESPACES)
        assert not (s == o and p in (OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf,
                                     OWL.equivalentClass, OWL.equivalentProperty))
        assert not (p == RDF.type and o in (OWL.Thing, RDFS.Resource, OWL.NamedIndividual))
    # "getting close" is already the statement's rdfs:label (written as xsd:string)
    assert not list(g.triples((PGID.statement, RDFS.label, None)))
    # what is inferred from a blank-node drafter is kept only where no blank node remains
    about_anonymous = set(g.triples((PGID["anonymous-draft"], None, None)))
    assert (PGID["anonymous-draft"], RDF.type, PG.Document) in about_anonymous
    assert all(p not in (PROV.wasAttributedTo, PG.draftedBy) for _, p, _ in about_anonymous)


def test_engines_agree_on_the_fixture(inferred):
    assert set(inferred["owlrl"]) == set(inferred["reasonable"]) == set(inferred["forward"])


def test_input_is_not_modified(data):
    before = set(data)
    for engine in ENGINES:
        infer(data, engine)
    assert set(data) == before


def test_dataset_input_ignores_the_inferred_graph(data):
    ds = Dataset()
    ds.graph(ONTOLOGY_GRAPH).__iadd__(data)
    ds.graph(INFERRED_GRAPH).add((PGID.x, RDF.type, PG.Person))
    g = infer(ds, DEFAULT_ENGINE)
    assert (PGID.x, RDF.type, PG.Actor) not in g
    assert (PGID["jared-kushner"], RDF.type, PG.Actor) in g


def test_dataset_is_read_in_place_like_its_merged_copy(data):
    """The named graphs of a Dataset are reasoned over without a merged copy: a triple held by
    two graphs, and a literal the engine returns in another form ("x"^^xsd:string for "x"),
    still count as given, so the inferences are exactly those of the merged graph."""
    from rdflib.namespace import XSD

    from peacegraph.namespaces import ASSERTED_GRAPH, SOURCES_GRAPH

    ds = Dataset()
    triples = sorted(data)
    half = len(triples) // 2
    first, second = ds.graph(ONTOLOGY_GRAPH), ds.graph(ASSERTED_GRAPH)
    first.addN((s, p, o, first) for s, p, o in triples[: half + 10])
    second.addN((s, p, o, second) for s, p, o in triples[half:])
    typed = (PGID.x, RDFS.label, Literal("typed", datatype=XSD.string))
    ds.graph(SOURCES_GRAPH).add(typed)
    merged = Graph()
    merged += data
    merged.add(typed)
    assert set(infer(ds, "reasonable")) == set(infer(merged, "reasonable")) \
        == set(infer(merged, "owlrl")) == set(infer(ds, "forward")) == set(infer(merged, "forward"))


def test_collector_is_paused_only_inside_the_bulk_step():
    import gc

    from peacegraph.gcpause import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError):
        with paused_gc():
            raise ValueError("the step failed")
    assert gc.isenabled()


def test_what_a_pause_allocated_waits_for_a_full_collection():
    """The objects a pause allocated leave the youngest generation when it ends, so the next
    young collection does not walk them all; a cycle among them is still freed by a full one."""
    import gc
    import weakref

    from peacegraph.gcpause import paused_gc

    class Node:
        pass

    with paused_gc():
        kept = [[i] for i in range(50_000)]
        node = Node()
        node.itself = node
        cycle = weakref.ref(node)
        del node
        assert gc.get_count()[0] > 50_000
    assert gc.get_count()[0] < 1_000
    gc.collect(0)
    gc.collect(1)
    assert cycle() is not None
    gc.collect()
    assert cycle() is None and len(kept) == 50_000


def test_unknown_engine_is_an_error(data):
    with pytest.raises(ReasoningError) as info:
        infer(data, "hermit")
    assert isinstance(info.value, PeacegraphError) and "hermit" in str(info.value)


def test_schema_closure_completes_subproperties_domains_and_ranges():
    a, b, c, C1, C2 = (URIRef(f"https://example.org/{n}") for n in ("a", "b", "c", "C1", "C2"))
    triples = [(a, RDFS.subPropertyOf, b), (b, RDFS.subPropertyOf, c), (c, RDFS.domain, C1),
               (C1, RDFS.subClassOf, C2)]
    added = set(schema_closure(triples))
    assert added == {(a, RDFS.subPropertyOf, c), (a, RDFS.domain, C1), (b, RDFS.domain, C1),
                     (a, RDFS.domain, C2), (b, RDFS.domain, C2), (c, RDFS.domain, C2)}


def _shipped_data() -> Graph:
    from peacegraph.build import BuildConfig, assemble

    return assemble(BuildConfig.defaults(quiet=True), reason=False).validation_data()


def test_engines_agree_on_the_shipped_graph():
    data = _shipped_data()
    owlrl_triples = set(infer(data, "owlrl"))
    fast_triples = set(infer(data, "reasonable"))
    assert owlrl_triples == fast_triples == set(infer(data, "forward"))
    assert (PGID["jared-kushner"], RDF.type, PROV.Agent) in fast_triples


@pytest.mark.slow
def test_engines_agree_on_a_synthetic_corpus(tmp_path):
    from peacegraph.build import BuildConfig, assemble

    out = tmp_path / "synth"
    subprocess.run([sys.executable, "-m", "peacegraph.cli", "synth", "--triples", "4000",
                    "--seed", "7", "--out", str(out), "--quiet"], check=True,
                   env=dict(os.environ, CI="1"), timeout=120)
    data = assemble(BuildConfig.defaults(seeds=out / "seeds", graph=out / "graph", quiet=True),
                    reason=False).validation_data()
    fast = set(infer(data, "reasonable"))
    assert len(fast) > 500
    assert set(infer(data, "owlrl")) == fast == set(infer(data, "forward"))


EX = "https://w3id.org/peacegraph/id/"

_IDENTITY_TTL = """
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix pg: <https://w3id.org/peacegraph/ontology#> .
@prefix pgid: <https://w3id.org/peacegraph/id/> .

pg:headOf a owl:ObjectProperty, owl:FunctionalProperty ; rdfs:range pg:Person .
pg:officeOf a owl:ObjectProperty, owl:InverseFunctionalProperty .
pg:leads a owl:ObjectProperty ; owl:inverseOf pg:ledBy .
pg:ledBy rdfs:subPropertyOf pg:relatedTo .
pg:relatedTo a owl:ObjectProperty, owl:TransitiveProperty .
pg:Person rdfs:subClassOf pg:Actor .
pg:Actor owl:equivalentClass pg:Agent .
pg:Agent rdfs:subClassOf pg:Thing2 .
pg:Thing2 rdfs:subClassOf pg:Agent .
pg:narrower rdfs:subPropertyOf rdfs:subClassOf .

pgid:ukraine pg:headOf pgid:zelensky , pgid:president-of-ukraine .
pgid:office-a pg:officeOf pgid:kyiv-office .
pgid:office-b pg:officeOf pgid:kyiv-office .
pgid:office-a pg:leads pgid:team .
pgid:team pg:relatedTo pgid:ministry .
pgid:zelensky owl:sameAs pgid:volodymyr-zelensky .
pgid:volodymyr-zelensky pg:speaks pgid:statement .
pg:Envoy pg:narrower pg:Person .
pgid:witkoff a pg:Envoy .
"""


def test_forward_engine_agrees_with_owlrl_on_identity_and_data_level_schema():
    """Functional and inverse-functional properties, owl:sameAs (with its replacement rules),
    a transitive super-property reached through an inverse, equivalence by mutual subclasses,
    and a subclass statement derived from the data itself (a sub-property of rdfs:subClassOf)."""
    data = Graph().parse(data=_IDENTITY_TTL, format="turtle")
    forward = set(infer(data, "forward"))
    assert forward == set(infer(data, "owlrl"))
    pgid = lambda name: URIRef(EX + name)  # noqa: E731
    assert (pgid("zelensky"), OWL.sameAs, pgid("president-of-ukraine")) in forward
    assert (pgid("president-of-ukraine"), PG.speaks, pgid("statement")) in forward
    assert (pgid("office-b"), OWL.sameAs, pgid("office-a")) in forward
    assert (pgid("office-b"), PG.leads, pgid("team")) in forward
    assert (pgid("team"), PG.relatedTo, pgid("office-a")) in forward
    assert (pgid("team"), PG.relatedTo, pgid("office-b")) in forward
    assert (PG.Envoy, RDFS.subClassOf, PG.Person) in forward
    assert (pgid("witkoff"), RDF.type, PG.Agent) in forward
    assert (PG.Agent, OWL.equivalentClass, PG.Thing2) in forward


def test_forward_engine_refuses_what_it_does_not_cover_and_auto_falls_back():
    data = Graph().parse(data="""
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix pg: <https://w3id.org/peacegraph/ontology#> .
        @prefix pgid: <https://w3id.org/peacegraph/id/> .
        pg:Drafter owl:equivalentClass [ a owl:Restriction ;
            owl:onProperty pg:drafted ; owl:someValuesFrom pg:Document ] .
        pgid:kushner pg:drafted pgid:plan . pgid:plan a pg:Document .
        """, format="turtle")
    with pytest.raises(ReasoningError) as info:
        infer(data, "forward")
    assert isinstance(info.value, PeacegraphError)
    assert "owl#onProperty" in str(info.value) or "owl#someValuesFrom" in str(info.value)
    assert "reasonable" in str(info.value)
    drafter = (URIRef(EX + "kushner"), RDF.type, PG.Drafter)
    assert drafter in set(infer(data, "auto")) == set(infer(data, "reasonable"))
    assert DEFAULT_ENGINE == "auto"


def test_inferences_can_be_written_into_the_dataset_they_come_from(data):
    ds = Dataset()
    ds.graph(ONTOLOGY_GRAPH).__iadd__(data)
    target = ds.graph(INFERRED_GRAPH)
    returned = infer(ds, into=target)
    assert returned is target
    assert set(target) == set(infer(data, "owlrl"))
    assert len(ds.graph(ONTOLOGY_GRAPH)) == len(data)


def test_rules_apply_to_triples_with_a_literal_subject_on_the_way():
    """x p "a" with p the inverse of q gives "a" q x, not RDF but a step of the closure: q's
    range then types x (as owlrl does)."""
    data = Graph().parse(data="""
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix pg: <https://w3id.org/peacegraph/ontology#> .
        @prefix pgid: <https://w3id.org/peacegraph/id/> .
        pg:named owl:inverseOf pg:names . pg:names rdfs:range pg:Named .
        pg:alias a owl:SymmetricProperty ; rdfs:range pg:Aliased .
        pgid:x pg:named "a" . pgid:y pg:alias "b" .
        """, format="turtle")
    forward = set(infer(data, "forward"))
    assert (URIRef(EX + "x"), RDF.type, PG.Named) in forward
    assert forward == set(infer(data, "owlrl")) == set(infer(data, "reasonable"))
