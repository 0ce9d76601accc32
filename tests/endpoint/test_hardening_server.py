"""The server under the second hardening round (issue 12): process faults, memory and result
size, slow clients, leftovers. Each case runs the real server (waitress, the app, its worker
processes) on 127.0.0.1 and asserts the safe outcome."""
import contextlib
import json
import os
import signal
import socket
import threading
import time
from urllib.parse import urlencode

import psutil
import pytest

from .serverkit import KUSHNER, SLOW_Q, SMALL, LiveServer, ask_person, http

JSON_ACCEPT = {"Accept": "application/sparql-results+json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded", **JSON_ACCEPT}
# Several seconds of work on the small fixture (24 x 148^3 solutions counted): longer than
# waitress gives its threads when it stops.
LONG_Q = ("SELECT (COUNT(*) AS ?n) WHERE { VALUES ?k { " + " ".join(map(str, range(24)))
          + " } ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
LONG_N = 24 * 148 ** 3


def doubling(times: int, select: str = "?a{n}") -> str:
    """A 1 KB query whose one value doubles `times` times: a string of 2^times characters."""
    binds = " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(times))
    return f'SELECT ({select.format(n=times)} AS ?x) WHERE {{ BIND("x" AS ?a0) {binds} }}'


def post(live, query: str, timeout: float = 60):
    return http(live.endpoint, data=urlencode({"query": query}).encode(), headers=FORM,
                timeout=timeout)


def in_background(fn, *args):
    out = {}

    def run():
        try:
            out["result"] = fn(*args)
        except Exception as exc:  # the test asserts on it
            out["error"] = exc
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def zygote_of(live) -> psutil.Process:
    children = psutil.Process(live.proc.pid).children()
    assert len(children) == 1, children
    return children[0]


def workers_of(live) -> list:
    return zygote_of(live).children()


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.05)


def busy_worker(live) -> psutil.Process:
    """The worker that is using the CPU (the one evaluating the running query)."""
    def pick():
        before = {}
        for w in workers_of(live):
            try:
                before[w.pid] = (w, sum(w.cpu_times()[:2]))
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.3)
        best, used = None, 0.05
        for w, start in before.values():
            try:
                spent = sum(w.cpu_times()[:2]) - start
            except psutil.NoSuchProcess:
                continue
            if spent > used:
                best, used = w, spent
        return best
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = pick()
        if found is not None:
            return found
    raise AssertionError("no worker is busy")


def slow_query_meets(live, action):
    """SLOW_Q in the background, `action(busy worker)` while it runs, then its (status, headers, body)."""
    thread, out = in_background(post, live, SLOW_Q)
    action(busy_worker(live))
    thread.join(60)
    return out["result"]


@contextlib.contextmanager
def serving(**config):
    """The real server with `config`, stopped when the test is done with it."""
    live = LiveServer(**config)
    try:
        yield live
    finally:
        live.stop()


def tree_pss(pid: int) -> int:
    """What the server's processes cost the host: each one's proportional share of the pages it
    shares (PSS), so the interpreter, allocator and store pages that forked workers share with
    their zygote count once, not once per worker as their RSS would."""
    procs = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)
    total = 0
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except psutil.NoSuchProcess:
            pass
    return total


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# ------------------------------------------------------------------------------ orphaned workers

def test_workers_die_with_a_killed_server():
    live = LiveServer(workers=2, max_workers=4, timeout=60)
    pids = []
    try:
        in_background(post, live, SLOW_Q)
        busy = busy_worker(live)
        pids = [p.pid for p in psutil.Process(live.proc.pid).children(recursive=True)]
        assert busy.pid in pids and len(pids) >= 3
        live.proc.kill()
        live.proc.wait(10)
        wait_for(lambda: not any(alive(p) for p in pids), 10, "every worker and the zygote gone")
    finally:
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        live.stop()


def test_a_worker_ends_its_query_itself_when_the_server_cannot_stop_it():
    with serving(workers=1, max_workers=3, timeout=2) as live:
        def stop_the_server(busy):
            live.proc.send_signal(signal.SIGSTOP)     # the server can no longer enforce the limit
            try:
                wait_for(lambda: not alive(busy.pid), 2 + 10, "the worker ended at its own time limit")
            finally:
                live.proc.send_signal(signal.SIGCONT)
        status, _, body = slow_query_meets(live, stop_the_server)
        assert status == 503 and b"time limit" in body
        assert ask_person(live) == [KUSHNER]


# ------------------------------------------------------------------------------ status codes on faults

