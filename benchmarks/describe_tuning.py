"""The encoder fit of the description read-out, tuned (docs/neural.md, "Descriptions in a
user's own words"): top-1 program of unseen paraphrases from the fitted encoder alone
(``neural/encoder_fit.py``, no rows trained), for variants of its settings, on folds of
``synth experiment describe``.

    python benchmarks/describe_tuning.py [--isa ext] [--folds 0,1]      # ~3 minutes a variant on 2 cores

Each variant prints the top-1 rate by the program keys (what the network uses), by the
nearest training description after fitting ("knn") and by the mean of the two ("mix"); and,
with the fit's calibrated threshold on the keys' scores, the held-out texts accepted as their
own program ("right", what a right run needs once the rows are exact), the accepted ones that
name another ("accepted_wrong", a share of the accepted) and the off-topic texts refused; and
the most frequent confusions by the keys (held-out text's program -> the program named); and
the same three rates when acceptance also asks for a lead over the second program's score.
A variant may set epochs, lr, slot_scale, objective, background (false: none) and margin.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, if not installed

GAPS = (0.02, 0.05, 0.1, 0.15)  # leads over the second program's score, a second acceptance rule tried beside the threshold
VARIANTS = {"recipe": {}, "no background": {"background": False}, "12 epochs": {"epochs": 12},
            "encoder lr 1e-4": {"lr": 1e-4}, "slot scale 20": {"slot_scale": 20}}


def top1(isa: str, folds: list[int], variant: dict) -> dict[str, float]:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from isa.files import read_lines
    from neural.corpus import Corpus
    from neural.encoder_fit import embed, fit_encoder, scores
    from neural.experiments.describe import DescribeConfig
    from neural.experiments.describe_data import load_off_topic, load_paraphrases
    from neural.train import build

    config = DescribeConfig(isas=(isa,), backbones=("pretrained",))
    _, _, _, dealt = config.deal(isa, load_paraphrases(config.paraphrases))
    device = torch.device("cpu")
    right = {"keys": 0, "knn": 0, "mix": 0}
    total = accepted_right = accepted = refused = 0
    confused: Counter[str] = Counter()
    gaps = {g: [0, 0, 0] for g in GAPS}  # gap -> accepted and right, accepted, off-topic refused
    off_topic = load_off_topic(config.off_topic)
    background = read_lines(config.background, "background file") if config.background and variant.get("background", True) else None
    for i in folds:
        fold = dealt[i]
        recipe = config.recipe("pretrained").with_settings(**{k: v for k, v in variant.items() if k == "slot_scale"})
        corpus = Corpus(isa=isa, programs=fold.train)
        torch.manual_seed(0)
        model, tokenizer = build(recipe, corpus)
        model.train()
        calibration = fit_encoder(model, corpus, tokenizer, epochs=variant.get("epochs", recipe.encoder_epochs),
                                  lr=variant.get("lr", recipe.encoder_lr), keys_lr=recipe.lr,
                                  quantile=recipe.calibration_quantile, seed=0, device=device,
                                  objective=variant.get("objective", recipe.encoder_objective), background=background,
                                  margin=variant.get("margin", recipe.background_margin))
        threshold = calibration["threshold"]
        names = [p.name for p in corpus.programs]
        held = [t for _, t in fold.held]
        truth = [p for p, _ in fold.held]
        by_keys = scores(model, tokenizer, held, device)
        train = [(p.name, d) for p in corpus.programs for d in corpus.descriptions(p)]
        zt = F.normalize(embed(model, tokenizer, [d for _, d in train], device), dim=-1)
        zh = F.normalize(embed(model, tokenizer, held, device), dim=-1)
        sim = (zh @ zt.T).numpy()
        knn = np.stack([sim[:, [j for j, (q, _) in enumerate(train) if q == n]].max(1) for n in names], 1)
        for label, s in (("keys", by_keys), ("knn", knn), ("mix", (by_keys + knn) / 2)):
            right[label] += sum(names[j] == t for j, t in zip(s.argmax(1), truth, strict=True))
        total += len(held)
        confused.update(f"{t} -> {names[j]}" for j, t in zip(by_keys.argmax(1), truth, strict=True) if names[j] != t)
        took = by_keys.max(1) >= threshold
        accepted += int(took.sum())
        accepted_right += sum(bool(a) and names[j] == t for a, j, t in zip(took, by_keys.argmax(1), truth, strict=True))
        off = scores(model, tokenizer, off_topic, device)
        refused += int((off.max(1) < threshold).sum())
        lead, lead_off = _lead(by_keys), _lead(off)
        for g, counts in gaps.items():  # also ask for a lead of g over the second program
            ok = took & (lead >= g)
            counts[0] += sum(bool(a) and names[j] == t for a, j, t in zip(ok, by_keys.argmax(1), truth, strict=True))
            counts[1] += int(ok.sum())
            counts[2] += int(((off.max(1) < threshold) | (lead_off < g)).sum())
    return {label: round(r / total, 3) for label, r in right.items()} | {
        "right": round(accepted_right / total, 3), "accepted_wrong": round(1 - accepted_right / max(accepted, 1), 3),
        "off_topic_refused": round(refused / (len(off_topic) * len(folds)), 3), "texts": total,
        "confused": dict(confused.most_common(12)),
        "with_lead": {f"{g:g}": {"right": round(r / total, 3), "accepted_wrong": round(1 - r / max(a, 1), 3),
                                 "off_topic_refused": round(o / (len(off_topic) * len(folds)), 3)}
                      for g, (r, a, o) in gaps.items()}}


def _lead(s):  # (texts, programs) -> (texts,)
    """Each row's best score minus its second best."""
    import numpy as np

    top2 = np.sort(s, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isa", default="ext")
    ap.add_argument("--folds", default="0,1")
    ap.add_argument("--variants", help="a JSON object, name -> settings (epochs, lr, slot_scale, objective)")
    args = ap.parse_args()
    variants = json.loads(args.variants) if args.variants else VARIANTS
    for name, variant in variants.items():
        t0 = time.perf_counter()
        print(json.dumps({"variant": name, **variant, **top1(args.isa, [int(f) for f in args.folds.split(",")], variant),
                          "seconds": round(time.perf_counter() - t0)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
