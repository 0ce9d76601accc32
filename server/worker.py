"""The query worker: a separate process that opens the store read-only and evaluates queries.

Evaluation happens here, never in the HTTP process, so a query over its time limit can be
stopped by killing its process (the CPU really comes back) and an engine crash (Oxigraph aborts
its process on a stack overflow) costs one worker, not the server. Messages over the pipe:
parent -> worker: a QueryRequest; worker -> parent: ("ok", QueryResult) or ("error", kind, message).
"""

from __future__ import annotations

import time

from peacegraph.errors import parser_message
from peacegraph.server.backend import GRAPH_FORMATS, PYTHON_FORMAT, SOLUTION_FORMATS, QueryRequest, QueryResult
from peacegraph.server.rdf_input import rdf_source

# beside the on-disk store: the quads whose literal the store rewrote (peacegraph.server.literals)
LITERALS_FILE = "literals.nq"


def _dataset_kwargs(ox, request: QueryRequest, union_default: bool) -> dict:
    kwargs: dict = {}
    if request.default_graphs is None:
        if union_default:
            kwargs["use_default_graph_as_union"] = True
    else:
        kwargs["default_graph"] = [ox.DefaultGraph() if g == "" else ox.NamedNode(g)
                                   for g in request.default_graphs]
    if request.named_graphs is not None:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
    if request.bindings:
        kwargs["substitutions"] = {ox.Variable(k): v for k, v in request.bindings.items()}
    return kwargs


def evaluate(store, request: QueryRequest, union_default: bool = True, prefixes=None,
             literals=None) -> QueryResult:
    """Run one checked query on a pyoxigraph Store and serialize it (or return terms); a graph
    answer carries the dump's own literals where the store rewrote them (`literals`, a
    DumpLiterals)."""
    import pyoxigraph as ox

    from peacegraph.server import results

    started = time.perf_counter()
    answer = store.query(request.text, **_dataset_kwargs(ox, request, union_default))
    fmt = request.result_format
    out = QueryResult(form=request.form, result_format=fmt)
    if isinstance(answer, ox.QueryBoolean):
        out.boolean = bool(answer)
        out.count = 1
        if fmt != PYTHON_FORMAT:
            out.body = results.serialize_boolean(out.boolean, fmt)
            out.media_type = SOLUTION_FORMATS[fmt]
    elif isinstance(answer, ox.QuerySolutions):
        if fmt == PYTHON_FORMAT:
            variables = [v.value for v in answer.variables]
            width = len(variables)
            out.variables = variables
            out.rows = _collect(out, (tuple(solution[i] for i in range(width)) for solution in answer),
                                request, ROW_OVERHEAD * max(width, 1), lambda row: row)
        else:
            out.body, out.count, cut = results.native_solutions(answer, fmt, request.max_rows,
                                                                request.max_bytes)
            out.truncated, out.truncated_by = bool(cut), cut
            out.media_type = SOLUTION_FORMATS[fmt]
    else:
        triples = _collect(out, answer, request, ROW_OVERHEAD,
                           lambda t: (t.subject, t.predicate, t.object))
        if literals is not None:
            triples = literals.triples(triples)
        if fmt == PYTHON_FORMAT:
            out.triples = triples
        else:
            out.body = _fit(out, triples, request.max_bytes,
                            lambda part: results.serialize_triples(part, fmt, prefixes))
            out.media_type = GRAPH_FORMATS[fmt]
    out.elapsed = time.perf_counter() - started
    return out


# Bytes a result row costs beyond the text of its terms (markup, quotes, datatypes), as counted
# while rows are collected; the serialized result is measured exactly afterwards.
ROW_OVERHEAD = 64


def _term_size(term) -> int:
    if term is None:
        return 0
    value = getattr(term, "value", None)
    return len(value) if isinstance(value, str) else len(str(term))


def _collect(out: QueryResult, items, request: QueryRequest, overhead: int, terms_of) -> list:
    """The rows (or triples) of an answer up to the row limit and, by an estimate of their
    serialized size, the byte limit; `out` is marked truncated if more were left."""
    collected = []
    size = 0
    for item in items:
        if len(collected) >= request.max_rows:
            out.truncated, out.truncated_by = True, "rows"
            break
        size += overhead + sum(_term_size(t) for t in terms_of(item))
        if size > request.max_bytes:
            out.truncated, out.truncated_by = True, "bytes"
            break
        collected.append(item)
    out.count = len(collected)
    return collected


def _fit(out: QueryResult, rows: list, max_bytes: int, serialize) -> bytes:
    """`serialize(rows)`, cut to fewer rows (and marked truncated) while it is over max_bytes:
    escaping can make a result longer than the collected estimate."""
    body = serialize(rows)
    while len(body) > max_bytes and rows:
        keep = min(len(rows) - 1, int(len(rows) * max_bytes / len(body) * 0.9))
        rows = rows[:max(keep, 0)]
        out.truncated, out.truncated_by, out.count = True, "bytes", len(rows)
        body = serialize(rows)
    return body


