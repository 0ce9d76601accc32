"""Result serializers: SPARQL results (JSON, XML, CSV, TSV) from pyoxigraph terms, graphs through
Oxigraph's own RDF serializers, each marking a result cut at the row or byte limit.

The marker for a truncated result is the HTTP header TRUNCATED_HEADER (set by the app) and, in
JSON, a top-level "peacegraph" member that standard clients ignore; in XML, a `<link>` in the head
(allowed by the results format) pointing at TRUNCATED_LINK.
"""

from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
TRUNCATED_HEADER = "Peacegraph-Truncated"
TRUNCATED_LINK = "https://w3id.org/peacegraph/ontology#truncatedResult"

RDF_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                            "predicate": _json_term(term.predicate),
                                            "object": _json_term(term.object)}}
    raise TypeError(f"not an RDF term: {term!r}")


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        attrs = ""
        if term.language:
            attrs = f" xml:lang={quoteattr(term.language)}"
        elif term.datatype.value != XSD_STRING:
            attrs = f" datatype={quoteattr(term.datatype.value)}"
        return f"<literal{attrs}>{escape(_xml_safe(term.value))}</literal>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>"
                f"{_xml_term(term.predicate)}</predicate><object>{_xml_term(term.object)}</object></triple>")
    raise TypeError(f"not an RDF term: {term!r}")


def _xml_safe(value: str) -> str:
    # XML 1.0 cannot carry most C0 controls even escaped; replace them so the document stays well formed.
    return "".join(ch if ch in "\t\n\r" or ch >= " " else "\ufffd" for ch in value)


