"""Programs from descriptions (beyond the paper): can the Synthesizer run the right program
for a description in words it never saw, and refuse one that means no program?

For each ISA with static code and each backbone, the example programs' paraphrase pools
are dealt into program-grouped folds (neural/experiments/describe_data.py); for each fold a
Synthesizer with the description read-out is trained on the other folds until every row is
exact (its encoder first fitted to description -> program, its refusal threshold calibrated
on descriptions held out of that fitting: neural/encoder_fit.py), then asked every held-out
paraphrase and every off-topic text (neural/experiments/describe_score.py), beside two
baselines without a Synthesizer (word overlap; the pretrained encoder's nearest neighbour).
Every paraphrase is held out exactly once; figures are the mean and the spread over folds.

    OUT/trials.jsonl      one line per finished (ISA, backbone, fold): rates and items (resumed from)
    OUT/describe.md, describe.json   the fold table
    OUT/models/ISA-BACKBONE          with --final: a model on every paraphrase (what a user would run)
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from isa.base import SynthError
from isa.files import read_lines, write_atomic
from isa.registry import static_isas
from neural.experiments import trials
from neural.experiments.describe_data import (
    example_programs,
    load_off_topic,
    load_paraphrases,
    make_folds,
    pools,
    source_comment,
)
from neural.train import TrainConfig

ISAS = tuple(static_isas())  # every registered ISA with static code
BACKBONES = ("scratch", "pretrained")
BASELINES = ("word-overlap", "embedding-nn")
TARGETS = {"right": 0.90, "accepted_wrong": 0.02, "off_topic_refused": 0.95}  # issue 9, pretrained


def recipe(backbone: str, **overrides: Any) -> TrainConfig:
    """The training of each fold's model (docs/neural.md, "Descriptions in a user's own words")."""
    common = dict(readout="description", lr=2e-3, init_std=0.05, embedding_std=1.0, until_exact=True, max_steps=3000,
                  eval_every=25, save_every=10**9, progress=False, calibration_quantile=0.1,
                  slot_readout="hard")
    if backbone == "pretrained":
        config = TrainConfig(backbone="pretrained", encoder_epochs=6, encoder_objective="slots", encoder_lr=3e-5,
                             slot_scale=10.0, **common)
    elif backbone == "scratch":
        config = TrainConfig(backbone="bert", hidden_size=256, intermediate_size=1024, num_layers=2, num_heads=4,
                             encoder_epochs=20, encoder_objective="slots", slot_scale=10.0, vocab_size=4000, **common)
    else:
        raise SynthError(f"--backbone {backbone!r}: choose {', '.join(BACKBONES)}")
    return config.with_settings(**overrides)


@dataclass
class DescribeConfig:
    isas: tuple[str, ...] = ISAS
    backbones: tuple[str, ...] = BACKBONES
    folds: int = 5
    seed: int = 0  # deals the folds and initialises the networks
    examples: str = "examples"
    paraphrases: str | None = "examples/heldout_paraphrases.json"
    off_topic: str = "examples/off_topic.txt"
    background: str | None = "examples/background.txt"  # texts that mean no program, for the encoder fit and calibration
    programs: tuple[str, ...] | None = None
    comments: bool = True  # the source files' leading comments as training descriptions too (describe_data.py)
    baselines: bool = True
    final: bool = False  # also train each (ISA, backbone) on every paraphrase, kept under OUT/models/
    device: str = "cpu"
    progress: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)  # TrainConfig settings for every backbone (tests: a tiny model)

    def validate(self) -> DescribeConfig:
        for isa in self.isas:
            if isa not in ISAS:
                raise SynthError(f"--isa {isa!r}: the experiment runs on {', '.join(ISAS)} (ISAs with static code)")
        if not self.isas or not self.backbones:
            raise SynthError("give at least one ISA and one backbone")
        for b in self.backbones:
            self.recipe(b)
        if self.folds < 2:
            raise SynthError("--folds must be at least 2")
        return self

    def recipe(self, backbone: str) -> TrainConfig:
        return recipe(backbone, seed=self.seed, device=self.device, progress=self.progress,
                      **{"background": self.background, **self.overrides})

    def deal(self, isa: str, paraphrases: dict[str, list[str]]) -> tuple[list[Any], list[str], dict[str, list[str]], list[Any]]:
        """ISA's example programs, those skipped, their source comments (training descriptions
        too, with ``comments``) and the program-grouped folds of their paraphrases."""
        programs, skipped = example_programs(self.examples, isa, self.programs)
        comments = {p.name: [c] for p in programs if self.comments and (c := source_comment(Path(self.examples) / f"{p.name}.sasm"))}
        return programs, skipped, comments, make_folds(programs, pools(programs, paraphrases), self.folds, self.seed, comments)

    def key(self) -> dict[str, Any]:
        """What makes two trials comparable: every backbone's recipe, whichever of them this
        run trains, so that the backbones may be run one at a time into one OUT."""
        obj = {k: v for k, v in asdict(self).items() if k not in ("isas", "backbones", "device", "progress", "final", "baselines")}
        obj["recipes"] = {b: {k: v for k, v in self.recipe(b).to_json().items() if k not in ("device", "progress")}
                          for b in BACKBONES}
        return obj


