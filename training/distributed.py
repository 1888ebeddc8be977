"""Several processes for the trainers, through torchrun and torch.distributed (one process per
GPU, or per CPU worker on the gloo backend):

    torchrun --standalone --nproc_per_node=4 -m latentvj.training.cli train show DATA --out RUN

`join` reads torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR...) and joins
the process group; without torchrun it is one process and touches nothing. `Ranks` adds what the
show trainer needs beyond DistributedDataParallel's gradient averaging, all on a side group
(gloo, CPU tensors, a long timeout, so rank 0 may spend long in a checkpoint or the end of a run
while the others wait): flags every rank agrees on (a stop asked of one process stops all at the
same step), small objects gathered to rank 0 (each rank's RNG state for the checkpoint) or sent
from it (the run's result), and a barrier. With one process each of these is a no-op.
"""
from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

SIDE_TIMEOUT = timedelta(hours=24)  # rank 0's end of run (codes of every frame, metrics) on a large dataset


def join(device: str | None = None) -> tuple[int, int, torch.device]:
    """(rank, world size, this process's device). Under torchrun (RANK set) it joins the process
    group: NCCL for GPUs, each process on the GPU of its LOCAL_RANK; gloo for CPUs."""
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if "RANK" not in os.environ:
        return 0, 1, dev
    if dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(dev)
    dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), dev


class Ranks:
    """This process's place in the run and the collectives the show trainer uses besides DDP's."""

    def __init__(self, device: str | None = None) -> None:
        self.rank, self.world, self.device = join(device)
        self.master = self.rank == 0
        self._side = dist.new_group(backend="gloo", timeout=SIDE_TIMEOUT) if self.world > 1 else None

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """`module` in DistributedDataParallel (gradients averaged over the ranks in backward);
        itself with one process. It shares the module's parameters: save the module, not this."""
        if self.world == 1:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids)

    def any(self, *flags: bool) -> list[bool]:
        """Each flag true on every rank if it is true on any: decisions all ranks must take together."""
        if self.world == 1:
            return list(flags)
        t = torch.tensor([float(f) for f in flags])
        dist.all_reduce(t, op=dist.ReduceOp.MAX, group=self._side)
        return [bool(v) for v in t.tolist()]

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's `obj`, in rank order (on every rank)."""
        if self.world == 1:
            return [obj]
        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, obj, group=self._side)
        return out

    def from_master(self, obj: Any) -> Any:
        """Rank 0's `obj` on every rank (rank 0's argument; the others' is ignored)."""
        if self.world == 1:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0, group=self._side)
        return box[0]

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier(group=self._side)

    def close(self) -> None:
        if dist.is_initialized():  # joined under torchrun, even as its only process
            dist.destroy_process_group()


def digest(*modules: torch.nn.Module) -> str:
    """A hash of the modules' parameters and buffers, bit for bit: equal on every rank when DDP
    kept the replicas together."""
    h = hashlib.sha256()
    for m in modules:
        for k, t in m.state_dict().items():
            h.update(k.encode())
            h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


__all__ = ["Ranks", "digest", "join"]
