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
from itertools import groupby
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
_CHUNK = 1 << 20
# subjects per string the Turtle and JSON-LD writers hand on: fewer, larger writes
_BATCH = 2000
_STATEMENT = itemgetter(0, 1, 2)


def sorted_triples(graph: Graph, terms: Terms) -> list[tuple]:
    """Rows (s_nt, p_nt, o_nt, s, p, o) of a graph in N-Triples order, the one canonical
    order of every dump."""
    nt = terms.nt
    rows = [(nt(s), nt(p), nt(o), s, p, o) for s, p, o in statements(graph)]
    # No key: the N-Triples forms of a graph's statements differ, so tuple comparison decides
    # on them alone (in C) and never reaches the terms.
    rows.sort()
    return rows


def _union_rows(*parts: list) -> list:
    """Sorted rows of several graphs (each from sorted_triples), each statement once."""
    rows = [r for part in parts for r in part]
    rows.sort(key=_STATEMENT)
    out = []
    last = None
    for r in rows:
        key = r[:3]
        if key != last:
            out.append(r)
            last = key
    return out


# -- serializers -------------------------------------------------------------------------------

def _prefix_lines(terms: Terms) -> list[str]:
    return [f"@prefix {p}: <{ns}> ." for p, ns in terms.prefixes.items()]


_SUBJECT, _PREDICATE = itemgetter(0), itemgetter(1)


def _turtle_body(rows, terms: Terms, indent: str = ""):
    """Turtle statements grouped by subject and predicate; rows as from sorted_triples."""
    type_nt = f"<{RDF.type}>"
    ttl = terms.ttl_of_nt
    between = f" ;\n{indent}    "
    done: list[str] = []
    for subject, group in groupby(rows, _SUBJECT):
        lines = []
        for pred, same in groupby(group, _PREDICATE):
            objs = " , ".join([ttl(r[2], r[5]) for r in same])
            if pred == type_nt:
                # rdf:type first, as readers expect; the rest keep the canonical order
                lines.insert(0, "a " + objs)
            else:
                lines.append(ttl(pred) + " " + objs)
        done.append(indent + ttl(subject) + " " + between.join(lines) + " .\n\n")
        if len(done) >= _BATCH:
            yield "".join(done)
            done = []
    yield "".join(done)


def write_turtle(triples, terms: Terms):
    yield "\n".join(_prefix_lines(terms)) + "\n\n"
    yield from _turtle_body(triples, terms)


def write_trig(graphs: dict, terms: Terms, header=()):
    yield "\n".join(_prefix_lines(terms)) + "\n"
    if header:
        yield "\n"
        yield from _turtle_body(header, terms)
    for name in sorted(graphs, key=terms.nt):
        yield f"\n{terms.ttl(name)} {{\n"
        yield from _turtle_body(graphs[name], terms, indent="    ")
        yield "}\n"


def write_nquads(graphs: dict, terms: Terms, header=()):
    """The `header` rows in the default graph, then graph by graph in IRI order, statements in
    canonical order within each graph."""
    yield "".join(r[0] + " " + r[1] + " " + r[2] + " .\n" for r in header)
    for name in sorted(graphs, key=terms.nt):
        g = " " + terms.nt(name) + " .\n"
        rows = graphs[name]
        for i in range(0, len(rows), 10000):
            yield "".join(r[0] + " " + r[1] + " " + r[2] + g for r in rows[i:i + 10000])


def jsonld_context(terms: Terms) -> dict:
    """The readable @context of every JSON-LD peacegraph writes (dump and linked-data pages)."""
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


