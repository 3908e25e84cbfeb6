"""The vocabulary ISA lowering rules are written in, shared by the compiler and every ISA.

The compiler expands a program into *portable instructions* (spec/assembly.md: ``mov``,
``add``, the conditional jumps, ...). Each ISA says how to express each of them as rows
of its own fields through a ``Lowering``: one rule per mnemonic, a function that emits
rows whose fields are written symbolically:

- data operands: ``Cell`` (a cell the program names), ``Imm`` (a read-only constant cell
  holding one of the program's ``#immediates``, or its negation), ``Const`` (a constant
  cell whose value the rule chooses, such as 1 or -1), ``ZERO`` (data cell 0, which is 0
  whenever no instruction is mid-way through using it), ``Scratch`` (a cell the rule may
  clobber), ``CodeWord`` (a word of this sequence's own code, for self-modifying code on
  a machine whose code lives in data memory), ``DATA_BASE`` (a constant cell holding the
  address where the data area starts, on such machines);
- code targets: ``Target`` (where the program jumps), ``NEXT`` (the row after the one
  being emitted), ``Local(i)`` (row i of this sequence), ``END`` (the row after the
  sequence) and ``HALT`` (the ISA's way to stop);
- plain ``int`` fields are stored as they are (opcodes, unused fields, placeholders).

The compiler lays out memory and turns these into numbers; the rules never see
addresses. Adding an ISA means writing its rules; nothing in the compiler changes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

# -- the portable instructions -----------------------------------------------------------------

# Operand roles: "src" (a data cell that is read), "dst" (a data cell that is written,
# never an immediate), "target" (a code address); a trailing "?" makes it optional.
PORTABLE: dict[str, tuple[str, ...]] = {
    "subleq": ("src", "dst", "target?"),
    "mov": ("src", "dst"),
    "add": ("src", "dst"),
    "sub": ("src", "dst"),
    "neg": ("dst",),
    "clr": ("dst",),
    "inc": ("dst",),
    "dec": ("dst",),
    "jmp": ("target",),
    "jle": ("src", "target"),
    "jlt": ("src", "target"),
    "jeq": ("src", "target"),
    "jne": ("src", "target"),
    "jge": ("src", "target"),
    "jgt": ("src", "target"),
    "halt": (),
    "load": ("src", "dst"),  # dst = mem[mem[ptr]]
    "store": ("src", "src"),  # mem[mem[ptr]] = src (the pointer cell is only read)
}

# Instructions after which control never reaches the next instruction.
NO_FALLTHROUGH = frozenset({"jmp", "halt"})


# -- data operands ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    """A data cell the program names (a label plus an offset); ``key`` is the compiler's."""

    key: Hashable


@dataclass(frozen=True, slots=True)
class Imm:
    """A read-only constant cell holding the program's immediate ``key`` (negated if asked)."""

    key: Hashable
    negated: bool = False

    def negate(self) -> Imm:
        return Imm(self.key, not self.negated)


@dataclass(frozen=True, slots=True)
class Const:
    """A read-only constant cell with a value the rule knows (shared with equal immediates)."""

    value: int


@dataclass(frozen=True, slots=True)
class Scratch:
    """A cell a rule may clobber; its value is undefined when the rule's rows begin."""

    index: int


@dataclass(frozen=True, slots=True)
class CodeWord:
    """The memory word holding field ``field`` of row ``row`` of this sequence (machines
    whose code lives in data memory only: the rule patches its own code)."""

    row: int
    field: int


class _Named:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


ZERO = _Named("ZERO")  # data cell 0
DATA_BASE = _Named("DATA_BASE")  # a constant cell holding where the data area starts

DataOperand = Cell | Imm | Const | Scratch | CodeWord | _Named


# -- code targets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """Where the program jumps: the first row of a portable instruction (``key``: the compiler's)."""

    key: Hashable


@dataclass(frozen=True, slots=True)
class Local:
    """Row ``row`` of the sequence being emitted (0 is its first row)."""

    row: int


NEXT = _Named("NEXT")  # the row after the one being emitted
END = _Named("END")  # the row after the whole sequence
HALT = _Named("HALT")  # stop: Lowering.halt_target

CodeOperand = Target | Local | _Named
FieldValue = int | DataOperand | CodeOperand


# -- rules and the emitter -------------------------------------------------------------------


class Emitter(Protocol):
    """What a rule writes rows to."""

    word_bits: int

    def row(self, *fields: FieldValue) -> None:
        """Append one row; ``fields`` in the ISA's field order."""
        ...


Rule = Callable[..., None]  # rule(emitter, *operands) for the operands of PORTABLE[mnemonic]


@dataclass(frozen=True)
class Lowering:
    """How one ISA expresses the portable instructions, and how its code is laid out."""

    rules: Mapping[str, Rule]
    missing: Mapping[str, str] = field(default_factory=dict)  # mnemonic -> why not, and what instead
    halt_target: int = 0  # what HALT becomes in a code field
    reserved_row: tuple[int, ...] | None = None  # row 0's fixed contents (None: no reserved row)
    code_scale: int = 1  # the code address of row r is r * code_scale
    shared_memory: bool = False  # code and data share one memory; data follows the code
    notes: str = ""

    def rule(self, mnemonic: str) -> Rule | None:
        return self.rules.get(mnemonic)


NO_INDIRECT = (  # the reason an ISA without indirect addressing gives for load and store
    "{isa} has no indirect addressing, so '{mnemonic}' cannot be compiled for it: "
    "unroll the access over the array with .rep, or compile with --isa ext"
)


def max_word(word_bits: int) -> int:
    """The largest signed word: 2^(w-1) - 1."""
    return (1 << (word_bits - 1)) - 1
