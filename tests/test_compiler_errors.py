"""Compile errors: the exact format of spec/assembly.md, and the right place and words for
each kind of mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler import CompileError, compile_file, compile_source
from isa.base import SynthError

DIAG = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>[^\n]+)$")


def error_of(source: str, isa: str | None = None, word_bits: int | None = None, name: str = "prog.sasm") -> CompileError:
    with pytest.raises(CompileError) as info:
        compile_source(source, name, isa=isa, word_bits=word_bits)
    return info.value


def parsed(e: CompileError) -> tuple[str, int, int, str, list[str]]:
    lines = str(e).split("\n")
    m = DIAG.match(lines[0])
    assert m, lines[0]
    return m["file"], int(m["line"]), int(m["col"]), m["msg"], lines[1:]


def test_format_is_file_line_col_error_then_the_line_and_a_caret() -> None:
    e = error_of(".data\nx: .word 1\n.code\n\tmov x, nowhere   ; oops\n")
    file, line, col, msg, rest = parsed(e)
    assert (file, line, col) == ("prog.sasm", 4, 9)
    assert msg == "undefined data label 'nowhere'"
    assert rest[0] == "    \tmov x, nowhere   ; oops"
    assert rest[1] == "    \t" + " " * 7 + "^"  # the tab kept, so the caret lines up
    assert isinstance(e, SynthError) and str(e) == e.diagnostic()


def test_macro_expansion_adds_a_note_per_site_innermost_first() -> None:
    source = """\
.macro inner a
        add a, missing
.endm
.macro outer a
        inner a
.endm
.data
x: .word 0
.code
        outer x
