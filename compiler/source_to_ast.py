"""Pass 1: source bytes -> ``SourceFile`` (the syntax tree of one file).

Decodes the bytes (UTF-8), parses them with the LALR grammar in ``grammar.lark`` (the
parser is built once, with a Transformer that only builds ``compiler.ast`` nodes), then
folds the lines into ``.macro``/``.rep``/``.test`` blocks. Anything malformed becomes a
``CompileError`` pointing at the offending column.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from compiler.ast import (
    Binary,
    Directive,
    Instruction,
    Item,
    Label,
    Line,
    LocalName,
    MacroDef,
    Name,
    Num,
    Operand,
    Pos,
    RepBlock,
    Source,
    SourceFile,
    TestBlock,
    Unary,
)
from compiler.diagnostics import CompileError

MAX_SOURCE_BYTES = 64 << 20
MAX_NUMBER_DIGITS = 1000  # longer literals are "too large" rather than slow to convert
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", '"': '"', "'": "'", "\\": "\\"}


# -- decoding ------------------------------------------------------------------------------


def decode_source(raw: bytes, name: str) -> str:
    """UTF-8 bytes -> text (a leading BOM dropped); bad bytes are an error at their column."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        line_start = raw.rfind(b"\n", 0, e.start) + 1
        col = len(raw[line_start : e.start].decode("utf-8", errors="replace")) + 1
        lines = raw.decode("utf-8", errors="replace").split("\n")
        source = Source(name, lines)
        raise CompileError(f"invalid UTF-8: byte 0x{raw[e.start]:02x} cannot start a character here", Pos(source, line, col)) from None
    return text[1:] if text.startswith("\ufeff") else text


# -- the transformer: tokens and rules -> AST nodes ------------------------------------------


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            out.append(ESCAPES[body[i + 1]])  # the grammar admits only these escapes
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _int_literal(text: str) -> int | None:
    if len(text) > MAX_NUMBER_DIGITS:
        return None
    low = text.lower()
    if low.startswith("0x"):
        return int(text[2:], 16)
    if low.startswith("0b"):
        return int(text[2:], 2)
    return int(text, 10)


