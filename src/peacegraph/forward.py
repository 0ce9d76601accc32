"""A forward-chaining OWL 2 RL engine over a set of triples, for the constructs an ontology of
ours uses: class and property hierarchies and equivalences, domains and ranges, inverse,
symmetric, transitive, functional and inverse-functional properties, and owl:sameAs.

`closure(triples)` returns the triples the OWL 2 RL rules add to `triples` (a set of rdflib
term triples, left untouched). The schema statements are closed first (scm-sco, scm-spo,
scm-eqc1/2, scm-eqp1/2, scm-dom1/2, scm-rng1/2) and compiled into lookup tables, so that each
instance triple yields its consequences by a few dictionary lookups (cax-sco, cax-eqc1/2,
prp-dom, prp-rng, prp-spo1, prp-eqp1/2, prp-inv1/2, prp-symp); the rules with two instance
premises (prp-trp, prp-fp, prp-ifp) join against indexes kept only for the properties they
concern. Every triple is processed once, when it first appears (semi-naive evaluation), so the
cost grows with the number of triples in the closure, not with the number of rounds.
owl:sameAs (eq-sym, eq-trans, eq-rep-s/p/o) is applied in rounds over equivalence classes, and
a schema statement derived from the data (by a sub-property of rdfs:subClassOf, or by sameAs)
recompiles the tables and runs the rules again, so the result is the fixpoint of the rules.

The rules that can only conclude an inconsistency (cax-dw, cls-com, prp-irp, prp-asyp, prp-pdw,
eq-diff…) derive no triple and are not checked here (the consistency tests run HermiT), and
the axiomatic rules that hold of every term (eq-ref, scm-cls, scm-op, scm-dp, cls-thing, prp-ap)
are not applied: the reasoning stage publishes none of their conclusions, and filters the few
trivial triples the other rules still give (a reflexive sameAs, a literal subject). Class
expressions (restrictions, intersections, unions, enumerations), property chains and keys are
refused with UnsupportedConstruct naming the construct, never silently ignored.
"""

from __future__ import annotations

from rdflib.namespace import OWL, RDF, RDFS

from peacegraph.errors import PeacegraphError

# Hoisted: a Namespace attribute lookup costs more than the rule it would serve.
_TYPE, _SAME = RDF.type, OWL.sameAs
_SUB_CLASS, _SUB_PROP, _DOMAIN, _RANGE = RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range
_EQ_CLASS, _EQ_PROP, _INVERSE = OWL.equivalentClass, OWL.equivalentProperty, OWL.inverseOf
_TRANSITIVE, _SYMMETRIC = OWL.TransitiveProperty, OWL.SymmetricProperty
_FUNCTIONAL, _INV_FUNCTIONAL = OWL.FunctionalProperty, OWL.InverseFunctionalProperty

SCHEMA_PREDICATES = frozenset({_SUB_CLASS, _SUB_PROP, _DOMAIN, _RANGE, _EQ_CLASS, _EQ_PROP, _INVERSE})
CHARACTERISTICS = frozenset({_TRANSITIVE, _SYMMETRIC, _FUNCTIONAL, _INV_FUNCTIONAL})
# OWL 2 RL constructs whose rules (cls-int, cls-uni, cls-svf, cls-avf, cls-hv, cls-maxc,
# cls-maxqc, cls-oo, prp-spo2, prp-key and their scm- counterparts) this engine does not apply.
UNSUPPORTED = frozenset({
    OWL.intersectionOf, OWL.unionOf, OWL.someValuesFrom, OWL.allValuesFrom, OWL.hasValue,
    OWL.maxCardinality, OWL.maxQualifiedCardinality, OWL.oneOf, OWL.propertyChainAxiom,
    OWL.hasKey, OWL.onProperty,
})


class UnsupportedConstruct(PeacegraphError):
    """The input uses an OWL construct whose rules this engine does not apply."""


# rdflib compares terms with a Python-level __eq__: a set lookup (hash first) calls it only for
# the few matching triples, where `p == RDF.type` would call it for every triple.
_TYPE_ONLY = frozenset({_TYPE})
_SAME_ONLY = frozenset({_SAME})
_WATCHED = SCHEMA_PREDICATES | UNSUPPORTED | _TYPE_ONLY | _SAME_ONLY


def _is_schema(p, o) -> bool:
    return p in SCHEMA_PREDICATES or (o in CHARACTERISTICS and p in _TYPE_ONLY)


