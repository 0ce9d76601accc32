"""Result serializers: SPARQL results (JSON, XML, CSV, TSV) from pyoxigraph terms, graphs through
Oxigraph's own RDF serializers, each marking a result cut at the row or byte limit.

The marker for a truncated result is the HTTP header TRUNCATED_HEADER (set by the app) and, in
JSON, a top-level "peacegraph" member that standard clients ignore; in XML, a `<link>` in the head
(allowed by the results format) pointing at TRUNCATED_LINK.
"""

from __future__ import annotations

import json
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
        doc: dict = {"head": {"vars": list(variables)}, "results": {"bindings": bindings}}
        if truncated:
            doc["peacegraph"] = {"truncated": True, "maxRows": max_rows}
            if max_bytes is not None:
                doc["peacegraph"]["maxBytes"] = max_bytes
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
