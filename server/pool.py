"""A pool of query worker processes (peacegraph.server.worker) with a per-query time limit.

Workers are forked by a zygote process that has the engine imported (and, in memory mode, the
data loaded), so a new worker is ready in milliseconds. `warm` workers are always kept; while
queries run the pool keeps a spare worker ready (up to `max_workers`), so fast queries still find
one while slow queries hold theirs, and a worker busy for more than SLOW_AFTER seconds runs at a
lower CPU priority. Extra workers idle for longer than `idle_seconds` are retired. A worker may
grow by `worker_memory` bytes of address space at most (an allocation over it fails, and only
that query with it); an idle worker holding more than half of that in private memory is replaced.
A query over its time limit has its worker killed (SIGKILL: the CPU comes back at once) and
replaced; a worker that dies during a query is replaced the same way, and only that query fails:
with a 400 when the query crashed the engine (Oxigraph aborts on a stack overflow), a 503 when
it ran out of memory or the worker was killed from outside. Workers never outlive the server:
each is killed by the kernel when the zygote ends, the zygote ends when the server's end of its
socket closes, and a worker also ends itself shortly after its query's time limit.
An idle worker found dead is replaced before any query is given to it.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection

from peacegraph.errors import InputError, PeacegraphError, QueryError, StoreError
from peacegraph.server.allocator import engine_environment
from peacegraph.server.backend import (
    EngineFault,
    QueryCrashed,
    QueryOutOfMemory,
    QueryRequest,
    QueryResult,
    QuerySyntaxError,
    QueryTimeout,
    ServerBusy,
)

# A query busy longer than SLOW_AFTER seconds has its worker reniced, so fast queries and fresh
# workers get the CPU first while slow ones use what is left until their time limit.
SLOW_AFTER = 1.0
SLOW_NICENESS = 5

# Seconds a retired zygote is kept for the queries its workers are still answering.
RETIRE_WAIT = 600.0

# Share of one CPU the memory checks of idle workers may take. The kernel walks a worker's page
# tables to split private from shared memory: about 10 ms for a worker sharing a 1M-triple store,
# so checking every worker every second took a tenth of a CPU from a busy server.
MEMORY_CHECK_SHARE = 0.02

# Bytes a worker's answer may have in flight to the server (the kernel doubles what is asked,
# up to net.core.wmem_max): an answer of a few hundred KB then crosses in one write, not in
# rounds of the default 208 KB that each wait for the server to read.
PIPE_BUFFER = 1 << 20

_POSITION = re.compile(r"error at (\d+):(\d+): (.*)", re.S)
# Oxigraph lists the characters it expected as Unicode ranges in brackets; a reader needs the words.
_CHAR_CLASS = re.compile(r"\[[^\]]*\]")
_PNAME_BEFORE = re.compile(r"([A-Za-z][\w.-]*)?:[\w.%-]*$")


def _reason(detail: str, text: str | None, line: int, column: int) -> str:
    """One readable line for Oxigraph's reason: an undeclared prefix by name, else the keywords
    that were expected (the character ranges left out)."""
    detail = " ".join(detail.split())
    before = ""
    if text is not None:
        lines = text.splitlines()
        if 0 < line <= len(lines):
            before = lines[line - 1][:max(column - 1, 0)]
    if "Prefix not found" in detail:
        m = _PNAME_BEFORE.search(before.rstrip())
        name = f"{m.group(1) or ''}:" if m else "a prefix"
        return f"undeclared prefix {name} (declare it with PREFIX {name} <...>)"
    words = [w.strip() for w in _CHAR_CLASS.sub("", detail.removeprefix("expected one of ")).split(",")]
    words = [w for w in words if w]
    if not words:
        return "unexpected character"
    shown = ", ".join(words[:8]) + (", ..." if len(words) > 8 else "")
    return f"expected {shown}" if detail.startswith("expected") else shown


def syntax_error(message: str, text: str | None = None) -> QuerySyntaxError:
    """Oxigraph's "error at L:C: text" as a one-line QuerySyntaxError with line and column."""
    m = _POSITION.search(message)
    if not m:
        return QuerySyntaxError("syntax error: " + " ".join(message.split()))
    line, column = int(m.group(1)), int(m.group(2))
    return QuerySyntaxError(f"syntax error at line {line}, column {column}: "
                            f"{_reason(m.group(3), text, line, column)}", line=line, column=column)


