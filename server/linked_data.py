"""Linked data as a blueprint: every IRI of the graph dereferences here, as HTML for browsers and
RDF for machines.

Routes: /id/{slug}, /ontology, /source/{stem}, /graph/{name}, /download/, /.well-known/void.
Paths are checked against a strict pattern before anything else happens, so a malformed one is
a 404 that touches no file and runs no query. Pages are filled by the stored queries of
server/queries with the thing bound through substitutions. A query that fails answers with the
status its error carries (the app's error handler).
"""

from __future__ import annotations

import html
import mimetypes
import os
import re
import stat
from itertools import pairwise
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, abort, request, send_file
from markupsafe import Markup
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL

from peacegraph.namespaces import PREFIXES, VOID
from peacegraph.paths import default_dist
from peacegraph.server import protocol, views
from peacegraph.server.compare import topic_matrix
from peacegraph.server.describe import dataset_graph, dataset_schema_org, ox_triples
from peacegraph.server.entity_page import EntityView, class_name, kind_of
from peacegraph.server.nearest import missing_thing
from peacegraph.server.quotes import quote_in_context, source_text
from peacegraph.server.results import TRUNCATED_HEADER
from peacegraph.server.stored import page_query
from peacegraph.server.views import (
    FORMAT_LINKS,
    PAGE_OFFERS,
    html_response,
    not_acceptable,
    page_format,
    rdf_response,
    rows,
    term_value,
)
from peacegraph.server.views import int_value as _int
from peacegraph.void import SPDX, DumpFile, dataset_iri

_SEGMENT = r"[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,199}"
SLUG = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT}){{0,3}}")
NAME = re.compile(_SEGMENT)
FILE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"

blueprint = Blueprint("linked_data", __name__)


def _valid(pattern: re.Pattern, value: str) -> bool:
    return bool(pattern.fullmatch(value)) and ".." not in value


# -- helpers over query results ---------------------------------------------------------------


def term_view(site, term, label=None) -> dict:
    """How a term is shown: a link (local when the IRI is ours) or a literal."""
    if isinstance(term, ox.NamedNode):
        href = views.safe_href(site.local_path(term.value) or term.value)
        if href is None:
            return {"kind": "literal", "value": term.value, "lang": "", "datatype": ""}
        return {"kind": "iri", "iri": term.value, "href": href,
                "label": term_value(label) or short_name(term.value)}
    if isinstance(term, ox.Literal):
        value = term.value
        return {"kind": "literal", "value": value if len(value) <= 600 else value[:600] + "…",
                "lang": term.language or "",
                "datatype": "" if term.language or term.datatype.value.endswith("#string")
                else short_name(term.datatype.value)}
    return {"kind": "other", "value": str(term)}


def short_name(iri: str) -> str:
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(str(kv[1]))):
        if iri.startswith(str(ns)) and len(iri) > len(str(ns)):
            return f"{prefix}:{iri[len(str(ns)):]}"
    return iri


# -- views ----------------------------------------------------------------------------------------
@blueprint.route("/id/<path:slug>", methods=["GET"])
def entity(slug: str):
    if not _valid(SLUG, slug):
        abort(404)
    s = views.site()
    fmt = page_format()
    if fmt is None:
        return not_acceptable()
    iri = s.config.base + "id/" + slug
    return describe_thing(s, iri, fmt, title_hint=slug)


def describe_thing(site, iri: str, fmt: str, title_hint: str = ""):
    node = ox.NamedNode(iri)
    exists = site.run(page_query("exists"), bindings={"thing": node})
    if not exists.boolean:
        return missing_thing(iri)
    if fmt != "html":
        res = site.run(page_query("describe"), bindings={"thing": node})
        return rdf_response(res.triples, fmt)
    page = EntityView(site, iri, quote_in_context, term_view).build(title_hint or iri)
    return html_response("entity.html", iri=iri, page=page, format_links=FORMAT_LINKS,
                         matrix=topic_matrix(site, iri) if page["kind_name"] == "topic" else None)


