"""The pictures (peacegraph.server.pictures) of the real build, and of hostile rows.

The real-build pictures go the server's way: the stored picture queries pass the server's guard
in Site.run and are evaluated by the worker's evaluate on a pyoxigraph store of the built TriG.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest

from peacegraph.server import pictures
from peacegraph.server.backend import Backend
from peacegraph.server.config import ServerConfig
from peacegraph.server.views import Site
from peacegraph.server.worker import evaluate

SVG = "{http://www.w3.org/2000/svg}"
BASE = "https://w3id.org/peacegraph/"
PG = BASE + "ontology#"


class StoreBackend(Backend):
    """The embedded backend's evaluation, in this process."""
    name = "test-store"

    def __init__(self, store):
        super().__init__(ServerConfig())
        self.store = store

    def start(self):
        pass

    def graph_names(self):
        return sorted(g.value for g in self.store.named_graphs())

    def query(self, request):
        return evaluate(self.store, request)

    def close(self):
        pass


@pytest.fixture(scope="module")
def site(built_dist):
    store = ox.Store()
    store.load(path=str(built_dist / "peacegraph.trig"), format=ox.RdfFormat.TRIG)
    return Site(ServerConfig(), StoreBackend(store))


def local(iri: str) -> str | None:
    return "/" + iri[len(BASE):] if iri.startswith(BASE) else None


def page(slug: str) -> str:
    return "/id/" + slug


ARTICLE = "/source/000_c087f7d81efda06d"
ARTICLE_TITLE = "Agreement on Ukraine Peace Plan now Waiting on Talks with Putin"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return root


def links(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(SVG + "a"))


def hrefs(root: ET.Element) -> set[str]:
    return {a.get("href") for a in links(root)}


def alt_hrefs(alt: pictures.TextAlternative) -> set[str]:
    return {item.href for row in alt.rows for cell in row for item in cell if item.href}


def alt_triples(alt: pictures.TextAlternative) -> set[tuple]:
    return {tuple(cell[0].href or cell[0].text for cell in row[:3]) for row in alt.rows}


def check_picture(svg: str, alt: pictures.TextAlternative, title: str) -> ET.Element:
    """What every picture must have: well-formed, named and described for assistive technology,
    sized by a viewBox, every drawn node a link with its full label as tooltip, the same links as
    its text alternative."""
    root = parse(svg)
    assert root.get("role") == "graphics-document"
    title_el, desc_el = root.find(SVG + "title"), root.find(SVG + "desc")
    assert title_el is not None and title_el.text == title
    assert desc_el is not None and len(desc_el.text) > 40
    assert "Showing" not in desc_el.text, "the shipped graph is drawn whole"
    assert root.get("aria-labelledby") == title_el.get("id")
    assert root.get("aria-describedby") == desc_el.get("id")
    width, height = int(root.get("width")), int(root.get("height"))
    assert root.get("viewBox") == f"0 0 {width} {height}"
    assert root.find(f".//{SVG}script") is None and "<script" not in svg
    for a in links(root):
        assert a.get("href").startswith("/"), a.get("href")
        tip = a.find(SVG + "title")
        assert tip is not None and tip.text, "every link carries its full label"
    assert alt.caption == title and alt.rows
    assert hrefs(root) == alt_hrefs(alt), "the picture links exactly the things its text alternative lists"
    return root


# -- the real build ------------------------------------------------------------------------------

