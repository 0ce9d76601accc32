"""SHACL validation of the peacegraph data: the shapes in shapes/*.ttl.

`load_shapes` reads a shapes folder and refuses shapes that are themselves broken (bad syntax,
or SHACL that pyshacl would silently misread) with a ShapesError, exit code 2 — distinct from
data that violates good shapes (ValidationReport.conforms False, exit code 1).
`validate_graph` runs the shapes over ontology ∪ sources ∪ asserted and returns a report
readable by a person (`.text()`) or as a standard sh:ValidationReport (`.turtle()`).

Two engines give the same report (tests/test_validation_engines.py compares every result —
focus node, source shape, path, value, severity, component and message — on every shape
fixture and on the shipped graph, valid and broken):

- ``"turbo"`` (the default): pyshacl-turbo, pyshacl's semantics and report compiled to Rust,
  SHACL-SPARQL evaluated by Oxigraph's SPARQL engine; measured here on synthetic corpora,
  about 1.3 s at 100k triples (pyshacl: 16 s) and 16-18 s at 1M (pyshacl: about 200 s). A
  Dataset is read in place, graph by graph, rather than merged into a copy;
- ``"pyshacl"``: the pure-Python reference implementation.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.paths import Path as RDFPath

from peacegraph.errors import InputError, PeacegraphError, QueryError, ShapesError
from peacegraph.gcpause import paused_gc
from peacegraph.guard import check_query
from peacegraph.load import DATASET_FORMATS, guess_format, load_folder, parse_rdf_file, rdf_files
from peacegraph.namespaces import INFERRED_GRAPH, SH, bind_prefixes
from peacegraph.statements import statements

SHAPES_NS = "https://w3id.org/peacegraph/shapes#"

ENGINES = ("turbo", "pyshacl")
DEFAULT_ENGINE = "turbo"

# Parameters whose value must be a non-negative xsd:integer.
_COUNT_PARAMETERS = (SH.minCount, SH.maxCount, SH.minLength, SH.maxLength,
                     SH.qualifiedMinCount, SH.qualifiedMaxCount)
# Parameters whose value must be an IRI.
_IRI_PARAMETERS = (SH["class"], SH.datatype, SH.targetClass, SH.targetSubjectsOf,
                   SH.targetObjectsOf, SH.severity)
# Parameters whose value must be a shape.
_SHAPE_PARAMETERS = (SH.node, SH["not"], SH.qualifiedValueShape, SH.property)
# Parameters whose value must be a well-formed RDF list.
_LIST_PARAMETERS = (SH["in"], SH["or"], SH["and"], SH.xone, SH.languageIn, SH.ignoredProperties)
_LIST_OF_SHAPES = (SH["or"], SH["and"], SH.xone)
_NODE_KINDS = {SH.IRI, SH.BlankNode, SH.Literal, SH.BlankNodeOrIRI, SH.BlankNodeOrLiteral,
               SH.IRIOrLiteral}
_SEVERITIES = {SH.Violation, SH.Warning, SH.Info}
_PATH_KEYS = (SH.inversePath, SH.alternativePath, SH.zeroOrMorePath, SH.oneOrMorePath,
              SH.zeroOrOnePath)
_CONSTRAINT_PARAMETERS = (
    SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount, SH.minExclusive,
    SH.minInclusive, SH.maxExclusive, SH.maxInclusive, SH.minLength, SH.maxLength, SH.pattern,
    SH.languageIn, SH.uniqueLang, SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals,
    SH["not"], SH["and"], SH["or"], SH.xone, SH.node, SH.property, SH.qualifiedValueShape,
    SH.closed, SH.hasValue, SH["in"], SH.sparql)
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


# ------------------------------------------------------------------------------ shapes

def load_shapes(folder, *, check: bool = True) -> Graph:
    """Parse every RDF file of a shapes folder into one graph and check that it is well-formed
    SHACL. Raises ShapesError (exit code 2) naming the file and the problem. check=False skips
    the well-formedness check, for shapes known to have passed it (peacegraph.build_cache)."""
    folder = Path(folder)
    try:
        files = rdf_files(folder)
    except InputError as exc:
        raise ShapesError(f"shapes folder: {exc.message}", file=exc.file) from None
    if not files:
        raise ShapesError("no shapes files (*.ttl) in the shapes folder", file=str(folder))
    shapes = Graph()
    where: dict = {}
    for path in files:
        try:
            part = parse_rdf_file(path)
        except InputError as exc:
            raise ShapesError(f"shapes file: {exc.message}", file=exc.file, line=exc.line,
                              column=exc.column) from None
        for s in part.subjects(unique=True):
            where.setdefault(s, str(path))
        shapes += part
    problems = check_shapes(shapes) if check else []
    if problems:
        node, message = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ShapesError(f"invalid SHACL: {_show(shapes, node)}: {message}{more}",
                          file=where.get(node, str(folder)))
    bind_prefixes(shapes)
    shapes.bind("pgsh", SHAPES_NS)
    return shapes


def _non_negative_integer(o) -> bool:
    return (isinstance(o, Literal) and o.datatype == XSD.integer and o.ill_typed is not True
            and isinstance(o.value, int) and o.value >= 0)


def _boolean(o) -> bool:
    return isinstance(o, Literal) and o.datatype == XSD.boolean and o.ill_typed is not True


# What the value of a parameter must be: (parameters, test of the value, what the message says it
# must be; "{value}" is the value found).
_VALUE_RULES = (
    (_COUNT_PARAMETERS, _non_negative_integer, "a non-negative xsd:integer, not {value}"),
    (_IRI_PARAMETERS, lambda o: isinstance(o, URIRef), "an IRI, not {value}"),
    ((SH.targetNode,), lambda o: not isinstance(o, BNode), "an IRI or a literal, not a blank node"),
    ((SH.nodeKind,), lambda o: o in _NODE_KINDS,
     "one of sh:IRI, sh:BlankNode, sh:Literal, sh:BlankNodeOrIRI, sh:BlankNodeOrLiteral, "
     "sh:IRIOrLiteral, not {value}"),
    ((SH.severity,), lambda o: o in _SEVERITIES, "sh:Violation, sh:Warning or sh:Info, not {value}"),
    ((SH.minExclusive, SH.minInclusive, SH.maxExclusive, SH.maxInclusive),
     lambda o: isinstance(o, Literal), "a literal, not {value}"),
    ((SH.closed, SH.uniqueLang, SH.deactivated), _boolean, "true or false, not {value}"),
)


def _value_problems(shapes: Graph) -> list[tuple]:
    problems = []
    for params, ok, must_be in _VALUE_RULES:
        for param in params:
            for s, o in shapes.subject_objects(param):
                if not ok(o):
                    problems.append((s, f"{_qname(shapes, param)} must be {must_be.format(value=o.n3())}"))
    for s, o in shapes.subject_objects(SH.pattern):
        try:
            re.compile(str(o), _regex_flags(shapes.value(s, SH.flags)))
        except re.error as exc:
            problems.append((s, f"sh:pattern {o.n3()} is not a valid regular expression ({exc})"))
    for s, o in shapes.subject_objects(SH.message):
        if not isinstance(o, Literal):
            problems.append((s, f"sh:message must be a literal, not {o.n3()}"))
    return problems


def _reference_problems(shapes: Graph) -> list[tuple]:
    """Lists that are not RDF lists, and references to shapes the graph does not define."""
    problems = []
    for param in _LIST_PARAMETERS:
        for s, o in shapes.subject_objects(param):
            items = _list_items(shapes, o)
            if items is None:
                problems.append((s, f"{_qname(shapes, param)} must be a well-formed RDF list"))
            elif param in _LIST_OF_SHAPES:
                problems.extend((s, f"{_qname(shapes, param)} lists {_show(shapes, item)}, which is not "
                                    "a shape defined in the shapes graph")
                                for item in items if not _is_shape(shapes, item))
    for param in _SHAPE_PARAMETERS:
        for s, o in shapes.subject_objects(param):
            if not _is_shape(shapes, o):
                problems.append((s, f"{_qname(shapes, param)} points to {_show(shapes, o)}, which is "
                                    "not a shape defined in the shapes graph"))
    return problems


def _path_problems(shapes: Graph) -> list[tuple]:
    """Property shapes need exactly one well-formed sh:path; node shapes have none."""
    problems = []
    property_shapes = set(shapes.objects(None, SH.property))
    property_shapes.update(shapes.subjects(RDF.type, SH.PropertyShape))
    for shape in property_shapes:
        paths = list(shapes.objects(shape, SH.path))
        if len(paths) != 1:
            problems.append((shape, "a property shape needs exactly one sh:path" if not paths
                             else "a property shape has more than one sh:path"))
        elif not _path_ok(shapes, paths[0], depth=0):
            problems.append((shape, f"sh:path {_show(shapes, paths[0])} is not a SHACL property path"))
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        if (shape, SH.path, None) in shapes:
            problems.append((shape, "a sh:NodeShape must not have a sh:path"))
    return problems


def _sparql_shape_problems(shapes: Graph) -> list[tuple]:
    """SPARQL-based targets and constraints: each with exactly one query of the right form."""
    problems = []
    for s, target in shapes.subject_objects(SH.target):
        if (target, RDF.type, SH.SPARQLTarget) not in shapes:
            problems.append((s, f"sh:target {_show(shapes, target)} is not a sh:SPARQLTarget"))
    for node in set(shapes.subjects(RDF.type, SH.SPARQLTarget)):
        problems.extend(_sparql_problems(shapes, node, SH.select, "SELECT", target=True))
    for constraint in shapes.objects(None, SH.sparql):
        queries = list(shapes.objects(constraint, SH.select)) + list(shapes.objects(constraint, SH.ask))
        if len(queries) != 1:
            problems.append((constraint, "a SPARQL constraint needs exactly one sh:select or sh:ask"))
            continue
        kind = SH.select if (constraint, SH.select, None) in shapes else SH.ask
        problems.extend(_sparql_problems(shapes, constraint, kind,
                                         "SELECT" if kind == SH.select else "ASK"))
    return problems


def check_shapes(shapes: Graph) -> list[tuple]:
    """Well-formedness problems of a shapes graph, as (node, message) pairs, in a stable order.

    pyshacl accepts much of this silently (a sh:minCount "abc" is ignored, a property shape
    without sh:path is skipped), so a broken shape would pass every data graph unnoticed."""
    problems = (_value_problems(shapes) + _reference_problems(shapes) + _path_problems(shapes)
                + _sparql_shape_problems(shapes))
    problems.sort(key=lambda p: (str(p[0]), p[1]))
    return problems


def _is_shape(shapes: Graph, node) -> bool:
    if (node, RDF.type, SH.NodeShape) in shapes or (node, RDF.type, SH.PropertyShape) in shapes:
        return True
    return any((node, p, None) in shapes for p in _CONSTRAINT_PARAMETERS + _TARGETS + (SH.path,))


def _list_items(graph: Graph, node) -> list | None:
    items, seen = [], set()
    while node != RDF.nil:
        if node in seen or not isinstance(node, (URIRef, BNode)):
            return None
        seen.add(node)
        firsts = list(graph.objects(node, RDF.first))
        rests = list(graph.objects(node, RDF.rest))
        if len(firsts) != 1 or len(rests) != 1:
            return None
        items.append(firsts[0])
        node = rests[0]
    return items


def _path_ok(shapes: Graph, path, depth: int) -> bool:
    if depth > 50:
        return False
    if isinstance(path, URIRef):
        return True
    if not isinstance(path, BNode):
        return False
    if (path, RDF.first, None) in shapes:
        items = _list_items(shapes, path)
        return bool(items) and len(items) >= 2 and all(_path_ok(shapes, i, depth + 1) for i in items)
    keys = [p for p in _PATH_KEYS if (path, p, None) in shapes]
    if len(keys) != 1:
        return False
    value = shapes.value(path, keys[0])
    if keys[0] == SH.alternativePath:
        items = _list_items(shapes, value)
        return bool(items) and all(_path_ok(shapes, i, depth + 1) for i in items)
    return _path_ok(shapes, value, depth + 1)


def _prefix_declarations(shapes: Graph, node) -> tuple[dict, list[str]]:
    prefixes: dict = {}
    problems: list[str] = []
    for holder in shapes.objects(node, SH.prefixes):
        for decl in shapes.objects(holder, SH.declare):
            names = list(shapes.objects(decl, SH.prefix))
            spaces = list(shapes.objects(decl, SH.namespace))
            if len(names) != 1 or len(spaces) != 1:
                problems.append(f"prefix declaration {_show(shapes, decl)} needs exactly one "
                                "sh:prefix and one sh:namespace")
                continue
            prefixes[str(names[0])] = str(spaces[0])
    return prefixes, problems


def _sparql_problems(shapes: Graph, node, prop, form: str, target: bool = False) -> list[tuple]:
    queries = list(shapes.objects(node, prop))
    if len(queries) != 1 or not isinstance(queries[0], Literal):
        return [(node, f"needs exactly one {_qname(shapes, prop)} string")]
    prefixes, problems = _prefix_declarations(shapes, node)
    result = [(node, p) for p in problems]
    header = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(prefixes.items()))
    text = str(queries[0])
    try:
        found = _query_form(header + text)
    except (QueryError, SyntaxError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        result.append((node, f"the SPARQL query does not parse: {first}"))
        return result
    if form == "SELECT" and found != "SELECT":
        result.append((node, f"{_qname(shapes, prop)} must hold a SELECT query"))
    if form == "ASK" and found != "ASK":
        result.append((node, f"{_qname(shapes, prop)} must hold an ASK query"))
    if target and "?this" not in text and "$this" not in text:
        result.append((node, "a SPARQL target must select ?this"))
    return result


def _query_form(text: str) -> str:
    """The form of a query (SELECT, ASK…), once Oxigraph's parser accepts it: raises QueryError
    or SyntaxError. The guard comes first, so the parse, done by preparing the query on an empty
    store, can never reach a SERVICE (a hundred times faster than rdflib's parser, which took a
    second over the shipped shapes)."""
    import pyoxigraph as ox

    form = check_query(text).form
    ox.Store().query(text)
    return form


def _regex_flags(flags) -> int:
    value = 0
    for ch in str(flags or ""):
        value |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}.get(ch, 0)
    return value


# ------------------------------------------------------------------------------ report

@dataclass(frozen=True)
class ValidationResult:
    """One result of a validation: what is wrong, where, and which shape says so."""

    focus: object
    path: object
    message: str
    severity: object
    source_shape: object
    value: object
    file: str | None
    # the node whose definition is at fault, and where it is (peacegraph.locate)
    node: object = None
    line: int | None = None
    column: int | None = None

    @property
    def where(self) -> str | None:
        """``file:line:column`` (as much of it as is known)."""
        if not self.file:
            return None
        return ":".join(str(x) for x in (self.file, self.line, self.column) if x is not None)


@dataclass
class ValidationReport:
    """The outcome of validate_graph. `graph` is the standard sh:ValidationReport."""

    conforms: bool
    results: list = field(default_factory=list)
    graph: Graph = field(default_factory=Graph)
    triples: int = 0
    names: Graph | None = None

    def text(self, max_per_shape: int | None = None) -> str:
        """A report for a person: the number of results per shape, then the results of each
        shape (the first `max_per_shape` of each; all when None), then what the results mean
        for the source texts (which files changed and which of their quotes no longer match)."""
        names = self.names if self.names is not None else self.graph
        if self.conforms and not self.results:
            return f"Valid: {self.triples:,} triples conform to the shapes.\n"
        violations = sum(1 for r in self.results if r.severity == SH.Violation)
        lines = [f"{'Invalid' if not self.conforms else 'Valid with remarks'}: "
                 f"{len(self.results)} result{'s' if len(self.results) != 1 else ''} "
                 f"({violations} violation{'s' if violations != 1 else ''}) "
                 f"in {self.triples:,} triples.", ""]
        by_shape: dict = {}
        for r in self.results:
            by_shape.setdefault(r.source_shape, []).append(r)
        shapes = sorted(by_shape, key=lambda shape: (-len(by_shape[shape]), _show(names, shape)))
        if len(shapes) > 1:
            lines.append("Results per shape:")
            lines.extend(f"   {len(by_shape[shape]):>8,}  {_show(names, shape)}" for shape in shapes)
            lines.append("")
        n = 0
        for shape in shapes:
            results = by_shape[shape]
            shown = results if max_per_shape is None else results[:max_per_shape]
            for r in shown:
                n += 1
                severity = _qname(names, r.severity).split(":")[-1] if r.severity is not None else "Violation"
                lines.append(f"{n}. {severity} of {_show(names, r.source_shape)}")
                lines.append(f"   focus:   {_show(names, r.focus)}"
                             + (f"   (defined in {r.where})" if r.file else ""))
                if r.path is not None:
                    lines.append(f"   path:    {_show(names, r.path)}")
                if r.value is not None:
                    lines.append(f"   value:   {_short(_show(names, r.value))}")
                lines.append(f"   message: {r.message}")
                lines.append("")
            if len(shown) < len(results):
                lines.append(f"   … and {len(results) - len(shown):,} more of {_show(names, shape)}")
                lines.append("")
        changed = by_shape.get(URIRef(SHAPES_NS + "SourceHashShape"), [])
        quotes = by_shape.get(URIRef(SHAPES_NS + "QuoteMatchesTextShape"), [])
        if changed or quotes:
            lines.append("Source texts:")
            for r in changed:
                lines.append(f"   {_show(names, r.focus)} changed since it was described "
                             f"(pg:sha256 {_show(names, r.value)} no longer matches its text)")
            if quotes:
                verb = "quote no longer matches" if len(quotes) == 1 else "quotes no longer match"
                lines.append(f"   {len(quotes)} {verb} the text at its offsets:")
                shown = quotes if max_per_shape is None else quotes[:max_per_shape]
                for r in shown:
                    lines.append(f"     {_show(names, r.focus)}"
                                 + (f" (evidence in {r.where})" if r.file else "")
                                 + f": {_short(str(r.value), 80)}")
                if len(shown) < len(quotes):
                    lines.append(f"     … and {len(quotes) - len(shown):,} more")
            lines.append("")
        if max_per_shape is not None and any(len(rs) > max_per_shape for rs in by_shape.values()):
            lines.append(f"The first {max_per_shape} results of each shape are shown; "
                         "--max-results 0 shows them all, --report FILE writes them all to FILE.")
            lines.append("")
        return "\n".join(lines)

    def turtle(self) -> str:
        """The standard SHACL validation report (sh:ValidationReport) as Turtle."""
        return self.graph.serialize(format="turtle")


# Results of one shape a report shows unless asked for more: enough to see the pattern.
MAX_RESULTS_PER_SHAPE = 10


def report_limit(args) -> int | None:
    """Results per shape a command shows: --max-results, 0 meaning all."""
    limit = getattr(args, "max_results", MAX_RESULTS_PER_SHAPE)
    if limit is not None and limit < 0:
        raise InputError("--max-results must be 0 (all) or more")
    return limit or None


def write_report(path, report: ValidationReport, fmt: str = "text") -> None:
    """The full report (every result) to `path`, as text or Turtle; the file appears whole or not
    at all."""
    path = Path(path)
    body = report.turtle() if fmt == "turtle" else report.text()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write the report: {exc.strerror or exc}", file=str(path)) from None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _qname(graph: Graph, term) -> str:
    try:
        return graph.namespace_manager.normalizeUri(term)
    except Exception:
        return f"<{term}>"


def _show(graph: Graph, term) -> str:
    if term is None:
        return "(none)"
    if isinstance(term, URIRef):
        shown = _qname(graph, term)
        return shown if not shown.startswith("<") else f"<{term}>"
    if isinstance(term, Literal):
        return term.n3(graph.namespace_manager)
    if isinstance(term, BNode):
        return "a blank node"
    return str(term)


# ------------------------------------------------------------------------------ validation

def data_for_validation(data) -> Graph:
    """The graph SHACL sees: ontology ∪ sources ∪ asserted. A Dataset is reduced to those named
    graphs (and its default graph); the inferred graph is never validated."""
    if isinstance(data, Dataset):
        merged = Graph()
        for ctx in data.graphs():
            if ctx.identifier == INFERRED_GRAPH:
                continue
            merged += ctx
        bind_prefixes(merged)
        return merged
    if isinstance(data, Graph):
        return data
    raise TypeError(f"expected an rdflib Graph or Dataset, got {type(data).__name__}")


def _object_id(triple) -> int:
    return id(triple[2])


class _UnionView(Graph):
    """ontology ∪ sources ∪ asserted of a Dataset, read in place: its triples are those of the
    named graphs other than the inferred one, each triple once, without copying them into a
    store of its own. Meant for reading; nothing is ever added to it."""

    def __init__(self, dataset: Dataset, on_read=None):
        """on_read: called once a whole walk of the view has ended."""
        super().__init__()
        self._on_read = on_read
        parts = [ctx for ctx in dataset.graphs() if ctx.identifier != INFERRED_GRAPH and len(ctx)]
        # The largest graph first: only the triples of the smaller ones are checked for repeats.
        self._parts = sorted(parts, key=len, reverse=True)
        self.namespace_manager = dataset.namespace_manager
        bind_prefixes(self)

    def triples(self, pattern):
        s, p, o = pattern
        if isinstance(p, RDFPath):
            for s2, o2 in p.eval(self, s, o):
                yield s2, p, o2
            return
        if s is None and p is None and o is None:
            # a whole walk (how the engine reads its input)
            for group in self._by_predicate():
                yield from group
            if self._on_read is not None:
                self._on_read()
            return
        for i, part in enumerate(self._parts):
            earlier = self._parts[:i]
            for triple in part.triples(pattern):
                if not any(triple in e for e in earlier):
                    yield triple

    def _by_predicate(self):
        """Every triple once, in one list per predicate, each list in the order its objects
        were made (by their ids, which follow the order of allocation). The engine takes its
        input in the order given, and validates the shipped shapes faster when each predicate's
        statements come together: at 1M, a median of 17.7 s against 21.2 s in the order of a
        set (seven runs each, alternated); and with each predicate's objects in the order they
        were made (a term read from a file is made where the file names it first), 16.0 s
        against 17.0 s (nine runs each, alternated; faster in eight of the nine pairs), the
        0.4 s of sorting included. Grouping by object term, compared as a term, gained
        nothing."""
        groups: dict = {}
        largest, others = self._statements_once()
        for triple in chain(largest, others):
            group = groups.get(triple[1])
            if group is None:
                group = groups[triple[1]] = []
            group.append(triple)
        for group in groups.values():
            group.sort(key=_object_id)
        return groups.values()

    def _statements_once(self):
        """The largest graph's own statements, and those of the smaller graphs that no larger
        one holds: each triple of the view once, with only the smaller graphs checked."""
        sets = [statements(part) for part in self._parts]
        others = (triple for i, part in enumerate(sets[1:], start=1) for triple in part
                  if not any(triple in earlier for earlier in sets[:i]))
        return (sets[0] if sets else ()), others

    def __len__(self) -> int:
        largest, others = self._statements_once()
        return len(largest) + sum(1 for _ in others)


def validate_graph(data, shapes: Graph, origin: dict | None = None,
                   engine: str = DEFAULT_ENGINE, *, data_read=None) -> ValidationReport:
    """Validate `data` (ontology ∪ sources ∪ asserted; a Graph or a Dataset) against `shapes`
    (from load_shapes). `origin` maps subjects to the file that defines them, for the report.
    `engine` is "turbo" (the default) or "pyshacl" (the reference); both give the same report.
    `data_read`, a threading.Event, is set once the turbo engine has read a Dataset's
    statements (it reads them once, then validates in native code): the Dataset's other graphs
    may be written from then on. It is set by nothing else; peacegraph.validation_aside sets it
    when validation ends, whatever happened."""
    if engine not in ENGINES:
        raise PeacegraphError(f"unknown validation engine {engine!r}; expected one of "
                              f"{', '.join(ENGINES)}")
    if engine == "pyshacl":
        graph = data_for_validation(data)
        conforms, results_graph = _run_pyshacl(graph, shapes)
    else:
        # The engine only reads the data once, triple by triple, so a Dataset is not merged
        # into a copy (which at a million triples costs more than the validation itself).
        graph = (_UnionView(data, on_read=None if data_read is None else data_read.set)
                 if isinstance(data, Dataset) else data_for_validation(data))
        with paused_gc():
            conforms, results_graph = _run_turbo(graph, shapes)
    bind_prefixes(results_graph)
    results_graph.bind("pgsh", SHAPES_NS)
    names = Graph()
    names.namespace_manager = graph.namespace_manager
    bind_prefixes(names)
    names.bind("pgsh", SHAPES_NS)
    results = _results(results_graph, graph, origin or {})
    return ValidationReport(conforms=bool(conforms), results=results, graph=results_graph,
                            triples=len(graph), names=names)


def _run_pyshacl(graph: Graph, shapes: Graph) -> tuple[bool, Graph]:
    import pyshacl
    from pyshacl.errors import ConstraintLoadError, ReportableRuntimeError, ShapeLoadError

    try:
        # The ontology is part of the data graph rather than passed as ont_graph: pyshacl would
        # copy the whole data graph to mix it in (35% slower at 100k triples) and mixes in only
        # class and property axioms, so topic concepts and pg:AttestedProperty typing would be
        # missing from what the shapes see.
        conforms, results_graph, _ = pyshacl.validate(
            graph, shacl_graph=shapes, inference="none", advanced=True,
            allow_warnings=True, allow_infos=True, inplace=True, abort_on_first=False)
    except (ShapeLoadError, ConstraintLoadError) as exc:
        raise ShapesError(f"invalid SHACL: {_first_line(exc)}") from None
    except ReportableRuntimeError as exc:
        raise PeacegraphError(f"validation failed to run: {_first_line(exc)}") from None
    return conforms, results_graph


def _run_turbo(graph: Graph, shapes: Graph) -> tuple[bool, Graph]:
    import pyshacl_turbo
    from pyshacl_turbo.errors import ReportableRuntimeError

    try:
        # Not inplace: with no inference nothing would be written back, and inplace makes the
        # engine merge its working copy into the data graph afterwards.
        conforms, results_graph, _ = pyshacl_turbo.validate(
            graph, shacl_graph=shapes, inference="none", advanced=True,
            allow_warnings=True, allow_infos=True, abort_on_first=False)
    except ValueError as exc:  # how the engine's shape compiler rejects malformed SHACL
        raise ShapesError(f"invalid SHACL: {_first_line(exc)}") from None
    except (ReportableRuntimeError, TypeError) as exc:
        raise PeacegraphError(f"validation failed to run: {_first_line(exc)}") from None
    if not isinstance(results_graph, Graph):
        # An engine failure object (pyshacl-turbo's ValidationFailure) instead of a report.
        raise PeacegraphError(f"validation failed to run: {_first_line(results_graph)}")
    return conforms, results_graph


def _first_line(exc) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _results(report: Graph, data: Graph, origin: dict) -> list[ValidationResult]:
    out = []
    # Only the report's own results: pyshacl also types the nested sh:detail results of
    # sh:node / sh:or as sh:ValidationResult, which would repeat each problem.
    nodes = {r for rep in report.subjects(RDF.type, SH.ValidationReport)
             for r in report.objects(rep, SH.result)}
    for node in nodes:
        focus = report.value(node, SH.focusNode)
        defined_by = _defining_node(focus, data, origin)
        messages = sorted(str(m) for m in report.objects(node, SH.resultMessage))
        out.append(ValidationResult(
            focus=focus,
            path=report.value(node, SH.resultPath),
            message=_readable(" / ".join(messages), data) if messages else "(no message)",
            severity=report.value(node, SH.resultSeverity),
            source_shape=report.value(node, SH.sourceShape),
            value=report.value(node, SH.value),
            file=origin.get(defined_by), node=defined_by))
    out.sort(key=lambda r: (str(r.source_shape), str(r.focus), str(r.path), str(r.value), r.message))
    return out


_IRI_IN_TEXT = re.compile(r"https?://[^\s\"()<>{}]+")


def _readable(message: str, data: Graph) -> str:
    """SHACL-SPARQL messages spell IRIs out in full; write them as prefixed names."""
    def short(match):
        iri = match.group(0).rstrip(".,:;")
        return _show(data, URIRef(iri)) + match.group(0)[len(iri):]
    return _IRI_IN_TEXT.sub(short, message)


def _defining_node(focus, data: Graph, origin: dict):
    """The node whose definition the focus node comes from: itself, or for nodes the build made
    (evidence spans, selectors) the node they are evidence for."""
    if focus in origin:
        return focus
    frontier, seen = [focus], {focus}
    for _ in range(3):
        nxt = []
        for node in frontier:
            for s in data.subjects(None, node):
                if s in origin:
                    return s
                if s not in seen:
                    seen.add(s)
                    nxt.append(s)
        frontier = nxt[:50]
    return None


def load_data_files(files, ontology_dir=None) -> tuple[Graph, dict]:
    """Built dumps (TriG, N-Quads, Turtle...) merged into one graph without the inferred graph;
    with --ontology, the ontology folder is added (a plain data file does not carry it)."""
    merged = Graph()
    origin: dict = {}
    for path in files:
        path = Path(path)
        fmt = guess_format(path)
        part = parse_rdf_file(path, dataset=fmt in DATASET_FORMATS)
        part = data_for_validation(part)
        for s in part.subjects(unique=True):
            origin.setdefault(s, path.name)
        merged += part
    if ontology_dir is not None:
        loaded = load_folder(ontology_dir)
        for s, f in loaded.origin.items():
            origin.setdefault(s, f)
        merged += loaded.graph
    bind_prefixes(merged)
    return merged, origin


__all__ = ["DEFAULT_ENGINE", "ENGINES", "ValidationReport", "ValidationResult", "check_shapes",
           "data_for_validation", "load_data_files", "load_shapes", "validate_graph"]
