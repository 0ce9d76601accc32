"""Export a built dataset to dist/: dumps, CSV tables, VoID and checksums.

Files: peacegraph.trig (the four named graphs), peacegraph.nq, peacegraph.ttl (asserted +
inferred), peacegraph.jsonld (the four named graphs, with a prefix @context), provisions.csv,
stances.csv, statements.csv (full IRIs, short names and labels), void.ttl (VoID and DCAT) and
SHA256SUMS (``sha256sum -c`` format). Every dump states, in its default graph, the dataset's
version, version IRI and data license (CC BY 4.0).

The serializers are this module's own: statements are sorted by their N-Triples form, so the
same graph always gives the same bytes whatever the hash seed or the store's order, and
writing is a single streaming pass even for millions of triples.

The export is atomic: everything is written into a fresh folder beside the target, each file
is fsync'ed, then the folder is swapped with the target (renameat2 RENAME_EXCHANGE where the
kernel has it, else two renames) and the old export removed. If anything fails, the temporary
folder is removed and the previous export stays as it was.
"""

from __future__ import annotations

import csv
import ctypes
import errno
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from itertools import chain
from operator import itemgetter
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from peacegraph import __version__
from peacegraph.errors import ExportError
from peacegraph.gcpause import paused_gc
from peacegraph.leftovers import Claim, claimed_temp_folder, remove_stale
from peacegraph.namespaces import ASSERTED_GRAPH, BASE, INFERRED_GRAPH, NAMED_GRAPHS, OA, PG, VOID
from peacegraph.statements import statements
from peacegraph.terms import Terms
from peacegraph.void import DATA_LICENSE, DESCRIPTION_FILE, SOURCE_RIGHTS, DumpFile, Release, dataset_iri, version_iri, void_graph

FILES = ("peacegraph.trig", "peacegraph.nq", "peacegraph.ttl", "peacegraph.jsonld",
         "provisions.csv", "stances.csv", "statements.csv", "void.ttl", "SHA256SUMS")
_XSD_STRING = str(XSD.string)
_TYPE_NT = f"<{RDF.type}>"
_CHUNK = 1 << 20
# statements per string the writers hand on: fewer, larger writes
_BATCH = 20000
# what json.dumps(ensure_ascii=False) writes for a str, in C
_json_string = json.encoder.encode_basestring


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class _Spellings:
    """Every distinct term's N-Triples, Turtle and JSON-LD spellings, each worked out once
    however many statements name the term. A term object is looked up by its identity (`of`),
    an IRI met in another object by its plain string: rdflib compares and hashes terms in
    Python."""

    def __init__(self, terms: Terms):
        self.terms = terms
        self.iri_nt: dict = {}       # IRI (a plain str) -> N-Triples form
        self.literals: dict = {}     # N-Triples form of a literal -> the first literal met
        self.ttl: dict = {}          # N-Triples form -> Turtle form
        self.names: dict = {}        # N-Triples form of an IRI -> its JSON-LD name
        # The lazy tables are made by functions of the tables they read, not of self: a
        # reference back to self would be a cycle, and everything spelled would stay in memory
        # after the export until a full collection (a quarter of a GB at 1M).
        ttl, names, literals = self.ttl, self.names, self.literals
        # N-Triples form of an IRI -> its JSON-LD name as JSON
        self.json_names = json_names = _Lazy(lambda nt: _json_string(_iri_name(nt, ttl, names)))
        # N-Triples form -> the term as a JSON-LD property value, as JSON: a literal's value,
        # an IRI's {"@id": name}
        self.json_values = _Lazy(lambda nt: '{"@id": ' + json_names[nt] + "}" if nt[0] == "<"
                                 else _jsonld_literal(literals[nt], terms))
        # two terms rdflib tells apart have been given the same N-Triples form (a literal typed
        # xsd:string and the plain one, an IRI of a URIRef subclass): a graph's rows may then
        # repeat a (predicate, object) pair
        self.aliased = False
        # a term object -> its N-Triples form, by the object's identity: the build shares one
        # object among the statements naming a term, and an id is hashed and compared in C,
        # where an IRI is first copied to a plain str. Each object met stays referenced here,
        # so no id is reused while it is a key.
        self.by_id: dict = {}
        self._met: list = []

    def of(self, term) -> str:
        """The N-Triples form of a term object."""
        found = self.by_id.get(id(term))
        if found is None:
            found = self.by_id[id(term)] = self.nt(term)
            self._met.append(term)
        return found

    def nt(self, term) -> str:
        """The N-Triples form of a term."""
        kind = type(term)
        if kind is URIRef:
            iri = str.__str__(term)
            found = self.iri_nt.get(iri)
            if found is None:
                found, ttl = self.terms.iri_forms(iri)
                self.iri_nt[iri], self.ttl[found] = found, ttl
            return found
        if kind is Literal and term._datatype is None:
            # a plain or language-tagged string (most literals): both forms from the lexical
            # form, through none of the term's properties (rdflib's slots, as plain_literal
            # sets them)
            nt, ttl = self.terms.string_forms(str.__str__(term), term._language)
            first = self.literals.setdefault(nt, term)
            if first is term:
                self.ttl[nt] = ttl
            elif first._datatype is not None:
                # the same form as a literal typed xsd:string; another string literal of
                # this form is the same term to rdflib
                self.aliased = True
            return nt
        nt = self.terms.nt(term)   # refuses blank nodes
        if nt[0] == "<":
            self.aliased = True
            return self.nt(URIRef(nt[1:-1]))
        first = self.literals.setdefault(nt, term)
        if first is term:
            self.ttl[nt] = self.terms.ttl_of_nt(nt, term)
        elif first != term:
            self.aliased = True
        return nt

    def name(self, nt: str) -> str:
        """An IRI's JSON-LD name: its prefixed name (its Turtle form, when not <IRI>), else the
        IRI."""
        return _iri_name(nt, self.ttl, self.names)


