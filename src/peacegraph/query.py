"""SPARQL over a built graph: stored research queries and `peacegraph query`.

Stored queries are the files ``queries/NN-name.rq`` of the package; each begins with header
comments::

    # title: Who drafted the 28-point plan?
    # description: The drafters of a document and the sentence that says so.
    # param: ?document — the plan (every document when unbound)
    # default: ?document pgid:us-28-point-plan
    # choices: ?document pg:Document

A stored query runs as it is (an unbound parameter means "all"); binding a parameter through
`run_query(..., bindings={"document": IRI})` narrows it. A parameter's default is the value the
title asks about: `peacegraph query NAME` and the query page bind it unless told otherwise. Its
choices name a class or concept scheme whose members are the values that make sense. Values are
bound by the engine (Oxigraph's substitutions; rdflib's initBindings for a variable the query
does not project), never pasted into the query text.

Queries are read-only and local, by the same rules as the endpoint's (peacegraph.guard): no
update, no SERVICE, no LOAD, bracket nesting at most guard.MAX_NESTING deep, all refused before
evaluation; a FROM / FROM NAMED naming a graph the data does not hold is an empty graph, never
read. A query is then checked
with rdflib's parser (for errors with line and column) and evaluated by Oxigraph over a copy of
the dataset (rdflib's evaluator takes minutes on property paths with both ends open); the answer
comes back as an rdflib Result.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef, Variable
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.query import Result

from peacegraph import paths
from peacegraph.errors import InputError, QueryError
from peacegraph.guard import check_query, local_dataset
from peacegraph.load import parse_rdf_file
from peacegraph.namespaces import PREFIXES, bind_prefixes
from peacegraph.terms import Terms

STORED_NAME = re.compile(r"\d\d-[A-Za-z0-9_.-]+\.rq")
_HEADER = re.compile(r"#\s*(title|description|param|default|choices)\s*:\s*(.*)")
_PARAM_VALUE = re.compile(r"\?(\w+)\s+(\S+)\s*$")
_PARAM = re.compile(r"\?(\w+)\s*(?:[—–:-]+\s*(.*))?")


@dataclass
class StoredQuery:
    name: str
    title: str
    description: str
    params: list = field(default_factory=list)   # [(variable name, meaning)]
    defaults: dict = field(default_factory=dict)  # variable name -> term as written (pgid:…)
    choices: dict = field(default_factory=dict)   # variable name -> class or scheme as written
    text: str = ""
    path: Path | None = None


def read_stored(path: Path) -> StoredQuery:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read query: {exc}", file=str(path)) from None
    title, description, params, defaults, choices = "", "", [], {}, {}
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = _HEADER.match(line)
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip()
        if key == "title":
            title = value
        elif key == "description":
            description = (description + " " + value).strip()
        elif key in ("default", "choices"):
            pv = _PARAM_VALUE.match(value)
            if not pv:
                raise InputError(f"# {key}: expected ?variable TERM, found {value!r}", file=str(path))
            (defaults if key == "default" else choices)[pv.group(1)] = pv.group(2)
        else:
            pm = _PARAM.match(value)
            if pm:
                params.append((pm.group(1), (pm.group(2) or "").strip()))
    declared = {name for name, _ in params}
    for name in list(defaults) + list(choices):
        if name not in declared:
            raise InputError(f"a default or choices for ?{name}, which is not a # param", file=str(path))
    return StoredQuery(name=path.stem, title=title or path.stem, description=description,
                       params=params, defaults=defaults, choices=choices, text=text, path=path)


def default_bindings(query: StoredQuery) -> dict:
    """The defaults of a stored query's parameters, as terms to bind."""
    return {name: parse_term(term) for name, term in query.defaults.items()}


def stored_queries(folder: Path | None = None) -> list[StoredQuery]:
    """The research queries: ``NN-*.rq`` files of the queries folder, in name order."""
    folder = Path(folder) if folder is not None else paths.queries_dir()
    return [read_stored(p) for p in sorted(folder.glob("*.rq")) if STORED_NAME.fullmatch(p.name)]


def find_stored(name: str, folder: Path | None = None) -> StoredQuery | None:
    """A stored query by file stem ("01-drafters"), by name without its number ("drafters") or
    by number ("01" or "1")."""
    for q in stored_queries(folder):
        number, _, rest = q.name.partition("-")
        if name in (q.name, rest, number) or (name.isdigit() and int(name) == int(number)):
            return q
    return None


def internal_query(name: str) -> str:
    """Text of a query the package itself uses (``queries/_name.rq``)."""
    path = paths.queries_dir() / f"_{name}.rq"
    return path.read_text(encoding="utf-8")


