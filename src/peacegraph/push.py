"""Load a build into any SPARQL 1.1 store through the Graph Store HTTP Protocol.

`push(url, data)` reads the dump (TriG by default) once, spools each graph as N-Triples to a
temporary file, and then replaces each graph in the store whole with one `PUT url?graph=IRI`
(the dump's default graph, if it has one, with `PUT url?default`). Bodies are streamed from the
spool files, so a large build is never held in memory. The request goes to the URL given and
nowhere else; redirects are not followed.

A push that fails part way raises StoreError naming the graphs already written and the ones
not written, so the store's state is known.

The URL is the store's Graph Store Protocol endpoint, for example:

- Oxigraph server: `http://HOST:7878/store` (SPARQL endpoint `/query`);
- Apache Jena Fuseki: `http://HOST:3030/DATASET/data` (SPARQL `/DATASET/sparql`);
- Virtuoso: `http://HOST:8890/sparql-graph-crud-auth` with --user/--password (SPARQL `/sparql`;
  it asks for Digest authentication);
- GraphDB: `http://HOST:7200/repositories/REPO/rdf-graphs/service` (SPARQL `/repositories/REPO`).

Stores without the Graph Store Protocol (QLever builds its index offline) load the dump's
N-Quads file with their own tools instead; `peacegraph serve --store` works with any of them.
The password can come from the environment (PEACEGRAPH_STORE_PASSWORD) rather than the command
line. With a user, a first request without a body (HEAD of the first graph) learns how the store
authenticates: a Digest challenge is answered on every PUT up front (each body is sent once);
otherwise the credentials go as HTTP Basic.
"""

from __future__ import annotations

import base64
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from peacegraph.errors import InputError, StoreError
from peacegraph.load import ox_format
from peacegraph.progress import Progress
from peacegraph.urlopener import direct_opener

DEFAULT_GRAPH = ""           # key of the dump's default graph
CONTENT_TYPE = "application/n-triples"
BLOCK = 1 << 20


@dataclass
class PushedGraph:
    graph: str               # IRI, or "" for the default graph
    triples: int
    status: int


def graph_label(graph: str) -> str:
    return f"<{graph}>" if graph else "the default graph"


def graph_url(url: str, graph: str, default_graph: str | None = None) -> str:
    """The Graph Store Protocol URL of one graph (indirect identification); the dump's default
    graph goes to the named graph `default_graph` when one is given."""
    if graph == DEFAULT_GRAPH and default_graph:
        graph = default_graph
    query = "default" if graph == DEFAULT_GRAPH else urllib.parse.urlencode({"graph": graph})
    return url + ("&" if urllib.parse.urlsplit(url).query else "?") + query


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"not an http(s) URL: {url!r}")


