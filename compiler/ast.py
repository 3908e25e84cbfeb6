"""The syntax tree of a ``.sasm`` file: frozen dataclasses that carry their source position.

``source_to_ast`` builds these and nothing else builds them; every later pass reads them.
A ``Pos`` points into a ``Source`` (the file's name and lines) so that an error raised
anywhere can quote the line it is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False, repr=False)
class Source:
    """One source file as read: its name (as given) and its lines, for diagnostics."""

    name: str
    lines: list[str]
    path: str | None = None  # the resolved path on disk, when it came from a file

    def __repr__(self) -> str:
        return f"Source({self.name!r})"

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 1 <= number <= len(self.lines) else ""


@dataclass(frozen=True, slots=True)
class Pos:
    source: Source
    line: int
    col: int

    @property
    def file(self) -> str:
        return self.source.name

    def __str__(self) -> str:
        return f"{self.source.name}:{self.line}:{self.col}"

    def __repr__(self) -> str:
        return f"Pos({self})"


# -- expressions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Num:
    value: int | None  # None: a literal too long to be a number (reported when used)
    pos: Pos
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Name:
    """A constant, a .rep variable, a macro parameter or a label: decided on expansion."""

    name: str
    pos: Pos
    depth: int = 1


@dataclass(frozen=True, slots=True)
class LocalName:
    """``@name``: a label local to the macro expansion or .rep iteration that defines it."""

    name: str
    pos: Pos
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-", "~", "+"
    operand: Expr
    pos: Pos
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # "+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^"
    left: Expr
    right: Expr
    pos: Pos  # the operator
    depth: int = 1


Expr = Num | Name | LocalName | Unary | Binary


# -- operands and statements ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Operand:
    expr: Expr
    immediate: bool  # written "#expr"
    pos: Pos


@dataclass(frozen=True, slots=True)
class Label:
    name: str
    local: bool  # "@name:"
    pos: Pos


@dataclass(frozen=True, slots=True)
class Instruction:
    """A mnemonic or a macro call: ``name op1, op2, ...``."""

    name: str
    operands: tuple[Operand, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Directive:
    """A directive line. ``args`` depends on ``name`` (the keyword, lower case, no dot):

    isa: (NAME,) | const: (NAME, expr) | word: exprs | zero: (expr,) | fill: (expr, expr)
    ascii/desc/test: (text,) | input/output: names | macro: (NAME, *params)
    rep: (NAME, expr) | include: (path, is_library) | set/expect: (NAME, *exprs)
    maxsteps: (expr,) | endm/endr/endtest/data/code: ()
    """

    name: str
    args: tuple
    pos: Pos
    arg_pos: tuple[Pos, ...] = ()  # positions of name arguments (labels in .input, ...)


Statement = Instruction | Directive


@dataclass(frozen=True, slots=True)
class Line:
    labels: tuple[Label, ...]
    statement: Statement | None
    pos: Pos


# -- blocks (folded from lines) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MacroDef:
    name: str
    params: tuple[str, ...]
    body: tuple[Item, ...]
    pos: Pos
    local_labels: frozenset[str] = frozenset()  # "@x:" defined directly in the body


@dataclass(frozen=True, slots=True)
class RepBlock:
    var: str
    count: Expr
    body: tuple[Item, ...]
    pos: Pos
    local_labels: frozenset[str] = frozenset()  # "@x:" defined directly in the body


@dataclass(frozen=True, slots=True)
class TestBlock:
    name: str
    body: tuple[Line, ...]
    pos: Pos


Item = Line | MacroDef | RepBlock | TestBlock


@dataclass(frozen=True)
class SourceFile:
    source: Source
    items: tuple[Item, ...]
    local_labels: frozenset[str] = field(default_factory=frozenset)  # "@x:" at file level
