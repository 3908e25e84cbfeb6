"""How every cost grows (issue 12): one script, PNG plots and a table in BENCHMARKS.md.

    python benchmarks/cost_curves.py [--quick] [--write-md]

1. runtime: Numba CPU steps/s against the batch size (random subleq programs of 256 rows,
   benchmark (b)'s workload) and against the program length (one long loop);
2. compiler: seconds against source lines (the generated programs of compile_speed.py);
3. training: seconds per step and steps to 100% against the number of random programs N and
   their length (the Table 1 recipe at a smaller width, so that the curve fits in minutes);
4. neural execution: steps/s against concurrent runs, per mode (stepwise compiled, cached,
   extract), a trained feed-forward model on the multiply example.

Every point is recorded in results/cost_curves.json; the plots go to results/cost_*.png and
the table between markers in BENCHMARKS.md, written from that file (``--md-only`` rewrites
the table without measuring). A reader should see where each part bends.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import REPO, environment, record_and_table  # noqa: E402

RESULT = REPO / "results" / "cost_curves.json"


def median_rate(run: Callable[[], tuple[int, float]], repeat: int) -> tuple[int, float]:
    """(work, median work per second) over ``repeat`` calls of ``run() -> (work, seconds)``."""
    samples = [run() for _ in range(repeat)]
    return samples[0][0], statistics.median(w / s for w, s in samples)


def runtime_curves(quick: bool, repeat: int) -> dict:
    import numpy as np

    from runtime.batch import make_batch, run_batch

    out = {"batch": [], "length": []}
    rng = np.random.default_rng(0)
    run_batch(make_batch("subleq", np.zeros((1, 4, 3), np.int64), np.zeros((1, 4), np.int64)), max_steps=10, device="cpu")  # JIT
    for P in ([64, 256, 1024] if quick else [16, 64, 256, 1024, 4096, 16384]):
        code = np.stack([rng.integers(0, 256, (P, 256)), rng.integers(0, 256, (P, 256)), rng.integers(0, 256, (P, 256))], 2)
        code[:, 0] = 0
        data = rng.integers(-1000, 1001, (P, 256))

        def once(code=code, data=data):
            r = run_batch(make_batch("subleq", code, data), max_steps=10_000, device="cpu")
            return r.total_steps, r.seconds

        steps, rate = median_rate(once, repeat)
        out["batch"].append({"programs": P, "steps": steps, "steps_per_second": rate})
    from compiler import compile_source

    for reps in ([1, 16, 256] if quick else [1, 4, 16, 64, 256, 1024]):
        src = ".data\nacc: .word 0\nx: .word 3\ni: .word 2000\n.code\nloop:\n" + "add x, acc\n" * reps + "dec i\njgt i, loop\nhalt\n"
        program = compile_source(src, "len.sasm", isa="subleq")

        def once(program=program):
            r = run_batch(make_batch("subleq", program.code[None], program.data[None]), max_steps=10**9, device="cpu")
            return r.total_steps, r.seconds

        steps, rate = median_rate(once, repeat)
        out["length"].append({"rows": program.n, "steps": steps, "steps_per_second": rate})
    return out


def compiler_curve(quick: bool, repeat: int) -> list[dict]:
    from compile_speed import generate

    from compiler import compile_source
    from compiler.source_to_ast import clear_cache

    out = []
    for lines in ([500, 2000, 8000] if quick else [250, 1000, 4000, 16000, 32000]):
        text = generate(lines)
        samples = []
        for _ in range(repeat):
            clear_cache()  # every repetition parses afresh
            t0 = time.perf_counter()
            compile_source(text, "big.sasm", isa="subleq")
            samples.append(time.perf_counter() - t0)
        out.append({"lines": len(text.splitlines()), "seconds": statistics.median(samples)})
    return out


def training_curves(quick: bool) -> list[dict]:
    from neural.corpus import random_corpus
    from neural.experiments.memorize import recipe
    from neural.train import default_batch_size, train

    out = []
    cases = [(2, 64), (4, 64), (8, 64), (4, 128), (4, 256)] if not quick else [(2, 32), (4, 32), (4, 64)]
    # one throw-away run first, so that the first point does not carry torch's one-time costs
    train(recipe(hidden_size=128, intermediate_size=512, num_layers=2, num_heads=2, max_steps=30, until_exact=False,
                 batch_size=8), random_corpus(1, 32, seed=1))
    for programs, length in cases:
        corpus = random_corpus(programs, length, seed=0)
        config = recipe(hidden_size=128, intermediate_size=512, num_layers=2, num_heads=2, max_steps=3000,
                        batch_size=default_batch_size(programs * length))
        t0 = time.perf_counter()
        result = train(config, corpus)
        seconds = time.perf_counter() - t0
        out.append({"programs": programs, "length": length, "rows": programs * length, "steps_to_exact": result.exact_at,
                    "seconds": seconds, "seconds_per_step": seconds / max(1, result.steps)})
    return out


def neural_curves(quick: bool, repeat: int) -> list[dict]:
    import numpy as np

    from isa.convention import initial_data
    from neural.config import TrainConfig
    from neural.corpus import load_corpus
    from neural.execute import Job, MemoPredictor, NetworkPredictor, extract, perform_many, run_extracted
    from neural.train import train

    corpus = load_corpus([str(REPO / "examples" / "multiply.sasm")], isa="subleq")
    result = train(TrainConfig(backbone="mlp", hidden_size=128, intermediate_size=256, lr=0.01, until_exact=True,
                               max_steps=3000, eval_every=10, progress=False), corpus)
    net = NetworkPredictor(result.model, result.tokenizer)
    program = corpus.programs[0]
    text = corpus.descriptions(program)[0]
    out = []
    for runs in ([10, 100, 1000] if quick else [1, 10, 100, 1000, 10000]):
        rng = np.random.default_rng(1)
        jobs = [Job(program, text, initial_data(program, inputs=[int(a), 25])) for a in rng.integers(-99, 99, runs)]
        row = {"runs": runs}
        for mode in ("stepwise", "cached", "extract"):
            def once(mode=mode, jobs=jobs):
                t0 = time.perf_counter()
                if mode == "stepwise":
                    done = perform_many(net, jobs, record=False)
                elif mode == "cached":
                    done = perform_many(MemoPredictor(net), jobs)  # a fresh cache each time
                else:
                    code = extract(net, text, program.n)
                    done = [run_extracted(code, program, j.data, 10**9) for j in jobs]
                return sum(r.result.steps for r in done), time.perf_counter() - t0

            row[mode] = median_rate(once, repeat)[1]
        out.append(row)
    return out


def plot(obj: dict) -> list[str]:
    from neural.plot import pyplot, save_png

    plt = pyplot()
    paths = []
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    r = obj["runtime"]
    axes[0, 0].loglog([p["programs"] for p in r["batch"]], [p["steps_per_second"] for p in r["batch"]], "o-", label="against batch size")
    axes[0, 0].loglog([p["rows"] for p in r["length"]], [p["steps_per_second"] for p in r["length"]], "s-", label="against program rows")
    axes[0, 0].set_title("runtime (Numba CPU): steps/s")
    axes[0, 0].legend()
    c = obj["compiler"]
    axes[0, 1].loglog([p["lines"] for p in c], [p["seconds"] for p in c], "o-")
    axes[0, 1].set_title("compiler: seconds against source lines")
    t = obj["training"]
    ax = axes[1, 0]
    ax2 = ax.twinx()
    # two series through the shared point (4 programs of the first case's length): more programs, longer programs
    base = t[0]["length"]
    for name, keep, colour in ((f"N grows (length {base})", lambda p: p["length"] == base, "C0"),
                               ("length grows (N = 4)", lambda p: p["programs"] == 4, "C1")):
        pts = sorted((p for p in t if keep(p)), key=lambda p: p["rows"])
        ax.plot([p["rows"] for p in pts], [p["steps_to_exact"] or 0 for p in pts], "o-", color=colour,
                label=f"steps to 100%, {name}")
        ax2.plot([p["rows"] for p in pts], [1000 * p["seconds_per_step"] for p in pts], "s--", color=colour,
                 label=f"ms per step, {name}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("rows learned (programs x length)")
    ax2.set_ylabel("ms per step")
    ax.set_title("training (Table 1 recipe, 2 x 128)")
    ax.legend(loc="upper left")
    ax2.legend(loc="lower right")
    n = obj["neural"]
    for mode in ("stepwise", "cached", "extract"):
        axes[1, 1].loglog([p["runs"] for p in n], [p[mode] for p in n], "o-", label=mode)
    axes[1, 1].set_title("neural execution: steps/s against concurrent runs")
    axes[1, 1].legend()
    fig.tight_layout()
    path = REPO / "results" / "cost_curves.png"
    save_png(fig, path)
    paths.append(str(path.relative_to(REPO)))
    return paths


def markdown(obj: dict) -> str:
    lines = ["| part | size | cost |", "| --- | --- | ---: |"]
    for p in obj["runtime"]["batch"]:
        lines.append(f"| runtime, random programs (b) | batch {p['programs']:,} | {p['steps_per_second']:.3g} steps/s |")
    for p in obj["runtime"]["length"]:
        lines.append(f"| runtime, one loop | {p['rows']:,} rows | {p['steps_per_second']:.3g} steps/s |")
    for p in obj["compiler"]:
        lines.append(f"| compiler | {p['lines']:,} lines | {p['seconds']:.3f} s |")
    for p in obj["training"]:
        lines.append(f"| training | {p['programs']} programs x {p['length']} rows | {p['steps_to_exact']} steps to 100%, "
                     f"{1000 * p['seconds_per_step']:.0f} ms/step |")
    for p in obj["neural"]:
        lines.append(f"| neural execution | {p['runs']:,} runs | stepwise {p['stepwise']:.3g}, cached {p['cached']:.3g}, "
                     f"extract {p['extract']:.3g} steps/s |")
    env = obj["environment"]
    if "repeat" in obj:
        how = (f"Runtime, compiler and neural points: median of {obj['repeat']} repetitions; training: one run each (after a "
               "throw-away warm-up run)")
    else:
        how = "Every point one sample (a run of this script before it repeated points or warmed training up); training"
    lines += ["", f"![cost curves]({obj['plots'][0]})", "",
              f"{how}, the Table 1 recipe at width 128 and 2 layers with the batch size floor(rows / 20), ms per step "
              "including its validations.",
              f"Machine: {env['cpu']}, {env['nproc']} cores; {env['date']}; commit {env['commit']}."]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer, smaller points (a smoke run)")
    ap.add_argument("--write-md", action="store_true")
    ap.add_argument("--md-only", action="store_true", help="rewrite the table from results/cost_curves.json")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of each runtime, compiler and neural point (median)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    obj = None
    if not args.md_only:
        r = args.repeat
        obj = {"environment": environment(), "repeat": r, "runtime": runtime_curves(args.quick, r),
               "compiler": compiler_curve(args.quick, r), "training": training_curves(args.quick),
               "neural": neural_curves(args.quick, r)}
        obj["plots"] = plot(obj)
    record_and_table(RESULT, obj, "cost-curves", "python benchmarks/cost_curves.py --write-md", markdown,
                     args.write_md or args.md_only)
    return 0

if __name__ == "__main__":
    sys.exit(main())
