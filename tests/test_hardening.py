"""Hostile build inputs and leftovers, second round (issue 12): a byte order mark, symbolic links
that lead out of an input folder, temporary folders left by a crash, reports that drown the reader.
Each case runs the real `peacegraph` command."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRET = "hardening-secret-first-word"


def run_cli(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "peacegraph.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def build_args(dirs: dict) -> list:
    return ["build", "--quiet", "--seeds", dirs["seeds"], "--ontology", dirs["ontology"],
            "--graph", dirs["graph"], "--shapes", dirs["shapes"], "--out", dirs["out"]]


def one_line_error(proc: subprocess.CompletedProcess, command: str = "build", code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"peacegraph {command}: error: ")
    return lines[0]


# ------------------------------------------------------------------------------ byte order mark

@pytest.mark.parametrize("folder, name", [("graph", "core.ttl"), ("ontology", "core.ttl"),
                                          ("seeds", "sources.ttl")])
def test_a_turtle_file_with_a_utf8_bom_builds(pipeline_dirs, folder, name):
    path = pipeline_dirs[folder] / name
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    proc = run_cli(*build_args(pipeline_dirs))
    assert proc.returncode == 0, proc.stderr
    assert (pipeline_dirs["out"] / "peacegraph.trig").is_file()


def test_the_bom_of_a_turtle_file_changes_nothing_in_the_dumps(pipeline_dirs, tmp_path):
    assert run_cli(*build_args(pipeline_dirs)).returncode == 0
    plain = (pipeline_dirs["out"] / "peacegraph.trig").read_bytes()
    path = pipeline_dirs["graph"] / "core.ttl"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert run_cli(*build_args(pipeline_dirs)).returncode == 0
    assert (pipeline_dirs["out"] / "peacegraph.trig").read_bytes() == plain


# ------------------------------------------------------------------------------ symbolic links

def outside_file(tmp_path: Path, text: str) -> Path:
    target = tmp_path / "elsewhere" / "private.txt"
    target.parent.mkdir()
    target.write_text(text, encoding="utf-8")
    return target


def test_a_source_text_linked_out_of_seeds_is_refused(pipeline_dirs, tmp_path):
    secret = f"{SECRET} the private words of another file\n"
    target = outside_file(tmp_path, secret)
    seeds = pipeline_dirs["seeds"]
    (seeds / "leak.txt").symlink_to(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    with (seeds / "sources.ttl").open("a", encoding="utf-8") as fh:
        fh.write(f'\nsrc:leak a pg:SourceText ; dcterms:title "Leak" ; dcterms:format "text/plain" ;\n'
                 f'    dcterms:identifier "leak.txt" ; pg:sha256 "{digest}" .\n')
    proc = run_cli(*build_args(pipeline_dirs))
    line = one_line_error(proc)
    assert "leak.txt" in line and "symbolic link" in line
    assert SECRET not in proc.stderr + proc.stdout
    assert not pipeline_dirs["out"].exists()


@pytest.mark.parametrize("folder", ["graph", "ontology", "shapes", "seeds"])
def test_a_turtle_file_linked_out_of_its_folder_is_refused_without_reading_it(pipeline_dirs, tmp_path,
                                                                              folder):
    # not Turtle: a parser reading it would quote its first word in the error
    target = outside_file(tmp_path, f"{SECRET} and more private words\n")
    (pipeline_dirs[folder] / "zz-linked.ttl").symlink_to(target)
    proc = run_cli(*build_args(pipeline_dirs))
    line = one_line_error(proc)
    assert "zz-linked.ttl" in line and "symbolic link" in line
    assert SECRET not in proc.stderr + proc.stdout
    assert not pipeline_dirs["out"].exists()


def test_validate_refuses_a_shapes_file_linked_out_of_its_folder(pipeline_dirs, tmp_path):
    target = outside_file(tmp_path, f"{SECRET}\n")
    (pipeline_dirs["shapes"] / "zz-linked.ttl").symlink_to(target)
    proc = run_cli("validate", "--quiet", "--seeds", pipeline_dirs["seeds"], "--ontology",
                   pipeline_dirs["ontology"], "--graph", pipeline_dirs["graph"], "--shapes",
                   pipeline_dirs["shapes"])
    assert proc.returncode == 2 and SECRET not in proc.stderr + proc.stdout
    assert "symbolic link" in proc.stderr


def test_a_link_that_stays_inside_its_folder_is_read(pipeline_dirs):
    graph = pipeline_dirs["graph"]
    (graph / "changes.ttl").rename(graph / "changes.data")
    (graph / "changes.ttl").symlink_to("changes.data")
    proc = run_cli(*build_args(pipeline_dirs))
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------------------ leftovers

HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""


def leftover(parent: Path, name: str, *, lock: bool = True, age: float = 0.0) -> Path:
    from peacegraph.leftovers import LOCK_NAME

    folder = parent / name
    folder.mkdir()
    (folder / "peacegraph.trig").write_bytes(b"x" * 1000)
    if lock:
        (folder / LOCK_NAME).write_text("")
    if age:
        then = time.time() - age
        os.utime(folder, (then, then))
    return folder


def test_a_build_removes_the_temporary_folders_of_crashed_builds_only(pipeline_dirs, tmp_path):
    from peacegraph.leftovers import LOCK_NAME

    parent = pipeline_dirs["out"].parent
    crashed = leftover(parent, ".dist.tmp-crashed")                       # lock file, nobody holds it
    swapped = leftover(parent, ".dist.old-crashed")
    ancient = leftover(parent, ".dist.tmp-ancient", lock=False, age=7200)  # from before locks
    fresh = leftover(parent, ".dist.tmp-fresh", lock=False)               # being created just now
    live = leftover(parent, ".dist.tmp-live", lock=False)
    other = leftover(parent, ".elsewhere.tmp-crashed")                    # not ours to judge
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(live / LOCK_NAME)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        proc = run_cli(*build_args(pipeline_dirs))
        assert proc.returncode == 0, proc.stderr
        assert not crashed.exists() and not swapped.exists() and not ancient.exists()
        assert live.is_dir() and fresh.is_dir() and other.is_dir()
        assert sorted(p.name for p in parent.iterdir() if p.name.startswith(".dist.")) == \
            [".dist.tmp-fresh", ".dist.tmp-live"]
        assert LOCK_NAME not in os.listdir(pipeline_dirs["out"])
    finally:
        holder.kill()
        holder.wait()


# ------------------------------------------------------------------------------ long reports

PREFIXES = """@prefix pg: <https://w3id.org/peacegraph/ontology#> .
@prefix pgid: <https://w3id.org/peacegraph/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


