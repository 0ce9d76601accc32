"""`peacegraph build`: load → anchor → reason → validate → export.

    config = BuildConfig.from_args(args)      # or BuildConfig(seeds=..., out=...)
    result = build(config)                    # BuildResult; raises a PeacegraphError on failure

Nothing is written unless every stage succeeds; the export itself swaps the new dist/ in
atomically (peacegraph.export). The data is validated while the build reasons and writes
the export beside dist/ (peacegraph.validation_aside); the export is swapped in only once the
data conforms. What a build need not redo for the same inputs (the shapes
check; the whole build when no input changed) is known from peacegraph.build_cache;
`cache=False` does everything.
"""

from __future__ import annotations

import hashlib
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.namespace import RDF

from peacegraph import paths
from peacegraph.anchor import COMPARED_TERMS, Anchorer, anchored_statements
from peacegraph.build_cache import BuildCache, build_key, code_fingerprint, shapes_key
from peacegraph.errors import AnchorError, InputError, ValidationFailed
from peacegraph.export import Cancelled, write_export
from peacegraph.gcpause import paused_gc
from peacegraph.load import Interned, load_folder, load_sources
from peacegraph.locate import locate_results, located, sources_paths
from peacegraph.namespaces import ASSERTED_GRAPH, BASE, INFERRED_GRAPH, OA, ONTOLOGY_GRAPH, PG, SOURCES_GRAPH, bind_prefixes
from peacegraph.progress import Progress, progress_wanted
from peacegraph.reason import infer
from peacegraph.setstore import SetStore
from peacegraph.sources import default_source, load_graph_folder, stem_of
from peacegraph.statements import statements
from peacegraph.validate import load_shapes, validate_graph
from peacegraph.validation_aside import ValidationAside
from peacegraph.void import Release

GENID = BASE + ".well-known/genid/"


@dataclass
class BuildConfig:
    seeds: Path
    ontology: Path
    graph: Path
    shapes: Path
    out: Path
    quiet: bool = False
    reason: bool = True
    sparql_endpoint: str | None = None
    csv_bom: bool = False
    release: Release | None = None       # the version the dumps state (default: the package's)
    download_url: str | None = None      # where the files are published (default base/download/)
    cache: bool = True                   # reuse what an earlier build did for the same inputs

    @classmethod
    def defaults(cls, **overrides) -> BuildConfig:
        values = dict(seeds=paths.data_dir("seeds"), ontology=paths.data_dir("ontology"),
                      graph=paths.data_dir("graph"), shapes=paths.data_dir("shapes"),
                      out=paths.default_dist())
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def from_args(cls, args) -> BuildConfig:
        """Fill the folders not given on the command line from peacegraph.paths."""
        config = cls.defaults(**{name: getattr(args, name, None)
                                 for name in ("seeds", "ontology", "graph", "shapes", "out", "quiet",
                                              "sparql_endpoint", "csv_bom")})
        config.cache = not getattr(args, "no_cache", False)
        return config


@dataclass
class Assembly:
    dataset: Dataset
    origin: dict
    texts: dict
    seconds: dict = field(default_factory=dict)
    # the names in `origin` -> their files, for file:line:column in reports
    paths: dict = field(default_factory=dict)

    def graph(self, name: URIRef) -> Graph:
        return self.dataset.graph(name)

    def validation_data(self) -> Graph:
        """ontology ∪ sources ∪ asserted: what the shapes check (inferred triples are not)."""
        data = Graph()
        for name in (ONTOLOGY_GRAPH, SOURCES_GRAPH, ASSERTED_GRAPH):
            data += self.dataset.graph(name)
        bind_prefixes(data)
        return data


