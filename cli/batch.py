"""``synth batch``: many runs at once on the CPU or GPU, from an .npz (spec/isa.md) or from a
program file with a table of named inputs, one run per line."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from cli.common import add_word_bits, nonneg_int, parse_values, print_json
from isa.base import SynthError
from isa.registry import REGISTRY
from runtime.batch import STATUS_NAMES, load_batch, run_batch, save_results


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="run many programs or inputs at once on the CPU or GPU",
        description="Either IN.npz OUT.npz: run every program of IN.npz (code (P, n, fields) or (1, n, fields); data "
        "(P, k); optional n, k, pc, word_bits; spec/isa.md) and write the final data, steps, pc and status to OUT.npz, "
        "printing {programs, steps, seconds, steps_per_second}. Or PROGRAM RUNS OUT: a .sasm or program .json, a CSV "
        "(a header of data labels, one run per line; an array's values separated by spaces) or JSON Lines ({label: "
        "value or [values]} per line) of inputs, and OUT.jsonl (one result per run: status, steps, pc, outputs) or "
        "OUT.npz; prints {runs, steps, seconds, steps_per_second, status: {halted, ...}} and exits 1 when any run did "
        "not halt. Seconds time the execution alone.",
    )
    p.add_argument("input", metavar="IN.npz|PROGRAM")
    p.add_argument("second", metavar="OUT.npz|RUNS")
    p.add_argument("third", nargs="?", metavar="OUT", help="with a PROGRAM: where the results go (.jsonl or .npz)")
    p.add_argument("--isa", choices=sorted(REGISTRY), help="the ISA (required for an .npz; for a .sasm: compile for it)")
    p.add_argument("--max-steps", type=nonneg_int, default=1_000_000, metavar="N", help="step limit per run (default 1,000,000)")
    p.add_argument("--device", choices=("cpu", "cuda", "reference"), default="cpu")
    p.add_argument("--threads", type=nonneg_int, metavar="T", help="CPU threads (default: all cores)")
    add_word_bits(p)
    p.set_defaults(func=batch_command)


def batch_command(args: argparse.Namespace) -> int:
    if args.input.lower().endswith(".npz"):
        if args.third is not None:
            raise SynthError("an .npz batch takes IN.npz OUT.npz (a program file takes PROGRAM RUNS OUT)")
        if args.isa is None:
            raise SynthError("an .npz batch needs --isa NAME")
        batch = load_batch(args.input, args.isa, args.word_bits)
        result = run_batch(batch, max_steps=args.max_steps, device=args.device, threads=args.threads or None)
        save_results(args.second, result)
        print_json({"programs": batch.programs, "steps": result.total_steps, "seconds": result.seconds,
                    "steps_per_second": _rate(result)})
        return 0
    if args.third is None:
        raise SynthError(f"{args.input}: a program batch takes PROGRAM RUNS OUT (RUNS: a .csv or .jsonl of inputs; "
                         "OUT: .jsonl or .npz), or give IN.npz OUT.npz")
    return program_batch(args)


def program_batch(args: argparse.Namespace) -> int:
    import numpy as np

    from cli.loading import load_runnable
    from isa.convention import initial_data, read_outputs
    from isa.files import write_atomic
    from runtime.batch import make_batch

    program = load_runnable(args.input, args.isa, args.word_bits)
    if not program.spec.static_code and not program.n:
        raise SynthError(f"{args.input}: a memory image has no labels to set; give an .npz batch")
    runs = read_runs(args.second)
    memories = np.stack([initial_data(program, sets) for sets in _checked(runs, args.second)])
    batch = make_batch(program.spec, program.code[None], memories, word_bits=program.word_bits, where=args.input)
    result = run_batch(batch, max_steps=args.max_steps, device=args.device, threads=args.threads or None)
    out = Path(args.third)
    if out.suffix.lower() == ".npz":
        save_results(out, result)
    elif out.suffix.lower() == ".jsonl":
        lines = [json.dumps({"run": i, "status": STATUS_NAMES[int(result.status[i])], "steps": int(result.steps[i]),
                             "pc": int(result.pc[i]), "outputs": read_outputs(program, result.data[i])})
                 for i in range(len(runs))]
        write_atomic(out, "".join(line + "\n" for line in lines))
    else:
        raise SynthError(f"{out}: the results go to a .jsonl (one JSON object a run) or an .npz file")
    counts = {name: int((result.status == i).sum()) for i, name in enumerate(STATUS_NAMES)}
    print_json({"runs": len(runs), "steps": result.total_steps, "seconds": result.seconds, "steps_per_second": _rate(result),
                "status": counts})
    return 0 if counts["halted"] == len(runs) else 1


def _rate(result: Any) -> float:
    return result.total_steps / result.seconds if result.seconds > 0 else 0.0


def _checked(runs: list[dict[str, list[int]]], path: str) -> list[dict[str, list[int]]]:
    if not runs:
        raise SynthError(f"{path}: holds no runs")
    return runs


def read_runs(path: str) -> list[dict[str, list[int]]]:
    """Named inputs, one run per line: a CSV with a header of data labels (an array's values
    separated by spaces or semicolons in one column), or JSON Lines of {label: value or
    [values]}. Each run sets its labels' cells from the first, as --set does."""
    from isa.files import read_text

    text = read_text(path, "runs file")
    suffix = Path(path).suffix.lower()
    runs: list[dict[str, list[int]]] = []
    if suffix == ".csv":
        reader = csv.reader(text.splitlines())
        header = next(reader, None)
        if not header or not all(h.strip() for h in header):
            raise SynthError(f"{path}:1: the first line names the data labels, one a column (such as a,b)")
        names = [h.strip() for h in header]
        for number, row in enumerate(reader, 2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise SynthError(f"{path}:{number}: {len(row)} values for {len(names)} columns ({', '.join(names)})")
            runs.append({name: parse_values(cell.replace(";", " ").strip().replace(" ", ","), f"{path}:{number}: {name}")
                         for name, cell in zip(names, row, strict=True) if cell.strip()})
    elif suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise SynthError(f"{path}:{number}: malformed JSON: {e.msg}") from None
            if not isinstance(obj, dict):
                raise SynthError(f"{path}:{number}: each line is a JSON object of label -> value or [values]")
            run = {}
            for name, value in obj.items():
                values = value if isinstance(value, list) else [value]
                if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                    raise SynthError(f"{path}:{number}: {name} must be an integer or a list of integers")
                run[name] = values
            runs.append(run)
    else:
        raise SynthError(f"{path}: the runs are a .csv (a header of labels) or .jsonl file")
    return runs
