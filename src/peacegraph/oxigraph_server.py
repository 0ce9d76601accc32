"""Oxigraph's own server (the `oxigraph` command of the PyPI package `oxigraph`) as a child
process on 127.0.0.1: the benchmark's reference endpoint and the remote store of the tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peacegraph.errors import InputError, StoreError


def oxigraph_executable() -> str:
    """The `oxigraph` command of this environment (PyPI package `oxigraph`)."""
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if not found:
        raise InputError("the `oxigraph` command is not installed (pip install oxigraph)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oxigraph_load(location: Path, files: list[Path]) -> float:
    """Load dumps into an on-disk Oxigraph store with `oxigraph load`; returns seconds taken."""
    started = time.perf_counter()
    done = subprocess.run([oxigraph_executable(), "load", "--location", str(location),
                           "--file", *map(str, files)], capture_output=True, text=True)
    if done.returncode != 0:
        raise StoreError(f"oxigraph load failed: {done.stderr.strip()[-300:]}")
    return time.perf_counter() - started


class OxigraphServer:
    """`oxigraph serve` on 127.0.0.1 for the lifetime of a `with` block.

    `.store_url` is its Graph Store Protocol endpoint, `.query_url` its SPARQL endpoint.
    """

    def __init__(self, location: Path | None = None, *, read_only: bool = False,
                 union_default_graph: bool = False, port: int | None = None,
                 timeout_s: float | None = None):
        self.location = location
        self.read_only = read_only
        self.union_default_graph = union_default_graph
        self.timeout_s = timeout_s
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{self.port}"
        self.store_url = self.base + "/store"
        self.query_url = self.base + "/query"

    def start(self, timeout: float = 30.0) -> OxigraphServer:
        cmd = [oxigraph_executable(), "serve-read-only" if self.read_only else "serve",
               "--bind", f"127.0.0.1:{self.port}"]
        if self.location is not None:
            cmd += ["--location", str(self.location)]
        if self.union_default_graph:
            cmd.append("--union-default-graph")
        if self.timeout_s is not None:
            cmd += ["--timeout-s", str(max(1, round(self.timeout_s)))]
        # a file, not a pipe: a server that logs must never block on a full pipe
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode("utf-8", "replace").strip()
                self.stop()
                raise StoreError(f"oxigraph serve exited: {err[-300:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise StoreError(f"oxigraph serve did not listen on port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        self.process = None

    def __enter__(self) -> OxigraphServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------------------- memory
