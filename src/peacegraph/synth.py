"""A synthetic corpus in the authoring form of graph/, for measuring the pipeline at scale.

`synthesize(out, triples, seed)` writes `out/seeds` (source texts and `sources.ttl` with their
sha256) and `out/graph` (curated Turtle with short `pg:quote` evidence) that `peacegraph build`
takes unchanged. Each source text is a short synthetic news article about one round of
negotiations; the curated statements about it have the mix of the real graph: actors, places,
documents and their lineage, provisions with topics, what a counterproposal did to them,
stances, public statements, events, assessments, and attestations for every attested relation.

Every quote is cut from the text it cites. Like the real seed, each article repeats one paragraph,
so some quotes occur twice and are told apart with `pg:occurrence` or `pg:prefix`; some texts use
non-breaking hyphens and curly quotes where the quote uses the plain characters, so anchoring
has to fold typographic variants.

The vocabulary comes from the shipped ontology at run time: the topic concepts (`topic:{slug}`
with their labels), which properties are `pg:AttestedProperty`, and the class and property
axioms used to estimate how many triples reasoning will add. `--triples N` is the size of the
*built* graph (asserted with anchored evidence, inferred, sources, ontology); the generator
measures a sample of articles in their anchored form to choose how many to write.

Output is deterministic for a seed (byte-identical files), written article by article so memory
does not grow with N, and only moved into place when complete.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from peacegraph.anchor import Anchorer, fold
from peacegraph.errors import AnchorError, InputError, PeacegraphError
from peacegraph.namespaces import PG, PREFIXES, TOPIC
from peacegraph.paths import data_dir
from peacegraph.progress import Progress
from peacegraph.terms import short_name

MARKER = ".peacegraph-synth"
SAMPLE_ARTICLES = 24

# The files of graph/ and what goes in each.
GRAPH_FILES = ("actors", "places", "documents", "provisions", "changes", "stances",
               "statements", "events", "assessments")

POSITIONS = ("Supports", "ConditionallySupports", "OpenTo", "Rejects", "Criticizes", "Doubts")
CHANGE_KINDS = ("Retained", "Softened", "Strengthened", "Removed", "Revised")

_SYLLABLES = ("dor", "vak", "bel", "mir", "kas", "tan", "lor", "vin", "zel", "mar", "tor", "ven",
              "sal", "rin", "kov", "dal", "nes", "tar", "bor", "lem", "qui", "ros", "fen", "gal")
_FIRST_NAMES = ("Anna", "Boris", "Clara", "Dmytro", "Elena", "Farid", "Greta", "Hugo", "Irina",
                "Jonas", "Katya", "Lucas", "Marta", "Nikolai", "Olga", "Pavel", "Rosa", "Stefan",
                "Tamara", "Viktor", "Yana", "Zoran")
_ROLES = ("special envoy", "foreign minister", "national security adviser", "chief negotiator",
          "deputy prime minister", "presidential aide")
_ORG_KINDS = ("government", "foreign ministry", "council", "alliance", "presidential office")
_QUOTATIONS = ("getting close", "a concept, not a treaty", "could form a basis", "far from settled",
               "a serious step", "too early to say", "a living document", "unacceptable as written")
_MONTHS = ("September", "October", "November", "December")
_MONTH_NUMBERS = {"September": 9, "October": 10, "November": 11, "December": 12}

_TURTLE_PREFIXES = ("pg", "pgid", "topic", "src", "rdf", "rdfs", "skos", "xsd", "dcterms")


# ---------------------------------------------------------------------------- vocabulary

@dataclass
class Vocabulary:
    """What the generator takes from the ontology."""

    topics: list[tuple[str, str]]          # (curie, lower-case label), sorted by IRI
    attested: frozenset[str]               # curies of pg:AttestedProperty properties
    superclasses: dict[str, set[str]] = field(default_factory=dict)   # direct
    superproperties: dict[str, set[str]] = field(default_factory=dict)
    inverses: dict[str, set[str]] = field(default_factory=dict)
    symmetric: frozenset[str] = frozenset()
    transitive: frozenset[str] = frozenset()
    domains: dict[str, set[str]] = field(default_factory=dict)
    ranges: dict[str, set[str]] = field(default_factory=dict)
    ontology_triples: int = 0


def read_vocabulary(ontology_dir: Path) -> Vocabulary:
    """Topics, attested properties and schema axioms of the ontology in `ontology_dir`."""
    files = sorted(Path(ontology_dir).glob("*.ttl"))
    if not files:
        raise InputError(f"no ontology Turtle files in {ontology_dir}")
    g = Graph()
    for f in files:
        try:
            g.parse(f, format="turtle")
        except Exception as exc:  # rdflib raises many types; the user needs the file name
            raise InputError(f"cannot parse ontology file: {exc}", file=str(f)) from None

    topics = []
    for concept in set(g.subjects(RDF.type, SKOS.Concept)):
        if isinstance(concept, URIRef) and str(concept).startswith(str(TOPIC)):
            labels = sorted(str(label) for label in g.objects(concept, SKOS.prefLabel)
                            if getattr(label, "language", None) in ("en", None))
            slug = str(concept)[len(str(TOPIC)):]
            topics.append((str(concept), (labels[0] if labels else slug.replace("-", " ")).lower()))
    topics.sort()
    if not topics:
        raise InputError(f"the ontology in {ontology_dir} declares no topic concepts "
                         f"({TOPIC}{{slug}} a skos:Concept)")

    def named(node) -> bool:
        return isinstance(node, URIRef)

    def rel(pred) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for s, o in g.subject_objects(pred):
            if named(s) and named(o) and s != o:
                out.setdefault(short_name(s), set()).add(short_name(o))
        return out

    inverses = rel(OWL.inverseOf)
    for a, bs in list(inverses.items()):
        for b in bs:
            inverses.setdefault(b, set()).add(a)
    return Vocabulary(
        topics=[(short_name(URIRef(t)), label) for t, label in topics],
        attested=frozenset(short_name(p) for p in g.subjects(RDF.type, PG.AttestedProperty) if named(p)),
        superclasses=rel(RDFS.subClassOf),
        superproperties=rel(RDFS.subPropertyOf),
        inverses=inverses,
        symmetric=frozenset(short_name(p) for p in g.subjects(RDF.type, OWL.SymmetricProperty) if named(p)),
        transitive=frozenset(short_name(p) for p in g.subjects(RDF.type, OWL.TransitiveProperty) if named(p)),
        domains=rel(RDFS.domain),
        ranges=rel(RDFS.range),
        ontology_triples=len(g),
    )


# ---------------------------------------------------------------------------- article model

@dataclass
class _Evidence:
    start: int
    end: int
    # filled once the whole text is known
    quote: str = ""
    occurrence: int | None = None
    prefix: str | None = None


@dataclass
class _Node:
    subject: str
    cls: str
    kind: str
    props: list[tuple[str, str]] = field(default_factory=list)
    evidence: list[_Evidence] = field(default_factory=list)


@dataclass
class _Attestation:
    subject: str
    predicate: str
    obj: str
    kind: str
    evidence: _Evidence


@dataclass
class _Article:
    stem: str
    title: str
    text: str
    nodes: list[_Node]
    attestations: list[_Attestation]


def _lit(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


class _Names:
    """Unique invented names: a counter written in syllables, fixed width so that no name is
    the beginning of another."""

    def __init__(self, width: int):
        self.width = width
        self.counters: dict[str, int] = {}

    def next(self, kind: str, offset: int) -> str:
        n = self.counters.get(kind, 0)
        self.counters[kind] = n + 1
        # A bijection of the counter (7919 is prime to 24), so names look varied but never repeat
        # within a kind; kinds differ in their offset and their slug suffixes.
        n = (n * 7919 + offset * 4243) % len(_SYLLABLES) ** self.width
        sylls = []
        for _ in range(self.width):
            n, d = divmod(n, len(_SYLLABLES))
            sylls.append(_SYLLABLES[d])
        return "".join(sylls).capitalize()


class _Writer:
    """Builds one article's text sentence by sentence, remembering where each sentence starts."""

    def __init__(self):
        self.parts: list[str] = []
        self.length = 0

    def raw(self, s: str) -> int:
        at = self.length
        self.parts.append(s)
        self.length += len(s)
        return at

    def sentence(self, s: str) -> int:
        if self.parts and not self.parts[-1].endswith(("\n", " ")):
            self.raw(" ")
        return self.raw(s)

    def text(self) -> str:
        return "".join(self.parts)