@blueprint.route("/source/<path:stem>", methods=["GET"])
def source(stem: str):
    if not _valid(NAME, stem):
        abort(404)
    s = views.site()
    iri = s.config.base + "source/" + stem
    offers = [("text/plain", "text")] + [o for o in PAGE_OFFERS if o[0] != "text/plain"]
    fmt_param = request.args.get("format")
    if fmt_param in ("text", "txt", "plain"):
        fmt = "text"
    else:
        fmt = page_format(offers)
    if fmt is None:
        return not_acceptable()
    found = source_text(s, iri)
    if found is None:
        abort(404)
    if fmt == "text":
        resp = Response(found[0], content_type="text/plain; charset=utf-8")
        resp.headers["Vary"] = "Accept"
        return resp
    if fmt != "html":
        res = s.run(page_query("source_description"), bindings={"thing": ox.NamedNode(iri)},
                    max_rows=max(s.config.max_rows, 500_000))
        return rdf_response(res.triples, fmt)
    ev = rows(s.run(page_query("source_evidence"), bindings={"source": ox.NamedNode(iri)}))
    spans = source_spans(s, found[0], ev)
    return html_response("source.html", iri=iri, stem=stem, title=found[1] or stem, sha256=found[2],
                         body=mark_spans(found[0], spans), spans=spans, facts=facts_with_spans(spans),
                         format_links=FORMAT_LINKS)


def source_spans(site, text: str, ev: list[dict]) -> list[dict]:
    """Each evidence span of a text once, in text order, with the facts it supports as links:
    a thing it is evidence of, or the statement of an attestation (never the attestation)."""
    spans: dict[tuple[int, int], dict] = {}
    for r in ev:
        s, e = _int(r["start"]), _int(r["end"])
        if not 0 <= s < e <= len(text):
            continue
        span = spans.setdefault((s, e), {"start": s, "end": e, "id": f"char={s},{e}", "exact": text[s:e],
                                         "iri": term_value(r["span"]), "facts": []})
        node = r.get("node")
        if node is None:
            continue
        if r.get("p") is not None:
            fact = {"parts": [term_view(site, r["s"], r.get("slabel")),
                              {"kind": "text", "value": term_value(r.get("plabel")) or short_name(r["p"].value)},
                              term_view(site, r["o"], r.get("olabel"))]}
        else:
            kind = kind_of(term_value(r.get("nclasses")).split())
            fact = {"parts": [{"kind": "text", "value": class_name(kind) or "thing"},
                              term_view(site, node, r.get("nlabel"))]}
        if fact not in span["facts"]:
            span["facts"].append(fact)
    return [spans[k] for k in sorted(spans)]


def facts_with_spans(spans: list[dict]) -> list[dict]:
    """Each fact the text is evidence for once, in the order of its first span, with all the spans
    supporting it: many spans support the same fact, and listing it under each of them would
    weigh the page down with copies."""
    facts: dict[tuple, dict] = {}
    for sp in spans:
        for fact in sp["facts"]:
            key = tuple(tuple(sorted(part.items())) for part in fact["parts"])
            facts.setdefault(key, {"parts": fact["parts"], "spans": []})["spans"].append(sp)
    return list(facts.values())


def mark_spans(text: str, spans: list[dict]) -> Markup:
    """The text as HTML with every evidence span highlighted: each piece of text covered by spans
    is a <mark> naming them (data-spans), and each span's start carries an empty element whose id
    is the span's fragment (`char=S,E`), so the span's IRI addresses it. A piece where some span
    starts is focusable, so the keyboard reaches every span and the facts it supports (the page's
    script makes it a button that opens them). Where spans overlap, data-spans names more than one,
    which the stylesheet shows darker."""
    bounds = sorted({0, len(text)} | {b for sp in spans for b in (sp["start"], sp["end"])})
    starts: dict[int, list[dict]] = {}
    for sp in spans:
        starts.setdefault(sp["start"], []).append(sp)
    parts = []
    for a, b in pairwise(bounds):
        opening = sorted(starts.get(a, []), key=lambda sp: sp["end"])
        for sp in opening:
            parts.append(f'<span id="{sp["id"]}"></span>')
        covering = [sp for sp in spans if sp["start"] <= a and b <= sp["end"]]
        chunk = html.escape(text[a:b])
        if covering:
            ids = " ".join(sp["id"] for sp in covering)
            focus = ' tabindex="0"' if opening else ""
            parts.append(f'<mark data-spans="{ids}"{focus}>{chunk}</mark>')
        else:
            parts.append(chunk)
    return Markup("".join(parts))


@blueprint.route("/ontology", methods=["GET"])
def ontology():
    s = views.site()
    fmt = page_format()
    if fmt is None:
        return not_acceptable()
    graph = s.config.base + "graph/ontology"
    if fmt != "html":
        res = s.run(page_query("graph_triples"), bindings={"graph": ox.NamedNode(graph)},
                    max_rows=max(s.config.max_rows, 200_000))
        return rdf_response(res.triples, fmt)
    res = s.run(page_query("terms"), bindings={"graph": ox.NamedNode(graph)},
                max_rows=max(s.config.max_rows, 200_000))
    return html_response("ontology.html", sections=ontology_sections(s, rows(res)), format_links=FORMAT_LINKS)


