"""Programs from descriptions (beyond the paper): the example library, learned from its
paraphrases, then asked with descriptions it was trained on and with ones it never saw.

For each ISA with static code (``subleq``, ``ext``) the example programs that compile for
it are the corpus. A Synthesizer is trained until every row is exact (``until_exact``,
with a step cap) on every program's ``.desc`` paraphrases **except one held out per
program** (by default the last). Then, on every program's ``.test`` inputs, with stepwise
neural execution (``perform_many``: the network is asked for the instruction at every
step, the ISA's step performs it):

(a) **seen**: every program is performed from each of its training descriptions on each
    of its tests; a run *matches* when it is the reference run (``first_divergence is
    None``: the same (pc, address, value) at every step and the same end).
(b) **unseen**: two sets of paraphrases the network never saw in training:
    ``heldout_desc``, the held-out ``.desc`` of every program, and ``new``, paraphrases
    written for this experiment (``examples/heldout_paraphrases.json``: program name ->
    list of strings, two per program). Each is asked the way ``synth exec --desc TEXT
    --program NAME`` asks: the network reads TEXT, the run uses NAME's memory image. The
    *right program runs* for a paraphrase when, on every one of NAME's tests, the neural
    run halts with the test's expected outputs (``tests_passed``; the stricter
    ``traces_matched`` also requires every run to be the reference run step for step).
    The retrieval view: ``closest_program`` (the stored program whose code the network's
    extracted program matches in the most rows) is NAME: top-1 identification, against a
    chance level of 1 / (number of programs). Two more top-1 measures are reported beside
    it: ``closest_by_share`` (the largest share of a program's rows: ``closest_program``
    favours long programs and misses short ones even for training descriptions) and
    ``closest_by_words``, a baseline without the network (the program whose training
    description shares the most words with the text).

Optionally (``full=True``, an extra row, labelled as such) a second model is trained on
*every* ``.desc`` paraphrase (one more training paraphrase per program) and asked (a) and
the ``new`` set again.

A neural run is given ``2 x (the reference run's steps) + 100`` steps (at most the test's
``.maxsteps``): a run that takes more than the reference is not the reference run, and a
wrong program that loops would otherwise run to the test's step limit (1,000,000 Python-level
steps by default); one that has not halted by then does not pass. The network is
deterministic, so its prediction for (description, C_t) is cached within the experiment
(``neural.execute.MemoPredictor``): a run consults the cache at every step and the network only on a
miss; the runs are those of the uncached predictor (the cache changes only which batch
a prediction was computed in).

Outputs: ``OUT/describe.md`` (tables) and ``OUT/describe.json`` (the keys are listed in
``JSON_KEYS``, ``RUN_KEYS``, ``SET_KEYS`` and ``ITEM_KEYS`` below); the trained models are
kept as checkpoints under ``OUT/models/`` (``synth exec --model OUT/models/ext-mlp-holdout
--desc TEXT --program NAME`` repeats one cell).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from isa.base import Status, SynthError, wrap
from isa.program import Program, TestCase, initial_data
from neural.corpus import Corpus, check_static
from neural.execute import (
    Job,
    MemoPredictor,
    NetworkPredictor,
    closest_program,
    compare,
    extract,
    perform_many,
    rows_matching,
)
from neural.train import TrainConfig, train

ISAS = ("subleq", "ext")
VARIANTS = ("holdout", "full")
SETS = ("seen", "heldout_desc", "new")

# The documented keys of describe.json.
JSON_KEYS = ("experiment", "date", "machine", "config", "train_config", "paraphrases_file", "runs")
RUN_KEYS = ("isa", "backbone", "variant", "programs", "skipped", "chance", "training", "seconds", "sets", "items")
TRAINING_KEYS = ("rows", "steps", "exact", "instruction_accuracy", "seconds", "descriptions", "model")
SET_KEYS = ("paraphrases", "runs", "runs_matched", "runs_passed", "right_program", "right_program_rate",
            "traces_matched", "identified", "identified_rate", "identified_share", "identified_share_rate",
            "identified_words", "identified_words_rate")
ITEM_KEYS = ("set", "program", "description", "tests", "tests_passed", "tests_matched", "right_program",
             "closest", "closest_share", "closest_words", "rows_matching", "rows")


@dataclass
class DescribeConfig:
    """The settings of ``synth experiment describe``."""

    isas: tuple[str, ...] = ISAS
    backbone: str = "mlp"  # "mlp" or "bert"
    seed: int = 0  # initialises the network and orders the batches
    max_steps: int = 3000  # training stops at the first check where every row is exact, or here
    eval_every: int = 25  # check every row this often (steps)
    holdout_index: int = -1  # which .desc of each program is held out of training (-1: the last)
    examples: str = "examples"  # the directory of .sasm programs
    programs: tuple[str, ...] | None = None  # only these programs (by name); None: every example
    paraphrases: str | None = "examples/heldout_paraphrases.json"  # the new paraphrases (None: none)
    full: bool = False  # also train on every .desc and ask the seen and new sets again (an extra row)
    device: str = "cpu"
    progress: bool = False  # training progress bars on stderr
    train_overrides: dict[str, Any] = field(default_factory=dict)  # other TrainConfig settings (tests: a tiny model)

    def validate(self) -> DescribeConfig:
        for isa in self.isas:
            if isa not in ISAS:
                raise SynthError(f"--isa {isa!r}: the experiment runs on {', '.join(ISAS)} (ISAs with static code)")
        if not self.isas:
            raise SynthError("--isa: give at least one ISA")
        if self.max_steps < 1:
            raise SynthError("--max-steps must be at least 1")
        self.train_config()  # checks the backbone and the overrides
        return self

    def train_config(self) -> TrainConfig:
        """TrainConfig's defaults (the recipe) with this experiment's settings."""
        config = TrainConfig(backbone=self.backbone, seed=self.seed, max_steps=self.max_steps, eval_every=self.eval_every,
                             until_exact=True, device=self.device, progress=self.progress, save_every=10**9)
        for key, value in self.train_overrides.items():
            if not hasattr(config, key):
                raise SynthError(f"unknown training setting {key!r}")
            setattr(config, key, value)
        return config.validate()

    def to_json(self) -> dict[str, Any]:
        obj = asdict(self)
        obj["isas"] = list(self.isas)
        obj["programs"] = None if self.programs is None else list(self.programs)
        return obj


# -- the cached predictor ---------------------------------------------------------------------


# -- the corpus and the held-out split ----------------------------------------------------------


def example_programs(config: DescribeConfig, isa: str) -> tuple[list[Program], list[str]]:
    """The examples compiled for ``isa`` (named by their stems, in file order), and the
    names of those that cannot be compiled for it (e.g. ``load`` on subleq)."""
    from compiler import CompileError, compile_file

    check_static_isa(isa)
    paths = sorted(Path(config.examples).glob("*.sasm"))
    if not paths:
        raise SynthError(f"{config.examples}: no .sasm programs")
    if config.programs is not None:
        known = {p.stem for p in paths}
        unknown = [n for n in config.programs if n not in known]
        if unknown:
            raise SynthError(f"--programs: no example named {', '.join(unknown)} in {config.examples}")
        paths = [p for p in paths if p.stem in config.programs]
    programs, skipped = [], []
    for path in paths:
        try:
            program = compile_file(str(path), isa=isa)
        except CompileError as e:
            if e.target_specific:
                skipped.append(path.stem)
                continue
            raise
        program.name = path.stem
        if not program.descriptions:
            raise SynthError(f"{path}: the experiment needs .desc paraphrases")
        if not program.tests:
            raise SynthError(f"{path}: the experiment needs .test blocks")
        programs.append(program)
    if not programs:
        raise SynthError(f"no example compiles for {isa}")
    return programs, skipped


def check_static_isa(isa: str) -> None:
    from isa.registry import get_isa

    check_static(get_isa(isa))


def split(programs: list[Program], index: int) -> tuple[list[Program], dict[str, str]]:
    """Programs with one ``.desc`` held out of their training descriptions (those with a
    single description keep it), and the held-out text per program."""
    kept, held = [], {}
    for p in programs:
        descs = list(p.descriptions)
        if len(descs) < 2:
            kept.append(p)
            continue
        i = index % len(descs)
        held[p.name] = descs[i]
        kept.append(replace(p, descriptions=descs[:i] + descs[i + 1:]))
    return kept, held


def load_paraphrases(path: str | None, names: list[str]) -> dict[str, list[str]]:
    """The new paraphrases for these programs (a program missing from the file has none)."""
    if path is None:
        return {}
    from isa.program import read_text

    try:
        obj = json.loads(read_text(path, "paraphrase file"))
    except json.JSONDecodeError as e:
        raise SynthError(f"{path}:{e.lineno}:{e.colno}: malformed JSON: {e.msg}") from None
    if not isinstance(obj, dict) or not all(isinstance(v, list) and all(isinstance(s, str) and s.strip() for s in v)
                                            for v in obj.values()):
        raise SynthError(f"{path}: expected an object mapping program names to lists of non-empty strings")
    return {name: list(obj[name]) for name in names if name in obj}


# -- asking the network ---------------------------------------------------------------------------


@dataclass
class Item:
    """One description of one program, performed on every one of the program's tests."""

    set: str  # "seen", "heldout_desc" or "new"
    program: str
    description: str
    tests: int
    tests_passed: int  # runs that halted with the test's expected outputs
    tests_matched: int  # runs identical to the reference run (first_divergence is None)
    right_program: bool  # every test passed
    closest: str  # closest_program's answer (top-1 identification)
    closest_share: str  # the program the most of whose rows the network gives (``closest_by_share``)
    closest_words: str  # a baseline without the network: the training description sharing the most words (``closest_by_words``)
    rows_matching: int  # rows of the network's program for the description equal to the program's
    rows: int  # the program's rows


