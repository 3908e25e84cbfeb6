"""Fuzzing the front end: whatever the input, the compiler returns a Program or raises
CompileError, never anything else (so the command line never shows a traceback).

Inputs: text generated from the grammar's pieces (labels, directives, instructions,
expressions, blocks, opened and closed at random), random bytes, and every truncation of
the example programs.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compiler_examples import EXAMPLES, SPEC_EXAMPLE

from compiler import CompileError, compile_file, compile_source
from compiler.source_to_ast import decode_source
from isa.program import Program
from isa.registry import REGISTRY

ISAS = tuple(REGISTRY)  # every registered ISA
MNEMONICS = ["mov", "add", "sub", "neg", "clr", "inc", "dec", "jmp", "jle", "jlt", "jeq", "jne", "jge", "jgt", "halt",
             "load", "store", "subleq", "MOV", "m", "mac"]
NAMES = ["x", "y", "arr", "i", "N", "loop", "end", "m", "p", "q"]

names = st.sampled_from(NAMES)
numbers = st.one_of(st.integers(-300, 300), st.sampled_from([2**63, -(2**63), 2**64, 2**7, 10**30]))


def expr(depth: int = 3) -> st.SearchStrategy[str]:
    atom = st.one_of(numbers.map(str), names, st.sampled_from(["@l", "'a'", "'\\n'", "0x1f", "0b101"]))
    if depth == 0:
        return atom
    sub = expr(depth - 1)
    return st.one_of(
        atom,
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^"]), sub).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(st.sampled_from(["-", "~", "+"]), sub).map(lambda t: t[0] + t[1]),
        sub.map(lambda s: f"({s})"),
    )


operand = st.one_of(expr(2), expr(2).map(lambda s: "#" + s))
operands = st.lists(operand, max_size=4).map(", ".join)
instruction = st.tuples(st.sampled_from(MNEMONICS), operands).map(lambda t: f"{t[0]} {t[1]}")
directive = st.one_of(
    st.sampled_from([".data", ".code", ".endm", ".endr", ".endtest", ".isa ext", ".isa subleq", ".isa classic",
                     ".include <math>", '.include "nope.sasm"', '.desc "d"', '.ascii "hi\\n"', ".maxsteps 10"]),
    st.tuples(names, expr(2)).map(lambda t: f".const {t[0]} = {t[1]}"),
    st.lists(expr(1), min_size=1, max_size=3).map(lambda v: ".word " + ", ".join(v)),
    expr(1).map(lambda e: f".zero {e}"),
    st.tuples(expr(1), expr(1)).map(lambda t: f".fill {t[0]}, {t[1]}"),
    st.lists(names, min_size=1, max_size=2).map(lambda v: ".input " + ", ".join(v)),
    st.lists(names, min_size=1, max_size=2).map(lambda v: ".output " + ", ".join(v)),
    st.tuples(names, st.lists(names, max_size=2)).map(lambda t: f".macro {t[0]} {', '.join(t[1])}"),
    st.tuples(names, expr(1)).map(lambda t: f".rep {t[0]}, {t[1]}"),
    st.just('.test "t"'),
    st.tuples(names, st.lists(expr(1), min_size=1, max_size=3)).map(lambda t: f".set {t[0]} = {', '.join(t[1])}"),
    st.tuples(names, st.lists(expr(1), min_size=1, max_size=3)).map(lambda t: f".expect {t[0]} = {', '.join(t[1])}"),
)
label = st.one_of(names, st.just("@l")).map(lambda n: n + ":")
line = st.tuples(st.lists(label, max_size=2), st.one_of(st.just(""), instruction, directive),
                 st.sampled_from(["", " ; comment", "\t"])).map(lambda t: " ".join(t[0]) + " " + t[1] + t[2])
source = st.lists(line, max_size=25).map("\n".join)


def must_compile_or_fail_cleanly(text: str, isa: str | None = None, word_bits: int | None = None) -> None:
    try:
        program = compile_source(text, "fuzz.sasm", isa=isa, word_bits=word_bits)
    except CompileError as e:
        diagnostic = str(e)
        assert diagnostic.startswith("fuzz.sasm:") or diagnostic.startswith("<math>:"), diagnostic
        assert ": error: " in diagnostic.split("\n")[0]
        return
    assert isinstance(program, Program)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(source, st.sampled_from(ISAS), st.sampled_from([None, 8, 16]))
def test_text_from_the_grammar(text: str, isa: str, word_bits: int | None) -> None:
    must_compile_or_fail_cleanly(text, isa, word_bits)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(raw: bytes) -> None:
    try:
        text = decode_source(raw, "fuzz.sasm")
    except CompileError:
        return
    must_compile_or_fail_cleanly(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=120))
def test_random_text(text: str) -> None:
    must_compile_or_fail_cleanly(text)


def test_every_truncation_of_the_examples() -> None:
    for text in [SPEC_EXAMPLE, *(ex.source for ex in EXAMPLES[1:4])]:
        for cut in range(0, len(text), 3):
            must_compile_or_fail_cleanly(text[:cut])


def test_garbage_files(tmp_path: Path) -> None:
    for i, raw in enumerate([b"\x00" * 10, b"\xff\xfe\x00m", b"mov x\x00, y", "é: halt".encode(), b"\x80", b"a" * 5000,
                             b"(" * 10000, b".rep i, 1\n" * 200, b'"' * 7, b"\r\r\r", b"\xef\xbb\xbfhalt"]):
        path = tmp_path / f"g{i}.sasm"
        path.write_bytes(raw)
        try:
            compile_file(path)
        except CompileError as e:
            assert str(e).startswith(str(path))
