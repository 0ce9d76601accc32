"""`peacegraph build`."""

from __future__ import annotations

import sys

from peacegraph.build import BuildConfig, build
from peacegraph.errors import ValidationFailed


def cli_build(args) -> int:
    config = BuildConfig.from_args(args)
    try:
        result = build(config)
    except ValidationFailed as exc:
        if exc.report is not None:
            print(exc.report.text(), file=sys.stderr)
        raise
    if not config.quiet:
        print(result.summary())
    return 0
