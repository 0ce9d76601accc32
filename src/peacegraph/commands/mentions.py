"""`peacegraph mentions`."""

from __future__ import annotations

import json

from peacegraph.build import BuildConfig, assemble
from peacegraph.mentions import find_mentions, resolve_source
from peacegraph.terms import short_name


def cli_mentions(args) -> int:
    assembly = assemble(BuildConfig.from_args(args), reason=False)
    source = resolve_source(assembly.dataset, args.source)
    mentions = find_mentions(assembly.dataset, source)
    if args.unused:
        mentions = [m for m in mentions if not m.used]
    rows = [{"start": m.start, "end": m.end, "thing": short_name(m.thing), "label": m.label,
             "text": m.text, "used": m.used} for m in mentions]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if args.format == "tsv":
        print("start\tend\tthing\ttext\tused")
        for r in rows:
            print(f"{r['start']}\t{r['end']}\t{r['thing']}\t{' '.join(r['text'].split())}\t{str(r['used']).lower()}")
        return 0
    width = max((len(r["thing"]) for r in rows), default=5)
    for r in rows:
        mark = " " if r["used"] else "*"
        print(f"{mark} {r['start']:>6}-{r['end']:<6} {r['thing']:<{width}}  {' '.join(r['text'].split())}")
    unused = sum(1 for r in rows if not r["used"])
    print(f"{len(rows)} mention{'s' if len(rows) != 1 else ''}, {unused} not used by any evidence (*)")
    return 0
