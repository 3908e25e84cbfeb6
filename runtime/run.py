"""Run one program: its machine set up from a Program, on the backend of choice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from isa.base import SynthError
from isa.program import Program
from runtime.result import RunResult

BACKENDS = ("cpu", "reference", "cuda")


def machine(program: Program, data: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(code, memory) as a runtime sees them: for classic, empty code and the whole memory."""
    data = program.data if data is None else data
    if program.spec.static_code:
        return program.code, np.array(data, dtype=np.int64)
    mem = program.memory_image()
    mem[program.data_base : program.data_base + program.k] = data
    return np.zeros((0, 3), dtype=np.int64), mem


def run_program(
    program: Program,
    data: np.ndarray | None = None,
    *,
    backend: str = "cpu",
    pc: int | None = None,
    max_steps: int = 1_000_000_000,
    trace: bool | Callable[[np.ndarray], None] = False,
    io: Any = None,
) -> RunResult:
    """Run ``program`` from its initial data (or ``data``). For classic, ``result.data``
    is the whole memory; ``program.data_area(result.data)`` is the data part."""
    if max_steps < 0:
        raise SynthError("the step limit must be >= 0")
    code, mem = machine(program, data)
    isa = program.spec
    if backend == "cpu":
        from runtime.cpu import run_cpu

        return run_cpu(isa, code, mem, pc=pc, max_steps=max_steps, word_bits=program.word_bits, trace=trace, io=io)
    if backend == "reference":
        from runtime.reference import run_reference

        if callable(trace):
            result = run_reference(isa, code, mem, pc=pc, max_steps=max_steps, word_bits=program.word_bits, trace=True, io=io)
            trace(result.trace)
            result.trace = None
            return result
        return run_reference(isa, code, mem, pc=pc, max_steps=max_steps, word_bits=program.word_bits, trace=bool(trace), io=io)
    if backend == "cuda":
        if trace or io is not None:
            raise SynthError("the CUDA runtime runs batches: no trace and no standard I/O (use --device cpu)")
        from runtime.batch import make_batch, run_batch

        start = isa.start_pc if pc is None else pc
        if isa.static_code:
            batch = make_batch(isa, code[None], mem[None], pc=[start], word_bits=program.word_bits)
        else:
            batch = make_batch(isa, np.zeros((1, 0, 3), np.int64), mem[None], pc=[start], word_bits=program.word_bits)
        r = run_batch(batch, max_steps=max_steps, device="cuda")
        from isa.base import Status

        return RunResult(Status(int(r.status[0])), int(r.steps[0]), int(r.pc[0]), r.data[0])
    raise SynthError(f"unknown backend {backend!r} (choose {', '.join(BACKENDS)})")


def execute(
    program: Program,
    inputs: dict[str, int | list[int]] | list[int] | None = None,
    *,
    backend: str = "cpu",
    max_steps: int = 1_000_000_000,
    trace: bool = False,
) -> RunResult:
    """Run ``program`` with its inputs set by name (``{"a": 12, "b": 18}``: each label's
    cells from its first, as ``--set`` does) or in calling-convention order (a list, as
    ``--inputs``); the result's ``outputs`` are the ``.output`` labels' cells."""
    from isa.convention import initial_data, read_outputs

    if isinstance(inputs, dict):
        data = initial_data(program, sets={k: v if isinstance(v, list) else [v] for k, v in inputs.items()})
    else:
        data = initial_data(program, inputs=inputs) if inputs is not None else program.data.copy()
    result = run_program(program, data, backend=backend, max_steps=max_steps, trace=trace)
    memory = program.data_area(result.data)
    result.outputs = read_outputs(program, memory)
    return result
