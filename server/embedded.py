"""The embedded backend: the dumps loaded once into an on-disk Oxigraph store, queried by workers.

By default the dumps are parsed once into an in-memory store shared by the workers. With
`--store-dir` the store is also kept on disk with a manifest of the sha256 of every source file:
the next start with the same sources opens it as it is, without parsing anything, and serves at
once. A store is loaded into a fresh folder and only then moved into place, so a failed load
leaves no half-loaded store behind. The search index (peacegraph.search) is kept beside the
persisted store and reused while the manifest is the same: a fresh store gets its index from a
process that builds it from the dumps in memory while the store loads (server.search_builder),
or, failing that, from the workers once they answer. Without a store folder it is built the same
way, into a temporary folder, while the workers' store loads.
"""

from __future__ import annotations

import gc
import hashlib
import json
import shutil
import tempfile
import threading
from pathlib import Path

from peacegraph.errors import InputError, PeacegraphError, StoreError
from peacegraph.leftovers import claimed_temp_folder, remove_stale
from peacegraph.load import OX_FORMAT_NAMES, check_jsonld_file, guess_format, ox_format
from peacegraph.namespaces import PREFIXES
from peacegraph.paths import default_dist
from peacegraph.server import search_builder
from peacegraph.server.backend import SEARCH_INDEX_FILE, SEARCH_INDEX_TIMEOUT, Backend, QueryRequest, QueryResult
from peacegraph.server.pool import WorkerPool
from peacegraph.server.worker import LITERALS_FILE, bulk_load_file

MANIFEST = "peacegraph-store.json"
MANIFEST_VERSION = 2  # 2: the store folder holds the literals the store rewrites


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_manifest(sources: list[Path], union_default: bool) -> dict:
    files = []
    for path in sources:
        if not path.is_file():
            raise InputError("no such file (build the graph with `peacegraph build`, or name "
                             "files with --data)", file=str(path))
        files.append({"path": str(path.resolve()), "size": path.stat().st_size, "sha256": _sha256(path)})
    return {"version": MANIFEST_VERSION, "union_default_graph": union_default, "sources": files}


