"""The one way peacegraph opens URLs: to the address it was given and nowhere else."""

from __future__ import annotations

import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # a store that redirects would have our request body or credentials sent to another address
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def direct_opener(*handlers) -> urllib.request.OpenerDirector:
    """An opener that follows no redirect (a 3xx comes back as an HTTPError) and ignores proxy
    settings of the environment; `handlers` are added (e.g. an authentication handler)."""
    return urllib.request.build_opener(_NoRedirect(), urllib.request.ProxyHandler({}), *handlers)
