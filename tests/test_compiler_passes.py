"""Each expansion pass on its own (compiler/pipeline.py calls them one per line):
ast_to_lines expands, lines_to_flat collects, symbols_to_cells resolves."""

from __future__ import annotations

import pytest

from compiler.ast_to_lines import ast_to_lines
from compiler.diagnostics import CompileError
from compiler.expressions import Sym
from compiler.lines import XData, XDirective, XInstruction, XLabel, XScope
from compiler.lines_to_flat import lines_to_flat
from compiler.source_to_ast import source_to_ast
from compiler.symbols_to_cells import symbols_to_cells
from isa.lowering import Cell, Imm, Target

SOURCE = """\
.const N = 3
.macro twice x
    add x, x
.endm
start:
.rep i, N
    twice acc
.endr
    jmp start
.data
acc: .word N * 2
pair: .word 1, 2
"""


def expand(text: str = SOURCE):
    return ast_to_lines(source_to_ast(text, "t.sasm"))


def test_ast_to_lines_expands_macros_rep_and_constants() -> None:
    x = expand()
    kinds = [type(i).__name__ for i in x.items]
    assert kinds.count("XInstruction") == 4  # three macro expansions, then jmp
    assert kinds.count("XScope") == 6  # each expansion begins and ends
    first = next(i for i in x.items if isinstance(i, XInstruction))
    assert first.name == "add" and [op.value for op in first.operands] == [Sym("acc", 0, first.operands[0].pos)] * 2
    assert first.context is not None and "twice" in first.context.note
    data = [i for i in x.items if isinstance(i, XData)]
    assert [d.values for d in data] == [[6], [1, 2]]  # N * 2 folded
    assert x.consts == {"N": 3} and x.public == ["start", "acc", "pair"]
    assert [i.name for i in x.items if isinstance(i, XDirective)] == ["data"]
    assert all(isinstance(i, XLabel | XInstruction | XData | XDirective | XScope) for i in x.items)


def test_lines_to_flat_lays_out_labels_and_blocks_with_symbols_left() -> None:
    flat = lines_to_flat(expand())
    assert [i.mnemonic for i in flat.instrs] == ["add", "add", "add", "jmp"]
    assert flat.code_labels == {"start": 0}
    assert flat.data_labels == {"acc": 0, "pair": 1}
    assert [b.values for b in flat.blocks] == [[6], [1, 2]]
    kind, sym, _ = flat.instrs[3].operands[0]
    assert (kind, sym.name) == ("code", "start")  # still a symbol


def test_symbols_to_cells_resolves_operands_and_adds_no_needless_halt() -> None:
    flat = symbols_to_cells(lines_to_flat(expand()))
    assert flat.instrs[0].operands == (Cell((0, 0)), Cell((0, 0)))
    assert flat.instrs[3].operands == (Target(0),)
    assert [i.mnemonic for i in flat.instrs][-1] == "jmp"  # control never runs off the end

    ends = symbols_to_cells(lines_to_flat(expand(".data\nx: .word 0\n.code\n    add #5, x\n")))
    assert [i.mnemonic for i in ends.instrs] == ["add", "halt"]
    assert ends.instrs[0].operands == (Imm(0), Cell((0, 0))) and ends.immediates[0].value == 5


@pytest.mark.parametrize("text, message", [
    ("    add nope, nope\n", "undefined data label 'nope'"),
    (".data\npair: .word 1, 2\n.code\n    add pair+2, pair\n", "outside 'pair'"),
    ("    jmp acc\n.data\nacc: .word 0\n", "is a data label, not a code label"),
])
def test_symbols_to_cells_errors(text: str, message: str) -> None:
    flat = lines_to_flat(expand(text))  # the earlier passes accept it
    with pytest.raises(CompileError, match=message):
        symbols_to_cells(flat)


def test_lines_to_flat_checks_sections_and_operand_roles() -> None:
    with pytest.raises(CompileError, match="in the .data section"):
        lines_to_flat(expand(".data\n    add x, x\n"))
    with pytest.raises(CompileError, match="read-only"):
        lines_to_flat(expand("    add x, #2\n"))
