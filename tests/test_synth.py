"""peacegraph synth: a corpus in the authoring form that the real pipeline builds unchanged."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import DCTERMS, RDF, SKOS

from peacegraph import paths
from peacegraph.anchor import anchor_graph, fold
from peacegraph.cli import main
from peacegraph.errors import InputError
from peacegraph.load import load_folder, load_sources
from peacegraph.namespaces import NAMED_GRAPHS, OA, PG, SRC, TOPIC
from peacegraph.synth import read_vocabulary, synthesize


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    synthesize(out, 6000, seed=7)
    return out


def test_same_seed_same_bytes_and_other_seed_differs(corpus, tmp_path):
    synthesize(tmp_path / "again", 6000, seed=7)
    synthesize(tmp_path / "other", 6000, seed=8)
    first = _files(corpus)
    assert first == _files(tmp_path / "again")
    assert first != _files(tmp_path / "other")
    assert any(name.startswith("graph/") for name in first) and "seeds/sources.ttl" in first


def test_sources_describe_every_text_with_its_sha256(corpus):
    g = Graph().parse(corpus / "seeds" / "sources.ttl")
    texts = sorted((corpus / "seeds").glob("*.txt"))
    assert len(texts) >= 3
    for path in texts:
        src = SRC[path.stem]
        assert (src, RDF.type, PG.SourceText) in g
        assert str(g.value(src, PG.sha256)) == hashlib.sha256(path.read_bytes()).hexdigest()
        assert str(g.value(src, DCTERMS.identifier)) == path.name


def test_quotes_occur_in_their_texts_and_some_need_disambiguation(corpus):
    curated = load_folder(corpus / "graph")
    sources = load_sources(corpus / "seeds")
    g = curated.graph
    evidence = list(g.subjects(PG.quote, None))
    assert len(evidence) > 100
    for ev in evidence:
        source = g.value(ev, PG.source)
        assert source in sources.texts, "every evidence names its source (there are many texts)"
        assert fold(str(g.value(ev, PG.quote))) in fold(sources.texts[source])
    occurrences = [int(o) for o in g.objects(None, PG.occurrence)]
    assert 2 in occurrences and 1 in occurrences
    assert any(True for _ in g.objects(None, PG.prefix))
    # some quotes are written with plain characters where the text has typographic ones
    assert any(fold(t) != t for t in sources.texts.values())


def test_the_pipeline_anchors_every_quote_to_its_exact_words(corpus):
    curated = load_folder(corpus / "graph")
    sources = load_sources(corpus / "seeds")
    anchored = anchor_graph(curated.graph, sources.texts, curated.origin)
    spans = set(anchored.subjects(RDF.type, OA.SpecificResource))
    assert len(spans) > 100
    for span in spans:
        source = anchored.value(span, OA.hasSource)
        for sel in anchored.objects(span, OA.hasSelector):
            if (sel, RDF.type, OA.TextPositionSelector) in anchored:
                start, end = int(anchored.value(sel, OA.start)), int(anchored.value(sel, OA.end))
            else:
                exact = str(anchored.value(sel, OA.exact))
        assert sources.texts[source][start:end] == exact


def test_uses_the_shipped_vocabulary(corpus):
    vocab = read_vocabulary(paths.data_dir("ontology"))
    ontology = load_folder(paths.data_dir("ontology")).graph
    g = load_folder(corpus / "graph").graph
    topics = set(g.objects(None, PG.topic))
    assert topics and all((t, RDF.type, SKOS.Concept) in ontology and str(t).startswith(str(TOPIC))
                          for t in topics)
    used_classes = set(g.objects(None, RDF.type))
    for cls in ("Person", "Organization", "Group", "Place", "PeacePlan", "Counterproposal", "Provision",
                "ProvisionChange", "Stance", "PublicStatement", "Negotiation", "Strike", "Assessment",
                "Attestation"):
        assert PG[cls] in used_classes, cls
    attested = {g.value(a, RDF.predicate) for a in g.subjects(RDF.type, PG.Attestation)}
    assert attested and all(p.n3(g.namespace_manager) in vocab.attested for p in attested)
    # an attested property is never written as a plain triple: the attestation carries it
    for p in attested:
        assert not any(True for _ in g.triples((None, p, None)))


def test_topics_come_from_the_ontology_given(tmp_path):
    onto = tmp_path / "onto"
    onto.mkdir()
    (onto / "t.ttl").write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        f"<{TOPIC}fishing-rights> a skos:Concept ; skos:prefLabel \"fishing rights\"@en .\n", encoding="utf-8")
    synthesize(tmp_path / "out", 3000, seed=1, ontology_dir=onto)
    g = load_folder(tmp_path / "out" / "graph").graph
    assert set(g.objects(None, PG.topic)) == {TOPIC["fishing-rights"]}
    assert "fishing rights" in (tmp_path / "out" / "graph" / "provisions.ttl").read_text(encoding="utf-8")
    (onto / "t.ttl").write_text("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n", encoding="utf-8")
    with pytest.raises(InputError, match="no topic concepts"):
        synthesize(tmp_path / "out2", 3000, ontology_dir=onto)


def test_size_scales_with_triples_and_memory_stays_flat(tmp_path):
    peaks, results = [], []
    for n in (12_000, 120_000):
        tracemalloc.start()
        results.append(synthesize(tmp_path / str(n), n, seed=2))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    small, big = results
    assert 7 < big.articles / small.articles < 14
    assert 0.9 < big.estimated_triples / 120_000 < 1.1
    # streamed: ten times the corpus, about the same memory
    assert peaks[1] < 1.5 * peaks[0] + 2_000_000, peaks


def test_refuses_folders_it_did_not_write_and_leaves_no_partial_output(tmp_path):
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "mine.ttl").write_text("# hand-written\n", encoding="utf-8")
    assert main(["synth", "--triples", "2000", "--out", str(tmp_path)]) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["graph"]
    assert (tmp_path / "graph" / "mine.ttl").read_text(encoding="utf-8") == "# hand-written\n"


def test_rewrites_its_own_output(tmp_path, capsys):
    assert main(["synth", "--triples", "3000", "--seed", "1", "--out", str(tmp_path)]) == 0
    before = _files(tmp_path)
    assert main(["synth", "--triples", "3000", "--seed", "2", "--out", str(tmp_path)]) == 0
    after = _files(tmp_path)
    # the second run's output replaced the first's entirely: it is what seed 2 writes afresh
    fresh = tmp_path.parent / "fresh"
    assert main(["synth", "--triples", "3000", "--seed", "2", "--out", str(fresh)]) == 0
    assert after == _files(fresh) and after != before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".synth-partial")]
    out = capsys.readouterr()
    assert out.err == ""  # not a terminal: no progress


def test_rejects_a_nonsense_size(tmp_path, capsys):
    assert main(["synth", "--triples", "0", "--out", str(tmp_path / "x")]) == 2
    assert "--triples" in capsys.readouterr().err


def test_the_real_build_takes_it_unchanged_at_the_size_asked(tmp_path):
    from peacegraph.build import BuildConfig, build

    n = 4000  # enough articles for > 100 spans beside the ontology (about 1,000 triples)
    assert main(["synth", "--triples", str(n), "--seed", "11", "--out", str(tmp_path), "--quiet"]) == 0
    result = build(BuildConfig.defaults(seeds=tmp_path / "seeds", graph=tmp_path / "graph",
                                        out=tmp_path / "dist", quiet=True))
    total = sum(result.counts.values())
    assert 0.75 * n <= total <= 1.25 * n, result.summary()
    assert result.spans > 100
    assert (tmp_path / "dist" / "peacegraph.trig").is_file()


def test_size_is_calibrated_at_a_larger_scale(tmp_path):
    """Anchoring and reasoning (not validation, which only checks) decide the built size."""
    from peacegraph.build import BuildConfig, assemble

    n = 25_000
    synthesize(tmp_path, n, seed=4)
    dataset = assemble(BuildConfig.defaults(seeds=tmp_path / "seeds", graph=tmp_path / "graph")).dataset
    total = sum(len(dataset.graph(g)) for g in NAMED_GRAPHS)
    assert 0.75 * n <= total <= 1.25 * n, total
