"""The README's tour runs as shown: every command of its first block up to the training
commands, through bash in a scratch folder, with the exit status its comment implies
(1 where it says the run loops or stops at the step limit, else 0)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def tour_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## A tour\n\n```bash\n(.*?)```", text, re.S)
    assert block, "README.md has no tour block"
    commands = []
    for line in block.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "synth train" in line:  # the rest needs a trained model: tests/test_cli_*.py cover those commands
            break
        commands.append(line)
    return commands


def expected_status(line: str) -> int:
    comment = line.split("#", 1)[1] if "#" in line else ""
    return 1 if re.search(r"exit 1|step_limit", comment) else 0


def test_the_tour_runs_as_shown(tmp_path: Path) -> None:
    commands = tour_commands()
    assert len(commands) >= 10 and any("synth debug" in c for c in commands) and any("synth batch" in c for c in commands)
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(REPO / "examples")
    shared = REPO.parent / "shared"
    if shared.exists():
        (tmp_path / "shared").symlink_to(shared)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for line in commands:
        if "../shared" in line and not shared.exists():
            continue
        run = subprocess.run(["bash", "-c", f"set -o pipefail; {line}"], cwd=work, env=env, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == expected_status(line), f"{line}\nexit {run.returncode}\n{run.stdout[-1500:]}\n{run.stderr[-1500:]}"
        assert "Traceback" not in run.stderr, line
    assert (work / "sort3.json").exists() and (work / "results.jsonl").read_text().count("\n") == 3


@pytest.mark.parametrize("line, status", [("synth run x  # loops: exit 1", 1), ("synth run x --json > s.json  # stopped: step_limit", 1),
                                          ("synth run x  # g = 6", 0)])
def test_expected_status_reads_the_comment(line: str, status: int) -> None:
    assert expected_status(line) == status
