"""Comparison of documents as a blueprint: `peacegraph diff` on the web and the provision ×
document matrix by topic.

Routes: /compare/ (choose two documents), /compare/{a}/{b} (what B kept, softened, removed and
added of A's provisions, the quotes side by side), /compare/matrix (rows: topics and their
provisions; columns: the documents; a cell: what that draft did with the provision and the
stances on it, each linking to its evidence). The comparison is peacegraph.diff's (its stored
query _diff-changes and its entries_of); the cells come from the stored query provision_matrix,
which the topic pages run too, narrowed to their topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyoxigraph as ox
from flask import Blueprint, abort, redirect, request, url_for

from peacegraph.diff import entries_of
from peacegraph.query import internal_query
from peacegraph.server import views
from peacegraph.server.quotes import quote_in_context
from peacegraph.server.stored import page_query
from peacegraph.server.views import html_response
from peacegraph.server.views import int_value as _int
from peacegraph.server.views import rows as _rows
from peacegraph.server.views import term_value as _value

PG = "https://w3id.org/peacegraph/ontology#"
SLUG = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,199}")
DOCUMENT_KINDS = ["Counterproposal", "Communique", "PeacePlan", "Document"]

blueprint = Blueprint("compare", __name__)


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def documents(site) -> list[dict]:
    out = []
    for r in _rows(site.run(page_query("documents"))):
        classes = [_local(c) for c in _value(r.get("classes")).split()]
        kind = next((k for k in DOCUMENT_KINDS if k in classes), "Document")
        iri = r["doc"].value
        out.append({"iri": iri, "slug": _slug(site, iri), "label": _value(r.get("label")) or _local(iri),
                    "kind": kind, "points": _value(r.get("points"))})
    return out


def _slug(site, iri: str) -> str:
    prefix = site.config.base + "id/"
    return iri[len(prefix):] if iri.startswith(prefix) else ""


def _href(site, iri: str) -> str:
    return site.local_path(iri) or iri


# -- what the matrix query says about each node -------------------------------------------------
@dataclass
class Node:
    iri: str
    label: str = ""
    quotes: list = field(default_factory=list)
    verdict: str = ""
    verdict_label: str = ""
    clarity: str = ""
    favours: str = ""
    favours_label: str = ""
    compared: str = ""
    column: str = ""
    column_label: str = ""
    holder: str = ""
    holder_label: str = ""


def matrix_nodes(site, rows: list[dict]) -> dict[str, Node]:
    """Every provision, change and stance of the matrix rows, with its label and quotes."""
    nodes: dict[str, Node] = {}
    for r in rows:
        prov = r["provision"].value
        nodes.setdefault(prov, Node(prov, _value(r.get("plabel"))))
        item = r["item"].value
        node = nodes.setdefault(item, Node(item))
        node.label = node.label or _value(r.get("ilabel"))
        node.verdict = node.verdict or _value(r.get("verdict"))
        node.verdict_label = node.verdict_label or _value(r.get("vlabel"))
        node.clarity = node.clarity or _value(r.get("clarity"))
        node.favours = node.favours or _value(r.get("favours"))
        node.favours_label = node.favours_label or _value(r.get("flabel"))
        node.compared = node.compared or _value(r.get("compared"))
        node.column = node.column or _value(r.get("column"))
        node.column_label = node.column_label or _value(r.get("clabel"))
        node.holder = node.holder or _value(r.get("holder"))
        node.holder_label = node.holder_label or _value(r.get("hlabel"))
        if r.get("source") is not None:
            q = quote_in_context(site, r["source"].value, _int(r["start"]), _int(r["end"]), _value(r["exact"]))
            if all(q["href"] != other["href"] for other in node.quotes):
                node.quotes.append(q)
    return nodes


def matrix_rows(site, **bindings) -> list[dict]:
    subs = {k: ox.NamedNode(v) for k, v in bindings.items()}
    return _rows(site.run(page_query("provision_matrix"), bindings=subs))


# -- /compare/{a}/{b} ----------------------------------------------------------------------------
@blueprint.route("/compare/", methods=["GET"])
def choose():
    s = views.site()
    docs = documents(s)
    slugs = {d["slug"] for d in docs}
    a, b = request.args.get("a", ""), request.args.get("b", "")
    if a or b:
        if a in slugs and b in slugs and a != b:
            return redirect(url_for("compare.pair", a=a, b=b), code=303)
        return html_response("compare_choose.html", documents=docs, pairs=suggested_pairs(s, docs),
                             error="Choose two different documents from the lists.", a=a, b=b), 400
    return html_response("compare_choose.html", documents=docs, pairs=suggested_pairs(s, docs), error="",
                         a="", b="")


def suggested_pairs(site, docs: list[dict]) -> list[dict]:
    """The pairs the graph records changes between: a draft and the document its changes concern."""
    by_iri = {d["iri"]: d for d in docs}
    pairs: dict[tuple, int] = {}
    for r in matrix_rows(site):
        if _value(r.get("row")) != "change":
            continue
        earlier = _value(r.get("compared")) or r["doc"].value
        later = _value(r.get("column"))
        if earlier != later and earlier in by_iri and later in by_iri:
            pairs[(earlier, later)] = pairs.get((earlier, later), 0) + 1
    return [{"a": by_iri[a], "b": by_iri[b], "changes": n} for (a, b), n in sorted(pairs.items())]


@blueprint.route("/compare/<a>/<b>", methods=["GET"])
def pair(a: str, b: str):
    if not (SLUG.fullmatch(a) and SLUG.fullmatch(b)):
        abort(404)
    s = views.site()
    docs = {d["slug"]: d for d in documents(s)}
    if a not in docs or b not in docs or a == b:
        abort(404)
    doc_a, doc_b = docs[a], docs[b]
    rows_a, rows_b = matrix_rows(s, doc=doc_a["iri"]), matrix_rows(s, doc=doc_b["iri"])
    nodes = matrix_nodes(s, rows_a + rows_b)
    changes = _rows(s.run(internal_query("diff-changes"),
                          bindings={"docA": ox.NamedNode(doc_a["iri"]), "docB": ox.NamedNode(doc_b["iri"])}))
    for r in changes:
        nodes.setdefault(r["change"].value, Node(r["change"].value))
    quads = [(r["change"].value, _value(r.get("kind")) or None, _value(r.get("provision")) or None,
              _value(r.get("resulting")) or None) for r in changes]
    provisions_a = sorted({r["provision"].value for r in rows_a})
    provisions_b = sorted({r["provision"].value for r in rows_b})

    def name_of(iri):
        node = nodes.get(iri) if iri else None
        return (node.label if node and node.label else _local(iri or ""))

    entries = entries_of(quads, provisions_a, provisions_b, name_of)
    view = [entry_view(s, e, nodes) for e in entries]
    counts: dict[str, int] = {}
    for e in view:
        counts[e["verdict"]] = counts.get(e["verdict"], 0) + 1
    return html_response("compare.html", a=doc_a, b=doc_b, entries=view, counts=counts,
                         documents=list(docs.values()))


def entry_view(site, entry, nodes: dict[str, Node]) -> dict:
    def side(iri):
        if not iri:
            return None
        node = nodes.get(iri) or Node(iri)
        return {"href": _href(site, iri), "label": node.label or _local(iri), "quotes": node.quotes}
    notes, change_quotes = [], []
    for change in entry.changes:
        node = nodes.get(change) or Node(change)
        change_quotes += [q for q in node.quotes if all(q["href"] != o["href"] for o in change_quotes)]
        if node.clarity:
            notes.append(_local(node.clarity).lower())
        if node.favours:
            notes.append("shifted toward " + (node.favours_label or _local(node.favours)))
    verdict = entry.verdict
    return {"verdict": verdict, "tone": verdict.split(" / ")[0].replace(" ", "-"),
            "a": side(entry.provision), "b": side(entry.resulting if entry.resulting != entry.provision else None),
            "change_quotes": change_quotes, "notes": notes,
            "change_href": _href(site, entry.changes[0]) if entry.changes else ""}


# -- the matrix ------------------------------------------------------------------------------------
POSITION_TONES = {"Rejects": "rejects", "Criticizes": "criticizes", "Doubts": "doubts", "Supports": "supports",
                  "ConditionallySupports": "supports", "OpenTo": "open"}


def build_matrix(site, rows: list[dict]) -> dict:
    """Topics with their provisions as rows, documents as columns, what each draft did in the cells."""
    nodes = matrix_nodes(site, rows)
    columns: dict[str, int] = {}
    later: dict[str, set] = {}
    topics: dict[str, dict] = {}
    for r in rows:
        topic, prov, doc = r["topic"].value, r["provision"].value, r["doc"].value
        t = topics.setdefault(topic, {"iri": topic, "href": _href(site, topic),
                                      "label": _value(r.get("tlabel")) or _local(topic), "provisions": {}})
        p = t["provisions"].setdefault(prov, {"iri": prov, "href": _href(site, prov),
                                              "label": nodes[prov].label or _local(prov), "cells": {}})
        kind, item = _value(r.get("row")), nodes[r["item"].value]

        def put(column, label, tone, rank, node=item, title="", p=p):
            columns[column] = 0
            cell = p["cells"].setdefault(column, [])
            quote = node.quotes[0] if node.quotes else None
            entry = {"label": label, "tone": tone, "href": quote["href"] if quote else _href(site, node.iri),
                     "title": title or (quote["exact"] if quote else node.label), "rank": rank}
            if entry not in cell:
                cell.append(entry)
        if kind == "provision":
            put(doc, "in this draft", "in", 0)
        elif kind == "change":
            word = _verdict(item)
            earlier = item.compared or doc
            if earlier != item.column:
                later.setdefault(earlier, set()).add(item.column)
            if item.compared:
                put(item.compared, "compared", "compared", 1, title=item.label)
            put(item.column, word, _tone(word), 2, title=item.label)
        elif kind == "stance":
            position = _local(item.verdict)
            put(doc, f"{item.holder_label or _local(item.holder)}: {item.verdict_label or position.lower()}",
                POSITION_TONES.get(position, "stance"), 3, title=item.label)
    for column in list(columns):
        _depth(column, later, columns, set())
    labels = {d["iri"]: d["label"] for d in documents(site)}
    ordered = sorted(columns, key=lambda c: (columns[c], labels.get(c, c).lower()))
    cols = [{"iri": c, "href": _href(site, c), "label": labels.get(c, _local(c))} for c in ordered]
    out_topics = []
    for t in sorted(topics.values(), key=lambda t: t["label"].lower()):
        provs = sorted(t["provisions"].values(), key=lambda p: p["label"].lower())
        out_topics.append({**t, "provisions": [
            {**p, "row": [sorted(p["cells"].get(c["iri"], []), key=lambda e: e["rank"]) for c in cols]}
            for p in provs]})
    return {"columns": cols, "topics": out_topics}


def _depth(column: str, later: dict, depth: dict, seen: set) -> None:
    """Push the documents that changed or compared `column` to the right of it (a cycle stops)."""
    if column in seen:
        return
    seen.add(column)
    for after in later.get(column, ()):
        if depth.get(after, 0) <= depth[column]:
            depth[after] = depth[column] + 1
            _depth(after, later, depth, seen)
    seen.discard(column)


def _verdict(node: Node) -> str:
    if node.favours:
        return "shifted toward " + (node.favours_label or _local(node.favours))
    if _local(node.clarity) == "Vague":
        return "vague"
    return {"Retained": "kept", "Softened": "softened", "Strengthened": "strengthened", "Removed": "removed",
            "Added": "added", "Revised": "revised"}.get(_local(node.verdict), node.verdict_label or "changed")


def _tone(word: str) -> str:
    return "shifted" if word.startswith("shifted") else word.replace(" ", "-")


def topic_matrix(site, topic_iri: str) -> dict:
    return build_matrix(site, matrix_rows(site, topic=topic_iri))


@blueprint.route("/compare/matrix", methods=["GET"])
def matrix():
    s = views.site()
    topic = request.args.get("topic", "")
    if topic and not SLUG.fullmatch(topic):
        abort(404)
    bindings = {"topic": s.config.base + "id/topic/" + topic} if topic else {}
    data = build_matrix(s, matrix_rows(s, **bindings))
    if topic and not data["topics"]:
        abort(404)
    return html_response("matrix.html", matrix=data, topic=topic)


@blueprint.route("/matrix", methods=["GET"])
def matrix_short():
    return redirect(url_for("compare.matrix", **request.args), code=301)
