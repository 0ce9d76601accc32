"""peacegraph.load: safe parsing, one-line errors with file/line/column, refused constructs."""

from __future__ import annotations

import builtins
import hashlib
import json
import socket
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF

from peacegraph.errors import InputError
from peacegraph.load import Interned, folder_rows, load_folder, load_sources, parse_rdf_file
from peacegraph.namespaces import PG, SRC
from peacegraph.terms import plain_literal
from testdata import PIPELINE

EX = "http://example.org/"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_turtle_loads_and_origin_names_the_file(tmp_path):
    write(tmp_path / "a.ttl", f"<{EX}a> <{EX}p> <{EX}b> .\n")
    write(tmp_path / "b.ttl", f"<{EX}b> <{EX}p> \"x\" .\n<{EX}a> <{EX}q> 1 .\n")
    write(tmp_path / "README.md", "not rdf")
    loaded = load_folder(tmp_path)
    assert len(loaded.graph) == 3
    assert loaded.origin[URIRef(EX + "a")] == f"{tmp_path.name}/a.ttl"
    assert loaded.origin[URIRef(EX + "b")] == f"{tmp_path.name}/b.ttl"
    assert [p.name for p in loaded.files] == ["a.ttl", "b.ttl"]


@pytest.mark.parametrize("name,text,line,column", [
    ("bad.ttl", f"<{EX}a> <{EX}p> <{EX}b> .\n<{EX}a> <{EX}p> \"open .\n", 2, None),
    ("bad.trig", f"<{EX}g> {{ <{EX}a> <{EX}p> <{EX}b> \n", None, None),
    ("bad.nq", f"<{EX}a> <{EX}p> <{EX}b> <{EX}g> .\n<{EX}a> <{EX}p> ex:b <{EX}g> .\n", 2, None),
    ("bad.nt", f"<{EX}a> <{EX}p> <{EX}b> .\n<{EX}a> <{EX}p>\n", None, None),
    ("bad.jsonld", '{"@id": "http://example.org/a", "http://example.org/p": [\n', 2, None),
])
def test_syntax_errors_are_one_line_input_errors(tmp_path, name, text, line, column):
    path = write(tmp_path / name, text)
    with pytest.raises(InputError) as info:
        parse_rdf_file(path, dataset=name.endswith((".trig", ".nq", ".jsonld")))
    err = info.value
    assert err.file == str(path)
    assert "\n" not in str(err)
    assert str(err).startswith(str(path))
    if line is not None:
        assert err.line == line


def test_turtle_error_has_line_and_column(tmp_path):
    path = write(tmp_path / "x.ttl", f"@prefix ex: <{EX}> .\nex:a ex:p ex:b .\nex:a ex:p <{EX}a b> .\n")
    with pytest.raises(InputError) as info:
        parse_rdf_file(path)
    assert (info.value.line, info.value.column) == (3, 11)
    assert str(info.value).startswith(f"{path}:3:11: ")


def test_invalid_utf8_names_line_and_column(tmp_path):
    path = tmp_path / "x.ttl"
    path.write_bytes(b'<http://example.org/a> <http://example.org/p> "ok" .\n<http://e/a> <http://e/p> "\xff" .\n')
    with pytest.raises(InputError, match="not valid UTF-8") as info:
        parse_rdf_file(path)
    assert (info.value.line, info.value.column) == (2, 28)


def test_rdfxml_loads_without_doctype(tmp_path):
    path = write(tmp_path / "x.rdf", f"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="{EX}">
  <rdf:Description rdf:about="{EX}a"><ex:p>x</ex:p></rdf:Description>
</rdf:RDF>""")
    g = parse_rdf_file(path)
    assert (URIRef(EX + "a"), URIRef(EX + "p"), Literal("x")) in g


def test_rdfxml_entity_bomb_is_refused_before_parsing(tmp_path):
    lol = "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    path = write(tmp_path / "bomb.rdf", f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY lol0 "lol">{lol}]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="{EX}">
  <rdf:Description rdf:about="{EX}a"><ex:p>&lol9;</ex:p></rdf:Description>
</rdf:RDF>""")
    with pytest.raises(InputError, match="DOCTYPE declaration is refused") as info:
        parse_rdf_file(path)
    assert info.value.line == 2      # stopped at the declaration, before any expansion


