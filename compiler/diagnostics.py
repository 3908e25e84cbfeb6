"""Compile errors, formatted the way spec/assembly.md requires::

    file:line:col: error: message
        the source line
        ^
    file:line:col: note: in expansion of macro 'm'

A ``Context`` is the chain of macro expansions, includes and ``.rep`` iterations that
produced a line; every note comes from it, innermost first.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.ast import Pos
from isa.base import SynthError

_SHOWN_LINE = 160  # longer source lines are shown as a window around the column


@dataclass(frozen=True, slots=True)
class Context:
    """One level of expansion: what happened at ``pos`` (a note), and the level outside it."""

    note: str
    pos: Pos
    parent: Context | None = None

    def notes(self) -> list[tuple[Pos, str]]:
        out: list[tuple[Pos, str]] = []
        ctx: Context | None = self
        while ctx is not None:
            out.append((ctx.pos, ctx.note))
            ctx = ctx.parent
        return out


class CompileError(SynthError):
    """An error in a source file. ``str()`` is the whole diagnostic (several lines).
    ``target_specific``: the program is fine but cannot be compiled for the chosen ISA or
    word width (no indirect addressing, a value or the code does not fit)."""

    def __init__(
        self,
        message: str,
        pos: Pos | None = None,
        context: Context | None = None,
        notes: list[tuple[Pos, str]] | None = None,
        file: str | None = None,
        target_specific: bool = False,
    ) -> None:
        self.message = message
        self.target_specific = target_specific  # wrong for this ISA or width, not in itself
        self.pos = pos
        self.file = file if file is not None else (pos.file if pos is not None else "<input>")
        self.notes: list[tuple[Pos, str]] = list(notes or []) + (context.notes() if context else [])
        super().__init__(self.diagnostic())

    def diagnostic(self) -> str:
        if self.pos is None:
            return f"{self.file}: error: {self.message}"
        lines = [f"{self.pos}: error: {self.message}"]
        lines.extend(_quote(self.pos))
        for pos, note in self.notes:
            lines.append(f"{pos}: note: {note}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.diagnostic()


def _printable(ch: str) -> str:
    return ch if ch == "\t" or ch.isprintable() else "?"


def _quote(pos: Pos) -> list[str]:
    """The source line (control characters shown as '?') and a caret under the column."""
    text = pos.source.line(pos.line)
    col = max(1, min(pos.col, len(text) + 1))
    start = 0
    if len(text) > _SHOWN_LINE:
        start = max(0, min(col - 1 - _SHOWN_LINE // 2, len(text) - _SHOWN_LINE))
        text = text[start : start + _SHOWN_LINE]
    shown = "".join(_printable(ch) for ch in text)
    pad = "".join("\t" if ch == "\t" else " " for ch in shown[: col - 1 - start])
    return [f"    {shown}", f"    {pad}^"]
