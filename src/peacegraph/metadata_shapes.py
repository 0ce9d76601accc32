"""The dataset's descriptions checked against their own SHACL shapes (shapes/metadata/): VoID,
DCAT, the schema.org Dataset and the SPARQL 1.1 Service Description. These shapes describe
metadata, not the curated graph, so `peacegraph build` does not apply them."""

from __future__ import annotations

import json
from functools import cache

from rdflib import Graph

from peacegraph import paths
from peacegraph.validate import ValidationReport, load_shapes, validate_graph

SCHEMA_CONTEXT = "https://schema.org/"


@cache
def metadata_shapes() -> Graph:
    return load_shapes(paths.data_dir("shapes") / "metadata")


def validate_metadata(graph: Graph) -> ValidationReport:
    return validate_graph(graph, metadata_shapes())


def schema_org_graph(document: dict) -> Graph:
    """The RDF of a schema.org JSON-LD document, read with a local context: the remote schema.org
    context is never fetched, and its terms are all in the schema.org vocabulary."""
    local = dict(document)
    if local.get("@context") in (SCHEMA_CONTEXT, SCHEMA_CONTEXT.rstrip("/"), "http://schema.org/"):
        local["@context"] = {"@vocab": SCHEMA_CONTEXT}
    return Graph().parse(data=json.dumps(local), format="json-ld")