def step_budget(reference_steps: int, limit: int) -> int:
    """A neural run's step limit: twice the reference run's steps plus 100 (a run that
    takes more than the reference is not the reference run), within the test's own limit."""
    return min(limit, 2 * reference_steps + 100)


def passes(program: Program, test: TestCase, status: Status, memory: np.ndarray) -> bool:
    """The run halted and every ``.expect`` cell holds its value (as ``synth test``)."""
    if status != Status.HALTED:
        return False
    for label, values in test.expect.items():
        s = program.symbol(label)
        got = [int(v) for v in memory[s.address: s.address + len(values)]]
        if got != [wrap(v, program.word_bits) for v in values]:
            return False
    return True


def ask(predictor: MemoPredictor, program: Program, asks: list[tuple[str, str]], programs: list[Program],
        cases: list[tuple[np.ndarray, int]], words: dict[str, list[set[str]]]) -> list[Item]:
    """Perform ``program`` from each (set, description) of ``asks`` on each of its tests
    (stepwise; one ``perform_many`` per test, over all the descriptions at once), and
    identify each description's closest stored program."""
    passed = [0] * len(asks)
    matched = [0] * len(asks)
    for test, (data, steps) in zip(program.tests, cases, strict=True):
        jobs = [Job(program, text, data) for _, text in asks]
        for i, run in enumerate(perform_many(predictor, jobs, step_budget(steps, test.max_steps))):
            _, divergence = compare(program, data, run, test.max_steps)
            matched[i] += divergence is None
            passed[i] += passes(program, test, run.result.status, run.result.data)
    items = []
    longest = max(p.n for p in programs)
    for i, (which, text) in enumerate(asks):
        closest, _ = closest_program(predictor, text, programs)
        code = extract(predictor, text, longest)  # from the cache: closest_program asked for these rows
        own = rows_matching(code, program)
        tests = len(program.tests)
        items.append(Item(which, program.name, text, tests, passed[i], matched[i], passed[i] == tests, closest.name,
                          closest_by_share(code, programs).name, closest_by_words(text, words), own, program.n))
    return items


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def closest_by_words(text: str, words: dict[str, list[set[str]]]) -> str:
    """A retrieval baseline without the network: the program with the training description
    whose word set is nearest to ``text``'s (Jaccard; ties: the first program)."""
    w = _words(text)
    return max(words, key=lambda name: max((len(w & d) / len(w | d) if w | d else 0.0) for d in words[name]))


