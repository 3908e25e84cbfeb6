"""Hypothesis strategies for random machines of every ISA, and helpers to compare runs."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from isa.base import WORD_BITS, word_range
from isa.registry import REGISTRY, get_isa

# Values that exercise wrap-around at a width: the extremes and their neighbours.


def word_values(bits: int) -> st.SearchStrategy[int]:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    edges = st.sampled_from([lo, lo + 1, -1, 0, 1, hi - 1, hi])
    return st.one_of(edges, st.integers(lo, hi), st.integers(-3, 3))


@st.composite
def static_machine(draw: st.DrawFn, isa_name: str, bits: int | None = None) -> dict:
    """A random machine of any ISA with static code, from its definition alone: every field
    drawn from its domain (opcodes over the op table, data addresses over k, code
    addresses over n), row 0 the halt row; data cells that are mostly small words, some
    edges, and (for ISAs whose ops read pointers) addresses just inside and outside."""
    isa = get_isa(isa_name)
    bits = bits or draw(st.sampled_from(WORD_BITS))
    n = draw(st.integers(1, 10))
    k = draw(st.integers(1, 6))
    rows = [[0] * isa.width]
    for _ in range(n - 1):
        rows.append([draw(st.integers(0, isa.domain_size(f.domain, n=n, k=k) - 1)) for f in isa.fields])
    cell = st.one_of(st.integers(-1, k), word_values(bits))
    data = [draw(cell) for _ in range(k)]
    return {"isa": isa.name, "code": np.array(rows, dtype=np.int64).reshape(n, isa.width), "data": np.array(data, dtype=np.int64),
            "word_bits": bits, "pc": draw(st.sampled_from([1, 1, 1, 0, n - 1, n]))}


def subleq_machine(bits: int | None = None) -> st.SearchStrategy[dict]:
    return static_machine("subleq", bits)


def ext_machine(bits: int | None = None) -> st.SearchStrategy[dict]:
    return static_machine("ext", bits)


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


def machine(isa_name: str, bits: int | None = None) -> st.SearchStrategy[dict]:
    """A random machine of the registered ISA ``isa_name``: code in memory, or static code."""
    return classic_machine(bits) if get_isa(isa_name).shared_memory is not None else static_machine(isa_name, bits)


def any_machine(bits: int | None = None) -> st.SearchStrategy[dict]:
    """A random machine of any registered ISA."""
    return st.one_of(*(machine(name, bits) for name in REGISTRY))


def assert_same(a, b, what: str = "") -> None:  # noqa: ANN001
    assert a.status == b.status, f"{what} status {a.status} != {b.status}"
    assert a.steps == b.steps, f"{what} steps {a.steps} != {b.steps}"
    assert a.pc == b.pc, f"{what} pc {a.pc} != {b.pc}"
    np.testing.assert_array_equal(a.data, b.data, err_msg=f"{what} memory")
    if a.trace is not None and b.trace is not None:
        np.testing.assert_array_equal(a.trace, b.trace, err_msg=f"{what} trace")
