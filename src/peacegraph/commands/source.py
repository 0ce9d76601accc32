"""`peacegraph source add`."""

from __future__ import annotations

import sys
from pathlib import Path

from peacegraph import paths
from peacegraph.sources import NewSource, add_source


def _default_seeds() -> Path:
    """The checkout's seeds/; outside a checkout ./seeds, never the copy inside an installed wheel."""
    return paths.data_dir("seeds") if paths.checkout_root() is not None else Path("seeds")


def cli_source(args) -> int:
    seeds = args.seeds or _default_seeds()
    meta = NewSource(title=args.title, url=args.url, publisher=args.publisher, authors=tuple(args.author),
                     published=args.published, retrieved=args.retrieved, language=args.language)
    added = add_source(seeds, args.file, meta)
    print(f"copied {args.file} to {added.text_file} (sha256 {added.sha256}) and described it in "
          f"{seeds / 'sources.ttl'}:\n", file=sys.stderr)
    print(added.entry, file=sys.stderr)
    sys.stdout.write(added.stub())
    return 0