def spool_graphs(data: Path, folder: Path) -> dict[str, tuple[Path, int]]:
    """Split the dump into one N-Triples file per graph in `folder`: {graph: (file, triples)},
    in order of first appearance."""
    import pyoxigraph as ox

    data = Path(data)
    if not data.is_file():
        raise InputError(f"no such file: {data} (build first, or give --data)")
    fmt = ox_format(data)
    files: dict[str, tuple] = {}
    try:
        for quad in ox.parse(path=str(data), format=fmt):
            g = quad.graph_name
            key = DEFAULT_GRAPH if isinstance(g, ox.DefaultGraph) else g.value
            entry = files.get(key)
            if entry is None:
                path = folder / f"graph-{len(files)}.nt"
                entry = files[key] = [path, open(path, "w", encoding="utf-8", newline="\n"), 0]
            entry[1].write(f"{quad.subject} {quad.predicate} {quad.object} .\n")
            entry[2] += 1
    except SyntaxError as exc:
        raise InputError(f"cannot parse: {exc}", file=str(data)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", file=str(data)) from None
    finally:
        for entry in files.values():
            entry[1].close()
    if not files:
        raise InputError("the dump holds no triples", file=str(data))
    return {key: (entry[0], entry[2]) for key, entry in files.items()}


class _Body:
    """A file sent in blocks as a request body, ticking progress. Iterable afresh, so a request
    that is sent again (a Digest challenge answered anew) sends the whole file again; progress
    counts each byte once."""

    def __init__(self, path: Path, tick):
        self.path = path
        self.tick = tick
        self.counted = 0

    def __iter__(self):
        sent = 0
        with open(self.path, "rb") as handle:
            while block := handle.read(BLOCK):
                sent += len(block)
                if sent > self.counted:
                    self.tick(sent - self.counted)
                    self.counted = sent
                yield block


class _Digest(urllib.request.HTTPDigestAuthHandler):
    """Digest authentication that keeps the challenge it answered and authorizes every later
    request with it before sending (urllib's handler would send each body once unauthorized)."""

    challenge: dict | None = None

    def retry_http_digest_auth(self, req, auth):
        _scheme, _, params = auth.partition(" ")
        self.challenge = urllib.request.parse_keqv_list(filter(None, urllib.request.parse_http_list(params)))
        return super().retry_http_digest_auth(req, auth)

    def http_request(self, req):
        if self.challenge is not None and not req.has_header(self.auth_header):
            value = self.get_authorization(req, self.challenge)
            if value:
                req.add_unredirected_header(self.auth_header, f"Digest {value}")
        return req

    https_request = http_request


def _authorized_opener(url: str, probe_url: str, user: str, password: str, timeout: float):
    """An opener and the headers that authenticate as `user` with the store at `url`: Digest when
    a body-less request to `probe_url` is answered with a Digest challenge, else HTTP Basic."""
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, url, user, password)
    digest = _Digest(passwords)
    opener = direct_opener(digest)
    try:
        with opener.open(urllib.request.Request(probe_url, method="HEAD"), timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 401 and digest.challenge is not None:
            raise   # the Digest answer was refused: wrong user or password
        exc.close()
    if digest.challenge is not None:
        return opener, {}
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return direct_opener(), {"Authorization": f"Basic {token}"}


def _put(opener, url: str, body_path: Path, headers: dict, timeout: float, tick) -> int:
    request = urllib.request.Request(url, data=_Body(body_path, tick), method="PUT", headers={
        **headers, "Content-Type": CONTENT_TYPE, "Content-Length": str(body_path.stat().st_size)})
    with opener.open(request, timeout=timeout) as response:
        response.read()
        return response.status


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        try:
            body = exc.read(2000).decode("utf-8", "replace")
        except OSError:
            body = ""
        html = body.lstrip().startswith("<")
        if html:    # an HTML error page (Virtuoso's) says what failed in its last words
            body = re.sub(r"<[^>]*>", "\n", body)
        lines = [" ".join(line.split()) for line in body.splitlines()]
        lines = [line for line in lines if line]
        detail = (lines[-1] if html else lines[0]) if lines else ""
        text = f"HTTP {exc.code} {exc.reason}" + (f": {detail[:200]}" if detail else "")
        if exc.code == 401:
            scheme = (exc.headers.get("WWW-Authenticate") or "").split(" ", 1)[0]
            text += (f" (the store asks for {scheme} authentication: check --user and --password)"
                     if scheme else " (check --user and --password)")
        return text
    if isinstance(exc, urllib.error.URLError):
        return f"cannot connect: {exc.reason}"
    return str(exc) or type(exc).__name__


def push(url: str, data: Path, *, user: str | None = None, password: str | None = None,
         progress: Progress | None = None, timeout: float = 300.0,
         default_graph: str | None = None) -> list[PushedGraph]:
    """Replace each graph of the dump `data` in the store at `url` (its Graph Store Protocol
    endpoint); the dump's default graph as the named graph `default_graph` when one is given (a
    store like Virtuoso has no default graph of its own to write). Returns what was written;
    raises StoreError saying what was and wasn't."""
    _check_url(url)
    if default_graph is not None:
        if not default_graph or any(ch in default_graph for ch in '<>"{}|^`\\ ') or ":" not in default_graph:
            raise InputError(f"not a graph IRI: {default_graph!r}")
    progress = progress or Progress(False)
    folder = Path(tempfile.mkdtemp(prefix="peacegraph-push-"))
    try:
        graphs = spool_graphs(data, folder)
        done: list[PushedGraph] = []

        def failed(graph: str, exc: BaseException) -> StoreError:
            written = ", ".join(graph_label(p.graph) for p in done) or "none"
            pending = [g for g in graphs if g not in {p.graph for p in done}]
            return StoreError(
                f"push to {url} failed on {graph_label(graph)}: {_error_text(exc)}; "
                f"written: {written}; not written: {', '.join(graph_label(g) for g in pending)}")

        opener, headers = direct_opener(), {}
        if user is not None:
            first = next(iter(graphs))
            try:
                opener, headers = _authorized_opener(url, graph_url(url, first, default_graph), user,
                                                     password or "", timeout)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise failed(first, exc) from None
        headers["User-Agent"] = "peacegraph-push"
        total = sum(path.stat().st_size for path, _ in graphs.values())
        with progress.stage("push", total=total, unit="bytes") as tick:
            for graph, (path, count) in graphs.items():
                try:
                    status = _put(opener, graph_url(url, graph, default_graph), path, headers, timeout, tick)
                except (urllib.error.URLError, OSError, ValueError) as exc:
                    raise failed(graph, exc) from None
                done.append(PushedGraph(graph, count, status))
        return done
    finally:
        shutil.rmtree(folder, ignore_errors=True)