def test_lineage_of_the_shipped_documents(site):
    svg, alt = pictures.lineage(site, local)
    root = check_picture(svg, alt, "Lineage of the documents")
    for slug in ("us-28-point-plan", "us-19-point-plan", "european-28-point-counterproposal",
                 "european-19-point-counterproposal", "european-ukrainian-24-point-counterproposal",
                 "gaza-ceasefire-plan", "istanbul-communique-2022", "us-peace-framework"):
        assert page(slug) in hrefs(root), slug
    edges = alt_triples(alt)
    assert (page("us-19-point-plan"), "revision of", page("us-28-point-plan")) in edges
    assert (page("european-28-point-counterproposal"), "responds to", page("us-28-point-plan")) in edges
    assert (page("european-ukrainian-24-point-counterproposal"), "responds to", page("us-28-point-plan")) in edges
    assert (page("european-19-point-counterproposal"), "revision of",
            page("european-28-point-counterproposal")) in edges
    assert (page("us-28-point-plan"), "modelled on", page("gaza-ceasefire-plan")) in edges
    assert (page("us-28-point-plan"), "compared with", page("istanbul-communique-2022")) in edges
    # both drafts of the negotiated text, and every document has a relation
    assert (page("us-28-point-plan"), "draft of", page("us-peace-framework")) in edges
    assert (page("us-19-point-plan"), "draft of", page("us-peace-framework")) in edges
    assert all(len(row) == 3 and row[2] for row in alt.rows)
    # the inferred closure of derivedFrom adds nothing the chain does not already show
    assert not any(rel == "derived from" for _, rel, _ in edges)
    assert len(edges) == 8
    # each relation drawn in its own style, and named in the legend
    dashes = {p.get("stroke-dasharray") for p in root.iter(SVG + "path") if p.get("fill") == "none"}
    assert len(dashes) == 5
    texts = {t.text for t in root.iter(SVG + "text")}
    assert {"revision of", "responds to", "modelled on", "compared with", "draft of"} <= texts
    # earlier documents to the left: the Gaza plan left of the 28-point plan, left of the 19-point plan
    x = {a.get("href"): float(a.find(SVG + "rect").get("x")) for a in links(root)}
    assert x[page("gaza-ceasefire-plan")] < x[page("us-28-point-plan")] < x[page("us-19-point-plan")]


@pytest.mark.parametrize("make", [pictures.lineage, pictures.actor_network, pictures.stance_map])
def test_narrow_variants_fit_a_phone_and_say_the_same(site, make):
    wide_svg, wide_alt = make(site, local)
    narrow_svg, narrow_alt = make(site, local, narrow=True)
    root = check_picture(narrow_svg, narrow_alt, wide_alt.caption)
    assert narrow_alt == wide_alt
    assert hrefs(root) == hrefs(parse(wide_svg))
    assert int(root.get("width")) <= 400 < int(parse(wide_svg).get("width"))
    # both can sit on one page: no id of one is an id of the other
    def ids(svg):
        return {e.get("id") for e in parse(svg).iter() if e.get("id")}
    assert ids(wide_svg) and not ids(wide_svg) & ids(narrow_svg)


def test_narrow_lineage_lists_earlier_documents_first(site):
    root = parse(pictures.lineage(site, local, narrow=True)[0])
    y = {a.get("href"): float(a.find(SVG + "rect").get("y")) for a in links(root)}
    assert y[page("gaza-ceasefire-plan")] < y[page("us-28-point-plan")] < y[page("us-19-point-plan")]
    assert y[page("european-28-point-counterproposal")] < y[page("european-19-point-counterproposal")]


def test_actor_network_of_the_shipped_graph(site):
    svg, alt = pictures.actor_network(site, local)
    root = check_picture(svg, alt, "Actor network")
    edges = alt_triples(alt)
    assert (page("jared-kushner"), "drafted", page("us-28-point-plan")) in edges
    assert (page("steve-witkoff"), "drafted", page("us-28-point-plan")) in edges
    assert (page("united-states"), "backed", page("us-peace-framework")) in edges
    assert (page("kirill-dmitriev"), "took part in", page("kushner-witkoff-contacts-with-dmitriev")) in edges
    assert (page("volodymyr-zelenskiy"), "spoke about", page("us-peace-framework")) in edges
    assert (page("volodymyr-zelenskiy"), "spoke about", page("topic/territory")) in edges
    assert (page("vladimir-putin"), "stance on", page("us-peace-framework")) in edges
    assert (page("vladimir-putin"), "affiliated with", page("russia")) in edges
    # the source text's own stances and assessments, under a heading of its own
    assert (ARTICLE, "stance on", page("us-28-point-plan--amnesty")) in edges
    assert (ARTICLE, "assessed", page("us-peace-framework")) in edges
    article = next(a for a in links(root) if a.get("href") == ARTICLE)
    assert article.find(SVG + "title").text == ARTICLE_TITLE
    assert "Source texts" in {t.text for t in root.iter(SVG + "text")}
    for slug in ("jared-kushner", "steve-witkoff", "kirill-dmitriev", "volodymyr-zelenskiy", "donald-trump",
                 "vladimir-putin", "geneva-talks", "topic/sovereignty", "us-peace-framework"):
        assert page(slug) in hrefs(root), slug
    # one line per relation: as many curves as rows of the text alternative
    assert len([p for p in root.iter(SVG + "path") if p.get("fill") == "none"]) == len(alt.rows)


