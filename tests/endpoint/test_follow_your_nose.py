"""Follow your nose over HTTP only: from an entity's RDF, through `pg:evidence`, to the quoted
words. Every step dereferences an IRI the previous answer gave (mapped from the data's base to
the live server, as a resolver would), with nothing but GET and content negotiation."""
from __future__ import annotations

from urllib.parse import urldefrag

from rdflib import RDF, Graph, Namespace, URIRef

from endpoint.serverkit import BASE, KUSHNER, http

PG = Namespace(BASE + "ontology#")
OA = Namespace("http://www.w3.org/ns/oa#")


def _dereference(live, iri: str, accept: str = "text/turtle") -> Graph:
    document, _ = urldefrag(iri)
    assert document.startswith(BASE)
    status, headers, body = http(live.url + document[len(BASE):], headers={"Accept": accept})
    assert status == 200 and headers["Content-Type"].startswith(accept)
    return Graph().parse(data=body, format="turtle" if accept == "text/turtle" else "json-ld")


def test_pg_evidence_leads_to_the_exact_words(live):
    entity = _dereference(live, KUSHNER)
    spans = list(entity.objects(URIRef(KUSHNER), PG.evidence))
    assert spans, "the entity's RDF names its evidence"
    span = spans[0]
    source_doc = _dereference(live, str(span))
    source = source_doc.value(span, OA.hasSource)
    assert source is not None and str(span).startswith(str(source) + "#char=")
    selectors = set(source_doc.objects(span, OA.hasSelector))
    kinds = {source_doc.value(sel, RDF.type) for sel in selectors}
    assert {OA.TextQuoteSelector, OA.TextPositionSelector} <= kinds
    exact = [source_doc.value(sel, OA.exact) for sel in selectors if source_doc.value(sel, OA.exact)]
    start = next(source_doc.value(sel, OA.start) for sel in selectors if source_doc.value(sel, OA.start))
    end = next(source_doc.value(sel, OA.end) for sel in selectors if source_doc.value(sel, OA.end))
    assert [str(e) for e in exact] == ["Jared Kushner"]
    assert str(span).endswith(f"#char={start},{end}")
    # and the words are those of the text the source serves, at those offsets
    status, _, text = http(live.url + str(source)[len(BASE):], headers={"Accept": "text/plain"})
    assert status == 200 and text.decode("utf-8")[int(start):int(end)] == "Jared Kushner"
    # the citing thing is named on the source's side too
    assert (URIRef(KUSHNER), PG.evidence, span) in source_doc


def test_every_span_of_a_source_is_described_in_its_rdf(live):
    source_doc = _dereference(live, BASE + "source/test_source")
    spans = set(source_doc.subjects(OA.hasSource, URIRef(BASE + "source/test_source")))
    assert len(spans) >= 4
    for span in spans:
        selectors = list(source_doc.objects(span, OA.hasSelector))
        assert len(selectors) == 2
        assert any(source_doc.value(sel, OA.exact) is not None for sel in selectors), span
