"""Data-parallel training on torch.distributed: the same ``fit()`` on many processes.

A ``torchrun`` launch (``WORLD_SIZE`` > 1 in the environment) or an explicit
``strided.distribution.DataParallel()`` strategy switches the trainer to data parallelism:

- the batch size stays global, as in Keras's ``distribution`` API: with N processes each rank takes
  ``batch_size / N`` consecutive samples of every global batch, so a 2-process run follows the
  optimisation path of a 1-process run with the same ``batch_size`` and seed;
- every rank draws the same shuffling permutation (seeded generator), so sharding is global;
- the training step runs inside ``torch.nn.parallel.DistributedDataParallel`` (NCCL on GPU, Gloo on
  CPU), which all-reduces gradient buckets while the backward pass is still running; each rank's loss
  is scaled by its share of the global batch, so the update equals the single-process one;
- metrics are summed across ranks before they are read, so every rank logs the global values;
- only rank 0 prints the progress bar and writes files (ModelCheckpoint, CSVLogger, ...).
"""

import atexit
import datetime
import functools
import gc
import inspect
import os
import weakref

import torch
import torch.distributed as dist
from strided import config

_STRATEGY = None
_LOST_CONTACT = False  # a collective failed: the group cannot be closed in order any more


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
            raise RuntimeError(
                f"Distributed launch detected (WORLD_SIZE={os.environ['WORLD_SIZE']}) but ${var} is "
                "not set. Launch with `torchrun --nproc_per_node N ...`."
            )
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
        if not _LOST_CONTACT:
            try:
                dist.barrier()
            except Exception:  # noqa: BLE001 - a dead peer: nothing to wait for
                pass
        _release_wrappers()
        dist.destroy_process_group()


def rank():
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else int(os.environ.get("RANK", "0"))


def world_size():
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_chief():
    """Rank 0 prints and writes files."""
    return rank() == 0


def local_slice(global_batch_size, batch_index_count=None, of_rank=None):
    """The [start, stop) of a rank's share (this rank's by default) of a global batch of
    ``global_batch_size`` samples: consecutive, sizes differing by at most one, lower ranks larger."""
    n, r = world_size(), rank() if of_rank is None else of_rank
    size = batch_index_count if batch_index_count is not None else global_batch_size
    base, extra = divmod(size, n)
    start = r * base + min(r, extra)
    return start, start + base + (1 if r < extra else 0)


def gather_batches(local_rows, global_batch_sizes):
    """Reassembles, on every rank, the global-order rows of outputs computed on sharded batches.

    Args:
        local_rows: one tensor per output: this rank's rows of every batch, concatenated in order.
        global_batch_sizes: the size of each global batch before sharding, in order.

    Returns:
        One tensor per output holding the rows of all ranks in the order of the unsharded batches.
    """
    world = world_size()
    if world <= 1:
        return local_rows
    # Every rank's share of every batch follows from the batch sizes alone: no sizes to exchange.
    shares = [[local_slice(g, of_rank=r) for g in global_batch_sizes] for r in range(world)]
    counts = [sum(stop - start for start, stop in rank_shares) for rank_shares in shares]
    longest = max(counts)
    gathered_outputs = []
    for rows in local_rows:
        padded = rows.new_zeros((longest,) + tuple(rows.shape[1:]))
        padded[: rows.shape[0]] = rows
        parts = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(parts, padded.contiguous())
        offsets, pieces = [0] * world, []
        for b in range(len(global_batch_sizes)):
            for r in range(world):
                start, stop = shares[r][b]
                pieces.append(parts[r][offsets[r] : offsets[r] + stop - start])
                offsets[r] += stop - start
        gathered_outputs.append(torch.cat(pieces))
    return gathered_outputs


def all_reduce_sum_(tensors):
    """Sums a list of tensors across ranks in place (one flattened collective)."""
    if world_size() <= 1 or not tensors:
        return tensors
    flat = torch.cat([t.reshape(-1).float() for t in tensors])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for t in tensors:
        n = t.numel()
        t.copy_(flat[offset : offset + n].view_as(t).to(t.dtype))
        offset += n
    return tensors


