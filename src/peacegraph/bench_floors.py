"""The floor of each build stage: the least work the stage's job takes, done by Oxigraph's Rust
code or by one Python pass, on the same corpus and build — what `peacegraph bench` sets each
stage's time against (issue 14: every stage within 3× of its floor).

- parse: Oxigraph parsing every RDF file the build reads (the ontology, `sources.ttl`, the
  curated graph) into quads;
- anchor: reading every quote of the build with its source (one Oxigraph query) and finding it
  in the source text (`str.find`): the reading and the search anchoring cannot skip;
- reason: Oxigraph loading the input graphs and evaluating the rule that yields most of what is
  inferred, class membership through the class hierarchy (OWL 2 RL cax-sco with scm-sco), as
  one CONSTRUCT;
- validate: Oxigraph loading the validated graphs and finding the focus nodes of every
  `sh:targetClass` of the shapes;
- export: Oxigraph writing the built dataset in each RDF format the build writes (TriG,
  N-Quads, Turtle, JSON-LD).

The inputs of each floor are prepared before its clock starts; only the work itself is timed,
FLOOR_RUNS times, and the fastest run is the floor: a single run here varies by a quarter from
one `make bench` to the next, which moved a stage's ratio as much as the stage did.
"""

from __future__ import annotations

import time
from pathlib import Path

from peacegraph import paths
from peacegraph.load import load_sources, ox_format, rdf_files
from peacegraph.namespaces import INFERRED_GRAPH
from peacegraph.query import internal_query

SH_TARGET_CLASS = "http://www.w3.org/ns/shacl#targetClass"
FLOOR_RUNS = 3


def _timed(work, runs: int | None = None) -> float:
    """Seconds of the fastest of `runs` (default FLOOR_RUNS) runs of `work`."""
    best = float("inf")
    for _ in range(runs or FLOOR_RUNS):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _inputs(corpus: Path) -> list[Path]:
    return (rdf_files(paths.data_dir("ontology")) + [corpus / "seeds" / "sources.ttl"]
            + rdf_files(corpus / "graph"))


def parse_floor(files: list[Path]) -> float:
    import pyoxigraph as ox

    def work():
        return sum(sum(1 for _ in ox.parse(path=str(f), format=ox_format(f))) for f in files)

    return _timed(work)


def anchor_floor(store, seeds: Path) -> float:
    import pyoxigraph as ox

    texts = {str(source): text for source, text in load_sources(seeds).texts.items()}
    query = internal_query("floor-quotes")

    def work():
        pairs = [(texts.get(row["source"].value, ""), row["exact"].value)
                 for row in store.query(query, use_default_graph_as_union=True)
                 if isinstance(row["source"], ox.NamedNode)]
        return sum(text.find(exact) >= 0 for text, exact in pairs)

    return _timed(work)


def _given(quads: list) -> list:
    """The quads of the graphs the build reasons over and validates: all but the inferred one."""
    import pyoxigraph as ox

    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    return [q for q in quads if q.graph_name != inferred]


def _store_of(quads: list):
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_extend(quads)
    return store


def reason_floor(given: list) -> float:
    query = internal_query("floor-class-membership")

    def work():
        return sum(1 for _ in _store_of(given).query(query, use_default_graph_as_union=True))

    return _timed(work)


def validate_floor(given: list, shapes: Path) -> float:
    import pyoxigraph as ox

    classes = sorted({t.object.value for f in rdf_files(shapes)
                      for t in ox.parse(path=str(f), format=ox_format(f))
                      if t.predicate.value == SH_TARGET_CLASS and isinstance(t.object, ox.NamedNode)})
    query = internal_query("floor-focus-nodes")

    def work():
        store = _store_of(given)
        return [list(store.query(query, use_default_graph_as_union=True,
                                 substitutions={ox.Variable("class"): ox.NamedNode(c)}))
                for c in classes]

    return _timed(work)


def export_floor(quads: list) -> float:
    import pyoxigraph as ox

    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]

    def work():
        return (len(ox.serialize(quads, format=ox.RdfFormat.TRIG))
                + len(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
                + len(ox.serialize(triples, format=ox.RdfFormat.TURTLE))
                + len(ox.serialize(quads, format=ox.RdfFormat.JSON_LD)))

    return _timed(work)


def measure(corpus: Path, dump: Path) -> dict:
    """Seconds of each stage's floor for the corpus at `corpus` (seeds/, graph/) built into
    `dump` (its TriG)."""
    import pyoxigraph as ox

    quads = list(ox.parse(path=str(dump), format=ox_format(dump)))
    given = _given(quads)
    floors = {"parse": parse_floor(_inputs(corpus)),
              "anchor": anchor_floor(_store_of(quads), corpus / "seeds"),
              "reason": reason_floor(given),
              "validate": validate_floor(given, paths.data_dir("shapes")),
              "export": export_floor(quads)}
    return {stage: round(seconds, 6) for stage, seconds in floors.items()}
