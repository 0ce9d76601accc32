"""The `peacegraph` command. Each subcommand lives in the module named after what it does;
this file only parses arguments, reports errors on one line and sets the exit code."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from peacegraph.errors import PeacegraphError

# subcommand -> (module, function); imported only when that subcommand runs.
COMMANDS = {
    "build": ("peacegraph.commands.build", "cli_build"),
    "release": ("peacegraph.commands.release", "cli_release"),
    "validate": ("peacegraph.commands.validate", "cli_validate"),
    "query": ("peacegraph.commands.query", "cli_query"),
    "diff": ("peacegraph.commands.diff", "cli_diff"),
    "serve": ("peacegraph.server.cli", "cli_serve"),
    "synth": ("peacegraph.commands.synth", "cli_synth"),
    "push": ("peacegraph.commands.push", "cli_push"),
    "bench": ("peacegraph.commands.bench", "cli_bench"),
    "source": ("peacegraph.commands.source", "cli_source"),
    "mentions": ("peacegraph.commands.mentions", "cli_mentions"),
}


def _add_source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds", type=Path, help="folder of source texts and sources.ttl (default: the shipped seeds/)")
    p.add_argument("--ontology", type=Path, help="folder of ontology Turtle files (default: the shipped ontology/)")
    p.add_argument("--graph", type=Path, help="folder of curated Turtle files (default: the shipped graph/)")
    p.add_argument("--shapes", type=Path, help="folder of SHACL shapes (default: the shipped shapes/)")


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-results", type=int, default=10, metavar="N",
                   help="results of each shape shown in the report (default 10; 0 shows all)")
    p.add_argument("--report", type=Path, metavar="FILE", help="also write the full validation report to FILE")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peacegraph",
        description="Build, validate, query and serve the peacegraph knowledge graph.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="anchor, reason, validate and export to dist/")
    _add_source_options(p)
    p.add_argument("--out", type=Path, help="output folder (default: dist/)")
    p.add_argument("--sparql-endpoint", metavar="URL", default=None,
                   help="the public SPARQL endpoint named in void.ttl (default: https://w3id.org/peacegraph/sparql)")
    p.add_argument("--csv-bom", action="store_true",
                   help="start the CSV tables with a UTF-8 byte order mark (for spreadsheet programs that need one)")
    _add_report_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--no-cache", action="store_true",
                   help="do every stage, trusting nothing an earlier build recorded beside the output folder")
    p.add_argument("--watch", action="store_true", help="rebuild whenever a source file changes (Ctrl+C stops)")
    p.add_argument("--interval", type=float, default=1.0, help="with --watch: seconds between checks (default 1)")

    p = sub.add_parser("release", help="build a versioned, immutable set of dumps and the changelog from a previous release")
    _add_source_options(p)
    p.add_argument("version", help="the release version, e.g. 1.0.0 (letters, digits, '.', '-', '_')")
    p.add_argument("--out", type=Path, default=Path("releases"),
                   help="folder of releases; the release goes into OUT/VERSION (default: releases/)")
    p.add_argument("--previous", type=Path, help="the folder of the previous release, for the changelog")
    p.add_argument("--date", help="the issue date, YYYY-MM-DD (default: today, UTC)")
    p.add_argument("--sparql-endpoint", metavar="URL", default=None,
                   help="the public SPARQL endpoint named in void.ttl (default: https://w3id.org/peacegraph/sparql)")
    p.add_argument("--csv-bom", action="store_true", help="as for build")
    p.add_argument("--quiet", action="store_true", help="no progress output")

    p = sub.add_parser("validate", help="check the data against the SHACL shapes")
    _add_source_options(p)
    p.add_argument("--data", type=Path, nargs="*", help="validate these RDF files (e.g. a built dist/peacegraph.trig) instead of the source folders")
    p.add_argument("--format", choices=["text", "turtle", "github", "junit", "sarif"], default="text",
                   help="report format: text, the SHACL report as Turtle, GitHub Actions annotations, JUnit XML or SARIF 2.1.0")
    _add_report_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")

    p = sub.add_parser("query", help="run a SPARQL query (a .rq file, a stored query name, or the query text) and print a table")
    p.add_argument("query", help="FILE.rq, the name of a stored query, or SPARQL text")
    p.add_argument("--data", type=Path, nargs="*", help="RDF files to query (default: dist/peacegraph.trig, built if missing)")
    p.add_argument("--bind", action="append", default=[], metavar="VAR=TERM", help="bind a variable, e.g. --bind topic=topic:territory")
    p.add_argument("--all", action="store_true", help="leave a stored query's parameters unbound unless --bind names them (its defaults otherwise)")
    p.add_argument("--format", choices=["table", "csv", "tsv", "json"], default="table")

    p = sub.add_parser("diff", help="compare two documents provision by provision")
    p.add_argument("doc_a", help="a document IRI, pgid: name or slug (e.g. us-28-point-plan)")
    p.add_argument("doc_b", help="a document IRI, pgid: name or slug")
    p.add_argument("--data", type=Path, nargs="*", help="RDF files (default: dist/peacegraph.trig, built if missing)")

    p = sub.add_parser("serve", help="serve the SPARQL endpoint and linked-data pages")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--data", type=Path, nargs="*", help="RDF files to serve instead of dist/ (TriG, N-Quads, Turtle, N-Triples, JSON-LD)")
    p.add_argument("--store-dir", type=Path, help="persist the embedded store here; reused at the next start")
    p.add_argument("--store", metavar="URL", help="serve from a remote SPARQL 1.1 endpoint instead of the embedded store")
    p.add_argument("--base", default=None, help="public base IRI of the data (default https://w3id.org/peacegraph/)")
    p.add_argument("--public-url", default=None, help="the URL clients reach this server at, for the endpoint IRI in the service description, the VoID and Link headers (default: the address bound)")
    p.add_argument("--workers", type=int, default=None, help="query worker processes")
    p.add_argument("--threads", type=int, default=None, help="HTTP threads")
    p.add_argument("--timeout", type=float, default=None, help="query time limit in seconds")
    p.add_argument("--max-rows", type=int, default=None, help="row limit per query")
    p.add_argument("--max-result-bytes", type=int, default=None, metavar="BYTES",
                   help="size limit of a query result; a longer one is cut and marked truncated (default 8 MiB)")
    p.add_argument("--worker-memory", dest="worker_memory_mb", type=int, default=None, metavar="MB",
                   help="memory a query worker may use for one query; over it the query gets a 503 (default 512)")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("synth", help="generate a synthetic corpus in the authoring form of graph/")
    p.add_argument("--triples", type=int, required=True, help="approximate number of triples of the built graph")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("push", help="load a build into a SPARQL 1.1 store through the Graph Store Protocol")
    p.add_argument("url", help="the store's Graph Store Protocol endpoint")
    p.add_argument("--data", type=Path, help="the TriG dump to push (default: dist/peacegraph.trig)")
    p.add_argument("--user", help="user the store authenticates (HTTP Basic, or Digest when the store asks for it)")
    p.add_argument("--password", help="that user's password (or PEACEGRAPH_STORE_PASSWORD)")
    p.add_argument("--default-graph", metavar="IRI", help="write the dump's default graph as this named graph, "
                   "for a store without a default graph of its own (Virtuoso)")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("source", help="add a source text to seeds/ and describe it in sources.ttl")
    source_sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = source_sub.add_parser("add", help="copy a text into seeds/ verbatim, describe it, print a graph file stub")
    p.add_argument("file", type=Path, help="the text (UTF-8), copied byte for byte")
    p.add_argument("--title", required=True)
    p.add_argument("--url", help="where the text was published")
    p.add_argument("--publisher")
    p.add_argument("--author", action="append", default=[], help="an author (repeat for several)")
    p.add_argument("--published", metavar="DATE", help="publication date, YYYY-MM-DD")
    p.add_argument("--retrieved", metavar="DATE", help="the day the text was retrieved, YYYY-MM-DD")
    p.add_argument("--language", help="language tag of the text, e.g. en")
    p.add_argument("--seeds", type=Path, help="the seeds folder (default: the checkout's seeds/, else ./seeds)")

    p = sub.add_parser("mentions", help="the spans of a source text that name a known thing")
    p.add_argument("source", help="a source stem (000_c087f7d81efda06d), src: name or IRI")
    _add_source_options(p)
    p.add_argument("--unused", action="store_true", help="only the mentions no statement from that source uses")
    p.add_argument("--format", choices=["table", "tsv", "json"], default="table")

    p = sub.add_parser("bench", help="benchmark the pipeline and the endpoint against Oxigraph server")
    p.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated triple counts")
    p.add_argument("--out", type=Path, default=Path("bench-results"))
    p.add_argument("--duration", type=float, default=10.0, help="seconds of load per endpoint measurement")
    p.add_argument("--build-runs", type=int,
                   help="stage-by-stage builds per size; each stage is the fastest of them (default 3)")
    p.add_argument("--quiet", action="store_true")
    return parser


def _version() -> str:
    from peacegraph import __version__
    return f"peacegraph {__version__}"


# Commands that end with a large graph in memory. Once they are done it is garbage, and freeing
# its millions of objects one by one as the interpreter exits took 3.4 s after a 1M-triple build.
_ENDS_AT_ONCE = frozenset({"build"})


def program() -> None:
    """The `peacegraph` program: `main`, then the end of the process — at once, output flushed,
    after the commands of _ENDS_AT_ONCE (whose files are written and fsync'ed by then)."""
    args = make_parser().parse_args()
    code = _run(args)
    if args.command in _ENDS_AT_ONCE:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    """Run the command line `argv` (default: the process's) in this process; its exit code."""
    return _run(make_parser().parse_args(argv))


def _run(args) -> int:
    module_name, func_name = COMMANDS[args.command]
    try:
        handler = getattr(importlib.import_module(module_name), func_name)
        return int(handler(args) or 0)
    except PeacegraphError as exc:
        if args.debug:
            raise
        print(f"peacegraph {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"peacegraph {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (e.g. `| head`): not an error of ours
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except MemoryError:
        if args.debug:
            raise
        print(f"peacegraph {args.command}: error: out of memory", file=sys.stderr)
        return 2
    except RecursionError:
        if args.debug:
            raise
        print(f"peacegraph {args.command}: error: input nested too deeply to process", file=sys.stderr)
        return 2


if __name__ == "__main__":
    program()
