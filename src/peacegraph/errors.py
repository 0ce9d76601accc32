"""The one error hierarchy of peacegraph.

Every failure a user can cause (bad input, a quote that is not in its source, invalid data, a
bad query) is a PeacegraphError with a message a person can act on; the CLI prints it on one
line and exits with its exit_code, never with a traceback unless --debug is given. The server
answers it with its http_status and the same message.
"""

from __future__ import annotations

import re

_PARSER_LOCATION = re.compile(r"^Parser error [^:]*: ")
_PARSER_TRAILER = re.compile(r" \((?:[^()]*, )?line \d+\)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class PeacegraphError(Exception):
    """Base class. exit_code 2 means bad input; 1 is kept for "the data is invalid".
    http_status is the status the server answers with: 400 unless the fault is not the client's."""

    exit_code = 2
    http_status = 400

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: int | None = None):
        self.file = file
        self.line = line
        self.column = column
        super().__init__(message)

    @property
    def message(self) -> str:
        return self.args[0]

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        return where + self.message


class InputError(PeacegraphError):
    """A file could not be read or parsed (syntax, encoding, a refused construct)."""


class AnchorError(InputError):
    """A quote was not found in its source text, or found more than once with nothing to choose."""


class ShapesError(InputError):
    """The SHACL shapes themselves are invalid (as opposed to the data violating them)."""


class ValidationFailed(PeacegraphError):
    """The data violates the shapes. Carries the report."""

    exit_code = 1

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class ExportError(PeacegraphError):
    """dist/ could not be written; the previous dist/ is left as it was."""


class QueryError(PeacegraphError):
    """A SPARQL query is malformed or refused (update, SERVICE, LOAD, remote FROM...)."""


class StoreError(PeacegraphError):
    """A remote SPARQL store could not be reached or refused a request."""

    http_status = 502


def parser_message(exc: BaseException, default: str = "syntax error") -> str:
    """The first line of a parser's error, without the position it repeats (callers report the
    position as file:line:column) and with control characters escaped: the parser quotes the
    offending character as it is, and a raw control character in a terminal message would be
    invisible or worse."""
    text = str(exc).splitlines()[0] if str(exc) else default
    text = _PARSER_TRAILER.sub("", _PARSER_LOCATION.sub("", text))
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
