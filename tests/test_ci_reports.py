"""Validation for contributors' CI: every finding names file:line:column of the statement at
fault, in GitHub Actions annotations, JUnit XML and SARIF 2.1.0, each read back by a parser."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
from junitparser import Failure, JUnitXml

from peacegraph import paths
from peacegraph.cli import main

FOLDERS = ("seeds", "ontology", "graph", "shapes")
SARIF_SCHEMA = Path(__file__).parent / "fixtures" / "sarif" / "sarif-2.1.0-subset.schema.json"


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A copy of the shipped data; the tests run from its root, as CI runs in a repository."""
    for name in FOLDERS:
        shutil.copytree(paths.data_dir(name), tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> tuple[int, int]:
    """Replace `old` once; the (line, column) where `new` starts."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    at = text.index(old)
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def _validate(capsys, fmt, *extra):
    capsys.readouterr()
    rc = main(["validate", "--format", fmt, *[f"--{n}={n}" for n in FOLDERS], *extra])
    captured = capsys.readouterr()
    _validate.err = captured.err
    return rc, captured.out


def _violation(data):
    """A speaker that is a string, not an actor: where `pg:speaker` is written."""
    line, col = _edit(data / "graph" / "statements.ttl",
                      "    pg:speaker pgid:donald-trump ;\n    pg:about pgid:us-peace-framework ;\n"
                      "    pg:quotation \"the deadline is over\"",
                      "    pg:speaker \"Trump\" ;\n    pg:about pgid:us-peace-framework ;\n"
                      "    pg:quotation \"the deadline is over\"")
    return "graph/statements.ttl", line, col + 4


def _anchoring_error(data):
    line, col = _edit(data / "graph" / "statements.ttl", '"said the deadline is over"', '"said the deadline was over"')
    return "graph/statements.ttl", line, col


_COMMAND = re.compile(r"^::(error|warning|notice)( [^:]*)?::(.*)$")


def _unescape(text: str, prop: bool = False) -> str:
    if prop:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def parse_annotations(output: str) -> list[dict]:
    """GitHub's workflow-command syntax: ::command key=value,key=value::message (escaped)."""
    out = []
    for line in output.splitlines():
        m = _COMMAND.match(line)
        assert m, f"not a workflow command: {line!r}"
        props = {}
        for item in (m.group(2) or "").strip().split(","):
            key, _, value = item.partition("=")
            props[key] = _unescape(value, prop=True)
        out.append({"command": m.group(1), **props, "message": _unescape(m.group(3))})
    return out


def test_text_report_names_file_line_column(data, capsys):
    file, line, col = _violation(data)
    rc, out = _validate(capsys, "text")
    assert rc == 1
    assert f"(defined in {file}:{line}:{col})" in out


def test_github_annotations_point_at_the_statement(data, capsys):
    file, line, col = _violation(data)
    rc, out = _validate(capsys, "github")
    assert rc == 1
    notes = parse_annotations(out)
    assert len(notes) == 1
    n = notes[0]
    assert (n["command"], n["file"], n["line"], n["col"]) == ("error", file, str(line), str(col))
    assert n["title"] == "peacegraph pgsh:PublicStatement-speaker"
    assert "statement-donald-trump--deadline-over" in n["message"] and "pg:Actor" in n["message"]


def test_github_annotation_of_a_quote_that_does_not_anchor(data, capsys):
    file, line, col = _anchoring_error(data)
    rc, out = _validate(capsys, "github")
    assert rc == 2
    (n,) = parse_annotations(out)
    assert (n["file"], n["line"], n["col"], n["title"]) == (file, str(line), str(col), "peacegraph anchoring")
    assert "quote 'said the deadline was over' not found" in n["message"]
    assert f"{file}:{line}:{col}: " in _validate.err  # the one-line message for people


def test_github_escapes_newlines_and_percent_signs():
    from peacegraph.report_formats import Finding, github
    out = github([Finding(rule="r,1", level="warning", message="50% of\nit", file="a:b.ttl", line=3, column=1)])
    assert out.count("\n") == 1
    (n,) = parse_annotations(out)
    assert (n["command"], n["file"], n["title"], n["message"]) == ("warning", "a:b.ttl", "peacegraph r,1", "50% of\nit")


def test_junit_report_parses_with_one_failure_per_finding(data, capsys, tmp_path):
    file, line, col = _violation(data)
    rc, out = _validate(capsys, "junit")
    assert rc == 1
    (tmp_path / "report.xml").write_text(out, encoding="utf-8")
    xml = JUnitXml.fromfile(str(tmp_path / "report.xml"))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == 1
    (failure,) = [r for r in cases[0].result if isinstance(r, Failure)]
    assert cases[0].classname == file
    assert failure.type == "pgsh:PublicStatement-speaker"
    assert failure.text.startswith(f"{file}:{line}:{col}: ")


def test_junit_report_of_valid_data_has_one_passing_case(data, capsys, tmp_path):
    rc, out = _validate(capsys, "junit")
    assert rc == 0
    (tmp_path / "ok.xml").write_text(out, encoding="utf-8")
    xml = JUnitXml.fromfile(str(tmp_path / "ok.xml"))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == 1 and cases[0].is_passed


def _check_sarif(text: str) -> dict:
    log = json.loads(text)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(log, schema, cls=jsonschema.Draft7Validator)
    return log


def test_sarif_report_conforms_and_locates(data, capsys):
    file, line, col = _violation(data)
    rc, out = _validate(capsys, "sarif")
    assert rc == 1
    log = _check_sarif(out)
    (result,) = log["runs"][0]["results"]
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == file
    assert (loc["region"]["startLine"], loc["region"]["startColumn"]) == (line, col)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == "pgsh:PublicStatement-speaker"


def test_sarif_report_of_an_anchoring_error(data, capsys):
    file, line, col = _anchoring_error(data)
    rc, out = _validate(capsys, "sarif")
    assert rc == 2
    (result,) = _check_sarif(out)["runs"][0]["results"]
    assert result["ruleId"] == "anchoring"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (line, col)


def test_the_subset_schema_rejects_what_sarif_forbids():
    log = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                         "results": [{"message": {"text": "m"}, "level": "fatal"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, log, cls=jsonschema.Draft7Validator)
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                         "results": [{"message": {"text": "m"}, "locations": [
                                             {"physicalLocation": {"artifactLocation": {"uri": "a"},
                                                                   "region": {"startLine": 0}}}]}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, log, cls=jsonschema.Draft7Validator)
