"""The edges of spec/isa.md, on every runtime: wrap-around at each width, n = 1, branches
to the last row and past it, step limit 0, resuming, bad pointers on ext, end of input on
classic, and the eForth image."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EFORTH

from isa.base import Status
from isa.program import Program
from isa.program_json import load_image
from isa.registry import get_isa
from runtime.batch import make_batch, run_batch
from runtime.cpu import run_cpu
from runtime.io import BufferIO
from runtime.reference import run_reference
from runtime.result import RunResult
from runtime.run import run_program


def run_on(device: str, isa: str, code, data, *, pc=None, max_steps=1000, word_bits=None, stdin=None) -> RunResult:  # noqa: ANN001
    spec = get_isa(isa)
    code = np.asarray(code, dtype=np.int64).reshape(-1, spec.width)
    data = np.asarray(data, dtype=np.int64)
    bits = word_bits or spec.default_word_bits
    if device == "reference":
        return run_reference(spec, code, data, pc=pc, max_steps=max_steps, word_bits=bits,
                             io=BufferIO(stdin) if stdin is not None else None)
    if device == "cpu":
        return run_cpu(spec, code, data, pc=pc, max_steps=max_steps, word_bits=bits, io=BufferIO(stdin) if stdin is not None else None)
    assert stdin is None, "the CUDA runtime has no input"
    start = spec.start_pc if pc is None else pc
    batch = make_batch(spec, code[None], data[None], pc=[start], word_bits=bits)
    r = run_batch(batch, max_steps=max_steps, device="cuda")
    return RunResult(Status(int(r.status[0])), int(r.steps[0]), int(r.pc[0]), r.data[0])


# -- subleq ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [8, 16, 32, 64])
def test_subtraction_wraps_at_every_width(device: str, bits: int) -> None:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    # D[2] = lo - 1 wraps to hi (> 0: no branch), D[3] = hi - (-1) wraps to lo
    code = [[0, 0, 0], [1, 2, 2], [4, 3, 0]]
    r = run_on(device, "subleq", code, [0, 1, lo, hi, -1], word_bits=bits)
    assert r.status == Status.HALTED and r.steps == 2
    assert r.data.tolist() == [0, 1, hi, lo, -1]


@pytest.mark.parametrize("k", [5, 300, 40_000, 70_000])
def test_addresses_past_int16_and_int32_code(device: str, k: int) -> None:
    """The CUDA launcher narrows its copy of the code to uint8, int16 or int32 when the fields
    fit (runtime.cuda.code_dtype): addresses that need the wider types run the same."""
    from runtime.cuda import code_dtype

    far = k - 1
    code = [[0, 0, 0], [far, 1, 2], [1, far, 0]]  # D[1] -= D[far]; D[far] -= D[1]; halt
    data = np.zeros(k, np.int64)
    data[far], data[1] = 7, 2
    r = run_on(device, "subleq", code, data)
    assert r.status == Status.HALTED and r.steps == 2
    assert (r.data[1], r.data[far]) == (-5, 12)
    assert code_dtype(np.array(code)) == (np.uint8 if k <= 256 else np.int16 if k < 2**15 else np.int32)
    assert code_dtype(np.array([[0, 2**31, 0]])) == np.int64 and code_dtype(np.zeros((0, 3), np.int64)) == np.uint8
    assert code_dtype(np.array([[0, 300, 0]])) == np.int16 and code_dtype(np.array([[-1, 2, 0]])) == np.int16


def test_one_row_falls_off_whatever_the_budget(device: str) -> None:
    for budget in (0, 5):
        r = run_on(device, "subleq", [[0, 0, 0]], [0], max_steps=budget)
        assert (r.status, r.steps, r.pc) == (Status.FELL_OFF, 0, 1)


def test_budget_zero_is_step_limit(device: str) -> None:
    r = run_on(device, "subleq", [[0, 0, 0], [0, 0, 0]], [0], max_steps=0)
    assert (r.status, r.steps, r.pc) == (Status.STEP_LIMIT, 0, 1)


def test_halt_row_halts_after_running(device: str) -> None:
    # subleq(a, b, 0) executes and halts even when the branch is not taken
    r = run_on(device, "subleq", [[0, 0, 0], [1, 2, 0]], [0, 1, 5])
    assert (r.status, r.steps, r.pc, r.data[2]) == (Status.HALTED, 1, 1, 4)


def test_branch_to_last_row_and_past_it(device: str) -> None:
    # row 1 jumps to the last row (2), which runs and falls through past the end
    code = [[0, 0, 0], [0, 0, 2], [1, 2, 1]]
    r = run_on(device, "subleq", code, [0, -1, 5])
    assert (r.status, r.steps, r.pc) == (Status.FELL_OFF, 2, 3)
    # a branch target equal to the last row + 1 is not a valid field: rejected on load
    with pytest.raises(Exception, match="field 'c'"):
        make_batch("subleq", np.array([[[0, 0, 0], [0, 0, 3], [0, 0, 0]]]), np.zeros((1, 1), dtype=np.int64))


def test_resume_after_limit(device: str) -> None:
    code = [[0, 0, 0], [1, 2, 1], [0, 0, 1]]  # D[2] -= 1, back to row 1, forever
    first = run_on(device, "subleq", code, [0, 1, 3], max_steps=2)
    assert (first.status, first.steps, first.pc) == (Status.STEP_LIMIT, 2, 1)
    second = run_on(device, "subleq", code, first.data, pc=first.pc, max_steps=3)
    whole = run_on(device, "subleq", code, [0, 1, 3], max_steps=5)
    assert second.data.tolist() == whole.data.tolist() and second.pc == whole.pc


# -- ext -------------------------------------------------------------------------------------

MOV, LOAD, STORE, HALT, JMP = 2, 13, 14, 0, 6


@pytest.mark.parametrize("pointer", [-1, 3, 1 << 40])
def test_bad_indirect_load_stops_before_doing_anything(device: str, pointer: int) -> None:
    code = [[0, 0, 0, 0], [MOV, 1, 2, 0], [LOAD, 0, 2, 0], [HALT, 0, 0, 0]]
    # cell 0 holds the pointer for the load
    r = run_on(device, "ext", code, [pointer, 7, 0])
    assert (r.status, r.steps, r.pc) == (Status.BAD_ADDRESS, 1, 2)
    assert r.data.tolist() == [pointer, 7, 7]


def test_bad_indirect_store(device: str) -> None:
    code = [[0, 0, 0, 0], [STORE, 1, 2, 0], [HALT, 0, 0, 0]]
    r = run_on(device, "ext", code, [0, 9, 3])
    assert (r.status, r.steps, r.pc) == (Status.BAD_ADDRESS, 0, 1)
    assert r.data.tolist() == [0, 9, 3]
    ok = run_on(device, "ext", code, [0, 9, 2])
    assert (ok.status, ok.steps) == (Status.HALTED, 2) and ok.data.tolist() == [0, 9, 9]


def test_ext_next_row_zero_halts(device: str) -> None:
    r = run_on(device, "ext", [[0, 0, 0, 0], [MOV, 1, 0, 0], [JMP, 0, 0, 0]], [0, 4])
    assert (r.status, r.steps, r.pc) == (Status.HALTED, 2, 2) and r.data.tolist() == [4, 4]


def test_ext_halt_op_counts_as_a_step(device: str) -> None:
    r = run_on(device, "ext", [[0, 0, 0, 0], [HALT, 0, 0, 0]], [0])
    assert (r.status, r.steps, r.pc) == (Status.HALTED, 1, 1)


# -- classic ---------------------------------------------------------------------------------


@pytest.mark.parametrize("device_", ["reference", "cpu"])
def test_classic_end_of_input_reads_minus_one(device_: str) -> None:
    # row 0 reads 'A' into m[13]; row 1 finds no input left: m[14] = -1; row 2 writes m[13];
    # row 3 clears m[15] and, the result being <= 0, jumps to -1: a negative pc halts.
    mem = [-1, 13, 3, -1, 14, 6, 13, -1, 9, 15, 15, -1, 0, 0, 0, 0]
    r = run_on(device_, "classic", [], mem, stdin=b"A", max_steps=100)
    assert r.status == Status.HALTED and r.steps == 4
    assert r.data[13] == 65 and r.data[14] == -1
    assert r.output == b"A"


def test_classic_bad_operand_address(device: str) -> None:
    mem = [0, 50, 3, 0, 0, -1]  # m[50] does not exist
    r = run_on(device, "classic", [], mem)
    assert (r.status, r.steps, r.pc) == (Status.BAD_ADDRESS, 0, 0)


def test_classic_falls_off_when_a_row_would_cross_the_end(device: str) -> None:
    r = run_on(device, "classic", [], [0, 0, 3, 0, 0])
    assert (r.status, r.steps, r.pc) == (Status.FELL_OFF, 1, 3)


@pytest.mark.skipif(not EFORTH.exists(), reason=f"eForth image not found at {EFORTH}")
def test_eforth_adds_two_and_three() -> None:
    program = load_image(EFORTH)
    io = BufferIO(b"2 3 + . cr bye\n")
    r = run_program(program, io=io)
    assert r.status == Status.HALTED
    assert io.output == b" 5\r\n"
    assert 10_000_000 < r.steps < 30_000_000


def test_classic_program_json_roundtrip_runs_the_same() -> None:
    """A classic program: code rows from 0, data from data_base."""
    program = Program(isa="classic", code=np.array([[6, 7, 3], [8, 8, -1]]), data=np.array([2, 5, 0]),
                      word_bits=16, data_base=6, memory_size=16)
    program.validate()
    r = run_program(program)
    assert r.status == Status.HALTED and program.data_area(r.data).tolist() == [2, 3, 0]
    assert r.pc == -1
