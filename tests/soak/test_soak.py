"""Soak: 8 concurrent clients send the stored research queries, mixed with 5% hostile requests,
to the real server on 127.0.0.1 for --soak-seconds; no wrong answer, no 5xx on a valid query,
memory flat, and the worker processes back to normal at the end."""
import json
import random
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


def hostile_requests(endpoint: str, url: str):
    """(description, make request) pairs and the statuses each may get."""
    def q(text):
        return lambda: http(endpoint + "?" + urlencode({"query": text}), headers=JSON_ACCEPT)
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
    try:
        hostile = hostile_requests(server.endpoint, server.url)
        for q in queries:                                    # warm up, and check once
            status, _, body = http(server.endpoint, data=urlencode({"query": q.text}).encode(),
                                   headers={"Content-Type": "application/x-www-form-urlencoded", **JSON_ACCEPT})
            assert status == 200 and normalize(json.loads(body)) == expected[q.name], q.name
        rss_start, procs_start, each_start = tree_rss(server.proc.pid)
        workers_start = server.status()["backend"]["workers"]
        deadline = time.monotonic() + seconds
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
        latencies.sort()
        report = (f"soak {seconds:g} s, {CLIENTS} clients: {stats['valid']} valid + {stats['hostile']} hostile "
                  f"requests, {len(failures)} failures; median {latencies[len(latencies) // 2] * 1000:.1f} ms, "
                  f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms; RSS start {rss_start / 2**20:.0f} MB "
                  f"({procs_start} processes: {each_start}), end {rss_end / 2**20:.0f} MB, settled "
                  f"{rss_settled / 2**20:.0f} MB ({procs_end} processes: {each_end}); workers {workers_start} -> {status['workers']} "
                  f"(restarts {status['restarts']}, timeouts {status['timeouts']}, crashes {status['crashes']})")
        with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
            print("\n" + report)
        assert failures == [], failures[:10]
        assert stats["valid"] > 0 and stats["hostile"] > 0
        assert status["workers"] == workers_start and status["busy"] == 0
        assert procs_end == procs_start
        assert rss_settled < rss_start * 1.5 + 64 * 2**20
    finally:
        server.stop()
