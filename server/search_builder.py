"""The search index of the served dumps, built in a process of its own while the store loads.

Run by the workers, the index query (peacegraph.search) would wait until their store had loaded
and send its 150,000 rows (at a million triples) across their pipe as pickled terms (2 s); on a
fresh `--store-dir` store, which is RocksDB on disk, it takes 8-9 s there against 2 s in memory.
So while the store loads (into RocksDB in the HTTP process, or into the memory of the
workers' zygote without `--store-dir`), a child process parses the same dumps into memory, runs
the index query there and writes the index: into the folder the persisted store is being loaded
into, so that it moves into place with the store, or into the server's temporary search folder.
The two run side by side: on two cores the first start at a million triples with `--store-dir`
took 17 s instead of 31 s (see the README's benchmark section).

The child is only a head start. If it fails, is stopped, or cannot start, the index is built by
the workers as before; if the load fails, the child is stopped and what it wrote removed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

# How a stopped build's temporary file is named (search.build_index writes through one).
TEMPORARY = ".search-*.tmp"
STOP_WAIT = 5.0


def start(sources: list[list[str]], union: bool, target: Path, fingerprint: str):
    """Start building the index of `sources` ([path, RdfFormat name, base IRI] each) into
    `target`, marked with `fingerprint`; the child process, or None if it could not start."""
    from peacegraph.server.allocator import engine_environment

    env, _ = engine_environment()
    spec = {"sources": sources, "union": union, "target": str(target), "fingerprint": fingerprint,
            "parent": os.getpid()}
    try:
        return subprocess.Popen([sys.executable, "-m", "peacegraph.server.search_builder", json.dumps(spec)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, close_fds=True, env=env)
    except OSError:
        return None


def finish(child, target: Path, timeout: float) -> bool:
    """Wait for the child for at most `timeout` seconds; whether it wrote the index. A child
    still running then is stopped, and a failed one's temporary file removed."""
    try:
        code = child.wait(timeout)
    except subprocess.TimeoutExpired:
        stop(child)
        code = None
    if code == 0 and Path(target).is_file():
        return True
    for leftover in Path(target).parent.glob(TEMPORARY):
        leftover.unlink(missing_ok=True)
    return False


def stop(child) -> None:
    """Stop the child (it removes its temporary file on the way out) and wait for it."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def build(spec: dict) -> None:
    """The child's work: the dumps in memory, the index query, the index."""
    from peacegraph.server.backend import search_index_request, write_search_index
    from peacegraph.server.worker import evaluate, memory_store

    result = evaluate(memory_store(spec["sources"]), search_index_request(), spec["union"])
    write_search_index(result, Path(spec["target"]), spec["fingerprint"])


def _stopped(_signum, _frame) -> None:
    # through the finally and except blocks of the build, so its temporary file is removed
    raise SystemExit(1)


def main(argv: list[str]) -> int:
    from peacegraph.server.worker import die_with_parent

    spec = json.loads(argv[0])
    die_with_parent(spec["parent"])
    # Ctrl-C is the server's; it stops this process with SIGTERM if it needs to
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stopped)
    try:
        build(spec)
    except Exception as exc:  # the server builds the index itself then: a line for whoever runs this by hand
        print(f"search index not built: {' '.join(str(exc).split()) or type(exc).__name__}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
