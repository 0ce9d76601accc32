"""The ontology and the data are consistent, and the closure says only what the text supports.

- OWL 2 DL: the ontology, the built data (asserted, sources) and the standard vocabularies it
  aligns to (PROV-O, FOAF, ORG, SKOS, OA, Dublin Core; excerpts in tests/fixtures/vocab/) are
  consistent under HermiT, run through owlready2 on Debian's headless JRE (`make java`, which
  `make test` runs), and no
  named class is unsatisfiable. The same check on a copy with a known clash must fail, so the
  check can fail.
- OWL 2 RL: the closure of the same input has no owl:Nothing member and no node in two disjoint
  classes; the build's own inferred graph says no document but the 28-point plan relates to the
  Gaza ceasefire plan, and derives nothing from a text span.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import owlready2
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from peacegraph.namespaces import ASSERTED_GRAPH, INFERRED_GRAPH, OA, ONTOLOGY_GRAPH, PG, PGID, SOURCES_GRAPH
from peacegraph.reason import infer

VOCAB = Path(__file__).parent / "fixtures" / "vocab"
PROV = "http://www.w3.org/ns/prov#"
GAZA = PGID["gaza-ceasefire-plan"]
US_PLAN = PGID["us-28-point-plan"]


def _vocabularies() -> Graph:
    graph = Graph()
    for path in sorted(VOCAB.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def _input(built_dataset) -> Graph:
    """Ontology ∪ asserted ∪ sources ∪ the standard vocabularies, as one graph."""
    graph = _vocabularies()
    for name in (ONTOLOGY_GRAPH, ASSERTED_GRAPH, SOURCES_GRAPH):
        for triple in built_dataset.graph(name):
            graph.add(triple)
    return graph


def _hermit(graph: Graph, folder: Path) -> list[str]:
    """Run HermiT on `graph`; raise owlready2's OwlReadyInconsistentOntologyError when it is
    inconsistent, else return the IRIs of the named classes it finds unsatisfiable."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "input.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    onto = world.get_ontology(path.as_uri()).load(format="ntriples")
    owlready2.sync_reasoner_hermit(onto, infer_property_values=False, debug=0)
    return sorted(c.iri for c in world.inconsistent_classes() if c.iri != str(OWL.Nothing))


@pytest.fixture(scope="module")
def dl_input(built_dataset) -> Graph:
    if shutil.which(owlready2.JAVA_EXE) is None:
        pytest.fail("no Java runtime: run `make java` (Debian's default-jre-headless)")
    return _input(built_dataset)


def test_hermit_finds_ontology_data_and_vocabularies_consistent(dl_input, tmp_path):
    assert _hermit(dl_input, tmp_path) == []


@pytest.mark.parametrize("clash", [
    # the alignment the ontology used to have: evidence as prov:wasDerivedFrom makes every event
    # with evidence a prov:Entity, and PROV-O makes Entity and Activity disjoint
    ((PG.evidence, RDFS.subPropertyOf, URIRef(PROV + "wasDerivedFrom")),),
    # a person who is also a document
    ((PGID["jared-kushner"], RDF.type, PG.Document),),
], ids=["evidence-as-derivation", "person-as-document"])
def test_hermit_reports_a_known_clash(dl_input, tmp_path, clash):
    broken = Graph()
    for triple in dl_input:
        broken.add(triple)
    for triple in clash:
        broken.add(triple)
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        _hermit(broken, tmp_path)


def test_hermit_reports_an_unsatisfiable_class(dl_input, tmp_path):
    # a class without members under two disjoint classes: consistent, but empty by necessity
    broken = Graph()
    for triple in dl_input:
        broken.add(triple)
    impossible = PG["StanceThatActs"]
    broken.add((impossible, RDF.type, OWL.Class))
    broken.add((impossible, RDFS.subClassOf, PG.Stance))
    broken.add((impossible, RDFS.subClassOf, PG.Actor))
    assert _hermit(broken, tmp_path) == [str(impossible)]


# --------------------------------------------------------------------------- OWL 2 RL closure

def _disjoint_pairs(graph: Graph) -> set[tuple]:
    pairs = set()
    for a, b in graph.subject_objects(OWL.disjointWith):
        pairs.add((a, b))
    for axiom in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(graph.items(graph.value(axiom, OWL.members)))
        pairs.update((a, b) for a in members for b in members if a != b)
    return pairs


