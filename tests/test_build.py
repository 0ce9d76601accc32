"""peacegraph.build: the whole pipeline on the small fixture and on the shipped data."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF

from peacegraph import paths
from peacegraph.anchor import Anchorer, FoldedText, Match
from peacegraph.build import GENID, BuildConfig, assemble, build, skolemize
from peacegraph.cli import main
from peacegraph.errors import AnchorError, InputError, ValidationFailed
from peacegraph.export import FILES
from peacegraph.namespaces import ASSERTED_GRAPH, INFERRED_GRAPH, NAMED_GRAPHS, OA, ONTOLOGY_GRAPH, PG, PGID, SOURCES_GRAPH
from peacegraph.setstore import SetStore

ROOT = Path(__file__).resolve().parents[1]


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def check_quotes(trig: Path) -> int:
    """Every quote selector's exact text equals text[start:end] of its source; returns spans."""
    store = ox.Store()
    store.load(path=str(trig))
    rows = list(store.query("""
        PREFIX oa: <http://www.w3.org/ns/oa#>
        PREFIX pg: <https://w3id.org/peacegraph/ontology#>
        SELECT ?span ?exact ?start ?end ?text WHERE {
          GRAPH ?g1 { ?span oa:hasSource ?src ; oa:hasSelector ?q , ?p .
                      ?q oa:exact ?exact . ?p oa:start ?start ; oa:end ?end . }
          GRAPH ?g2 { ?src pg:text ?text }
        }""", use_default_graph_as_union=True))
    for row in rows:
        text = row["text"].value
        start, end = int(row["start"].value), int(row["end"].value)
        assert text[start:end] == row["exact"].value, row["span"]
        assert row["span"].value.endswith(f"#char={start},{end}")
    return len(rows)


def test_fixture_build_end_to_end(pipeline_config, capsys):
    result = build(pipeline_config)
    out = pipeline_config.out
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert set(result.counts) == set(NAMED_GRAPHS)
    assert result.counts[ASSERTED_GRAPH] > 100
    assert result.counts[INFERRED_GRAPH] > 0
    assert result.spans == 15
    assert re.fullmatch(r"built .*: [\d,]+ triples \(ontology [\d,]+, asserted [\d,]+, inferred "
                        r"[\d,]+, sources [\d,]+\); 15 evidence spans; [\d.]+ s", result.summary())
    assert check_quotes(out / "peacegraph.trig") == 15
    trig = (out / "peacegraph.trig").read_text(encoding="utf-8")
    assert "_:" not in trig
    # the inferred graph holds what the ontology entails, e.g. the inverse of pg:provisionOf
    quads = {(str(q.subject), str(q.predicate), str(q.object), str(q.graph_name))
             for q in ox.parse(path=str(out / "peacegraph.nq"))}
    assert (f"<{PGID['us-plan']}>", f"<{PG.hasProvision}>", f"<{PGID['us-plan-amnesty']}>",
            f"<{INFERRED_GRAPH}>") in quads
    # attestations are named, and the attested triple is asserted
    assert (f"<{PGID['us-plan']}>", f"<{PG.draftedBy}>", f"<{PGID['jared-kushner']}>",
            f"<{ASSERTED_GRAPH}>") in quads
    assert (f"<{PGID['attestation-us-plan--drafted-by--jared-kushner']}>", f"<{RDF.type}>",
            f"<{PG.Attestation}>", f"<{ASSERTED_GRAPH}>") in quads
    assert capsys.readouterr().err == ""  # quiet: no progress output


def test_ontology_blank_nodes_get_stable_genid_iris(pipeline_config):
    a = assemble(pipeline_config, reason=False).dataset.graph(ONTOLOGY_GRAPH)
    b = assemble(pipeline_config, reason=False).dataset.graph(ONTOLOGY_GRAPH)
    assert not any(isinstance(t, BNode) for triple in a for t in triple)
    union = a.value(PG.ThingWithEvidence, URIRef("http://www.w3.org/2002/07/owl#unionOf"))
    assert str(union).startswith(GENID)
    assert set(a) == set(b)
    members = []
    node = union
    while node != RDF.nil:
        members.append(a.value(node, RDF.first))
        node = a.value(node, RDF.rest)
    assert members == [PG.Provision, PG.Stance, PG.PublicStatement]


def test_skolemize_refuses_cycles():
    from rdflib import Graph
    g = Graph()
    x, y = BNode(), BNode()
    g.add((x, PG.about, y))
    g.add((y, PG.about, x))
    with pytest.raises(InputError, match="cyclic"):
        skolemize(g)


