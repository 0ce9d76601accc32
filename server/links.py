"""Links from every page to its other representations and to the dataset it belongs to: the HTTP
`Link` header (RFC 8288) and the `<link>` elements of the HTML pages, made from one list.

A linked-data document (/id/…, /source/…, /ontology, /graph/…, /dataset, /.well-known/void) links
to each of its representations (`rel="alternate"` with its media type) and to its RDF
(`rel="describedby"`); every page links to the dataset (`void:inDataset`). The targets are
absolute, under the configured public URL, never under the Host header a request names.
"""

from __future__ import annotations

import re

from flask import Response, request

from peacegraph.server.views import site

DOCUMENT = re.compile(r"/(?:id/.+|source/[^/]+|ontology|graph/[^/]+|dataset|\.well-known/void)")
REPRESENTATIONS = [("text/html", "html"), ("text/turtle", "turtle"), ("application/ld+json", "jsonld"),
                   ("application/n-triples", "ntriples"), ("application/rdf+xml", "rdfxml")]
IN_DATASET = "http://rdfs.org/ns/void#inDataset"


def page_links() -> list[dict]:
    """The links of the page of the current request: rel, type, href."""
    public = site().public_url()
    path = request.path
    links = []
    if DOCUMENT.fullmatch(path):
        page = public + path.lstrip("/")
        offers = list(REPRESENTATIONS)
        if path.startswith("/source/"):
            offers.append(("text/plain", "text"))
        links += [{"rel": "alternate", "type": media, "href": f"{page}?format={key}"} for media, key in offers]
        links.append({"rel": "describedby", "type": "text/turtle", "href": f"{page}?format=turtle"})
    links.append({"rel": IN_DATASET, "type": "text/turtle", "href": public + "dataset"})
    return links


def add_link_header(response: Response) -> Response:
    """After a successful GET or HEAD of a page (not a static file), its links as a Link header."""
    if (request.method in ("GET", "HEAD") and 200 <= response.status_code < 300
            and request.endpoint not in (None, "static")):
        response.headers["Link"] = ", ".join(
            f'<{link["href"]}>; rel="{link["rel"]}"; type="{link["type"]}"' for link in page_links())
    return response
