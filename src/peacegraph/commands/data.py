"""The data a command reads when no --data is given."""

from __future__ import annotations

import sys
from pathlib import Path

from peacegraph import paths
from peacegraph.build import BuildConfig, build


def default_data(quiet: bool = True) -> list[Path]:
    """dist/peacegraph.trig, built first if it is missing."""
    trig = paths.default_dist() / "peacegraph.trig"
    if not trig.is_file():
        print(f"{trig} is missing; building it first", file=sys.stderr)
        build(BuildConfig.defaults(quiet=quiet))
    return [trig]
