"""Mentions: the spans of a source text that name a thing the graph knows.

A thing's names are its `rdfs:label`, `skos:prefLabel` and `skos:altLabel`; they are looked up in
the text folded as quotes are (peacegraph.anchor.fold: typographic quotes, dashes and spaces),
from the start of a word to the end of one. A mention is *used* when a piece of evidence quoting
that text covers it: the list of unused mentions is where a curator of a new text starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from peacegraph.anchor import FoldedText, _is_word, fold
from peacegraph.errors import InputError
from peacegraph.namespaces import ASSERTED_GRAPH, OA, PG, PGID, SOURCES_GRAPH
from peacegraph.sources import stem_of

NAME_PROPERTIES = (RDFS.label, SKOS.prefLabel, SKOS.altLabel)
# nodes that stand for a claim rather than a thing a text names
_NOT_NAMED_THINGS = {PG.Attestation, PG.PublicStatement, PG.Assessment, PG.Stance, PG.ClaimConflict,
                     PG.ProvisionChange, PG.EditorialNote}


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    thing: URIRef
    label: str
    text: str
    used: bool


def resolve_source(dataset, name: str) -> URIRef:
    """A source text by stem, ``src:stem`` or IRI; an InputError lists the texts otherwise."""
    texts = sorted(set(dataset.graph(SOURCES_GRAPH).subjects(RDF.type, PG.SourceText)), key=str)
    wanted = name[4:] if name.startswith("src:") else name
    for source in texts:
        if wanted in (str(source), stem_of(source), stem_of(source) + ".txt"):
            return source
    raise InputError(f"no source text {name!r}; the texts are: {', '.join(stem_of(s) for s in texts)}")


def _names(dataset) -> dict[str, set]:
    """folded name -> (thing, label as written) for every named thing of the asserted graph."""
    asserted = dataset.graph(ASSERTED_GRAPH)
    skip = {s for cls in _NOT_NAMED_THINGS for s in asserted.subjects(RDF.type, cls)}
    names: dict[str, set] = {}
    for prop in NAME_PROPERTIES:
        for thing, label in asserted.subject_objects(prop):
            if not isinstance(label, Literal) or not str(thing).startswith(str(PGID)) or thing in skip:
                continue
            key = fold(str(label))
            if len(key) >= 2:
                names.setdefault(key, set()).add((thing, str(label)))
    return names


def _evidence_spans(dataset, source) -> list[tuple[int, int]]:
    asserted = dataset.graph(ASSERTED_GRAPH)
    spans = []
    for span in asserted.subjects(OA.hasSource, source):
        for selector in asserted.objects(span, OA.hasSelector):
            start, end = asserted.value(selector, OA.start), asserted.value(selector, OA.end)
            if start is not None and end is not None:
                spans.append((int(start), int(end)))
    return spans


def find_mentions(dataset, source: URIRef) -> list[Mention]:
    """Every mention of a known thing in the text of `source`, in text order."""
    text = dataset.graph(SOURCES_GRAPH).value(source, PG.text)
    if text is None:
        raise InputError(f"src:{stem_of(source)} has no text in the sources graph")
    ft = FoldedText(str(text))
    f = ft.folded
    covered = _evidence_spans(dataset, source)
    found: dict[tuple, Mention] = {}
    for key, things in _names(dataset).items():
        for at in ft.find_all(key):
            end = at + len(key)
            if end < len(f) and _is_word(f[end]) and _is_word(f[end - 1]):
                continue  # the name ends inside a word
            s, e = ft.span(at, end)
            used = any(a <= s and e <= b for a, b in covered)
            for thing, label in things:
                found[(s, e, thing)] = Mention(s, e, thing, label, ft.text[s:e], used)
    # a shorter name of a thing inside a longer name of the same thing is the same mention
    by_thing: dict = {}
    for m in found.values():
        by_thing.setdefault(m.thing, []).append(m)
    kept = [m for ms in by_thing.values() for m in ms
            if not any(o is not m and o.start <= m.start and m.end <= o.end and (o.end - o.start) > (m.end - m.start)
                       for o in ms)]
    return sorted(kept, key=lambda m: (m.start, -m.end, str(m.thing)))


__all__ = ["Mention", "find_mentions", "resolve_source"]
