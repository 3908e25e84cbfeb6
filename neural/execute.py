"""Neural execution: the Synthesizer performs a program on a data memory.

Three modes (spec/neural.md):

* **stepwise** (the paper's inference): at every step the network is asked for the
  instruction at C_t (argmax of each head), and the ISA's own step, its reference run
  loop taken one step at a time, performs it on the data memory and yields the next
  C_t. ``perform_many`` runs many such runs at once (one program over many inputs, or
  many programs) with one network call per step for all the runs still going.
* **cached**: the same, with each (description, C_t) answer remembered (``MemoPredictor``):
  the network is deterministic, so the runs are the same; a loop stops costing a call.
* **extract**: every C_t in one batched pass gives the whole program, which then runs on
  the fast runtime.

Either way the neural run is compared with the reference run of the compiled program on
the same memory: ``first_divergence`` is the number (from 1, as ``--trace`` counts) of the
first step whose (pc, address written, value written) differs between the two runs, or
that one run takes and the other does not; if the two traces agree but the runs end
differently, it is the step after the last. ``None`` means the neural run is the
reference run.

On CUDA the network runs under bfloat16 autocast when that changes no row of the model's
own corpus (checked as the checkpoint is loaded, ``NetworkPredictor.check_precision``), else
in float32; program scores, which are held against the refusal threshold, stay float32.

A predicted data address outside the program's memory stops the run with
``bad_address`` before the instruction does anything (the heads range over the largest
memory of the corpus, which can be larger than this program's).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch

from isa.base import ISA, Domain, Status, SynthError
from isa.program import Program
from runtime.result import RunResult
from runtime.run import run_program

if TYPE_CHECKING:
    from neural.checkpoint import Checkpoint
    from neural.model import Synthesizer
    from neural.tokenizer import SynthTokenizer

MODES = ("stepwise", "cached", "extract")


class Predictor(Protocol):
    """Anything that says which instruction a description has at C_t."""

    def rows(self, descriptions: Sequence[str], instructions: Sequence[int]) -> np.ndarray:
        """(B, fields) int64: the instruction of ``descriptions[i]`` at ``instructions[i]``."""
        ...


class NetworkPredictor:
    """A trained Synthesizer as a Predictor (argmax of each head); descriptions are
    tokenised once and cached. ``precision`` "float32", or "bfloat16" (autocast) once
    ``check_precision`` has found that it gives every row it was shown unchanged."""

    def __init__(self, model: Synthesizer, tokenizer: SynthTokenizer, device: torch.device | str = "cpu") -> None:
        self.model, self.tokenizer, self.device = model, tokenizer, torch.device(device)
        self._ids: dict[str, list[int]] = {}
        self.calls = 0  # network calls made (one per step in stepwise mode)
        self.precision = "float32"

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint, mixed_precision: bool | None = None) -> NetworkPredictor:
        """``mixed_precision`` None: on CUDA, bfloat16 if it changes no row of the model's
        corpus (``check_precision``); on the CPU, float32 (bfloat16 is rarely faster there)."""
        net = cls(ckpt.model, ckpt.tokenizer, ckpt.device)
        if mixed_precision or (mixed_precision is None and net.device.type == "cuda"):
            corpus = ckpt.corpus
            pairs = [(d, t) for p in corpus.programs for d in corpus.descriptions(p)[:1] for t in range(p.n)]
            net.check_precision([d for d, _ in pairs], [t for _, t in pairs])
        return net

    def check_precision(self, descriptions: Sequence[str], instructions: Sequence[int], batch: int = 4096) -> bool:
        """Use bfloat16 autocast from now on if it gives exactly the float32 rows (argmax of
        every field) for these (description, C_t); else stay in float32. Returns whether it does."""
        self.precision, calls = "float32", self.calls
        same = len(descriptions) > 0
        for i in range(0, len(descriptions), batch):
            d, t = descriptions[i : i + batch], instructions[i : i + batch]
            full = self.rows(d, t)
            with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16):
                half = self.rows(d, t)
            if not np.array_equal(full, half):
                same = False
                break
        self.precision, self.calls = ("bfloat16" if same else "float32"), calls  # the check's calls are not the user's
        return same

    def _autocast(self) -> Any:
        if self.precision == "bfloat16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _encode(self, text: str) -> list[int]:
        if text not in self._ids:
            ids = self.tokenizer.encode_description(text)
            if not ids:
                raise SynthError(f"the description {text!r} has no tokens")
            self._ids[text] = ids
        return self._ids[text]

    @torch.inference_mode()
    def scores(self, descriptions: Sequence[str]) -> np.ndarray | None:
        """(B, programs) how strongly the network reads each description as each stored
        program (cos(z, key) of the program slots), or None for a model without slots."""
        if not self.model.has_slots or not descriptions:
            return None
        inputs = self.tokenizer.batch([self._encode(d) for d in descriptions], torch.zeros(len(descriptions), dtype=torch.long))
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        return self.model.program_scores(inputs["input_ids"], inputs["attention_mask"]).cpu().numpy()  # float32 always: held against the threshold

    @torch.inference_mode()
    def rows(self, descriptions: Sequence[str], instructions: Sequence[int]) -> np.ndarray:
        t = torch.as_tensor(list(instructions), dtype=torch.long)  # (B,)
        if t.numel() and (int(t.max()) >= self.tokenizer.max_n or int(t.min()) < 0):
            raise SynthError(f"instruction numbers must lie in [0, {self.tokenizer.max_n}) for this model")
        inputs = self.tokenizer.batch([self._encode(d) for d in descriptions], t)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        self.calls += 1
        with self._autocast():
            return self.model.predict(**inputs).cpu().numpy().astype(np.int64)  # (B, F)


class MemoPredictor:
    """A Predictor that asks the network once per (description, C_t) and remembers the
    answer. The network is deterministic, so every run performs exactly the instructions
    it would have been given at each step; loops just stop costing a network call per
    iteration. ``calls`` counts the rows the network computed, ``hits`` those remembered."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor
        self.memo: dict[tuple[str, int], np.ndarray] = {}
        self.calls = 0
        self.hits = 0

    def scores(self, descriptions: Sequence[str]) -> np.ndarray | None:
        scores = getattr(self.predictor, "scores", None)
        return scores(descriptions) if scores is not None else None

    def rows(self, descriptions: Sequence[str], instructions: Sequence[int]) -> np.ndarray:
        keys = [(d, int(t)) for d, t in zip(descriptions, instructions, strict=True)]
        missing = list(dict.fromkeys(k for k in keys if k not in self.memo))
        if missing:
            fresh = self.predictor.rows([d for d, _ in missing], [t for _, t in missing])
            self.calls += len(missing)
            self.memo.update(zip(missing, fresh, strict=True))
        self.hits += len(keys) - len(missing)
        if not keys:
            return np.zeros((0, 0), dtype=np.int64)
        return np.stack([self.memo[k] for k in keys])


