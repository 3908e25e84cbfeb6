"""Pass 4: ``FlatProgram`` with symbolic operands -> the lowering vocabulary.

Every operand left as a symbol by ``lines_to_flat`` becomes a ``Target`` (an instruction
number: a code label plus its offset, at most one past the end) or a ``Cell`` (a data
block and an offset inside it: an operand may not reach into the next label's cells,
since the layout may move labels apart). A ``halt`` is appended where control could run
off the end, and the names that ``.input`` and ``.output`` declare are checked to be data
labels, each declared once.
"""

from __future__ import annotations

import difflib

from compiler.ast import Pos
from compiler.diagnostics import CompileError, Context
from compiler.expressions import Sym
from compiler.flat import FlatInstr, FlatProgram
from isa.lowering import NO_FALLTHROUGH, Cell, Target


def symbols_to_cells(flat: FlatProgram) -> FlatProgram:
    """Resolve every symbolic operand in place; the same program, ready for lowering."""
    end = len(flat.instrs)
    reaches_end = not flat.instrs or flat.instrs[-1].mnemonic not in NO_FALLTHROUGH
    for instr in flat.instrs:
        ops = []
        for op in instr.operands:
            if isinstance(op, tuple):
                kind, sym, ctx = op
                op = code_target(flat, sym, ctx) if kind == "code" else data_cell(flat, sym, ctx)
                if kind == "code" and op.key == end:
                    reaches_end = True
            ops.append(op)
        instr.operands = tuple(ops)
    if reaches_end or end in flat.code_labels.values():
        flat.instrs.append(FlatInstr("halt", (), None, None))
    for names in (flat.inputs, flat.outputs):
        seen: set[str] = set()
        for name, pos in names:
            data_label(flat, name, pos, None)
            if name in seen:
                raise CompileError(f"'{name}' is declared twice", pos)
            seen.add(name)
    return flat


def data_label(flat: FlatProgram, name: str, pos: Pos, ctx: Context | None) -> int:
    """The block of a data label named in .input/.output/.set/.expect."""
    if name in flat.data_labels and not name.startswith("@"):
        return flat.data_labels[name]
    raise CompileError(_not_data(flat, name, name), pos, ctx)


def data_cell(flat: FlatProgram, sym: Sym, ctx: Context | None) -> Cell:
    b = flat.data_labels.get(sym.name)
    if b is None:
        raise CompileError(_not_data(flat, sym.name, sym.written), sym.pos, ctx)
    size = flat.blocks[b].size
    if not 0 <= sym.offset < size:
        if size == 0:
            raise CompileError(f"'{sym.written}' has no cells (a data label's cells run up to the next data label)", sym.pos, ctx)
        cells = f"{size} cell{'' if size == 1 else 's'}"
        raise CompileError(
            f"'{sym.written}{sym.offset:+d}' is outside '{sym.written}' ({cells}: offsets 0 to {size - 1}); "
            "the layout may move labels apart, so an operand may not reach into the next label", sym.pos, ctx)
    return Cell((b, sym.offset))


def code_target(flat: FlatProgram, sym: Sym, ctx: Context | None) -> Target:
    i = flat.code_labels.get(sym.name)
    if i is None:
        if sym.name in flat.data_labels:
            raise CompileError(f"'{sym.written}' is a data label, not a code label", sym.pos, ctx)
        raise CompileError(f"undefined code label '{sym.written}'{_suggest(sym.name, flat.code_labels)}", sym.pos, ctx)
    j = i + sym.offset
    if not 0 <= j <= len(flat.instrs):
        raise CompileError(f"'{sym.written}{sym.offset:+d}' is outside the code ({len(flat.instrs)} instructions)", sym.pos, ctx)
    return Target(j)


def _not_data(flat: FlatProgram, name: str, shown: str) -> str:
    if name in flat.code_labels:
        return f"'{shown}' is a code label, not a data label"
    if name in flat.consts:
        return f"'{shown}' is a constant, not a data label (write #{shown} for its value)"
    return f"undefined data label '{shown}'{_suggest(name, flat.data_labels)}"


def _suggest(name: str, pool: dict[str, int]) -> str:
    close = difflib.get_close_matches(name, [n for n in pool if not n.startswith("@")], n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""
