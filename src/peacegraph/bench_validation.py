"""How much of the validate stage is the SHACL engine's own time, against the stage's floor.

The validate stage is timed as `peacegraph bench` times it (validate_graph on the assembled
dataset). Then the engine is timed alone, on the same statements held in a plain graph and
handed to pyshacl-turbo's public `validate` (no code of peacegraph's in between): with all the
shapes, and with a shapes graph that holds no shape (what taking in the data costs). The floor
is peacegraph.bench_floors' (Oxigraph loading the validated graphs and finding the focus nodes
of every sh:targetClass), measured on the dump of the same build. The engine's runs and the
floor are each the fastest of bench_floors.FLOOR_RUNS.

The engine's time depends on the order it is handed the statements in: a plain graph hands
them subject by subject, the stage predicate by predicate (peacegraph.validate._UnionView),
which at 1M it validates in a median of 17.7 s against 21.2 s in the order of a set, and 16.0 s
with each predicate's statements in the order their objects were made. Beyond that,
when the engine alone takes more than 3× the floor no change to peacegraph's own code can bring
the stage within the 3× of issue 14: only a faster engine, or less for it to check.

    python -m peacegraph.bench_validation --triples 1000000 --out bench-results

writes OUT/validation.json (every number) and OUT/validation.md; work files go to a temporary
folder, removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from peacegraph import bench_floors, paths
from peacegraph.errors import PeacegraphError
from peacegraph.gcpause import paused_gc
from peacegraph.load import rdf_files
from peacegraph.measures import figure, size_label
from peacegraph.progress import Progress

TARGET_RATIO = 3.0


def _engine_seconds(graph, shapes, runs: int) -> tuple[float, bool]:
    """The fastest of `runs` validations of `graph` by pyshacl-turbo alone, called as the build
    calls it (peacegraph.validate._run_turbo), and whether the data conforms."""
    from peacegraph.validate import _run_turbo

    conforms = []

    def work():
        with paused_gc():
            conforms.append(_run_turbo(graph, shapes)[0])

    return bench_floors._timed(work, runs), bool(conforms[-1])


def _shapes_of(files: list[Path]):
    """One graph of the given shapes files (Turtle), prefixes bound."""
    from rdflib import Graph

    from peacegraph.namespaces import bind_prefixes

    graph = Graph()
    bind_prefixes(graph)
    for f in files:
        graph.parse(f, format="turtle")
    return graph


def measure(corpus: Path, work: Path, runs: int = bench_floors.FLOOR_RUNS,
            progress: Progress | None = None) -> dict:
    """Every number of the module doc for the corpus at `corpus` (seeds/, graph/); the dump is
    written under `work`."""
    import pyoxigraph as ox
    from rdflib import Graph

    from peacegraph.build import BuildConfig, assemble
    from peacegraph.export import export
    from peacegraph.load import ox_format
    from peacegraph.setstore import SetStore
    from peacegraph.validate import _UnionView, load_shapes, validate_graph

    progress = progress or Progress(False)
    shapes_dir = paths.data_dir("shapes")
    config = BuildConfig.defaults(seeds=corpus / "seeds", graph=corpus / "graph", out=work / "dist",
                                  quiet=True)
    progress.note("  assembling and exporting")
    assembly = assemble(config, Progress(False))
    export(assembly.dataset, config.out)

    progress.note("  the validate stage")
    shapes = load_shapes(shapes_dir)
    started = time.perf_counter()
    # what peacegraph bench times as the stage (validate_assembly's validate_graph)
    report = validate_graph(assembly.dataset, shapes, origin=assembly.origin)
    stage = time.perf_counter() - started

    plain = Graph(store=SetStore())
    plain.store.add_triples(_UnionView(assembly.dataset).triples((None, None, None)), plain)
    prefixes = [f for f in rdf_files(shapes_dir) if f.name == "prefixes.ttl"]
    progress.note("  the engine alone: all shapes, then no shape")
    engine, conforms = _engine_seconds(plain, shapes, runs)
    intake, _ = _engine_seconds(plain, _shapes_of(prefixes), runs)
    triples = len(plain)
    del plain, assembly

    dump = config.out / "peacegraph.trig"
    given = bench_floors._given(list(ox.parse(path=str(dump), format=ox_format(dump))))
    progress.note("  the floor")
    floor = bench_floors.validate_floor(given, shapes_dir)
    return {"triples": triples, "conforms": bool(report.conforms) and conforms,
            "stage_seconds": round(stage, 3), "engine_seconds": round(engine, 3),
            "intake_seconds": round(intake, 3), "floor_seconds": round(floor, 3),
            "runs": runs}


def render_markdown(result: dict) -> str:
    floor = result["floor_seconds"]

    def ratio(seconds: float) -> str:
        return figure(seconds / floor, ".1f") + "×"

    lines = ["# peacegraph validation: the engine's share of the validate stage", "",
             f"{result['cpus']} CPUs, {result['python']}, pyshacl-turbo {result['engine_version']}; "
             f"`python -m peacegraph.bench_validation --triples {result['size']} --out OUT`; "
             f"{size_label(result['size'])} corpus, {result['triples']:,} validated triples "
             f"(ontology, sources, asserted).", "",
             "| measure | s | ÷ floor |", "|---|---|---|",
             f"| validate stage, as the build runs it | {result['stage_seconds']:.2f} | "
             f"{ratio(result['stage_seconds'])} |",
             f"| the engine alone, all shapes | {result['engine_seconds']:.2f} | "
             f"{ratio(result['engine_seconds'])} |",
             f"| the engine alone, a shapes graph with no shape (taking in the data) | "
             f"{result['intake_seconds']:.2f} | {ratio(result['intake_seconds'])} |",
             f"| floor (bench_floors: Oxigraph loading the graphs, finding every target class's "
             f"focus nodes) | {floor:.2f} | 1.0× |", "",
             "The engine alone: pyshacl-turbo's `validate` on a plain rdflib graph of the same "
             f"statements, with the build's options; fastest of {result['runs']} runs, as the floor. "
             "The stage is timed once, as in `peacegraph bench`."]
    engine_ratio = result["engine_seconds"] / floor
    verdict = ("above" if engine_ratio > TARGET_RATIO else "within")
    lines += ["", f"- The engine alone is {figure(engine_ratio, '.1f')}× the floor, {verdict} the "
              f"{TARGET_RATIO:g}× of issue 14.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from importlib.metadata import version

    from peacegraph.synth import synthesize

    parser = argparse.ArgumentParser(prog="python -m peacegraph.bench_validation",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=bench_floors.FLOOR_RUNS)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.triples < 1 or args.runs < 1:
        parser.error("--triples and --runs must be at least 1")
    progress = Progress(not args.quiet)
    try:
        with tempfile.TemporaryDirectory(prefix="peacegraph-bench-validation-") as tmp:
            work = Path(tmp)
            progress.note(f"synthesizing about {args.triples:,} triples")
            synthesize(work / "corpus", args.triples, 1)
            result = measure(work / "corpus", work, args.runs, progress)
    except PeacegraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result.update(size=args.triples, cpus=os.cpu_count(), python=platform.python_version(),
                  engine_version=version("pyshacl-turbo"))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "validation.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.out / "validation.md").write_text(render_markdown(result), encoding="utf-8")
    progress.note(f"wrote {args.out / 'validation.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