def test_invalid_data_writes_nothing(pipeline_config):
    out = pipeline_config.out
    out.mkdir()
    (out / "peacegraph.trig").write_text("previous")
    graph_file = pipeline_config.graph / "core.ttl"
    text = graph_file.read_text(encoding="utf-8")
    text = text.replace('pg:provisionOf pgid:us-plan ;\n    pg:evidence [ pg:quote "election timetable" ] .',
                        "pg:provisionOf pgid:us-plan .")
    graph_file.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        build(pipeline_config)
    assert info.value.exit_code == 1
    assert "nothing was written" in str(info.value)
    assert "us-plan-elections" in info.value.report.text()
    assert snapshot(out) == {"peacegraph.trig": b"previous"}
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


def test_edited_source_text_names_file_and_quotes(pipeline_config):
    path = pipeline_config.seeds / "alpha.txt"
    text = path.read_bytes().decode("utf-8")
    path.write_bytes(text.replace("ceasefire commission", "truce commission").encode("utf-8"))
    with pytest.raises(ValidationFailed) as info:
        build(pipeline_config)
    msg = str(info.value)
    assert "alpha.txt" in msg and "sha256" in msg
    assert "1 of 15 quotes no longer match" in msg
    assert "a ceasefire commission" in msg and "graph/core.ttl" in msg
    assert not pipeline_config.out.exists()


def test_edited_source_text_whose_quotes_still_match(pipeline_config):
    path = pipeline_config.seeds / "alpha.txt"
    path.write_bytes(path.read_bytes() + b"\nA new closing line.\n")
    with pytest.raises(ValidationFailed, match="all 15 quotes still match"):
        build(pipeline_config)


def test_missing_quote_stops_the_build(pipeline_config):
    graph_file = pipeline_config.graph / "core.ttl"
    graph_file.write_text(graph_file.read_text(encoding="utf-8").replace(
        '"a ceasefire commission"', '"a peace commission"'), encoding="utf-8")
    text = graph_file.read_text(encoding="utf-8")
    at = text.index('"a peace commission"')
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    with pytest.raises(AnchorError, match=rf"graph/core.ttl:{line}:{column}: pgid:pared-plan-commission: "
                                          "quote 'a peace commission' not found"):
        build(pipeline_config)
    assert not pipeline_config.out.exists()


def test_stray_blank_node_stops_the_build(pipeline_config):
    (pipeline_config.graph / "extra.ttl").write_text(
        "@prefix pg: <https://w3id.org/peacegraph/ontology#> .\n"
        "@prefix pgid: <https://w3id.org/peacegraph/id/> .\n"
        "pgid:kyiv pg:about [ pg:about pgid:us-plan ] .\n", encoding="utf-8")
    with pytest.raises(InputError, match="blank node") as info:
        build(pipeline_config)
    assert info.value.file == "graph/extra.ttl"


def test_config_from_args_fills_defaults(tmp_path):
    args = Namespace(seeds=None, ontology=tmp_path, graph=None, shapes=None, out=None, quiet=True)
    config = BuildConfig.from_args(args)
    assert config.ontology == tmp_path
    assert config.seeds == paths.data_dir("seeds")
    assert config.shapes == paths.data_dir("shapes")
    assert config.out == paths.default_dist()
    assert config.quiet is True


def _cli_build(out: Path, seed: str) -> None:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    subprocess.run([sys.executable, "-m", "peacegraph.cli", "build", "--quiet", "--out", str(out)],
                   cwd=ROOT, env=env, check=True, capture_output=True)


@pytest.mark.slow
def test_two_builds_in_different_processes_are_byte_identical(tmp_path):
    _cli_build(tmp_path / "a", "1")
    _cli_build(tmp_path / "b", "2")
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert sorted(a) == sorted(FILES)
    for name in FILES:
        assert a[name] == b[name], name


# -- the shipped data ---------------------------------------------------------------------------

def test_shipped_build_writes_every_file(built_dist):
    assert sorted(p.name for p in built_dist.iterdir()) == sorted(FILES)
    for line in (built_dist / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((built_dist / name).read_bytes()).hexdigest() == digest


def test_shipped_build_quotes_equal_their_text(built_dist):
    assert check_quotes(built_dist / "peacegraph.trig") >= 50


def test_shipped_build_has_no_blank_nodes_and_four_graphs(built_dist):
    quads = list(ox.parse(path=str(built_dist / "peacegraph.nq")))
    assert not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object))
    graphs = {q.graph_name.value for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)}
    assert graphs == {str(g) for g in NAMED_GRAPHS}
    # the default graph holds only what the dump says of itself: the dataset, its version, license
    header = {q.subject.value for q in quads if isinstance(q.graph_name, ox.DefaultGraph)}
    assert header == {"https://w3id.org/peacegraph/dataset"}


