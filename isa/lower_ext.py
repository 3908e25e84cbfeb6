"""How ``ext`` expresses the portable instructions: one row each, with its native ops.

Rows are ``(op, a, b, c)``; fields an op does not read are 0. ``ext_lowering`` takes the
op table (isa/ext.py) so that opcodes are looked up by mnemonic, never repeated here.

| instruction      | row                          |
|------------------|------------------------------|
| subleq a, b [,t] | (subleq, a, b, t or next)    |
| mov/add/sub s, d | (mov/add/sub, s, d, 0)       |
| neg x            | (neg, x, x, 0)               |
| clr x            | (sub, x, x, 0)               |
| inc x / dec x    | (add, 1, x, 0) / (sub, 1, x, 0) |
| jmp t            | (jmp, 0, 0, t)               |
| jle..jgt x, t    | (jle..jgt, x, 0, t)          |
| halt             | (halt, 0, 0, 0)              |
| load p, d        | (load, p, d, 0)              |
| store s, p       | (store, s, p, 0)             |
"""

from __future__ import annotations

from collections.abc import Iterable

from isa.base import Op
from isa.lowering import NEXT, CodeOperand, Const, DataOperand, Emitter, Lowering, Rule

_JUMPS = ("jle", "jlt", "jeq", "jne", "jge", "jgt")


def ext_lowering(ops: Iterable[Op]) -> Lowering:
    """The lowering for an op table that has ext's mnemonics."""
    code = {op.mnemonic: op.code for op in ops}

    def subleq(e: Emitter, a: DataOperand, b: DataOperand, t: CodeOperand = NEXT) -> None:
        e.row(code["subleq"], a, b, t)

    def two(mnemonic: str) -> Rule:
        def rule(e: Emitter, src: DataOperand, dst: DataOperand) -> None:
            e.row(code[mnemonic], src, dst, 0)

        return rule

    def neg(e: Emitter, x: DataOperand) -> None:
        e.row(code["neg"], x, x, 0)

    def clr(e: Emitter, x: DataOperand) -> None:
        e.row(code["sub"], x, x, 0)

    def inc(e: Emitter, x: DataOperand) -> None:
        e.row(code["add"], Const(1), x, 0)

    def dec(e: Emitter, x: DataOperand) -> None:
        e.row(code["sub"], Const(1), x, 0)

    def jmp(e: Emitter, t: CodeOperand) -> None:
        e.row(code["jmp"], 0, 0, t)

    def jump(mnemonic: str) -> Rule:
        def rule(e: Emitter, x: DataOperand, t: CodeOperand) -> None:
            e.row(code[mnemonic], x, 0, t)

        return rule

    def halt(e: Emitter) -> None:
        e.row(code["halt"], 0, 0, 0)

    rules: dict[str, Rule] = {
        "subleq": subleq, "neg": neg, "clr": clr, "inc": inc, "dec": dec, "jmp": jmp, "halt": halt,
        **{m: two(m) for m in ("mov", "add", "sub", "load", "store")},
        **{m: jump(m) for m in _JUMPS},
    }
    return Lowering(
        rules=rules,
        halt_target=0,
        reserved_row=(code["halt"], 0, 0, 0),
        code_scale=1,
        shared_memory=False,
        notes=__doc__ or "",
    )
