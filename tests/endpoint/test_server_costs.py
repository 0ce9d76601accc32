"""What the HTTP process spends per query beyond the query: the buffers a large answer crosses
(from its worker, to the client), and the share of a CPU the memory checks of idle workers take."""
import json
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from waitress import wasyncore

from endpoint.serverkit import SMALL, LiveServer, http
from peacegraph.server import pool
from peacegraph.server.backend import QueryRequest
from peacegraph.server.config import ServerConfig
from peacegraph.server.embedded import EmbeddedBackend
from peacegraph.server.http_server import SEND_BUFFER, HttpServer


def _app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def test_a_connection_sends_a_large_answer_in_few_calls():
    server = HttpServer(_app, host="127.0.0.1", port=0, threads=1, connection_limit=10,
                        channel_timeout=10, request_timeout=5, per_client=5, max_body=1000)
    client = socket.create_connection(("127.0.0.1", server.effective_port), timeout=5)
    try:
        deadline = time.monotonic() + 5
        while not server._connections() and time.monotonic() < deadline:
            wasyncore.loop(timeout=0.05, map=server.map, count=1)
        (channel,) = server._connections()
        # waitress hands the socket at most sendbuf_len bytes per call: that is the buffer the
        # kernel really gave (twice what was asked, up to net.core.wmem_max), not TCP's 16 KB start
        given = channel.socket.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        ceiling = int(Path("/proc/sys/net/core/wmem_max").read_text())
        assert channel.sendbuf_len == given
        assert given >= min(SEND_BUFFER, ceiling)
    finally:
        client.close()
        server.close()


def test_memory_checks_of_idle_workers_keep_within_their_share_of_a_cpu(monkeypatch):
    checks = []
    took = 0.03
    real = pool.private_memory

    def slow_check(pid):
        checks.append(time.monotonic())
        time.sleep(took)            # as long as a worker sharing a large store takes to read
        return real(pid)

    monkeypatch.setattr(pool, "private_memory", slow_check)
    backend = EmbeddedBackend(ServerConfig(data=[SMALL], workers=3, max_workers=4))
    backend.start()
    stop = time.monotonic() + 2.5
    request = QueryRequest("ASK { ?s ?p ?o }", "ASK", "json", max_rows=10, timeout=10, max_bytes=1 << 20)

    def ask():
        while time.monotonic() < stop:
            backend.query(request)
            time.sleep(0.005)       # so that the workers that answer are idle now and then
    try:
        askers = [threading.Thread(target=ask) for _ in range(2)]
        for t in askers:
            t.start()
        for t in askers:
            t.join()
    finally:
        backend.close()
    # after a check of `took` seconds the next waits took / MEMORY_CHECK_SHARE (1.5 s here), where
    # each of the workers that answered used to be read every second, one after another
    gaps = [b - a for a, b in zip(checks, checks[1:], strict=False)]
    assert gaps and all(gap >= took / pool.MEMORY_CHECK_SHARE for gap in gaps), gaps


def test_a_worker_can_write_a_large_answer_without_waiting_for_the_server():
    backend = EmbeddedBackend(ServerConfig(data=[SMALL], workers=1, max_workers=2))
    backend.start()
    given = []
    try:
        for worker in list(backend.pool._idle):
            # the server's end of the socket pair; the worker's end is made the same way
            end = socket.socket(fileno=worker.conn.fileno())
            try:
                given.append(end.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
            finally:
                end.detach()        # the connection still owns its descriptor
    finally:
        backend.close()
    ceiling = int(Path("/proc/sys/net/core/wmem_max").read_text())
    assert given and all(size >= min(pool.PIPE_BUFFER, ceiling) for size in given), given


# a POST of every statement of the small fixture, repeated once per value: an answer that grows
# by about 47 KB a value
_POST_HEADERS = {"Content-Type": "application/x-www-form-urlencoded",
                 "Accept": "application/sparql-results+json"}


def _repeated_statements(times: int) -> str:
    values = " ".join(map(str, range(times)))
    return urlencode({"query": f"SELECT * WHERE {{ ?s ?p ?o VALUES ?n {{ {values} }} }}"})


def test_a_large_answer_reuses_the_memory_of_the_last_one():
    body, headers = _repeated_statements(20).encode(), _POST_HEADERS
    live = LiveServer(workers=1, max_workers=2)
    try:
        def faults() -> int:
            fields = Path(f"/proc/{live.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return int(fields[7])           # minflt: pages the kernel mapped in on first touch
        for _ in range(5):
            status, _, answer = http(live.endpoint, data=body, headers=headers)
        before = faults()
        for _ in range(20):
            http(live.endpoint, data=body, headers=headers)
        per_request = (faults() - before) / 20
    finally:
        live.stop()
    pages = len(answer) // 4096
    assert status == 200 and pages > 200, (status, len(answer))
    # with glibc's defaults each copy of the answer was mapped anew: two to three times its pages
    assert per_request < pages / 4, (per_request, pages)


def test_an_answer_over_a_megabyte_goes_to_the_client_without_a_file_on_the_way():
    form = _repeated_statements(40)
    body, headers = form.encode(), _POST_HEADERS
    live = LiveServer(workers=1, max_workers=2)
    try:
        def written() -> int:
            # wchar: bytes the process passed to write(2) and its kind, files among them; what
            # it sends on a socket is not counted
            for line in Path(f"/proc/{live.proc.pid}/io").read_text().splitlines():
                if line.startswith("wchar:"):
                    return int(line.split()[1])
            raise AssertionError("no wchar in /proc/PID/io")
        status, reply_headers, answer = http(live.endpoint, data=body, headers=headers)
        before = written()
        for _ in range(5):
            http(live.endpoint, data=body, headers=headers)
        per_request = (written() - before) / 5
        head = http(live.endpoint + "?" + form, headers={"Accept": headers["Accept"]}, method="HEAD")
    finally:
        live.stop()
    assert status == 200 and len(answer) > 1 << 20, (status, len(answer))
    assert head[0] == 200 and head[2] == b"" and int(head[1]["Content-Length"]) == len(answer), head[:2]
    assert int(reply_headers["Content-Length"]) == len(answer)
    assert len(json.loads(answer)["results"]["bindings"]) > 1000
    # handed to waitress as bytes, an answer over its 1 MB outbuf_overflow went to a temporary file
    assert per_request < len(answer) / 10, (per_request, len(answer))
