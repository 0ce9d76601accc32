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
        if literals is not None:
            triples = literals.triples(triples)
        out.count = len(triples)
        if fmt == PYTHON_FORMAT:
            out.triples = triples
        else:
            out.body = results.serialize_triples(triples, fmt, prefixes)
            out.media_type = GRAPH_FORMATS[fmt]
    out.elapsed = time.perf_counter() - started
    return out


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


def load_memory_store(sources: list[list[str]]):
    """Parse the dumps into an in-memory store; the one place the data is read in memory mode."""
    import pyoxigraph as ox

    from peacegraph.server.literals import DumpLiterals, rewritten_quads

    store = ox.Store()
    for path, fmt, base in sources:
        try:
            store.bulk_load(path=path, format=getattr(ox.RdfFormat, fmt), base_iri=base)
        except Exception as exc:  # the file is named in the one-line message
            raise ValueError(parse_error_message(path, exc)) from None
    literals = DumpLiterals(rewritten_quads([(path, getattr(ox.RdfFormat, fmt), base)
                                             for path, fmt, base in sources]))
    return store, literals


def dataset_info(store) -> dict:
    import pyoxigraph as ox

    graphs = sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))
    return {"graphs": graphs, "triples": len(store)}


def worker_main(conn, settings: dict, store=None, literals=None) -> None:
    """Entry point of a worker process: answer QueryRequests until the pipe closes."""
    if store is None:
        try:
            store = open_store(settings)
            literals = stored_literals(settings)
        except (OSError, RuntimeError, SyntaxError) as exc:
            conn.send(("failed", f"cannot open the store: {exc}"))
            return
    union_default, prefixes = settings["union"], settings["prefixes"]
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if request is None:
            return
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
    which is what a busy server lacks; a fork of this prepared process costs milliseconds, so a
    killed or crashed worker is replaced at once. In memory mode ("sources" in `settings`) the
    zygote parses the dumps once into an in-memory store, and every worker shares it
    copy-on-write; in disk mode each worker opens the on-disk store read-only after the fork.
    The zygote itself never evaluates a query. It first writes one line: `ready {json}` with the
    graph names and triple count, or `error message`.
    """
    import json
    import os
    import signal
    import socket
    from multiprocessing.connection import Connection

    import pyoxigraph  # noqa: F401  (imported once here, inherited by every fork)

    from peacegraph.server import results  # noqa: F401

    store = literals = None
    info: dict = {}
    if settings.get("sources"):
        try:
            store, literals = load_memory_store(settings["sources"])
            info = dataset_info(store)
        except Exception as exc:  # reported to the server as one line, never a traceback
            text = " ".join(str(exc).split()) or type(exc).__name__
            control.sendall(f"error {text}\n".encode())
            return
    control.sendall(f"ready {json.dumps(info)}\n".encode())
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
                worker_main(Connection(fds[0]), settings, store, literals)
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
        zygote_main(socket.socket(fileno=int(argv[1])), json.loads(argv[2]))
        return 0
    worker_main(Connection(int(argv[0])), json.loads(argv[1]))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
