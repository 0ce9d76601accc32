"""The query worker: a separate process that opens the store read-only and evaluates queries.

Evaluation happens here, never in the HTTP process, so a query over its time limit can be
stopped by killing its process (the CPU really comes back) and an engine crash (Oxigraph aborts
its process on a stack overflow) costs one worker, not the server. Messages over the pipe:
parent -> worker: a QueryRequest; worker -> parent: ("ok", QueryResult) or ("error", kind, message).
"""

from __future__ import annotations

import time

from peacegraph.server.backend import (GRAPH_FORMATS, PYTHON_FORMAT, SOLUTION_FORMATS, QueryRequest,
                                       QueryResult)


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


def evaluate(store, request: QueryRequest, union_default: bool = True, prefixes=None) -> QueryResult:
    """Run one checked query on a pyoxigraph Store and serialize it (or return terms)."""
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
        variables = [v.value for v in answer.variables]
        width = len(variables)
        rows = []
        limit = request.max_rows
        for solution in answer:
            if len(rows) >= limit:
                out.truncated = True
                break
            rows.append(tuple(solution[i] for i in range(width)))
        out.count = len(rows)
        if fmt == PYTHON_FORMAT:
            out.variables, out.rows = variables, rows
        else:
            out.body = results.serialize_solutions(variables, rows, fmt, out.truncated, limit)
            out.media_type = SOLUTION_FORMATS[fmt]
    else:
        triples = []
        for triple in answer:
            if len(triples) >= request.max_rows:
                out.truncated = True
                break
            triples.append(triple)
        out.count = len(triples)
        if fmt == PYTHON_FORMAT:
            out.triples = triples
        else:
            out.body = results.serialize_triples(triples, fmt, prefixes)
            out.media_type = GRAPH_FORMATS[fmt]
    out.elapsed = time.perf_counter() - started
    return out


def worker_main(conn, store_path: str, union_default: bool, prefixes: dict[str, str]) -> None:
    """Entry point of a worker process."""
    import pyoxigraph as ox

    try:
        store = ox.Store.read_only(store_path)
    except (OSError, RuntimeError) as exc:
        conn.send(("failed", f"cannot open the store: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if request is None:
            return
        try:
            reply = ("ok", evaluate(store, request, union_default, prefixes))
        except SyntaxError as exc:
            reply = ("error", "syntax", str(exc))
        except (ValueError, TypeError) as exc:
            reply = ("error", "query", str(exc))
        except OSError as exc:
            reply = ("error", "store", str(exc))
        except RecursionError:
            reply = ("error", "query", "query nested too deeply")
        except MemoryError:
            reply = ("error", "crash", "the query needed more memory than a worker may use")
        except Exception as exc:  # the engine's own evaluation errors (RuntimeError and others)
            reply = ("error", "query", f"the query could not be evaluated: {exc}")
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


def zygote_main(control, settings: dict) -> None:
    """Fork a worker for every connection handed over on `control` (a Unix socket).

    Starting a Python interpreter and importing the engine costs a fraction of a second of CPU,
    which is what a busy server lacks; a fork of this already-prepared process costs
    milliseconds, so a killed or crashed worker is replaced at once. The store is opened after
    the fork, by each worker, never shared.
    """
    import os
    import signal
    import socket
    from multiprocessing.connection import Connection

    import pyoxigraph  # noqa: F401  (imported once here, inherited by every fork)
    from peacegraph.server import results  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # children are reaped by the kernel
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(control, 64, 1)
        except (OSError, KeyboardInterrupt):
            return
        if not msg or not fds:
            return
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                worker_main(Connection(fds[0]), settings["store"], settings["union"], settings["prefixes"])
            finally:
                os._exit(0)
        os.close(fds[0])
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
        settings = json.loads(argv[2])
        zygote_main(socket.socket(fileno=int(argv[1])), settings)
        return 0
    settings = json.loads(argv[1])
    worker_main(Connection(int(argv[0])), settings["store"], settings["union"], settings["prefixes"])
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
