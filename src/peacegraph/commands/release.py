"""`peacegraph release VERSION`."""

from __future__ import annotations

import datetime
import sys

from peacegraph.build import BuildConfig
from peacegraph.errors import ValidationFailed
from peacegraph.release import make_release


def cli_release(args) -> int:
    config = BuildConfig.from_args(args)
    issued = args.date or datetime.datetime.now(datetime.UTC).date().isoformat()
    try:
        result = make_release(config, args.out, args.version, issued, args.previous)
    except ValidationFailed as exc:
        if exc.report is not None:
            print(exc.report.text(), file=sys.stderr)
        raise
    if not config.quiet:
        print(f"released {args.version} ({issued}) into {result.folder}: {result.build.summary()}")
        if result.changes is not None:
            counts = result.changes.counts()
            print(f"changes since {result.changes.previous}: "
                  f"{sum(a for a, _ in counts.values())} triples added, "
                  f"{sum(r for _, r in counts.values())} removed; "
                  f"{len(result.changes.nodes_added)} things added, "
                  f"{len(result.changes.nodes_removed)} removed, "
                  f"{len(result.changes.nodes_changed)} changed (CHANGES.md)")
    return 0
