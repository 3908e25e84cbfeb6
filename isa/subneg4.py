"""Mazonka's subneg4, on a Harvard machine: rows (a, b, c, d) over k signed data words.

One step at row t = (a, b, c, d): D[c] = D[b] - D[a]; the next row is d if the result is
negative (< 0, where subleq's test is <= 0), else t + 1; if d == 0 the machine halts after
the step. Four operands, so the result goes to a third cell (the operands survive) and a
copy or a negation is one row. Row 0 is HALT, stored as (0, 0, 0, 0); execution starts at
row 1. (Mazonka, "Subleq and its variants"; here code and data are separate, as in the
paper's subleq, so that the Synthesizer can memorise the code.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from isa.base import ISA, Domain, Field, Op, Status, wrap
from isa.lower_subneg4 import LOWERING


def reference_run(
    code: Any, data: list[int], pc: int, max_steps: int, word_bits: int, trace: list | None = None, io: Any = None
) -> tuple[int, int, Status]:
    """The executable specification: the run loop of spec/isa.md with subneg4's step."""
    n = len(code)
    steps = 0
    while True:
        if pc >= n:
            return pc, steps, Status.FELL_OFF
        if steps == max_steps:
            return pc, steps, Status.STEP_LIMIT
        a, b, c, d = (int(x) for x in code[pc])
        data[c] = wrap(data[b] - data[a], word_bits)
        if trace is not None:
            trace.append((pc, c, data[c]))
        steps += 1
        if d == 0:
            return pc, steps, Status.HALTED
        pc = d if data[c] < 0 else pc + 1


def fast_run(code, data, pc, max_steps, shift, trace, inp, out, io):  # noqa: ANN001, ANN201
    """The same loop for numba (CPU and CUDA); fields were validated on load."""
    n = code.shape[0]
    if pc >= n:
        return pc, 0, 1
    steps = 0
    while True:
        if steps == max_steps:
            return pc, steps, 2
        if trace is not None:
            if steps == trace.shape[0]:
                return pc, steps, 6
        row = np.uint64(pc)
        a = np.uint64(code[row, 0])
        b = np.uint64(code[row, 1])
        c_addr = code[row, 2]
        d = code[row, 3]
        r = ((data[b] - data[a]) << shift) >> shift
        data[np.uint64(c_addr)] = r
        if trace is not None:
            trace[steps, 0] = pc
            trace[steps, 1] = c_addr
            trace[steps, 2] = r
        steps += 1
        if d == 0:
            return pc, steps, 0
        if r < 0:
            pc = d
        else:
            pc += 1
        if pc >= n:
            return pc, steps, 1


def _check_halt_row(row: np.ndarray) -> str | None:
    return None if not np.any(row) else "row 0 is reserved for HALT and must be (0, 0, 0, 0)"


SUBNEG4 = ISA(
    name="subneg4",
    summary="Mazonka's subneg4: rows (a, b, c, d), D[c] = D[b] - D[a], branch to d if negative; d = 0 halts",
    fields=(
        Field("a", Domain.DATA, "subtrahend address"),
        Field("b", Domain.DATA, "minuend address"),
        Field("c", Domain.DATA, "result address: D[c] = D[b] - D[a]"),
        Field("d", Domain.CODE, "branch target when the result is < 0; 0 halts after the step"),
    ),
    ops=(Op(0, "subneg4", ("a", "b", "c", "d"), "D[c] = D[b] - D[a]; if D[c] < 0 goto d else next; d = 0 halts"),),
    static_code=True,
    default_word_bits=64,
    start_pc=1,
    reference_run=reference_run,
    fast_run=fast_run,
    check_halt_row=_check_halt_row,
    doc=__doc__ or "",
    lowering=LOWERING,
)
