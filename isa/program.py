"""A program for one ISA, and its JSON file format (``synth-program``, version 1).

The file holds everything needed to run, test and learn a program::

    {"format": "synth-program", "version": 1, "name": "popcount", "isa": "subleq",
     "word_bits": 64,
     "code": [[0, 0, 0], [3, 3, 2], ...],          # rows, row 0 included
     "data": [0, 1, 0, ...],                        # initial data memory, one int per cell
     "symbols": {"bits": {"address": 1, "size": 8}, ...},   # data labels
     "labels": {"loop": 4, ...},                    # code labels -> instruction number
     "inputs": ["bits"], "outputs": ["count"],
     "descriptions": ["count the ones", ...],
     "tests": [{"name": "mixed", "set": {"bits": [1, 0]}, "expect": {"count": [1]},
                "max_steps": 1000000}],
     "source_map": [null, {"file": "popcount.sasm", "line": 12, "text": "add bits, count"}, ...]}

For ``classic`` two more keys say where things sit in the one memory: the code rows are
laid out from address 0, three words each, and ``data`` starts at ``data_base``; the
memory has ``memory_size`` words (default min(2^w, 65536)). Data addresses in
``symbols`` count from ``data_base``. Only ``format``, ``isa``, ``code`` and ``data`` are
required when reading; everything else has a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from isa.base import ISA, Domain, SynthError, check_word_bits
from isa.registry import get_isa

FORMAT = "synth-program"
VERSION = 1


@dataclass
class Symbol:
    address: int
    size: int


@dataclass
class SourceLoc:
    file: str
    line: int
    text: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class TestCase:
    name: str
    set: dict[str, list[int]] = field(default_factory=dict)
    expect: dict[str, list[int]] = field(default_factory=dict)
    max_steps: int = 1_000_000
    loc: SourceLoc | None = None


@dataclass
class Program:
    isa: str
    code: np.ndarray  # (n, fields) int64
    data: np.ndarray  # (k,) int64, wrapped to signed words
    word_bits: int
    name: str = ""
    symbols: dict[str, Symbol] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    tests: list[TestCase] = field(default_factory=list)
    source_map: list[SourceLoc | None] = field(default_factory=list)
    data_base: int = 0  # classic: where data starts in the one memory
    memory_size: int = 0  # classic: words of memory (0: the default for the width)

    # -- derived ---------------------------------------------------------------------

    @property
    def spec(self) -> ISA:
        return get_isa(self.isa)

    @property
    def n(self) -> int:
        return int(self.code.shape[0])

    @property
    def k(self) -> int:
        return int(self.data.shape[0])

    def symbol(self, name: str) -> Symbol:
        if name not in self.symbols:
            known = ", ".join(sorted(self.symbols)) or "none"
            raise SynthError(f"unknown data label {name!r} (known: {known})")
        return self.symbols[name]

    def cells(self, names: list[str]) -> list[int]:
        """The data addresses of these labels' cells, label by label, in order."""
        out: list[int] = []
        for name in names:
            s = self.symbol(name)
            out.extend(range(s.address, s.address + s.size))
        return out

    def input_cells(self) -> list[int]:
        return self.cells(self.inputs)

    def row_at(self, pc: int) -> int | None:
        """The instruction row that ``pc`` points at (pc counts rows, or for code in memory
        words, ``pc_per_row`` of them a row), or None when it points at none."""
        per = self.spec.pc_per_row
        if pc < 0 or pc % per:
            return None
        row = pc // per
        return row if row < self.n else None

    # -- validation --------------------------------------------------------------------

    def validate(self, where: str = "program") -> Program:
        """Check every field against its domain, so compiled runtimes need no checks
        on static addresses. Raises SynthError naming the row and field."""
        isa = get_isa(self.isa)
        check_word_bits(self.word_bits)
        code = self.code
        if code.ndim != 2 or code.shape[1] != isa.width:
            raise SynthError(f"{where}: code must be rows of {isa.width} fields {isa.field_names}, got shape {code.shape}")
        n, k = self.n, self.k
        if isa.static_code:
            if n < 1:
                raise SynthError(f"{where}: code needs at least row 0 (the halt row)")
            if k < 1:
                raise SynthError(f"{where}: data memory needs at least one cell")
            message = isa.check_halt_row(code[0]) if isa.check_halt_row else None
            if message:
                raise SynthError(f"{where}: {message}, got {code[0].tolist()}")
            for j, f in enumerate(isa.fields):
                size = isa.domain_size(f.domain, n=n, k=k)
                column = code[:, j]
                bad = np.flatnonzero((column < 0) | (column >= size))
                if bad.size:
                    row = int(bad[0])
                    raise SynthError(
                        f"{where}: row {row} field {f.name!r} is {int(column[row])}, outside [0, {size})"
                        f" ({_domain_words(f.domain, n, k)})"
                    )
        else:
            self._shared().validate(self, where)
        for name, s in self.symbols.items():
            if s.size < 0 or s.address < 0 or s.address + s.size > k:
                raise SynthError(f"{where}: symbol {name!r} ({s.address}, size {s.size}) lies outside data memory (k = {k})")
        for name in (*self.inputs, *self.outputs):
            if name not in self.symbols:
                raise SynthError(f"{where}: input/output {name!r} is not a data symbol")
        for name, value in self.labels.items():
            if not isinstance(value, int) or value < 0:
                raise SynthError(f"{where}: code label {name!r} has a bad value {value!r}")
        return self

    # -- the machine a runtime acts on (code in memory: the ISA's shared_memory layout) --------

    def memory_image(self) -> np.ndarray:
        """The one memory of an ISA whose code lives in memory (classic): code, then data from data_base."""
        return self._shared().image(self)

    def data_area(self, memory: np.ndarray) -> np.ndarray:
        """The program's data cells of a final memory: all of it for static code; the data
        area inside the one memory otherwise."""
        layout = self.spec.shared_memory
        return memory if layout is None else layout.data_area(self, memory)

    def compiled_port_check(self) -> None:
        """What the compiler must keep clear in the one memory (classic: code below 2^(w-1), off the port)."""
        self._shared().check_compiled(self)

    def _shared(self) -> Any:
        layout = self.spec.shared_memory
        if layout is None:
            raise SynthError(f"{self.isa}: code and data are separate (no one memory to lay out)")
        return layout

    # -- JSON (isa/program_json.py) ----------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        from isa.program_json import program_to_json

        return program_to_json(self)

    @classmethod
    def from_json(cls, obj: Any, where: str = "program") -> Program:
        from isa.program_json import program_from_json

        return program_from_json(obj, where)


def _domain_words(domain: Domain, n: int, k: int) -> str:
    return {
        Domain.DATA: f"a data address; k = {k} cells",
        Domain.CODE: f"an instruction number; n = {n} rows",
        Domain.OPCODE: "an opcode",
        Domain.MEMORY: "a memory word",
    }[domain]
