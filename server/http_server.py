"""The HTTP server of `peacegraph serve`: waitress, with what it needs to face clients directly.

waitress keeps a connection for as long as bytes keep coming and stops accepting at its
connection limit, so a few clients that send their headers slowly (slowloris) can hold every
connection and deny service to everyone else. Three rules keep the server answering:

- a per-client limit: one address holds at most `per_client` connections; a new one beyond that
  replaces the longest-waiting connection of that address that is not being answered, or is
  closed at once if all of them are;
- a request deadline: the request line, headers and body must arrive within `request_timeout`
  seconds of their first byte, and a new connection must start a request within that time;
- shedding: at the connection limit, connections that are not being answered (stalled requests,
  idle keep-alive connections) are closed, oldest first, to make room for new ones.

`serve_until_stopped` runs the server until SIGTERM or SIGINT, then drains: it stops accepting,
closes idle connections, lets the requests in flight finish (up to a grace period) and returns.
"""

from __future__ import annotations

import signal
import socket
import time

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

SHED_SHARE = 0.1          # share of the connection limit closed at a time when it is reached
SHED_EVERY = 0.5          # seconds between two rounds of shedding
# Bytes of an answer the kernel may hold for a client (it doubles what is asked). waitress sends
# at most the socket's send buffer per call, and a TCP socket starts at 16 KB: an 800 KB answer
# took 50 rounds through waitress's buffers, a third of the HTTP process's time per query.
SEND_BUFFER = 1 << 20


def _host(addr) -> str:
    return str(addr[0]) if isinstance(addr, tuple) and addr else ""


class _Channel(HTTPChannel):
    counted_host: str | None = None      # the client address while it counts against its limit

    def __init__(self, server, sock, addr, adj, map=None):
        super().__init__(server, sock, addr, adj, map)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            self.sendbuf_len = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        except OSError:
            pass
        self.request_started: float | None = None   # monotonic time of the first byte of a request
        self.answered = False                        # a request has been completed on it
        self.counted_host = _host(addr)
        server.guard.clients.setdefault(self.counted_host, set()).add(self)

    def received(self, data):
        now = time.monotonic()
        result = super().received(data)
        if self.request is None:
            self.request_started = None
        elif self.request_started is None:
            self.request_started = now
        if self.requests:
            self.answered = True
        return result

    def del_channel(self, map=None):
        host, self.counted_host = self.counted_host, None
        if host is not None:
            clients = self.server.guard.clients
            mine = clients.get(host, set())
            mine.discard(self)
            if not mine:
                clients.pop(host, None)
        super().del_channel(map)

    def stalled_since(self) -> float | None:
        """When this connection started to wait for the client, if it is not being answered."""
        if self.requests or self.total_outbufs_len or self.will_close:
            return None
        if self.request_started is not None:
            return self.request_started
        return self.idle_since()

    def idle_since(self) -> float:
        # waitress keeps wall-clock times; convert to the monotonic clock
        return time.monotonic() - max(0.0, time.time() - self.last_activity)


class _Guard:
    """What the listeners share: the settings, and the open connections per client address."""

    def __init__(self, request_timeout: float, per_client: int, connection_limit: int):
        self.request_timeout = request_timeout
        self.per_client = per_client
        self.connection_limit = connection_limit
        self.clients: dict[str, set] = {}
        self.refused = 0
        self.expired = 0
        self.shed = 0
        self.next_shed = 0.0