def _ev(at: int, sentence: str, quote: str) -> _Evidence:
    i = sentence.index(quote)
    return _Evidence(at + i, at + i + len(quote))


def _slug(name: str) -> str:
    return name.lower().replace("the ", "").replace(" ", "-")


@dataclass
class _Draft:
    """One article being written: its cast, its text so far, and the nodes and attestations that
    cite it."""

    stem: str
    index: int
    src: str
    hy: str
    lq: str
    rq: str
    person_a: str
    person_b: str
    country: str
    org: str
    country2: str
    org2: str
    group: str
    city: str
    city2: str
    plan: str
    counter: str
    k: int
    m: int
    title: str
    n_a: _Node
    n_b: _Node
    n_org: _Node
    n_org2: _Node
    n_group: _Node
    n_city: _Node
    n_city2: _Node
    n_plan: _Node
    n_counter: _Node
    w: _Writer = field(default_factory=_Writer)
    nodes: list[_Node] = field(default_factory=list)
    atts: list[_Attestation] = field(default_factory=list)
    provisions: list[tuple[_Node, int, str, str]] = field(default_factory=list)   # (node, point, topic curie, label)


class _Generator:
    """Generates articles one at a time; holds only small pools of earlier names for
    cross-references between articles."""

    def __init__(self, vocab: Vocabulary, seed: int, width: int):
        self.vocab = vocab
        self.rng = random.Random(seed)
        self.names = _Names(width)
        self.index = 0
        self.pool_actors: list[tuple[str, str]] = []     # (curie, display name)
        self.pool_plans: list[tuple[str, str]] = []       # (curie, "Name")

    # relation helper: attested properties get an attestation, the others a plain triple
    def _relate(self, atts, node: _Node, pred: str, obj: str, evidence: _Evidence):
        if pred in self.vocab.attested:
            atts.append(_Attestation(node.subject, pred, obj, node.kind, evidence))
        else:
            node.props.append((pred, obj))

    def article(self) -> _Article:
        d = self._cast()
        self._lead(d)
        self._provisions(d)
        self._counterproposal(d)
        self._stances(d)
        self._statements(d)
        self._events(d)
        self._assessments(d)
        text = d.w.text()
        self._finish_evidence(text, d.nodes, d.atts)
        self.pool_actors = (self.pool_actors + [(d.n_a.subject, d.person_a),
                                                (d.n_org2.subject, d.org2[0].upper() + d.org2[1:])])[-40:]
        self.pool_plans = (self.pool_plans + [(d.n_plan.subject, d.plan)])[-40:]
        return _Article(d.stem, d.title, text, d.nodes, d.atts)

    def _cast(self) -> _Draft:
        """The people, bodies, places and documents of one article, and its typography."""
        rng, names = self.rng, self.names
        i = self.index
        self.index += 1
        stem = f"{i:06d}_{rng.getrandbits(64):016x}"
        src = f"src:{stem}"
        nb_hyphen = rng.random() < 0.5       # this text writes "20\u2011point"
        curly = rng.random() < 0.7           # this text writes curly quotation marks
        hy = "\u2011" if nb_hyphen else "-"
        lq, rq = ("\u201c", "\u201d") if curly else ('"', '"')

        person_a = f"{rng.choice(_FIRST_NAMES)} {names.next('person', 0)}"
        person_b = f"{rng.choice(_FIRST_NAMES)} {names.next('person', 0)}"
        country = names.next("country", 1)
        org = f"the {country} {rng.choice(_ORG_KINDS)}"
        country2 = names.next("country", 1)
        org2 = f"the {country2} government"
        group = f"{names.next('group', 2)} analysts"
        city = names.next("place", 3) + "a"
        city2 = names.next("place", 3) + "ovo"
        plan = names.next("plan", 4)
        counter = names.next("plan", 4)
        k = rng.randint(12, 30)
        m = rng.randint(8, k - 2)
        title = f"Talks on the {plan} Plan continue in {city}"

        n_a = _Node(f"pgid:{_slug(person_a)}", "pg:Person", "actors", [("rdfs:label", _lit(person_a))])
        n_b = _Node(f"pgid:{_slug(person_b)}", "pg:Person", "actors", [("rdfs:label", _lit(person_b))])
        n_org = _Node(f"pgid:{_slug(country)}-{_slug(org.split(country)[1].strip())}", "pg:Organization",
                      "actors", [("rdfs:label", _lit(org[4:]))])
        n_org2 = _Node(f"pgid:{_slug(country2)}-government", "pg:Organization", "actors",
                       [("rdfs:label", _lit(org2[4:]))])
        n_group = _Node(f"pgid:{_slug(group)}", "pg:Group", "actors", [("rdfs:label", _lit(group))])
        n_city = _Node(f"pgid:{_slug(city)}", "pg:Place", "places", [("rdfs:label", _lit(city))])
        n_city2 = _Node(f"pgid:{_slug(city2)}", "pg:Place", "places", [("rdfs:label", _lit(city2))])
        n_plan = _Node(f"pgid:{_slug(plan)}-plan", "pg:PeacePlan", "documents",
                       [("rdfs:label", _lit(f"{plan} Plan")), ("pg:pointCount", str(k))])
        n_counter = _Node(f"pgid:{_slug(counter)}-counterproposal", "pg:Counterproposal", "documents",
                          [("rdfs:label", _lit(f"{counter} counterproposal")), ("pg:pointCount", str(m))])

        return _Draft(stem=stem, index=i, src=src, hy=hy, lq=lq, rq=rq, person_a=person_a, person_b=person_b,
                      country=country, org=org, country2=country2, org2=org2, group=group, city=city,
                      city2=city2, plan=plan, counter=counter, k=k, m=m, title=title, n_a=n_a, n_b=n_b,
                      n_org=n_org, n_org2=n_org2, n_group=n_group, n_city=n_city, n_city2=n_city2,
                      n_plan=n_plan, n_counter=n_counter,
                      nodes=[n_a, n_b, n_org, n_org2, n_group, n_city, n_city2, n_plan, n_counter])

    def _lead(self, d: _Draft) -> None:
        """The lead: scraping debris, the headline, who drafted what."""
        rng = self.rng
        hy, person_a, person_b, country, org = d.hy, d.person_a, d.person_b, d.country, d.org
        city, plan = d.city, d.plan
        k, title, n_a, n_b, n_org, n_plan, w = d.k, d.title, d.n_a, d.n_b, d.n_org, d.n_plan, d.w
        atts = d.atts
        w.raw("Skip to content\n\n")
        w.raw(title + "\n\n")
        s = f"{org[0].upper() + org[1:]} backs a new peace framework."
        at = w.sentence(s)
        n_org.evidence.append(_ev(at, s, s[:-1]))
        role_a, role_b = rng.choice(_ROLES), rng.choice(_ROLES)
        n_a.props.append(("pg:role", _lit(role_a)))
        n_b.props.append(("pg:role", _lit(role_b)))
        s = (f"{person_a}, {role_a} of {country}, and {person_b}, "
             f"{role_b}, drafted the {k}{hy}point {plan} Plan.")
        at = w.sentence(s)
        n_a.evidence.append(_ev(at, s, s[:s.index(",", len(person_a) + 2)]))
        self._relate(atts, n_a, "pg:affiliatedWith", n_org.subject, _ev(at, s, f"{role_a} of {country}"))
        n_b.evidence.append(_ev(at, s, s[s.index(person_b):s.index(", drafted")]))
        drafted = _ev(at, s, f"drafted the {k}{hy}point {plan} Plan")
        n_plan.evidence.append(drafted)
        self._relate(atts, n_plan, "pg:draftedBy", n_a.subject,
                     _ev(at, s, s[:s.index(", drafted")] + f", drafted the {k}{hy}point {plan} Plan"))
        self._relate(atts, n_plan, "pg:draftedBy", n_b.subject,
                     _Evidence(*_span(at, s, person_b, f"{plan} Plan")))
        status_word, status = rng.choice((("draft", "pg:Draft"), ("living document", "pg:LivingDocument"),
                                          ("framework", "pg:Framework")))
        s = f"The plan, still a {status_word}, is backed by {org}, officials in {city} said."
        at = w.sentence(s)
        self._relate(atts, n_plan, "pg:status", status, _ev(at, s, f"The plan, still a {status_word}"))
        self._relate(atts, n_plan, "pg:backedBy", n_org.subject, _ev(at, s, f"is backed by {org}"))
        if self.pool_plans and rng.random() < 0.5:
            old_subject, old_name = rng.choice(self.pool_plans)
            s = f"Its authors modelled the {plan} Plan on the earlier {old_name} Plan."
            at = w.sentence(s)
            self._relate(atts, n_plan, "pg:modelledOn", old_subject, _ev(at, s, s[:-1]))
        w.raw("\n\n")

    def _provisions(self, d: _Draft) -> None:
        """Provisions of the plan."""
        rng = self.rng
        plan, k, n_plan = d.plan, d.k, d.n_plan
        w, nodes, atts, provisions = d.w, d.nodes, d.atts, d.provisions
        points = sorted(rng.sample(range(1, k + 1), rng.randint(4, 6)))
        for point in points:
            topics = rng.sample(self.vocab.topics, min(len(self.vocab.topics), 2 if rng.random() < 0.3 else 1))
            label = " and ".join(t[1] for t in topics)
            s = f"Point {point} of the {plan} Plan concerns {label}."
            at = w.sentence(s)
            node = _Node(f"{n_plan.subject}-point-{point}", "pg:Provision", "provisions",
                         [("rdfs:label", _lit(f"{plan} Plan, point {point}: {label}"))]
                         + [("pg:topic", t[0]) for t in topics])
            node.evidence.append(_ev(at, s, s[:-1]))
            self._relate(atts, node, "pg:provisionOf", n_plan.subject, _ev(at, s, s[:-1]))
            nodes.append(node)
            provisions.append((node, point, topics[0][0], topics[0][1]))
        w.raw("\n\n")

    def _counterproposal(self, d: _Draft) -> None:
        """The counterproposal, an optional pared version, and what became of the points."""
        rng, names = self.rng, self.names
        hy, org2, plan, counter, k, m = d.hy, d.org2, d.plan, d.counter, d.k, d.m
        n_org2, n_plan, n_counter, w, nodes = d.n_org2, d.n_plan, d.n_counter, d.w, d.nodes
        atts, provisions = d.atts, d.provisions
        s = f"{org2[0].upper() + org2[1:]} answered with the {m}{hy}point {counter} counterproposal."
        at = w.sentence(s)
        n_org2.evidence.append(_ev(at, s, org2[0].upper() + org2[1:]))
        n_counter.evidence.append(_ev(at, s, f"the {m}{hy}point {counter} counterproposal"))
        self._relate(atts, n_counter, "pg:respondsTo", n_plan.subject, _ev(at, s, s[:-1]))
        self._relate(atts, n_counter, "pg:draftedBy", n_org2.subject,
                     _ev(at, s, f"{org2[0].upper() + org2[1:]} answered"))
        if rng.random() < 0.5:
            pared = names.next("plan", 4)
            j = rng.randint(max(2, k - 10), k - 1)
            n_pared = _Node(f"pgid:{_slug(pared)}-plan", "pg:PeacePlan", "documents",
                            [("rdfs:label", _lit(f"{pared} Plan")), ("pg:pointCount", str(j))])
            s = f"A pared {j}{hy}point version, the {pared} Plan, revised the {plan} Plan."
            at = w.sentence(s)
            n_pared.evidence.append(_ev(at, s, f"A pared {j}{hy}point version, the {pared} Plan"))
            self._relate(atts, n_pared, "pg:revisionOf", n_plan.subject, _ev(at, s, s[:-1]))
            nodes.append(n_pared)
        counter_point = 0
        verbs = {"Retained": "keeps", "Softened": "softens", "Strengthened": "strengthens",
                 "Removed": "drops", "Revised": "rewrites"}
        for node, point, topic, label in rng.sample(provisions, 3):
            kind = rng.choice(CHANGE_KINDS)
            s = f"The {counter} counterproposal {verbs[kind]} point {point} on {label}."
            at = w.sentence(s)
            change = _Node(f"pgid:change-{_slug(counter)}-point-{point}", "pg:ProvisionChange", "changes",
                           [("rdfs:label", _lit(f"{counter} counterproposal {verbs[kind]} point {point}")),
                            ("pg:changedProvision", node.subject), ("pg:inDocument", n_counter.subject),
                            ("pg:changeKind", f"pg:{kind}")])
            change.evidence.append(_ev(at, s, s[:-1]))
            if kind != "Removed":
                counter_point += 1
                s2 = f"Its point {counter_point} covers {label}."
                at2 = w.sentence(s2)
                result = _Node(f"{n_counter.subject}-point-{counter_point}", "pg:Provision", "provisions",
                               [("rdfs:label", _lit(f"{counter} counterproposal, point {counter_point}: {label}")),
                                ("pg:topic", topic)])
                result.evidence.append(_ev(at2, s2, s2[:-1]))
                # "Its point 2 covers ..." can recur in a text; the disambiguation pass handles it
                self._relate(atts, result, "pg:provisionOf", n_counter.subject, _ev(at2, s2, s2[:-1]))
                change.props.append(("pg:resultingProvision", result.subject))
                nodes.append(result)
            nodes.append(change)
        w.raw("\n\n")

    def _stances(self, d: _Draft) -> None:
        """Stances on the plan, the counterproposal and single points."""
        rng = self.rng
        src, person_a, org, country2, org2 = d.src, d.person_a, d.org, d.country2, d.org2
        group, city, plan, counter = d.group, d.city, d.plan, d.counter
        n_a, n_org, n_org2, n_group, n_plan = d.n_a, d.n_org, d.n_org2, d.n_group, d.n_plan
        n_counter, w, nodes, provisions = d.n_counter, d.w, d.nodes, d.provisions
        holders = [(n_org.subject, org[0].upper() + org[1:]), (n_group.subject, group),
                   (src, "This report"), (n_org2.subject, org2[0].upper() + org2[1:]), (n_a.subject, person_a)]
        if self.pool_actors:
            holders.append(rng.choice(self.pool_actors))
        for holder, holder_name in rng.sample(holders, 5):
            position = rng.choice(POSITIONS)
            pick = rng.random()
            if pick < 0.35:
                target, target_phrase = n_plan.subject, f"the {plan} Plan"
            elif pick < 0.5:
                target, target_phrase = n_counter.subject, f"the {counter} counterproposal"
            else:
                node, point, _, _ = rng.choice(provisions)
                target, target_phrase = node.subject, f"point {point} of the {plan} Plan"
            condition = None
            if position == "Supports":
                s = f"{holder_name} supports {target_phrase}."
            elif position == "ConditionallySupports":
                condition = f"{rng.choice(['Europe', country2, city])} is included in the talks"
                s = f"{holder_name} supports {target_phrase} on condition that {condition}."
            elif position == "OpenTo":
                s = f"{holder_name} is open to {target_phrase}."
            elif position == "Rejects":
                s = f"{holder_name} rejects {target_phrase}."
            elif position == "Criticizes":
                s = f"{holder_name} criticized {target_phrase} as unrealistic and intrusive."
            else:
                s = f"{holder_name} doubts that {target_phrase} can work."
            at = w.sentence(s)
            stance = _Node(f"pgid:stance-{holder.split(':', 1)[1].lower()}-{position.lower()}-{target.split(':', 1)[1]}",
                           "pg:Stance", "stances",
                           [("rdfs:label", _lit(s[:-1])), ("pg:holder", holder), ("pg:target", target),
                            ("pg:position", f"pg:{position}")])
            if condition:
                stance.props.append(("pg:condition", _lit(condition)))
            stance.evidence.append(_ev(at, s, s[:-1]))
            nodes.append(stance)

    def _statements(self, d: _Draft) -> None:
        """Public statements of the two drafters."""
        rng = self.rng
        lq, rq, person_a, person_b, plan = d.lq, d.rq, d.person_a, d.person_b, d.plan
        counter = d.counter
        n_a, n_b, n_plan, n_counter, w, nodes = d.n_a, d.n_b, d.n_plan, d.n_counter, d.w, d.nodes
        for speaker, speaker_name in ((n_a.subject, person_a), (n_b.subject, person_b)):
            words = rng.choice(_QUOTATIONS)
            about, about_name = rng.choice([(n_plan.subject, f"the {plan} Plan"),
                                            (n_counter.subject, f"the {counter} counterproposal")])
            s = f"{speaker_name} said {about_name} was {lq}{words}{rq}."
            at = w.sentence(s)
            st = _Node(f"pgid:statement-{speaker.split(':', 1)[1]}-{about.split(':', 1)[1]}", "pg:PublicStatement",
                       "statements", [("rdfs:label", _lit(f"{speaker_name} on {about_name}")),
                                      ("pg:speaker", speaker), ("pg:about", about), ("pg:quotation", _lit(words))])
            st.evidence.append(_ev(at, s, s[:-1]))
            nodes.append(st)
        w.raw("\n\n")

    def _events(self, d: _Draft) -> None:
        """The talks, a strike, the analysts who followed them."""
        rng = self.rng
        org, country2, org2, group, city, city2 = d.org, d.country2, d.org2, d.group, d.city, d.city2
        n_org, n_org2, n_group, n_city, n_city2 = d.n_org, d.n_org2, d.n_group, d.n_city, d.n_city2
        w, i = d.w, d.index
        month = rng.choice(_MONTHS)
        day = rng.randint(1, 28)
        s = f"Envoys of {org[4:]} and {org2[4:]} held talks in {city} on {day} {month} 2025."
        at = w.sentence(s)
        talks = _Node(f"pgid:talks-{_slug(city)}-2025-{_MONTH_NUMBERS[month]:02d}-{day:02d}", "pg:Negotiation",
                      "events", [("rdfs:label", _lit(f"Talks in {city}, {day} {month} 2025")),
                                 ("pg:date", f'"2025-{_MONTH_NUMBERS[month]:02d}-{day:02d}"^^xsd:date')])
        self._event(d, at, s, talks, f"held talks in {city} on {day} {month} 2025",
                    (n_city, f"in {city}", f"talks in {city}"),
                    [(n_org, f"Envoys of {org[4:]}"), (n_org2, f"Envoys of {org[4:]} and {org2[4:]} held talks")])
        s = f"Forces of {country2} launched missile and drone strikes on {city2} overnight."
        at = w.sentence(s)
        strike = _Node(f"pgid:strike-{_slug(city2)}-{i}", "pg:Strike", "events",
                       [("rdfs:label", _lit(f"Strikes on {city2}"))])
        self._event(d, at, s, strike, f"launched missile and drone strikes on {city2}",
                    (n_city2, f"strikes on {city2} overnight", f"strikes on {city2}"),
                    [(n_org2, f"Forces of {country2} launched missile and drone strikes")])
        s = f"{group}, a circle of analysts and former diplomats, followed the talks."
        at = w.sentence(s)
        n_group.evidence.append(_ev(at, s, f"{group}, a circle of analysts and former diplomats"))
        w.raw("\n\n")

    def _event(self, d: _Draft, at: int, s: str, event: _Node, quote: str, place: tuple, participants: list):
        """An event of sentence `s` at `at`: its evidence, its place (node, quote naming the place,
        quote for the location) and its participants (node, quote), each attested."""
        place_node, place_quote, location_quote = place
        event.evidence.append(_ev(at, s, quote))
        place_node.evidence.append(_ev(at, s, place_quote))
        self._relate(d.atts, event, "pg:location", place_node.subject, _ev(at, s, location_quote))
        for who, who_quote in participants:
            self._relate(d.atts, event, "pg:participant", who.subject, _ev(at, s, who_quote))
        d.nodes.append(event)

    def _assessments(self, d: _Draft) -> None:
        """The assessment paragraph, printed twice like the seed's repeated paragraphs, and the
        optional baseline document and conflicting claim."""
        rng, names = self.rng, self.names
        src, group, plan, counter, n_group = d.src, d.group, d.plan, d.counter, d.n_group
        n_plan, n_counter, w, nodes, provisions = d.n_plan, d.n_counter, d.w, d.nodes, d.provisions
        _, topic_a_label = provisions[0][2], provisions[0][3]
        first = f"The {plan} Plan is unlikely to settle {topic_a_label} soon."
        second = f"Progress on the {counter} counterproposal may take months."
        paragraph = first + " " + second
        lead_one, lead_two = "Analysts' view: ", "In short: "
        at1 = w.raw(lead_one + paragraph) + len(lead_one)
        w.raw("\n\n")
        at2 = w.raw(lead_two + paragraph) + len(lead_two)
        w.raw("\n\nSign up for our newsletter.\n\n")
        as1 = _Node(f"pgid:assessment-{_slug(plan)}-plan-unlikely", "pg:Assessment", "assessments",
                    [("rdfs:label", _lit(first[:-1])), ("pg:assessor", src), ("pg:about", n_plan.subject),
                     ("pg:topic", provisions[0][2])])
        e1 = _ev(at1, first, first[:-1])
        e1.occurrence = 1
        as1.evidence.append(e1)
        as2 = _Node(f"pgid:assessment-{_slug(counter)}-months", "pg:Assessment", "assessments",
                    [("rdfs:label", _lit(second[:-1])), ("pg:assessor", n_group.subject),
                     ("pg:about", n_counter.subject)])
        e2 = _ev(at2, first, first[:-1])
        e2.prefix = lead_two
        as1.evidence.append(e2)
        e3 = _ev(at2 + len(first) + 1, second, second[:-1])
        e3.occurrence = 2
        as2.evidence.append(e3)
        nodes += [as1, as2]
        if rng.random() < 0.25:
            # the baseline an older document sets, like the seed's 2022 Istanbul Communique
            communique = names.next("plan", 4)
            s = f"On {topic_a_label}, the {plan} Plan stays vaguer than the {communique} Communiqu\u00e9 of 2022."
            at = w.raw(s)
            w.raw("\n")
            n_comm = _Node(f"pgid:{_slug(communique)}-communique", "pg:Communique", "documents",
                           [("rdfs:label", _lit(f"{communique} Communiqu\u00e9"))])
            n_comm.evidence.append(_ev(at, s, f"the {communique} Communiqu\u00e9 of 2022"))
            vague = _Node(f"pgid:assessment-{_slug(plan)}-plan-vaguer", "pg:Assessment", "assessments",
                          [("rdfs:label", _lit(s[:-1])), ("pg:assessor", src), ("pg:about", n_plan.subject),
                           ("pg:topic", provisions[0][2])])
            vague.evidence.append(_ev(at, s, s[:-1]))
            nodes += [n_comm, vague]
        if rng.random() < 0.5:
            # a claim that contradicts the first assessment, as the seed's "19 points" does
            s = f"{group} expect the {plan} Plan to settle {topic_a_label} within weeks."
            at = w.raw(s)
            w.raw("\n")
            as3 = _Node(f"pgid:assessment-{_slug(plan)}-plan-within-weeks", "pg:Assessment", "assessments",
                        [("rdfs:label", _lit(s[:-1])), ("pg:assessor", n_group.subject), ("pg:about", n_plan.subject),
                         ("pg:topic", provisions[0][2]), ("pg:conflictsWith", as1.subject)])
            as3.evidence.append(_ev(at, s, s[:-1]))
            conflict = _Node(f"pgid:conflict-{_slug(plan)}-plan-timing", "pg:ClaimConflict", "assessments",
                             [("rdfs:label", _lit(f"When the {plan} Plan settles {topic_a_label}")),
                              ("pg:conflictingClaim", as1.subject), ("pg:conflictingClaim", as3.subject)])
            conflict.evidence.append(_ev(at, s, f"expect the {plan} Plan to settle {topic_a_label} within weeks"))
            nodes += [as3, conflict]

    def _finish_evidence(self, text: str, nodes: list[_Node], atts: list[_Attestation]) -> None:
        # the anchoring stage decides, so the corpus needs exactly the disambiguation it asks for
        anchorer = Anchorer({None: text})
        for ev in [e for n in nodes for e in n.evidence] + [a.evidence for a in atts]:
            # the quote is written with plain characters; the text may have typographic ones
            ev.quote = fold(text[ev.start:ev.end])
            hits = [m.start for m in anchorer.candidates(None, ev.quote)]
            if ev.start not in hits:
                raise PeacegraphError(f"synth: quote {ev.quote!r} lost its position")  # a bug, not input
            if len(hits) == 1:
                ev.occurrence = ev.prefix = None
                continue
            if ev.prefix is not None:
                try:
                    if anchorer.choose(None, ev.quote, prefix=ev.prefix).start == ev.start:
                        continue
                except AnchorError:
                    pass
                ev.prefix = None
            ev.occurrence = hits.index(ev.start) + 1