_KINDS = [("Ontology", {"http://www.w3.org/2002/07/owl#Ontology"}),
          ("Classes", {"http://www.w3.org/2002/07/owl#Class", "http://www.w3.org/2000/01/rdf-schema#Class"}),
          ("Properties", {"http://www.w3.org/2002/07/owl#ObjectProperty",
                          "http://www.w3.org/2002/07/owl#DatatypeProperty",
                          "http://www.w3.org/2002/07/owl#AnnotationProperty",
                          "http://www.w3.org/1999/02/22-rdf-syntax-ns#Property"}),
          ("Concepts", {"http://www.w3.org/2004/02/skos/core#Concept",
                        "http://www.w3.org/2004/02/skos/core#ConceptScheme"})]
_DOC_PROPS = {RDFS_LABEL, "http://www.w3.org/2000/01/rdf-schema#comment",
              "http://www.w3.org/2004/02/skos/core#prefLabel", "http://www.w3.org/2004/02/skos/core#definition"}


def ontology_sections(site, triples: list[dict]) -> list[dict]:
    terms: dict[str, dict] = {}
    for r in triples:
        t = r["term"]
        if not isinstance(t, ox.NamedNode):
            continue
        entry = terms.setdefault(t.value, {"iri": t.value, "types": set(), "label": "", "comment": "",
                                           "relations": []})
        p, o = r["p"].value, r["o"]
        if p == RDF_TYPE:
            entry["types"].add(o.value)
        elif p in (RDFS_LABEL, "http://www.w3.org/2004/02/skos/core#prefLabel") and isinstance(o, ox.Literal):
            if not entry["label"] or o.language == "en":
                entry["label"] = o.value
        elif p in ("http://www.w3.org/2000/01/rdf-schema#comment",
                   "http://www.w3.org/2004/02/skos/core#definition") and isinstance(o, ox.Literal):
            entry["comment"] = o.value
        if p not in _DOC_PROPS and p != RDF_TYPE:
            entry["relations"].append((short_name(p), term_view(site, o)))
    sections = []
    placed = set()
    for title, kinds in _KINDS:
        members = [e for e in terms.values() if e["types"] & kinds and e["iri"] not in placed]
        placed |= {e["iri"] for e in members}
        for e in members:
            e["anchor"] = e["iri"].split("#")[-1] if "#" in e["iri"] else e["iri"].rstrip("/").split("/")[-1]
            e["type_names"] = sorted(short_name(t) for t in e["types"])
        sections.append({"title": title, "terms": sorted(members, key=lambda e: e["anchor"].lower())})
    return sections


@blueprint.route("/graph/<path:name>", methods=["GET"])
def graph(name: str):
    if not _valid(NAME, name):
        abort(404)
    s = views.site()
    iri = s.config.base + "graph/" + name
    if iri not in s.graphs():
        abort(404)
    fmt = page_format()
    if fmt is None:
        return not_acceptable()
    if fmt == "html":
        sizes = s.graph_sizes()
        return html_response("graph.html", iri=iri, name=name, size=sizes.get(iri, 0), format_links=FORMAT_LINKS)
    res = s.run(page_query("graph_triples"), bindings={"graph": ox.NamedNode(iri)},
                max_rows=max(s.config.max_rows, 1_000_000))
    resp = rdf_response(res.triples, fmt)
    if res.truncated:
        resp.headers[TRUNCATED_HEADER] = "true"
    return resp


# -- dumps and VoID ---------------------------------------------------------------------------------
def dist_dir(site) -> Path | None:
    cfg = site.config
    if cfg.dist_dir is not None:
        return Path(cfg.dist_dir)
    if cfg.data:
        folder = Path(cfg.data[0]).resolve().parent
        return folder if (folder / "SHA256SUMS").is_file() else None
    return default_dist()


