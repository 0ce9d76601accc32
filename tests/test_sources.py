"""Many sources: adding a text never touches existing files; corroboration and conflicts across
texts. The second text is tests/fixtures/second_source/note.txt, written for these tests."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from rdflib import URIRef

from peacegraph import paths
from peacegraph.anchor import anchor_graph
from peacegraph.cli import main
from peacegraph.errors import AnchorError
from peacegraph.namespaces import OA, PG, PGID, SRC
from peacegraph.sources import default_source, founding_source, next_stem

FIXTURE = Path(__file__).parent / "fixtures" / "second_source"
NOTE = FIXTURE / "note.txt"
NOTE_STEM = "001_" + hashlib.sha256(NOTE.read_bytes()).hexdigest()[:16]
FIRST = SRC["000_c087f7d81efda06d"]


def _tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory):
    """A copy of the shipped data with the note added by `source add` and three statements
    about it in graph/{stem}/, built."""
    root = tmp_path_factory.mktemp("two-sources")
    for name in ("seeds", "ontology", "graph", "shapes"):
        shutil.copytree(paths.data_dir(name), root / name)
    before = {"graph": _tree(root / "graph"), "seeds": _tree(root / "seeds")}
    rc = main(["source", "add", str(NOTE), "--title", "Test note on the peace talks",
               "--publisher", "peacegraph tests", "--author", "A. Tester", "--published", "2025-11-28",
               "--retrieved", "2025-11-29", "--language", "en", "--url", "https://example.org/note",
               "--seeds", str(root / "seeds")])
    assert rc == 0
    (root / "graph" / NOTE_STEM).mkdir()
    shutil.copy(FIXTURE / "graph" / "statements.ttl", root / "graph" / NOTE_STEM / "statements.ttl")
    out = root / "dist"
    rc = main(["build", "--quiet", "--out", str(out), *[f"--{n}={root / n}" for n in ("seeds", "ontology", "graph", "shapes")]])
    assert rc == 0
    from peacegraph.query import load_dataset
    return {"root": root, "before": before, "dataset": load_dataset([out / "peacegraph.trig"]),
            "trig": out / "peacegraph.trig"}


def test_adding_a_source_touches_no_existing_file(two_sources):
    root, before = two_sources["root"], two_sources["before"]
    after_graph = _tree(root / "graph")
    assert {k: v for k, v in after_graph.items() if k in before["graph"]} == before["graph"]
    assert set(after_graph) - set(before["graph"]) == {f"{NOTE_STEM}/statements.ttl"}
    after_seeds = _tree(root / "seeds")
    assert set(after_seeds) - set(before["seeds"]) == {f"{NOTE_STEM}.txt"}
    for name, data in before["seeds"].items():
        if name != "sources.ttl":
            assert after_seeds[name] == data
    # sources.ttl only grows: the old text is its beginning
    assert after_seeds["sources.ttl"].startswith(before["seeds"]["sources.ttl"].rstrip(b"\n"))


def test_source_add_copies_verbatim_and_describes_the_text(two_sources):
    root, ds = two_sources["root"], two_sources["dataset"]
    assert (root / "seeds" / f"{NOTE_STEM}.txt").read_bytes() == NOTE.read_bytes()
    node = SRC[NOTE_STEM]
    from rdflib.namespace import DCTERMS, XSD
    assert str(ds.value(node, PG.sha256)) == hashlib.sha256(NOTE.read_bytes()).hexdigest()
    assert str(ds.value(node, DCTERMS.title)) == "Test note on the peace talks"
    assert str(ds.value(node, DCTERMS.publisher)) == "peacegraph tests"
    assert str(ds.value(node, DCTERMS.creator)) == "A. Tester"
    assert ds.value(node, DCTERMS.issued).datatype == XSD.date
    assert ds.value(node, URIRef("https://schema.org/url")) == URIRef("https://example.org/note")


def test_quotes_in_a_source_folder_anchor_in_that_text(two_sources):
    ds = two_sources["dataset"]
    spans = list(ds.objects(PGID["statement-envoy--deal-far-off"], PG.evidence))
    assert [ds.value(s, OA.hasSource) for s in spans] == [SRC[NOTE_STEM]]


def test_one_attestation_carries_evidence_from_two_sources(two_sources):
    ds = two_sources["dataset"]
    att = PGID["attestation-us-28-point-plan--drafted-by--jared-kushner"]
    sources = {ds.value(span, OA.hasSource) for span in ds.objects(att, PG.evidence)}
    assert sources == {FIRST, SRC[NOTE_STEM]}


def test_corroboration_query_counts_independent_sources(two_sources):
    from peacegraph.query import find_stored, run_query
    sq = find_stored("14-corroboration")
    rows = list(run_query(two_sources["dataset"], sq.text, {}))
    by_claim = {str(r[0]): int(r[2]) for r in rows}
    att = str(PGID["attestation-us-28-point-plan--drafted-by--jared-kushner"])
    assert by_claim[att] == 2
    assert by_claim[str(PGID["statement-envoy--deal-far-off"])] == 1
    assert str(rows[0][0]) == att  # the most corroborated first
    assert max(by_claim.values()) == 2


def test_claim_conflict_across_sources(two_sources):
    from peacegraph.query import find_stored, run_query
    sq = find_stored("12-claim-conflicts")
    rows = list(run_query(two_sources["dataset"], sq.text, {"conflict": PGID["conflict-deal-near-or-far"]}))
    claims = {str(r[2]) for r in rows}
    assert claims == {str(PGID["statement-donald-trump--deal-getting-close"]),
                      str(PGID["statement-envoy--deal-far-off"])}
    ds = two_sources["dataset"]
    sources = {ds.value(span, OA.hasSource) for claim in claims
               for span in ds.objects(URIRef(claim), PG.evidence)}
    assert sources == {FIRST, SRC[NOTE_STEM]}


def test_source_add_refuses_a_duplicate_and_leaves_seeds_untouched(two_sources, capsys):
    seeds = two_sources["root"] / "seeds"
    before = _tree(seeds)
    assert main(["source", "add", str(NOTE), "--title", "again", "--seeds", str(seeds)]) == 2
    assert "already in seeds/" in capsys.readouterr().err
    assert _tree(seeds) == before


@pytest.mark.parametrize("args, message", [
    (["--published", "28/11/2025"], "is not a date"),
    (["--url", "javascript:alert(1)"], "is not an http(s) URL"),
    (["--language", "en english"], "is not a language tag"),
])
def test_source_add_refuses_bad_metadata_and_writes_nothing(tmp_path, capsys, args, message):
    seeds = tmp_path / "seeds"
    shutil.copytree(paths.data_dir("seeds"), seeds)
    before = _tree(seeds)
    assert main(["source", "add", str(NOTE), "--title", "T", "--seeds", str(seeds), *args]) == 2
    assert message in capsys.readouterr().err
    assert _tree(seeds) == before


def test_source_add_refuses_a_text_with_control_characters(tmp_path, capsys):
    seeds = tmp_path / "seeds"
    shutil.copytree(paths.data_dir("seeds"), seeds)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"text with a bell \x07 in it")
    assert main(["source", "add", str(bad), "--title", "T", "--seeds", str(seeds)]) == 2
    assert "control character" in capsys.readouterr().err
    assert sorted(p.name for p in seeds.iterdir()) == ["000_c087f7d81efda06d.txt", "sources.ttl"]


def test_source_add_prints_a_stub_that_builds(tmp_path, capsys):
    seeds = tmp_path / "seeds"
    shutil.copytree(paths.data_dir("seeds"), seeds)
    assert main(["source", "add", str(NOTE), "--title", "T", "--seeds", str(seeds)]) == 0
    out = capsys.readouterr().out
    assert f"graph/{NOTE_STEM}/statements.ttl" in out
    from rdflib import Graph
    assert len(Graph().parse(data=out, format="turtle")) == 0  # prefixes and comments only


def test_new_texts_are_numbered_after_the_existing_ones(tmp_path):
    (tmp_path / "000_0123456789abcdef.txt").write_text("a")
    (tmp_path / "007_fedcba9876543210.txt").write_text("b")
    assert next_stem(tmp_path, "ab" * 32) == "008_abababababababab"
    assert next_stem(tmp_path / "none", "cd" * 32) == "000_cdcdcdcdcdcdcdcd"


def test_default_source_by_folder_else_the_founding_text():
    a, b = SRC["000_aaaaaaaaaaaaaaaa"], SRC["001_bbbbbbbbbbbbbbbb"]
    texts = {b: "x", a: "y"}
    assert founding_source(texts) == a
    assert default_source("graph/actors.ttl", texts) == a
    assert default_source("graph/001_bbbbbbbbbbbbbbbb/x.ttl", texts) == b
    assert default_source("graph/unknown/x.ttl", texts) == a


def test_a_quote_missing_from_its_folder_text_names_that_text():
    from rdflib import BNode, Graph, Literal
    a, b = SRC["000_aaaaaaaaaaaaaaaa"], SRC["001_bbbbbbbbbbbbbbbb"]
    g = Graph()
    ev = BNode()
    g.add((PGID["x"], PG.evidence, ev))
    g.add((ev, PG.quote, Literal("Geneva")))
    texts = {a: "Talks in Geneva.", b: "Talks in Abu Dhabi."}
    with pytest.raises(AnchorError, match="not found in src:001_bbbbbbbbbbbbbbbb"):
        anchor_graph(g, texts, {PGID["x"]: "graph/001_bbbbbbbbbbbbbbbb/x.ttl", ev: "graph/001_bbbbbbbbbbbbbbbb/x.ttl"})
    out = anchor_graph(g, texts, {PGID["x"]: "graph/x.ttl", ev: "graph/x.ttl"})
    assert str(next(out.objects(PGID["x"], PG.evidence))).startswith(str(a) + "#char=")


def test_a_graph_subfolder_named_after_no_source_is_refused(tmp_path, capsys):
    for name in ("seeds", "ontology", "graph", "shapes"):
        shutil.copytree(paths.data_dir(name), tmp_path / name)
    (tmp_path / "graph" / "typo").mkdir()
    shutil.copy(FIXTURE / "graph" / "statements.ttl", tmp_path / "graph" / "typo" / "s.ttl")
    rc = main(["validate", *[f"--{n}={tmp_path / n}" for n in ("seeds", "ontology", "graph", "shapes")]])
    assert rc == 2
    err = capsys.readouterr().err
    assert "'typo' is not named after a source text" in err and "000_c087f7d81efda06d" in err


def _mentions(root, capsys, *extra):
    import json
    capsys.readouterr()
    rc = main(["mentions", NOTE_STEM, "--format", "json", *extra,
               *[f"--{n}={root / n}" for n in ("seeds", "ontology", "graph", "shapes")]])
    assert rc == 0
    return json.loads(capsys.readouterr().out)


def test_mentions_lists_known_names_with_offsets_and_marks_unused(two_sources, capsys):
    rows = _mentions(two_sources["root"], capsys)
    text = NOTE.read_text(encoding="utf-8")
    for r in rows:
        assert text[r["start"]:r["end"]] == r["text"]
    by_text = {}
    for r in rows:
        by_text.setdefault((r["text"], r["thing"]), []).append(r)
    # quoted by the attestation's evidence in this text
    kushner = by_text[("Jared Kushner", "pgid:jared-kushner")]
    assert [r["used"] for r in kushner] == [True]
    # named, but no evidence quoting this text covers it
    assert [r["used"] for r in by_text[("Kirill Dmitriev", "pgid:kirill-dmitriev")]] == [False]
    unused = _mentions(two_sources["root"], capsys, "--unused")
    assert unused and all(not r["used"] for r in unused)
    assert len(unused) == sum(1 for r in rows if not r["used"])


def test_mentions_folds_like_quotes_and_stops_at_word_ends():
    from rdflib import Dataset, Literal
    from rdflib.namespace import RDFS, SKOS

    from peacegraph.mentions import find_mentions
    from peacegraph.namespaces import ASSERTED_GRAPH, SOURCES_GRAPH
    ds = Dataset()
    src = SRC["000_aaaaaaaaaaaaaaaa"]
    ds.graph(SOURCES_GRAPH).add((src, PG.text, Literal("The Russian side and Russia\u00a0Today met the Kremlin\u2019s envoy.")))
    ds.graph(ASSERTED_GRAPH).add((PGID["russia"], RDFS.label, Literal("Russia", lang="en")))
    ds.graph(ASSERTED_GRAPH).add((PGID["kremlin"], SKOS.altLabel, Literal("Kremlin's envoy", lang="en")))
    found = [(m.text, str(m.thing)) for m in find_mentions(ds, src)]
    assert found == [("Russia", str(PGID["russia"])), ("Kremlin\u2019s envoy", str(PGID["kremlin"]))]


def test_mentions_of_an_unknown_source_lists_the_texts(capsys):
    assert main(["mentions", "999_nothing"]) == 2
    assert "000_c087f7d81efda06d" in capsys.readouterr().err


def test_source_add_outside_a_checkout_writes_to_the_working_folder(tmp_path, monkeypatch, capsys):
    shipped = paths.data_dir("seeds")
    monkeypatch.setattr(paths, "checkout_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert main(["source", "add", str(NOTE), "--title", "T"]) == 2
    assert "seeds: no such folder" in capsys.readouterr().err
    shutil.copytree(shipped, tmp_path / "seeds")
    assert main(["source", "add", str(NOTE), "--title", "T"]) == 0
    assert (tmp_path / "seeds" / f"{NOTE_STEM}.txt").read_bytes() == NOTE.read_bytes()
