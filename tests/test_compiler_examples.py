"""A shared table of example programs with expected outputs, compiled for every ISA and run.

Each entry is a source, the ISAs it is meant for, and input -> output cases; the same
table drives every ISA (and a few word widths), so a lowering rule that is wrong on one
ISA shows up as that ISA's failure. Also: the spec's example and its in-source test on
all three ISAs, and golden listings (set UPDATE_GOLDEN=1 to rewrite them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from compiler import CompileError, compile_source
from compiler.listing import listing
from compiler.testing import execute, run_tests
from isa.base import Status
from isa.convention import initial_data, read_outputs
from isa.program import Program
from isa.registry import REGISTRY

ALL = tuple(REGISTRY)  # every registered ISA
GOLDEN = Path(__file__).with_name("golden")

SPEC_EXAMPLE = """\
; count the ones in an 8-cell input
.desc "count how many ones are in the input"
.desc "how many 1s are in this sequence"
.const N = 8

.data
bits:   .zero N             ; N cells, all 0
count:  .word 0
.input  bits
.output count

.code
        clr count
        .rep i, N           ; compile-time loop, i = 0 .. N-1
        add bits+i, count   ; count += bits[i]
        .endr
        halt

.test "mixed"
        .set bits = 1, 1, 1, 0, 1, 0, 1, 1
        .expect count = 6
