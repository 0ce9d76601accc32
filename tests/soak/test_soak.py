"""Soak: 8 concurrent clients send the stored research queries, mixed with 5% hostile requests,
to the real server on 127.0.0.1 for --soak-seconds; no wrong answer, no 5xx on a valid query,
memory flat, and the worker processes back to normal at the end."""
import json
import random
import socket
import threading
import time
from collections import Counter
from urllib.parse import urlencode

import psutil
import pyoxigraph as ox
import pytest

from endpoint.serverkit import LiveServer, http

CLIENTS = 8
HOSTILE_SHARE = 0.05
SAMPLE_EVERY = 3.0        # seconds between two samples of the server's memory
JSON_ACCEPT = {"Accept": "application/sparql-results+json"}


def normalize(doc: dict):
    if "boolean" in doc:
        return doc["boolean"]
    rows = [tuple(sorted((k, tuple(sorted(v.items()))) for k, v in b.items())) for b in doc["results"]["bindings"]]
    return tuple(doc["head"]["vars"]), Counter(rows)


def expected_answers(trig, queries) -> dict:
    """Each query evaluated directly by the engine on the same dump: the reference answers."""
    store = ox.Store()
    store.bulk_load(path=str(trig), format=ox.RdfFormat.TRIG)
    out = {}
    for q in queries:
        body = store.query(q.text, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)
        out[q.name] = normalize(json.loads(body))
    return out


def doubling(times: int, select: str) -> str:
    """A 1 KB query whose one value doubles `times` times: a string of 2^times characters."""
    binds = " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(times))
    return f'SELECT ({select.format(n=times)} AS ?x) WHERE {{ BIND("x" AS ?a0) {binds} }}'


def hostile_requests(endpoint: str, url: str, port: int, parked: list):
    """(description, make request) pairs and the statuses each may get; `parked` collects the
    connections left open by slow clients (0 stands for "no answer expected")."""
    def q(text):
        return lambda: http(endpoint + "?" + urlencode({"query": text}), headers=JSON_ACCEPT)

    def slow_headers():
        sock = socket.socket()
        sock.settimeout(5)
        sock.bind(("127.0.0.2", 0))
        sock.connect(("127.0.0.1", port))
        sock.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
        parked.append(sock)
        return 0, {}, b""
    return [
        ("syntax error", q("SELECT * WHERE { ?s ?p }"), {400}),
        ("update", q("INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }"), {400}),
        ("service", q("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"), {400}),
        # a graph the dataset does not hold: an empty graph, never read
        ("from file", q("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"), {200}),
        ("cartesian", q("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"), {200, 503}),
        ("bomb", lambda: http(endpoint, data=urlencode({"query": "SELECT * WHERE { BIND(" + "+".join(["1"] * 20000)
                                                         + " AS ?x) }"}).encode(),
                              headers={"Content-Type": "application/x-www-form-urlencoded", **JSON_ACCEPT}), {400, 503}),
        ("big body", lambda: http(endpoint, data=b"ASK {}" + b" " * 200_000,
                                  headers={"Content-Type": "application/sparql-query"}), {413}),
        ("bad path", lambda: http(url + "id/..%2F..%2Fetc%2Fpasswd"), {404}),
        ("bad type", lambda: http(endpoint, data=b"ASK {}", headers={"Content-Type": "text/plain"}), {415}),
        # the second round (issue 12)
        ("256 MB string", q(doubling(28, "?a{n}")), {200, 503}),
        ("2 GB string", q(doubling(31, "STRLEN(?a{n})")), {503}),
        ("20 MB of rows", q(doubling(14, "?a{n}").replace("WHERE {", "WHERE { ?s ?p ?o")), {200}),
        ("download a link", lambda: http(url + "download/passwd"), {404}),
        ("download outside", lambda: http(url + "download/..%2F..%2Fetc%2Fpasswd"), {404}),
        ("slow headers", slow_headers, {0}),
    ]


def tree_rss(pid: int) -> tuple[int, int, list[int]]:
    """Total RSS of the server and its processes, their number, and each one's RSS in MB."""
    proc = psutil.Process(pid)
    procs = [proc] + proc.children(recursive=True)
    sizes = []
    for p in procs:
        try:
            sizes.append(p.memory_info().rss)
        except psutil.NoSuchProcess:
            pass
    return sum(sizes), len(procs), [s >> 20 for s in sizes]