def jsonld_nodes(rows, terms: Terms):
    """JSON-LD node objects, one per subject, of rows in canonical order (from sorted_triples)."""
    type_nt = f"<{RDF.type}>"
    names: dict = {}   # N-Triples form of an IRI -> its compact form or the IRI

    def name(nt: str) -> str:
        found = names.get(nt)
        if found is None:
            iri = nt[1:-1]
            found = names[nt] = terms.compact(iri) or iri
        return found

    for _, group in groupby(rows, _SUBJECT):
        group = list(group)
        subject = group[0][3]
        node: dict = {"@id": terms.compact(subject) or str(subject)}
        for pred, same in groupby(group, _PREDICATE):
            for r in same:
                o_nt = r[2]
                if o_nt[0] == "<":
                    if pred == type_nt:
                        node.setdefault("@type", []).append(name(o_nt))
                    else:
                        node.setdefault(name(pred), []).append({"@id": name(o_nt)})
                else:
                    node.setdefault(name(pred), []).append(_jsonld_value(r[5], terms))
        yield node


def jsonld_document(graph: Graph, terms: Terms | None = None) -> str:
    """A graph as JSON-LD with the dump's readable @context, nodes in canonical order."""
    terms = terms or Terms()
    nodes = [json.dumps(node, sort_keys=True, ensure_ascii=False)
             for node in jsonld_nodes(sorted_triples(graph, terms), terms)]
    return ('{\n "@context": ' + json.dumps(jsonld_context(terms), sort_keys=True, ensure_ascii=False)
            + ',\n "@graph": [\n  ' + ",\n  ".join(nodes) + "\n ]\n}\n")


def write_jsonld(graphs: dict, terms: Terms, header=()):
    """JSON-LD 1.1 with one object per named graph, nodes in canonical order, one per line;
    the `header` rows (the dataset's version and license) as nodes of the default graph."""
    yield '{\n "@context": ' + json.dumps(jsonld_context(terms), sort_keys=True, ensure_ascii=False)
    yield ',\n "@graph": ['
    first_graph = True
    for node in jsonld_nodes(header, terms):
        yield ("" if first_graph else ",") + "\n  " + json.dumps(node, sort_keys=True, ensure_ascii=False)
        first_graph = False
    encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
    for name in sorted(graphs, key=terms.nt):
        yield ("" if first_graph else ",") + "\n  {\"@id\": " + json.dumps(terms.compact(str(name)) or str(name))
        yield ', "@graph": ['
        first_graph = False
        done: list[str] = []
        lead = "\n   "
        for node in jsonld_nodes(graphs[name], terms):
            done.append(encode(node))
            if len(done) >= _BATCH:
                yield lead + ",\n   ".join(done)
                done, lead = [], ",\n   "
        if done:
            yield lead + ",\n   ".join(done)
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
        self.index: dict = {p: {} for p in self.WANTED}
        by_nt = {terms.nt(p): self.index[p] for p in self.WANTED}
        subjects: dict = {}
        self.subjects = subjects
        self._labels: dict = {}
        for rows in graphs.values():
            for s_nt, p_nt, o_nt, subj, _, obj in rows:
                index = by_nt.get(p_nt)
                if index is not None:
                    found = index.get(s_nt)
                    if found is None:
                        found = index[s_nt] = {}
                        subjects[s_nt] = subj
                    found[o_nt] = obj

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

    def joined(self, node, prop) -> str:
        return "; ".join(self.label(v) for v in self.objects(node, prop))


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _node_columns(view: _View, nodes: list) -> list[str]:
    """The {role}_iri, {role}_id and {role}_label cells of one or more nodes ("; " between)."""
    return ["; ".join(str(n) for n in nodes), "; ".join(view.name(n) for n in nodes),
            "; ".join(view.label(n) for n in nodes)]


def _node_header(role: str) -> list[str]:
    return [f"{role}_iri", f"{role}_id", f"{role}_label"]


