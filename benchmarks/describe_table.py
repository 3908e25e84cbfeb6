"""Collect several `synth experiment describe` runs (e.g. one per seed) into RESULTS.md's tables.

    python benchmarks/describe_table.py runs/describe-mlp-seed0 runs/describe-mlp-seed1 ...

Each argument is a run directory (or its describe.json). Runs of the same ISA, backbone
and model variant are put on one row, one figure per file in the order given; the
percentage in brackets is the mean over those files. Prints Markdown on standard output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, if not installed

from neural.experiments.describe import MODEL_NAMES, SET_NAMES  # noqa: E402

UNSEEN = {name: SET_NAMES[name].removeprefix("(b) ") for name in ("heldout_desc", "new")}


def load(arg: str) -> dict:
    path = Path(arg)
    if path.is_dir():
        path = path / "describe.json"
    try:
        data = json.loads(path.read_text())
        data["runs"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"describe_table: {path}: not a describe.json ({exc})") from None
    return data


def group(files: list[dict]) -> dict[tuple[str, str, str], list[dict]]:
    rows: dict[tuple[str, str, str], list[dict]] = {}
    for data in files:
        for run in data["runs"]:
            rows.setdefault((run["isa"], run["backbone"], run["variant"]), []).append(run)
    return rows


def figures(values: list[float], spec: str = "g") -> str:
    return ", ".join(format(v, spec) for v in values)


def rate(counts: list[int], total: int) -> str:
    return f"{figures(counts)} ({100 * sum(counts) / (total * len(counts)):.0f}%)"


def training_table(rows: dict) -> list[str]:
    out = [
        "| ISA | backbone | model | programs | training descriptions | runs (programs × descriptions × tests) | runs matching the reference | steps to exact | train s | evaluate s |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | --- | --- | --- |",
    ]
    for (isa, backbone, variant), runs in rows.items():
        seen = [r["sets"]["seen"] for r in runs]
        out.append(
            f"| {isa} | {backbone} | {MODEL_NAMES.get(variant, variant)} | {runs[0]['programs']} "
            f"| {runs[0]['training']['descriptions']} | {seen[0]['runs']} "
            f"| {figures([s['runs_matched'] for s in seen])} "
            f"| {figures([r['training']['steps'] for r in runs])} "
            f"| {figures([r['seconds']['train'] for r in runs], '.1f')} "
            f"| {figures([r['seconds']['evaluate'] for r in runs], '.1f')} |"
        )
    return out


def unseen_table(rows: dict) -> list[str]:
    out = [
        "| ISA | backbone | model | unseen set | paraphrases | right program runs | top-1 `closest_program` | top-1 share of rows | word overlap, no network (top-1) | chance (top-1) |",
        "| --- | --- | --- | --- | ---: | --- | --- | --- | --- | ---: |",
    ]
    for (isa, backbone, variant), runs in rows.items():
        for name, label in UNSEEN.items():
            sets = [r["sets"][name] for r in runs if name in r["sets"]]
            if not sets:
                continue
            n = sets[0]["paraphrases"]
            words = sets[0]["identified_words"]  # no network: the same in every file
            programs = runs[0]["programs"]
            out.append(
                f"| {isa} | {backbone} | {MODEL_NAMES.get(variant, variant)} | {label} | {n} "
                f"| {rate([s['right_program'] for s in sets], n)} "
                f"| {rate([s['identified'] for s in sets], n)} "
                f"| {rate([s['identified_share'] for s in sets], n)} "
                f"| {words} ({100 * words / n:.0f}%) "
                f"| 1 / {programs} ({100 / programs:.1f}%) |"
            )
    return out


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    rows = group([load(arg) for arg in argv])
    print("\n".join(training_table(rows)))
    print()
    print("\n".join(unseen_table(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