def _csv_field(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        value = "_:" + term.value
    elif isinstance(term, (ox.NamedNode, ox.Literal)):
        value = term.value
    else:
        value = str(term)
    if any(ch in value for ch in ",\"\r\n"):
        value = '"' + value.replace('"', '""') + '"'
    return value


def serialize_solutions(variables: list[str], rows, fmt: str, truncated: bool = False,
                        max_rows: int | None = None, max_bytes: int | None = None) -> bytes:
    """SELECT results: `rows` are sequences of pyoxigraph terms (None = unbound) in `variables`
    order. `max_bytes` is given when the result was cut at the byte limit rather than the row limit."""
    if fmt == "json":
        bindings = [{v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in rows]
        doc: dict = {"head": {"vars": list(variables)}}
        if truncated:
            doc["peacegraph"] = {"truncated": True, "maxRows": max_rows}
            if max_bytes is not None:
                doc["peacegraph"]["maxBytes"] = max_bytes
        doc["results"] = {"bindings": bindings}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if fmt == "xml":
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n'
                 '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
        parts.extend(f"<variable name={quoteattr(v)}/>" for v in variables)
        if truncated:
            parts.append(f"<link href={quoteattr(TRUNCATED_LINK)}/>")
        parts.append("</head><results>")
        for row in rows:
            parts.append("<result>")
            parts.extend(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                         for v, t in zip(variables, row, strict=True) if t is not None)
            parts.append("</result>")
        parts.append("</results></sparql>\n")
        return "".join(parts).encode("utf-8")
    if fmt == "csv":
        lines = [",".join(variables)]
        lines.extend(",".join(_csv_field(t) for t in row) for row in rows)
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")
    if fmt == "tsv":
        lines = ["\t".join("?" + v for v in variables)]
        lines.extend("\t".join("" if t is None else str(t) for t in row) for row in rows)
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"unknown result format {fmt!r}")


NATIVE_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
# CSV drops angle brackets and datatypes, so it can be several times shorter than the TSV it is
# made from; the TSV is collected this much over the byte limit before a CSV answer is cut.
_CSV_SLACK = 8
_XML_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# How a document the engine wrote in a format ends once rows are cut from it.
_CLOSINGS = {"json": b"]}}", "xml": b"</results></sparql>"}
_OPENINGS = {"json": b'"bindings":[', "xml": b"<results>"}
# After the first, a JSON row with bindings starts with `,{` then a variable and its term. Inside
# a string every quote is escaped, so this cannot match in a literal (a literal ending in `,{` is
# followed by its closing quote and `}` or `,"datatype"`, never by a name and `":{"type":"`).
_JSON_NEXT_ROW = re.compile(rb',\{"[^"]*":\{"type":"')
# Strings (skipped), a quote that opens a string not written yet, and row starts.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|"|[\[,]\{', re.S)


class _Enough(Exception):
    """Raised from the sink to stop the engine's writer: the result is over a limit."""


class _TsvSink:
    """Where the engine writes a result as TSV. Every row is one line (TSV escapes line breaks
    in literals), so counting rows is counting newlines; past `max_rows` rows or `max_bytes`
    bytes the sink refuses the next write, which stops the evaluation there."""

    def __init__(self, max_rows: int, max_bytes: int):
        self.max_lines, self.max_bytes = max_rows + 1, max_bytes     # + the header line
        self.chunks: list[bytes] = []
        self.lines = self.size = 0
        self.full = False

    def write(self, data) -> int:
        if self.full:
            raise _Enough
        data = bytes(data)
        self.chunks.append(data)
        self.lines += data.count(b"\n")
        self.size += len(data)
        if self.lines > self.max_lines or self.size > self.max_bytes:
            self.full = True
            raise _Enough
        return len(data)

    def flush(self) -> None:
        pass


class _JsonRows:
    """The row starts of a JSON result read so far, found past every string, so a literal that
    holds `,{` is not taken for one; fed the growing document, it reads only what is new."""

    def __init__(self):
        self.cuts: list[int] = []
        self.pos = 0

    def feed(self, buf) -> int:
        for m in _JSON_TOKEN.finditer(buf, self.pos):
            first = buf[m.start()]
            if first == 0x22:                       # a string
                if m.end() - m.start() == 1:        # its end is not written yet
                    self.pos = m.start()
                    return len(self.cuts)
            else:
                self.cuts.append(m.start() + 1 if first == 0x5B else m.start())
            self.pos = m.end()
        return len(self.cuts)


def _certain_json_cuts(buf) -> list[int] | None:
    """Where each row of a JSON result (complete or cut anywhere) starts, as the offset its
    document can be cut at to end before it, when that is certain from counts alone; else None.
    _JSON_NEXT_ROW finds every row with bindings after the first; when each `{` before the last
    of them is one the format writes (document, head, results, rows, terms, quoted triples), no
    literal before it holds a brace and no row is empty, and when no `,{` follows it, these are
    all the rows."""
    opened = buf.find(_OPENINGS["json"])
    if opened < 0 or buf[opened + len(_OPENINGS["json"]):opened + len(_OPENINGS["json"]) + 1] != b"{":
        return None
    cuts = [opened + len(_OPENINGS["json"])]
    cuts.extend(m.start() for m in _JSON_NEXT_ROW.finditer(buf, cuts[0]))
    end = cuts[-1]
    if buf.count(b",{", end) != (len(cuts) > 1):
        return None         # after the last row found, another row (empty, or not written whole)
    written = 3 + (len(cuts) - 1) + buf.count(b'{"type":"', 0, end) + buf.count(b'{"subject":', 0, end)
    return cuts if buf.count(b"{", 0, end) == written else None


def _json_cuts(buf) -> list[int]:
    cuts = _certain_json_cuts(buf)
    if cuts is None:
        scan = _JsonRows()
        scan.feed(buf)
        cuts = scan.cuts
    return cuts


class _DirectSink:
    """Where the engine writes a result in the asked format (JSON or XML), counting its bytes and
    rows as they come, to stop the evaluation past `max_rows` rows or `max_bytes` bytes.

    XML escapes `<` in text, so every `<result>` starts a row. A JSON row after the first starts
    with `,{`, which a literal may also hold: that count is an upper bound, and only once it passes
    the limit are the rows counted exactly; if a literal made the difference, the rest is
    counted exactly as it comes (_JsonRows)."""

    def __init__(self, fmt: str, max_rows: int, max_bytes: int):
        self.fmt, self.max_rows, self.max_bytes = fmt, max_rows, max_bytes
        self.buf = bytearray()
        self.rows = 0
        self.following = 0          # `,{` written: a bound on the JSON rows after the first
        self.cuts: list[int] | None = None
        self.exact: _JsonRows | None = None
        self.full = False
        self.opening = _OPENINGS[fmt]

    def write(self, data) -> int:
        if self.full:
            raise _Enough
        buf = self.buf
        start = len(buf)
        buf += data
        if self.fmt == "xml":
            self.rows += buf.count(b"<result>", max(0, start - 7))
        elif self.exact is not None:
            self.rows = self.exact.feed(buf)
        else:
            self.following += buf.count(b",{", max(0, start - 1))
            self.rows = self.following + 1             # the first row, if there is one
            if self.rows > self.max_rows:
                self.cuts = _certain_json_cuts(buf)
                if self.cuts is not None:
                    self.rows = len(self.cuts)
                else:
                    self.exact = _JsonRows()
                    self.rows = self.exact.feed(buf)
        # the head (at most as long as the query) is kept whole, so a cut answer is well formed
        if self.rows > self.max_rows or (len(buf) > self.max_bytes and self.opening in buf):
            self.full = True
            raise _Enough
        return len(data)

    def complete_rows(self) -> int:
        """The rows of a result written to its end within the limits."""
        if self.fmt == "xml" or self.exact is not None:
            return self.rows
        opened = self.buf.find(_OPENINGS["json"]) + len(_OPENINGS["json"])
        return self.following + (self.buf[opened:opened + 1] == b"{")

    def flush(self) -> None:
        pass

    def row_cuts(self, buf) -> list[int]:
        """Where each row read starts (the last one may be incomplete); see _certain_json_cuts."""
        if self.fmt == "xml":
            cuts = [m.start() for m in re.finditer(b"<result>", buf)]
        elif self.exact is not None:
            self.exact.feed(buf)
            cuts = self.exact.cuts
        else:
            cuts = self.cuts if self.cuts is not None else _json_cuts(buf)
        return cuts or [buf.find(self.opening) + len(self.opening)]


def native_solutions(answer, fmt: str, max_rows: int, max_bytes: int) -> tuple[bytes, int, str]:
    """A SELECT answer (pyoxigraph QuerySolutions) serialized by the engine's own writers, cut
    at `max_rows` rows and `max_bytes` bytes like serialize_solutions: returns the body, the
    rows it holds (of a JSON answer written whole, its row separators: a literal holding `,{`
    counts as one more) and the limit that cut it ("rows", "bytes" or "").

    JSON and XML are written by the engine in that format into a sink that counts rows and
    bytes as they come and stops the evaluation at a limit; a cut answer ends after its last
    whole row that fits. CSV and TSV are written as TSV (one row a line) into such a sink, the
    rows kept then written in `fmt` by the engine."""
    if fmt in _CLOSINGS:
        return _direct(answer, fmt, max_rows, max_bytes)
    sink = _TsvSink(max_rows, max_bytes * (_CSV_SLACK if fmt == "csv" else 1))
    try:
        answer.serialize(sink, format=ox.QueryResultsFormat.TSV)
    except Exception:
        if not sink.full:   # an evaluation error, not the sink's stop
            raise
    header, _, rest = b"".join(sink.chunks).partition(b"\n")
    rows = rest.split(b"\n")[:-1]          # the last piece is a partial line or empty
    cut = ""
    if sink.full:
        cut = "rows" if len(rows) > max_rows else "bytes"
        rows = rows[:max_rows]
    body = _from_tsv(header, rows, fmt)
    while len(body) > max_bytes and rows:
        keep = min(len(rows) - 1, int(len(rows) * max_bytes / len(body) * 0.9))
        rows = rows[:max(keep, 0)]
        cut = "bytes"
        body = _from_tsv(header, rows, fmt)
    if cut:
        body = _mark_truncated(body, fmt, max_rows, max_bytes if cut == "bytes" else None)
    return body, len(rows), cut


def _direct(answer, fmt: str, max_rows: int, max_bytes: int) -> tuple[bytes, int, str]:
    sink = _DirectSink(fmt, max_rows, max_bytes)
    try:
        answer.serialize(sink, format=NATIVE_FORMATS[fmt])
    except Exception:
        if not sink.full:   # an evaluation error, not the sink's stop
            raise
    buf = sink.buf
    if fmt == "xml":
        # XML 1.0 cannot carry most C0 controls even escaped (see _xml_safe)
        buf = _XML_CONTROLS.sub("\ufffd".encode(), buf)
    if not sink.full and len(buf) <= max_bytes:
        return bytes(buf), sink.complete_rows(), ""
    cuts = sink.row_cuts(buf)       # cuts[i] ends the document before row i
    closing = _CLOSINGS[fmt]
    if len(cuts) > max_rows:
        keep, cut = max_rows, "rows"
        if cuts[keep] + len(closing) + len(_marker(fmt, max_rows, None)) > max_bytes:
            cut = "bytes"
    else:
        keep, cut = len(cuts) - 1, "bytes"     # the last row read may be incomplete
    if cut == "bytes":
        room = max_bytes - len(closing) - len(_marker(fmt, max_rows, max_bytes))
        while keep > 0 and cuts[keep] > room:
            keep -= 1
    body = bytes(buf[:cuts[keep]]) + closing
    return _mark_truncated(body, fmt, max_rows, max_bytes if cut == "bytes" else None), keep, cut


def _from_tsv(header: bytes, rows: list[bytes], fmt: str) -> bytes:
    tsv = b"".join(line + b"\n" for line in [header, *rows])
    if fmt == "tsv":
        return tsv
    return ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV).serialize(format=NATIVE_FORMATS[fmt])


