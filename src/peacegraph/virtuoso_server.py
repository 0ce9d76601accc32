"""Virtuoso Open Source (`virtuoso-t`, Debian's package `virtuoso-opensource-7-bin`) as a child
process on 127.0.0.1: a store of its own, with its own virtuoso.ini in a temporary folder, for the
tests of `push` and `serve --store` against Virtuoso.

The service scripts of Debian's `virtuoso-opensource-7` (a system-wide database, a DBA password
asked through debconf) are not used: the server runs in the foreground on free ports, with a
fresh database whose DBA password is replaced by a random one before anything else is done.
"""

from __future__ import annotations

import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from peacegraph.errors import InputError, StoreError
from peacegraph.oxigraph_server import free_port

USER = "dba"
INITIAL_PASSWORD = "dba"       # the DBA password of a new Virtuoso database
DEFAULT_GRAPH = "urn:x-peacegraph:default-graph"   # where `push` puts a dump's default graph
INSTALL_HINT = "apt-get install virtuoso-opensource-7-bin, or `make virtuoso`"


def virtuoso_executables() -> tuple[str, str]:
    """The server `virtuoso-t` and its SQL client `isql-vt`."""
    server, client = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if not server or not client:
        raise InputError(f"Virtuoso is not installed ({INSTALL_HINT})")
    return server, client


def virtuoso_ini(folder: Path, sql_port: int, http_port: int) -> str:
    """The virtuoso.ini of a store in `folder` listening on 127.0.0.1 only."""
    ini: dict[str, dict[str, str]] = {}
    ini["Database"] = {
        "DatabaseFile": str(folder / "virtuoso.db"), "ErrorLogFile": str(folder / "virtuoso.log"),
        "LockFile": str(folder / "virtuoso.lck"), "TransactionFile": str(folder / "virtuoso.trx"),
        "xa_persistent_file": str(folder / "virtuoso.pxa"), "ErrorLogLevel": "7", "FileExtend": "200",
        "MaxCheckpointRemap": "2000", "Striping": "0", "TempStorage": "TempDatabase"}
    ini["TempDatabase"] = {
        "DatabaseFile": str(folder / "virtuoso-temp.db"), "TransactionFile": str(folder / "virtuoso-temp.trx"),
        "MaxCheckpointRemap": "2000", "Striping": "0"}
    ini["Parameters"] = {
        "ServerPort": f"127.0.0.1:{sql_port}", "DisableUnixSocket": "1", "DisableTcpSocket": "0",
        "MaxClientConnections": "10", "CheckpointInterval": "60", "CaseMode": "2", "AllowOSCalls": "0",
        "DirsAllowed": ".", "NumberOfBuffers": "4000", "MaxDirtyBuffers": "3000", "ThreadsPerQuery": "2",
        "AsyncQueueMaxThreads": "4", "MaxQueryMem": "256M",
        # ORDER BY with a LIMIT above this is an error (the pages ask for up to 20,000 rows)
        "MaxSortedTopRows": "10000000"}
    ini["HTTPServer"] = {
        "ServerPort": f"127.0.0.1:{http_port}", "ServerRoot": str(folder), "ServerThreads": "10",
        "MaxClientConnections": "10", "MaxKeepAlives": "10", "KeepAliveTimeout": "10", "Charset": "UTF-8",
        "EnabledDavVSP": "0", "HTTPProxyEnabled": "0"}
    # Virtuoso cuts a result at ResultSetMaxRows, and may return what it has at MaxQueryExecutionTime,
    # both without an error: the row and time limits are the peacegraph server's.
    # Its graph store refuses `PUT ?default` unless the endpoint names a graph for the default one.
    ini["SPARQL"] = {"ResultSetMaxRows": "10000000", "MaxQueryExecutionTime": "0",
                     "MaxQueryCostEstimationTime": "0", "DefaultGraph": DEFAULT_GRAPH}
    lines = []
    for section, entries in ini.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in entries.items())
        lines.append("")
    return "\n".join(lines)


class VirtuosoServer:
    """`virtuoso-t` on 127.0.0.1 for the lifetime of a `with` block, its database in a temporary
    folder removed afterwards.

    `.store_url` is its Graph Store Protocol endpoint (Digest authentication as `.user` with
    `.password`), `.query_url` its SPARQL endpoint; `.version` the server's version line.
    """

    def __init__(self, *, sql_port: int | None = None, http_port: int | None = None):
        self.sql_port = sql_port or free_port()
        self.http_port = http_port or free_port()
        self.user = USER
        self.password = secrets.token_hex(12)
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.query_url = self.base + "/sparql"
        self.store_url = self.base + "/sparql-graph-crud-auth"
        self.version = ""
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> VirtuosoServer:
        server, client = virtuoso_executables()
        self.folder = Path(tempfile.mkdtemp(prefix="peacegraph-virtuoso-"))
        ini = self.folder / "virtuoso.ini"
        ini.write_text(virtuoso_ini(self.folder, self.sql_port, self.http_port), encoding="utf-8")
        # a file, not a pipe: a server that logs must never block on a full pipe
        self._out = open(self.folder / "console.log", "wb")
        self.process = subprocess.Popen([server, "+foreground", "+configfile", str(ini)], cwd=self.folder,
                                        stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT)
        try:
            self._wait(timeout)
            self._set_password(client, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _log(self) -> str:
        texts = []
        for name in ("console.log", "virtuoso.log"):
            path = self.folder / name if self.folder else None
            if path is not None and path.is_file():
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(texts)

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = [self.sql_port, self.http_port]
        while waiting:
            if self.process.poll() is not None:
                lines = [line for line in self._log().splitlines() if line.strip()]
                raise StoreError(f"virtuoso-t exited: {' / '.join(lines[-3:])[-300:]}")
            if time.monotonic() > deadline:
                raise StoreError(f"virtuoso-t did not listen on ports {self.sql_port} and {self.http_port} "
                                 f"within {timeout:.0f} s")
            try:
                with socket.create_connection(("127.0.0.1", waiting[0]), timeout=0.5):
                    waiting.pop(0)
            except OSError:
                time.sleep(0.1)
        found = re.search(r"Version (\S+)", self._log())
        self.version = found.group(1) if found else ""

    def _set_password(self, client: str, timeout: float) -> None:
        # The new password is hexadecimal, so it needs no quoting in the SQL statement.
        statement = f"USER_SET_PASSWORD('{USER}', '{self.password}');"
        done = subprocess.run([client, f"127.0.0.1:{self.sql_port}", USER, INITIAL_PASSWORD,
                               f"exec={statement}"], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0 or "Error" in done.stdout + done.stderr:
            raise StoreError(f"isql-vt could not set the DBA password: {(done.stdout + done.stderr).strip()[-300:]}")

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()   # Virtuoso checkpoints and exits on SIGTERM
                try:
                    self.process.wait(30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10)
            self.process = None
            self._out.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> VirtuosoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
