"""Experiment 1: arbitrary program memorisation (the paper's Table 1), made exact.

For N random subleq programs of 256 rows (spec/neural.md; ``neural.corpus.random_corpus``),
each described by its own special token, a Synthesizer is trained on all 256 N rows with
batch size floor(256 N / 20) until every field of every row is right under argmax. The
accuracy is checked on all rows every ``check_every`` (<= 25) steps; the steps counted
are those up to the first check that passes. Reported: mean and sample standard deviation
(ddof = 1) over the seeds, and the mean wall time of a run, beside the paper's numbers.

Seed s generates the programs (``random_corpus(N, 256, s)``) and initialises the network.
The recipe is ``recipe()``: the paper's BERT size with our optimiser settings.

Given an output directory, every finished run is appended to ``OUT/trials.jsonl`` with the
recipe it used, and a later run of the same experiment into the same directory takes the
runs recorded there instead of training them again: an interrupted experiment resumes at
the run it was in.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from isa.base import SynthError
from neural.corpus import random_corpus
from neural.experiments import trials
from neural.train import TrainConfig, default_batch_size, train

TRIALS = trials.TRIALS

# The paper's Table 1: programs -> (steps mean, steps std, batch size as printed).
PAPER = {16: (1030, 74, 204), 32: (1366, 95, 409), 64: (1907, 153, 819), 128: (2991, 72, 1632)}


def recipe(**overrides: Any) -> TrainConfig:
    """Our recipe for Experiment 1: TrainConfig's defaults (the paper's BERT size, no
    dropout, init std 0.05, unit-variance token embeddings, AdamW lr 2e-3 with betas
    (0.9, 0.98), 50 warm-up steps, inverse-square-root decay, a tenth of the lr once 99% of
    the rows are right). docs/neural.md says how it was chosen."""
    return TrainConfig(eval_every=25, max_steps=20_000, until_exact=True, progress=False).with_settings(**overrides)


@dataclass
class Trial:
    programs: int
    seed: int
    steps: int | None  # None: not exact within max_steps
    seconds: float
    reused: bool = False  # taken from OUT/trials.jsonl rather than trained in this run
    parameters: int | None = None  # the network's parameter count
    peak_memory_mb: float | None = None  # CUDA: the trial's peak allocated; CPU: the process's peak resident set so far


@dataclass
class Row:
    programs: int
    length: int
    batch_size: int
    steps_mean: float | None
    steps_std: float | None
    seconds_mean: float
    trials: list[Trial] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """The keys of ``synth experiment memorize --json``."""
        return {"programs": self.programs, "length": self.length, "batch_size": self.batch_size,
                "steps_mean": self.steps_mean, "steps_std": self.steps_std, "seconds_mean": self.seconds_mean}


def run_trial(programs: int, length: int, seed: int, config: TrainConfig, partial: Path | None = None) -> Trial:
    """One (N, seed) run. With ``partial``, the run checkpoints there (every save_every
    steps, and on Ctrl-C) and resumes from a checkpoint it finds there; the directory is
    removed once the run is over."""
    corpus = random_corpus(programs, length, seed)
    config = TrainConfig(**{**asdict(config), "seed": seed}).validate()
    config.batch_size = default_batch_size(programs * length)
    if config.eval_every > 25:
        raise SynthError("Experiment 1 checks the accuracy at least every 25 steps (eval_every <= 25)")
    cuda = config.device == "cuda"
    if cuda:
        import torch

        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    result = train(config, corpus, partial)
    seconds = result.seconds if partial is not None else time.perf_counter() - t0  # summed over interrupted sessions
    if partial is not None:
        shutil.rmtree(partial, ignore_errors=True)
    parameters = sum(p.numel() for p in result.model.parameters())
    return Trial(programs, seed, result.exact_at, round(seconds, 2), parameters=parameters, peak_memory_mb=_peak_memory_mb(cuda))


def _peak_memory_mb(cuda: bool) -> float:
    if cuda:
        import torch

        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def run(
    programs: list[int],
    length: int = 256,
    seeds: int = 5,
    config: TrainConfig | None = None,
    on_trial: Callable[[Trial], None] | None = None,
    out: str | Path | None = None,
    first_seed: int = 0,
) -> list[Row]:
    """Every (N, seed) trial for seeds ``first_seed`` .. ``first_seed + seeds - 1``, one after
    the other; one Row per N. With ``out``, the trials recorded in ``out/trials.jsonl`` under
    the same recipe are reused and new ones are recorded there as they finish."""
    if seeds < 1:
        raise SynthError("--seeds must be at least 1")
    if first_seed < 0:
        raise SynthError("--first-seed must be at least 0")
    config = config or recipe()
    done = load_trials(out, config) if out is not None else {}
    rows = []
    for n in programs:
        trials = []
        for seed in range(first_seed, first_seed + seeds):
            trial = done.get((n, length, seed))
            if trial is None:
                partial = Path(out) / "partial" / f"N{n}-L{length}-seed{seed}" if out is not None else None
                trial = run_trial(n, length, seed, config, partial)
                if out is not None and is_main():
                    record_trial(out, trial, length, config)
            trials.append(trial)
            if on_trial is not None:
                on_trial(trial)
        rows.append(summarise(n, length, trials))
    return rows


def is_main() -> bool:
    """Rank 0 under torchrun / accelerate launch (or the only process): the one that writes."""
    return int(os.environ.get("RANK", "0")) == 0


def recipe_key(config: TrainConfig) -> dict[str, Any]:
    """What makes two trials comparable: the recipe less the seed (each trial's own) and
    the progress bar."""
    key = config.to_json()
    key.pop("seed", None)
    key.pop("progress", None)
    return json.loads(json.dumps(key))


def load_trials(out: str | Path, config: TrainConfig) -> dict[tuple[int, int, int], Trial]:
    """(programs, length, seed) -> Trial, from ``out/trials.jsonl`` (neural/experiments/trials.py)."""
    done = {}
    for obj in trials.load(out, recipe_key(config)):
        try:
            steps = obj["steps"]
            trial = Trial(int(obj["programs"]), int(obj["seed"]), None if steps is None else int(steps),
                          float(obj["seconds"]), reused=True, parameters=obj.get("parameters"),
                          peak_memory_mb=obj.get("peak_memory_mb"))
            done[(trial.programs, int(obj["length"]), trial.seed)] = trial
        except (KeyError, TypeError, ValueError):
            raise trials.malformed(out, obj) from None
    return done


def record_trial(out: str | Path, trial: Trial, length: int, config: TrainConfig) -> None:
    """Append one finished trial to ``out/trials.jsonl`` and make it durable."""
    trials.record(out, {"programs": trial.programs, "length": length, "seed": trial.seed, "steps": trial.steps,
                        "seconds": trial.seconds, "parameters": trial.parameters, "peak_memory_mb": trial.peak_memory_mb},
                  recipe_key(config))


def discard_trials(out: str | Path) -> None:
    """Forget the runs recorded in ``out/trials.jsonl`` (``--restart``)."""
    trials.discard(out)


def summarise(programs: int, length: int, trials: list[Trial]) -> Row:
    steps = [t.steps for t in trials]
    done = all(s is not None for s in steps)
    mean = round(statistics.fmean(steps), 1) if done else None
    std = round(statistics.stdev(steps), 1) if done and len(steps) > 1 else (0.0 if done else None)
    return Row(programs, length, default_batch_size(programs * length), mean, std,
               round(statistics.fmean(t.seconds for t in trials), 2), trials)


def markdown(rows: list[Row], machine: str = "") -> str:
    lines = [
        "| programs | length | batch size (ours / paper) | steps to 100% (ours) | per seed | steps (paper) | ours / paper | seconds per run |",
        "| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        paper = PAPER.get(r.programs) if r.length == 256 else None
        ours = f"{r.steps_mean:.0f} ± {r.steps_std:.0f}" if r.steps_mean is not None else "not exact"
        per_seed = ", ".join("-" if t.steps is None else str(t.steps) for t in r.trials)
        paper_text = f"{paper[0]} ± {paper[1]}" if paper else "-"
        ratio = f"{r.steps_mean / paper[0]:.2f}" if paper and r.steps_mean is not None else "-"
        batch = f"{r.batch_size} / {paper[2]}" if paper else str(r.batch_size)
        lines.append(f"| {r.programs} | {r.length} | {batch} | {ours} | {per_seed} | {paper_text} | {ratio} | {r.seconds_mean:.1f} |")
    notes = ["", "Mean ± sample standard deviation (ddof = 1) over the seeds. Batch size floor(rows / 20), "
             "rows = N × length: 1638 for N = 128 of length 256, where the paper prints 1632."]
    if machine:
        notes.append(f"Machine: {machine}.")
    return "\n".join(lines + notes) + "\n"


def write(rows: list[Row], out: str | Path, config: TrainConfig, machine: str = "", command: str = "") -> None:
    from isa.files import make_directory, write_atomic

    out = Path(out)
    make_directory(out)
    write_atomic(out / "memorize.md", markdown(rows, machine))
    obj = {"experiment": "memorize", "machine": machine, "command": command, "date": time.strftime("%Y-%m-%d"),
           "recipe": config.to_json(),
           "paper": {str(k): {"steps_mean": v[0], "steps_std": v[1], "batch_size": v[2]} for k, v in PAPER.items()},
           "rows": [asdict(r) for r in rows]}
    write_atomic(out / "memorize.json", json.dumps(obj, indent=1) + "\n")
