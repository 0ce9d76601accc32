"""peacegraph.export: every dist file, round trips, determinism, atomicity, speed."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from peacegraph import export as export_module
from peacegraph.errors import ExportError
from peacegraph.export import FILES, export
from peacegraph.namespaces import (
    ASSERTED_GRAPH,
    INFERRED_GRAPH,
    NAMED_GRAPHS,
    OA,
    ONTOLOGY_GRAPH,
    PG,
    PGID,
    SOURCES_GRAPH,
    SRC,
    VOID,
)

XSD = Namespace("http://www.w3.org/2001/XMLSchema#")


def quads_of(path: Path) -> set:
    return {str(q) for q in ox.parse(path=str(path))}


def dataset_quads(ds) -> set:
    out = set()
    for g in NAMED_GRAPHS:
        for s, p, o in ds.graph(g):
            out.add((s, p, o, g))
    return out


def synthetic_dataset(n: int) -> Dataset:
    """About n triples shaped like the built graph: things with labels, provisions, spans."""
    ds = Dataset(default_union=True)
    asserted, sources = ds.graph(ASSERTED_GRAPH), ds.graph(SOURCES_GRAPH)
    ds.graph(ONTOLOGY_GRAPH).add((PG.Provision, RDFS.label, Literal("provision", lang="en")))
    inferred = ds.graph(INFERRED_GRAPH)
    text = "word " * 2000
    sources.add((SRC["synthetic"], PG.text, Literal(text)))
    i = 0
    while len(asserted) + len(inferred) < n:
        node = PGID[f"provision-{i}"]
        span = URIRef(f"{SRC}synthetic#char={i % 1000},{i % 1000 + 20}")
        qsel = URIRef(f"{SRC}synthetic#quote-{i % 1000}-{i % 1000 + 20}")
        asserted.add((node, RDF.type, PG.Provision))
        asserted.add((node, RDFS.label, Literal(f"Provision {i} \u201cquoted\u201d\nsecond line")))
        asserted.add((node, PG.provisionOf, PGID[f"document-{i % 97}"]))
        asserted.add((node, PG.topic, PGID[f"topic/t{i % 13}"]))
        asserted.add((node, PG.evidence, span))
        asserted.add((span, OA.hasSelector, qsel))
        asserted.add((qsel, OA.exact, Literal(text[:20])))
        asserted.add((qsel, OA.start, Literal(i % 1000, datatype=XSD.nonNegativeInteger)))
        inferred.add((PGID[f"document-{i % 97}"], PG.hasProvision, node))
        i += 1
    return ds


def test_writes_every_file_and_checksums(anchored_dataset, tmp_path):
    out = tmp_path / "dist"
    names = export(anchored_dataset, out)
    assert sorted(names) == sorted(FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    lines = (out / "SHA256SUMS").read_text().splitlines()
    assert len(lines) == len(FILES) - 1
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=out, check=True)
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]  # no temporary folders left


def test_dumps_round_trip(anchored_dataset, tmp_path):
    out = tmp_path / "dist"
    export(anchored_dataset, out)
    expected = {f"<{s}> <{p}> {o.n3()} <{g}>" for s, p, o, g in dataset_quads(anchored_dataset)}
    trig = Dataset()
    trig.parse(out / "peacegraph.trig", format="trig")
    nq = Dataset()
    nq.parse(out / "peacegraph.nq", format="nquads")
    jsonld = Dataset()
    jsonld.parse(out / "peacegraph.jsonld", format="json-ld")
    for parsed in (trig, nq, jsonld):
        assert dataset_quads(parsed) == dataset_quads(anchored_dataset)
    assert quads_of(out / "peacegraph.trig") == quads_of(out / "peacegraph.nq") == quads_of(out / "peacegraph.jsonld")
    named = {q for q in ox.parse(path=str(out / "peacegraph.nq")) if not isinstance(q.graph_name, ox.DefaultGraph)}
    header = len(quads_of(out / "peacegraph.nq")) - len(named)
    assert len(expected) == len(named) and header == 5   # the dataset's version, IRI, license, rights, type
    ttl = {str(t) for t in ox.parse(path=str(out / "peacegraph.ttl"))}
    union = set(anchored_dataset.graph(ASSERTED_GRAPH)) | set(anchored_dataset.graph(INFERRED_GRAPH))
    assert len(ttl) == len(union) + header


def test_trig_is_readable(anchored_dataset, tmp_path):
    export(anchored_dataset, tmp_path / "dist")
    trig = (tmp_path / "dist" / "peacegraph.trig").read_text(encoding="utf-8")
    assert "@prefix pgid: <https://w3id.org/peacegraph/id/> ." in trig
    assert "pgid:us-plan-amnesty a pg:Provision ;" in trig
    assert "_:" not in trig


def test_jsonld_context_is_readable(anchored_dataset, tmp_path):
    export(anchored_dataset, tmp_path / "dist")
    doc = json.loads((tmp_path / "dist" / "peacegraph.jsonld").read_text(encoding="utf-8"))
    ctx = doc["@context"]
    for prefix in ("pg", "pgid", "topic", "src", "oa", "rdfs", "skos", "dcterms", "prov"):
        assert prefix in ctx
    graphs = {g["@id"] for g in doc["@graph"] if "@graph" in g}
    assert graphs == {str(g) for g in NAMED_GRAPHS}
    asserted = next(g for g in doc["@graph"] if g["@id"] == str(ASSERTED_GRAPH))
    node = next(n for n in asserted["@graph"] if n["@id"] == "pgid:us-plan-amnesty")
    assert node["@type"] == ["pg:Provision"]
    assert node["pg:provisionOf"] == [{"@id": "pgid:us-plan"}]


def read_csv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")   # no BOM unless --csv-bom asks for one
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))


def test_csv_tables(anchored_dataset, tmp_path):
    out = tmp_path / "dist"
    export(anchored_dataset, out)
    provisions = read_csv(out / "provisions.csv")
    assert list(provisions[0]) == ["provision_iri", "provision_id", "provision_label", "document_iri",
                                   "document_id", "document_label", "topic_iri", "topic_id",
                                   "topic_label", "quote"]
    row = next(r for r in provisions if r["provision_id"] == "pgid:us-plan-amnesty")
    assert row["provision_iri"] == "https://w3id.org/peacegraph/id/us-plan-amnesty"
    assert row["document_iri"] == "https://w3id.org/peacegraph/id/us-plan"
    assert row["document_id"] == "pgid:us-plan"
    assert row["topic_label"] == "amnesty and accountability"
    assert row["topic_iri"].startswith("https://w3id.org/peacegraph/id/topic/")
    assert row["quote"] == "the amnesty clause"
    stances = read_csv(out / "stances.csv")
    assert stances == [{
        "stance_iri": "https://w3id.org/peacegraph/id/stance-kyiv-rejects-amnesty",
        "stance_id": "pgid:stance-kyiv-rejects-amnesty", "stance_label": stances[0]["stance_label"],
        "holder_iri": "https://w3id.org/peacegraph/id/kyiv", "holder_id": "pgid:kyiv",
        "holder_label": "Kyiv (the government)",
        "position_iri": "https://w3id.org/peacegraph/ontology#Rejects", "position_id": "pg:Rejects",
        "position_label": "rejects",
        "target_iri": "https://w3id.org/peacegraph/id/us-plan-amnesty", "target_id": "pgid:us-plan-amnesty",
        "target_label": "amnesty clause", "condition": "", "quote": "Kyiv rejected the amnesty clause"}]
    statements = read_csv(out / "statements.csv")
    for table in (provisions, stances, statements):
        for row in table:
            iris = {k: v for k, v in row.items() if k.endswith("_iri") and v}
            assert all(v.startswith("https://") for v in iris.values()), row
            assert all(k[:-4] + "_id" in row and k[:-4] + "_label" in row for k in iris)
    assert statements[0]["quotation"] == "getting close"
    assert statements[0]["quote"] == "said a deal is \u201cgetting close\u201d"


def test_csv_bom_only_when_asked(anchored_dataset, tmp_path):
    export(anchored_dataset, tmp_path / "bom", csv_bom=True)
    for name in ("provisions.csv", "stances.csv", "statements.csv"):
        assert (tmp_path / "bom" / name).read_bytes().startswith(b"\xef\xbb\xbf" + name.split(".")[0][:-1].encode())


def test_every_dump_states_version_license_and_version_iri(anchored_dataset, tmp_path):
    from peacegraph import __version__
    from peacegraph.void import Release

    out = tmp_path / "dist"
    export(anchored_dataset, out, release=Release("2.1.0", "2026-12-01"))
    ds = "https://w3id.org/peacegraph/dataset"
    owl = "http://www.w3.org/2002/07/owl#"
    for name in ("peacegraph.trig", "peacegraph.nq", "peacegraph.ttl", "peacegraph.jsonld"):
        quads = {(q.subject.value, q.predicate.value, q.object.value) for q in ox.parse(path=str(out / name))}
        assert (ds, owl + "versionInfo", "2.1.0") in quads, name
        assert (ds, owl + "versionIRI", ds + "?version=2.1.0") in quads, name
        assert (ds, "http://purl.org/dc/terms/license", "https://creativecommons.org/licenses/by/4.0/") in quads
        assert (ds, "http://purl.org/dc/terms/issued", "2026-12-01") in quads
    export(anchored_dataset, tmp_path / "plain")
    assert f'owl:versionInfo "{__version__}"' in (tmp_path / "plain" / "peacegraph.ttl").read_text(encoding="utf-8")


def test_void_counts_and_links(anchored_dataset, tmp_path):
    out = tmp_path / "dist"
    export(anchored_dataset, out, sparql_endpoint="http://127.0.0.1:5000/sparql")
    from rdflib import Graph
    void = Graph().parse(out / "void.ttl", format="turtle")
    ds = URIRef("https://w3id.org/peacegraph/dataset")
    total = sum(len(anchored_dataset.graph(g)) for g in NAMED_GRAPHS)
    assert int(void.value(ds, VOID.triples)) == total
    assert set(void.objects(ds, VOID.subset)) == set(NAMED_GRAPHS)
    for g in NAMED_GRAPHS:
        assert int(void.value(g, VOID.triples)) == len(anchored_dataset.graph(g))
    assert void.value(ds, VOID.sparqlEndpoint) == URIRef("http://127.0.0.1:5000/sparql")
    assert str(void.value(ds, VOID.uriSpace)) == "https://w3id.org/peacegraph/id/"
    dumps = {str(u).rsplit("/", 1)[-1] for u in void.objects(ds, VOID.dataDump)}
    assert dumps == {"peacegraph.trig", "peacegraph.nq", "peacegraph.ttl", "peacegraph.jsonld"}


def test_dcat_distributions_carry_media_type_size_and_checksum(anchored_dataset, tmp_path):
    from rdflib import Graph
    from rdflib.namespace import DCAT, DCTERMS

    from peacegraph.void import SPDX
    out = tmp_path / "dist"
    export(anchored_dataset, out)
    void = Graph().parse(out / "void.ttl", format="turtle")
    ds = URIRef("https://w3id.org/peacegraph/dataset")
    assert (ds, RDF.type, DCAT.Dataset) in void
    assert void.value(ds, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert void.value(ds, DCTERMS.creator) is not None and void.value(ds, DCTERMS.created) is not None
    assert len(set(void.objects(ds, VOID.exampleResource))) >= 1
    files = {}
    for dist in void.objects(ds, DCAT.distribution):
        url = void.value(dist, DCAT.downloadURL)
        if url is not None:
            files[str(url).rsplit("/", 1)[-1]] = dist
    assert set(files) == {"peacegraph.trig", "peacegraph.nq", "peacegraph.ttl", "peacegraph.jsonld",
                          "provisions.csv", "stances.csv", "statements.csv"}
    for name, dist in files.items():
        data = (out / name).read_bytes()
        assert int(void.value(dist, DCAT.byteSize)) == len(data)
        checksum = void.value(dist, SPDX.checksum)
        assert str(void.value(checksum, SPDX.checksumValue)) == hashlib.sha256(data).hexdigest()
        assert void.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(void.value(dist, DCAT.mediaType)).endswith(
            "text/csv" if name.endswith(".csv") else ("trig", "n-quads", "turtle", "ld+json")[
                ["peacegraph.trig", "peacegraph.nq", "peacegraph.ttl", "peacegraph.jsonld"].index(name)])


def test_output_does_not_depend_on_insertion_order(anchored_dataset, tmp_path):
    export(anchored_dataset, tmp_path / "a")
    shuffled = Dataset(default_union=True)
    for g in reversed(NAMED_GRAPHS):
        triples = sorted(anchored_dataset.graph(g), key=lambda t: t[2].n3(), reverse=True)
        target = shuffled.graph(g)
        for t in triples:
            target.add(t)
    export(shuffled, tmp_path / "b")
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_blank_nodes_are_refused(anchored_dataset, tmp_path):
    from rdflib import BNode
    ds = Dataset(default_union=True)
    ds.graph(ASSERTED_GRAPH).add((PGID["a"], PG.evidence, BNode()))
    with pytest.raises(ExportError, match="blank node"):
        export(ds, tmp_path / "dist")
    assert list(tmp_path.iterdir()) == []


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_full_disk_midway_keeps_previous_export(anchored_dataset, tmp_path, monkeypatch):
    out = tmp_path / "dist"
    out.mkdir()
    (out / "peacegraph.trig").write_text("previous build")
    before = _snapshot(out)
    real = export_module.write_file
    calls = []

    def failing(path, chunks, *check):
        calls.append(path.name)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, chunks, *check)

    monkeypatch.setattr(export_module, "write_file", failing)
    with pytest.raises(ExportError, match="No space left on device"):
        export(anchored_dataset, out)
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]


def test_read_only_target_keeps_previous_export(anchored_dataset, tmp_path, monkeypatch):
    parent = tmp_path / "ro"
    parent.mkdir()
    out = parent / "dist"
    out.mkdir()
    (out / "void.ttl").write_text("previous")
    before = _snapshot(out)
    if os.geteuid() != 0:
        parent.chmod(0o555)
    else:  # root ignores permission bits: simulate the read-only file system instead
        def read_only(*args, **kwargs):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        monkeypatch.setattr(export_module.tempfile, "mkdtemp", read_only)
    try:
        with pytest.raises(ExportError, match="cannot write"):
            export(anchored_dataset, out)
    finally:
        parent.chmod(0o755)
    assert _snapshot(out) == before
    assert [p.name for p in parent.iterdir()] == ["dist"]


def test_failure_during_swap_keeps_previous_export(anchored_dataset, tmp_path, monkeypatch):
    out = tmp_path / "dist"
    export(anchored_dataset, out)
    before = _snapshot(out)
    # no atomic exchange: the previous export is renamed aside, and putting the new one in
    # its place fails, so the failure comes with the previous export already moved away
    monkeypatch.setattr(export_module, "_exchange", lambda a, b: False)
    rename = os.rename
    moved_aside = []

    def rename_failing_into_place(src, dst):
        if Path(dst) == out and Path(src).name.startswith(".dist.tmp-") and not out.exists():
            moved_aside.extend(p.name for p in tmp_path.iterdir() if p.name.startswith(".dist.old-"))
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return rename(src, dst)

    monkeypatch.setattr(export_module.os, "rename", rename_failing_into_place)
    with pytest.raises(ExportError, match="cannot write .*the previous export is unchanged"):
        export(anchored_dataset, out)
    assert len(moved_aside) == 1  # the failure happened mid-swap
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]


def test_target_that_is_a_file_is_not_replaced(anchored_dataset, tmp_path):
    out = tmp_path / "dist"
    out.write_text("a file")
    with pytest.raises(ExportError, match="not a folder"):
        export(anchored_dataset, out)
    assert out.read_text() == "a file"
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]


def test_replacing_an_existing_export(anchored_dataset, tmp_path):
    out = tmp_path / "dist"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    export(anchored_dataset, out)
    assert not (out / "stale.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)


@pytest.mark.slow
def test_export_of_100k_triples_is_complete(tmp_path):
    ds = synthetic_dataset(100_000)
    n = sum(len(ds.graph(g)) for g in NAMED_GRAPHS)
    assert n >= 100_000
    export(ds, tmp_path / "dist")
    nq = (tmp_path / "dist" / "peacegraph.nq").read_bytes().count(b"\n")
    assert nq == n + 5   # and the dump's own description


def test_dumps_spell_group_and_order_statements(tmp_path):
    from rdflib.namespace import DCTERMS
    ds = Dataset(default_union=True)
    asserted, inferred = ds.graph(ASSERTED_GRAPH), ds.graph(INFERRED_GRAPH)
    x = PGID["x"]
    asserted.add((x, DCTERMS.title, Literal("Title", lang="en")))   # sorts before rdf:type
    asserted.add((x, RDF.type, PG.Provision))
    asserted.add((x, RDFS.label, Literal("two\nlines")))
    asserted.add((x, PG.topic, PGID["t2"]))
    asserted.add((x, PG.topic, PGID["t1"]))
    asserted.add((x, PG["count"], Literal("3", datatype=XSD.integer)))
    asserted.add((x, PG.note, Literal(str(PGID["t1"]))))   # spelled like an IRI, still a literal
    inferred.add((x, RDF.type, PG.Provision))                # in both graphs: once in the union
    inferred.add((x, RDF.type, PG.Stance))
    export(ds, tmp_path / "d")

    turtle = (tmp_path / "d" / "peacegraph.ttl").read_text(encoding="utf-8")
    block = turtle[turtle.index("\npgid:x ") + 1:]
    assert block == ('pgid:x a pg:Provision , pg:Stance ;\n'
                     '    dcterms:title "Title"@en ;\n'
                     '    rdfs:label """two\nlines""" ;\n'
                     '    pg:count "3"^^xsd:integer ;\n'
                     '    pg:note "https://w3id.org/peacegraph/id/t1" ;\n'
                     '    pg:topic pgid:t1 , pgid:t2 .\n\n')

    trig = (tmp_path / "d" / "peacegraph.trig").read_text(encoding="utf-8")
    assert ('<https://w3id.org/peacegraph/graph/inferred> {\n'
            '    pgid:x a pg:Provision , pg:Stance .\n\n}\n') in trig

    lines = [line for line in (tmp_path / "d" / "peacegraph.nq").read_text(encoding="utf-8").splitlines()
             if line.startswith(f"<{x}> ") and line.endswith(f"<{ASSERTED_GRAPH}> .")]
    assert [line.split(" ", 2)[1] for line in lines] == [
        f"<{DCTERMS.title}>", f"<{RDF.type}>", f"<{RDFS.label}>", f"<{PG['count']}>", f"<{PG.note}>",
        f"<{PG.topic}>", f"<{PG.topic}>"]
    assert lines[-2].split(" ", 2)[2].startswith(f"<{PGID['t1']}> ")

    node = {"@id": "pgid:x", "@type": ["pg:Provision"],
            "dcterms:title": [{"@language": "en", "@value": "Title"}],
            "pg:count": [{"@type": "xsd:integer", "@value": "3"}],
            "pg:note": [str(PGID["t1"])], "pg:topic": [{"@id": "pgid:t1"}, {"@id": "pgid:t2"}],
            "rdfs:label": ["two\nlines"]}
    jsonld = (tmp_path / "d" / "peacegraph.jsonld").read_text(encoding="utf-8")
    assert "\n   " + json.dumps(node, sort_keys=True, ensure_ascii=False) + "\n" in jsonld


@pytest.mark.parametrize("prefixes", [None, {"ex": "urn:example:", "pg": str(PG)}])
def test_compaction_is_the_longest_namespace_whose_local_name_is_safe(prefixes):
    import re

    from peacegraph.namespaces import PREFIXES
    from peacegraph.terms import Terms

    spaces = prefixes or PREFIXES
    safe = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")

    def longest(iri):
        fits = [(len(str(ns)), p) for p, ns in spaces.items()
                if iri.startswith(str(ns)) and safe.fullmatch(iri[len(str(ns)):])]
        return None if not fits else f"{max(fits)[1]}:{iri[max(fits)[0]:]}"

    iris = [str(PG.Provision), str(PGID["us-28-point-plan"]), str(PGID) + "topic/sanctions",
            str(PGID) + "topic/a/b", str(PGID), str(PGID) + "x.", str(PGID) + "a#b", str(RDF.type),
            "urn:example:thing", "urn:example:a:b", "http://example.org/other/x", str(PG) + "has space"]
    terms = Terms(prefixes)
    assert [terms.compact(i) for i in iris] == [longest(i) for i in iris]
    # the forms the export spells IRIs with, uncached, are the same rule
    assert [Terms(prefixes).iri_forms(i) for i in iris] == [(f"<{i}>", longest(i) or f"<{i}>")
                                                           for i in iris]
    assert terms.compact(str(PGID) + "topic/sanctions") == (None if prefixes else "topic:sanctions")


@pytest.mark.parametrize("literal", [
    Literal("plain"), Literal("two\nlines"), Literal("two\nlines", lang="en"), Literal('say "x"', lang="uk"),
    Literal("back\\nslash"), Literal("tab\there\r"), Literal(""), Literal("é \u2028 ü", lang="de")])
def test_string_literals_spelled_from_their_text_as_from_the_term(literal):
    """The dumps spell plain and language-tagged strings from their lexical form alone; the
    forms are those the term gives, in N-Triples, Turtle and JSON-LD."""
    from peacegraph.terms import Terms

    terms = Terms()
    assert terms.string_forms(str(literal), literal.language) == (terms.nt(literal), terms.ttl(literal))
    expected = ({"@value": str(literal), "@language": literal.language} if literal.language
                else str(literal))
    assert export_module._jsonld_literal(literal, terms) == json.dumps(expected, sort_keys=True,
                                                                       ensure_ascii=False)


@pytest.mark.parametrize("literal", [Literal("3", datatype=XSD.integer), Literal("x", datatype=XSD.string),
                                     Literal("1", datatype=URIRef("urn:example:unit"))])
def test_typed_literals_as_json_ld_values(literal):
    from peacegraph.terms import Terms

    terms = Terms()
    dt = str(literal.datatype)
    expected = (str(literal) if dt == str(XSD.string)
                else {"@value": str(literal), "@type": terms.compact(dt) or dt})
    assert export_module._jsonld_literal(literal, terms) == json.dumps(expected, sort_keys=True,
                                                                       ensure_ascii=False)


def _mixed_graph():
    """Subjects of every kind of block: several types, a literal typed as rdf:type, repeated and
    single properties, IRIs that are not prefixed names (one with a "%" in it), a predicate
    that is also an object, literals of every form."""
    from rdflib import Graph
    from rdflib.namespace import DCTERMS

    g = Graph()
    odd = URIRef("urn:example:a%20b")
    for i in range(6):
        x = PGID[f"x{i}"]
        g.add((x, RDF.type, PG.Provision))
        if i % 2:
            g.add((x, RDF.type, PG.Stance))
        if i == 3:
            g.add((x, RDF.type, Literal("not a class")))
        g.add((x, RDFS.label, Literal(f"x {i} 100%", lang="en")))
        g.add((x, PG.topic, PGID[f"t{i % 3}"]))
        if i % 3 == 0:
            g.add((x, PG.topic, PGID["t9"]))
            g.add((x, DCTERMS.title, Literal("two\nlines")))
        g.add((x, odd, Literal(str(i), datatype=XSD.integer)))
        g.add((x, PG.note, odd))
    g.add((odd, RDFS.label, Literal("odd")))
    return g


@pytest.mark.parametrize("indent", ["", "    "])
def test_block_layouts_write_what_row_by_row_writing_does(indent):
    """Blocks with the same predicates share one layout; each must come out as the block
    worked out row by row would."""
    from peacegraph.terms import Terms

    spellings = export_module._Spellings(Terms())
    table = export_module._table(_mixed_graph(), spellings)
    rows_by_row = "".join(export_module._turtle_block(s, rows, spellings.ttl, indent)
                          for s, rows in table.blocks)
    assert "".join(export_module._turtle_body(table, spellings, indent)) == rows_by_row
    nodes = [export_module._jsonld_node(s, rows, spellings) for s, rows in table.blocks]
    assert list(export_module._jsonld_nodes(table, spellings)) == nodes
    # and those are the Turtle and JSON-LD of the graph
    from rdflib import Graph

    prefixes = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in spellings.terms.prefixes.items())
    assert Graph().parse(data=prefixes + rows_by_row, format="turtle").isomorphic(_mixed_graph())
    x3 = json.loads(nodes[[s for s, _ in table.blocks].index(f"<{PGID['x3']}>")])
    assert x3["@type"] == ["pg:Provision", "pg:Stance"]
    assert x3["rdf:type"] == ["not a class"]
    assert x3["urn:example:a%20b"] == [{"@type": "xsd:integer", "@value": "3"}]


def test_a_statement_spelled_twice_is_written_once_in_the_turtle_dump(tmp_path):
    """A plain literal and one typed xsd:string are two terms to rdflib but one to RDF: the
    merged Turtle dump states the statement once."""
    ds = Dataset(default_union=True)
    x = PGID["x"]
    ds.graph(ASSERTED_GRAPH).add((x, RDFS.label, Literal("same")))
    ds.graph(ASSERTED_GRAPH).add((x, RDFS.label, Literal("same", datatype=XSD.string)))
    ds.graph(ASSERTED_GRAPH).add((x, RDF.type, PG.Provision))
    ds.graph(INFERRED_GRAPH).add((PGID["y"], RDF.type, PG.Provision))
    export(ds, tmp_path / "d")
    turtle = (tmp_path / "d" / "peacegraph.ttl").read_text(encoding="utf-8")
    assert 'pgid:x a pg:Provision ;\n    rdfs:label "same" .\n' in turtle
    assert 'pgid:y a pg:Provision .\n' in turtle


@pytest.mark.parametrize("first", ["plain", "typed"])
def test_terms_spelled_alike_are_noticed_whichever_comes_first(first):
    from peacegraph.terms import Terms

    plain, typed = Literal("same"), Literal("same", datatype=XSD.string)
    spellings = export_module._Spellings(Terms())
    spellings.nt(Literal("other"))
    spellings.nt(Literal("same", lang="en"))
    spellings.nt(plain if first == "plain" else typed)
    # another object, the same term
    spellings.nt(Literal("same") if first == "plain" else Literal("same", datatype=XSD.string))
    assert not spellings.aliased
    assert spellings.nt(typed if first == "plain" else plain) == '"same"'
    assert spellings.aliased


def test_spellings_are_freed_without_the_cyclic_collector():
    """The export runs with the cyclic collector paused: what it spelled must go as soon as the
    export lets go of it, not at the next full collection."""
    import gc
    import weakref

    from peacegraph.terms import Terms

    spellings = export_module._Spellings(Terms())
    table = export_module._table(_mixed_graph(), spellings)
    assert list(export_module._jsonld_nodes(table, spellings))
    assert "".join(export_module._turtle_body(table, spellings))
    gone = weakref.ref(spellings)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        del spellings, table
        assert gone() is None
    finally:
        if was_enabled:
            gc.enable()
