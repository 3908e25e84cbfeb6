"""``synth experiment``: the paper's experiments (``memorize``, Experiment 1; ``sst2``,
Experiments 2 and 3) and ``describe`` (programs from descriptions, beyond the paper)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import add_threads, machine_line, nonneg_int, print_json, set_torch_threads
from isa.base import SynthError
from isa.registry import static_isas


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("experiment", help="the paper's experiments", description="Run one of the paper's experiments.")
    ex = p.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    ex.required = True
    m = ex.add_parser(
        "memorize",
        help="Experiment 1: steps until N random programs are memorised (Table 1)",
        description="Train on N random subleq programs of --length rows (each named by its own token) until every "
        "field of every row is right, for each N and seed; report mean ± sample std of the steps beside the paper's "
        "Table 1. Writes OUT/memorize.md and OUT/memorize.json. Every finished run is recorded in OUT/trials.jsonl; "
        "the same command again reuses the runs recorded there (an interrupted experiment resumes at the run it was in).",
    )
    m.add_argument("--programs", default="16,32,64,128", metavar="N,N,...", help="numbers of programs (default 16,32,64,128)")
    m.add_argument("--length", type=nonneg_int, default=256, metavar="L", help="rows per program (default 256)")
    m.add_argument("--seeds", type=nonneg_int, default=5, metavar="S", help="how many seeds (default 5)")
    m.add_argument("--first-seed", type=nonneg_int, default=0, metavar="F",
                   help="seeds F .. F+S-1 (default 0; 5 with --seeds 5 gives seeds the recipe was not tuned on)")
    m.add_argument("--max-steps", type=nonneg_int, default=20_000, metavar="N", help="give up on a run after N steps")
    m.add_argument("--check-every", type=nonneg_int, default=25, metavar="N", help="check every row this often (<= 25)")
    m.add_argument("--progress", action="store_true", help="a progress bar per run")
    _common_arguments(m, "memorize", "the table goes")
    m.set_defaults(func=memorize_command)
    _add_width(ex)
    _add_sst2(ex)
    _add_describe(ex)


def _common_arguments(p: argparse.ArgumentParser, name: str, what: str) -> None:
    """The arguments every experiment takes: device, recipe file, output, JSON, restart, threads."""
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--config", metavar="FILE", help="override the recipe with a TrainConfig YAML/TOML")
    p.add_argument("--out", default=f"runs/{name}", metavar="DIR", help=f"where {what} (default runs/{name})")
    p.add_argument("--json", action="store_true", help="end with a JSON list of the rows")
    p.add_argument("--restart", action="store_true", help="discard the runs recorded in OUT/trials.jsonl")
    add_threads(p)


def _programs(text: str, length: int) -> list[int]:
    from neural.corpus import check_fits_memory

    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SynthError(f"--programs {text!r}: expected numbers separated by commas (such as 16,32,64)") from None
    if not values or any(v < 1 for v in values):
        raise SynthError("--programs needs positive numbers")
    for v in values:
        check_fits_memory(v, max(1, length))
    return values


def memorize_command(args: argparse.Namespace) -> int:
    set_torch_threads(args.threads)
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
    machine = machine_line(args.device)

    def report(trial: memorize.Trial) -> None:
        steps = trial.steps if trial.steps is not None else f"not exact in {args.max_steps}"
        reused = f" (recorded in {args.out}/{memorize.TRIALS})" if trial.reused else ""
        sys.stderr.write(f"synth: N={trial.programs} seed={trial.seed}: {steps} steps, {trial.seconds:.1f} s{reused}\n")

    programs = _programs(args.programs, args.length)
    if args.restart:
        memorize.discard_trials(args.out)
    rows = memorize.run(programs, args.length, args.seeds, config, on_trial=report, out=args.out, first_seed=args.first_seed)
    if not memorize.is_main():  # under torchrun: rank 0 writes the tables
        return 0
    memorize.write(rows, args.out, config, machine, args.command_line)
    sys.stdout.write(memorize.markdown(rows, machine))
    if args.json:
        print_json([r.public() for r in rows])
    return 0


def _add_width(ex: argparse._SubParsersAction) -> None:
    w = ex.add_parser(
        "width",
        help="the smallest backbone width that still memorises N random programs, beside Theorem 1's bound",
        description="For each N, run Experiment 1 (the memorize recipe, intermediate size 4 W) at each width W from the "
        "widest down, stopping at the first width where a seed is not exact within --max-steps; report the smallest "
        "exact width and its parameter count beside the paper's Theorem 1 bound O(k n + n N). Writes OUT/width.json and "
        "OUT/width.png; each width's trials are recorded in OUT/wW/trials.jsonl and reused (resumable).",
    )
    w.add_argument("--programs", default="16,32,64", metavar="N,N,...", help="numbers of programs (default 16,32,64)")
    w.add_argument("--length", type=nonneg_int, default=256, metavar="L", help="rows per program (default 256)")
    w.add_argument("--widths", default="256,128,64,32", metavar="W,W,...", help="hidden widths, multiples of 4 (default 256,128,64,32)")
    w.add_argument("--seeds", type=nonneg_int, default=1, metavar="S", help="seeds per (N, W) (default 1)")
    w.add_argument("--max-steps", type=nonneg_int, default=20_000, metavar="N", help="a width fails when a run is not exact in N steps")
    w.add_argument("--reuse", metavar="DIR,DIR", help="directories of synth experiment memorize records: their exact runs "
                   "under a width's recipe (step cap aside) within --max-steps count as that width's runs, copied with "
                   "their source instead of trained again")
    w.add_argument("--skip-failed", action="store_true", help="do not try a width for N programs once it was not exact "
                   "for fewer programs of the same length (assumed: more programs are harder within the same steps)")
    _common_arguments(w, "width", "the table, plot and records go")
    w.set_defaults(func=width_command)


def width_command(args: argparse.Namespace) -> int:
    set_torch_threads(args.threads)
    from neural.experiments import memorize, width
    from neural.train import pick_device

    pick_device(args.device)
    try:
        widths = tuple(int(v) for v in _names(args.widths))
    except ValueError:
        raise SynthError(f"--widths {args.widths!r}: expected numbers separated by commas (such as 256,128,64)") from None
    config = width.WidthConfig(programs=tuple(_programs(args.programs, args.length)), length=args.length, widths=widths,
                               seeds=args.seeds, max_steps=args.max_steps, device=args.device,
                               reuse=tuple(_names(args.reuse)) if args.reuse else (), skip_failed=args.skip_failed,
                               overrides=_overrides(args.config, ("seed", "device", "max_steps", "hidden_size",
                                                                  "intermediate_size", "num_heads"))).validate()
    if args.restart:
        for w in config.widths:
            memorize.discard_trials(Path(args.out) / f"w{w}")
    result = width.run(config, args.out, say=lambda line: sys.stderr.write(line + "\n"))
    if not memorize.is_main():
        return 0
    width.write(result, args.out, machine_line(args.device), args.command_line)
    sys.stdout.write(width.markdown(result))
    if args.json:
        print_json(width.summary(result))
    return 0


def _add_sst2(ex: argparse._SubParsersAction) -> None:
    s = ex.add_parser(
        "sst2",
        help="Experiments 2 and 3: SST-2 as a BERT classifier, a soft-instruction and a soft-imperative program",
        description="Train and validate, for each task and seed, a BERT classifier (baseline), the Synthesizer on "
        "'Classify this input: {text}' -> subleq(&(-class), &label, 0) (soft-instruction), and the Synthesizer on 'As long "
        "as the input text is positive run {program} [SEP] {text}' -> the program's row or the halt tuple "
        "(soft-imperative), one recipe for all three; then perform every dev sentence through each Synthesizer. Writes "
        "OUT/sst2.md, OUT/sst2.json and OUT/sst2.png (the paper's Figure 3), keeps each model under "
        "OUT/models/TASK-seedS/ (and, self-pretrained, the seed's masked-word pass under OUT/models/mlm-seedS/), "
        "records each finished trial in OUT/trials.jsonl and resumes from there (an unfinished trial resumes from its "
        "last saved step).",
    )
    s.add_argument("--task", default="all", metavar="TASK",
                   help="baseline, soft-instruction, soft-imperative, all, or a comma-separated list (default all)")
    s.add_argument("--seeds", type=nonneg_int, default=5, metavar="N", help="seeds 0 .. N-1 (default 5)")
    s.add_argument("--data", metavar="DIR", help="a GLUE-format SST-2 directory (train.tsv, dev.tsv), or 'hub' for the "
                   "datasets library (default ../shared/data/sst2 when it exists)")
    s.add_argument("--epochs", type=float, default=2.0, metavar="E", help="passes over the training sentences (default 2)")
    s.add_argument("--max-train", type=nonneg_int, metavar="M", help="train on the first M training sentences only")
    s.add_argument("--backbone", choices=("scratch", "pretrained", "self-pretrained"), default="scratch",
                   help="BERT from scratch (the paper's), the packaged pretrained encoder, or BERT from scratch that "
                   "first learns to fill in masked words of the training sentences, without their labels and without "
                   "outside text (self-pretrained; one such pass a seed, shared by its tasks) (default scratch)")
    s.add_argument("--mlm-epochs", type=float, metavar="E",
                   help="self-pretrained only: passes of the masked-word pass over the training sentences (default 3)")
    s.add_argument("--mlm-shift", type=nonneg_int, metavar="N",
                   help="self-pretrained only: the pass reads each sentence's words from a random position 1 .. 1+N, as "
                   "the Synthesizer's prompts place them (default 0: from 1, as the classifier does)")
    s.add_argument("--mlm-type1", type=float, metavar="P",
                   help="self-pretrained only: the share of sentences the pass reads as token type 1, the type of a "
                   "Synthesizer description (default 0)")
    s.add_argument("--mlm-seed", type=nonneg_int, metavar="S",
                   help="self-pretrained only: one masked-word pass, made with seed S, shared by every seed's tasks "
                   "(as the packaged encoder is one for all seeds; default: each seed makes its own)")
    s.add_argument("--head-lr-scale", type=float, metavar="X",
                   help="the heads' (the classifier's) learning rate is the recipe's times X, for all three tasks "
                   "(default 1 from scratch, 20 on the pretrained encoder)")
    s.add_argument("--new-tokens", choices=("spread", "mean"), default="spread",
                   help="pretrained and self-pretrained: the tokens added to its vocabulary ([C:t], program tokens) start as distinct "
                   "vectors drawn like its own (spread), or all as one, their mean (mean: transformers' resize; "
                   "the first pretrained records) (default spread)")
    s.add_argument("--ema", type=_ema, default=0.999, metavar="D",
                   help="validate and keep an exponential moving average of the weights with decay D (0 < D < 1), or "
                   "'none' for the weights themselves (default 0.999)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    _common_arguments(s, "sst2", "tables, models and records go")
    s.set_defaults(func=sst2_command)


def _ema(text: str) -> float | None:
    """--ema: a decay in (0, 1), or none."""
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decay (a number between 0 and 1) or none") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: the decay must be between 0 and 1 (exclusive), or none")
    return value


def sst2_command(args: argparse.Namespace) -> int:
    set_torch_threads(args.threads)
    from neural.experiments import sst2, sst2_data, trials
    from neural.experiments.soft_programs import TASKS
    from neural.mlm import MLMConfig

    tasks = TASKS if args.task == "all" else tuple(t.strip() for t in args.task.split(",") if t.strip())
    overrides = _overrides(args.config, ("seed", "device", "progress", "max_steps", "warmup_steps", "backbone"))
    config = sst2.SST2Config(tasks=tasks, seeds=args.seeds, epochs=args.epochs, max_train=args.max_train,
                             backbone=args.backbone, device=args.device, progress=not args.no_progress,
                             head_lr_scale=args.head_lr_scale, new_tokens=args.new_tokens, recipe=sst2.recipe(args.backbone, **overrides),
                             mlm=MLMConfig(**({} if args.mlm_epochs is None else {"epochs": args.mlm_epochs}),
                                           shift=args.mlm_shift or 0, type1=args.mlm_type1 or 0.0),
                             mlm_seed=args.mlm_seed, ema=args.ema)
    if args.backbone != "self-pretrained":
        for flag, value in (("--mlm-epochs", args.mlm_epochs), ("--mlm-shift", args.mlm_shift), ("--mlm-type1", args.mlm_type1)):
            if value is not None:
                raise SynthError(f"{flag} is for --backbone self-pretrained")
    config.validate()
    data = sst2_data.load(args.data).limited(args.max_train)
    if args.restart:
        trials.discard(args.out)
        sst2.discard_self_pretraining(args.out)
    records = sst2.run(config, data, args.out, say=lambda line: sys.stderr.write(line + "\n"))
    machine = machine_line(args.device)
    sst2.write(records, args.out, config, machine, args.command_line,
               data.source)
    sys.stdout.write(sst2.markdown(sst2.summarise(records), machine))
    if args.json:
        print_json([sst2.public(r) for r in sst2.summarise(records)])
    return 0


def _add_describe(ex: argparse._SubParsersAction) -> None:
    d = ex.add_parser(
        "describe",
        help="programs from descriptions: unseen paraphrases by program-grouped folds, off-topic texts, baselines",
        description="Deal every example program's paraphrases (its .desc lines and the new ones of --paraphrases) into "
        "--folds program-grouped folds; for each ISA, backbone and fold, train a Synthesizer (description read-out, "
        "encoder fitted and refusal threshold calibrated) on the other folds until exact, and ask it every held-out "
        "paraphrase and every off-topic text as synth exec --desc does: right program runs, top-1, off-topic refused, "
        "accepted runs wrong; beside a word-overlap and a sentence-embedding nearest-neighbour baseline. Writes "
        "OUT/describe.md and OUT/describe.json; every finished fold is recorded in OUT/trials.jsonl and reused.",
    )
    d.add_argument("--isa", default=",".join(static_isas()), metavar="ISA,ISA",
                   help=f"ISAs (default: those with static code, {','.join(static_isas())})")
    d.add_argument("--backbone", default="scratch,pretrained", metavar="B,B",
                   help="scratch (BERT from scratch) and/or pretrained (the packaged encoder) (default both)")
    d.add_argument("--folds", type=nonneg_int, default=5, metavar="K", help="folds (default 5)")
    d.add_argument("--seed", type=nonneg_int, default=0, metavar="S", help="deals the folds, initialises the networks (default 0)")
    d.add_argument("--programs", metavar="NAME,NAME,...", help="only these examples (default: all)")
    d.add_argument("--examples", default="examples", metavar="DIR", help="the .sasm programs (default examples)")
    d.add_argument("--paraphrases", metavar="FILE", help="more paraphrases: a JSON object, program -> list of strings "
                   "(default: heldout_paraphrases.json in --examples, if there)")
    d.add_argument("--off-topic", metavar="FILE", help="texts that mean no program, one a line (default: off_topic.txt in --examples)")
    d.add_argument("--background", metavar="FILE", help="texts that mean no program, one a line, for the encoder fit and "
                   "the calibration (never the off-topic test texts; default: background.txt in --examples, if there)")
    d.add_argument("--no-background", action="store_true", help="fit and calibrate without background texts")
    d.add_argument("--no-baselines", action="store_true", help="skip the word-overlap and embedding baselines")
    d.add_argument("--no-comments", action="store_true",
                   help="do not add each source file's leading comment as a training description")
    d.add_argument("--final", action="store_true", help="also train each ISA and backbone on every paraphrase (OUT/models/ISA-BACKBONE)")
    d.add_argument("--progress", action="store_true", help="training progress bars")
    _common_arguments(d, "describe", "tables, records and models go")
    d.set_defaults(func=describe_command)


def describe_command(args: argparse.Namespace) -> int:
    set_torch_threads(args.threads)
    from neural.experiments import describe, trials
    from neural.train import pick_device

    pick_device(args.device)
    overrides = _overrides(args.config, ("backbone", "seed", "device", "progress"))
    examples = Path(args.examples)
    paraphrases = args.paraphrases or (str(examples / "heldout_paraphrases.json") if (examples / "heldout_paraphrases.json").is_file() else None)
    background = None if args.no_background else (
        args.background or (str(examples / "background.txt") if (examples / "background.txt").is_file() else None))
    config = describe.DescribeConfig(
        isas=_names(args.isa), backbones=_names(args.backbone), folds=args.folds, seed=args.seed, examples=args.examples,
        paraphrases=paraphrases, off_topic=args.off_topic or str(examples / "off_topic.txt"), background=background,
        programs=_names(args.programs) if args.programs else None, baselines=not args.no_baselines, final=args.final,
        comments=not args.no_comments,
        device=args.device, progress=args.progress, overrides=overrides,
    ).validate()
    if args.restart:
        trials.discard(args.out)
    records = describe.run(config, args.out, say=lambda line: sys.stderr.write(line + "\n"))
    rows = describe.write(records, args.out, config, machine_line(args.device), args.command_line)
    sys.stdout.write(describe.markdown(rows))
    if args.json:
        print_json(rows)
    return 0


def _overrides(path: str | None, set_by_the_command: tuple[str, ...]) -> dict:
    """The settings a --config file gives, less those the command itself decides."""
    if not path:
        return {}
    from neural.config import TrainConfig

    return {k: v for k, v in TrainConfig.overrides_from_file(path).items() if k not in set_by_the_command}


def _names(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())
