"""The flat program: what ``lines_to_flat`` produces and lowering consumes.

No macros, ``.rep`` blocks or includes are left: a list of portable instructions, the
data blocks in source order, and the program's metadata. ``lines_to_flat`` leaves code
and data operands as symbols; ``symbols_to_cells`` turns them into the lowering
vocabulary of ``isa.lowering`` (``Cell`` keyed by (data block, offset), ``Imm`` keyed by
an index into ``immediates``, ``Target`` keyed by an instruction index).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.ast import Pos, Source
from compiler.diagnostics import Context
from compiler.expressions import Value


@dataclass(slots=True)
class FlatInstr:
    mnemonic: str  # lower case, a key of isa.lowering.PORTABLE
    operands: tuple  # isa.lowering operands (Cell, Imm, Target)
    pos: Pos | None  # None: added by the compiler (the trailing halt)
    context: Context | None = None


@dataclass(slots=True)
class DataBlock:
    """Cells that stay together: a label's cells up to the next data label (or anonymous)."""

    labels: list[str]  # its names (aliases); empty for cells before any label
    values: list[Value] = field(default_factory=list)
    positions: list[Pos] = field(default_factory=list)
    contexts: list[Context | None] = field(default_factory=list)
    pos: Pos | None = None  # where it starts
    fresh: bool = True  # no data directive since its label: another label here is an alias

    @property
    def size(self) -> int:
        return len(self.values)


@dataclass(slots=True)
class Immediate:
    value: Value
    pos: Pos
    context: Context | None


@dataclass(slots=True)
class TestSpec:
    name: str
    pos: Pos
    sets: list[tuple[str, Pos, list[Value], list[Pos]]] = field(default_factory=list)
    expects: list[tuple[str, Pos, list[Value], list[Pos]]] = field(default_factory=list)
    max_steps: int = 1_000_000


@dataclass
class FlatProgram:
    main: Source
    instrs: list[FlatInstr]
    blocks: list[DataBlock]
    immediates: list[Immediate]
    code_labels: dict[str, int]  # label -> instruction index (== len(instrs): the end)
    data_labels: dict[str, int]  # label -> block index
    label_pos: dict[str, Pos]
    public: list[str]  # labels written without '@', in definition order
    inputs: list[tuple[str, Pos]]
    outputs: list[tuple[str, Pos]]
    descriptions: list[str]
    tests: list[TestSpec]
    isa: tuple[str, Pos] | None
    consts: dict[str, int] = field(default_factory=dict)
