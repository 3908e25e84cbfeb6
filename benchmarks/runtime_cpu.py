"""Speed of the CPU runtime against a C interpreter, on the workloads of spec/isa.md.

    python benchmarks/runtime_cpu.py [--repeat 5] [--write-md]

For each workload, side by side in every repetition: the C interpreter (benchmarks/c/subleq.c,
one core), the Numba runtime on one thread, and on two (batches (b) and (c)); then eForth
(classic ISA) on the Numba runtime against benchmarks/c/classic.c. Every run's results are
checked: (a) and (c) against their closed forms, C against Numba exactly (final memories,
steps, pc, statuses), and a sample of (b) against the reference interpreter; a mismatch
stops the benchmark. Reports medians (ns/step, steps/s) and the ratios of Numba's speed to
C's, as a Markdown table (stdout) and JSON (benchmarks/out/runtime_cpu.json); --write-md puts
the table into BENCHMARKS.md's "Runtime" section. Compilation is excluded: the runtime's batch
launcher times the execution alone, after a warm-up run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, if not installed

import native  # noqa: E402
import workloads  # noqa: E402
from common import REPO, OtherLoad, environment, fmt_rate, out_dir, same_results, write_block, write_json  # noqa: E402

from isa.base import shift_for  # noqa: E402
from isa.program_json import load_image  # noqa: E402
from isa.registry import get_isa  # noqa: E402
from runtime.batch import make_batch  # noqa: E402
from runtime.cpu import run_batch_cpu, run_cpu  # noqa: E402
from runtime.io import BufferIO  # noqa: E402
from runtime.reference import run_reference  # noqa: E402
from runtime.run import machine  # noqa: E402

EFORTH = REPO.parent / "shared" / "data" / "subleq-eforth" / "subleq.dec"
EFORTH_INPUT = b"2 3 + . cr bye\n"
EFORTH_OUTPUT = b" 5\r\n"
TARGETS = {
    "numba_1t_vs_c": 0.9,  # Numba on one thread, as a fraction of C's speed, on (a) and (b)
    "numba_2t_vs_c_b": 1.7,  # Numba on two cores over one-core C, on (b)
    "eforth_steps_per_s": 2e8,  # classic Numba runtime on eForth
}
MD_NAME = "runtime-cpu"  # BENCHMARKS.md's block <!-- runtime-cpu:begin --> ... <!-- runtime-cpu:end -->


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=5, help="repetitions of each measurement (default 5)")
    p.add_argument("--threads", default="1,2", help="Numba thread counts for (b) and (c) (default 1,2)")
    p.add_argument("--a-repeats", type=int, default=20000, help="(a): R, outer iterations (default 20000)")
    p.add_argument("--b-programs", type=int, default=10_000, help="(b): programs (default 10000)")
    p.add_argument("--c-inputs", type=int, default=100_000, help="(c): inputs (default 100000)")
    p.add_argument("--workloads", default="a,b,c,eforth", help="which to run (default a,b,c,eforth)")
    p.add_argument("--eforth", type=Path, default=EFORTH, help=f"the eForth image (default {EFORTH})")
    p.add_argument("--reference-sample", type=int, default=16, help="(b): programs also run on the reference (default 16)")
    p.add_argument("--out", help="results folder (default $OUT, else benchmarks/out)")
    p.add_argument("--write-md", action="store_true", help="write the table into BENCHMARKS.md's Runtime section")
    p.add_argument("--md-only", action="store_true", help="write the table from results/runtime_cpu.json, measuring nothing")
    p.add_argument("--max-other-load", type=float, default=0.25, metavar="CORES",
                   help="discard a repetition during which other processes used more CPU than this (default 0.25 cores)")
    p.add_argument("--wait-quiet", type=float, default=0, metavar="S",
                   help="first wait up to S seconds for other processes to leave the CPU idle (shared machines)")
    return p.parse_args()


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def repetitions(one: Callable[[], dict[str, float]], repeat: int, max_other: float) -> dict[str, Any]:
    """Run ``one`` (one repetition: every contender once, side by side; returns their
    seconds) until ``repeat`` repetitions ran while other processes used under ``max_other``
    cores. Busier ones are discarded (at most 3 x repeat of them, after which they count)."""
    seconds: dict[str, list[float]] = {}
    others, discarded = [], 0
    while len(others) < repeat:
        probe = OtherLoad()
        sample = one()
        load = probe.cores()
        if load > max_other and discarded < 3 * repeat:
            discarded += 1
            print(f"  repetition discarded: other processes used {load:.2f} cores", file=sys.stderr, flush=True)
            OtherLoad.wait_quiet(60, max_other)
            continue
        others.append(round(load, 2))
        for key, v in sample.items():
            seconds.setdefault(key, []).append(v)
    return {"seconds": seconds, "other_processes_cores": others, "discarded_repetitions": discarded}


def bench_workload(wl: workloads.Workload, threads: list[int], repeat: int, tmp: Path, reference_sample: int,
                   max_other: float) -> dict[str, Any]:
    isa = get_isa("subleq")
    batch = make_batch(isa, wl.code, wl.data, word_bits=workloads.WORD_BITS, where=f"workload {wl.name}")
    exe = native.build("subleq")
    in_file, out_file = tmp / f"{wl.name}.in.bin", tmp / f"{wl.name}.out.bin"
    native.write_batch(in_file, batch.code, batch.data, batch.n, batch.k, batch.pc, wl.max_steps, shift_for(batch.word_bits))
    P, K = batch.data.shape

    def numba_run(t: int) -> Any:
        return run_batch_cpu(isa, batch.code, batch.data.copy(), batch.n, batch.k, batch.pc, max_steps=wl.max_steps,
                             word_bits=batch.word_bits, threads=t)

    # Warm-up: compile (or load from numba's cache) outside the measurements.
    numba_run(1)
    first = None

    def one() -> dict[str, float]:
        nonlocal first
        c = native.run_subleq(exe, in_file, out_file, P, K)
        wl.check(c.data, c.steps, c.status)
        first = first or c
        same_results(f"({wl.name}) C, run to run", first, c)
        sample = {"c": c.seconds}
        for t in threads:
            r = numba_run(t)
            wl.check(r.data, r.steps, r.status)
            same_results(f"({wl.name}) Numba on {t} thread(s) vs C", c, r)
            sample[f"numba_{t}t"] = r.seconds
        return sample

    reps = repetitions(one, repeat, max_other)
    seconds = reps["seconds"]
    assert first is not None
    checked_on_reference = min(reference_sample, P) if wl.name == "b" else 0
    for p in range(checked_on_reference):
        ref = run_reference(isa, batch.code[p], batch.data[p], pc=int(batch.pc[p]), max_steps=wl.max_steps, word_bits=batch.word_bits)
        assert (ref.steps, int(ref.status), ref.pc) == (first.steps[p], first.status[p], first.pc[p]), f"(b) program {p}: C vs reference"
        assert np.array_equal(ref.data, first.data[p]), f"(b) program {p}: C vs reference, final memory"
    steps = first.total_steps
    result: dict[str, Any] = {
        "workload": wl.name, "description": wl.description, "params": wl.params, "programs": P, "steps": steps,
        "status_counts": {s: int((first.status == i).sum()) for i, s in enumerate(("halted", "fell_off", "step_limit"))},
        "checked": "C = Numba exactly, every run; " + (f"{checked_on_reference} programs = reference" if wl.name == "b" else "closed form"),
        "seconds": seconds, "other_processes_cores": reps["other_processes_cores"],
        "discarded_repetitions": reps["discarded_repetitions"],
    }
    result["median_ns_per_step"] = {key: median(v) / steps * 1e9 for key, v in seconds.items()}
    result["median_steps_per_s"] = {key: steps / median(v) for key, v in seconds.items()}
    result["speed_vs_c"] = {key: median(seconds["c"]) / median(v) for key, v in seconds.items() if key != "c"}
    return result


def bench_eforth(image: Path, repeat: int, tmp: Path, max_other: float) -> dict[str, Any]:
    isa = get_isa("classic")
    program = load_image(image, word_bits=16)
    code, memory = machine(program)
    exe = native.build("classic")
    input_file = tmp / "eforth.in"
    input_file.write_bytes(EFORTH_INPUT)
    max_steps = 1_000_000_000

    def numba_run() -> tuple[Any, float]:
        io = BufferIO(EFORTH_INPUT)
        t0 = time.perf_counter()
        r = run_cpu(isa, code, memory, max_steps=max_steps, word_bits=16, io=io)
        return r, time.perf_counter() - t0

    numba_run()  # warm-up (compilation)
    r = None

    def one() -> dict[str, float]:
        nonlocal r
        c = native.run_classic(exe, image, input_file, tmp / "eforth.out.bin", max_steps)
        r, s = numba_run()
        assert c.output == EFORTH_OUTPUT, f"eForth in C printed {c.output!r}, not {EFORTH_OUTPUT!r}"
        assert r.output == EFORTH_OUTPUT, f"eForth on Numba printed {r.output!r}, not {EFORTH_OUTPUT!r}"
        assert (c.steps, c.status, c.pc) == (r.steps, int(r.status), r.pc), (
            f"eForth: C (steps {c.steps}, status {c.status}, pc {c.pc}) vs Numba ({r.steps}, {int(r.status)}, {r.pc})")
        assert np.array_equal(c.memory, r.data), "eForth: final memories differ between C and Numba"
        return {"c": c.seconds, "numba_1t": s}

    reps = repetitions(one, repeat, max_other)
    seconds = reps["seconds"]
    steps = r.steps
    return {
        "workload": "eforth", "description": "eForth (classic, 16-bit): `2 3 + . cr bye`, prints ` 5`",
        "image": str(image), "programs": 1, "steps": steps, "checked": "output, steps, pc, status, final memory: C = Numba",
        "seconds": seconds, "other_processes_cores": reps["other_processes_cores"],
        "discarded_repetitions": reps["discarded_repetitions"],
        "median_ns_per_step": {key: median(v) / steps * 1e9 for key, v in seconds.items()},
        "median_steps_per_s": {key: steps / median(v) for key, v in seconds.items()},
        "speed_vs_c": {"numba_1t": median(seconds["c"]) / median(seconds["numba_1t"])},
        "timing": "C: its run loop (clock_gettime); Numba: the run_cpu call, I/O servicing included",
    }


def cell(res: dict[str, Any], key: str) -> str:
    if key not in res["median_ns_per_step"]:
        return "-"
    return f"{res['median_ns_per_step'][key]:.3f} ns ({fmt_rate(res['median_steps_per_s'][key])}/s)"


def targets(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, bool]]:
    rows = []
    for name in ("a", "b"):
        if name in results and "numba_1t" in results[name]["speed_vs_c"]:
            v = results[name]["speed_vs_c"]["numba_1t"]
            rows.append((f"({name}) Numba, 1 thread, vs C, 1 core", f">= {TARGETS['numba_1t_vs_c']}x", f"{v:.2f}x",
                         v >= TARGETS["numba_1t_vs_c"]))
    if "b" in results and "numba_2t" in results["b"]["speed_vs_c"]:
        v = results["b"]["speed_vs_c"]["numba_2t"]
        rows.append(("(b) Numba, 2 threads, vs C, 1 core", f">= {TARGETS['numba_2t_vs_c_b']}x", f"{v:.2f}x",
                     v >= TARGETS["numba_2t_vs_c_b"]))
    if "eforth" in results:
        v = results["eforth"]["median_steps_per_s"]["numba_1t"]
        rows.append(("eForth, Numba classic runtime", f">= {fmt_rate(TARGETS['eforth_steps_per_s'])} steps/s",
                     f"{fmt_rate(v)} steps/s", v >= TARGETS["eforth_steps_per_s"]))
    return rows


def markdown(results: dict[str, dict[str, Any]], env: dict[str, Any], threads: list[int], repeat: int) -> str:
    t_cols = [f"numba_{t}t" for t in threads]
    head = ["workload", "steps per run", "C, 1 core"] + [f"Numba, {t} thread{'s' if t > 1 else ''}" for t in threads]
    head += [f"Numba {t}t / C" for t in threads]
    lines = [
        f"Median of {repeat} runs of each, side by side; ns per step (steps per second). "
        "Ratios are speeds: Numba's steps/s over one-core C's.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|",
    ]
    for res in results.values():
        row = [res["description"], f"{res['steps']:,}", cell(res, "c")] + [cell(res, k) for k in t_cols]
        row += [f"{res['speed_vs_c'][k]:.2f}x" if k in res["speed_vs_c"] else "-" for k in t_cols]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "| target | wanted | measured | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {'yes' if ok else '**no**'} |" for a, b, c, ok in targets(results)]
    lines += ["", f"Machine: {env['cpu']}, {env['nproc']} cores; {env['c_compiler']} ({' '.join(native.CFLAGS)}); "
              f"Python {env['python']}, numpy {env['numpy']}, numba {env['numba']}; commit {env['commit']}; {env['date']}; "
              f"load: {load_note(results, env)}."]
    return "\n".join(lines)


def load_note(results: dict[str, dict[str, Any]], env: dict[str, Any]) -> str:
    """Other users of a shared machine slow a benchmark down: say how much they did."""
    discarded = sum(r["discarded_repetitions"] for r in results.values())
    worst = max((x for r in results.values() for x in r["other_processes_cores"]), default=0.0)
    return (f"repetitions during which other processes used more than {env['max_other_load']} cores were discarded and "
            f"rerun ({discarded} of them); in the kept ones they used at most {worst:.2f} cores")


def write_md(text: str, env: dict[str, Any]) -> Path:
    """Replace the block between the markers in BENCHMARKS.md (the rest is left alone)."""
    path = REPO / "BENCHMARKS.md"
    write_block(path, MD_NAME, text, env["command"])
    return path


def main() -> int:
    args = parse_args()
    if args.md_only:
        record = REPO / "results" / "runtime_cpu.json"
        if not record.exists():
            command = "python benchmarks/runtime_cpu.py --write-md --wait-quiet 60"
            text = f"Not measured yet: `{command}` writes `results/runtime_cpu.json` and this table."
            print(text)
            write_md(text, {"command": command})
            return 0
        obj = json.loads(record.read_text())
        print(obj["markdown"])
        print(f"table written to {write_md(obj['markdown'], obj['environment'])}", file=sys.stderr)
        return 0
    wanted = [w.strip() for w in args.workloads.split(",") if w.strip()]
    threads = sorted({max(1, min(int(t), numba.config.NUMBA_NUM_THREADS)) for t in args.threads.split(",")})
    if args.wait_quiet > 0:
        print(f"waiting for an idle machine (up to {args.wait_quiet:.0f} s) ...", file=sys.stderr, flush=True)
        OtherLoad.wait_quiet(args.wait_quiet)
    env = environment() | {"c_compiler": native.compiler_version()}
    others = OtherLoad()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as tmp_name:
        tmp = Path(tmp_name)
        makers = {
            "a": lambda: workloads.loop(R=args.a_repeats),
            "b": lambda: workloads.random_programs(programs=args.b_programs),
            "c": lambda: workloads.multiply(inputs=args.c_inputs),
        }
        for name in ("a", "b", "c"):
            if name in wanted:
                wl = makers[name]()
                print(f"{wl.description} ...", file=sys.stderr, flush=True)
                results[name] = bench_workload(wl, [1] if name == "a" else threads, args.repeat, tmp, args.reference_sample,
                                               args.max_other_load)
        if "eforth" in wanted:
            print("eForth ...", file=sys.stderr, flush=True)
            results["eforth"] = bench_eforth(args.eforth, args.repeat, tmp, args.max_other_load)
    env["other_processes_cores"] = round(others.cores(), 2)
    env["max_other_load"] = args.max_other_load
    text = markdown(results, env, threads, args.repeat)
    print(text)
    out = out_dir(args.out) / "runtime_cpu.json"
    write_json(out, {"environment": env, "targets": TARGETS, "results": results, "markdown": text})
    if args.write_md:  # the table's own record, kept in the repository
        write_json(REPO / "results" / "runtime_cpu.json", {"environment": env, "targets": TARGETS, "results": results, "markdown": text})
    print(f"\nresults: {out}", file=sys.stderr)
    if args.write_md:
        print(f"table written to {write_md(text, env)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