def _span(at: int, sentence: str, begin: str, end_with: str) -> tuple[int, int]:
    i = sentence.index(begin)
    j = sentence.index(end_with, i) + len(end_with)
    return at + i, at + j


# ---------------------------------------------------------------------------- Turtle output

def _header(names=_TURTLE_PREFIXES) -> str:
    return "".join(f"@prefix {p}: <{PREFIXES[p]}> .\n" for p in names) + "\n"


def _evidence_turtle(ev: _Evidence, src: str) -> str:
    parts = [f"pg:quote {_lit(ev.quote)}", f"pg:source {src}"]
    if ev.prefix is not None:
        parts.append(f"pg:prefix {_lit(ev.prefix)}")
    if ev.occurrence is not None:
        parts.append(f"pg:occurrence {ev.occurrence}")
    return "[ " + " ; ".join(parts) + " ]"


def _node_turtle(node: _Node, src: str) -> str:
    lines = [f"{node.subject} a {node.cls}"]
    lines += [f"    {p} {o}" for p, o in node.props]
    lines += [f"    pg:evidence {_evidence_turtle(e, src)}" for e in node.evidence]
    return " ;\n".join(lines) + " .\n\n"


def _attestation_turtle(att: _Attestation, src: str) -> str:
    return (f"[] a pg:Attestation ;\n    rdf:subject {att.subject} ;\n    rdf:predicate {att.predicate} ;\n"
            f"    rdf:object {att.obj} ;\n    pg:evidence {_evidence_turtle(att.evidence, src)} .\n\n")