.endtest
"""


@dataclass
class Example:
    name: str
    source: str
    cases: list[tuple[dict[str, list[int]], dict[str, list[int]]]]
    isas: tuple[str, ...] = ALL
    widths: tuple[int | None, ...] = (None,)
    extra: dict = field(default_factory=dict)


EXAMPLES = [
    Example("popcount", SPEC_EXAMPLE, [
        ({"bits": [1, 1, 1, 0, 1, 0, 1, 1]}, {"count": [6]}),
        ({"bits": [0] * 8}, {"count": [0]}),
        ({"bits": [1] * 8}, {"count": [8]}),
    ], widths=(None, 8, 32)),
    Example("max", """
        .data
        a: .word 0
        b: .word 0
        m: .word 0
        .input a, b
        .output m
        .code
                mov a, m
                sub b, m        ; m = a - b (may wrap: compare signs first)
                jlt a, aneg
                jlt b, takea    ; a >= 0 > b
                jmp same
        aneg:   jge b, takeb    ; a < 0 <= b
        same:   jge m, takea
        takeb:  mov b, m
                halt
        takea:  mov a, m
    """, [
        ({"a": [3], "b": [9]}, {"m": [9]}),
        ({"a": [-3], "b": [-9]}, {"m": [-3]}),
        ({"a": [-(2**63)], "b": [2**63 - 1]}, {"m": [2**63 - 1]}),
        ({"a": [2**63 - 1], "b": [-(2**63)]}, {"m": [2**63 - 1]}),
        ({"a": [5], "b": [5]}, {"m": [5]}),
    ]),
    Example("multiply by repeated addition (a backward loop)", """
        .data
        x: .word 0
        n: .word 0
        r: .word 0
        k: .word 0
        .input x, n
        .output r
        .code
                clr r
                mov n, k
        loop:   jle k, done
                add x, r
                dec k
                jmp loop
        done:
    """, [
        ({"x": [7], "n": [6]}, {"r": [42]}),
        ({"x": [-3], "n": [5]}, {"r": [-15]}),
        ({"x": [9], "n": [0]}, {"r": [0]}),
    ], widths=(None, 8, 16)),
    Example("fibonacci", """
        .data
        n: .word 0
        a: .word 0
        b: .word 1
        t: .word 0
        .input n
        .output a
        .code
        loop:   jeq n, end
                mov a, t
                add b, t        ; t = a + b
                mov b, a
                mov t, b
                dec n
                jmp loop
        end:    halt
    """, [
        ({"n": [0]}, {"a": [0]}),
        ({"n": [1]}, {"a": [1]}),
        ({"n": [10]}, {"a": [55]}),
        ({"n": [90]}, {"a": [2880067194370816120]}),
    ]),
    Example("sign with every jump", """
        .data
        x: .word 0
        s: .word 0
        flags: .zero 6          ; jle jlt jeq jne jge jgt taken?
        .input x
        .output s, flags
        .code
                clr s
                jeq x, iszero
                jgt x, pos
                dec s
                jmp tests
        pos:    inc s
                jmp tests
        iszero: clr s
        tests:
                jle x, @a
                jmp @b
        @a:     inc flags+0
        @b:     jlt x, @c
                jmp @d
        @c:     inc flags+1
        @d:     jeq x, @e
                jmp @f
        @e:     inc flags+2
        @f:     jne x, @g
                jmp @h
        @g:     inc flags+3
        @h:     jge x, @i
                jmp @j
        @i:     inc flags+4
        @j:     jgt x, @k
                halt
        @k:     inc flags+5
    """, [
        ({"x": [0]}, {"s": [0], "flags": [1, 0, 1, 0, 1, 0]}),
        ({"x": [5]}, {"s": [1], "flags": [0, 0, 0, 1, 1, 1]}),
        ({"x": [-5]}, {"s": [-1], "flags": [1, 1, 0, 1, 0, 0]}),
        ({"x": [-(2**63)]}, {"s": [-1], "flags": [1, 1, 0, 1, 0, 0]}),
        ({"x": [2**63 - 1]}, {"s": [1], "flags": [0, 0, 0, 1, 1, 1]}),
        ({"x": [-1]}, {"s": [-1], "flags": [1, 1, 0, 1, 0, 0]}),
        ({"x": [1]}, {"s": [1], "flags": [0, 0, 0, 1, 1, 1]}),
    ]),
    Example("hygienic macros, immediates, constants, wrap-around", """
        .const LIMIT = 10 * 10 - 1      ; 99
        .macro clamp x, hi              ; x = min(x, hi), with a local label
                mov x, @t
                sub hi, @t
                jle @t, @ok
                mov hi, x
        @ok:
        .data
        @t:     .word 0
        .code
        .endm
        .data
        v: .zero 3
        .input v
        .output v
        .code
                clamp v, #LIMIT
                clamp v+1, #LIMIT
                add #1, v+2             ; wraps at the word width
        """, [
        ({"v": [5, 150, 2**63 - 1]}, {"v": [5, 99, -(2**63)]}),
        ({"v": [99, 100, -1]}, {"v": [99, 99, 0]}),
    ]),
    Example("pointer sum (load)", """
        .data
        arr: .word 0, 0, 0, 0
        n:   .word 4
        p:   .word arr
        sum: .word 0
        t:   .word 0
        .input arr
        .output sum
        .code
        loop:   jle n, done
                load p, t
                add t, sum
                inc p
                dec n
                jmp loop
        done:   halt
    """, [
        ({"arr": [1, 2, 3, 4]}, {"sum": [10]}),
        ({"arr": [-5, 7, 0, 100]}, {"sum": [102]}),
    ], isas=("ext", "classic"), widths=(None, 8)),
    Example("reverse in place (load and store through pointers)", """
        .data
        a: .word 0, 0, 0, 0, 0
        lo: .word a
        hi: .word a+4
        x: .word 0
        y: .word 0
        d: .word 0
        .input a
        .output a
        .code
        loop:   mov hi, d
                sub lo, d
                jle d, done
                load lo, x
                load hi, y
                store y, lo
                store x, hi
                inc lo
                dec hi
                jmp loop
        done:
    """, [({"a": [1, 2, 3, 4, 5]}, {"a": [5, 4, 3, 2, 1]})], isas=("ext", "classic")),
    Example("pointers at their own operands", """
        .data
        p: .word 0          ; p points at itself or at q
        q: .word 0
        r: .word 0
        .input p, q
        .output p, q, r
        .code
                load p, r       ; r = mem[p]
                store q, p      ; mem[p] = q
    """, [
        ({"p": [1], "q": [7]}, {"p": [7], "q": [7], "r": [1]}),   # p (cell 1) -> p: r = p, then p = q
        ({"p": [2], "q": [9]}, {"p": [2], "q": [9], "r": [9]}),       # p -> q
    ], isas=("ext", "classic")),
    Example("the standard library", """
        .include <math>
        .data
        a: .word 0
        b: .word 0
        r: .zero 4
        .input a, b
        .output r
        .code
                mul a, b, r
                abs a, r+1
                max a, b, r+2
                min a, b, r+3
    """, [
        ({"a": [-6], "b": [7]}, {"r": [-42, 6, 7, -6]}),
        ({"a": [12], "b": [-12]}, {"r": [-144, 12, 12, -12]}),
    ], widths=(None, 16)),
]


def _compile(ex: Example, isa: str, bits: int | None) -> Program:
    return compile_source(ex.source, f"{ex.name}.sasm", isa=isa, word_bits=bits)


@pytest.mark.parametrize("isa", ALL)
@pytest.mark.parametrize("ex", EXAMPLES, ids=lambda e: e.name)
def test_example_programs(ex: Example, isa: str) -> None:
    if isa not in ex.isas:  # it uses load/store: a clear error, for the ISA and not the program
        with pytest.raises(CompileError) as info:
            _compile(ex, isa, None)
        assert info.value.target_specific and "indirect addressing" in info.value.message
        return
    for bits in ex.widths:
        program = _compile(ex, isa, bits)
        w = program.word_bits
        for inputs, expected in ex.cases:
            if any(not -(1 << (w - 1)) <= v < (1 << w) for vs in (*inputs.values(), *expected.values()) for v in vs):
                continue
            status, steps, memory = execute(program, initial_data(program, inputs), 1_000_000, "reference")
            assert status == Status.HALTED, (ex.name, isa, w, inputs)
            got = read_outputs(program, memory)
            from isa.base import wrap

            want = {k: [wrap(v, w) for v in vs] for k, vs in expected.items()}
            assert {k: got[k] for k in want} == want, (ex.name, isa, w, inputs)


@pytest.mark.parametrize("isa", ALL)
def test_spec_example_and_its_test(isa: str) -> None:
    program = compile_source(SPEC_EXAMPLE, "popcount.sasm", isa=isa)
    assert program.descriptions == ["count how many ones are in the input", "how many 1s are in this sequence"]
    assert program.inputs == ["bits"] and program.outputs == ["count"]
    assert program.symbols["bits"].address == 1 and program.symbols["bits"].size == 8
    assert program.symbols["count"].address == 9
    outcomes = run_tests(program, backend="reference")
    assert [(o.test, o.status) for o in outcomes] == [("mixed", "pass")]


GOLDEN_ISAS = ("subleq", "ext", "classic")  # listings kept as golden files (regression guards of these back ends)


@pytest.mark.parametrize("isa", GOLDEN_ISAS)
def test_golden_listing(isa: str) -> None:
    text = listing(compile_source(SPEC_EXAMPLE, "popcount.sasm", isa=isa))
    path = GOLDEN / f"popcount.{isa}.lst"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_golden_listing_with_macros_and_auto_halt() -> None:
    source = """\
.include <math>
.data
x: .word -5
y: .word 0
.output y
.code
        abs x, y
loop:   jge y, done         ; always taken: exercises a jump to the end
done:
"""
    text = listing(compile_source(source, "absval.sasm", isa="subleq"))
    path = GOLDEN / "absval.subleq.lst"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()
    assert "halt (added: control can run past the end)" in text
