"""The language, feature by feature (spec/assembly.md and docs/assembly.md): layout and the
calling convention, labels and their sizes, local labels, macros, .rep, .const,
expressions, immediates, includes, tests, the trailing halt, the source map."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import CompileError, compile_file, compile_source
from compiler.testing import execute, run_tests
from isa.base import Status
from isa.convention import initial_data, read_outputs
from isa.program import Program
from isa.registry import REGISTRY

STDLIB_TESTS = [Path(__file__).resolve().parent.parent / "compiler" / "stdlib" / "tests" / "math.sasm"]


def run(program: Program, **sets: list[int]) -> dict[str, list[int]]:
    status, _, memory = execute(program, initial_data(program, sets), 100_000, "reference")
    assert status == Status.HALTED
    return read_outputs(program, memory)


def test_calling_convention_order() -> None:
    program = compile_source("""
        .data
        other:  .word 7
        out2:   .word 0
        both:   .zero 2
        in1:    .word 0
        out1:   .word 0
        .word 99                ; anonymous: still part of out1's block? no: a label's cells run to the next label
        .input in1, both
        .output out1, both, out2
        .code
                add #5, other
                add #5, out2
                neg out1
    """, "cc.sasm")
    s = program.symbols
    assert (s["in1"].address, s["both"].address, s["out1"].address, s["out2"].address, s["other"].address) == (1, 2, 4, 6, 7)
    assert s["out1"].size == 2  # the anonymous .word after it belongs to its block
    assert program.data[0] == 0 and program.data[7] == 7
    consts = program.data[8:].tolist()
    assert consts[0] == -5 and consts.count(-5) == 1  # one shared cell for #5 (added as -5)
    assert program.input_cells() == [1, 2, 3]


def test_label_aliases_sizes_and_blocks() -> None:
    program = compile_source("""
        .data
        a: b:   .word 1, 2
        c:
        d:      .word 3
        e:      .word 4
        .code
        .data
                .word 5, 6      ; anonymous
        f:      .zero 0
        g:      .word 8
    """, "labels.sasm")
    s = program.symbols
    assert s["a"] == s["b"] and s["a"].size == 2
    assert s["c"] == s["d"] and s["c"].size == 1
    assert s["e"].size == 1 and s["f"].size == 0 and s["g"].size == 1
    with pytest.raises(CompileError, match="'e\\+1' is outside 'e'"):
        compile_source(".data\ne: .word 1\nf: .word 2\n.code\nclr e+1\n", "p")
    with pytest.raises(CompileError, match="'f' has no cells"):
        compile_source(".data\nf: .zero 0\ng: .word 1\n.code\nclr f\n", "p")


def test_local_labels_are_hygienic() -> None:
    program = compile_source("""
        .macro bump x           ; x += 1 unless x is negative, with a local label
                jlt x, @skip
                inc x
        @skip:
        .endm
        .data
        v: .word 0, 0, 0
        .input v
        .output v
        .code
        @skip:  bump v          ; the caller's own @skip is another label
                bump v+1
                .rep i, 2
                jeq v+2, @z     ; a local label per iteration
                dec v+2
        @z:     inc v+2
                .endr
                jmp @end
        @end:
    """, "hygiene.sasm")
    assert run(program, v=[5, -3, 0]) == {"v": [6, -3, 1]}
    assert not any(name.startswith("@") for name in (*program.labels, *program.symbols))


def test_a_macro_cannot_see_its_callers_local_labels() -> None:
    with pytest.raises(CompileError, match="undefined local label '@out'"):
        compile_source(".macro m\n  jmp @out\n.endm\n.rep i, 1\n  m\n@out: halt\n.endr\n", "p")
    # ... but its caller can pass one in
    compile_source(".macro m t\n  jmp t\n.endm\n.rep i, 1\n  m @out\n@out: halt\n.endr\n", "p")


def test_macro_arguments_keep_their_kind_and_sections_are_restored() -> None:
    program = compile_source("""
        .macro addto src, dst
        .data
        @t:     .word 0
        .code
                mov src, @t
                add @t, dst
        .endm
        .data
        x: .word 0
        .input x
        .output x
        addto #3, x            ; in .data: the macro's .code ends with it...
        y: .word 11            ; ...and this is data again
        .code
                addto #4, x
                addto y, x
    """, "args.sasm")
    assert program.symbols["y"].size == 1
    assert run(program, x=[1]) == {"x": [19]}


def test_rep_variables_shadow_and_count() -> None:
    program = compile_source("""
        .const N = 3
        .data
        m: .zero 9
        .output m
        .code
                .rep i, N
                .rep j, N
                .rep i, 1       ; shadows the outer i inside
                add #i + 1, m + 3 * j + 0
                .endr
                add #i, m + 3 * i + j
                .endr
                .endr
    """, "rep.sasm")
    out = run(program)["m"]
    expected = [0] * 9
    for i in range(3):
        for j in range(3):
            expected[3 * j] += 1
            expected[3 * i + j] += i
    assert out == expected
    with pytest.raises(CompileError, match="undefined data label 'i'"):
        compile_source(".data\nx: .word 0\n.code\n.rep i, 1\n.endr\nclr i\n", "p")


def test_expressions_are_exact() -> None:
    program = compile_source("""
        .const A = -7
        .data
        v: .word A / 2, A % 3, 7 % -3, 7 / -2, 1 << 62, -(1 << 63), ~5, 6 & 3 | 8 ^ 1, 'A', '\\n', 2 + 3 * 4 - (1 << 2 >> 1)
        n: .word end - start    ; label arithmetic waits for layout
        .code
        start:  clr n
                clr n
        end:
    """, "expr.sasm")
    assert program.data[1:12].tolist() == [-4, 2, -2, -4, 1 << 62, -(1 << 63), -6, (6 & 3) | (8 ^ 1), 65, 10, 12]
    assert program.data[12] == 2


def test_mnemonics_and_directives_ignore_case() -> None:
    program = compile_source(".DATA\nX: .Word 4\n.OUTPUT X\n.Code\n  INC X\n  Halt\n", "case.sasm")
    assert run(program) == {"X": [5]}


def test_immediates_are_shared_read_only_cells() -> None:
    program = compile_source(".data\nx: .word 0\n.code\n  mov #7, x\n  sub #7, x\n  add #-7, x\n  inc x\n  dec x\n",
                             "imm.sasm", isa="ext")
    consts = program.data[2:].tolist()
    assert sorted(consts) == [-7, 1, 7]  # #7, #-7, and inc/dec's 1 (shared with nothing else)


def test_trailing_halt_only_when_control_can_fall_off() -> None:
    def rows(text: str) -> int:
        return compile_source(text, "h.sasm", isa="ext").n

    assert rows("halt\n") == 2
    assert rows("l: jmp l\n") == 2
    assert rows(".data\nx: .word 0\n.code\nclr x\n") == 3  # appended
    assert rows("jmp end\nend:\n") == 3  # a label at the end: appended
    assert rows("jmp l+1\nl: halt\n") == 4  # l+1 is the end
    assert rows("") == 2


def test_code_labels_count_portable_instructions() -> None:
    program = compile_source("""
        .data
        x: .word 0
        .output x
        .code
                jmp skip+1      ; one portable instruction (six subleq rows) after skip
        skip:   neg x
                inc x
                inc x
    """, "off.sasm", isa="subleq")
    assert run(program) == {"x": [2]}


def test_includes_are_relative_and_libraries_may_be_included_twice(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "double.sasm").write_text(".include <math>\n.macro double x\n  add x, x\n.endm\n")
    main = tmp_path / "main.sasm"
    main.write_text(".include <math>\n.include \"lib/double.sasm\"\n.data\nv: .word 0\n.input v\n.output v\n.code\n"
                    "  double v\n  abs v, v\n")
    program = compile_file(main)
    assert run(program, v=[-21]) == {"v": [42]}
    assert any(loc is not None and loc.file == "<math>" for loc in program.source_map)


def test_isa_directive_and_command_line_override() -> None:
    text = ".isa ext\n.data\np: .word x\nx: .word 3\ny: .word 0\n.output y\n.code\n  load p, y\n"
    assert compile_source(text, "i.sasm").isa == "ext"
    assert compile_source(text, "i.sasm", isa="classic").isa == "classic"
    with pytest.raises(CompileError, match="conflicting .isa"):
        compile_source(".isa ext\n.isa subleq\n", "i.sasm")


def test_tests_may_use_labels_and_are_skipped_where_values_do_not_fit() -> None:
    text = """
        .data
        arr: .word 0, 0
        p:   .word 0
        v:   .word 0
        .input p
        .output v
        .code
                load p, v
        .test "pointer"
                .set arr = 0, 300
                .set p = arr + 1
                .expect v = 300
        .endtest
    """
    assert [o.status for o in run_tests(compile_source(text, "t.sasm", isa="ext"), "reference")] == ["pass"]
    outcome = run_tests(compile_source(text, "t.sasm", isa="ext", word_bits=8), "reference")[0]
    assert outcome.status == "skip" and "300" in outcome.detail


def test_source_map_and_classic_layout() -> None:
    program = compile_source(".data\nx: .word 0\n.code\n  inc x\n", "m.sasm", isa="classic", word_bits=16)
    assert program.source_map[0] is not None and program.source_map[0].line == 4
    assert program.source_map[-1] is None  # the added halt
    assert program.code[-1].tolist()[2] == -1  # halting jumps to a negative address
    port = (1 << 16) - 1
    assert port not in program.code[:, :2].tolist() and program.data_base == 3 * program.n
    sub = compile_source(".data\nx: .word 0\n.code\n  inc x\n", "m.sasm", isa="subleq")
    assert sub.source_map[0] is None and sub.source_map[1].text == "inc x"


def test_classic_memory_grows_at_32_bits_only() -> None:
    big = ".data\nx: .zero 70000\n.code\nclr x\n"
    assert compile_source(big, "b.sasm", isa="classic", word_bits=32).memory_size > 70000
    with pytest.raises(CompileError, match="usable words"):
        compile_source(big, "b.sasm", isa="classic", word_bits=16)


@pytest.mark.parametrize("path", STDLIB_TESTS, ids=lambda p: p.name)
@pytest.mark.parametrize("isa", list(REGISTRY))
def test_standard_library_tests_pass(path: Path, isa: str) -> None:
    program = compile_file(path, isa=isa)
    outcomes = run_tests(program, "reference")
    assert outcomes and all(o.status in ("pass", "skip") for o in outcomes), [(o.test, o.detail) for o in outcomes]
