"""``synth demo``: the whole pipeline in one command, on the CPU, in under 3 minutes.

1. compile the bundled example library (examples/*.sasm) for an ISA with static code;
2. train a small Synthesizer on it (each program described by its first ``.desc``
   paraphrases, two by default) until every instruction of every program is exact;
3. perform each program through the network, from its first description, on each of its
   ``.test`` inputs: at every step the network gives the instruction at C_t and the ISA's
   step performs it on the data memory (the paper's inference);
4. print a table: program, description, test, neural result, reference result, match.

By default it uses the feed-forward backbone (the BERT backbone memorises the same
corpus too, but takes minutes on two CPU cores) and the ``ext`` ISA, whose programs are
about a third as long as subleq's. Predictions are memoised per (description, C_t): the
network is deterministic, so the runs are exactly what consulting it at every step gives.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from isa.base import SynthError
from isa.convention import initial_data, read_outputs
from isa.program import Program
from neural.config import TrainConfig
from neural.corpus import Corpus
from neural.execute import Job, MemoPredictor, NetworkPredictor, perform_many
from neural.train import train
from runtime.run import run_program


@dataclass
class DemoConfig:
    isa: str = "ext"
    backbone: str = "mlp"
    examples: str | None = None  # a directory of .sasm files (default: the bundled examples/)
    programs: list[str] | None = None  # names (file stems) to use; None: all that compile for the ISA
    max_train_steps: int = 3000
    descriptions: int = 2  # train on each program's first N .desc lines (0: all of them; the runs use the first)
    max_steps: int = 2_000_000  # per run, on top of each test's own .maxsteps
    seed: int = 0
    device: str = "cpu"
    out: str | None = None  # keep the checkpoint here (default: a temporary directory)


@dataclass
class DemoRow:
    program: str
    description: str
    test: str
    neural: dict[str, list[int]]
    reference: dict[str, list[int]]
    neural_status: str
    reference_status: str
    steps: int
    match: bool


@dataclass
class DemoReport:
    isa: str
    backbone: str
    programs: list[str]
    skipped: list[tuple[str, str]]
    train_steps: int
    exact: bool
    train_seconds: float
    rows: list[DemoRow] = field(default_factory=list)
    network_rows: int = 0  # distinct (description, C_t) the network was asked for
    seconds: float = 0.0
    instructions: int = 0  # rows of all the programs
    descriptions: int = 0  # descriptions trained on, all programs together

    def summary(self) -> dict:
        """The report as a small JSON object (``synth demo --record``): no per-run memories."""
        failed = sorted(f"{r.program}/{r.test}" for r in self.rows if not r.match)
        programs_failed = {r.program for r in self.rows if not r.match}
        return {"isa": self.isa, "backbone": self.backbone, "programs": len(self.programs), "skipped": [n for n, _ in self.skipped],
                "instructions": self.instructions, "descriptions": self.descriptions, "train_steps": self.train_steps,
                "exact": self.exact, "train_seconds": round(self.train_seconds, 1), "runs": len(self.rows),
                "matched": self.matched, "programs_matched": len({r.program for r in self.rows} - programs_failed),
                "failed": failed, "network_rows": self.network_rows, "seconds": round(self.seconds, 1)}

    @property
    def matched(self) -> int:
        return sum(r.match for r in self.rows)


def examples_dir() -> Path:
    """The bundled example library: examples/ beside the packages in a source checkout."""
    return Path(__file__).resolve().parent.parent / "examples"


def compile_examples(config: DemoConfig) -> tuple[list[Program], list[tuple[str, str]]]:
    from compiler import compile_file
    from compiler.diagnostics import CompileError

    directory = Path(config.examples) if config.examples else examples_dir()
    paths = sorted(directory.glob("*.sasm"))
    if not paths:
        raise SynthError(f"no example programs (*.sasm) in {directory} (give --examples DIR)")
    wanted = set(config.programs or [])
    unknown = wanted - {p.stem for p in paths}
    if unknown:
        raise SynthError(f"no such example: {', '.join(sorted(unknown))} (in {directory})")
    programs, skipped = [], []
    for path in paths:
        if wanted and path.stem not in wanted:
            continue
        try:
            program = compile_file(path, isa=config.isa)
        except CompileError as e:
            if not e.target_specific:
                raise
            skipped.append((path.stem, e.message))
            continue
        program.name = path.stem
        if config.descriptions:
            program.descriptions = program.descriptions[: config.descriptions]
        programs.append(program)
    if not programs:
        raise SynthError(f"none of the examples compile for {config.isa}")
    return programs, skipped


def run_demo(config: DemoConfig, log: TextIO = sys.stderr) -> DemoReport:
    t0 = time.perf_counter()
    programs, skipped = compile_examples(config)
    corpus = Corpus(isa=config.isa, programs=programs)
    rows = sum(p.n for p in programs) * 1
    log.write(f"compiled {len(programs)} example programs for {config.isa} ({rows} instructions, "
              f"{sum(len(p.descriptions) for p in programs)} descriptions)"
              + (f"; skipped {len(skipped)} that need what {config.isa} lacks" if skipped else "") + "\n")
    tc = TrainConfig(backbone=config.backbone, until_exact=True, max_steps=config.max_train_steps, seed=config.seed,
                     device=config.device)
    with tempfile.TemporaryDirectory(prefix="synth-demo-") as tmp:
        out = config.out or tmp
        log.write(f"training a {config.backbone} Synthesizer until every instruction is exact ...\n")
        result = train(tc, corpus, out, resume=False if config.out is None else None)
    log.write(f"trained: {result.steps} steps, {result.seconds:.1f} s, instruction accuracy "
              f"{result.instruction_accuracy:.4f}{'' if result.exact else ' (NOT exact)'}\n")
    predictor = MemoPredictor(NetworkPredictor(result.model, result.tokenizer, config.device))
    jobs, cases = [], []
    for program in programs:
        description = program.descriptions[0] if program.descriptions else f"[prog:{program.name}]"
        for test in program.tests:
            data = initial_data(program, test.set)
            jobs.append(Job(program, description, data))
            cases.append((program, description, test, data))
    log.write(f"performing {len(jobs)} test runs through the network ...\n")
    budget = max([t.max_steps for _, _, t, _ in cases] + [0])
    runs = perform_many(predictor, jobs, min(budget, config.max_steps))
    report = DemoReport(config.isa, config.backbone, [p.name for p in programs], skipped, result.steps, result.exact,
                        result.seconds, network_rows=predictor.calls)
    for (program, description, test, data), run in zip(cases, runs, strict=True):
        limit = min(test.max_steps, config.max_steps)
        reference = run_program(program, data, max_steps=limit)
        neural = run.result
        same = (neural.status == reference.status and neural.steps == reference.steps
                and np.array_equal(neural.data, reference.data))
        report.rows.append(DemoRow(
            program.name, description, test.name, read_outputs(program, neural.data), read_outputs(program, reference.data),
            neural.status.label, reference.status.label, neural.steps, same))
    report.seconds = time.perf_counter() - t0
    report.instructions = sum(p.n for p in programs)
    report.descriptions = sum(len(p.descriptions) for p in programs)
    return report


def format_report(report: DemoReport, width: int = 36) -> str:
    def short(text: str, n: int) -> str:
        return text if len(text) <= n else text[: n - 1] + "…"

    def outputs(values: dict[str, list[int]], status: str) -> str:
        text = " ".join(f"{k}={','.join(map(str, v))}" for k, v in values.items())
        return text if status == "halted" else f"{text} [{status}]"

    header = ("program", "description", "test", "neural", "reference", "match")
    table = [header] + [
        (r.program, short(r.description, width), short(r.test, 22), short(outputs(r.neural, r.neural_status), 24),
         short(outputs(r.reference, r.reference_status), 24), "yes" if r.match else "NO")
        for r in report.rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    backbone = "feed-forward (mlp)" if report.backbone == "mlp" else report.backbone
    lines += [
        "",
        f"{len(report.programs)} example programs compiled for {report.isa}"
        + (f" ({len(report.skipped)} skipped: {', '.join(n for n, _ in report.skipped)})" if report.skipped else "")
        + f"; a {backbone} Synthesizer trained for {report.train_steps} steps ({report.train_seconds:.1f} s), "
        + ("every instruction exact." if report.exact else "NOT every instruction exact."),
        f"{report.matched} of {len(report.rows)} test runs performed through the network (each from the program's "
        f"first description; the network gave every instruction, {report.network_rows} distinct ones asked) "
        f"match the reference run exactly: same outputs, memory, steps and status.",
        f"total {report.seconds:.1f} s",
    ]
    return "\n".join(lines)