# -- one step of the ISA -----------------------------------------------------------------------


class _OneRow:
    """Instruction memory as the ISA's run loop sees it: n rows, of which the loop reads
    only row ``pc``, the one the network just gave."""

    def __init__(self, n: int, pc: int, row: tuple[int, ...]) -> None:
        self.n, self.pc, self.row = n, pc, row

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[int, ...]:
        if i != self.pc:
            raise SynthError(f"internal: the step read row {i}, not {self.pc}")
        return self.row


def step(isa: ISA, row: Sequence[int], memory: list[int], pc: int, n: int, word_bits: int,
         trace: list | None) -> tuple[int, int, Status | None]:
    """Perform ``row`` as instruction ``pc`` on ``memory`` (changed in place) with the
    ISA's reference semantics. Returns (pc, steps taken (0 or 1), final status or None
    to go on)."""
    k = len(memory)
    for j in isa.columns_read(row):
        if isa.fields[j].domain is Domain.DATA and not 0 <= row[j] < k:
            return pc, 0, Status.BAD_ADDRESS
    new_pc, steps, status = isa.reference_run(_OneRow(n, pc, tuple(int(x) for x in row)), memory, pc, 1, word_bits, trace, None)
    return new_pc, steps, (None if status is Status.STEP_LIMIT and steps == 1 else Status(status))


