"""Validating while the build reasons and exports.

SHACL validation reads only the ontology, sources and asserted graphs, all complete once the
quotes are anchored, and spends most of its time in the engine's native code, which lets other
Python threads run. So the build validates in a second thread from then on, while it reasons
(writing only the inferred graph, which validation never reads) and writes the export into a
temporary folder beside `dist/`; the export is put in place only once the report says the data
conforms. When it does not, the export is stopped (`stop`) and removed: `dist/` is untouched.

Validation is the longer of the two threads, and the part of it that is Python (the engine
reading the data, statement by statement) runs at half speed while the other thread holds the
interpreter half the time. So the build reasons only once the engine has read the data
(`data_read`): from then on the two threads hardly contend.
"""

from __future__ import annotations

import threading


class ValidationAside:
    """`with ValidationAside(validate) as validation:` runs `validate(data_read)` (returning a
    report with `.conforms`) in a thread. `validate` sets the event `data_read` once the engine
    has read the data (`validation.data_read`; set at the latest when validate() returns or
    raises). `validation.stop` is set as soon as the report is known not to conform or
    validation failed: work only worth finishing for conforming data checks it.
    `validation.report()` waits for the report and returns it, or raises what validation
    raised. Leaving the block by an exception does not wait: the thread, a daemon, finishes on
    its own and its result is dropped; `validation.then(cleanup)` lets go of what it reads
    once it has finished."""

    def __init__(self, validate):
        self._validate = validate
        self.data_read = threading.Event()
        self.stop = threading.Event()
        self._report = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._done = False
        self._cleanup = None
        self._thread = threading.Thread(target=self._run, name="peacegraph-validate", daemon=True)

    def _run(self) -> None:
        try:
            self._report = self._validate(self.data_read)
            if not self._report.conforms:
                self.stop.set()
        except BaseException as exc:  # handed to the thread that asks for the report
            self._error = exc
            self.stop.set()
        finally:
            self.data_read.set()
            with self._lock:
                self._done = True
                cleanup, self._cleanup = self._cleanup, None
            if cleanup is not None:
                cleanup()

    def __enter__(self) -> ValidationAside:
        self._thread.start()
        return self

    def then(self, cleanup) -> None:
        """Run `cleanup()` once validate() has returned or raised: at once if it has (or never
        started), else in the validation thread as soon as it does, so a build that ends while
        validation still reads its data (an export that failed) can still let the data go."""
        with self._lock:
            if not self._done and self._thread.is_alive():
                self._cleanup = cleanup
                return
        cleanup()

    def report(self):
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self._report

    def __exit__(self, *exc_info) -> bool:
        return False


__all__ = ["ValidationAside"]
