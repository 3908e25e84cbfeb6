"""What every benchmark script records beside its figures: the machine, the software, the
commit, the command; and where results go (``$OUT`` if set, else benchmarks/out/)."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def out_dir(override: str | None = None) -> Path:
    path = Path(override or os.environ.get("OUT") or HERE / "out")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def cpu_model() -> str:
    for line in _run(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def environment() -> dict[str, Any]:
    import numba

    commit = _run(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    # the benchmarks' own outputs (results/, the tables) do not make the code that measured "uncommitted"
    if _run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results", ":!BENCHMARKS.md", ":!RESULTS.md"]):
        commit += " (with uncommitted changes)"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv]),
        "commit": commit,
        "cpu": cpu_model(),
        "nproc": os.cpu_count(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],  # other users' load skews the figures
    }


def _busy_and_own() -> tuple[float, float]:
    """Seconds of CPU time used so far: by the whole machine (from /proc/stat), by this
    process and its children."""
    own = os.times()
    own_s = own.user + own.system + own.children_user + own.children_system
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan"), own_s
    busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK"), own_s


class OtherLoad:
    """How many cores other processes kept busy while a benchmark ran (they slow it down,
    most visibly its multi-threaded figures). ``wait_quiet`` waits for an idle machine."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.busy0, self.own0 = _busy_and_own()

    def cores(self) -> float:
        busy, own = _busy_and_own()
        return max(0.0, ((busy - self.busy0) - (own - self.own0)) / (time.perf_counter() - self.t0))

    @staticmethod
    def wait_quiet(timeout: float, idle_cores: float = 0.2) -> float:
        """Wait (up to ``timeout`` s) until others use under ``idle_cores`` over 3 s; return their load."""
        end = time.perf_counter() + timeout
        while True:
            probe = OtherLoad()
            time.sleep(3)
            load = probe.cores()
            if load < idle_cores or time.perf_counter() > end:
                return load


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, default=_plain) + "\n")


def _plain(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def same_results(what: str, a: Any, b: Any, keys: tuple[str, ...] = ("data", "steps", "pc", "status")) -> None:
    """Raise if two batch results differ in any of ``keys`` (final memories, steps, ...)."""
    for key in keys:
        x, y = np.asarray(getattr(a, key)), np.asarray(getattr(b, key))
        if x.shape != y.shape or not np.array_equal(x, y):
            bad = np.argwhere(x != y) if x.shape == y.shape else []
            where = f" first at {tuple(int(i) for i in bad[0])}" if len(bad) else f" shapes {x.shape} {y.shape}"
            raise AssertionError(f"{what}: {key} differ{where}")


def fmt_rate(steps_per_second: float) -> str:
    return f"{steps_per_second:.3g}".replace("e+0", "e").replace("e+", "e")


def write_block(path: Path, name: str, body: str, written_by: str) -> bool:
    """Put ``body`` between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in the Markdown
    file ``path`` (appended at the end the first time); the rest of the file is left alone.
    Returns whether the file changed."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n<!-- written by: {written_by} -->\n{body.rstrip()}\n{end}"
    doc = path.read_text() if path.exists() else ""
    if begin in doc and end in doc:
        new = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        new = doc.rstrip("\n") + ("\n\n" if doc else "") + block + "\n"
    if new != doc:
        path.write_text(new)
    return new != doc


def record_and_table(record: Path, obj: dict | None, block: str, command: str,
                     markdown: Any, write_md: bool) -> str:
    """Keep a benchmark's record (``obj``; None: the one already in ``record``) and print
    its table, written from the record; with ``write_md``, also into BENCHMARKS.md between
    the block's markers. A record not made yet gives a line that says how to make it."""
    from isa.files import write_atomic

    if obj is not None:
        write_atomic(record, json.dumps(obj, indent=1, default=_plain) + "\n")
    if record.exists():
        text = markdown(json.loads(record.read_text()))
    else:
        text = f"Not measured yet: `{command}` writes `{record.relative_to(REPO)}` and this table."
    print(text)
    if write_md:
        write_block(REPO / "BENCHMARKS.md", block, text, command)
    return text
