"""`peacegraph serve --store URL` as a child process for the tests of remote stores."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from peacegraph.oxigraph_server import free_port
from peacegraph.urlopener import direct_opener


@contextlib.contextmanager
def serving_store(store_url: str, timeout: float = 60.0):
    """Yields the base URL of `peacegraph serve --store store_url` once it answers `ASK { ?s a ?c }`
    with true over HTTP; stops the server afterwards."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "peacegraph.cli", "serve", "--store", store_url,
                             "--port", str(port), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        url = base + "/sparql?" + urllib.parse.urlencode({"query": "ASK { ?s a ?c }"})
        deadline = time.monotonic() + timeout
        while True:
            try:
                req = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
                with direct_opener().open(req, timeout=10) as r:
                    assert json.load(r)["boolean"] is True
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(20)
        proc.stderr.close()
