"""The store interface of the endpoint: every query the server evaluates goes through a Backend.

The web layer (the blueprint in peacegraph.server.sparql) does everything that must hold whatever the store is
*before* a query reaches a backend: it parses the SPARQL 1.1 Protocol request, checks the query
with peacegraph.guard (read-only, no SERVICE, no LOAD, FROM/FROM NAMED only naming graphs
of the served dataset, size limits), decides the query form and the result format. A backend
only evaluates an already-checked query and returns the serialized result, honouring the time
and row limits it is given. Two backends exist:

- ``peacegraph.server.embedded.EmbeddedBackend``: Oxigraph in a pool of worker processes
  (peacegraph.server.pool) sharing an in-memory copy of the dumps, or an on-disk store persisted
  with ``--store-dir``.
- ``peacegraph.server.remote.RemoteBackend`` (``peacegraph serve --store URL``): forwards
  queries to a remote SPARQL 1.1 endpoint.

``peacegraph.server.config.open_backend(config)`` picks one from a ServerConfig:
``config.store_url`` set means remote.

Implementing a backend
----------------------
Subclass ``Backend`` and implement:

``__init__(self, config: ServerConfig)``
    Keep the config; do no network or disk work yet.
``start(self) -> None``
    Make the backend ready (load or open the store; for a remote store, check it answers and
    raise ``peacegraph.errors.StoreError`` with a one-line message when it does not).
``graph_names(self) -> list[str]``
    The IRIs of the named graphs of the served dataset. The guard allows FROM / FROM NAMED and
    ``default-graph-uri`` / ``named-graph-uri`` only for these; the service description lists them.
``query(self, request: QueryRequest) -> QueryResult``
    Evaluate ``request.text``. ``request.form`` is already known ("SELECT", "ASK", "CONSTRUCT"
    or "DESCRIBE"). Dataset: ``request.default_graphs`` None means the union of all graphs
    (the store's default graph and every named graph); a list means exactly those graphs merged
    ("" stands for the store's own default graph). ``request.named_graphs`` None means every
    named graph is visible to GRAPH; a list restricts GRAPH to those.
    ``request.bindings`` maps variable names (no "?") to pyoxigraph terms that the query's
    variables are bound to before evaluation (SEP-0007 substitution semantics; a remote backend
    may append the equivalent VALUES block built from ``term_to_sparql``).
    Result: serialize in ``request.result_format`` (a key of SOLUTION_FORMATS for SELECT/ASK,
    of GRAPH_FORMATS for CONSTRUCT/DESCRIBE), or, when it is ``"python"``, return the
    pyoxigraph terms in ``QueryResult.variables``/``rows`` (SELECT), ``.boolean`` (ASK) or
    ``.triples`` (CONSTRUCT/DESCRIBE) for the HTML pages. Stop after ``request.max_rows`` rows
    (or triples) and set ``truncated=True`` if there were more. peacegraph.server.results has
    the serializers (``serialize_solutions``, ``serialize_boolean``, ``serialize_triples``)
    that add the truncation marker, so a backend can collect terms and call them.
    Limits: give up after ``request.timeout`` seconds and raise ``QueryTimeout`` (the work must
    really stop: a remote backend closes its connection). Errors: ``QuerySyntaxError`` for a
    query the engine rejects (message with line and column), ``QueryCrashed`` when the
    evaluator died on this query, ``ServerBusy`` when no capacity frees up in time,
    ``peacegraph.errors.StoreError`` when a remote store fails. Each carries the HTTP status the
    server answers with (``http_status``). Any other exception is a bug.
``stats(self) -> dict``
    Numbers for monitoring and tests: at least ``{"backend": name}``; the embedded backend adds
    ``workers`` (live worker processes), ``busy``, ``restarts``.
``close(self) -> None``
    Release everything (stop worker processes, close connections). Idempotent.

A backend must be safe to call from many HTTP threads at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from peacegraph.errors import QueryError

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")

# result format key -> media type
SOLUTION_FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_FORMATS = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "nquads": "application/n-quads",
    "trig": "application/trig",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}
PYTHON_FORMAT = "python"


class QuerySyntaxError(QueryError):
    """The engine rejected the query text; the message carries line and column."""


class QueryTimeout(QueryError):
    """The query ran over its time limit and was stopped."""

    http_status = 503


class QueryCrashed(QueryError):
    """The evaluator died on this query (e.g. a stack overflow); nothing else was affected.
    The query is what the evaluator could not take, so the answer is a client error."""


class ServerBusy(QueryError):
    """No evaluation capacity became free in time."""

    http_status = 503


@dataclass
class QueryRequest:
    text: str
    form: str
    result_format: str
    default_graphs: list[str] | None = None
    named_graphs: list[str] | None = None
    bindings: dict[str, Any] = field(default_factory=dict)
    max_rows: int = 10_000
    timeout: float = 10.0


@dataclass
class QueryResult:
    form: str
    result_format: str
    media_type: str = ""
    body: bytes = b""
    truncated: bool = False
    count: int = 0
    variables: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    boolean: bool | None = None
    triples: list = field(default_factory=list)
    elapsed: float = 0.0


class Backend(ABC):
    name = "backend"

    def __init__(self, config) -> None:
        self.config = config

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def graph_names(self) -> list[str]: ...

    @abstractmethod
    def query(self, request: QueryRequest) -> QueryResult: ...

    def stats(self) -> dict:
        return {"backend": self.name}

    @abstractmethod
    def close(self) -> None: ...

