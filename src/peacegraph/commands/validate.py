"""`peacegraph validate`."""

from __future__ import annotations

import sys

from peacegraph import paths
from peacegraph.build import BuildConfig, assemble
from peacegraph.validate import load_data_files, load_shapes, validate_graph


def cli_validate(args) -> int:
    """Validate the source folders (anchored, not reasoned) or, with --data, built dumps.
    Prints the report; exit 0 valid, 1 violations, 2 bad input or shapes."""
    shapes_dir = getattr(args, "shapes", None) or paths.data_dir("shapes")
    shapes = load_shapes(shapes_dir)
    if getattr(args, "data", None):
        data, origin = load_data_files(args.data, getattr(args, "ontology", None))
    else:
        assembly = assemble(BuildConfig.from_args(args), reason=False)
        data, origin = assembly.dataset, dict(assembly.origin)
    report = validate_graph(data, shapes, origin)
    if args.format == "turtle":
        sys.stdout.write(report.turtle())
    else:
        sys.stdout.write(report.text())
    sys.stdout.flush()
    return 0 if report.conforms else 1