def _iri_name(nt: str, ttl: dict, names: dict) -> str:
    found = names.get(nt)
    if found is None:
        form = ttl[nt]
        found = names[nt] = nt[1:-1] if form[0] == "<" else form
    return found


class _Lazy(dict):
    """A dict that makes a missing key's value on first lookup (`make(key)`) and keeps it: a
    lookup through __getitem__ stays in C, so it can be mapped over a row list."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        value = self[key] = self.make(key)
        return value


class _Table:
    """A graph's statements in the canonical order of every dump: `blocks`, one (subject,
    rows) pair per subject in N-Triples order, its rows (predicate, object) in N-Triples order
    and flattened into one list [p, o, p, o, ...] (no tuple kept per statement, for memory);
    all in N-Triples form. `rows` finds a subject's rows; `size` statements in all."""

    def __init__(self, rows: dict, size: int, in_order: bool = False):
        """`rows`: subject -> its flattened rows, in any order unless `in_order`."""
        self.rows, self.size = rows, size
        self.blocks = sorted(rows.items())
        if not in_order:
            flatten = chain.from_iterable
            for _, flat in self.blocks:
                if len(flat) > 2:
                    flat[:] = flatten(sorted(_pairs(flat)))


def _table(graph: Graph, spellings: _Spellings, view: _View | None = None) -> _Table:
    """One pass over a graph: its statements spelled and grouped by subject, then sorted (the
    subjects, then each one's few rows: far fewer comparisons than sorting every statement).
    The instances of the classes the CSV tables list are noted in `view`."""
    by_subject: dict = {}
    known = spellings.by_id.get
    of = spellings.of
    classes = view.types if view is not None else {}
    size = 0
    for s, p, o in statements(graph):
        s_nt = known(id(s)) or of(s)
        p_nt = known(id(p)) or of(p)
        o_nt = known(id(o)) or of(o)
        rows = by_subject.get(s_nt)
        if rows is None:
            by_subject[s_nt] = [p_nt, o_nt]
        else:
            rows += (p_nt, o_nt)
        size += 1
        if p_nt == _TYPE_NT:
            instances = classes.get(o_nt)
            if instances is not None:
                instances.append(s_nt)
    table = _Table(by_subject, size)
    if view is not None:
        view.tables.append(table)
    return table