def open_store(settings: dict):
    """The on-disk store, opened read-only (in memory mode a worker inherits the zygote's store)."""
    import pyoxigraph as ox

    return ox.Store.read_only(settings["store"])


def stored_literals(settings: dict):
    """The dump's literals that the on-disk store rewrote, recorded beside it when it was loaded."""
    from pathlib import Path

    from peacegraph.server.literals import DumpLiterals

    return DumpLiterals.load(Path(settings["store"]).parent / LITERALS_FILE)


def parse_error_message(path, exc: Exception) -> str:
    """One line, `file:line:column: message` where the parser gives a position, worded like the
    pipeline's loader so that every command reports a broken file the same way."""
    text = parser_message(exc, type(exc).__name__)
    line, column = getattr(exc, "lineno", None), getattr(exc, "offset", None)
    where = str(path)
    if line:
        where += f":{line}" + (f":{column}" if column else "")
    return f"{where}: {text}"


def bulk_load_file(store, path, rdf_format, base_iri: str) -> None:
    """store.bulk_load of one file (see rdf_source)."""
    with rdf_source(path) as source:
        store.bulk_load(**source, format=rdf_format, base_iri=base_iri)


def memory_store(sources: list[list[str]]):
    """The dumps ([path, RdfFormat name, base IRI] each) parsed into an in-memory store; a file
    that does not parse is named in a one-line ValueError."""
    import pyoxigraph as ox

    store = ox.Store()
    for path, fmt, base in sources:
        try:
            bulk_load_file(store, path, getattr(ox.RdfFormat, fmt), base)
        except Exception as exc:  # the file is named in the one-line message
            raise ValueError(parse_error_message(path, exc)) from None
    return store


def load_memory_store(sources: list[list[str]], literals_file: str | None = None):
    """Parse the dumps into an in-memory store, with the literals it rewrites; the one place the
    data is read in memory mode. `literals_file`: where those literals were recorded when these
    same dumps were loaded into the persisted store, read instead of parsing the dumps again."""
    from pathlib import Path

    import pyoxigraph as ox

    from peacegraph.server.literals import DumpLiterals, rewritten_quads

    store = memory_store(sources)
    if literals_file is not None and Path(literals_file).is_file():
        literals = DumpLiterals.load(Path(literals_file))
    else:
        literals = DumpLiterals(rewritten_quads([(path, getattr(ox.RdfFormat, fmt), base)
                                                 for path, fmt, base in sources]))
    return store, literals


def dataset_info(store) -> dict:
    import pyoxigraph as ox

    graphs = sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))
    return {"graphs": graphs, "triples": len(store)}


# Seconds a worker lets a query run past its time limit before it ends itself: the server
# stops it at the limit, so this only matters when the server cannot (stopped, or gone).
OWN_LIMIT_GRACE = 2.0
# What a worker's last words on stderr say about why it died (Rust aborts the process on both).
_STACK_OVERFLOW = b"overflowed its stack"
_OUT_OF_MEMORY = (b"memory allocation of", b"MemoryError")
# Bytes kept of the start and of the end of what a worker writes on stderr.
LAST_WORDS = 4096