@dataclass
class BuildResult:
    out: Path
    counts: dict            # named graph IRI -> triples
    spans: int              # evidence spans (oa:SpecificResource)
    seconds: float
    files: list
    unchanged: bool = False  # no input changed since the last build: its files were kept

    def summary(self) -> str:
        per_graph = ", ".join(f"{str(g).rsplit('/', 1)[-1]} {n:,}" for g, n in self.counts.items())
        kept = "; no input changed since the last build" if self.unchanged else ""
        return (f"built {self.out}: {sum(self.counts.values()):,} triples ({per_graph}); "
                f"{self.spans:,} evidence spans{kept}; {self.seconds:.1f} s")


def _node_key(graph: Graph, node: BNode, seen: frozenset = frozenset()) -> str:
    """A content hash of a blank node: its outgoing statements, nested blank nodes included."""
    if node in seen or len(seen) > 200:
        raise InputError("blank-node structure is cyclic or nested too deeply to name")
    parts = []
    for p, o in graph.predicate_objects(node):
        if isinstance(o, BNode):
            parts.append(f"{p.n3()} [{_node_key(graph, o, seen | {node})}]")
        else:
            parts.append(f"{p.n3()} {o.n3()}")
    parts.sort()
    return "\n".join(parts)


def skolemize(graph: Graph, origin: dict | None = None) -> Graph:
    """Replace every blank node by an IRI under .well-known/genid/ derived from its content,
    so the ontology's class expressions and lists get the same names in every build."""
    bnodes = {t for triple in graph for t in triple if isinstance(t, BNode)}
    if not bnodes:
        return graph
    names = {}
    for b in bnodes:
        try:
            key = _node_key(graph, b)
        except InputError as exc:
            raise InputError(str(exc), file=(origin or {}).get(b)) from None
        names[b] = URIRef(GENID + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16])
    out = Graph()
    for s, p, o in graph:
        out.add((names.get(s, s), p, names.get(o, o)))
    bind_prefixes(out)
    return out


def _span_count(graph: Graph) -> int:
    """The evidence spans of a graph (its oa:SpecificResource), counted in one pass over its
    statements: a pattern lookup would index the whole graph by object for this one count."""
    kinds = frozenset({OA.SpecificResource})
    rdf_type = RDF.type
    return len({s for s, p, o in statements(graph) if o in kinds and p == rdf_type})


def _changed_sources_error(sources, curated: Graph, origin: dict) -> ValidationFailed:
    """A source text whose sha256 no longer matches sources.ttl: name it and the quotes that
    no longer match its current text."""
    lines = []
    anchorer = Anchorer(sources.texts)
    for source, (recorded, actual) in sorted(sources.changed.items()):
        path = sources.text_files[source]
        broken = []
        total = 0
        for node in set(curated.subjects(PG.quote, None)):
            owner = next(iter(curated.subjects(PG.evidence, node)), None)
            src = curated.value(node, PG.source) or default_source(origin.get(owner), sources.texts)
            if src != source:
                continue
            total += 1
            quote = str(curated.value(node, PG.quote))
            prefix, suffix, occ = (curated.value(node, k) for k in (PG.prefix, PG.suffix, PG.occurrence))
            try:
                anchorer.choose(source, quote, prefix=None if prefix is None else str(prefix),
                                suffix=None if suffix is None else str(suffix),
                                occurrence=None if occ is None else int(str(occ)))
            except (AnchorError, ValueError):
                broken.append((origin.get(owner, "?"), quote))
        if recorded is None:
            why = "has no pg:sha256 in sources.ttl"
        else:
            why = f"was changed: its sha256 is {actual}, sources.ttl records {recorded}"
        if broken:
            listed = "; ".join(f"{f}: {q[:50]!r}" for f, q in sorted(broken)[:10])
            more = f" and {len(broken) - 10} more" if len(broken) > 10 else ""
            lines.append(f"{path} {why}; {len(broken)} of {total} quotes no longer match: "
                         f"{listed}{more}")
        else:
            lines.append(f"{path} {why}; all {total} quotes still match (update pg:sha256 in "
                         "sources.ttl if the edit is intended)")
    return ValidationFailed(" | ".join(lines))


def _infer(data: Graph | Dataset, into: Graph | None = None) -> Graph:
    return infer(data, into=into)