def test_stance_map_links_every_stance(site):
    svg, alt = pictures.stance_map(site, local)
    root = check_picture(svg, alt, "Stance map")
    count = site.run("PREFIX pg: <https://w3id.org/peacegraph/ontology#> "
                     "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a pg:Stance }").rows[0][0]
    stance_links = [a for a in links(root) if a.get("href").startswith("/id/stance-")]
    assert len(stance_links) == int(count.value) == len(alt.rows)
    zelenskiy = next(a for a in stance_links if a.get("href") == page("stance-volodymyr-zelenskiy--us-peace-framework"))
    # a position shows as a colour and a letter, never colour alone
    assert zelenskiy.find(SVG + "text").text == "CS"
    assert "conditionally supports" in zelenskiy.find(SVG + "title").text
    rows = {(r[0][0].href, r[1][0].text, r[2][0].href) for r in alt.rows}
    assert (page("ukraine-government"), "rejects", page("us-28-point-plan--amnesty")) in rows
    assert (page("vladimir-putin"), "open to", page("us-peace-framework")) in rows
    # the source text's own stances: a column named as a source, after the actors
    assert (ARTICLE, "doubts", page("us-28-point-plan")) in rows
    assert (ARTICLE, "criticizes", page("us-28-point-plan--peace-council")) in rows
    assert {r[0][0].text for r in alt.rows if r[0][0].href == ARTICLE} == {"source: " + ARTICLE_TITLE}
    headers = [a.find(SVG + "text") for a in links(root)]
    columns = [(a.get("href"), t.text) for a, t in zip(links(root), headers, strict=True)
               if t is not None and t.get("transform")]
    assert columns[-1][0] == ARTICLE and columns[-1][1].startswith("source: Agreement")
    assert len(columns) == len({h for h, _ in columns}) == len({r[0][0].href for r in alt.rows})
    legend = {t.text for t in root.iter(SVG + "text")}
    assert {"supports", "conditionally supports", "open to", "doubts", "criticizes", "rejects"} <= legend


def test_event_sequence_of_the_shipped_graph(site):
    svg, alt = pictures.event_sequence(site, local)
    root = check_picture(svg, alt, "Sequence of events")
    events = [r[0][0].href for r in alt.rows]
    count = site.run("PREFIX pg: <https://w3id.org/peacegraph/ontology#> "
                     "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a pg:Event }").rows[0][0]
    assert len(events) == len(set(events)) == int(count.value) == 9
    for slug in ("geneva-talks", "russian-strikes-on-kyiv", "kushner-witkoff-peace-effort",
                 "kushner-witkoff-contacts-with-dmitriev"):
        assert page(slug) in events, slug
    # the source gives no date: every event is marked undated, in the order the source tells them
    assert all(r[1][0].text.startswith("undated") for r in alt.rows)
    assert sum(1 for t in root.iter(SVG + "text") if t.text == "undated") >= 9
    assert events.index(page("geneva-talks")) < events.index(page("us-envoy-visit-to-moscow"))
    moscow = next(r for r in alt.rows if r[0][0].href == page("us-envoy-visit-to-moscow"))
    assert moscow[1][0].text == "undated (planned)"
    assert [i.href for i in moscow[2]] == [page("united-states")] and [i.href for i in moscow[3]] == [page("moscow")]


def test_pictures_are_byte_identical_across_runs_and_light(site):
    for make, narrow in ((pictures.lineage, False), (pictures.lineage, True), (pictures.actor_network, False),
                         (pictures.actor_network, True), (pictures.stance_map, False), (pictures.stance_map, True)):
        first, second = make(site, local, narrow=narrow), make(site, local, narrow=narrow)
        assert first[0] == second[0] and first[1] == second[1]
        assert 2_000 < len(first[0].encode()) < 60_000
    first, second = pictures.event_sequence(site, local), pictures.event_sequence(site, local)
    assert first == second and 2_000 < len(first[0].encode()) < 60_000