# -- stepwise runs, batched ---------------------------------------------------------------------


@dataclass
class Job:
    """One run: ``program`` supplies the machine (n rows, memory size, word width, the
    memory image unless ``data`` is given); the network reads ``description``; the run
    starts at ``pc`` (default: the ISA's start) and stops at ``max_steps`` (default: the
    batch's)."""

    program: Program
    description: str
    data: np.ndarray | None = None
    pc: int | None = None
    max_steps: int | None = None


class Interrupted(Exception):  # noqa: N818 - it is what happened, not an error
    """Ctrl-C during ``perform_many``: ``runs`` are the runs as far as they got (each
    with status step_limit unless it had ended), so they can be reported and resumed."""

    def __init__(self, runs: list[NeuralRun]) -> None:
        super().__init__("interrupted")
        self.runs = runs


@dataclass
class NeuralRun:
    result: RunResult  # status, steps, pc, final data, trace (pc, address, value) per step
    instructions: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)  # (pc, row given) per step


def perform_many(predictor: Predictor, jobs: Sequence[Job], max_steps: int = 1_000_000_000,
                 progress: Callable[[int, int], None] | None = None, record: bool = True) -> list[NeuralRun]:
    """Stepwise neural runs, all at once: each step makes one network call for every run
    still going, then performs each run's instruction with its ISA's step.
    ``progress(steps, live)`` is called after each step (the most steps any run has taken,
    the runs still going); Ctrl-C raises ``Interrupted`` with the runs as far as they got.
    ``record=False`` keeps no trace and no list of the rows given, and performs the steps
    of all the runs together in compiled code (runtime/stepper.py): for throughput."""
    if max_steps < 0:
        raise SynthError("the step limit must be >= 0")
    if not record and jobs and len({j.program.isa for j in jobs}) == 1 and jobs[0].program.spec.static_code:
        return _perform_compiled(predictor, jobs, max_steps, progress)
    isas = [j.program.spec for j in jobs]
    memories = [[int(x) for x in (j.program.data if j.data is None else j.data)] for j in jobs]
    pcs = [isa.start_pc if j.pc is None else int(j.pc) for isa, j in zip(isas, jobs, strict=True)]
    steps = [0] * len(jobs)
    status: list[Status | None] = [None] * len(jobs)
    traces: list[list] = [[] for _ in jobs]
    given: list[list] = [[] for _ in jobs]
    live = list(range(len(jobs)))
    limits = [max_steps if j.max_steps is None else j.max_steps for j in jobs]

    def results() -> list[NeuralRun]:
        return [NeuralRun(RunResult(Status.STEP_LIMIT if status[r] is None else status[r], steps[r], pcs[r],
                                    np.array(memories[r], dtype=np.int64), np.array(traces[r], dtype=np.int64).reshape(-1, 3)),
                          given[r]) for r in range(len(jobs))]

    try:
        while live:
            asking = []
            for r in live:
                if pcs[r] >= jobs[r].program.n:
                    status[r] = Status.FELL_OFF
                elif steps[r] == limits[r]:
                    status[r] = Status.STEP_LIMIT
                else:
                    asking.append(r)
            if not asking:
                break
            rows = predictor.rows([jobs[r].description for r in asking], [pcs[r] for r in asking])  # (len(asking), F)
            for r, row in zip(asking, rows, strict=True):
                given[r].append((pcs[r], tuple(int(x) for x in row)))
                p = jobs[r].program
                pcs[r], taken, status[r] = step(isas[r], row, memories[r], pcs[r], p.n, p.word_bits, traces[r])
                steps[r] += taken
            live = [r for r in asking if status[r] is None]
            if progress is not None:
                progress(max(steps[r] for r in asking), len(live))
    except KeyboardInterrupt:
        raise Interrupted(results()) from None
    return results()


