"""The Flask application: the SPARQL endpoint, the query page and the linked-data site.

`create_app(config)` opens the backend (loading the data once, here and not at import) and
returns the app; `close_app(app)` stops its workers. Every query, from a client or from a page,
passes the guard and goes through the backend with the configured time and row limits.
"""

from __future__ import annotations

import json
import threading
import time

from flask import Flask, Response, current_app, render_template, request

from peacegraph.errors import PeacegraphError, QueryError, StoreError
from peacegraph.server import protocol
from peacegraph.server.backend import (GRAPH_FORMATS, PYTHON_FORMAT, SOLUTION_FORMATS, QueryCrashed,
                                       QueryRequest, QueryResult, QueryTimeout, ServerBusy,
                                       open_backend)
from peacegraph.server.config import ServerConfig
from peacegraph.server.guard import check_query_cached
from peacegraph.server.results import TRUNCATED_HEADER

# rdflib's SPARQLStore names the dataset's default graph so in default-graph-uri on every query.
RDFLIB_DEFAULT_GRAPH = "urn:x-rdflib:default"
SD_FORMATS = {"turtle": "text/turtle", "rdfxml": "application/rdf+xml", "jsonld": "application/ld+json",
              "ntriples": "application/n-triples"}


class Site:
    """What the views share: the config, the backend and small caches of immutable data."""

    def __init__(self, config: ServerConfig, backend):
        self.config = config
        self.backend = backend
        self._lock = threading.Lock()
        self._texts: dict[str, tuple] = {}
        self.started = time.time()

    def graphs(self) -> list[str]:
        return self.backend.graph_names()

    def run(self, text: str, *, result_format: str = PYTHON_FORMAT, bindings=None,
            default_graphs=None, named_graphs=None, max_rows: int | None = None) -> QueryResult:
        checked = check_query_cached(text, tuple(self.graphs()))
        return self.backend.query(QueryRequest(
            text=text, form=checked.form, result_format=result_format,
            default_graphs=default_graphs, named_graphs=named_graphs, bindings=dict(bindings or {}),
            max_rows=self.config.max_rows if max_rows is None else max_rows,
            timeout=self.config.timeout))

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
            if rest.startswith(("id/", "source/", "graph/")) or rest == "ontology" or rest.startswith("ontology#"):
                return "/" + rest
        return None

    def public_url(self) -> str:
        if self.config.public_url:
            return self.config.public_url.rstrip("/") + "/"
        return request.host_url


def site() -> Site:
    return current_app.extensions["peacegraph"]


