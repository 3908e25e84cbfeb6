"""A program's run one step at a time, for the step debugger (``synth debug``).

Each step is one call of the ISA's reference run loop with a budget of one step, so the
debugger performs exactly what every runtime performs. The data memory records the old
value of every cell a step writes, which is what stepping back undoes; classic output
written by a step is taken back too. The rows come from the compiled program, or from
any ``rows(pc) -> row`` source, such as a Synthesizer giving the instruction at C_t.

    session = Session(program, data)
    record = session.step()        # StepRecord, or None once the run has stopped
    session.back()                 # undo the last step
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from isa.base import Domain, Status, SynthError
from isa.program import Program, SourceLoc
from runtime.io import BufferIO
from runtime.run import machine

HISTORY = 100_000  # steps that can be stepped back


class RecordingMemory(list):
    """A list of words that logs (address, old value) of each write while ``log`` is set."""

    log: list[tuple[int, int]] | None = None

    def __setitem__(self, index: Any, value: Any) -> None:
        if self.log is not None:
            self.log.append((index, list.__getitem__(self, index)))
        list.__setitem__(self, index, value)


@dataclass
class StepRecord:
    number: int  # 1 for the first step, as --trace counts
    pc: int  # where the step ran
    row: tuple[int, ...]  # the instruction performed
    address: int  # the cell written (-1: none, e.g. classic output)
    value: int  # what was written (classic output: the byte)
    writes: list[tuple[int, int]] = field(default_factory=list)  # (address, old value), for stepping back
    output_length: int = 0  # classic: bytes of output before the step


class _Rows:
    """Instruction memory as the run loop sees it, rows from ``rows(pc)``."""

    def __init__(self, n: int, rows: Callable[[int], tuple[int, ...]]) -> None:
        self.n, self.rows = n, rows

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, pc: int) -> tuple[int, ...]:
        return self.rows(pc)


class Session:
    """One run under the debugger: memory, pc, steps, status, and the steps taken."""

    def __init__(self, program: Program, data: np.ndarray | None = None, *, rows: Callable[[int], tuple[int, ...]] | None = None,
                 pc: int | None = None, max_steps: int = 1_000_000_000, history: int = HISTORY) -> None:
        self.program, self.isa = program, program.spec
        self.initial = program.data.copy() if data is None else np.asarray(data, dtype=np.int64).copy()
        self.start_pc = self.isa.start_pc if pc is None else int(pc)
        self.max_steps = max_steps
        self.source_rows = rows
        self.history: deque[StepRecord] = deque(maxlen=history)
        self.reset()

    def reset(self) -> None:
        code, memory = machine(self.program, self.initial)
        self.memory = RecordingMemory(int(x) for x in memory)
        if self.isa.static_code:
            self.code: Any = _Rows(self.program.n, self.source_rows) if self.source_rows else [tuple(int(x) for x in r) for r in code]
        else:
            self.code = []
        self.io = BufferIO(b"")  # classic: no input (standard input carries the debugger's commands), output collected
        self.pc, self.steps, self.status = self.start_pc, 0, None
        self.history.clear()

    # -- where we are --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.status is None

    def row(self, pc: int | None = None) -> tuple[int, ...] | None:
        """The instruction at ``pc`` (default: the current one), or None past the end."""
        pc = self.pc if pc is None else pc
        if self.isa.static_code:
            return tuple(int(x) for x in self.code[pc]) if 0 <= pc < self.program.n else None
        if 0 <= pc and pc + 2 < len(self.memory):
            return tuple(self.memory[pc : pc + 3])
        return None

    def source(self, pc: int | None = None) -> SourceLoc | None:
        index = self.program.row_at(self.pc if pc is None else pc)
        if index is None or index >= len(self.program.source_map):
            return None
        return self.program.source_map[index]

    def data(self) -> np.ndarray:
        """The data memory (classic: the program's data area)."""
        memory = np.array(self.memory, dtype=np.int64)
        return self.program.data_area(memory)

    def cell_address(self, address: int) -> int:
        """A data address as an index of the whole memory (classic counts from data_base)."""
        return address + (self.program.data_base if not self.isa.static_code else 0)

    # -- moving ---------------------------------------------------------------------------------

    def step(self) -> StepRecord | None:
        """Perform one instruction; None (and ``status`` set) once the run has stopped."""
        if not self.running:
            return None
        if self.steps >= self.max_steps:
            self.status = Status.STEP_LIMIT
            return None
        pc = self.pc
        row = self.row(pc)
        if row is not None and self.isa.static_code and self.source_rows is not None:
            # a row from a network may name a cell outside this program's memory
            for j in self.isa.columns_read(row):
                if self.isa.fields[j].domain is Domain.DATA and not 0 <= row[j] < len(self.memory):
                    self.status = Status.BAD_ADDRESS
                    return None
        out_before = len(self.io.output)
        self.memory.log = writes = []
        trace: list = []
        try:
            new_pc, taken, status = self.isa.reference_run(self.code, self.memory, pc, 1, self.program.word_bits, trace, self.io)
        finally:
            self.memory.log = None
        if taken == 0:
            self.status, self.pc = Status(status), new_pc
            return None
        self.steps += 1
        _, address, value = trace[0] if trace else (pc, -1, 0)
        record = StepRecord(self.steps, pc, row or (), int(address), int(value), writes, out_before)
        self.history.append(record)
        self.pc = new_pc
        if Status(status) is Status.HALTED:
            self.status = Status.HALTED
        return record

    def back(self) -> StepRecord | None:
        """Undo the last step (None when there is none left to undo)."""
        if not self.history:
            return None
        record = self.history.pop()
        for address, old in reversed(record.writes):
            list.__setitem__(self.memory, address, old)
        self.io._out = self.io._out[: record.output_length]  # noqa: SLF001 - our own buffer
        self.pc, self.steps, self.status = record.pc, record.number - 1, None
        return record


# -- naming places ------------------------------------------------------------------------------------


def breakpoint_pcs(program: Program, where: str) -> list[int]:
    """The pcs a breakpoint names: a code label, ``N`` (instruction number N), ``:LINE`` or
    ``FILE:LINE`` (every instruction compiled from that source line)."""
    text = where.strip()
    per = program.spec.pc_per_row
    if not text:
        raise SynthError("break where? a code label, an instruction number, or [FILE]:LINE")
    if text in program.labels:
        return [program.labels[text]]  # labels hold pcs
    if text.isdigit():
        n = int(text)
        if not 0 <= n < program.n:
            raise SynthError(f"instruction {n} is outside the program (0 .. {program.n - 1})")
        return [n * per]
    file, colon, line = text.rpartition(":")
    if colon and line.isdigit():
        rows = [i for i, loc in enumerate(program.source_map) if loc is not None and loc.line == int(line)
                and (not file or loc.file == file or loc.file.endswith("/" + file))]
        if not rows:
            raise SynthError(f"no instruction comes from line {line}{' of ' + file if file else ''}")
        return [r * per for r in rows]
    labels = ", ".join(sorted(program.labels)) or "none"
    raise SynthError(f"{text!r} is not a code label, an instruction number or [FILE]:LINE (labels: {labels})")


def symbol_cells(program: Program, name: str) -> tuple[str, list[int]]:
    """``NAME`` (all its cells), ``NAME[i]`` (one), or a data address: (label, addresses)."""
    text = name.strip()
    if text.isdigit() or (text.startswith("-") and text[1:].isdigit()):
        address = int(text)
        if not 0 <= address < program.k:
            raise SynthError(f"data address {address} is outside the memory (0 .. {program.k - 1})")
        return f"[{address}]", [address]
    base, bracket, rest = text.partition("[")
    symbol = program.symbol(base.strip())
    cells = list(range(symbol.address, symbol.address + symbol.size))
    if bracket:
        index = rest.rstrip("]").strip()
        if not index.lstrip("-").isdigit() or not 0 <= int(index) < symbol.size:
            raise SynthError(f"{text}: the index must lie in [0, {symbol.size}) ({base.strip()} has {symbol.size} cells)")
        return text, [cells[int(index)]]
    return base.strip(), cells
