"""Fine-tuning the description encoder, and calibrating when an unseen description is refused.

For a Synthesizer with the description read-out (neural/model.py, ``DescriptionBackbone``),
before the rows are learned:

1. each program's slot key starts as the mean z of its training descriptions;
2. the encoder and the keys are trained on description -> program (cross-entropy of
   ``scale * cos(z, keys)``), which ties the paraphrases of one program together and pushes
   other programs' away, with one training description of each program (that has three or
   more) held out;
   With ``background`` texts (ones that describe no program: other tasks, small talk),
   each step also takes a batch of them and adds ``mean(relu(max cos(z_bg, keys) - margin))``,
   which keeps a text that means nothing stored away from every key (outlier exposure,
   Hendrycks et al. 2019, with the refusal score itself as the loss); every fifth
   background text is held out of it;
3. the held-out descriptions give the refusal threshold: halfway between the low
   ``quantile`` of their scores for their own program (cos(z, key): the network's
   confidence) and the high ``1 - quantile`` of the best scores of texts that mean
   something else: held-out descriptions for any other program, and the held-out
   background texts;
4. training goes on with the held-out descriptions folded back in, and the encoder is then
   frozen (its z cached), so that the rows are learned on fixed description features.

The threshold thus comes from paraphrases the encoder had not been trained on when it was
measured, and is stored in the checkpoint (``state["calibration"]``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from neural.corpus import Corpus
from neural.tokenizer import SynthTokenizer


def description_inputs(tokenizer: SynthTokenizer, texts: list[str], device: torch.device) -> dict[str, torch.Tensor]:
    """Rows laid out as the model reads them (C_t = 0, which the description read-out ignores)."""
    batch = tokenizer.batch(tokenizer.encode_descriptions(texts), torch.zeros(len(texts), dtype=torch.long))
    return {k: v.to(device) for k, v in batch.items()}


@torch.no_grad()
def embed(model: Any, tokenizer: SynthTokenizer, texts: list[str], device: torch.device, batch: int = 256) -> torch.Tensor:
    was = model.training
    model.eval()
    out = []
    for i in range(0, len(texts), batch):
        x = description_inputs(tokenizer, texts[i : i + batch], device)
        out.append(model.backbone.embed_descriptions(x["input_ids"], x["attention_mask"]))
    model.train(was)
    return torch.cat(out)


def scores(model: Any, tokenizer: SynthTokenizer, texts: list[str], device: torch.device) -> np.ndarray:
    """(len(texts), programs) cos(z, key)."""
    z = embed(model, tokenizer, texts, device)
    return (F.normalize(z, dim=-1) @ F.normalize(model.backbone.keys, dim=-1).T).detach().cpu().numpy()


def fit_encoder(model: Any, corpus: Corpus, tokenizer: SynthTokenizer, *, epochs: int, lr: float, keys_lr: float,
                quantile: float, seed: int, device: torch.device, batch_size: int = 32, objective: str = "slots",
                background: list[str] | None = None, margin: float = 0.2,
                say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Steps 1-4 above; returns the calibration (threshold, quantile, held-out counts)."""
    backbone = model.backbone
    background = list(background or [])
    if background and objective != "slots":
        raise ValueError("background texts are for the slots objective")
    bg_held = background[4::5] if len(background) >= 5 else []
    bg_train = [t for i, t in enumerate(background) if len(background) < 5 or i % 5 != 4]
    bg_pool = bg_train
    texts = [d for p in corpus.programs for d in corpus.descriptions(p)]
    labels = [i for i, p in enumerate(corpus.programs) for _ in corpus.descriptions(p)]
    held = set()
    for i in range(len(corpus.programs)):
        own = [j for j, label in enumerate(labels) if label == i]
        if len(own) >= 3:
            held.add(own[-1])
    with torch.no_grad():  # 1. prototypes
        z = embed(model, tokenizer, texts, device)
        for i in range(len(corpus.programs)):
            own = [j for j, label in enumerate(labels) if label == i and j not in held]
            backbone.keys[i] = z[own].mean(0)
    params = [{"params": [p for p in backbone.encoder.parameters() if p.requires_grad], "lr": lr},
              {"params": [backbone.keys], "lr": keys_lr}]
    optimizer = torch.optim.AdamW(params, weight_decay=0.0)
    generator = torch.Generator().manual_seed(seed * 1_000_003 + 17)
    y = torch.tensor(labels, dtype=torch.long, device=device)

    def background_loss() -> torch.Tensor:
        """The best cos(z, key) of a batch of background texts, kept below the margin."""
        pick = torch.randint(len(bg_pool), (min(len(bg_pool), max(1, batch_size // 2)),), generator=generator)
        x = description_inputs(tokenizer, [bg_pool[int(i)] for i in pick], device)
        z = F.normalize(backbone.embed_descriptions(x["input_ids"], x["attention_mask"]), dim=-1)
        best = (z @ F.normalize(backbone.keys, dim=-1).T).max(-1).values
        return F.relu(best - margin).mean()

    def run_epochs(count: int, pool: list[int]) -> float:
        loss_value = 0.0
        backbone.train()
        for _ in range(count):
            order = [pool[int(i)] for i in torch.randperm(len(pool), generator=generator)]
            for start in range(0, len(order), batch_size):
                index = order[start : start + batch_size]
                x = description_inputs(tokenizer, [texts[j] for j in index], device)
                z = backbone.embed_descriptions(x["input_ids"], x["attention_mask"])
                loss = F.cross_entropy(backbone.program_logits(z), y[index])
                if bg_pool:
                    loss = loss + background_loss()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for g in params for p in g["params"]], 1.0)
                optimizer.step()
                loss_value = loss.item()
        return loss_value

    def run_pair_epochs(count: int, pool: list[int]) -> float:
        """Pairs of descriptions, cos(z_i, z_j) pulled to 1 for one program and 0 for two (SetFit's
        contrastive fine-tuning); then the keys are the programs' mean directions."""
        loss_value = 0.0
        backbone.train()
        by_program: dict[int, list[int]] = {}
        for j in pool:
            by_program.setdefault(labels[j], []).append(j)
        for _ in range(count):
            pairs = []
            for j in pool:
                same = by_program[labels[j]]
                others = [k for k in pool if labels[k] != labels[j]]
                pairs.append((j, same[int(torch.randint(len(same), (1,), generator=generator))], 1.0))
                pairs.append((j, others[int(torch.randint(len(others), (1,), generator=generator))], 0.0))
            order = [pairs[int(i)] for i in torch.randperm(len(pairs), generator=generator)]
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                x = description_inputs(tokenizer, [texts[a] for a, _, _ in chunk] + [texts[b] for _, b, _ in chunk], device)
                z = F.normalize(backbone.embed_descriptions(x["input_ids"], x["attention_mask"]), dim=-1)
                cos = (z[: len(chunk)] * z[len(chunk):]).sum(-1)
                loss = F.mse_loss(cos, torch.tensor([t for _, _, t in chunk], device=device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for g in params for p in g["params"]], 1.0)
                optimizer.step()
                loss_value = loss.item()
        with torch.no_grad():
            z = F.normalize(embed(model, tokenizer, texts, device), dim=-1)
            for i in range(len(corpus.programs)):
                own = [j for j in pool if labels[j] == i]
                backbone.keys[i] = z[own].mean(0)
        return loss_value

    train_pool = [j for j in range(len(texts)) if j not in held]
    run = run_pair_epochs if objective == "pairs" else run_epochs
    loss_a = run(epochs, train_pool)  # 2.
    calibration: dict[str, Any] = {"score": "max cos(z, key)", "quantile": quantile, "heldout": len(held)}
    if held:  # 3.
        order = sorted(held)
        s = scores(model, tokenizer, [texts[j] for j in order], device)  # (H, programs)
        truth = np.array([labels[j] for j in order])
        own = s[np.arange(len(order)), truth]
        other = np.where(np.arange(s.shape[1])[None, :] == truth[:, None], -np.inf, s).max(1) if s.shape[1] > 1 else own * 0
        if bg_held:
            bg_best = scores(model, tokenizer, bg_held, device).max(1)
            calibration.update(background=len(bg_held), background_scores=[round(float(v), 4) for v in bg_best])
            other = np.concatenate([other, bg_best])
        low, high = float(np.quantile(own, quantile)), float(np.quantile(other, 1 - quantile))
        calibration.update(threshold=(low + high) / 2, own_low=low, other_high=high, heldout_right=int((s.argmax(1) == truth).sum()),
                           heldout_scores=[round(float(v), 4) for v in own], heldout_other=[round(float(v), 4) for v in other])
    else:
        calibration.update(threshold=None, heldout_right=0, heldout_scores=[])
    bg_pool = background  # 4., the held-out background folded back in too
    loss_b = run(max(1, epochs // 2), list(range(len(texts))))
    backbone.freeze_encoder()
    model.config.extra["encoder_frozen"] = True
    if say is not None:
        say(f"synth: encoder fitted on {len(texts)} descriptions and {len(background)} background texts "
            f"({len(held)} and {len(bg_held)} held out for calibration, "
            f"{calibration['heldout_right']} of them read as their program); loss {loss_a:.3g} -> {loss_b:.3g}; "
            f"threshold {calibration['threshold']}")
    return calibration
