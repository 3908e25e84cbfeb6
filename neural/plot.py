"""PNG plots (matplotlib, Agg): ``pyplot()`` and ``save_png`` for every plot of the project,
and the training curves (loss and accuracies against steps)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no screen needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, path: str | Path, dpi: int = 100) -> None:
    """Write ``fig`` to ``path`` atomically (an interrupted write leaves the old file) and close it."""
    from isa.files import write_atomic

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    pyplot().close(fig)
    write_atomic(path, buffer.getvalue())


def plot_curves(records: list[dict[str, Any]], path: str | Path, title: str = "") -> None:
    plt = pyplot()
    steps = [r["step"] for r in records]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(steps, [r["loss"] for r in records], label="training loss (sum of the fields' CE)")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.legend()
    ax_acc.plot(steps, [r["instruction_accuracy"] for r in records], label="whole instruction", linewidth=2)
    for name in (records[0]["field_accuracy"] if records else {}):
        ax_acc.plot(steps, [r["field_accuracy"][name] for r in records], label=f"field {name}", alpha=0.7)
    ax_acc.set_ylim(0, 1.02)
    ax_acc.set_xlabel("step")
    ax_acc.set_ylabel("accuracy on every row (argmax)")
    ax_acc.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    save_png(fig, path)
