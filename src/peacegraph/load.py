"""Safe reading of RDF files and source texts.

Every file is read in full, checked, parsed by Oxigraph's streaming parsers (which neither
recurse on nesting nor fetch anything) and only then turned into rdflib terms, so a broken or
hostile file gives one InputError naming the file, line and column, and the caller never sees a
partly loaded graph. Constructs that are refused before any parser sees them:

- RDF/XML with a DOCTYPE or entity declaration (entity expansion can cost minutes of CPU);
- JSON-LD whose `@context` or `@import` names a document (a remote or `file:` context would
  make the parser read a file or open a connection);
- JSON nested deeper than MAX_JSON_DEPTH;
- IRIs or literals that some output format cannot carry (spaces or ``<>"{}|^`\\`` in an IRI,
  control characters other than tab, newline and carriage return in a literal).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from peacegraph.errors import InputError, parser_message
from peacegraph.namespaces import PG, bind_prefixes, checked_iri
from peacegraph.setstore import SetStore
from peacegraph.terms import plain_literal

FORMATS = {
    ".ttl": "turtle", ".turtle": "turtle", ".trig": "trig", ".nt": "nt", ".ntriples": "nt",
    ".nq": "nquads", ".nquads": "nquads", ".jsonld": "json-ld", ".json": "json-ld",
    ".rdf": "xml", ".owl": "xml", ".xml": "xml",
}
# the names of pyoxigraph's RdfFormat constants, by the format names of FORMATS
OX_FORMAT_NAMES = {"turtle": "TURTLE", "trig": "TRIG", "nt": "N_TRIPLES", "nquads": "N_QUADS",
                   "json-ld": "JSON_LD", "xml": "RDF_XML"}
_ALIASES = {"ttl": "turtle", "n-triples": "nt", "ntriples": "nt", "n-quads": "nquads", "nq": "nquads",
            "jsonld": "json-ld", "rdf/xml": "xml", "rdfxml": "xml", "application/rdf+xml": "xml"}
DATASET_FORMATS = {"trig", "nquads", "json-ld"}
MAX_JSON_DEPTH = 256

# Characters that N-Triples, Turtle, RDF/XML and JSON-LD cannot all carry inside an IRI, and
# that make a literal unrepresentable in XML 1.0 (or invisible and misleading elsewhere).
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f-\x9f\ud800-\udfff\ufffe\uffff]')
_BAD_LITERAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass
class Loaded:
    """A parsed set of files: the merged graph and, for each subject, the file that defines it."""

    graph: Graph
    origin: dict = field(default_factory=dict)
    files: list = field(default_factory=list)
    texts: dict = field(default_factory=dict)
    # source IRI -> (sha256 recorded in sources.ttl, sha256 of the file as it is now)
    changed: dict = field(default_factory=dict)
    # source IRI -> path of its text file
    text_files: dict = field(default_factory=dict)


def guess_format(path: Path) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(f"cannot tell the RDF format from the extension "
                         f"{Path(path).suffix or '(no extension)'!r}; expected one of "
                         f"{', '.join(sorted(FORMATS))}", file=str(path))
    return fmt


def ox_format(path: Path):
    """The pyoxigraph RdfFormat of a file, told by its extension as guess_format tells it."""
    return getattr(ox.RdfFormat, OX_FORMAT_NAMES[guess_format(path)])


def _normal_format(path: Path, format: str | None) -> str:
    if format is None:
        return guess_format(path)
    fmt = _ALIASES.get(format.lower(), format.lower())
    if fmt not in OX_FORMAT_NAMES:
        raise InputError(f"unsupported RDF format {format!r}", file=str(path))
    return fmt


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, col


def _read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", file=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a folder, expected a file", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None


def _check_utf8(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(data, exc.start)
        raise InputError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", file=str(path),
                         line=line, column=col) from None


def _refuse_xml_declarations(path: Path, data: bytes) -> None:
    m = _DOCTYPE.search(data)
    if m:
        line, col = _line_col(data, m.start())
        raise InputError(f"RDF/XML with a {m.group(1).decode().upper()} declaration is refused "
                         "(entity expansion)", file=str(path), line=line, column=col)


def _json_depth_ok(value) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return False
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return True


_IRI_KEYWORDS = ("@id", "@type", "@vocab", "@base", "@reverse")


def _walk_json(doc, in_context=False):
    """(dict, its @id or None, the @id of the node it sits in or None, inside a @context?) for
    every JSON object of a document, without recursion."""
    stack = [(doc, None, in_context)]
    while stack:
        node, owner, ctx = stack.pop()
        if isinstance(node, list):
            stack.extend((item, owner, ctx) for item in node)
        elif isinstance(node, dict):
            own = node.get("@id") if isinstance(node.get("@id"), str) and not ctx else None
            yield node, own, owner, ctx
            for key, value in node.items():
                stack.append((value, own or owner, ctx or key == "@context"))


def _strings(value):
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def _jsonld_iri_strings(doc):
    """(string, the node it belongs to) for every string of a JSON-LD document that stands for an
    IRI: keyword values (@id, @type, @vocab, @base, @reverse), keys written as IRIs, term
    definitions, and values of terms coerced to IRIs. A JSON-LD processor silently drops a
    statement whose IRI is invalid, so these are checked before parsing rather than lost."""
    coerced = {key for node, _, _, ctx in _walk_json(doc) if ctx for key, value in node.items()
               if isinstance(value, dict) and value.get("@type") in ("@id", "@vocab")}
    for node, own, owner, ctx in _walk_json(doc):
        for key, value in node.items():
            if key == "@context":
                continue
            if ctx or ":" in key:
                yield key, owner if ctx else own or owner
            if key == "@id":
                yield from ((v, owner) for v in _strings(value))
            elif key in _IRI_KEYWORDS or ctx or key in coerced:
                yield from ((v, own or owner) for v in _strings(value))


def _refuse_bad_jsonld_iris(path: Path, doc) -> None:
    for value, owner in _jsonld_iri_strings(doc):
        if value.startswith("@"):
            continue
        m = _BAD_IRI.search(value)
        if m:
            where = f"the node {owner!r}" if owner else "a node"
            raise InputError(f"IRI {value!r} in {where} contains the character U+{ord(m.group()):04X}, "
                             "which cannot be written in every RDF format", file=str(path))


def _refuse_remote_contexts(path: Path, text: str) -> None:
    """JSON-LD may name contexts by IRI; resolving one reads a file or opens a connection."""
    try:
        doc = json.loads(text)
    except RecursionError:
        raise InputError("JSON nested too deeply", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=str(path), line=exc.lineno,
                         column=exc.colno) from None
    if not _json_depth_ok(doc):
        raise InputError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", file=str(path))
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@context":
                    for ctx in value if isinstance(value, list) else [value]:
                        if isinstance(ctx, str):
                            raise InputError(f"JSON-LD @context {ctx!r} names a document; only "
                                             "inline contexts are accepted (nothing is fetched)",
                                             file=str(path))
                        if isinstance(ctx, dict) and "@import" in ctx:
                            raise InputError(f"JSON-LD @import {ctx['@import']!r} is refused; only "
                                             "inline contexts are accepted (nothing is fetched)",
                                             file=str(path))
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    _refuse_bad_jsonld_iris(path, doc)


def check_jsonld_file(path) -> None:
    """The checks a JSON-LD file gets before any parser sees it (named contexts, depth, IRIs),
    for callers that hand the file to a parser of their own; raises InputError."""
    path = Path(path)
    _refuse_remote_contexts(path, _check_utf8(path, _read_bytes(path)))


def _syntax_error(path: Path, exc: SyntaxError) -> InputError:
    message = parser_message(exc)
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "offset", None)
    return InputError(message, file=str(path), line=line, column=col)


class _TermFactory:
    """Oxigraph terms -> rdflib terms, with blank nodes fresh per file so files never collide.

    IRIs and literals are interned (`shared`, which several files may share): a term repeated
    a hundred thousand times is one object, not a hundred thousand equal ones, and is looked up
    by the Oxigraph term itself (`known`, hashed in Rust) before any of it is read. A file's
    blank nodes are in `known` only while the file is read (forget_blank_nodes)."""

    def __init__(self, path: Path, shared: Interned | None = None):
        self.path = path
        shared = shared or Interned()
        self.iris: dict[str, URIRef] = shared.iris
        self.known: dict = shared.terms
        self.blank_nodes: list[BNode] = []
        self._blank_keys: list = []
        # this file's blank nodes are named after one fresh rdflib blank node (a fresh one each
        # would cost a uuid4 each), so they collide with no other file's or rdflib's own
        self._bnode_base = f"{BNode()}x"

    def forget_blank_nodes(self) -> None:
        """Take this file's blank nodes out of the shared lookup, so that another file's equal
        label makes a node of its own."""
        known = self.known
        for term in self._blank_keys:
            known.pop(term, None)
        self._blank_keys.clear()

    def iri(self, value: str, subject, otherwise: str) -> URIRef:
        term = self.iris.get(value)
        if term is None:
            if _BAD_IRI.search(value):
                raise InputError(f"IRI <{value}> of {_where(subject, otherwise)} contains a "
                                 "character that cannot be written in every RDF format",
                                 file=str(self.path))
            # _BAD_IRI refuses every character URIRef() would warn of
            term = self.iris[value] = checked_iri(value)
        return term

    def __call__(self, term, subject=None):
        """The rdflib term; `subject`: that of the statement, for error messages."""
        found = self.known.get(term)
        return found if found is not None else self.new(term, subject)

    def new(self, term, subject=None):
        """The rdflib term of one not met yet (not in `known`), from then on in `known`."""
        kind = type(term)
        if kind is ox.Literal:
            found = self._literal(term, subject)
        elif kind is ox.BlankNode:
            # Identifier.__new__ is str.__new__: BNode(label) without its checks for a label
            found = str.__new__(BNode, f"{self._bnode_base}{len(self.blank_nodes)}")
            self.blank_nodes.append(found)
            self._blank_keys.append(term)
        elif kind is ox.NamedNode:
            found = self.iri(term.value, subject, "a statement")
        else:
            raise InputError(f"unsupported term {term!r} (RDF-star triples are not accepted)",
                             file=str(self.path))
        self.known[term] = found
        return found

    def _literal(self, term, subject) -> Literal:
        value = term.value
        bad = _BAD_LITERAL.search(value)
        if bad:
            raise InputError(f"literal of {_where(subject, None)} contains the control character "
                             f"U+{ord(bad.group()):04X}, which cannot be written in every RDF format",
                             file=str(self.path))
        # a plain or language-tagged string is its own normal form: rdflib's normalizing would
        # only look that up
        language = term.language
        if language:
            return Literal(value, lang=language, normalize=False)
        datatype = term.datatype
        if datatype == _OX_XSD_STRING:
            return plain_literal(value)
        return Literal(value, datatype=self.iri(datatype.value, subject, "a literal"))


def _where(subject, otherwise) -> str:
    return otherwise if subject is None else _n3(subject)


@dataclass
class Interned:
    """The terms already made: by IRI, and by the Oxigraph term (IRIs and literals)."""

    iris: dict = field(default_factory=dict)
    terms: dict = field(default_factory=dict)

    @classmethod
    def of(cls, iris) -> Interned:
        """Terms that files will use these very IRI objects for: a dictionary or set keyed by
        a term finds an identical object without comparing it in Python (rdflib's __eq__)."""
        return cls(iris={str(term): term for term in iris})


_OX_XSD_STRING = ox.NamedNode(str(XSD.string))


def _n3(term) -> str:
    return term.n3() if hasattr(term, "n3") else str(term)


def _parse_rows(path: Path, format: str | None, dataset: bool,
                shared: Interned | None = None) -> tuple[list[tuple], list[BNode]]:
    """The (s, p, o) statements of one file, or with `dataset` its (s, p, o, graph name or None)
    rows, checked, and the file's blank nodes; raises InputError. `shared`: terms already made
    for other files."""
    path = Path(path)
    fmt = _normal_format(path, format)
    data = _read_bytes(path)
    # Windows editors often start a UTF-8 file with a byte order mark; it carries no content.
    data = data.removeprefix(b"\xef\xbb\xbf")
    text = _check_utf8(path, data)
    if fmt == "xml":
        _refuse_xml_declarations(path, data)
    if fmt == "json-ld":
        _refuse_remote_contexts(path, text)
    del text
    terms = _TermFactory(path, shared)
    rows = []
    append = rows.append
    try:
        quads = ox.parse(data, format=getattr(ox.RdfFormat, OX_FORMAT_NAMES[fmt]), base_iri=None,
                         without_named_graphs=not dataset, lenient=False)
        if dataset:
            for q in quads:
                s = terms(q.subject)
                g = q.graph_name
                key = None if isinstance(g, ox.DefaultGraph) else terms(g, s)
                append((s, terms(q.predicate, s), terms(q.object, s), key))
        else:
            known, new = terms.known.get, terms.new
            last = s2 = None
            for q in quads:
                # the lookup inlined: a method call per term costs more than the lookup; and
                # a quad's three attributes cost less than unpacking all four of its terms
                s, p, o = q.subject, q.predicate, q.object
                # a subject's statements mostly follow one another: one comparison, no lookup
                if s != last:
                    s2 = known(s)
                    if s2 is None:
                        s2 = new(s)
                    last = s
                p2, o2 = known(p), known(o)
                append((s2, p2 if p2 is not None else new(p, s2), o2 if o2 is not None else new(o, s2)))
    except SyntaxError as exc:
        if "Named graphs are not allowed" in str(exc):
            raise InputError("named graphs are not allowed here; write plain triples",
                             file=str(path)) from None
        raise _syntax_error(path, exc) from None
    except RecursionError:
        raise InputError("input nested too deeply to process", file=str(path)) from None
    except (ValueError, OSError) as exc:
        raise InputError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                         file=str(path)) from None
    finally:
        terms.forget_blank_nodes()
    return rows, terms.blank_nodes


