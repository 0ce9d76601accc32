"""Search (peacegraph.search): the full-text index of the real build, its ranking, hostile input,
atomic builds, and the index the backends build and keep (--store-dir reuse, remote stores)."""

from __future__ import annotations

import shutil
import sys
import unicodedata
from pathlib import Path

import pytest
from rdflib import URIRef

from peacegraph import search
from peacegraph.errors import InputError
from peacegraph.namespaces import OA, PG, PGID, RDF
from peacegraph.server.backend import SEARCH_INDEX_FILE
from peacegraph.server.config import ServerConfig
from peacegraph.server.embedded import EmbeddedBackend

ZELENSKIY = str(PGID["volodymyr-zelenskiy"])
WITKOFF = str(PGID["steve-witkoff"])
FROZEN_ASSETS = str(PGID["us-28-point-plan--frozen-assets-for-reconstruction"])
KUSHNER = str(PGID["jared-kushner"])
HOSTILE = ['"', '""', "AND OR", "AND", "OR NOT", "*", "**", "NEAR(", "NEAR(a b, 2)", "col:",
           "text:zelensky", "{text}: x", "^zel", "zel* OR", "-witk", "(", ")", "'", "\\", "\x00",
           "a\"b\"c", "+", ":", "zelensky\"*", "🙂", "\u200b", "%", "_", "a" * 200]


def index_rows(dump: Path) -> list[tuple]:
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_load(path=str(dump), format=ox.RdfFormat.TRIG)
    answer = store.query(search.index_query(), use_default_graph_as_union=True)
    variables = [v.value for v in answer.variables]
    rows = [tuple(s[i] for i in range(len(variables))) for s in answer]
    return list(search.rows_from_solutions(variables, rows))


@pytest.fixture(scope="module")
def rows(built_dist) -> list[tuple]:
    return index_rows(built_dist / "peacegraph.trig")