def assemble(config: BuildConfig, progress: Progress | None = None, reason: bool = True) -> Assembly:
    """Load, anchor and (unless reason=False) reason: the dataset with its four named graphs."""
    progress = progress or Progress(False)
    seconds = {}
    with paused_gc():
        # Millions of acyclic terms are created here; cycle collection would rescan them all.
        dataset, origin, texts, origin_paths = _load_and_anchor(config, progress, seconds)

    dataset.graph(INFERRED_GRAPH)
    assembly = Assembly(dataset=dataset, origin=origin, texts=texts, seconds=seconds, paths=origin_paths)
    if reason:
        add_inferences(assembly, progress)
    return assembly


def add_inferences(assembly: Assembly, progress: Progress) -> None:
    """Reason over the assembled graphs, into the inferred graph."""
    inferred_graph = assembly.dataset.graph(INFERRED_GRAPH)
    t0 = time.perf_counter()
    with progress.stage("reason", unit="triples") as tick:
        # The reasoner reads the dataset's graphs in place (a merged copy costs ~1 GB at
        # 1M) and writes its output, which has no blank nodes to name, straight into the
        # inferred graph.
        _infer(assembly.dataset, inferred_graph)
        tick(len(inferred_graph))
    assembly.seconds["reason"] = time.perf_counter() - t0


