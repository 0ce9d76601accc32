"""Progress on long work: shown on a terminal, silent in CI, in pipes and with --quiet."""

from __future__ import annotations

import os
import sys
import time


def progress_wanted(quiet: bool = False, stream=None) -> bool:
    stream = stream if stream is not None else sys.stderr
    if quiet or os.environ.get("CI"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """Stage-by-stage progress: `with progress.stage("anchor", total=n) as tick: tick(k)`."""

    def __init__(self, enabled: bool, stream=None):
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr

    def stage(self, name: str, total: int | None = None, unit: str = "items"):
        return _Stage(self, name, total, unit)

    def note(self, message: str) -> None:
        if self.enabled:
            print(message, file=self.stream, flush=True)


class _Stage:
    def __init__(self, owner: Progress, name: str, total: int | None, unit: str):
        self.owner, self.name, self.total, self.unit = owner, name, total, unit
        self.done = 0
        self.started = 0.0
        self.last_draw = 0.0

    def __enter__(self):
        self.started = time.monotonic()
        self._draw(force=True)
        return self.tick

    def tick(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def _draw(self, force: bool = False, final: bool = False) -> None:
        if not self.owner.enabled:
            return
        now = time.monotonic()
        if not (force or final) and now - self.last_draw < 0.2:
            return
        self.last_draw = now
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        count = f"{self.done:,}" + (f"/{self.total:,}" if self.total else "")
        line = f"\r{self.name:<10} {count} {self.unit}  {rate:,.0f}/s  {elapsed:5.1f}s"
        self.owner.stream.write(line + ("\n" if final else ""))
        self.owner.stream.flush()

    def __exit__(self, exc_type, exc, tb):
        self._draw(final=True)
        return False