def _union(*tables: _Table) -> _Table:
    """The statements of several tables; a statement in more than one is there once (and the
    Turtle writer, told `unique`, drops repeats within one)."""
    by_subject: dict = {}
    for table in tables:
        for s, rows in table.blocks:
            found = by_subject.get(s)
            # a subject's rows in one table are already sorted, and reused as they are
            by_subject[s] = rows if found is None else list(chain.from_iterable(
                sorted(set(_pairs(found)).union(_pairs(rows)))))
    return _Table(by_subject, 0, in_order=True)


def _pairs(flat: list):
    """The (p, o) rows of a flattened row list."""
    it = iter(flat)
    return zip(it, it, strict=True)


# -- serializers -------------------------------------------------------------------------------

def _prefix_lines(terms: Terms) -> list[str]:
    return [f"@prefix {p}: <{ns}> ." for p, ns in terms.prefixes.items()]


def _turtle_body(table: _Table, spellings: _Spellings, indent: str = "", unique: bool = False):
    """Turtle statements grouped by subject and predicate, rdf:type ("a") first, the rest in
    canonical order; `unique` writes a statement repeated in the rows once.

    Subjects whose rows name the same predicates in the same order are written alike: the
    layout of their blocks is worked out once (_turtle_layout), and a block is its layout
    filled with its terms. Rows can repeat a statement only where two terms share a spelling
    (_Spellings.aliased); `unique` then has each block worked out row by row."""
    ttl = spellings.ttl
    spelled = ttl.__getitem__
    layouts: dict = {}
    by_row = unique and spellings.aliased
    done: list[str] = []
    count = 0
    for subject, rows in table.blocks:
        if by_row:
            done.append(_turtle_block(subject, rows, ttl, indent))
        else:
            predicates = tuple(rows[0::2])
            layout = layouts.get(predicates)
            if layout is None:
                layout = layouts[predicates] = _turtle_layout(predicates, ttl, indent)
            template, order = layout
            terms = list(map(spelled, rows[1::2]))
            terms.append(ttl[subject])
            done.append(template % order(terms))
        count += len(rows)
        if count >= 2 * _BATCH:
            yield "".join(done)
            done, count = [], 0
    yield "".join(done)


def _turtle_pieces(predicates, objects, ttl: dict, indent: str) -> list:
    """A subject's block after its subject: its predicates' runs, each with its separator, the
    rdf:type run ("a") moved first. `objects`: the row's objects as the block shows them."""
    between = f" ;\n{indent}    "
    pieces: list = []
    last = None
    first = end = 0
    for p, o in zip(predicates, objects, strict=True):
        if p == last:
            pieces += (" , ", o)
        else:
            if last == _TYPE_NT:
                end = len(pieces)
            last = p
            if p == _TYPE_NT:
                first = len(pieces)
                pieces += (between, "a ", o)
            else:
                pieces += (between, ttl[p], " ", o)
    if last == _TYPE_NT:
        end = len(pieces)
    if first:
        pieces = pieces[first:end] + pieces[:first] + pieces[end:]
    pieces[0] = " "
    return pieces


class _Slot(int):
    """A row's place in a layout's pieces (an int the template tells from the text)."""


def _turtle_layout(predicates: tuple, ttl: dict, indent: str):
    """How a block whose rows name `predicates` (in row order) is written: a %-template with a
    slot for the subject and one per row, and the getter that orders the row's Turtle forms
    (row i's at i, the subject's last) as its slots."""
    pieces = _turtle_pieces(predicates, [_Slot(i) for i in range(len(predicates))], ttl, indent)
    slots = [piece for piece in pieces if type(piece) is _Slot]
    template = indent + "%s" + "".join("%s" if type(piece) is _Slot else piece.replace("%", "%%")
                                       for piece in pieces) + " .\n\n"
    return template, itemgetter(len(predicates), *slots)