def test_a_worker_killed_from_outside_gives_a_503_not_a_400():
    with serving(workers=2, max_workers=4, timeout=60) as live:
        status, _, body = slow_query_meets(live, lambda busy: busy.kill())
        assert status == 503, (status, body)
        assert b"nested too deeply" not in body and b"retry" in body
        assert ask_person(live) == [KUSHNER]


def test_dead_idle_workers_are_replaced_before_any_client_meets_them():
    with serving(workers=3, max_workers=6, timeout=5) as live:
        assert ask_person(live) == [KUSHNER]
        wait_for(lambda: live.status()["backend"]["busy"] == 0, 5, "idle")
        workers = workers_of(live)
        assert len(workers) >= 3
        for w in workers:
            w.kill()
        for w in workers:
            w.wait(5)
        statuses = [post(live, "ASK { ?s ?p ?o }")[0] for _ in range(8)]
        assert statuses == [200] * 8


def test_sigterm_drains_queries_in_flight_and_exits_cleanly():
    with serving(workers=2, max_workers=4, timeout=90) as live:
        threads = [in_background(post, live, LONG_Q, 200) for _ in range(2)]
        wait_for(lambda: live.status()["backend"]["busy"] == 2, 10, "two queries running")
        live.proc.send_signal(signal.SIGTERM)
        for t, _ in threads:
            t.join(200)
        for _, out in threads:
            status, _, body = out["result"]
            assert status == 200, (status, body)
            assert int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) == LONG_N
        assert live.proc.wait(60) == 0
        stderr = live.proc.stderr.read().decode(errors="replace")
        assert "Traceback" not in stderr, stderr
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", live.port), timeout=2).close()


# ------------------------------------------------------------------------------ memory and result size

def test_a_result_over_the_byte_limit_is_cut_and_marked_truncated():
    with serving(workers=1, max_workers=3, timeout=20, max_result_bytes=1_000_000) as live:
        # 4 MB in one value: over the limit by itself
        status, headers, body = post(live, doubling(22))
        assert status == 200, body[:300]
        assert len(body) <= 1_000_000
        assert headers.get("Peacegraph-Truncated", "").startswith("true; max-bytes=1000000")
        doc = json.loads(body)
        assert doc["results"]["bindings"] == [] and doc["peacegraph"]["maxBytes"] == 1_000_000
        # many rows of 20 KB each: cut after the rows that fit
        many = doubling(14).replace("SELECT (?a14 AS ?x) WHERE {", "SELECT ?s ?a14 WHERE { ?s ?p ?o")
        status, headers, body = http(live.endpoint, data=urlencode({"query": many}).encode(),
                                     headers={**FORM, "Accept": "text/csv"})
        assert status == 200 and 0 < len(body) <= 1_000_000
        assert headers.get("Peacegraph-Truncated", "").startswith("true; max-bytes=")
        assert body.count(b"\r\n") > 2
        assert ask_person(live) == [KUSHNER]


def test_a_query_over_the_worker_memory_gets_a_503_and_the_host_is_spared():
    with serving(workers=2, max_workers=4, timeout=30, worker_memory_mb=256) as live:
        base = tree_pss(live.proc.pid)
        peak = [base]
        done = threading.Event()

        def sample():
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], tree_pss(live.proc.pid))
                except psutil.NoSuchProcess:
                    pass
                time.sleep(0.02)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            # 2^31 characters: 2 GB in one string, 4 GB while it is built
            status, _, body = post(live, doubling(31, "STRLEN(?a{n})"))
        finally:
            done.set()
            sampler.join()
        assert status == 503, (status, body)
        assert b"memory" in body and b"256 MB" in body
        assert peak[0] < base + 2 * 256 * 2**20, (base >> 20, peak[0] >> 20)
        assert ask_person(live) == [KUSHNER]
        wait_for(lambda: live.status()["backend"]["workers"] >= 2, 10, "workers replaced")


def test_six_memory_hungry_queries_at_once_cost_the_host_a_bounded_amount():
    with serving(workers=2, max_workers=8, timeout=30, worker_memory_mb=256) as live:
        base = tree_pss(live.proc.pid)
        runs = [in_background(post, live, doubling(31, "STRLEN(?a{n})")) for _ in range(6)]
        peak = base
        while any(t.is_alive() for t, _ in runs):
            try:
                peak = max(peak, tree_pss(live.proc.pid))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.02)
        assert [out["result"][0] for _, out in runs] == [503] * 6
        assert peak < base + 6 * 300 * 2**20, (base >> 20, peak >> 20)
        assert ask_person(live) == [KUSHNER]


