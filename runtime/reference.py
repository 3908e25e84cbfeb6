"""The reference runtime: the ISAs' plain-Python run loops, the executable specification.

Slow (about a million steps a second) and obviously right; every other runtime is
tested against it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from isa.base import ISA, Status
from runtime.result import RunResult


def run_reference(
    isa: ISA,
    code: np.ndarray,
    data: np.ndarray,
    *,
    pc: int | None = None,
    max_steps: int = 1_000_000_000,
    word_bits: int | None = None,
    trace: bool = False,
    io: Any = None,
) -> RunResult:
    """Run one machine: ``code`` (n, fields) and ``data`` (k,), or for classic an empty
    code and the whole memory as ``data``. ``data`` is not modified."""
    rows = [tuple(int(x) for x in row) for row in np.asarray(code)]
    memory = [int(x) for x in np.asarray(data)]
    trace_rows: list | None = [] if trace else None
    start = isa.start_pc if pc is None else int(pc)
    bits = word_bits or isa.default_word_bits
    end_pc, steps, status = isa.reference_run(rows, memory, start, max_steps, bits, trace_rows, io)
    return RunResult(
        status=Status(status),
        steps=steps,
        pc=end_pc,
        data=np.array(memory, dtype=np.int64),
        trace=np.array(trace_rows, dtype=np.int64).reshape(-1, 3) if trace_rows is not None else None,
        output=io.output if io is not None and hasattr(io, "output") else b"",
    )
