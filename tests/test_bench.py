"""peacegraph bench at a tiny size: every stage measured, both servers measured, table and JSON."""

from __future__ import annotations

import json

from peacegraph.bench import BUILD_STAGES, STAGES
from peacegraph.cli import main


def test_bench_writes_the_table_and_json(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["bench", "--sizes", "2000", "--duration", "1", "--out", str(out), "--quiet"]) == 0
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

    endpoint = run["endpoint"]
    for server in ("peacegraph", "oxigraph"):
        single, many = endpoint[server]["clients_1"], endpoint[server]["clients_8"]
        assert single["errors"] == 0 and many["errors"] == 0, (server, single, many)
        assert set(single["queries"]) == set(endpoint["queries"])
        for name, q in single["queries"].items():
            assert q["requests"] >= 1 and 0 < q["median_ms"] <= q["p95_ms"], (server, name, q)
        assert many["requests"] > 0 and 0 < many["median_ms"] <= many["p95_ms"] and many["throughput_qps"] > 0
    # both servers give the same answers to every research query
    assert endpoint["row_mismatches"] == []
    assert endpoint["ratios_1"]["median"] > 0 and endpoint["ratios_8"]["throughput"] > 0
    assert endpoint["start_seconds_persisted"] > 0

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
    for clients in (1, 8):
        ours = endpoint["peacegraph"][f"clients_{clients}"]
        theirs = endpoint["oxigraph"][f"clients_{clients}"]
        row = (f"| 2k | {clients} | {ours['median_ms']:.2f} / {ours['p95_ms']:.2f} | "
               f"{theirs['median_ms']:.2f} / {theirs['p95_ms']:.2f} | ")
        assert any(line.startswith(row) for line in table), row
    assert "## Targets (issue 4) at 2k" in table
    assert len([t for t in report["targets"]]) == 5
    assert not (out / "work").exists()


def test_bench_rejects_bad_sizes(tmp_path, capsys):
    assert main(["bench", "--sizes", "ten", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--sizes", "1000", "--duration", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "--sizes" in err[0] and "--duration" in err[1]
