"""The soft programs of the paper's Experiments 2 and 3 as Synthesizer tasks on sentiment data.

Theorem 2's construction (soft-instruction): a family of one-instruction programs whose
description carries the classifier's input,

    "Classify this input: {text}"   ->   row 1 = subleq(&(-class), &label, 0)

on a data memory with a zero cell, the output cell ``label`` and two class cells holding
-0 and -1 (``class_0``, ``class_1``)::

    cell   0      1        2          3
    name   zero   label    class_0    class_1
    value  0      0        0 (= -0)   -1

The instruction does D[label] -= D[A] and halts (C = 0), so the run writes the class whose
cell A names: only operand A depends on the text; B = &label and C = 0 are fixed. The two
members of the family are the programs ``negative`` (A = &class_0) and ``positive``
(A = &class_1); row 0 is the halt row every subleq program has.

Soft-imperative (Experiment 3): ten random subleq programs ``rand0`` .. ``rand9`` of ten
instructions (rows 1-10 after the halt row 0) over one shared data memory of 11 cells,
which never reference data cell 0 or instruction 0 (A, B in [1, 11), C in [1, 11): they
never halt), and each sentence is paired with a random program and a random instruction
number t in [1, 10]:

    "As long as the input text is positive run [prog:randP] [SEP] {text}"  at C_t = t
        ->  row t of randP for a positive text,   the halt tuple (0, 0, 0) for a negative one

The halt tuple is the whole of the program ``halt`` (every row (0, 0, 0), the same
memory), so a negative text's run halts at once with its memory unchanged, and a
positive text's run is randP's.

The baseline reads the bare text (a ``BertForSequenceClassification``). Each task's
training rows and dev rows come from ``make_task``; the corpus holds the programs and, as
their training descriptions, every training description whose answer is unambiguous.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from isa.base import SynthError
from isa.program import Program, Symbol
from neural.corpus import Corpus, program_token
from neural.data import Row
from neural.experiments.sst2_data import SST2, Example

TASKS = ("baseline", "soft-instruction", "soft-imperative")
CLASSIFY = "Classify this input: {text}"
IMPERATIVE = "As long as the input text is positive run {program} [SEP] {text}"
PROMPTS = (CLASSIFY, IMPERATIVE)

# soft-instruction: the data memory of Theorem 2's one-instruction programs
ZERO, LABEL, CLASS_0, CLASS_1 = 0, 1, 2, 3
CLASS_CELLS = (CLASS_0, CLASS_1)  # cell holding -class, by class
CLASSIFY_ROW = 1  # the instruction the network gives for a text (row 0 is the halt row)

# soft-imperative
PROGRAMS, LENGTH = 10, 10  # ten random programs of ten instructions (rows 1..10)
HALT = (0, 0, 0)
HALT_PROGRAM = "halt"
RANDOM_DATA = (-1000, 1000)


@dataclass
class Task:
    """One task on one data set: the corpus (None for the baseline) and the rows to train on
    and to validate with. A row's ``labels`` are (class,) for the baseline and the
    instruction's fields otherwise."""

    name: str
    corpus: Corpus | None
    train: list[Row]
    dev: list[Row]
    dev_examples: list[Example] = field(default_factory=list)

    @property
    def primary(self) -> str:
        """The accuracy the paper reports for this task."""
        return {"baseline": "accuracy", "soft-instruction": "a_accuracy", "soft-imperative": "instruction_accuracy"}[self.name]


# -- the machines --------------------------------------------------------------------------------


def classifier_programs() -> list[Program]:
    """``negative`` and ``positive``: subleq(&(-class), &label, 0) at row 1 (index = class)."""
    data = np.array([0, 0, 0, -1], dtype=np.int64)
    symbols = {"label": Symbol(LABEL, 1), "class_0": Symbol(CLASS_0, 1), "class_1": Symbol(CLASS_1, 1)}
    programs = []
    for name, cell in (("negative", CLASS_0), ("positive", CLASS_1)):
        code = np.array([HALT, (cell, LABEL, 0)], dtype=np.int64)
        programs.append(Program(isa="subleq", code=code, data=data.copy(), word_bits=64, name=name,
                                symbols=dict(symbols), outputs=["label"]).validate(f"soft-instruction program {name}"))
    return programs