class ToAst(Transformer):
    """One tiny method per grammar rule; ``source`` is set before each parse."""

    source: Source

    def _pos(self, tok: Token) -> Pos:
        return Pos(self.source, tok.line or 1, tok.column or 1)

    # expressions
    def number(self, c: list) -> Num:
        return Num(_int_literal(str(c[0])), self._pos(c[0]))

    def char(self, c: list) -> Num:
        return Num(ord(_unescape(str(c[0])[1:-1])), self._pos(c[0]))

    def name(self, c: list) -> Name:
        return Name(str(c[0]), self._pos(c[0]))

    def local(self, c: list) -> LocalName:
        return LocalName(str(c[0])[1:], self._pos(c[0]))

    def _unary(op: str):  # noqa: N805 - a method factory
        def build(self: ToAst, c: list) -> Unary:
            return Unary(op, c[1], self._pos(c[0]), c[1].depth + 1)

        return build

    neg, inv, pos = _unary("-"), _unary("~"), _unary("+")

    def _binary(op: str):  # noqa: N805
        def build(self: ToAst, c: list) -> Binary:
            left, right = c
            # depth: the recursion an evaluator that loops along the left spine needs, so that
            # a long sum a + b + c + ... is not "deep"
            return Binary(op, left, right, left.pos, max(left.depth, right.depth + 1))

        return build

    bor, bxor, band = _binary("|"), _binary("^"), _binary("&")
    shl, shr, add, sub = _binary("<<"), _binary(">>"), _binary("+"), _binary("-")
    mul, div, mod = _binary("*"), _binary("/"), _binary("%")

    # operands, labels, instructions
    def immediate(self, c: list) -> Operand:
        return Operand(c[0], True, c[0].pos)

    def plain(self, c: list) -> Operand:
        return Operand(c[0], False, c[0].pos)

    def label(self, c: list) -> Label:
        return Label(str(c[0]), False, self._pos(c[0]))

    def local_label(self, c: list) -> Label:
        return Label(str(c[0])[1:], True, self._pos(c[0]))

    def instruction(self, c: list) -> Instruction:
        return Instruction(str(c[0]), tuple(o for o in c[1:] if o is not None), self._pos(c[0]))

    # directives: the keyword token first, then the arguments
    def _directive(self, c: list, args: tuple, names: tuple[Token, ...] = ()) -> Directive:
        kw = c[0]
        return Directive(str(kw)[1:].lower(), args, self._pos(kw), tuple(self._pos(t) for t in names))

    def isa_dir(self, c: list) -> Directive:
        return self._directive(c, (str(c[1]),), (c[1],))

    def const_dir(self, c: list) -> Directive:
        return self._directive(c, (str(c[1]), c[2]), (c[1],))

    def word_dir(self, c: list) -> Directive:
        return self._directive(c, tuple(c[1:]))

    zero_dir = fill_dir = maxsteps_dir = word_dir

    def ascii_dir(self, c: list) -> Directive:
        return self._directive(c, (_unescape(str(c[1])[1:-1]),))

    desc_dir = test_dir = ascii_dir

    def input_dir(self, c: list) -> Directive:
        return self._directive(c, tuple(str(t) for t in c[1:]), tuple(c[1:]))

    output_dir = input_dir

    def macro_dir(self, c: list) -> Directive:
        names = [t for t in c[1:] if t is not None]
        return self._directive(c, tuple(str(t) for t in names), tuple(names))

    def rep_dir(self, c: list) -> Directive:
        return self._directive(c, (str(c[1]), c[2]), (c[1],))

    def include_dir(self, c: list) -> Directive:
        return self._directive(c, (_unescape(str(c[1])[1:-1]), False), (c[1],))

    def include_lib_dir(self, c: list) -> Directive:
        return self._directive(c, (str(c[1])[1:-1], True), (c[1],))

    def set_dir(self, c: list) -> Directive:
        return self._directive(c, (str(c[1]), *c[2:]), (c[1],))

    expect_dir = set_dir

    def endm_dir(self, c: list) -> Directive:
        return self._directive(c, ())

    endr_dir = endtest_dir = data_dir = code_dir = endm_dir

    def line(self, c: list) -> Line:
        labels = tuple(x for x in c if isinstance(x, Label))
        stmt = c[-1] if c and not isinstance(c[-1], Label) else None
        pos = labels[0].pos if labels else stmt.pos
        return Line(labels, stmt, pos)

    def start(self, c: list) -> list[Line]:
        return c


_GRAMMAR = Path(__file__).with_name("grammar.lark")
_transformer = ToAst()
_lock = threading.Lock()


@functools.cache
def _parser() -> Lark:
    return Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        transformer=_transformer,
        maybe_placeholders=True,
        cache=False,
    )


# -- parse errors ----------------------------------------------------------------------------

_TERMINAL_WORDS = {
    "_NL": "end of line", "NAME": "a name", "LOCAL": "a local label", "INT": "a number", "CHAR": "a character",
    "STRING": "a string", "LIBREF": "<library>", "COMMA": "','", "COLON": "':'", "EQUAL": "'='", "HASH": "'#'",
    "LPAR": "'('", "RPAR": "')'", "$END": "end of file",
}
_EXPR_START = {"INT", "CHAR", "NAME", "LOCAL", "LPAR", "UMINUS", "UTILDE", "UPLUS"}


def _describe_expected(expected: set[str]) -> str:
    words: list[str] = []
    if expected & _EXPR_START and {"INT", "NAME"} <= expected:
        words.append("an expression")
        expected = expected - _EXPR_START
    if "HASH" in expected and words:
        words[-1] = "an operand"
        expected = expected - {"HASH"}
    operators = {t for t in expected if t not in _TERMINAL_WORDS and not t.endswith("_KW")}
    if operators:
        words.append("an operator")
    if any(t.endswith("_KW") for t in expected):
        words.append("a directive")
    words += sorted(_TERMINAL_WORDS[t] for t in expected if t in _TERMINAL_WORDS)
    if not words:
        return ""
    return " (expected " + (", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]) + ")"


