"""The Flask application factory: the app is its blueprints, its error handlers and its headers.

`create_app(config)` opens the backend (loading the data once, here and not at import),
registers every blueprint of BLUEPRINTS and returns the app; `close_app(app)` stops its workers.
A PeacegraphError a view lets through is answered with the status it carries (`http_status`).
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request

from peacegraph.errors import PeacegraphError
from peacegraph.server import compare, linked_data, links, research, sparql
from peacegraph.server.backend import Backend
from peacegraph.server.config import ServerConfig, open_backend
from peacegraph.server.views import EXTENSION, Site, error_response, href_filter, site

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Registered in this order; a blueprint owns its routes, so none may repeat another's.
BLUEPRINTS: list[Blueprint] = [sparql.blueprint, linked_data.blueprint, research.blueprint, compare.blueprint]


def create_app(config: ServerConfig | None = None, backend: Backend | None = None) -> Flask:
    config = config or ServerConfig()
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body
    app.json.sort_keys = False
    if backend is None:
        backend = open_backend(config)
        backend.start()
    app.extensions[EXTENSION] = Site(config, backend)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.add_template_filter(_local, "local")
    app.add_template_filter(href_filter, "href")
    app.add_template_global(links.page_links, "page_links")
    app.add_template_global(linked_data.dataset_jsonld, "dataset_jsonld")
    app.after_request(links.add_link_header)
    app.after_request(_headers)
    _register_error_handlers(app, config)
    return app


def close_app(app: Flask) -> None:
    app.extensions[EXTENSION].backend.close()


def _local(iri) -> str:
    return site().local_path(str(iri)) or str(iri)


def _headers(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Pages run only the scripts and styles served from here (none inline), and no other site
    # may frame them.
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _register_error_handlers(app: Flask, config: ServerConfig) -> None:
    @app.errorhandler(PeacegraphError)
    def _refused(exc: PeacegraphError):
        return error_response(exc.http_status, str(exc))

    @app.errorhandler(404)
    def _not_found(_e):
        return error_response(404, "not found: nothing is published at this address")

    @app.errorhandler(405)
    def _not_allowed(e):
        resp = error_response(405, f"method {request.method} not allowed here")
        if getattr(e, "valid_methods", None):
            resp.headers["Allow"] = ", ".join(e.valid_methods)
        return resp

    @app.errorhandler(413)
    def _too_large(_e):
        return error_response(413, f"request body too large (limit {config.max_body} bytes)")

    @app.errorhandler(400)
    def _bad(_e):
        return error_response(400, "bad request")

    @app.errorhandler(500)
    def _internal(_e):
        return error_response(500, "internal error; the server keeps running")
