"""Helpers of the server tests: the real server in its own process, HTTP calls, a listener."""
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from listener import Listener  # noqa: F401  (re-exported for the server tests)

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
SMALL = FIXTURES / "small.trig"
BASE = "https://w3id.org/peacegraph/"
GRAPHS = [BASE + "graph/" + g for g in ("asserted", "inferred", "ontology", "sources")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The real server in its own process on 127.0.0.1."""

    def __init__(self, **config):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.endpoint = self.url + "sparql"
        cfg = {"host": "127.0.0.1", "port": self.port, "data": [str(SMALL)], "quiet": True, **config}
        cfg["data"] = [str(p) for p in cfg["data"]]
        if cfg.get("store_dir") is not None:
            cfg["store_dir"] = str(cfg["store_dir"])
        self.proc = subprocess.Popen([sys.executable, str(HERE / "serverproc.py"), json.dumps(cfg)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.proc.stderr.read().decode(errors="replace"))
            try:
                self.status()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("server did not start") from None
                time.sleep(0.1)

    def status(self) -> dict:
        with urllib.request.urlopen(self.url + "status", timeout=5) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stderr:
            self.proc.stderr.close()


PERSON = BASE + "ontology#Person"
KUSHNER = BASE + "id/jared-kushner"
PERSON_Q = f"SELECT ?s WHERE {{ ?s a <{PERSON}> }}"
SLOW_Q = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
# 40 KB: overflows Oxigraph's stack at once (the 18 KB one takes seconds; see test_attacks).
BOMB_Q = "SELECT * WHERE { BIND(" + "+".join(["1"] * 20000) + " AS ?x) }"


def http(url, data=None, headers=None, method=None, timeout=30):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def ask_person(live):
    status, _, body = http(live.endpoint + "?" + urlencode({"query": PERSON_Q}),
                           headers={"Accept": "application/sparql-results+json"})
    assert status == 200
    return [b["s"]["value"] for b in json.loads(body)["results"]["bindings"]]




BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


def html_page(client, path: str) -> str:
    """The HTML of a page through a Flask test client, which must answer 200 with text/html."""
    r = client.get(path, headers={"Accept": BROWSER})
    assert r.status_code == 200, (path, r.status_code)
    assert r.headers["Content-Type"].startswith("text/html")
    return r.data.decode()
