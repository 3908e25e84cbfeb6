"""Exact integer expressions: folding at expansion time, finishing once labels have values.

An expression folds to a *value*: an ``int`` when everything in it is known (numbers,
constants, ``.rep`` variables), a ``Sym`` (a label plus an integer offset: the form of
every operand), or a ``Late`` tree that waits for label values (``.word end - start``).
Arithmetic is Python's exact integers, never ``eval``: ``/`` is floor division and ``%``
its remainder (with the divisor's sign); results are bounded so that a hostile ``1 << 10**9``
is an error, not a hang.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from compiler.ast import Binary, Expr, LocalName, Name, Num, Pos, Unary
from compiler.diagnostics import CompileError, Context

MAX_BITS = 1024  # no intermediate value may reach 2^1024 in magnitude
MAX_DEPTH = 200  # expressions nested deeper than this are an error, not a RecursionError


@dataclass(frozen=True, slots=True)
class Sym:
    """A label's value (a data address or an instruction's code address) plus ``offset``."""

    name: str  # a global label, or a local one after renaming ("@loop.3")
    offset: int
    pos: Pos
    shown: str = ""  # the name as written, for messages ("@loop")

    @property
    def written(self) -> str:
        return self.shown or self.name


@dataclass(frozen=True, slots=True)
class Late:
    op: str
    args: tuple[Value, ...]
    pos: Pos


Value = int | Sym | Late


def _check(value: int, pos: Pos, ctx: Context | None) -> int:
    if value.bit_length() > MAX_BITS:
        raise CompileError(f"value too large (more than {MAX_BITS} bits)", pos, ctx)
    return value


def apply(op: str, a: int, b: int, pos: Pos, b_pos: Pos, ctx: Context | None) -> int:
    """One exact binary operation on integers."""
    if op == "+":
        return _check(a + b, pos, ctx)
    if op == "-":
        return _check(a - b, pos, ctx)
    if op == "*":
        return _check(a * b, pos, ctx)
    if op in ("/", "%"):
        if b == 0:
            raise CompileError("division by zero", b_pos, ctx)
        return a // b if op == "/" else a % b
    if op in ("<<", ">>"):
        if b < 0:
            raise CompileError(f"negative shift count {b}", b_pos, ctx)
        if op == ">>":
            return a >> min(b, MAX_BITS + 1)
        if a and b > MAX_BITS:
            raise CompileError(f"value too large (more than {MAX_BITS} bits)", pos, ctx)
        return _check(a << b, pos, ctx)
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    raise AssertionError(op)


def apply_unary(op: str, a: int) -> int:
    return -a if op == "-" else (~a if op == "~" else a)


def combine(op: str, a: Value, b: Value, pos: Pos, b_pos: Pos, ctx: Context | None) -> Value:
    """Fold ``a op b`` as far as it goes: ints compute, label +- int stays a Sym."""
    if isinstance(a, int) and isinstance(b, int):
        return apply(op, a, b, pos, b_pos, ctx)
    if isinstance(a, Sym) and isinstance(b, int) and op in ("+", "-"):
        return Sym(a.name, _check(a.offset + b if op == "+" else a.offset - b, pos, ctx), a.pos, a.shown)
    if isinstance(a, int) and isinstance(b, Sym) and op == "+":
        return Sym(b.name, _check(a + b.offset, pos, ctx), b.pos, b.shown)
    return Late(op, (a, b), pos)


def fold(expr: Expr, lookup: Callable[[Name | LocalName], Value], ctx: Context | None) -> Value:
    """Fold an expression; ``lookup`` gives the value of a name (or raises)."""
    if expr.depth > MAX_DEPTH:
        raise CompileError(f"expression nested too deeply (more than {MAX_DEPTH} levels)", expr.pos, ctx)
    return _fold(expr, lookup, ctx)


def _fold(expr: Expr, lookup: Callable[[Name | LocalName], Value], ctx: Context | None) -> Value:
    if isinstance(expr, Num):
        if expr.value is None:
            raise CompileError("number too large", expr.pos, ctx)
        return expr.value
    if isinstance(expr, (Name, LocalName)):
        return lookup(expr)
    if isinstance(expr, Binary):  # loop down the left spine: a + b + c + ... is not recursion
        spine = []
        node: Expr = expr
        while isinstance(node, Binary):
            spine.append(node)
            node = node.left
        acc = _fold(node, lookup, ctx)
        for b in reversed(spine):
            acc = combine(b.op, acc, _fold(b.right, lookup, ctx), b.pos, b.right.pos, ctx)
        return acc
    assert isinstance(expr, Unary)
    v = _fold(expr.operand, lookup, ctx)
    if isinstance(v, int):
        return apply_unary(expr.op, v)
    if expr.op == "+":
        return v
    return Late(expr.op, (v,), expr.pos)


def finish(value: Value, label_value: Callable[[Sym], int], ctx: Context | None) -> int:
    """The integer a folded value stands for, once every label has a value."""
    if isinstance(value, int):
        return value
    if isinstance(value, Sym):
        return _check(label_value(value) + value.offset, value.pos, ctx)
    spine = []  # loop down the first operands, as _fold does
    node: Value = value
    while isinstance(node, Late):
        spine.append(node)
        node = node.args[0]
    acc = finish(node, label_value, ctx)
    for late in reversed(spine):
        if len(late.args) == 1:
            acc = apply_unary(late.op, acc)
            continue
        right = late.args[1]
        b_pos = right.pos if not isinstance(right, int) else late.pos
        acc = apply(late.op, acc, finish(right, label_value, ctx), late.pos, b_pos, ctx)
    return acc
