"""Self-pretraining: a BERT's masked-language-model pass over a task's own training texts.

No outside text: the network reads only the sentences it will later be trained to
classify, without their labels, and learns to fill in masked words (BERT's objective: 15%
of the word pieces chosen, 80% of those replaced by [MASK], 10% by a random piece, 10%
left; the loss on the chosen ones only). The result is an ordinary local pretrained
directory (``config.json``, ``model.safetensors``, ``tokenizer.json``), which a
``TrainConfig`` names as ``pretrained`` and ``tokenizer``, so that any task starts from it
as it starts from the packaged encoder (neural/pretrained.py).

The tasks do not all read a text as the pass would by default (``[CLS] text [SEP]``, token
type 0, words from position 1): the Synthesizer reads it as a description, token type 1,
after [C:t] and a prompt (SST-2: from position 9 in soft-instruction, 15 in
soft-imperative). ``MLMConfig.shift`` and ``type1`` make the pass read each sentence at a
random offset and token type (``layout``), so that the positions and the type a task
will use are ones the pass has trained.

Resumable: the state (weights, AdamW, step) is saved under ``DIR/partial/`` every
``save_every`` steps and on Ctrl-C; the batches, the masks and the dropout are pure
functions of (seed, step), so a resumed run ends with the weights of an uninterrupted one.
``DIR/mlm.json`` is written last: a directory without it is unfinished.

    pretrain(texts, tokenizer, network, MLMConfig(), seed, DIR) -> the record (mlm.json)
    finished(DIR) -> the record, or None
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from isa.base import SynthError
from isa.files import default_mode, read_json, write_atomic
from neural import checkpoint
from neural.config import TrainConfig
from neural.data import LengthBuckets
from neural.tokenizer import BERT_SPECIALS, MASK, SynthTokenizer
from neural.train import adamw, param_groups

RECORD = "mlm.json"
PARTIAL = "partial"
MAX_SHIFT = 256  # positions: BERT's 512 less the longest texts


@dataclass
class MLMConfig:
    epochs: float = 3.0  # passes over the texts
    batch_size: int = 128
    lr: float = 1e-3  # AdamW peak, linear warm-up then linear decay to 0
    betas: tuple[float, float] = (0.9, 0.98)
    weight_decay: float = 0.01  # not on biases and LayerNorm weights
    warmup: float = 0.1  # share of the steps spent warming up
    mask: float = 0.15  # share of the word pieces predicted
    grad_clip: float = 1.0
    save_every: int = 250
    # How the tasks will lay the texts out (``layout``): each sentence's words start at a random
    # position 1 .. 1 + shift (after a prompt, as in the Synthesizer's descriptions), and a share
    # type1 of the sentences is read as token type 1 (a description's); 0, 0: [CLS] text [SEP], type 0.
    shift: int = 0
    type1: float = 0.0

    def validate(self) -> MLMConfig:
        if not (self.epochs > 0 and math.isfinite(self.epochs)) or self.batch_size < 1 or not self.lr > 0 or self.save_every < 1:
            raise SynthError("self-pretraining: epochs and lr must be > 0, batch_size and save_every >= 1")
        if not 0 < self.mask < 1 or not 0 <= self.warmup < 1:
            raise SynthError("self-pretraining: mask must lie in (0, 1) and warmup in [0, 1)")
        if not 0 <= self.shift <= MAX_SHIFT or not 0 <= self.type1 <= 1:
            raise SynthError(f"self-pretraining: shift must lie in [0, {MAX_SHIFT}] and type1 in [0, 1]")
        return self

    def to_json(self) -> dict[str, Any]:
        """The settings; the layout's only where not the plain one, so that a pass recorded
        before they existed is the same pass."""
        obj = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}
        for k in ("shift", "type1"):
            if not obj[k]:
                del obj[k]
        return obj


def fingerprint(texts: list[str], tokenizer: SynthTokenizer, network: TrainConfig, config: MLMConfig,
                seed: int) -> dict[str, Any]:
    """What a self-pretraining was made from: its settings, seed, network and vocabulary
    sizes, and the texts (count and SHA-256). A directory made from anything else is not
    reused or resumed."""
    digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()
    sizes = {k: getattr(network, k) for k in ("hidden_size", "intermediate_size", "num_layers", "num_heads", "dropout",
                                               "init_std")}
    return {"mlm": config.to_json(), "seed": seed, "network": sizes, "vocabulary": tokenizer.base_vocab_size,
            "texts": len(texts), "texts_sha256": digest}


def finished(directory: str | Path, made_from: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The record of a finished self-pretraining in ``directory``, else None; with
    ``made_from`` (a ``fingerprint``), one clear error if it was made from something else."""
    directory = Path(directory)
    path = directory / RECORD
    if not path.is_file():
        return None
    record = read_json(path, "self-pretraining record")
    if not isinstance(record, dict) or not all(isinstance(record.get(k), (int, float)) for k in ("steps", "seconds", "loss")):
        raise SynthError(f"{path}: malformed self-pretraining record; remove {directory} to run the pass again")
    _check_made_from(directory, record.get("made_from"), made_from)
    return record