def _open_dump(folder: Path, name: str) -> int | None:
    """A file descriptor of `folder/name` if it is a regular file in the folder itself (no link
    followed, in the name or at the last step), else None."""
    try:
        fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def dumps(site) -> list[dict]:
    """The files a build publishes (peacegraph.export.FILES), by exact name, that the folder's
    SHA256SUMS lists (it is what the build writes last): nothing else in the folder is served."""
    from peacegraph.export import FILES

    folder = dist_dir(site)
    if folder is None or not folder.is_dir():
        return []
    fd = _open_dump(folder, "SHA256SUMS")
    if fd is None:
        return []
    with os.fdopen(fd, "rb") as fh:
        listing = fh.read(1 << 20).decode("utf-8", errors="replace")
    sums = {}
    for line in listing.splitlines():
        digest, _, name = line.partition("  ")
        if digest and name:
            sums[name.strip().lstrip("*")] = digest.strip()
    out = []
    for name in FILES:
        if name != "SHA256SUMS" and name not in sums:
            continue
        fd = _open_dump(folder, name)
        if fd is None:
            continue
        size = os.fstat(fd).st_size
        os.close(fd)
        out.append({"name": name, "size": size, "sha256": sums.get(name, "")})
    return out


@blueprint.route("/download/", methods=["GET"])
def download_index():
    files = dumps(views.site())
    if protocol.wants_html(request.headers.get("Accept")):
        return html_response("download.html", files=files)
    lines = [f"{f['sha256'] or '-'}  {f['size']}  {f['name']}" for f in files]
    return Response("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@blueprint.route("/download/<path:name>", methods=["GET"])
def download_file(name: str):
    s = views.site()
    if not _valid(FILE_NAME, name):
        abort(404)
    if name not in {f["name"] for f in dumps(s)}:
        abort(404)
    fd = _open_dump(dist_dir(s), name)
    if fd is None:
        abort(404)
    return send_file(os.fdopen(fd, "rb"), mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream",
                     download_name=name, as_attachment=False)


def dataset_files(site) -> list[DumpFile]:
    return [DumpFile(f["name"], f["size"], f["sha256"]) for f in dumps(site)]


def dataset_jsonld() -> dict:
    """The schema.org Dataset of the served data, for the JSON-LD data block of the home page."""
    s = views.site()
    return dataset_schema_org(s, dataset_files(s))


@blueprint.route("/.well-known/void", methods=["GET"])
@blueprint.route("/dataset", methods=["GET"])
def void():
    """The dataset's description (VoID and DCAT) at its well-known address and at the dataset
    IRI: a readable page for a browser, RDF for everyone else (Turtle by default)."""
    s = views.site()
    fmt = page_format()
    if fmt is None:
        return not_acceptable()
    graph = dataset_graph(s, dataset_files(s))
    if fmt == "html":
        return html_response("dataset.html", d=dataset_view(s, graph), format_links=FORMAT_LINKS)
    return rdf_response(ox_triples(graph), fmt)


def dataset_view(site, graph) -> dict:
    """What the dataset page shows, read from the description itself."""
    ds = dataset_iri(site.config.base)

    def one(p):
        value = graph.value(ds, p)
        return "" if value is None else str(value)

    files = []
    for dist in graph.objects(ds, DCAT.distribution):
        url = graph.value(dist, DCAT.downloadURL)
        if url is None:
            continue
        checksum = graph.value(dist, SPDX.checksum)
        files.append({"name": str(graph.value(dist, DCTERMS.title)), "url": str(url),
                      "media_type": str(graph.value(dist, DCAT.mediaType)).rsplit("/media-types/", 1)[-1],
                      "size": graph.value(dist, DCAT.byteSize) or "",
                      "sha256": "" if checksum is None else str(graph.value(checksum, SPDX.checksumValue)),
                      "dump": (ds, VOID.dataDump, url) in graph})
    creator = graph.value(ds, DCTERMS.creator)
    return {"iri": str(ds), "title": one(DCTERMS.title), "description": one(DCTERMS.description),
            "license": one(DCTERMS.license), "rights": one(DCTERMS.rights), "created": one(DCTERMS.created),
            "creator": "" if creator is None else str(graph.value(creator, FOAF.name) or creator),
            "version": one(OWL.versionInfo), "issued": one(DCTERMS.issued), "triples": one(VOID.triples),
            "endpoint": one(VOID.sparqlEndpoint), "uri_space": one(VOID.uriSpace),
            "examples": sorted(str(e) for e in graph.objects(ds, VOID.exampleResource)),
            "vocabularies": sorted(str(v) for v in graph.objects(ds, VOID.vocabulary)),
            "graphs": [{"iri": str(g), "triples": graph.value(g, VOID.triples)}
                       for g in sorted(graph.objects(ds, VOID.subset))],
            "files": sorted(files, key=lambda f: f["name"])}

