"""The research pages (peacegraph.server.research) on the real build, through the Flask test client:
the home page, search as HTML and JSON, the browse lists, the topic scheme, the sources, the
pictures, the 404 under id/ with its suggestions, hostile input, and the weight of every page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from peacegraph.search import MAX_QUERY_CHARS
from peacegraph.server import research
from peacegraph.server.stored import research_examples

BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"
JSON = "application/json"
BASE = "https://w3id.org/peacegraph/"
SOURCE = "/source/000_c087f7d81efda06d"
PERSONS = {"/id/donald-trump", "/id/jared-kushner", "/id/kirill-dmitriev", "/id/steve-witkoff",
           "/id/vladimir-putin", "/id/volodymyr-zelenskiy"}
HOSTILE = ['"', "AND OR", "NEAR(", "*", "text:zelensky", "^zel", "(", "\\", "\x00", "🙂", "\u200b", "%",
           "<script>alert(1)</script>", "' OR 1=1 --", "} ; DROP", "?q=1&page=2", "a" * MAX_QUERY_CHARS]
# Every page type but the query editor, with a path of the real build; each must stay light.
PAGE_TYPES = {"home": "/", "search": "/search?q=plan", "browse": "/id/", "browse-kind": "/id/?class=provision",
              "on-topic": "/id/?topic=territory", "topics": "/id/topic/", "sources": "/source/",
              "pictures": "/pictures/", "lineage": "/pictures/lineage", "actors": "/pictures/actors",
              "stances": "/pictures/stances", "events": "/pictures/events", "not-found": "/id/jared-kushnr",
              "entity": "/id/us-28-point-plan", "downloads": "/download/", "ontology": "/ontology",
              "compare": "/compare/", "comparison": "/compare/us-28-point-plan/european-28-point-counterproposal",
              "matrix": "/compare/matrix", "topic": "/id/topic/territory",
              "source": "/source/000_c087f7d81efda06d"}
MAX_PAGE_BYTES = 100_000


@pytest.fixture(scope="module")
def real(built_dist):
    from peacegraph.server.app import close_app, create_app
    from peacegraph.server.config import ServerConfig
    app = create_app(ServerConfig(data=[built_dist / "peacegraph.trig"], workers=2, max_workers=4, timeout=20))
    yield app.test_client()
    close_app(app)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []     # (href, text)
        self.assets: list[str] = []
        self._open: list[list] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self._open.append([a["href"], ""])
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.assets.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.assets.append(a["src"])

    def handle_data(self, data):
        for entry in self._open:
            entry[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, " ".join(text.split())))


def parse(body: str) -> _Links:
    p = _Links()
    p.feed(body)
    return p


def page(client, path: str, status: int = 200) -> str:
    r = client.get(path, headers={"Accept": BROWSER})
    assert r.status_code == status, (path, r.status_code, r.data[:300])
    assert r.headers["Content-Type"].startswith("text/html")
    return r.data.decode()


def main_part(body: str) -> str:
    """The page without its header and footer (whose links every page has)."""
    return body.split("<main", 1)[1].split("</main>", 1)[0] if "<main" in body else body


def hrefs(body: str) -> list[str]:
    return [h for h, _ in parse(main_part(body)).links]


def sparql_count(client, query: str) -> int:
    r = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    return int(json.loads(r.data)["results"]["bindings"][0]["n"]["value"])


# -- home ------------------------------------------------------------------------------------------
def test_home_page_says_what_the_graph_is_with_live_counts_and_entry_points(real):
    body = page(real, "/")
    assert "Every fact points to the exact words of a source text" in body
    links = hrefs(body)
    for entry in ("/id/?class=person", "/id/?class=organisation", "/id/?class=group", "/id/?class=document",
                  "/id/?class=provision", "/id/?class=event", "/id/topic/", "/source/",
                  "/sparql", "/download/", "/ontology", "/pictures/", "/compare/"):
        assert entry in links, entry
    assert "/id/us-28-point-plan" in links and PERSONS <= set(links)
    # the counts are the store's: six people, and as many triples as the named graphs hold
    assert re.search(r'href="/id/\?class=person"><span class="card-title">People</span> <span class="count">6<', body)
    triples = sparql_count(real, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert f"<dd>{triples:,}</dd>" in body
    # the search box is a combobox over a listbox, and works as a plain form without script
    assert 'role="combobox"' in body and 'role="listbox"' in body and 'action="/search"' in body
    assert 'class="skip-link" href="#main"' in body and 'id="main"' in body


def test_home_lists_every_research_question_with_a_link_into_the_editor(real):
    body = page(real, "/")
    examples = research_examples()
    assert examples
    for example in examples:
        assert f'href="/sparql?example={example.name}"' in body
    editor = page(real, f"/sparql?example={examples[0].name}")
    assert f'id="example-{examples[0].name}"' in editor


def test_home_for_a_machine_is_the_service_description(real):
    r = real.get("/", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    assert b"sparql-service-description" in r.data


# -- search ----------------------------------------------------------------------------------------
def test_search_page_finds_a_person_by_part_of_the_name(real):
    body = page(real, "/search?q=witk")
    first = next(h for h in hrefs(body) if h.startswith("/id/"))
    assert first == "/id/steve-witkoff"
    assert '<span class="badge">person</span>' in body


def test_search_page_shows_quote_hits_with_a_link_to_the_span(real):
    body = page(real, "/search?q=multi-point+peace+proposal")
    spans = [h for h in hrefs(body) if h.startswith(SOURCE + "#char=")]
    assert spans, "a quote hit links to its span"
    start, end = (int(x) for x in spans[0].split("=", 1)[1].split(","))
    text = real.get(SOURCE, headers={"Accept": "text/plain"}).data.decode()
    assert "multi-point peace proposal" in text[start:end]
    assert f"<mark>{text[start:end]}</mark>" in body


def test_search_json_for_the_autocomplete(real):
    r = real.get("/search?q=witkoff", headers={"Accept": JSON})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(JSON)
    body = json.loads(r.data)
    assert set(body) == {"query", "offset", "limit", "more", "hits"}
    assert body["query"] == "witkoff" and body["offset"] == 0 and body["limit"] == research.SUGGESTIONS
    first = body["hits"][0]
    assert set(first) == {"iri", "label", "href", "type", "match", "text", "quote", "span", "spanHref"}
    assert first["href"] == "/id/steve-witkoff" and first["type"] == "person" and first["match"] == "label"
    near = json.loads(real.get("/search?q=zelensky", headers={"Accept": JSON}).data)["hits"]
    assert "/id/volodymyr-zelenskiy" in [h["href"] for h in near]
    topic = json.loads(real.get("/search?q=territory", headers={"Accept": JSON}).data)["hits"][0]
    assert topic["href"] == "/id/topic/territory" and topic["type"] == "topic"
    quotes = json.loads(real.get("/search?q=frozen+assets&limit=20", headers={"Accept": JSON}).data)["hits"]
    quoted = [h for h in quotes if h["match"] == "quote"]
    assert quoted and all(h["quote"] and h["spanHref"].startswith(SOURCE + "#char=") for h in quoted)
    # label hits rank above quote hits
    kinds = [h["match"] for h in quotes]
    assert kinds.index("quote") > kinds.index("label")
    assert r.headers["Vary"] == "Accept"
    assert json.loads(real.get("/search?q=witk&format=json").data)["hits"][0]["href"] == "/id/steve-witkoff"


def test_search_pages_through_the_hits(real):
    first = json.loads(real.get("/search?q=the&limit=5", headers={"Accept": JSON}).data)
    second = json.loads(real.get("/search?q=the&limit=5&page=2", headers={"Accept": JSON}).data)
    assert first["more"] and len(first["hits"]) == 5 and second["offset"] == 5
    assert not {h["iri"] for h in first["hits"]} & {h["iri"] for h in second["hits"]}
    body = page(real, "/search?q=the")
    assert 'rel="next" href="/search?q=the&amp;page=2"' in body
    body = page(real, "/search?q=the&page=2")
    assert 'rel="prev" href="/search?q=the&amp;page=1"' in body and "Results 21–" in body


def test_search_says_clearly_when_there_is_nothing_to_search(real):
    for q in ("", "   ", "!!!"):
        body = page(real, "/search?q=" + q)
        assert ("Type a name, a topic or words of a quote" in body) or ("Nothing matches" in body)
        data = json.loads(real.get("/search", query_string={"q": q}, headers={"Accept": JSON}).data)
        assert data["hits"] == [] and data["message"]
    body = page(real, "/search?q=qqqxxzz")
    assert "Nothing matches “qqqxxzz”" in body


def test_search_refuses_too_long_text_and_bad_pages_with_one_line(real):
    long = "a" * (MAX_QUERY_CHARS + 1)
    r = real.get("/search", query_string={"q": long}, headers={"Accept": JSON})
    assert r.status_code == 400
    message = json.loads(r.data)["message"]
    assert "at most 200" in message and "\n" not in message
    body = page(real, "/search?q=" + long, status=400)
    assert "at most 200 are allowed" in body
    for bad in ("page=0", "page=-1", "page=abc", "page=99999", "limit=0", "limit=500", "limit=x"):
        r = real.get("/search?q=witk&" + bad, headers={"Accept": JSON})
        assert r.status_code == 400, bad
        assert json.loads(r.data)["hits"] == []


@pytest.mark.parametrize("q", HOSTILE)
def test_search_takes_hostile_text_as_words(real, q):
    for accept in (BROWSER, JSON):
        r = real.get("/search", query_string={"q": q}, headers={"Accept": accept})
        assert r.status_code in (200, 400), (q, r.status_code)
        if accept == BROWSER:
            assert "<script>alert" not in r.data.decode()
        else:
            assert isinstance(json.loads(r.data)["hits"], list)


# -- browse ----------------------------------------------------------------------------------------
def test_browse_groups_every_thing_by_kind(real):
    body = page(real, "/id/")
    counts = {m.group(1): int(m.group(2)) for m in
              re.finditer(r'<h2 id="g-(\w+)"><a href="/id/\?class=\w+">[^<]+</a> <span class="count">(\d+)<', body)}
    assert counts["person"] == 6 and counts["topic"] == 16
    for key, cls in (("provision", "Provision"), ("document", "Document"), ("note", "EditorialNote")):
        expected = sparql_count(real, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a "
                                      f"<https://w3id.org/peacegraph/ontology#{cls}> . FILTER(STRSTARTS(STR(?s), "
                                      f'"{BASE}id/")) }}')
        assert counts[key] == expected, key
    links = set(hrefs(body))
    assert PERSONS <= links
    # no attestation, span or source text is listed as a thing
    assert not any("attestation" in h or "#char=" in h for h in links)
    assert ("All provisions →" in body) == (counts["provision"] > research.PREVIEW)


def test_browse_one_kind_and_filter_without_script(real):
    body = page(real, "/id/?class=person")
    assert {h for h in hrefs(body) if h.startswith("/id/") and "?" not in h and h != "/id/"} == PERSONS
    body = page(real, "/id/?class=person&q=KUSH")
    things = {h for h in hrefs(body) if h.startswith("/id/") and "?" not in h and h != "/id/"}
    assert things == {"/id/jared-kushner"}
    body = page(real, "/id/?q=witkoff")
    things = {h for h in hrefs(body) if h.startswith("/id/") and "?" not in h and h != "/id/"}
    assert "/id/steve-witkoff" in things and "/id/kushner-witkoff-peace-effort" in things
    assert "/id/jared-kushner" not in things
    body = page(real, "/id/?q=nothing-has-this-name")
    assert "Nothing has a name containing" in body


def test_browse_pages_through_a_long_kind(real, monkeypatch):
    monkeypatch.setattr(research, "PAGE", 4)
    seen, path = [], "/id/?class=provision"
    for _ in range(10):
        body = page(real, path)
        seen += [h for h in hrefs(body) if h.startswith("/id/") and "?" not in h and h != "/id/"]
        nxt = [h for h, text in parse(main_part(body)).links if text == "Next page →"]
        if not nxt:
            break
        path = nxt[0]
    total = sparql_count(real, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a "
                               "<https://w3id.org/peacegraph/ontology#Provision> }")
    assert len(seen) == len(set(seen)) == total


def test_browse_refuses_unknown_kinds_and_long_filters(real):
    page(real, "/id/?class=nothing", status=404)
    page(real, "/id/?class=%3Cscript%3E", status=404)
    body = page(real, "/id/?q=" + "x" * 201, status=400)
    assert "at most 200" in body
    body = page(real, "/id/?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>alert" not in body
    for q in HOSTILE[:-1]:
        assert real.get("/id/", query_string={"q": q}, headers={"Accept": BROWSER}).status_code == 200, q


def test_everything_on_a_topic_across_documents(real):
    body = page(real, "/id/?topic=territory")
    links = set(hrefs(body))
    assert "/id/us-28-point-plan--territorial-concessions" in links                    # the provision
    assert "/id/change-european-28-point-counterproposal--territorial-concessions" in links   # a change
    assert "/id/european-28-point-counterproposal" in links and "/id/us-28-point-plan" in links   # documents
    assert "/id/stance-ukraine-government--territorial-concessions" in links           # a stance on it
    spans = [h for h in links if h.startswith(SOURCE + "#char=")]
    assert len(spans) >= 4
    assert "<mark>it could force Ukraine to cede territory</mark>" in body
    page(real, "/id/?topic=nothing", status=404)
    page(real, "/id/?topic=..%2F..%2Fetc", status=404)


def test_topic_scheme_with_counts(real):
    body = page(real, "/id/topic/")
    topics = {h for h in hrefs(body) if h.startswith("/id/topic/") and h != "/id/topic/"}
    assert len(topics) == 16 and "/id/topic/territory" in topics
    assert "/id/?topic=territory" in hrefs(body)
    provisions = sparql_count(real, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a "
                                    "<https://w3id.org/peacegraph/ontology#Provision> ; "
                                    "<https://w3id.org/peacegraph/ontology#topic> "
                                    "<https://w3id.org/peacegraph/id/topic/sanctions> }")
    card = body.split('href="/id/topic/sanctions"', 1)[1].split("</li>", 1)[0]
    assert f"{provisions} provision" in card


def test_source_list_with_metadata_and_evidence_counts(real):
    body = page(real, "/source/")
    assert SOURCE in hrefs(body)
    assert "Agreement on Ukraine Peace Plan now Waiting on Talks with Putin" in body
    spans = sparql_count(real, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s "
                               f"<http://www.w3.org/ns/oa#hasSource> <{BASE}source/000_c087f7d81efda06d> }}")
    assert f"<strong>{spans}</strong> quoted spans" in body
    assert "a3ea3bd543b179c86f12d683a461deb3c40100362ae5219d454ddab07c74b866" in body
    assert "000_c087f7d81efda06d.txt" in body
    assert 'rel="next"' not in body
    page(real, "/source/?page=2", status=404)
    page(real, "/source/?page=x", status=400)


def test_long_lists_say_they_are_cut(real, monkeypatch):
    monkeypatch.setattr(research, "ON_TOPIC_ROWS", 2)
    body = page(real, "/id/?topic=territory")
    assert len([h for h in hrefs(body) if h.startswith(SOURCE + "#char=")]) == 2
    assert "These are the first 2" in body and 'href="/sparql?example=07-provisions-by-topic"' in body


# -- pictures --------------------------------------------------------------------------------------
def test_pictures_index_and_each_picture_with_its_text_alternative(real):
    body = page(real, "/pictures/")
    names = [p.name for p in research.PICTURES]
    assert names == ["lineage", "actors", "stances", "events"]
    for name in names:
        assert f"/pictures/{name}" in hrefs(body)
        picture = page(real, f"/pictures/{name}")
        assert picture.count("<svg") >= 1 and 'role="graphics-document"' in picture
        assert '<table class="pgpic-alt">' in picture and "<caption>" in picture
        assert "<script" not in picture.split("<figure", 1)[1].split("</figure>", 1)[0]
        # every node links to its page
        assert any(h.startswith("/id/") for h in hrefs(picture.split("<figure", 1)[1]))
    lineage = page(real, "/pictures/lineage")
    assert "/id/us-19-point-plan" in hrefs(lineage) and "revision of" in lineage
    page(real, "/pictures/nothing", status=404)


def test_a_heavy_picture_keeps_only_its_phone_layout(real, monkeypatch):
    monkeypatch.setattr(research, "PICTURE_BYTES", 10**9)
    both = page(real, "/pictures/lineage")
    assert both.count("<svg") == 2 and '<div class="narrow">' in both
    monkeypatch.setattr(research, "PICTURE_BYTES", 1000)
    one = page(real, "/pictures/lineage")
    assert one.count("<svg") == 1 and '<div class="only">' in one and len(one) < len(both)


# -- 404 with suggestions --------------------------------------------------------------------------
def test_a_missing_thing_suggests_the_nearest(real):
    body = page(real, "/id/jared-kushnr", status=404)
    links = hrefs(body)
    assert links[links.index("/id/jared-kushner") - 1] != "/id/jared-kushner"
    suggestions = body.split("Perhaps you meant", 1)[1].split("</ul>", 1)[0]
    assert hrefs(suggestions)[0] == "/id/jared-kushner"
    assert "/search?q=jared%20kushnr" in links
    body = page(real, "/id/stve-witkoff", status=404)
    assert hrefs(body.split("Perhaps you meant", 1)[1])[0] == "/id/steve-witkoff"
    # machines get the plain 404
    r = real.get("/id/jared-kushnr", headers={"Accept": "text/turtle"})
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/plain")
    body = page(real, "/id/a%3Cscript%3Ealert(1)%3C%2Fscript%3E", status=404)
    assert "<script>alert" not in body
    page(real, "/id/qqqxxzzy", status=404)


# -- weight ----------------------------------------------------------------------------------------
def page_weight(client, path: str) -> int:
    """Bytes of a page with its stylesheets and scripts (pictures are inline SVG, in the HTML)."""
    r = client.get(path, headers={"Accept": BROWSER})
    assert r.status_code in (200, 404), path
    total = len(r.data)
    for asset in set(parse(r.data.decode()).assets):
        a = client.get(unquote(asset))
        assert a.status_code == 200, asset
        total += len(a.data)
        a.close()
    return total


@pytest.mark.parametrize("kind", sorted(PAGE_TYPES))
def test_every_page_stays_light(real, kind):
    weight = page_weight(real, PAGE_TYPES[kind])
    assert weight < MAX_PAGE_BYTES, (kind, weight)


@pytest.mark.parametrize("path", ["/", "/search?q=kushner", "/id/", "/id/?class=person", "/id/topic/", "/source/",
                                  "/pictures/", "/pictures/lineage", "/pictures/actors", "/pictures/stances",
                                  "/pictures/events"])
def test_the_pages_answer_for_other_data_too(client, path):
    """The small fixture has no topic scheme, no events and one source: every page still answers."""
    body = page(client, path)
    assert "<h1>" in body


def test_other_data_without_the_topic_says_so(client):
    assert "No topic scheme in this graph." in page(client, "/id/topic/")
    page(client, "/id/?topic=territory", status=404)
    assert "/id/jared-kushner" in hrefs(page(client, "/search?q=kushner"))
