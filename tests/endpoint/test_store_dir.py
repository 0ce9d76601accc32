"""--store-dir: the store is loaded once, reused while the sources are unchanged, never left half-built."""
import json
import shutil
import subprocess
import sys
import threading

import pytest

from endpoint.serverkit import SMALL
from peacegraph import search
from peacegraph.errors import InputError, StoreError
from peacegraph.server import search_builder
from peacegraph.server.backend import SEARCH_INDEX_FILE, QueryRequest
from peacegraph.server.config import ServerConfig
from peacegraph.server.embedded import MANIFEST, EmbeddedBackend

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def count(backend) -> int:
    res = backend.query(QueryRequest(COUNT, "SELECT", "python"))
    return int(res.rows[0][0].value)


def start(data, store_dir):
    b = EmbeddedBackend(ServerConfig(data=[data], store_dir=store_dir, workers=1, max_workers=2))
    b.start()
    return b


def test_store_is_reused_while_sources_match_and_rebuilt_when_they_change(tmp_path):
    data = tmp_path / "data.trig"
    shutil.copy(SMALL, data)
    folder = tmp_path / "store"
    b = start(data, folder)
    try:
        assert not b.reused and count(b) == 148
    finally:
        b.close()
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["sources"][0]["sha256"] and manifest["triples"] == 148
    b = start(data, folder)
    try:
        assert b.reused and count(b) == 148 and len(b.graph_names()) == 4
    finally:
        b.close()
    with data.open("a") as fh:
        fh.write("<http://x/a> <http://x/b> <http://x/c> .\n")
    b = start(data, folder)
    try:
        assert not b.reused and count(b) == 149
    finally:
        b.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.trig", "store"]


def test_a_bad_source_leaves_the_previous_store_intact(tmp_path):
    data = tmp_path / "data.trig"
    shutil.copy(SMALL, data)
    folder = tmp_path / "store"
    start(data, folder).close()
    before = (folder / MANIFEST).read_text()
    data.write_text("<http://x/a> <http://x/b> .\n")
    with pytest.raises(InputError) as info:
        start(data, folder)
    # file:line:column of the parser's complaint, on one line ("." is the 27th character)
    message = str(info.value)
    assert message.startswith(f"cannot load {data}:1:27: ") and "\n" not in message
    assert (folder / MANIFEST).read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.trig", "store"]


