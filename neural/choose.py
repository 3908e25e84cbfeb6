"""Which stored program a request means: ``--program NAME``, ``--desc TEXT``, or both; and
when a description means none of them.

spec/neural.md: with NAME, that program's memory image, symbols and reference run are
used, and the network reads TEXT (or NAME's first training description). With TEXT alone,
a training description names its program. For any other text, a model with program slots
(the description read-out, neural/model.py) says which program it reads TEXT as and how
strongly, ``cos(z, key)``: below the threshold calibrated at training (stored in the
checkpoint, neural/encoder_fit.py) nothing runs and the closest programs are listed with
their scores (``refused``). A model without slots, or a checkpoint from before calibration,
picks the program whose rows the network's program shares most (``closest_program``) and
never refuses (``note`` says so).

This is the one place that decides it, for ``synth exec`` (one request or a requests
file), ``synth debug`` and the Python API (``ask``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from isa.base import SynthError

if TYPE_CHECKING:
    from isa.program import Program
    from neural.corpus import Corpus
    from neural.execute import Predictor

CANDIDATES = 3  # programs listed with a refusal (or an accepted unseen text)
NO_CALIBRATION = "this checkpoint has no calibrated threshold (it predates calibration, or its model has no program slots): an unseen description is never refused"


@dataclass
class Choice:
    program: Program | None  # whose machine, symbols and reference the run uses (None: refused)
    description: str  # what the network reads
    how: str  # "named", "training description", "network", "closest program", or "refused"
    confidence: float | None = None  # the network's score for the program (max cos(z, key)); None: not asked
    candidates: list[tuple[str, float]] = field(default_factory=list)  # the closest programs, best first, with scores
    threshold: float | None = None  # the calibrated threshold the score was held against
    rows_matching: int | None = None  # "closest program": rows of the network's program equal to it
    note: str | None = None

    @property
    def refused(self) -> bool:
        return self.program is None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"program": self.program.name if self.program is not None else None, "chosen_by": self.how}
        if self.refused:
            out["refused"] = True
        if self.confidence is not None:
            out["confidence"] = round(self.confidence, 4)
        if self.candidates:
            out["candidates"] = [{"program": name, "score": round(score, 4)} for name, score in self.candidates]
        if self.threshold is not None:
            out["threshold"] = round(self.threshold, 4)
        if self.note:
            out["note"] = self.note
        return out


def threshold_of(state: dict[str, Any] | None) -> float | None:
    """The calibrated refusal threshold a checkpoint's state holds (None: none)."""
    calibration = (state or {}).get("calibration")
    if isinstance(calibration, dict) and isinstance(calibration.get("threshold"), (int, float)):
        return float(calibration["threshold"])
    return None


def choose(corpus: Corpus, predictor: Predictor, program: str | None = None, description: str | None = None,
           threshold: float | None = None) -> Choice:
    """The program and description of one request (``choose_many`` of one)."""
    return choose_many(corpus, predictor, [(program, description)], threshold)[0]


def choose_many(corpus: Corpus, predictor: Predictor, requests: list[tuple[str | None, str | None]],
                threshold: float | None = None) -> list[Choice]:
    """Choices for many (program, description) requests; the unseen descriptions are
    scored by the network in one batch."""
    from neural.execute import closest_program

    choices: list[Choice | None] = []
    unseen: list[int] = []
    for i, (program, description) in enumerate(requests):
        if not program and description is None:
            raise SynthError("say what to perform: --program NAME, --desc TEXT, or both")
        if description is not None and not description.strip():
            raise SynthError("the description is empty")
        if program:
            p = corpus.program(program)
            choices.append(Choice(p, description if description is not None else corpus.descriptions(p)[0], "named"))
            continue
        assert description is not None
        known = corpus.find_description(description)
        if known is not None:
            choices.append(Choice(known, description, "training description"))
            continue
        choices.append(None)
        unseen.append(i)
    if unseen:
        texts = [requests[i][1] for i in unseen]
        scores = getattr(predictor, "scores", lambda texts: None)(texts)  # (U, programs) or None
        for row, i in enumerate(unseen):
            text = texts[row]
            assert text is not None
            if scores is None:
                best, matching = closest_program(predictor, text, corpus.programs)
                choices[i] = Choice(best, text, "closest program", rows_matching=matching, note=NO_CALIBRATION)
                continue
            s = np.asarray(scores[row], dtype=float)
            order = np.argsort(-s, kind="stable")
            candidates = [(corpus.programs[int(j)].name, float(s[j])) for j in order[:CANDIDATES]]
            top = int(order[0])
            note = None if threshold is not None else NO_CALIBRATION
            if threshold is not None and s[top] < threshold:
                choices[i] = Choice(None, text, "refused", float(s[top]), candidates, threshold)
            else:
                choices[i] = Choice(corpus.programs[top], text, "network", float(s[top]), candidates, threshold, note=note)
    return [c for c in choices if c is not None]


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
    ``outputs`` are the ``.output`` labels' cells after the neural run; a refused
    description raises SynthError naming the closest programs."""
    from isa.convention import read_outputs
    from neural import checkpoint
    from neural.execute import MemoPredictor, NetworkPredictor, perform

    ckpt = checkpoint.load(model) if not isinstance(model, checkpoint.Checkpoint) else model
    predictor = MemoPredictor(NetworkPredictor.from_checkpoint(ckpt))
    choice = choose(ckpt.corpus, predictor, program, description, threshold_of(ckpt.state))
    if choice.program is None:
        listed = ", ".join(f"{name} ({score:.2f})" for name, score in choice.candidates)
        raise SynthError(f"the model reads {description!r} as none of its programs (closest: {listed})")
    p = choice.program
    data = named_inputs(p, inputs)
    performance = perform(predictor, p, choice.description, data, mode=mode, max_steps=max_steps)
    performance.outputs = read_outputs(p, performance.result.data)
    performance.choice = choice
    return performance


def named_inputs(program: Program, inputs: dict[str, int | list[int]] | list[int] | None) -> np.ndarray:
    """The initial data memory with inputs by name (a dict, like --set) or in order (a list, like --inputs)."""
    from isa.convention import initial_data

    if isinstance(inputs, dict):
        return initial_data(program, sets={k: v if isinstance(v, list) else [v] for k, v in inputs.items()})
    return initial_data(program, inputs=inputs) if inputs is not None else program.data.copy()
