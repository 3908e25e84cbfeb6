"""Many runs of one ISA stepped together, one instruction each per call, the instructions
given from outside (a Synthesizer's answers for each run's C_t).

Each run keeps its own instruction memory, in which only the row at its pc is ever read:
``step(rows)`` writes each live run's given row there and performs it with the ISA's own
compiled run loop (``fast_run``, the body every runtime shares) for a budget of one step,
for all the runs at once, in parallel over the cores. A given row that names a data cell
outside its run's memory (a network's heads range over the largest memory of its corpus)
stops that run with ``bad_address`` before it does anything, as the ISA's loop would for
a pointer; a branch target past the last row ends the run with ``fell_off``.

    stepper = Stepper(isa, n, data, pc, word_bits, max_steps)
    while (live := stepper.live()).size:
        stepper.step(rows_for(live))          # (len(live), fields): one row per live run
    stepper.status, stepper.steps, stepper.pc, stepper.data
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import prange

from isa.base import ISA, Domain, Status, shift_for
from isa.port import no_port
from runtime.cpu import body

RUNNING = -1
_kernels: dict[str, Any] = {}


def _kernel(isa: ISA) -> Any:
    if isa.name in _kernels:
        return _kernels[isa.name]
    fn = body(isa)

    @numba.njit(parallel=True, cache=True)
    def step_all(code, data, n, k, pc, steps, status, live, rows, read, data_field, opcode, shift, inp, out, io):  # noqa: ANN001
        width = rows.shape[1]
        for i in prange(live.shape[0]):
            r = live[i]
            p = pc[r]
            op = rows[i, opcode] if opcode >= 0 else 0
            bad = False
            for j in range(width):
                if data_field[j] and read[op, j] and (rows[i, j] < 0 or rows[i, j] >= k[r]):
                    bad = True
            if bad:
                status[r] = 3
                continue
            for j in range(width):
                code[r, p, j] = rows[i, j]
            res = fn(code[r, : n[r]], data[r, : k[r]], p, 1, shift, None, inp, out, io)
            pc[r] = res[0]
            steps[r] += res[1]
            if res[2] != 2:  # 2: the one-step budget ran out, the run goes on
                status[r] = res[2]

    _kernels[isa.name] = step_all
    return step_all


class Stepper:
    """R runs of one ISA with static code (n rows and k cells each, padded to the largest)."""

    def __init__(self, isa: ISA, n: np.ndarray, data: np.ndarray, pc: np.ndarray, word_bits: int,
                 max_steps: np.ndarray | int, k: np.ndarray | None = None) -> None:
        self.isa = isa
        self.n = np.ascontiguousarray(n, dtype=np.int64)
        R = len(self.n)
        self.data = np.ascontiguousarray(data, dtype=np.int64).copy()
        self.k = np.full(R, self.data.shape[1], dtype=np.int64) if k is None else np.ascontiguousarray(k, dtype=np.int64)
        self.pc = np.ascontiguousarray(pc, dtype=np.int64).copy()
        self.max_steps = np.broadcast_to(np.asarray(max_steps, dtype=np.int64), (R,)).copy()
        self.steps = np.zeros(R, dtype=np.int64)
        self.status = np.full(R, RUNNING, dtype=np.int64)
        self.code = np.zeros((R, int(self.n.max()) if R else 0, isa.width), dtype=np.int64)
        self.shift = shift_for(word_bits)
        opcode = isa.opcode_column
        self.opcode = -1 if opcode is None else opcode
        ops = len(isa.ops) if opcode is not None else 1
        self.read = np.zeros((ops, isa.width), dtype=np.bool_)  # which fields each op reads
        for o in range(ops):
            probe = np.zeros(isa.width, dtype=np.int64)
            if opcode is not None:
                probe[opcode] = o
            self.read[o, isa.columns_read(probe)] = True
        self.data_field = np.array([f.domain is Domain.DATA for f in isa.fields], dtype=np.bool_)
        self.io = no_port()
        self.kernel = _kernel(isa)

    def live(self) -> np.ndarray:
        """The runs that go on (those at pc >= n fall off, those at their limit stop), as indices."""
        running = self.status == RUNNING
        self.status[running & (self.pc >= self.n)] = int(Status.FELL_OFF)
        self.status[(self.status == RUNNING) & (self.steps >= self.max_steps)] = int(Status.STEP_LIMIT)
        return np.flatnonzero(self.status == RUNNING)

    def step(self, live: np.ndarray, rows: np.ndarray) -> None:
        """Perform ``rows[i]`` as the instruction at the pc of run ``live[i]``."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        if rows.shape != (len(live), self.isa.width):
            raise ValueError(f"rows must be ({len(live)}, {self.isa.width}), got {rows.shape}")
        inp, out, io = self.io
        self.kernel(self.code, self.data, self.n, self.k, self.pc, self.steps, self.status, np.ascontiguousarray(live, dtype=np.int64),
                    rows, self.read, self.data_field, self.opcode, self.shift, inp, out, io)
