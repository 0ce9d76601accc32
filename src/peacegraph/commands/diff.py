"""`peacegraph diff`."""

from __future__ import annotations

from peacegraph.commands.data import default_data
from peacegraph.diff import compare, render, resolve_document
from peacegraph.errors import InputError
from peacegraph.query import load_dataset, to_store


def cli_diff(args) -> int:
    dataset = load_dataset(args.data if args.data else default_data())
    store = to_store(dataset)
    doc_a = resolve_document(dataset, args.doc_a, store)
    doc_b = resolve_document(dataset, args.doc_b, store)
    if doc_a == doc_b:
        raise InputError("the two documents are the same")
    print(render(dataset, doc_a, doc_b, compare(dataset, doc_a, doc_b, store)))
    return 0
