"""peacegraph.anchor: quotes become Web Annotation selectors at the right code points."""

from __future__ import annotations

import random

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from peacegraph import paths
from peacegraph.anchor import _JUNK, _TABLE, SCANS_BEFORE_INDEX, Anchorer, FoldedText, anchor_graph, attestation_iri, fold, slug
from peacegraph.errors import AnchorError, InputError
from peacegraph.namespaces import OA, PG, PGID, SRC, span_iri

XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

TEXT = ("Talks in Geneva\n\n"
        "The U.S.\u00a0envoys said a deal is \u201cgetting close\u201d \u2014 but Kyiv rejected "
        "the amnesty clause.\n"
        "The pared 19\u2011point plan keeps the monitoring clause.\n\n"
        "The pared 19\u2011point plan keeps the monitoring clause.\n\n"
        "Analysts doubt the Kremlin\u2019s   commitment to a U.S.-backed plan.\n")
A = SRC["alpha"]
B = SRC["beta"]


def graph_with(quote, subject=PGID["thing"], **extra) -> Graph:
    g = Graph()
    ev = BNode()
    g.add((subject, RDF.type, PG.Provision))
    g.add((subject, PG.evidence, ev))
    g.add((ev, PG.quote, Literal(quote)))
    for key, value in extra.items():
        g.add((ev, PG[key], value if isinstance(value, (URIRef, Literal)) else Literal(value)))
    return g


def anchored_span(g: Graph, subject=PGID["thing"]):
    spans = list(g.objects(subject, PG.evidence))
    assert len(spans) == 1
    pos = URIRef(str(spans[0]).replace("#char=", "#position-").replace(",", "-"))
    return spans[0], int(g.value(pos, OA.start)), int(g.value(pos, OA.end))


def anchor(quote, texts=None, **extra):
    g = anchor_graph(graph_with(quote, **extra), texts or {A: TEXT}, {PGID["thing"]: "graph/x.ttl"})
    return g, anchored_span(g)


def test_exact_match_writes_the_full_anchored_form():
    g, (span, start, end) = anchor("Kyiv rejected")
    assert TEXT[start:end] == "Kyiv rejected"
    assert span == span_iri("alpha", start, end)
    quote_sel = URIRef(f"{SRC}alpha#quote-{start}-{end}")
    pos_sel = URIRef(f"{SRC}alpha#position-{start}-{end}")
    assert set(g.objects(span, OA.hasSelector)) == {quote_sel, pos_sel}
    assert g.value(span, RDF.type) == OA.SpecificResource
    assert g.value(span, OA.hasSource) == A
    assert g.value(quote_sel, RDF.type) == OA.TextQuoteSelector
    assert g.value(quote_sel, OA.exact) == Literal("Kyiv rejected")
    assert g.value(quote_sel, OA.prefix) == Literal(TEXT[start - 32:start])
    assert g.value(quote_sel, OA.suffix) == Literal(TEXT[end:end + 32])
    assert g.value(pos_sel, RDF.type) == OA.TextPositionSelector
    assert g.value(pos_sel, OA.start).datatype == XSD.nonNegativeInteger
    assert not any(isinstance(t, BNode) for triple in g for t in triple)


def test_prefix_and_suffix_are_empty_at_the_ends_of_the_text():
    g, (span, start, end) = anchor("Talks in Geneva")
    sel = URIRef(f"{SRC}alpha#quote-{start}-{end}")
    assert start == 0 and g.value(sel, OA.prefix) == Literal("")
    g, (span, start, end) = anchor("commitment to a U.S.-backed plan.\n")
    sel = URIRef(f"{SRC}alpha#quote-{start}-{end}")
    assert end == len(TEXT) and g.value(sel, OA.suffix) == Literal("")


@pytest.mark.parametrize("quote,expected", [
    ('said a deal is "getting close" - but', "said a deal is \u201cgetting close\u201d \u2014 but"),
    ("The U.S. envoys", "The U.S.\u00a0envoys"),
    ("Kremlin's commitment", "Kremlin\u2019s   commitment"),
    ("the  Kremlin's\ncommitment", "the Kremlin\u2019s   commitment"),
    ("19-point plan keeps the monitoring clause.\n\nThe pared",
     "19\u2011point plan keeps the monitoring clause.\n\nThe pared"),
])
def test_folded_match_records_the_texts_own_characters(quote, expected):
    if quote.startswith("19-point"):
        g, (span, start, end) = anchor(quote)
    else:
        g, (span, start, end) = anchor(quote)
    assert TEXT[start:end] == expected
    sel = URIRef(f"{SRC}alpha#quote-{start}-{end}")
    assert g.value(sel, OA.exact) == Literal(expected)