def run(config: DescribeConfig, out: str | Path, say: Callable[[str], None] = lambda s: None) -> list[dict[str, Any]]:
    """Every (ISA, backbone, fold) trial and the baselines, reusing those recorded in OUT."""
    from neural import checkpoint
    from neural.experiments.describe_score import reference_steps, score_baseline, score_synthesizer, word_scores
    from neural.train import train

    config.validate()
    out = Path(out)
    key = config.key()
    done = {(r["isa"], r["backbone"], r["fold"]): r for r in trials.load(out, key)}
    off_topic = load_off_topic(config.off_topic)
    background = read_lines(config.background, "background file") if config.background else []
    paraphrases = load_paraphrases(config.paraphrases)
    records = []
    embedder = None
    for isa in config.isas:
        programs, skipped, comments, folds = config.deal(isa, paraphrases)
        steps = reference_steps(programs)
        for fold in folds:
            train_texts = {p.name: list(p.descriptions) for p in fold.train}
            names = [*config.backbones, *(BASELINES if config.baselines else ())]
            for name in names:
                record = done.get((isa, name, fold.index))
                if record is None:
                    t0 = time.perf_counter()
                    if name in BASELINES:
                        if name == "word-overlap":
                            rates = score_baseline(word_scores, train_texts, fold.held, off_topic, 0.1, background)
                        else:
                            if embedder is None:
                                from neural.experiments.describe_score import embedding_scores, pretrained_embedder

                                embedder = pretrained_embedder()
                            rates = score_baseline(lambda t, e=embedder: embedding_scores(t, e), train_texts, fold.held,
                                                   off_topic, 0.1, background)
                        info: dict[str, Any] = {}
                    else:
                        from neural.corpus import Corpus

                        corpus = Corpus(isa=isa, programs=fold.train)
                        model_dir = out / "models" / f".fold-{isa}-{name}-{fold.index}"
                        shutil.rmtree(model_dir, ignore_errors=True)
                        result = train(config.recipe(name), corpus, model_dir, resume=False)
                        ckpt = checkpoint.load(model_dir, config.device)
                        rates = score_synthesizer(ckpt, fold.held, off_topic, steps)
                        info = {"exact": result.exact, "steps": result.exact_at or result.steps,
                                "train_seconds": round(result.seconds, 1), "calibration": ckpt.state.get("calibration")}
                        shutil.rmtree(model_dir, ignore_errors=True)
                    record = {"isa": isa, "backbone": name, "fold": fold.index, "programs": len(programs), "skipped": skipped,
                              **info, **rates, "seconds": round(time.perf_counter() - t0, 1)}
                    trials.record(out, record, key)
                    tag = ""
                else:
                    tag = " (recorded)"
                say(f"synth: {isa} {name} fold {fold.index}: right {record['right']}/{record['heldout']}, top-1 "
                    f"{record['top1']}/{record['heldout']}, accepted wrong {record['accepted_wrong']}/{record['accepted']}, "
                    f"off-topic refused {record['off_topic_refused']}/{record['off_topic']}, {record['seconds']:.0f} s{tag}")
                records.append(record)
        if config.final:
            train_final(config, isa, programs, paraphrases, comments, out, say)
    return records


def train_final(config: DescribeConfig, isa: str, programs: list[Any], paraphrases: dict[str, list[str]],
                comments: dict[str, list[str]], out: Path, say: Callable[[str], None]) -> None:
    """Each backbone's model on every paraphrase of every program (OUT/models/ISA-BACKBONE)."""
    from dataclasses import replace

    from neural import checkpoint
    from neural.corpus import Corpus
    from neural.train import train

    pool = pools(programs, paraphrases)
    corpus = Corpus(isa=isa, programs=[replace(p, descriptions=pool[p.name] + [c for c in comments.get(p.name, [])
                                                                              if c not in pool[p.name]]) for p in programs])
    for backbone in config.backbones:
        model_dir = out / "models" / f"{isa}-{backbone}"
        if checkpoint.has_checkpoint(model_dir):
            say(f"synth: {model_dir} already holds the final model")
            continue
        result = train(config.recipe(backbone), corpus, model_dir, resume=False)
        say(f"synth: final {isa} {backbone} model: {'exact' if result.exact else 'NOT exact'} after {result.steps} steps; {model_dir}")