def parse_rdf_file(path, format: str | None = None, *, dataset: bool = False):
    """Parse one RDF file safely.

    Returns an rdflib Graph, or with ``dataset=True`` an rdflib Dataset (default graph = union)
    holding the file's named graphs. Raises InputError (file, line, column where known) for
    anything that cannot be read, parsed or written back out; nothing is returned half-built.
    """
    rows, _ = _parse_rows(Path(path), format, dataset)
    if dataset:
        result = Dataset(default_union=True)
        graphs: dict = {}
        for s, p, o, key in rows:
            ctx = graphs.get(key)
            if ctx is None:
                ctx = graphs[key] = result.default_graph if key is None else result.graph(key)
            ctx.add((s, p, o))
    else:
        result = Graph()
        result.addN((s, p, o, result) for s, p, o in rows)
    bind_prefixes(result)
    return result


def refuse_link_out(folder: Path, path: Path) -> None:
    """A file of an input folder that is a link to somewhere outside the folder is refused: the
    build would read it, and publish or quote whatever it points at."""
    if not Path(path).is_symlink():
        return
    if not Path(path).resolve().is_relative_to(Path(folder).resolve()):
        raise InputError("is a symbolic link that leads out of its folder; refused (copy the "
                         "file into the folder instead)", file=str(path))


