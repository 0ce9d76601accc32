"""The stored queries of the server (server/queries/*.rq) and the research examples of the query page."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent / "queries"


@cache
def page_query(name: str) -> str:
    """The text of server/queries/{name}.rq (only names of files shipped with the server)."""
    path = QUERIES_DIR / f"{name}.rq"
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Example:
    name: str
    title: str
    description: str
    text: str
    params: tuple = ()  # the query page's form fields (peacegraph.server.editor.Parameter)


def _header(text: str, key: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        body = stripped.lstrip("#").strip()
        if body.lower().startswith(key + ":"):
            return body[len(key) + 1:].strip()
    return ""


def research_examples() -> list[Example]:
    """The research queries shipped with peacegraph (peacegraph.query.stored_queries)."""
    try:
        from peacegraph.query import stored_queries
    except ImportError:
        stored_queries = None
    if stored_queries is not None:
        return [Example(q.name, q.title or q.name, q.description or "", q.text) for q in stored_queries()]
    # The query module is optional for serving: read the same .rq files and their headers directly.
    from peacegraph.paths import queries_dir

    out = []
    for path in sorted(queries_dir().glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        out.append(Example(path.stem, _header(text, "title") or path.stem, _header(text, "description"), text))
    return out
