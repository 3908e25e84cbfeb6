"""The ISA definitions as data: registry, fields and domains, op tables, program files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isa import Domain, Program, SynthError, get_isa, wrap
from isa.base import to_word, wrap_array
from isa.convention import initial_data, read_outputs
from isa.ext import OPS
from isa.program_json import load_image, load_program, save_program
from isa.registry import REGISTRY


def test_registry_has_the_isas() -> None:
    assert {"subleq", "ext", "classic"} <= set(REGISTRY)  # the three of spec/isa.md, and any added since
    assert all(get_isa(name).name == name for name in REGISTRY)
    with pytest.raises(SynthError, match="unknown ISA 'x86'.*subleq"):
        get_isa("x86")


def test_heads_are_sized_from_the_field_domains() -> None:
    assert get_isa("subleq").field_sizes(n=256, k=100) == {"a": 100, "b": 100, "c": 256}
    assert get_isa("ext").field_sizes(n=30, k=9) == {"op": len(OPS), "a": 9, "b": 9, "c": 30}
    assert [f.domain for f in get_isa("classic").fields] == [Domain.MEMORY] * 3
    assert not get_isa("classic").static_code and get_isa("subleq").static_code


def test_ext_op_table_is_numbered_in_order() -> None:
    assert [op.code for op in OPS] == list(range(len(OPS)))
    names = {op.mnemonic for op in OPS}
    assert {"halt", "subleq", "mov", "add", "sub", "jmp", "jle", "jlt", "jeq", "jne", "jge", "jgt", "load", "store"} <= names
    doc = get_isa("ext").doc
    for op in OPS:  # the op table is documented beside the definition
        assert f"| {op.mnemonic}" in doc


@given(st.integers(-(1 << 70), 1 << 70), st.sampled_from([8, 16, 32, 64]))
def test_wrap_is_twos_complement(value: int, bits: int) -> None:
    w = wrap(value, bits)
    assert -(1 << (bits - 1)) <= w < (1 << (bits - 1))
    assert (w - value) % (1 << bits) == 0


@settings(max_examples=50)
@given(st.lists(st.integers(-(1 << 63), (1 << 63) - 1), max_size=20), st.sampled_from([8, 16, 32, 64]))
def test_wrap_array_matches_wrap(values: list[int], bits: int) -> None:
    lo, hi = -(1 << (bits - 1)), 1 << bits
    values = [v for v in values if lo <= v < hi]
    got = wrap_array(np.array(values, dtype=np.int64), bits, "x")
    assert got.tolist() == [wrap(v, bits) for v in values]


def test_values_must_fit_the_width() -> None:
    assert to_word(255, 8) == -1 and to_word(-128, 8) == -128
    for bad in (256, -129):
        with pytest.raises(SynthError, match="does not fit a 8-bit word"):
            to_word(bad, 8)


def _program() -> Program:
    return Program(isa="subleq", code=np.array([[0, 0, 0], [1, 2, 0]]), data=np.array([0, 3, 10, 0]), word_bits=16,
                   name="sub", symbols={"a": _sym(1, 1), "b": _sym(2, 2)}, inputs=["a"], outputs=["b"],
                   descriptions=["subtract"])


def _sym(address: int, size: int):  # noqa: ANN202
    from isa.program import Symbol

    return Symbol(address, size)


def test_program_json_roundtrip(tmp_path) -> None:  # noqa: ANN001
    p = _program()
    save_program(p, tmp_path / "p.json")
    obj = json.loads((tmp_path / "p.json").read_text())
    assert obj["format"] == "synth-program" and obj["version"] == 1 and obj["fields"] == ["a", "b", "c"]
    q = load_program(tmp_path / "p.json")
    assert q.code.tolist() == p.code.tolist() and q.data.tolist() == p.data.tolist()
    assert q.symbols == p.symbols and q.inputs == ["a"] and q.descriptions == ["subtract"] and q.word_bits == 16


def test_inputs_and_sets_follow_the_calling_convention() -> None:
    p = _program()
    data = initial_data(p, {"b": [7]}, [5])
    assert data.tolist() == [0, 5, 7, 0]
    assert read_outputs(p, data) == {"b": [7, 0]}
    with pytest.raises(SynthError, match="2 input values given but the program has 1 input cell "):
        initial_data(p, None, [1, 2])
    with pytest.raises(SynthError, match="does not fit a 16-bit word"):
        initial_data(p, {"b": [1 << 20]})


def test_image_loading(tmp_path) -> None:  # noqa: ANN001
    (tmp_path / "a.dec").write_text("1, 2\n-3 0x10\n")
    p = load_image(tmp_path / "a.dec")
    assert p.data.tolist() == [1, 2, -3, 16] and p.memory_size == 65536
    (tmp_path / "b.dec").write_text("1 2 three\n")
    with pytest.raises(SynthError, match=r"b.dec:1: not an integer: 'three'"):
        load_image(tmp_path / "b.dec")
    (tmp_path / "c.dec").write_text("0 " * 300)
    with pytest.raises(SynthError, match="more than the memory size 256"):
        load_image(tmp_path / "c.dec", word_bits=8)