def index_fingerprint(manifest: dict) -> str:
    """What a search index built from the sources of `manifest` is marked with."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode("utf-8")).hexdigest()


def _parse_error(path: Path, exc: Exception) -> InputError:
    from peacegraph.server.worker import parse_error_message
    return InputError(f"cannot load {parse_error_message(path, exc)}")


def load_store(sources: list[Path], folder: Path) -> dict:
    """Load `sources` into a new store at `folder`, and beside it the quads whose literal the
    store rewrites (peacegraph.server.literals); return the graph names and triple count."""
    import pyoxigraph as ox

    from peacegraph.server.literals import DumpLiterals, rewritten_quads

    store = ox.Store(str(folder))
    try:
        for path in sources:
            fmt = ox_format(path)
            try:
                # bulk_load skips transactions; the whole folder is discarded if any file fails.
                bulk_load_file(store, path, fmt, path.resolve().as_uri())
            except (SyntaxError, ValueError) as exc:
                raise _parse_error(path, exc) from None
            except OSError as exc:
                raise _parse_error(path, exc) from None
        store.flush()
        DumpLiterals.save(rewritten_quads([(p, ox_format(p), p.resolve().as_uri()) for p in sources]),
                          folder.parent / LITERALS_FILE)
        graphs = sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))
        count = len(store)
    finally:
        del store
        gc.collect()
    return {"graphs": graphs, "triples": count}


def memory_settings(sources: list[Path]) -> list[list[str]]:
    return [[str(p.resolve()), OX_FORMAT_NAMES[guess_format(p)], p.resolve().as_uri()] for p in sources]


class EmbeddedBackend(Backend):
    """Oxigraph in worker processes. Without a store folder the dumps are parsed once into
    memory and every worker shares that copy; with `store_dir` the workers start on the
    persisted on-disk store at once and, when `config.memory` is set, move to an in-memory copy
    loaded in the background (join-heavy queries run several times faster from memory)."""

    name = "embedded"

    def __init__(self, config) -> None:
        super().__init__(config)
        self.pool: WorkerPool | None = None
        self.store_path: Path | None = None
        self.info: dict = {}
        self.reused = False
        self.mode = ""
        self._loader: threading.Thread | None = None

    def sources(self) -> list[Path]:
        if self.config.data:
            return list(self.config.data)
        return [(self.config.dist_dir or default_dist()) / "peacegraph.trig"]

    def _settings(self, **where) -> dict:
        return {**where, "union": self.config.union_default_graph,
                "prefixes": {k: str(v) for k, v in PREFIXES.items()}}

    def start(self) -> None:
        import pyoxigraph as ox


        sources = self.sources()
        for path in sources:
            if not path.is_file():
                raise InputError("no such file (build the graph with `peacegraph build`, or name "
                                 "files with --data)", file=str(path))
            if ox_format(path) == ox.RdfFormat.JSON_LD:
                # the engine would drop statements with invalid IRIs without a word
                check_jsonld_file(path)
        cfg = self.config
        pool_args = dict(warm=cfg.workers, max_workers=cfg.max_workers, idle_seconds=cfg.idle_seconds,
                         worker_memory=cfg.worker_memory_mb * 2**20)
        if cfg.store_dir is None:
            self.mode = "memory"
            # the index is built into a temporary folder beside the workers' store, not after it
            self._search_tmp = Path(tempfile.mkdtemp(prefix="peacegraph-search-"))
            index = self._search_tmp / SEARCH_INDEX_FILE
            settings = memory_settings(sources)
            builder = None
            try:
                builder = search_builder.start(settings, cfg.union_default_graph, index, "")
                self.pool = WorkerPool(self._settings(sources=settings), **pool_args)
                self.pool.start()
            except BaseException:
                if builder is not None:
                    search_builder.stop(builder)
                self.close()
                raise
            self.info = dict(self.pool.info)
            if builder is not None:
                search_builder.finish(builder, index, SEARCH_INDEX_TIMEOUT)
            self._start_search(index, "")
            self.search_reused = False
            return
        manifest = source_manifest(sources, cfg.union_default_graph)
        self.store_path = self._persistent_store(Path(cfg.store_dir), manifest)
        self.mode = "disk"
        self.pool = WorkerPool(self._settings(store=str(self.store_path)), **pool_args)
        self.pool.start()
        self._start_search(Path(cfg.store_dir) / SEARCH_INDEX_FILE, index_fingerprint(manifest))
        # an index that came with a store loaded just now was built with it, not kept from before
        self.search_reused = self.search_reused and self.reused
        if cfg.memory:
            self._loader = threading.Thread(target=self._move_to_memory, args=(sources,),
                                            name="peacegraph-memory-loader", daemon=True)
            self._loader.start()

    def _start_search(self, path: Path | None, fingerprint: str) -> None:
        try:
            self.open_search(path, fingerprint)
        except BaseException:
            self.close()
            raise

    def _move_to_memory(self, sources: list[Path]) -> None:
        pool = self.pool
        if pool is None:
            return
        try:
            pool.switch_to(self._settings(sources=memory_settings(sources),
                                          literals=str(Path(self.config.store_dir) / LITERALS_FILE)))
            self.mode = "memory"
        except (PeacegraphError, OSError):
            # The disk store keeps serving; nothing is lost but speed.
            self.mode = "disk"

    def wait_until_loaded(self, timeout: float | None = None) -> None:
        """Block until the background move to memory (if any) is finished."""
        if self._loader is not None:
            self._loader.join(timeout)

    def _persistent_store(self, folder: Path, manifest: dict) -> Path:
        remove_stale(folder.parent, (".peacegraph-store-", ".peacegraph-old-"))
        recorded = folder / MANIFEST
        if recorded.is_file():
            try:
                previous = json.loads(recorded.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                previous = None
            if isinstance(previous, dict) and previous.get("sources") == manifest["sources"] \
                    and previous.get("version") == MANIFEST_VERSION \
                    and previous.get("union_default_graph") == manifest["union_default_graph"]:
                self.info = {"graphs": previous.get("graphs", []), "triples": previous.get("triples", 0)}
                self.reused = True
                return folder / "store"
        if folder.exists() and not recorded.is_file() and any(folder.iterdir()):
            raise StoreError(f"{folder} exists and is not a peacegraph store folder (no {MANIFEST}); "
                             "choose an empty or new folder for --store-dir")
        folder.parent.mkdir(parents=True, exist_ok=True)
        fresh, claim = claimed_temp_folder(folder.parent, ".peacegraph-store-")
        index = fresh / SEARCH_INDEX_FILE
        builder = None
        try:
            builder = search_builder.start(memory_settings(self.sources()), manifest["union_default_graph"],
                                           index, index_fingerprint(manifest))
            self.info = load_store(self.sources(), fresh / "store")
            if builder is not None:
                search_builder.finish(builder, index, SEARCH_INDEX_TIMEOUT)
            (fresh / MANIFEST).write_text(json.dumps({**manifest, **self.info}, indent=1),
                                          encoding="utf-8")
            claim.release()
            if folder.exists():
                old, old_claim = claimed_temp_folder(folder.parent, ".peacegraph-old-")
                folder.rename(old / "store")
                fresh.rename(folder)
                shutil.rmtree(old, ignore_errors=True)
                old_claim.release()
            else:
                fresh.rename(folder)
        except BaseException:
            if builder is not None:
                search_builder.stop(builder)
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        finally:
            claim.release()
        return folder / "store"

    def graph_names(self) -> list[str]:
        return list(self.info.get("graphs", []))

    def triple_count(self) -> int:
        return int(self.info.get("triples", 0))

    def query(self, request: QueryRequest) -> QueryResult:
        if self.pool is None:
            raise StoreError("the store is not open")
        return self.pool.run(request, self.config.wait_timeout)

    def stats(self) -> dict:
        out = {"backend": self.name, "mode": self.mode, "store": str(self.store_path or ""),
               "reused": self.reused, "triples": self.triple_count()}
        if self.pool is not None:
            out.update(self.pool.stats())
        return out

    def close(self) -> None:
        self.close_search()
        if self.pool is not None:
            self.pool.close()
            self.pool = None