def _check_made_from(directory: Path, theirs: Any, mine: dict[str, Any] | None) -> None:
    if mine is not None and theirs != json.loads(json.dumps(mine)):
        raise SynthError(f"{directory}: a self-pretraining made from other texts or settings; remove it (or use "
                         "another --out) to run the pass again")


def bert_config(network: TrainConfig, tokenizer: SynthTokenizer) -> Any:
    """The BERT of ``network``'s sizes (hidden, layers, heads, dropout, initialisation), over
    the tokenizer's words and BERT's specials (not the Synthesizer's added tokens, which a
    task adds after them)."""
    from transformers import BertConfig

    return BertConfig(vocab_size=tokenizer.base_vocab_size, hidden_size=network.hidden_size, num_hidden_layers=network.num_layers,
                      num_attention_heads=network.num_heads, intermediate_size=network.intermediate_size,
                      hidden_dropout_prob=network.dropout, attention_probs_dropout_prob=network.dropout,
                      initializer_range=network.init_std, pad_token_id=tokenizer.pad_id, type_vocab_size=2)


def mask_batch(ids: torch.Tensor, attention: torch.Tensor, tokenizer: SynthTokenizer, share: float,
               generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """BERT's masking of a batch laid out by ``tokenizer.batch``: (the corrupted ids, the
    (B, L) bool of the positions to predict, their true ids). Special tokens ([CLS], [SEP],
    [PAD], ...) are never chosen; at least one position is, where the batch has a word."""
    vocab = tokenizer.vocab_size
    special = torch.zeros(vocab, dtype=torch.bool)  # (vocab,): never chosen, never drawn
    for tok in BERT_SPECIALS:
        special[tokenizer.tokenizer.token_to_id(tok)] = True
    special[tokenizer.ct_base : tokenizer.ct_base + tokenizer.max_n] = True
    candidate = (attention == 1) & ~special[ids]
    chosen = candidate & (torch.rand(ids.shape, generator=generator) < share)
    if not chosen.any() and candidate.any():
        first = candidate.nonzero()[0]
        chosen[first[0], first[1]] = True
    targets = ids[chosen]
    corrupted = ids.clone()
    how = torch.rand(ids.shape, generator=generator)
    corrupted[chosen & (how < 0.8)] = tokenizer.tokenizer.token_to_id(MASK)
    swap = chosen & (how >= 0.8) & (how < 0.9)
    words = (~special[: tokenizer.base_vocab_size]).nonzero().flatten()
    corrupted[swap] = words[torch.randint(len(words), (int(swap.sum()),), generator=generator)]
    return corrupted, chosen, targets


def layout(attention: torch.Tensor, shift: int, type1: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Position and token-type ids for a batch laid out as ``[CLS] text [SEP]`` (``attention``
    (B, L), 1 on the real tokens): [CLS] at position 0 and each sentence's words from a random
    1 + o, o uniform in [0, shift]; each sentence of type 1 with probability ``type1`` (its
    words and [SEP], as a Synthesizer description; [CLS] stays type 0). Returns (B, L) int64 each."""
    B, L = attention.shape
    offsets = torch.randint(0, shift + 1, (B, 1), generator=generator)
    positions = torch.arange(L).expand(B, L) + offsets
    positions[:, 0] = 0
    second = torch.rand(B, generator=generator) < type1
    types = (second[:, None] & (attention == 1)).long()
    types[:, 0] = 0
    return positions, types


def pretrain(texts: list[str], tokenizer: SynthTokenizer, network: TrainConfig, config: MLMConfig, seed: int,
             directory: str | Path, device: torch.device | str = "cpu", progress: bool = False,
             say: Any = lambda s: None) -> dict[str, Any]:
    """Self-pretrain a BERT of ``network``'s sizes on ``texts`` and write it to ``directory``
    (resuming an unfinished run there); returns the record also written as ``mlm.json``."""
    from transformers import BertForMaskedLM


    config.validate()
    if not texts:
        raise SynthError("self-pretraining needs at least one text")
    directory = Path(directory)
    made_from = fingerprint(texts, tokenizer, network, config, seed)
    done = finished(directory, made_from)
    if done is not None:
        return done
    device = torch.device(device)
    ids = tokenizer.encode_descriptions(texts)
    bert = bert_config(network, tokenizer)
    longest = max(len(i) for i in ids) + 2 + config.shift  # [CLS] text [SEP], its words shifted by up to shift
    if longest > bert.max_position_embeddings:
        raise SynthError(f"self-pretraining: the longest text ({max(len(i) for i in ids)} word pieces) shifted by up to "
                         f"{config.shift} needs {longest} positions, more than BERT's {bert.max_position_embeddings}; "
                         "use a smaller shift or shorter texts")
    torch.manual_seed(seed)
    model = BertForMaskedLM(bert).to(device).train()
    stream = LengthBuckets(torch.tensor([len(i) for i in ids]), config.batch_size, seed)
    total = max(1, round(config.epochs * stream.per_epoch))
    warm = round(config.warmup * total)
    every = max(1, min(100, total // 20))  # the loss curve's interval (steps)
    optimizer = adamw(param_groups(model, config.weight_decay), lr=config.lr, betas=config.betas)
    partial = directory / PARTIAL
    step, seconds, losses, curve = 0, 0.0, [], []
    if (partial / "state.json").is_file():
        step, seconds, curve, losses = _resume(partial, model, optimizer, made_from)
        say(f"synth: self-pretraining seed {seed}: resuming at step {step} of {total} ({partial})")
    t0 = time.perf_counter()
    from tqdm import tqdm

    bar = tqdm(total=total, initial=step, file=sys.stderr, disable=not progress, desc=f"self-pretraining seed {seed}",
               unit="step", dynamic_ncols=True, leave=False)

    def save() -> None:
        checkpoint.save_partial(partial, model, optimizer, {"step": step, "seconds": seconds + time.perf_counter() - t0,
                                                            "curve": curve, "losses": losses, "made_from": made_from})

    try:
        while step < total:
            lr = config.lr * (step / warm if step < warm else max(0.0, (total - step) / max(1, total - warm)))
            for group in optimizer.param_groups:
                group["lr"] = lr
            batch = tokenizer.batch([ids[int(i)] for i in stream.batch(step)], None)
            g = torch.Generator().manual_seed(seed * 1_000_003 + step)
            torch.manual_seed(seed * 1_000_003 + step)  # dropout too: a step interrupted and run again is the same step
            corrupted, chosen, targets = mask_batch(batch["input_ids"], batch["attention_mask"], tokenizer, config.mask, g)
            positions, types = None, batch["token_type_ids"]
            if config.shift or config.type1:  # (drawn after the masks: a plain pass draws as it always has)
                positions, types = layout(batch["attention_mask"], config.shift, config.type1, g)
                positions = positions.to(device)
            hidden = model.bert(input_ids=corrupted.to(device), attention_mask=batch["attention_mask"].to(device),
                                token_type_ids=types.to(device), position_ids=positions).last_hidden_state
            logits = model.cls(hidden[chosen.to(device)])  # the chosen positions only: (M, vocab)
            loss = F.cross_entropy(logits, targets.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            step += 1
            losses.append(loss.item())
            bar.update(1)
            if step % every == 0 or step == total:
                curve.append({"step": step, "loss": round(sum(losses) / len(losses), 4)})
                losses = []
                bar.set_postfix({"loss": f"{curve[-1]['loss']:.3f}"})
            if step % config.save_every == 0 and step < total:
                save()
    except KeyboardInterrupt:
        bar.close()
        save()
        say(f"synth: self-pretraining interrupted at step {step}; saved {partial} (run the same command to resume)")
        raise
    bar.close()
    seconds += time.perf_counter() - t0
    record = {"seed": seed, "steps": total, "texts": len(texts), "seconds": round(seconds, 1), "loss": curve[-1]["loss"],
              "mlm": config.to_json(), "curve": curve, "made_from": made_from}
    _save_directory(model, tokenizer, directory, record)
    shutil.rmtree(partial, ignore_errors=True)
    return record


def _save_directory(model: Any, tokenizer: SynthTokenizer, directory: Path, record: dict[str, Any]) -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        model.bert.save_pretrained(str(directory), safe_serialization=True)
        for f in directory.glob("*.safetensors"):
            os.chmod(f, default_mode())  # safetensors writes 0600
    except OSError as e:
        raise SynthError(f"{directory}: cannot write the self-pretrained model: {e.strerror or e}") from None
    tokenizer.save_base(directory)
    write_atomic(directory / RECORD, json.dumps(record) + "\n")  # last: the directory is now finished


def _resume(partial: Path, model: Any, optimizer: torch.optim.Optimizer,
            made_from: dict[str, Any]) -> tuple[int, float, list[dict[str, Any]], list[float]]:
    saved = read_json(partial / "state.json", "self-pretraining state")
    _check_made_from(partial.parent, saved.get("made_from") if isinstance(saved, dict) else None, made_from)
    state = checkpoint.load_partial(partial, model, optimizer)
    try:
        return int(state["step"]), float(state["seconds"]), list(state["curve"]), [float(v) for v in state["losses"]]
    except (KeyError, TypeError, ValueError):
        raise SynthError(f"{partial / 'state.json'}: malformed; remove {partial} to start the self-pretraining again") from None