@pytest.fixture(scope="module")
def index(rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "search.sqlite"
    search.build_index(rows, path, "real")
    idx = search.SearchIndex(path)
    yield idx
    idx.close()


def iris(hits) -> list[str]:
    return [h.iri for h in hits]


def test_a_partial_name_finds_the_person_first(index):
    first = index.search("zelensky")[0]
    assert first.iri == ZELENSKIY and first.label == "Volodymyr Zelenskiy" and first.type_label == "person"
    assert first.types[0]["iri"] == str(PG.Person)
    assert index.search("witk")[0].iri == WITKOFF
    assert index.search("Witkoff")[0].iri == WITKOFF
    # a near spelling of a name that is only in the labels
    assert index.search("kushnr")[0].iri == KUSHNER


def test_topic_words_find_the_provision(index):
    hits = index.search("frozen assets")
    assert FROZEN_ASSETS in iris(hits[:3])
    provisions = [h for h in hits if h.type_label == "provision"]
    assert provisions[0].iri == FROZEN_ASSETS and provisions[0].match == "label"
    # word prefixes, in any order
    assert FROZEN_ASSETS in iris(index.search("assets froz")[:3])


def test_an_editorial_note_is_credited_to_what_it_qualifies(index, built_dataset):
    notes = {str(n) for n in built_dataset.subjects(RDF.type, PG.EditorialNote)}
    assert str(PGID["note-spelling-zelensky"]) in notes
    for text in ("zelensky", "spelling", "which draft", "transliteration"):
        assert not notes & set(iris(index.search(text, limit=100))), text
    # the words of a note find the node it qualifies, as a description of it
    spelling = {h.iri: h for h in index.search("spelling", limit=100)}
    assert spelling[ZELENSKIY].match == "description" and "Zelensky" in spelling[ZELENSKIY].text
    assert str(PGID["us-peace-framework"]) in iris(index.search("which draft", limit=100))


@pytest.mark.parametrize("text", ["zelenskiy", "Zelenskíy", "ZELENSKIY", "Zélenskiy", "ZeLeNsKiY",
                                  "Zelenskiy!", "  zelenskiy  "])
def test_case_and_diacritics_do_not_matter(index, text):
    assert index.search(text)[0].iri == ZELENSKIY


def test_fold():
    assert search.fold("Łódź Straße ÆON Zelenskíy") == "lodz strasse aeon zelenskiy"
    assert search.query_words("Frozen-ASSETS, frozen!") == ["frozen", "assets"]


def test_fold_drops_the_combining_characters_of_every_code_point_and_nothing_else():
    def by_definition(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        return bare.casefold().translate(search._LETTERS)

    ascii_text = "".join(map(chr, range(128)))
    assert search.fold(ascii_text) == by_definition(ascii_text)
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    for start in range(0, len(every), 4096):
        block = every[start:start + 4096]
        assert search.fold(block) == by_definition(block), hex(start)
    assert search.fold("Cafe\u0301 cre\u0300me") == "cafe creme"     # marks written apart
    assert search.fold("plain ascii, Kept AS IS") == "plain ascii, kept as is"


def test_label_hits_rank_above_descriptions_and_quotes(index):
    for text in ("amnesty", "ceasefire", "frozen assets", "territor"):
        hits = index.search(text, limit=50)
        kinds = [h.match for h in hits]
        assert "quote" in kinds, text
        names = [i for i, k in enumerate(kinds) if k in ("label", "altLabel")]
        lower = [i for i, k in enumerate(kinds) if k in ("description", "type", "quote")]
        assert names and max(names) < min(lower), (text, kinds)
        described = [i for i, k in enumerate(kinds) if k == "description"]
        quoted = [i for i, k in enumerate(kinds) if k == "quote"]
        assert not described or max(described) < min(quoted), (text, kinds)
        assert len(set(iris(hits))) == len(hits), "one hit per thing"


def test_quote_hits_carry_the_quote_and_a_span_of_the_data(index, built_dataset):
    hits = [h for h in index.search("ceasefire", limit=50) if h.match == "quote"]
    assert hits
    for hit in hits:
        assert hit.quote and hit.span and "#char=" in hit.span and "ceasefire" in hit.quote.lower()
        span = URIRef(hit.span)
        exact = {str(e) for sel in built_dataset.objects(span, OA.hasSelector)
                 for e in built_dataset.objects(sel, OA.exact)}
        assert hit.quote in exact
        holders = set(built_dataset.subjects(PG.evidence, span))
        about = {o for h in holders for o in built_dataset.objects(h, RDF.subject)}
        assert URIRef(hit.iri) in holders | about


def test_every_hit_names_a_thing_with_a_label_and_type(index):
    for hit in index.search("plan", limit=100):
        assert hit.iri.startswith(str(PGID)) or "/source/" in hit.iri
        assert hit.label and hit.types and hit.to_dict()["type"] == hit.type_label
        assert "attestation" not in hit.iri


@pytest.mark.parametrize("text", HOSTILE)
def test_fts_syntax_in_the_search_text_is_plain_text(index, text):
    for hits in (index.search(text), index.suggest(text), index.nearest(text)):
        assert isinstance(hits, list)


def test_operators_are_words_not_syntax(index):
    # "zelensky OR witk" is three words that must all match, never an OR of two
    assert index.search("zelensky OR witk") == []
    assert index.search("zelensky NOT xylophone") == []
    assert index.search("zelensky AND") == index.search("zelensky and")


def test_empty_long_and_bad_requests(index):
    assert index.search("") == [] and index.search("  ,;!? ") == []
    with pytest.raises(InputError, match="at most 200"):
        index.search("a" * 201)
    with pytest.raises(InputError):
        index.search(None)
    with pytest.raises(InputError):
        index.search("zelensky", limit=0)
    with pytest.raises(InputError):
        index.search("zelensky", limit=10_000)
    with pytest.raises(InputError):
        index.search("zelensky", offset=-1)


def test_pages_do_not_overlap(index):
    everything = iris(index.search("plan", limit=40))
    assert len(everything) > 20
    assert iris(index.search("plan", limit=20)) + iris(index.search("plan", limit=20, offset=20)) == everything


def test_suggest_completes_names_only(index):
    hits = index.suggest("zel")
    assert ZELENSKIY in iris(hits)
    assert {h.match for h in hits} <= {"label", "altLabel"}
    assert index.suggest("witk")[0].iri == WITKOFF


def test_nearest_for_a_missing_slug(index):
    assert index.nearest("jared-kushnr")[0].iri == KUSHNER
    assert index.nearest("steve-witkof")[0].iri == WITKOFF
    assert index.nearest("zelensky")[0].iri == ZELENSKIY
    assert index.nearest("---") == []


def test_a_failed_build_leaves_the_previous_index(rows, tmp_path, monkeypatch):
    path = tmp_path / "search.sqlite"
    search.build_index(rows, path, "first")
    before = path.read_bytes()
    calls = []

    def failing_fold(text):
        calls.append(text)
        if len(calls) > 50:
            raise OSError("disk full")
        return text.lower()
    monkeypatch.setattr(search, "fold", failing_fold)
    with pytest.raises(OSError):
        search.build_index(rows, path, "second")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["search.sqlite"]
    monkeypatch.undo()

    def broken_rows():
        yield from rows[:10]
        raise InputError("the store went away")
    with pytest.raises(InputError):
        search.build_index(broken_rows(), path, "third")
    assert path.read_bytes() == before
    assert search.index_is_current(path, "first") and not search.index_is_current(path, "third")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["search.sqlite"]


def test_a_file_that_is_not_an_index_is_refused(tmp_path):
    from peacegraph.errors import StoreError

    bad = tmp_path / "search.sqlite"
    bad.write_text("not a database")
    with pytest.raises(StoreError, match="not a search index"):
        search.SearchIndex(bad)
    assert not search.index_is_current(bad, "")
    with pytest.raises(StoreError, match="no search index"):
        search.SearchIndex(tmp_path / "missing.sqlite")


def start(data: Path, store_dir: Path | None) -> EmbeddedBackend:
    backend = EmbeddedBackend(ServerConfig(data=[data], store_dir=store_dir, workers=1, max_workers=2,
                                           memory=False))
    backend.start()
    return backend


def test_the_embedded_backend_keeps_its_index_with_the_store(built_dist, tmp_path):
    data = tmp_path / "peacegraph.trig"
    shutil.copy(built_dist / "peacegraph.trig", data)
    folder = tmp_path / "store"
    b = start(data, folder)
    try:
        assert not b.search_reused
        first = b.search("witk")
        assert first[0].iri == WITKOFF
    finally:
        b.close()
    index_file = folder / SEARCH_INDEX_FILE
    stamp = index_file.stat().st_mtime_ns
    b = start(data, folder)
    try:
        assert b.reused and b.search_reused
        assert [h.to_dict() for h in b.search("witk")] == [h.to_dict() for h in first]
        assert b.suggest("zel") and b.nearest("steve-witkof")[0].iri == WITKOFF
    finally:
        b.close()
    assert index_file.stat().st_mtime_ns == stamp
    # new data: a new store and a new index that finds it
    with data.open("a", encoding="utf-8") as fh:
        fh.write('\n<https://w3id.org/peacegraph/id/xavier-quillfeather> '
                 '<http://www.w3.org/2000/01/rdf-schema#label> "Xavier Quillfeather"@en .\n')
    b = start(data, folder)
    try:
        assert not b.reused and not b.search_reused
        assert b.search("quillfeather")[0].iri == str(PGID["xavier-quillfeather"])
    finally:
        b.close()
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def test_without_a_store_folder_the_index_is_temporary(built_dist):
    b = start(built_dist / "peacegraph.trig", None)
    try:
        assert b.search("zelensky")[0].iri == ZELENSKIY
        where = b.search_index.path
        assert where.is_file()
    finally:
        b.close()
    assert not where.exists() and not where.parent.exists()
    with pytest.raises(Exception, match="search is not available"):
        b.search("zelensky")


def test_a_remote_store_gets_the_same_index(built_dist, tmp_path):
    from peacegraph.bench import OxigraphServer
    from peacegraph.push import push
    from peacegraph.server.remote import RemoteBackend

    with OxigraphServer(tmp_path / "db") as server:
        push(server.store_url, built_dist / "peacegraph.trig")
        remote = RemoteBackend(ServerConfig(store_url=server.query_url))
        remote.start()
        try:
            assert remote.search("zelensky")[0].iri == ZELENSKIY
            assert remote.search("frozen assets")[:3] and FROZEN_ASSETS in iris(remote.search("frozen assets")[:3])
            where = remote.search_index.path
        finally:
            remote.close()
    assert not where.exists()


def test_bench_measures_search_on_a_dump(built_dist):
    from peacegraph import bench_search

    result = bench_search.measure(built_dist / "peacegraph.trig", rounds=2)
    assert result["things"] > 100 and result["hits"]["zelensky"] >= 1 and result["hits"]["xylophone"] == 0
    for call in ("search", "suggest"):
        timing = result[call]
        assert timing["calls"] == 2 * len(bench_search.QUERIES)
        assert 0 < timing["median_ms"] <= timing["p95_ms"] <= timing["max_ms"]
    report = {"sizes": [3000], "runs": {"3000": {"search": result}}}
    text = "\n".join(bench_search.markdown(report))
    assert "## Search" in text and "search median ≤ 50 ms at 3k" in text


def test_many_threads_search_one_index_at_once(index):
    from concurrent.futures import ThreadPoolExecutor

    texts = ["zelensky", "witk", "frozen assets", "plan", "ceasefire", "kushnr"]
    expected = {t: index.search(t) for t in texts}

    def run(i: int):
        text = texts[i % len(texts)]
        return text, index.search(text)
    with ThreadPoolExecutor(8) as pool:
        for text, hits in pool.map(run, range(240)):
            assert hits == expected[text]


def test_a_store_that_cannot_answer_the_index_query_fails_start_cleanly(monkeypatch):
    import tempfile

    from peacegraph.errors import StoreError
    from peacegraph.server.backend import Backend, QuerySyntaxError

    class Refusing(Backend):
        def start(self):
            self.open_search()

        def graph_names(self):
            return []

        def query(self, request):
            raise QuerySyntaxError("syntax error at line 1, column 1: unsupported")

        def close(self):
            self.close_search()

    made = []
    real = tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp", lambda **kw: made.append(real(**kw)) or made[-1])
    backend = Refusing(ServerConfig())
    with pytest.raises(StoreError, match="search index could not be built: syntax error"):
        backend.start()
    assert made and not Path(made[0]).exists() and backend.search_index is None