class _Listener(TcpWSGIServer):
    channel_class = _Channel

    def __init__(self, *args, guard: _Guard, **kwargs):
        self.guard = guard
        super().__init__(*args, **kwargs)

    def accept(self):
        pair = super().accept()
        if pair is None:
            return None
        conn, addr = pair
        mine = [c for c in self.guard.clients.get(_host(addr), ()) if not c.will_close]
        if len(mine) >= self.guard.per_client:
            stalled = [(since, id(c), c) for c in mine if (since := c.stalled_since()) is not None]
            if not stalled:
                self.guard.refused += 1
                conn.close()
                return None
            min(stalled)[2].will_close = True
            self.guard.shed += 1
        return pair

    def readable(self):
        if self.accepting and len(self._map) >= self.adj.connection_limit:
            self._shed()
        return super().readable()

    def _channels(self):
        return [c for c in list(self._map.values()) if isinstance(c, _Channel)]

    def _shed(self) -> None:
        now = time.monotonic()
        if now < self.guard.next_shed:
            return
        self.guard.next_shed = now + SHED_EVERY
        stalled = sorted((since, id(c), c) for c in self._channels()
                         if (since := c.stalled_since()) is not None)
        for _, _, channel in stalled[:max(1, int(self.adj.connection_limit * SHED_SHARE))]:
            channel.will_close = True
            self.guard.shed += 1

    def maintenance(self, now):
        super().maintenance(now)
        mono = time.monotonic()
        limit = self.guard.request_timeout
        for channel in self._channels():
            if channel.requests or channel.will_close:
                continue
            started = channel.request_started
            if started is None and not channel.answered:
                started = channel.idle_since()           # a new connection that sent nothing yet
            if started is not None and mono - started > limit:
                channel.will_close = True
                self.guard.expired += 1


class HttpServer:
    """One or more listening sockets (a host name can stand for several addresses) served by
    one asyncore loop and one pool of HTTP threads."""

    def __init__(self, app, *, host: str, port: int, threads: int, connection_limit: int,
                 channel_timeout: int, request_timeout: float, per_client: int, max_body: int):
        self.adj = Adjustments(host=host, port=port, threads=threads,
                               connection_limit=connection_limit, channel_timeout=channel_timeout,
                               cleanup_interval=1, ident="peacegraph",
                               max_request_body_size=max_body)
        self.map: dict = {}
        self.dispatcher = ThreadedTaskDispatcher()
        self.dispatcher.set_thread_count(self.adj.threads)
        self.guard = _Guard(request_timeout, per_client, connection_limit)
        self.listeners: list[_Listener] = []
        try:
            for sockinfo in self.adj.listen:
                self.listeners.append(_Listener(app, self.map, dispatcher=self.dispatcher,
                                                adj=self.adj, sockinfo=sockinfo, guard=self.guard))
        except BaseException:
            self.close()
            raise
        self.effective_port = self.listeners[0].effective_port
        self._stopping = False

    def _connections(self) -> list[_Channel]:
        return [c for c in list(self.map.values()) if isinstance(c, _Channel)]

    def serve_until_stopped(self, grace: float) -> None:
        """Serve until SIGTERM or SIGINT; then drain for at most `grace` seconds."""
        def stop(_signum, _frame):
            self._stopping = True
            self.listeners[0].pull_trigger()             # wake the loop now

        previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self._stopping:
                wasyncore.loop(timeout=self.adj.asyncore_loop_timeout, map=self.map,
                               use_poll=self.adj.asyncore_use_poll, count=1)
            self._drain(grace)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _drain(self, grace: float) -> None:
        for listener in self.listeners:
            listener.accepting = False
            wasyncore.dispatcher.close(listener)         # the trigger stays: it wakes the loop
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            open_ = self._connections()
            if not open_:
                break
            for channel in open_:
                if not channel.requests and not channel.will_close:
                    # answered (or never asked): close once what is written has been sent
                    if channel.total_outbufs_len:
                        channel.close_when_flushed = True
                    else:
                        channel.will_close = True
            wasyncore.loop(timeout=0.1, map=self.map, use_poll=self.adj.asyncore_use_poll, count=1)

    def close(self) -> None:
        self.dispatcher.shutdown(timeout=1)
        for listener in self.listeners:
            try:
                listener.trigger.close()
            except OSError:
                pass
        wasyncore.close_all(self.map)