def load_dataset(files) -> Dataset:
    """An rdflib Dataset of the given RDF files (named graphs kept; the default graph is the
    union of all graphs)."""
    ds = Dataset(default_union=True)
    bind_prefixes(ds)
    for path in files:
        part = parse_rdf_file(Path(path), dataset=True)
        for ctx in part.graphs():
            if len(ctx) == 0:
                continue
            target = ds.default_graph if ctx.identifier == part.default_graph.identifier \
                else ds.graph(ctx.identifier)
            target.addN((s, p, o, target) for s, p, o in ctx)
    return ds


def prepare(text: str):
    """Check a query and parse it: the guard's refusal of anything that would write, reach outside
    the data or nest too deeply (peacegraph.guard), then a QueryError with line and column for bad
    syntax. Returns rdflib's translated query."""
    check_query(text)
    try:
        parsed = parseQuery(text)
        return translateQuery(parsed, initNs=dict(PREFIXES))
    except RecursionError:
        raise QueryError("query nested too deeply") from None
    except Exception as exc:  # pyparsing and rdflib raise a variety of exceptions here
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "col", None)
        msg = str(getattr(exc, "msg", None) or exc).splitlines()[0]
        if line is not None:
            raise QueryError(f"SPARQL syntax error at line {line}, column {col}: {msg}") from None
        raise QueryError(f"bad query: {msg}") from None


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def ox_term(term):
    """The pyoxigraph form of an rdflib term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(re.sub(r"[^A-Za-z0-9]", "", str(term)) or "b")
    raise QueryError(f"cannot query a term like {term!r}")


def rdflib_term(term):
    """The rdflib form of a pyoxigraph term (None stays None)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise QueryError(f"unsupported term in a result: {term!r}")


def to_store(dataset) -> ox.Store:
    """An in-memory Oxigraph store holding the quads of an rdflib Dataset (or the triples of a
    Graph, in the default graph)."""
    store = ox.Store()
    if isinstance(dataset, Dataset):
        quads = []
        for ctx in dataset.graphs():
            name = ctx.identifier
            g = ox.DefaultGraph() if name == dataset.default_graph.identifier else ox_term(name)
            quads.extend(ox.Quad(ox_term(s), ox_term(p), ox_term(o), g) for s, p, o in ctx)
    else:
        quads = [ox.Quad(ox_term(s), ox_term(p), ox_term(o), ox.DefaultGraph()) for s, p, o in dataset]
    store.bulk_extend(quads)
    return store