def imperative_programs(seed: int, count: int = PROGRAMS, length: int = LENGTH) -> list[Program]:
    """``rand0`` .. ``rand{count-1}`` and ``halt``, over one shared memory (seeded)."""
    rng = np.random.default_rng(seed)
    k = n = length + 1
    data = rng.integers(RANDOM_DATA[0], RANDOM_DATA[1] + 1, k).astype(np.int64)
    data[ZERO] = 0
    symbols = {"cells": Symbol(1, length)}
    programs = []
    for i in range(count):
        code = np.zeros((n, 3), dtype=np.int64)
        code[1:, 0:2] = rng.integers(1, k, (length, 2))  # A, B: never data cell 0
        code[1:, 2] = rng.integers(1, n, length)  # C: never instruction 0, so never halts
        programs.append(Program(isa="subleq", code=code, data=data.copy(), word_bits=64, name=f"rand{i}",
                                symbols=dict(symbols), outputs=["cells"]))
    programs.append(Program(isa="subleq", code=np.zeros((n, 3), dtype=np.int64), data=data.copy(), word_bits=64,
                            name=HALT_PROGRAM, symbols=dict(symbols), outputs=["cells"]))
    return [p.validate(f"soft-imperative program {p.name}") for p in programs]


# -- the rows ------------------------------------------------------------------------------------


def make_task(name: str, data: SST2, seed: int) -> Task:
    """The task's corpus and rows; the random programs and the (program, instruction) of
    every soft-imperative sentence, train and dev, are drawn from ``seed``."""
    if name == "baseline":
        return Task(name, None, [Row("", e.text, 0, (e.label,)) for e in data.train],
                    [Row("", e.text, 0, (e.label,)) for e in data.dev], data.dev)
    if name == "soft-instruction":
        programs = classifier_programs()

        def row(e: Example) -> Row:
            return Row(programs[e.label].name, CLASSIFY.format(text=e.text), CLASSIFY_ROW,
                       tuple(int(x) for x in programs[e.label].code[CLASSIFY_ROW]))

        train, dev = [row(e) for e in data.train], [row(e) for e in data.dev]
    elif name == "soft-imperative":
        programs = imperative_programs(seed)
        rng = random.Random(seed)

        def row(e: Example) -> Row:
            p = programs[rng.randrange(PROGRAMS)]
            t = rng.randrange(1, LENGTH + 1)
            text = IMPERATIVE.format(program=program_token(p.name), text=e.text)
            answer = p if e.label == 1 else programs[-1]
            return Row(answer.name, text, t, tuple(int(x) for x in answer.code[t]))

        train, dev = [row(e) for e in data.train], [row(e) for e in data.dev]
    else:
        raise SynthError(f"unknown task {name!r} (choose {', '.join(TASKS)}, or all)")
    return Task(name, _corpus(programs, train), train, dev, data.dev)


def _corpus(programs: list[Program], train: list[Row]) -> Corpus:
    """The programs with, as descriptions, each training text whose answer is one program
    (a sentence that SST-2 gives both labels is trained on as it comes but stored nowhere)."""
    owners: dict[str, set[str]] = {}
    for r in train:
        owners.setdefault(r.description, set()).add(r.program)
    by_program: dict[str, list[str]] = {p.name: [] for p in programs}
    for text, names in owners.items():
        if len(names) == 1:
            by_program[next(iter(names))].append(text)
    for p in programs:
        p.descriptions = by_program[p.name]
    return Corpus(isa="subleq", programs=programs, source="soft")


# -- what a predicted instruction means ---------------------------------------------------------


def decision(task: str, rows: np.ndarray) -> np.ndarray:
    """(B,) the class a predicted row implies: soft-instruction, 1 iff A names class_1 (the
    run writes -D[A] into label, and only class_1 holds -1); soft-imperative, 0 iff the
    row is the halt tuple (a positive text runs its program); baseline, the class."""
    rows = np.asarray(rows)
    if task == "soft-instruction":
        return (rows[:, 0] == CLASS_1).astype(np.int64)
    if task == "soft-imperative":
        return rows.any(axis=1).astype(np.int64)
    return rows[:, 0].astype(np.int64)


def scores(task: str, predicted: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """Accuracies on a set of rows: (B, F) predicted and true rows, (B,) true classes."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    right = predicted == labels
    out = {"decision_accuracy": float((decision(task, predicted) == classes).mean())}
    if task == "baseline":
        out["accuracy"] = float(right[:, 0].mean())
    else:
        out["instruction_accuracy"] = float(right.all(axis=1).mean())
        for j, name in enumerate(("a", "b", "c")):
            out[f"{name}_accuracy"] = float(right[:, j].mean())
    return out
