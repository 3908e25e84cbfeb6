"""The example library (examples/*.sasm) and the standard library (compiler/stdlib/).

Examples: every one compiles for every registered ISA (or, for the programs that walk
a list through a pointer, fails on an ISA without indirect addressing with the
compiler's message), and its `.test` blocks pass there on the Numba CPU runtime; every
one has at least three distinct descriptions, two tests, inputs and outputs; no two
programs share a description; examples/README.md lists them all.

Standard library: the test programs in compiler/stdlib/tests/ pass on every ISA at the
default width and at 8 bits, and <cmp>, <div> and <bits> agree with Python on every
pair of 8-bit words (and on edge values at 16 and 64 bits) on subleq and ext.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
from pathlib import Path

import numpy as np
import pytest

from compiler import CompileError, compile_file, compile_source
from compiler.testing import run_tests
from isa.convention import initial_data
from isa.program import Program
from isa.registry import all_isas, static_isas
from runtime.batch import make_batch, run_batch

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "examples").glob("*.sasm"))
STDLIB_TESTS = sorted((REPO / "compiler" / "stdlib" / "tests").glob("*.sasm"))
ISAS = [isa.name for isa in all_isas()]
NO_INDIRECT = "has no indirect addressing"


@functools.cache
def compiled(path: Path, isa: str, word_bits: int | None = None) -> Program | CompileError:
    try:
        return compile_file(path, isa=isa, word_bits=word_bits)
    except CompileError as e:
        return e


def uses_pointers(path: Path) -> bool:
    code = "\n".join(line.split(";")[0] for line in path.read_text(encoding="utf-8").splitlines())
    return re.search(r"^\s*(\w+:\s*)?(load|store)\b", code, re.M | re.I) is not None or "<ptr>" in code


def test_library_size() -> None:
    assert len(EXAMPLES) >= 30, [p.stem for p in EXAMPLES]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_passes_its_tests_on_every_isa(path: Path) -> None:
    ran = []
    for isa in ISAS:
        program = compiled(path, isa)
        if isinstance(program, CompileError):
            # only a pointer program may fail, and only for want of load/store
            assert uses_pointers(path) and NO_INDIRECT in str(program), f"{isa}: {program}"
            continue
        outcomes = run_tests(program, backend="cpu")
        bad = [(o.test, o.status, o.detail) for o in outcomes if o.status != "pass"]
        assert not bad, f"{path.name} on {isa}: {bad}"
        ran.append(isa)
    assert "ext" in ran and "classic" in ran  # every example runs on these two
    assert uses_pointers(path) or "subleq" in ran


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_is_documented(path: Path) -> None:
    program = compiled(path, "ext")
    assert isinstance(program, Program), str(program)
    descs = [" ".join(d.split()) for d in program.descriptions]
    assert len(descs) >= 3 and len({d.lower() for d in descs}) == len(descs), descs
    assert all(d for d in descs)
    assert len(program.tests) >= 2
    assert all(t.expect for t in program.tests), "a test that expects nothing checks nothing"
    assert program.inputs and program.outputs
    assert re.fullmatch(r"[a-z][a-z0-9_]*", path.stem), "name examples in snake_case"


def test_descriptions_are_unique_across_the_library() -> None:
    seen: dict[str, str] = {}
    clashes = []
    for path in EXAMPLES:
        program = compiled(path, "ext")
        assert isinstance(program, Program), str(program)
        for d in program.descriptions:
            key = re.sub(r"[^a-z0-9 ]", "", " ".join(d.lower().split()))
            if key in seen and seen[key] != path.stem:
                clashes.append((d, seen[key], path.stem))
            seen.setdefault(key, path.stem)
    assert not clashes, clashes


def test_background_texts_stay_apart_from_the_test_texts() -> None:
    """background.txt (trained on as "no program") shares no text, nor a near copy, with
    off_topic.txt (the refusal test set) or with any paraphrase of a program."""

    def words(text: str) -> set[str]:
        return set(re.findall(r"[a-z0-9]+", text.lower()))

    background = [t.strip() for t in (REPO / "examples" / "background.txt").read_text().splitlines() if t.strip()]
    off_topic = [t.strip() for t in (REPO / "examples" / "off_topic.txt").read_text().splitlines() if t.strip()]
    paraphrases = [d for p in EXAMPLES for d in compiled(p, "ext").descriptions]
    assert len(background) >= 100 and len(set(background)) == len(background)
    near = [(b, o) for b in background for o in off_topic
            if len(words(b) & words(o)) / len(words(b) | words(o)) >= 0.35]
    assert not near, near
    assert not {b.lower() for b in background} & {d.lower() for d in paraphrases}


def test_readme_lists_every_example() -> None:
    readme = (REPO / "examples" / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme, re.M))
    assert listed == {p.stem for p in EXAMPLES}, "run: python examples/catalog.py --write"


# -- the standard library ------------------------------------------------------------------


@pytest.mark.parametrize("word_bits", [None, 8])
@pytest.mark.parametrize("path", STDLIB_TESTS, ids=lambda p: p.stem)
def test_stdlib_tests_pass(path: Path, word_bits: int | None) -> None:
    passed = 0
    for isa in ISAS:
        program = compiled(path, isa, word_bits)
        if isinstance(program, CompileError):
            # <ptr> needs load/store; on 8 bits, classic's code must fit below address 128
            assert NO_INDIRECT in str(program) or (isa == "classic" and word_bits == 8), f"{isa}: {program}"
            continue
        outcomes = run_tests(program, backend="cpu")
        bad = [(o.test, o.detail) for o in outcomes if o.status == "fail"]
        assert not bad, f"{path.name} on {isa}: {bad}"
        passed += sum(o.status == "pass" for o in outcomes)
    assert passed


def _wrap(v: int, w: int) -> int:
    v &= (1 << w) - 1
    return v - (1 << w) if v >> (w - 1) else v


def _pairs(w: int) -> list[tuple[int, int]]:
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    if w <= 8:
        return list(itertools.product(range(lo, hi + 1), repeat=2))
    special = [lo, lo + 1, -2, -1, 0, 1, 2, 3, 7, hi - 1, hi]
    rnd = random.Random(w)
    pairs = list(itertools.product(special, repeat=2))
    pairs += [(rnd.randint(lo, hi), rnd.choice(special + [rnd.randint(-300, 300)])) for _ in range(300)]
    pairs += [(rnd.randint(lo, hi), rnd.randint(0, w + 2)) for _ in range(100)]
    return pairs


def _check_against(source: str, model, isa: str, w: int) -> None:  # noqa: ANN001
    """Run the two-input program on every pair at once; compare every output with the model."""
    program = compile_source(source, "model.sasm", isa=isa, word_bits=w)
    pairs = _pairs(w)
    data = np.stack([initial_data(program, inputs=list(p)) for p in pairs])
    result = run_batch(make_batch(program.spec, program.code[None], data, word_bits=w), max_steps=100_000)
    assert (result.status == 0).all(), pairs[int(np.flatnonzero(result.status != 0)[0])]
    cells = [program.symbols[o].address + i for o in program.outputs for i in range(program.symbols[o].size)]
    got = result.data[:, cells]
    want = np.array([[_wrap(v, w) for v in model(a, b, w)] for a, b in pairs], dtype=np.int64)
    wrong = np.flatnonzero((got != want).any(axis=1))
    assert not len(wrong), [(pairs[i], got[i].tolist(), want[i].tolist()) for i in wrong[:3]]


CMP_SOURCE = """
.include <cmp>
.data
a: .word 0
b: .word 0
r: .zero 10
.input a, b
.output r
.code
        setlt a, b, r
        setle a, b, r+1
        setgt a, b, r+2
        setge a, b, r+3
        seteq a, b, r+4
        setne a, b, r+5
        cmp a, b, r+6
        sign a, r+7
        mov a, r+8
        mov b, r+9
        order r+8, r+9
        halt
