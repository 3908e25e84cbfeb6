"""How narrow can the Synthesizer be and still memorise N random programs? (issue 12)

For each N, Experiment 1's recipe (``memorize.recipe``: the paper's depth, 4 heads) at
hidden widths W, intermediate size 4 W, from the widest down; each (N, W, seed) is an
ordinary Experiment 1 trial, recorded in ``OUT/wW/trials.jsonl`` and resumed from there as
``memorize`` resumes. The descent for an N stops at the first width where some seed is not
exact within ``max_steps``: the width above it is the smallest that memorises N programs.
Its parameter count is set beside the paper's Theorem 1 bound, O(k n + n N) parameters for
N programs of n rows over k data cells (a feed-forward construction; the O hides a
constant, so the plot scales the bound to pass through the smallest N's point).

Two ways to spend less (both off by default): ``reuse`` names directories of ``synth
experiment memorize`` records, whose exact trials under width W's recipe (the step cap
aside: a run exact within the larger cap is exact within this one when its steps fit) are
copied into ``OUT/wW`` with their source instead of being trained again; ``skip_failed``
assumes that a width not exact for N' programs is not exact for more programs of the same
length either (more rows to hold, the same step budget), and does not try it for N > N'.

    OUT/wW/trials.jsonl    each finished (N, seed) at width W
    OUT/width.json         every (N, W) tried and the smallest width per N
    OUT/width.png          parameters of the smallest width against N, beside the bound
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isa.base import SynthError
from neural.experiments import memorize, trials
from neural.train import TrainConfig


@dataclass
class WidthConfig:
    programs: tuple[int, ...] = (16, 32, 64)
    length: int = 256
    widths: tuple[int, ...] = (256, 128, 64, 32)
    seeds: int = 1
    max_steps: int = 20_000
    device: str = "cpu"
    overrides: dict[str, Any] | None = None  # more TrainConfig settings (tests: a tiny model)
    reuse: tuple[str, ...] = ()  # directories of `synth experiment memorize` records (their trials.jsonl)
    skip_failed: bool = False  # a width not exact for N' programs is not tried for N > N' (same length)

    def validate(self) -> WidthConfig:
        if not self.programs or not self.widths:
            raise SynthError("give at least one number of programs and one width")
        if any(w < 4 or w % 4 for w in self.widths):
            raise SynthError("--widths: each width must be a multiple of 4 (4 attention heads), at least 4")
        if self.seeds < 1:
            raise SynthError("--seeds must be at least 1")
        self.widths = tuple(sorted(set(self.widths), reverse=True))
        return self

    def recipe(self, width: int) -> TrainConfig:
        return memorize.recipe(hidden_size=width, intermediate_size=4 * width, num_heads=4, device=self.device,
                               max_steps=self.max_steps, **(self.overrides or {}))


def bound(programs: int, length: int, k: int | None = None) -> int:
    """Theorem 1's k n + n N (without its constant): k data cells (random programs: k = n)."""
    k = length if k is None else k
    return k * length + length * programs


