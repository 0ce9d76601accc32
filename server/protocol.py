"""The SPARQL 1.1 Protocol for queries: reading a request and negotiating the result format.

Everything the protocol calls malformed becomes a ProtocolError carrying its HTTP status: two
`query` parameters, an update, a wrong Content-Type (415), a body over the size limit (413),
text that is not UTF-8. Parameters the protocol does not define are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote_to_bytes

from peacegraph.errors import PeacegraphError
from peacegraph.server.backend import GRAPH_FORMATS, SOLUTION_FORMATS

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
QUERY_CONTENT_TYPE = "application/sparql-query"
UPDATE_CONTENT_TYPE = "application/sparql-update"

# media types a client may ask for -> format key, per kind of result
_SOLUTION_MEDIA = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
}
_GRAPH_MEDIA = {
    "text/turtle": "turtle", "application/x-turtle": "turtle", "application/turtle": "turtle",
    "application/n-triples": "ntriples", "text/plain": "ntriples",
    "application/n-quads": "nquads", "application/trig": "trig",
    "application/ld+json": "jsonld", "application/json": "jsonld",
    "application/rdf+xml": "rdfxml", "application/xml": "rdfxml", "text/xml": "rdfxml",
}
# values of the `format` parameter
_FORMAT_ALIASES = {
    "json": ("json", "jsonld"), "srj": ("json", None), "xml": ("xml", "rdfxml"), "srx": ("xml", None),
    "csv": ("csv", None), "tsv": ("tsv", None),
    "turtle": (None, "turtle"), "ttl": (None, "turtle"), "ntriples": (None, "ntriples"),
    "nt": (None, "ntriples"), "n-triples": (None, "ntriples"), "nquads": (None, "nquads"),
    "nq": (None, "nquads"), "n-quads": (None, "nquads"), "trig": (None, "trig"),
    "jsonld": (None, "jsonld"), "json-ld": (None, "jsonld"), "rdfxml": (None, "rdfxml"),
    "rdf": (None, "rdfxml"), "rdf/xml": (None, "rdfxml"), "rdf+xml": (None, "rdfxml"),
}


class ProtocolError(PeacegraphError):
    """A request the protocol calls malformed; its status depends on what is wrong with it."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.http_status = status


@dataclass
class ProtocolQuery:
    query: str | None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    format: str | None = None          # the `format` parameter, where the request has one