def private_memory(pid: int) -> int:
    """Bytes of memory a process does not share (with the zygote's store, among others)."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return total


class _ForkedProcess:
    """A worker forked by the zygote: not our child, so it is watched through its pid."""

    def __init__(self, pid: int):
        self.pid = pid

    @property
    def exitcode(self):
        return None if self.is_alive() else "unknown"

    def is_alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as fh:
                return fh.read().split(b") ", 1)[1][:1] != b"Z"
        except (OSError, IndexError):
            return True

    def kill(self) -> None:
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass

    def join(self, timeout=None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else 3600)
        while self.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)


class _Zygote:
    """The process that forks workers (peacegraph.server.worker.zygote_main). A thread reads what
    it says: the pid of each new worker, and how each worker ended."""

    def __init__(self, settings: dict, start_timeout: float):
        import json

        self.settings = settings
        env, self.allocator = engine_environment()
        self.control, child = socket.socketpair()
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "peacegraph.server.worker", "--zygote", str(child.fileno()),
                 json.dumps(settings)],
                pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, close_fds=True, env=env)
        finally:
            child.close()
        self.lock = threading.Lock()
        self.reader = self.control.makefile("rb")
        self.control.settimeout(start_timeout)
        try:
            line = self.reader.readline().decode("utf-8", "replace").strip()
        except OSError:
            line = ""
        if not line.startswith("ready"):
            self.close()
            if line.startswith("error "):
                raise InputError(f"cannot load the data: {line[6:]}")
            raise StoreError(f"the query engine process did not start (exit code {self.popen.returncode})")
        self.info = json.loads(line[5:].strip() or "{}")
        self.control.settimeout(None)
        self._pids: queue.Queue = queue.Queue()
        self._exits: dict[int, tuple[int, int, str]] = {}
        self._exited = threading.Condition()
        threading.Thread(target=self._listen, name="peacegraph-zygote-listener", daemon=True).start()

    def _listen(self) -> None:
        try:
            for raw in self.reader:
                line = raw.decode("ascii", "replace").split()
                if len(line) == 1 and line[0].isdigit():
                    self._pids.put(int(line[0]))
                elif len(line) == 5 and line[0] == "exit":
                    with self._exited:
                        self._exits[int(line[1])] = (int(line[2]), int(line[3]),
                                                     "" if line[4] == "-" else line[4])
                        while len(self._exits) > 1000:
                            self._exits.pop(next(iter(self._exits)))
                        self._exited.notify_all()
        except (OSError, ValueError):
            pass
        self._pids.put(None)

    def fork(self, fd: int, timeout: float) -> int:
        with self.lock:
            socket.send_fds(self.control, [b"w"], [fd])
            try:
                pid = self._pids.get(timeout=timeout)
            except queue.Empty:
                pid = None
        if pid is None:
            raise OSError("the worker zygote stopped")
        return pid

    def exit_status(self, pid: int, timeout: float) -> tuple[int, int, str] | None:
        """(signal, exit code, cause) of a worker once the zygote has seen it end, else None."""
        deadline = time.monotonic() + timeout
        with self._exited:
            while pid not in self._exits:
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive():
                    return None
                self._exited.wait(min(left, 0.1))
            return self._exits.pop(pid)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def close(self) -> None:
        try:
            self.control.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.reader.close()
            self.control.close()
        except OSError:
            pass
        try:
            self.popen.wait(2)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)


class _Worker:
    def __init__(self, process, conn):
        self.process = process
        self.conn = conn
        self.idle_since = time.monotonic()
        self.busy_since: float | None = None
        self.niced = False
        self.generation = 0
        self.zygote: _Zygote | None = None
        self.answered = 0              # queries answered
        self.memory_checked = -1       # `answered` when its memory was last read
        self.memory_checked_at = 0.0   # monotonic time it was last read

    def lower_priority(self) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, self.process.pid, SLOW_NICENESS)
            self.niced = True
        except (OSError, AttributeError):
            pass

    def restore_priority(self) -> bool:
        try:
            os.setpriority(os.PRIO_PROCESS, self.process.pid, 0)
            self.niced = False
            return True
        except (OSError, AttributeError):
            return False

    def usable(self) -> bool:
        """Alive and waiting: an idle worker never writes first, and the kernel closes a dead
        worker's end of the pipe (no other process holds it), so a readable pipe means it is
        gone. Asked before every query, so it reads no /proc file."""
        try:
            return not self.conn.poll(0)
        except (OSError, ValueError, EOFError):
            return False

    def kill(self) -> None:
        try:
            self.process.kill()
        except (OSError, ValueError, AttributeError):
            pass
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.kill()
        else:
            self.conn.close()


class WorkerPool:
    """Workers for `settings` (see peacegraph.server.worker): {"store": on-disk store path} or
    {"sources": [[path, RdfFormat name, base IRI], ...]} for an in-memory store, plus "union"
    (default graph = union) and "prefixes" (for serialized graphs)."""

    def __init__(self, settings: dict, *, warm: int = 2, max_workers: int = 12,
                 idle_seconds: float = 30.0, start_timeout: float = 60.0, load_timeout: float = 1800.0,
                 worker_memory: int = 0):
        # bytes a worker may grow by for a query (0 = no limit): the address space of each
        # worker is capped there, so a query over it fails in its worker, not on the host
        self.memory_limit = worker_memory
        self.settings = {**settings, "memory_limit": worker_memory}
        # a worker keeps the heap its biggest query grew; an idle one holding half its limit is replaced
        self.worker_memory = worker_memory // 2
        self.recycled = 0
        self.warm = max(1, warm)
        self.max_workers = max(self.warm, max_workers)
        self.idle_seconds = idle_seconds
        self.start_timeout = start_timeout
        self.load_timeout = load_timeout
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._starting = 0
        self._waiting = 0
        self._closed = False
        self.generation = 0
        self.restarts = 0
        self.timeouts = 0
        self.crashes = 0
        self._reaper: threading.Thread | None = None
        self._zygote: _Zygote | None = None
        self._zygote_lock = threading.Lock()

    @property
    def mode(self) -> str:
        return "memory" if self.settings.get("sources") else "disk"

    @property
    def info(self) -> dict:
        """Graph names and triple count reported by an in-memory zygote ({} in disk mode)."""
        return self._zygote.info if self._zygote is not None else {}

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._zygote = _Zygote(self.settings, self.load_timeout)
        workers = [self._spawn() for _ in range(self.warm)]
        with self._cond:
            self._idle.extend(workers)
            self._cond.notify_all()
        self._reaper = threading.Thread(target=self._reap, name="peacegraph-pool-reaper", daemon=True)
        self._reaper.start()

    def switch_to(self, settings: dict) -> None:
        """Serve from `settings` from now on (e.g. from memory once loaded, after starting on
        the persisted disk store): a new zygote is prepared while the current workers keep
        answering, then each old worker is replaced once it is idle."""
        settings = {**settings, "memory_limit": self.memory_limit}
        zygote = _Zygote(settings, self.load_timeout)
        with self._cond:
            if self._closed:
                zygote.close()
                return
            old_zygote, self._zygote = self._zygote, zygote
            self.settings = settings
            self.generation += 1
            retire = list(self._idle)
            self._idle.clear()
            for _ in retire:
                self._spawn_in_background()
            self._cond.notify_all()
        for w in retire:
            w.stop()
        if old_zygote is not None:
            # Its workers die with it: wait until those still answering have finished.
            deadline = time.monotonic() + RETIRE_WAIT
            while time.monotonic() < deadline:
                with self._cond:
                    if self._closed or not any(w.zygote is old_zygote for w in self._busy):
                        break
                time.sleep(0.1)
            old_zygote.close()

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            workers = list(self._idle) + list(self._busy)
            self._idle.clear()
            self._busy.clear()
            self._cond.notify_all()
        for w in workers:
            w.kill()
        if self._zygote is not None:
            self._zygote.close()

    def _current_zygote(self) -> _Zygote:
        with self._zygote_lock:
            zygote = self._zygote
            if zygote is None or not zygote.alive():
                # Only if the zygote itself died (it runs no queries): start another one.
                zygote = self._zygote = _Zygote(self.settings, self.load_timeout)
            return zygote

    def _spawn(self) -> _Worker:
        parent_sock, child_sock = socket.socketpair()
        for sock in (parent_sock, child_sock):
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIPE_BUFFER)
            except OSError:
                pass
        generation = self.generation
        try:
            zygote = self._current_zygote()
            process = _ForkedProcess(zygote.fork(child_sock.fileno(), self.start_timeout))
        finally:
            child_sock.close()
        parent = Connection(parent_sock.detach())
        worker = _Worker(process, parent)
        worker.generation = generation
        worker.zygote = zygote
        if not parent.poll(self.start_timeout):
            worker.kill()
            raise StoreError(f"a query worker did not start within {self.start_timeout:.0f} s")
        try:
            status, message = parent.recv()
        except EOFError:
            status, message = "failed", "it exited at once"
        if status != "ready":
            worker.kill()
            raise StoreError(f"a query worker could not open the store: {message}")
        return worker

    def _spawn_in_background(self) -> None:
        # Called with the lock held: counts the worker as starting so no other thread overshoots.
        self._starting += 1
        threading.Thread(target=self._finish_spawn, name="peacegraph-pool-spawn", daemon=True).start()

    def _finish_spawn(self) -> None:
        worker = None
        try:
            worker = self._spawn()
        except (PeacegraphError, OSError):
            # The reaper tries again while fewer than the warm workers are alive.
            worker = None
        with self._cond:
            self._starting -= 1
            if worker is not None and worker.generation != self.generation:
                threading.Thread(target=worker.stop, daemon=True).start()
                if not self._closed:
                    self._spawn_in_background()
            elif worker is not None and not self._closed:
                self._idle.append(worker)
            elif worker is not None:
                threading.Thread(target=worker.kill, daemon=True).start()
            self._cond.notify_all()

    def _total(self) -> int:
        return len(self._idle) + len(self._busy) + self._starting

    def _reap(self) -> None:
        next_memory_check = 0.0
        while True:
            time.sleep(0.1)
            retire = []
            check = None
            with self._cond:
                if self._closed:
                    return
                now = time.monotonic()
                for w in self._busy:
                    if not w.niced and w.busy_since is not None and now - w.busy_since > SLOW_AFTER:
                        w.lower_priority()
                while (self._total() > self.warm and self._idle
                       and now - self._idle[0].idle_since > self.idle_seconds):
                    retire.append(self._idle.pop(0))
                if self.worker_memory and now >= next_memory_check:
                    # a worker's heap grows only while it answers: each is read when new, then
                    # again only after it has answered since, the longest unread first
                    due = [w for w in self._idle if w.memory_checked != w.answered]
                    check = min(due, key=lambda w: w.memory_checked_at) if due else None
                # Keep the warm workers even after crashes whose replacements failed to start.
                while self._total() < self.warm:
                    self._spawn_in_background()
            # A worker keeps the heap its biggest query grew; replace one that holds too much.
            # Read outside the lock (requests would wait for it), one worker at a time, as often
            # as MEMORY_CHECK_SHARE allows.
            if check is not None:
                started = time.monotonic()
                check.memory_checked = check.answered
                heavy = private_memory(check.process.pid) > self.worker_memory
                check.memory_checked_at = done = time.monotonic()
                next_memory_check = done + (done - started) / MEMORY_CHECK_SHARE
                if heavy:
                    with self._cond:
                        if check in self._idle:
                            self._idle.remove(check)
                            retire.append(check)
                            self.recycled += 1
            for w in retire:
                w.stop()

    # -- queries ----------------------------------------------------------------------------
    def _acquire(self, wait_timeout: float) -> _Worker:
        deadline = time.monotonic() + wait_timeout
        with self._cond:
            while True:
                if self._closed:
                    raise ServerBusy("the server is shutting down")
                while self._idle and not self._idle[-1].usable():
                    # killed while idle (from outside, or by the kernel): replaced, never used
                    self.restarts += 1
                    dead = self._idle.pop()
                    threading.Thread(target=dead.kill, daemon=True).start()
                    self._spawn_in_background()
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    worker.busy_since = time.monotonic()
                    # One spare keeps fast queries moving while slow ones hold their workers.
                    if not self._idle and self._starting == 0 and self._total() < self.max_workers:
                        self._spawn_in_background()
                    return worker
                while self._starting < self._waiting + 1 and self._total() < self.max_workers:
                    self._spawn_in_background()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ServerBusy(f"the server is busy: no query worker became free within "
                                     f"{wait_timeout:g} s; try again shortly")
                self._waiting += 1
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting -= 1

    def _release(self, worker: _Worker) -> None:
        worker.answered += 1
        worker.idle_since = time.monotonic()
        worker.busy_since = None
        if (worker.niced and not worker.restore_priority()) or worker.generation != self.generation:
            self._discard(worker, count=False)
            return
        with self._cond:
            self._busy.discard(worker)
            if self._closed:
                threading.Thread(target=worker.kill, daemon=True).start()
                return
            self._idle.append(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker, count: bool = True) -> None:
        """Kill a worker and start its replacement without making the caller wait for it."""
        with self._cond:
            self._busy.discard(worker)
            if count:
                self.restarts += 1
            if not self._closed and self._total() < self.warm + 1:
                self._spawn_in_background()
            self._cond.notify_all()
        threading.Thread(target=worker.kill, daemon=True).start()

    def run(self, request: QueryRequest, wait_timeout: float) -> QueryResult:
        worker = self._acquire(wait_timeout)
        try:
            worker.conn.send(request)
        except (OSError, ValueError):
            self._discard(worker)
            raise EngineFault("a query worker was lost before the query started; please retry") from None
        ready = worker.conn.poll(request.timeout)
        if not ready:
            self.timeouts += 1
            self._discard(worker)
            raise QueryTimeout(f"query stopped: it ran longer than the time limit of "
                               f"{request.timeout:g} s")
        try:
            reply = worker.conn.recv()
        except (EOFError, OSError):
            self.crashes += 1
            error = self._death_error(worker, request)
            self._discard(worker)
            raise error from None
        if reply[0] == "error" and reply[1] == "memory":
            # the worker survived its MemoryError, but with the heap the query grew: replace it
            self._discard(worker)
            raise self._out_of_memory()
        self._release(worker)
        if reply[0] == "ok":
            return reply[1]
        kind, message = reply[1], reply[2]
        if kind == "syntax":
            raise syntax_error(message, request.text)
        if kind == "crash":
            raise QueryCrashed(message)
        if kind == "store":
            raise StoreError(f"the store failed: {message}")
        raise QueryError(message)

    def _out_of_memory(self) -> QueryOutOfMemory:
        limit = f" ({self.memory_limit / 2**20:.0f} MB)" if self.memory_limit else ""
        return QueryOutOfMemory(f"query stopped: it needed more memory than a query worker may "
                                f"use{limit}; its worker was replaced")

    def _death_error(self, worker: _Worker, request: QueryRequest) -> QueryError:
        """Why a worker died during a query, as the error its client gets: the query's fault (a
        stack overflow: 400) or not (killed from outside, out of memory, shutdown: 5xx)."""
        if self._closed:
            return EngineFault("the server is stopping; please retry")
        status = None
        if worker.zygote is not None:
            status = worker.zygote.exit_status(worker.process.pid, timeout=2.0)
        signum, code, cause = status if status is not None else (0, -1, "")
        if cause == "memory":
            return self._out_of_memory()
        if cause == "stack" or signum in (signal.SIGSEGV, signal.SIGBUS):
            return QueryCrashed(
                "the query engine crashed while evaluating this query: an expression or pattern "
                "nested too deeply for its stack. Only this query was affected.")
        if signum == signal.SIGALRM:
            self.timeouts += 1
            return QueryTimeout(f"query stopped: it ran longer than the time limit of "
                                f"{request.timeout:g} s")
        how = (f"killed by signal {signum}" if signum else
               f"exit code {code}" if code >= 0 else "for an unknown reason")
        return EngineFault(f"the query worker stopped ({how}) from outside the query, not "
                           "because of it; it was replaced, please retry")

    def stats(self) -> dict:
        with self._cond:
            live = len(self._idle) + len(self._busy)
            return {"workers": live, "busy": len(self._busy), "starting": self._starting,
                    "restarts": self.restarts, "timeouts": self.timeouts, "crashes": self.crashes,
                    "recycled": self.recycled,
                    "allocator": self._zygote.allocator if self._zygote is not None else "",
                    "pids": sorted(w.process.pid for w in list(self._idle) + list(self._busy))}
