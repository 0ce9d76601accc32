"""`peacegraph synth`."""

from __future__ import annotations

from peacegraph.progress import Progress, progress_wanted
from peacegraph.synth import synthesize


def cli_synth(args) -> int:
    progress = Progress(progress_wanted(args.quiet))
    result = synthesize(args.out, args.triples, args.seed, progress=progress)
    progress.note(f"wrote {result.articles:,} texts, {result.nodes:,} nodes, {result.attestations:,} "
                  f"attestations, {result.evidence:,} quotes to {result.out}/seeds and {result.out}/graph "
                  f"(about {result.estimated_triples:,} triples once built)")
    return 0