def closure(triples: set) -> list:
    """The triples the OWL 2 RL rules derive from `triples` that are not in it."""
    schema, same_as = set(), []
    for t in triples:
        p = t[1]
        if p not in _WATCHED:
            continue
        if p in UNSUPPORTED:
            raise UnsupportedConstruct(
                f"the ontology or data uses {p.n3()} (on {t[0].n3()}), whose OWL 2 RL rules the "
                "forward engine does not apply; reason with the 'reasonable' or 'owlrl' engine")
        if p in _SAME_ONLY:
            same_as.append(t)
        elif _is_schema(p, t[2]):
            schema.add(t)
    derived: set = set()
    engine = _Rules(schema, triples, derived, same_as)
    engine.run(triples)
    while True:
        new_schema = engine.new_schema
        if new_schema:
            schema |= new_schema
            engine = _Rules(schema, triples, derived, same_as)
            engine.run(list(triples) + list(derived))
            continue
        if not engine.apply_same_as():
            break
    return list(derived)


class _Rules:
    """The rule tables compiled from one closed schema, and the fixpoint over them."""

    def __init__(self, schema: set, known: set, derived: set, same_as: list):
        self.known = known
        self.same_as = same_as
        self.derived = derived
        self.schema = schema
        self.new_schema: set = set()
        closed = set(schema)
        # scm- conclusions are triples of the closure too, processed like any other.
        self.schema_added = []
        for t in schema_closure(schema):
            closed.add(t)
            if t not in known and t not in derived:
                derived.add(t)
                self.schema_added.append(t)
        self.super_classes: dict = {}
        super_props, domains, ranges, inverses = {}, {}, {}, {}
        symmetric, transitive, functional, inv_functional = set(), set(), set(), set()
        tables = {_SUB_CLASS: self.super_classes, _SUB_PROP: super_props,
                  _DOMAIN: domains, _RANGE: ranges}
        for s, p, o in closed:
            table = tables.get(p)
            if table is not None:
                if s != o:
                    table.setdefault(s, []).append(o)
            elif p == _INVERSE:
                inverses.setdefault(s, []).append(o)
                inverses.setdefault(o, []).append(s)
            elif p == _TYPE:
                if o == _SYMMETRIC:
                    symmetric.add(s)
                elif o == _TRANSITIVE:
                    transitive.add(s)
                elif o == _FUNCTIONAL:
                    functional.add(s)
                elif o == _INV_FUNCTIONAL:
                    inv_functional.add(s)
        # One lookup per triple finds all the rules its predicate takes part in. Indexes for the
        # joins: per transitive property, objects by subject and subjects by object (prp-trp);
        # per functional property, objects by subject (prp-fp); inverse-functional, by object.
        self.by_predicate = {
            p: (tuple(super_props.get(p, ())), tuple(domains.get(p, ())),
                tuple(ranges.get(p, ())), tuple(inverses.get(p, ())), p in symmetric,
                ({}, {}) if p in transitive else None, {} if p in functional else None,
                {} if p in inv_functional else None)
            for p in (set(super_props) | set(domains) | set(ranges) | set(inverses) | symmetric
                      | transitive | functional | inv_functional)
        }
        # Most input triples (labels, selectors, offsets) have a predicate no rule mentions.
        self.active = set(self.by_predicate) | _TYPE_ONLY

    def run(self, triples) -> None:
        """Process `triples` and everything they entail under the compiled rules."""
        stack: list = []
        push = self._pusher(stack)
        process, active = self._process, self.active
        for t in triples:
            if t[1] in active:
                process(t, push)
        for t in self.schema_added:
            process(t, push)
        while stack:
            process(stack.pop(), push)

    def _pusher(self, stack: list):
        known, derived, append = self.known, self.derived, stack.append
        add = derived.add
        schema, new_schema, same_as = self.schema, self.new_schema, self.same_as

        def push(t):
            if t in known or t in derived:
                return
            add(t)
            append(t)
            p = t[1]
            if p in _WATCHED:
                if p in _SAME_ONLY:
                    same_as.append(t)
                elif _is_schema(p, t[2]) and t not in schema:
                    new_schema.add(t)
        return push

    def _process(self, t, push) -> None:
        s, p, o = t
        classes = self.super_classes.get(o)
        if classes is not None and p in _TYPE_ONLY:
            for c in classes:
                push((s, _TYPE, c))
        rules = self.by_predicate.get(p)
        if rules is None:
            return
        supers, domains, ranges, inverses, symmetric, transitive, functional, inv_functional = rules
        for q in supers:
            push((s, q, o))
        for c in domains:
            push((s, _TYPE, c))
        # With a literal object these give triples with a literal subject: not RDF, never
        # published, but the rules apply to them (generalized triples), and through a range
        # they can conclude something of the subject: x p "a", p inverse of q, q's range D.
        for c in ranges:
            push((o, _TYPE, c))
        for q in inverses:
            push((o, q, s))
        if symmetric:
            push((o, p, s))
        if transitive is not None:
            out, into = transitive
            for z in tuple(out.get(o, ())):
                push((s, p, z))
            for w in tuple(into.get(s, ())):
                push((w, p, o))
            out.setdefault(s, set()).add(o)
            into.setdefault(o, set()).add(s)
        if functional is not None:
            _same_values(functional, s, o, push)
        if inv_functional is not None:
            _same_values(inv_functional, o, s, push)

    def apply_same_as(self) -> bool:
        """One round of eq-sym, eq-trans and eq-rep-s/p/o over the owl:sameAs statements so
        far, then the rules over what it added; False when it adds nothing."""
        parent: dict = {}

        def find(x):
            root = x
            while parent.get(root, root) != root:
                root = parent[root]
            while x != root:
                parent[x], x = root, parent.get(x, x)
            return root

        for s, _, o in self.same_as:
            a, b = find(s), find(o)
            if a != b:
                parent[a] = b
        if not parent:
            return False
        members: dict = {}
        for x in list(parent):
            members.setdefault(find(x), [find(x)]).append(x)
        equals = {x: group for group in members.values() for x in group}
        before = len(self.derived)
        stack: list = []
        push = self._pusher(stack)
        for group in members.values():
            for a in group:
                for b in group:
                    if a != b:
                        push((a, _SAME, b))
        for source in (list(self.known), list(self.derived)):
            for s, p, o in source:
                if s in equals or p in equals or o in equals:
                    for s2 in equals.get(s, (s,)):
                        for p2 in equals.get(p, (p,)):
                            for o2 in equals.get(o, (o,)):
                                push((s2, p2, o2))
        process = self._process
        while stack:
            process(stack.pop(), push)
        return len(self.derived) > before