def _perform_compiled(predictor: Predictor, jobs: Sequence[Job], max_steps: int,
                      progress: Callable[[int, int], None] | None) -> list[NeuralRun]:
    """perform_many without records: one network call a step for every live run, then every
    run's step at once in the ISA's compiled body."""
    from runtime.stepper import Stepper

    isa = jobs[0].program.spec
    K = max(j.program.k for j in jobs)
    data = np.zeros((len(jobs), K), dtype=np.int64)
    for r, j in enumerate(jobs):
        data[r, : j.program.k] = j.program.data if j.data is None else j.data
    stepper = Stepper(isa, np.array([j.program.n for j in jobs]), data,
                      np.array([isa.start_pc if j.pc is None else int(j.pc) for j in jobs]), jobs[0].program.word_bits,
                      np.array([max_steps if j.max_steps is None else j.max_steps for j in jobs]),
                      k=np.array([j.program.k for j in jobs]))
    descriptions = [j.description for j in jobs]

    def results() -> list[NeuralRun]:
        return [NeuralRun(RunResult(Status(int(stepper.status[r])) if stepper.status[r] >= 0 else Status.STEP_LIMIT,
                                    int(stepper.steps[r]), int(stepper.pc[r]), stepper.data[r, : j.program.k].copy(),
                                    np.zeros((0, 3), dtype=np.int64))) for r, j in enumerate(jobs)]

    try:
        while (live := stepper.live()).size:
            rows = predictor.rows([descriptions[r] for r in live], stepper.pc[live].tolist())
            stepper.step(live, rows)
            if progress is not None:
                progress(int(stepper.steps[live].max()), int((stepper.status == -1).sum()))
    except KeyboardInterrupt:
        raise Interrupted(results()) from None
    return results()


# -- extraction ---------------------------------------------------------------------------------


def extract(predictor: Predictor, description: str, n: int) -> np.ndarray:
    """The whole program the network holds for ``description``: rows 0..n-1 in one
    batched pass. (n, fields) int64."""
    return predictor.rows([description] * n, list(range(n)))


def run_extracted(code: np.ndarray, program: Program, data: np.ndarray, max_steps: int, pc: int | None = None) -> NeuralRun:
    """Run an extracted program on ``program``'s machine: on the fast runtime when every
    field is in range for it, otherwise with the ISA's step (which stops with
    ``bad_address`` at a row that names a cell outside the memory)."""
    candidate = Program(isa=program.isa, code=code, data=program.data, word_bits=program.word_bits)
    try:
        candidate.validate("extracted program")
    except SynthError:
        return perform_many(_Table(code), [Job(program, "", data, pc)], max_steps)[0]
    result = run_program(candidate, data, backend="cpu", max_steps=max_steps, trace=True, pc=pc)
    return NeuralRun(result)


class _Table:
    """A fixed table of rows as a Predictor (an extracted program, or a test's)."""

    def __init__(self, code: np.ndarray) -> None:
        self.code = np.asarray(code, dtype=np.int64)

    def rows(self, descriptions: Sequence[str], instructions: Sequence[int]) -> np.ndarray:
        return self.code[list(instructions)]


# -- against the reference -------------------------------------------------------------------------


def first_divergence(neural: RunResult, reference: RunResult, reference_trace: np.ndarray) -> int | None:
    """The first step (from 1) where the neural run leaves the reference run, or None."""
    a, b = neural.trace, reference_trace
    m = min(len(a), len(b))
    differs = np.flatnonzero((a[:m] != b[:m]).any(axis=1))
    if differs.size:
        return int(differs[0]) + 1
    if len(a) != len(b) or neural.steps != reference.steps:
        return m + 1
    if neural.status != reference.status or neural.pc != reference.pc:
        return m + 1
    return None