def _source_turtle(article: _Article, sha: str) -> str:
    return (f"src:{article.stem} a pg:SourceText ;\n    dcterms:title {_lit(article.title)} ;\n"
            f"    dcterms:format \"text/plain\" ;\n    dcterms:identifier \"{article.stem}.txt\" ;\n"
            f"    pg:sha256 \"{sha}\" .\n\n")


# ---------------------------------------------------------------------------- size estimate

def _anchored_triples(article: _Article) -> set[tuple[str, str, str]]:
    """The article's triples as the build will publish them (asserted with anchored evidence,
    attested triples, the source node): the base of the size estimate."""
    src = f"src:{article.stem}"
    out: set[tuple[str, str, str]] = {
        (src, "rdf:type", "pg:SourceText"), (src, "dcterms:title", "t"), (src, "dcterms:format", "f"),
        (src, "dcterms:identifier", "i"), (src, "pg:sha256", "h"), (src, "pg:text", "x")}

    def evidence(node: str, ev: _Evidence) -> None:
        span = f"{src}#char={ev.start},{ev.end}"
        q, p = f"{src}#quote-{ev.start}-{ev.end}", f"{src}#position-{ev.start}-{ev.end}"
        out.update({(node, "pg:evidence", span), (span, "rdf:type", "oa:SpecificResource"),
                    (span, "oa:hasSource", src), (span, "oa:hasSelector", q), (span, "oa:hasSelector", p),
                    (q, "rdf:type", "oa:TextQuoteSelector"), (q, "oa:exact", "e"), (q, "oa:prefix", "p"),
                    (q, "oa:suffix", "s"), (p, "rdf:type", "oa:TextPositionSelector"), (p, "oa:start", "0"),
                    (p, "oa:end", "1")})

    for n in article.nodes:
        out.add((n.subject, "rdf:type", n.cls))
        for p, o in n.props:
            out.add((n.subject, p, o))
        for e in n.evidence:
            evidence(n.subject, e)
    for a in article.attestations:
        node = f"pgid:attestation-{a.subject}--{a.predicate}--{a.obj}"
        out.update({(node, "rdf:type", "pg:Attestation"), (node, "rdf:subject", a.subject),
                    (node, "rdf:predicate", a.predicate), (node, "rdf:object", a.obj),
                    (a.subject, a.predicate, a.obj)})
        evidence(node, a.evidence)
    return out