def _turtle_block(subject: str, rows: list, ttl: dict, indent: str) -> str:
    """One subject's block, row by row, a statement repeated in the rows written once."""
    it = iter(rows)
    pairs = list(dict.fromkeys(zip(it, it, strict=True)))
    pieces = _turtle_pieces([p for p, _ in pairs], [ttl[o] for _, o in pairs], ttl, indent)
    return indent + ttl[subject] + "".join(pieces) + " .\n\n"


def write_turtle(table: _Table, spellings: _Spellings, unique: bool = False):
    yield "\n".join(_prefix_lines(spellings.terms)) + "\n\n"
    yield from _turtle_body(table, spellings, unique=unique)


def write_trig(graphs: dict, spellings: _Spellings, header: _Table):
    terms = spellings.terms
    yield "\n".join(_prefix_lines(terms)) + "\n"
    if header.blocks:
        yield "\n"
        yield from _turtle_body(header, spellings)
    for name in sorted(graphs, key=terms.nt):
        yield f"\n{terms.ttl(name)} {{\n"
        yield from _turtle_body(graphs[name], spellings, indent="    ")
        yield "}\n"


def _nquads_body(table: _Table, end: str):
    done: list[str] = []
    count = 0
    for subject, rows in table.blocks:
        # a subject's lines in one join: "S p1 o1 G .\nS p2 o2 G .\n", the pairs spelled by
        # str.join rather than a format per statement
        it = iter(rows)
        lead = subject + " "
        done += (lead, (end + lead).join(map(" ".join, zip(it, it, strict=True))), end)
        count += len(rows)
        if count >= 2 * _BATCH:
            yield "".join(done)
            done, count = [], 0
    yield "".join(done)


def write_nquads(graphs: dict, spellings: _Spellings, header: _Table):
    """The `header` statements in the default graph, then graph by graph in IRI order,
    statements in canonical order within each graph."""
    nt = spellings.terms.nt
    yield from _nquads_body(header, " .\n")
    for name in sorted(graphs, key=nt):
        yield from _nquads_body(graphs[name], " " + nt(name) + " .\n")


def jsonld_context(terms: Terms) -> dict:
    """The readable @context of every JSON-LD peacegraph writes (dump and linked-data pages)."""
    return dict(terms.prefixes)


def _jsonld_literal(term: Literal, terms: Terms) -> str:
    """A literal's JSON-LD value as json.dumps(value, sort_keys=True, ensure_ascii=False) writes
    it: a plain string as a JSON string, else {"@language"|"@type": ..., "@value": ...}."""
    value = _json_string(str.__str__(term))
    language = term.language
    if language:
        return '{"@language": ' + _json_string(language) + ', "@value": ' + value + "}"
    datatype = term.datatype
    if datatype is None or str.__eq__(datatype, _XSD_STRING):
        return value
    datatype = str.__str__(datatype)
    return '{"@type": ' + _json_string(terms.compact(datatype) or datatype) + ', "@value": ' + value + "}"


def _jsonld_nodes(table: _Table, spellings: _Spellings):
    """JSON-LD node objects, one per subject in canonical order, written as json.dumps(node,
    sort_keys=True, ensure_ascii=False) writes them: "@id", "@type" (the IRI types), and a list
    per property of its values in canonical order.

    Subjects whose rows name the same predicates in the same order are written alike: the
    layout of their nodes is worked out once (_jsonld_layout), and a node is its layout filled
    with its values."""
    layouts: dict = {}
    json_names, value_of = spellings.json_names, spellings.json_values.__getitem__
    for subject, rows in table.blocks:
        predicates = tuple(rows[0::2])
        layout = layouts.get(predicates)
        if layout is None:
            layout = layouts[predicates] = _jsonld_layout(predicates, spellings)
        template, order, types = layout
        values = list(map(value_of, rows[1::2]))
        for i in types:
            o = rows[2 * i + 1]
            if o[0] != "<":
                break
            values[i] = json_names[o]
        else:
            values.append(json_names[subject])
            yield template % order(values)
            continue
        # a literal object of rdf:type is a value of the property "rdf:type", not a type
        yield _jsonld_node(subject, rows, spellings)


