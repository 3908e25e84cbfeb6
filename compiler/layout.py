"""Pass 4: where every data cell goes (the calling convention of spec/assembly.md).

Data cell 0 is the zero cell; the ``.input`` labels follow from cell 1 in declared order,
each label's cells together; then the ``.output`` labels that are not inputs; then all
other data blocks in source order; then the constant cells (one per distinct value, in
order of first use); then the scratch cells. On an ISA whose code and data share one
memory, the data area starts right after the code (``data_base``) in the same order.

Immediates and initial data values are evaluated here, once labels have addresses, and
must fit the word: ``[-2^(w-1), 2^w)``, stored wrapped to signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.diagnostics import CompileError, Context
from compiler.expressions import Sym, Value, finish
from compiler.flat import FlatProgram
from compiler.flat_to_isa import Lowered
from isa.base import word_range, wrap
from isa.lowering import DATA_BASE, Const, Imm

MAX_SHARED_MEMORY = 1 << 24  # words; classic programs larger than 65,536 words (32- and 64-bit only)


@dataclass
class Layout:
    block_address: list[int]  # data address of each block
    const_address: dict[int, int]  # wrapped value -> data address
    immediates: list[int]  # each immediate's wrapped value
    scratch_base: int
    k: int  # data cells
    data: list[int]  # initial data memory (wrapped)
    data_base: int  # where data starts in a shared memory (0 otherwise)
    memory_size: int  # shared memory: its words (0 otherwise)
    code_scale: int

    def code_address(self, row: int) -> int:
        return row * self.code_scale


def fit(value: int, bits: int, what: str, pos: object, ctx: Context | None) -> int:
    """Range-check a value for a word of ``bits`` bits and wrap it to signed."""
    lo, hi = word_range(bits)
    if not lo <= value < hi:
        raise CompileError(f"{what} {value} does not fit a {bits}-bit word (allowed: {lo} to {hi - 1})", pos, ctx,  # type: ignore[arg-type]
                           target_specific=True)
    return wrap(value, bits)


def block_order(flat: FlatProgram) -> list[int]:
    """Block indices in memory order: inputs, outputs that are not inputs, the rest."""
    order: list[int] = []
    placed: set[int] = set()
    for name, _ in (*flat.inputs, *flat.outputs):
        b = flat.data_labels[name]
        if b not in placed:
            placed.add(b)
            order.append(b)
    order.extend(b for b in range(len(flat.blocks)) if b not in placed)
    return order


def label_values(flat: FlatProgram, lowered: Lowered, block_address: list[int], scale: int, consts: dict[str, int]):  # noqa: ANN201
    """A function giving each label its value: a data label its data address, a code label
    the code address of its instruction."""

    def value(sym: Sym) -> int:
        b = flat.data_labels.get(sym.name)
        if b is not None:
            return block_address[b]
        i = flat.code_labels.get(sym.name)
        if i is not None:
            return lowered.starts[i] * scale
        if sym.name in consts:
            return consts[sym.name]
        raise CompileError(f"undefined name '{sym.written}'", sym.pos)

    return value


def layout(flat: FlatProgram, lowered: Lowered) -> Layout:
    """Addresses for every data cell and the initial data memory."""
    w = lowered.word_bits
    lowering = lowered.lowering
    scale = lowering.code_scale
    order = block_order(flat)
    block_address = [0] * len(flat.blocks)
    address = 1  # cell 0 is the zero cell
    for b in order:
        block_address[b] = address
        address += flat.blocks[b].size
    data_base = len(lowered.rows) * scale if lowering.shared_memory else 0
    if lowering.shared_memory:
        _check_code_size(flat, len(lowered.rows), scale, w)
    value_of = label_values(flat, lowered, block_address, scale, flat.consts)

    def evaluate(v: Value, what: str, pos: object, ctx: Context | None) -> int:
        return fit(finish(v, value_of, ctx), w, what, pos, ctx)

    immediates = [evaluate(im.value, "immediate", im.pos, im.context) for im in flat.immediates]
    const_address: dict[int, int] = {}
    for row in lowered.rows:
        for f in row:
            if isinstance(f, Const):
                v = wrap(f.value, w)
            elif isinstance(f, Imm):
                v = wrap(-immediates[f.key], w) if f.negated else immediates[f.key]
            elif f is DATA_BASE:
                v = fit(data_base, w, "the data area's start address", None, None)
            else:
                continue
            if v not in const_address:
                const_address[v] = address
                address += 1
    scratch_base = address
    k = address + lowered.scratch
    data = [0] * k
    for b, block in enumerate(flat.blocks):
        base = block_address[b]
        for i, v in enumerate(block.values):
            data[base + i] = v if isinstance(v, int) and -(1 << (w - 1)) <= v < (1 << (w - 1)) else evaluate(
                v, "value", block.positions[i], block.contexts[i])
    for v, a in const_address.items():
        data[a] = v
    memory_size = _memory_size(flat, lowered.isa.shared_memory, data_base, k, w) if lowering.shared_memory else 0
    return Layout(block_address, const_address, immediates, scratch_base, k, data, data_base, memory_size, scale)


def _check_code_size(flat: FlatProgram, n: int, scale: int, w: int) -> None:
    """Shared memory: the code stays below 2^(w-1), so that pc reads as non-negative."""
    if n * scale > 1 << (w - 1):
        raise CompileError(
            f"the code takes {n * scale} words, but on a {w}-bit machine it must stay below address "
            f"2^{w - 1} = {1 << (w - 1)} (a larger word width helps: --word-bits)", file=flat.main.name, target_specific=True)


def _memory_size(flat: FlatProgram, memory: Any, data_base: int, k: int, w: int) -> int:
    """Shared memory (the ISA's ``shared_memory``, such as classic's OneMemory): its default
    size if the program fits it, else (at 32 and 64 bits) just enough; the addresses the
    ISA reserves (classic's I/O port, the all-ones word) stay outside the program."""
    need = data_base + k
    size = memory.default_size(w)
    usable = min(size, memory.reserved_from(w))
    if need <= usable:
        return size
    if w >= 32 and need <= MAX_SHARED_MEMORY:
        return need
    raise CompileError(
        f"the program needs {need:,} words of memory ({data_base:,} of code, {k:,} of data), more than the "
        f"{usable:,} usable words of a {w}-bit machine"
        + (" (a larger word width helps: --word-bits 32)" if w < 32 else ""), file=flat.main.name, target_specific=True)
