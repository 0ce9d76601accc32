"""`peacegraph query`."""

from __future__ import annotations

from peacegraph.commands.data import default_data
from peacegraph.query import default_bindings, format_result, load_dataset, parse_bindings, prepare, resolve_query, run_query


def cli_query(args) -> int:
    text, stored = resolve_query(args.query)
    bindings = parse_bindings(args.bind)
    if stored is not None and not args.all:
        bindings = {**default_bindings(stored), **bindings}
    prepare(text)  # fail on a bad query before loading any data
    dataset = load_dataset(args.data if args.data else default_data())
    result = run_query(dataset, text, bindings)
    print(format_result(result, args.format))
    return 0
