"""The paper's subleq: a Harvard machine of n rows (A, B, C) over k signed data words.

One step at row t = (A, B, C): D[B] -= D[A]; next is C if D[B] <= 0, else t + 1; if C == 0
the machine halts after the step (Algorithm 1 of the paper). Row 0 is HALT, stored as
(0, 0, 0); execution starts at row 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from isa.base import ISA, Domain, Field, Op, Status, wrap
from isa.lower_subleq import LOWERING


def reference_run(
    code: Any, data: list[int], pc: int, max_steps: int, word_bits: int, trace: list | None = None, io: Any = None
) -> tuple[int, int, Status]:
    """The executable specification (spec/isa.md, "The run loop, exactly")."""
    n = len(code)
    steps = 0
    while True:
        if pc >= n:
            return pc, steps, Status.FELL_OFF
        if steps == max_steps:
            return pc, steps, Status.STEP_LIMIT
        a, b, c = (int(x) for x in code[pc])
        data[b] = wrap(data[b] - data[a], word_bits)
        if trace is not None:
            trace.append((pc, b, data[b]))
        steps += 1
        if c == 0:
            return pc, steps, Status.HALTED
        pc = c if data[b] <= 0 else pc + 1


def fast_run(code, data, pc, max_steps, shift, trace, inp, out, io):  # noqa: ANN001, ANN201
    """The same loop for numba (CPU and CUDA). Fields were validated on load, so the
    indices are in range; np.uint64 indices spare numba its negative-index handling.
    ``trace`` is None (pruned at compile time) or an (T, 3) array; a full trace
    suspends the run with TRACE_FULL so the host can drain it and resume.

    The rows are read from the (C-contiguous) code as one flat array, at i = 3 pc, kept
    beside pc: ``code[pc, j]`` multiplies pc by a row stride that numba knows only at run
    time, on the path from one row's C to the next row's load (about 15% of a step).
    pc >= n is checked, as the spec does, before the first step and after every change."""
    n = code.shape[0]
    if pc >= n:
        return pc, 0, 1
    rows = code.reshape(code.size)
    three = np.uint64(3)
    i = np.uint64(pc) * three
    steps = 0
    while True:
        if steps == max_steps:
            return pc, steps, 2
        if trace is not None:
            if steps == trace.shape[0]:
                return pc, steps, 6
        a = np.uint64(rows[i])
        b = np.uint64(rows[i + np.uint64(1)])
        c = rows[i + np.uint64(2)]
        r = ((data[b] - data[a]) << shift) >> shift
        data[b] = r
        if trace is not None:
            trace[steps, 0] = pc
            trace[steps, 1] = b
            trace[steps, 2] = r
        steps += 1
        if c == 0:
            return pc, steps, 0
        if r <= 0:
            pc = c
            i = np.uint64(c) * three
        else:
            pc += 1
            i += three
        if pc >= n:
            return pc, steps, 1


def _check_halt_row(row: np.ndarray) -> str | None:
    return None if not np.any(row) else "row 0 is reserved for HALT and must be (0, 0, 0)"


SUBLEQ = ISA(
    name="subleq",
    summary="the paper's subleq: rows (A, B, C) over a separate data memory; C = 0 halts",
    fields=(
        Field("a", Domain.DATA, "subtrahend address: D[B] -= D[A]"),
        Field("b", Domain.DATA, "minuend and destination address"),
        Field("c", Domain.CODE, "branch target when D[B] <= 0; 0 halts after the step"),
    ),
    ops=(Op(0, "subleq", ("a", "b", "c"), "D[b] -= D[a]; if D[b] <= 0 goto c else next; c = 0 halts"),),
    static_code=True,
    default_word_bits=64,
    start_pc=1,
    reference_run=reference_run,
    fast_run=fast_run,
    check_halt_row=_check_halt_row,
    doc=__doc__ or "",
    lowering=LOWERING,
)
