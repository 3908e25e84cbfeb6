"""What a run returns: final memory, steps, pc and status (and a trace, output bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from isa.base import Status

if TYPE_CHECKING:
    from isa.program import Program

TRACE_COLUMNS = ("pc", "address", "value")  # address: the cell written, -1 when none


@dataclass
class RunResult:
    status: Status
    steps: int
    pc: int
    data: np.ndarray  # the final data memory (classic: the whole memory)
    trace: np.ndarray | None = None  # (steps, 3) int64 rows of TRACE_COLUMNS
    output: bytes = b""  # classic: the bytes written to the port
    outputs: dict[str, list[int]] | None = None  # runtime.execute: each .output label's cells after the run


@dataclass
class BatchResult:
    data: np.ndarray  # (P, k) final data memories
    steps: np.ndarray  # (P,) int64
    pc: np.ndarray  # (P,) int64
    status: np.ndarray  # (P,) int64: 0 halted, 1 fell_off, 2 step_limit, 3 bad_address
    seconds: float = 0.0  # execution alone: no compilation, no transfers

    @property
    def total_steps(self) -> int:
        return int(self.steps.sum())


def result_json(program: Program, result: RunResult) -> dict[str, Any]:
    """The ``--json`` object of ``synth run`` (spec/isa.md): status, steps, pc, outputs,
    memory (classic: the data area, plus the output bytes). ``exec`` adds its own keys."""
    from isa.convention import read_outputs

    classic = not program.spec.static_code
    memory = program.data_area(result.data)
    obj: dict[str, Any] = {
        "status": result.status.label,
        "steps": result.steps,
        "pc": result.pc,
        "outputs": read_outputs(program, memory),
        "memory": [int(v) for v in memory],
    }
    if classic:
        obj["output"] = list(result.output)
    return obj
