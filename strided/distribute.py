"""Data-parallel training on torch.distributed: the same ``fit()`` on many processes.

A ``torchrun`` launch (``WORLD_SIZE`` > 1 in the environment) or an explicit
``strided.distribute.DataParallel()`` strategy switches the trainer to data parallelism:

- the batch size stays global, as in Keras's ``distribution`` API: with N processes each rank takes
  ``batch_size / N`` consecutive samples of every global batch, so a 2-process run follows the
  optimisation path of a 1-process run with the same ``batch_size`` and seed;
- every rank draws the same shuffling permutation (seeded generator), so sharding is global;
- gradients are summed across ranks with ``all_reduce`` (NCCL on GPU, Gloo on CPU) and each rank's
  loss is scaled by its share of the global batch, so the update equals the single-process one;
- metrics are summed across ranks before they are read, so every rank logs the global values;
- only rank 0 prints the progress bar and writes files (ModelCheckpoint, CSVLogger, ...).
"""
import atexit
import datetime
import os

import torch
import torch.distributed as dist

_STRATEGY = None


def _env_world_size():
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def is_distributed():
    """True when this process is one of several data-parallel workers."""
    if _env_world_size() > 1:
        initialize()
    return world_size() > 1


def initialize(backend=None, timeout_s=None):
    """Joins the process group that ``torchrun`` described in the environment (idempotent).

    Args:
        backend: 'nccl' or 'gloo'; default NCCL when CUDA is available, else Gloo.
        timeout_s: seconds a collective may wait for a missing rank before failing
            (``STRIDED_DIST_TIMEOUT``, default 120), so a killed rank makes the others fail, not hang.
    """
    if not dist.is_available():
        raise RuntimeError("This torch build has no torch.distributed support.")
    if dist.is_initialized():
        return
    if _env_world_size() <= 1:
        return
    for var in ("RANK", "MASTER_ADDR", "MASTER_PORT"):
        if var not in os.environ:
            raise RuntimeError(f"Distributed launch detected (WORLD_SIZE={os.environ['WORLD_SIZE']}) but ${var} is "
                               "not set. Launch with `torchrun --nproc_per_node N ...`.")
    use_cuda = torch.cuda.is_available()
    backend = backend or ("nccl" if use_cuda else "gloo")
    timeout_s = timeout_s or float(os.environ.get("STRIDED_DIST_TIMEOUT", "120"))
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout_s))
    # Leaving the interpreter with a live Gloo/NCCL group can abort the process ("terminate called
    # without an active exception") while its threads are torn down: close it in order instead.
    atexit.register(shutdown)


def shutdown():
    """Waits for the other ranks, then closes the process group (idempotent; also run at exit)."""
    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        except Exception:  # noqa: BLE001 - a dead peer: nothing to wait for
            pass
        dist.destroy_process_group()


def rank():
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else int(os.environ.get("RANK", "0"))


def world_size():
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_chief():
    """Rank 0 prints and writes files."""
    return rank() == 0


def local_slice(global_batch_size, batch_index_count=None):
    """The [start, stop) of this rank's share of a global batch of ``global_batch_size`` samples."""
    n, r = world_size(), rank()
    size = batch_index_count if batch_index_count is not None else global_batch_size
    base, extra = divmod(size, n)
    start = r * base + min(r, extra)
    return start, start + base + (1 if r < extra else 0)


def all_reduce_sum_(tensors):
    """Sums a list of tensors across ranks in place (one flattened collective)."""
    if world_size() <= 1 or not tensors:
        return tensors
    flat = torch.cat([t.reshape(-1).float() for t in tensors])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for t in tensors:
        n = t.numel()
        t.copy_(flat[offset:offset + n].view_as(t).to(t.dtype))
        offset += n
    return tensors


def broadcast_parameters(params, src=0):
    """Makes every rank start from rank 0's weights."""
    if world_size() <= 1:
        return
    for p in params:
        dist.broadcast(p.data, src=src)


class DataParallel:
    """Keras-``distribution``-style strategy: ``strided.distribute.set_distribution(DataParallel())``.

    Args:
        devices: optional list of device strings for this process (one per process under torchrun).
    """

    def __init__(self, devices=None):
        self.devices = devices

    def __enter__(self):
        set_distribution(self)
        return self

    def __exit__(self, *exc):
        set_distribution(None)


def set_distribution(strategy):
    global _STRATEGY
    _STRATEGY = strategy
    if strategy is not None:
        initialize()


def distribution():
    return _STRATEGY
