"""Training on several processes: torch.distributed with DistributedDataParallel, started by
the usual launchers, which set RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT::

    torchrun --standalone --nproc-per-node 2 --no-python synth train FILES... --out RUN
    accelerate launch --num_processes 2 --no_python synth train FILES... --out RUN   (or -m cli.main train ...)

Without those variables (or with WORLD_SIZE=1) nothing changes: one process. With them, each
process takes its share of every batch (the batch size stays the global one, so it means
the same at any process count), DistributedDataParallel averages the gradients, the loss is
weighted so that the update is exactly the one-process update of the whole batch, the
evaluation is shared out and summed, and only rank 0 writes checkpoints, logs and the
progress bar. Backend: NCCL on CUDA, gloo on the CPU.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass

import torch

from isa.base import SynthError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def world(device: str = "cpu") -> World:
    """This process's place among the launched ones (one process when not launched so),
    joining the process group on first use."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise SynthError("RANK, WORLD_SIZE and LOCAL_RANK must be integers (as torchrun sets them)") from None
    if size <= 1:
        return World()
    import torch.distributed as dist

    if not dist.is_initialized():
        if "MASTER_ADDR" not in os.environ or "MASTER_PORT" not in os.environ:
            raise SynthError("WORLD_SIZE > 1 but MASTER_ADDR / MASTER_PORT are not set: start it with torchrun or accelerate launch")
        backend = "nccl" if device == "cuda" else "gloo"
        if device == "cuda":
            torch.cuda.set_device(local)
        dist.init_process_group(backend=backend, rank=rank, world_size=size)
        atexit.register(leave)  # a group left open at exit can abort the process (gloo: "terminate called ...")
    return World(rank, size, local)


def device_for(name: str, w: World) -> torch.device:
    """The process's device: its own GPU under CUDA (LOCAL_RANK), else the CPU."""
    if name == "cuda" and w.distributed:
        return torch.device("cuda", w.local_rank)
    from neural.train import pick_device

    return pick_device(name)


def share(index: torch.Tensor, w: World) -> torch.Tensor:
    """This process's part of a global batch of row indices (contiguous, nearly equal parts)."""
    if not w.distributed:
        return index
    return torch.tensor_split(index, w.size)[w.rank]


def loss_weight(local: int, total: int, w: World) -> float:
    """What a process's mean loss is multiplied by so that, once DistributedDataParallel has
    averaged the gradients over the processes, they are those of the mean over the batch."""
    return local * w.size / total if w.distributed else 1.0


def wrap(model: torch.nn.Module, w: World, device: torch.device) -> torch.nn.Module:
    if not w.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def all_sum(values: torch.Tensor, w: World) -> torch.Tensor:
    """The sum over the processes (in place, and returned)."""
    if w.distributed:
        import torch.distributed as dist

        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def barrier(w: World) -> None:
    if w.distributed:
        import torch.distributed as dist

        dist.barrier()


def any_true(flag: bool, w: World) -> bool:
    """True on every process if it is true on any (a decision all must take together)."""
    if not w.distributed:
        return flag
    return bool(all_sum(torch.tensor([int(flag)]), w).item())


def leave() -> None:
    """Leave the process group this process joined (``world``), if it is still open: run at
    exit, so that a process that trained through ``train`` and returns ends cleanly."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