_UNINFORMATIVE_TYPES = {"owl:Thing", "rdfs:Resource"}


def _inferred_count(asserted: set[tuple[str, str, str]], vocab: Vocabulary) -> int:
    """New triples of an OWL 2 RL closure restricted to the rules our data triggers (class and
    property hierarchy, inverse, symmetric, transitive, domain, range)."""
    def is_literal(term: str) -> bool:
        return term.startswith('"') or term.isdigit() or ":" not in term

    known = set(asserted)
    frontier = list(asserted)
    while frontier:
        new = []
        for s, p, o in frontier:
            if p == "rdf:type":
                new += [(s, p, c) for c in vocab.superclasses.get(o, ())]
                continue
            new += [(s, q, o) for q in vocab.superproperties.get(p, ())]
            new += [(o, q, s) for q in vocab.inverses.get(p, ()) if not is_literal(o)]
            if p in vocab.symmetric:
                new.append((o, p, s))
            new += [(s, "rdf:type", c) for c in vocab.domains.get(p, ())]
            if not is_literal(o):
                new += [(o, "rdf:type", c) for c in vocab.ranges.get(p, ())]
            if p in vocab.transitive:
                new += [(s, p, o2) for (s2, p2, o2) in known if p2 == p and s2 == o]
                new += [(s0, p, o) for (s0, p2, o0) in known if p2 == p and o0 == s]
        frontier = [t for t in new if t not in known and not (t[1] == "rdf:type" and t[2] in _UNINFORMATIVE_TYPES)
                    and t[0] != t[2]]
        known.update(frontier)
    return len(known) - len(asserted)