def run_query(dataset, text: str, bindings: dict | None = None) -> Result:
    """Run a read-only SPARQL query on an rdflib Dataset or Graph (or a pyoxigraph Store made by
    `to_store`); the default graph is the union of all graphs unless the query has FROM / FROM
    NAMED. `bindings` map variable names (with or without "?") to rdflib terms. Returns an
    rdflib Result (rows of rdflib terms)."""
    store = dataset if isinstance(dataset, ox.Store) else to_store(dataset)
    prepared = prepare(text)
    checked = check_query(text)
    subs = {ox.Variable(k.lstrip("?$")): ox_term(v) for k, v in (bindings or {}).items()}
    try:
        if prepared.algebra.get("datasetClause"):
            # the query's own dataset, with graphs the data does not hold as empty graphs
            graphs = [g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)]
            defaults, named = local_dataset(checked.from_graphs, checked.from_named, graphs)
            dataset = {"default_graph": [ox.NamedNode(g) for g in defaults],
                       "named_graphs": [ox.NamedNode(g) for g in named]}
        else:
            dataset = {"use_default_graph_as_union": True}
        answer = store.query(text, substitutions=subs or None,
                             prefixes={p: str(ns) for p, ns in PREFIXES.items()}, **dataset)
    except (SyntaxError, OSError, ValueError, RuntimeError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        # (never with a dataset clause: rdflib's evaluator would fetch a FROM graph by its IRI)
        if ("projection" in message and not isinstance(dataset, ox.Store)
                and not prepared.algebra.get("datasetClause")):
            # Oxigraph substitutes only projected variables; rdflib's evaluator binds any
            init = {Variable(k.lstrip("?$")): v for k, v in (bindings or {}).items()}
            try:
                return dataset.query(prepared, initBindings=init)
            except RecursionError:
                raise QueryError("query nested too deeply to evaluate") from None
        raise QueryError(f"query failed: {message}") from None
    if isinstance(answer, ox.QuerySolutions):
        result = Result("SELECT")
        names = [v.value for v in answer.variables]
        result.vars = [Variable(n) for n in names]
        result.bindings = [
            {Variable(n): rdflib_term(sol[n]) for n in names if sol[n] is not None} for sol in answer]
        return result
    if isinstance(answer, ox.QueryBoolean):
        result = Result("ASK")
        result.askAnswer = bool(answer)
        return result
    graph = Graph()
    bind_prefixes(graph)
    graph.addN((rdflib_term(t.subject), rdflib_term(t.predicate), rdflib_term(t.object), graph) for t in answer)
    result = Result("CONSTRUCT")
    result.graph = graph
    return result


_LITERAL = re.compile(r'^"(.*)"(?:@([A-Za-z]+(?:-[A-Za-z0-9]+)*)|\^\^(\S+))?$', re.S)


def parse_term(text: str):
    """A term written on the command line: <iri>, prefix:name, "literal"(@lang|^^type),
    a number, true/false, an http(s) IRI, or else a plain string."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        iri = text[1:-1]
        if re.search(r'[\x00-\x20<>"{}|^`\\]', iri):
            raise InputError(f"invalid IRI {text}")
        return URIRef(iri)
    m = _LITERAL.match(text)
    if m:
        value, lang, dt = m.groups()
        if dt:
            return Literal(value, datatype=parse_term(dt))
        return Literal(value, lang=lang)
    if re.fullmatch(r"[+-]?\d+", text):
        return Literal(int(text))
    if re.fullmatch(r"[+-]?\d*\.\d+", text):
        try:
            return Literal(Decimal(text))
        except InvalidOperation:
            pass
    if text in ("true", "false"):
        return Literal(text == "true")
    if re.match(r"https?://", text):
        return parse_term(f"<{text}>")
    prefix, colon, local = text.partition(":")
    if colon and prefix in PREFIXES:
        return parse_term(f"<{PREFIXES[prefix]}{local}>")
    return Literal(text)


def parse_bindings(items) -> dict:
    out = {}
    for item in items or []:
        var, eq, term = item.partition("=")
        var = var.strip().lstrip("?$")
        if not eq or not re.fullmatch(r"\w+", var):
            raise InputError(f"--bind {item!r}: expected VAR=TERM, e.g. topic=topic:territory")
        out[var] = parse_term(term)
    return out


class Shortener:
    def __init__(self):
        self.terms = Terms()

    def __call__(self, term) -> str:
        if term is None:
            return ""
        if isinstance(term, URIRef):
            return self.terms.compact(str(term)) or f"<{term}>"
        if isinstance(term, BNode):
            return f"_:{term}"
        return str(term)


def format_table(result, short: Shortener | None = None) -> str:
    short = short or Shortener()
    names = [str(v) for v in result.vars]
    rows = [[" ".join(short(row[i]).split()) if row[i] is not None else "" for i in range(len(names))]
            for row in result]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def format_result(result, fmt: str = "table") -> str:
    if result.type == "ASK":
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": bool(result.askAnswer)})
        return "true" if result.askAnswer else "false"
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        g = result.graph
        bind_prefixes(g)
        return g.serialize(format="json-ld" if fmt == "json" else "turtle")
    if fmt == "table":
        return format_table(result)
    if fmt == "json":
        return result.serialize(format="json").decode("utf-8")
    names = [str(v) for v in result.vars]
    buf = io.StringIO()
    if fmt == "csv":
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(names)
        for row in result:
            w.writerow(["" if t is None else str(t) for t in row])
    else:
        buf.write("\t".join("?" + n for n in names) + "\n")
        for row in result:
            buf.write("\t".join("" if t is None else t.n3() for t in row) + "\n")
    return buf.getvalue().rstrip("\n")


def _is_file(path: Path) -> bool:
    # SPARQL text is tried as a file name first; one longer than the file system allows
    # (ENAMETOOLONG) or otherwise unusable as a path is simply not a file.
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def resolve_query(arg: str) -> tuple[str, StoredQuery | None]:
    """A query argument: a .rq file, a stored query name, or SPARQL text."""
    path = Path(arg)
    if arg.endswith(".rq") or (len(arg) < 4096 and "\n" not in arg and _is_file(path)):
        if not _is_file(path):
            stored = find_stored(path.stem)
            if stored is not None:
                return stored.text, stored
            raise InputError("no such query file", file=arg)
        q = read_stored(path)
        return q.text, q
    if re.fullmatch(r"[\w.-]+", arg):
        stored = find_stored(arg)
        if stored is None:
            known = ", ".join(q.name for q in stored_queries())
            raise InputError(f"no stored query named {arg!r}; stored queries: {known}")
        return stored.text, stored
    return arg, None