def test_exact_match_wins_over_folded_variants():
    text = "a U.S.-backed deal and a U.S.\u2011backed deal"
    a = Anchorer({A: text})
    m = a.choose(A, "U.S.\u2011backed")
    assert text[m.start:m.end] == "U.S.\u2011backed" and m.start == text.index("U.S.\u2011")
    m = a.choose(A, "U.S.-backed")
    assert m.start == text.index("U.S.-")
    with pytest.raises(AnchorError, match="ambiguous"):
        a.choose(A, "U.S.\u2010backed")  # neither form exactly: both folded matches count


def test_ambiguous_quote_names_file_subject_and_candidates():
    with pytest.raises(AnchorError) as info:
        anchor("keeps the monitoring clause")
    msg = str(info.value)
    first = TEXT.index("keeps the monitoring clause")
    second = TEXT.index("keeps the monitoring clause", first + 1)
    assert msg.startswith("graph/x.ttl: pgid:thing: ")
    assert "ambiguous" in msg
    assert f"{first}-{first + 27}" in msg and f"{second}-{second + 27}" in msg


@pytest.mark.parametrize("extra,which", [
    ({"occurrence": 1}, 0),
    ({"occurrence": 2}, 1),
    ({"suffix": "clause. The pared"}, 0),
    ({"prefix": "monitoring clause.\n\nThe pared 19-point"}, 1),
])
def test_disambiguation(extra, which):
    hits = [i for i in range(len(TEXT)) if TEXT.startswith("plan keeps the monitoring", i)]
    g, (span, start, end) = anchor("plan keeps the monitoring", **extra)
    assert start == hits[which]
    assert TEXT[start:end] == "plan keeps the monitoring"


def test_occurrence_out_of_range_and_prefix_that_never_fits():
    with pytest.raises(AnchorError, match="pg:occurrence 3 .* occurs 2 time"):
        anchor("plan keeps the monitoring", occurrence=3)
    with pytest.raises(AnchorError, match="never with the given pg:prefix"):
        anchor("plan keeps the monitoring", prefix="Vienna")
    with pytest.raises(AnchorError, match="whole number"):
        anchor("plan keeps the monitoring", occurrence="second")


def test_missing_quote_names_file_subject_and_closest_match():
    with pytest.raises(AnchorError) as info:
        anchor("Kyiv rejected the amnesty law")
    msg = str(info.value)
    assert msg.startswith("graph/x.ttl: pgid:thing: quote 'Kyiv rejected the amnesty law' not found in src:alpha")
    assert "closest" in msg and str(TEXT.index("Kyiv rejected the amnesty ")) in msg


def test_a_quote_never_starts_inside_a_word():
    with pytest.raises(AnchorError, match="not found"):
        anchor("yiv rejected")
    g, (span, start, end) = anchor("-backed plan")
    assert TEXT[start - 4:start] == "U.S."


def test_without_pg_source_a_top_level_file_quotes_the_founding_text():
    texts = {A: TEXT, B: "Another text about Geneva."}
    with pytest.raises(AnchorError, match="not found in src:alpha"):
        anchor("Another text", texts=texts)
    g, (span, start, end) = anchor("Geneva", texts=texts, source=B)
    assert str(span).startswith(f"{SRC}beta#char=") and texts[B][start:end] == "Geneva"
    with pytest.raises(AnchorError, match="not a source text"):
        anchor("Geneva", texts=texts, source=SRC["gamma"])


def test_attestation_gets_an_iri_and_asserts_the_direct_triple():
    g = Graph()
    att, ev = BNode(), BNode()
    plan, kushner = PGID["us-28-point-plan"], PGID["jared-kushner"]
    g.add((att, RDF.type, PG.Attestation))
    g.add((att, RDF.subject, plan))
    g.add((att, RDF.predicate, PG.draftedBy))
    g.add((att, RDF.object, kushner))
    g.add((att, PG.evidence, ev))
    g.add((ev, PG.quote, Literal("U.S.-backed plan")))
    out = anchor_graph(g, {A: TEXT}, {att: "graph/docs.ttl"})
    name = PGID["attestation-us-28-point-plan--drafted-by--jared-kushner"]
    assert attestation_iri(plan, PG.draftedBy, kushner) == name
    assert (plan, PG.draftedBy, kushner) in out
    assert (name, RDF.type, PG.Attestation) in out
    assert (name, RDF.subject, plan) in out
    assert len(list(out.objects(name, PG.evidence))) == 1
    assert not any(isinstance(t, BNode) for triple in out for t in triple)


