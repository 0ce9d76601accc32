"""Validation findings in the formats CI systems read.

- ``github``: GitHub Actions workflow commands, ``::error file=…,line=…,col=…,title=…::message``,
  which the Actions runner shows as annotations on the lines of a pull request;
- ``junit``: JUnit XML, one test case per finding (one passing case when there is none);
- ``sarif``: SARIF 2.1.0, the format code-scanning tools read.

A finding is a SHACL result located at the definition of the node at fault, or an error that
stopped the data from loading (a quote that does not anchor, a file that does not parse).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from peacegraph.errors import AnchorError, PeacegraphError, ShapesError
from peacegraph.namespaces import SH
from peacegraph.terms import short_name
from peacegraph.validate import SHAPES_NS

FORMATS = ("github", "junit", "sarif")
INFORMATION_URI = "https://w3id.org/peacegraph/"
_LEVELS = {SH.Violation: "error", SH.Warning: "warning", SH.Info: "note"}
_GITHUB_COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}


@dataclass(frozen=True)
class Finding:
    rule: str          # the shape (pgsh:…) or the kind of error (anchoring, input, shapes)
    level: str         # error, warning, note (SARIF's names)
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def where(self) -> str:
        return ":".join(str(x) for x in (self.file, self.line, self.column) if x is not None)


def _relative(name: str | None, paths: dict) -> str | None:
    """A file as CI tools want it: relative to the working directory (the repository root)
    when it is inside it, with forward slashes."""
    if not name:
        return None
    path = Path(paths.get(name, name))
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return name if not path.is_absolute() else path.as_posix()


def findings_from_report(report, paths: dict | None = None) -> list[Finding]:
    paths = paths or {}
    out = []
    for r in report.results:
        about = short_name(r.focus) if r.focus is not None else "(no focus node)"
        if r.path is not None:
            about += f" {short_name(r.path)}"
        out.append(Finding(rule=_shape_name(r.source_shape),
                           level=_LEVELS.get(r.severity, "error"), message=f"{about}: {r.message}",
                           file=_relative(r.file, paths), line=r.line, column=r.column))
    return out


def _shape_name(shape) -> str:
    if shape is None:
        return "shape"
    if str(shape).startswith(SHAPES_NS):
        return "pgsh:" + str(shape)[len(SHAPES_NS):]
    return short_name(shape)


def finding_from_error(exc: PeacegraphError, paths: dict | None = None) -> Finding:
    rule = "anchoring" if isinstance(exc, AnchorError) else "shapes" if isinstance(exc, ShapesError) else "input"
    paths = dict(paths or {})
    if getattr(exc, "path", None) is not None:
        paths[exc.file] = exc.path
    return Finding(rule=rule, level="error", message=exc.message, file=_relative(exc.file, paths),
                   line=exc.line, column=exc.column)


# ------------------------------------------------------------------------------ GitHub

def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        props = [f"{k}={_escape_property(str(v))}" for k, v in
                 (("file", f.file), ("line", f.line), ("col", f.column)) if v is not None]
        props.append(f"title={_escape_property('peacegraph ' + f.rule)}")
        lines.append(f"::{_GITHUB_COMMANDS[f.level]} {','.join(props)}::{_escape_data(f.message)}")
    return "".join(line + "\n" for line in lines)


# ------------------------------------------------------------------------------ JUnit

def junit(findings: list[Finding], checked: str = "the data") -> str:
    failures = [f for f in findings if f.level == "error"]
    suites = ET.Element("testsuites", name="peacegraph validate", tests=str(max(len(findings), 1)),
                        failures=str(len(failures)), errors="0")
    suite = ET.SubElement(suites, "testsuite", name="peacegraph validate", tests=str(max(len(findings), 1)),
                          failures=str(len(failures)), errors="0", skipped="0")
    if not findings:
        ET.SubElement(suite, "testcase", classname="peacegraph", name=f"{checked} conforms to the shapes")
    for n, f in enumerate(findings, 1):
        case = ET.SubElement(suite, "testcase", classname=f.file or "peacegraph",
                             name=f"{n}. {f.rule} at {f.where or '(unknown place)'}")
        if f.level == "error":
            failure = ET.SubElement(case, "failure", message=f.message, type=f.rule)
            failure.text = f"{f.where}: {f.message}" if f.where else f.message
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"{f.level}: {f.where}: {f.message}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


# ------------------------------------------------------------------------------ SARIF

def sarif(findings: list[Finding], version: str) -> str:
    rules: list[str] = []
    results = []
    for f in findings:
        if f.rule not in rules:
            rules.append(f.rule)
        result = {"ruleId": f.rule, "ruleIndex": rules.index(f.rule), "level": f.level,
                  "message": {"text": f.message}}
        if f.file:
            location = {"artifactLocation": {"uri": f.file}}
            if f.line is not None:
                region = {"startLine": f.line}
                if f.column is not None:
                    region["startColumn"] = f.column
                location["region"] = region
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "peacegraph", "version": version, "informationUri": INFORMATION_URI,
                "rules": [{"id": r, "shortDescription": {"text": _rule_text(r)}} for r in rules],
            }},
            "results": results,
        }],
    }
    return json.dumps(log, indent=1, ensure_ascii=False) + "\n"


def _rule_text(rule: str) -> str:
    return {"anchoring": "A quote must occur exactly once in its source text",
            "input": "A file must be readable and well-formed",
            "shapes": "The SHACL shapes must be valid"}.get(rule, f"SHACL shape {rule}")


def render(fmt: str, findings: list[Finding], checked: str = "the data") -> str:
    from peacegraph import __version__
    if fmt == "github":
        return github(findings)
    if fmt == "junit":
        return junit(findings, checked)
    if fmt == "sarif":
        return sarif(findings, __version__)
    raise ValueError(f"unknown report format {fmt!r}")
