"""Compiler: a syntax tree to a tree of Python closures, built once per rule load.

Evaluating is then a few plain function calls (about a microsecond for a typical
rule): no tree walking at evaluation time, no Python ``eval``. Subtrees made only of
literals are computed here, once, so a type error among constants (``'a' + 1``) is
reported when the rules load. Null (no data) propagates: arithmetic and comparisons
with null give null, ``and``/``or`` follow three-valued (Kleene) logic, division by
zero gives null. The operator closures live in :mod:`monitor.rules.expr.ops`.
"""

from __future__ import annotations

from monitor.rules.expr import ops
from monitor.rules.expr.errors import ExprEvalError
from monitor.rules.expr.functions import FUNCTIONS, ArgumentTypeError, Value
from monitor.rules.expr.nodes import Binary, Call, Const, ListOf, Name, Node, Unary
from monitor.rules.expr.ops import Code, Constant, Env, Fn, Variable

__all__ = ["Env", "Fn", "compile_node"]


def compile_node(node: Node, source: str) -> Fn:
    """The evaluation closure of a parsed tree (which ``parse`` keeps shallow)."""
    return ops.as_fn(_compile(node, source))


def _compile(node: Node, source: str) -> Code:
    def fail(message: str) -> ExprEvalError:
        return ExprEvalError(message, source, node.offset)

    if isinstance(node, Const):
        return Constant(node.value)
    if isinstance(node, Name):
        return Variable(node.name)
    if isinstance(node, ListOf):
        items = [_compile(item, source) for item in node.items]
        if all(isinstance(item, Constant) for item in items):
            return Constant(tuple(item.value for item in items if isinstance(item, Constant)))
        getters = [ops.as_fn(item) for item in items]
        return lambda env: tuple([get(env) for get in getters])
    if isinstance(node, Unary):
        operand = _compile(node.operand, source)
        fn = ops.minus(operand, fail) if node.op == "-" else ops.negation(operand, fail)
        return _folded(fn, operand)
    if isinstance(node, Call):
        args = [_compile(arg, source) for arg in node.args]
        return _folded(_call(node, args, source), *args)
    assert isinstance(node, Binary)
    left, right = _compile(node.left, source), _compile(node.right, source)
    if node.op == "and":
        fn = ops.conjunction(ops.as_fn(left), ops.as_fn(right), fail)
    elif node.op == "or":
        fn = ops.disjunction(ops.as_fn(left), ops.as_fn(right), fail)
    elif node.op in ("in", "not in"):
        fn = ops.membership(node.op == "not in", left, right, fail)
    else:
        fn = ops.binary(node.op, left, right, fail)
    return _folded(fn, left, right)


_NO_ENV: Env = {}


def _folded(fn: Fn, *operands: Code) -> Code:
    """The value itself when every operand is a constant (functions are pure)."""
    if all(isinstance(operand, Constant) for operand in operands):
        return Constant(fn(_NO_ENV))
    return fn


def _call(node: Call, args: list[Code], source: str) -> Fn:
    impl = FUNCTIONS[node.function].impl
    offsets = [arg.offset for arg in node.args]

    def fail(exc: ArgumentTypeError) -> ExprEvalError:
        at = node.offset if exc.index is None else offsets[exc.index]
        return ExprEvalError(str(exc), source, at)

    if len(args) == 2 and isinstance(args[0], Variable) and isinstance(args[1], Variable):
        x, y = args[0].name, args[1].name

        def call_names(env: Env) -> Value:  # ratio(logins_14d, seats): the usual shape
            try:
                return impl(env.get(x), env.get(y))
            except ArgumentTypeError as exc:
                raise fail(exc) from None

        return call_names
    getters = [ops.as_fn(arg) for arg in args]
    # Fixed-arity closures: unpacking a generator per call would double the cost.
    if len(getters) == 1:
        (a,) = getters

        def call1(env: Env) -> Value:
            try:
                return impl(a(env))
            except ArgumentTypeError as exc:
                raise fail(exc) from None

        return call1
    if len(getters) == 2:
        a, b = getters

        def call2(env: Env) -> Value:
            try:
                return impl(a(env), b(env))
            except ArgumentTypeError as exc:
                raise fail(exc) from None

        return call2

    def call(env: Env) -> Value:
        try:
            return impl(*[get(env) for get in getters])
        except ArgumentTypeError as exc:
            raise fail(exc) from None

    return call