# ------------------------------------------------------------------------------ leftovers

def test_a_start_removes_stale_store_folders_only(tmp_path):
    import fcntl

    from peacegraph.leftovers import LOCK_NAME
    from peacegraph.server.config import ServerConfig
    from peacegraph.server.embedded import EmbeddedBackend

    def leftover(name, lock=True):
        folder = tmp_path / name
        (folder / "store").mkdir(parents=True)
        (folder / "store" / "000001.sst").write_bytes(b"x" * 1000)
        if lock:
            (folder / LOCK_NAME).write_text("")
        return folder

    crashed = leftover(".peacegraph-store-crashed")
    old = leftover(".peacegraph-old-crashed")
    live_one = leftover(".peacegraph-store-live")
    fd = os.open(live_one / LOCK_NAME, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)       # another open file: as if another server held it
    try:
        backend = EmbeddedBackend(ServerConfig(data=[SMALL], store_dir=tmp_path / "store", workers=1,
                                               max_workers=1, memory=False))
        backend.start()
        backend.close()
        assert not crashed.exists() and not old.exists() and live_one.is_dir()
        assert (tmp_path / "store" / "store").is_dir()
        assert not (tmp_path / "store" / LOCK_NAME).exists()
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------ slow clients

def slow_connections(live, count: int, sources: list[str]) -> list:
    """`count` connections that have sent half a request and then wait (slowloris)."""
    socks = []
    for i in range(count):
        s = socket.socket()
        s.settimeout(5)
        s.bind((sources[i % len(sources)], 0))
        try:
            s.connect(("127.0.0.1", live.port))
            s.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            s.close()
            continue
        socks.append(s)
    return socks


def keep_sending(socks: list, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        for s in socks:
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                pass


@pytest.mark.parametrize("sources", [["127.0.0.2"], ["127.0.0.1"],
                                     [f"127.0.1.{i}" for i in range(1, 201)]],
                         ids=["one-other-address", "the-same-address", "200-addresses"])
def test_1000_slow_header_connections_do_not_deny_service(sources):
    live = LiveServer(workers=2, max_workers=4, timeout=5)
    stop = threading.Event()
    socks = []
    try:
        socks = slow_connections(live, 1000, sources)
        feeder = threading.Thread(target=keep_sending, args=(socks, stop, 2.0), daemon=True)
        feeder.start()
        for _ in range(10):
            assert ask_person(live) == [KUSHNER]
            time.sleep(0.2)
        assert live.proc.poll() is None
    finally:
        stop.set()
        for s in socks:
            s.close()
        live.stop()


def closed_by_server(sock) -> bool:
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_request_that_does_not_arrive_within_the_deadline_is_closed():
    with serving(workers=1, max_workers=2, timeout=5, request_timeout=1, channel_timeout=60) as live:
        quiet = socket.create_connection(("127.0.0.1", live.port), timeout=10)
        slow = socket.create_connection(("127.0.0.1", live.port), timeout=10)
        slow.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n")
        for _ in range(5):                       # still sending, a line a second
            time.sleep(0.6)
            try:
                slow.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        assert closed_by_server(slow) and closed_by_server(quiet)
        assert ask_person(live) == [KUSHNER]


# ------------------------------------------------------------------------------ downloads

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_download_serves_only_the_published_dumps_and_follows_no_link(tmp_path, small_config, small_backend):
    import dataclasses
    import hashlib

    from peacegraph.server.app import create_app

    folder = tmp_path / "dist"
    folder.mkdir()
    (folder / "x.trig").write_bytes(SMALL.read_bytes())
    (folder / "peacegraph.trig").write_bytes(SMALL.read_bytes())
    (folder / "notes.txt").write_text("private notes\n")
    (folder / "passwd").symlink_to("/etc/passwd")
    (folder / "peacegraph.nq").symlink_to("/etc/passwd")
    digest = hashlib.sha256(SMALL.read_bytes()).hexdigest()
    (folder / "SHA256SUMS").write_text("".join(f"{digest}  {n}\n" for n in
                                               ("peacegraph.trig", "peacegraph.nq", "passwd", "notes.txt", "x.trig")))
    app = create_app(dataclasses.replace(small_config, data=[folder / "x.trig"]), backend=small_backend)
    c = app.test_client()
    listing = c.get("/download/", headers={"Accept": "text/plain"}).data.decode()
    assert [line.split()[-1] for line in listing.splitlines()] == ["peacegraph.trig", "SHA256SUMS"]
    page = c.get("/download/", headers=BROWSER).data.decode()
    assert "passwd" not in page and "notes.txt" not in page and "peacegraph.nq" not in page
    for name in ("passwd", "peacegraph.nq", "notes.txt", "x.trig", "..%2Fpasswd"):
        r = c.get(f"/download/{name}")
        assert r.status_code == 404, name
        assert b"root:" not in r.data
    r = c.get("/download/peacegraph.trig")
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == digest
    r.close()


# ------------------------------------------------------------------------------ stored XSS

HOSTILE_LINKS = """
@prefix pg: <https://w3id.org/peacegraph/ontology#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix id: <https://w3id.org/peacegraph/id/> .
id:x pg:evidence id:span ;
    <http://www.w3.org/2000/01/rdf-schema#label> "x" ;
    <http://www.w3.org/2000/01/rdf-schema#seeAlso> <JaVaScRiPt:alert(2)> , <data:text/html,hi> ,
        <vbscript:msgbox> , <https://example.org/ok> .
id:span oa:hasSource <javascript:alert(document.domain)> ; oa:hasSelector id:q , id:p .
id:q oa:exact "hostile words" .
id:p oa:start 0 ; oa:end 13 .
"""


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, small_config):
    import dataclasses

    from peacegraph.server.app import close_app, create_app

    data = tmp_path_factory.mktemp("xss") / "x.ttl"
    data.write_text(HOSTILE_LINKS)
    app = create_app(dataclasses.replace(small_config, data=[data]))
    yield app
    close_app(app)


