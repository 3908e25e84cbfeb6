"""Which stored program a request means: ``--program NAME``, ``--desc TEXT``, or both.

spec/neural.md: with NAME, that program's memory image, symbols and reference run are
used, and the network reads TEXT (or NAME's first training description); with TEXT alone,
a training description names its program, and for any other text the network's program
for TEXT is matched against the stored ones (``closest_program``). This is the one place
that decides it, for ``synth exec``, ``synth debug`` and the Python API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from isa.base import SynthError

if TYPE_CHECKING:
    from isa.program import Program
    from neural.corpus import Corpus
    from neural.execute import Predictor


@dataclass
class Choice:
    program: Program  # whose machine, symbols and reference the run uses
    description: str  # what the network reads
    how: str  # "named", "training description", or "closest program"
    rows_matching: int | None = None  # for "closest program": rows of the network's program equal to it


def choose(corpus: Corpus, predictor: Predictor, program: str | None = None, description: str | None = None) -> Choice:
    """The program and description of a request (one of the two, or both, must be given)."""
    from neural.execute import closest_program

    if not program and description is None:
        raise SynthError("say what to perform: --program NAME, --desc TEXT, or both")
    if description is not None and not description.strip():
        raise SynthError("the description is empty")
    if program:
        p = corpus.program(program)
        return Choice(p, description if description is not None else corpus.descriptions(p)[0], "named")
    assert description is not None
    known = corpus.find_description(description)
    if known is not None:
        return Choice(known, description, "training description")
    best, matching = closest_program(predictor, description, corpus.programs)
    return Choice(best, description, "closest program", matching)
