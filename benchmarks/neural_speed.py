"""Neural execution speed (issue 12): the loop around the network, extraction against the
native runtime, and the cost of starting ``synth exec``.

    python benchmarks/neural_speed.py [--runs 10000] [--steps 50] [--repeat 3] [--write-md]

(a) stepwise: R concurrent runs of one program (multiply by 25: every run takes 1,554 steps,
    so all stay live for the first S), each step one network call for all of them and every
    run's step in compiled code (``perform_many(record=False)``), stopped after S steps;
    steps/s against the network's own forward throughput at that batch size (rows/s of
    ``NetworkPredictor.rows`` alone). Target: at least 0.8x. (Run to the end, 10^4 runs
    are 15.5 million BERT rows, most of an hour on two cores per repetition; the rate
    does not change along the run, since every run stays live.)
(b) extract: a loop in the manner of benchmark (a) of spec/isa.md (x added to acc 1,000
    times, 20,000 times over: 120,120,000 steps on subleq), the whole program extracted from
    the network in one pass and run on the Numba runtime, end to end, against the native
    runtime on the compiled program. Target: at least 0.5x.
(c) ``synth exec`` as a whole process (a BERT model, gcd on 12, 18), with the lite encoder
    (the default) and with ``--engine transformers``, against
    ``python -c "import torch, transformers"``. Target: at most 2x.
(d, e) ``--parts gpu --device cuda``, on an H100/H200: (a)'s stepwise BERT run on the GPU,
    network-predicted steps/s (target at least 10^5), and the extraction of a 1,024-row
    program (a random program the BERT model is trained on until exact) in one batched
    pass, seconds from the description to the rows on the host (target under 50 ms). The
    figures go into the record's ``gpu`` entry (benchmarks/gpu.sh runs this and copies the
    record to $OUT). ``--parts gpu --device cpu --runs 64 --extract-rows 64`` walks the same
    path on the CPU and prints its figures without recording them (tests/test_neural_speed.py).

Models are trained here until exact (a feed-forward network and a BERT of 2 layers of
width 128): throughput does not depend on the weights, but the runs must follow their
programs. Medians of ``--repeat``; results in results/neural_speed.json, the table in
BENCHMARKS.md (``--write-md``, from that file).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, if not installed

from common import REPO, OtherLoad, environment, record_and_table  # noqa: E402

RESULT = REPO / "results" / "neural_speed.json"
GPU = "not measured: no GPU lent"
PARTS = ("stepwise", "extract", "startup")
DEVICE_PART = "gpu"  # (d, e): not in a whole run; asked for by name


def trained(backbone: str, files: list[str], out: Path, device: str = "cpu", corpus=None) -> Path:
    from neural.config import TrainConfig
    from neural.corpus import load_corpus
    from neural.train import train

    corpus = corpus if corpus is not None else load_corpus(files, isa="subleq")
    if backbone == "mlp":
        config = TrainConfig(backbone="mlp", hidden_size=128, intermediate_size=256, lr=0.01, until_exact=True, max_steps=3000,
                             eval_every=10, progress=False, device=device)
    else:
        config = TrainConfig(backbone="bert", hidden_size=128, intermediate_size=512, num_layers=2, num_heads=2,
                             until_exact=True, max_steps=3000, eval_every=25, progress=False, device=device)
    result = train(config, corpus, out)
    if not result.exact:
        raise SystemExit(f"neural_speed: the {backbone} model did not become exact")
    return out


def stepwise(model_dir: Path, runs: int, steps_each: int, repeat: int, device: str = "cpu") -> dict:
    import numpy as np

    from isa.convention import initial_data
    from neural import checkpoint
    from neural.execute import Job, NetworkPredictor, perform_many

    ckpt = checkpoint.load(model_dir, device=device)
    net = NetworkPredictor.from_checkpoint(ckpt)
    program = ckpt.corpus.program("multiply")
    text = ckpt.corpus.descriptions(program)[0]
    rng = np.random.default_rng(0)
    jobs = [Job(program, text, initial_data(program, inputs=[int(a), 25])) for a in rng.integers(-1000, 1000, runs)]
    perform_many(net, jobs[:8], record=False)  # compile the stepper
    step_rates, forward_rates = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = perform_many(net, jobs, max_steps=steps_each, record=False)
        seconds = time.perf_counter() - t0
        steps = sum(r.result.steps for r in out)
        assert all(r.result.steps == steps_each for r in out)  # every run live to the end
        step_rates.append(steps / seconds)
        pcs = [1 + i % (program.n - 1) for i in range(runs)]
        t0 = time.perf_counter()
        calls = 5
        for _ in range(calls):
            net.rows([text] * runs, pcs)
        forward_rates.append(calls * runs / (time.perf_counter() - t0))
    step, forward = statistics.median(step_rates), statistics.median(forward_rates)
    return {"runs": runs, "steps_per_run": steps_each, "stepwise_steps_per_second": step,
            "forward_rows_per_second": forward, "ratio": step / forward, "target": 0.8}


def extract_vs_native(model_dir: Path, repeat: int) -> dict:
    from neural import checkpoint
    from neural.execute import NetworkPredictor, extract
    from runtime.run import run_program

    ckpt = checkpoint.load(model_dir)
    program = ckpt.corpus.program("loop")
    net = NetworkPredictor.from_checkpoint(ckpt)
    text = ckpt.corpus.descriptions(program)[0]
    run_program(program, backend="cpu", max_steps=10)  # compile
    native, end_to_end = [], []
    steps = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        ref = run_program(program, backend="cpu")
        native.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        code = extract(net, text, program.n)
        from isa.program import Program

        mine = Program(isa=program.isa, code=code, data=program.data, word_bits=program.word_bits).validate("extracted")
        got = run_program(mine, backend="cpu")
        end_to_end.append(time.perf_counter() - t0)
        assert got.steps == ref.steps and (got.data == ref.data).all()
        steps = ref.steps
    n_s, e_s = statistics.median(native), statistics.median(end_to_end)
    return {"program_rows": program.n, "steps": steps, "native_steps_per_second": steps / n_s,
            "extract_steps_per_second": steps / e_s, "ratio": n_s / e_s, "target": 0.5}


def extraction_time(model_dir: Path, repeat: int, device: str = "cpu") -> dict:
    """(e) The whole program of the checkpoint's one program in one batched pass: seconds
    from the description to the rows on the host, median of ``repeat`` after a warm-up."""
    from neural import checkpoint
    from neural.execute import NetworkPredictor, extract, rows_matching

    ckpt = checkpoint.load(model_dir, device=device)
    [program] = ckpt.corpus.programs
    net = NetworkPredictor.from_checkpoint(ckpt)
    text = ckpt.corpus.descriptions(program)[0]
    code = extract(net, text, program.n)  # warm-up (kernels, allocator)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        code = extract(net, text, program.n)  # returns host memory: the device has finished
        times.append(time.perf_counter() - t0)
    return {"program_rows": program.n, "seconds": statistics.median(times), "rows_matching": rows_matching(code, program),
            "target_seconds": 0.05}


def device_figures(device: str, runs: int, steps_each: int, rows: int, repeat: int, files: list[str], tmp: Path) -> dict:
    """(d) stepwise BERT steps/s with ``runs`` concurrent runs on ``device``; (e) extraction
    of a ``rows``-row random program from a BERT model trained on it until exact."""
    import torch

    from neural.corpus import random_corpus

    bert = trained("bert", files, tmp / "bert-device", device=device)
    big = trained("bert", [], tmp / "bert-rows", device=device, corpus=random_corpus(1, rows, seed=0))
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    return {"device": name, "stepwise": stepwise(bert, runs, steps_each, repeat, device=device) | {"target": 1e5},
            "extract": extraction_time(big, repeat, device=device)}


def startup(model_dir: Path, repeat: int) -> dict:
    """``synth exec`` start to finish with each encoder engine, against the import alone,
    interleaved so that load on the machine falls on all three alike."""
    venv_bin = Path(sys.executable).parent
    synth = str(venv_bin / "synth")
    times: dict[str, list[float]] = {"import": [], "lite": [], "transformers": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch, transformers"], check=True)
        times["import"].append(time.perf_counter() - t0)
        for engine in ("lite", "transformers"):
            t0 = time.perf_counter()
            subprocess.run([synth, "exec", "--model", str(model_dir), "--program", "gcd", "--inputs", "12,18", "--json",
                            "--engine", engine], check=True, capture_output=True)
            times[engine].append(time.perf_counter() - t0)
    i, e, t = (statistics.median(times[k]) for k in ("import", "lite", "transformers"))
    return {"import_seconds": i, "exec_seconds": e, "ratio": e / i, "exec_transformers_seconds": t,
            "ratio_transformers": t / i, "target": 2.0}

def loop_program(tmp: Path) -> str:
    """spec/isa.md's benchmark (a) as an assembly source with a description."""
    src = tmp / "loop.sasm"
    src.write_text(""".desc "the benchmark loop: add x to acc b times, i times over"
.data
i:      .word 20000
b:      .word 1000
j:      .word 0
x:      .word 7
acc:    .word 0
.output acc
.code
outer:  mov b, j
inner:  add x, acc
        dec j
        jgt j, inner
        dec i
        jgt i, outer
        halt
""")
    return str(src)


