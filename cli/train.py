"""``synth train``: train a Synthesizer on programs (or random programs) into a checkpoint."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cli.common import add_threads, nonneg_int, print_json, set_torch_threads
from cli.dataset import add_corpus_arguments, corpus_from_args

if TYPE_CHECKING:
    from neural.train import TrainConfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a Synthesizer to memorise programs",
        description="Train a Synthesizer on the programs' (description, instruction number) rows. Writes checkpoints, "
        "metrics.jsonl and curves.png into --out, resumes a run already there, and prints as its last line "
        '{"steps", "exact", "instruction_accuracy", "seconds"}. Exit 0 on success; 1 with --until-exact when the '
        "budget ran out before every instruction was exact; 2 on bad input.",
    )
    add_corpus_arguments(p)
    p.add_argument("--out", required=True, metavar="DIR", help="the run directory (checkpoints, metrics, plot)")
    p.add_argument("--config", metavar="FILE", help="a TrainConfig as YAML or TOML (flags given here override it)")
    p.add_argument("--backbone", choices=("bert", "mlp", "pretrained"),
                   help="bert (from scratch, the default), mlp (feed-forward), or pretrained (BERT from the packaged "
                   "all-MiniLM-L6-v2 encoder, with its tokenizer)")
    p.add_argument("--max-steps", type=nonneg_int, metavar="N")
    p.add_argument("--until-exact", action="store_true", default=None, help="stop at the first evaluation where every instruction is exact")
    p.add_argument("--device", choices=("cpu", "cuda"))
    p.add_argument("--lr", type=float, metavar="LR")
    p.add_argument("--batch-size", type=nonneg_int, metavar="B", help="default: floor(rows / 20), the paper's rule")
    p.add_argument("--warmup-steps", type=nonneg_int, metavar="N")
    p.add_argument("--eval-every", type=nonneg_int, metavar="N", help="evaluate every row this often (default 25)")
    p.add_argument("--save-every", type=nonneg_int, metavar="N", help="checkpoint this often (default 500)")
    p.add_argument("--pretrained", metavar="DIR", help="start from a local pretrained BERT directory ('minilm': the packaged one)")
    p.add_argument("--tokenizer", metavar="DIR", help="use a local pretrained tokenizer directory")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="require a checkpoint in --out to resume (default: resume if there is one)")
    group.add_argument("--restart", action="store_true", help="discard the run in --out and start over")
    add_threads(p)
    p.set_defaults(func=train_command)


FLAGS = {"backbone": "backbone", "max_steps": "max_steps", "until_exact": "until_exact", "device": "device", "lr": "lr",
         "batch_size": "batch_size", "warmup_steps": "warmup_steps", "eval_every": "eval_every",
         "save_every": "save_every", "pretrained": "pretrained", "tokenizer": "tokenizer"}


def train_config_from_args(args: argparse.Namespace) -> tuple[TrainConfig, set[str]]:
    """The run's TrainConfig (file, then flags) and the keys the user chose explicitly."""
    from neural.train import TrainConfig

    given: set[str] = set()
    config = TrainConfig()
    if args.config:
        overrides = TrainConfig.overrides_from_file(args.config)
        config = TrainConfig.from_file(args.config)
        given |= set(overrides)
    for flag, key in FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            setattr(config, key, value)
            given.add(key)
    if args.seed is not None:
        config.seed = args.seed
        given.add("seed")
    if args.no_progress:
        config.progress = False
    return config.validate(), given


def train_command(args: argparse.Namespace) -> int:
    set_torch_threads(args.threads)
    from neural import checkpoint
    from neural.train import train

    corpus = corpus_from_args(args)
    config, given = train_config_from_args(args)
    out = Path(args.out)
    if args.restart and out.exists():
        if not checkpoint.has_checkpoint(out):
            from isa.base import SynthError

            raise SynthError(f"--restart: {out} holds no training run (not removing it)")
        shutil.rmtree(out)
    if checkpoint.has_checkpoint(out) and "max_steps" in given:
        done = int(checkpoint.read_config(checkpoint.resolve(out))["state"].get("step", 0))
        if config.max_steps <= done:
            sys.stderr.write(f"synth: {out} is already at step {done} (--max-steps {config.max_steps}): nothing to do\n")
    result = train(config, corpus, out, resume=True if args.resume else None, given=given)
    sys.stderr.write(f"synth: {'exact' if result.exact else 'not exact'} after {result.steps} steps; checkpoint {result.checkpoint}\n")
    print_json(result.summary())
    return 1 if config.until_exact and not result.exact else 0
