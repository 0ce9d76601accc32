"""`peacegraph validate`."""

from __future__ import annotations

import sys

from peacegraph import paths
from peacegraph.build import BuildConfig, assemble
from peacegraph.errors import PeacegraphError
from peacegraph.locate import locate_results
from peacegraph.report_formats import FORMATS, finding_from_error, findings_from_report, render
from peacegraph.validate import load_data_files, load_shapes, report_limit, validate_graph, write_report


def cli_validate(args) -> int:
    """Validate the source folders (anchored, not reasoned) or, with --data, built dumps.
    Prints the report; exit 0 valid, 1 violations, 2 bad input or shapes."""
    limit = report_limit(args)
    if args.format in FORMATS:
        try:
            report, origin_paths = _validate(args)
        except PeacegraphError as exc:
            # CI reads the error from the report too; the one-line message still goes to stderr
            sys.stdout.write(render(args.format, [finding_from_error(exc)]))
            sys.stdout.flush()
            raise
        if getattr(args, "report", None):
            write_report(args.report, report)
        sys.stdout.write(render(args.format, findings_from_report(report, origin_paths)))
    else:
        report, _ = _validate(args)
        if getattr(args, "report", None):
            write_report(args.report, report, args.format)
        sys.stdout.write(report.turtle() if args.format == "turtle" else report.text(limit))
    sys.stdout.flush()
    return 0 if report.conforms else 1


def _validate(args):
    shapes_dir = getattr(args, "shapes", None) or paths.data_dir("shapes")
    shapes = load_shapes(shapes_dir)
    if getattr(args, "data", None):
        data, origin = load_data_files(args.data, getattr(args, "ontology", None))
        origin_paths = {p.name: p for p in args.data}
    else:
        assembly = assemble(BuildConfig.from_args(args), reason=False)
        data, origin, origin_paths = assembly.dataset, dict(assembly.origin), assembly.paths
    report = validate_graph(data, shapes, origin)
    return locate_results(report, data, origin_paths), origin_paths
