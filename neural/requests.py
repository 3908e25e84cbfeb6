"""Many requests of one trained model in one process (``synth exec --requests FILE.jsonl``).

Each line of the file is one request, a JSON object with the keys of ``synth exec``:
``desc`` (what the network reads), ``program`` (whose memory and reference), ``inputs``
(a list, calling-convention order), ``set`` ({label: [values]}), ``max_steps``; every key
is optional but desc or program. The whole file is checked before anything runs (a bad
line is one error naming it). Then the unseen descriptions are scored in one batch
(neural/choose.py), and every accepted request is performed at once: stepwise, one
network call per step for all the runs still going (neural/execute.py, ``perform_many``),
or extracted. The answers come back in the order of the lines, each the JSON of
``synth exec --json`` (a refused one: ``{"program": null, "refused": true, "candidates"}``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from isa.base import SynthError
from isa.convention import initial_data
from isa.files import read_text

KEYS = ("desc", "program", "inputs", "set", "max_steps")


@dataclass
class Request:
    line: int
    desc: str | None = None
    program: str | None = None
    inputs: list[int] | None = None
    set: dict[str, list[int]] | None = None
    max_steps: int | None = None


def read_requests(path: str | Path) -> list[Request]:
    text = read_text(path, "requests file")
    requests = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise SynthError(f"{where}: malformed JSON: {e.msg}") from None
        requests.append(parse_request(obj, number, where))
    if not requests:
        raise SynthError(f"{path}: holds no requests (one JSON object a line)")
    return requests


def parse_request(obj: Any, number: int, where: str) -> Request:
    if not isinstance(obj, dict):
        raise SynthError(f"{where}: a request is a JSON object with desc and/or program (and inputs, set, max_steps)")
    unknown = sorted(set(obj) - set(KEYS))
    if unknown:
        raise SynthError(f"{where}: unknown keys {unknown} (a request has {', '.join(KEYS)})")
    desc, program = obj.get("desc"), obj.get("program")
    if desc is None and program is None:
        raise SynthError(f"{where}: give desc, program, or both")
    for key, value in (("desc", desc), ("program", program)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise SynthError(f"{where}: {key} must be a non-empty string")
    inputs = obj.get("inputs")
    if inputs is not None and not (isinstance(inputs, list) and all(_is_int(v) for v in inputs)):
        raise SynthError(f"{where}: inputs must be a list of integers")
    sets = obj.get("set")
    if sets is not None:
        if not isinstance(sets, dict):
            raise SynthError(f"{where}: set must be an object of label -> [values]")
        sets = {k: (v if isinstance(v, list) else [v]) for k, v in sets.items()}
        if not all(all(_is_int(x) for x in v) for v in sets.values()):
            raise SynthError(f"{where}: set's values must be integers")
    steps = obj.get("max_steps")
    if steps is not None and (not _is_int(steps) or steps < 0):
        raise SynthError(f"{where}: max_steps must be an integer >= 0")
    return Request(number, desc, program, inputs, sets, steps)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def answer(ckpt: Any, requests: list[Request], *, mode: str = "stepwise", max_steps: int = 1_000_000_000,
           where: str = "requests") -> list[dict[str, Any]]:
    """Each request's result, in order (see the module's docstring)."""
    from neural.choose import choose_many, threshold_of
    from neural.execute import Job, MemoPredictor, NetworkPredictor, compare, extract, perform_many, rows_matching, run_extracted
    from runtime.result import result_json

    network = NetworkPredictor.from_checkpoint(ckpt)
    predictor = network if mode == "stepwise" else MemoPredictor(network)
    choices = []
    for r in requests:  # a request naming an unknown program is an error of that line
        try:
            choices.append(choose_many(ckpt.corpus, predictor, [(r.program, r.desc)], None)[0] if r.program else None)
        except SynthError as e:
            raise SynthError(f"{where}:{r.line}: {e}") from None
    unseen = [i for i, c in enumerate(choices) if c is None]
    for i, c in zip(unseen, choose_many(ckpt.corpus, predictor, [(None, requests[i].desc) for i in unseen],
                                        threshold_of(ckpt.state)), strict=True):
        choices[i] = c
    jobs: list[tuple[int, Job, np.ndarray]] = []
    for i, (r, c) in enumerate(zip(requests, choices, strict=True)):
        if c is None or c.program is None:
            continue
        try:
            data = initial_data(c.program, r.set, r.inputs)
        except SynthError as e:
            raise SynthError(f"{where}:{r.line}: {e}") from None
        jobs.append((i, Job(c.program, c.description, data, max_steps=r.max_steps if r.max_steps is not None else max_steps), data))
    if mode in ("stepwise", "cached"):
        runs = perform_many(predictor, [j for _, j, _ in jobs], max_steps) if jobs else []
    else:
        runs = [run_extracted(extract(predictor, j.description, j.program.n), j.program, d, j.max_steps) for _, j, d in jobs]
    results: list[dict[str, Any]] = [{} for _ in requests]
    for (i, job, data), run in zip(jobs, runs, strict=True):
        program = job.program
        _, divergence = compare(program, data, run, job.max_steps)
        code = extract(predictor, job.description, program.n)
        obj = result_json(program, run.result)
        obj.update({"matches_reference": divergence is None, "first_divergence": divergence, "program": program.name,
                    "rows_matching": rows_matching(code, program), "rows": program.n, "mode": mode})
        obj.update({k: v for k, v in choices[i].to_json().items() if k != "program"})
        results[i] = obj
    for i, c in enumerate(choices):
        if c is not None and c.program is None:
            results[i] = c.to_json()
    return results
