"""Search latency for `peacegraph bench`: the index of a dump, queried in-process.

The dump is loaded into an in-memory Oxigraph store, the stored index query is evaluated and the
index built (peacegraph.search, as the server does at start), then every query of QUERIES is
answered ROUNDS times by SearchIndex.search (20 hits) and by SearchIndex.suggest (10 hits),
after one warm-up round. Latency is measured around the call, on the index only: no HTTP, no
page. Median and p95 are over all calls.

    python -m peacegraph.bench_search DUMP      # the same measurement for one dump, as JSON
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from peacegraph import search
from peacegraph.errors import InputError, PeacegraphError
from peacegraph.load import ox_format
from peacegraph.measures import figure, percentile, size_label

ROUNDS = 20
TARGET_MEDIAN_MS = 50.0
# What people type: names and parts of names, topics, kinds of things, words of quotes,
# misspellings, and a word that is nowhere. Real and synthetic graphs share the topic scheme.
QUERIES = ("zelensky", "witk", "kushner", "anna", "pav", "ros", "frozen assets", "territory",
           "security guarantees", "sanctions relief", "nato", "plan", "counterproposal", "provision",
           "talks", "too early to say", "getting close", "living document", "counterproposel",
           "teritory", "xylophone")


def _timed(call, queries, rounds: int) -> dict:

    for q in queries:
        call(q)
    samples: dict[str, list[float]] = {q: [] for q in queries}
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            call(q)
            samples[q].append((time.perf_counter() - started) * 1000)
    every = [ms for values in samples.values() for ms in values]
    return {"median_ms": round(statistics.median(every), 3), "p95_ms": round(percentile(every, 0.95), 3),
            "max_ms": round(max(every), 3), "calls": len(every),
            "queries": {q: round(statistics.median(v), 3) for q, v in samples.items()}}


def measure(dump: Path, rounds: int = ROUNDS) -> dict:
    """Build the search index of `dump` and time searches on it; every number in a dict."""
    import pyoxigraph as ox

    dump = Path(dump)
    if not dump.is_file():
        raise InputError("no such file", file=str(dump))
    started = time.perf_counter()
    store = ox.Store()
    store.bulk_load(path=str(dump), format=ox_format(dump), base_iri=dump.resolve().as_uri())
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    answer = store.query(search.index_query(), use_default_graph_as_union=True)
    variables = [v.value for v in answer.variables]
    rows = [tuple(solution[i] for i in range(len(variables))) for solution in answer]
    query_seconds = time.perf_counter() - started
    del answer, store
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="peacegraph-bench-search-") as tmp:
        path = Path(tmp) / "search.sqlite"
        started = time.perf_counter()
        counts = search.build_index(search.rows_from_solutions(variables, rows), path)
        build_seconds = time.perf_counter() - started
        del rows
        index = search.SearchIndex(path)
        try:
            result = {"rows_seconds": round(query_seconds, 2), "index_seconds": round(build_seconds, 2),
                      "load_seconds": round(load_seconds, 2), "index_mb": round(path.stat().st_size / 2**20, 1),
                      **counts, "rounds": rounds,
                      "hits": {q: len(index.search(q, 20)) for q in QUERIES},
                      "search": _timed(lambda q: index.search(q, 20), QUERIES, rounds),
                      "suggest": _timed(lambda q: index.suggest(q, 10), QUERIES, rounds)}
        finally:
            index.close()
    return result


def markdown(report: dict) -> list[str]:
    """The lines of bench.md's search section."""

    lines = ["", "## Search: the full-text index, in-process (ms per call)", "",
             "| size | things / entries | index rows s / build s / MB | search median / p95 / max | "
             "suggest median / p95 |", "|---|---|---|---|---|"]
    for n in report["sizes"]:
        s = report["runs"][str(n)].get("search")
        if not s or "search" not in s:
            lines.append(f"| {size_label(n)} | {s.get('failure', 'not measured') if s else 'not measured'} | | | |")
            continue
        a, b = s["search"], s["suggest"]
        lines.append(f"| {size_label(n)} | {s['things']:,} / {s['entries']:,} | {s['rows_seconds']:.2f} / "
                     f"{s['index_seconds']:.2f} / {s['index_mb']:.1f} | {figure(a['median_ms'])} / "
                     f"{figure(a['p95_ms'])} / {figure(a['max_ms'])} | {figure(b['median_ms'])} / {figure(b['p95_ms'])} |")
    lines += ["", f"{len(QUERIES)} queries ({', '.join(QUERIES)}), each {ROUNDS} times after a warm-up; "
              "search returns 20 hits, suggest 10. Index rows: the stored index query on an in-memory "
              "store of the dump."]
    check = target(report)
    lines += ["", f"- {'PASS' if check['ok'] else 'MISS'}: {check['what']} at {size_label(report['sizes'][-1])} "
              f"(issue 9) — measured {check['measured']}"]
    return lines


def target(report: dict) -> dict:
    """The search target of issue 9, checked at the largest size."""
    n = report["sizes"][-1]
    s = report["runs"][str(n)].get("search") or {}
    what = f"search median ≤ {TARGET_MEDIAN_MS:g} ms"
    if "search" not in s:
        return {"what": what, "ok": False, "measured": s.get("failure", "not measured")}
    median = s["search"]["median_ms"]
    return {"what": what, "ok": median <= TARGET_MEDIAN_MS,
            "measured": f"{median:.2f} ms (p95 {s['search']['p95_ms']:.2f} ms)"}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m peacegraph.bench_search DUMP")
    try:
        print(json.dumps(measure(Path(sys.argv[1])), indent=1))
    except PeacegraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
