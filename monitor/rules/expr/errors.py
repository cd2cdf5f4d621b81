"""Positioned errors of the expression language.

Every problem with an expression, found while parsing, compiling or evaluating it,
is an :class:`ExprError` carrying its place in the expression's source; the rule
loader adds where that source starts in the file (:meth:`ExprError.render`).
"""

from __future__ import annotations


class ExprError(Exception):
    """A problem in an expression, at a 0-based ``offset`` of its source.

    ``line``/``column`` are 1-based within the expression (which may span lines).
    """

    def __init__(self, message: str, source: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.offset = max(0, min(offset, len(source)))
        before = source[: self.offset]
        self.line = before.count("\n") + 1
        self.column = self.offset - (before.rfind("\n") + 1) + 1

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"

    def render(self, file: str, base_line: int, base_col: int) -> str:
        """``file:LINE:COL: message``, the expression's line and a caret under the spot.

        ``base_line``/``base_col`` are where the expression's text starts in ``file``.
        """
        line = base_line + self.line - 1
        column = base_col + self.column - 1 if self.line == 1 else self.column
        text = self.source.split("\n")[self.line - 1].rstrip("\r")
        pad = "".join("\t" if ch == "\t" else " " for ch in text[: self.column - 1])
        return f"{file}:{line}:{column}: {self.message}\n  {text}\n  {pad}^"


class ExprEvalError(ExprError):
    """A type error found while evaluating (e.g. text compared with a number)."""
