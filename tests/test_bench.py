"""peacegraph bench at a tiny size: every stage measured, the three servers measured, table and JSON."""

from __future__ import annotations

import json

from peacegraph.bench import BUILD_STAGES, STAGES
from peacegraph.cli import main


def test_bench_writes_the_table_and_json(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["bench", "--sizes", "2000", "--duration", "1", "--build-runs", "2", "--out", str(out),
                 "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    report = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    run = report["runs"]["2000"]
    build = run["build"]
    assert "failure" not in build, build
    for stage in STAGES:
        assert build["stages"][stage]["seconds"] > 0, stage
        assert build["stages"][stage]["peak_rss_mb"] > 10, stage
        assert build["stages"][stage]["cpu_seconds"] > 0, stage
    assert build["conforms"] is True
    assert 1500 <= build["built_triples"] <= 2500
    assert build["build_seconds"] == round(sum(build["stages"][s]["seconds"] for s in BUILD_STAGES), 2)
    # two builds, the corpus synthesized by the first; each stage its faster run
    assert report["build_runs"] == 2 and len(build["runs"]) == 2
    assert "synth" in build["runs"][0] and "synth" not in build["runs"][1]
    for stage in BUILD_STAGES:
        times = [r[stage] for r in build["runs"]]
        assert build["stages"][stage]["seconds"] == min(times), stage
        assert build["stages"][stage]["slowest_seconds"] == max(times), stage
    cli = run["cli_build"]
    assert cli["seconds"] > 0 and cli["peak_rss_mb"] > 10 and cli["same_bytes"] is True, cli

    endpoint = run["endpoint"]
    queries = [name for names in endpoint["queries"].values() for name in names]
    assert len(endpoint["queries"]["one_pattern"]) == 3 and len(endpoint["queries"]["multi_join"]) == 1
    for server in ("peacegraph", "oxigraph_memory", "oxigraph_disk"):
        single = endpoint[server]["clients_1"]
        assert single["errors"] == 0, (server, single)
        assert set(single["queries"]) == set(queries)
        for name, q in single["queries"].items():
            assert q["requests"] >= 1 and 0 < q["median_ms"] <= q["p95_ms"], (server, name, q)
        for key in ("clients_8", "clients_8_one_pattern"):
            many = endpoint[server][key]
            assert many["errors"] == 0 and many["requests"] > 0, (server, key, many)
            assert 0 < many["median_ms"] <= many["p95_ms"] and many["throughput_qps"] > 0
        for name, median in endpoint[server]["sets"].items():
            names = endpoint["queries"][name]
            assert min(single["queries"][q]["median_ms"] for q in names) <= median \
                <= max(single["queries"][q]["median_ms"] for q in names), (server, name)
    # the three servers give the same answers to every query
    assert endpoint["row_mismatches"] == []
    # the entity query asks about a thing the synthetic corpus has
    assert all(endpoint[server]["clients_1"]["queries"]["_bench-one-pattern-entity"]["rows"] > 0
               for server in ("peacegraph", "oxigraph_memory", "oxigraph_disk"))
    assert endpoint["left_out_at_8_clients"] == []
    for other in ("oxigraph_memory", "oxigraph_disk"):
        ratios = endpoint["ratios"][other]
        assert ratios["research_median"] == round(endpoint["peacegraph"]["sets"]["research"]
                                                  / endpoint[other]["sets"]["research"], 3)
        assert ratios["engine_bound_median"] > 0 and ratios["throughput_8"] > 0
    assert "union" in endpoint["semantics"]["oxigraph_memory"]
    assert endpoint["start_seconds_persisted"] > 0 and endpoint["memory_seconds"] >= 0
    assert endpoint["start_seconds_memory"] > 0 and endpoint["start_seconds_load"] > 0
    assert endpoint["allocator"] in ("jemalloc", "system")

    # bench.md shows the measured figures of bench.json, each row in the documented layout
    table = (out / "bench.md").read_text(encoding="utf-8").splitlines()
    assert table[0] == "# peacegraph bench"
    assert "## Build stages: wall time (CPU time) in s / peak RSS in MB" in table
    assert "| stage | 2k |" in table
    for stage in STAGES:
        st = build["stages"][stage]
        row = f"| {stage} | {st['seconds']:.2f} ({st['cpu_seconds']:.2f}) / {st['peak_rss_mb']:.0f} |"
        assert row in table, (row, [line for line in table if line.startswith(f"| {stage} |")])
    assert f"| built triples | {build['built_triples']:,} |" in table
    starts = (f"| 2k | {endpoint['start_seconds_memory']:.1f} | {endpoint['start_seconds_load']:.1f} | "
              f"{endpoint['start_seconds_persisted']:.1f} | {endpoint['memory_seconds']:.1f} |")
    assert any(line.startswith(starts) for line in table), starts
    assert (f"| **`peacegraph build --no-cache`** (validate and export overlapping) | "
            f"{cli['seconds']:.1f} / {cli['peak_rss_mb']:.0f} |") in table
    assert report["targets"][0]["measured"].startswith(f"{cli['seconds']:.1f} s (`peacegraph build")
    floors = run["floors"]
    assert set(floors) == {"parse", "anchor", "reason", "validate", "export"}
    assert all(seconds > 0 for seconds in floors.values()), floors
    st = build["stages"]["export"]
    ratio = round(st["seconds"] / floors["export"], 3)
    assert (f"| export | {st['seconds']:.3f} ({st['slowest_seconds']:.3f}) / {floors['export']:.3f} "
            f"({ratio:.1f}×) |") in table
    assert any("a stage is the fastest of 2 runs of the build" in line for line in table)
    ours, memory, disk = (endpoint[who]["sets"]["research"]
                          for who in ("peacegraph", "oxigraph_memory", "oxigraph_disk"))
    row = f"| 2k | research queries, 1 client, median ms | {ours:.2f} | {memory:.2f} | {disk:.2f} | "
    assert any(line.startswith(row) for line in table), row
    assert "## Targets (issue 14) at 2k" in table
    assert any("Left out: 2k, none." in line for line in table)
    assert [t["what"].split(" ≤ ")[0].split(" ≥ ")[0] for t in report["targets"]] == [
        "full build", "build peak RSS", "every build stage within 3× of its floor", "median latency, research queries and the five-join query",
        "median latency, one-pattern queries", "8-client throughput, research queries,",
        "8-client throughput, one-pattern queries,", "server start with a persisted store", "search median"]
    one_pattern = endpoint["ratios"]["oxigraph_memory"]["throughput_8_one_pattern"]
    judged = next(t for t in report["targets"] if "one-pattern queries, ≥" in t["what"])
    assert judged["ok"] == (one_pattern >= 0.9) and judged["measured"] == f"{one_pattern:.2f}×"
    assert not (out / "work").exists()


def test_bench_rejects_bad_sizes(tmp_path, capsys):
    assert main(["bench", "--sizes", "ten", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--sizes", "1000", "--duration", "0", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--sizes", "1000", "--build-runs", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and "--sizes" in err[0] and "--duration" in err[1] and "--build-runs" in err[2]


def _run(seconds: dict, peak: float = 100.0, **more) -> dict:
    return {"stages": {stage: {"seconds": s, "cpu_seconds": s, "peak_rss_mb": peak}
                       for stage, s in seconds.items()}, "triples": {"asserted": 10}, **more}


def test_each_stage_of_several_builds_is_its_fastest_run_with_the_highest_peak():
    from peacegraph.bench import _fastest_stages

    merged = _fastest_stages([
        _run({"synth": 1.0, "parse": 2.0, "anchor": 3.0, "reason": 1.0, "validate": 5.0, "export": 4.0},
             conforms=True),
        _run({"parse": 1.5, "anchor": 3.5, "reason": 1.0, "validate": 6.0, "export": 3.0}, peak=300.0,
             conforms=True)])
    assert {stage: st["seconds"] for stage, st in merged["stages"].items()} == {
        "synth": 1.0, "parse": 1.5, "anchor": 3.0, "reason": 1.0, "validate": 5.0, "export": 3.0}
    assert merged["stages"]["anchor"]["slowest_seconds"] == 3.5
    assert all(st["peak_rss_mb"] == (100.0 if stage == "synth" else 300.0)
               for stage, st in merged["stages"].items())
    assert merged["build_seconds"] == 13.5 and merged["build_peak_rss_mb"] == 300.0
    assert merged["conforms"] is True and len(merged["runs"]) == 2
    # a build that failed is reported as it is, not merged with the runs before it
    failed = _run({"parse": 1.0}, failure="stopped after 1800 s")
    failed["stages"]["anchor"] = {"failed": "stopped after 1800 s"}
    merged = _fastest_stages([_run({"parse": 2.0, "anchor": 3.0}, conforms=True), failed])
    assert merged["failure"] == "stopped after 1800 s"
    assert merged["stages"]["anchor"] == {"failed": "stopped after 1800 s"}
    assert merged["runs"] == [{"parse": 2.0, "anchor": 3.0}, {"parse": 1.0, "anchor": None}]


def test_a_floor_is_the_fastest_of_its_runs(monkeypatch):
    import time

    from peacegraph import bench_floors
    pauses = iter([0.06, 0.01, 0.04])
    monkeypatch.setattr(bench_floors, "FLOOR_RUNS", 3)
    seconds = bench_floors._timed(lambda: time.sleep(next(pauses)))
    assert 0.01 <= seconds < 0.04


def test_a_query_that_failed_at_one_client_on_any_server_is_left_out_at_eight():
    from types import SimpleNamespace

    from peacegraph.bench import concurrent, failed_at_one_client
    queries = [SimpleNamespace(name=n) for n in ("fast", "slow", "stopped")]
    single = {"ours": {"queries": {"fast": {"errors": 0}, "slow": {"errors": 0}, "stopped": {"errors": 1}}},
              "theirs": {"queries": {"fast": {"errors": 0}, "slow": {"errors": 2}, "stopped": {"errors": 1}}}}
    assert failed_at_one_client(single, queries) == {"slow", "stopped"}
    nothing = concurrent({"ours": "http://127.0.0.1:9/sparql"}, [], 8, 1.0)
    assert nothing["ours"]["throughput_qps"] is None and nothing["ours"]["requests"] == 0


def test_eight_clients_send_whole_rounds_so_every_server_answers_the_same_mix(monkeypatch):
    import time
    from collections import Counter
    from types import SimpleNamespace

    from peacegraph import bench
    # costs a hundredfold apart, as in the research set: a time window would hold more of
    # whichever queries the clients happened to stand at
    cost = {"cheap": 0.001, "middle": 0.01, "dear": 0.1}
    sent = []

    class FakeClient:
        def __init__(self, url, timeout):
            pass

        def post(self, text):
            time.sleep(cost[text])
            sent.append(text)
            return 200, b'{"head": {"vars": []}, "results": {"bindings": []}}'

        def close(self):
            pass

    monkeypatch.setattr(bench, "_Client", FakeClient)
    queries = [SimpleNamespace(name=n, text=n) for n in cost]
    samples = bench.load("http://127.0.0.1:9/sparql", queries, 4, 0.15)
    counts = Counter(name for name, _, _ in samples)
    assert len(set(counts.values())) == 1 and counts["dear"] % 4 == 0, counts
    assert counts == Counter(sent) and all(ok for _, _, ok in samples)


def test_the_entity_query_asks_about_the_document_with_the_most_statements(tmp_path):
    import pyoxigraph as ox
    import pytest

    from peacegraph.bench import bench_queries, bench_subject
    from peacegraph.errors import InputError

    dump = tmp_path / "dump.trig"
    dump.write_text("""
        @prefix pg: <https://w3id.org/peacegraph/ontology#> .
        @prefix pgid: <https://w3id.org/peacegraph/id/> .
        <https://w3id.org/peacegraph/graph/asserted> {
            pgid:a a pg:Document ; pg:date "1" , "2" .
            pgid:b a pg:Document ; pg:date "1" .
            pgid:c a pg:Document ; pg:date "1" , "2" .
            pgid:d a pg:Actor ; pg:date "1" , "2" , "3" , "4" .
        }
        <https://w3id.org/peacegraph/graph/inferred> { pgid:b a pg:PeacePlan , pg:Text . }
    """, encoding="utf-8")
    # b has four statements once the graphs are one, a and c three each
    assert bench_subject(dump) == ox.NamedNode("https://w3id.org/peacegraph/id/b")
    entity = next(q for q in bench_queries(dump)["one_pattern"] if q.name == "_bench-one-pattern-entity")
    store = ox.Store()
    store.bulk_load(path=str(dump), format=ox.RdfFormat.TRIG)
    rows = list(store.query(entity.text, use_default_graph_as_union=True))
    assert len(rows) == 4 and "<https://w3id.org/peacegraph/id/b>" in entity.text
    # the other queries are sent as they are written
    unbound = bench_queries()
    assert [q.text for q in unbound["one_pattern"] if q.name != entity.name] == \
        [q.text for q in bench_queries(dump)["one_pattern"] if q.name != entity.name]

    # of equals, the first IRI
    dump.write_text(dump.read_text(encoding="utf-8").replace("pgid:b a pg:PeacePlan , pg:Text .", ""),
                    encoding="utf-8")
    assert bench_subject(dump) == ox.NamedNode("https://w3id.org/peacegraph/id/a")

    dump.write_text("<https://w3id.org/peacegraph/graph/asserted> { <urn:x> <urn:p> 1 . }",
                    encoding="utf-8")
    with pytest.raises(InputError, match="no pg:Document"):
        bench_subject(dump)