def _jsonld_layout(predicates: tuple, spellings: _Spellings):
    """How a node whose rows name `predicates` (in row order) is written, when every rdf:type
    object is an IRI: a %-template with a slot per row and one for the node's @id; the getter
    that orders the values (row i's at i, the @id's last) as the template's slots; and the rows
    that are types."""
    keys: dict = {"@id": [len(predicates)]}
    types = []
    for i, p in enumerate(predicates):
        if p == _TYPE_NT:
            types.append(i)
            keys.setdefault("@type", []).append(i)
        else:
            keys.setdefault(spellings.name(p), []).append(i)
    parts, order = [], []
    for key, slots in sorted(keys.items()):
        order += slots
        if key == "@id":
            parts.append('"@id": %s')
        else:
            parts.append(_json_string(key).replace("%", "%%") + ": [" + ", ".join(["%s"] * len(slots)) + "]")
    # a node has a row and an @id at least, so the getter gives a tuple
    return "{" + ", ".join(parts) + "}", itemgetter(*order), types


def _jsonld_node(subject: str, rows: list, spellings: _Spellings) -> str:
    """One JSON-LD node object, worked out row by row."""
    json_names, json_values = spellings.json_names, spellings.json_values
    keys: dict = {"@id": None}
    types = found = None
    last = None
    is_type = False
    it = iter(rows)
    for p, o in zip(it, it, strict=True):
        if p != last:
            last = p
            is_type = p == _TYPE_NT
            found = None
        if is_type and o[0] == "<":
            if types is None:
                types = keys["@type"] = []
            types.append(json_names[o])
            continue
        if found is None:
            found = keys.setdefault(spellings.name(p), [])
        found.append(json_values[o])
    parts = []
    for key, vs in sorted(keys.items()):
        if vs is None:
            parts.append('"@id": ' + json_names[subject])
        else:
            parts.append(_json_string(key) + ": [" + ", ".join(vs) + "]")
    return "{" + ", ".join(parts) + "}"


def jsonld_document(graph: Graph, terms: Terms | None = None) -> str:
    """A graph as JSON-LD with the dump's readable @context, nodes in canonical order."""
    terms = terms or Terms()
    spellings = _Spellings(terms)
    nodes = list(_jsonld_nodes(_table(graph, spellings), spellings))
    return ('{\n "@context": ' + _json(jsonld_context(terms))
            + ',\n "@graph": [\n  ' + ",\n  ".join(nodes) + "\n ]\n}\n")


def write_jsonld(graphs: dict, spellings: _Spellings, header: _Table):
    """JSON-LD 1.1 with one object per named graph, nodes in canonical order, one per line;
    the `header` statements (the dataset's version and license) as nodes of the default graph."""
    terms = spellings.terms
    yield '{\n "@context": ' + _json(jsonld_context(terms))
    yield ',\n "@graph": ['
    first_graph = True
    for node in _jsonld_nodes(header, spellings):
        yield ("" if first_graph else ",") + "\n  " + node
        first_graph = False
    for name in sorted(graphs, key=terms.nt):
        yield ("" if first_graph else ",") + "\n  {\"@id\": " + json.dumps(terms.compact(str(name)) or str(name))
        yield ', "@graph": ['
        first_graph = False
        done: list[str] = []
        count = 0
        lead = "\n   "
        for node in _jsonld_nodes(graphs[name], spellings):
            done.append(node)
            count += 1
            if count >= _BATCH // 4:
                yield lead + ",\n   ".join(done)
                done, count, lead = [], 0, ",\n   "
        if done:
            yield lead + ",\n   ".join(done)
        yield "\n  ]}"
    yield "\n ]\n}\n"


# -- CSV tables --------------------------------------------------------------------------------

