"""Parser: tokens to a syntax tree, by precedence climbing (no Python ``ast``/``eval``).

Precedence, lowest first: ``or``; ``and``; ``not``; comparisons and ``in`` (not
chained); ``+ -``; ``* / %``; unary ``-``; calls, names, literals, ``( )``, ``[ ]``.
Function names and their number of arguments are checked here, so a typo is an
error at load time with its position.
"""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches

from monitor.rules.expr.errors import ExprError
from monitor.rules.expr.functions import FUNCTIONS
from monitor.rules.expr.nodes import Binary, Call, Const, ListOf, Name, Node, Unary, too_deep
from monitor.rules.expr.tokens import KEYWORDS, Token, shorten, tokenize_until_error

COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
CANNOT_START = COMPARISONS | {")", "]", ",", "*", "/", "%"}
MAX_DEPTH = 40  # far beyond any real rule, and far below Python's recursion limit
# How high the tree may grow (a chain `a or b or ...` adds a level per operator): the
# compiler recurses and evaluation nests one closure call per level.
MAX_HEIGHT = 100
_Rule = Callable[[], Node]
# Spellings from Python, SQL or habit: `True`, `NULL`, `AND` ... with our word for each.
PYTHONISMS = {
    **{word.capitalize(): word for word in KEYWORDS},
    **{word.upper(): word for word in KEYWORDS},
    "None": "null",
    "NONE": "null",
}


