"""`peacegraph build`."""

from __future__ import annotations

import sys

from peacegraph.build import BuildConfig, build
from peacegraph.errors import InputError, ValidationFailed
from peacegraph.validate import report_limit, write_report


def cli_build(args) -> int:
    config = BuildConfig.from_args(args)
    limit = report_limit(args)
    if getattr(args, "watch", False):
        from peacegraph.freshness import watch
        if args.interval <= 0:
            raise InputError("--interval must be a positive number of seconds")
        config.quiet = True
        return watch(config, args.interval, report=lambda line: print(line, flush=True))
    try:
        result = build(config)
    except ValidationFailed as exc:
        if exc.report is not None:
            if getattr(args, "report", None):
                write_report(args.report, exc.report)
            print(exc.report.text(limit), file=sys.stderr)
        raise
    if not config.quiet:
        print(result.summary())
    return 0
