"""The extended ISA: rows (op, a, b, c) with native portable ops and indirect addressing.

What the paper proposes so that programs generalise to any input length: the code stays
static (so the Synthesizer can still memorise it) but ``load``/``store`` address data
memory through a pointer cell. Row 0 is ``halt``; execution starts at row 1.

Op table (D is data memory, k its size; "next" is the following row unless stated):

| # | op     | fields  | effect                                                         |
|---|--------|---------|----------------------------------------------------------------|
| 0 | halt   |         | stop (counts as a step)                                        |
| 1 | subleq | a b c   | D[b] -= D[a]; if D[b] <= 0 next is c; c = 0 halts (the paper's)|
| 2 | mov    | a b     | D[b] = D[a]                                                    |
| 3 | add    | a b     | D[b] += D[a]                                                   |
| 4 | sub    | a b     | D[b] -= D[a]                                                   |
| 5 | neg    | a b     | D[b] = -D[a]                                                   |
| 6 | jmp    | c       | next is c                                                      |
| 7 | jle    | a c     | if D[a] <= 0 next is c                                         |
| 8 | jlt    | a c     | if D[a] <  0 next is c                                         |
| 9 | jeq    | a c     | if D[a] == 0 next is c                                         |
|10 | jne    | a c     | if D[a] != 0 next is c                                         |
|11 | jge    | a c     | if D[a] >= 0 next is c                                         |
|12 | jgt    | a c     | if D[a] >  0 next is c                                         |
|13 | load   | a b     | D[b] = D[D[a]]      (D[a] is a pointer)                        |
|14 | store  | a b     | D[D[b]] = D[a]      (D[b] is a pointer)                        |

Fields an op does not read are stored as 0. Any instruction whose next row is 0 halts
after it runs. A pointer outside [0, k) stops the run with ``bad_address`` before the
instruction does anything: nothing is written, the step is not counted, pc stays.
Arithmetic wraps at the word width.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from isa.base import ISA, Domain, Field, Op, Status, wrap
from isa.lower_ext import ext_lowering

HALT, SUBLEQ, MOV, ADD, SUB, NEG, JMP, JLE, JLT, JEQ, JNE, JGE, JGT, LOAD, STORE = range(15)

OPS = (
    Op(HALT, "halt", (), "stop"),
    Op(SUBLEQ, "subleq", ("a", "b", "c"), "D[b] -= D[a]; if D[b] <= 0 goto c; c = 0 halts"),
    Op(MOV, "mov", ("a", "b"), "D[b] = D[a]"),
    Op(ADD, "add", ("a", "b"), "D[b] += D[a]"),
    Op(SUB, "sub", ("a", "b"), "D[b] -= D[a]"),
    Op(NEG, "neg", ("a", "b"), "D[b] = -D[a]"),
    Op(JMP, "jmp", ("c",), "goto c"),
    Op(JLE, "jle", ("a", "c"), "if D[a] <= 0 goto c"),
    Op(JLT, "jlt", ("a", "c"), "if D[a] < 0 goto c"),
    Op(JEQ, "jeq", ("a", "c"), "if D[a] == 0 goto c"),
    Op(JNE, "jne", ("a", "c"), "if D[a] != 0 goto c"),
    Op(JGE, "jge", ("a", "c"), "if D[a] >= 0 goto c"),
    Op(JGT, "jgt", ("a", "c"), "if D[a] > 0 goto c"),
    Op(LOAD, "load", ("a", "b"), "D[b] = D[D[a]]"),
    Op(STORE, "store", ("a", "b"), "D[D[b]] = D[a]"),
)

_CONDITIONS = {
    JLE: lambda v: v <= 0,
    JLT: lambda v: v < 0,
    JEQ: lambda v: v == 0,
    JNE: lambda v: v != 0,
    JGE: lambda v: v >= 0,
    JGT: lambda v: v > 0,
}


def reference_run(
    code: Any, data: list[int], pc: int, max_steps: int, word_bits: int, trace: list | None = None, io: Any = None
) -> tuple[int, int, Status]:
    """The executable specification of ``ext``: the subleq run loop with the op table above."""
    n, k = len(code), len(data)
    steps = 0
    while True:
        if pc >= n:
            return pc, steps, Status.FELL_OFF
        if steps == max_steps:
            return pc, steps, Status.STEP_LIMIT
        op, a, b, c = (int(x) for x in code[pc])
        nxt = pc + 1
        written: tuple[int, int] | None = None
        if op == HALT:
            if trace is not None:
                trace.append((pc, -1, 0))
            return pc, steps + 1, Status.HALTED
        if op == SUBLEQ:
            data[b] = wrap(data[b] - data[a], word_bits)
            written = (b, data[b])
            if data[b] <= 0:
                nxt = c
            if c == 0:
                nxt = 0
        elif op == MOV:
            data[b] = data[a]
            written = (b, data[b])
        elif op == ADD:
            data[b] = wrap(data[b] + data[a], word_bits)
            written = (b, data[b])
        elif op == SUB:
            data[b] = wrap(data[b] - data[a], word_bits)
            written = (b, data[b])
        elif op == NEG:
            data[b] = wrap(-data[a], word_bits)
            written = (b, data[b])
        elif op == JMP:
            nxt = c
        elif op in _CONDITIONS:
            if _CONDITIONS[op](data[a]):
                nxt = c
        elif op == LOAD:
            p = data[a]
            if not 0 <= p < k:
                return pc, steps, Status.BAD_ADDRESS
            data[b] = data[p]
            written = (b, data[b])
        elif op == STORE:
            p = data[b]
            if not 0 <= p < k:
                return pc, steps, Status.BAD_ADDRESS
            data[p] = data[a]
            written = (p, data[p])
        if trace is not None:
            trace.append((pc, *(written or (-1, 0))))
        steps += 1
        if nxt == 0:
            return pc, steps, Status.HALTED
        pc = nxt


def fast_run(code, data, pc, max_steps, shift, trace, inp, out, io):  # noqa: ANN001, ANN201, C901
    """The same loop for numba (CPU and CUDA). Opcodes and direct addresses were checked
    on load; pointers are data and are checked here, on every use. The op numbers are the
    op table's names (module-level ints, which numba compiles in as constants)."""
    n = code.shape[0]
    k = data.shape[0]
    steps = 0
    while True:
        if pc >= n:
            return pc, steps, 1
        if steps == max_steps:
            return pc, steps, 2
        if trace is not None:
            if steps == trace.shape[0]:
                return pc, steps, 6
        row = np.uint64(pc)
        op = code[row, 0]
        a = np.uint64(code[row, 1])
        b_addr = code[row, 2]
        b = np.uint64(b_addr)
        c = code[row, 3]
        nxt = pc + 1
        waddr = -1
        wval = 0
        if op == HALT:
            if trace is not None:
                trace[steps, 0] = pc
                trace[steps, 1] = -1
                trace[steps, 2] = 0
            return pc, steps + 1, 0
        elif op == SUBLEQ:
            r = ((data[b] - data[a]) << shift) >> shift
            data[b] = r
            waddr = b_addr
            wval = r
            if r <= 0:
                nxt = c
            if c == 0:
                nxt = 0
        elif op == MOV:
            wval = data[a]
            data[b] = wval
            waddr = b_addr
        elif op == ADD:
            wval = ((data[b] + data[a]) << shift) >> shift
            data[b] = wval
            waddr = b_addr
        elif op == SUB:
            wval = ((data[b] - data[a]) << shift) >> shift
            data[b] = wval
            waddr = b_addr
        elif op == NEG:
            wval = ((0 - data[a]) << shift) >> shift
            data[b] = wval
            waddr = b_addr
        elif op == JMP:
            nxt = c
        elif op <= JGT:
            v = data[a]
            if op == JLE:
                take = v <= 0
            elif op == JLT:
                take = v < 0
            elif op == JEQ:
                take = v == 0
            elif op == JNE:
                take = v != 0
            elif op == JGE:
                take = v >= 0
            else:
                take = v > 0
            if take:
                nxt = c
        elif op == LOAD:
            p = data[a]
            if p < 0 or p >= k:
                return pc, steps, 3
            wval = data[np.uint64(p)]
            data[b] = wval
            waddr = b_addr
        else:  # STORE
            p = data[b]
            if p < 0 or p >= k:
                return pc, steps, 3
            wval = data[a]
            data[np.uint64(p)] = wval
            waddr = p
        if trace is not None:
            trace[steps, 0] = pc
            trace[steps, 1] = waddr
            trace[steps, 2] = wval
        steps += 1
        if nxt == 0:
            return pc, steps, 0
        pc = nxt


def _check_halt_row(row: np.ndarray) -> str | None:
    return None if row[0] == HALT else "row 0 is reserved for the halt op (op 0)"


EXT = ISA(
    name="ext",
    summary="extended: rows (op, a, b, c) with native mov/add/sub/neg/jumps and load/store through pointers",
    fields=(
        Field("op", Domain.OPCODE, "index into the op table"),
        Field("a", Domain.DATA, "first data operand (source, or the cell a jump tests)"),
        Field("b", Domain.DATA, "second data operand (destination, or store's pointer cell)"),
        Field("c", Domain.CODE, "jump target"),
    ),
    ops=OPS,
    static_code=True,
    default_word_bits=64,
    start_pc=1,
    reference_run=reference_run,
    fast_run=fast_run,
    check_halt_row=_check_halt_row,
    doc=__doc__ or "",
    lowering=ext_lowering(OPS),
)
