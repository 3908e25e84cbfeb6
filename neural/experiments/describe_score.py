"""Scoring the programs-from-descriptions experiment: what a trained Synthesizer does with
held-out paraphrases and off-topic texts, and two baselines that use no Synthesizer.

For a held-out paraphrase of program P, asked as ``synth exec --desc TEXT`` asks:

* **refused**: the network's best score is below the calibrated threshold: nothing runs;
* **top-1**: the program the network reads the text as (its best slot, threshold or not) is P;
* **right program runs**: accepted, the program is P, and every one of P's ``.test`` runs,
  with the network giving every instruction, halts with the expected outputs (checked by
  extraction when the network's whole program is P's, else stepwise through the network);
* **accepted wrong**: accepted, and not a right run (another program, or P performed wrongly).

An off-topic text is right when it is refused. A training description's check: the
network's whole program for it is the compiled program (true by construction once
training stopped at exactness: a check, not a finding).

Baselines (no Synthesizer; the program they name then runs its compiled code, so a right
run is an accepted right top-1): **word overlap**, the program of the training description
whose word set is nearest (Jaccard); **embedding nearest neighbour**, the program of the
training description whose pretrained sentence embedding (all-MiniLM-L6-v2, frozen, mean
pooled) is nearest (cosine). Each refuses below a threshold calibrated as the Synthesizer's
is (neural/encoder_fit.py), from the last training description of every program held out
of its own memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from isa.base import Status, wrap
from isa.convention import initial_data
from isa.program import Program, TestCase


def calibrate(own: np.ndarray, other: np.ndarray, quantile: float) -> float:
    """Halfway between the low ``quantile`` of held-out texts' scores for their own program
    and the high ``1 - quantile`` of their best scores for any other program."""
    return (float(np.quantile(own, quantile)) + float(np.quantile(other, 1 - quantile))) / 2


@dataclass
class Item:
    kind: str  # "heldout" or "off_topic"
    program: str | None  # the paraphrase's program (None: off-topic)
    text: str
    chosen: str | None  # the program run (None: refused)
    top: str  # the network's best program, threshold or not
    score: float
    right: bool  # heldout: the right program ran right; off-topic: refused

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def passes(program: Program, test: TestCase, status: Status, memory: np.ndarray) -> bool:
    """The run halted and every ``.expect`` cell holds its value (as ``synth test``)."""
    if status != Status.HALTED:
        return False
    for label, values in test.expect.items():
        s = program.symbol(label)
        if [int(v) for v in memory[s.address : s.address + len(values)]] != [wrap(v, program.word_bits) for v in values]:
            return False
    return True


def reference_steps(programs: list[Program]) -> dict[str, list[int]]:
    """Each program's tests' reference step counts (every library test passes: ``synth test``)."""
    from compiler.testing import run_test

    return {p.name: [run_test(p, t).steps for t in p.tests] for p in programs}


def runs_right(predictor: Any, program: Program, text: str, steps: list[int]) -> bool:
    """Every test of ``program`` halts with its expected outputs, the network giving each
    instruction for ``text`` (extraction first: the network's whole program is the
    compiled one, so every run is the reference run)."""
    from neural.execute import Job, extract, perform_many

    code = extract(predictor, text, program.n)
    if np.array_equal(code, program.code):
        return True
    jobs = [Job(program, text, initial_data(program, t.set), max_steps=min(t.max_steps, 2 * s + 100))
            for t, s in zip(program.tests, steps, strict=True)]
    runs = perform_many(predictor, jobs)
    return all(passes(program, t, r.result.status, r.result.data) for t, r in zip(program.tests, runs, strict=True))


def score_synthesizer(ckpt: Any, held: list[tuple[str, str]], off_topic: list[str], steps: dict[str, list[int]]) -> dict[str, Any]:
    """The Synthesizer's items and rates for one fold (see the module's docstring)."""
    from neural.choose import choose_many, threshold_of
    from neural.execute import MemoPredictor, NetworkPredictor, extract

    corpus = ckpt.corpus
    predictor = MemoPredictor(NetworkPredictor.from_checkpoint(ckpt))
    threshold = threshold_of(ckpt.state)
    texts = [t for _, t in held] + off_topic
    choices = choose_many(corpus, predictor, [(None, t) for t in texts], threshold)
    items = []
    for i, (text, choice) in enumerate(zip(texts, choices, strict=True)):
        program = held[i][0] if i < len(held) else None
        top = choice.candidates[0][0] if choice.candidates else (choice.program.name if choice.program else "")
        chosen = choice.program.name if choice.program is not None else None
        if program is None:
            right = chosen is None
        else:
            right = chosen == program and runs_right(predictor, corpus.program(program), text, steps[program])
        items.append(Item("heldout" if program else "off_topic", program, text, chosen, top, float(choice.confidence or 0.0), right))
    trained_exact = sum(np.array_equal(extract(predictor, d, p.n), p.code) for p in corpus.programs for d in corpus.descriptions(p))
    trained = sum(len(corpus.descriptions(p)) for p in corpus.programs)
    return {**rates(items), "training_descriptions": trained, "training_exact": int(trained_exact), "threshold": threshold,
            "items": [i.to_json() for i in items]}


def rates(items: list[Item]) -> dict[str, Any]:
    held = [i for i in items if i.kind == "heldout"]
    off = [i for i in items if i.kind == "off_topic"]
    accepted = [i for i in held if i.chosen is not None]
    return {"heldout": len(held), "right": sum(i.right for i in held), "top1": sum(i.top == i.program for i in held),
            "accepted": len(accepted), "accepted_wrong": sum(not i.right for i in accepted),
            "off_topic": len(off), "off_topic_refused": sum(i.right for i in off)}


# -- baselines -------------------------------------------------------------------------------------


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def word_scores(train: dict[str, list[str]]) -> Callable[[list[str]], np.ndarray]:
    """texts -> (T, programs) the best Jaccard overlap with each program's training descriptions."""
    names = list(train)
    sets = {n: [words(d) for d in train[n]] for n in names}

    def scores(texts: list[str]) -> np.ndarray:
        return np.array([[max(jaccard(words(t), d) for d in sets[n]) for n in names] for t in texts])

    return scores


