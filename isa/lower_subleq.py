"""How the paper's ``subleq`` expresses the portable instructions.

A row ``(a, b, c)`` does ``D[b] -= D[a]`` and goes to ``c`` if the result is <= 0, else to
the next row; ``c = 0`` halts after the row, so 0 appears only in ``halt``, and every row
that does not branch has ``c`` = the next row. ``Z`` is data cell 0: rules that use it
leave it 0 again. ``T`` is a scratch cell.

Conditional jumps are exact on every stored value, including the most negative word
``MIN = -2^(w-1)``, whose negation wraps to itself. A single subleq test (``v <= 0`` on
some ``v = c +- x``) accepts 2^(w-1)+1 of the 2^w words, so ``x < 0`` and ``x >= 0`` (2^(w-1)
each) need two tests and ``x == 0`` needs two tests plus the branch structure. The rules:

| instruction | rows | how                                                            |
|-------------|------|----------------------------------------------------------------|
| subleq a,b,t| 1    | (a, b, t)                                                      |
| sub s, d    | 1    | (s, d)                                                         |
| add s, d    | 3    | (s, Z) (Z, d) (Z, Z); 1 row for an immediate: (-imm, d)         |
| mov s, d    | 4    | (d, d) (s, Z) (Z, d) (Z, Z); 2 for an immediate; 0 for mov x, x |
| neg x       | 6    | T = -x, then x = T through Z                                   |
| clr x       | 1    | (x, x)                                                         |
| inc/dec x   | 1    | (-1, x) / (1, x)                                               |
| jmp t       | 1    | (Z, Z, t)                                                      |
| halt        | 1    | (Z, Z, 0)                                                      |
| jle x, t    | 1    | (Z, x, t): x - 0 is x                                          |
| jgt x, t    | 2    | (Z, x, end) (Z, Z, t)                                          |
| jge x, t    | 4    | T = -x <= 0 (x >= 0 or MIN); then T - 1 <= 0 excludes MIN       |
| jlt x, t    | 5    | the complement of jge                                          |
| jeq x, t    | 4    | T = MAX - x <= 0 (x < 0 or x = MAX) skips; then x <= 0 is x = 0 |
| jne x, t    | 5    | the complement of jeq                                          |
| load, store | --   | no indirect addressing: a compile error                        |
"""

from __future__ import annotations

from isa.lowering import (
    END,
    HALT,
    NEXT,
    NO_INDIRECT,
    ZERO,
    CodeOperand,
    Const,
    DataOperand,
    Emitter,
    Imm,
    Local,
    Lowering,
    Scratch,
    max_word,
)

Z = ZERO
T = Scratch(0)


def subleq(e: Emitter, a: DataOperand, b: DataOperand, t: CodeOperand = NEXT) -> None:
    e.row(a, b, t)


def sub(e: Emitter, src: DataOperand, dst: DataOperand) -> None:
    e.row(src, dst, NEXT)


def add(e: Emitter, src: DataOperand, dst: DataOperand) -> None:
    if isinstance(src, Imm):
        e.row(src.negate(), dst, NEXT)
        return
    e.row(src, Z, NEXT)
    e.row(Z, dst, NEXT)
    e.row(Z, Z, NEXT)


def mov(e: Emitter, src: DataOperand, dst: DataOperand) -> None:
    if src == dst:
        return
    e.row(dst, dst, NEXT)
    if isinstance(src, Imm):
        e.row(src.negate(), dst, NEXT)
        return
    e.row(src, Z, NEXT)
    e.row(Z, dst, NEXT)
    e.row(Z, Z, NEXT)


def neg(e: Emitter, x: DataOperand) -> None:
    e.row(T, T, NEXT)  # T = 0
    e.row(x, T, NEXT)  # T = -x
    e.row(x, x, NEXT)  # x = 0
    e.row(T, Z, NEXT)  # Z = x
    e.row(Z, x, NEXT)  # x = -x
    e.row(Z, Z, NEXT)


def clr(e: Emitter, x: DataOperand) -> None:
    e.row(x, x, NEXT)


def inc(e: Emitter, x: DataOperand) -> None:
    e.row(Const(-1), x, NEXT)


def dec(e: Emitter, x: DataOperand) -> None:
    e.row(Const(1), x, NEXT)


def jmp(e: Emitter, t: CodeOperand) -> None:
    e.row(Z, Z, t)


def halt(e: Emitter) -> None:
    e.row(Z, Z, HALT)


def jle(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(Z, x, t)


def jgt(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(Z, x, END)
    e.row(Z, Z, t)


def jge(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(T, T, NEXT)
    e.row(x, T, Local(3))  # T = -x <= 0: x >= 0, or x = MIN
    e.row(Z, Z, END)  # x < 0
    e.row(Const(1), T, t)  # -x - 1 <= 0 unless x = MIN (then it is MAX): fall through


def jlt(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(T, T, NEXT)
    e.row(x, T, Local(3))  # T = -x <= 0: x >= 0, or x = MIN
    e.row(Z, Z, t)  # x < 0
    e.row(Const(1), T, END)  # x >= 0
    e.row(Z, Z, t)  # x = MIN


def jeq(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(T, T, NEXT)
    e.row(x, T, NEXT)  # T = -x
    e.row(Const(-max_word(e.word_bits)), T, END)  # T = MAX - x <= 0: x = MAX or x < 0
    e.row(Z, x, t)  # 0 <= x < MAX here: x <= 0 is x = 0


def jne(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
    e.row(T, T, NEXT)
    e.row(x, T, NEXT)
    e.row(Const(-max_word(e.word_bits)), T, t)  # x = MAX or x < 0
    e.row(Z, x, END)  # x = 0
    e.row(Z, Z, t)


RULES = {
    "subleq": subleq, "sub": sub, "add": add, "mov": mov, "neg": neg, "clr": clr, "inc": inc, "dec": dec,
    "jmp": jmp, "halt": halt, "jle": jle, "jgt": jgt, "jge": jge, "jlt": jlt, "jeq": jeq, "jne": jne,
}

LOWERING = Lowering(
    rules=RULES,
    missing={"load": NO_INDIRECT, "store": NO_INDIRECT},
    halt_target=0,
    reserved_row=(0, 0, 0),
    code_scale=1,
    shared_memory=False,
    notes=__doc__ or "",
)
