"""The answer to an address under id/ that names nothing: a 404 that, for a browser, suggests
the things whose names are nearest to the words of the address (the search index's `nearest`)."""

from __future__ import annotations

from flask import Response, request

from peacegraph.errors import PeacegraphError
from peacegraph.server import protocol
from peacegraph.server.views import error_response, html_response, site

NOT_FOUND = "not found: nothing is published at this address"
SUGGESTIONS = 5


def missing_thing(iri: str) -> Response:
    """The 404 for the IRI of a thing the graph does not hold."""
    if not protocol.wants_html(request.headers.get("Accept")):
        return error_response(404, NOT_FOUND)
    s = site()
    words = iri.rsplit("/id/", 1)[-1]
    try:
        hits = s.backend.nearest(words, SUGGESTIONS)
    except PeacegraphError:
        hits = []      # no index, or nothing usable in the words: the page still answers
    suggestions = [{"label": h.label, "href": s.local_path(h.iri) or h.iri, "type": h.type_label} for h in hits]
    resp = html_response("not_found.html", message=NOT_FOUND, path=request.path, words=words,
                         suggestions=suggestions)
    resp.status_code = 404
    return resp
