"""``synth experiment``: the paper's experiments (now: ``memorize``, Experiment 1)."""

from __future__ import annotations

import argparse
import platform
import sys

from cli.common import nonneg_int, print_json
from isa.base import SynthError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("experiment", help="the paper's experiments", description="Run one of the paper's experiments.")
    ex = p.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    ex.required = True
    m = ex.add_parser(
        "memorize",
        help="Experiment 1: steps until N random programs are memorised (Table 1)",
        description="Train on N random subleq programs of --length rows (each named by its own token) until every "
        "field of every row is right, for each N and seed; report mean ± sample std of the steps beside the paper's "
        "Table 1. Writes OUT/memorize.md and OUT/memorize.json.",
    )
    m.add_argument("--programs", default="16,32,64,128", metavar="N,N,...", help="numbers of programs (default 16,32,64,128)")
    m.add_argument("--length", type=nonneg_int, default=256, metavar="L", help="rows per program (default 256)")
    m.add_argument("--seeds", type=nonneg_int, default=5, metavar="S", help="seeds 0 .. S-1 (default 5)")
    m.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    m.add_argument("--max-steps", type=nonneg_int, default=20_000, metavar="N", help="give up on a run after N steps")
    m.add_argument("--check-every", type=nonneg_int, default=25, metavar="N", help="check every row this often (<= 25)")
    m.add_argument("--config", metavar="FILE", help="override the recipe with a TrainConfig YAML/TOML")
    m.add_argument("--out", default="runs/memorize", metavar="DIR", help="where the table goes (default runs/memorize)")
    m.add_argument("--json", action="store_true", help="end with a JSON list of the rows")
    m.add_argument("--progress", action="store_true", help="a progress bar per run")
    m.set_defaults(func=memorize_command)


def _programs(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SynthError(f"--programs {text!r}: expected numbers separated by commas") from None
    if not values or any(v < 1 for v in values):
        raise SynthError("--programs needs positive numbers")
    return values


def memorize_command(args: argparse.Namespace) -> int:
    from neural.experiments import memorize
    from neural.train import TrainConfig, pick_device

    pick_device(args.device)
    if not 1 <= args.check_every <= 25:
        raise SynthError("--check-every must lie in [1, 25]: Experiment 1 checks at least every 25 steps")
    base = TrainConfig.from_file(args.config).to_json() if args.config else {}
    base.pop("seed", None)
    overrides = {**{k: (tuple(v) if k == "betas" else v) for k, v in base.items()}, "device": args.device,
                 "max_steps": args.max_steps, "eval_every": args.check_every, "progress": args.progress, "until_exact": True}
    config = memorize.recipe(**overrides)
    machine = _machine(args.device)

    def report(trial: memorize.Trial) -> None:
        steps = trial.steps if trial.steps is not None else f"not exact in {args.max_steps}"
        sys.stderr.write(f"synth: N={trial.programs} seed={trial.seed}: {steps} steps, {trial.seconds:.1f} s\n")

    rows = memorize.run(_programs(args.programs), args.length, args.seeds, config, on_trial=report)
    memorize.write(rows, args.out, config, machine)
    sys.stdout.write(memorize.markdown(rows, machine))
    if args.json:
        print_json([r.public() for r in rows])
    return 0


def _machine(device: str) -> str:
    import os

    import torch

    if device == "cuda":
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
