"""The HTML view of a thing: its statements grouped by what they mean, each with its quote.

Three stored queries fill a page: `entity_links` (every statement with the thing at either end,
with its graph and the other end's classes), `entity_neighbours` (what each linked node is, in
one line: a stance's position and target, a change's kind…) and `entity_evidence` (the quotes of
the thing, of the attested statements about it and of its neighbours). Each relation is shown
once: an inverse or symmetric statement the reasoner added is dropped when the curated one is on
the page. Curated statements come first, grouped by meaning; what the reasoner inferred is
listed apart. Attestations never appear as nodes: their quotes are shown on the statement they
attest, and an attestation named as a claim reads as its statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from peacegraph.server.stored import page_query
from peacegraph.server.views import int_value as _int
from peacegraph.server.views import rows as _rows
from peacegraph.server.views import term_value as _value

PG = "https://w3id.org/peacegraph/ontology#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
OWL = "http://www.w3.org/2002/07/owl#"

# The most specific class first: a thing is shown as the first of these it has.
CLASSES = [
    ("Person", "person"), ("Organization", "organisation"), ("Group", "group"),
    ("Counterproposal", "counterproposal"), ("Communique", "communiqué"), ("PeacePlan", "peace plan"),
    ("SourceText", "source text"), ("Document", "document"), ("Provision", "provision"),
    ("Stance", "stance"), ("PublicStatement", "public statement"), ("Assessment", "assessment"),
    ("Negotiation", "negotiation"), ("Strike", "strike"), ("Event", "event"),
    ("ProvisionChange", "provision change"), ("ClaimConflict", "claim conflict"),
    ("Attestation", "attestation"), ("EditorialNote", "editorial note"), ("Place", "place"),
    ("Actor", "actor"),
]
_CLASS_ORDER = {PG + local: i for i, (local, _) in enumerate(CLASSES)}
_CLASS_NAME = {PG + local: name for local, name in CLASSES}
KIND = {PG + local: local for local, _ in CLASSES}

# (direction, property) -> group; a group per meaning, titled on the page by GROUP_TITLES.
GROUP_OF = {
    ("out", PG + "affiliatedWith"): "affiliations", ("in", PG + "affiliatedWith"): "members",
    ("in", PG + "draftedBy"): "drafted", ("in", PG + "backedBy"): "backed",
    ("in", PG + "holder"): "stances_held", ("in", PG + "speaker"): "statements_made",
    ("in", PG + "participant"): "events", ("in", PG + "assessor"): "assessments_made",
    ("out", PG + "status"): "status",
    ("out", PG + "draftedBy"): "drafters", ("out", PG + "backedBy"): "drafters",
    ("out", PG + "revisionOf"): "lineage", ("in", PG + "revisionOf"): "lineage",
    ("out", PG + "respondsTo"): "lineage", ("in", PG + "respondsTo"): "lineage",
    ("out", PG + "modelledOn"): "lineage", ("in", PG + "modelledOn"): "lineage",
    ("out", PG + "comparedWith"): "compared", ("in", PG + "comparedWith"): "compared",
    ("out", PG + "derivedFrom"): "lineage", ("in", PG + "derivedFrom"): "lineage",
    ("out", PG + "draftOf"): "lineage", ("in", PG + "draftOf"): "lineage",
    ("in", PG + "provisionOf"): "provisions", ("out", PG + "provisionOf"): "document",
    ("in", PG + "inDocument"): "changes_in", ("in", PG + "changedProvision"): "changes",
    ("in", PG + "resultingProvision"): "changes", ("in", PG + "target"): "stances_on",
    ("out", PG + "topic"): "topics", ("in", PG + "topic"): "on_topic",
    ("out", PG + "holder"): "who", ("out", PG + "speaker"): "who", ("out", PG + "assessor"): "who",
    ("out", PG + "target"): "on_what", ("out", PG + "about"): "on_what",
    ("out", PG + "position"): "position", ("out", PG + "changeKind"): "change",
    ("out", PG + "changedProvision"): "change", ("out", PG + "inDocument"): "change",
    ("out", PG + "resultingProvision"): "change", ("out", PG + "clarity"): "change",
    ("out", PG + "favours"): "change",
    ("out", PG + "participant"): "participants", ("out", PG + "location"): "places",
    ("in", PG + "location"): "events_here",
    ("out", PG + "conflictingClaim"): "claims", ("in", PG + "conflictingClaim"): "conflicts",
    ("out", PG + "conflictsWith"): "contradicts", ("in", PG + "conflictsWith"): "contradicts",
    ("in", PG + "qualifies"): "notes", ("out", PG + "editorialNote"): "notes",
    ("out", PG + "qualifies"): "qualifies",
}
GROUP_TITLES = {
    "roles": "Roles", "affiliations": "Affiliated with", "members": "Members and affiliates",
    "drafted": "Documents drafted", "backed": "Documents backed", "stances_held": "Stances held",
    "statements_made": "Statements made", "events": "Events", "assessments_made": "Assessments made",
    "status": "Status", "drafters": "Drafters and backers", "lineage": "Lineage",
    "compared": "Compared with", "provisions": "Provisions", "document": "Part of",
    "changes": "What drafts did to it", "changes_in": "Changes this draft makes",
    "doc_changes": "Changes other drafts made to its provisions",
    "stances_on": "Stances on it", "criticism": "Criticism and rejection",
    "statements_about": "Statements about it", "assessments_about": "Assessments about it",
    "topics": "Topics", "on_topic": "On this topic", "who": "Who", "on_what": "About",
    "position": "Position", "change": "The change", "participants": "Participants",
    "places": "Where", "events_here": "Events here", "claims": "The claims that conflict",
    "conflicts": "Part of claim conflicts", "contradicts": "Contradicts",
    "notes": "Editor's readings", "qualifies": "Qualifies", "words": "In their words",
    "details": "Details", "fact": "The fact it attests", "other": "Other statements",
}
# Group order on the page for each kind of thing; groups not named follow in GROUP_TITLES order.
ORDER = {
    "actor": ["roles", "affiliations", "members", "drafted", "backed", "statements_made",
              "stances_held", "events", "assessments_made", "statements_about",
              "assessments_about", "stances_on", "conflicts"],
    "document": ["status", "details", "drafters", "lineage", "compared", "provisions", "changes_in",
                 "doc_changes", "stances_on", "criticism", "statements_about", "assessments_about",
                 "events"],
    "Provision": ["document", "topics", "changes", "stances_on", "criticism", "assessments_about",
                  "statements_about"],
    "Stance": ["who", "position", "on_what", "details", "conflicts"],
    "PublicStatement": ["who", "words", "on_what", "contradicts", "conflicts"],
    "Assessment": ["who", "on_what", "topics", "details", "contradicts", "conflicts"],
    "event": ["details", "participants", "places"],
    "ProvisionChange": ["change", "details"],
    "ClaimConflict": ["claims"],
    "concept": ["on_topic", "stances_on", "assessments_about"],
}
# How an incoming statement reads from its object's page.
INVERSE_WORDS = {
    PG + "draftedBy": "drafted", PG + "backedBy": "backed", PG + "revisionOf": "revised as",
    PG + "respondsTo": "answered by", PG + "modelledOn": "model for", PG + "comparedWith": "compared in",
    PG + "derivedFrom": "source of", PG + "draftOf": "has as draft", PG + "provisionOf": "provision", PG + "holder": "stance",
    PG + "speaker": "statement", PG + "participant": "took part in", PG + "assessor": "assessment",
    PG + "about": "about it", PG + "target": "stance on it", PG + "topic": "on this topic",
    PG + "inDocument": "change", PG + "changedProvision": "changed by", PG + "resultingProvision": "result of",
    PG + "location": "event here", PG + "affiliatedWith": "affiliate", PG + "conflictingClaim": "claim in",
    PG + "conflictsWith": "contradicts", PG + "qualifies": "editor's reading", PG + "favours": "favoured by",
}
# Groups whose rows always say how they relate (one relation or several).
NAMED_RELATIONS = {"lineage", "compared", "details", "other", "change", "on_what", "who", "contradicts",
                   "qualifies"}
CRITICAL = {PG + "Rejects", PG + "Criticizes", PG + "Doubts"}
HEADER_PROPS = {RDFS + "label", RDFS + "comment", SKOS + "prefLabel", SKOS + "definition",
                SKOS + "altLabel", RDF + "type"}
WORD_PROPS = {PG + "quotation"}
ROLE_PROPS = {PG + "role"}
# Neighbours whose own quotes are about themselves rather than the statement linking them here.
_SELF_QUOTED = {"Person", "Organization", "Group", "Actor", "Counterproposal", "Communique",
                "PeacePlan", "SourceText", "Document", "Place"}


@dataclass
class Row:
    """One statement on the page: the relation, the other end and the quotes behind it."""
    relation: str
    other: dict | None = None
    value: dict | None = None
    summary: list = field(default_factory=list)
    quotes: list = field(default_factory=list)
    inferred: bool = False
    key: tuple = ()
    notes: list = field(default_factory=list)   # editorial notes on the statement or the other end


def kind_of(classes) -> str:
    """The most specific pg: class of a set of class IRIs (its local name), or ''."""
    ranked = sorted((c for c in classes if c in _CLASS_ORDER), key=_CLASS_ORDER.get)
    return KIND[ranked[0]] if ranked else ""


def class_name(kind: str) -> str:
    return _CLASS_NAME.get(PG + kind, "")


def page_kind(kind: str, is_concept: bool) -> str:
    if kind in ("Person", "Organization", "Group", "Actor"):
        return "actor"
    if kind in ("Counterproposal", "Communique", "PeacePlan", "Document", "SourceText"):
        return "document"
    if kind in ("Negotiation", "Strike", "Event"):
        return "event"
    if is_concept and not kind:
        return "concept"
    return kind


class EntityView:
    """Builds the page of one thing from the three stored queries."""

    def __init__(self, site, iri: str, quote_view, term_view):
        self.site, self.iri = site, iri
        self.quote_view, self.term_view = quote_view, term_view
        node = ox.NamedNode(iri)
        self.links = _rows(site.run(page_query("entity_links"), bindings={"thing": node}))
        self.neighbours: dict[str, dict[str, list]] = {}
        for r in _rows(site.run(page_query("entity_neighbours"), bindings={"thing": node})):
            facts = self.neighbours.setdefault(r["node"].value, {})
            facts.setdefault(r["p"].value, []).append((r["o"], r.get("olabel")))
        self.notes_for: dict[str, list[str]] = {}
        for node_iri, facts in self.neighbours.items():
            for target, _ in facts.get(PG + "qualifies", []):
                self.notes_for.setdefault(target.value, []).append(node_iri)
        self.fact_attestation: dict[tuple, str] = {}
        self.own_quotes: list[dict] = []
        self.node_quotes: dict[str, list[dict]] = {}
        self.fact_quotes: dict[tuple, list[dict]] = {}
        for r in _rows(site.run(page_query("entity_evidence"), bindings={"thing": node})):
            q = quote_view(site, _value(r["source"]), _int(r["start"]), _int(r["end"]), _value(r["exact"]),
                           _value(r["span"]))
            node_iri = _value(r.get("node"))
            if not node_iri:
                _add(self.own_quotes, q)
                continue
            _add(self.node_quotes.setdefault(node_iri, []), q)
            if r.get("p") is not None:
                s = _value(r.get("s")) or iri
                o = str(r["o"]) if r.get("o") is not None else str(node)
                _add(self.fact_quotes.setdefault((s, r["p"].value, o), []), q)
                self.fact_attestation[(s, r["p"].value, o)] = node_iri

    # -- the other end of a statement --------------------------------------------------------
    def label_of(self, iri: str, fallback=None) -> str:
        for o, _ in self.neighbours.get(iri, {}).get(RDFS + "label", []):
            return o.value
        return _value(fallback)

    def link(self, term, label=None) -> dict:
        return self.term_view(self.site, term, label)

    def attestation_text(self, iri: str) -> list:
        """An attestation shown as its statement: subject, relation, object, as links."""
        facts = self.neighbours.get(iri, {})
        parts = []
        for prop in (RDF + "subject", RDF + "predicate", RDF + "object"):
            for o, olabel in facts.get(prop, [])[:1]:
                if prop == RDF + "predicate":
                    parts.append({"kind": "text", "value": _value(olabel) or o.value.rsplit("#", 1)[-1]})
                else:
                    parts.append(self.link(o, olabel))
        return parts

    def summary(self, iri: str, kind: str) -> list:
        """What a linked node is, in a few labelled parts, leaving out the page's own thing."""
        facts = self.neighbours.get(iri, {})
        props = {
            "Stance": [("holder", "held by"), ("position", ""), ("target", "on"), ("condition", "if")],
            "PublicStatement": [("speaker", "by"), ("quotation", "said"), ("about", "about")],
            "Assessment": [("assessor", "by"), ("about", "about"), ("topic", "topic")],
            "ProvisionChange": [("changeKind", ""), ("clarity", ""), ("changedProvision", "of"),
                                ("resultingProvision", "giving"), ("inDocument", "in"),
                                ("comparedWith", "compared with"), ("favours", "toward")],
            "Provision": [("provisionOf", "in"), ("topic", "topic")],
            "Negotiation": [("date", "on"), ("location", "in"), ("outcome", "outcome")],
            "Strike": [("date", "on"), ("location", "in")], "Event": [("date", "on"), ("location", "in")],
            "EditorialNote": [("readingKind", ""), ("reason", "because")],
            "ClaimConflict": [], "Document": [("status", "status")],
        }.get(kind, [])
        out = []
        for local, word in props:
            for o, olabel in facts.get(PG + local, []):
                if o.value == self.iri:
                    continue
                view = self.link(o, olabel)
                badge = local in ("position", "changeKind", "clarity", "readingKind")
                out.append({"word": word, "term": view, "badge": badge,
                            "tone": o.value.rsplit("#", 1)[-1].lower() if badge else ""})
        return out

    # -- the page ----------------------------------------------------------------------------
    def build(self, fallback_label: str) -> dict:
        label, description, alt, types, inferred_types = "", "", [], [], []
        rows: dict[str, list[Row]] = {}
        inferred: list[Row] = []
        seen: dict[tuple, Row] = {}
        own_classes = set()
        is_concept = False
        for r in self.links:
            if r["dir"].value == "out" and r["p"].value == RDF + "type":
                own_classes.add(r["other"].value)
                is_concept = is_concept or r["other"].value == SKOS + "Concept"
        kind = kind_of(own_classes)
        pkind = page_kind(kind, is_concept)
        ordered = sorted(self.links, key=lambda r: (not self._asserted(r), r["dir"].value, r["p"].value))
        for r in ordered:
            direction, p, other = r["dir"].value, r["p"].value, r["other"]
            graph = _value(r.get("g"))
            is_inferred = graph.endswith("/graph/inferred")
            if direction == "out" and p in HEADER_PROPS:
                if p == RDF + "type":
                    (inferred_types if is_inferred else types).append(self.link(other, r.get("olabel")))
                elif p in (RDFS + "label", SKOS + "prefLabel") and isinstance(other, ox.Literal):
                    if not label or other.language == "en":
                        label = other.value
                elif p in (RDFS + "comment", SKOS + "definition") and isinstance(other, ox.Literal):
                    description = description or other.value
                elif p == SKOS + "altLabel":
                    alt.append(other.value)
                continue
            key = self._relation_key(r)
            if key in seen:
                continue
            row = self._row(r, direction, p, other)
            row.key, row.inferred = key, is_inferred
            seen[key] = row
            if is_inferred:
                inferred.append(row)
                continue
            rows.setdefault(self._group(direction, p, other, r, pkind), []).append(row)
        if pkind == "document":
            rows["doc_changes"] = self._doc_changes(rows.get("provisions", []))
        shown = {row.other["iri"] for row in rows.get("notes", []) if row.other}
        rows["notes"] = rows.get("notes", []) + self.statement_notes(shown)
        groups = []
        order = ORDER.get(pkind, []) + [g for g in GROUP_TITLES if g not in ORDER.get(pkind, [])]
        for g in order:
            if rows.get(g):
                mixed = len({row.relation for row in rows[g]}) > 1 or g in NAMED_RELATIONS
                compact = not mixed and all(not row.quotes and not row.summary for row in rows[g])
                groups.append({"id": g, "title": GROUP_TITLES[g], "rows": _sorted(rows[g]), "relations": mixed,
                               "compact": compact})
        if kind == "Attestation":
            groups.insert(0, {"id": "fact", "title": GROUP_TITLES["fact"],
                              "rows": [Row("", summary=[{"word": "", "term": t, "badge": False, "tone": ""}
                                                        for t in self._own_attestation()],
                                           quotes=self.own_quotes)]})
        return {"label": label or fallback_label, "description": description, "alt_labels": sorted(set(alt)),
                "types": types, "kind": kind, "kind_name": class_name(kind) or ("topic" if is_concept else ""),
                "page_kind": pkind, "groups": groups, "inferred": inferred, "inferred_types": inferred_types,
                "own_quotes": [] if kind == "Attestation" else self.own_quotes}

    def _asserted(self, r) -> bool:
        return not _value(r.get("g")).endswith("/graph/inferred")

    def _relation_key(self, r) -> tuple:
        """The same key for a statement, its inverse and, for a symmetric property, its mirror."""
        direction, p, other = r["dir"].value, r["p"].value, str(r["other"])
        me = str(ox.NamedNode(self.iri))
        s, o = (me, other) if direction == "out" else (other, me)
        inverse = _value(r.get("inverse"))
        if inverse and inverse < p:
            s, o, p = o, s, inverse
        if r.get("symmetric") is not None and o < s:
            s, o = o, s
        return (s, p, o)

    def _row(self, r, direction: str, p: str, other) -> Row:
        plabel = _value(r.get("plabel")) or p.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        relation = plabel if direction == "out" else INVERSE_WORDS.get(p, f"{plabel} (of)")
        if isinstance(other, ox.Literal):
            return Row(relation, value=self.link(other))
        other_kind = kind_of(_value(r.get("oclasses")).split())
        triple = (self.iri, p, str(other)) if direction == "out" else (other.value, p, str(ox.NamedNode(self.iri)))
        quotes = list(self.fact_quotes.get(triple, []))
        if not quotes and other_kind not in _SELF_QUOTED:
            quotes = list(self.node_quotes.get(other.value, []))
        notes = self.notes_on(other.value, self.fact_attestation.get(triple, ""))
        if other_kind == "Attestation":
            return Row(relation, summary=[{"word": "", "term": t, "badge": False, "tone": ""}
                                          for t in self.attestation_text(other.value)], quotes=quotes, notes=notes)
        if other_kind == "EditorialNote":
            notes = []
        return Row(relation, other=self.link(other, r.get("olabel")), summary=self.summary(other.value, other_kind),
                   quotes=quotes, notes=notes)

    def notes_on(self, *nodes: str) -> list[dict]:
        """Links to the editorial notes on any of these nodes (a neighbour, an attestation)."""
        out = []
        for node in nodes:
            for note in self.notes_for.get(node, []):
                view = self.link(ox.NamedNode(note), ox.Literal(self.label_of(note) or "editor's reading"))
                if view not in out:
                    out.append(view)
        return out

    def statement_notes(self, shown: set) -> list[Row]:
        """The editorial notes on the attested statements about this thing, one row per note."""
        by_note: dict[str, Row] = {}
        for att, facts in self.neighbours.items():
            if RDF + "subject" not in facts:
                continue
            for note in self.notes_for.get(att, []):
                if note in shown:
                    continue
                row = by_note.get(note)
                if row is None:
                    row = by_note[note] = Row("editor's reading", other=self.link(
                        ox.NamedNode(note), ox.Literal(self.label_of(note) or note)),
                        summary=self.summary(note, "EditorialNote"), quotes=self.node_quotes.get(note, []))
                row.summary.append({"word": "on", "term": {"kind": "text", "value": ""}, "badge": False, "tone": ""})
                row.summary += [{"word": "", "term": part, "badge": False, "tone": ""}
                                for part in self.attestation_text(att)]
        return list(by_note.values())

    def _group(self, direction: str, p: str, other, r, pkind: str) -> str:
        if isinstance(other, ox.Literal):
            if p in ROLE_PROPS:
                return "roles"
            if p in WORD_PROPS:
                return "words"
            return "details"
        other_kind = kind_of(_value(r.get("oclasses")).split())
        if direction == "in" and p == PG + "about":
            return "assessments_about" if other_kind == "Assessment" else "statements_about"
        if direction == "in" and p == PG + "target":
            positions = {o.value for o, _ in self.neighbours.get(other.value, {}).get(PG + "position", [])}
            if positions & CRITICAL and pkind in ("Provision", "document"):
                return "criticism"
        if direction == "out" and p in (PG + "date", DCTERMS + "date"):
            return "details"
        return GROUP_OF.get((direction, p), "other")

    def _own_attestation(self) -> list:
        parts = []
        for r in self.links:
            if r["dir"].value == "out" and r["p"].value in (RDF + "subject", RDF + "object"):
                parts.append(self.link(r["other"], r.get("olabel")))
        return parts

    def _doc_changes(self, provisions: list[Row]) -> list[Row]:
        """The changes other drafts made to this document's provisions (two steps away)."""
        res = self.site.run(page_query("provision_matrix"), bindings={"doc": ox.NamedNode(self.iri)})
        out, seen = [], set()
        for r in _rows(res):
            if _value(r.get("row")) != "change" or _value(r.get("column")) == self.iri:
                continue
            item = r["item"].value
            if item in seen:
                continue
            seen.add(item)
            quotes = self.node_quotes.get(item) or ([self.quote_view(
                self.site, _value(r["source"]), _int(r["start"]), _int(r["end"]), _value(r["exact"]),
                "")] if r.get("source") is not None else [])
            summary = [{"word": "", "term": self.link(r["verdict"], r.get("vlabel")), "badge": True,
                        "tone": _value(r.get("verdict")).rsplit("#", 1)[-1].lower()}] if r.get("verdict") else []
            summary.append({"word": "of", "term": self.link(r["provision"], r.get("plabel")), "badge": False,
                            "tone": ""})
            summary.append({"word": "in", "term": self.link(r["column"], r.get("clabel")), "badge": False, "tone": ""})
            out.append(Row("change", other=self.link(r["item"], r.get("ilabel")), summary=summary, quotes=quotes))
        return out


def _add(quotes: list, q: dict) -> None:
    if all(q["href"] != other["href"] for other in quotes):
        quotes.append(q)


def _sorted(rows: list[Row]) -> list[Row]:
    def key(row: Row):
        name = (row.other or row.value or {}).get("label") or (row.value or {}).get("value") or ""
        return (row.relation, name.lower())
    return sorted(rows, key=key)
