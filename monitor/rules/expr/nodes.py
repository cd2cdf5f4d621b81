"""The syntax tree: small frozen nodes, each knowing where it starts in the source."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

Literal_ = bool | int | float | str | None


@dataclass(frozen=True)
class Node:
    offset: int


@dataclass(frozen=True)
class Const(Node):
    value: Literal_


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class ListOf(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    """Arithmetic, comparison, ``in``/``not in``, ``and``/``or``; offset is the operator's."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, ListOf):
        return node.items
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node, in source order (without recursion: a tree may be long)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def too_deep(root: Node, limit: int) -> Node | None:
    """The first node with more than ``limit`` operators inside one another, if any.

    Checked without recursion, so that the recursive compiler and the nested
    closures it builds are only ever given trees they can handle.
    """
    heights: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        kids = children(node)
        if not done:
            stack.append((node, True))
            stack.extend((kid, False) for kid in kids)
            continue
        # Operators count, leaves do not: "a or b" is one level high.
        height = 1 + max(heights[id(kid)] for kid in kids) if kids else 0
        if height > limit:
            return node
        heights[id(node)] = height
    return None


_ESCAPED = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def unparse(node: Node) -> str:
    """Source text for a node, fully parenthesised (used by tests: re-parses the same)."""
    if isinstance(node, Const):
        if node.value is None:
            return "null"
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        if isinstance(node.value, str):
            return "'" + "".join(_ESCAPED.get(ch, ch) for ch in node.value) + "'"
        return repr(node.value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, ListOf):
        return "[" + ", ".join(unparse(item) for item in node.items) + "]"
    if isinstance(node, Unary):
        space = " " if node.op == "not" else ""
        return f"({node.op}{space}{unparse(node.operand)})"
    if isinstance(node, Binary):
        return f"({unparse(node.left)} {node.op} {unparse(node.right)})"
    if isinstance(node, Call):
        return f"{node.function}(" + ", ".join(unparse(a) for a in node.args) + ")"
    raise TypeError(node)  # pragma: no cover - all node types handled above
