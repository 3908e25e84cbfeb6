"""``synth demo``: compile the examples, train a small Synthesizer, perform every program
through it on its test inputs, and print what happened (neural/demo.py)."""

from __future__ import annotations

import argparse
import sys

from cli.common import add_threads, machine_line, nonneg_int, set_torch_threads
from isa.registry import static_isas


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the main job: compile the examples, train a Synthesizer, perform each program through it",
        description="Compile the bundled example programs, train a small Synthesizer on the CPU until every "
        "instruction is exact (under 3 minutes on 2 cores), perform each program through the network on its "
        "test inputs, and print a table: program, description, neural result, reference result, match. "
        "Exit 0 when every neural run matches its reference run.",
    )
    p.add_argument("--isa", default="ext", choices=static_isas(), help="the ISA to compile for (default ext)")
    p.add_argument("--backbone", default="mlp", choices=("mlp", "bert"), help="mlp (default, fast) or bert (minutes)")
    p.add_argument("--examples", metavar="DIR", help="a directory of .sasm programs (default: the bundled examples)")
    p.add_argument("--programs", metavar="A,B,...", help="only these examples (file stems)")
    p.add_argument("--descriptions", type=nonneg_int, default=2, metavar="N",
                   help="train on each program's first N descriptions (default 2; 0: all of them); each run uses the first")
    p.add_argument("--max-train-steps", type=nonneg_int, default=3000, metavar="N")
    p.add_argument("--seed", type=nonneg_int, default=0)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--out", metavar="DIR", help="keep the trained checkpoint here (then `synth exec --model DIR ...`)")
    p.add_argument("--record", metavar="FILE.json", help="also write a JSON summary here, with the command, machine and date")
    add_threads(p)
    p.set_defaults(func=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    set_torch_threads(args.threads)
    from neural.demo import DemoConfig, format_report, run_demo  # torch loads only when needed

    config = DemoConfig(
        isa=args.isa, backbone=args.backbone, examples=args.examples,
        programs=[p.strip() for p in args.programs.split(",") if p.strip()] if args.programs else None,
        max_train_steps=args.max_train_steps, descriptions=args.descriptions, seed=args.seed, device=args.device, out=args.out,
    )
    report = run_demo(config)
    sys.stdout.write(format_report(report) + "\n")
    if args.record:
        _record(args, report.summary())
    return 0 if report.exact and report.matched == len(report.rows) else 1


def _record(args: argparse.Namespace, summary: dict) -> None:
    import json
    import time

    from isa.files import write_atomic

    obj = {"command": args.command_line, "machine": machine_line(args.device), "date": time.strftime("%Y-%m-%d"), **summary}
    write_atomic(args.record, json.dumps(obj, indent=1) + "\n")