def _clashes(graph: Graph) -> list:
    clashes = [("owl:Nothing", x) for x in graph.subjects(RDF.type, OWL.Nothing)]
    for a, b in _disjoint_pairs(graph):
        both = set(graph.subjects(RDF.type, a)) & set(graph.subjects(RDF.type, b))
        clashes.extend((a, b, x) for x in both)
    return clashes


@pytest.fixture(scope="module")
def rl_closure(built_dataset) -> Graph:
    graph = _input(built_dataset)
    for triple in infer(graph):
        graph.add(triple)
    return graph


def test_rl_closure_has_no_nothing_member_and_no_disjointness_clash(rl_closure):
    assert len(_disjoint_pairs(rl_closure)) > 60  # the ontology's own disjointness is loaded
    assert _clashes(rl_closure) == []


def test_rl_clash_check_can_fail(built_dataset):
    graph = _input(built_dataset)
    graph.add((PG.evidence, RDFS.subPropertyOf, URIRef(PROV + "wasDerivedFrom")))
    for triple in infer(graph):
        graph.add(triple)
    clashes = _clashes(graph)
    assert (URIRef(PROV + "Entity"), URIRef(PROV + "Activity"), PGID["geneva-talks"]) in clashes \
        or (URIRef(PROV + "Activity"), URIRef(PROV + "Entity"), PGID["geneva-talks"]) in clashes


def test_the_build_publishes_no_clash(built_dataset):
    graph = Graph()
    for name in (ONTOLOGY_GRAPH, ASSERTED_GRAPH, SOURCES_GRAPH, INFERRED_GRAPH):
        for triple in built_dataset.graph(name):
            graph.add(triple)
    assert _clashes(graph) == []


def test_only_the_28_point_plan_relates_to_the_gaza_plan(built_dataset, rl_closure):
    documents = set(rl_closure.subjects(RDF.type, PG.Document))
    for graph in (rl_closure, built_dataset.graph(INFERRED_GRAPH)):
        related = {s for s, p, o in graph.triples((None, None, GAZA)) if s in documents} \
            | {o for s, p, o in graph.triples((GAZA, None, None)) if o in documents}
        assert related <= {US_PLAN}
    assert (US_PLAN, PG.modelledOn, GAZA) in built_dataset.graph(ASSERTED_GRAPH)
    # being modelled on the Gaza plan is influence, not derivation
    assert (US_PLAN, URIRef(PROV + "wasInfluencedBy"), GAZA) in rl_closure
    assert (US_PLAN, PG.derivedFrom, GAZA) not in rl_closure
    assert (US_PLAN, URIRef(PROV + "wasDerivedFrom"), GAZA) not in rl_closure


def test_nothing_is_derived_from_a_text_span(built_dataset, rl_closure):
    spans = set(built_dataset.subjects(RDF.type, OA.SpecificResource))
    assert len(spans) > 100
    entities = set(rl_closure.subjects(RDF.type, URIRef(PROV + "Entity")))
    for graph in (rl_closure, built_dataset.graph(INFERRED_GRAPH)):
        derived = [(s, o) for s, o in graph.subject_objects(URIRef(PROV + "wasDerivedFrom")) if o in spans]
        assert derived == []
        assert [s for s, o in graph.subject_objects(URIRef(PROV + "wasDerivedFrom"))
                if s not in entities] == []


# --------------------------------------------------------------------------- the axioms themselves

def test_alignment_follows_the_vocabulary_contract(built_dataset):
    onto = built_dataset.graph(ONTOLOGY_GRAPH)
    assert list(onto.objects(PG.evidence, RDFS.subPropertyOf)) == []
    assert (PG.modelledOn, RDFS.subPropertyOf, PG.derivedFrom) not in onto
    assert (PG.modelledOn, RDFS.subPropertyOf, URIRef(PROV + "wasInfluencedBy")) in onto
    assert (PG.comparedWith, RDF.type, OWL.SymmetricProperty) in onto
    assert (PG.comparedWith, RDFS.subPropertyOf, None) not in onto
    for a, b in ((PG.draftedBy, PG.drafted), (PG.provisionOf, PG.hasProvision),
                 (PG.draftOf, PG.hasDraft), (PG.editorialNote, PG.qualifies)):
        assert (a, OWL.inverseOf, b) in onto and (b, OWL.inverseOf, a) in onto
    header = next(onto.subjects(RDF.type, OWL.Ontology))
    version = onto.value(header, OWL.versionIRI)
    # the ontology document's IRI with its version, so it dereferences to the ontology
    assert str(version) == f"{header}?version={onto.value(header, OWL.versionInfo)}"


