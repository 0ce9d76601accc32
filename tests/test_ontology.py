"""The ontology (ontology/*.ttl) against the vocabulary contract of the design, and the curated
graph (graph/*.ttl) and sources (seeds/sources.ttl) against the ontology."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD

from peacegraph import paths
from peacegraph.namespaces import OA, PG, SRC, TOPIC

# The vocabulary contract: every term the data relies on must be declared, labelled and commented.
CONTRACT_CLASSES = """Actor Person Organization Group Document PeacePlan Counterproposal Communique
SourceText Provision Stance PublicStatement Assessment Event Negotiation Strike Place
ProvisionChange Attestation ClaimConflict AttestedProperty""".split()
CONTRACT_PROPERTIES = """draftedBy drafted backedBy provisionOf hasProvision topic derivedFrom
revisionOf respondsTo modelledOn holder target position condition speaker about quotation assessor
participant location date changedProvision inDocument changeKind resultingProvision conflictsWith
evidence status pointCount""".split()
POSITIONS = "Supports ConditionallySupports OpenTo Rejects Criticizes Doubts".split()
CHANGE_KINDS = "Retained Softened Strengthened Removed Added Revised".split()
# The short evidence form and the source description use these terms too.
AUTHORING_TERMS = "quote source prefix suffix occurrence sha256 text".split()

REQUIRED_TOPICS = """territory sovereignty armed-forces-limits military-alignment security-guarantees
sanctions frozen-assets economic-cooperation reconstruction elections amnesty-and-accountability
governance-and-oversight monitoring-and-implementation energy humanitarian""".split()

DECLARATION_TYPES = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                     OWL.NamedIndividual, RDF.Property, RDFS.Class}


def _parse_folder(folder: Path) -> Graph:
    files = sorted(folder.glob("*.ttl"))
    assert files, f"no Turtle files in {folder}"
    g = Graph()
    for f in files:
        g.parse(f, format="turtle")
    return g


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return _parse_folder(paths.data_dir("ontology"))


@pytest.fixture(scope="module")
def curated() -> Graph:
    folder = paths.data_dir("graph")
    g = Graph()
    for f in sorted(folder.glob("*.ttl")):
        g.parse(f, format="turtle")
    return g


def _english(graph: Graph, term, prop) -> list:
    return [o for o in graph.objects(term, prop)
            if isinstance(o, Literal) and o.language in (None, "en") and str(o).strip()]


@pytest.mark.parametrize("name", CONTRACT_CLASSES + CONTRACT_PROPERTIES + POSITIONS + CHANGE_KINDS
                         + AUTHORING_TERMS)
def test_contract_term_is_declared_labelled_and_commented(ontology, name):
    term = PG[name]
    assert set(ontology.objects(term, RDF.type)) & DECLARATION_TYPES, f"pg:{name} is not declared"
    assert _english(ontology, term, RDFS.label), f"pg:{name} has no English rdfs:label"
    assert _english(ontology, term, RDFS.comment), f"pg:{name} has no English rdfs:comment"


def test_every_declared_term_is_labelled_and_commented(ontology):
    missing = []
    for term in set(ontology.subjects(RDF.type, None)):
        if isinstance(term, URIRef) and str(term).startswith(str(PG)):
            if not _english(ontology, term, RDFS.label) or not _english(ontology, term, RDFS.comment):
                missing.append(term)
    assert not missing


def test_ontology_header_has_a_version(ontology):
    onto = list(ontology.subjects(RDF.type, OWL.Ontology))
    assert len(onto) == 1
    version = ontology.value(onto[0], OWL.versionInfo)
    assert isinstance(version, Literal) and re.fullmatch(r"\d+\.\d+\.\d+", str(version))
    # the version IRI names the same version
    assert ontology.value(onto[0], OWL.versionIRI) == URIRef(f"{onto[0]}?version={version}")


def test_ontology_has_no_blank_nodes(ontology):
    blank = [t for t in ontology if any(isinstance(x, BNode) for x in t)]
    assert blank == []


@pytest.mark.parametrize("sub, sup", [
    (PG.Actor, PROV.Agent), (PG.Person, PG.Actor), (PG.Person, FOAF.Person),
    (PG.Organization, PG.Actor), (PG.Organization, ORG.Organization), (PG.Group, PG.Actor),
    (PG.Document, PROV.Entity), (PG.Document, FOAF.Document), (PG.PeacePlan, PG.Document),
    (PG.Counterproposal, PG.PeacePlan), (PG.Communique, PG.Document), (PG.SourceText, PG.Document),
    (PG.Provision, PROV.Entity), (PG.Event, PROV.Activity), (PG.Negotiation, PG.Event),
    (PG.Strike, PG.Event), (PG.Attestation, RDF.Statement),
])
def test_class_alignment(ontology, sub, sup):
    assert (sub, RDFS.subClassOf, sup) in ontology


@pytest.mark.parametrize("sub, sup", [
    (PG.draftedBy, PROV.wasAttributedTo), (PG.provisionOf, DCTERMS.isPartOf),
    (PG.hasProvision, DCTERMS.hasPart), (PG.topic, DCTERMS.subject),
    (PG.derivedFrom, PROV.wasDerivedFrom), (PG.revisionOf, PG.derivedFrom),
    (PG.revisionOf, PROV.wasRevisionOf), (PG.respondsTo, PG.derivedFrom),
    (PG.modelledOn, PROV.wasInfluencedBy), (PG.draftOf, DCTERMS.isVersionOf),
    (PG.hasDraft, DCTERMS.hasVersion),
])
def test_property_alignment(ontology, sub, sup):
    assert (sub, RDFS.subPropertyOf, sup) in ontology


def test_property_characteristics(ontology):
    assert (PG.draftedBy, OWL.inverseOf, PG.drafted) in ontology
    assert (PG.provisionOf, OWL.inverseOf, PG.hasProvision) in ontology
    assert (PG.derivedFrom, RDF.type, OWL.TransitiveProperty) in ontology
    assert (PG.conflictsWith, RDF.type, OWL.SymmetricProperty) in ontology
    assert (PG.evidence, RDFS.range, OA.SpecificResource) in ontology


def test_attested_properties(ontology):
    attested = set(ontology.subjects(RDF.type, PG.AttestedProperty))
    assert {PG.draftedBy, PG.backedBy, PG.revisionOf, PG.respondsTo, PG.modelledOn,
            PG.participant, PG.location, PG.status, PG.affiliatedWith} <= attested
    # triples of these are inferred (inverse, transitive super-property), never attested
    assert PG.drafted not in attested and PG.derivedFrom not in attested
    # attestations link two things: only object properties can be attested
    assert all((p, RDF.type, OWL.ObjectProperty) in ontology for p in attested)
    assert PG.evidence not in attested and PG.topic not in attested


def test_enumerations_are_concepts_of_their_scheme(ontology):
    for scheme, members in ((PG.Position, POSITIONS), (PG.ChangeKind, CHANGE_KINDS)):
        assert (scheme, RDF.type, SKOS.ConceptScheme) in ontology
        in_scheme = set(ontology.subjects(SKOS.inScheme, scheme))
        assert in_scheme == {PG[m] for m in members}
        for m in members:
            assert (PG[m], RDF.type, SKOS.Concept) in ontology
            assert _english(ontology, PG[m], SKOS.prefLabel)


def test_topic_scheme(ontology):
    topics = set(ontology.subjects(RDF.type, SKOS.Concept))
    for slug in REQUIRED_TOPICS:
        t = TOPIC[slug]
        assert t in topics, f"topic:{slug} missing"
        assert _english(ontology, t, SKOS.prefLabel), slug
        assert _english(ontology, t, SKOS.definition), slug
        scheme = ontology.value(t, SKOS.inScheme)
        assert (scheme, RDF.type, SKOS.ConceptScheme) in ontology


def test_every_pg_term_used_in_the_graph_is_declared(ontology, curated):
    declared = {t for t in ontology.subjects(RDF.type, None) if str(t).startswith(str(PG))}
    used = set()
    for s, p, o in curated:
        for term in (s, p, o):
            if isinstance(term, URIRef) and str(term).startswith(str(PG)):
                used.add(term)
    assert used, "the curated graph uses no pg: terms"
    assert sorted(used - declared) == []


def test_named_attestations_are_named_as_the_build_names_them(curated):
    from peacegraph.anchor import attestation_iri
    named = [a for a in curated.subjects(RDF.type, PG.Attestation) if isinstance(a, URIRef)]
    assert named, "the claim conflicts refer to named attestations"
    for a in named:
        triple = (curated.value(a, RDF.subject), curated.value(a, RDF.predicate), curated.value(a, RDF.object))
        assert a == attestation_iri(*triple)


def test_every_node_of_the_graph_has_evidence(curated):
    # places and claim conflicts included: a reader can always ask "where does it say so?"
    nodes = set(curated.subjects(RDF.type, None))
    assert len(nodes) > 100
    assert sorted(str(n) for n in nodes if (n, PG.evidence, None) not in curated) == []
    for ev in curated.objects(None, PG.evidence):
        assert isinstance(ev, BNode) and str(curated.value(ev, PG.quote)).strip()


def test_every_topic_used_in_the_graph_is_in_the_scheme(ontology, curated):
    used = {o for o in curated.objects(None, PG.topic)}
    assert used and all((t, SKOS.inScheme, None) in ontology for t in used)


def test_sources_describe_the_seed_texts():
    seeds = paths.data_dir("seeds")
    g = Graph().parse(seeds / "sources.ttl", format="turtle")
    texts = sorted(seeds.glob("*.txt"))
    assert texts
    for path in texts:
        node = SRC[path.stem]
        assert (node, RDF.type, PG.SourceText) in g
        assert g.value(node, DCTERMS.identifier) == Literal(path.name)
        assert g.value(node, DCTERMS.format) == Literal("text/plain")
        assert str(g.value(node, DCTERMS.title)).strip()
        assert str(g.value(node, PG.sha256)) == hashlib.sha256(path.read_bytes()).hexdigest()
    seed = SRC["000_c087f7d81efda06d"]
    assert g.value(seed, DCTERMS.temporal) == Literal("2025-11-27", datatype=XSD.date)
    assert str(g.value(seed, DCTERMS.title)) in (seeds / "000_c087f7d81efda06d.txt").read_text(encoding="utf-8")


WRITTEN = (RDFS.label, RDFS.comment, SKOS.altLabel, SKOS.prefLabel, SKOS.definition)
VERBATIM = (PG.role, PG.condition, PG.grounds, PG.quotation, PG.outcome, PG.quote)


def test_written_text_is_english_and_copied_words_are_plain(ontology, curated):
    # labels and comments written for the graph are @en; the source's own words stay plain strings
    for graph in (ontology, curated):
        written = [(s, p, o) for p in WRITTEN for s, o in graph.subject_objects(p)]
        assert written
        assert [t for t in written if t[2].language != "en"] == []
    copied = [(s, p, o) for p in VERBATIM for s, o in curated.subject_objects(p)]
    assert copied and [t for t in copied if t[2].language is not None] == []


def test_property_comments_state_domain_and_range_in_words(ontology):
    props = set(ontology.subjects(RDF.type, OWL.ObjectProperty)) | set(ontology.subjects(RDF.type, OWL.DatatypeProperty))
    vague = []
    for prop in props:
        comment = str(ontology.value(prop, RDFS.comment))
        if isinstance(ontology.value(prop, RDFS.domain), URIRef):
            domain = ontology.qname(ontology.value(prop, RDFS.domain))
            if domain not in comment and "Authoring form" not in comment:
                vague.append((prop, domain))
    assert vague == []