def closest_by_share(code: np.ndarray, programs: Sequence[Program]) -> Program:
    """The stored program the largest share of whose rows the network's program has (ties:
    the longer program, then the first). ``closest_program`` counts rows instead, so a long
    program matching a few rows by chance beats a short one matched in full: it cannot
    name a 4-row program from that program's own training description (see RESULTS.md)."""
    return max(programs, key=lambda p: (rows_matching(code, p) / p.n, p.n))


def reference_cases(programs: list[Program]) -> dict[str, list[tuple[np.ndarray, int]]]:
    """Each program's tests as (initial memory, reference steps); a test the reference
    does not pass is an error (the library's tests all pass: ``synth test``)."""
    from compiler.testing import run_test

    out = {}
    for p in programs:
        cases = []
        for test in p.tests:
            outcome = run_test(p, test)
            if outcome.status != "pass":
                raise SynthError(f"{p.name}: test {test.name!r} does not pass on the reference ({outcome.status}: {outcome.detail})")
            cases.append((initial_data(p, test.set), outcome.steps))
        out[p.name] = cases
    return out


# -- one (ISA, model) --------------------------------------------------------------------------


@dataclass
class SetSummary:
    paraphrases: int  # descriptions asked
    runs: int  # descriptions x tests
    runs_matched: int
    runs_passed: int
    right_program: int  # descriptions whose every test passed
    right_program_rate: float
    traces_matched: int  # descriptions whose every run was the reference run
    identified: int  # descriptions whose closest program is the right one (top-1, closest_program)
    identified_rate: float
    identified_share: int  # the same with closest_by_share
    identified_share_rate: float
    identified_words: int  # the same with the word-overlap baseline (no network)
    identified_words_rate: float