def embedding_scores(train: dict[str, list[str]], embed: Callable[[list[str]], np.ndarray]) -> Callable[[list[str]], np.ndarray]:
    """texts -> (T, programs) the best cosine of each text's embedding with each program's
    training descriptions'."""
    names = list(train)
    banks = {n: embed(train[n]) for n in names}

    def scores(texts: list[str]) -> np.ndarray:
        z = embed(texts)
        return np.stack([(z @ banks[n].T).max(1) for n in names], axis=1)

    return scores


def pretrained_embedder() -> Callable[[list[str]], np.ndarray]:
    """The packaged encoder, frozen: unit-length mean-pooled embeddings (as sentence-transformers pools)."""
    import torch

    from neural import pretrained
    from neural.tokenizer import SynthTokenizer

    path = pretrained.directory()
    bert = pretrained.load_bert(path).eval()
    tok = SynthTokenizer.from_pretrained_dir(path, None)

    @torch.no_grad()
    def embed(texts: list[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), 128):
            batch = tok.batch(tok.encode_descriptions(texts[i : i + 128]), None)
            states = bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            m = batch["attention_mask"].unsqueeze(-1).float()
            z = (states * m).sum(1) / m.sum(1)
            out.append(torch.nn.functional.normalize(z, dim=-1).numpy())
        return np.concatenate(out)

    return embed


def score_baseline(make: Callable[[dict[str, list[str]]], Callable[[list[str]], np.ndarray]], train: dict[str, list[str]],
                   held: list[tuple[str, str]], off_topic: list[str], quantile: float,
                   background: list[str] | None = None) -> dict[str, Any]:
    """A retrieval baseline's rates: its threshold from the last training description of each
    program (with 3 or more) held out of a memory of the others, and from the best scores of
    the ``background`` texts (which mean no program), as the Synthesizer's encoder fit does."""
    names = list(train)
    inner = {n: (d[:-1] if len(d) >= 3 else d) for n, d in train.items()}
    probe = [(n, d[-1]) for n, d in train.items() if len(d) >= 3]
    threshold = None
    if probe:
        memory = make(inner)
        s = memory([t for _, t in probe])
        truth = np.array([names.index(n) for n, _ in probe])
        own = s[np.arange(len(probe)), truth]
        other = np.where(np.arange(len(names))[None, :] == truth[:, None], -np.inf, s).max(1)
        if background:
            other = np.concatenate([other, memory(background).max(1)])
        threshold = calibrate(own, other, quantile)
    scores = make(train)
    texts = [t for _, t in held] + off_topic
    s = scores(texts)
    items = []
    for i, text in enumerate(texts):
        best = int(s[i].argmax())
        accepted = threshold is None or s[i, best] >= threshold
        program = held[i][0] if i < len(held) else None
        chosen = names[best] if accepted else None
        right = (chosen is None) if program is None else chosen == program
        items.append(Item("heldout" if program else "off_topic", program, text, chosen, names[best], float(s[i, best]), right))
    return {**rates(items), "threshold": threshold}