def _same_values(index: dict, key, value, push) -> None:
    values = index.setdefault(key, set())
    for other in tuple(values):
        if other != value:
            push((value, _SAME, other))
            push((other, _SAME, value))
    values.add(value)


def schema_closure(triples) -> list:
    """The OWL 2 RL schema rules scm-sco, scm-spo, scm-eqc1/2, scm-eqp1/2, scm-dom1/2 and
    scm-rng1/2 applied to the subclass, subproperty, equivalence, domain and range statements of
    `triples`; returns only statements not among them."""
    sub_class: dict = {}
    sub_prop: dict = {}
    domains: dict = {}
    ranges: dict = {}
    tables = {_SUB_CLASS: sub_class, _SUB_PROP: sub_prop, _DOMAIN: domains, _RANGE: ranges}
    equivalents = {_EQ_CLASS: sub_class, _EQ_PROP: sub_prop}
    # Only schema statements are kept: what is derived is all subclass, subproperty,
    # equivalence, domain and range statements, so only those tell new ones from known ones.
    existing = set()
    for s, p, o in triples:
        table = tables.get(p)
        if table is not None:
            table.setdefault(s, set()).add(o)
            existing.add((s, p, o))
            continue
        table = equivalents.get(p)
        if table is not None:
            table.setdefault(s, set()).add(o)
            table.setdefault(o, set()).add(s)
            existing.add((s, p, o))
    supers_c = _transitive(sub_class)
    supers_p = _transitive(sub_prop)
    out = set()
    for supers, sub, equivalent in ((supers_c, _SUB_CLASS, _EQ_CLASS), (supers_p, _SUB_PROP, _EQ_PROP)):
        for x, sups in supers.items():
            out.update((x, sub, y) for y in sups)
            # scm-eqc2 / scm-eqp2: mutual subsumption is equivalence
            out.update((x, equivalent, y) for y in sups if x in supers.get(y, ()))
    for table, pred in ((domains, _DOMAIN), (ranges, _RANGE)):
        for q in set(table) | set(supers_p):
            classes = set(table.get(q, ()))
            for r in supers_p.get(q, ()):
                classes |= table.get(r, set())
            for c in list(classes):
                classes |= supers_c.get(c, set())
            out.update((q, pred, c) for c in classes)
    return [t for t in out if t not in existing]


def _transitive(edges: dict) -> dict:
    closure = {}
    for start in edges:
        seen, stack = set(), list(edges[start])
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, ()))
        closure[start] = seen
    return closure
