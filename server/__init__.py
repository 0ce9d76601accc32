"""peacegraph.server: the SPARQL endpoint and linked-data site."""
