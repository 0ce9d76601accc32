"""Export a built dataset to dist/: dumps, CSV tables, VoID and checksums.

Files: peacegraph.trig (the four named graphs), peacegraph.nq, peacegraph.ttl (asserted +
inferred), peacegraph.jsonld (the four named graphs, with a prefix @context), provisions.csv,
stances.csv, statements.csv, void.ttl and SHA256SUMS (``sha256sum -c`` format).

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
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from peacegraph.errors import ExportError
from peacegraph.namespaces import ASSERTED_GRAPH, BASE, INFERRED_GRAPH, NAMED_GRAPHS, OA, PG
from peacegraph.terms import Terms
from peacegraph.void import void_graph

FILES = ("peacegraph.trig", "peacegraph.nq", "peacegraph.ttl", "peacegraph.jsonld",
         "provisions.csv", "stances.csv", "statements.csv", "void.ttl", "SHA256SUMS")
DUMPS = ("peacegraph.trig", "peacegraph.nq", "peacegraph.ttl", "peacegraph.jsonld")
_XSD_STRING = str(XSD.string)
_CHUNK = 1 << 20


def sorted_triples(graph: Graph, terms: Terms) -> list[tuple]:
    """Rows (s_nt, p_nt, o_nt, s, p, o) of a graph in N-Triples order, the one canonical
    order of every dump."""
    nt = terms.nt
    rows = [(nt(s), nt(p), nt(o), s, p, o) for s, p, o in graph]
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return rows


# -- serializers -------------------------------------------------------------------------------

def _prefix_lines(terms: Terms) -> list[str]:
    return [f"@prefix {p}: <{ns}> ." for p, ns in terms.prefixes.items()]


def _turtle_body(rows, terms: Terms, indent: str = ""):
    """Turtle statements grouped by subject and predicate; rows as from sorted_triples."""
    type_nt = f"<{RDF.type}>"
    ttl = terms.ttl
    i, n = 0, len(rows)
    while i < n:
        subject = rows[i][0]
        j = i
        while j < n and rows[j][0] == subject:
            j += 1
        group = rows[i:j]
        # rdf:type first, as readers expect; the rest keep the canonical order
        group = [r for r in group if r[1] == type_nt] + [r for r in group if r[1] != type_nt]
        lines = []
        k = 0
        while k < len(group):
            pred = group[k][1]
            objs = []
            while k < len(group) and group[k][1] == pred:
                objs.append(ttl(group[k][5]))
                k += 1
            p = "a" if pred == type_nt else ttl(group[k - 1][4])
            lines.append(f"{p} {' , '.join(objs)}")
        yield f"{indent}{ttl(rows[i][3])} " + f" ;\n{indent}    ".join(lines) + " .\n\n"
        i = j


def write_turtle(triples, terms: Terms):
    yield "\n".join(_prefix_lines(terms)) + "\n\n"
    yield from _turtle_body(triples, terms)


def write_trig(graphs: dict, terms: Terms):
    yield "\n".join(_prefix_lines(terms)) + "\n"
    for name in sorted(graphs, key=terms.nt):
        yield f"\n{terms.ttl(name)} {{\n"
        yield from _turtle_body(graphs[name], terms, indent="    ")
        yield "}\n"


def write_nquads(graphs: dict, terms: Terms):
    """Graph by graph in IRI order, statements in canonical order within each graph."""
    for name in sorted(graphs, key=terms.nt):
        g = " " + terms.nt(name) + " .\n"
        rows = graphs[name]
        for i in range(0, len(rows), 10000):
            yield "".join(r[0] + " " + r[1] + " " + r[2] + g for r in rows[i:i + 10000])


def jsonld_context(terms: Terms) -> dict:
    return dict(terms.prefixes)


def _jsonld_value(term, terms: Terms):
    if isinstance(term, URIRef):
        return {"@id": terms.compact(str(term)) or str(term)}
    if isinstance(term, Literal):
        if term.language:
            return {"@value": str(term), "@language": term.language}
        if term.datatype is None or str(term.datatype) == _XSD_STRING:
            return str(term)
        return {"@value": str(term), "@type": terms.compact(str(term.datatype)) or str(term.datatype)}
    return {"@id": terms.nt(term)}


def write_jsonld(graphs: dict, terms: Terms):
    """JSON-LD 1.1 with one object per named graph, nodes in canonical order, one per line."""
    yield '{\n "@context": ' + json.dumps(jsonld_context(terms), sort_keys=True, ensure_ascii=False)
    yield ',\n "@graph": ['
    first_graph = True
    for name in sorted(graphs, key=terms.nt):
        yield ("" if first_graph else ",") + "\n  {\"@id\": " + json.dumps(terms.compact(str(name)) or str(name))
        yield ', "@graph": ['
        first_graph = False
        rows = graphs[name]
        i, n, first = 0, len(rows), True
        while i < n:
            subject_nt, subject = rows[i][0], rows[i][3]
            node: dict = {"@id": terms.compact(subject) or str(subject)}
            while i < n and rows[i][0] == subject_nt:
                p, o = rows[i][4], rows[i][5]
                if p == RDF.type and isinstance(o, URIRef):
                    node.setdefault("@type", []).append(terms.compact(str(o)) or str(o))
                else:
                    key = terms.compact(p) or str(p)
                    node.setdefault(key, []).append(_jsonld_value(o, terms))
                i += 1
            yield ("" if first else ",") + "\n   " + json.dumps(node, sort_keys=True, ensure_ascii=False)
            first = False
        yield "\n  ]}"
    yield "\n ]\n}\n"


# -- CSV tables --------------------------------------------------------------------------------

class _View:
    """Lookups for the tables over the union of the named graphs, from one pass over the rows
    of the predicates the tables use."""

    WANTED = (RDF.type, RDFS.label, SKOS.prefLabel, PG.provisionOf, PG.topic, PG.evidence,
              OA.hasSelector, OA.exact, PG.holder, PG.position, PG.target, PG.condition,
              PG.speaker, PG.about, PG.quotation)

    def __init__(self, graphs: dict, terms: Terms):
        self.terms = terms
        wanted = {terms.nt(p): p for p in self.WANTED}
        self.index: dict = {p: {} for p in self.WANTED}
        self.subjects: dict = {}
        self._labels: dict = {}
        for rows in graphs.values():
            for s_nt, p_nt, o_nt, subj, _, obj in rows:
                p = wanted.get(p_nt)
                if p is not None:
                    self.index[p].setdefault(s_nt, {})[o_nt] = obj
                    self.subjects[s_nt] = subj

    def objects(self, s, p) -> list:
        found = self.index[p].get(self.terms.nt(s))
        return [found[k] for k in sorted(found)] if found else []

    def instances(self, cls) -> list:
        cls_nt = self.terms.nt(cls)
        return [self.subjects[s] for s, types in sorted(self.index[RDF.type].items())
                if cls_nt in types]

    def name(self, node) -> str:
        if isinstance(node, URIRef):
            return self.terms.compact(node) or str(node)
        return str(node)

    def label(self, node) -> str:
        if not isinstance(node, URIRef):
            return str(node)
        key = str.__str__(node)
        cached = self._labels.get(key)
        if cached is None:
            cached = self._labels[key] = self._label(node)
        return cached

    def _label(self, node) -> str:
        for prop in (RDFS.label, SKOS.prefLabel):
            values = [v for v in self.objects(node, prop) if isinstance(v, Literal)]
            english = [v for v in values if v.language is None or str(v.language).startswith("en")]
            if english or values:
                return str(min(english or values, key=str))
        iri = str(node)
        return re.split(r"[/#]", iri)[-1] or iri

    def quotes(self, node) -> str:
        found = []
        for span in self.objects(node, PG.evidence):
            for sel in self.objects(span, OA.hasSelector):
                found.extend(str(x) for x in self.objects(sel, OA.exact))
        return " | ".join(sorted(set(found)))

    def joined(self, node, prop, labels: bool = True) -> str:
        values = self.objects(node, prop)
        return "; ".join(self.label(v) if labels else self.name(v) for v in values)


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def provisions_table(view: _View) -> str:
    rows = []
    for prov in view.instances(PG.Provision):
        docs = view.objects(prov, PG.provisionOf) or [None]
        for doc in docs:
            rows.append([view.name(prov), "" if doc is None else view.name(doc),
                         view.label(prov), view.joined(prov, PG.topic), view.quotes(prov),
                         "" if doc is None else view.label(doc)])
    rows.sort(key=lambda r: (r[1], r[0]))
    return _csv(["provision", "document", "label", "topics", "quote", "document_label"], rows)


def stances_table(view: _View) -> str:
    rows = []
    for st in view.instances(PG.Stance):
        rows.append([view.name(st), view.joined(st, PG.holder), view.joined(st, PG.position),
                     view.joined(st, PG.target), view.joined(st, PG.condition),
                     view.quotes(st), view.joined(st, PG.holder, labels=False),
                     view.joined(st, PG.target, labels=False)])
    return _csv(["stance", "holder", "position", "target", "condition", "quote", "holder_id",
                 "target_id"], rows)


def statements_table(view: _View) -> str:
    rows = []
    for st in view.instances(PG.PublicStatement):
        rows.append([view.name(st), view.joined(st, PG.speaker), view.joined(st, PG.about),
                     view.joined(st, PG.quotation), view.quotes(st),
                     view.joined(st, PG.speaker, labels=False), view.joined(st, PG.about, labels=False)])
    return _csv(["statement", "speaker", "about", "quotation", "quote", "speaker_id", "about_id"], rows)


# -- VoID ----------------------------------------------------------------------------------------

# -- atomic writing ------------------------------------------------------------------------------

def write_file(path: Path, chunks) -> str:
    """Write text chunks as UTF-8, fsync, and return the file's sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        pending: list[bytes] = []
        size = 0
        for chunk in chunks:
            data = chunk.encode("utf-8")
            pending.append(data)
            size += len(data)
            if size >= _CHUNK:
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
        try:
            os.rename(tmp, out)
        except OSError:
            os.rename(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(out.parent)


def export(dataset, out_dir, *, sparql_endpoint: str | None = None, base: str = BASE) -> list[str]:
    """Write every dist file for `dataset` (an rdflib Dataset holding the four named graphs)
    into `out_dir`, atomically. Returns the file names. Raises ExportError, leaving any
    previous `out_dir` untouched and no temporary files behind."""
    out = Path(out_dir).absolute()
    terms = Terms()
    graphs = {name: sorted_triples(dataset.graph(name), terms) for name in NAMED_GRAPHS}
    counts = {name: len(t) for name, t in graphs.items()}
    public = {name: graphs[name] for name in NAMED_GRAPHS}
    merged = {r[:3]: r for r in graphs[INFERRED_GRAPH]}
    merged.update((r[:3], r) for r in graphs[ASSERTED_GRAPH])
    union_ai = [merged[k] for k in sorted(merged)]
    view = _View(graphs, terms)
    void = sorted_triples(void_graph(base, counts, DUMPS, sparql_endpoint=sparql_endpoint), terms)

    writers = [
        ("peacegraph.trig", lambda: write_trig(public, terms)),
        ("peacegraph.nq", lambda: write_nquads(public, terms)),
        ("peacegraph.ttl", lambda: write_turtle(union_ai, terms)),
        ("peacegraph.jsonld", lambda: write_jsonld(public, terms)),
        # a BOM so that spreadsheet programs read the tables as UTF-8
        ("provisions.csv", lambda: ["\ufeff", provisions_table(view)]),
        ("stances.csv", lambda: ["\ufeff", stances_table(view)]),
        ("statements.csv", lambda: ["\ufeff", statements_table(view)]),
        ("void.ttl", lambda: write_turtle(void, terms)),
    ]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    try:
        sums = {}
        for name, make in writers:
            sums[name] = write_file(tmp / name, make())
        write_file(tmp / "SHA256SUMS", [f"{sums[n]}  {n}\n" for n in sorted(sums)])
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
    return [name for name, _ in writers] + ["SHA256SUMS"]