@pytest.mark.parametrize("a, b", [
    (PG.Person, PG.Document), (PG.Actor, PG.Document), (PG.Event, PG.Place), (PG.Actor, PG.Place),
    (PG.Provision, PG.Stance), (PG.Document, PG.Provision), (PG.Stance, PG.PublicStatement),
    (PG.Person, PG.Organization), (PG.Organization, PG.Group), (PG.Negotiation, PG.Strike),
    (PG.EditorialNote, PG.Attestation),
])
def test_classes_that_cannot_share_members_are_disjoint(built_dataset, a, b):
    # asserted for the classes or for super-classes of theirs (a Person is an Actor)
    onto = built_dataset.graph(ONTOLOGY_GRAPH)
    pairs = _disjoint_pairs(onto)

    def supers(c):
        return set(onto.transitive_objects(c, RDFS.subClassOf))

    assert any((x, y) in pairs or (y, x) in pairs for x in supers(a) for y in supers(b))


def test_datatypes_are_in_the_owl2_datatype_map(built_dataset):
    # OWL 2 DL reasoners reject xsd:date and xsd:gYear (outside the OWL 2 datatype map) in
    # ranges and in data property values
    onto = built_dataset.graph(ONTOLOGY_GRAPH)
    outside = {URIRef("http://www.w3.org/2001/XMLSchema#" + t) for t in
               ("date", "gYear", "gYearMonth", "time", "duration", "gMonth", "gDay")}
    assert [(p, r) for p, r in onto.subject_objects(RDFS.range) if r in outside] == []
    asserted = built_dataset.graph(ASSERTED_GRAPH)
    assert [t for t in asserted if getattr(t[2], "datatype", None) in outside
            and t[1] != PG.qualifiedValue] == []


# --------------------------------------------------------------------------- OWL 2 DL profile

PROFILE_CHECK = Path(__file__).parent / "owl" / "ProfileCheck.java"
# Attestations are RDF reification (pg:Attestation ⊑ rdf:Statement): kept on purpose, and the
# only thing the OWL 2 DL profile checker may report (see the ontology's header comment).
ACCEPTED = {"UseOfReservedVocabularyForClassIRI", "UseOfUndeclaredClass"}


def _profile_violations(graph: Graph, folder: Path) -> list[tuple[str, str]]:
    """The OWL API's OWL 2 DL profile violations of `graph`, as (kind, text) pairs."""
    import subprocess
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "input.rdf"
    graph.serialize(path, format="xml", encoding="utf-8")
    hermit = Path(owlready2.__file__).parent / "hermit" / "HermiT.jar"
    done = subprocess.run([owlready2.JAVA_EXE, "-cp", str(hermit), str(PROFILE_CHECK), str(path)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    return [tuple(line.split("\t", 1)) for line in done.stdout.splitlines() if line.strip()]


def _only_reification(violations) -> bool:
    return all(kind in ACCEPTED and "rdf:Statement" in text for kind, text in violations)


def test_ontology_is_in_the_owl2_dl_profile_but_for_reification(built_dataset, dl_input, tmp_path):
    alone = _profile_violations(built_dataset.graph(ONTOLOGY_GRAPH), tmp_path / "alone")
    assert alone and _only_reification(alone), alone
    together = _profile_violations(dl_input, tmp_path / "together")
    assert _only_reification(together), together


def test_profile_check_reports_illegal_punning(built_dataset, dl_input, tmp_path):
    broken = Graph()
    for triple in built_dataset.graph(ONTOLOGY_GRAPH):
        broken.add(triple)
    broken.add((PG.pointCount, RDF.type, OWL.ObjectProperty))  # already a data property
    violations = _profile_violations(broken, tmp_path)
    assert not _only_reification(violations)
    assert any("pointCount" in text for kind, text in violations if kind not in ACCEPTED)