class _View:
    """Lookups for the tables over the union of the named graphs, in the graphs' tables. Nodes
    are named by their N-Triples forms, as the tables hold them: a term object is made only for
    a literal's text."""

    CLASSES = (PG.Provision, PG.Stance, PG.PublicStatement)

    def __init__(self, spellings: _Spellings):
        self.spellings = spellings
        self.terms = spellings.terms
        self.tables: list[_Table] = []
        # N-Triples form of a class -> those of its instances, as _table meets them
        self.types: dict = {spellings.nt(c): [] for c in self.CLASSES}
        self._labels: dict = {}
        self._label_properties = (spellings.nt(RDFS.label), spellings.nt(SKOS.prefLabel))
        self._evidence, self._selector, self._exact = (
            spellings.nt(PG.evidence), spellings.nt(OA.hasSelector), spellings.nt(OA.exact))

    def objects(self, s: str, p: str) -> list[str]:
        """The objects of node `s` through property `p`, in N-Triples order."""
        found = []
        for table in self.tables:
            rows = table.rows.get(s)
            if rows is None:
                continue
            # a table's rows are sorted by predicate: those of `p` are one run
            predicates = rows[0::2]
            if p in predicates:
                i = predicates.index(p)
                end = len(predicates)
                while i < end and predicates[i] == p:
                    found.append(rows[2 * i + 1])
                    i += 1
        return sorted(set(found)) if len(found) > 1 else found

    def instances(self, cls) -> list[str]:
        return sorted(set(self.types[self.spellings.nt(cls)]))

    def text(self, node: str) -> str:
        """What str() gives of the term: an IRI, or a literal's lexical form."""
        return node[1:-1] if node[0] == "<" else str.__str__(self.spellings.literals[node])

    def name(self, node: str) -> str:
        if node[0] == "<":
            iri = node[1:-1]
            return self.terms.compact(iri) or iri
        return self.text(node)

    def label(self, node: str) -> str:
        if node[0] != "<":
            return self.text(node)
        cached = self._labels.get(node)
        if cached is None:
            cached = self._labels[node] = self._label(node)
        return cached

    def _label(self, node: str) -> str:
        literals = self.spellings.literals
        for prop in self._label_properties:
            values = [literals[v] for v in self.objects(node, prop) if v[0] == '"']
            english = [v for v in values if v.language is None or str(v.language).startswith("en")]
            if english or values:
                return str(min(english or values, key=str))
        iri = node[1:-1]
        return re.split(r"[/#]", iri)[-1] or iri

    def quotes(self, node: str) -> str:
        found = []
        for span in self.objects(node, self._evidence):
            for sel in self.objects(span, self._selector):
                found.extend(self.text(x) for x in self.objects(sel, self._exact))
        return " | ".join(sorted(set(found)))

    def joined(self, node: str, prop: str) -> str:
        return "; ".join(self.label(v) for v in self.objects(node, prop))


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _node_columns(view: _View, nodes: list) -> list[str]:
    """The {role}_iri, {role}_id and {role}_label cells of one or more nodes ("; " between)."""
    return ["; ".join(view.text(n) for n in nodes), "; ".join(view.name(n) for n in nodes),
            "; ".join(view.label(n) for n in nodes)]


def _node_header(role: str) -> list[str]:
    return [f"{role}_iri", f"{role}_id", f"{role}_label"]


def provisions_table(view: _View) -> str:
    nt = view.spellings.nt
    provision_of, topic = nt(PG.provisionOf), nt(PG.topic)
    rows = []
    for prov in view.instances(PG.Provision):
        docs = view.objects(prov, provision_of) or [None]
        for doc in docs:
            rows.append(_node_columns(view, [prov]) + _node_columns(view, [] if doc is None else [doc])
                        + _node_columns(view, view.objects(prov, topic)) + [view.quotes(prov)])
    rows.sort(key=lambda r: (r[4], r[1]))
    return _csv(_node_header("provision") + _node_header("document") + _node_header("topic") + ["quote"],
                rows)


