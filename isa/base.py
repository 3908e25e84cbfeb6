"""The vocabulary every ISA is written in: fields and their domains, ops, statuses, words.

An ISA is data (its fields, op table and defaults) plus two implementations of one
run loop: a plain-Python reference (the executable specification) and a fast body
written in the subset of Python that both ``numba.njit`` and ``numba.cuda.jit``
compile, which the CPU and CUDA launchers share.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

WORD_BITS = (8, 16, 32, 64)


class SynthError(Exception):
    """A user-facing error: printed as one line, never with a traceback."""


class Status(enum.IntEnum):
    """How a run stopped. Values 0-3 are the public statuses of spec/isa.md."""

    HALTED = 0
    FELL_OFF = 1
    STEP_LIMIT = 2
    BAD_ADDRESS = 3
    # Internal: the fast body suspends so the host can service it, then resumes.
    NEED_INPUT = 4
    OUTPUT_FULL = 5
    TRACE_FULL = 6

    @property
    def label(self) -> str:
        return self.name.lower()


PUBLIC_STATUSES = (Status.HALTED, Status.FELL_OFF, Status.STEP_LIMIT, Status.BAD_ADDRESS)


class Domain(enum.StrEnum):
    """What values a field ranges over; the neural heads are sized from this."""

    DATA = "data"  # a data-memory address: [0, k)
    CODE = "code"  # an instruction number: [0, n)
    OPCODE = "opcode"  # an index into the op table: [0, len(ops))
    MEMORY = "memory"  # a word of a single code+data memory (classic): any word


@dataclass(frozen=True)
class Field:
    name: str
    domain: Domain
    doc: str = ""


@dataclass(frozen=True)
class Op:
    """One row of an op table: its number, mnemonic, the fields it reads, and its effect."""

    code: int
    mnemonic: str
    operands: tuple[str, ...]
    effect: str


@dataclass(frozen=True)
class ISA:
    """One instruction-set definition, from which everything else is derived."""

    name: str
    summary: str
    fields: tuple[Field, ...]
    ops: tuple[Op, ...]
    static_code: bool  # False when code lives in data memory (the neural layer refuses it)
    default_word_bits: int
    start_pc: int
    reference_run: Callable[..., tuple[int, int, Status]]
    fast_run: Callable[..., tuple[int, int, int]]
    check_halt_row: Callable[[np.ndarray], str | None] | None = None
    doc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    lowering: Any = None  # isa.lowering.Lowering: how the compiler expresses the portable instructions
    pc_per_row: int = 1  # how far pc moves per instruction row (classic: 3 words; static code: 1 row)
    shared_memory: Any = None  # code in memory: the layout of the one memory (isa/classic.py, OneMemory); None: static code

    def _shared_default(self, word_bits: int) -> int:
        if self.shared_memory is None:
            raise SynthError(f"{self.name}: code and data are separate (no memory image)")
        return self.shared_memory.default_size(word_bits)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def width(self) -> int:
        """Number of fields in one instruction row."""
        return len(self.fields)

    def op(self, mnemonic: str) -> Op:
        for op in self.ops:
            if op.mnemonic == mnemonic:
                return op
        raise SynthError(f"ISA {self.name!r} has no op {mnemonic!r}")

    @property
    def opcode_column(self) -> int | None:
        """Which field is the opcode (None: the ISA has one instruction)."""
        return next((j for j, f in enumerate(self.fields) if f.domain is Domain.OPCODE), None)

    def mnemonic(self, row: Any) -> str:
        """The op a row performs, by name ("" for an ISA without an opcode field)."""
        j = self.opcode_column
        if j is None:
            return ""
        op = int(row[j])
        return self.ops[op].mnemonic if 0 <= op < len(self.ops) else "?"

    def columns_read(self, row: Any) -> list[int]:
        """The fields a row's instruction reads: all of them without an opcode field, else
        the opcode and its op's operands (the others are stored as 0)."""
        j = self.opcode_column
        if j is None:
            return list(range(self.width))
        operands = self.ops[int(row[j])].operands
        return [i for i, f in enumerate(self.fields) if i == j or f.name in operands]

    def domain_size(self, domain: Domain, *, n: int, k: int, word_bits: int | None = None) -> int:
        """How many values a field of this domain can take, for n rows and k data cells."""
        if domain is Domain.DATA:
            return k
        if domain is Domain.CODE:
            return n
        if domain is Domain.OPCODE:
            return len(self.ops)
        bits = word_bits or self.default_word_bits
        return 1 << bits

    def field_sizes(self, *, n: int, k: int, word_bits: int | None = None) -> dict[str, int]:
        """Each field's number of classes: what a classification head over it needs."""
        return {f.name: self.domain_size(f.domain, n=n, k=k, word_bits=word_bits) for f in self.fields}


# ---------------------------------------------------------------------------
# Words


def word_range(bits: int) -> tuple[int, int]:
    """Values accepted as input at this width: [-2^(w-1), 2^w)."""
    return -(1 << (bits - 1)), 1 << bits


def check_word_bits(bits: int) -> int:
    if bits not in WORD_BITS:
        raise SynthError(f"word width must be one of 8, 16, 32, 64, not {bits}")
    return bits


def wrap(value: int, bits: int) -> int:
    """Wrap an integer to a signed word of ``bits`` bits (two's complement)."""
    mask = (1 << bits) - 1
    value &= mask
    return value - (1 << bits) if value >> (bits - 1) else value


def to_word(value: int, bits: int, what: str = "value") -> int:
    """Check that ``value`` lies in [-2^(w-1), 2^w) and store it wrapped to signed."""
    lo, hi = word_range(bits)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise SynthError(f"{what} must be an integer, not {value!r}")
    value = int(value)
    if not lo <= value < hi:
        raise SynthError(f"{what} {value} does not fit a {bits}-bit word (allowed: {lo} .. {hi - 1})")
    return wrap(value, bits)


def words_to_array(values: Any, bits: int, what: str) -> np.ndarray:
    """Range-check a sequence of integers and return them wrapped, as int64."""
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        out[i] = to_word(v, bits, f"{what}[{i}]")
    return out


def wrap_array(values: np.ndarray, bits: int, what: str) -> np.ndarray:
    """Vectorised ``to_word`` for int64 arrays (at 64 bits every int64 already fits)."""
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        raise SynthError(f"{what} must hold integers, not {values.dtype}")
    if values.dtype.kind == "u" and values.dtype.itemsize == 8 and bits == 64:
        return values.view(np.int64).copy()
    values = values.astype(np.int64, copy=True)
    if bits == 64:
        return values
    lo, hi = word_range(bits)
    bad = (values < lo) | (values >= hi)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise SynthError(
            f"{what} at index {idx if len(idx) > 1 else idx[0]} is {int(values[idx])}, "
            f"which does not fit a {bits}-bit word (allowed: {lo} .. {hi - 1})"
        )
    shift = 64 - bits
    return (values << shift) >> shift


def shift_for(bits: int) -> int:
    """The fast bodies wrap a 64-bit result r to w bits as (r << s) >> s with s = 64 - w."""
    return 64 - check_word_bits(bits)
