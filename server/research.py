"""The research pages as a blueprint: the home page, search, the browse lists and the pictures.

Routes: / (what the graph is, live counts, entry points, the research questions), /search
(HTML for browsers, JSON for the search box's autocomplete), /id/ (every thing grouped by kind,
filterable with ?class= and ?q=; ?topic= lists everything on one topic across documents),
/id/topic/ (the topic scheme with counts), /source/ (the source texts with their metadata and
evidence counts) and /pictures/ (the lineage, the actor network, the stance map and the sequence
of events). The research questions on the home page open in the query editor (/sparql?example=).

Every list comes from a stored query of server/queries with its values bound by the engine; the
words a visitor types reach the store only as bound literals or the search index's own query
language, never as SPARQL text.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Response, abort, json, request
from markupsafe import Markup

from peacegraph.errors import InputError
from peacegraph.namespaces import PG, SKOS
from peacegraph.search import MAX_OFFSET, MAX_QUERY_CHARS
from peacegraph.server import pictures, protocol, sparql
from peacegraph.server.stored import page_query, research_examples
from peacegraph.server.views import error_response, html_response, rows, site, term_value

blueprint = Blueprint("research", __name__)


@dataclass(frozen=True)
class Group:
    """A kind of thing the browse list groups by: its key in ?class=, its class, its heading."""
    key: str
    iri: str
    heading: str


# (key, class, heading), in the order the browse list shows them
GROUPS = [Group(key, str(cls), heading) for key, cls, heading in (
    ("person", PG.Person, "People"), ("organisation", PG.Organization, "Organisations"),
    ("group", PG.Group, "Groups"), ("document", PG.Document, "Documents"),
    ("provision", PG.Provision, "Provisions"), ("topic", SKOS.Concept, "Topics"),
    ("change", PG.ProvisionChange, "Changes between drafts"), ("stance", PG.Stance, "Stances"),
    ("statement", PG.PublicStatement, "Public statements"), ("assessment", PG.Assessment, "Assessments"),
    ("event", PG.Event, "Events"), ("place", PG.Place, "Places"),
    ("conflict", PG.ClaimConflict, "Claim conflicts"), ("note", PG.EditorialNote, "Editorial notes"))]
GROUP_BY_KEY = {g.key: g for g in GROUPS}
GROUP_BY_CLASS = {g.iri: g for g in GROUPS}
PREVIEW = 12            # things per group on the overview
PAGE = 200              # things per page of one group
SEARCH_PAGE = 20        # hits per page of the search page
SOURCES_PAGE = 50       # source texts per page of /source/
ON_TOPIC_ROWS = 100     # things listed on a topic's page; the query editor has them all
PICTURE_BYTES = 50_000  # the most SVG a picture's page carries in both layouts
SUGGESTIONS = 8         # hits the autocomplete asks for by default
MAX_SUGGESTIONS = 20
MAX_FILTER_CHARS = 200
# The entry points of the home page, in the order a researcher meets them.
ENTRY_POINTS = ("person", "organisation", "group", "document", "provision", "event")
ON_TOPIC_HEADINGS = {str(PG.Provision): "Provisions", str(PG.ProvisionChange): "Changes made by other drafts",
                     str(PG.Stance): "Stances on these provisions", str(PG.Assessment): "Assessments"}


def href_of(iri: str) -> str | None:
    """The local path of an IRI of the data, else None (nothing outside is linked)."""
    return site().local_path(iri)


def _count(term) -> int:
    """A count from a query row; 0 when the query found nothing to count."""
    try:
        return int(term_value(term))
    except ValueError:
        return 0


def counts(s) -> dict[str, int]:
    """Things per browse group (their class IRI -> count)."""
    return {term_value(r["class"]): _count(r["count"]) for r in rows(s.run(page_query("browse_counts")))}


def things(s, group: Group, needle: str = "", after: str = "", limit: int = PAGE) -> tuple[list[dict], bool]:
    """The things of a group in the order of their labels, at most `limit`, and whether more follow."""
    bindings = {"class": ox.NamedNode(group.iri)}
    if needle:
        bindings["needle"] = ox.Literal(needle)
    if after:
        bindings["after"] = ox.Literal(after)
    res = s.run(page_query("browse_things"), bindings=bindings, max_rows=limit + 1)
    out = []
    for r in rows(res)[:limit]:
        iri = term_value(r["thing"])
        out.append({"label": term_value(r["label"]) or iri.rsplit("/", 1)[-1], "href": href_of(iri) or iri,
                    "key": term_value(r["key"])})
    return out, len(res.rows) > limit or res.truncated


def topics(s) -> list[dict]:
    out = []
    for r in rows(s.run(page_query("topics"))):
        iri = term_value(r["topic"])
        out.append({"iri": iri, "href": href_of(iri) or iri, "slug": iri.rstrip("/").rsplit("/", 1)[-1],
                    "label": term_value(r["label"]) or iri.rsplit("/", 1)[-1],
                    "definition": term_value(r["definition"]), "provisions": _count(r["provisions"]),
                    "documents": _count(r["documents"]), "assessments": _count(r["assessments"])})
    return out


def sources(s) -> list[dict]:
    out = []
    for r in rows(s.run(page_query("sources"))):
        iri = term_value(r["source"])
        out.append({"iri": iri, "href": href_of(iri) or iri, "title": term_value(r["title"]) or iri,
                    "identifier": term_value(r["identifier"]), "language": term_value(r["language"]),
                    "temporal": term_value(r["temporal"]), "format": term_value(r["format"]),
                    "sha256": term_value(r["sha256"]), "length": _count(r["length"]),
                    "spans": _count(r["spans"]), "things": _count(r["things"])})
    return out


def span_href(span: str | None) -> str | None:
    """The local link of an evidence span (source/{stem}#char=S,E)."""
    if not span:
        return None
    base, _, fragment = span.partition("#")
    local = href_of(base)
    return f"{local}#{fragment}" if local and fragment else local


# -- home ------------------------------------------------------------------------------------------
@blueprint.route("/", methods=["GET"])
def home():
    accept = request.headers.get("Accept")
    if accept and not protocol.wants_html(accept):
        return sparql.service_description(accept)
    s = site()
    by_class = counts(s)
    texts = sources(s)
    documents, _ = things(s, GROUP_BY_KEY["document"], limit=PREVIEW)
    people, _ = things(s, GROUP_BY_KEY["person"], limit=PREVIEW)
    topic_list = [t for t in topics(s) if t["provisions"] or t["assessments"]]
    entries = [{"group": GROUP_BY_KEY[k], "count": by_class.get(GROUP_BY_KEY[k].iri, 0)} for k in ENTRY_POINTS]
    figures = {
        "triples": sum(s.graph_sizes().values()),
        "things": sum(by_class.values()),
        "spans": sum(t["spans"] for t in texts),
        "sources": len(texts),
        "topics": by_class.get(str(SKOS.Concept), 0),
    }
    return html_response("home.html", figures=figures, entries=entries, documents=documents, people=people,
                         topics=topic_list, sources=texts, questions=research_examples())


# -- search ----------------------------------------------------------------------------------------
def _page_number(value: str | None) -> int:
    if value is None or value == "":
        return 1
    if not value.isdigit() or not 1 <= int(value) <= MAX_OFFSET // SEARCH_PAGE + 1:
        raise InputError(f"page must be a whole number from 1 to {MAX_OFFSET // SEARCH_PAGE + 1}")
    return int(value)


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return SUGGESTIONS
    if not value.isdigit() or not 1 <= int(value) <= MAX_SUGGESTIONS:
        raise InputError(f"limit must be a whole number from 1 to {MAX_SUGGESTIONS}")
    return int(value)


def kind_of(hit) -> str:
    # the topics are SKOS concepts; "topic" is what a researcher calls them
    if hit.types and hit.types[0]["iri"] == str(SKOS.Concept) and "/id/topic/" in hit.iri:
        return "topic"
    return hit.type_label


def hit_view(hit) -> dict:
    return {"iri": hit.iri, "label": hit.label, "href": href_of(hit.iri) or hit.iri, "type": kind_of(hit),
            "match": hit.match, "text": hit.text if hit.match in ("altLabel", "description") else None,
            "quote": hit.quote, "span": hit.span, "spanHref": span_href(hit.span)}


@blueprint.route("/search", methods=["GET"])
def search():
    text = request.args.get("q", "")
    as_json = (request.args.get("format") == "json" or
               protocol.negotiate(request.headers.get("Accept"),
                                  [("text/html", "html"), ("application/xhtml+xml", "html"),
                                   ("application/json", "json")], "html") == "json")
    backend = site().backend
    message, status, hits, more, page = "", 200, [], False, 1
    try:
        page = _page_number(request.args.get("page"))
        limit = _limit(request.args.get("limit")) if as_json else SEARCH_PAGE
        offset = (page - 1) * limit
        if not text.strip():
            message = "Type a name, a topic or words of a quote to search."
        else:
            found = backend.search(text, min(limit + 1, 100), offset)
            more, hits = len(found) > limit, [hit_view(h) for h in found[:limit]]
            if not hits:
                message = f"Nothing matches “{text}”." if page == 1 else "No more results."
    except InputError as exc:
        message, status, limit, offset = str(exc), 400, SEARCH_PAGE, 0
    if as_json:
        body = {"query": text, "offset": offset, "limit": limit, "more": more, "hits": hits}
        if message:
            body["message"] = message
        resp = Response(json.dumps(body), status=status, mimetype="application/json")
        resp.headers["Vary"] = "Accept"
        return resp
    resp = html_response("search.html", q=text[:MAX_QUERY_CHARS * 2], hits=hits, message=message, page=page,
                         more=more, offset=offset)
    resp.status_code = status
    return resp


# -- browse ----------------------------------------------------------------------------------------
def _filter_text(name: str) -> str:
    value = request.args.get(name, "").strip()
    if len(value) > MAX_FILTER_CHARS:
        raise InputError(f"{name} is {len(value)} characters long; at most {MAX_FILTER_CHARS} are allowed")
    return value


@blueprint.route("/id/", methods=["GET"])
def browse():
    s = site()
    try:
        needle, after = _filter_text("q"), _filter_text("after")
    except InputError as exc:
        return error_response(400, str(exc))
    topic_slug = request.args.get("topic")
    if topic_slug is not None:
        return on_topic(s, topic_slug)
    key = request.args.get("class", "")
    by_class = counts(s)
    groups = [{"group": g, "count": by_class.get(g.iri, 0)} for g in GROUPS]
    if key:
        group = GROUP_BY_KEY.get(key)
        if group is None:
            return error_response(404, f"no kind of thing is called {key!r}; kinds: "
                                  + ", ".join(GROUP_BY_KEY))
        items, more = things(s, group, needle, after)
        shown = [{"group": group, "count": by_class.get(group.iri, 0), "members": items, "more": more}]
    else:
        shown = []
        for entry in groups:
            if not entry["count"]:
                continue
            items, more = things(s, entry["group"], needle, limit=PREVIEW)
            if items or not needle:
                shown.append({**entry, "members": items, "more": more})
    return html_response("browse.html", groups=groups, shown=shown, key=key, needle=needle,
                         total=sum(by_class.values()), single=bool(key))


def on_topic(s, slug: str):
    topic = next((t for t in topics(s) if t["slug"] == slug), None)
    if topic is None:
        return error_response(404, "no topic of the topic scheme is called " + repr(slug[:80]))
    res = s.run(page_query("on_topic"), bindings={"topic": ox.NamedNode(topic["iri"])}, max_rows=ON_TOPIC_ROWS)
    sections: dict[str, list] = {cls: [] for cls in ON_TOPIC_HEADINGS}
    for r in rows(res):
        cls = term_value(r["class"])
        thing, context = term_value(r["thing"]), term_value(r["context"])
        source, start, end = term_value(r["source"]), term_value(r["start"]), term_value(r["end"])
        sections.setdefault(cls, []).append({
            "label": term_value(r["label"]) or thing.rsplit("/", 1)[-1], "href": href_of(thing) or thing,
            "context": term_value(r["contextLabel"]) or context.rsplit("/", 1)[-1],
            "context_href": href_of(context) if context else None,
            "quote": term_value(r["quote"]),
            "quote_href": span_href(f"{source}#char={start},{end}") if source and start and end else None})
    parts = [{"heading": ON_TOPIC_HEADINGS.get(cls, cls), "members": items} for cls, items in sections.items() if items]
    return html_response("on_topic.html", topic=topic, sections=parts, truncated=res.truncated,
                         total=sum(len(p["members"]) for p in parts))


@blueprint.route("/id/topic/", methods=["GET"])
def topic_scheme():
    return html_response("topics.html", topics=topics(site()))


@blueprint.route("/source/", methods=["GET"])
def source_list():
    try:
        number = _page_number(request.args.get("page"))
    except InputError as exc:
        return error_response(400, str(exc))
    texts = sources(site())
    shown = texts[(number - 1) * SOURCES_PAGE:number * SOURCES_PAGE]
    if number > 1 and not shown:
        return error_response(404, f"there is no page {number} of the source texts")
    return html_response("sources.html", sources=shown, total=len(texts), page=number,
                         more=number * SOURCES_PAGE < len(texts), first=(number - 1) * SOURCES_PAGE + 1)


# -- pictures --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Picture:
    """One picture of the graph: its address under /pictures/, its title, what it shows, and its
    renderer in peacegraph.server.pictures (narrow: whether it has a layout for phones)."""
    name: str
    title: str
    description: str
    draw: object
    narrow: bool = True


PICTURES = [
    Picture("lineage", "Lineage of the documents",
            "Which draft revised, answered, took as its model or was compared with which: the U.S. plan, "
            "its pared version, the counterproposals, the Istanbul Communiqué and the Gaza plan.",
            pictures.lineage),
    Picture("actors", "Actor network",
            "Who drafted and backed which document, took part in which talks, spoke about, assessed or took "
            "a stance on what.",
            pictures.actor_network),
    Picture("stances", "Stance map",
            "Who holds which position on which document or provision, coloured by position: supports, "
            "conditionally supports, open to, doubts, criticizes, rejects.",
            pictures.stance_map),
    Picture("events", "Sequence of events",
            "The talks, visits and strikes the sources report, in order where they give a date, with who took "
            "part and where.",
            pictures.event_sequence, narrow=False),
]
PICTURE_BY_NAME = {p.name: p for p in PICTURES}


@blueprint.route("/pictures/", methods=["GET"])
def picture_index():
    return html_response("pictures.html", pictures=PICTURES)


@blueprint.route("/pictures/<name>", methods=["GET"])
def picture(name: str):
    shown = PICTURE_BY_NAME.get(name)
    if shown is None:
        abort(404)
    s = site()
    wide, alternative = shown.draw(s, href_of)
    narrow = shown.draw(s, href_of, narrow=True)[0] if shown.narrow else None
    if narrow and len(wide) + len(narrow) > PICTURE_BYTES:
        # both layouts would make the page heavy: the phone's one alone reads at every width
        wide, narrow = narrow, None
    return html_response("picture.html", picture=shown, pictures=PICTURES, wide=Markup(wide),
                         narrow=Markup(narrow) if narrow else None,
                         alternative=Markup(pictures.text_alternative_html(alternative)))