def _marker(fmt: str, max_rows: int, max_bytes: int | None) -> bytes:
    """What marks a result in `fmt` as cut (nothing for CSV and TSV: the HTTP header does)."""
    if fmt == "json":
        marker: dict = {"truncated": True, "maxRows": max_rows}
        if max_bytes is not None:
            marker["maxBytes"] = max_bytes
        return b',"peacegraph":' + json.dumps(marker, separators=(",", ":")).encode()
    if fmt == "xml":
        return f"<link href={quoteattr(TRUNCATED_LINK)}/>".encode()
    return b""


def _mark_truncated(body: bytes, fmt: str, max_rows: int, max_bytes: int | None) -> bytes:
    marker = _marker(fmt, max_rows, max_bytes)
    if fmt == "json":
        # between "head" and "results", where streaming parsers (Oxigraph's among them) take an
        # unknown member; a variable name cannot hold the quotes searched for
        at = body.index(b',"results":')
        return body[:at] + marker + body[at:]
    if fmt == "xml":
        return body.replace(b"</head>", marker + b"</head>", 1) if b"</head>" in body \
            else body.replace(b"<head/>", b"<head>" + marker + b"</head>", 1)
    return body


def serialize_boolean(value: bool, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": bool(value)}).encode("utf-8")
    if fmt == "xml":
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/'
                f'sparql-results#"><head/><boolean>{"true" if value else "false"}</boolean></sparql>\n'
                ).encode()
    if fmt in ("csv", "tsv"):
        return (("_askResult\r\n" if fmt == "csv" else "?_askResult\n")
                + ("true" if value else "false") + ("\r\n" if fmt == "csv" else "\n")).encode("utf-8")
    raise ValueError(f"unknown result format {fmt!r}")


def serialize_triples(triples, fmt: str, prefixes: dict[str, str] | None = None) -> bytes:
    """CONSTRUCT/DESCRIBE results (pyoxigraph Triples) with Oxigraph's serializers."""
    rdf_format = RDF_FORMATS[fmt]
    if fmt in ("turtle", "trig", "rdfxml"):
        return ox.serialize(triples, format=rdf_format, prefixes=prefixes or {})
    return ox.serialize(triples, format=rdf_format)