# -- the table ----------------------------------------------------------------------------------------


METRICS = (("right", "heldout", "right program runs"), ("top1", "heldout", "top-1 program"),
           ("off_topic_refused", "off_topic", "off-topic refused"), ("accepted_wrong", "accepted", "accepted runs wrong"))


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (ISA, backbone or baseline): each rate's mean over folds and its spread (min-max), in percent."""
    rows = []
    isas = list(dict.fromkeys(r["isa"] for r in records))
    order = ("pretrained", "scratch", *BASELINES)  # the shipped backbone first, then the others beside it
    pairs = sorted(dict.fromkeys((r["isa"], r["backbone"]) for r in records),
                   key=lambda p: (isas.index(p[0]), order.index(p[1]) if p[1] in order else len(order)))
    for isa, backbone in pairs:
        mine = sorted((r for r in records if r["isa"] == isa and r["backbone"] == backbone), key=lambda r: r["fold"])
        row: dict[str, Any] = {"isa": isa, "backbone": backbone, "folds": len(mine), "programs": mine[0]["programs"],
                               "heldout": sum(r["heldout"] for r in mine), "off_topic": mine[0]["off_topic"]}
        for metric, base, _ in METRICS:
            per_fold = [100 * r[metric] / r[base] if r[base] else 0.0 for r in mine]
            row[metric] = {"mean": round(statistics.fmean(per_fold), 1), "min": round(min(per_fold), 1),
                           "max": round(max(per_fold), 1), "pooled": f"{sum(r[metric] for r in mine)}/{sum(r[base] for r in mine)}"}
        if "training_exact" in mine[0]:
            row["training_exact"] = f"{sum(r['training_exact'] for r in mine)}/{sum(r['training_descriptions'] for r in mine)}"
            row["train_seconds"] = round(statistics.fmean(r.get("train_seconds", 0.0) for r in mine), 1)
        rows.append(row)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| ISA | model | folds | held-out paraphrases | right program runs | top-1 program | off-topic refused "
             "| accepted runs wrong | training descriptions exact (check) |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        cells = [f"{r[m]['mean']:.1f}% ({r[m]['min']:.0f}-{r[m]['max']:.0f})" for m, _, _ in METRICS]
        model = f"Synthesizer, {r['backbone']}" if r["backbone"] in BACKBONES else f"{r['backbone']} (no Synthesizer)"
        lines.append(f"| {r['isa']} | {model} | {r['folds']} | {r['heldout']} | " + " | ".join(cells)
                     + f" | {r.get('training_exact', '-')} |")
    lines += ["", "Mean over the folds, (lowest-highest fold) in brackets. Right program runs: the text, asked as "
              "`synth exec --desc TEXT`, is accepted, names its program, and every one of the program's tests halts with its "
              "expected outputs with the network giving every instruction. Accepted runs wrong: of the accepted held-out "
              "texts, those that ran another program or ran theirs wrongly. Off-topic: the texts of examples/off_topic.txt, "
              "refused or not. Baselines name a program by retrieval and then run its compiled code."]
    return "\n".join(lines) + "\n"


def previous_commands(path: Path) -> dict[str, str]:
    """The last finished command of each backbone in an earlier describe.json (a command names
    only the backbones it ran; the records of the others stay in trials.jsonl)."""
    import json

    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(old, dict):
        return {}
    if isinstance(old.get("commands"), dict):
        return {str(k): str(v) for k, v in old["commands"].items()}
    backbones = (old.get("config") or {}).get("backbones") or []
    return {str(b): str(old["command"]) for b in backbones} if "command" in old else {}


def write(records: list[dict[str, Any]], out: str | Path, config: DescribeConfig, machine: str, command: str) -> list[dict[str, Any]]:
    import json

    out = Path(out)
    rows = summarise(records)
    write_atomic(out / "describe.md", markdown(rows))
    obj = {"experiment": "describe", "date": time.strftime("%Y-%m-%d"), "machine": machine, "command": command,
           "commands": {**previous_commands(out / "describe.json"), **{b: command for b in config.backbones}},
           "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
           "recipes": {b: config.recipe(b).to_json() for b in config.backbones}, "targets": TARGETS, "rows": rows}
    write_atomic(out / "describe.json", json.dumps(obj, indent=1) + "\n")
    return rows