def test_no_link_of_an_entity_page_runs_script(hostile_app):
    import re

    page = hostile_app.test_client().get("/id/x", headers=BROWSER).data.decode()
    assert "hostile words" in page                        # the evidence is shown ...
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith(("/", "#", "?", "http://", "https://")) for h in hrefs), hrefs
    assert "https://example.org/ok" in hrefs               # ... and safe links stay links
    assert "javascript:alert(document.domain)" in page     # shown as text, not linked


@pytest.mark.parametrize("path", ["/id/x", "/sparql", "/", "/dataset", "/ontology", "/download/", "/nowhere"])
def test_pages_forbid_inline_script_and_framing(hostile_app, path):
    import re

    r = hostile_app.test_client().get(path, headers=BROWSER)
    csp = r.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and r.headers.get("X-Frame-Options") == "DENY"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    page = r.data.decode()
    # a JSON data block is never run; any other script element must load its code from a file
    assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/(?:ld\+)?json\"))", page), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", page), "inline event handler"


def test_a_query_in_flight_while_the_store_moves_to_memory_is_answered(tmp_path):
    from peacegraph.server.backend import QueryRequest
    from peacegraph.server.config import ServerConfig
    from peacegraph.server.embedded import EmbeddedBackend, memory_settings

    backend = EmbeddedBackend(ServerConfig(data=[SMALL], store_dir=tmp_path / "store", workers=1,
                                           max_workers=3, memory=False, timeout=60))
    backend.start()
    try:
        request = QueryRequest(LONG_Q, "SELECT", "python", timeout=60)
        thread, out = in_background(backend.query, request)
        wait_for(lambda: backend.pool.stats()["busy"] == 1, 10, "the query running")
        backend.pool.switch_to(backend._settings(sources=memory_settings([SMALL])))
        thread.join(120)
        assert "error" not in out, out
        assert int(out["result"].rows[0][0].value) == LONG_N
    finally:
        backend.close()


@pytest.mark.parametrize("store_dir", [False, True], ids=["memory", "store-dir"])
def test_a_turtle_file_with_a_utf8_bom_is_served(tmp_path, store_dir):
    from peacegraph.server.backend import QueryRequest
    from peacegraph.server.config import ServerConfig
    from peacegraph.server.embedded import EmbeddedBackend

    data = tmp_path / "bom.ttl"
    data.write_bytes(b"\xef\xbb\xbf<https://w3id.org/peacegraph/id/a> <http://www.w3.org/2000/01/rdf-schema#label> \"a\" .\n")
    backend = EmbeddedBackend(ServerConfig(data=[data], workers=1, max_workers=1, memory=False,
                                           store_dir=tmp_path / "store" if store_dir else None))
    backend.start()
    try:
        result = backend.query(QueryRequest("SELECT ?o WHERE { ?s ?p ?o }", "SELECT", "python"))
        assert [r[0].value for r in result.rows] == ["a"]
    finally:
        backend.close()
