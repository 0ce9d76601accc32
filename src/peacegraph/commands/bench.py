"""`peacegraph bench`."""

from __future__ import annotations

from pathlib import Path

from peacegraph.bench import BUILD_RUNS, bench
from peacegraph.errors import InputError
from peacegraph.progress import Progress, progress_wanted


def _parse_sizes(text: str) -> list[int]:
    try:
        return [int(float(s)) for s in text.split(",") if s.strip()]
    except ValueError:
        raise InputError(f"--sizes: not a list of numbers: {text!r}") from None


def cli_bench(args) -> int:
    progress = Progress(progress_wanted(args.quiet))
    bench(_parse_sizes(args.sizes), args.out, args.duration, progress,
          build_runs=BUILD_RUNS if args.build_runs is None else args.build_runs)
    if not args.quiet:
        print((Path(args.out) / "bench.md").read_text(encoding="utf-8"))
    return 0
