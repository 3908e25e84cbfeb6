"""Speed of the CUDA runtime on workloads (b) and (c) of spec/isa.md, checked against the CPU.

    PYTHONPATH=. python benchmarks/runtime_gpu.py            # on a machine with an NVIDIA GPU
    NUMBA_ENABLE_CUDASIM=1 PYTHONPATH=. python benchmarks/runtime_gpu.py --small   # the same path, simulated

(b) 65,536 random programs through the ``per_program`` kernel; (c) one program over 10^6
memories through ``columns`` and ``columns_local`` (and ``per_program``, for comparison).
Each layout runs --repeat times; every run's final memories, steps, pc and statuses must
equal the Numba CPU runtime's (on all programs, or the first --check-programs of (b)), and
(c)'s products their closed form. Times are the kernel alone (runtime.cuda compiles and
copies the data before the clock starts). Prints a Markdown table of the medians against
the targets and writes runtime_gpu.json under $OUT if set, else benchmarks/out/.
Usually run through benchmarks/gpu.sh.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, if not installed

import workloads  # noqa: E402
from common import environment, fmt_rate, out_dir, same_results, write_json  # noqa: E402

from isa.registry import get_isa  # noqa: E402
from runtime.batch import make_batch  # noqa: E402
from runtime.cpu import run_batch_cpu  # noqa: E402
from runtime.cuda import THREADS_PER_BLOCK, run_batch_cuda  # noqa: E402
from runtime.cuda_support import cuda_module, require_cuda, simulated  # noqa: E402
from runtime.result import BatchResult  # noqa: E402

TARGETS = {"b": 2e10, "c": 3e11}  # steps per second on the GPU


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="tiny sizes, to test the whole path in the CUDA simulator")
    p.add_argument("--repeat", type=int, help="kernel runs per layout (default 5; 1 with --small)")
    p.add_argument("--b-programs", type=int, help="(b): programs (default 65536; 16 with --small)")
    p.add_argument("--b-max-steps", type=int, help="(b): step budget per program (default 10000; 300 with --small)")
    p.add_argument("--c-inputs", type=int, help="(c): inputs (default 1000000; 64 with --small)")
    p.add_argument("--c-b", type=int, help="(c): additions per run (default 200; 20 with --small)")
    p.add_argument("--check-programs", type=int, default=0, help="(b): check only the first N programs against the CPU (default all)")
    p.add_argument("--threads-per-block", type=int, default=None, help="CUDA block size (default runtime.cuda.THREADS_PER_BLOCK)")
    p.add_argument("--out", help="results folder (default $OUT, else benchmarks/out)")
    p.add_argument("--md-only", action="store_true",
                   help="write BENCHMARKS.md's GPU table from results/runtime_gpu.json (copied there from a GPU run's "
                        "$OUT), measuring nothing; no GPU needed")
    args = p.parse_args()
    small = args.small
    args.repeat = args.repeat or (1 if small else 5)
    args.b_programs = args.b_programs or (16 if small else 65_536)
    args.b_max_steps = args.b_max_steps or (300 if small else 10_000)
    args.c_inputs = args.c_inputs or (64 if small else 1_000_000)
    args.c_b = args.c_b or (20 if small else 200)
    return args


def device_info() -> dict[str, Any]:
    cuda = cuda_module()
    if simulated():
        return {"name": "CUDA simulator (NUMBA_ENABLE_CUDASIM=1): figures are not GPU speeds", "simulated": True}
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    return {"name": name, "compute_capability": list(dev.compute_capability), "simulated": False,
            "multiprocessors": int(dev.MULTIPROCESSOR_COUNT)}


def on_cpu(wl: workloads.Workload, batch: Any, rows: int) -> BatchResult:
    """The Numba CPU runtime's results on the first ``rows`` runs (all cores)."""
    code = batch.code if batch.code.shape[0] == 1 else batch.code[:rows]
    t0 = time.perf_counter()
    r = run_batch_cpu(batch.isa, code, batch.data[:rows].copy(), batch.n[:rows], batch.k[:rows], batch.pc[:rows],
                      max_steps=wl.max_steps, word_bits=batch.word_bits)
    print(f"  CPU check run: {rows:,} runs, {r.total_steps:,} steps in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return r


def bench(wl: workloads.Workload, layouts: list[str], repeat: int, check_rows: int, threads: int) -> list[dict[str, Any]]:
    isa = get_isa("subleq")
    batch = make_batch(isa, wl.code, wl.data, word_bits=workloads.WORD_BITS, where=f"workload {wl.name}")
    P = batch.programs
    rows = P if check_rows <= 0 else min(check_rows, P)
    cpu = on_cpu(wl, batch, rows)
    if rows == P:
        wl.check(cpu.data, cpu.steps, cpu.status)
    out = []
    for layout in layouts:
        seconds = []
        for rep in range(repeat):
            t0 = time.perf_counter()
            r = run_batch_cuda(isa, batch.code, batch.data.copy(), batch.n, batch.k, batch.pc, max_steps=wl.max_steps,
                               word_bits=batch.word_bits, layout=layout, threads_per_block=threads)
            wall = time.perf_counter() - t0
            wl.check(r.data, r.steps, r.status)
            part = BatchResult(r.data[:rows], r.steps[:rows], r.pc[:rows], r.status[:rows])
            same_results(f"({wl.name}) {layout} vs CPU", cpu, part)
            seconds.append(r.seconds)
            print(f"  {layout} run {rep + 1}: kernel {r.seconds * 1e3:.2f} ms ({wall:.2f} s with compile and transfers)",
                  file=sys.stderr)
        steps = r.total_steps
        out.append({
            "workload": wl.name, "description": wl.description, "layout": layout, "programs": P, "steps": steps,
            "checked_against_cpu": rows, "seconds": seconds, "median_seconds": statistics.median(seconds),
            "steps_per_s": steps / statistics.median(seconds), "target_steps_per_s": TARGETS[wl.name],
        })
    return out


def markdown(rows: list[dict[str, Any]], env: dict[str, Any], repeat: int) -> str:
    lines = [
        f"GPU: {env['device']['name']}, {env['threads_per_block']} threads per block. Median of {repeat} kernel runs "
        "(the kernel alone: no compilation, no transfers).",
        "",
        "| workload | layout | steps | median kernel time | steps/s | target | met |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        met = "n/a (simulator)" if env["device"].get("simulated") else ("yes" if r["steps_per_s"] >= r["target_steps_per_s"] else "**no**")
        lines.append(f"| {r['description']} | {r['layout']} | {r['steps']:,} | {r['median_seconds'] * 1e3:.3f} ms | "
                     f"{fmt_rate(r['steps_per_s'])} | >= {fmt_rate(r['target_steps_per_s'])} | {met} |")
    lines += ["", f"Host: {env['cpu']}, {env['nproc']} cores; Python {env['python']}, numpy {env['numpy']}, "
              f"numba {env['numba']}, numba-cuda {env.get('numba_cuda', '?')}; commit {env['commit']}; {env['date']}."]
    return "\n".join(lines)


RECORD = Path(__file__).resolve().parent.parent / "results" / "runtime_gpu.json"
MD_COMMAND = "python benchmarks/runtime_gpu.py --md-only"


def write_md() -> str:
    """BENCHMARKS.md's GPU table from the record a GPU run left (or the line saying there is none)."""
    from common import write_block

    if RECORD.exists():
        obj = json.loads(RECORD.read_text())
        text = obj["markdown"] + f"\n\nRecord: `results/runtime_gpu.json` ({obj['environment']['device']['name']})."
    else:
        text = ("(b) and (c) on a GPU: not measured: no GPU lent. `bash benchmarks/gpu.sh` on a machine with one writes "
                "`$OUT/runtime_gpu.json`; copied to `results/runtime_gpu.json`, it becomes this table.")
    write_block(RECORD.parent.parent / "BENCHMARKS.md", "runtime-gpu", text, MD_COMMAND)
    return text


def main() -> int:
    args = parse_args()
    if args.md_only:
        print(write_md())
        return 0
    require_cuda()
    env = environment()
    try:
        from importlib.metadata import version

        env["numba_cuda"] = version("numba-cuda")
    except Exception:  # noqa: BLE001 - only for the record
        env["numba_cuda"] = "unknown"
    env["device"] = device_info()
    print(f"device: {env['device']['name']}", file=sys.stderr)
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    wl_b = workloads.random_programs(programs=args.b_programs, max_steps=args.b_max_steps)
    print(f"{wl_b.description} ...", file=sys.stderr, flush=True)
    threads = args.threads_per_block or THREADS_PER_BLOCK
    env["threads_per_block"] = threads
    rows += bench(wl_b, ["per_program"], args.repeat, args.check_programs, threads)
    del wl_b
    wl_c = workloads.multiply(inputs=args.c_inputs, b=args.c_b)
    print(f"{wl_c.description} ...", file=sys.stderr, flush=True)
    rows += bench(wl_c, ["columns", "columns_local", "per_program"], args.repeat, 0, threads)
    text = markdown(rows, env, args.repeat)
    print(text)
    out = out_dir(args.out) / ("runtime_gpu_small.json" if args.small else "runtime_gpu.json")
    write_json(out, {"environment": env, "targets": TARGETS, "results": rows, "markdown": text,
                     "total_seconds": time.perf_counter() - t0})
    print(f"\nresults: {out} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
