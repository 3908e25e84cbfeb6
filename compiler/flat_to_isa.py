"""Pass 3: ``FlatProgram`` -> rows of the target ISA, still symbolic in their addresses.

Each portable instruction goes through its ISA's rule (``isa.lowering.Lowering``), which
emits rows in the ISA's field order. Row-relative targets (``NEXT``, ``END``, ``Local``)
and ``CodeWord`` rows become absolute here; ``Target`` (the program's jumps) becomes the
first row of the instruction it names. Data operands stay symbolic until layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.diagnostics import CompileError
from compiler.flat import FlatProgram
from isa.base import ISA
from isa.lowering import END, NEXT, CodeWord, Local, Lowering, Scratch, Target

MAX_ROWS = 1 << 21  # rows of the target ISA


@dataclass(frozen=True, slots=True)
class RowRef:
    """An absolute row number (a code address once scaled)."""

    row: int


@dataclass
class Lowered:
    isa: ISA
    lowering: Lowering
    word_bits: int
    rows: list[tuple]  # one tuple of fields per row, row 0 included
    row_instr: list[int]  # the instruction each row comes from (-1: the reserved row)
    starts: list[int]  # the first row of each instruction, then the end
    scratch: int  # scratch cells the rules used


class _Emitter:
    __slots__ = ("word_bits", "rows")

    def __init__(self, word_bits: int) -> None:
        self.word_bits = word_bits
        self.rows: list[tuple] = []

    def row(self, *fields: object) -> None:
        self.rows.append(fields)


def flat_to_isa(flat: FlatProgram, isa: ISA, word_bits: int) -> Lowered:
    """Lower every instruction with the ISA's rules."""
    lowering: Lowering | None = isa.lowering
    if lowering is None:
        raise CompileError(f"the compiler cannot target ISA '{isa.name}' (it declares no lowering rules)", file=flat.main.name)
    rows: list[tuple] = []
    row_instr: list[int] = []
    if lowering.reserved_row is not None:
        rows.append(tuple(lowering.reserved_row))
        row_instr.append(-1)
    starts: list[int] = []
    scratch = 0
    jumps: list[int] = []  # rows with a Target field
    width = isa.width
    emitter = _Emitter(word_bits)
    for index, instr in enumerate(flat.instrs):
        rule = lowering.rule(instr.mnemonic)
        if rule is None:
            why = lowering.missing.get(instr.mnemonic, "{isa} cannot express '{mnemonic}'")
            raise CompileError(why.format(isa=f"ISA '{isa.name}'", mnemonic=instr.mnemonic), instr.pos, instr.context,
                               target_specific=True)
        start = len(rows)
        starts.append(start)
        emitter.rows = []
        rule(emitter, *instr.operands)
        count = len(emitter.rows)
        if start + count > MAX_ROWS:
            raise CompileError(f"the program needs more than {MAX_ROWS:,} {isa.name} instructions", instr.pos, instr.context,
                               target_specific=True)
        end = RowRef(start + count)
        for i, fields in enumerate(emitter.rows):
            if len(fields) != width:
                raise AssertionError(f"{isa.name} rule for {instr.mnemonic} emitted {len(fields)} fields, not {width}")
            out = []
            for f in fields:
                if isinstance(f, Target):
                    jumps.append(len(rows))
                elif f is NEXT:
                    f = RowRef(start + i + 1) if i + 1 < count else end
                elif f is END:
                    f = end
                elif isinstance(f, Local):
                    f = RowRef(start + f.row)
                elif isinstance(f, CodeWord):
                    f = CodeWord(start + f.row, f.field)
                elif isinstance(f, Scratch) and f.index >= scratch:
                    scratch = f.index + 1
                out.append(f)
            rows.append(tuple(out))
        row_instr.extend([index] * count)
    starts.append(len(rows))
    for r in jumps:  # the program's jumps, now that every instruction has its first row
        rows[r] = tuple(RowRef(starts[f.key]) if isinstance(f, Target) else f for f in rows[r])
    return Lowered(isa, lowering, word_bits, rows, row_instr, starts, scratch)