def test_shipped_sources_graph_carries_the_text(built_dataset):
    from peacegraph.namespaces import SRC
    src = SRC["000_c087f7d81efda06d"]
    text = (paths.data_dir("seeds") / "000_c087f7d81efda06d.txt").read_bytes().decode("utf-8")
    assert built_dataset.graph(SOURCES_GRAPH).value(src, PG.text) == Literal(text)
    sha = built_dataset.graph(SOURCES_GRAPH).value(src, PG.sha256)
    assert str(sha) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_shipped_spans_have_both_selectors(built_dataset):
    asserted = built_dataset.graph(ASSERTED_GRAPH)
    spans = set(asserted.subjects(RDF.type, OA.SpecificResource))
    assert spans
    for span in spans:
        selectors = set(asserted.objects(span, OA.hasSelector))
        kinds = {asserted.value(s, RDF.type) for s in selectors}
        assert kinds == {OA.TextQuoteSelector, OA.TextPositionSelector}, span


def test_progress_reports_each_stage(pipeline_config):
    import io

    from peacegraph.progress import Progress
    stream = io.StringIO()
    build(pipeline_config, progress=Progress(True, stream=stream))
    shown = stream.getvalue()
    for stage in ("load", "anchor", "reason", "validate", "export"):
        assert re.search(rf"\r{stage}\s", shown), stage


def _one_late(monkeypatch, where):
    """The mutation the quote check must catch: every anchor one character late."""
    if where == "choose":
        original = Anchorer.choose

        def late(self, *args, **kwargs):
            m = original(self, *args, **kwargs)
            return Match(m.start + 1, m.end + 1)
        monkeypatch.setattr(Anchorer, "choose", late)
    else:
        original = FoldedText.span

        def late(self, a, b):
            start, end = original(self, a, b)
            return start + 1, end + 1
        monkeypatch.setattr(FoldedText, "span", late)


@pytest.mark.parametrize("where", ["choose", "span"])
def test_anchors_shifted_one_character_late_stop_the_build(pipeline_config, monkeypatch, where):
    _one_late(monkeypatch, where)
    with pytest.raises(AnchorError) as info:
        build(pipeline_config)
    first = "drops the amnesty clause"  # the first evidence in anchoring order
    alpha = (pipeline_config.seeds / "alpha.txt").read_bytes().decode("utf-8")
    at = alpha.index(first) + 1
    # the message points at the quote in the curated file: line 8, column 28 of changes.ttl
    assert str(info.value) == (
        f"graph/changes.ttl:8:28: pgid:change-pared-plan-amnesty: anchoring error: quote {first!r} was "
        f"anchored at {at}-{at + len(first)} of src:alpha, which reads "
        f"{' '.join(alpha[at:at + len(first)].split())!r}")
    assert not pipeline_config.out.exists()


def test_shipped_data_with_anchors_one_character_late_fails_to_build(tmp_path, monkeypatch, capsys):
    _one_late(monkeypatch, "choose")
    assert main(["build", "--out", str(tmp_path / "dist"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"peacegraph build: error: graph/\w+\.ttl:\d+:\d+: pgid:[\w-]+: anchoring error: "
                        r"quote '[^']+' was anchored at \d+-\d+ of src:000_c087f7d81efda06d, "
                        r"which reads '[^']+'\n", err), err
    assert not (tmp_path / "dist").exists()


def test_the_graphs_load_and_anchor_let_go_of_hold_no_statements():
    """The curated, ontology and sources graphs are emptied when the build drops them: a Graph
    and its namespace manager refer to each other, so what they held would otherwise wait for the
    cyclic collector (at 1M triples, a 0.9 s walk and 40 MB held until then)."""
    import gc

    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        assembly = assemble(BuildConfig.defaults(quiet=True), reason=False)
        gc.collect()
        statements_held = sum(1 for o in gc.garbage if type(o) is tuple and len(o) == 3
                              and all(isinstance(t, (URIRef, BNode, Literal)) for t in o))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert len(assembly.dataset.graph(ASSERTED_GRAPH)) > 1000
    assert statements_held == 0


def test_a_build_lets_go_of_its_dataset(tmp_path):
    """Once a build has returned, nothing of its dataset waits for the cyclic collector: a
    process that builds again and again (build --watch) does not grow by a dataset each time."""
    import gc

    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = build(BuildConfig.defaults(out=tmp_path / "dist", quiet=True, cache=False))
        gc.collect()
        dropped_stores = [o for o in gc.garbage if isinstance(o, SetStore)]
        statements_held = sum(len(store) for store in dropped_stores)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert sum(result.counts.values()) > 1000 and dropped_stores
    assert statements_held == 0
