"""The remote backend (`peacegraph serve --store URL`): queries go to a SPARQL 1.1 endpoint.

Every rule of the endpoint still holds, because the web layer checks a query before it reaches
any backend (read-only, no SERVICE, no LOAD, FROM only for the served graphs, size limits). This
backend forwards the checked query with the SPARQL 1.1 Protocol (POST, form-encoded) to the one
URL configured and nowhere else (no proxies, no redirects), and:

- serves the data's graphs only: the named graphs under the data's `graph/` namespace (the
  configured base), found by a query at start, so a store's own graphs (Virtuoso keeps its
  system graphs in the same store) are never seen;
- states the dataset explicitly: the union of the served graphs is sent as `default-graph-uri`
  for each named graph (plus `named-graph-uri` for each, so GRAPH sees them and nothing else); a
  client's own `default-graph-uri` / `named-graph-uri` (or FROM / FROM NAMED, which the guard
  allows for the served graphs only) are passed on as given;
- binds parameters with a VALUES block opening the query's WHERE group
  (peacegraph.sparql_bind), valid SPARQL for every query form;
- enforces the time limit itself: the socket waits at most the time left, the answer is read
  against a deadline, and on time-out the connection is closed so the store can stop the work;
- reads the answer as a stream (SPARQL JSON or XML results; N-Triples, Turtle or RDF/XML for
  CONSTRUCT and DESCRIBE, by the media type the store declares), stops after the row limit and
  closes the connection, and serializes the rows with the same serializers as the embedded
  store, so results, formats and the truncation marker are identical whichever store answers.

The graphs are read once at start; the search index is built at start too, from the store's
answer to the index query, in a temporary file.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from peacegraph.errors import StoreError
from peacegraph.namespaces import PREFIXES
from peacegraph.server.backend import (
    PYTHON_FORMAT,
    SOLUTION_FORMATS,
    Backend,
    QueryRequest,
    QueryResult,
    QuerySyntaxError,
    QueryTimeout,
)
from peacegraph.server.results import serialize_boolean
from peacegraph.server.stored import page_query
from peacegraph.sparql_bind import bind_values, without_dataset_clauses
from peacegraph.urlopener import direct_opener

# Preferred first; other stores (Virtuoso, older Fuseki) may answer in the alternatives, and the
# answer is parsed by the media type the store declares.
SOLUTIONS_TYPE = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
TRIPLES_TYPE = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8"
USER_AGENT = "peacegraph-remote"


class _Deadline:
    """A response body read against a deadline; pyoxigraph's streaming parsers read from it."""

    def __init__(self, response, deadline: float):
        self.response = response
        self.deadline = deadline
        self.expired = False
        self.media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def _check(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.expired = True
            raise TimeoutError("time limit reached while reading the answer")
        sock = getattr(getattr(self.response, "fp", None), "raw", None)
        sock = getattr(sock, "_sock", None)
        if sock is not None:
            sock.settimeout(left)

    def read(self, n: int = -1) -> bytes:
        self._check()
        return self.response.read(n)

    def readinto(self, buffer) -> int:
        self._check()
        return self.response.readinto(buffer)

    def readable(self) -> bool:
        return True


class _Answered:
    """Stands in for a pyoxigraph Store whose query() returns the remote answer, so the result
    goes through the embedded workers' own truncation and serialization code."""

    def __init__(self, answer):
        self.answer = answer

    def query(self, _text, **_dataset):
        return self.answer


def _ask_result(answer, request: QueryRequest) -> QueryResult:
    """An ASK answered as solutions: Virtuoso 7.2 sends one row `__ASK_RETVAL` = 1 for true and
    no row for false."""
    import pyoxigraph as ox

    truth = any(isinstance(t, ox.Literal) and t.value not in ("0", "false")
                for solution in answer for t in solution if t is not None)
    result = QueryResult(form="ASK", result_format=request.result_format, boolean=truth, count=1)
    if request.result_format != PYTHON_FORMAT:
        result.body = serialize_boolean(truth, request.result_format)
        result.media_type = SOLUTION_FORMATS[request.result_format]
    return result


class RemoteBackend(Backend):
    name = "remote"

    def __init__(self, config) -> None:
        super().__init__(config)
        self.url = config.store_url
        parts = urllib.parse.urlsplit(self.url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise StoreError(f"--store needs the http(s) URL of a SPARQL endpoint, not {self.url!r}")
        self._graphs: list[str] = []
        self._empty = ""
        self._opener = direct_opener()
        self._prefixes = {k: str(v) for k, v in PREFIXES.items()}

    # -- lifecycle
    def start(self) -> None:
        import pyoxigraph as ox

        deadline = time.monotonic() + self.config.store_timeout
        namespace = self.config.base + "graph/"
        text = bind_values(page_query("graphs"), {"namespace": ox.Literal(namespace)})
        with self._send(text, [], SOLUTIONS_TYPE, deadline) as body:
            try:
                answer = self._parse_solutions(body)
                graphs = {s["graph"].value for s in answer if isinstance(s["graph"], ox.NamedNode)}
            except (SyntaxError, ValueError) as exc:
                raise StoreError(f"{self.url} does not answer like a SPARQL endpoint: {exc}") from None
        if not graphs:
            # an empty list would leave the dataset to the store: all of its graphs
            raise StoreError(f"{self.url} holds no graph under <{namespace}>: push the build to the store first")
        self._graphs = sorted(graphs)
        # an IRI under the namespace that is not a served graph, so no graph of the store
        self._empty = namespace + "none"
        while self._empty in graphs:
            self._empty += "-"
        self.open_search()

    def graph_names(self) -> list[str]:
        return list(self._graphs)

    def stats(self) -> dict:
        return {"backend": self.name, "store": self.url, "graphs": len(self._graphs)}

    def close(self) -> None:
        self.close_search()
        self._graphs = []

    # -- queries
    def dataset_params(self, request: QueryRequest) -> list[tuple[str, str]]:
        """default-graph-uri / named-graph-uri that give the store the dataset the client asked for,
        never more than the served graphs. A store's own default graph is not served: the default
        graph is the union of the served graphs unless the client names graphs."""
        # "" (the store's own default graph) is not served: an empty graph here
        defaults = self._graphs if request.default_graphs is None else [g for g in request.default_graphs if g]
        named = self._graphs if request.named_graphs is None else request.named_graphs
        # Virtuoso reads a dataset without default-graph-uri, or without named-graph-uri, as one
        # with every graph of the store: an empty part is named by a graph that holds nothing.
        return ([("default-graph-uri", g) for g in defaults or [self._empty]]
                + [("named-graph-uri", g) for g in named or [self._empty]])

    def query(self, request: QueryRequest) -> QueryResult:
        import pyoxigraph as ox

        from peacegraph.server.worker import evaluate

        started = time.perf_counter()
        deadline = time.monotonic() + request.timeout
        # the dataset is always given by the graph parameters, which FROM must not widen
        text = bind_values(without_dataset_clauses(request.text), request.bindings)
        graph_form = request.form in ("CONSTRUCT", "DESCRIBE")
        accept = TRIPLES_TYPE if graph_form else SOLUTIONS_TYPE
        with self._send(text, self.dataset_params(request), accept, deadline) as body:
            try:
                answer = self._parse_triples(body) if graph_form else self._parse_solutions(body)
                if request.form == "ASK" and not isinstance(answer, ox.QueryBoolean):
                    result = _ask_result(answer, request)
                else:
                    result = evaluate(_Answered(answer), request, prefixes=self._prefixes)
            except (TimeoutError, OSError, SyntaxError, ValueError) as exc:
                if body.expired or time.monotonic() >= deadline:
                    raise QueryTimeout(f"the query ran over its time limit of {request.timeout:g} s "
                                       "and was stopped") from None
                raise StoreError(f"the remote store sent an answer that cannot be read: {exc}") from None
        result.elapsed = time.perf_counter() - started
        return result

    # -- transport
    def _send(self, text: str, dataset: list[tuple[str, str]], accept: str, deadline: float):
        body = urllib.parse.urlencode([("query", text)] + dataset).encode("utf-8")
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": accept,
            "User-Agent": USER_AGENT})
        left = deadline - time.monotonic()
        try:
            response = self._opener.open(req, timeout=max(left, 0.001))
        except urllib.error.HTTPError as exc:
            detail = _detail(exc)
            exc.close()
            if exc.code == 400:
                raise QuerySyntaxError(f"the remote store refused the query: {detail}") from None
            if exc.code in (503, 504) and time.monotonic() >= deadline - 0.05:
                raise QueryTimeout("the remote store stopped the query at its time limit") from None
            raise StoreError(f"the remote store answered HTTP {exc.code}: {detail}") from None
        except TimeoutError:
            raise QueryTimeout("the query ran over its time limit and was stopped") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise QueryTimeout("the query ran over its time limit and was stopped") from None
            raise StoreError(f"cannot reach the remote store {self.url}: {exc.reason}") from None
        except OSError as exc:
            raise StoreError(f"cannot reach the remote store {self.url}: {exc}") from None
        return _Response(response, deadline)

    @staticmethod
    def _parse_solutions(body):
        import pyoxigraph as ox
        fmt = ox.QueryResultsFormat.from_media_type(body.media_type or "")
        if fmt is None:
            raise ValueError(f"answer of type {body.media_type or 'unknown'} is not SPARQL results")
        return ox.parse_query_results(body, format=fmt)

    @staticmethod
    def _parse_triples(body):
        import pyoxigraph as ox
        fmt = ox.RdfFormat.from_media_type(body.media_type or "")
        if fmt is None:
            raise ValueError(f"answer of type {body.media_type or 'unknown'} is not RDF")
        return (quad.triple for quad in ox.parse(body, format=fmt))


class _Response:
    """Context manager around an open response: closing it drops the connection, which is how
    a remote store learns to stop a query we no longer wait for."""

    def __init__(self, response, deadline: float):
        self.response = response
        self.body = _Deadline(response, deadline)

    def __enter__(self) -> _Deadline:
        return self.body

    def __exit__(self, *exc) -> None:
        self.response.close()


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        text = exc.read(500).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    first = " ".join(text.split())[:300]
    return first or exc.reason or f"HTTP {exc.code}"