@pytest.mark.soak
def test_soak(request, built_dist):
    from peacegraph.query import stored_queries

    seconds = request.config.getoption("--soak-seconds")
    trig = built_dist / "peacegraph.trig"
    queries = [q for q in stored_queries() if not q.name.startswith("_")]
    assert queries, "no stored research queries"
    expected = expected_answers(trig, queries)
    server = LiveServer(data=[str(trig)], workers=2, max_workers=12, timeout=10, idle_seconds=2,
                        max_query_length=50_000)
    parked: list = []
    try:
        hostile = hostile_requests(server.endpoint, server.url, server.port, parked)
        for q in queries:                                    # warm up, and check once
            status, _, body = http(server.endpoint, data=urlencode({"query": q.text}).encode(),
                                   headers={"Content-Type": "application/x-www-form-urlencoded", **JSON_ACCEPT})
            assert status == 200 and normalize(json.loads(body)) == expected[q.name], q.name
        rss_start, procs_start, each_start = tree_rss(server.proc.pid)
        workers_start = server.status()["backend"]["workers"]
        started = time.monotonic()
        deadline = started + seconds
        samples = []                                        # (seconds in, MB, processes)
        sampling = threading.Event()

        def sample():
            while True:
                try:
                    total, count, _ = tree_rss(server.proc.pid)
                    samples.append((time.monotonic() - started, total >> 20, count))
                except psutil.NoSuchProcess:
                    pass
                if sampling.wait(SAMPLE_EVERY):
                    return
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        lock = threading.Lock()
        stats = Counter()
        failures = []
        latencies = []

        def client(seed):
            rnd = random.Random(seed)
            while time.monotonic() < deadline:
                if rnd.random() < HOSTILE_SHARE:
                    name, make, allowed = rnd.choice(hostile)
                    status = make()[0]
                    with lock:
                        stats["hostile"] += 1
                        stats["hostile " + name] += 1
                        if status not in allowed:
                            failures.append(f"hostile {name}: status {status}, expected {sorted(allowed)}")
                    continue
                q = rnd.choice(queries)
                t = time.monotonic()
                status, _, body = http(server.endpoint, data=urlencode({"query": q.text}).encode(),
                                       headers={"Content-Type": "application/x-www-form-urlencoded", **JSON_ACCEPT})
                elapsed = time.monotonic() - t
                with lock:
                    stats["valid"] += 1
                    latencies.append(elapsed)
                    if status != 200:
                        failures.append(f"{q.name}: status {status}: {body[:200]!r}")
                    elif normalize(json.loads(body)) != expected[q.name]:
                        failures.append(f"{q.name}: wrong answer")

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss_end, _, _ = tree_rss(server.proc.pid)
        time.sleep(3)                                       # extra workers retire after idle_seconds
        status = server.status()["backend"]
        rss_settled, procs_end, each_end = tree_rss(server.proc.pid)
        sampling.set()
        sampler.join()
        peak = max(mb for _, mb, _ in samples)
        latencies.sort()
        report = (f"soak {seconds:g} s, {CLIENTS} clients: {stats['valid']} valid + {stats['hostile']} hostile "
                  f"requests, {len(failures)} failures; median {latencies[len(latencies) // 2] * 1000:.1f} ms, "
                  f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms; RSS start {rss_start / 2**20:.0f} MB "
                  f"({procs_start} processes: {each_start}), end {rss_end / 2**20:.0f} MB, settled "
                  f"{rss_settled / 2**20:.0f} MB ({procs_end} processes: {each_end}); workers {workers_start} -> {status['workers']} "
                  f"(restarts {status['restarts']}, timeouts {status['timeouts']}, crashes {status['crashes']})\n"
                  f"hostile requests: " + ", ".join(f"{k[8:]} {v}" for k, v in sorted(stats.items())
                                                      if k.startswith("hostile ")) + "\n"
                  f"RSS of the server's process tree every {SAMPLE_EVERY:g} s (s: MB/processes): "
                  + ", ".join(f"{t:.0f}: {mb}/{n}" for t, mb, n in samples) + f"; peak {peak} MB")
        with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
            print("\n" + report)
        assert failures == [], failures[:10]
        assert stats["valid"] > 0 and stats["hostile"] > 0
        assert status["workers"] == workers_start and status["busy"] == 0
        assert procs_end == procs_start
        assert rss_settled < rss_start * 1.5 + 64 * 2**20
        # at most every worker at its memory limit, however many memory-hungry queries came
        assert peak < (rss_start >> 20) + 12 * 512, peak
    finally:
        for sock in parked:
            sock.close()
        server.stop()