def test_row_order_does_not_change_the_picture(site):
    for name, render in (("picture_lineage", pictures.lineage_picture), ("picture_actors", pictures.actor_network_picture),
                         ("picture_stances", pictures.stance_map_picture), ("picture_events", pictures.event_sequence_picture)):
        rows = pictures.picture_rows(site, name)
        for kwargs in variants(render):
            assert render(rows, local, **kwargs) == render(list(reversed(rows)), local, **kwargs), name


def variants(render) -> list[dict]:
    """The keyword arguments of each layout a renderer has."""
    return [{}, {"narrow": True}] if render is not pictures.event_sequence_picture else [{}]


# -- hostile data --------------------------------------------------------------------------------

HOSTILE_LABEL = '<script>alert("x")</script> & \x01\u202e'
HOSTILE_IRIS = ["javascript:alert(1)", "data:text/html,<b>x</b>", "//evil.example/x"]


def identity(iri: str) -> str:
    return iri


def hostile_rows():
    good = BASE + "id/good-plan"
    lineage = [{"doc": good, "label": ox.Literal(HOSTILE_LABEL, language="en"), "class": ox.NamedNode(PG + "PeacePlan")}]
    actors, stances, events = [], [], []
    for iri in HOSTILE_IRIS:
        lineage.append({"doc": iri, "label": HOSTILE_LABEL, "relation": PG + "revisionOf", "other": good})
        actors.append({"actor": iri, "actorLabel": HOSTILE_LABEL, "relation": "drafted", "thing": good,
                       "thingLabel": HOSTILE_LABEL})
        stances.append({"stance": iri, "stanceLabel": HOSTILE_LABEL, "holder": iri, "holderLabel": HOSTILE_LABEL,
                        "target": good, "targetLabel": HOSTILE_LABEL, "position": "javascript:x"})
        events.append({"event": iri, "label": HOSTILE_LABEL, "date": "<b>2025</b>", "role": "participant",
                       "thing": good, "thingLabel": HOSTILE_LABEL})
    return {"lineage": lineage, "actors": actors, "stances": stances, "events": events}


@pytest.mark.parametrize("name,render", [("lineage", pictures.lineage_picture),
                                         ("actors", pictures.actor_network_picture),
                                         ("stances", pictures.stance_map_picture),
                                         ("events", pictures.event_sequence_picture)])
def test_hostile_labels_are_escaped_and_hostile_links_refused(name, render):
    for kwargs in variants(render):
        check_hostile(*render(hostile_rows()[name], identity, **kwargs))


def check_hostile(svg, alt):
    root = parse(svg)  # control characters dropped: still well-formed XML
    assert root.find(f".//{SVG}script") is None
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert "\u202e" not in svg and "<b>" not in svg
    drawn = hrefs(root)
    assert drawn == {BASE + "id/good-plan"}, drawn
    assert alt_hrefs(alt) == {BASE + "id/good-plan"}
    html = pictures.text_alternative_html(alt)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert re.findall(r'href="([^"]*)"', html) and set(re.findall(r'href="([^"]*)"', html)) == {BASE + "id/good-plan"}


def test_safe_href_allows_only_local_paths_and_http():
    assert pictures.safe_href(identity, "https://example.org/x") == "https://example.org/x"
    assert pictures.safe_href(identity, "http://example.org/x") == "http://example.org/x"
    assert pictures.safe_href(lambda i: "/id/x", "anything") == "/id/x"
    for bad in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:,x", "//evil.example", "/\\evil",
                "https:///nohost", "/id/a b", "ftp://example.org/", "vbscript:x", ""):
        assert pictures.safe_href(identity, bad) is None, bad

    def broken(iri):
        raise KeyError(iri)
    assert pictures.safe_href(broken, "https://example.org/") is None


