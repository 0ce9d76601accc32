"""A SPARQL 1.1 lexer: the query text as tokens with their line and column.

The guard decides what a query may do from these tokens, never from the raw text, so a keyword
inside a string, an IRI, a comment, a variable or a prefixed name is not mistaken for one.
Token kinds: IRI, PNAME (prefixed name or bare prefix), BNODE, VAR, STRING, NUMBER, LANGTAG,
WORD (keywords, built-in function names, `a`, true/false), PUNCT (brackets, operators).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from peacegraph.errors import QueryError

# SPARQL 1.1 grammar, productions [139]-[173], restricted to what tokenization needs.
_PN_CHARS_BASE = (
    "A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
    "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF")
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PN_PREFIX = f"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PN_LOCAL = (f"(?:[{_PN_CHARS_U}:0-9]|{_PLX})"
             f"(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?")
_VARNAME = f"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00B7\u0300-\u036F\u203F-\u2040]*"

_ECHAR = r"\\[tbnrf\\\"']"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_TOKEN_SPECS = [
    ("WS", r"[ \t\r\n]+"),
    ("COMMENT", r"#[^\r\n]*"),
    ("IRI", r"<[^<>\"{}|^`\\\x00-\x20]*>"),
    ("STRING", rf"'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}|{_UCHAR}))*'''"),
    ("STRING", rf'"""(?:(?:"|"")?(?:[^"\\]|{_ECHAR}|{_UCHAR}))*"""'),
    ("STRING", rf"'(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*'"),
    ("STRING", rf'"(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*"'),
    ("VAR", rf"[?$]{_VARNAME}"),
    ("BNODE", rf"_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"),
    ("PNAME", rf"(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?"),
    ("LANGTAG", r"@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*"),
    ("NUMBER", r"[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?|[0-9]+(?:[eE][+-]?[0-9]+)?"),
    ("WORD", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("PUNCT", r"\^\^|&&|\|\||!=|<=|>=|[{}()\[\];,.*+\-/=<>!|^?$]"),
]
_KIND = {f"{kind}{i}": kind for i, (kind, _) in enumerate(_TOKEN_SPECS)}


@cache
def _master() -> re.Pattern:
    # compiled on first use: its Unicode classes take 30-50 ms to compile, which every command
    # that imports the guard would pay, the builds that never check a query among them
    return re.compile("|".join(f"(?P<{kind}{i}>{rx})" for i, (kind, rx) in enumerate(_TOKEN_SPECS)))


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    line: int
    column: int

    @property
    def upper(self) -> str:
        return self.text.upper()

    def is_word(self, *words: str) -> bool:
        return self.kind == "WORD" and self.text.upper() in words


class LexError(QueryError):
    """The query text is not made of SPARQL tokens (e.g. an unterminated string)."""


def _where(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


def tokenize(text: str) -> list[Token]:
    """Every significant token of `text` (white space and comments dropped)."""
    return list(iter_tokens(text))


def iter_tokens(text: str):
    """The tokens of `text` one by one; a LexError when the text stops being SPARQL tokens."""
    pos, line, line_start = 0, 1, 0
    end = len(text)
    match = _master().match
    while pos < end:
        m = match(text, pos)
        # The operator `<` and an IRI share their first character: an IRI needs the closing `>`
        # with only IRI characters between, which the IRI alternative already checks first.
        if m is None or m.end() == pos:
            ln, col = _where(text, pos)
            ch = text[pos]
            if ch in "\"'":
                what = "unterminated string"
            elif ch < " " or ch == "\x7f":
                what = f"control character U+{ord(ch):04X}"
            else:
                what = f"unexpected character {ch!r}"
            raise LexError(f"{what} at line {ln}, column {col}", line=ln, column=col)
        kind = _KIND[m.lastgroup]
        value = m.group()
        if kind not in ("WS", "COMMENT"):
            yield Token(kind, value, line, pos - line_start + 1)
        newlines = value.count("\n")
        if newlines:
            line += newlines
            line_start = pos + value.rfind("\n") + 1
        pos = m.end()