class _DifferentiableAllReduceSum(torch.autograd.Function):
    """``sum over ranks`` with its gradient: each rank's output is the same sum, so the gradient of a rank's
    input is the sum of every rank's output gradient (a second all-reduce, in backward)."""

    @staticmethod
    def forward(ctx, tensor):
        total = tensor.clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad


def differentiable_all_reduce_sum(tensor):
    """The sum of ``tensor`` over ranks, differentiable (synchronized BatchNormalization's statistics). Written
    on the plain ``dist.all_reduce`` rather than ``torch.distributed.nn.functional.all_reduce``, which is
    deprecated and, under load, left a Gloo rank aborting at interpreter exit."""
    return _DifferentiableAllReduceSum.apply(tensor)


def broadcast_parameters(params, src=0):
    """Makes every rank start from rank 0's weights."""
    if world_size() <= 1:
        return
    for p in params:
        dist.broadcast(p.data, src=src)


class _TrainingForward(torch.nn.Module):
    """The model's forward-and-loss as a module, so DistributedDataParallel can wrap exactly the step.

    The model is its only child: DDP sees the model's parameters, and its hooks fire on the backward
    of the loss this forward returns.
    """

    def __init__(self, model, forward_loss):
        super().__init__()
        self.model = model
        self._forward_loss = forward_loss

    def forward(self, x, y, sample_weight):
        return self._forward_loss(x, y, sample_weight)


def wrap_training_step(model, forward_loss):
    """A ``DistributedDataParallel`` around ``forward_loss(x, y, sample_weight) -> (loss, y_pred)``.

    Building it broadcasts rank 0's parameters and buffers, so every rank starts from the same weights
    (also a model each rank built lazily with its own random initialisation). Settings, and why:

    - ``static_graph=True``: a Keras model calls the same layers every step, and a static graph lets
      weights the loss does not reach (an unused output branch) be skipped without the per-step graph
      search of ``find_unused_parameters``;
    - ``broadcast_buffers=False``: non-synchronized BatchNormalization keeps per-rank moving statistics,
      as plain DDP users get with it switched off (and no per-step broadcast);
    - ``device_ids=None``: the batches are already on this rank's device.
    """
    # torch >= 2.12 renames the switch (and still syncs buffers once at start-up, which is harmless here).
    params = inspect.signature(torch.nn.parallel.DistributedDataParallel).parameters
    buffers = {"forward_sync_buffers": False} if "forward_sync_buffers" in params else {"broadcast_buffers": False}
    ddp = torch.nn.parallel.DistributedDataParallel(
        _TrainingForward(model, forward_loss), device_ids=None, static_graph=True, **buffers
    )
    _WRAPPERS.add(ddp)
    return ddp


# The DDP wrappers built here: ``shutdown`` lets go of their reducers before the process group is destroyed.
_WRAPPERS = weakref.WeakSet()


def _release_wrappers():
    """Drops each live DDP wrapper's reducer, logger and process group. A wrapper lives as long as its model,
    often until the interpreter's teardown, and its reducer holds the Gloo/NCCL group: destroyed that late, in
    no set order, the group's threads can abort the process ("terminate called without an active exception")
    after a run that succeeded. Released here, the group is freed by ``destroy_process_group``."""
    for ddp in list(_WRAPPERS):
        for attribute in ("logger", "reducer", "process_group"):
            ddp.__dict__.pop(attribute, None)
    _WRAPPERS.clear()
    gc.collect()


def _is_communication_error(error):
    if isinstance(error, getattr(dist, "DistError", ())):
        return True
    text = str(error).lower()
    return any(marker in text for marker in ("gloo", "nccl", "timed out", "connection reset", "connection closed"))


