"""How narrow can the Synthesizer be and still memorise N random programs? (issue 12)

For each N, Experiment 1's recipe (``memorize.recipe``: the paper's depth, 4 heads) at
hidden widths W, intermediate size 4 W, from the widest down; each (N, W, seed) is an
ordinary Experiment 1 trial, recorded in ``OUT/wW/trials.jsonl`` and resumed from there as
``memorize`` resumes. The descent for an N stops at the first width where some seed is not
exact within ``max_steps``: the width above it is the smallest that memorises N programs.
Its parameter count is set beside the paper's Theorem 1 bound, O(k n + n N) parameters for
N programs of n rows over k data cells (a feed-forward construction; the O hides a
constant, so the plot scales the bound to pass through the smallest N's point).

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
from neural.experiments import memorize
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
    for n in config.programs:
        best = None
        for width in config.widths:
            [row] = memorize.run([n], config.length, config.seeds, config.recipe(width), out=out / f"w{width}")
            exact = row.steps_mean is not None
            parameters = row.trials[0].parameters
            rows.append({"programs": n, "length": config.length, "width": width, "seeds": config.seeds, "exact": exact,
                         "steps_mean": row.steps_mean, "steps": [t.steps for t in row.trials], "parameters": parameters,
                         "seconds_mean": row.seconds_mean})
            say(f"synth: N={n} width {width}: {'exact after ' + str(row.steps_mean) + ' steps' if exact else 'not exact in ' + str(config.max_steps)} "
                f"({parameters:,} parameters, {row.seconds_mean:.0f} s per run)")
            if not exact:
                break
            best = rows[-1]
        smallest.append({"programs": n, "width": best["width"] if best else None,
                         "parameters": best["parameters"] if best else None,
                         "steps_mean": best["steps_mean"] if best else None, "bound": bound(n, config.length),
                         "narrowest_tried": config.widths[-1], "all_exact": best is not None and best["width"] == config.widths[-1]})
    return {"length": config.length, "widths": list(config.widths), "seeds": config.seeds, "max_steps": config.max_steps,
            "rows": rows, "smallest": smallest}


def markdown(result: dict[str, Any]) -> str:
    lines = ["| programs N | length n | widths tried (exact?) | smallest exact width | its parameters | "
             "Theorem 1: k n + n N | parameters / (k n + n N) |",
             "| ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
    for s in result["smallest"]:
        tried = ", ".join(f"{r['width']} ({'yes' if r['exact'] else 'no'})" for r in result["rows"] if r["programs"] == s["programs"])
        if s["width"] is None:
            width, params, ratio = "none", "-", "-"
        else:
            width = f"{s['width']}" + (" (the narrowest tried)" if s["all_exact"] else "")
            params, ratio = f"{s['parameters']:,}", f"{s['parameters'] / s['bound']:.1f}"
        lines.append(f"| {s['programs']} | {result['length']} | {tried} | {width} | {params} | {s['bound']:,} | {ratio} |")
    return "\n".join(lines) + "\n"


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
