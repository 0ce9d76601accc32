"""Exit codes of the command line: 0 ok, 1 invalid data, 2 bad input; never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from peacegraph.cli import main

ROOT = Path(__file__).resolve().parents[1]


def build_args(dirs) -> list[str]:
    return ["build", "--quiet", "--seeds", str(dirs["seeds"]), "--ontology", str(dirs["ontology"]),
            "--graph", str(dirs["graph"]), "--shapes", str(dirs["shapes"]), "--out", str(dirs["out"])]


def run_cli(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "peacegraph.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_build_ok(pipeline_dirs, capsys):
    args = build_args(pipeline_dirs)
    args.remove("--quiet")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"built {pipeline_dirs['out']}: ") and "evidence spans" in out
    assert (pipeline_dirs["out"] / "peacegraph.trig").is_file()


def test_the_program_ends_a_build_with_its_output_flushed(pipeline_dirs):
    # `peacegraph build` ends the process at once (cli.program): what it printed to a pipe and
    # its exit code must survive that, for a build that succeeds and one that fails
    args = build_args(pipeline_dirs)
    args.remove("--quiet")
    proc = run_cli(args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"built {pipeline_dirs['out']}: ") and proc.stdout.endswith("\n")
    core = pipeline_dirs["graph"] / "core.ttl"
    core.write_text(core.read_text(encoding="utf-8").replace(
        'pg:provisionOf pgid:us-plan ;\n    pg:evidence [ pg:quote "election timetable" ] .',
        "pg:provisionOf pgid:us-plan ."), encoding="utf-8")
    proc = run_cli(args)
    assert proc.returncode == 1
    assert "us-plan-elections" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("peacegraph build: error: 1 shape violation")


def test_invalid_data_exits_1_with_the_report(pipeline_dirs, capsys):
    core = pipeline_dirs["graph"] / "core.ttl"
    core.write_text(core.read_text(encoding="utf-8").replace(
        'pg:provisionOf pgid:us-plan ;\n    pg:evidence [ pg:quote "election timetable" ] .',
        "pg:provisionOf pgid:us-plan ."), encoding="utf-8")
    assert main(build_args(pipeline_dirs)) == 1
    err = capsys.readouterr().err
    assert "us-plan-elections" in err
    assert err.strip().splitlines()[-1].startswith("peacegraph build: error: 1 shape violation; nothing was written")
    assert not pipeline_dirs["out"].exists()


def test_bad_turtle_exits_2_in_one_line_without_traceback(pipeline_dirs):
    (pipeline_dirs["graph"] / "broken.ttl").write_text(
        "@prefix pg: <https://w3id.org/peacegraph/ontology#> .\npg:a pg:b \"unterminated .\n",
        encoding="utf-8")
    proc = run_cli(build_args(pipeline_dirs))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("peacegraph build: error: ") and "broken.ttl:2:" in lines[0]
    assert not pipeline_dirs["out"].exists()


def test_deep_nesting_exits_2_without_traceback(pipeline_dirs):
    (pipeline_dirs["graph"] / "deep.ttl").write_text(
        "@prefix pg: <https://w3id.org/peacegraph/ontology#> .\n"
        "@prefix pgid: <https://w3id.org/peacegraph/id/> .\n"
        "pgid:a pg:about " + "[ pg:about " * 5000 + "pgid:b" + " ]" * 5000 + " .\n"
        "pgid:c pg:about " + "(" * 5000 + ")" * 5000 + " .\n", encoding="utf-8")
    proc = run_cli(build_args(pipeline_dirs))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr
    assert "deep.ttl" in proc.stderr


def test_missing_quote_exits_2(pipeline_dirs, capsys):
    core = pipeline_dirs["graph"] / "core.ttl"
    core.write_text(core.read_text(encoding="utf-8").replace('"Jared Kushner" ]', '"Ivanka Trump" ]'),
                    encoding="utf-8")
    assert main(build_args(pipeline_dirs)) == 2
    err = capsys.readouterr().err
    assert "pgid:jared-kushner: quote 'Ivanka Trump' not found" in err


def test_missing_folder_exits_2(pipeline_dirs, capsys):
    pipeline_dirs["graph"] = pipeline_dirs["graph"].parent / "nowhere"
    assert main(build_args(pipeline_dirs)) == 2
    assert "nowhere: no such folder" in capsys.readouterr().err


def test_debug_shows_the_traceback(pipeline_dirs):
    (pipeline_dirs["graph"] / "broken.ttl").write_text("<a> <b> .\n", encoding="utf-8")
    proc = run_cli(["--debug", *build_args(pipeline_dirs)])
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_query_bad_input_exits_2(tmp_path):
    proc = run_cli(["query", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
                    "--data", str(tmp_path / "none.trig")])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "SERVICE is not allowed" in proc.stderr


def test_build_sparql_endpoint_goes_into_void(pipeline_dirs):
    assert main([*build_args(pipeline_dirs), "--sparql-endpoint", "http://127.0.0.1:8080/sparql"]) == 0
    void = (pipeline_dirs["out"] / "void.ttl").read_text(encoding="utf-8")
    assert "void:sparqlEndpoint <http://127.0.0.1:8080/sparql>" in void