def test_rdfxml_entity_declaration_without_doctype_word_is_refused(tmp_path):
    path = write(tmp_path / "e.owl", '<?xml version="1.0"?>\n<!ENTITY x "y">\n<rdf:RDF/>')
    with pytest.raises(InputError, match="ENTITY"):
        parse_rdf_file(path)


@pytest.mark.parametrize("context", [
    '"http://127.0.0.1:9/context.jsonld"',
    '"file:///{ctx}"',
    '["{ctx}"]',
    '{{"@import": "file:///{ctx}"}}',
    '{{"@import": "http://127.0.0.1:9/ctx"}}',
])
def test_jsonld_remote_and_file_contexts_are_refused_without_any_access(tmp_path, monkeypatch, context):
    ctx_file = write(tmp_path / "ctx.jsonld", '{"@context": {"p": "http://example.org/p"}}')
    doc = write(tmp_path / "doc.jsonld",
                '{"@context": %s, "@id": "http://example.org/a", "p": "x"}'
                % context.format(ctx=str(ctx_file).lstrip("/")))
    opened, connected = [], []
    real_open = builtins.open

    def spy_open(file, *a, **kw):
        opened.append(str(file))
        return real_open(file, *a, **kw)

    def no_connect(self, address):
        connected.append(address)
        raise OSError("network use in a test")

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    with pytest.raises(InputError, match="(@context|@import).*refused|names a document"):
        parse_rdf_file(doc, dataset=True)
    assert connected == []
    assert not any("ctx.jsonld" in f for f in opened)


def test_jsonld_inline_context_is_accepted(tmp_path):
    doc = write(tmp_path / "doc.jsonld", json.dumps(
        {"@context": {"ex": EX, "p": {"@id": "ex:p"}}, "@id": "ex:a", "p": "x"}))
    g = parse_rdf_file(doc, dataset=True)
    assert (URIRef(EX + "a"), URIRef(EX + "p"), Literal("x")) in g