def _token_text(tok: Token) -> str:
    if tok.type == "_NL":
        return "end of line"
    if tok.type == "$END":
        return "end of file"
    text = str(tok)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _char_error(text: str, e: UnexpectedCharacters, source: Source) -> CompileError:
    pos = Pos(source, e.line, e.column)
    rest = text[e.pos_in_stream : e.pos_in_stream + 60].split("\n", 1)[0]
    ch = rest[:1]
    if ch == ".":
        word = "." + "".join(x for x in _take_word(rest[1:]))
        if len(word) > 1:
            return CompileError(f"unknown directive {word!r}", pos)
    if ch == '"':
        if '"' not in rest[1:]:
            return CompileError("unterminated string (a string ends on its line with '\"')", pos)
        return CompileError("bad string: the escapes are \\n \\t \\r \\0 \\\" \\' \\\\", pos)
    if ch == "'":
        return CompileError("bad character literal (write 'a', or an escape such as '\\n')", pos)
    if ch.isdigit():
        return CompileError(f"malformed number {_take_word(rest)!r}", pos)
    if ch == "<":
        return CompileError("bad library name (write .include <name>)", pos)
    if ch == "@":
        return CompileError("'@' must start a local label name, as in @loop", pos)
    if ch and not ch.isprintable():
        return CompileError(f"unexpected character U+{ord(ch):04X}", pos)
    return CompileError(f"unexpected character {ch!r}", pos)


def _take_word(s: str) -> str:
    out = []
    for ch in s:
        if not (ch.isalnum() or ch == "_"):
            break
        out.append(ch)
    return "".join(out)[:40]


def _syntax_error(text: str, e: UnexpectedInput, source: Source) -> CompileError:
    if isinstance(e, UnexpectedCharacters):
        return _char_error(text, e, source)
    if isinstance(e, (UnexpectedToken, UnexpectedEOF)):
        tok = getattr(e, "token", None)
        line = getattr(tok, "line", None) or len(source.lines)
        col = getattr(tok, "column", None) or len(source.line(line)) + 1
        expected = set(getattr(e, "expected", ()) or ())
        what = _token_text(tok) if isinstance(tok, Token) else "end of file"
        return CompileError(f"unexpected {what}{_describe_expected(expected)}", Pos(source, line, col))
    return CompileError(f"syntax error: {e}", Pos(source, getattr(e, "line", 1) or 1, getattr(e, "column", 1) or 1))


def parse_lines(text: str, source: Source) -> list[Line]:
    """Parse text into lines (labels plus one statement each)."""
    if not text.endswith("\n"):
        text += "\n"
    parser = _parser()
    with _lock:
        _transformer.source = source
        try:
            return parser.parse(text)
        except UnexpectedInput as e:
            raise _syntax_error(text, e, source) from None
        except LarkError as e:
            raise CompileError(f"syntax error: {e}", Pos(source, 1, 1)) from None
        except RecursionError:
            raise CompileError("the source is nested too deeply to parse", Pos(source, 1, 1)) from None


# -- folding lines into blocks -------------------------------------------------------------

