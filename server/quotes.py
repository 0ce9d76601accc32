"""Quotes from the source texts: a source's text (cached per site) and an evidence span shown in
its context, with the link to the span on the source page."""

from __future__ import annotations

import pyoxigraph as ox

from peacegraph.server.stored import page_query
from peacegraph.server.views import safe_href
from peacegraph.server.views import term_value as _value

CONTEXT = 160


def source_text(site, source: str) -> tuple[str, str, str] | None:
    """(text, title, sha256) of a source IRI, cached."""
    def load():
        res = site.run(page_query("source_text"), bindings={"source": ox.NamedNode(source)})
        if not res.rows:
            return None
        r = dict(zip(res.variables, res.rows[0], strict=True))
        return _value(r.get("text")), _value(r.get("title")), _value(r.get("sha256"))
    return site.cached_text(source, load)


def quote_in_context(site, source: str, start: int, end: int, exact: str, span: str = "") -> dict:
    found = source_text(site, source)
    text = found[0] if found else ""
    if 0 <= start <= end <= len(text) and text[start:end] == exact:
        before, after = text[max(0, start - CONTEXT):start], text[end:end + CONTEXT]
    else:
        before, after = "", ""
    return {"before": ("…" if start > CONTEXT else "") + before, "exact": exact,
            "after": after + ("…" if end + CONTEXT < len(text) else ""),
            "href": safe_href((site.local_path(source) or source) + f"#char={start},{end}"),
            "fragment": f"char={start},{end}",
            "source": source, "title": found[1] if found else "",
            "span": span or f"{source}#char={start},{end}", "chars": f"{start}–{end}"}