def many_invalid(path: Path, count: int, kind: str = "pg:Person") -> Path:
    """`count` things without a name and without evidence: results of more than one shape each
    under the shipped shapes."""
    path.write_text(PREFIXES + "pg:Person rdfs:subClassOf pg:Actor .\n"
                    + "".join(f"pgid:nameless-{i:05d} a {kind} .\n" for i in range(count)),
                    encoding="utf-8")
    return path


def test_validate_summarises_a_long_report_per_shape(tmp_path):
    data = many_invalid(tmp_path / "many.ttl", 3000)
    proc = run_cli("validate", "--data", data)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert len(out.splitlines()) < 200 and len(out) < 20_000, len(out)
    assert "Results per shape:" in out and "3,000" in out
    assert "… and 2,990 more of" in out
    assert out.count("focus:   pgid:nameless-") == 10 * (out.count("… and ") or 1)
    few = run_cli("validate", "--data", data, "--max-results", "2").stdout
    assert few.count("focus:") == 2 * few.count("… and ")


def test_validate_writes_the_full_report_to_a_file_on_request(tmp_path):
    data = many_invalid(tmp_path / "many.ttl", 3000)
    full = tmp_path / "report.txt"
    proc = run_cli("validate", "--data", data, "--report", full)
    assert proc.returncode == 1
    text = full.read_text(encoding="utf-8")
    assert all(f"pgid:nameless-{i:05d}" in text for i in range(3000))
    assert "… and" not in text and len(proc.stdout) < len(text) / 10
    everything = run_cli("validate", "--data", data, "--max-results", "0").stdout
    assert everything.count("focus:") == text.count("focus:")
    turtle = tmp_path / "report.ttl"
    assert run_cli("validate", "--data", data, "--format", "turtle", "--report", turtle).returncode == 1
    assert "sh:ValidationReport" in turtle.read_text(encoding="utf-8")


def test_validate_refuses_a_negative_max_results(tmp_path):
    data = many_invalid(tmp_path / "many.ttl", 3)
    one_line_error(run_cli("validate", "--data", data, "--max-results", "-1"), "validate")


def test_a_build_that_fails_validation_summarises_on_stderr_and_reports_in_full(pipeline_dirs, tmp_path):
    many_invalid(pipeline_dirs["graph"] / "many.ttl", 2000, "pg:Provision")   # the fixture's shape
    full = tmp_path / "build-report.txt"
    proc = run_cli(*build_args(pipeline_dirs), "--report", full)
    assert proc.returncode == 1
    assert len(proc.stderr) < 20_000 and "… and" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("peacegraph build: error: ")
    text = full.read_text(encoding="utf-8")
    assert all(f"pgid:nameless-{i:05d}" in text for i in range(2000))
    assert not pipeline_dirs["out"].exists()