def rdf_files(folder: Path) -> list[Path]:
    """The RDF files of a folder, in name order (README and other files are ignored)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("no such folder", file=str(folder))
    candidates = sorted(p for p in folder.iterdir()
                        if p.suffix.lower() in FORMATS and not p.name.startswith("."))
    for p in candidates:
        refuse_link_out(folder, p)
    return [p for p in candidates if p.is_file()]


def _display(path: Path) -> str:
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def load_folder(folder, *, exclude: tuple[str, ...] = (), shared: Interned | None = None) -> Loaded:
    """Parse every RDF file of a folder into one graph (on a peacegraph.setstore.SetStore);
    `.origin` maps each subject (and each blank node) to the first file, as ``folder/name``,
    that states something about it. The graph is filled only once every file has parsed.
    `shared`: terms already made for other folders."""
    rows, origin, files = folder_rows(folder, exclude=exclude, shared=shared)
    return Loaded(graph=graph_of(rows), origin=origin, files=files)


def folder_rows(folder, *, exclude: tuple[str, ...] = (),
                shared: Interned | None = None) -> tuple[list, dict, list]:
    """What load_folder reads, before it becomes a graph: the (s, p, o) statements of every
    file, the origin of each subject and the files. `shared`: terms already made for other
    folders, so that each distinct term is one object."""
    origin: dict = {}
    files = [p for p in rdf_files(folder) if p.name not in exclude]
    rows: list = []
    shared = shared or Interned()
    for path in files:
        part, blank_nodes = _parse_rows(path, None, False, shared)
        name = _display(path)
        origin.update(dict.fromkeys(set(map(_SUBJECT, part)).difference(origin), name))
        # a blank node belongs to exactly one file; remembered even where it is only an object
        origin.update(dict.fromkeys(blank_nodes, name))
        rows.extend(part)
    return rows, origin, files


_SUBJECT = itemgetter(0)


def graph_of(triples) -> Graph:
    """A graph (on a SetStore) of (s, p, o) tuples of rdflib terms, the tuples themselves
    stored."""
    graph = Graph(store=SetStore())
    graph.store.add_triples(triples, graph)
    bind_prefixes(graph)
    return graph


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_text(path: Path) -> str:
    """A source text exactly as stored: strict UTF-8, newlines untouched, no control
    characters other than tab, newline and carriage return."""
    return _read_text_and_bytes(path)[0]


def _read_text_and_bytes(path: Path) -> tuple[str, bytes]:
    data = _read_bytes(path)
    text = _check_utf8(path, data)
    m = _BAD_LITERAL.search(text)
    if m:
        line, col = _line_col(data, len(text[:m.start()].encode("utf-8")))
        raise InputError(f"source text contains the control character U+{ord(m.group()):04X}",
                         file=str(path), line=line, column=col)
    return text, data


def load_sources(seeds_dir, shared: Interned | None = None) -> Loaded:
    """Read ``seeds/sources.ttl`` and the texts it describes.

    Every ``pg:SourceText`` names its file with ``dcterms:identifier`` (default: the last path
    segment of its IRI + ``.txt``); the full text is added as ``pg:text``. A text whose sha256
    differs from the recorded ``pg:sha256`` is listed in ``.changed`` rather than refused here,
    so that the build can say which quotes no longer match and validation can report it.
    A source given two identifiers or two sha256 values goes by the first one read (files in
    name order). `shared`: terms already made for other folders.
    """
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise InputError("no such folder", file=str(seeds_dir))
    described = seeds_dir / "sources.ttl"
    if not described.is_file():
        raise InputError("missing: every source text must be described here", file=str(described))
    rows, origin, files = folder_rows(seeds_dir, shared=shared)
    # one pass over the statements rather than graph lookups per source, and the folder listed
    # once rather than a file check per text: with a thousand texts those were a tenth of the
    # whole load
    described_sources, identifiers, recorded_sums = {}, {}, {}
    rdf_type, source_text, identifier, sha256 = RDF.type, PG.SourceText, DCTERMS.identifier, PG.sha256
    for s, p, o in rows:
        if isinstance(s, BNode) or isinstance(o, BNode):
            raise InputError(f"blank node in the statement about {_n3(s)} {_n3(p)}; name every "
                             "node with an IRI", file=origin.get(s, str(described)))
        if p == rdf_type:
            if o == source_text:
                described_sources[s] = None
        elif p == identifier:
            identifiers.setdefault(s, o)
        elif p == sha256:
            recorded_sums.setdefault(s, o)
    entries = {entry.name: entry for entry in os.scandir(seeds_dir)}
    loaded = Loaded(graph=None, origin=origin, files=files)
    used_files = set()
    for source in sorted(described_sources, key=str):
        ident = identifiers.get(source)
        name = str(ident) if ident is not None else str(source).rstrip("/").rsplit("/", 1)[-1] + ".txt"
        if "/" in name or "\\" in name or name.startswith("."):
            raise InputError(f"dcterms:identifier {name!r} of {_n3(source)} must be a plain file "
                             "name in seeds/", file=origin.get(source))
        path = seeds_dir / name
        entry = entries.get(name)
        if entry is not None and entry.is_symlink():
            refuse_link_out(seeds_dir, path)
        if entry is None or not entry.is_file():
            raise InputError(f"{_n3(source)} describes {name}, which is not in {seeds_dir}",
                             file=origin.get(source))
        text, data = _read_text_and_bytes(path)
        used_files.add(name)
        loaded.texts[source] = text
        loaded.text_files[source] = path
        actual = sha256_hex(data)
        recorded = recorded_sums.get(source)
        if recorded is None or str(recorded).strip().lower() != actual:
            loaded.changed[source] = (str(recorded) if recorded is not None else None, actual)
    for name in sorted(n for n in entries if n.endswith(".txt")):
        if entries[name].is_symlink():
            refuse_link_out(seeds_dir, seeds_dir / name)
        if name not in used_files:
            raise InputError("source text not described in sources.ttl (add a pg:SourceText "
                             "with its dcterms:identifier and pg:sha256)", file=str(seeds_dir / name))
    # each text in full, in place of any pg:text sources.ttl gives its source
    texts, has_text = loaded.texts, PG.text
    rows = [row for row in rows if row[0] not in texts or row[1] != has_text]
    rows += [(source, has_text, plain_literal(content)) for source, content in texts.items()]
    loaded.graph = graph_of(rows)
    return loaded