def _load_and_anchor(config: BuildConfig, progress: Progress, seconds: dict):
    t0 = time.perf_counter()
    with progress.stage("load", unit="files") as tick:
        # one object per term across the three folders, the anchoring vocabulary among them:
        # a source's IRI in a pg:source finds its text, and a key its entry, by identity
        shared = Interned.of(COMPARED_TERMS)
        ontology = load_folder(config.ontology, shared=shared)
        tick(len(ontology.files))
        sources = load_sources(config.seeds, shared=shared)
        tick(len(sources.files))
        curated = load_graph_folder(config.graph, {stem_of(s) for s in sources.texts}, shared)
        tick(len(curated.files))
        del shared
    if not ontology.files:
        raise InputError("no ontology files", file=str(config.ontology))
    if not sources.texts:
        raise InputError("sources.ttl describes no pg:SourceText", file=str(config.seeds))
    if sources.changed:
        raise _changed_sources_error(sources, curated.graph, curated.origin)
    seconds["load"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # a set per graph: rdflib's Memory store would index every statement three ways as it is
    # added, at several hundred bytes and microseconds a statement
    dataset = Dataset(store=SetStore(), default_union=True)
    bind_prefixes(dataset)
    with progress.stage("anchor", total=len(curated.graph), unit="triples") as tick:
        with located(curated.paths):
            anchored = anchored_statements(curated.graph, sources.texts, curated.origin)
        tick(len(curated.graph))
        # the anchored statements replace the curated graph: it goes before they are stored
        curated.graph.close()
        curated.graph = None
        dataset.store.add_triples(anchored, dataset.graph(ASSERTED_GRAPH))
        del anchored
    ontology_graph = skolemize(ontology.graph, ontology.origin)
    for name, g in ((ONTOLOGY_GRAPH, ontology_graph), (SOURCES_GRAPH, sources.graph)):
        dataset.store.add_triples(statements(g), dataset.graph(name))
    for g in (ontology_graph, ontology.graph, sources.graph):
        g.close()
    seconds["anchor"] = time.perf_counter() - t0
    origin = dict(ontology.origin)
    origin.update(sources.origin)
    origin.update(curated.origin)
    origin_paths = {**sources_paths(config.seeds, sources), **curated.paths}
    return dataset, origin, sources.texts, origin_paths


def validate_assembly(assembly: Assembly, shapes_folder: Path, progress: Progress | None = None,
                      *, shapes_checked: bool = False, data_read=None):
    """shapes_checked: the shapes folder is known to pass load_shapes' well-formedness check.
    data_read: a threading.Event set once the engine has read the data (validate_graph)."""
    progress = progress or Progress(False)
    shapes = load_shapes(shapes_folder, check=not shapes_checked)
    with progress.stage("validate", unit="shapes"):
        # A Dataset is validated in place (ontology ∪ sources ∪ asserted), not merged first.
        report = validate_graph(assembly.dataset, shapes, origin=assembly.origin, data_read=data_read)
    return locate_results(report, assembly.dataset, assembly.paths)


def build(config: BuildConfig, progress: Progress | None = None) -> BuildResult:
    """Assemble, validate and export. Raises ValidationFailed (carrying the report) when the data
    violates the shapes; nothing is written then."""
    progress = progress or Progress(progress_wanted(config.quiet))
    started = time.perf_counter()
    cache = keys = None
    if config.cache:
        cache = BuildCache(config.out)
        code = code_fingerprint()
        keys = (build_key(config, code), shapes_key(config.shapes, code))
        kept = cache.unchanged(keys[0])
        if kept is not None:
            return BuildResult(out=Path(config.out), counts={URIRef(g): n for g, n in kept.counts.items()},
                               spans=kept.spans, seconds=time.perf_counter() - started,
                               files=kept.files, unchanged=True)
    assembly = assemble(config, progress, reason=False)
    checked = cache is not None and cache.shapes_checked(keys[1])

    def write(stop=None):
        with progress.stage("export", unit="files"):
            return write_export(assembly.dataset, config.out, sparql_endpoint=config.sparql_endpoint,
                                release=config.release, download_url=config.download_url,
                                csv_bom=config.csv_bom, stop=stop)

    validation = ValidationAside(lambda data_read: validate_assembly(
        assembly, config.shapes, Progress(False), shapes_checked=checked, data_read=data_read))
    try:
        with validation:
            # the engine reads the data in Python: reasoning now would slow both to half speed
            validation.data_read.wait()
            if config.reason:
                add_inferences(assembly, progress)
            try:
                pending = write(validation.stop)
            except Cancelled:
                pending = None    # the report says why
            committed = False
            try:
                with progress.stage("validate", unit="shapes"):
                    report = validation.report()
                if cache is not None:
                    # Inputs saved while this build read them: the shapes it loaded may not be those it
                    # knew to be well-formed, and the record must not pair the new inputs with this
                    # output.
                    now = (build_key(config, code), shapes_key(config.shapes, code))
                    if checked and now[1] != keys[1]:
                        report = validate_assembly(assembly, config.shapes, progress)
                    if now != keys:
                        cache = None
                if not report.conforms:
                    n = len(report.results)
                    raise ValidationFailed(f"{n} shape violation{'s' if n != 1 else ''}; nothing was "
                                           f"written to {config.out}", report=report)
                counts = {name: len(assembly.dataset.graph(name))
                          for name in (ONTOLOGY_GRAPH, ASSERTED_GRAPH, INFERRED_GRAPH, SOURCES_GRAPH)}
                spans = _span_count(assembly.dataset.graph(ASSERTED_GRAPH))
                if cache is not None:
                    Path(config.out).absolute().parent.mkdir(parents=True, exist_ok=True)
                if pending is None:
                    # stopped for a report that validating again with the saved shapes overturned
                    pending = write()
                with cache.turn() if cache is not None else nullcontext(False) as recording:
                    committed = True
                    files = pending.commit()
                    if recording:
                        cache.save(build=keys[0], shapes=keys[1], files=files, spans=spans,
                                   counts={str(g): n for g, n in counts.items()})
            finally:
                if pending is not None and not committed:
                    pending.discard()
    finally:
        # Nothing returned or raised holds a statement of the dataset. Its graphs and store
        # refer to one another, so dropped whole it would wait for a full collection, and a
        # process that builds again and again (build --watch) would grow by one each time.
        # Validation may still be reading it (the export failed first): then it is let go of
        # when validation ends.
        validation.then(assembly.dataset.store.close)
    return BuildResult(out=Path(config.out), counts=counts, spans=spans,
                       seconds=time.perf_counter() - started, files=files)
