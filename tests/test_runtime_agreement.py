"""The reference, Numba CPU and CUDA runtimes agree exactly on random machines of every
ISA and width: final memory, steps, status, pc, and the trace where one is kept."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from machines import any_machine, assert_same, machine

from isa.registry import REGISTRY, get_isa
from runtime.batch import make_batch, run_batch
from runtime.cpu import run_cpu
from runtime.io import BufferIO
from runtime.reference import run_reference

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _io(m: dict) -> tuple[BufferIO | None, BufferIO | None]:
    if "stdin" not in m:  # byte I/O: the ISAs whose code lives in memory (classic)
        return None, None
    return BufferIO(m["stdin"]), BufferIO(m["stdin"])


@SETTINGS
@given(m=any_machine(), max_steps=st.integers(0, 60), traced=st.booleans())
def test_cpu_matches_reference(m: dict, max_steps: int, traced: bool) -> None:
    isa = get_isa(m["isa"])
    io_ref, io_cpu = _io(m)
    kw = dict(pc=m["pc"], max_steps=max_steps, word_bits=m["word_bits"], trace=traced)
    ref = run_reference(isa, m["code"], m["data"], io=io_ref, **kw)
    cpu = run_cpu(isa, m["code"], m["data"], io=io_cpu, **kw)
    assert_same(ref, cpu, m["isa"])
    assert ref.output == cpu.output
    if traced:
        assert cpu.trace.shape == (cpu.steps, 3)


@SETTINGS
@given(m=any_machine(), budget=st.integers(0, 40), rest=st.integers(0, 40))
def test_resume_after_step_limit_continues_exactly(m: dict, budget: int, rest: int) -> None:
    """Stopping at a limit and resuming from the memory and pc equals one longer run."""
    isa = get_isa(m["isa"])
    kw = dict(word_bits=m["word_bits"])
    whole = run_cpu(isa, m["code"], m["data"], pc=m["pc"], max_steps=budget + rest, **kw)
    first = run_cpu(isa, m["code"], m["data"], pc=m["pc"], max_steps=budget, **kw)
    if first.status.label != "step_limit":
        assert_same(first, whole)
        return
    assert first.steps == budget
    second = run_reference(isa, m["code"], first.data, pc=first.pc, max_steps=rest, **kw)
    assert second.status == whole.status
    assert first.steps + second.steps == whole.steps
    assert second.pc == whole.pc
    np.testing.assert_array_equal(second.data, whole.data)


def _batch_case(draw_machine, n_programs: int):  # noqa: ANN001, ANN202
    return st.lists(draw_machine, min_size=1, max_size=n_programs)


def _pad_batch(machines: list[dict]) -> dict:
    """Several machines of one ISA and width as one padded batch with per-program sizes."""
    isa = get_isa(machines[0]["isa"])
    P = len(machines)
    N = max(m["code"].shape[0] for m in machines)
    K = max(m["data"].shape[0] for m in machines)
    code = np.zeros((P, N, isa.width), dtype=np.int64)
    data = np.zeros((P, K), dtype=np.int64)
    for p, m in enumerate(machines):
        code[p, : m["code"].shape[0]] = m["code"]
        data[p, : m["data"].shape[0]] = m["data"]
    return dict(
        code=code, data=data,
        n=np.array([m["code"].shape[0] for m in machines]), k=np.array([m["data"].shape[0] for m in machines]),
        pc=np.array([m["pc"] for m in machines]), word_bits=machines[0]["word_bits"],
    )


@pytest.mark.parametrize("isa_name", list(REGISTRY))
@pytest.mark.parametrize("bits", [8, 16, 32, 64])
def test_batches_agree_on_every_device(isa_name: str, bits: int) -> None:
    """Batches with ragged sizes: reference, CPU (all cores) and CUDA give the same, for
    every registered ISA."""

    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
    @given(machines=st.lists(machine(isa_name, bits), min_size=1, max_size=6), max_steps=st.integers(0, 50))
    def check(machines: list[dict], max_steps: int) -> None:
        isa = machines[0]["isa"]
        for m in machines:  # batches see no input
            m["stdin"] = b""
        batch = make_batch(isa, **_pad_batch(machines))
        results = {d: run_batch(batch, max_steps=max_steps, device=d) for d in ("reference", "cpu", "cuda")}
        for d in ("cpu", "cuda"):
            for key in ("data", "steps", "pc", "status"):
                np.testing.assert_array_equal(getattr(results["reference"], key), getattr(results[d], key), err_msg=f"{d} {key}")
        # and each program as a single run gives the same as its row of the batch
        for p, m in enumerate(machines):
            single = run_reference(get_isa(isa), m["code"], m["data"], pc=m["pc"], max_steps=max_steps, word_bits=bits)
            assert int(results["cpu"].steps[p]) == single.steps
            assert int(results["cpu"].status[p]) == int(single.status)

    check()


@pytest.mark.parametrize("layout", ["per_program", "columns", "columns_local"])
def test_cuda_layouts_agree_one_program_many_memories(layout: str) -> None:
    """One shared code block over many memories, in each CUDA data layout."""
    from runtime.cuda import run_batch_cuda

    rng = np.random.default_rng(7)
    isa = get_isa("subleq")
    n, k, P = 9, 6, 40
    code = rng.integers(0, k, size=(1, n, 3))
    code[0, :, 2] = rng.integers(0, n, size=n)
    code[0, 0] = 0
    data = rng.integers(-50, 50, size=(P, k))
    batch = make_batch(isa, code, data)
    ref = run_batch(batch, max_steps=80, device="reference")
    got = run_batch_cuda(isa, batch.code, batch.data.copy(), batch.n, batch.k, batch.pc, max_steps=80, word_bits=64, layout=layout)
    for key in ("data", "steps", "pc", "status"):
        np.testing.assert_array_equal(getattr(ref, key), getattr(got, key), err_msg=key)


@pytest.mark.gpu
def test_gpu_random_batch_matches_cpu() -> None:
    """On a real GPU: 4,096 random programs agree with the CPU runtime."""
    rng = np.random.default_rng(3)
    P, n, k = 4096, 256, 256
    code = np.stack([rng.integers(0, k, (P, n)), rng.integers(0, k, (P, n)), rng.integers(0, n, (P, n))], axis=2)
    code[:, 0] = 0
    data = rng.integers(-1000, 1001, (P, k))
    batch = make_batch("subleq", code, data)
    cpu = run_batch(batch, max_steps=10_000, device="cpu")
    gpu = run_batch(batch, max_steps=10_000, device="cuda")
    for key in ("data", "steps", "pc", "status"):
        np.testing.assert_array_equal(getattr(cpu, key), getattr(gpu, key), err_msg=key)
