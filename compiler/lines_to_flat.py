"""Pass 3: ``ExpandedProgram`` -> ``FlatProgram`` with symbolic operands: sections, labels,
data blocks, instructions.

Walks the expanded items in order with the current section: a code label is the index of
the next instruction, a data label starts a data block (a label's cells run up to the next
data label; labels with no cells between them are aliases); instructions are checked
against their portable form (operand count and roles: a target is a code label, a
destination is never an immediate, a data operand is a label) and their immediates
collected; ``.input``, ``.output``, ``.desc`` and ``.isa`` are gathered. Operands stay
symbols here; ``symbols_to_cells`` resolves them.
"""

from __future__ import annotations

from compiler.ast import Pos
from compiler.diagnostics import CompileError, Context
from compiler.expressions import Sym
from compiler.flat import DataBlock, FlatInstr, FlatProgram, Immediate, TestSpec
from compiler.lines import ExpandedProgram, XData, XDirective, XInstruction, XLabel, XOperand, XScope
from isa.lowering import PORTABLE, Imm

MAX_INSTRUCTIONS = 1 << 20  # portable instructions
_ROLE_WORDS = {"src": "source", "dst": "destination", "target": "target", "target?": "[target]"}


class Collector:
    def __init__(self, expanded: ExpandedProgram) -> None:
        self.x = expanded
        self.instrs: list[FlatInstr] = []
        self.blocks: list[DataBlock] = []
        self.immediates: list[Immediate] = []
        self.code_labels: dict[str, int] = {}
        self.data_labels: dict[str, int] = {}
        self.inputs: list[tuple[str, Pos]] = []
        self.outputs: list[tuple[str, Pos]] = []
        self.descriptions: list[str] = []
        self.tests: list[TestSpec] = []
        self.isa: tuple[str, Pos] | None = None
        self.section = "code"
        self.block: DataBlock | None = None
        self.block_index = -1
        self.scopes: list[str] = []

    def run(self) -> FlatProgram:
        for item in self.x.items:
            if isinstance(item, XLabel):
                self.label(item)
            elif isinstance(item, XInstruction):
                self.instruction(item)
            elif isinstance(item, XData):
                self.data(item)
            elif isinstance(item, XDirective):
                self.directive(item)
            elif isinstance(item, XScope):
                self.scope(item)
            else:
                self.tests.append(item)
        x = self.x
        return FlatProgram(
            main=x.main, instrs=self.instrs, blocks=self.blocks, immediates=self.immediates, code_labels=self.code_labels,
            data_labels=self.data_labels, label_pos=x.label_pos, public=x.public, inputs=self.inputs, outputs=self.outputs,
            descriptions=self.descriptions, tests=self.tests, isa=self.isa, consts=x.consts,
        )

    def scope(self, s: XScope) -> None:
        """A macro's section switches end with it."""
        if s.begin:
            self.scopes.append(self.section)
            return
        section = self.scopes.pop()
        if self.section != section:
            self.section, self.block = section, None

    def label(self, label: XLabel) -> None:
        if self.section == "code":
            self.code_labels[label.name] = len(self.instrs)
            return
        block = self.block
        if block is not None and block.fresh and block.labels:
            block.labels.append(label.name)
        else:
            self.new_block([label.name], label.pos)
        self.data_labels[label.name] = self.block_index

    def new_block(self, labels: list[str], pos: Pos) -> DataBlock:
        self.block = DataBlock(labels, pos=pos)
        self.block_index = len(self.blocks)
        self.blocks.append(self.block)
        return self.block

    def instruction(self, stmt: XInstruction) -> None:
        mnemonic = stmt.name.lower()
        roles = PORTABLE[mnemonic]
        ctx = stmt.context
        if self.section != "code":
            raise CompileError(f"instruction '{stmt.name}' in the .data section (switch back with .code)", stmt.pos, ctx)
        required = [r for r in roles if not r.endswith("?")]
        if not len(required) <= len(stmt.operands) <= len(roles):
            want = str(len(roles)) if len(roles) == len(required) else f"{len(required)} or {len(roles)}"
            shown = ", ".join(_ROLE_WORDS[r] for r in roles)
            raise CompileError(
                f"'{mnemonic}' takes {want} operand{'s' if want != '1' else ''}"
                f"{f' ({shown})' if shown else ''}, not {len(stmt.operands)}", stmt.pos, ctx)
        if len(self.instrs) >= MAX_INSTRUCTIONS:
            raise CompileError(f"more than {MAX_INSTRUCTIONS:,} instructions", stmt.pos, ctx)
        operands = tuple(self.operand(op, role, mnemonic) for op, role in zip(stmt.operands, roles, strict=False))
        self.instrs.append(FlatInstr(mnemonic, operands, stmt.pos, ctx))

    def operand(self, op: XOperand, role: str, mnemonic: str) -> object:
        ctx, v = op.context, op.value
        if role.startswith("target"):
            if op.immediate:
                raise CompileError(f"the target of '{mnemonic}' is a code label, not an immediate", op.pos, ctx)
            if not isinstance(v, Sym):
                raise CompileError(f"the target of '{mnemonic}' must be a code label (or label + constant)", op.pos, ctx)
            return ("code", v, ctx)
        if op.immediate:
            if role == "dst":
                raise CompileError(
                    f"an immediate ({op.shown}) is read-only and cannot be the destination of '{mnemonic}'", op.pos, ctx)
            self.immediates.append(Immediate(v, op.pos, ctx))
            return Imm(len(self.immediates) - 1)
        if isinstance(v, Sym):
            return ("data", v, ctx)
        if isinstance(v, int):
            raise CompileError(f"a data operand must be a label (for the constant {v}, write #{v})", op.pos, ctx)
        raise CompileError("a data operand must be a label, label + constant or label - constant (or #immediate)", op.pos, ctx)

    def data(self, d: XData) -> None:
        if self.section != "data":
            raise CompileError(f"'.{d.directive}' in the .code section (data goes after .data)", d.pos, d.context)
        block = self.block if self.block is not None else self.new_block([], d.pos)
        block.fresh = False
        block.values.extend(d.values)
        block.positions.extend(d.positions)
        block.contexts.extend([d.context] * len(d.values))

    def directive(self, d: XDirective) -> None:
        name, ctx = d.name, d.context
        if name in ("data", "code"):
            self.section, self.block = name, None
        elif name in ("input", "output"):
            (self.inputs if name == "input" else self.outputs).extend(zip(d.args, d.arg_pos, strict=True))
        elif name == "desc":
            self.descriptions.append(d.args[0])
        else:
            assert name == "isa"
            if self.isa is not None and self.isa[0] != d.args[0]:
                raise CompileError(f"conflicting .isa: '{d.args[0]}' here, '{self.isa[0]}' before", d.arg_pos[0], ctx,
                                   [(self.isa[1], "the first .isa is here")])
            if self.isa is None:
                self.isa = (d.args[0], d.arg_pos[0])


def lines_to_flat(expanded: ExpandedProgram) -> FlatProgram:
    """Lay the expanded items out as instructions, data blocks and labels (operands still symbols)."""
    return Collector(expanded).run()


__all__ = ["Collector", "Context", "lines_to_flat"]
