"""How ``subneg4`` expresses the portable instructions.

A row ``(a, b, c, d)`` does ``D[c] = D[b] - D[a]`` and goes to ``d`` if the result is < 0,
else to the next row; ``d = 0`` halts after the row. ``Z`` is data cell 0 (never written
but by ``halt``, which writes 0 into it), ``T`` a scratch cell, ``ONE`` a constant 1.
With a separate result cell the operands survive, so a copy or a negation is one or two
rows; the test is ``< 0``, so "less than or equal" is a second row ``x - 1 < 0``, which
cannot overflow because it only runs for x >= 0. Every rule is exact on every word.

| instruction | rows | how                                                      |
|-------------|------|----------------------------------------------------------|
| subleq a,b,t| 1-2  | (a, b, b, t) (ONE, b, T, t): b < 0, then b - 1 < 0         |
| sub s, d    | 1    | (s, d, d)                                                 |
| add s, d    | 2    | (s, Z, T) (T, d, d); 1 for an immediate: (-imm, d, d)     |
| mov s, d    | 2    | (s, Z, T) (T, Z, d); 1 for an immediate; 0 for mov x, x   |
| neg x       | 1    | (x, Z, x)                                                 |
| clr x       | 1    | (x, x, x)                                                 |
| inc/dec x   | 1    | (-1, x, x) / (1, x, x)                                    |
| jmp t       | 1    | (ONE, Z, T, t): 0 - 1 < 0                                 |
| halt        | 1    | (Z, Z, Z, 0)                                              |
| jlt x, t    | 1    | (Z, x, T, t)                                              |
| jge x, t    | 2    | (Z, x, T, end) then jmp t                                 |
| jle x, t    | 2    | (Z, x, T, t) (ONE, x, T, t)                               |
| jeq x, t    | 2    | (Z, x, T, end) (ONE, x, T, t)                             |
| jgt x, t    | 3    | (Z, x, T, end) (ONE, x, T, end) then jmp t                |
| jne x, t    | 3    | (Z, x, T, t) (ONE, x, T, end) then jmp t                  |
| load, store | --   | no indirect addressing: a compile error                   |
"""

from __future__ import annotations

from isa.lowering import END, HALT, NEXT, NO_INDIRECT, ZERO, CodeOperand, Const, DataOperand, Emitter, Imm, Lowering, Scratch

Z = ZERO
T = Scratch(0)
ONE = Const(1)


def subleq(e: Emitter, a: DataOperand, b: DataOperand, t: CodeOperand = NEXT) -> None:
    e.row(a, b, b, t)
    if t is not NEXT:
        e.row(ONE, b, T, t)  # here b >= 0: b - 1 < 0 is b == 0


def sub(e: Emitter, src: DataOperand, dst: DataOperand) -> None:
    e.row(src, dst, dst, NEXT)


def add(e: Emitter, src: DataOperand, dst: DataOperand) -> None:
    if isinstance(src, Imm):
        e.row(src.negate(), dst, dst, NEXT)
        return
    e.row(src, Z, T, NEXT)  # T = -src
    e.row(T, dst, dst, NEXT)  # dst = dst + src


def mov(e: Emitter, src: DataOperand, dst: DataOperand) -> None:
    if src == dst:
        return
    if isinstance(src, Imm):
        e.row(src.negate(), Z, dst, NEXT)
        return
    e.row(src, Z, T, NEXT)  # T = -src
    e.row(T, Z, dst, NEXT)  # dst = src


def neg(e: Emitter, x: DataOperand) -> None:
    e.row(x, Z, x, NEXT)


def clr(e: Emitter, x: DataOperand) -> None:
    e.row(x, x, x, NEXT)


def inc(e: Emitter, x: DataOperand) -> None:
    e.row(Const(-1), x, x, NEXT)


def dec(e: Emitter, x: DataOperand) -> None:
    e.row(ONE, x, x, NEXT)


def jmp(e: Emitter, t: CodeOperand) -> None:
    e.row(ONE, Z, T, t)


def halt(e: Emitter) -> None:
    e.row(Z, Z, Z, HALT)


def jlt(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(Z, x, T, t)


def jge(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(Z, x, T, END)
    e.row(ONE, Z, T, t)


def jle(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(Z, x, T, t)
    e.row(ONE, x, T, t)


def jeq(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(Z, x, T, END)
    e.row(ONE, x, T, t)


def jgt(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(Z, x, T, END)
    e.row(ONE, x, T, END)
    e.row(ONE, Z, T, t)


def jne(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(Z, x, T, t)
    e.row(ONE, x, T, END)
    e.row(ONE, Z, T, t)


RULES = {
    "subleq": subleq, "sub": sub, "add": add, "mov": mov, "neg": neg, "clr": clr, "inc": inc, "dec": dec,
    "jmp": jmp, "halt": halt, "jle": jle, "jgt": jgt, "jge": jge, "jlt": jlt, "jeq": jeq, "jne": jne,
}

LOWERING = Lowering(
    rules=RULES,
    missing={"load": NO_INDIRECT, "store": NO_INDIRECT},
    halt_target=0,
    reserved_row=(0, 0, 0, 0),
    code_scale=1,
    shared_memory=False,
    notes=__doc__ or "",
)