@dataclass
class Performance:
    """A neural run, its reference, and how they compare (``synth exec --json``)."""

    program: Program  # the program whose machine and reference were used
    mode: str
    result: RunResult
    reference: RunResult
    first_divergence: int | None
    rows_matching: int  # rows of the network's program equal to the compiled program's
    extracted: np.ndarray  # (n, fields): the network's program for the description
    instructions: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)  # stepwise: (pc, row) per step
    outputs: dict[str, list[int]] | None = None  # neural.ask: each .output label's cells after the neural run
    choice: Any = None  # neural.ask: the neural.choose.Choice that picked the program

    @property
    def matches_reference(self) -> bool:
        return self.first_divergence is None

    def to_json(self) -> dict[str, Any]:
        """The keys ``synth exec --json`` adds to ``synth run``'s."""
        out = {"matches_reference": self.matches_reference, "first_divergence": self.first_divergence,
               "program": self.program.name, "rows_matching": self.rows_matching, "rows": self.program.n, "mode": self.mode}
        if self.choice is not None:
            out.update({k: v for k, v in self.choice.to_json().items() if k != "program"})
        return out


QUICK_STEPS = 20_000  # below this many steps the Python reference answers before Numba has loaded its runtime


def compare(program: Program, data: np.ndarray, run: NeuralRun, max_steps: int, pc: int | None = None) -> tuple[RunResult, int | None]:
    """The reference run and the first divergence from it. The reference is traced only as
    far as the neural run went, plus one step. A short run is checked on the pure-Python
    reference interpreter (the specification; no compiled runtime to load, which would
    cost a short ``synth exec`` most of a second); a long one on the Numba runtime."""
    limit = min(max_steps, run.result.steps + 1)
    if limit <= QUICK_STEPS:
        reference = run_program(program, data, backend="reference", max_steps=min(max_steps, QUICK_STEPS), pc=pc)
        if reference.status != Status.STEP_LIMIT or max_steps <= QUICK_STEPS:
            traced = run_program(program, data, backend="reference", max_steps=limit, trace=True, pc=pc)
            return reference, first_divergence(run.result, reference, traced.trace)
    reference = run_program(program, data, backend="cpu", max_steps=max_steps, pc=pc)
    traced = run_program(program, data, backend="cpu", max_steps=limit, trace=True, pc=pc)
    return reference, first_divergence(run.result, reference, traced.trace)


def rows_matching(code: np.ndarray, program: Program) -> int:
    n = min(len(code), program.n)
    return int((code[:n] == program.code[:n]).all(axis=1).sum())


def perform(
    predictor: Predictor,
    program: Program,
    description: str,
    data: np.ndarray | None = None,
    *,
    mode: str = "stepwise",
    max_steps: int = 1_000_000_000,
    pc: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Performance:
    """Perform ``program``'s machine from the network's reading of ``description``,
    from ``pc`` (default: the ISA's start; a resumed run) and compare it with the
    reference run from the same memory and pc."""
    if mode not in MODES:
        raise SynthError(f"unknown mode {mode!r} (choose {', '.join(MODES)})")
    data = program.data.copy() if data is None else np.asarray(data, dtype=np.int64)
    code = extract(predictor, description, program.n)
    if mode in ("stepwise", "cached"):  # the predictor given decides whether answers are remembered
        run = perform_many(predictor, [Job(program, description, data, pc)], max_steps, progress)[0]
    else:
        run = run_extracted(code, program, data, max_steps, pc)
    reference, divergence = compare(program, data, run, max_steps, pc)
    return Performance(program, mode, run.result, reference, divergence, rows_matching(code, program), code, run.instructions)


def closest_program(predictor: Predictor, description: str, programs: Sequence[Program]) -> tuple[Program, int]:
    """The stored program whose code the network's program for ``description`` matches in
    the most rows (spec/neural.md, ``--desc`` with an unseen text)."""
    n = max(p.n for p in programs)
    code = extract(predictor, description, n)
    best = max(programs, key=lambda p: rows_matching(code, p))  # the first of equals
    return best, rows_matching(code, best)