def test_long_labels_are_cut_with_the_full_label_as_tooltip():
    long_label = "A document whose name goes on " + "and on " * 40 + "to the end"
    rows = [{"doc": BASE + "id/long", "label": long_label},
            {"doc": BASE + "id/other", "label": "Other", "relation": PG + "respondsTo", "other": BASE + "id/long"}]
    svg, _ = pictures.lineage_picture(rows, local)
    root = parse(svg)
    link = next(a for a in links(root) if a.get("href") == "/id/long")
    assert link.find(SVG + "title").text == long_label
    shown = " ".join(t.text for t in link.iter(SVG + "text"))
    # the label's lines, then the class ("document"): the last line of the label is cut
    *lines, kind = [t.text for t in link.iter(SVG + "text")]
    assert kind == "document" and lines[-1].endswith("…")
    assert long_label.startswith(" ".join(lines)[:-1]) and "…" not in " ".join(lines)[:-1]
    assert "to the end" not in shown
    assert int(root.get("width")) < 800


def test_a_graph_too_big_to_draw_is_cut_to_its_most_connected_part_and_says_so():
    ids = [BASE + f"id/n{i}" for i in range(400)]
    big = {
        pictures.lineage_picture: [{"doc": ids[i], "relation": PG + "revisionOf", "other": ids[i // 2]}
                                   for i in range(1, 400)],
        pictures.actor_network_picture: [{"actor": ids[i % 90], "relation": "drafted", "thing": ids[100 + i % 300]}
                                         for i in range(1200)],
        pictures.stance_map_picture: [{"stance": ids[i] + "-s", "holder": ids[i % 70], "target": ids[200 + i % 150],
                                       "position": PG + "Rejects"} for i in range(400)],
        pictures.event_sequence_picture: [{"event": ids[i % 100], "role": "participant", "thing": ids[100 + i % 60]}
                                          for i in range(2000)],
    }
    limits = {pictures.lineage_picture: pictures.MAX_DOCUMENTS,
              pictures.actor_network_picture: pictures.MAX_ACTORS + pictures.MAX_THINGS,
              pictures.stance_map_picture: pictures.MAX_HOLDERS + pictures.MAX_TARGETS + 400,
              pictures.event_sequence_picture: pictures.MAX_EVENTS * (1 + pictures.MAX_PER_EVENT)}
    for render, rows in big.items():
        for kwargs in variants(render):
            svg, alt = render(rows, local, **kwargs)
            root = parse(svg)
            assert len(svg.encode()) < 80_000, render.__name__
            assert 0 < len(hrefs(root)) <= limits[render]
            assert hrefs(root) == alt_hrefs(alt)
            assert "Showing" in root.find(SVG + "desc").text
            assert any((t.text or "").startswith("Showing") for t in root.iter(SVG + "text"))


def test_wrap_keeps_to_its_lines_and_marks_a_cut():
    text = "one two three four five six seven eight nine ten"
    for max_lines in (1, 2, 3):
        lines = pictures.wrap(text, 60, 14, max_lines)
        assert len(lines) == max_lines
        assert all(pictures.text_width(line, 14) <= 60 for line in lines)
        assert lines[-1].endswith("…")
    assert pictures.wrap("short", 200, 14, 3) == ["short"]
    assert pictures.wrap("a " + "x" * 200, 100, 14, 2)[-1].endswith("…")


def test_cycles_and_self_loops_in_the_lineage_do_not_break_the_layout():
    a, b, c = (BASE + f"id/{n}" for n in "abc")
    rows = [{"doc": a, "relation": PG + "revisionOf", "other": b},
            {"doc": b, "relation": PG + "revisionOf", "other": c},
            {"doc": c, "relation": PG + "revisionOf", "other": a},
            {"doc": a, "relation": PG + "respondsTo", "other": a}]
    for narrow in (False, True):
        svg, alt = pictures.lineage_picture(rows, local, narrow=narrow)
        root = parse(svg)
        assert hrefs(root) == {"/id/a", "/id/b", "/id/c"}
        assert len(alt.rows) == 3


def test_empty_rows_give_an_empty_but_valid_picture():
    for render in (pictures.lineage_picture, pictures.actor_network_picture, pictures.stance_map_picture,
                   pictures.event_sequence_picture):
        for kwargs in variants(render):
            svg, alt = render([], local, **kwargs)
            root = parse(svg)
            assert root.find(SVG + "title").text and not links(root) and alt.rows == ()