def summarise(items: list[Item]) -> SetSummary:
    n = len(items)
    right = sum(i.right_program for i in items)
    ident = sum(i.closest == i.program for i in items)
    share = sum(i.closest_share == i.program for i in items)
    by_words = sum(i.closest_words == i.program for i in items)
    rate = lambda k: round(k / n, 4) if n else 0.0  # noqa: E731
    return SetSummary(n, sum(i.tests for i in items), sum(i.tests_matched for i in items), sum(i.tests_passed for i in items),
                      right, rate(right), sum(i.tests_matched == i.tests for i in items), ident, rate(ident), share, rate(share),
                      by_words, rate(by_words))


@dataclass
class Run:
    isa: str
    backbone: str
    variant: str  # "holdout" (one .desc per program held out) or "full" (every .desc trained: the extra row)
    programs: int
    skipped: list[str]
    chance: float  # 1 / programs: top-1 identification by guessing
    training: dict[str, Any]
    seconds: dict[str, float]  # train, evaluate
    sets: dict[str, SetSummary]
    items: list[Item]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_one(config: DescribeConfig, isa: str, variant: str, programs: list[Program], skipped: list[str],
            held: dict[str, str], new: dict[str, list[str]], out: Path | None,
            say: Callable[[str], None] = lambda s: None) -> Run:
    """Train one model on ``programs`` (their ``descriptions`` are the training set) and ask it."""
    corpus = Corpus(isa=isa, programs=programs)
    trained = {d for p in programs for d in Corpus.descriptions(p)}
    for name, text in [*held.items(), *((n, t) for n, ts in new.items() for t in ts)]:
        if text in trained:
            raise SynthError(f"the unseen paraphrase {text!r} of {name} is a training description")
    model_dir = None if out is None else out / "models" / f"{isa}-{config.backbone}-{variant}"
    tc = config.train_config()
    say(f"{isa} {config.backbone} {variant}: training on {len(trained)} descriptions of {len(programs)} programs")
    t0 = time.perf_counter()
    result = train(tc, corpus, model_dir, resume=False)
    train_seconds = time.perf_counter() - t0
    say(f"{isa} {config.backbone} {variant}: {'exact' if result.exact else 'NOT exact'} at step {result.exact_at or result.steps}, "
        f"{train_seconds:.1f} s")
    result.model.eval()
    predictor = MemoPredictor(NetworkPredictor(result.model, result.tokenizer, tc.device))
    references = reference_cases(programs)
    t1 = time.perf_counter()
    items: list[Item] = []
    words = {p.name: [_words(d) for d in Corpus.descriptions(p)] for p in programs}
    for p in programs:
        asks = [("seen", d) for d in Corpus.descriptions(p)]
        if p.name in held:
            asks.append(("heldout_desc", held[p.name]))
        asks += [("new", t) for t in new.get(p.name, [])]
        items += ask(predictor, p, asks, programs, references[p.name], words)
    eval_seconds = time.perf_counter() - t1
    sets = {s: summarise([i for i in items if i.set == s]) for s in SETS if any(i.set == s for i in items)}
    say(f"{isa} {config.backbone} {variant}: evaluated in {eval_seconds:.1f} s "
        f"({predictor.calls} network rows, {predictor.hits} remembered)")
    training = {"rows": sum(len(Corpus.descriptions(p)) * p.n for p in programs), "steps": result.exact_at or result.steps,
                "exact": result.exact, "instruction_accuracy": result.instruction_accuracy, "seconds": round(train_seconds, 2),
                "descriptions": len(trained), "model": None if model_dir is None else str(model_dir)}
    return Run(isa, config.backbone, variant, len(programs), skipped, round(1 / len(programs), 4), training,
               {"train": round(train_seconds, 2), "evaluate": round(eval_seconds, 2)}, sets, items)


