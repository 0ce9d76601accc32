"""The SPARQL 1.1 query protocol as a blueprint: the endpoint, its service description, the query
page and the status report.

Every query from a client passes the guard and goes through the backend with the configured
time and row limits; a query that fails answers with the status its error carries.
"""

from __future__ import annotations

import io
import time

from flask import Blueprint, Response, current_app, request

from peacegraph.guard import check_query_cached, local_dataset
from peacegraph.server import protocol
from peacegraph.server.backend import GRAPH_FORMATS, SOLUTION_FORMATS, QueryRequest
from peacegraph.server.describe import service_description_triples
from peacegraph.server.editor import editor_context
from peacegraph.server.results import TRUNCATED_HEADER, serialize_triples
from peacegraph.server.views import error_response, html_response, site

# rdflib's SPARQLStore names the dataset's default graph so in default-graph-uri on every query.
RDFLIB_DEFAULT_GRAPH = "urn:x-rdflib:default"
SD_FORMATS = {"turtle": "text/turtle", "rdfxml": "application/rdf+xml", "jsonld": "application/ld+json",
              "ntriples": "application/n-triples"}
SD_PREFIXES = {"sd": "http://www.w3.org/ns/sparql-service-description#", "void": "http://rdfs.org/ns/void#"}
# Media types whose body is text, so the response names its charset.
_TEXT_MEDIA = ("application/n-triples", "application/n-quads", "application/trig")
# Answers from this size on are handed to the HTTP server as a file: waitress's outbuf_overflow,
# from which it would copy the answer into a temporary file. A smaller one is copied into the
# connection's buffer and leaves with the headers, 0.3-0.6 ms sooner for a 150 KB answer here.
DIRECT_BODY = 1 << 20

blueprint = Blueprint("sparql", __name__)


def _options() -> Response:
    resp = Response(status=204)
    resp.headers["Allow"] = "GET, HEAD, POST, OPTIONS"
    resp.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
    resp.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    resp.headers["Access-Control-Max-Age"] = "86400"
    return resp


@blueprint.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def endpoint():
    if request.method == "OPTIONS":
        return _options()
    s = site()
    cfg = s.config
    preq = protocol.read_query_request(request, cfg.max_body)
    accept = request.headers.get("Accept")
    if preq.query is None:
        if request.method == "GET" or request.method == "HEAD":
            if protocol.wants_html(accept):
                return query_page()
            return service_description(accept)
        return error_response(400, "no `query` parameter in the request")
    text = preq.query
    if len(text) > cfg.max_query_length:
        return error_response(400, f"query too long: {len(text)} characters (limit {cfg.max_query_length})")
    checked = check_query_cached(text)
    fmt_param = preq.format
    if fmt_param:
        fmt = protocol.format_override(fmt_param, checked.form)
        if fmt is None:
            return error_response(400, f"unknown format {fmt_param!r} for a {checked.form} query")
    else:
        if request.method in ("GET", "HEAD") and protocol.wants_html(accept):
            return query_page(prefill=text, autorun=True)
        default = "json" if checked.form in ("SELECT", "ASK") else "turtle"
        fmt = protocol.negotiate(accept, protocol.result_offers(checked.form), default)
        if fmt is None:
            formats = SOLUTION_FORMATS if checked.form in ("SELECT", "ASK") else GRAPH_FORMATS
            return error_response(406, f"cannot answer a {checked.form} query as {accept!r}; "
                                  "available: " + ", ".join(formats.values()))
    default_graphs, named_graphs = request_dataset(preq, checked)
    if checked.relative:
        # the service-defined base IRI (SPARQL 1.1 Protocol 2.1.4): the endpoint's own IRI; a
        # later BASE in the prologue would win over this one
        text = f"BASE <{s.endpoint_url()}> {text}"
    result = s.backend.query(QueryRequest(
        text=text, form=checked.form, result_format=fmt,
        default_graphs=default_graphs, named_graphs=named_graphs,
        max_rows=cfg.max_rows, timeout=cfg.timeout, max_bytes=cfg.max_result_bytes))
    media = result.media_type
    if media.startswith("text/") or media.endswith(("json", "xml")) or media in _TEXT_MEDIA:
        media += "; charset=utf-8"
    resp = _answer(result.body, media)
    resp.headers["Vary"] = "Accept"
    if result.truncated:
        limit = (f"max-bytes={cfg.max_result_bytes}" if result.truncated_by == "bytes"
                 else f"max-rows={cfg.max_rows}")
        resp.headers[TRUNCATED_HEADER] = f"true; {limit}"
    resp.headers["Access-Control-Expose-Headers"] = TRUNCATED_HEADER
    return resp


