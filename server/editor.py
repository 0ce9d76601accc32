"""What the query page shows around its editor: the stored queries as one-click examples with
their parameters as form fields, and the prefixes the editor declares and completes.

`editor_context(site, extensions)` is the template context of query.html. The choices of a parameter (the
members of the class or concept scheme its query names) are read from the graph once per app:
the data never changes while serving.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from peacegraph.errors import PeacegraphError
from peacegraph.namespaces import PREFIXES
from peacegraph.server.stored import Example, page_query

# Result formats the endpoint offers, as (label, format parameter): solutions, then graphs.
SOLUTION_DOWNLOADS = [("CSV", "csv"), ("TSV", "tsv"), ("JSON", "json")]
GRAPH_DOWNLOADS = [("Turtle", "turtle"), ("N-Triples", "ntriples"), ("JSON-LD", "jsonld"),
                   ("RDF/XML", "rdfxml")]
_CACHE_KEY = "peacegraph.editor.cache"


@dataclass(frozen=True)
class Parameter:
    name: str
    meaning: str
    default: str = ""                                 # prefixed name, as in the query's header
    choices: list = field(default_factory=list)       # [(prefixed name, label)]


def prefixes() -> dict[str, str]:
    """Prefix → namespace of the graph's vocabularies, for declaration and completion."""
    return {name: str(ns) for name, ns in PREFIXES.items()}


def _choices(site, kind: str, cache: dict) -> list:
    from peacegraph.query import parse_term
    from peacegraph.terms import Terms

    iri = str(parse_term(kind))
    if iri not in cache:
        terms = Terms()
        result = site.run(page_query("choices"), bindings={"kind": ox.NamedNode(iri)})
        seen, out = set(), []
        for row in result.rows:
            r = dict(zip(result.variables, row, strict=True))
            value = r["value"].value
            if value not in seen:
                seen.add(value)
                out.append((terms.compact(value) or f"<{value}>", r["label"].value if r.get("label") is not None else value))
        cache[iri] = out
    return cache[iri]


def examples(site, cache: dict) -> list[Example]:
    from peacegraph.query import stored_queries

    out = []
    for q in stored_queries():
        params = []
        for name, meaning in q.params:
            kind = q.choices.get(name)
            try:
                choices = _choices(site, kind, cache) if kind else []
            except PeacegraphError:
                choices = []  # the field stays a text field; the query still runs
            default = q.defaults.get(name, "")
            if choices and default and default not in {value for value, _ in choices}:
                choices = [(default, default)] + choices  # the default is always offered
            params.append(Parameter(name, meaning, default, choices))
        out.append(Example(q.name, q.title, q.description, q.text, tuple(params)))
    return out


def vocabulary(site, cache: dict) -> dict[str, list[str]]:
    """The IRIs of the classes and of the properties the graph's ontologies declare."""
    if "vocabulary" not in cache:
        terms = {"class": [], "property": []}
        try:
            result = site.run(page_query("vocabulary"))
        except PeacegraphError:
            return terms  # completion without terms; the page still works
        for kind, term in result.rows:
            terms[kind.value].append(term.value)
        cache["vocabulary"] = terms
    return cache["vocabulary"]


def editor_context(site, extensions: dict) -> dict:
    """The template context of the query page, beside the query to show and whether to run it."""
    cache = extensions.setdefault(_CACHE_KEY, {})
    return {"examples": examples(site, cache), "prefixes": prefixes(), "vocabulary": vocabulary(site, cache),
            "solution_downloads": SOLUTION_DOWNLOADS, "graph_downloads": GRAPH_DOWNLOADS,
            "base": site.config.base, "config": site.config}
