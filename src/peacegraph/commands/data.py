"""The data a command reads when no --data is given."""

from __future__ import annotations

from pathlib import Path

from peacegraph.build import BuildConfig
from peacegraph.freshness import ensure_built


def default_data(quiet: bool = True) -> list[Path]:
    """dist/peacegraph.trig, built first if it is missing and rebuilt if its sources are newer."""
    return [ensure_built(BuildConfig.defaults(quiet=quiet), rebuild_stale=True, quiet=quiet)]
