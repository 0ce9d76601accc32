"""`peacegraph diff DOC_A DOC_B`: what became of each provision of A in B, with quotes.

The comparison reads the pg:ProvisionChange nodes recorded in the graph: a change whose
pg:changedProvision is a provision of A and whose pg:inDocument is B says the provision was
kept (pg:Retained), softened, strengthened, revised or removed; a change in B that names A with
pg:comparedWith reports on the provision of B it results in; a pg:Added change, or a provision
of B that no change links to A, is reported as added. Provisions of A with no recorded change
are listed as such: the graph does not say what B did with them. The selection is the stored
queries ``queries/_diff-*.rq``; labels and quotes are looked up in the dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from peacegraph.errors import InputError
from peacegraph.namespaces import OA, PG, PGID
from peacegraph.query import Shortener, internal_query, run_query, to_store

KIND_WORDS = {"Retained": "kept", "Softened": "softened", "Strengthened": "strengthened",
              "Removed": "removed", "Added": "added", "Revised": "revised"}
ORDER = ["kept", "softened", "strengthened", "revised", "removed", "added", "no recorded change"]


@dataclass
class Entry:
    verdict: str
    provision: object | None          # the provision of A (None for additions)
    resulting: object | None = None   # the provision of B it became, if recorded
    changes: list = field(default_factory=list)


def resolve_document(dataset, name: str, store=None) -> URIRef:
    """A document named by full IRI, pgid:slug or slug; InputError if the data has no such one.
    `store` is an Oxigraph copy of `dataset` (peacegraph.query.to_store), made if not given."""
    name = name.strip()
    if name.startswith("<") and name.endswith(">"):
        name = name[1:-1]
    if name.startswith(("http://", "https://")):
        iri = URIRef(name)
    elif name.startswith("pgid:"):
        iri = PGID[name[5:]]
    else:
        iri = PGID[name]
    store = store if store is not None else to_store(dataset)
    known = [row[0] for row in run_query(store, internal_query("diff-documents"))]
    if iri not in known:
        short = Shortener()
        listed = ", ".join(short(d) for d in known[:40])
        raise InputError(f"no document {name!r} in the data; documents: {listed or '(none)'}")
    return iri


def _first(dataset, s, p):
    values = sorted(dataset.objects(s, p), key=lambda v: (v.language not in (None, "en"), str(v))
                    if isinstance(v, Literal) else (True, str(v)))
    return values[0] if values else None


def label(dataset, node) -> str:
    if node is None:
        return ""
    for prop in (RDFS.label, SKOS.prefLabel):
        value = _first(dataset, node, prop)
        if value is not None:
            return str(value)
    return Shortener()(node)


def quotes(dataset, node) -> list[str]:
    found = set()
    for span in dataset.objects(node, PG.evidence):
        for sel in dataset.objects(span, OA.hasSelector):
            found.update(str(x) for x in dataset.objects(sel, OA.exact))
    return sorted(found)


def compare(dataset, doc_a: URIRef, doc_b: URIRef, store=None) -> list[Entry]:
    """The entries of the comparison, ordered by verdict and label."""
    store = store if store is not None else to_store(dataset)
    rows = run_query(store, internal_query("diff-changes"), {"docA": doc_a, "docB": doc_b})
    provisions_a = [r[0] for r in run_query(store, internal_query("diff-provisions"), {"doc": doc_a})]
    provisions_b = [r[0] for r in run_query(store, internal_query("diff-provisions"), {"doc": doc_b})]
    return entries_of([tuple(r)[:4] for r in rows], provisions_a, provisions_b,
                      lambda node: label(dataset, node))


def verdict_word(kind, name_of) -> str:
    """The verdict a change kind stands for ("kept" for pg:Retained…); `name_of` names other kinds."""
    if kind is None:
        return "changed"
    return KIND_WORDS.get(str(kind).rsplit("#", 1)[-1]) or name_of(kind).lower()


def entries_of(changes, provisions_a, provisions_b, name_of) -> list[Entry]:
    """The comparison from its parts: `changes` are (change, kind, provision of A or None,
    resulting provision of B or None) as the stored query _diff-changes selects them; the
    provisions of each document; `name_of(node)` its label. Nodes may be any hashable terms
    (rdflib's or pyoxigraph's), used consistently."""
    by_provision: dict = {}
    added: list[Entry] = []
    linked_b = set()
    for change, kind, provision, resulting in changes:
        word = verdict_word(kind, name_of)
        if resulting is not None:
            linked_b.add(resulting)
        if provision is None:
            added.append(Entry(word, None, resulting, [change]))
            continue
        entry = by_provision.get(provision)
        if entry is None:
            by_provision[provision] = Entry(word, provision, resulting, [change])
        else:
            entry.changes.append(change)
            entry.resulting = entry.resulting or resulting
            if entry.verdict != word:
                entry.verdict = f"{entry.verdict} / {word}"
    for p in provisions_a:
        if p not in by_provision:
            by_provision[p] = Entry("no recorded change", p)
    for p in provisions_b:
        if p not in linked_b and p not in by_provision:
            added.append(Entry("added", None, p))
    entries = list(by_provision.values()) + added

    def key(e: Entry):
        first = e.verdict.split(" / ")[0]
        rank = ORDER.index(first) if first in ORDER else len(ORDER)
        return (rank, name_of(e.provision or e.resulting).lower(), str(e.provision or e.resulting))
    return sorted(entries, key=key)


def render(dataset, doc_a, doc_b, entries) -> str:
    short = Shortener()
    out = [f"{label(dataset, doc_a)} ({short(doc_a)})  →  {label(dataset, doc_b)} ({short(doc_b)})", ""]
    width = max([len(e.verdict) for e in entries] + [8])
    for e in entries:
        node = e.provision or e.resulting
        out.append(f"  {e.verdict.ljust(width)}  {label(dataset, node)}  [{short(node)}]")
        pad = " " * (width + 4)
        if e.provision is not None:
            for q in quotes(dataset, e.provision):
                out.append(f"{pad}A: “{' '.join(q.split())}”")
        for change in e.changes:
            for q in quotes(dataset, change):
                out.append(f"{pad}change: “{' '.join(q.split())}”")
        if e.resulting is not None and e.resulting != e.provision:
            if e.provision is not None:
                out.append(f"{pad}B: {label(dataset, e.resulting)}  [{short(e.resulting)}]")
            for q in quotes(dataset, e.resulting):
                out.append(f"{pad}B: “{' '.join(q.split())}”")
    counts: dict = {}
    for e in entries:
        counts[e.verdict] = counts.get(e.verdict, 0) + 1
    out.append("")
    out.append("; ".join(f"{n} {v}" for v, n in counts.items()) or "no provisions and no recorded changes")
    return "\n".join(out)