def provisions_table(view: _View) -> str:
    rows = []
    for prov in view.instances(PG.Provision):
        docs = view.objects(prov, PG.provisionOf) or [None]
        for doc in docs:
            rows.append(_node_columns(view, [prov]) + _node_columns(view, [] if doc is None else [doc])
                        + _node_columns(view, view.objects(prov, PG.topic)) + [view.quotes(prov)])
    rows.sort(key=lambda r: (r[4], r[1]))
    return _csv(_node_header("provision") + _node_header("document") + _node_header("topic") + ["quote"],
                rows)


def stances_table(view: _View) -> str:
    rows = []
    for st in view.instances(PG.Stance):
        rows.append(_node_columns(view, [st]) + _node_columns(view, view.objects(st, PG.holder))
                    + _node_columns(view, view.objects(st, PG.position))
                    + _node_columns(view, view.objects(st, PG.target))
                    + [view.joined(st, PG.condition), view.quotes(st)])
    return _csv(_node_header("stance") + _node_header("holder") + _node_header("position")
                + _node_header("target") + ["condition", "quote"], rows)


def statements_table(view: _View) -> str:
    rows = []
    for st in view.instances(PG.PublicStatement):
        rows.append(_node_columns(view, [st]) + _node_columns(view, view.objects(st, PG.speaker))
                    + _node_columns(view, view.objects(st, PG.about))
                    + [view.joined(st, PG.quotation), view.quotes(st)])
    return _csv(_node_header("statement") + _node_header("speaker") + _node_header("about")
                + ["quotation", "quote"], rows)


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
    with paused_gc():
        # millions of rows of strings and terms, none in a cycle: collections would only rescan
        # the dataset (a third of the export's time at 1M)
        return _export(dataset, Path(out_dir).absolute(), sparql_endpoint=sparql_endpoint,
                       base=base, release=release or Release(__version__),
                       download_url=download_url, csv_bom=csv_bom)


def _export(dataset, out: Path, *, sparql_endpoint, base, release, download_url, csv_bom) -> list[str]:
    terms = Terms()
    graphs = {name: sorted_triples(dataset.graph(name), terms) for name in NAMED_GRAPHS}
    counts = {name: len(t) for name, t in graphs.items()}
    public = {name: graphs[name] for name in NAMED_GRAPHS}
    header = sorted_triples(dataset_header(base, release), terms)
    union_ai = _union_rows(graphs[INFERRED_GRAPH], graphs[ASSERTED_GRAPH], header)
    view = _View(graphs, terms)
    bom = ["\ufeff"] if csv_bom else []

    writers = [
        ("peacegraph.trig", lambda: write_trig(public, terms, header)),
        ("peacegraph.nq", lambda: write_nquads(public, terms, header)),
        ("peacegraph.ttl", lambda: write_turtle(union_ai, terms)),
        ("peacegraph.jsonld", lambda: write_jsonld(public, terms, header)),
        ("provisions.csv", lambda: [*bom, provisions_table(view)]),
        ("stances.csv", lambda: [*bom, stances_table(view)]),
        ("statements.csv", lambda: [*bom, statements_table(view)]),
    ]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(out.parent, (f".{out.name}.tmp-", f".{out.name}.old-"))
        tmp, claim = claimed_temp_folder(out.parent, f".{out.name}.tmp-")
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    try:
        sums = {}
        for name, make in writers:
            sums[name] = write_file(tmp / name, make())
        # the description names every file with its size and checksum, so it is written last
        files = [DumpFile(name, (tmp / name).stat().st_size, sums[name]) for name, _ in writers]
        void = sorted_triples(void_graph(base, counts, files, sparql_endpoint=sparql_endpoint,
                                         download_url=download_url, release=release), terms)
        sums[DESCRIPTION_FILE] = write_file(tmp / DESCRIPTION_FILE, write_turtle(void, terms))
        write_file(tmp / "SHA256SUMS", [f"{sums[n]}  {n}\n" for n in sorted(sums)])
        claim.release()
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
    finally:
        claim.release()
    return [name for name, _ in writers] + [DESCRIPTION_FILE, "SHA256SUMS"]
