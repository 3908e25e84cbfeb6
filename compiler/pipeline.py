"""The whole compiler on one screen: each pass, in order, one line each."""

from __future__ import annotations

from pathlib import Path

from compiler.assemble import assemble
from compiler.ast_to_lines import ast_to_lines
from compiler.diagnostics import CompileError
from compiler.flat import FlatProgram
from compiler.flat_to_isa import flat_to_isa
from compiler.layout import layout
from compiler.lines_to_flat import lines_to_flat
from compiler.source_to_ast import read_source, source_to_ast
from compiler.symbols_to_cells import symbols_to_cells
from isa.base import ISA, WORD_BITS
from isa.program import Program
from isa.registry import REGISTRY

DEFAULT_ISA = "subleq"


def compile_source(text: str, filename: str = "<input>", isa: str | None = None, word_bits: int | None = None,
                   path: str | None = None) -> Program:
    """Compile assembly text for an ISA (default: the file's ``.isa``, else subleq)."""
    tree = source_to_ast(text, filename, path)  # text -> syntax tree
    lines = ast_to_lines(tree)  # includes, macros, .rep, constants -> one flat list of lines
    flat = lines_to_flat(lines)  # sections, code labels, data blocks, instruction checks
    flat = symbols_to_cells(flat)  # symbolic operands -> data cells and code targets
    target, bits = choose_target(flat, isa, word_bits)
    lowered = flat_to_isa(flat, target, bits)  # portable instructions -> rows of the ISA
    memory = layout(flat, lowered)  # the calling convention: where every data cell goes
    return assemble(flat, lowered, memory)  # numbers everywhere -> Program


def compile_file(path: str | Path, isa: str | None = None, word_bits: int | None = None) -> Program:
    """Compile a ``.sasm`` file; errors name it as it was given."""
    text, resolved = read_source(path)
    return compile_source(text, str(path), isa=isa, word_bits=word_bits, path=resolved)


def choose_target(flat: FlatProgram, isa: str | None, word_bits: int | None) -> tuple[ISA, int]:
    """The command line's ISA, else the file's ``.isa``, else subleq; its default width."""
    if isa is None and flat.isa is not None:
        name, pos = flat.isa
        if name not in REGISTRY:
            raise CompileError(f"unknown ISA '{name}' (registered: {', '.join(REGISTRY)})", pos)
        isa = name
    name = isa or DEFAULT_ISA
    if name not in REGISTRY:
        raise CompileError(f"unknown ISA '{name}' (registered: {', '.join(REGISTRY)})", file=flat.main.name)
    target = REGISTRY[name]
    bits = target.default_word_bits if word_bits is None else word_bits
    if bits not in WORD_BITS:
        raise CompileError(f"word width must be one of {', '.join(map(str, WORD_BITS))}, not {bits}", file=flat.main.name)
    return target, bits
