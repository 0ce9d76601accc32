"""peacegraph bench at a tiny size: every stage measured, both servers measured, table and JSON."""

from __future__ import annotations

import json

from peacegraph.bench import BUILD_STAGES, STAGES, render_markdown
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
    assert build["conforms"] is True
    assert 1500 <= build["built_triples"] <= 2500
    assert build["build_seconds"] == round(sum(build["stages"][s]["seconds"] for s in BUILD_STAGES), 2)

    endpoint = run["endpoint"]
    for server in ("peacegraph", "oxigraph"):
        for clients in (1, 8):
            phase = endpoint[server][f"clients_{clients}"]
            assert phase["requests"] > 0 and phase["errors"] == 0, (server, clients, phase)
            assert 0 < phase["median_ms"] <= phase["p95_ms"]
        assert all(w["status"] == 200 for w in endpoint[server]["warm_up"].values())
    # both servers give the same answers to every research query
    assert endpoint["row_mismatches"] == []
    assert endpoint["ratios_1"]["median"] > 0 and endpoint["ratios_8"]["throughput"] > 0
    assert endpoint["start_seconds_persisted"] > 0

    table = (out / "bench.md").read_text(encoding="utf-8")
    assert table == render_markdown(report)
    for stage in STAGES:
        assert f"| {stage} | " in table
    assert "| 2k | 1 | " in table and "| 2k | 8 | " in table
    assert "## Targets (issue 4) at 2k" in table
    assert len([t for t in report["targets"]]) == 5
    assert not (out / "work").exists()


def test_bench_rejects_bad_sizes(tmp_path, capsys):
    assert main(["bench", "--sizes", "ten", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--sizes", "1000", "--duration", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "--sizes" in err[0] and "--duration" in err[1]