def worker_main(conn, settings: dict, store=None, literals=None) -> None:
    """Entry point of a worker process: answer QueryRequests until the pipe closes."""
    import signal

    if store is None:
        try:
            store = open_store(settings)
            literals = stored_literals(settings)
        except (OSError, RuntimeError, SyntaxError) as exc:
            conn.send(("failed", f"cannot open the store: {exc}"))
            return
    # only now: opening an on-disk store maps much address space that queries never grow into
    _limit_memory(int(settings.get("memory_limit", 0)))
    union_default, prefixes = settings["union"], settings["prefixes"]
    conn.send(("ready", None))
    # SIGALRM left at its default action ends the process even while the engine holds the CPU
    # in native code: the worker's own time limit.
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if request is None:
            return
        signal.setitimer(signal.ITIMER_REAL, request.timeout + OWN_LIMIT_GRACE)
        try:
            reply = ("ok", evaluate(store, request, union_default, prefixes, literals))
        except SyntaxError as exc:
            reply = ("error", "syntax", str(exc))
        except (ValueError, TypeError) as exc:
            reply = ("error", "query", str(exc))
        except OSError as exc:
            reply = ("error", "store", str(exc))
        except RecursionError:
            reply = ("error", "query", "query nested too deeply")
        except MemoryError:
            reply = ("error", "memory", "")
        except Exception as exc:  # the engine's own evaluation errors (RuntimeError and others)
            reply = ("error", "query", f"the query could not be evaluated: {exc}")
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this process when the process that forked it ends (Linux)."""
    import ctypes
    import os
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)        # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:                     # the parent ended before the call
        os._exit(0)


def _limit_memory(extra_bytes: int) -> None:
    """Let this process grow by at most `extra_bytes` of address space over what it has now (the
    shared store included): an allocation over it fails, and the query with it."""
    import os
    import resource

    if extra_bytes <= 0:
        return
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            current = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = current + extra_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError):
        pass


def death_cause(last_words: bytes) -> str:
    """"stack", "memory" or "" from the end of what a dead worker wrote on stderr."""
    if _STACK_OVERFLOW in last_words:
        return "stack"
    if any(mark in last_words for mark in _OUT_OF_MEMORY):
        return "memory"
    return ""


def zygote_main(control, settings: dict) -> None:
    """Fork a worker for every connection handed over on `control` (a Unix socket).

    Starting a Python interpreter and importing the engine costs a fraction of a second of CPU,
    which is what a busy server lacks; a fork of this prepared process costs milliseconds, so a
    killed or crashed worker is replaced at once. In memory mode ("sources" in `settings`) the
    zygote parses the dumps once into an in-memory store, and every worker shares it
    copy-on-write; in disk mode each worker opens the on-disk store read-only after the fork.
    The zygote itself never evaluates a query. It first writes one line: `ready {json}` with the
    graph names and triple count, or `error message`; then `PID` for every worker it forks, and
    `exit PID SIGNAL CODE CAUSE` when one ends (CAUSE: see death_cause; `-` if none), so the
    server can tell a query that crashed its engine from a worker killed from outside.

    The zygote ends when the server closes `control` (also when the server is killed), and each
    worker is killed by the kernel when the zygote ends, so no worker outlives the server.
    """
    import json
    import os
    import select
    import signal
    import socket
    from multiprocessing.connection import Connection

    import pyoxigraph  # noqa: F401  (imported once here, inherited by every fork)

    from peacegraph.server import results  # noqa: F401

    store = literals = None
    info: dict = {}
    if settings.get("sources"):
        try:
            store, literals = load_memory_store(settings["sources"], settings.get("literals"))
            info = dataset_info(store)
        except Exception as exc:  # reported to the server as one line, never a traceback
            text = " ".join(str(exc).split()) or type(exc).__name__
            control.sendall(f"error {text}\n".encode())
            return
    control.sendall(f"ready {json.dumps(info)}\n".encode())
    zygote_pid = os.getpid()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)      # wakes the poll below through wake_w
    stderr_of: dict[int, tuple[int, bytearray]] = {}    # worker pid -> (its stderr, last words)
    poller = select.poll()
    poller.register(control.fileno(), select.POLLIN)
    poller.register(wake_r, select.POLLIN)

    def drain(fd: int, tail: bytearray) -> bool:
        """Read what is there; False once the worker's end is closed."""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                return False
            if not chunk:
                return False
            tail.extend(chunk)
            if len(tail) > 2 * LAST_WORDS:
                # the first words name the cause, a backtrace (RUST_BACKTRACE) may follow them
                del tail[LAST_WORDS:-LAST_WORDS]

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            cause = ""
            if pid in stderr_of:
                fd, tail = stderr_of.pop(pid)
                drain(fd, tail)
                try:
                    poller.unregister(fd)
                except KeyError:
                    pass
                os.close(fd)
                cause = death_cause(bytes(tail))
            signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
            control.sendall(f"exit {pid} {signum} {code} {cause or '-'}\n".encode())

    while True:
        try:
            events = poller.poll()
        except KeyboardInterrupt:
            return
        for fd, _event in events:
            if fd == wake_r:
                try:
                    while os.read(wake_r, 512):
                        pass
                except OSError:
                    pass
                try:
                    reap()
                except OSError:
                    return
            elif fd != control.fileno():
                for err_fd, tail in list(stderr_of.values()):
                    if err_fd == fd and not drain(fd, tail):
                        poller.unregister(fd)
        if not any(fd == control.fileno() for fd, _ in events):
            continue
        try:
            msg, fds, _flags, _addr = socket.recv_fds(control, 64, 1)
        except (OSError, KeyboardInterrupt):
            return
        if not msg or not fds:
            return
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in [wake_r, wake_w, err_r] + [fd for fd, _ in stderr_of.values()]:
                os.close(fd)
            os.dup2(err_w, 2)
            os.close(err_w)
            try:
                die_with_parent(zygote_pid)
                worker_main(Connection(fds[0]), settings, store, literals)
            finally:
                os._exit(0)
        os.close(fds[0])
        os.close(err_w)
        os.set_blocking(err_r, False)
        stderr_of[pid] = (err_r, bytearray())
        poller.register(err_r, select.POLLIN)
        try:
            control.sendall(f"{pid}\n".encode())
        except OSError:
            return


def main(argv: list[str]) -> int:
    import json
    import signal
    import socket
    from multiprocessing.connection import Connection

    # The HTTP process owns Ctrl-C; a worker ends when its pipe closes or it is killed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if argv and argv[0] == "--zygote":
        zygote_main(socket.socket(fileno=int(argv[1])), json.loads(argv[2]))
        return 0
    worker_main(Connection(int(argv[0])), json.loads(argv[1]))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