_OPENERS = {"macro": "endm", "rep": "endr", "test": "endtest"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_TEST_ONLY = {"set", "expect", "maxsteps"}


class _Frame:
    def __init__(self, kind: str, line: Line | None) -> None:
        self.kind = kind
        self.line = line
        self.items: list[Any] = []


def _locals_of(items: list[Any]) -> frozenset[str]:
    return frozenset(lab.name for it in items if isinstance(it, Line) for lab in it.labels if lab.local)


def fold_blocks(lines: list[Line], source: Source) -> SourceFile:
    """Nest the lines of ``.macro``/``.rep``/``.test`` blocks into block items."""
    stack = [_Frame("file", None)]
    for line in lines:
        stmt = line.statement
        kind = stmt.name if isinstance(stmt, Directive) else None
        top = stack[-1]
        if top.kind == "test" and kind != "endtest":
            if line.labels:
                raise CompileError("labels cannot stand inside a .test block", line.labels[0].pos)
            if kind not in _TEST_ONLY:
                raise CompileError("only .set, .expect and .maxsteps may stand inside a .test block (end it with .endtest)", stmt.pos)
            top.items.append(line)
            continue
        if kind in _TEST_ONLY:
            raise CompileError(f"'.{kind}' may only stand inside a .test block", stmt.pos)
        if kind in _OPENERS:
            if kind in ("macro", "test") and len(stack) > 1:
                opened = stack[-1]
                raise CompileError(
                    f"'.{kind}' must stand at the top level of a file, not inside '.{opened.kind}'"
                    f" (opened at line {opened.line.statement.pos.line})", stmt.pos)
            if line.labels:
                if kind != "rep":
                    raise CompileError(f"a label cannot stand before '.{kind}'", line.labels[0].pos)
                top.items.append(Line(line.labels, None, line.pos))
            stack.append(_Frame(kind, line))
            continue
        if kind in _CLOSERS:
            opener = _CLOSERS[kind]
            if top.kind != opener:
                if top.kind == "file":
                    raise CompileError(f"'.{kind}' without a matching '.{opener}'", stmt.pos)
                raise CompileError(
                    f"'.{kind}' cannot close '.{top.kind}' (opened at line {top.line.statement.pos.line}); "
                    f"expected '.{_OPENERS[top.kind]}'", stmt.pos)
            if line.labels:
                if kind == "endtest":
                    raise CompileError("a label cannot stand before '.endtest'", line.labels[0].pos)
                top.items.append(Line(line.labels, None, line.pos))
            stack.pop()
            stack[-1].items.append(_close(top))
            continue
        top.items.append(line)
    if len(stack) > 1:
        top = stack[-1]
        raise CompileError(f"'.{top.kind}' is never closed (expected '.{_OPENERS[top.kind]}')", top.line.statement.pos)
    return SourceFile(source, tuple(stack[0].items), _locals_of(stack[0].items))


def _close(frame: _Frame) -> Item:
    d = frame.line.statement
    assert isinstance(d, Directive)
    body = tuple(frame.items)
    if frame.kind == "macro":
        return MacroDef(d.args[0], tuple(d.args[1:]), body, d.pos, _locals_of(frame.items))
    if frame.kind == "rep":
        return RepBlock(d.args[0], d.args[1], body, d.pos, _locals_of(frame.items))
    return TestBlock(d.args[0], body, d.pos)


# -- the pass ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _parse_cached(text: str, name: str, path: str | None) -> SourceFile:
    if text.startswith("\ufeff"):
        text = text[1:]
    source = Source(name, [line[:-1] if line.endswith("\r") else line for line in text.split("\n")], path)
    return fold_blocks(parse_lines(text, source), source)


def source_to_ast(text: str, name: str, path: str | None = None) -> SourceFile:
    """Parse one file's text. Results are cached by (text, name): included library files
    are parsed once per process."""
    return _parse_cached(text, name, path)


def clear_cache() -> None:
    _parse_cached.cache_clear()


def read_source(path: str | Path, name: str | None = None, at: Pos | None = None) -> tuple[str, str]:
    """Read a file as text: (text, resolved path). ``at``: the .include that asked for it."""
    p = Path(path)
    shown = name if name is not None else str(path)
    where = f"cannot include {shown!r}" if at is not None else f"cannot read {shown}"
    try:
        if p.is_dir():
            raise CompileError(f"{where}: it is a directory", at, file=shown)
        if p.exists() and not p.is_file():
            raise CompileError(f"{where}: not a regular file", at, file=shown)
        if p.exists() and p.stat().st_size > MAX_SOURCE_BYTES:
            raise CompileError(f"{where}: larger than {MAX_SOURCE_BYTES:,} bytes", at, file=shown)
        raw = p.read_bytes()
        resolved = str(p.resolve())
    except FileNotFoundError:
        raise CompileError(f"{where}: no such file", at, file=shown) from None
    except (OSError, ValueError, RuntimeError) as e:  # ValueError: a NUL in the name; RuntimeError: a symlink loop
        raise CompileError(f"{where}: {getattr(e, 'strerror', None) or e}", at, file=shown) from None
    return decode_source(raw, shown), resolved