"""


def _cmp_model(a: int, b: int, w: int) -> list[int]:
    return [a < b, a <= b, a > b, a >= b, a == b, a != b, (a > b) - (a < b), (a > 0) - (a < 0), min(a, b), max(a, b)]


DIV_SOURCE = """
.include <div>
.data
a: .word 0
b: .word 0
r: .zero 6
.input a, b
.output r
.code
        divmod a, b, r, r+1
        tdivmod a, b, r+2, r+3
        udivmod a, b, r+4, r+5
        halt
"""


def _div_model(a: int, b: int, w: int) -> list[int]:
    if b == 0:
        return [0, a, 0, a, 0, a]
    tq = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    m = 1 << w
    return [a // b, a % b, tq, a - tq * b, (a % m) // (b % m), (a % m) % (b % m)]


BITS_SOURCE = """
.include <bits>
.data
x: .word 0
y: .word 0
r: .zero 10
.input x, y
.output r
.code
        shl x, y, r
        shr x, y, r+1
        sar x, y, r+2
        testbit x, y, r+3
        popcount x, r+4
        parity x, r+5
        bitand x, y, r+6
        bitor x, y, r+7
        bitxor x, y, r+8
        bitnot x, r+9
        halt
"""


def _bits_model(x: int, y: int, w: int) -> list[int]:
    ux = x % (1 << w)
    pc = bin(ux).count("1")
    return [
        (x << min(y, w + 1)) if y > 0 else x,
        (ux >> y) if y > 0 else x,
        (x >> y) if y > 0 else x,
        0 if y < 0 else (x >> y) & 1,
        pc, pc & 1, x & y, x | y, x ^ y, ~x,
    ]


@pytest.mark.parametrize("w", [8, 16, 64])
@pytest.mark.parametrize("isa", static_isas())
@pytest.mark.parametrize("name", ["cmp", "div", "bits"])
def test_stdlib_agrees_with_python(name: str, isa: str, w: int) -> None:
    source, model = {"cmp": (CMP_SOURCE, _cmp_model), "div": (DIV_SOURCE, _div_model),
                     "bits": (BITS_SOURCE, _bits_model)}[name]
    _check_against(source, model, isa, w)
