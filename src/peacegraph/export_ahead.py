"""Writing the export while the build validates.

Validation spends most of its time in the SHACL engine's native code, which lets other Python
threads run; the export is Python that only reads the built dataset. So the build writes the
export in a second thread, into a temporary folder beside `dist/`, while it validates, and puts
it in place only once the data conforms. When the data does not conform, or anything else stops
the build, the export is stopped and its folder removed: `dist/` is untouched either way.
"""

from __future__ import annotations

import threading

from peacegraph.export import PendingExport


class ExportAhead:
    """`with ExportAhead(write) as ahead:` runs `write(stop)` (a `write_export` returning a
    PendingExport, `stop` the Event it checks) in a thread; `ahead.pending()` waits for it. On
    leaving the block, an export not taken by `pending()` is stopped and discarded."""

    def __init__(self, write):
        self._write = write
        self._stop = threading.Event()
        self._result: PendingExport | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="peacegraph-export", daemon=True)

    def _run(self) -> None:
        try:
            self._result = self._write(self._stop)
        except BaseException as exc:  # handed to the thread that waits for the export
            self._error = exc

    def __enter__(self) -> ExportAhead:
        self._thread.start()
        return self

    def pending(self) -> PendingExport:
        """The written export, once the thread is done; raises what the export raised."""
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        pending, self._result = self._result, None
        return pending

    def __exit__(self, *exc_info) -> bool:
        self._stop.set()
        self._thread.join()
        if self._result is not None:
            self._result.discard()
            self._result = None
        return False


__all__ = ["ExportAhead"]
