"""`peacegraph source add`."""

from __future__ import annotations

import sys

from peacegraph import paths
from peacegraph.sources import NewSource, add_source


def cli_source(args) -> int:
    seeds = args.seeds or paths.data_dir("seeds")
    meta = NewSource(title=args.title, url=args.url, publisher=args.publisher, authors=tuple(args.author),
                     published=args.published, retrieved=args.retrieved, language=args.language)
    added = add_source(seeds, args.file, meta)
    print(f"copied {args.file} to {added.text_file} (sha256 {added.sha256}) and described it in "
          f"{seeds / 'sources.ttl'}:\n", file=sys.stderr)
    print(added.entry, file=sys.stderr)
    sys.stdout.write(added.stub())
    return 0