def parse(source: str) -> Node:
    """The syntax tree of ``source``; raise :class:`ExprError` at the first problem."""
    tree = _Parser(source).parse()
    deep = too_deep(tree, MAX_HEIGHT)
    if deep is not None:
        raise ExprError(
            f"the expression is too long or too deeply nested (more than {MAX_HEIGHT} "
            "operators inside one another); split it into derived metrics",
            source,
            deep.offset,
        )
    return tree


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens, self.bad_token = tokenize_until_error(source)
        self.pos = 0
        self.depth = 0

    # --- helpers ----------------------------------------------------------------
    @property
    def tok(self) -> Token:
        token = self.tokens[self.pos]
        if self.bad_token is not None and token.kind == "end":
            raise self.bad_token  # reached the spot the tokenizer could not read
        return token

    def error(self, message: str, offset: int | None = None) -> ExprError:
        return ExprError(message, self.source, self.tok.offset if offset is None else offset)

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "name") and self.tok.text in texts

    def advance(self) -> Token:
        token = self.tok
        self.pos += 1
        return token

    def expect(self, text: str, opened: Token) -> None:
        if self.at(text):
            self.advance()
            return
        raise self.error(
            f"expected `{text}` to close the `{opened.text}` opened at "
            f"{self.where(opened.offset)}, found {self.found()}"
        )

    def found(self) -> str:
        if self.tok.kind == "end":
            return "the end of the expression"
        return f"`{shorten(self.tok.text)}`{_did_you_mean(self.tok)}"

    def where(self, offset: int) -> str:
        """``column 6``, or ``line 2, column 6`` when not on the line of the error."""
        line = self.source.count("\n", 0, offset) + 1
        column = offset - (self.source.rfind("\n", 0, offset) + 1) + 1
        if line == self.source.count("\n", 0, self.tok.offset) + 1:
            return f"column {column}"
        return f"line {line}, column {column}"

    # --- grammar ----------------------------------------------------------------
    def at_end(self) -> bool:
        return self.tok.kind == "end"

    def parse(self) -> Node:
        if self.at_end():
            raise self.error("expected an expression, found nothing")
        node = self.disjunction()
        if not self.at_end():
            raise self.error(
                f"expected an operator or the end of the expression, found {self.found()}"
            )
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.at("or"):
            op = self.advance()
            node = Binary(op.offset, "or", node, self.operand_after(op, self.conjunction))
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.at("and"):
            op = self.advance()
            node = Binary(op.offset, "and", node, self.operand_after(op, self.negation))
        return node

    def negation(self) -> Node:
        if self.at("not"):
            op = self.advance()
            return Unary(
                op.offset, "not", self.nested(lambda: self.operand_after(op, self.negation))
            )
        return self.comparison()

    def comparison(self) -> Node:
        start = self.tok.offset
        node = self.additive()
        op_text = self.comparison_operator()
        if op_text is None:
            return node
        op = self.tok
        self.pos += 2 if op_text == "not in" else 1
        middle = self.tok.offset
        node = Binary(op.offset, op_text, node, self.operand_after(op, self.additive))
        second = self.comparison_operator()
        if second is not None:
            raise self.chained(start, op, middle, second)
        return node

    def chained(self, start: int, first: Token, middle: int, second: str) -> ExprError:
        """``a < b < c``: name the two comparisons the writer meant, joined by ``and``."""
        error = self.error("comparisons cannot be chained; write `a < b and b < c`")
        a = self.source[start : first.offset].strip()
        b = self.source[middle : self.tok.offset].strip()
        self.pos += 2 if second == "not in" else 1
        c_start = self.tok.offset
        try:
            self.operand_after(self.tokens[self.pos - 1], self.additive)
        except ExprError:
            return error  # the generic advice, rather than a second error
        c = self.source[c_start : self.tok.offset].strip()
        op = "not in" if first.text == "not" else first.text
        meant = f"{a} {op} {b} and {b} {second} {c}"
        if "\n" in meant or len(meant) > 80:
            return error
        return ExprError(
            f"comparisons cannot be chained; write `{meant}`", self.source, error.offset
        )

    def comparison_operator(self) -> str | None:
        if self.tok.kind == "op" and self.tok.text in COMPARISONS:
            return self.tok.text
        if self.at("in"):
            return "in"
        if self.at("not") and self.tokens[self.pos + 1].text == "in":
            return "not in"
        return None

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.advance()
            node = Binary(op.offset, op.text, node, self.operand_after(op, self.multiplicative))
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/", "%"):
            op = self.advance()
            node = Binary(op.offset, op.text, node, self.operand_after(op, self.unary))
        return node

    def unary(self) -> Node:
        if self.tok.kind == "op" and self.tok.text == "-":
            op = self.advance()
            return Unary(op.offset, "-", self.nested(lambda: self.operand_after(op, self.unary)))
        return self.atom()

    def operand_after(self, op: Token, rule: _Rule) -> Node:
        if self.at_end():
            raise self.error(
                f"expected an operand after `{op.text}`, found the end of the expression"
            )
        if self.tok.kind == "op" and self.tok.text in CANNOT_START:
            raise self.error(f"expected an operand after `{op.text}`, found `{self.tok.text}`")
        if self.at("and", "or", "in"):
            raise self.error(f"expected an operand after `{op.text}`, found `{self.tok.text}`")
        if self.at("not") and rule not in (self.negation, self.conjunction):
            # As in Python, `not` binds looser than arithmetic and comparisons.
            raise self.error(f"`not` cannot follow `{op.text}`: write `(not ...)` in parentheses")
        return rule()

    def nested(self, rule: _Rule) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the expression is nested too deeply (more than {MAX_DEPTH} levels)")
        try:
            return rule()
        finally:
            self.depth -= 1

    def atom(self) -> Node:
        token = self.tok
        if token.kind == "num" or token.kind == "str":
            self.advance()
            return Const(token.offset, token.value)
        if token.kind == "name":
            return self.name_or_call()
        if token.kind == "op" and token.text == "(":
            self.advance()
            node = self.nested(self.inner)
            self.expect(")", token)
            return node
        if token.kind == "op" and token.text == "[":
            return self.list_literal()
        raise self.error(f"expected an operand, found {self.found()}")

    def inner(self) -> Node:
        if self.at(")"):
            raise self.error("expected an expression inside `( )`")
        return self.disjunction()

    def list_literal(self) -> Node:
        opened = self.advance()
        items: list[Node] = []
        while not self.at("]"):
            items.append(self.nested(self.disjunction))
            if not self.at(","):
                break
            self.advance()
        self.expect("]", opened)
        return ListOf(opened.offset, tuple(items))

    def name_or_call(self) -> Node:
        token = self.advance()
        text = token.text
        if text in ("true", "false"):
            return Const(token.offset, text == "true")
        if text == "null":
            return Const(token.offset, None)
        if text in KEYWORDS:
            raise self.error(f"expected an operand, found `{text}`", token.offset)
        if text in PYTHONISMS:
            suggestion = PYTHONISMS[text]
            raise self.error(f"unknown name `{text}` (did you mean `{suggestion}`?)", token.offset)
        if not self.at("("):
            return Name(token.offset, text)
        if text not in FUNCTIONS:
            close = get_close_matches(text, FUNCTIONS, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise self.error(
                f"unknown function `{text}`{hint}; functions: {', '.join(sorted(FUNCTIONS))}",
                token.offset,
            )
        opened = self.advance()
        args: list[Node] = []
        while not self.at(")"):
            args.append(self.nested(self.disjunction))
            if not self.at(","):
                break
            self.advance()
        self.expect(")", opened)
        spec = FUNCTIONS[text]
        if not spec.accepts(len(args)):
            raise self.error(f"`{text}` takes {spec.arity_text}, got {len(args)}", token.offset)
        return Call(token.offset, text, tuple(args))


def _did_you_mean(token: Token) -> str:
    """`` (did you mean `and`?)`` after ``AND``, ``True`` and other capitalised words."""
    if token.kind == "name" and token.text in PYTHONISMS:
        return f" (did you mean `{PYTHONISMS[token.text]}`?)"
    return ""
