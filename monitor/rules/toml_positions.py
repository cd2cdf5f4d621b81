"""Where things are in a TOML file: line and column of every key and value.

``tomllib`` gives values but no positions, and an error that says only "alert 3 has a
bad duration" sends ops hunting. This scanner walks a file that ``tomllib`` has
already accepted and records, for every key path, where the key (or table header) is
written and where its value starts; for a string value, where the string's *text*
starts, just after the opening quote, so that an error at offset 12 of an expression
maps to the true column in the file.

Paths are tuples of keys and array indexes, as in the parsed document:
``("alert", 2, "escalate", "critical")`` is the ``critical`` entry of the inline
table ``escalate`` of the third ``[[alert]]``; ``("event_sets", "logins", 0)`` is the
first element of that array.

The scanner is lenient (the file is known to be valid TOML) and handles what rule
files contain: ``[table]`` and ``[[array.of.tables]]`` headers, dotted and quoted keys,
inline tables, nested arrays, basic and literal strings, single- and multi-line.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

Path = tuple[str | int, ...]

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = frozenset(",]}\n#")


@dataclass(frozen=True)
class Pos:
    """A 1-based line and column (columns count characters, not bytes)."""

    line: int
    column: int


@dataclass
class Positions:
    keys: dict[Path, Pos] = field(default_factory=dict)
    """Where each key, or the header of each table, is written."""
    values: dict[Path, Pos] = field(default_factory=dict)
    """Where each value starts; for strings, the first character of the text."""

    def key(self, path: Path) -> Pos:
        """Where ``path`` is written, else where the nearest enclosing table is."""
        for end in range(len(path), 0, -1):
            found = self.keys.get(path[:end])
            if found is not None:
                return found
        return Pos(1, 1)

    def value(self, path: Path) -> Pos:
        """Where the value of ``path`` starts, else where its key is."""
        return self.values.get(path) or self.key(path)


def find_positions(text: str) -> Positions:
    """Scan ``text`` (valid TOML) and return the positions of its keys and values."""
    scanner = _Scanner(text)
    scanner.document()
    return scanner.positions


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.positions = Positions()
        self.line_starts = [0] + [n + 1 for n, ch in enumerate(text) if ch == "\n"]
        self.table: Path = ()
        self.array_tables: dict[Path, int] = {}
        """Each ``[[header]]`` path (with the indexes of enclosing arrays) -> count so far."""

    # --- positions ---------------------------------------------------------------

    def pos(self, index: int) -> Pos:
        line = bisect_right(self.line_starts, index)
        return Pos(line, index - self.line_starts[line - 1] + 1)

    def peek(self, ahead: int = 0) -> str:
        at = self.i + ahead
        return self.text[at] if at < len(self.text) else ""

    # --- structure ---------------------------------------------------------------

    def document(self) -> None:
        while True:
            self.skip_blank(newlines=True)
            if self.i >= len(self.text):
                return
            before = self.i
            if self.text.startswith("[[", self.i):
                self.array_table_header()
            elif self.peek() == "[":
                self.table_header()
            else:
                self.key_value(self.table)
            if self.i == before:  # never loop on text tomllib would not have accepted
                self.i += 1

    def table_header(self) -> None:
        start = self.i
        self.i += 1
        names = [name for name, _ in self.dotted_key()]
        self.expect("]")
        self.table = self.resolve(names)
        self.record_table(self.table, start)

    def array_table_header(self) -> None:
        start = self.i
        self.i += 2
        names = [name for name, _ in self.dotted_key()]
        self.expect("]]")
        array = (*self.resolve(names[:-1]), names[-1])
        index = self.array_tables.get(array, 0)
        self.array_tables[array] = index + 1
        self.table = (*array, index)
        self.positions.keys.setdefault(array, self.pos(start))
        self.record_table(self.table, start)

    def resolve(self, names: list[str]) -> Path:
        """The path of a header: a name that is an array of tables means its last element."""
        path: Path = ()
        for name in names:
            path = (*path, name)
            count = self.array_tables.get(path)
            if count:
                path = (*path, count - 1)
        return path

    def record_table(self, path: Path, start: int) -> None:
        self.positions.keys[path] = self.pos(start)
        for end in range(1, len(path)):
            self.positions.keys.setdefault(path[:end], self.pos(start))

    def key_value(self, table: Path) -> None:
        parts = self.dotted_key()
        for end, (_, start) in enumerate(parts, start=1):
            path = (*table, *(name for name, _ in parts[:end]))
            self.positions.keys.setdefault(path, self.pos(start))
        self.skip_blank()
        self.expect("=")
        self.skip_blank()
        self.value((*table, *(name for name, _ in parts)))

    def dotted_key(self) -> list[tuple[str, int]]:
        """``a."b c".d`` -> [("a", start), ("b c", start), ("d", start)]."""
        parts: list[tuple[str, int]] = []
        while True:
            self.skip_blank()
            start = self.i
            parts.append((self.simple_key(), start))
            self.skip_blank()
            if self.peek() != ".":
                return parts
            self.i += 1

    def simple_key(self) -> str:
        quote = self.peek()
        if quote in ("'", '"'):
            text_start, end = self.string_body(quote)
            return self.text[text_start:end]
        start = self.i
        while self.peek() in _BARE_KEY_CHARS and self.peek():
            self.i += 1
        return self.text[start : self.i]

    # --- values ------------------------------------------------------------------

    def value(self, path: Path) -> None:
        ch = self.peek()
        if self.text.startswith(('"""', "'''"), self.i):
            self.multiline_string(path)
        elif ch in ('"', "'"):
            text_start, _ = self.string_body(ch)
            self.positions.values[path] = self.pos(text_start)
        elif ch == "[":
            self.array(path)
        elif ch == "{":
            self.inline_table(path)
        else:
            self.positions.values[path] = self.pos(self.i)
            while self.peek() and self.peek() not in _SCALAR_END:
                self.i += 1

    def string_body(self, quote: str) -> tuple[int, int]:
        """Consume a one-line string; return where its text starts and ends."""
        self.i += 1
        start = self.i
        while self.peek() and self.peek() != quote:
            self.i += 2 if quote == '"' and self.peek() == "\\" else 1
        end = self.i
        self.i += 1
        return start, end

    def multiline_string(self, path: Path) -> None:
        delimiter = self.text[self.i : self.i + 3]
        self.i += 3
        # TOML drops a newline right after the opening delimiter.
        if self.text.startswith("\r\n", self.i):
            self.i += 2
        elif self.peek() == "\n":
            self.i += 1
        self.positions.values[path] = self.pos(self.i)
        while self.i < len(self.text) and not self.text.startswith(delimiter, self.i):
            self.i += 2 if delimiter == '"""' and self.peek() == "\\" else 1
        self.i += 3
        # Up to two quotes right before the closing delimiter belong to the text.
        while self.peek() == delimiter[0]:
            self.i += 1

    def array(self, path: Path) -> None:
        self.positions.values[path] = self.pos(self.i)
        self.i += 1
        index = 0
        while True:
            self.skip_blank(newlines=True)
            if self.peek() in ("]", ""):
                self.i += 1
                return
            self.value((*path, index))
            index += 1
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.i += 1

    def inline_table(self, path: Path) -> None:
        self.positions.values[path] = self.pos(self.i)
        self.i += 1
        while True:
            self.skip_blank(newlines=True)
            if self.peek() in ("}", ""):
                self.i += 1
                return
            self.key_value(path)
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.i += 1

    # --- whitespace --------------------------------------------------------------

    def skip_blank(self, *, newlines: bool = False) -> None:
        """Skip spaces, tabs and comments (and newlines when allowed)."""
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch in " \t" or (newlines and ch in "\r\n"):
                self.i += 1
            elif ch == "#":
                while self.i < len(self.text) and self.text[self.i] != "\n":
                    self.i += 1
            else:
                return

    def expect(self, token: str) -> None:
        # The text was accepted by tomllib, so the token is there; skip it.
        self.skip_blank()
        if self.text.startswith(token, self.i):
            self.i += len(token)
