"""Hypothesis strategies for random machines of every ISA, and helpers to compare runs."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from isa.base import WORD_BITS, word_range
from isa.ext import OPS

# Values that exercise wrap-around at a width: the extremes and their neighbours.


def word_values(bits: int) -> st.SearchStrategy[int]:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    edges = st.sampled_from([lo, lo + 1, -1, 0, 1, hi - 1, hi])
    return st.one_of(edges, st.integers(lo, hi), st.integers(-3, 3))


@st.composite
def subleq_machine(draw: st.DrawFn, bits: int | None = None) -> dict:
    bits = bits or draw(st.sampled_from(WORD_BITS))
    n = draw(st.integers(1, 10))
    k = draw(st.integers(1, 6))
    rows = [[0, 0, 0]] + [[draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1)), draw(st.integers(0, n - 1))] for _ in range(n - 1)]
    data = [draw(word_values(bits)) for _ in range(k)]
    return {"isa": "subleq", "code": np.array(rows, dtype=np.int64).reshape(n, 3), "data": np.array(data, dtype=np.int64),
            "word_bits": bits, "pc": draw(st.sampled_from([1, 1, 1, 0, n - 1, n]))}


@st.composite
def ext_machine(draw: st.DrawFn, bits: int | None = None) -> dict:
    bits = bits or draw(st.sampled_from(WORD_BITS))
    n = draw(st.integers(1, 10))
    k = draw(st.integers(1, 6))
    rows = [[0, 0, 0, 0]]
    for _ in range(n - 1):
        rows.append([draw(st.integers(0, len(OPS) - 1)), draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1)),
                     draw(st.integers(0, n - 1))])
    # Pointers: mostly valid addresses, sometimes just outside, sometimes anything.
    cell = st.one_of(st.integers(-1, k), word_values(bits))
    data = [draw(cell) for _ in range(k)]
    return {"isa": "ext", "code": np.array(rows, dtype=np.int64).reshape(n, 4), "data": np.array(data, dtype=np.int64),
            "word_bits": bits, "pc": draw(st.sampled_from([1, 1, 1, 0, n - 1, n]))}


@st.composite
def classic_machine(draw: st.DrawFn, bits: int | None = None) -> dict:
    bits = bits or draw(st.sampled_from(WORD_BITS))
    size = draw(st.integers(3, 24))
    port = (1 << bits) - 1
    lo, _ = word_range(bits)
    word = st.one_of(st.integers(0, size + 1), st.sampled_from([-1, port, lo, size - 3]), word_values(bits))
    mem = [draw(word) for _ in range(size)]
    mem = [v - (1 << bits) if v >= (1 << (bits - 1)) else v for v in mem]  # stored as signed
    stdin = bytes(draw(st.lists(st.integers(0, 255), max_size=4)))
    return {"isa": "classic", "code": np.zeros((0, 3), dtype=np.int64), "data": np.array(mem, dtype=np.int64),
            "word_bits": bits, "pc": draw(st.sampled_from([0, 0, 0, 3, size - 3, size])), "stdin": stdin}


def any_machine(bits: int | None = None) -> st.SearchStrategy[dict]:
    return st.one_of(subleq_machine(bits), ext_machine(bits), classic_machine(bits))


def assert_same(a, b, what: str = "") -> None:  # noqa: ANN001
    assert a.status == b.status, f"{what} status {a.status} != {b.status}"
    assert a.steps == b.steps, f"{what} steps {a.steps} != {b.steps}"
    assert a.pc == b.pc, f"{what} pc {a.pc} != {b.pc}"
    np.testing.assert_array_equal(a.data, b.data, err_msg=f"{what} memory")
    if a.trace is not None and b.trace is not None:
        np.testing.assert_array_equal(a.trace, b.trace, err_msg=f"{what} trace")
