"""The material of the programs-from-descriptions experiment: the example programs of an
ISA, each program's pool of paraphrases, the program-grouped folds, and the off-topic texts.

A program's pool is its ``.desc`` lines followed by its new paraphrases
(``examples/heldout_paraphrases.json``: program -> list of texts). The pool is shuffled
(seeded) and dealt round-robin into ``folds`` folds, per program: fold f holds about
1 / folds of every program's paraphrases, so that every paraphrase is held out exactly
once and every program keeps the rest for training.

Augmentation: the source file's own leading comment (what its author wrote the program
does, e.g. "the greatest common divisor of two non-negative numbers, by Euclid's method")
is one more training description of every fold, never held out: it is not a user's
paraphrase, and it is text every program of the library comes with.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

from isa.base import SynthError
from isa.files import read_lines, read_text
from isa.program import Program


@dataclass
class Fold:
    index: int
    train: list[Program]  # the programs, their descriptions the training paraphrases (and source comments)
    held: list[tuple[str, str]]  # (program, text) held out


def source_comment(path: str | Path) -> str | None:
    """The leading comment block of a source file as one line, without a ``name:`` prefix."""
    lines = []
    for line in read_text(path, "source file").splitlines():
        if not line.startswith(";"):
            break
        lines.append(line.lstrip(";").strip())
    text = " ".join(x for x in lines if x)
    head, colon, rest = text.partition(":")
    if colon and " " not in head.strip():
        text = rest.strip()
    return text or None


def example_programs(examples: str | Path, isa: str, names: tuple[str, ...] | None = None) -> tuple[list[Program], list[str]]:
    """The examples compiled for ``isa`` (named by their stems, in file order), and the
    names of those that cannot be compiled for it (``load`` on subleq)."""
    from compiler import CompileError, compile_file

    paths = sorted(Path(examples).glob("*.sasm"))
    if not paths:
        raise SynthError(f"{examples}: no .sasm programs")
    if names is not None:
        unknown = sorted(set(names) - {p.stem for p in paths})
        if unknown:
            raise SynthError(f"--programs: no example named {', '.join(unknown)} in {examples}")
        paths = [p for p in paths if p.stem in names]
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
        if not program.descriptions or not program.tests:
            raise SynthError(f"{path}: the experiment needs .desc paraphrases and .test blocks")
        programs.append(program)
    if not programs:
        raise SynthError(f"no example compiles for {isa}")
    return programs, skipped


def load_paraphrases(path: str | Path | None) -> dict[str, list[str]]:
    """program -> new paraphrases (a JSON object of lists of non-empty strings); none without a file."""
    if path is None:
        return {}
    try:
        obj = json.loads(read_text(path, "paraphrase file"))
    except json.JSONDecodeError as e:
        raise SynthError(f"{path}:{e.lineno}:{e.colno}: malformed JSON: {e.msg}") from None
    if not isinstance(obj, dict) or not all(isinstance(v, list) and all(isinstance(s, str) and s.strip() for s in v)
                                            for v in obj.values()):
        raise SynthError(f"{path}: expected an object mapping program names to lists of non-empty strings")
    return {k: list(v) for k, v in obj.items()}


def load_off_topic(path: str | Path) -> list[str]:
    """Texts that describe no program of the library, one a line."""
    return read_lines(path, "off-topic file")


def pools(programs: list[Program], paraphrases: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each program's paraphrases: its .desc lines, then its new ones (no text twice)."""
    out, owner = {}, {}
    for p in programs:
        texts = list(dict.fromkeys([*p.descriptions, *paraphrases.get(p.name, [])]))
        for t in texts:
            if t in owner and owner[t] != p.name:
                raise SynthError(f"the paraphrase {t!r} is given for both {owner[t]!r} and {p.name!r}")
            owner[t] = p.name
        out[p.name] = texts
    return out


def make_folds(programs: list[Program], pool: dict[str, list[str]], folds: int, seed: int,
               always: dict[str, list[str]] | None = None) -> list[Fold]:
    """Deal every program's shuffled pool round-robin into ``folds`` folds; ``always``:
    training descriptions of every fold (the source comments), never held out."""
    if folds < 2:
        raise SynthError("--folds must be at least 2")
    rng = random.Random(seed)
    assigned: dict[str, list[list[str]]] = {}
    for p in programs:
        texts = list(pool[p.name])
        rng.shuffle(texts)
        if len(texts) < 2:
            raise SynthError(f"{p.name}: a program needs at least two paraphrases to be held out and trained on")
        assigned[p.name] = [texts[f::folds] for f in range(folds)]
    out = []
    for f in range(folds):
        train = []
        for p in programs:
            kept = {t for g, texts in enumerate(assigned[p.name]) if g != f for t in texts}
            extra = [t for t in (always or {}).get(p.name, []) if t not in pool[p.name]]
            train.append(replace(p, descriptions=[t for t in pool[p.name] if t in kept] + extra))
        held = [(p.name, t) for p in programs for t in assigned[p.name][f]]
        out.append(Fold(f, train, held))
    return out