def stances_table(view: _View) -> str:
    nt = view.spellings.nt
    holder, position, target, condition = nt(PG.holder), nt(PG.position), nt(PG.target), nt(PG.condition)
    rows = []
    for st in view.instances(PG.Stance):
        rows.append(_node_columns(view, [st]) + _node_columns(view, view.objects(st, holder))
                    + _node_columns(view, view.objects(st, position))
                    + _node_columns(view, view.objects(st, target))
                    + [view.joined(st, condition), view.quotes(st)])
    return _csv(_node_header("stance") + _node_header("holder") + _node_header("position")
                + _node_header("target") + ["condition", "quote"], rows)


def statements_table(view: _View) -> str:
    nt = view.spellings.nt
    speaker, about, quotation = nt(PG.speaker), nt(PG.about), nt(PG.quotation)
    rows = []
    for st in view.instances(PG.PublicStatement):
        rows.append(_node_columns(view, [st]) + _node_columns(view, view.objects(st, speaker))
                    + _node_columns(view, view.objects(st, about))
                    + [view.joined(st, quotation), view.quotes(st)])
    return _csv(_node_header("statement") + _node_header("speaker") + _node_header("about")
                + ["quotation", "quote"], rows)


# -- atomic writing ------------------------------------------------------------------------------

def write_file(path: Path, chunks, check=None) -> str:
    """Write text chunks as UTF-8, fsync, and return the file's sha256. `check`, when given, is
    called before each write (it raises to stop the writing)."""
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        pending: list[bytes] = []
        size = 0
        for chunk in chunks:
            data = chunk.encode("utf-8")
            pending.append(data)
            size += len(data)
            if size >= _CHUNK:
                if check is not None:
                    check()
                blob = b"".join(pending)
                fh.write(blob)
                digest.update(blob)
                pending, size = [], 0
        blob = b"".join(pending)
        fh.write(blob)
        digest.update(blob)
        fh.flush()
        os.fsync(fh.fileno())
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(tmp: Path, out: Path) -> None:
    if not out.exists() and not out.is_symlink():
        os.rename(tmp, out)
    elif out.is_symlink() or not out.is_dir():
        raise ExportError(f"{out} exists and is not a folder; not replacing it")
    elif _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous export
    else:
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rmdir(old)
        os.rename(out, old)
        claim = Claim(old)
        try:
            os.rename(tmp, out)
        except OSError:
            claim.release()
            os.rename(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
        claim.release()
    _fsync_dir(out.parent)


def dataset_header(base: str, release: Release) -> Graph:
    """What every dump says of itself: the dataset, its version, version IRI and license."""
    g = Graph()
    ds = dataset_iri(base)
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, OWL.versionInfo, Literal(release.version)))
    g.add((ds, OWL.versionIRI, version_iri(base, release.version)))
    g.add((ds, DCTERMS.license, URIRef(DATA_LICENSE)))
    g.add((ds, DCTERMS.rights, Literal(SOURCE_RIGHTS, lang="en")))
    if release.issued:
        g.add((ds, DCTERMS.issued, Literal(release.issued, datatype=XSD.date)))
    return g


def export(dataset, out_dir, *, sparql_endpoint: str | None = None, base: str = BASE,
           release: Release | None = None, download_url: str | None = None,
           csv_bom: bool = False) -> list[str]:
    """Write every dist file for `dataset` (an rdflib Dataset holding the four named graphs)
    into `out_dir`, atomically. `release` is the version the dumps state (default: the package
    version, no issue date); `download_url` where the files will be published (default
    base/download/); `csv_bom` starts the tables with a UTF-8 byte order mark, for spreadsheet
    programs that need one to read UTF-8. Returns the file names. Raises ExportError, leaving any
    previous `out_dir` untouched and no temporary files behind."""
    return write_export(dataset, out_dir, sparql_endpoint=sparql_endpoint, base=base,
                        release=release, download_url=download_url, csv_bom=csv_bom).commit()


class Cancelled(Exception):
    """An export stopped before it was complete (see `write_export`'s `stop`)."""


