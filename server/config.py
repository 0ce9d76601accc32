"""The settings of the server, one dataclass (`peacegraph serve` options map onto its fields), and
the backend they ask for."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from peacegraph.namespaces import BASE
from peacegraph.server.backend import Backend
from peacegraph.server.embedded import EmbeddedBackend
from peacegraph.server.remote import RemoteBackend


@dataclass
class ServerConfig:
    # what to serve
    data: list[Path] = field(default_factory=list)   # RDF files; empty means dist/peacegraph.trig
    dist_dir: Path | None = None                      # dumps listed at /download/ (default dist/)
    store_dir: Path | None = None                     # persisted embedded store, reused when sources match
    store_url: str | None = None                      # remote SPARQL 1.1 endpoint instead of the embedded store
    store_timeout: float = 30.0                       # seconds a remote store may take to answer at start
    base: str = BASE                                  # IRI base of the data; paths after it map to routes
    union_default_graph: bool = True                  # default graph = union of all graphs
    memory: bool = True                               # with store_dir: move to an in-memory copy once loaded
    # how to serve
    host: str = "127.0.0.1"
    port: int = 5000
    public_url: str | None = None                     # sd:endpoint is public_url + "sparql"
    threads: int = 16                                 # HTTP threads of the WSGI server
    connection_limit: int = 1000                      # open connections the WSGI server accepts
    channel_timeout: int = 60                         # seconds an idle connection is kept
    request_timeout: float = 15.0                     # seconds a request (headers and body) may take to arrive
    per_client: int = 64                              # open connections one client address may hold
    # limits
    workers: int = 2                                  # warm query worker processes
    max_workers: int = 12                             # workers at most (slow queries get extra ones)
    idle_seconds: float = 30.0                        # extra workers idle this long are retired
    worker_memory_mb: int = 512                       # memory a worker may grow by (over what it starts with)
    timeout: float = 10.0                             # seconds per query
    queue_timeout: float | None = None                # seconds to wait for a free worker (default: timeout)
    max_rows: int = 10_000                            # rows (or triples) per result
    max_result_bytes: int = 8 * 2**20                 # bytes of a serialized result
    max_query_length: int = 32_768                    # characters of query text
    max_body: int = 100_000                           # bytes of request body
    quiet: bool = False

    def __post_init__(self) -> None:
        self.data = [Path(p) for p in self.data]
        if not self.base.endswith(("/", "#")):
            self.base += "/"
        if self.max_workers < self.workers:
            self.max_workers = self.workers

    @property
    def shutdown_grace(self) -> float:
        """Seconds a stopping server gives the queries in flight: enough for any to finish."""
        return self.wait_timeout + self.timeout + 2.0

    @property
    def wait_timeout(self) -> float:
        return self.timeout if self.queue_timeout is None else self.queue_timeout

    @classmethod
    def from_args(cls, args) -> ServerConfig:
        """From the `peacegraph serve` arguments; options left out keep the defaults above."""
        cfg = cls(host=args.host, port=args.port, data=list(args.data or []),
                  store_dir=args.store_dir, store_url=args.store, quiet=args.quiet)
        if args.base:
            cfg.base = args.base if args.base.endswith(("/", "#")) else args.base + "/"
        if args.public_url:
            cfg.public_url = args.public_url
        for name in ("workers", "threads", "timeout", "max_rows", "max_result_bytes", "worker_memory_mb"):
            value = getattr(args, name, None)
            if value is not None:
                setattr(cfg, name, value)
        if args.workers is not None:
            cfg.max_workers = max(cfg.max_workers, cfg.workers)
        return cfg


def open_backend(config: ServerConfig) -> Backend:
    """The backend a ServerConfig asks for (not started)."""
    if config.store_url:
        return RemoteBackend(config)
    return EmbeddedBackend(config)
