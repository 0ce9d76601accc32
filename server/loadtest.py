"""Latency of the endpoint over HTTP: the stored research queries with 1 and 8 clients, and what
happens to a very slow query and to fast queries sent beside it.

    python -m peacegraph.server.loadtest --data dist/peacegraph.trig [--store-dir DIR]
        [--duration 10] [--json out.json]

starts `peacegraph serve` on a free port of 127.0.0.1, measures, stops it and prints a Markdown
summary. `measure(endpoint, queries, clients, duration)` and `slow_beside_fast(endpoint, ...)`
work against any running endpoint (e.g. for a side-by-side benchmark).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

JSON_RESULTS = "application/sparql-results+json"
# A query that would run for minutes on any graph of more than a few thousand triples.
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
FAST_QUERY = "ASK { ?s ?p ?o }"


def post_query(endpoint: str, text: str, timeout: float = 120.0) -> tuple[int, bytes]:
    req = urllib.request.Request(endpoint, data=urlencode({"query": text}).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded",
                                          "Accept": JSON_RESULTS})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(endpoint: str, queries: list[tuple[str, str]], clients: int, duration: float) -> dict:
    """`clients` threads send the (name, text) queries round-robin for `duration` seconds."""
    latencies: list[float] = []
    per_query: dict[str, list[float]] = {name: [] for name, _ in queries}
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def client(offset: int) -> None:
        i = offset
        while time.monotonic() < deadline:
            name, text = queries[i % len(queries)]
            i += 1
            t = time.perf_counter()
            status, body = post_query(endpoint, text)
            elapsed = time.perf_counter() - t
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                    per_query[name].append(elapsed)
                else:
                    errors.append(f"{name}: {status} {body[:120]!r}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    return {
        "clients": clients, "seconds": round(wall, 2), "requests": len(latencies), "errors": errors[:20],
        "error_count": len(errors),
        "median_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2) if latencies else None,
        "throughput_qps": round(len(latencies) / wall, 1) if wall else None,
        "per_query_median_ms": {k: round(statistics.median(v) * 1000, 2) for k, v in per_query.items() if v},
    }


def slow_beside_fast(endpoint: str, slow: str = SLOW_QUERY, fast: str = FAST_QUERY) -> dict:
    """Send one slow query and, while it runs, a stream of fast ones; report both."""
    result: dict = {}

    def run_slow() -> None:
        t = time.perf_counter()
        status, body = post_query(endpoint, slow, timeout=300)
        result["slow_status"] = status
        result["slow_seconds"] = round(time.perf_counter() - t, 2)
        result["slow_message"] = body[:200].decode("utf-8", "replace").strip()

    th = threading.Thread(target=run_slow)
    th.start()
    fast_times, fast_statuses = [], []
    while th.is_alive():
        t = time.perf_counter()
        status, _ = post_query(endpoint, fast)
        fast_times.append(time.perf_counter() - t)
        fast_statuses.append(status)
        time.sleep(0.1)
    th.join()
    result.update({"fast_count": len(fast_times),
                   "fast_all_200": all(s == 200 for s in fast_statuses),
                   "fast_median_ms": round(statistics.median(fast_times) * 1000, 2) if fast_times else None,
                   "fast_max_ms": round(max(fast_times) * 1000, 2) if fast_times else None})
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: list[Path], store_dir: Path | None, timeout: float | None) -> tuple[subprocess.Popen, str, float]:
    port = _free_port()
    cmd = [sys.executable, "-m", "peacegraph.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--quiet", "--data", *map(str, data)]
    if store_dir is not None:
        cmd += ["--store-dir", str(store_dir)]
    if timeout is not None:
        cmd += ["--timeout", str(timeout)]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    while True:
        if proc.poll() is not None:
            raise SystemExit("the server exited: " + proc.stderr.read().decode(errors="replace"))
        try:
            with urllib.request.urlopen(url + "status", timeout=2):
                return proc, url, time.monotonic() - started
        except OSError:
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    from peacegraph.query import stored_queries

    parser = argparse.ArgumentParser(prog="python -m peacegraph.server.loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--store-dir", type=Path)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load phase")
    parser.add_argument("--timeout", type=float, default=None, help="the server's query time limit")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    queries = [(q.name, q.text) for q in stored_queries() if not q.name.startswith("_")]
    proc, url, start_seconds = start_server(args.data, args.store_dir, args.timeout)
    try:
        endpoint = url + "sparql"
        status = json.loads(urllib.request.urlopen(url + "status", timeout=5).read())
        memory_seconds = None
        if status["backend"].get("mode") == "disk":
            # with --store-dir the server answers from disk at once and moves to memory later
            waited = time.monotonic()
            while status["backend"].get("mode") == "disk" and time.monotonic() - waited < 600:
                time.sleep(0.5)
                status = json.loads(urllib.request.urlopen(url + "status", timeout=5).read())
            memory_seconds = round(start_seconds + time.monotonic() - waited, 2)
        for _, text in queries:                      # warm up
            post_query(endpoint, text)
        one = measure(endpoint, queries, 1, args.duration)
        eight = measure(endpoint, queries, 8, args.duration)
        slow = slow_beside_fast(endpoint)
    finally:
        proc.terminate()
        proc.wait(30)
    figures = {"data": [str(p) for p in args.data], "triples": status["backend"].get("triples"),
               "start_seconds": round(start_seconds, 2), "memory_seconds": memory_seconds,
               "mode": status["backend"].get("mode"),
               "one_client": one, "eight_clients": eight, "slow_beside_fast": slow}
    print(f"| {figures['triples']} triples, start {figures['start_seconds']} s | median ms | p95 ms | queries/s | errors |")
    print("|---|---|---|---|---|")
    for label, m in (("1 client", one), ("8 clients", eight)):
        print(f"| {label} | {m['median_ms']} | {m['p95_ms']} | {m['throughput_qps']} | {m['error_count']} |")
    print(f"\nslow query: HTTP {slow['slow_status']} after {slow['slow_seconds']} s ({slow['slow_message']}); "
          f"{slow['fast_count']} fast queries beside it, all 200: {slow['fast_all_200']}, "
          f"median {slow['fast_median_ms']} ms, max {slow['fast_max_ms']} ms")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
