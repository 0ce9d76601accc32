"""What every blueprint's views share: the Site of the running app and the ways to answer.

`site()` is the per-app state (config, backend, small caches); the response helpers render an
error, an RDF graph or an HTML page with the headers content negotiation needs (Vary: Accept).
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlsplit

from flask import Response, current_app, render_template, request
from rdflib import Graph

from peacegraph.export import jsonld_document
from peacegraph.guard import check_query_cached
from peacegraph.namespaces import PREFIXES
from peacegraph.query import rdflib_term
from peacegraph.server import protocol
from peacegraph.server.backend import GRAPH_FORMATS, PYTHON_FORMAT, QueryRequest, QueryResult
from peacegraph.server.results import serialize_triples
from peacegraph.server.stored import page_query

EXTENSION = "peacegraph"
# The RDF serializations a page is offered in, first the default for a client that names none.
PAGE_OFFERS = [("text/turtle", "turtle"), ("text/html", "html"), ("application/xhtml+xml", "html"),
               ("application/ld+json", "jsonld"), ("application/n-triples", "ntriples"),
               ("application/rdf+xml", "rdfxml"), ("application/trig", "trig"),
               ("application/n-quads", "nquads"), ("application/json", "jsonld"),
               ("text/plain", "ntriples"), ("application/xml", "rdfxml"), ("text/xml", "rdfxml")]
FORMAT_LINKS = [("Turtle", "turtle"), ("JSON-LD", "jsonld"), ("N-Triples", "ntriples"), ("RDF/XML", "rdfxml")]


def safe_href(url: str) -> str | None:
    """The one check every link of every page passes: a path on this server, a fragment or query
    of the page itself, or an http(s) URL. Anything else (javascript:, data:, vbscript:, a scheme
    behind characters a browser drops, a host behind `//`) is shown as text, never linked:
    served data (--data, --store) is not validated, and a link is where it could run script."""
    if not url or any(ch <= " " or ch in "\x7f\\" or ch.isspace() for ch in url):
        return None
    if url[0] in "#?" or (url[0] == "/" and not url.startswith("//")):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc and url[len(parts.scheme):].startswith("://"):
        return url
    return None


def href_filter(url) -> str:
    """safe_href for templates: every dynamic href of a page goes through it."""
    return safe_href(str(url)) or "#"


class Site:
    """What the views share: the config, the backend and small caches of immutable data."""

    def __init__(self, config, backend):
        self.config = config
        self.backend = backend
        self._lock = threading.Lock()
        self._texts: dict[str, tuple] = {}
        self._graph_sizes: dict[str, int] | None = None
        self.started = time.time()

    def graphs(self) -> list[str]:
        return self.backend.graph_names()

    def run(self, text: str, *, result_format: str = PYTHON_FORMAT, bindings=None,
            default_graphs=None, named_graphs=None, max_rows: int | None = None) -> QueryResult:
        checked = check_query_cached(text)
        return self.backend.query(QueryRequest(
            text=text, form=checked.form, result_format=result_format,
            default_graphs=default_graphs, named_graphs=named_graphs, bindings=dict(bindings or {}),
            max_rows=self.config.max_rows if max_rows is None else max_rows,
            timeout=self.config.timeout, max_bytes=self.config.max_result_bytes))

    def graph_sizes(self) -> dict[str, int]:
        """Triples in each named graph (the data does not change while it is served)."""
        if self._graph_sizes is None:
            res = self.run(page_query("graph_sizes"))
            sizes = {}
            for row in res.rows:
                r = dict(zip(res.variables, row, strict=True))
                try:
                    sizes[r["graph"].value] = int(r["triples"].value)
                except (AttributeError, KeyError, ValueError):
                    continue
            self._graph_sizes = sizes
        return self._graph_sizes

    def cached_text(self, source_iri: str, loader):
        # Source texts never change while serving; keep the few most recently used.
        with self._lock:
            if source_iri in self._texts:
                return self._texts[source_iri]
        value = loader()
        with self._lock:
            if len(self._texts) >= 32:
                self._texts.pop(next(iter(self._texts)))
            self._texts[source_iri] = value
        return value

    def local_path(self, iri: str) -> str | None:
        """The path on this server of an IRI under the data base, else None."""
        base = self.config.base
        if iri.startswith(base):
            rest = iri[len(base):]
            if rest.startswith(("id/", "source/", "graph/")) or rest in ("ontology", "dataset") \
                    or rest.startswith(("ontology#", "dataset#")):
                return "/" + rest
        return None

    def public_url(self) -> str:
        """Where this server is reached, from its configuration (`--public-url`, else the address
        it is bound to); never from a request's Host header, which the client chooses."""
        if self.config.public_url:
            return self.config.public_url.rstrip("/") + "/"
        host = self.config.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.config.port}/"

    def endpoint_url(self) -> str:
        return self.public_url() + "sparql"


def rows(result) -> list[dict]:
    """The solutions of a SELECT result, each a dict from variable name to term."""
    return [dict(zip(result.variables, row, strict=True)) for row in result.rows]


def term_value(term) -> str:
    return "" if term is None else term.value


def int_value(term) -> int:
    """A literal's integer value, or -1 for anything else (a span with it is left out)."""
    try:
        return int(term.value)
    except (AttributeError, ValueError):
        return -1


def site() -> Site:
    return current_app.extensions[EXTENSION]


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    """The error as an HTML page for a browser, else as JSON or plain text, whichever is asked for."""
    accept = request.headers.get("Accept")
    if protocol.wants_html(accept):
        body = render_template("error.html", status=status, message=message)
        resp = Response(body, status=status, mimetype="text/html")
    else:
        best = protocol.negotiate(accept, [("text/plain", "text"), ("application/json", "json")], "text")
        if best == "json":
            resp = Response(json.dumps({"status": status, "error": message}), status=status,
                            mimetype="application/json")
        else:
            resp = Response(f"{status} {message}\n", status=status, mimetype="text/plain")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def not_acceptable() -> Response:
    return error_response(406, "available: text/html, " + ", ".join(GRAPH_FORMATS.values()),
                          headers={"Vary": "Accept"})


def page_format(offers=PAGE_OFFERS) -> str | None:
    """The format a page is asked for: the `format` parameter, else the Accept header; None is 406."""
    fmt_param = request.args.get("format")
    if fmt_param:
        value = fmt_param.lower()
        if value == "html":
            return "html"
        return protocol.format_override(value, "CONSTRUCT")
    return protocol.negotiate(request.headers.get("Accept"), offers, "turtle")


def rdf_response(triples, fmt: str) -> Response:
    if fmt == "jsonld":
        # the dump's readable @context (peacegraph.export), not expanded JSON-LD
        graph = Graph()
        for t in triples:
            graph.add((rdflib_term(t.subject), rdflib_term(t.predicate), rdflib_term(t.object)))
        body = jsonld_document(graph).encode("utf-8")
    else:
        body = serialize_triples(triples, fmt, {k: str(v) for k, v in PREFIXES.items()})
    resp = Response(body, content_type=GRAPH_FORMATS[fmt] + "; charset=utf-8")
    resp.headers["Vary"] = "Accept"
    return resp


def html_response(template: str, **values) -> Response:
    resp = Response(render_template(template, **values), mimetype="text/html")
    resp.headers["Vary"] = "Accept"
    return resp
