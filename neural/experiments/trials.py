"""The record of an experiment's finished trials: ``OUT/trials.jsonl``, one JSON object a line.

Each finished trial is appended (and made durable) as it ends, with the recipe it ran
under; the same experiment into the same directory reads them back and trains only the
trials missing, so an interrupted experiment loses at most the trial it was in. A last
line cut short by an interruption is ignored; records of another recipe are an error
(they would not be comparable), which ``--restart`` clears by discarding the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from isa.base import SynthError
from isa.files import append_line, make_directory

TRIALS = "trials.jsonl"

# Settings added to the recipes after records were first written, with their defaults: a
# record without one ran as if it had its default, so a recipe at the default still matches.
ADDED_SETTINGS: dict[str, Any] = {"slot_readout": "soft", "background": None, "background_margin": 0.2}


def normalised(obj: Any) -> Any:
    """The recipe with every added setting that stands at its default left out, at any depth."""
    if isinstance(obj, dict):
        return {k: normalised(v) for k, v in obj.items() if not (k in ADDED_SETTINGS and v == ADDED_SETTINGS[k])}
    if isinstance(obj, list):
        return [normalised(v) for v in obj]
    return obj


def load(out: str | Path, recipe: Any) -> list[dict[str, Any]]:
    """The records in ``out/trials.jsonl`` (each a dict with a ``recipe`` equal to ``recipe``)."""
    path = Path(out) / TRIALS
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise SynthError(f"{path}: cannot read the recorded runs: {e}") from None
    key = normalised(json.loads(json.dumps(recipe)))
    records = []
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except ValueError:
            if i == len(lines) - 1:
                continue  # the line being written when the run was interrupted
            raise SynthError(f"{path}:{i + 1}: not a JSON line; remove the file to start the experiment over") from None
        if not isinstance(obj, dict) or "recipe" not in obj:
            raise SynthError(f"{path}:{i + 1}: not a recorded run; remove the file to start the experiment over")
        if normalised(obj["recipe"]) != key:
            raise SynthError(f"{path}: holds runs of another recipe; use another --out, or --restart to discard them")
        obj["_line"] = i + 1
        records.append(obj)
    return records


def record(out: str | Path, obj: dict[str, Any], recipe: Any) -> None:
    """Append one finished trial (``obj`` plus its ``recipe``) and make it durable."""
    out = Path(out)
    make_directory(out)
    append_line(out / TRIALS, json.dumps({**obj, "recipe": recipe}))


def discard(out: str | Path) -> None:
    """Forget the recorded trials (``--restart``)."""
    path = Path(out) / TRIALS
    try:
        path.unlink(missing_ok=True)
    except OSError as e:
        raise SynthError(f"{path}: cannot remove it: {e.strerror}") from None


def malformed(out: str | Path, obj: dict[str, Any]) -> SynthError:
    """The error for a record that lacks what its experiment needs."""
    return SynthError(f"{Path(out) / TRIALS}:{obj.get('_line', '?')}: not a recorded run; remove the file to start the experiment over")
