"""Hostile and broken input through the command line (issue 5, the loader, the build and the CLI).

Every case runs the real `peacegraph` command (a subprocess where the exit code, stderr and the
absence of a traceback matter) and checks the safe outcome: a one-line error naming the file
(and line and column where the parser gives them), the documented exit code, and nothing changed
on disk.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from listener import Listener
from peacegraph import export as export_module
from peacegraph.cli import main
from peacegraph.errors import InputError
from peacegraph.load import parse_rdf_file
from testdata import PIPELINE

ROOT = Path(__file__).resolve().parents[1]
EX = "http://example.org/"
PG = "https://w3id.org/peacegraph/ontology#"
PGID = "https://w3id.org/peacegraph/id/"
TURTLE_PREFIXES = f"@prefix pg: <{PG}> .\n@prefix pgid: <{PGID}> .\n"


# ------------------------------------------------------------------------------ helpers

def run_cli(*args, timeout=120, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "peacegraph.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def build_args(dirs: dict) -> list[str]:
    return ["build", "--quiet", "--seeds", dirs["seeds"], "--ontology", dirs["ontology"],
            "--graph", dirs["graph"], "--shapes", dirs["shapes"], "--out", dirs["out"]]


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def assert_one_line_error(proc: subprocess.CompletedProcess, command: str, code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"peacegraph {command}: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def previous_dist(tmp_path_factory) -> Path:
    """A finished build of the pipeline fixture: the export that a failing build must leave alone."""
    from peacegraph.build import BuildConfig, build

    out = tmp_path_factory.mktemp("previous") / "dist"
    build(BuildConfig(seeds=PIPELINE / "seeds", ontology=PIPELINE / "ontology",
                      graph=PIPELINE / "graph", shapes=PIPELINE / "shapes", out=out, quiet=True))
    return out


@pytest.fixture
def dirs(pipeline_dirs, previous_dist) -> dict:
    """The pipeline fixture folders with a previous export already in place in `out`."""
    shutil.copytree(previous_dist, pipeline_dirs["out"])
    return pipeline_dirs


def assert_nothing_changed(dirs: dict, before: dict) -> None:
    out = dirs["out"]
    assert snapshot(out) == before
    # no temporary export folder or partial file next to dist/ either
    assert [p.name for p in out.parent.iterdir() if p.name.startswith((".", "dist")) and p.name != "dist"] == []


# ------------------------------------------------------------------------------ broken files

BROKEN = {
    # folder, file name, text, expected location in the message (None: the parser gives none)
    "graph-turtle": ("graph", "broken.ttl",
                     TURTLE_PREFIXES + "pgid:a pg:about pgid:b .\npgid:a pg:about .\n", ":4:"),
    "graph-trig": ("graph", "broken.trig",
                   f"<{EX}a> <{EX}p> <{EX}b> .\n<{EX}a> <{EX}p> [ <{EX}q> .\n", ":2:"),
    "graph-trig-named-graph": ("graph", "named.trig", f"<{EX}g> {{ <{EX}a> <{EX}p> <{EX}b> }}\n", None),
    "graph-nquads": ("graph", "broken.nq", f"<{EX}a> <{EX}p> <{EX}b> .\n<{EX}a> <{EX}p> ex:b .\n", ":2:"),
    "graph-jsonld-syntax": ("graph", "broken.jsonld", '{"@id": "http://example.org/a",\n "x": [\n', ":3:"),
    "graph-jsonld-invalid": ("graph", "broken.jsonld", '{"@id": 5, "http://example.org/p": "x"}\n', None),
    "graph-rdfxml": ("graph", "broken.rdf", '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf='
                     '"http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n<rdf:Description>\n</rdf:RDF>\n', None),
    "graph-invalid-utf8": ("graph", "latin1.ttl", b'<http://e/a> <http://e/p> "caf\xe9" .\n', ":1:"),
    "sources": ("seeds", "sources.ttl", None, ":11:"),
    "shapes-syntax": ("shapes", "zz-broken.ttl",
                      "@prefix sh: <http://www.w3.org/ns/shacl#> .\n<http://e/S> a sh:NodeShape ;\n"
                      "  sh:targetClass <http://e/C\n", ":3:"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_is_one_line_exit_2_and_the_previous_export_stays(dirs, case):
    folder, name, text, location = BROKEN[case]
    path = dirs[folder] / name
    if text is None:                               # a statement without an object, at line 11
        text = path.read_text(encoding="utf-8") + "\nsrc:alpha dcterms:title .\n"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    before = snapshot(dirs["out"])
    line = assert_one_line_error(run_cli(*build_args(dirs)), "build")
    assert f"{folder}/{name}" in line
    if location is not None:
        assert re.search(re.escape(f"{folder}/{name}{location}") + r"\d+: ", line), line
    assert_nothing_changed(dirs, before)


BAD_DATA = {
    "bad.trig": (f"<{EX}g> {{\n <{EX}a> <{EX}p> <{EX}b> .\n <{EX}a> <{EX}p> [\n}}\n", ":4:1: "),
    "bad.nq": (f"<{EX}a> <{EX}p> <{EX}b> <{EX}g> .\n<{EX}a> <{EX}p> \"x <{EX}g> .\n", ":2:"),
    "bad.ttl": (f"<{EX}a> <{EX}p> <{EX}b> .\n\n<{EX}a> <{EX}p> .\n", ":3:"),
    "bad.jsonld": ('[\n {"@id": "http://example.org/a",\n  "http://example.org/p": {"@value": }\n]\n', ":3:"),
}


@pytest.mark.parametrize("command", ["query", "validate", "diff", "serve"])
@pytest.mark.parametrize("name", sorted(BAD_DATA))
def test_broken_data_file_is_one_line_exit_2(tmp_path, command, name):
    text, location = BAD_DATA[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    extra = {"query": ["query", "ASK { ?s ?p ?o }"], "validate": ["validate"], "diff": ["diff", "a", "b"],
             "serve": ["serve", "--port", "0", "--store-dir", tmp_path / "store"]}[command]
    started = time.monotonic()
    line = assert_one_line_error(run_cli(*extra, "--data", path, timeout=60), command)
    assert time.monotonic() - started < 30
    assert re.search(re.escape(f"{path}{location}"), line), line
    # the server loads into a fresh folder and moves it into place only when every file parsed
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())


# ------------------------------------------------------------------------------ shapes vs data

def test_invalid_shacl_is_exit_2_distinct_from_invalid_data_exit_1(dirs):
    before = snapshot(dirs["out"])
    bad_shape = dirs["shapes"] / "zz-mincount.ttl"
    bad_shape.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<http://e/S> a sh:NodeShape ; sh:targetClass <http://e/C> ;\n"
        '  sh:property <http://e/S-p> .\n<http://e/S-p> sh:path <http://e/p> ; sh:minCount "abc" .\n',
        encoding="utf-8")
    line = assert_one_line_error(run_cli(*build_args(dirs)), "build", code=2)
    assert "shapes/zz-mincount.ttl" in line and "sh:minCount" in line and '"abc"' in line
    assert_nothing_changed(dirs, before)

    bad_shape.unlink()
    core = dirs["graph"] / "core.ttl"
    core.write_text(core.read_text(encoding="utf-8").replace(
        'pg:provisionOf pgid:us-plan ;\n    pg:evidence [ pg:quote "election timetable" ] .',
        "pg:provisionOf pgid:us-plan ."), encoding="utf-8")
    proc = run_cli(*build_args(dirs))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "us-plan-elections" in proc.stderr and "shape violation" in proc.stderr
    assert_nothing_changed(dirs, before)


# ------------------------------------------------------------------------------ refused constructs

def _entity_bomb(levels: int = 9) -> str:
    lol = "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, levels + 1))
    return textwrap.dedent(f"""\
        <?xml version="1.0"?>
        <!DOCTYPE rdf:RDF [<!ENTITY lol0 "lol">{lol}]>
        <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="{EX}">
          <rdf:Description rdf:about="{EX}a"><ex:p>&lol{levels};</ex:p></rdf:Description>
        </rdf:RDF>
        """)


@pytest.mark.parametrize("name", ["bomb.rdf", "bomb.owl"])
def test_rdfxml_with_doctype_is_refused_fast(dirs, name):
    (dirs["graph"] / name).write_text(_entity_bomb(), encoding="utf-8")
    before = snapshot(dirs["out"])
    started = time.monotonic()
    line = assert_one_line_error(run_cli(*build_args(dirs)), "build")
    assert time.monotonic() - started < 20               # interpreter start-up included
    assert f"graph/{name}:2:1: " in line and "DOCTYPE" in line and "refused" in line
    assert_nothing_changed(dirs, before)
    # the parse itself stops at the declaration, before any expansion
    started = time.monotonic()
    with pytest.raises(InputError, match="DOCTYPE"):
        parse_rdf_file(dirs["graph"] / name)
    assert time.monotonic() - started < 5    # an expanding parser takes minutes


# A subprocess that records, through Python's audit hooks, every file opened and every connection
# attempted while one command runs; the listener on 127.0.0.1 must not see a connection either.
AUDITED = textwrap.dedent("""\
    import json, sys
    events = []
    def hook(event, args):
        if event == "open" and "hostile-context" in str(args[0]):
            events.append(["open", str(args[0])])
        elif event in ("socket.connect", "urllib.Request"):
            events.append([event, repr(args[1] if len(args) > 1 else args)])
    sys.addaudithook(hook)
    from peacegraph.cli import main
    code = main(sys.argv[1:])
    sys.stdout.write(json.dumps(events))
    sys.exit(code)
    """)


@pytest.mark.parametrize("context", [
    '"http://127.0.0.1:{port}/hostile-context.jsonld"',
    '"file://{ctx}"',
    '"{ctx}"',
    '["http://127.0.0.1:{port}/a", {{"p": "http://example.org/p"}}]',
    '{{"@import": "http://127.0.0.1:{port}/hostile-context.jsonld", "p": "http://example.org/p"}}',
    '{{"@import": "file://{ctx}"}}',
    '{{"p": {{"@id": "http://example.org/p", "@context": "http://127.0.0.1:{port}/scoped"}}}}',
])
@pytest.mark.parametrize("command", ["build", "query", "serve"])
def test_jsonld_named_contexts_are_refused_without_reading_or_connecting(dirs, context, command):
    ctx = dirs["graph"].parent / "hostile-context.jsonld"
    ctx.write_text('{"@context": {"p": "http://example.org/p"}}', encoding="utf-8")
    listener = Listener()
    try:
        doc = dirs["graph"] / "remote.jsonld"
        doc.write_text('{"@context": %s, "@id": "http://example.org/a", "p": "x"}'
                       % context.format(port=listener.port, ctx=ctx), encoding="utf-8")
        args = {"build": build_args(dirs), "query": ["query", "ASK { ?s ?p ?o }", "--data", doc],
                "serve": ["serve", "--port", "0", "--data", doc]}[command]
        before = snapshot(dirs["out"])
        proc = subprocess.run([sys.executable, "-c", AUDITED, *map(str, args)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    finally:
        listener.close()
    line = assert_one_line_error(proc, command)
    key, verdict = ("@import", "is refused") if "@import" in context else ("@context", "names a document")
    assert re.search(rf"remote\.jsonld: JSON-LD {key} '[^']+' {verdict}; only inline contexts are "
                     r"accepted \(nothing is fetched\)$", line), line
    assert json.loads(proc.stdout) == []
    assert listener.connections == []
    assert_nothing_changed(dirs, before)


def test_jsonld_with_an_inline_context_still_loads(tmp_path):
    doc = tmp_path / "ok.jsonld"
    doc.write_text(json.dumps({
        "@context": {"ex": EX, "name": "ex:name", "knows": {"@id": "ex:knows", "@type": "@id"}},
        "@id": "ex:a", "@type": "ex:Person", "name": "a name with spaces <and> \"quotes\"",
        "knows": ["ex:b"], "ex:note": {"@value": "{braces} | pipes", "@language": "en"}}), encoding="utf-8")
    assert len(parse_rdf_file(doc, dataset=True)) == 4


# ------------------------------------------------------------------------------ deep nesting

DEEP_TURTLE = {
    "blank-nodes": "[ <http://example.org/p> " * 5000 + "<http://example.org/z>" + " ]" * 5000,
    "collections": "(" * 5000 + ")" * 5000,
    "collection-of-blank-nodes": "( " + "[ <http://example.org/p> ( " * 2500 + "1" + " ) ]" * 2500 + " )",
}


@pytest.mark.parametrize("shape", sorted(DEEP_TURTLE))
def test_5000_deep_turtle_in_graph_is_a_clean_error(dirs, shape):
    (dirs["graph"] / "deep.ttl").write_text(
        TURTLE_PREFIXES + f"pgid:a pg:about {DEEP_TURTLE[shape]} .\n", encoding="utf-8")
    before = snapshot(dirs["out"])
    line = assert_one_line_error(run_cli(*build_args(dirs)), "build")
    assert "deep.ttl" in line
    assert_nothing_changed(dirs, before)


@pytest.mark.parametrize("shape", sorted(DEEP_TURTLE))
def test_5000_deep_turtle_as_data_is_answered_or_refused_cleanly(tmp_path, shape):
    path = tmp_path / "deep.ttl"
    path.write_text(f"<{EX}a> <{EX}p> {DEEP_TURTLE[shape]} .\n", encoding="utf-8")
    proc = run_cli("query", f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}p> ?o }}", "--data", path,
                   "--format", "csv")
    assert "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr
    if proc.returncode == 0:
        expected = {"blank-nodes": 5001, "collections": 1, "collection-of-blank-nodes": 2501}[shape]
        assert proc.stdout.split() == ["n", str(expected)]
    else:
        assert_one_line_error(proc, "query")
    proc = run_cli("validate", "--data", path)
    assert proc.returncode in (0, 1, 2) and "Traceback" not in proc.stderr
    assert "RecursionError" not in proc.stderr and proc.returncode > -1


@pytest.fixture(scope="module")
def fixture_trig(previous_dist) -> Path:
    return previous_dist / "peacegraph.trig"


@pytest.mark.parametrize("depth", [60, 64, 65, 200, 5000])
def test_nested_sparql_groups_in_peacegraph_query(fixture_trig, depth):
    q = "SELECT ?s WHERE " + "{ " * depth + f"?s a <{PG}Provision>" + " }" * depth + " ORDER BY ?s LIMIT 1"
    proc = run_cli("query", q, "--data", fixture_trig, "--format", "csv")
    assert "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr
    if proc.returncode == 0:
        assert proc.stdout.split() == ["s", PGID + "pared-plan-commission"]
    else:
        line = assert_one_line_error(proc, "query")
        assert "nested too deeply" in line


def test_a_long_one_line_query_is_not_taken_for_a_file_name(fixture_trig):
    # longer than NAME_MAX (255): once raised "File name too long" with a traceback
    q = ("SELECT ?s WHERE { ?s a <" + PG + "Provision> . FILTER("
         + " && ".join(["STRLEN(STR(?s)) > 0"] * 20) + ") } ORDER BY ?s LIMIT 1")
    assert len(q) > 300 and "\n" not in q
    proc = run_cli("query", q, "--data", fixture_trig, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["s", PGID + "pared-plan-commission"]


# ------------------------------------------------------------------------------ unwritable IRIs

BAD_IRIS = {
    "space.ttl": TURTLE_PREFIXES + f"pgid:a pg:about <{EX}a b> .\n",
    "escaped-space.ttl": TURTLE_PREFIXES + f"pgid:a pg:about <{EX}a\\u0020b> .\n",
    "gt.ttl": TURTLE_PREFIXES + f"pgid:a pg:about <{EX}a\\u003Eb> .\n",
    "control.ttl": TURTLE_PREFIXES + f"pgid:a pg:about <{EX}a\\u0001b> .\n",
    "space.nt": f"<{PGID}a> <{PG}about> <{EX}a\\u0020b> .\n",
    "gt.nq": f"<{PGID}a> <{PG}about> <{EX}a\\u003Eb> .\n",
    "space.rdf": ('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                  f'xmlns:pg="{PG}">\n<rdf:Description rdf:about="{PGID}a"><pg:about rdf:resource="{EX}a b"/>'
                  "</rdf:Description></rdf:RDF>\n"),
    "space-object.jsonld": json.dumps({"@id": PGID + "a", PG + "about": {"@id": EX + "a b"}}),
    "gt-predicate.jsonld": json.dumps({"@id": PGID + "a", EX + "p>q": "x"}),
    "space-type.jsonld": json.dumps({"@id": PGID + "a", "@type": EX + "A Type"}),
    "control-coerced.jsonld": json.dumps({"@context": {"about": {"@id": PG + "about", "@type": "@id"}},
                                          "@id": PGID + "a", "about": EX + "a\u0001b"}),
    "space-vocab.jsonld": json.dumps({"@context": {"@vocab": EX + "v "}, "@id": PGID + "a", "p": "x"}),
    "bell-literal.ttl": TURTLE_PREFIXES + 'pgid:a pg:about "ring \\u0007" .\n',
    "nul-literal.jsonld": json.dumps({"@id": PGID + "a", PG + "about": "nul \u0000"}),
}


@pytest.mark.parametrize("name", sorted(BAD_IRIS))
def test_unwritable_iris_and_literals_are_refused_naming_file_and_node(dirs, name):
    path = dirs["graph"] / name
    path.write_text(BAD_IRIS[name], encoding="utf-8")
    before = snapshot(dirs["out"])
    line = assert_one_line_error(run_cli(*build_args(dirs)), "build")
    assert f"graph/{name}" in line
    # the node: by the subject or the offending IRI where the check names them, by line and
    # column where the parser stops
    assert (PGID + "a" in line or f"{EX}a b" in line
            or re.search(re.escape(f"graph/{name}") + r":\d+:\d+: ", line)), line
    assert not any(ord(c) < 0x20 for c in line)          # the message itself stays printable
    assert_nothing_changed(dirs, before)


# ------------------------------------------------------------------------------ full disk, read-only

class _FullDisk:
    """Files whose writes fail with ENOSPC once `budget` bytes have been written in all."""

    def __init__(self, budget: int):
        self.budget = budget
        self.opened: list[str] = []

    def open(self, path, mode="r", *args, **kwargs):
        fh = open(path, mode, *args, **kwargs)
        if "w" not in mode:
            return fh
        self.opened.append(str(path))
        disk = self

        class Writer:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                fh.close()

            def write(self, data):
                if len(data) > disk.budget:
                    fh.write(data[:disk.budget])          # a partly written file, as on a real disk
                    disk.budget = 0
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
                disk.budget -= len(data)
                return fh.write(data)

            def __getattr__(self, name):
                return getattr(fh, name)

        return Writer()


@pytest.mark.parametrize("budget", [0, 5_000, 60_000])
def test_full_disk_exits_non_zero_and_keeps_the_previous_export(dirs, monkeypatch, capsys, budget):
    disk = _FullDisk(budget)
    monkeypatch.setattr(export_module, "open", disk.open, raising=False)
    before = snapshot(dirs["out"])
    assert main([str(a) for a in build_args(dirs)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0] and "previous export is unchanged" in err[0]
    assert disk.opened, "the export never reached the disk"
    assert_nothing_changed(dirs, before)


def test_read_only_target_exits_non_zero_and_keeps_the_previous_export(dirs, monkeypatch, capsys):
    before = snapshot(dirs["out"])
    parent = dirs["out"].parent
    if os.geteuid() == 0:
        # root ignores permission bits: fail every attempt to create something, as EROFS does
        def read_only(*args, **kwargs):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        monkeypatch.setattr(export_module.tempfile, "mkdtemp", read_only)
        monkeypatch.setattr(export_module, "open", read_only, raising=False)
    else:
        parent.chmod(0o555)
    try:
        assert main([str(a) for a in build_args(dirs)]) == 2
    finally:
        parent.chmod(0o755)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write" in err[0] and str(dirs["out"]) in err[0]
    assert_nothing_changed(dirs, before)


# ------------------------------------------------------------------------------ edited source

@pytest.mark.parametrize("command", ["build", "validate"])
def test_source_edited_after_anchoring_names_file_and_quotes(dirs, command):
    text_file = dirs["seeds"] / "alpha.txt"
    text = text_file.read_bytes().decode("utf-8")
    assert "ceasefire commission" in text and "Jared Kushner" in text
    text_file.write_bytes(text.replace("ceasefire commission", "truce commission")
                          .replace("Jared Kushner", "J. Kushner").encode("utf-8"))
    before = snapshot(dirs["out"])
    args = build_args(dirs) if command == "build" else ["validate", *build_args(dirs)[2:-2]]
    line = assert_one_line_error(run_cli(*args), command, code=1)
    assert "alpha.txt" in line and "sha256" in line
    assert "3 of 15 quotes no longer match" in line
    for quote in ("a ceasefire commission", "Jared Kushner", "plan drafted by Jared Kushner"):
        assert f"graph/core.ttl: '{quote}'" in line
    assert_nothing_changed(dirs, before)