def _decode(raw: bytes, charset: str | None, what: str) -> str:
    # The protocol's bodies are UTF-8 (SPARQL 1.1 Protocol 2.1.2, 2.1.3); any other charset is an
    # unsupported media type, not a text to guess at.
    charset = (charset or "utf-8").strip().strip('"').lower()
    if charset not in ("utf-8", "utf8"):
        raise ProtocolError(415, f"{what} must be UTF-8, not charset {charset!r}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"{what} is not valid UTF-8 (byte {exc.start})") from None


def _single_query(values: list[str]) -> str | None:
    if len(values) > 1:
        raise ProtocolError(400, "the request has more than one `query` parameter")
    return values[0] if values else None


def read_query_request(request, max_body: int) -> ProtocolQuery:
    """The query and dataset of a Flask request, or a ProtocolError."""
    if request.method in ("GET", "HEAD"):
        # Werkzeug quietly re-quotes bytes that are not UTF-8 (`%FF` stays `%FF`), which would
        # evaluate a different query from the one sent; the form body is held to the same rule.
        try:
            unquote_to_bytes(request.query_string.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(400, "the query string is not valid UTF-8 once percent-decoded "
                                     f"(byte {exc.start})") from None
        args = request.args
        if "update" in args:
            raise ProtocolError(400, "this endpoint is read-only: SPARQL updates are not accepted")
        return ProtocolQuery(_single_query(args.getlist("query")),
                             args.getlist("default-graph-uri"), args.getlist("named-graph-uri"),
                             args.get("format"))
    # POST
    length = request.content_length
    if length is not None and length > max_body:
        raise ProtocolError(413, f"request body too large: {length} bytes (limit {max_body})")
    mimetype = (request.mimetype or "").lower()
    if mimetype == UPDATE_CONTENT_TYPE:
        raise ProtocolError(400, "this endpoint is read-only: SPARQL updates are not accepted")
    raw = request.stream.read(max_body + 1)
    if len(raw) > max_body:
        raise ProtocolError(413, f"request body too large (limit {max_body} bytes)")
    if mimetype == FORM_CONTENT_TYPE:
        text = _decode(raw, request.mimetype_params.get("charset"), "the form body")
        try:
            form = parse_qs(text, keep_blank_values=True, strict_parsing=False, errors="strict")
        except UnicodeDecodeError:
            raise ProtocolError(400, "the form body is not valid UTF-8 once percent-decoded") from None
        if "update" in form:
            raise ProtocolError(400, "this endpoint is read-only: SPARQL updates are not accepted")
        # dataset parameters may also come in the URL, as clients (and the W3C suite) send them
        return ProtocolQuery(_single_query(form.get("query", [])),
                             request.args.getlist("default-graph-uri") + form.get("default-graph-uri", []),
                             request.args.getlist("named-graph-uri") + form.get("named-graph-uri", []),
                             (form.get("format") or [request.args.get("format")])[0])
    if mimetype == QUERY_CONTENT_TYPE:
        text = _decode(raw, request.mimetype_params.get("charset"), "the query")
        if "query" in request.args:
            raise ProtocolError(400, "a query in the body and in the URL: send only one")
        return ProtocolQuery(text, request.args.getlist("default-graph-uri"),
                             request.args.getlist("named-graph-uri"), request.args.get("format"))
    shown = mimetype or "none"
    raise ProtocolError(415, f"unsupported Content-Type {shown}: send {FORM_CONTENT_TYPE} or "
                             f"{QUERY_CONTENT_TYPE}")


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges with their q-values, best first; unparseable parts are skipped."""
    if not header:
        return []
    ranges = []
    for index, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if "/" not in media or " " in media or len(media) > 100:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:
                    q = 0.0
        specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        ranges.append((media, q, specificity, index))
    ranges.sort(key=lambda r: (-r[1], -r[2], r[3]))
    return [(m, q) for m, q, _, _ in ranges]


def _matches(media_range: str, media: str) -> bool:
    if media_range == "*/*":
        return True
    if media_range.endswith("/*"):
        return media.split("/")[0] == media_range[:-2]
    return media_range == media


def negotiate(accept: str | None, offers: list[tuple[str, str]], default: str) -> str | None:
    """Pick a key from `offers` [(media type, key)] for `accept`; None means 406.

    No Accept header, or one with no parseable range, gets `default`.
    """
    ranges = parse_accept(accept)
    if not ranges:
        return default
    best_key, best_q = None, 0.0
    for media, key in offers:
        q = 0.0
        for media_range, _ in ranges:
            if _matches(media_range, media):
                # The most specific matching range decides, per RFC 9110 section 12.5.1.
                specific = [r for r in ranges if _matches(r[0], media)]
                specific.sort(key=lambda r: (0 if r[0] == "*/*" else 1 if r[0].endswith("/*") else 2),
                              reverse=True)
                q = specific[0][1]
                break
        if q > best_q:
            best_key, best_q = key, q
    return best_key


def result_offers(form: str) -> list[tuple[str, str]]:
    table = _SOLUTION_MEDIA if form in ("SELECT", "ASK") else _GRAPH_MEDIA
    preferred = SOLUTION_FORMATS if form in ("SELECT", "ASK") else GRAPH_FORMATS
    offers = [(media, key) for key, media in preferred.items()]
    offers.extend((media, key) for media, key in table.items() if media not in preferred.values())
    return offers


def format_override(value: str, form: str) -> str | None:
    """The `format` parameter (a short name or a media type) for a query form; None if unknown."""
    value = value.strip().lower()
    is_solution = form in ("SELECT", "ASK")
    if value in _FORMAT_ALIASES:
        solution, graph = _FORMAT_ALIASES[value]
        return solution if is_solution else graph
    table = _SOLUTION_MEDIA if is_solution else _GRAPH_MEDIA
    return table.get(value.split(";")[0].strip())


def wants_html(accept: str | None) -> bool:
    """True when a browser asks: text/html preferred over every RDF and results type."""
    ranges = parse_accept(accept)
    for media, q in ranges:
        if q <= 0:
            continue
        if media in ("text/html", "application/xhtml+xml"):
            return True
        if media in _SOLUTION_MEDIA or media in _GRAPH_MEDIA:
            return False
    return False
