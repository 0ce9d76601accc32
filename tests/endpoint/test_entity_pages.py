"""Entity, topic and source pages of the real build, through the Flask test client: statements
grouped by meaning with their quotes, each relation once, no attestation IRIs, inferred facts
marked apart, every evidence span of the source addressable."""
import re
from html import unescape
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest

from endpoint.serverkit import BASE, BROWSER
from endpoint.serverkit import html_page as page

SOURCE = "/source/000_c087f7d81efda06d"


@pytest.fixture(scope="module")
def client(real_app):
    return real_app.test_client()


def sections(html: str) -> dict[str, str]:
    """The curated groups of an entity page by id (g-…), each with its HTML."""
    found = {}
    for m in re.finditer(r'<section class="group" id="g-([\w-]+)">(.*?)</section>', html, re.S):
        found[m.group(1)] = m.group(2)
    return found


def rows_of(section: str) -> list[str]:
    return re.findall(r'<li class="row">(.*?)</li>\n', section, re.S)


def thing_paths(built_dist) -> list[str]:
    paths = set()
    for quad in ox.parse(path=str(built_dist / "peacegraph.trig"), format=ox.RdfFormat.TRIG):
        for term in (quad.subject, quad.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(BASE + "id/"):
                paths.add(urlsplit(term.value).path.replace("/peacegraph", "", 1))
    return sorted(paths)


def test_person_page_groups_statements_by_meaning_with_quotes(client):
    html = page(client, "/id/jared-kushner")
    assert "<h1>Jared Kushner</h1>" in html and '<p class="kind">person</p>' in html
    assert "private equity firm" in html                                  # the description at the top
    groups = sections(html)
    order = [g for g in ("roles", "drafted", "events", "assessments_about") if g in groups]
    assert order == ["roles", "drafted", "events", "assessments_about"]
    assert list(groups).index("roles") < list(groups).index("drafted") < list(groups).index("events")
    assert "informal U.S. peace broker" in groups["roles"]
    drafted = groups["drafted"]
    assert 'href="/id/us-28-point-plan"' in drafted
    # the attestation's sentence inline, linked to its highlighted span
    m = re.search(r'<mark class="quote">The duo have drafted a multi-point peace proposal</mark>.*?'
                  r'href="(/source/000_c087f7d81efda06d#char=(\d+),(\d+))"', drafted, re.S)
    assert m and int(m.group(3)) - int(m.group(2)) == len("The duo have drafted a multi-point peace proposal")


def test_document_page_has_status_drafters_lineage_provisions_and_changes(client):
    html = page(client, "/id/us-28-point-plan")
    groups = sections(html)
    for g in ("status", "drafters", "lineage", "provisions", "changes_in", "doc_changes", "criticism"):
        assert g in groups, g
    assert list(groups).index("status") < list(groups).index("drafters") < list(groups).index("lineage") \
        < list(groups).index("provisions")
    assert "the origin and status of the 28-point plan should be seen as a draft" in groups["status"]
    assert 'href="/id/jared-kushner"' in groups["drafters"] and 'href="/id/steve-witkoff"' in groups["drafters"]
    european = sections(page(client, "/id/european-28-point-counterproposal"))["drafters"]
    assert "drafted by" in european and "backed by" in european        # two relations, each named
    assert "answered by" in groups["lineage"] and 'href="/id/european-28-point-counterproposal"' in groups["lineage"]
    assert "modelled on" in groups["lineage"] and 'href="/id/gaza-ceasefire-plan"' in groups["lineage"]
    assert len(rows_of(groups["provisions"])) == 14
    # what another draft did to this document's provisions (two steps away)
    doc_changes = groups["doc_changes"]
    assert "softened" in doc_changes and 'href="/id/european-28-point-counterproposal"' in doc_changes
    assert "removes or softens the most pro\u2011Russian elements" in doc_changes     # the text's own hyphen
    # rejection, criticism and doubt apart from the other stances
    critical = re.compile(r'class="badge (rejects|criticizes|doubts)"')
    assert all(critical.search(row) for row in rows_of(groups["criticism"]))
    framework = sections(page(client, "/id/us-peace-framework"))
    assert "statements_about" in framework and "assessments_about" in framework
    assert framework["stances_on"] and not any(critical.search(row) for row in rows_of(framework["stances_on"]))


def test_provision_page_has_topics_changes_and_criticism(client):
    groups = sections(page(client, "/id/us-28-point-plan--territorial-concessions"))
    assert 'href="/id/us-28-point-plan"' in groups["document"]
    assert 'href="/id/topic/territory"' in groups["topics"] and 'href="/id/topic/sovereignty"' in groups["topics"]
    assert "softened" in groups["changes"] and "revised" in groups["changes"]
    assert 'href="/id/ukraine-government"' in groups["criticism"]
    assert "cede territory and accept military limits that Kyiv and many Europeans find unacceptable" \
        in groups["criticism"]


def test_stance_statement_change_and_conflict_pages(client):
    stance = sections(page(client, "/id/stance-ukraine-government--amnesty"))
    assert 'href="/id/ukraine-government"' in stance["who"] and 'href="/id/us-28-point-plan--amnesty"' in stance["on_what"]
    statement = sections(page(client, "/id/statement-donald-trump--deal-getting-close"))
    assert "getting close" in statement["words"] and 'href="/id/donald-trump"' in statement["who"]
    assert 'href="/id/statement-kremlin--too-early"' in statement["contradicts"]
    change = sections(page(client, "/id/change-european-28-point-counterproposal--territorial-concessions"))
    assert 'href="/id/us-28-point-plan--territorial-concessions"' in change["change"]
    # an attestation named as a claim reads as the statement it attests, with its quote
    claims = sections(page(client, "/id/conflict-19-points"))["claims"]
    assert len(rows_of(claims)) == 2
    assert 'href="/id/us-19-point-plan"' in claims and "revision of" in claims
    assert "The original 28-point U.S. proposal was pared to 19 points after talks" in claims


def test_no_page_shows_an_attestation_iri_or_a_relation_twice(client, built_dist):
    paths = thing_paths(built_dist)
    assert len(paths) > 150
    for path in paths:
        html = page(client, path)
        if "/attestation-" not in path:
            assert "attestation-" not in html, path
        curated = re.split(r'<details class="inferred"', html)[0]
        for name, section in sections(curated).items():
            rows = [re.sub(r"\s+", " ", unescape(re.sub(r"<blockquote.*?</blockquote>", "", r, flags=re.S)))
                    for r in rows_of(section)]
            assert len(rows) == len(set(rows)), (path, name)
        # an inverse the reasoner added (pg:drafted for pg:draftedBy) is not listed again
        inferred = html[len(curated):]
        assert "<span class=\"rel\">drafted</span>" not in inferred, path


def test_inferred_facts_are_marked_and_collapsed(client):
    html = page(client, "/id/jared-kushner")
    curated, _, inferred = html.partition('<details class="inferred"')
    assert inferred, "the inferred facts are on the page"
    opening = inferred[:inferred.index(">")]
    assert "open" not in opening                                          # collapsed by default
    rows = re.findall(r'<li class="row inferred-row">(.*?)</li>', inferred, re.S)
    assert rows and all('<span class="badge inferred">inferred</span>' in r for r in rows)
    assert "wasAttributedTo" in inferred and "wasAttributedTo" not in curated
    assert "foaf:Person" in inferred and "foaf:Person" not in curated


def test_topic_page_is_titled_by_its_label_and_lists_what_is_on_it(client):
    html = page(client, "/id/topic/territory")
    assert "<title>territory — peacegraph</title>" in html and "<h1>territory</h1>" in html
    assert '<p class="kind">topic</p>' in html
    groups = sections(html)
    assert 'href="/id/us-28-point-plan--territorial-concessions"' in groups["on_topic"]
    matrix = groups["matrix"]
    headers = re.findall(r'<th scope="col"><a href="(/id/[^"]+)"', matrix)
    assert headers == ["/id/istanbul-communique-2022", "/id/us-28-point-plan",
                       "/id/european-28-point-counterproposal"]
    assert "softened" in matrix and "Government of Ukraine: rejects" in matrix


def test_source_page_addresses_every_span_and_lists_what_it_supports(client, built_dist):
    html = page(client, SOURCE)
    store = ox.Store()
    store.load(path=str(built_dist / "peacegraph.trig"), format=ox.RdfFormat.TRIG)
    spans = {q.subject.value.split("#", 1)[1] for q in store.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/ns/oa#hasSource"), ox.NamedNode(BASE + SOURCE[1:]))}
    assert len(spans) > 100
    ids = re.findall(r'<span id="(char=\d+,\d+)"></span>', html)
    assert sorted(ids) == sorted(spans)
    # each span's start is followed by a highlight naming it, reachable by the keyboard
    for span_id in spans:
        m = re.search(rf'id="{span_id}"></span>(?:<span id="[^"]+"></span>)*'
                      r'<mark data-spans="([^"]+)" tabindex="0"', html)
        assert m and span_id in m.group(1).split(), span_id
    # each fact is listed once, with links to all the spans that support it: every span among them
    facts = re.search(r'<ul class="facts">(.*?)</ul>', html, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", facts)
    assert len(items) == len(set(items)) > 100
    listed = [re.findall(r'<a href="#(char=\d+,\d+)">(\d+)–(\d+)</a>', li) for li in items]
    assert {sid for spans_of in listed for sid, _, _ in spans_of} == spans
    assert all(spans_of and all(sid == f"char={a},{b}" for sid, a, b in spans_of) for spans_of in listed)
    # nothing focusable that shows nothing: no empty links, tab stops only on text
    assert not re.search(r"<a [^>]*>\s*</a>", html)
    assert all(m.endswith(">") for m in re.findall(r'tabindex="0"[^>]*>', html))
    assert not re.search(r'tabindex="0"[^>]*>\s*<', html)
    assert "attestation-" not in html
    # the facts a span supports, as links: a thing, or the statement an attestation attests
    text = client.get(SOURCE + "?format=text").data.decode()
    start = text.index("The duo have drafted a multi-point peace proposal")
    duo = f'<a href="#char={start},{start + len("The duo have drafted a multi-point peace proposal")}">'
    supported = " ".join(li for li in items if duo in li)
    assert 'href="/id/us-28-point-plan"' in supported and "drafted by" in supported
    assert 'href="/id/jared-kushner"' in supported and 'href="/id/steve-witkoff"' in supported


def test_every_span_link_of_the_entity_pages_targets_a_span(client, built_dist):
    source_ids = set(re.findall(r'<span id="(char=\d+,\d+)"></span>', page(client, SOURCE)))
    linked = set()
    for path in thing_paths(built_dist):
        for span in re.findall(r'href="' + SOURCE + r'#(char=\d+,\d+)"', page(client, path)):
            linked.add(span)
    assert linked and linked <= source_ids
    assert len(linked) > 120


def test_machine_formats_of_entities_are_unchanged(client):
    r = client.get("/id/jared-kushner", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    triples = list(ox.parse(r.data, format=ox.RdfFormat.TURTLE))
    kushner = ox.NamedNode(BASE + "id/jared-kushner")
    assert any(t.subject == kushner for t in triples) and any(t.object == kushner for t in triples)
    assert b"<html" not in r.data


@pytest.mark.parametrize("path", ["/id/us-28-point-plan", "/id/jared-kushner", "/id/topic/territory",
                                  "/id/conflict-19-points", SOURCE])
def test_pages_stay_light(client, path):
    assert len(client.get(path, headers={"Accept": BROWSER}).data) < 100_000
