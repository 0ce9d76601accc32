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
    binds them with ``peacegraph.sparql_bind.bind_values``, a VALUES block opening the WHERE group,
    valid for every query form).
    Result: serialize in ``request.result_format`` (a key of SOLUTION_FORMATS for SELECT/ASK,
    of GRAPH_FORMATS for CONSTRUCT/DESCRIBE), or, when it is ``"python"``, return the
    pyoxigraph terms in ``QueryResult.variables``/``rows`` (SELECT), ``.boolean`` (ASK) or
    ``.triples`` (CONSTRUCT/DESCRIBE) for the HTML pages. Stop after ``request.max_rows`` rows
    (or triples), or before the serialized result grows over ``request.max_bytes``, and set
    ``truncated=True`` (and ``truncated_by`` "rows" or "bytes") if there were more. peacegraph.server.results has
    the serializers (``serialize_solutions``, ``serialize_boolean``, ``serialize_triples``)
    that add the truncation marker, so a backend can collect terms and call them.
    Limits: give up after ``request.timeout`` seconds and raise ``QueryTimeout`` (the work must
    really stop: a remote backend closes its connection). Errors: ``QuerySyntaxError`` for a
    query the engine rejects (message with line and column), ``QueryCrashed`` when the
    evaluator died on this query, ``ServerBusy`` when no capacity frees up in time,
    ``QueryOutOfMemory`` when the query needed more memory than an evaluator may use,
    ``EngineFault`` when the evaluator was lost for a reason that is not the query's,
    ``peacegraph.errors.StoreError`` when a remote store fails. Each carries the HTTP status the
    server answers with (``http_status``). Any other exception is a bug.
``stats(self) -> dict``
    Numbers for monitoring and tests: at least ``{"backend": name}``; the embedded backend adds
    ``workers`` (live worker processes), ``busy``, ``restarts``.
``close(self) -> None``
    Release everything (stop worker processes, close connections, ``close_search()``). Idempotent.

Search
------
``start`` ends with ``open_search(path, fingerprint)``: it builds the full-text index
(peacegraph.search) from the rows of the stored index query, evaluated by the backend's own
``query``, or, given a path whose index was built from the same ``fingerprint``, opens that one
as it is. Without a path the index goes to a temporary file that ``close_search`` removes.
``search(text, limit, offset)``, ``suggest(text, limit)`` and ``nearest(slug, limit)`` answer
from it with lists of ``peacegraph.search.Hit``; a search text that is too long is an
``InputError``.

A backend must be safe to call from many HTTP threads at once.
"""

from __future__ import annotations

import shutil
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peacegraph import search
from peacegraph.errors import QueryError, StoreError

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
SEARCH_INDEX_FILE = "search.sqlite"
SEARCH_INDEX_TIMEOUT = 1800.0       # seconds the index query may take at start
SEARCH_INDEX_ROWS = 100_000_000
# The index rows stay in the worker's terms and are never serialized: the byte limit of a
# client's result does not apply to them (at 1M triples they are ~100 MB of text).
SEARCH_INDEX_BYTES = 2**40


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


class QueryOutOfMemory(QueryError):
    """The query needed more memory than a worker may use; its worker was replaced."""

    http_status = 503


class EngineFault(QueryError):
    """The evaluator stopped for a reason that is not the query's (its process was killed from
    outside, or the server is stopping); the same query may well succeed when retried."""

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
    max_bytes: int = 8 * 2**20


@dataclass
class QueryResult:
    form: str
    result_format: str
    media_type: str = ""
    body: bytes = b""
    truncated: bool = False
    truncated_by: str = ""          # "rows" or "bytes": the limit that cut the result
    count: int = 0
    variables: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    boolean: bool | None = None
    triples: list = field(default_factory=list)
    elapsed: float = 0.0


def search_index_request() -> QueryRequest:
    """The index query (peacegraph.search), its rows returned as the engine's terms."""
    return QueryRequest(search.index_query(), "SELECT", PYTHON_FORMAT, max_rows=SEARCH_INDEX_ROWS,
                        timeout=SEARCH_INDEX_TIMEOUT, max_bytes=SEARCH_INDEX_BYTES)


def write_search_index(result: QueryResult, path: Path, fingerprint: str) -> None:
    """The search index of the index query's answer, written to `path` (see search.build_index);
    StoreError if the answer was cut at a limit."""
    if result.truncated:
        limit = (f"{SEARCH_INDEX_ROWS:,} rows" if result.truncated_by == "rows"
                 else f"{SEARCH_INDEX_BYTES:,} bytes")
        raise StoreError(f"the search index query returned more than {limit}")
    search.build_index(search.rows_from_solutions(result.variables, result.rows), path, fingerprint)


class Backend(ABC):
    name = "backend"
    search_index = None         # peacegraph.search.SearchIndex, once open_search has run
    search_reused = False
    _search_tmp: Path | None = None

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

    # -- search
    def open_search(self, path: Path | None = None, fingerprint: str = "") -> None:
        if path is not None and search.index_is_current(path, fingerprint):
            self.search_index = search.SearchIndex(path)
            self.search_reused = True
            return
        if path is None:
            self._search_tmp = Path(tempfile.mkdtemp(prefix="peacegraph-search-"))
            path = self._search_tmp / SEARCH_INDEX_FILE
        try:
            try:
                result = self.query(search_index_request())
            except QueryError as exc:
                raise StoreError(f"the search index could not be built: {exc}") from None
            write_search_index(result, path, fingerprint)
            self.search_index = search.SearchIndex(path)
        except BaseException:
            self.close_search()
            raise
        self.search_reused = False

    def close_search(self) -> None:
        if self.search_index is not None:
            self.search_index.close()
            self.search_index = None
        if self._search_tmp is not None:
            shutil.rmtree(self._search_tmp, ignore_errors=True)
            self._search_tmp = None

    def _index(self):
        if self.search_index is None:
            raise StoreError("search is not available: the index is not open")
        return self.search_index

    def search(self, text: str, limit: int = 20, offset: int = 0) -> list:
        return self._index().search(text, limit, offset)

    def suggest(self, text: str, limit: int = 10) -> list:
        return self._index().suggest(text, limit)

    def nearest(self, slug: str, limit: int = 5) -> list:
        return self._index().nearest(slug, limit)

