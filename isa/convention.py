"""The calling convention (spec/assembly.md, "Memory layout"): setting a program's inputs
(by label, from a label's first cell, or in the declared order) and reading its outputs."""

from __future__ import annotations

import numpy as np

from isa.base import SynthError, to_word
from isa.program import Program


def initial_data(
    program: Program, sets: dict[str, list[int]] | None = None, inputs: list[int] | None = None
) -> np.ndarray:
    """The program's initial data memory with ``--inputs`` (the input cells in
    calling-convention order) and then ``--set`` (a label's cells from its first) applied."""
    data = program.data.copy()
    w = program.word_bits
    if inputs is not None:
        cells = program.input_cells()
        if len(inputs) != len(cells):
            raise SynthError(f"{len(inputs)} input value{'s' if len(inputs) != 1 else ''} given but the program has "
                             f"{len(cells)} input cell{'s' if len(cells) != 1 else ''} ({', '.join(program.inputs) or 'none declared'}); "
                             "give one value per cell, or set a label's first cells with --set NAME=V1,...")
        for addr, v in zip(cells, inputs, strict=False):
            data[addr] = to_word(v, w, "input value")
    for name, values in (sets or {}).items():
        s = program.symbol(name)
        if len(values) > s.size:
            raise SynthError(f"{len(values)} values given for {name!r}, which has {s.size} cell{'s' if s.size != 1 else ''}")
        for i, v in enumerate(values):
            data[s.address + i] = to_word(v, w, f"value for {name}")
    return data


def read_outputs(program: Program, data: np.ndarray) -> dict[str, list[int]]:
    """Each ``.output`` label's cells after a run (``data`` is the data memory)."""
    out = {}
    for name in program.outputs:
        s = program.symbols[name]
        out[name] = [int(v) for v in data[s.address : s.address + s.size]]
    return out