def _answer(body: bytes, media: str) -> Response:
    """A 200 carrying `body`. One of DIRECT_BODY bytes or more goes to the HTTP server as a file
    (wsgi.file_wrapper), which it sends from in place rather than through a temporary file."""
    wrapper = request.environ.get("wsgi.file_wrapper")
    if wrapper is None or len(body) < DIRECT_BODY:
        return Response(body, status=200, content_type=media)
    resp = Response(wrapper(io.BytesIO(body)), status=200, content_type=media, direct_passthrough=True)
    resp.content_length = len(body)
    return resp


def request_dataset(preq, checked) -> tuple[list[str] | None, list[str] | None]:
    """The RDF dataset of a query: the protocol's graph parameters win over FROM / FROM NAMED
    (SPARQL 1.1 Protocol 2.1.4); with neither, the configured default (the union). A graph the
    dataset does not hold is an empty graph (peacegraph.guard.local_dataset)."""
    if preq.default_graphs == [RDFLIB_DEFAULT_GRAPH] and not preq.named_graphs:
        return None, None
    held = site().graphs()
    if preq.default_graphs or preq.named_graphs:
        defaults = [g for g in preq.default_graphs if g != RDFLIB_DEFAULT_GRAPH]
        if len(defaults) < len(preq.default_graphs):
            defaults = [""] + held
        return local_dataset(defaults, preq.named_graphs, held)
    if checked.from_graphs or checked.from_named:
        return local_dataset(checked.from_graphs, checked.from_named, held)
    return None, None


def service_description(accept: str | None) -> Response:
    fmt = protocol.negotiate(accept, [(m, k) for k, m in SD_FORMATS.items()] +
                             [("application/xml", "rdfxml"), ("text/plain", "ntriples")], "turtle")
    if fmt is None:
        fmt = "turtle"
    s = site()
    triples = service_description_triples(s.endpoint_url(), s.graphs(), s.config, graph_sizes=s.graph_sizes(),
                                          void_url=s.public_url() + ".well-known/void")
    resp = Response(serialize_triples(triples, fmt, SD_PREFIXES), content_type=SD_FORMATS[fmt] + "; charset=utf-8")
    resp.headers["Vary"] = "Accept"
    return resp


def query_page(prefill: str | None = None, autorun: bool = False) -> Response:
    context = editor_context(site(), current_app.extensions)
    examples = context["examples"]
    initial = prefill if prefill is not None else (examples[0].text if examples else
                                                   "SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    return html_response("query.html", initial=initial, autorun=autorun, prefilled=prefill is not None,
                         **context)


@blueprint.route("/status", methods=["GET"])
def status():
    s = site()
    # Paths and process ids stay private; counts are what monitoring needs.
    backend = {k: v for k, v in s.backend.stats().items() if k not in ("store", "pids")}
    return {"backend": backend, "graphs": s.graphs(), "uptime": round(time.time() - s.started, 1),
            "limits": {"timeout": s.config.timeout, "max_rows": s.config.max_rows,
                       "max_result_bytes": s.config.max_result_bytes,
                       "max_query_length": s.config.max_query_length, "max_body": s.config.max_body}}
