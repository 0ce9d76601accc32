"""`peacegraph validate`: exit 0 valid, 1 violations, 2 bad input or bad shapes; text and Turtle
reports; shapes that are themselves broken are a ShapesError, never a data violation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from peacegraph import paths
from peacegraph.errors import ShapesError
from peacegraph.load import parse_rdf_file
from peacegraph.namespaces import PG, SH, SRC
from peacegraph.validate import SHAPES_NS, load_shapes, validate_graph

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
COMPLETE = FIXTURES / "complete.ttl"
SHAPES = paths.data_dir("shapes")
PGSH = SHAPES_NS

BAD_SHAPES = {
    "syntax": ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
               "<https://example.org/S> sh:minCount 1 sh:maxCount .\n",
               "zz-syntax.ttl:2:"),
    "mincount": ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
                 "<https://example.org/S> a sh:NodeShape ; sh:targetClass <https://example.org/C> ;\n"
                 "  sh:property <https://example.org/P> .\n"
                 "<https://example.org/P> sh:path <https://example.org/p> ; sh:minCount \"abc\" .\n",
                 "sh:minCount must be a non-negative xsd:integer"),
    "nopath": ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
               "<https://example.org/S> a sh:NodeShape ; sh:targetClass <https://example.org/C> ;\n"
               "  sh:property <https://example.org/P> .\n"
               "<https://example.org/P> a sh:PropertyShape ; sh:minCount 1 .\n",
               "needs exactly one sh:path"),
    "targetclass": ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
                    "<https://example.org/S> a sh:NodeShape ; sh:targetClass \"pg:Stance\" ;\n"
                    "  sh:nodeKind sh:IRI .\n",
                    "sh:targetClass must be an IRI"),
    "sparql": ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
               "<https://example.org/S> a sh:NodeShape ; sh:targetClass <https://example.org/C> ;\n"
               "  sh:sparql <https://example.org/Q> .\n"
               "<https://example.org/Q> sh:message \"m\" ; sh:select \"SELECT $this WHERE { $this ?p \" .\n",
               "does not parse"),
    "service": ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
                "<https://example.org/S> a sh:NodeShape ; sh:targetClass <https://example.org/C> ;\n"
                "  sh:sparql <https://example.org/Q> .\n"
                "<https://example.org/Q> sh:message \"m\" ; sh:select "
                "\"SELECT $this WHERE { SERVICE <http://127.0.0.1:9/> { $this ?p ?o } }\" .\n",
                "SERVICE is not allowed"),
    "pattern": ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
                "<https://example.org/S> a sh:NodeShape ; sh:targetClass <https://example.org/C> ;\n"
                "  sh:pattern \"([a-z\" .\n",
                "not a valid regular expression"),
    "nodekind": ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
                 "<https://example.org/S> a sh:NodeShape ; sh:targetClass <https://example.org/C> ;\n"
                 "  sh:nodeKind sh:URI .\n",
                 "sh:nodeKind must be one of"),
    "ask-in-select": ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
                      "<https://example.org/S> a sh:NodeShape ; sh:targetClass <https://example.org/C> ;\n"
                      "  sh:sparql <https://example.org/Q> .\n"
                      "<https://example.org/Q> sh:message \"m\" ; sh:select \"ASK { $this ?p ?o }\" .\n",
                      "must hold a SELECT query"),
    "unknown-shape": ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
                      "<https://example.org/S> a sh:NodeShape ; sh:targetClass <https://example.org/C> ;\n"
                      "  sh:node <https://example.org/Missing> .\n",
                      "not a shape defined"),
}


def run(*args, cwd=None):
    env = dict(os.environ, CI="1")
    return subprocess.run([sys.executable, "-m", "peacegraph.cli", "validate", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=240)


def _shapes_with(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "shapes"
    shutil.copytree(SHAPES, folder)
    (folder / f"zz-{name}.ttl").write_text(text, encoding="utf-8")
    return folder


def _edited_source(tmp_path: Path) -> Path:
    """complete.ttl after its source text was edited: a word inside a quoted span changed."""
    graph = parse_rdf_file(COMPLETE)
    source = SRC["a"]
    text = str(graph.value(source, PG.text))
    graph.set((source, PG.text, Literal(text.replace("rejected", "accepted"))))
    out = tmp_path / "edited.ttl"
    out.write_text(graph.serialize(format="turtle"), encoding="utf-8")
    return out


# ------------------------------------------------------------------------------ library

@pytest.mark.parametrize("case", sorted(BAD_SHAPES))
def test_bad_shapes_raise_shapes_error(tmp_path, case):
    text, expected = BAD_SHAPES[case]
    folder = _shapes_with(tmp_path, case, text)
    with pytest.raises(ShapesError) as info:
        load_shapes(folder)
    assert info.value.exit_code == 2
    assert expected in str(info.value)
    assert f"zz-{case}.ttl" in str(info.value)


def test_empty_shapes_folder_is_a_shapes_error(tmp_path):
    with pytest.raises(ShapesError):
        load_shapes(tmp_path)


def test_complete_example_conforms():
    report = validate_graph(parse_rdf_file(COMPLETE), load_shapes(SHAPES))
    assert report.conforms, report.text()
    assert report.results == []
    assert report.text().startswith("Valid:")


def test_edited_source_names_the_file_and_the_quotes(tmp_path):
    data = parse_rdf_file(_edited_source(tmp_path))
    origin = {s: "graph/example.ttl" for s in data.subjects(RDF.type, PG.Stance)}
    report = validate_graph(data, load_shapes(SHAPES), origin)
    assert not report.conforms
    by_shape = {}
    for r in report.results:
        by_shape.setdefault(str(r.source_shape), []).append(r)
    assert set(by_shape) == {PGSH + "SourceHashShape", PGSH + "QuoteMatchesTextShape"}
    (changed,) = by_shape[PGSH + "SourceHashShape"]
    assert changed.focus == SRC["a"] and "a.txt" in changed.message
    (quote,) = by_shape[PGSH + "QuoteMatchesTextShape"]
    start = str(data.value(source := SRC["a"], PG.text)).index("Kyiv accepted")
    assert quote.focus == URIRef(f"{source}#char={start},{start + len('Kyiv rejected the amnesty')}")
    assert '"Kyiv rejected the amnesty"' in quote.message and "a.txt" in quote.message
    assert quote.file == "graph/example.ttl"
    text = report.text()
    assert "src:a changed since it was described" in text and "1 quote no longer matches" in text


# ------------------------------------------------------------------------------ command

def test_cli_valid_data_exits_0():
    result = run("--data", COMPLETE)
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.startswith("Valid:")


def test_cli_violations_exit_1_with_a_readable_report():
    fixture = FIXTURES / "Stance-position" / "invalid.ttl"
    result = run("--data", fixture)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "Violation of pgsh:Stance-position" in out
    assert "focus:   pgid:s1   (defined in invalid.ttl:16:" in out
    assert "path:    pg:position" in out
    assert "value:   pg:Likes" in out
    assert "message: A stance needs exactly one pg:position" in out


def test_cli_turtle_report_is_a_shacl_validation_report(tmp_path):
    result = run("--data", _edited_source(tmp_path), "--format", "turtle")
    assert result.returncode == 1, result.stderr
    report = Graph().parse(data=result.stdout, format="turtle")
    (node,) = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms) == Literal(False)
    shapes = {report.value(r, SH.sourceShape) for r in report.objects(node, SH.result)}
    assert shapes == {URIRef(PGSH + "SourceHashShape"), URIRef(PGSH + "QuoteMatchesTextShape")}


def test_cli_bad_shapes_exit_2(tmp_path):
    folder = _shapes_with(tmp_path, "mincount", BAD_SHAPES["mincount"][0])
    result = run("--data", COMPLETE, "--shapes", folder)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "zz-mincount.ttl" in lines[0] and "sh:minCount" in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_bad_data_exits_2(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix pg: <https://w3id.org/peacegraph/ontology#> .\npg:a pg:b .\n")
    result = run("--data", bad)
    assert result.returncode == 2
    assert "bad.ttl:2" in result.stderr and "Traceback" not in result.stderr
    missing = run("--data", tmp_path / "missing.trig")
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_cli_validates_the_shipped_folders():
    result = run()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert result.stdout.startswith("Valid:")