class PendingExport:
    """Every dist file written, in a claimed temporary folder beside the target: `commit` puts
    it in place of the target, `discard` removes it. Until one of them, the claim keeps other
    builds from taking the folder for a crash's leftovers."""

    def __init__(self, tmp: Path, claim: Claim, out: Path, files: list[str]):
        self.tmp, self.claim, self.out, self.files = tmp, claim, out, files

    def commit(self) -> list[str]:
        """Swap the folder in for the target (atomically where the kernel can); returns the file
        names. Raises ExportError, leaving the previous target untouched."""
        tmp, out = self.tmp, self.out
        try:
            self.claim.release()
            os.chmod(tmp, 0o755)
            _fsync_dir(tmp)
            _swap_in(tmp, out)
        except ExportError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ExportError(f"cannot write {out}: {exc.strerror or exc}; the previous export is "
                              "unchanged") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return self.files

    def discard(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.claim.release()


def write_export(dataset, out_dir, *, sparql_endpoint: str | None = None, base: str = BASE,
                 release: Release | None = None, download_url: str | None = None,
                 csv_bom: bool = False, stop=None) -> PendingExport:
    """`export`'s work up to putting the files in place: they are written into a temporary
    folder beside `out_dir`, which the returned PendingExport commits or discards. `stop`, a
    threading.Event, is checked between chunks: once it is set the export raises Cancelled,
    leaving nothing behind. Raises ExportError, leaving nothing behind."""
    with paused_gc():
        # millions of rows of strings and terms, none in a cycle: collections would only rescan
        # the dataset (a third of the export's time at 1M)
        return _write(dataset, Path(out_dir).absolute(), sparql_endpoint=sparql_endpoint,
                      base=base, release=release or Release(__version__),
                      download_url=download_url, csv_bom=csv_bom, stop=stop)


def _write(dataset, out: Path, *, sparql_endpoint, base, release, download_url, csv_bom,
           stop) -> PendingExport:
    def check():
        if stop is not None and stop.is_set():
            raise Cancelled("export cancelled")

    terms = Terms()
    spellings = _Spellings(terms)
    view = _View(spellings)
    graphs = {}
    for name in NAMED_GRAPHS:
        graphs[name] = _table(dataset.graph(name), spellings, view)
        check()
    counts = {name: t.size for name, t in graphs.items()}
    header = _table(dataset_header(base, release), spellings)
    union_ai = _union(graphs[INFERRED_GRAPH], graphs[ASSERTED_GRAPH], header)
    bom = ["\ufeff"] if csv_bom else []

    writers = [
        ("peacegraph.trig", lambda: write_trig(graphs, spellings, header)),
        ("peacegraph.nq", lambda: write_nquads(graphs, spellings, header)),
        ("peacegraph.ttl", lambda: write_turtle(union_ai, spellings, unique=True)),
        ("peacegraph.jsonld", lambda: write_jsonld(graphs, spellings, header)),
        ("provisions.csv", lambda: [*bom, provisions_table(view)]),
        ("stances.csv", lambda: [*bom, stances_table(view)]),
        ("statements.csv", lambda: [*bom, statements_table(view)]),
    ]
    check()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(out.parent, (f".{out.name}.tmp-", f".{out.name}.old-"))
        tmp, claim = claimed_temp_folder(out.parent, f".{out.name}.tmp-")
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    try:
        sums = {}
        for name, make in writers:
            sums[name] = write_file(tmp / name, make(), check)
        # the description names every file with its size and checksum, so it is written last
        files = [DumpFile(name, (tmp / name).stat().st_size, sums[name]) for name, _ in writers]
        void = _table(void_graph(base, counts, files, sparql_endpoint=sparql_endpoint,
                                 download_url=download_url, release=release), spellings)
        sums[DESCRIPTION_FILE] = write_file(tmp / DESCRIPTION_FILE, write_turtle(void, spellings))
        write_file(tmp / "SHA256SUMS", [f"{sums[n]}  {n}\n" for n in sorted(sums)])
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        claim.release()
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}; the previous export is "
                          "unchanged") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        claim.release()
        raise
    return PendingExport(tmp, claim, out, [name for name, _ in writers]
                         + [DESCRIPTION_FILE, "SHA256SUMS"])