def test_a_folder_that_is_not_a_store_is_refused(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep")
    with pytest.raises(StoreError, match="not a peacegraph store"):
        start(SMALL, folder)
    assert (folder / "precious.txt").read_text() == "keep"


def test_missing_data_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        start(tmp_path / "nothing.trig", None)


@pytest.mark.parametrize("name, body, fmt_ok", [
    ("x.ttl", "<http://x/a> <http://x/b> <http://x/c> .", True),
    ("x.nt", "<http://x/a> <http://x/b> <http://x/c> .\n", True),
    ("x.nq", "<http://x/a> <http://x/b> <http://x/c> <http://x/g> .\n", True),
    ("x.jsonld", json.dumps({"@id": "http://x/a", "http://x/b": {"@id": "http://x/c"}}), True),
    ("x.xyz", "whatever", False),
])
def test_data_formats(tmp_path, name, body, fmt_ok):
    path = tmp_path / name
    path.write_text(body)
    if not fmt_ok:
        with pytest.raises(InputError, match="RDF format"):
            start(path, None)
        return
    b = start(path, None)
    try:
        assert count(b) == 1
        if name == "x.nq":
            assert b.graph_names() == ["http://x/g"]
    finally:
        b.close()


def test_jsonld_remote_context_is_not_fetched(tmp_path):
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    seen = []

    def watch():
        try:
            conn, _ = listener.accept()
            seen.append(conn)
        except OSError:
            pass
    t = threading.Thread(target=watch)
    t.start()
    port = listener.getsockname()[1]
    path = tmp_path / "remote.jsonld"
    path.write_text(json.dumps({"@context": f"http://127.0.0.1:{port}/ctx.jsonld", "@id": "http://x/a", "b": "c"}))
    try:
        with pytest.raises(InputError):
            start(path, None)
    finally:
        t.join()
        listener.close()
    assert seen == []


def test_store_dir_serves_from_disk_at_once_then_moves_to_memory(tmp_path, monkeypatch):
    data = tmp_path / "data.trig"
    shutil.copy(SMALL, data)
    start(data, tmp_path / "store").close()
    # the move to memory waits until the disk store has answered, so the order is certain
    answered = threading.Event()
    move = EmbeddedBackend._move_to_memory

    def after_first_answer(self, sources):
        answered.wait(60)
        move(self, sources)
    monkeypatch.setattr(EmbeddedBackend, "_move_to_memory", after_first_answer)
    b = start(data, tmp_path / "store")
    try:
        assert b.reused and b.stats()["mode"] == "disk"
        assert count(b) == 148
        answered.set()
        b.wait_until_loaded(60)
        assert b.stats()["mode"] == "memory"
        assert count(b) == 148 and b.stats()["workers"] >= 1
    finally:
        b.close()


def test_bad_file_in_memory_mode_is_one_line_error_naming_it(tmp_path):
    data = tmp_path / "bad.ttl"
    data.write_text("@prefix x: <http://x/> .\nx:a x:b .\n")
    with pytest.raises(InputError) as info:
        start(data, None)
    message = str(info.value)
    assert str(data) in message and "\n" not in message


def test_idle_workers_holding_too_much_memory_are_replaced():
    import time
    b = EmbeddedBackend(ServerConfig(data=[SMALL], workers=1, max_workers=2, worker_memory_mb=1))
    b.start()
    try:
        first = set(b.stats()["pids"])
        time.sleep(2.5)
        stats = b.stats()
        assert stats["recycled"] >= 1 and not (set(stats["pids"]) & first)
        assert count(b) == 148
    finally:
        b.close()
    b = EmbeddedBackend(ServerConfig(data=[SMALL], workers=1, max_workers=2))
    b.start()
    try:
        time.sleep(1.5)
        assert b.stats()["recycled"] == 0
    finally:
        b.close()


KUSHNER = "https://w3id.org/peacegraph/id/jared-kushner"


def _no_index_query_for_the_workers(monkeypatch):
    """Make the workers refuse the index query, so that an index can only come from the builder."""
    query = EmbeddedBackend.query

    def refusing(self, request):
        if request.text == search.index_query():
            raise StoreError("the workers were asked for the index rows")
        return query(self, request)
    monkeypatch.setattr(EmbeddedBackend, "query", refusing)


def test_a_fresh_store_comes_with_the_search_index_built_while_it_loaded(tmp_path, monkeypatch):
    data = tmp_path / "data.trig"
    shutil.copy(SMALL, data)
    folder = tmp_path / "store"
    _no_index_query_for_the_workers(monkeypatch)
    b = start(data, folder)
    try:
        assert not b.reused and not b.search_reused      # built with this store, not kept from before
        assert b.search("kushner")[0].iri == KUSHNER
    finally:
        b.close()
    assert sorted(p.name for p in folder.iterdir()) == ["literals.nq", MANIFEST, SEARCH_INDEX_FILE, "store"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.trig", "store"]


def test_without_the_builder_the_workers_build_the_index(tmp_path, monkeypatch):
    data = tmp_path / "data.trig"
    shutil.copy(SMALL, data)
    folder = tmp_path / "store"
    started = []

    def failing(sources, union, target, fingerprint):
        # a builder that leaves a half-written file behind, as one stopped mid-way would
        (target.parent / ".search-half.tmp").write_bytes(b"half")
        child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        started.append(child)
        return child
    monkeypatch.setattr(search_builder, "start", failing)
    b = start(data, folder)
    try:
        assert started and started[0].returncode == 3
        assert not b.reused and not b.search_reused
        assert b.search("kushner")[0].iri == KUSHNER
    finally:
        b.close()
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_a_store_that_fails_to_load_stops_its_index_builder(tmp_path, monkeypatch):
    data = tmp_path / "data.trig"
    data.write_text("<http://x/a> <http://x/b> .\n")
    started = []
    start_builder = search_builder.start

    def recorded(*args):
        child = start_builder(*args)
        started.append(child)
        return child
    monkeypatch.setattr(search_builder, "start", recorded)
    with pytest.raises(InputError):
        start(data, tmp_path / "store")
    assert started and started[0].poll() is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.trig"]


def test_the_builder_writes_the_index_the_workers_would(tmp_path):
    from peacegraph.server.embedded import memory_settings

    data = tmp_path / "data.trig"
    shutil.copy(SMALL, data)
    child = search_builder.start(memory_settings([data]), True, tmp_path / "built.sqlite", "print")
    assert search_builder.finish(child, tmp_path / "built.sqlite", 120)
    assert search.index_is_current(tmp_path / "built.sqlite", "print")
    b = start(data, None)
    try:
        served = search.SearchIndex(tmp_path / "built.sqlite")
        try:
            for text in ("kushner", "kyiv", "army", "plan"):
                assert [h.to_dict() for h in served.search(text)] == [h.to_dict() for h in b.search(text)]
        finally:
            served.close()
    finally:
        b.close()


def test_a_builder_that_cannot_read_its_dumps_writes_nothing(tmp_path):
    target = tmp_path / "index" / "search.sqlite"
    child = search_builder.start([[str(tmp_path / "missing.trig"), "TRIG", None]], True, target, "x")
    assert not search_builder.finish(child, target, 120)
    assert not target.exists()


def test_the_move_to_memory_reads_the_literals_recorded_with_the_store(tmp_path):
    import pyoxigraph as ox

    from peacegraph.server.embedded import memory_settings
    from peacegraph.server.worker import load_memory_store

    data = tmp_path / "data.trig"
    shutil.copy(SMALL, data)
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    stored = ox.Triple(ox.NamedNode("http://x/a"), ox.NamedNode("http://x/b"), ox.Literal("1", datatype=integer))
    recorded = tmp_path / "literals.nq"
    recorded.write_text('<http://x/a> <http://x/b> "01"^^<http://www.w3.org/2001/XMLSchema#integer> <http://x/g> .\n')
    store, literals = load_memory_store(memory_settings([data]), str(recorded))
    assert len(store) == 148
    assert literals.triples([stored]) == [ox.Triple(stored.subject, stored.predicate,
                                                    ox.Literal("01", datatype=integer))]
    # without a record, the dumps are read for their literals
    _, parsed = load_memory_store(memory_settings([data]), str(tmp_path / "none.nq"))
    assert parsed.triples([stored]) == [stored]


def test_without_a_store_folder_the_index_is_built_while_the_workers_load(monkeypatch):
    _no_index_query_for_the_workers(monkeypatch)
    b = EmbeddedBackend(ServerConfig(data=[SMALL], workers=1, max_workers=2))
    b.start()
    try:
        assert not b.search_reused
        assert b.search("kushner")[0].iri == KUSHNER
        folder = b.search_index.path.parent
    finally:
        b.close()
    assert not folder.exists()


def test_data_that_fails_to_load_into_memory_stops_the_index_builder(tmp_path, monkeypatch):
    data = tmp_path / "bad.ttl"
    data.write_text("@prefix x: <http://x/> .\nx:a x:b .\n")
    started = []
    start_builder = search_builder.start

    def recorded(sources, union, target, fingerprint):
        started.append((start_builder(sources, union, target, fingerprint), target))
        return started[-1][0]
    monkeypatch.setattr(search_builder, "start", recorded)
    with pytest.raises(InputError):
        EmbeddedBackend(ServerConfig(data=[data], workers=1, max_workers=2)).start()
    child, target = started[0]
    assert child.poll() is not None and not target.parent.exists()