"""
    file, line, col, msg, rest = parsed(error_of(source))
    assert (line, col, msg) == (2, 16, "undefined data label 'missing'")
    assert rest[2:] == [
        "prog.sasm:5:9: note: in expansion of macro 'inner'",
        "prog.sasm:10:9: note: in expansion of macro 'outer'",
    ]


def test_rep_iteration_and_include_notes(tmp_path: Path) -> None:
    (tmp_path / "lib.sasm").write_text(".data\nv: .zero 2\n.code\n.rep i, 3\n  clr v+i\n.endr\n")
    main = tmp_path / "main.sasm"
    main.write_text('; main\n.include "lib.sasm"\n')
    with pytest.raises(CompileError) as info:
        compile_file(main)
    lines = str(info.value).split("\n")
    assert lines[0].endswith("lib.sasm:5:7: error: 'v+2' is outside 'v' (2 cells: offsets 0 to 1); "
                             "the layout may move labels apart, so an operand may not reach into the next label")
    assert lines[3].endswith("lib.sasm:4:1: note: in .rep iteration i = 2")
    assert lines[4].endswith("main.sasm:2:10: note: in file included from here")


@pytest.mark.parametrize(("source", "where", "words"), [
    ("mvo x, y\n", (1, 1), "unknown instruction or macro 'mvo' (did you mean 'mov'?)"),
    ("word 5\n", (1, 1), "the directive is written '.word'"),
    (".wordy 5\n", (1, 1), "unknown directive '.wordy'"),
    (".data\nx: .word 1\n.code\nclr #5\n", (4, 6), "read-only and cannot be the destination of 'clr'"),
    (".data\nx: .word 1\n.code\nmov x, #1\n", (4, 9), "read-only"),
    (".data\nx: .word 1\n.code\nsubleq x, #1\n", (4, 12), "read-only"),
    (".data\nx: .word 0\n.code\nmov 5, x\n", (4, 5), "write #5"),
    ("x: halt\nx: halt\n", (2, 1), "duplicate label 'x'"),
    ("mov: halt\n", (1, 1), "'mov' is a mnemonic and cannot be a label"),
    ("Data: halt\n", (1, 1), "directive name"),
    (".macro m\n.endm\nm: halt\n", (3, 1), "'m' is a macro and cannot be a label"),
    (".rep i, -2\n.endr\n", (1, 9), "negative .rep count (-2)"),
    (".rep i, 2\nl: halt\n.endr\n", (2, 1), "duplicate label 'l'"),
    (".macro m\n  m\n.endm\nm\n", (2, 3), "recursive macro call: m -> m"),
    (".macro m a\n.endm\nm\n", (3, 1), "macro 'm' takes 1 argument (a), not 0"),
    ("mov x\n", (1, 1), "'mov' takes 2 operands (source, destination), not 1"),
    ("halt x\n", (1, 1), "'halt' takes 0 operands"),
    (".data\nx: .word 1/0\n", (2, 12), "division by zero"),
    (".data\nx: .word 1 % (2 - 2)\n", (2, 15), "division by zero"),
    (".data\nx: .word 1 << 5000\n", (2, 10), "value too large"),
    (".data\nx: .word " + "9" * 2000 + "\n", (2, 10), "number too large"),
    (".data\nx: .word 12abc\n", (2, 10), "malformed number"),
    ('.desc "abc\n', (1, 7), "unterminated string"),
    ('.desc "a\\q"\n', (1, 7), "bad string"),
    (".data\nx: .word 'ab'\n", (2, 10), "bad character literal"),
    (".macro m\nhalt\n", (1, 1), "'.macro' is never closed (expected '.endm')"),
    (".endr\n", (1, 1), "'.endr' without a matching '.rep'"),
    (".rep i, 1\n.endm\n", (2, 1), "'.endm' cannot close '.rep'"),
    ('.set x = 1\n', (1, 1), "may only stand inside a .test block"),
    ('.test "t"\nclr x\n.endtest\n', (2, 1), "only .set, .expect and .maxsteps"),
    ("jmp nowhere\n", (1, 5), "undefined code label 'nowhere'"),
    (".data\nx: .word 0\n.code\njmp x\n", (4, 5), "'x' is a data label, not a code label"),
    ("l: clr l\n", (1, 8), "'l' is a code label, not a data label"),
    ("jmp @far\n", (1, 5), "undefined local label '@far'"),
    (".rep i, n\n.endr\n", (1, 9), "must be a compile-time constant"),
    (".data\nx: .zero y\ny: .word 0\n", (2, 10), "must be a compile-time constant"),
    (".const N = 1\n.const N = 2\n", (2, 8), "constant 'N' is already defined"),
    (".isa nope\n", (1, 6), "unknown ISA 'nope'"),
    (".include <nope>\n", (1, 10), "no library <nope>"),
    ('.include "missing.sasm"\n', (1, 10), "cannot include 'missing.sasm': no such file"),
    (".data\nx: .word 0\n.input y\n", (3, 8), "undefined data label 'y'"),
    ("l: halt\n.output l\n", (2, 9), "'l' is a code label, not a data label"),
    (".data\nx: .word 0\n.test \"t\"\n.expect x = 1, 2\n.endtest\n", (4, 9), ".expect gives 2 values for 'x', which has 1 cell"),
    ("clr x\x00\n", (1, 6), "unexpected character U+0000"),
    ("mov x,, y\n", (1, 7), "unexpected ','"),
    (".data\nx: .word (1 + 2\n", (2, 16), "unexpected end of line (expected an operator or ')')"),
])
def test_each_mistake_is_reported_where_it_is(source: str, where: tuple[int, int], words: str) -> None:
    _, line, col, msg, _ = parsed(error_of(source))
    assert words in msg
    assert (line, col) == where, msg


def test_values_must_fit_the_word() -> None:
    assert compile_source(".data\nx: .word 255, -128\n", "p", word_bits=8).data.tolist() == [0, -1, -128]
    _, line, col, msg, _ = parsed(error_of(".data\nx: .word 256\n", word_bits=8))
    assert (line, col) == (2, 10) and msg == "value 256 does not fit a 8-bit word (allowed: -128 to 255)"
    _, _, _, msg, _ = parsed(error_of(".data\nx: .word 0\n.code\nadd #-129, x\n", word_bits=8))
    assert msg.startswith("immediate -129 does not fit a 8-bit word")


def test_load_and_store_on_subleq_name_the_isa_and_the_ways_out() -> None:
    source = ".data\np: .word x\nx: .word 0\n.code\nload p, x\n"
    _, line, col, msg, _ = parsed(error_of(source, isa="subleq"))
    assert (line, col) == (5, 1)
    assert "ISA 'subleq'" in msg and ".rep" in msg and "--isa ext" in msg
    compile_source(source, "p", isa="ext")
    compile_source(source, "p", isa="classic")


def test_classic_code_must_stay_below_half_the_address_space() -> None:
    source = ".data\nx: .word 0\n.code\n.rep i, 50\n neg x\n.endr\n"
    e = error_of(source, isa="classic", word_bits=8)
    assert str(e).startswith("prog.sasm: error: the code takes") and "2^7" in str(e)


def test_include_cycle_prints_the_chain(tmp_path: Path) -> None:
    (tmp_path / "a.sasm").write_text('.include "b.sasm"\n')
    (tmp_path / "b.sasm").write_text('halt\n.include "a.sasm"\n')
    with pytest.raises(CompileError) as info:
        compile_file(tmp_path / "a.sasm")
    assert "include cycle: a.sasm -> b.sasm -> a.sasm" in str(info.value)


def test_invalid_utf8_points_at_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "bad.sasm"
    path.write_bytes(b"halt\nclr x \xff\n")
    with pytest.raises(CompileError) as info:
        compile_file(path)
    first = str(info.value).split("\n")[0]
    assert first == f"{path}:2:7: error: invalid UTF-8: byte 0xff cannot start a character here"


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(CompileError) as info:
        compile_file(tmp_path / "nope.sasm")
    assert "no such file" in str(info.value)


@pytest.mark.parametrize("source", [
    ".data\nx: .word " + "(" * 300 + "1" + ")" * 300 + "\n",
    ".data\nx: .word " + "-" * 300 + "1\n",
    "".join(f".rep i{k}, 1\n" for k in range(100)) + ".endr\n" * 100,
    "".join(f".macro m{k}\nm{k + 1}\n.endm\n" for k in range(100)) + ".macro m100\nhalt\n.endm\nm0\n",
    ".rep i, 10000000\n.endr\n",
    ".data\nx: .zero 100000000000\n",
])
def test_hostile_sizes_are_errors(source: str) -> None:
    try:
        compile_source(source, "p")
    except CompileError:
        pass


def test_long_flat_expressions_are_fine() -> None:
    program = compile_source(".data\nx: .word " + " + ".join(["1"] * 5000) + "\n", "p")
    assert program.data.tolist() == [0, 5000]
