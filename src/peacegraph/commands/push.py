"""`peacegraph push`."""

from __future__ import annotations

import os

from peacegraph.paths import default_dist
from peacegraph.progress import Progress, progress_wanted
from peacegraph.push import graph_label, push


def cli_push(args) -> int:
    data = args.data or default_dist() / "peacegraph.trig"
    progress = Progress(progress_wanted(args.quiet))
    # the environment keeps the password out of the process list
    password = args.password if args.password is not None else os.environ.get("PEACEGRAPH_STORE_PASSWORD")
    pushed = push(args.url, data, user=args.user, password=password, progress=progress,
                  default_graph=args.default_graph)
    if not args.quiet:
        for p in pushed:
            print(f"{graph_label(p.graph)}: {p.triples:,} triples (HTTP {p.status})")
    return 0
