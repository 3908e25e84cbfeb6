"""RESULTS.md's tables, written from the result files kept under results/.

    python benchmarks/results_md.py             # print every section
    python benchmarks/results_md.py --write-md  # write them into RESULTS.md between their markers
    python benchmarks/results_md.py --check     # exit 1 if RESULTS.md differs from what the files say

Each section is a function of files under results/ (small JSON written by the experiments'
own commands, never models), so rerunning a command and then this script reproduces the
table; nothing in a section is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, if not installed

from benchmarks.common import write_block  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "results"
RESULTS_MD = REPO / "RESULTS.md"
COMMAND = "python benchmarks/results_md.py --write-md"


def _json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _records(path: Path) -> list[dict]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


# -- Experiment 1 (Table 1) -----------------------------------------------------------------------

MEMORIZE_RUNS = {"CPU": RESULTS / "memorize-cpu", "GPU": RESULTS / "memorize-gpu",
                 "CPU, past the paper (N)": RESULTS / "memorize-large", "CPU, past the paper (length)": RESULTS / "memorize-long",
                 "GPU, past the paper (N)": RESULTS / "memorize-gpu-large"}
MEMORIZE_COMMANDS = {
    "CPU": "synth experiment memorize --programs 16,32,64,128 --seeds 10 --out results/memorize-cpu --json",
    "GPU": "bash benchmarks/gpu.sh (its Table 1 stage: --device cuda --seeds 10 --out results/memorize-gpu)",
    "CPU, past the paper (N)": "synth experiment memorize --programs 256,512 --seeds 1 --out results/memorize-large --json",
    "CPU, past the paper (length)": "synth experiment memorize --programs 32 --length 1024 --seeds 1 --out results/memorize-long --json",
    "GPU, past the paper (N)": "SYNTH_GPU_N1024=1 bash benchmarks/gpu.sh (--programs 1024 --device cuda --out results/memorize-gpu-large)",
}
SEED_GROUPS = (("0-4", range(0, 5), "tuned on"), ("5-9", range(5, 10), "never seen by the recipe"))


def memorize_table() -> str:
    """Table 1 from OUT/trials.jsonl of each device's run, seeds 0-4 (those the recipe was
    tuned on) and 5-9 (never seen) apart; rows with fewer seeds say how many. Peak memory:
    on CUDA the trials' peak allocated; on the CPU the process's peak resident set."""
    from neural.experiments import memorize

    lines = ["| device | programs | length | seeds | batch size (ours / paper) | steps to 100% (ours) | per seed "
             "| steps (paper) | ours / paper | at most a third of the paper's | seconds per run (mean) | parameters | peak memory |",
             "| --- | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |"]
    notes = []
    for device, directory in MEMORIZE_RUNS.items():
        records = _records(directory / "trials.jsonl")
        info = _json(directory / "memorize.json")
        where = directory.relative_to(REPO)
        if not records:
            measured = "not measured: no GPU lent; " if device.startswith("GPU") else ""
            notes.append(f"* {device}: {measured}no record in `{where}/` yet (`{MEMORIZE_COMMANDS[device]}`).")
            continue
        by_size: dict[tuple[int, int], dict[int, memorize.Trial]] = {}
        for r in records:
            by_size.setdefault((r["programs"], r["length"]), {})[r["seed"]] = memorize.Trial(
                r["programs"], r["seed"], r["steps"], r["seconds"], parameters=r.get("parameters"), peak_memory_mb=r.get("peak_memory_mb"))
        covered = {(row["programs"], row["length"], t["seed"]) for row in (info or {}).get("rows", []) for t in row.get("trials", [])}
        unfinished = {(r["programs"], r["length"]) for r in records if (r["programs"], r["length"], r["seed"]) not in covered}
        for (n, length), seeds in sorted(by_size.items()):
            for label, group, _ in SEED_GROUPS:
                trials = [seeds[s] for s in group if s in seeds]
                if not trials:
                    continue
                row = memorize.summarise(n, length, trials)
                paper = memorize.PAPER.get(n) if length == 256 else None
                shown = label if len(trials) == len(group) else ", ".join(str(t.seed) for t in trials)
                if len(trials) < len(group) and (n, length) in unfinished:
                    shown += " (so far)"
                ours = ("not exact" if row.steps_mean is None else f"{row.steps_mean:.0f}" if len(trials) == 1
                        else f"{row.steps_mean:.0f} ± {row.steps_std:.0f}")
                per_seed = ", ".join("-" if t.steps is None else str(t.steps) for t in trials)
                ratio = f"{row.steps_mean / paper[0]:.2f}" if paper and row.steps_mean is not None else "-"
                met = "-" if not paper or row.steps_mean is None else ("yes" if row.steps_mean <= paper[0] / 3 else "no")
                params = {t.parameters for t in trials if t.parameters is not None}
                peak = max((t.peak_memory_mb for t in trials if t.peak_memory_mb is not None), default=None)
                lines.append(f"| {device} | {n} | {length} | {shown} | {row.batch_size} / {paper[2] if paper else '-'} | {ours} "
                             f"| {per_seed} | {f'{paper[0]} ± {paper[1]}' if paper else '-'} | {ratio} | {met} | {row.seconds_mean:.1f} "
                             f"| {', '.join(f'{p:,}' for p in sorted(params)) or '-'} | {f'{peak:,.0f} MB' if peak is not None else '-'} |")
        if info is not None:
            later = sorted({r["programs"] for r in records if (r["programs"], r["length"], r["seed"]) not in covered})
            since = (f" The runs of N = {', '.join(map(str, later))} not in its table were recorded in `trials.jsonl` since, "
                     f"by a command that has not finished." if later else "")
            notes.append(f"* {device}: `{info.get('command') or MEMORIZE_COMMANDS[device]}`; {info['machine']}; "
                         f"{info.get('date', '')}. Files: `{where}/`.{since}")
        else:
            notes.append(f"* {device}: the runs recorded so far in `{where}/trials.jsonl` (the command has not finished).")
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


# -- the example library, memorised and performed ---------------------------------------------------

EXAMPLES = RESULTS / "examples"


def examples_table() -> str:
    """One row per ``synth demo --record results/examples/NAME.json``."""
    lines = ["| ISA | backbone | programs | instructions | descriptions trained on | steps to 100% | training seconds "
             "| test runs matching the reference | programs all of whose runs match |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    notes = []
    for path in sorted(EXAMPLES.glob("*.json")):
        r = _json(path)
        if r is None:
            continue
        steps = str(r["train_steps"]) if r["exact"] else f"not exact in {r['train_steps']}"
        lines.append(f"| {r['isa']} | {r['backbone']} | {r['programs']} | {r['instructions']:,} | {r['descriptions']} | {steps} "
                     f"| {r['train_seconds']:.1f} | {r['matched']} of {r['runs']} | {r['programs_matched']} of {r['programs']} |")
        notes.append(f"* {r['isa']} {r['backbone']}: `{r['command']}`; {r['machine']}; {r['date']}"
                     + (f"; failed: {', '.join(r['failed'])}" if r["failed"] else "") + ".")
    if not notes:
        return f"Not run yet (`synth demo --record {EXAMPLES.relative_to(REPO)}/ext-mlp.json`).\n"
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


# -- SST-2 (Experiments 2 and 3) ------------------------------------------------------------------

SST2_RUNS = {"scratch": RESULTS / "sst2", "scratch, GPU": RESULTS / "sst2-gpu",  # bash benchmarks/gpu.sh, SYNTH_GPU_SST2=1
             "self-pretrained": RESULTS / "sst2-self-pretrained",
             # the masked-word pass 15 times over instead of 3, one pass (seed 0) for every seed (--mlm-seed 0)
             "self-pretrained, 15 passes": RESULTS / "sst2-self-pretrained-15",
             # ... 30 passes (--mlm-epochs 30), the same one pass (seed 0) for every seed
             "self-pretrained, 30 passes": RESULTS / "sst2-self-pretrained-30",
             # ... at lr 2e-4 instead of 3e-4 (examples/sst2-lr2e-4.toml)
             "self-pretrained, 30 passes, lr 2e-4": RESULTS / "sst2-self-pretrained-30-lr2",
             # ... the pass reading the sentences as the tasks lay them out (--mlm-shift 14 --mlm-type1 0.5), at 3e-4 and 2e-4
             "self-pretrained, 30 laid-out passes": RESULTS / "sst2-self-pretrained-30-laid",
             "self-pretrained, 30 laid-out passes, lr 2e-4": RESULTS / "sst2-self-pretrained-30-laid-lr2",
             # the 15-pass recipe from another pass (made with seed 1): how much the one shared pass matters
             "self-pretrained, 15 passes, pass 1": RESULTS / "sst2-self-pretrained-15-pass1",
             # ... and the heads at 3 times the recipe's lr (--head-lr-scale 3), tried on soft-imperative
             "self-pretrained, 15 passes, heads x3": RESULTS / "sst2-self-pretrained-15-heads3",
             # ... a hidden layer in each head (examples/sst2-head-hidden.toml), and lr 5e-4 (examples/sst2-lr5e-4.toml)
             "self-pretrained, 15 passes, hidden-layer heads": RESULTS / "sst2-self-pretrained-15-hh256",
             "self-pretrained, 15 passes, lr 5e-4": RESULTS / "sst2-self-pretrained-15-lr5",
             "pretrained": RESULTS / "sst2-pretrained-spread",
             "pretrained, 2 epochs": RESULTS / "sst2-pretrained-2ep",  # the paper's epochs: soft-instruction and soft-imperative
             # the earlier pretrained recipes (docs/neural.md, "SST-2"): the added tokens all starting as one
             # vector (--new-tokens mean), with the heads at 20x the encoder's lr and, first, at its lr
             "pretrained, mean tokens": RESULTS / "sst2-pretrained",
             "pretrained, heads x1": RESULTS / "sst2-pretrained-plain",
             # a variant tried on the gap of soft-imperative: a hidden layer in each head (examples/sst2-head-hidden.toml)
             "pretrained, hidden-layer heads": RESULTS / "sst2-pretrained-heads256",
             # ... and the heads reading the mean of the final states (examples/sst2-mean-readout.toml)
             "pretrained, mean read-out": RESULTS / "sst2-pretrained-mean-readout"}


def sst2_table() -> str:
    """The table from every recorded trial (OUT/trials.jsonl), so that a run still going, or
    stopped part-way, shows what it has; the command and machine from OUT/sst2.json."""
    from neural.experiments import sst2

    rows, notes = [], []
    for backbone, directory in SST2_RUNS.items():
        records = _records(directory / "trials.jsonl")
        table = _json(directory / "sst2.json")
        if not records:
            if backbone in ("scratch", "pretrained"):
                notes.append(f"* {backbone}: not run yet (`synth experiment sst2 --backbone {backbone} --out {directory.relative_to(REPO)}`).")
            continue
        summary = sorted(({**r, "backbone": backbone} for r in sst2.summarise(records)), key=lambda r: sst2.TASKS.index(r["task"]))
        rows.extend(summary)
        if table is not None:
            epochs = table["epochs"]
            # trials recorded since the last finished command (a longer run stopped part-way)
            since = {(r["task"], r["seeds"]) for r in summary} != {(r["task"], r["seeds"]) for r in table["rows"]}
            notes.append(f"* {backbone}: {'the trials recorded so far, after ' if since else ''}`{table['command']}` "
                         f"({epochs:g} epoch{'s' if epochs != 1 else ''} of "
                         f"{'the first ' + str(table['max_train']) if table['max_train'] else 'all'} training sentences); "
                         f"{table['machine']}; {table['date']}"
                         f"{' (a run of more seeds has not finished)' if since else ''}. Files: `{directory.relative_to(REPO)}/`.")
        else:
            runs = sorted({(r["steps"] / r["steps_per_epoch"], r["train_rows"]) for r in records})
            shape = "; ".join(f"{e:g} epoch{'s' if e != 1 else ''} of {n:,} training sentences" for e, n in runs)
            notes.append(f"* {backbone}: the trials recorded so far in `{directory.relative_to(REPO)}/trials.jsonl` "
                         f"({shape}; the command has not finished).")
    body = sst2.markdown(rows) if rows else ""
    return body + "\n" + "\n".join(notes) + "\n"


def sst2_perform() -> str:
    lines = ["| task | backbone | seed | dev runs | as the label implies | positive texts | negative texts | step limit |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for backbone, directory in SST2_RUNS.items():
        for r in sorted(_records(directory / "trials.jsonl"), key=lambda r: (r["task"], r["seed"])):
            if "perform" not in r:
                continue
            p = r["perform"]
            lines.append(f"| {r['task']} | {backbone} | {r['seed']} | {p['runs']} | {p['as_label_implies']} "
                         f"({100 * p['accuracy']:.1f}%) | {p['positive']['right']} of {p['positive']['runs']} "
                         f"| {p['negative']['right']} of {p['negative']['runs']} | {p['max_steps']} |")
    return "\n".join(lines) + "\n"


# -- programs from descriptions (issue 9) -------------------------------------------------------

DESCRIBE = RESULTS / "describe"


def describe_table() -> str:
    from neural.experiments import describe

    records = _records(DESCRIBE / "trials.jsonl")
    table = _json(DESCRIBE / "describe.json")
    if not records:
        return f"Not run yet (`synth experiment describe --out {DESCRIBE.relative_to(REPO)}`).\n"
    rows = describe.summarise(records)
    lines = [describe.markdown(rows).rstrip(), ""]
    if table is not None:
        commands = table.get("commands") or {"": table["command"]}
        said = "; ".join(f"{b}: `{c}`" if b else f"`{c}`" for b, c in commands.items())
        lines.append(f"Command{'s' if len(commands) > 1 else ''}: {said}; {table['machine']}; {table['date']}. "
                     f"Files: `{DESCRIBE.relative_to(REPO)}/`.")
    else:
        lines.append(f"The folds recorded so far in `{DESCRIBE.relative_to(REPO)}/trials.jsonl` (the command has not finished).")
    targets = describe.TARGETS
    for r in rows:
        if r["backbone"] != "pretrained":
            continue
        met = (r["right"]["mean"] >= 100 * targets["right"], r["accepted_wrong"]["mean"] <= 100 * targets["accepted_wrong"],
               r["off_topic_refused"]["mean"] >= 100 * targets["off_topic_refused"])
        lines.append(f"Targets ({r['isa']}, pretrained): right program runs >= {100 * targets['right']:.0f}%: "
                     f"{r['right']['mean']:.1f}% ({'met' if met[0] else 'not met'}); accepted runs wrong <= "
                     f"{100 * targets['accepted_wrong']:.0f}%: {r['accepted_wrong']['mean']:.1f}% ({'met' if met[1] else 'not met'}); "
                     f"off-topic refused >= {100 * targets['off_topic_refused']:.0f}%: {r['off_topic_refused']['mean']:.1f}% "
                     f"({'met' if met[2] else 'not met'}).")
    return "\n".join(lines) + "\n"


# -- the smallest width, against Theorem 1 -----------------------------------------------------------

WIDTH_RUNS = {"CPU, 256 rows": RESULTS / "width", "CPU, 1024 rows": RESULTS / "width-long", "GPU": RESULTS / "width-gpu"}
WIDTH_PLOT = RESULTS / "width-bound.png"  # every record's points against the bound (written with --write-md)
WIDTH_COMMAND = ("synth experiment width --programs 16,32,64,128,256,512 --widths 256,128,64,32 --max-steps 10000 "
                 "--reuse results/memorize-large --skip-failed --out results/width --json")


def _width_records() -> list[tuple[str, Path, dict]]:
    """(label, directory, width.json) of every width record present."""
    return [(label, path, result) for label, path in WIDTH_RUNS.items() if (result := _json(path / "width.json")) is not None]


def width_table() -> str:
    """One table over every width record present (each has its length column), then each
    record's command, and the plot of them all."""
    from neural.experiments import width

    runs = _width_records()
    if not runs:
        return f"Not measured yet (`{WIDTH_COMMAND}`; resumable, each width's runs recorded under `results/width/wW/`).\n"
    lines = width.markdown(runs[0][2]).splitlines()
    for _, _, result in runs[1:]:
        lines += width.markdown(result).splitlines()[2:]  # the rows, without the header
    notes = [f"* {label}: `{result['command']}`; {result['machine']}; {result['date']}; {result['seeds']} seed(s) per (N, W), "
             f"a width failing when a run is not exact within {result['max_steps']:,} steps. Files: `{path.relative_to(REPO)}/`."
             for label, path, result in runs]
    return ("\n".join(lines) + "\n\n" + "\n".join(notes) + "\n\n"
            f"![parameters of the smallest exact width against Theorem 1's bound]({WIDTH_PLOT.relative_to(REPO)})\n")


def width_plot() -> None:
    """results/width-bound.png from every width record present."""
    from neural.experiments import width

    if runs := _width_records():
        width.plot_bound([result for _, _, result in runs], WIDTH_PLOT)


SECTIONS: dict[str, Callable[[], str]] = {"memorize-table": memorize_table, "width-table": width_table,
                                          "examples-table": examples_table, "sst2-table": sst2_table,
                                          "sst2-perform": sst2_perform, "describe-table": describe_table}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write-md", action="store_true", help="write the sections into RESULTS.md")
    ap.add_argument("--check", action="store_true", help="exit 1 if RESULTS.md is not what the files say")
    args = ap.parse_args()
    stale = []
    for name, render in SECTIONS.items():
        body = render()
        if args.write_md:
            write_block(RESULTS_MD, name, body, COMMAND)
            if name == "width-table":
                width_plot()
        elif args.check:
            text = RESULTS_MD.read_text()
            begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
            if begin not in text or body.rstrip() not in text[text.index(begin): text.index(end)]:
                stale.append(name)
        else:
            print(f"## {name}\n\n{body}")
    if stale:
        print(f"results_md: RESULTS.md is stale in: {', '.join(stale)} (run {COMMAND})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
