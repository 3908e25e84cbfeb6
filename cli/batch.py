"""``synth batch``: run a batch of programs from an .npz and report the speed."""

from __future__ import annotations

import argparse

from cli.common import add_word_bits, nonneg_int, print_json
from isa.registry import REGISTRY
from runtime.batch import load_batch, run_batch, save_results


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="run a batch of programs (.npz) on the CPU or GPU",
        description="Run every program of IN.npz (code (P, n, fields) or (1, n, fields); data (P, k); optional n, k, pc, "
        "word_bits) and write the final data, steps, pc and status to OUT.npz. Prints {programs, steps, seconds, "
        "steps_per_second}, timing the execution alone.",
    )
    p.add_argument("input", metavar="IN.npz")
    p.add_argument("output", metavar="OUT.npz")
    p.add_argument("--isa", required=True, choices=sorted(REGISTRY))
    p.add_argument("--max-steps", type=nonneg_int, default=1_000_000, metavar="N", help="step limit per program (default 1,000,000)")
    p.add_argument("--device", choices=("cpu", "cuda", "reference"), default="cpu")
    p.add_argument("--threads", type=nonneg_int, metavar="T", help="CPU threads (default: all cores)")
    add_word_bits(p)
    p.set_defaults(func=batch_command)


def batch_command(args: argparse.Namespace) -> int:
    batch = load_batch(args.input, args.isa, args.word_bits)
    result = run_batch(batch, max_steps=args.max_steps, device=args.device, threads=args.threads or None)
    save_results(args.output, result)
    steps = result.total_steps
    print_json({
        "programs": batch.programs,
        "steps": steps,
        "seconds": result.seconds,
        "steps_per_second": steps / result.seconds if result.seconds > 0 else 0.0,
    })
    return 0