def run(config: DescribeConfig, out: str | Path | None = None, say: Callable[[str], None] = lambda s: None) -> list[Run]:
    """The whole protocol for every ISA of ``config`` (and the full-training extra row)."""
    config.validate()
    out_path = None if out is None else Path(out)
    variants = ("holdout", "full") if config.full else ("holdout",)
    if out_path is not None:
        from neural import checkpoint

        for isa in config.isas:
            for v in variants:
                d = out_path / "models" / f"{isa}-{config.backbone}-{v}"
                if checkpoint.has_checkpoint(d):
                    raise SynthError(f"{d} already holds a trained model: choose another --out")
    runs = []
    for isa in config.isas:
        programs, skipped = example_programs(config, isa)
        kept, held = split(programs, config.holdout_index)
        new = load_paraphrases(config.paraphrases, [p.name for p in programs])
        runs.append(run_one(config, isa, "holdout", kept, skipped, held, new, out_path, say))
        if config.full:
            runs.append(run_one(config, isa, "full", programs, skipped, {}, new, out_path, say))
    return runs


# -- reports -------------------------------------------------------------------------------------


def _frac(k: int, n: int) -> str:
    return f"{k} / {n} ({100 * k / n:.0f}%)" if n else "-"


SET_NAMES = {"seen": "(a) training descriptions", "heldout_desc": "(b) held-out .desc", "new": "(b) new paraphrases"}
MODEL_NAMES = {"holdout": "one .desc held out", "full": "every .desc (extra)"}