def create_app(config: ServerConfig | None = None, backend=None) -> Flask:
    config = config or ServerConfig()
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body
    app.json.sort_keys = False
    if backend is None:
        backend = open_backend(config)
        backend.start()
    app.extensions["peacegraph"] = Site(config, backend)

    @app.template_filter("local")
    def _local(iri):
        return site().local_path(str(iri)) or str(iri)

    @app.after_request
    def _cors(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    app.add_url_rule("/sparql", "sparql", sparql_endpoint, methods=["GET", "POST", "OPTIONS"])
    app.add_url_rule("/", "home", home, methods=["GET"])
    app.add_url_rule("/status", "status", status, methods=["GET"])
    from peacegraph.server import linked_data
    linked_data.register(app)

    @app.errorhandler(404)
    def _not_found(_e):
        return error_response(404, "not found: nothing is published at this address")

    @app.errorhandler(405)
    def _not_allowed(e):
        resp = error_response(405, f"method {request.method} not allowed here")
        if getattr(e, "valid_methods", None):
            resp.headers["Allow"] = ", ".join(e.valid_methods)
        return resp

    @app.errorhandler(413)
    def _too_large(_e):
        return error_response(413, f"request body too large (limit {config.max_body} bytes)")

    @app.errorhandler(400)
    def _bad(_e):
        return error_response(400, "bad request")

    @app.errorhandler(500)
    def _internal(_e):
        return error_response(500, "internal error; the server keeps running")

    return app


def close_app(app: Flask) -> None:
    app.extensions["peacegraph"].backend.close()


# -- responses ------------------------------------------------------------------------------
def error_response(status: int, message: str, headers: dict | None = None) -> Response:
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


def query_error_status(exc: Exception) -> int:
    if isinstance(exc, (QueryTimeout, ServerBusy)):
        return 503
    if isinstance(exc, QueryCrashed):
        return 400
    if isinstance(exc, StoreError):
        return 502
    return 400


def _options() -> Response:
    resp = Response(status=204)
    resp.headers["Allow"] = "GET, HEAD, POST, OPTIONS"
    resp.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
    resp.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    resp.headers["Access-Control-Max-Age"] = "86400"
    return resp


def sparql_endpoint():
    if request.method == "OPTIONS":
        return _options()
    s = site()
    cfg = s.config
    try:
        preq = protocol.read_query_request(request, cfg.max_body)
    except protocol.ProtocolError as exc:
        return error_response(exc.status, exc.message)
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
    try:
        checked = check_query_cached(text, tuple(s.graphs()))
    except QueryError as exc:
        return error_response(400, str(exc))
    for g in preq.default_graphs + preq.named_graphs:
        if g not in s.graphs() and not (g == RDFLIB_DEFAULT_GRAPH and g in preq.default_graphs):
            return error_response(400, f"<{g}> is not a graph of this dataset; graphs: "
                                  + ", ".join(f"<{x}>" for x in s.graphs()))
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
    try:
        result = s.backend.query(QueryRequest(
            text=text, form=checked.form, result_format=fmt,
            default_graphs=default_graphs, named_graphs=named_graphs,
            max_rows=cfg.max_rows, timeout=cfg.timeout))
    except PeacegraphError as exc:
        return error_response(query_error_status(exc), str(exc))
    media = result.media_type
    if media.startswith("text/") or media.endswith(("json", "xml")) or media in ("application/n-triples",
                                                                                 "application/n-quads",
                                                                                 "application/trig"):
        media += "; charset=utf-8"
    resp = Response(result.body, status=200, content_type=media)
    resp.headers["Vary"] = "Accept"
    if result.truncated:
        resp.headers[TRUNCATED_HEADER] = f"true; max-rows={cfg.max_rows}"
    resp.headers["Access-Control-Expose-Headers"] = TRUNCATED_HEADER
    return resp


def request_dataset(preq, checked) -> tuple[list[str] | None, list[str] | None]:
    """The RDF dataset of a query: the protocol's graph parameters win over FROM / FROM NAMED
    (SPARQL 1.1 Protocol 2.1.4); with neither, the configured default (the union)."""
    if preq.default_graphs == [RDFLIB_DEFAULT_GRAPH] and not preq.named_graphs:
        return None, None
    if preq.default_graphs or preq.named_graphs:
        defaults = [g for g in preq.default_graphs if g != RDFLIB_DEFAULT_GRAPH]
        if len(defaults) < len(preq.default_graphs):
            defaults = [""] + site().graphs()
        return defaults, list(preq.named_graphs)
    if checked.from_graphs or checked.from_named:
        return list(checked.from_graphs), list(checked.from_named)
    return None, None


def service_description(accept: str | None):
    from peacegraph.server.describe import service_description_triples
    from peacegraph.server.results import serialize_triples

    fmt = protocol.negotiate(accept, [(m, k) for k, m in SD_FORMATS.items()] +
                             [("application/xml", "rdfxml"), ("text/plain", "ntriples")], "turtle")
    if fmt is None:
        fmt = "turtle"
    s = site()
    triples = service_description_triples(s.public_url() + "sparql", s.graphs(), s.config)
    resp = Response(serialize_triples(triples, fmt, {"sd": "http://www.w3.org/ns/sparql-service-description#",
                                                     "void": "http://rdfs.org/ns/void#"}),
                    content_type=SD_FORMATS[fmt] + "; charset=utf-8")
    resp.headers["Vary"] = "Accept"
    return resp


def query_page(prefill: str | None = None, autorun: bool = False):
    from peacegraph.server.editor import editor_context

    context = editor_context(site(), current_app.extensions)
    examples = context["examples"]
    initial = prefill if prefill is not None else (examples[0].text if examples else
                                                   "SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    resp = Response(render_template("query.html", initial=initial, autorun=autorun,
                                    prefilled=prefill is not None, **context),
                    mimetype="text/html")
    resp.headers["Vary"] = "Accept"
    return resp


def home():
    if protocol.wants_html(request.headers.get("Accept")) or not request.headers.get("Accept"):
        return query_page()
    return service_description(request.headers.get("Accept"))


def status():
    s = site()
    # Paths and process ids stay private; counts are what monitoring needs.
    backend = {k: v for k, v in s.backend.stats().items() if k not in ("store", "pids")}
    return {"backend": backend, "graphs": s.graphs(), "uptime": round(time.time() - s.started, 1),
            "limits": {"timeout": s.config.timeout, "max_rows": s.config.max_rows,
                       "max_query_length": s.config.max_query_length, "max_body": s.config.max_body}}