def collective(method):
    """Decorates ``fit``/``evaluate``/``predict``: a failure to reach the other ranks becomes one clear
    error naming the method, the rank and the usual causes, instead of a backend traceback."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except RuntimeError as e:
                if world_size() <= 1 or not _is_communication_error(e):
                    raise
                global _LOST_CONTACT
                _LOST_CONTACT = True
                first_line = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
                raise RuntimeError(
                    f"`{method}()` on rank {rank()} of {world_size()} lost contact with the other ranks "
                    f"({first_line}). Under torchrun, `fit`, `evaluate` and `predict` are collective: every "
                    "rank must call them, with the same data and batch_size. Either another rank died (see "
                    "its log) or it skipped this call (for example inside `if rank == 0:`); waiting stops "
                    f"after STRIDED_DIST_TIMEOUT={os.environ.get('STRIDED_DIST_TIMEOUT', '120')} s."
                ) from e

        return wrapper

    return decorate


def list_devices(device_type=None):
    """The devices of this machine as strings (``keras.distribution.list_devices``).

    Args:
        device_type: 'cpu', 'gpu' or 'cuda'; default: the GPUs when there are any, else the CPU.
    """
    if device_type is not None and str(device_type).lower() not in ("cpu", "gpu", "cuda"):
        raise ValueError(
            f"Invalid value for argument `device_type`. Expected 'cpu', 'gpu' or 'cuda'. "
            f"Received: device_type={device_type!r}"
        )
    kind = str(device_type).lower() if device_type else ("gpu" if torch.cuda.is_available() else "cpu")
    if kind == "cpu":
        return ["cpu:0"]
    return [f"cuda:{i}" for i in range(torch.cuda.device_count())]


class DataParallel:
    """Data parallelism over ``devices``, one process per device (``keras.distribution.DataParallel``).

    PyTorch runs one process per device: launch the script with
    ``torchrun --nproc_per_node N script.py`` (or ``strided train ... --nproc N``). Under torchrun the
    same ``fit`` becomes data-parallel by itself; this strategy additionally pins each process to
    its entry of ``devices`` (process ``LOCAL_RANK`` takes ``devices[LOCAL_RANK]``).

    Args:
        devices: list of device strings ('cuda:0', 'cuda:1', ... or 'cpu'), one per process on this
            machine; default: ``cuda:LOCAL_RANK`` on GPUs, else the CPU.

    Example:

    ```python
    # train.py, run as: torchrun --nproc_per_node 2 train.py
    strided.distribution.set_distribution(strided.distribution.DataParallel(devices=["cuda:0", "cuda:1"]))
    model.fit(x, y, batch_size=256)  # global batch, split 128 + 128
    ```
    """

    def __init__(self, devices=None):
        if devices is not None:
            if isinstance(devices, (str, torch.device)) or not hasattr(devices, "__len__") or not len(devices):
                raise ValueError(
                    "Invalid value for argument `devices`: expected a non-empty list of device "
                    f"strings such as ['cuda:0', 'cuda:1']. Received: devices={devices!r}"
                )
            parsed = []
            for d in devices:
                try:
                    parsed.append(torch.device(str(d).replace("gpu", "cuda")))
                except (RuntimeError, TypeError):
                    raise ValueError(
                        f"Invalid device {d!r} in argument `devices`. Expected strings such as "
                        f"'cuda:0' or 'cpu'. Received: devices={devices!r}"
                    ) from None
            processes = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1")))
            if len(parsed) != processes:
                how = (
                    (
                        "this process was not started by torchrun: launch the script with "
                        f"`torchrun --nproc_per_node {len(parsed)} script.py`"
                    )
                    if _env_world_size() <= 1
                    else f"torchrun started {processes} processes on this machine"
                )
                raise ValueError(
                    f"DataParallel(devices=...) runs one process per device, and {how}. "
                    f"Received {len(parsed)} devices: {list(map(str, parsed))}."
                )
            devices = parsed
        self.devices = devices

    def activate(self):
        """Joins the process group (under torchrun) and pins this process to its device."""
        initialize()
        if self.devices:
            device = self.devices[int(os.environ.get("LOCAL_RANK", "0"))]
            if device.type == "cuda" and device.index is not None and torch.cuda.is_available():
                torch.cuda.set_device(device)
            config.set_device(device)

    def __enter__(self):
        set_distribution(self)
        return self

    def __exit__(self, *exc):
        set_distribution(None)


def set_distribution(strategy):
    """Sets the global strategy (``keras.distribution.set_distribution``); None clears it."""
    global _STRATEGY
    if strategy is not None and not isinstance(strategy, DataParallel):
        raise TypeError(
            "Invalid value for argument `strategy`: expected a strided.distribution.DataParallel "
            f"or None. Received: {type(strategy).__name__}"
        )
    _STRATEGY = strategy
    if strategy is not None:
        strategy.activate()


def distribution():
    """The strategy set by :func:`set_distribution` (None when none was set)."""
    return _STRATEGY
