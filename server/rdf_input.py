"""How the server's parsers read an RDF file named on the command line."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def rdf_source(path):
    """What a pyoxigraph parser reads `path` from: the file by name or, when it starts with a
    UTF-8 byte order mark (Windows editors write one; the parser would take it for the first
    term), the open file after it."""
    with open(path, "rb") as fh:
        yield {"input": fh} if fh.read(3) == b"\xef\xbb\xbf" else {"path": str(path)}
