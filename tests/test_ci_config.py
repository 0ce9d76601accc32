"""The GitHub Actions workflow and the pre-commit hook shipped for data repositories run
commands that work: each `peacegraph` command they name is run here, in a repository laid out as
they expect (seeds/ and graph/ at its root), on valid data and on a quote that does not anchor."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from peacegraph import paths

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "peacegraph.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent


@pytest.fixture
def repo(tmp_path):
    for name in ("seeds", "graph"):
        shutil.copytree(paths.data_dir(name), tmp_path / name)
    return tmp_path


def _break_a_quote(repo: Path) -> int:
    path = repo / "graph" / "statements.ttl"
    text = path.read_text(encoding="utf-8")
    at = text.index('"said the deadline is over"')
    path.write_text(text.replace('"said the deadline is over"', '"said the deadline was over"'), encoding="utf-8")
    return text.count("\n", 0, at) + 1


def _env(extra: dict | None = None) -> dict:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(extra or {})}
    env.pop("PEACEGRAPH_PROGRESS", None)
    return env


def _workflow_steps():
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    job = flow["jobs"]["validate"]
    steps = {s.get("name", s.get("uses")): s for s in job["steps"]}
    return flow, job, steps


def _run_step(step: dict, job: dict, repo: Path) -> subprocess.CompletedProcess:
    # GitHub runs `run:` with bash -e {0}
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=_env(job["env"]),
                          capture_output=True, text=True, timeout=300)


def test_workflow_is_valid_and_triggers_on_pull_requests():
    flow, job, steps = _workflow_steps()
    # PyYAML reads the key `on` as True (YAML 1.1)
    triggers = flow.get("on", flow.get(True))
    assert "pull_request" in triggers and "push" in triggers
    assert job["permissions"]["security-events"] == "write"
    assert '"$PEACEGRAPH_REQUIREMENT"' in steps["Install peacegraph"]["run"]
    assert steps["Upload the SARIF report to code scanning"]["with"]["sarif_file"] == "peacegraph.sarif"


def test_workflow_commands_pass_on_valid_data(repo):
    _, job, steps = _workflow_steps()
    result = _run_step(steps["Validate (annotations on the lines at fault)"], job, repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # no annotation
    assert _run_step(steps["SARIF report"], job, repo).returncode == 0
    log = json.loads((repo / "peacegraph.sarif").read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0" and log["runs"][0]["results"] == []
    assert _run_step(steps["JUnit report"], job, repo).returncode == 0
    from junitparser import JUnitXml
    xml = JUnitXml.fromfile(str(repo / "peacegraph-junit.xml"))
    assert [case.is_passed for suite in xml for case in suite] == [True]


def test_workflow_annotates_the_line_at_fault_and_fails(repo):
    _, job, steps = _workflow_steps()
    line = _break_a_quote(repo)
    result = _run_step(steps["Validate (annotations on the lines at fault)"], job, repo)
    assert result.returncode == 2
    assert re.match(rf"::error file=graph/statements.ttl,line={line},col=\d+,title=peacegraph anchoring::",
                    result.stdout)
    # the report steps still write their reports (and the job goes on to upload them)
    assert _run_step(steps["SARIF report"], job, repo).returncode == 0
    (res,) = json.loads((repo / "peacegraph.sarif").read_text(encoding="utf-8"))["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == line


def test_pre_commit_hook_runs_and_blocks_a_broken_quote(repo):
    (hook,) = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert hook["id"] == "peacegraph-validate" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert files.search("graph/actors.ttl") and files.search("seeds/sources.ttl")
    assert not files.search("README.md")
    argv = shlex.split(hook["entry"])
    ok = subprocess.run(argv, cwd=repo, env=_env(), capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    line = _break_a_quote(repo)
    bad = subprocess.run(argv, cwd=repo, env=_env(), capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert f"graph/statements.ttl:{line}:" in bad.stderr
