"""Several processes, one run: PyTorch's own DistributedDataParallel under ``torchrun``.

``torchrun --nproc_per_node 2 -m dflib train ...`` starts one process per GPU (or per
CPU slot with the gloo backend); each reads its environment (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``), joins the process group here and trains on its shard of every epoch.
The epoch order is drawn from ``(seed, epoch)`` identically on every rank, then dealt
out rank by rank, so the 50/50 balanced draws stay balanced on each rank and a resumed
run sees the same batches. Validation is scored on shards and gathered, so every rank
computes the same metrics from the whole validation set and takes the same decisions
(scheduler, best checkpoint, early stopping); only rank 0 writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist

# how long a rank waits in a collective before the run fails. Rank 0 builds a data
# folder's first cache (decode, resize, filter: tens of minutes for 60,000 images on a
# Kaggle CPU) while the other ranks wait in a barrier (main_first); NCCL's default of 10
# minutes would end the run there. A real hang still ends, after this long.
PROCESS_GROUP_TIMEOUT = timedelta(hours=2)


@dataclass(frozen=True)
class World:
    """This process's place in the run: ``rank`` of ``size`` (1 without torchrun)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1


def world_from_env() -> World:
    """The world torchrun describes in the environment (a single process otherwise)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    return World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))


def join(world: World, device: torch.device) -> None:
    """Join the process group: NCCL between GPUs, gloo between CPU processes, each
    collective allowed :data:`PROCESS_GROUP_TIMEOUT`."""
    if world.active and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)  # NCCL collectives use the current device
        dist.init_process_group(backend, rank=world.rank, world_size=world.size,
                                timeout=PROCESS_GROUP_TIMEOUT)  # fmt: skip


def leave(world: World) -> None:
    if world.active and dist.is_initialized():
        dist.destroy_process_group()


def device_for(world: World, requested: torch.device) -> torch.device:
    """Each rank gets its own GPU (``cuda:LOCAL_RANK``); CPU ranks share the CPU."""
    if world.active and requested.type == "cuda":
        return torch.device("cuda", world.local_rank)
    return requested


def shard(order: np.ndarray, world: World, batch_size: int) -> np.ndarray:
    """This rank's share of an epoch's order, cut so every rank runs the same number of
    whole batches (a rank with one batch more would wait for the others forever)."""
    if not world.active:
        return order
    per_rank = len(order) // world.size
    per_rank -= per_rank % batch_size if per_rank >= batch_size else 0
    return order[world.rank :: world.size][:per_rank]


def gather_arrays(world: World, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Concatenate each rank's arrays on every rank, sorted by ``positions``."""
    if not world.active:
        return arrays
    parts: list[dict[str, np.ndarray] | None] = [None] * world.size
    dist.all_gather_object(parts, arrays)
    merged = {k: np.concatenate([p[k] for p in parts]) for k in arrays}
    order = np.argsort(merged["positions"], kind="stable")
    return {k: v[order] for k, v in merged.items()}


def mean_over_ranks(world: World, value: float, weight: float) -> float:
    """The ``weight``-weighted mean of a per-rank value over all ranks."""
    if not world.active:
        return value
    on = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else None
    t = torch.tensor([value * weight, weight], dtype=torch.float64, device=on)
    dist.all_reduce(t)
    return float(t[0] / t[1]) if t[1] > 0 else float("nan")


def min_over_ranks(value: torch.Tensor) -> torch.Tensor:
    """The smallest of each rank's ``value`` (a device tensor), when a process group runs.

    Every rank then decides alike: one rank stopping alone would leave the others waiting
    in their next collective."""
    if not (dist.is_available() and dist.is_initialized()):
        return value
    value = value.clone()
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return value


def rank_zeros_buffers(world: World, model: torch.nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm's running statistics) into ``model`` on every rank.

    DDP does the same at the *start* of each forward, so after an epoch's last step each
    rank holds statistics of its own; scoring the shards then would mix models, and the
    history would disagree with rank 0's ``best.pt``. The next training forward would
    overwrite them with rank 0's anyway, so training is unchanged.
    """
    if world.active:
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)


def barrier(world: World) -> None:
    if world.active:
        dist.barrier()


def describe(world: World, batch_size: int, lr: float) -> str:
    """The line a distributed run prints: effective batch and the lr rule it follows."""
    return (
        f"DistributedDataParallel: {world.size} processes x batch {batch_size} = effective "
        f"batch {world.size * batch_size}; lr {lr:g} as the recipe says (not scaled: the "
        f"linear rule would give {lr * world.size:g}, pass --lr to use it)"
    )


def broadcast(world: World, value):
    """Rank 0's ``value`` on every rank (e.g. a run folder name made from the clock)."""
    if not world.active:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def main_first(world: World, make):
    """``make()`` on rank 0 first, then on the others (it builds caches the others reuse:
    two processes writing one cache would race)."""
    if world.is_main:
        result = make()
    barrier(world)
    if not world.is_main:
        result = make()
    barrier(world)
    return result
