"""Pass 2: ``SourceFile`` -> ``ExpandedProgram``: includes, macros, ``.rep``, constants.

Walks the syntax tree in source order with an environment of ``.rep`` variables and macro
arguments, expanding includes (textually), macro calls (hygienically: ``@labels`` are
renamed per expansion) and ``.rep`` blocks, evaluating ``.const`` and counts and folding
every expression; checks names where they are defined (labels against mnemonics,
directives, macros, constants and parameters; duplicates). It yields the program as a flat
list of items (``compiler/lines.py``): sections, code addresses and data blocks are the
next pass's (``lines_to_flat``).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from compiler.ast import (
    Directive,
    Instruction,
    Label,
    Line,
    LocalName,
    MacroDef,
    Name,
    Operand,
    Pos,
    RepBlock,
    SourceFile,
    TestBlock,
)
from compiler.diagnostics import CompileError, Context
from compiler.expressions import Late, Sym, Value, fold
from compiler.flat import TestSpec
from compiler.lines import ExpandedProgram, Item, XData, XDirective, XInstruction, XLabel, XOperand, XScope, written
from compiler.source_to_ast import read_source, source_to_ast
from isa.lowering import PORTABLE

STDLIB = Path(__file__).with_name("stdlib")
MAX_NESTING = 64  # macro calls, .rep blocks and includes inside one another
MAX_WORK = 2_000_000  # lines expanded plus .rep iterations
MAX_CELLS = 1 << 22  # data cells

MNEMONICS = frozenset(PORTABLE)
DIRECTIVES = frozenset({
    "isa", "const", "word", "zero", "fill", "ascii", "input", "output", "desc", "macro", "endm", "rep", "endr",
    "include", "test", "set", "expect", "maxsteps", "endtest", "data", "code",
})
_DATA_DIRECTIVES = frozenset({"word", "zero", "fill", "ascii"})


@dataclass(slots=True)
class Env:
    """What names mean at a point of the expansion."""

    values: dict[str, int | Arg]  # .rep variables and macro parameters
    locals: dict[str, str]  # local label -> its renamed form, for the @labels visible here


@dataclass(slots=True)
class Arg:
    """A macro argument: the operand as written at the call, with the caller's environment."""

    operand: Operand
    env: Env
    context: Context | None


