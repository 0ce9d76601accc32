"""python -m peacegraph.bench_validation at a tiny size: the stage, the engine alone and the floor."""

from __future__ import annotations

import json

from peacegraph import bench_validation


def test_bench_validation_writes_every_measure_and_its_table(tmp_path, capsys):
    out = tmp_path / "results"
    assert bench_validation.main(["--triples", "2000", "--runs", "2", "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    result = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    assert result["conforms"] is True and result["runs"] == 2
    assert 1000 <= result["triples"] <= 2500
    for key in ("stage_seconds", "engine_seconds", "intake_seconds", "floor_seconds"):
        assert result[key] > 0, key

    table = (out / "validation.md").read_text(encoding="utf-8").splitlines()
    ratio = result["engine_seconds"] / result["floor_seconds"]
    assert (f"| the engine alone, all shapes | {result['engine_seconds']:.2f} | "
            f"{ratio:.1f}× |") in table
    verdict = "above" if ratio > 3 else "within"
    assert f"- The engine alone is {ratio:.1f}× the floor, {verdict} the 3× of issue 14." in table
    floor = result["floor_seconds"]
    assert f"| floor (bench_floors: Oxigraph loading the graphs, finding every target class's focus nodes) | {floor:.2f} | 1.0× |" in table


def test_bench_validation_refuses_a_size_or_runs_below_one(tmp_path, capsys):
    for args in (["--triples", "0"], ["--runs", "0"]):
        try:
            bench_validation.main([*args, "--out", str(tmp_path)])
        except SystemExit as exc:
            assert exc.code == 2
        else:
            raise AssertionError(args)
    assert capsys.readouterr().err.count("must be at least 1") == 2
    assert not (tmp_path / "validation.json").exists()
