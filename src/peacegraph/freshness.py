"""Is dist/ as new as the folders it is built from, and rebuilding it when they change.

The sources of a build are every file of its seeds/, ontology/, graph/ (with its per-source
subfolders) and shapes/ folders; a dump older than the newest of them is stale. Changes are
found by polling modification times and sizes, which needs no file-system notification service
and behaves the same on every platform. A rebuild redoes only what the inputs it finds changed
require (peacegraph.build_cache): a file saved without a change keeps dist/ as it is.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

from peacegraph.build import BuildConfig, build
from peacegraph.errors import PeacegraphError, ValidationFailed

SOURCE_FOLDERS = ("seeds", "ontology", "graph", "shapes")


def source_files(config: BuildConfig) -> list[Path]:
    files = []
    for name in SOURCE_FOLDERS:
        folder = Path(getattr(config, name))
        if folder.is_dir():
            files.extend(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return sorted(files)


def snapshot(config: BuildConfig) -> dict:
    """path -> (mtime in ns, size) of every source file."""
    out = {}
    for p in source_files(config):
        try:
            st = p.stat()
        except OSError:
            continue
        out[p] = (st.st_mtime_ns, st.st_size)
    return out


def newer_source(dump: Path, config: BuildConfig) -> Path | None:
    """The newest source file changed after `dump` was written, or None when it is fresh."""
    try:
        built = dump.stat().st_mtime_ns
    except OSError:
        return None
    newest = max(snapshot(config).items(), key=lambda kv: kv[1][0], default=None)
    if newest is not None and newest[1][0] > built:
        return newest[0]
    return None


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def ensure_built(config: BuildConfig, *, rebuild_stale: bool, quiet: bool = True) -> Path:
    """dist/peacegraph.trig, built first when it is missing; when it is older than its sources,
    rebuilt (rebuild_stale) or only said so on stderr."""
    trig = Path(config.out) / "peacegraph.trig"
    if not trig.is_file():
        print(f"{_shown(trig)} is missing; building it first", file=sys.stderr)
        build(replace(config, quiet=quiet))
        return trig
    changed = newer_source(trig, config)
    if changed is not None:
        if rebuild_stale:
            print(f"{_shown(trig)} is older than {_shown(changed)}; rebuilding it", file=sys.stderr)
            build(replace(config, quiet=quiet))
        else:
            print(f"warning: {_shown(trig)} is older than {_shown(changed)}: the answers are those of "
                  "the last build (run `peacegraph build`)", file=sys.stderr)
    return trig


def watch(config: BuildConfig, interval: float = 1.0, *, report=print, max_builds: int | None = None) -> int:
    """Build, then rebuild whenever a source file is added, removed or saved, until Ctrl+C.
    A failed build is reported and the previous dist/ stays; watching goes on."""
    builds = 0
    last = None
    try:
        while max_builds is None or builds < max_builds:
            current = snapshot(config)
            if current != last:
                if last is not None:
                    changed = sorted(set(current.items()) ^ set(last.items()))
                    names = sorted({_shown(p) for p, _ in changed})
                    report(f"changed: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}")
                last = current
                builds += 1
                try:
                    result = build(config)
                    report(result.summary())
                except ValidationFailed as exc:
                    if exc.report is not None:
                        report(exc.report.text())
                    report(f"error: {exc}")
                except PeacegraphError as exc:
                    report(f"error: {exc}")
                report(f"watching {', '.join(SOURCE_FOLDERS)} for changes (Ctrl+C stops)")
                continue
            time.sleep(interval)
    except KeyboardInterrupt:
        report("stopped watching")
    return 0