@dataclass(slots=True)
class Macro:
    definition: MacroDef
    file_locals: dict[str, str]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class LineExpander:
    """Expands one program; ``run()`` returns the ExpandedProgram."""

    def __init__(self, main: SourceFile) -> None:
        self.main = main
        self.out: list[Item] = []
        self.label_pos: dict[str, Pos] = {}
        self.label_context: dict[str, Context | None] = {}
        self.public: list[str] = []
        self.consts: dict[str, int] = {}
        self.const_pos: dict[str, Pos] = {}
        self.macros: dict[str, Macro] = {}
        self.cells = 0
        self.work = 0
        self.serial = 0
        self.depth = 0
        self.macro_stack: list[str] = []
        self.include_stack: list[str] = [main.source.path or main.source.name]

    def run(self) -> ExpandedProgram:
        env = Env({}, self._own_locals(self.main.local_labels))
        self.items(self.main.items, env, None)
        for name in self.public:  # a label named like a macro defined after it
            if name in self.macros:
                d = self.macros[name].definition
                raise CompileError(f"'{name}' is a macro and cannot be a label", self.label_pos[name], self.label_context[name],
                                   [(d.pos, "the macro is defined here")])
        return ExpandedProgram(self.main.source, self.out, self.label_pos, self.label_context, self.public, self.consts,
                               frozenset(self.macros))

    def _own_locals(self, names: frozenset[str], parent: dict[str, str] | None = None) -> dict[str, str]:
        if not names:
            return parent if parent is not None else {}
        self.serial += 1
        own = {n: f"@{n}.{self.serial}" for n in names}
        return {**parent, **own} if parent else own

    def _enter(self, pos: Pos, ctx: Context | None) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise CompileError(f"nested too deeply (more than {MAX_NESTING} levels of macro calls, .rep blocks and includes)", pos, ctx)

    def items(self, items: tuple, env: Env, ctx: Context | None) -> None:
        for item in items:
            if isinstance(item, Line):
                self.work += 1
                if self.work > MAX_WORK:
                    raise CompileError(f"the program expands to more than {MAX_WORK:,} lines", item.pos, ctx)
                self.line(item, env, ctx)
            elif isinstance(item, RepBlock):
                self.rep(item, env, ctx)
            elif isinstance(item, MacroDef):
                self.define_macro(item, env, ctx)
            else:
                assert isinstance(item, TestBlock)
                self.test(item, env, ctx)

    # -- names -----------------------------------------------------------------------------

    def lookup(self, node: Name | LocalName, env: Env, ctx: Context | None) -> Value:
        if isinstance(node, LocalName):
            renamed = env.locals.get(node.name)
            if renamed is None:
                raise CompileError(
                    f"undefined local label '@{node.name}' (a local label is visible only inside the macro "
                    "expansion, .rep iteration or file that defines it)", node.pos, ctx)
            return Sym(renamed, 0, node.pos, "@" + node.name)
        value = env.values.get(node.name)
        if value is not None:
            if isinstance(value, int):
                return value
            if value.operand.immediate:
                raise CompileError(
                    f"macro parameter '{node.name}' stands for an immediate here ({written(value.operand.pos, True)}) "
                    "and cannot be part of an expression", node.pos, ctx)
            arg_env, arg_ctx = value.env, value.context
            return fold(value.operand.expr, lambda n: self.lookup(n, arg_env, arg_ctx), arg_ctx)
        const = self.consts.get(node.name)
        if const is not None:
            return const
        return Sym(node.name, 0, node.pos)

    def value(self, expr: object, env: Env, ctx: Context | None) -> Value:
        return fold(expr, lambda n: self.lookup(n, env, ctx), ctx)  # type: ignore[arg-type]

    def constant(self, expr: object, env: Env, ctx: Context | None, what: str) -> int:
        """A count or size: integers, constants and .rep variables only."""
        v = self.value(expr, env, ctx)
        if isinstance(v, int):
            return v
        sym = _first_sym(v)
        raise CompileError(
            f"{what} must be a compile-time constant, but '{sym.written}' is not a constant or .rep variable here "
            "(labels have no value until layout; constants must be defined before they are used)",
            sym.pos, ctx)

    def check_label_name(self, name: str, pos: Pos, ctx: Context | None, what: str = "a label") -> None:
        low = name.lower()
        if low in MNEMONICS:
            raise CompileError(f"'{name}' is a mnemonic and cannot be {what}", pos, ctx)
        if low in DIRECTIVES:
            raise CompileError(f"'{name}' is a directive name (.{low}) and cannot be {what}", pos, ctx)
        if name in self.macros:
            raise CompileError(f"'{name}' is a macro and cannot be {what}", pos, ctx, [(self.macros[name].definition.pos, "the macro is defined here")])

    # -- lines -----------------------------------------------------------------------------

    def line(self, line: Line, env: Env, ctx: Context | None) -> None:
        for label in line.labels:
            self.define_label(label, env, ctx)
        stmt = line.statement
        if stmt is None:
            return
        if isinstance(stmt, Instruction):
            self.instruction(stmt, env, ctx)
        else:
            self.directive(stmt, env, ctx)

    def define_label(self, label: Label, env: Env, ctx: Context | None) -> None:
        if label.local:
            name = env.locals.get(label.name)
            if name is None:  # defined in a body we did not scan (cannot happen for well-formed trees)
                raise CompileError(f"local label '@{label.name}' cannot be defined here", label.pos, ctx)
        else:
            name = label.name
            self.check_label_name(name, label.pos, ctx)
            if name in self.consts:
                raise CompileError(f"'{name}' is already a constant", label.pos, ctx, [(self.const_pos[name], "the constant is defined here")])
            if name in env.values:
                raise CompileError(f"'{name}' is a .rep variable or macro parameter here and cannot be a label", label.pos, ctx)
        if name in self.label_pos:
            shown = "@" + label.name if label.local else name
            raise CompileError(
                f"duplicate label '{shown}'", label.pos, ctx,
                [(self.label_pos[name], "previously defined here")])
        self.label_pos[name] = label.pos
        self.label_context[name] = ctx
        if not label.local:
            self.public.append(name)
        self.out.append(XLabel(name, label.local, label.pos, ctx))

    # -- instructions and macro calls --------------------------------------------------------

    def instruction(self, stmt: Instruction, env: Env, ctx: Context | None) -> None:
        if stmt.name.lower() not in PORTABLE:
            macro = self.macros.get(stmt.name)
            if macro is None:
                raise CompileError(self._unknown(stmt.name), stmt.pos, ctx)
            self.call(macro, stmt, env, ctx)
            return
        self.out.append(XInstruction(stmt.name, tuple(self.bind(op, env, ctx) for op in stmt.operands), stmt.pos, ctx))

    def _unknown(self, name: str) -> str:
        low = name.lower()
        if low in DIRECTIVES:
            return f"unknown instruction '{name}' (the directive is written '.{low}')"
        if name in self.consts or name in self.label_pos:
            return f"'{name}' is not an instruction or macro (a label needs a colon: '{name}:')"
        close = difflib.get_close_matches(low, sorted(MNEMONICS | set(self.macros)), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown instruction or macro '{name}'{hint}"

    def substitute(self, op: Operand, env: Env, ctx: Context | None) -> tuple[Operand, Env, Context | None]:
        """A parameter written as a whole operand stands for the argument as written (so an
        immediate argument stays an immediate)."""
        while isinstance(op.expr, Name):
            arg = env.values.get(op.expr.name)
            if not isinstance(arg, Arg) or (op.immediate and not arg.operand.immediate):
                break
            op, env, ctx = arg.operand, arg.env, arg.context
        return op, env, ctx

    def bind(self, op: Operand, env: Env, ctx: Context | None) -> XOperand:
        """An operand with its macro arguments substituted and its expression folded."""
        op, env, ctx = self.substitute(op, env, ctx)
        return XOperand(op.immediate, self.value(op.expr, env, ctx), op.pos, ctx)

    def call(self, macro: Macro, stmt: Instruction, env: Env, ctx: Context | None) -> None:
        d = macro.definition
        if d.name in self.macro_stack:
            chain = " -> ".join([*self.macro_stack[self.macro_stack.index(d.name):], d.name])
            raise CompileError(f"recursive macro call: {chain} (macros cannot call themselves)", stmt.pos, ctx)
        if len(stmt.operands) != len(d.params):
            raise CompileError(
                f"macro '{d.name}' takes {_plural(len(d.params), 'argument')}"
                f"{' (' + ', '.join(d.params) + ')' if d.params else ''}, not {len(stmt.operands)}",
                stmt.pos, ctx, [(d.pos, "the macro is defined here")])
        inner_ctx = Context(f"in expansion of macro '{d.name}'", stmt.pos, ctx)
        self._enter(stmt.pos, ctx)
        values: dict[str, int | Arg] = {p: Arg(op, env, ctx) for p, op in zip(d.params, stmt.operands, strict=True)}
        inner = Env(values, self._own_locals(d.local_labels, macro.file_locals))
        self.out.append(XScope(True))
        self.macro_stack.append(d.name)
        self.items(d.body, inner, inner_ctx)
        self.macro_stack.pop()
        self.out.append(XScope(False))  # a macro's section switches end with it (lines_to_flat)
        self.depth -= 1

    def define_macro(self, d: MacroDef, env: Env, ctx: Context | None) -> None:
        old = self.macros.get(d.name)
        if old is not None:
            o = old.definition
            if o is d or (o.pos.file, o.pos.line, o.params) == (d.pos.file, d.pos.line, d.params):
                return  # the same file included again: the same definition
            raise CompileError(f"macro '{d.name}' is already defined", d.pos, ctx, [(old.definition.pos, "previously defined here")])
        if d.name.lower() in MNEMONICS:
            raise CompileError(f"'{d.name}' is a mnemonic and cannot be a macro name", d.pos, ctx)
        if d.name in self.label_pos:
            raise CompileError(f"'{d.name}' is already a label", d.pos, ctx, [(self.label_pos[d.name], "the label is defined here")])
        seen: set[str] = set()
        for p in d.params:
            if p in seen:
                raise CompileError(f"macro '{d.name}' has two parameters named '{p}'", d.pos, ctx)
            seen.add(p)
        self.macros[d.name] = Macro(d, env.locals)

    def rep(self, block: RepBlock, env: Env, ctx: Context | None) -> None:
        count = self.constant(block.count, env, ctx, "a .rep count")
        if count < 0:
            raise CompileError(f"negative .rep count ({count})", block.count.pos, ctx)
        if count > MAX_WORK:
            raise CompileError(f".rep count {count} is too large (at most {MAX_WORK:,})", block.count.pos, ctx)
        self._enter(block.pos, ctx)
        for i in range(count):
            self.work += 1
            if self.work > MAX_WORK:
                raise CompileError(f"the program expands to more than {MAX_WORK:,} lines", block.pos, ctx)
            inner = Env({**env.values, block.var: i}, self._own_locals(block.local_labels, env.locals))
            self.items(block.body, inner, Context(f"in .rep iteration {block.var} = {i}", block.pos, ctx))
        self.depth -= 1

    # -- directives ------------------------------------------------------------------------

    def directive(self, d: Directive, env: Env, ctx: Context | None) -> None:
        name = d.name
        if name in _DATA_DIRECTIVES:
            self.data(d, env, ctx)
        elif name == "const":
            self.define_const(d, env, ctx)
        elif name == "include":
            self.include(d, env, ctx)
        elif name in ("data", "code", "input", "output", "desc", "isa"):
            self.out.append(XDirective(name, tuple(d.args), tuple(d.arg_pos), d.pos, ctx))
        else:  # block directives are folded away by source_to_ast
            raise CompileError(f"'.{name}' is out of place here", d.pos, ctx)

    def define_const(self, d: Directive, env: Env, ctx: Context | None) -> None:
        name, expr = d.args
        pos = d.arg_pos[0]
        if name in self.consts:
            raise CompileError(f"constant '{name}' is already defined", pos, ctx, [(self.const_pos[name], "previously defined here")])
        if name in self.label_pos:
            raise CompileError(f"'{name}' is already a label", pos, ctx, [(self.label_pos[name], "the label is defined here")])
        self.consts[name] = self.constant(expr, env, ctx, "a .const value")
        self.const_pos[name] = pos

    def data(self, d: Directive, env: Env, ctx: Context | None) -> None:
        if d.name == "word":
            values = [self.value(e, env, ctx) for e in d.args]
            positions = [e.pos for e in d.args]
        elif d.name == "ascii":
            values = [ord(ch) for ch in d.args[0]]
            positions = [d.pos] * len(values)
        else:
            what = f"a .{d.name} count"
            n = self.constant(d.args[0], env, ctx, what)
            if n < 0:
                raise CompileError(f"negative .{d.name} count ({n})", d.args[0].pos, ctx)
            if self.cells + n > MAX_CELLS:
                raise CompileError(f"more than {MAX_CELLS:,} data cells", d.args[0].pos, ctx)
            fill: Value = 0 if d.name == "zero" else self.value(d.args[1], env, ctx)
            values = [fill] * n
            positions = [d.args[-1].pos] * n
        self.cells += len(values)
        if self.cells > MAX_CELLS:
            raise CompileError(f"more than {MAX_CELLS:,} data cells", d.pos, ctx)
        self.out.append(XData(d.name, values, positions, d.pos, ctx))

    def include(self, d: Directive, env: Env, ctx: Context | None) -> None:
        target, is_library = d.args
        pos = d.arg_pos[0]
        if is_library:
            parts = Path(target).parts
            if ".." in parts:
                raise CompileError(f"bad library name <{target}>", pos, ctx)
            path = STDLIB / (target if Path(target).suffix else target + ".sasm")
            if not path.is_file():
                known = ", ".join(sorted(f"<{p.stem}>" for p in STDLIB.glob("*.sasm")))
                raise CompileError(f"no library <{target}> (the standard library has {known})", pos, ctx)
            name = f"<{target}>"  # a name that does not depend on where the compiler is installed
        else:  # relative to the including file, named relative to it as the user named that one
            here = d.pos.source
            path = (Path(here.path).parent if here.path else Path.cwd()) / target
            name = os.path.normpath(os.path.join(os.path.dirname(here.name), target)) if here.path else target
        text, resolved = read_source(path, name, at=pos)
        if resolved in self.include_stack:
            chain = " -> ".join([*(Path(p).name for p in self.include_stack[self.include_stack.index(resolved):]), Path(resolved).name])
            raise CompileError(f"include cycle: {chain}", pos, ctx)
        tree = source_to_ast(text, name, resolved)
        self._enter(pos, ctx)
        self.include_stack.append(resolved)
        inner = Env(env.values, self._own_locals(tree.local_labels))
        self.items(tree.items, inner, Context("in file included from here", pos, ctx))
        self.include_stack.pop()
        self.depth -= 1

    def test(self, block: TestBlock, env: Env, ctx: Context | None) -> None:
        spec = TestSpec(block.name, block.pos)
        for line in block.body:
            d = line.statement
            assert isinstance(d, Directive)
            if d.name == "maxsteps":
                n = self.constant(d.args[0], env, ctx, ".maxsteps")
                if n < 0:
                    raise CompileError(f"negative .maxsteps ({n})", d.args[0].pos, ctx)
                spec.max_steps = n
                continue
            label, *exprs = d.args
            values = [self.value(e, env, ctx) for e in exprs]
            (spec.sets if d.name == "set" else spec.expects).append((label, d.arg_pos[0], values, [e.pos for e in exprs]))
        self.out.append(spec)


def _first_sym(v: Value) -> Sym:
    if isinstance(v, Sym):
        return v
    assert isinstance(v, Late)
    for a in v.args:
        if not isinstance(a, int):
            return _first_sym(a)
    raise AssertionError(v)


def ast_to_lines(tree: SourceFile) -> ExpandedProgram:
    """Expand a parsed file: includes, macros, .rep and constants."""
    return LineExpander(tree).run()