def test_attestation_missing_object_is_an_error_naming_the_file():
    g = Graph()
    att = BNode()
    g.add((att, RDF.type, PG.Attestation))
    g.add((att, RDF.subject, PGID["a"]))
    g.add((att, RDF.predicate, PG.draftedBy))
    with pytest.raises(InputError, match="rdf:object") as info:
        anchor_graph(g, {A: TEXT}, {att: "graph/docs.ttl"})
    assert info.value.file == "graph/docs.ttl"


def test_slugs():
    assert slug(PG.draftedBy) == "drafted-by"
    assert slug(PG.modelledOn) == "modelled-on"
    assert slug(PGID["kyiv"]) == "kyiv"
    assert slug(URIRef("https://w3id.org/peacegraph/id/topic/territory")) == "topic-territory"
    foreign = slug(URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"))
    assert len(foreign) == 12 and all(c in "0123456789abcdef" for c in foreign)


def test_other_blank_nodes_are_input_errors_naming_file_and_subject():
    g = Graph()
    g.add((PGID["kyiv"], PG.location, BNode()))
    with pytest.raises(InputError, match="pgid:kyiv pg:location") as info:
        anchor_graph(g, {A: TEXT}, {PGID["kyiv"]: "graph/places.ttl"})
    assert info.value.file == "graph/places.ttl"


def test_evidence_with_unknown_keys_or_no_quote_is_refused():
    with pytest.raises(InputError, match="only pg:quote"):
        anchor("Geneva", comment="why")
    g = Graph()
    g.add((PGID["thing"], PG.evidence, BNode()))
    with pytest.raises(InputError, match="exactly one pg:quote"):
        anchor_graph(g, {A: TEXT})


def test_input_graph_is_not_modified():
    g = graph_with("Kyiv rejected")
    before = set(g)
    anchor_graph(g, {A: TEXT})
    assert set(g) == before


def test_fold_and_offsets_map_back():
    ft = FoldedText("a\u00a0\u00a0b\u2014c \u201cd\u201d\u00ade")
    assert ft.folded == 'a b-c "d"e'
    assert fold("  x\u2009\u2009y ") == "x y"
    # the folded space covers the whole run of white space
    assert ft.span(0, 3) == (0, 4)


# -- the shipped seed ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed():
    path = paths.data_dir("seeds") / "000_c087f7d81efda06d.txt"
    return path.read_bytes().decode("utf-8")


def test_seed_duplicated_paragraphs_need_disambiguation_and_get_right_offsets(seed):
    src = SRC["000_c087f7d81efda06d"]
    a = Anchorer({src: seed})
    quote = "differences from an earlier 2022 Istanbul Communiqu\u00e9 show shifts toward concessions"
    hits = [m.start for m in a.candidates(src, quote)]
    assert len(hits) == 2
    with pytest.raises(AnchorError, match="ambiguous"):
        a.choose(src, quote)
    first = a.choose(src, quote, prefix="Key")
    second = a.choose(src, quote, prefix="if we compare the key")
    assert (first.start, second.start) == tuple(hits)
    assert seed[first.start - 4:first.start] == "Key "
    assert seed[second.start - 4:second.start] == "key "
    # the European counterproposal paragraph also appears twice (as a paragraph and a bullet)
    quote = "Europeans offered a 28-point counterproposal (most recently about a 19-point counterproposal)"
    with pytest.raises(AnchorError, match="ambiguous"):
        a.choose(src, quote)
    m = a.choose(src, quote, prefix="The European counterproposal and continuing diplomacy:")
    assert seed[m.start - 55:m.start] == "The European counterproposal and continuing diplomacy: "
    m2 = a.choose(src, quote, occurrence=2)
    assert seed[:m2.start].rstrip().endswith("\u2022 European counterproposal and continuing diplomacy:")
    istanbul = "differences from an earlier 2022 Istanbul Communiqu\u00e9 show shifts toward concessions"
    for found, authored in ((first, istanbul), (second, istanbul), (m, quote), (m2, quote)):
        assert fold(seed[found.start:found.end]) == fold(authored)


def test_seed_typographic_quotes_are_found(seed):
    src = SRC["000_c087f7d81efda06d"]
    a = Anchorer({src: seed})
    m = a.choose(src, 'U.S. text "could form basis"')
    assert seed[m.start:m.end] == "U.S. text \u201ccould form basis\u201d"
    m = a.choose(src, "less Russia-friendly counterproposals (24- and 28-point variants)")
    assert seed[m.start:m.end] == "less Russia\u2011friendly counterproposals (24\u2011 and 28\u2011point variants)"


def test_many_quotes_on_a_large_text_are_all_found():
    # Speed at scale is measured by `peacegraph bench`; this checks correctness on a large index.
    rng = random.Random(7)
    words = [f"w{rng.randrange(50000)}" for _ in range(400_000)]
    text = " ".join(words)
    quotes = []
    for _ in range(20_000):
        i = rng.randrange(len(words) - 6)
        quotes.append(" ".join(words[i:i + 6]))
    a = Anchorer({A: text})
    found = 0
    for q in quotes:
        for m in a.candidates(A, q):
            assert text[m.start:m.end] == q
            found += 1
    assert found >= len(quotes)


def test_folded_offsets_are_consistent_on_random_texts():
    rng = random.Random(11)
    alphabet = list("abc ") + ["\u00a0", "\u00ad", "\u200b", "\u2014", "\u2011", "\u201c", "\n", "\t"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40)))
        ft = FoldedText(text)
        f = ft.folded
        for _ in range(20):
            a = rng.randrange(len(f) + 1)
            b = rng.randrange(len(f) + 1)
            if a >= b or f[a] == " " or f[b - 1] == " ":
                continue
            start, end = ft.span(a, b)
            assert 0 <= start < end <= len(text)
            assert fold(text[start:end]) == f[a:b], (text, a, b)