def markdown(runs: list[Run], machine: str = "") -> str:
    lines = [
        "| ISA | backbone | model | programs | training rows | steps to exact | train s | (a) runs matching the reference | evaluate s |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        seen = r.sets.get("seen")
        steps = f"{r.training['steps']}" if r.training["exact"] else f"not exact in {r.training['steps']}"
        lines.append(f"| {r.isa} | {r.backbone} | {_model(r)} | {r.programs} | {r.training['rows']} | {steps} | {r.seconds['train']:.1f} | "
                     f"{_frac(seen.runs_matched, seen.runs) if seen else '-'} | {r.seconds['evaluate']:.1f} |")
    lines += [
        "",
        "| ISA | backbone | model | descriptions asked | count | right program runs | every run the reference run | "
        "top-1 (closest_program) | top-1 (share of rows) | top-1 word overlap (no network) | chance (top-1) |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        for name, s in r.sets.items():
            lines.append(f"| {r.isa} | {r.backbone} | {_model(r)} | {SET_NAMES[name]} | {s.paraphrases} | "
                         f"{_frac(s.right_program, s.paraphrases)} | {_frac(s.traces_matched, s.paraphrases)} | "
                         f"{_frac(s.identified, s.paraphrases)} | {_frac(s.identified_share, s.paraphrases)} | "
                         f"{_frac(s.identified_words, s.paraphrases)} | "
                         f"1 / {r.programs} ({100 * r.chance:.1f}%) |")
    notes = [
        "",
        "(a): every program performed stepwise from each of its training descriptions on each of its `.test` inputs "
        "(programs x descriptions x tests runs); a run matches when it is the reference run step for step. "
        "Right program runs: performed with the program's memory (`synth exec --desc TEXT --program NAME`), every one "
        "of the program's tests halts with its expected outputs. Top-1: `closest_program` (most rows in common, as "
        "`synth exec --desc` picks) or the largest share of the program's rows names the right program. "
        "Word overlap: a baseline without the network, the program whose training description shares the most "
        "words with the text (Jaccard). Chance: guessing one of the programs.",
    ]
    if machine:
        notes.append(f"Machine: {machine}.")
    notes += ["", "Runs (description x test) per set: matching the reference / passing the test / all:", ""]
    for r in runs:
        for name, s in r.sets.items():
            notes.append(f"- {r.isa} {r.backbone} {r.variant} {name}: {s.runs_matched} / {s.runs_passed} / {s.runs}")
    notes += ["", "Unseen paraphrases whose right program ran:", ""]
    for r in runs:
        right = [i for i in r.items if i.set != "seen" and i.right_program]
        text = "; ".join(f"{i.program}: \"{i.description}\"" for i in right) or "none"
        notes.append(f"- {r.isa} {r.backbone} {r.variant}: {text}")
    return "\n".join(lines + notes) + "\n"


def _model(r: Run) -> str:
    return MODEL_NAMES[r.variant]


def write(runs: list[Run], out: str | Path, config: DescribeConfig, machine: str = "") -> dict[str, Any]:
    from isa.program import write_atomic

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SynthError(f"{out}: cannot create the directory: {e.strerror}") from None
    obj = {"experiment": "describe", "date": date.today().isoformat(), "machine": machine, "config": config.to_json(),
           "train_config": config.train_config().to_json(), "paraphrases_file": config.paraphrases,
           "runs": [r.to_json() for r in runs]}
    write_atomic(out / "describe.md", markdown(runs, machine))
    write_atomic(out / "describe.json", json.dumps(obj, indent=1) + "\n")
    return obj


def public(r: Run) -> dict[str, Any]:
    """One line of ``synth experiment describe --json``: the run without its items."""
    return {k: v for k, v in r.to_json().items() if k != "items"}


def stderr_say(text: str) -> None:
    sys.stderr.write(f"synth: {text}\n")
    sys.stderr.flush()
