"""Which stored program a request means: ``--program NAME``, ``--desc TEXT``, or both.

spec/neural.md: with NAME, that program's memory image, symbols and reference run are
used, and the network reads TEXT (or NAME's first training description); with TEXT alone,
a training description names its program, and for any other text the network's program
for TEXT is matched against the stored ones (``closest_program``). This is the one place
that decides it, for ``synth exec``, ``synth debug`` and the Python API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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


def ask(
    model: Any,
    description: str | None = None,
    program: str | None = None,
    inputs: dict[str, int | list[int]] | list[int] | None = None,
    *,
    mode: str = "stepwise",
    max_steps: int = 1_000_000_000,
) -> Any:
    """Perform a request with a trained Synthesizer (a checkpoint, or its directory):
    ``choose`` the program, set its inputs by name (``{"a": 12}``) or in calling-convention
    order (a list), and perform it (neural.execute.perform). Returns the Performance, whose
    ``outputs`` are the ``.output`` labels' cells after the neural run."""
    from isa.program import initial_data, read_outputs
    from neural import checkpoint
    from neural.execute import MemoPredictor, NetworkPredictor, perform

    ckpt = checkpoint.load(model) if not isinstance(model, checkpoint.Checkpoint) else model
    predictor = MemoPredictor(NetworkPredictor.from_checkpoint(ckpt))
    choice = choose(ckpt.corpus, predictor, program, description)
    p = choice.program
    if isinstance(inputs, dict):
        data = initial_data(p, sets={k: v if isinstance(v, list) else [v] for k, v in inputs.items()})
    else:
        data = initial_data(p, inputs=inputs) if inputs is not None else p.data.copy()
    performance = perform(predictor, p, choice.description, data, mode=mode, max_steps=max_steps)
    performance.outputs = read_outputs(p, performance.result.data)
    return performance
