"""The expanded program: what ``ast_to_lines`` produces and ``lines_to_flat`` consumes.

The syntax tree with every include spliced in, every macro call and ``.rep`` block
expanded, every ``.const`` evaluated and every expression folded: a flat list of items in
source order (labels, instructions, data, the directives that remain, tests), whose
operands are values (integers, or symbols still to be resolved by the layout), each with
its source position and the expansion it came from. Nothing here knows sections, code
addresses or data blocks yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.ast import Pos, Source
from compiler.diagnostics import Context
from compiler.expressions import Value
from compiler.flat import TestSpec


@dataclass(slots=True)
class XLabel:
    name: str  # as the program will know it: the label, or a local label's unique renaming
    local: bool
    pos: Pos
    context: Context | None


@dataclass(slots=True)
class XOperand:
    immediate: bool  # written #expr (or a macro parameter that stands for one)
    value: Value  # the folded expression
    pos: Pos
    context: Context | None

    @property
    def shown(self) -> str:
        """The operand as written, for messages."""
        return written(self.pos, self.immediate)


@dataclass(slots=True)
class XInstruction:
    name: str  # as written (a portable mnemonic, in any case)
    operands: tuple[XOperand, ...]
    pos: Pos
    context: Context | None


@dataclass(slots=True)
class XData:
    """Data cells: ``.word``, ``.zero``, ``.fill`` or ``.ascii``, their values folded."""

    directive: str
    values: list[Value]
    positions: list[Pos]
    pos: Pos
    context: Context | None


@dataclass(slots=True)
class XDirective:
    """``.data``, ``.code``, ``.input``, ``.output``, ``.desc`` or ``.isa``."""

    name: str
    args: tuple
    arg_pos: tuple
    pos: Pos
    context: Context | None


@dataclass(slots=True)
class XScope:
    """A macro expansion begins or ends: a section switched inside it ends with it."""

    begin: bool


def written(pos: Pos, immediate: bool) -> str:
    """The operand that starts at ``pos`` as written in its source line (at most 40 characters)."""
    text = pos.source.line(pos.line)[pos.col - 1 :]
    for stop in (",", ";"):
        text = text.split(stop, 1)[0]
    text = text.strip()
    return ("#" + text if immediate and not text.startswith("#") else text)[:40]


Item = XLabel | XInstruction | XData | XDirective | XScope | TestSpec


@dataclass
class ExpandedProgram:
    main: Source
    items: list[Item]
    label_pos: dict[str, Pos]  # every label (renamed locals included) -> where it is defined
    label_context: dict[str, Context | None]
    public: list[str]  # labels written without '@', in definition order
    consts: dict[str, int] = field(default_factory=dict)
    macros: frozenset[str] = frozenset()
