"""`peacegraph serve`: load the data, start the query workers, serve with waitress."""

from __future__ import annotations

import sys
import time

from peacegraph.errors import InputError
from peacegraph.server.config import ServerConfig

# mallopt's parameters (glibc malloc.h) and the values serve sets (see _tune_malloc)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
MMAP_THRESHOLD = 16 << 20
TRIM_THRESHOLD = 32 << 20


def _check(cfg: ServerConfig) -> None:
    if cfg.workers < 1:
        raise InputError("--workers must be at least 1")
    if cfg.threads is not None and cfg.threads < 1:
        raise InputError("--threads must be at least 1")
    if cfg.timeout <= 0:
        raise InputError("--timeout must be a positive number of seconds")
    if cfg.max_rows < 1:
        raise InputError("--max-rows must be at least 1")
    if cfg.max_result_bytes < 1024:
        raise InputError("--max-result-bytes must be at least 1024")
    if cfg.worker_memory_mb < 64:
        raise InputError("--worker-memory must be at least 64 (MB)")
    if not 0 <= cfg.port <= 65535:
        raise InputError(f"--port {cfg.port} is not a TCP port")


def _tune_malloc() -> None:
    """glibc's malloc, set for a server that moves answers of up to a few MB between sockets.

    Each HTTP thread would get a malloc arena of its own and keep what a large request used in
    it: two arenas keep the server's memory flat under concurrent large requests. A buffer over
    glibc's mmap threshold (128 KB at first) is mapped fresh and unmapped again each time, so
    the kernel would fault in and zero every page of an answer two or three times a request
    (half of the HTTP process's system time). Answers are at most --max-result-bytes (8 MB by
    default): below MMAP_THRESHOLD they come from the heap, and up to TRIM_THRESHOLD of free
    heap stays with the process for the next one."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_ARENA_MAX, 2)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    except (OSError, AttributeError):
        pass


def serve(cfg: ServerConfig, ready=None) -> None:
    """Serve until SIGTERM or SIGINT, then finish the requests in flight (up to the grace
    period) and stop. `ready(url)` is called once the socket listens."""
    from peacegraph.server.http_server import HttpServer

    _tune_malloc()

    from peacegraph.server.app import close_app, create_app

    started = time.monotonic()
    app = create_app(cfg)
    try:
        server = HttpServer(app, host=cfg.host, port=cfg.port, threads=cfg.threads,
                            connection_limit=cfg.connection_limit,
                            channel_timeout=cfg.channel_timeout,
                            request_timeout=cfg.request_timeout, per_client=cfg.per_client,
                            max_body=cfg.max_body + 1)
    except OSError as exc:
        close_app(app)
        raise InputError(f"cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc}") from None
    port = server.effective_port
    # the public IRIs of the endpoint follow the port actually bound (--port 0 picks one)
    cfg.port = port
    url = f"http://{cfg.host}:{port}/"
    if not cfg.quiet:
        stats = app.extensions["peacegraph"].backend.stats()
        how = "reused store" if stats.get("reused") else "loaded"
        print(f"peacegraph serve: {how} {stats.get('triples', '?')} triples in "
              f"{time.monotonic() - started:.1f} s; SPARQL endpoint at {url}sparql", file=sys.stderr, flush=True)
    if ready is not None:
        ready(url)
    try:
        server.serve_until_stopped(grace=cfg.shutdown_grace)
    finally:
        server.close()
        close_app(app)


def cli_serve(args) -> int:
    cfg = ServerConfig.from_args(args)
    _check(cfg)
    if not cfg.data and cfg.store_url is None:
        # the build of the shipped graph, made first when it is missing (e.g. a wheel run outside
        # a checkout); a build older than its sources is served with a warning
        from peacegraph.build import BuildConfig
        from peacegraph.freshness import ensure_built
        ensure_built(BuildConfig.defaults(out=cfg.dist_dir), rebuild_stale=False, quiet=True)
    serve(cfg)
    return 0