def run(config: WidthConfig, out: str | Path, say: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Every (N, W) of the descent; the rows and the smallest width per N."""
    config.validate()
    out = Path(out)
    rows, smallest = [], []
    failed: dict[int, int] = {}  # width -> the fewest programs it was not exact for
    for n in sorted(config.programs):
        best = None
        for width in config.widths:
            known = min((m for w, m in failed.items() if w >= width and m < n), default=None)
            if config.skip_failed and known is not None and not _recorded(config, width, n, out / f"w{width}"):
                rows.append({"programs": n, "length": config.length, "width": width, "seeds": config.seeds, "exact": False,
                             "skipped": known, "steps_mean": None, "steps": [], "parameters": None, "seconds_mean": None})
                say(f"synth: N={n} width {width}: not tried (not exact for N={known})")
                break
            adopt(config, width, out / f"w{width}", say)
            [row] = memorize.run([n], config.length, config.seeds, config.recipe(width), out=out / f"w{width}")
            exact = row.steps_mean is not None
            parameters = row.trials[0].parameters
            rows.append({"programs": n, "length": config.length, "width": width, "seeds": config.seeds, "exact": exact,
                         "steps_mean": row.steps_mean, "steps": [t.steps for t in row.trials], "parameters": parameters,
                         "seconds_mean": row.seconds_mean})
            say(f"synth: N={n} width {width}: {'exact after ' + str(row.steps_mean) + ' steps' if exact else 'not exact in ' + str(config.max_steps)} "
                f"({parameters:,} parameters, {row.seconds_mean:.0f} s per run)")
            if not exact:
                failed[width] = min(n, failed.get(width, n))
                break
            best = rows[-1]
        smallest.append({"programs": n, "width": best["width"] if best else None,
                         "parameters": best["parameters"] if best else None,
                         "steps_mean": best["steps_mean"] if best else None, "bound": bound(n, config.length),
                         "narrowest_tried": config.widths[-1], "all_exact": best is not None and best["width"] == config.widths[-1]})
    return {"length": config.length, "widths": list(config.widths), "seeds": config.seeds, "max_steps": config.max_steps,
            "rows": rows, "smallest": smallest}


def adopt(config: WidthConfig, width: int, out: Path, say: Callable[[str], None] = lambda s: None) -> int:
    """Copy into ``out`` (width W's records) the exact trials of ``config.reuse`` that ran
    under W's recipe, the step cap aside, within ``config.max_steps`` steps, and are not
    there yet; each keeps the directory it came from. Returns how many were copied."""
    recipe = config.recipe(width)
    key = trials.normalised(memorize.recipe_key(recipe))
    capless = {k: v for k, v in key.items() if k != "max_steps"}
    have = set(memorize.load_trials(out, recipe)) if (out / trials.TRIALS).is_file() else set()
    copied = 0
    for directory in config.reuse:
        for obj in _records(Path(directory)):
            theirs = trials.normalised(obj.get("recipe"))
            if not isinstance(theirs, dict) or {k: v for k, v in theirs.items() if k != "max_steps"} != capless:
                continue
            at = (obj.get("programs"), obj.get("length"), obj.get("seed"))
            steps = obj.get("steps")
            if at in have or at[1] != config.length or not isinstance(at[2], int) or at[2] >= config.seeds:
                continue
            if at[0] not in config.programs or steps is None or steps > config.max_steps:
                continue
            trials.record(out, {**{k: v for k, v in obj.items() if k not in ("recipe", "_line")}, "from": str(directory)},
                          memorize.recipe_key(recipe))
            have.add(at)
            copied += 1
            say(f"synth: N={at[0]} width {width} seed {at[2]}: exact after {steps} steps in {directory} (reused)")
    return copied


def _recorded(config: WidthConfig, width: int, programs: int, out: Path) -> bool:
    """Whether every seed of (programs, width) is recorded in ``out`` already (then it costs
    nothing, and its record is shown rather than a skip)."""
    if not (out / trials.TRIALS).is_file():
        return False
    done = memorize.load_trials(out, config.recipe(width))
    return all((programs, config.length, seed) in done for seed in range(config.seeds))


def _records(directory: Path) -> list[dict[str, Any]]:
    """Every JSON object of ``directory/trials.jsonl``, whatever its recipe (one clear error
    for a missing directory)."""
    from isa.files import read_text

    if not directory.is_dir():
        raise SynthError(f"--reuse {directory}: no such directory of recorded runs")
    path = directory / trials.TRIALS
    if not path.is_file():
        raise SynthError(f"--reuse {directory}: no {trials.TRIALS} there")
    out = []
    for line in read_text(path, "recorded runs").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue  # a line cut short by an interruption
        if isinstance(obj, dict):
            out.append(obj)
    return out


def markdown(result: dict[str, Any]) -> str:
    lines = ["| programs N | length n | widths tried (exact?) | smallest exact width | its parameters | "
             "Theorem 1: k n + n N | parameters / (k n + n N) |",
             "| ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
    for s in result["smallest"]:
        tried = ", ".join(_tried(r) for r in result["rows"] if r["programs"] == s["programs"])
        if s["width"] is None:
            width, params, ratio = "none", "-", "-"
        else:
            width = f"{s['width']}" + (" (the narrowest tried)" if s["all_exact"] else "")
            params, ratio = f"{s['parameters']:,}", f"{s['parameters'] / s['bound']:.1f}"
        lines.append(f"| {s['programs']} | {result['length']} | {tried} | {width} | {params} | {s['bound']:,} | {ratio} |")
    return "\n".join(lines) + "\n"


def _tried(row: dict[str, Any]) -> str:
    if row.get("skipped"):
        return f"{row['width']} (not tried: not exact for N = {row['skipped']})"
    return f"{row['width']} ({'yes' if row['exact'] else 'no'})"


def plot(result: dict[str, Any], path: str | Path) -> None:
    """Parameters of the smallest exact width against N, the bound scaled through the first point."""
    from neural.plot import pyplot, save_png

    plt = pyplot()
    points = [s for s in result["smallest"] if s["width"] is not None]
    fig, ax = plt.subplots(figsize=(6, 4))
    if points:
        ns = [s["programs"] for s in points]
        ax.plot(ns, [s["parameters"] for s in points], "o-", label="smallest exact width (ours)")
        scale = points[0]["parameters"] / points[0]["bound"]
        ax.plot(ns, [scale * s["bound"] for s in points], "--", label=f"Theorem 1: c (k n + n N), c = {scale:.1f}")
        for s in points:
            ax.annotate(f"W={s['width']}", (s["programs"], s["parameters"]), textcoords="offset points", xytext=(4, 4))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("programs N")
    ax.set_ylabel("parameters")
    ax.set_title(f"Memorising N random programs of {result['length']} rows")
    if points:
        ax.legend()
    fig.tight_layout()
    save_png(fig, path, dpi=110)


def plot_bound(results: list[dict[str, Any]], path: str | Path) -> None:
    """Every record's smallest exact widths in one plot: parameters against the bound
    k n + n N itself, one series per program length, so lengths and sizes share an axis;
    the dashed line is c (k n + n N) through the first point (the O's constant unknown)."""
    from neural.plot import pyplot, save_png

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    everywhere = []  # every exact point, in the records' order
    for result in results:
        points = [s for s in result["smallest"] if s["width"] is not None]
        if not points:
            continue
        everywhere += points
        ax.plot([s["bound"] for s in points], [s["parameters"] for s in points], "o-", label=f"{result['length']} rows: smallest exact width")
        for i, s in enumerate(points):  # staggered: neighbouring sizes lie close on this axis
            ax.annotate(f"N={s['programs']}, W={s['width']}", (s["bound"], s["parameters"]), textcoords="offset points",
                        xytext=(4, (4, 16, -12)[i % 3]), fontsize=8)
    if everywhere:
        scale = everywhere[0]["parameters"] / everywhere[0]["bound"]
        ends = [min(s["bound"] for s in everywhere), max(s["bound"] for s in everywhere)]
        ax.plot(ends, [scale * b for b in ends], "--", label=f"c (k n + n N), c = {scale:.1f} (through the first point)")
        ax.legend(fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Theorem 1: k n + n N")
    ax.set_ylabel("parameters of the smallest exact width")
    ax.set_title("Smallest network that memorises N random programs of n rows")
    fig.tight_layout()
    save_png(fig, path, dpi=110)


def write(result: dict[str, Any], out: str | Path, machine: str, command: str) -> None:
    from isa.files import make_directory, write_atomic

    out = Path(out)
    make_directory(out)
    obj = {"experiment": "width", "command": command, "machine": machine, "date": time.strftime("%Y-%m-%d"), **result}
    write_atomic(out / "width.json", json.dumps(obj, indent=1) + "\n")
    plot(result, out / "width.png")


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``--json``: one per N."""
    return [{"programs": s["programs"], "length": result["length"], "smallest_width": s["width"], "parameters": s["parameters"],
             "bound": s["bound"], "steps_mean": s["steps_mean"]} for s in result["smallest"]]
