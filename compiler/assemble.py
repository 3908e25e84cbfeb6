"""Pass 5: lowered rows + layout -> ``Program`` (isa/program.py), with numbers everywhere.

Data operands become data addresses (plus ``data_base`` where code and data share one
memory), code targets become code addresses, ``HALT`` the ISA's halting target. The
program keeps its symbols, code labels, calling convention, descriptions, tests and a
source map (one ``SourceLoc`` per row; ``None`` for rows with no source line).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compiler.diagnostics import CompileError
from compiler.expressions import finish
from compiler.flat import FlatProgram
from compiler.flat_to_isa import Lowered, RowRef
from compiler.layout import Layout, label_values
from isa.lowering import DATA_BASE, HALT, ZERO, Cell, CodeWord, Const, Imm, Scratch
from isa.program import Program, SourceLoc, Symbol, TestCase


def _field_resolver(lowered: Lowered, lay: Layout):  # noqa: ANN202
    w = lowered.word_bits
    base = lay.data_base
    scale = lay.code_scale
    mask = (1 << w) - 1
    cache: dict[object, int] = {}

    def resolve(f: object) -> int:
        v = cache.get(f)
        if v is not None:
            return v
        if isinstance(f, int):
            v = f
        elif isinstance(f, RowRef):
            v = f.row * scale
        elif isinstance(f, Cell):
            b, off = f.key
            v = base + lay.block_address[b] + off
        elif isinstance(f, Imm):
            value = lay.immediates[f.key]
            v = base + lay.const_address[_wrap(-value, w, mask) if f.negated else value]
        elif isinstance(f, Const):
            v = base + lay.const_address[_wrap(f.value, w, mask)]
        elif f is DATA_BASE:
            v = base + lay.const_address[_wrap(base, w, mask)]
        elif f is ZERO:
            v = base
        elif isinstance(f, Scratch):
            v = base + lay.scratch_base + f.index
        elif isinstance(f, CodeWord):
            v = f.row * scale + f.field
        elif f is HALT:
            v = lowered.lowering.halt_target
        else:
            raise AssertionError(f"cannot resolve field {f!r}")
        cache[f] = v
        return v

    return resolve


def _wrap(value: int, w: int, mask: int) -> int:
    value &= mask
    return value - (1 << w) if value >> (w - 1) else value


def _tests(flat: FlatProgram, lowered: Lowered, lay: Layout, symbols: dict[str, Symbol]) -> list[TestCase]:
    value_of = label_values(flat, lowered, lay.block_address, lay.code_scale, flat.consts)
    tests = []
    for spec in flat.tests:
        case = TestCase(spec.name, max_steps=spec.max_steps, loc=SourceLoc(spec.pos.file, spec.pos.line))
        for kind, entries in (("set", spec.sets), ("expect", spec.expects)):
            target = case.set if kind == "set" else case.expect
            for label, pos, values, _ in entries:
                sym = symbols.get(label)
                if sym is None:
                    if label in flat.code_labels:
                        raise CompileError(f"'{label}' is a code label, not a data label", pos)
                    raise CompileError(f"undefined data label '{label}' in .{kind}", pos)
                if len(values) > sym.size:
                    raise CompileError(
                        f".{kind} gives {len(values)} values for '{label}', which has {sym.size} cell{'s' if sym.size != 1 else ''}", pos)
                target[label] = [finish(v, value_of, None) for v in values]
        tests.append(case)
    return tests


def _source_map(flat: FlatProgram, lowered: Lowered) -> list[SourceLoc | None]:
    out: list[SourceLoc | None] = []
    cache: dict[int, SourceLoc | None] = {}
    for i in lowered.row_instr:
        loc = cache.get(i, False)
        if loc is False:
            pos = flat.instrs[i].pos if i >= 0 else None
            loc = SourceLoc(pos.file, pos.line, pos.source.line(pos.line).strip()) if pos is not None else None
            cache[i] = loc
        out.append(loc)  # type: ignore[arg-type]
    return out


def assemble(flat: FlatProgram, lowered: Lowered, lay: Layout) -> Program:
    """The finished program, validated."""
    resolve = _field_resolver(lowered, lay)
    code = np.array([[resolve(f) for f in row] for row in lowered.rows], dtype=np.int64).reshape(-1, lowered.isa.width)
    data = np.array(lay.data, dtype=np.int64)
    symbols = {}
    for name in flat.public:
        b = flat.data_labels.get(name)
        if b is not None:
            symbols[name] = Symbol(lay.block_address[b], flat.blocks[b].size)
    labels = {name: lowered.starts[flat.code_labels[name]] * lay.code_scale for name in flat.public if name in flat.code_labels}
    program = Program(
        isa=lowered.isa.name,
        code=code,
        data=data,
        word_bits=lowered.word_bits,
        name=Path(flat.main.name).stem,
        symbols=symbols,
        labels=labels,
        inputs=[name for name, _ in flat.inputs],
        outputs=[name for name, _ in flat.outputs],
        descriptions=list(flat.descriptions),
        tests=_tests(flat, lowered, lay, symbols),
        source_map=_source_map(flat, lowered),
        data_base=lay.data_base,
        memory_size=lay.memory_size,
    )
    return program.validate(flat.main.name)