def markdown(obj: dict) -> str:
    a, b, c = obj["stepwise"], obj["extract"], obj["startup"]
    rows = ["| measure | ours | against | ratio | target |", "| --- | ---: | ---: | ---: | --- |"]
    for name, r in a.items():
        rows.append(f"| (a) stepwise, {name}, {r['runs']:,} concurrent runs x {r['steps_per_run']:,} steps | {r['stepwise_steps_per_second']:,.0f} steps/s "
                    f"| {r['forward_rows_per_second']:,.0f} rows/s (the network's forward alone) | {r['ratio']:.2f} "
                    f"| >= {r['target']} ({'met' if r['ratio'] >= r['target'] else 'not met'}) |")
    for name, r in b.items():
        rows.append(f"| (b) extract + Numba runtime, {name}, {r['steps']:,} steps | {r['extract_steps_per_second']:.3g} steps/s "
                    f"| {r['native_steps_per_second']:.3g} steps/s (native) | {r['ratio']:.2f} "
                    f"| >= {r['target']} ({'met' if r['ratio'] >= r['target'] else 'not met'}) |")
    met = "met" if c["ratio"] <= c["target"] else "not met"
    rows.append(f"| (c) `synth exec` process (BERT model, `--engine lite`, the default) | {c['exec_seconds']:.2f} s "
                f"| {c['import_seconds']:.2f} s (`import torch, transformers`) | {c['ratio']:.2f} | <= {c['target']} ({met}) |")
    if "exec_transformers_seconds" in c:
        rows.append(f"| (c) `synth exec` process (BERT model, `--engine transformers`) | {c['exec_transformers_seconds']:.2f} s "
                    f"| {c['import_seconds']:.2f} s | {c['ratio_transformers']:.2f} | (the BertModel encoder, for comparison) |")
    g = obj.get("gpu")
    if isinstance(g, dict):
        d, e = g["stepwise"], g["extract"]
        rows.append(f"| (d) {g['device']}: stepwise with BERT, {d['runs']:,} concurrent runs, network-predicted steps/s "
                    f"| {d['stepwise_steps_per_second']:,.0f} steps/s | {d['forward_rows_per_second']:,.0f} rows/s (forward alone) "
                    f"| {d['ratio']:.2f} | >= 1e5 ({'met' if d['stepwise_steps_per_second'] >= 1e5 else 'not met'}) |")
        rows.append(f"| (e) {g['device']}: extraction of a {e['program_rows']:,}-row program ({e['rows_matching']:,} rows "
                    f"as compiled) | {1000 * e['seconds']:.1f} ms | | | < 50 ms ({'met' if e['seconds'] < 0.05 else 'not met'}) |")
    else:
        rows.append(f"| (d) H100/H200: stepwise with BERT, network-predicted steps/s | {GPU} | | | >= 1e5 |")
        rows.append(f"| (e) H100/H200: extraction of a 1,024-row program | {GPU} | | | < 50 ms |")
    env = obj["environment"]
    rows += ["", f"Machine: {env['cpu']}, {env['nproc']} cores; torch threads {obj['threads']}; {env['date']}; commit "
             f"{env['commit']}; other processes used {obj['other_load_cores']:.2f} cores on average while it ran. "
             f"Medians of {obj['repeat']} repetitions."]
    for part, m in obj.get("remeasured", {}).items():
        rows.append(f"Rows ({'abc'[PARTS.index(part)]}) remeasured alone (`--parts {part}`): "
                    f"{m['date']}; commit {m['commit']}; other processes used {m['other_load_cores']:.2f} cores on average; "
                    f"medians of {m['repeat']} repetitions.")
    if isinstance(g, dict):
        rows.append(f"Rows (d, e): `python benchmarks/neural_speed.py --parts gpu --device cuda`; {g['date']}; commit {g['commit']}; "
                    f"medians of {g['repeat']} repetitions.")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=50, help="steps of each run in (a)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write-md", action="store_true", help="measure, then write the table into BENCHMARKS.md")
    ap.add_argument("--md-only", action="store_true", help="write the table from results/neural_speed.json without measuring")
    ap.add_argument("--parts", default=",".join(PARTS),
                    help="which of stepwise, extract, startup to measure (default all); a subset replaces those parts of "
                    "the record and notes when they were remeasured; 'gpu' alone: rows (d, e) on --device")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cuda", help="where --parts gpu runs (default cuda; "
                    "cpu walks the same path and records nothing)")
    ap.add_argument("--extract-rows", type=int, default=1024, help="rows of the program extracted in (e)")
    args = ap.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if parts == [DEVICE_PART]:
        return device_main(args)
    if not parts or set(parts) - set(PARTS):
        raise SystemExit(f"neural_speed: --parts takes a comma-separated subset of {', '.join(PARTS)} (or gpu alone), "
                         f"not {args.parts!r}")
    whole = set(parts) == set(PARTS)
    if not whole and not RESULT.exists():
        raise SystemExit(f"neural_speed: --parts needs an earlier whole record in {RESULT} (run without --parts first)")
    obj = None
    if not args.md_only:
        import torch

        load = OtherLoad()
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            files = [str(REPO / "examples" / f"{n}.sasm") for n in ("multiply", "gcd", "add")] + [loop_program(tmp)]
            backbones = ("bert",) if parts == ["startup"] else ("mlp", "bert")
            models = {b: trained(b, files, tmp / b) for b in backbones}
            measured = {}
            if "stepwise" in parts:
                measured["stepwise"] = {b: stepwise(m, args.runs, args.steps, args.repeat) for b, m in models.items()}
            if "extract" in parts:
                measured["extract"] = {b: extract_vs_native(m, args.repeat) for b, m in models.items()}
            if "startup" in parts:
                measured["startup"] = startup(models["bert"], args.repeat)
            if whole:
                obj = {"environment": environment(), "threads": torch.get_num_threads(), "repeat": args.repeat,
                       **measured, "gpu": GPU, "other_load_cores": load.cores()}
            else:
                obj = json.loads(RESULT.read_text())
                env = environment()
                for part, value in measured.items():
                    obj[part] = value
                    obj.setdefault("remeasured", {})[part] = {"date": env["date"], "commit": env["commit"],
                                                              "other_load_cores": load.cores(), "repeat": args.repeat}
    record_and_table(RESULT, obj, "neural-speed", "python benchmarks/neural_speed.py --write-md", markdown,
                     args.write_md or args.md_only)
    return 0

def device_main(args: argparse.Namespace) -> int:
    """``--parts gpu``: rows (d, e) on ``--device``; on CUDA they go into the record."""
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("neural_speed: --parts gpu --device cuda needs a CUDA GPU (torch sees none); "
                         "--device cpu walks the same path on the CPU")
    if args.device == "cuda" and not RESULT.exists():
        raise SystemExit(f"neural_speed: --parts gpu needs an earlier whole record in {RESULT} (run without --parts first)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = [str(REPO / "examples" / f"{n}.sasm") for n in ("multiply", "gcd", "add")] + [loop_program(tmp)]
        figures = device_figures(args.device, args.runs, args.steps, args.extract_rows, args.repeat, files, tmp)
    if args.device == "cpu":
        print(json.dumps(figures))
        return 0
    env = environment()
    obj = json.loads(RESULT.read_text())
    obj["gpu"] = figures | {"date": env["date"], "commit": env["commit"], "repeat": args.repeat}
    record_and_table(RESULT, obj, "neural-speed", "python benchmarks/neural_speed.py --write-md", markdown, args.write_md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