def estimate_article_triples(vocab: Vocabulary, seed: int, width: int, sample: int = SAMPLE_ARTICLES) -> float:
    """Mean built triples per article over a sample generated from a separate random stream."""
    gen = _Generator(vocab, seed ^ 0x5EED5A3B1E, width)
    total = 0
    for _ in range(sample):
        triples = _anchored_triples(gen.article())
        total += len(triples) + _inferred_count(triples, vocab)
    return total / sample


# ---------------------------------------------------------------------------- driver

@dataclass
class SynthResult:
    out: Path
    articles: int
    evidence: int
    attestations: int
    nodes: int
    estimated_triples: int


def _prepare_out(out: Path) -> None:
    """Refuse to overwrite seeds/ or graph/ that this command did not write."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / MARKER).exists():
        return
    for name in ("seeds", "graph"):
        folder = out / name
        if folder.exists() and any(folder.iterdir()):
            raise InputError(f"{folder} exists and was not written by peacegraph synth; "
                             "choose an empty --out folder")


def synthesize(out: Path, triples: int, seed: int = 0, *, ontology_dir: Path | None = None,
               progress: Progress | None = None) -> SynthResult:
    """Write a corpus of about `triples` built triples to out/seeds and out/graph."""

    if triples < 1:
        raise InputError("--triples must be a positive number")
    out = Path(out)
    progress = progress or Progress(False)
    vocab = read_vocabulary(ontology_dir or data_dir("ontology"))
    # Enough syllables that names stay unique: 24**3 = 13,824 names of each kind.
    width = 3 if triples < 4_000_000 else 4
    per_article = estimate_article_triples(vocab, seed, width)
    articles = max(1, round((triples - vocab.ontology_triples) / per_article))

    _prepare_out(out)
    tmp = out / f".synth-partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    seeds, graph = tmp / "seeds", tmp / "graph"
    seeds.mkdir(parents=True)
    graph.mkdir()
    counts = {"evidence": 0, "attestations": 0, "nodes": 0}
    gen = _Generator(vocab, seed, width)
    files = {}
    try:
        files = {name: open(graph / f"{name}.ttl", "w", encoding="utf-8", newline="\n") for name in GRAPH_FILES}
        for handle in files.values():
            handle.write(_header())
        with open(seeds / "sources.ttl", "w", encoding="utf-8", newline="\n") as sources, \
                progress.stage("synth", total=articles, unit="texts") as tick:
            sources.write(_header(("pg", "src", "dcterms")))
            for _ in range(articles):
                art = gen.article()
                data = art.text.encode("utf-8")
                (seeds / f"{art.stem}.txt").write_bytes(data)
                sources.write(_source_turtle(art, hashlib.sha256(data).hexdigest()))
                src = f"src:{art.stem}"
                for node in art.nodes:
                    files[node.kind].write(_node_turtle(node, src))
                for att in art.attestations:
                    files[att.kind].write(_attestation_turtle(att, src))
                counts["nodes"] += len(art.nodes)
                counts["attestations"] += len(art.attestations)
                counts["evidence"] += sum(len(n.evidence) for n in art.nodes) + len(art.attestations)
                tick()
        for handle in files.values():
            handle.close()
        for name in ("seeds", "graph"):
            if (out / name).exists():
                shutil.rmtree(out / name)
            os.replace(tmp / name, out / name)
        (out / MARKER).write_text(f"peacegraph synth --triples {triples} --seed {seed}\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the corpus: {exc}", file=str(out)) from None
    finally:
        for handle in files.values():
            handle.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return SynthResult(out, articles, counts["evidence"], counts["attestations"], counts["nodes"],
                       round(vocab.ontology_triples + articles * per_article))