def _fold_by_table(text: str) -> str:
    """fold() as its slow path computes it, for any text."""
    translated = text.translate(_TABLE)
    return translated.strip(" ") if _JUNK.search(translated) is None else FoldedText(text).folded.strip(" ")


def test_fold_of_an_ascii_string_is_what_the_table_makes_of_it():
    rng = random.Random(5)
    alphabet = list("ab '\"-.`") + ["\t", "\n", "\r", "\x0b", "\x0c", "  ", "\u2019", "\u00a0", "\u00ad"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 14)))
        assert fold(text) == _fold_by_table(text), repr(text)


def test_a_text_searched_and_the_same_text_indexed_find_the_same_places():
    rng = random.Random(17)
    pieces = ["alpha", "beta", "al", "-", "'", " ", " ", "\u00a0", "\u2014", ".", "_x", "5", "\u00e9t\u00e9"]
    for _ in range(200):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 80)))
        searched, indexed = FoldedText(text), FoldedText(text)
        indexed.index()
        f = searched.folded
        for _ in range(10):
            a = rng.randrange(len(f))
            q = fold(f[a:a + rng.randrange(1, 16)])
            if q:
                assert searched.find_all(q) == indexed.find_all(q), (text, q)
        assert searched._index is None  # ten searches: not indexed yet


def test_a_text_searched_often_is_indexed_and_finds_the_same():
    text = " ".join(f"word{i % 7} - it's" for i in range(300))
    ft = FoldedText(text)
    first = ft.find_all("word3 - it's")
    for _ in range(SCANS_BEFORE_INDEX):
        assert ft.find_all("word3 - it's") == first
    assert ft._index is not None and ft.find_all("word3 - it's") == first
    assert len(first) == 43


def test_of_many_quotes_that_fail_the_first_by_subject_is_reported():
    g = Graph()
    names = [f"thing-{c}" for c in "qwertyuiopasdfghjklzxcvbnm"]
    for name in names:
        ev = BNode()
        g.add((PGID[name], PG.evidence, ev))
        g.add((ev, PG.quote, Literal(f"words not in the text {name}")))
    # a later subject's quote fails differently: an error of another kind is not reported first
    ev = BNode()
    g.add((PGID["thing-zz"], PG.evidence, ev))
    g.add((ev, PG.quote, Literal("Kyiv rejected")))
    g.add((ev, PG.note, Literal("not an evidence key")))
    with pytest.raises(AnchorError) as info:
        anchor_graph(g, {A: TEXT}, {PGID[n]: "graph/x.ttl" for n in names})
    assert "thing-a: quote 'words not in the text thing-a' not found" in str(info.value)
    assert info.value.subject == PGID["thing-a"]