def test_deep_json_is_refused(tmp_path):
    doc = write(tmp_path / "deep.jsonld", '{"@id": "http://example.org/a", "http://example.org/p": '
                + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(InputError, match="nested"):
        parse_rdf_file(doc, dataset=True)


@pytest.mark.parametrize("body", [
    "(" * 5000 + ")" * 5000,
    "[ <http://example.org/p> " * 5000 + "<http://example.org/z>" + " ]" * 5000,
])
def test_deep_turtle_nesting_never_raises_recursion_error(tmp_path, body):
    path = write(tmp_path / "deep.ttl", f"<{EX}a> <{EX}p> {body} .\n")
    try:
        g = parse_rdf_file(path)
    except InputError:
        return
    assert len(g) >= 5000  # parsed iteratively: every level is there


@pytest.mark.parametrize("iri", ["http://example.org/a\\u0020b", "http://example.org/a\\u003Eb",
                                 "http://example.org/a\\u007Bb", "http://example.org/a\\u005Eb"])
def test_iris_that_cannot_be_serialized_are_refused(tmp_path, iri):
    path = write(tmp_path / "x.nt", f"<{EX}s> <{EX}p> <{iri}> .\n")
    with pytest.raises(InputError) as info:
        parse_rdf_file(path)
    assert info.value.file == str(path)


def test_control_characters_in_literals_are_refused_naming_the_node(tmp_path):
    path = write(tmp_path / "x.ttl", f'<{EX}s> <{EX}p> "bell\\u0007" .\n')
    with pytest.raises(InputError, match=r"<http://example.org/s>.*U\+0007"):
        parse_rdf_file(path)
    ok = write(tmp_path / "ok.ttl", f'<{EX}s> <{EX}p> "tab\\tnew\\nline\\r" .\n')
    assert len(parse_rdf_file(ok)) == 1


def test_named_graphs_are_refused_in_a_plain_graph_folder(tmp_path):
    write(tmp_path / "x.trig", f"<{EX}g> {{ <{EX}a> <{EX}p> <{EX}b> }}\n")
    with pytest.raises(InputError, match="named graphs"):
        load_folder(tmp_path)


def test_a_bad_file_fails_the_whole_folder(tmp_path):
    write(tmp_path / "a.ttl", f"<{EX}a> <{EX}p> <{EX}b> .\n")
    write(tmp_path / "b.ttl", f"<{EX}a> <{EX}p> .\n")
    with pytest.raises(InputError) as info:
        load_folder(tmp_path)
    assert info.value.file.endswith("b.ttl")


def test_load_sources_adds_text_and_checks_sha(tmp_path, pipeline_dirs):
    loaded = load_sources(pipeline_dirs["seeds"])
    alpha = SRC["alpha"]
    text = (pipeline_dirs["seeds"] / "alpha.txt").read_bytes().decode("utf-8")
    assert loaded.texts == {alpha: text}
    assert loaded.graph.value(alpha, PG.text) == Literal(text)
    assert (alpha, RDF.type, PG.SourceText) in loaded.graph
    assert loaded.changed == {}
    # an edited text is reported, not silently accepted
    (pipeline_dirs["seeds"] / "alpha.txt").write_text(text.replace("Geneva", "Vienna"), encoding="utf-8")
    changed = load_sources(pipeline_dirs["seeds"]).changed
    assert list(changed) == [alpha]
    assert changed[alpha][1] == hashlib.sha256(text.replace("Geneva", "Vienna").encode()).hexdigest()


def test_load_sources_keeps_crlf_and_refuses_undescribed_texts(pipeline_dirs):
    seeds = pipeline_dirs["seeds"]
    (seeds / "stray.txt").write_text("not described", encoding="utf-8")
    with pytest.raises(InputError, match="not described in sources.ttl") as info:
        load_sources(seeds)
    assert info.value.file.endswith("stray.txt")


def test_load_sources_missing_text_file(pipeline_dirs):
    (pipeline_dirs["seeds"] / "alpha.txt").unlink()
    with pytest.raises(InputError, match="alpha.txt, which is not in"):
        load_sources(pipeline_dirs["seeds"])


def test_a_sources_text_is_the_file_whatever_sources_ttl_says(pipeline_dirs):
    seeds = pipeline_dirs["seeds"]
    with open(seeds / "sources.ttl", "a", encoding="utf-8") as fh:
        fh.write('src:alpha pg:text "a stale copy" .\n')
    (seeds / "zz-more.ttl").write_text(
        '<https://w3id.org/peacegraph/source/alpha> <http://purl.org/dc/terms/identifier> "other.txt" .\n',
        encoding="utf-8")
    loaded = load_sources(seeds)
    alpha = SRC["alpha"]
    text = (seeds / "alpha.txt").read_text(encoding="utf-8")
    # the text of the file sources.ttl names (the first identifier read), and no other pg:text
    assert list(loaded.graph.objects(alpha, PG.text)) == [Literal(text)]
    assert loaded.text_files == {alpha: seeds / "alpha.txt"}


def test_a_folder_named_as_a_text_is_not_a_text(pipeline_dirs):
    seeds = pipeline_dirs["seeds"]
    (seeds / "alpha.txt").unlink()
    (seeds / "alpha.txt").mkdir()
    with pytest.raises(InputError, match="alpha.txt, which is not in"):
        load_sources(seeds)


def test_source_text_with_control_character_is_refused(pipeline_dirs):
    path = pipeline_dirs["seeds"] / "alpha.txt"
    path.write_bytes(b"line one\nline\x0c two\n")
    with pytest.raises(InputError, match="U\\+000C") as info:
        load_sources(pipeline_dirs["seeds"])
    assert (info.value.line, info.value.column) == (2, 5)


def test_fixture_folders_load():
    assert len(load_folder(PIPELINE / "graph").graph) > 20
    assert len(load_folder(PIPELINE / "ontology").graph) > 20


def test_a_folders_files_share_their_terms_but_not_their_blank_nodes(tmp_path):
    for name, subject in (("a.ttl", "s"), ("b.ttl", "t")):
        write(tmp_path / name, f'@prefix ex: <{EX}> .\nex:{subject} ex:p "v"@en , _:b .\n_:b ex:q 7 .\n')
    graph = load_folder(tmp_path).graph
    p, q = URIRef(EX + "p"), URIRef(EX + "q")
    literals = [o for o in graph.objects(None, p) if isinstance(o, Literal)]
    assert literals == [Literal("v", lang="en")] * 2
    assert literals[0] is literals[1]          # one object for the term, however often it occurs
    predicates = [t[1] for t in graph if t[1] == p]
    assert len(predicates) == 4 and all(x is predicates[0] for x in predicates)
    blanks = {o for o in graph.objects(None, p) if not isinstance(o, Literal)}
    assert len(blanks) == 2                    # _:b of a.ttl is not _:b of b.ttl
    assert [len(list(graph.objects(b, q))) for b in blanks] == [1, 1]
    assert set(graph.subjects(q, Literal(7))) == blanks


@pytest.mark.parametrize("value", ["", "plain", "too early to say", "ünïcode ✓", "1", "true",
                                   "2025-11-20", " spaced  ", 'with "quotes" and \\ and \n'])
def test_a_plain_literal_is_the_literal_rdflib_makes_of_the_string(value):
    made, expected = plain_literal(value), Literal(value)
    assert type(made) is Literal
    assert made == expected and hash(made) == hash(expected) and made.n3() == expected.n3()
    for slot in Literal.__slots__:
        assert getattr(made, slot) == getattr(expected, slot), slot


def test_a_file_that_fails_leaves_none_of_its_blank_nodes_to_the_next(tmp_path):
    shared = Interned()
    bad = write(tmp_path / "a.ttl", f'_:b <{EX}p> 1 .\n_:b <{EX}q> "open .\n')
    with pytest.raises(InputError):
        folder_rows(tmp_path, shared=shared)
    assert not any(isinstance(t, ox.BlankNode) for t in shared.terms)
    bad.unlink()
    write(tmp_path / "b.ttl", f'_:b <{EX}p> 2 .\n')
    rows, origin, _ = folder_rows(tmp_path, shared=shared)
    assert not any(isinstance(t, ox.BlankNode) for t in shared.terms)
    (node, _, _), = rows
    assert origin == {node: f"{tmp_path.name}/b.ttl"}


def test_a_blank_node_that_is_only_an_object_has_its_files_origin(tmp_path):
    write(tmp_path / "a.ttl", f"<{EX}a> <{EX}p> [] .\n")
    write(tmp_path / "b.ttl", f"<{EX}a> <{EX}p> [] .\n<{EX}c> <{EX}p> <{EX}a> .\n")
    loaded = load_folder(tmp_path)
    blanks = sorted(loaded.origin[o] for o in loaded.graph.objects(None, URIRef(EX + "p"))
                    if isinstance(o, BNode))
    assert blanks == [f"{tmp_path.name}/a.ttl", f"{tmp_path.name}/b.ttl"]
    assert loaded.origin[URIRef(EX + "a")] == f"{tmp_path.name}/a.ttl"
    assert loaded.origin[URIRef(EX + "c")] == f"{tmp_path.name}/b.ttl"


def test_every_character_rdflib_warns_of_in_an_iri_is_refused_before():
    # IRIs are made without URIRef's own check, which only warns: the load's must cover it
    from rdflib.term import _invalid_uri_chars

    from peacegraph.load import _BAD_IRI
    assert _invalid_uri_chars and all(_BAD_IRI.search(c) for c in _invalid_uri_chars)
